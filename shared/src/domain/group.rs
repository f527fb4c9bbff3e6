//! Groups as requests name them: ids, names, bulletins, display names, roles.

use std::fmt;

use super::ValidationError;

/// An opaque, URL-safe, random group id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct GroupId(String);

impl GroupId {
    pub const BYTES: usize = 12;

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        let ok =
            (8..=32).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(GroupId(raw.to_string()))
        } else {
            Err(ValidationError::new(field, "is not a group id"))
        }
    }

    pub fn from_minted(id: String) -> Self {
        GroupId(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Trimmed text of 1 to `max` characters with no control characters.
fn text(field: &'static str, raw: &str, min: usize, max: usize) -> Result<String, ValidationError> {
    let t = raw.trim();
    let n = t.chars().count();
    if n < min || n > max {
        let what = if min == 0 {
            format!("must be at most {max} characters")
        } else {
            format!("must be {min} to {max} characters")
        };
        return Err(ValidationError::new(field, what));
    }
    if t.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ValidationError::new(field, "must not hold control characters"));
    }
    Ok(t.to_string())
}

/// A group's name: 1 to 32 characters (SealTalk's rule).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupName(String);

impl GroupName {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        text("name", raw, 1, 32).map(GroupName)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A group bulletin: at most 1024 characters ("" clears it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bulletin(String);

impl Bulletin {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        text(field, raw, 0, 1024).map(Bulletin)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A member's name in one group: at most 32 characters ("" clears it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupDisplayName(String);

impl GroupDisplayName {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        text("displayName", raw, 0, 32).map(GroupDisplayName)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// SealTalk's group roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Creator = 0,
    Member = 1,
    Manager = 2,
}

impl Role {
    pub fn from_n(n: i64) -> Option<Role> {
        Some(match n {
            0 => Role::Creator,
            1 => Role::Member,
            2 => Role::Manager,
            _ => return None,
        })
    }
    pub fn code(self) -> i64 {
        self as i64
    }
    /// Creator or manager: may kick members and change the group's settings.
    pub fn manages(self) -> bool {
        matches!(self, Role::Creator | Role::Manager)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_bulletins_and_ids_are_bounded() {
        assert!(GroupName::parse("  Team  ").is_ok());
        assert_eq!(GroupName::parse("").unwrap_err().field, "name");
        assert_eq!(GroupName::parse(&"x".repeat(33)).unwrap_err().field, "name");
        assert!(GroupName::parse(&"群".repeat(32)).is_ok());
        assert!(Bulletin::parse("content", "").is_ok());
        assert!(Bulletin::parse("content", &"b".repeat(1025)).is_err());
        assert!(GroupId::parse("groupId", "short").is_err());
        assert!(GroupId::parse("groupId", "abcdEFGH1234").is_ok());
        assert_eq!(Role::from_n(2), Some(Role::Manager));
        assert!(Role::from_n(3).is_none());
    }
}
