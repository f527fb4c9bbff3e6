//! The single-table key design, in one place. Every item's partition key (`pk`) names
//! the entity it belongs to; the sort key (`sk`) names the item within it.
//!
//! | item                  | pk                  | sk                      | expiry          |
//! |-----------------------|---------------------|-------------------------|-----------------|
//! | phone owner marker    | `PHONE#<e164>`      | `OWNER`                 | —               |
//! | verification code     | `PHONE#<e164>`      | `CODE#<purpose>`        | code TTL        |
//! | SMS gap lock          | `PHONE#<e164>`      | `SMS#GAP`               | gap             |
//! | SMS count per window  | `PHONE#<e164>`      | `SMS#H#<hour>` / `SMS#D#<day>` | window end |
//! | SMS count per IP      | `IP#<ip>`           | `SMS#H#<hour>`          | window end      |
//! | global SMS count      | `GLOBAL`            | `SMS#D#<day>`           | window end      |
//! | verification token    | `VTOKEN#<sha256>`   | `VTOKEN`                | token TTL       |
//! | captcha               | `CAPTCHA#<sha256>`  | `CAPTCHA`               | captcha TTL     |
//! | login failures + lock | `PHONE#<e164>`      | `LOGINFAIL`             | a day           |
//! | user profile          | `USER#<id>`         | `PROFILE`               | —               |
//! | session               | `USER#<id>`         | `SESSION#<sid>`         | idle lifetime   |
//!
//! The phone owner marker holds the user id and the password hash, so a login reads one
//! item; it is written with `attribute_not_exists` in the same transaction as the
//! profile, which makes a phone number unique. The sparse `inverted` index (`ipk`/`isk`)
//! is reserved for reverse relations (fans, who blocked me); no item kind above uses it.
//!
//! Windows are counted in fixed buckets (hour or day number since the epoch), so a new
//! window is a new item and expired counters never need resetting.

use crate::domain::{CodePurpose, PhoneNumber};
use crate::ports::Key;

pub fn phone_pk(phone: &PhoneNumber) -> String {
    format!("PHONE#{}", phone.e164())
}

pub fn phone_owner(phone: &PhoneNumber) -> Key {
    Key::new(phone_pk(phone), "OWNER")
}

pub fn code(phone: &PhoneNumber, purpose: CodePurpose) -> Key {
    Key::new(phone_pk(phone), format!("CODE#{}", purpose.as_str()))
}

pub fn sms_gap(phone: &PhoneNumber) -> Key {
    Key::new(phone_pk(phone), "SMS#GAP")
}

pub fn sms_phone_hour(phone: &PhoneNumber, hour: i64) -> Key {
    Key::new(phone_pk(phone), format!("SMS#H#{hour}"))
}

pub fn sms_phone_day(phone: &PhoneNumber, day: i64) -> Key {
    Key::new(phone_pk(phone), format!("SMS#D#{day}"))
}

pub fn sms_ip_hour(ip: &std::net::IpAddr, hour: i64) -> Key {
    Key::new(format!("IP#{ip}"), format!("SMS#H#{hour}"))
}

pub fn sms_global_day(day: i64) -> Key {
    Key::new("GLOBAL", format!("SMS#D#{day}"))
}

pub fn verification_token(digest: &str) -> Key {
    Key::new(format!("VTOKEN#{digest}"), "VTOKEN")
}

pub fn captcha(digest: &str) -> Key {
    Key::new(format!("CAPTCHA#{digest}"), "CAPTCHA")
}

pub const SESSION_PREFIX: &str = "SESSION#";

pub fn user_pk(user: &crate::domain::UserId) -> String {
    format!("USER#{user}")
}

pub fn profile(user: &crate::domain::UserId) -> Key {
    Key::new(user_pk(user), "PROFILE")
}

pub fn session(user: &crate::domain::UserId, session: &str) -> Key {
    Key::new(user_pk(user), format!("{SESSION_PREFIX}{session}"))
}

pub fn login_failures(phone: &PhoneNumber) -> Key {
    Key::new(phone_pk(phone), "LOGINFAIL")
}
