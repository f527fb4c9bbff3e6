use std::fmt;

use rlibphonenumber::{get_national_significant_number_owned, PhoneNumberType, PHONE_NUMBER_UTIL};

use super::ValidationError;

/// An ITU country calling code of a region Roster knows (86, 1, 852, ...): checked
/// against the compiled-in region table, so parsing one loads no phone metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CallingCode(u16);

impl CallingCode {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let digits = raw.trim().trim_start_matches('+');
        if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ValidationError::new(field, "must be a country calling code such as 86"));
        }
        let code: u16 = digits
            .parse()
            .map_err(|_| ValidationError::new(field, "must be a country calling code such as 86"))?;
        if !super::regions::is_calling_code(code) {
            return Err(ValidationError::new(
                field,
                format!("{code} is not a country calling code"),
            ));
        }
        Ok(CallingCode(code))
    }
    pub fn value(self) -> u16 {
        self.0
    }
}

impl fmt::Display for CallingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A mobile phone number of its region (libphonenumber's type `MOBILE`, or
/// `FIXED_LINE_OR_MOBILE` where a region does not tell them apart), held in E.164 form.
/// Codes go to it by SMS, so a fixed line, a toll-free or a premium number is refused.
/// `Debug` and `masked()` hide the middle digits so a number never lands whole in a log.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber {
    region: CallingCode,
    national: String,
    e164: String,
}

impl PhoneNumber {
    /// Parses a SealTalk `region` + `phone` pair. Errors name `region` or `phone`.
    pub fn parse(region: &str, phone: &str) -> Result<Self, ValidationError> {
        let region = CallingCode::parse("region", region)?;
        Self::parse_in(region, phone)
    }

    pub fn parse_in(region: CallingCode, phone: &str) -> Result<Self, ValidationError> {
        let cleaned: String = phone.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
        if cleaned.is_empty() || cleaned.len() > 17 || !cleaned.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ValidationError::new("phone", "must be digits only"));
        }
        let invalid = || ValidationError::new("phone", format!("is not a valid mobile number of region +{region}"));
        let util = &*PHONE_NUMBER_UTIL;
        let parsed = util
            .parse(format!("+{}{}", region.value(), cleaned), None)
            .map_err(|_| invalid())?;
        if parsed.country_code != i32::from(region.value()) {
            return Err(invalid());
        }
        // The type is matched against the region's full patterns: an invalid number is
        // `Unknown`, so this is also the validity check.
        match util.get_number_type(&parsed) {
            PhoneNumberType::Mobile | PhoneNumberType::FixedLineOrMobile => {}
            _ => return Err(invalid()),
        }
        let national = get_national_significant_number_owned(&parsed);
        let e164 = format!("+{}{}", region.value(), national);
        Ok(PhoneNumber { region, national, e164 })
    }

    /// Parses an E.164 string such as `+8613912345678`.
    pub fn parse_e164(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let (region, national) = split_e164(field, raw.trim())?;
        Self::parse_in(region, national).map_err(|e| ValidationError::new(field, e.message))
    }

    /// A number this service stored after parsing it: split, not validated again. Reading
    /// a profile must not run libphonenumber's patterns (a tenth of a profile read's
    /// time); the shape is still checked, so a corrupt item is caught.
    pub fn from_stored(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let (region, national) = split_e164(field, raw)?;
        Ok(PhoneNumber {
            region,
            national: national.to_string(),
            e164: raw.to_string(),
        })
    }

    pub fn region(&self) -> CallingCode {
        self.region
    }
    pub fn national(&self) -> &str {
        &self.national
    }
    pub fn e164(&self) -> &str {
        &self.e164
    }
    /// `+86*******5678`: enough to correlate logs, not enough to call anyone.
    pub fn masked(&self) -> String {
        let tail = &self.national[self.national.len().saturating_sub(4)..];
        format!(
            "+{}{}{}",
            self.region,
            "*".repeat(self.national.len() - tail.len()),
            tail
        )
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

/// `+<calling code><national number>`, split: digits only, 4 to 15 of them.
fn split_e164<'a>(field: &'static str, raw: &'a str) -> Result<(CallingCode, &'a str), ValidationError> {
    let shape = || ValidationError::new(field, "must be a phone number in E.164 form, such as +8613912345678");
    let digits = raw.strip_prefix('+').ok_or_else(shape)?;
    if digits.len() < 4 || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(shape());
    }
    // E.164 calling codes are prefix-free: at most one of the first three prefixes is one.
    let region = (1..=3)
        .filter_map(|n| CallingCode::parse(field, &digits[..n]).ok())
        .next()
        .ok_or_else(shape)?;
    Ok((region, &digits[region.value().to_string().len()..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_chinese_mobile_prefixes_are_accepted() {
        for n in [
            "16612345678",
            "19112345678",
            "19912345678",
            "13912345678",
            "17312345678",
        ] {
            let p = PhoneNumber::parse("86", n).unwrap_or_else(|e| panic!("{n}: {e}"));
            assert_eq!(p.e164(), format!("+86{n}"));
        }
    }

    #[test]
    fn impossible_numbers_name_the_phone_field() {
        // The last four pass a prefix match of the national pattern but not a full one.
        for n in [
            "1391234567",
            "139123456789",
            "12012345678",
            "abc",
            "20012341234",
            "23412341234",
            "99999999999",
            "10000000000",
        ] {
            let err = PhoneNumber::parse("86", n).unwrap_err();
            assert_eq!(err.field, "phone", "{n}");
        }
    }

    #[test]
    fn unknown_calling_codes_name_the_region_field() {
        for r in ["999", "0", "", "x1"] {
            assert_eq!(PhoneNumber::parse(r, "13912345678").unwrap_err().field, "region", "{r}");
        }
    }

    #[test]
    fn numbers_are_validated_per_region() {
        assert!(PhoneNumber::parse("1", "2015550123").is_ok());
        assert!(PhoneNumber::parse("44", "7400123456").is_ok());
        assert!(PhoneNumber::parse("1", "13912345678").is_err());
        // A Beijing landline is a valid number, but not a mobile one: no SMS reaches it.
        assert!(PhoneNumber::parse("86", "1065529988").is_err());
        // A UK toll-free number is valid but not mobile.
        assert!(PhoneNumber::parse("44", "8001234567").is_err());
    }

    #[test]
    fn masked_and_debug_hide_the_middle_digits() {
        let p = PhoneNumber::parse("86", "13912345678").unwrap();
        assert_eq!(p.masked(), "+86*******5678");
        assert!(!format!("{p:?}").contains("1391234"));
    }

    #[test]
    fn e164_round_trips() {
        let p = PhoneNumber::parse_e164("username", "+8613912345678").unwrap();
        assert_eq!((p.region().value(), p.national()), (86, "13912345678"));
        assert_eq!(
            PhoneNumber::parse_e164("username", "13912345678").unwrap_err().field,
            "username"
        );
    }
}
