//! What a person sets on their profile, parsed once at the edge.

use super::ValidationError;

/// A SealTalk id (`stAccount`): 6 to 20 characters, a letter first, then letters,
/// digits, `_` or `-`. Unique regardless of case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StAccount(String);

impl StAccount {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim();
        let ok = (6..=20).contains(&s.len())
            && s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(StAccount(s.to_string()))
        } else {
            Err(ValidationError::new(
                "stAccount",
                "must be 6 to 20 characters: a letter, then letters, digits, _ or -",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The form uniqueness is decided on.
    pub fn unique_form(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// A username: 3 to 32 characters, a letter first, then letters, digits, `_` or `.`;
/// unique regardless of case; a few names that could pass for the service are reserved.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Username(String);

/// Names nobody may take: they could pass for the service or its staff.
const RESERVED_USERNAMES: [&str; 12] = [
    "admin",
    "administrator",
    "root",
    "support",
    "system",
    "roster",
    "help",
    "staff",
    "official",
    "security",
    "null",
    "undefined",
];

impl Username {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim();
        let ok = (3..=32).contains(&s.len())
            && s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
        if !ok {
            return Err(ValidationError::new(
                "username",
                "must be 3 to 32 characters: a letter, then letters, digits, _ or .",
            ));
        }
        if RESERVED_USERNAMES.contains(&s.to_ascii_lowercase().as_str()) {
            return Err(ValidationError::new("username", "is reserved"));
        }
        Ok(Username(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The form uniqueness is decided on.
    pub fn unique_form(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// A birthday: a real `YYYY-MM-DD` date from 1900 on, not after `today`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Birthday {
    year: u16,
    month: u8,
    day: u8,
}

impl Birthday {
    /// `today` is (year, month, day), from the service clock.
    pub fn parse(raw: &str, today: (u16, u8, u8)) -> Result<Self, ValidationError> {
        let bad = || {
            ValidationError::new(
                "birthday",
                "must be a real date YYYY-MM-DD, from 1900 and not in the future",
            )
        };
        let parts: Vec<&str> = raw.trim().split('-').collect();
        let [y, m, d] = parts.as_slice() else { return Err(bad()) };
        // Digits only: `parse` alone would take a sign ("2000-+1-+1").
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(y, 4) || !digits(m, 2) || !digits(d, 2) {
            return Err(bad());
        }
        let (year, month, day): (u16, u8, u8) = (
            y.parse().map_err(|_| bad())?,
            m.parse().map_err(|_| bad())?,
            d.parse().map_err(|_| bad())?,
        );
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return Err(bad()),
        };
        if year < 1900 || day == 0 || day > days_in_month || (year, month, day) > today {
            return Err(bad());
        }
        Ok(Birthday { year, month, day })
    }
    pub fn to_text(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gender {
    Male,
    Female,
}

impl Gender {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw.trim() {
            "male" => Ok(Gender::Male),
            "female" => Ok(Gender::Female),
            _ => Err(ValidationError::new("gender", "must be male or female")),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Male => "male",
            Gender::Female => "female",
        }
    }
}

/// A portrait's address: an http or https URL of 12 to 256 characters (the reference
/// server's bounds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortraitUri(String);

impl PortraitUri {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim();
        let bad = || ValidationError::new("portraitUri", "must be an http or https URL of 12 to 256 characters");
        if !(12..=256).contains(&s.len()) {
            return Err(bad());
        }
        let url = url::Url::parse(s).map_err(|_| bad())?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err(bad());
        }
        Ok(PortraitUri(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The image formats an avatar may be (decided by content where the bytes are seen).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageType {
    Jpeg,
    Png,
    Webp,
    Gif,
}

impl ImageType {
    /// From a declared content type (`image/png`, ...); `field` names the input.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "image/jpeg" | "image/jpg" => Ok(ImageType::Jpeg),
            "image/png" => Ok(ImageType::Png),
            "image/webp" => Ok(ImageType::Webp),
            "image/gif" => Ok(ImageType::Gif),
            _ => Err(ValidationError::new(
                field,
                "must be image/jpeg, image/png, image/webp or image/gif",
            )),
        }
    }

    /// From the file's first bytes (its signature), whatever it claims to be.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageType::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageType::Png)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(ImageType::Webp)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(ImageType::Gif)
        } else {
            None
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            ImageType::Jpeg => "image/jpeg",
            ImageType::Png => "image/png",
            ImageType::Webp => "image/webp",
            ImageType::Gif => "image/gif",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ImageType::Jpeg => "jpg",
            ImageType::Png => "png",
            ImageType::Webp => "webp",
            ImageType::Gif => "gif",
        }
    }
}

/// The privacy settings SealTalk clients set: each 1 (on) by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Privacy {
    /// Others may find this user by phone number.
    pub phone_verify: bool,
    /// Others may find this user by SealTalk id.
    pub st_search_verify: bool,
    /// A friend request needs this user's agreement (0: added directly).
    pub fri_verify: bool,
    /// Others may add this user to a group directly (0: an invitation they answer).
    pub group_verify: bool,
    /// Others may see whom this user follows and who follows them (the homepage).
    pub display_follows: bool,
    /// Anyone may see the phone number (friends always may).
    pub display_phone: bool,
    /// Anyone may see the birthday.
    pub display_birthday: bool,
    /// Anyone may see the email address.
    pub display_email: bool,
}

impl Default for Privacy {
    fn default() -> Self {
        Privacy {
            phone_verify: true,
            st_search_verify: true,
            fri_verify: true,
            group_verify: true,
            display_follows: true,
            display_phone: false,
            display_birthday: false,
            display_email: false,
        }
    }
}

/// A change to some of the privacy settings (an omitted one stays as it is).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PrivacyChange {
    pub phone_verify: Option<bool>,
    pub st_search_verify: Option<bool>,
    pub fri_verify: Option<bool>,
    pub group_verify: Option<bool>,
    pub display_follows: Option<bool>,
    pub display_phone: Option<bool>,
    pub display_birthday: Option<bool>,
    pub display_email: Option<bool>,
}

impl PrivacyChange {
    pub fn is_empty(&self) -> bool {
        *self == PrivacyChange::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn st_accounts_start_with_a_letter_and_stay_short() {
        for ok in ["tom_01", "Abcdef", "a-b_c-d", "x2345678901234567890"] {
            assert!(StAccount::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "1abcdef",
            "abc",
            "abcdefghijklmnopqrstu",
            "tom 01x",
            "tom.01",
            "汤姆汤姆汤姆",
        ] {
            assert_eq!(StAccount::parse(bad).unwrap_err().field, "stAccount", "{bad}");
        }
        assert_eq!(StAccount::parse("TomCat").unwrap().unique_form(), "tomcat");
    }

    #[test]
    fn portraits_are_http_urls_of_bounded_length() {
        assert!(PortraitUri::parse("https://cdn.example.com/a.png").is_ok());
        assert!(PortraitUri::parse("http://x.io/a").is_ok());
        for bad in [
            "ftp://example.com/a.png",
            "https://a",
            "not a url at all",
            "javascript:alert(1)//x",
        ] {
            assert_eq!(PortraitUri::parse(bad).unwrap_err().field, "portraitUri", "{bad}");
        }
        assert!(PortraitUri::parse(&format!("https://example.com/{}", "a".repeat(240))).is_err());
    }

    #[test]
    fn an_image_is_what_its_bytes_say() {
        assert_eq!(ImageType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some(ImageType::Jpeg));
        assert_eq!(ImageType::sniff(b"\x89PNG\r\n\x1a\n...."), Some(ImageType::Png));
        assert_eq!(ImageType::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(ImageType::Webp));
        assert_eq!(ImageType::sniff(b"GIF89a.."), Some(ImageType::Gif));
        assert_eq!(ImageType::sniff(b"<svg xmlns="), None);
        assert_eq!(
            ImageType::parse("contentType", "image/svg+xml").unwrap_err().field,
            "contentType"
        );
    }

    #[test]
    fn usernames_start_with_a_letter_and_reserved_ones_are_refused() {
        assert!(Username::parse("tom.cat_2").is_ok());
        for bad in ["to", "2tom", "tom cat", "tom-cat", "Admin", "ROOT", &"a".repeat(33)] {
            assert_eq!(Username::parse(bad).unwrap_err().field, "username", "{bad}");
        }
        assert_eq!(Username::parse("TomCat").unwrap().unique_form(), "tomcat");
    }

    #[test]
    fn birthdays_are_real_past_dates_from_1900() {
        let today = (2026, 11, 21);
        assert_eq!(Birthday::parse("2000-02-29", today).unwrap().to_text(), "2000-02-29");
        assert!(Birthday::parse("2026-11-21", today).is_ok());
        for bad in [
            "1900-02-29",
            "2023-02-29",
            "2026-11-22",
            "1899-12-31",
            "2001-13-01",
            "2001-04-31",
            "2001-4-1",
            "x",
        ] {
            assert_eq!(Birthday::parse(bad, today).unwrap_err().field, "birthday", "{bad}");
        }
    }

    #[test]
    fn gender_is_male_or_female() {
        assert_eq!(Gender::parse("female").unwrap(), Gender::Female);
        assert_eq!(Gender::parse("other").unwrap_err().field, "gender");
    }
}
