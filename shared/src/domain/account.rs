use std::fmt;

use super::ValidationError;

/// An opaque, URL-safe, random user id (never sequential).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    pub const BYTES: usize = 12;

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let ok =
            (8..=32).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(UserId(raw.to_string()))
        } else {
            Err(ValidationError::new(field, "is not a user id"))
        }
    }

    /// For ids minted by the random source.
    pub fn from_minted(id: String) -> Self {
        UserId(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// SealTalk's nickname rule (1 to 32 bytes once trimmed, no control characters), and
/// nothing that hides or reorders text: UTS #39 classes bidi overrides, zero-width spaces
/// and other default-ignorable code points as such, and a nickname of them alone would
/// look empty. The joiner and variation selectors that emoji sequences need stay allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nickname(String);

/// Default-ignorable code points that visible emoji sequences are made with.
const EMOJI_GLUE: [char; 3] = ['\u{200D}', '\u{FE0E}', '\u{FE0F}'];

fn hides_text(c: char) -> bool {
    use unicode_security::general_security_profile::IdentifierType;
    use unicode_security::GeneralSecurityProfile;
    matches!(
        c.identifier_type(),
        Some(IdentifierType::Default_Ignorable | IdentifierType::Not_Character | IdentifierType::Deprecated)
    )
}

impl Nickname {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim();
        if s.is_empty() || s.len() > 32 {
            return Err(ValidationError::new("nickname", "must be 1 to 32 bytes"));
        }
        if s.chars().any(char::is_control) {
            return Err(ValidationError::new("nickname", "must not hold control characters"));
        }
        if s.chars().any(|c| hides_text(c) && !EMOJI_GLUE.contains(&c)) {
            return Err(ValidationError::new(
                "nickname",
                "must not hold invisible or text-reordering characters",
            ));
        }
        if !s.chars().any(|c| !c.is_whitespace() && !hides_text(c)) {
            return Err(ValidationError::new("nickname", "must hold a visible character"));
        }
        Ok(Nickname(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// SealTalk's password rule: 6 to 20 bytes, no whitespace. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        if raw.len() < 6 || raw.len() > 20 {
            return Err(ValidationError::new(field, "must be 6 to 20 bytes"));
        }
        if raw.chars().any(char::is_whitespace) {
            return Err(ValidationError::new(field, "must not contain spaces"));
        }
        Ok(Password(raw.to_string()))
    }
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// The device a session was opened from (`003`'s device type and id).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Device {
    pub kind: String,
    pub id: String,
}

impl Device {
    pub fn parse(kind: Option<&str>, id: Option<&str>) -> Result<Self, ValidationError> {
        let kind = match kind.map(str::trim).filter(|k| !k.is_empty()) {
            None => "unknown".to_string(),
            Some(k @ ("web" | "h5" | "android" | "ios" | "desktop")) => k.to_string(),
            Some(_) => {
                return Err(ValidationError::new(
                    "deviceType",
                    "must be one of web, h5, android, ios, desktop",
                ))
            }
        };
        let id = id.map(str::trim).unwrap_or("");
        if id.len() > 128 || id.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "deviceId",
                "must be at most 128 printable characters",
            ));
        }
        Ok(Device {
            kind,
            id: id.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nickname_bounds_are_in_bytes() {
        assert!(Nickname::parse("Tom").is_ok());
        assert!(Nickname::parse(&"a".repeat(32)).is_ok());
        assert_eq!(Nickname::parse(&"a".repeat(33)).unwrap_err().field, "nickname");
        // 11 Chinese characters are 33 bytes.
        assert!(Nickname::parse(&"汤".repeat(11)).is_err());
        assert!(Nickname::parse("   ").is_err());
    }

    #[test]
    fn nicknames_cannot_hide_or_reorder_text() {
        for bad in [
            "\u{200b}",
            "\u{200b}\u{200b}",
            "abc\u{202e}fed",
            "a\u{2066}b",
            "\u{feff}x",
            "x\u{00ad}y",
        ] {
            assert_eq!(Nickname::parse(bad).unwrap_err().field, "nickname", "{bad:?}");
        }
        // Emoji sequences keep their joiners and variation selectors; scripts are free.
        for good in ["👨\u{200d}👩\u{200d}👧", "❤\u{fe0f}", "汤姆", "Zoë", "Tom 2"] {
            assert!(Nickname::parse(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn password_rule_is_six_to_twenty_bytes_without_spaces() {
        assert!(Password::parse("password", "P@ssw0rd").is_ok());
        assert!(Password::parse("password", "12345").is_err());
        assert!(Password::parse("password", &"x".repeat(21)).is_err());
        assert_eq!(
            Password::parse("newPassword", "pass word").unwrap_err().field,
            "newPassword"
        );
        assert_eq!(
            format!("{:?}", Password::parse("p", "secret1").unwrap()),
            "Password(***)"
        );
    }

    #[test]
    fn user_ids_are_url_safe() {
        assert!(UserId::parse("id", "5Vg2Xh9f").is_ok());
        assert!(UserId::parse("id", "../etc").is_err());
    }
}
