use std::fmt;

use email_address::Options;

use super::ValidationError;

/// An email address a code can be sent to, checked by the `email_address` crate (RFC
/// 5322 address syntax, a domain with a top-level part, no display name or IP literal)
/// and held lower-cased: `name@EXAMPLE.com` and `Name@example.com` are one identity.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        if raw.len() > 254 {
            return Err(ValidationError::new(field, "must be at most 254 characters"));
        }
        let options = Options::default()
            .with_required_tld()
            .without_display_text()
            .without_domain_literal();
        let parsed = email_address::EmailAddress::parse_with_options(raw, options)
            .map_err(|e| ValidationError::new(field, format!("is not an email address ({e})")))?;
        Ok(EmailAddress(parsed.as_str().to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `t***@example.com`: the domain and the first character.
    pub fn masked(&self) -> String {
        match self.0.split_once('@') {
            Some((local, domain)) => {
                let first: String = local.chars().take(1).collect();
                format!("{first}***@{domain}")
            }
            None => "***".into(),
        }
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_one_identity_whatever_their_case() {
        let a = EmailAddress::parse("email", "Name@EXAMPLE.com").unwrap();
        let b = EmailAddress::parse("email", " name@example.com ").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "name@example.com");
        assert_eq!(a.masked(), "n***@example.com");
        assert!(!format!("{a:?}").contains("name@"));
    }

    #[test]
    fn what_is_not_a_plain_address_names_the_field() {
        for raw in [
            "",
            "name",
            "name@",
            "@example.com",
            "name@localhost",
            "Tom <tom@example.com>",
            "a@[127.0.0.1]",
        ] {
            assert_eq!(EmailAddress::parse("email", raw).unwrap_err().field, "email", "{raw}");
        }
    }
}
