//! Verification codes: sending under limits, verifying with bounded tries, and the
//! single-use verification token a verified code turns into.
//!
//! Every rule is decided by the store: the send limits are conditional writes in one
//! transaction, a verify attempt is counted by an atomic conditional increment before
//! the code is compared, and a code or token is consumed by a conditional delete.

use std::net::IpAddr;

use crate::app::AppState;
use crate::crypto::digest;
use crate::domain::{CodePurpose, PhoneNumber, ValidationError};
use crate::http::AppError;
use crate::keys;
use crate::ports::{Attr, Condition, Item, StoreError, TxOp, Update};

pub const CODE_LEN: usize = 6;

/// A presented code: digits only (its length is checked against the stored code's).
pub struct PresentedCode(String);

impl PresentedCode {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > 12 || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ValidationError::new("code", "must be the digits received by SMS"));
        }
        Ok(PresentedCode(raw.to_string()))
    }
}

fn code_tag_parts<'a>(phone: &'a PhoneNumber, purpose: CodePurpose, code: &'a str) -> [&'a [u8]; 4] {
    [
        b"sms-code",
        phone.e164().as_bytes(),
        purpose.as_str().as_bytes(),
        code.as_bytes(),
    ]
}

/// Counter update with an upper bound: +1 unless already at `max`.
fn bounded_increment(key: crate::ports::Key, max: i64, expires_at: i64) -> TxOp {
    TxOp::Update {
        key,
        updates: vec![Update::add("n", 1), Update::SetExpiry(expires_at)],
        condition: Some(Condition::AbsentOrLessThan("n".into(), max)),
    }
}

pub async fn send_code(
    state: &AppState,
    phone: &PhoneNumber,
    purpose: CodePurpose,
    ip: IpAddr,
    captcha_solved: bool,
) -> Result<(), AppError> {
    if !state.config.sms_regions.allows(phone.region().value()) {
        return Err(AppError::RegionNotServed(phone.region().value()));
    }
    let limits = &state.config.limits;
    let now = state.clock.now_secs();
    let (hour, day) = (now.div_euclid(3600), now.div_euclid(86_400));
    let hour_end = (hour + 1) * 3600;
    let day_end = (day + 1) * 86_400;
    let ip_max = if captcha_solved {
        limits.sms_per_ip_hour
    } else {
        limits.sms_per_ip_hour.min(limits.sms_captcha_after_per_ip_hour)
    };

    let test_code = state.config.test_numbers.get(phone.e164());
    let code = match test_code {
        Some(fixed) => fixed.clone(),
        None => state.random.digits(CODE_LEN),
    };
    let tag = state.code_key.sign_hex(&code_tag_parts(phone, purpose, &code));
    let ops = vec![
        TxOp::Put {
            item: Item::new(keys::sms_gap(phone)).expiring_at(now + limits.sms_gap_secs),
            condition: Some(Condition::NotExists),
        },
        bounded_increment(keys::sms_phone_hour(phone, hour), limits.sms_per_phone_hour, hour_end),
        bounded_increment(keys::sms_phone_day(phone, day), limits.sms_per_phone_day, day_end),
        bounded_increment(keys::sms_ip_hour(&ip, hour), ip_max, hour_end),
        bounded_increment(keys::sms_global_day(day), limits.sms_global_day, day_end),
        // A new code replaces any earlier one for the same phone and purpose.
        TxOp::Put {
            item: Item::new(keys::code(phone, purpose))
                .with_s("tag", tag)
                .with_n("tries", 0)
                .expiring_at(now + limits.code_ttl_secs),
            condition: None,
        },
    ];
    match state.store.transact_write(ops).await {
        Ok(()) => {}
        Err(StoreError::TxConditionFailed { index }) => {
            return Err(match index {
                0 => AppError::Throttled("a code was sent to this phone less than a minute ago"),
                1 => AppError::Throttled("this phone has had too many codes this hour"),
                2 => AppError::Throttled("this phone has had too many codes today"),
                3 if !captcha_solved && limits.sms_captcha_after_per_ip_hour < limits.sms_per_ip_hour => {
                    AppError::CaptchaRequired
                }
                3 => AppError::Throttled("too many codes from this network this hour"),
                _ => AppError::Throttled("the service has sent its daily number of codes"),
            });
        }
        // Lost a race with a concurrent send for the same phone.
        Err(StoreError::Conflict) => return Err(AppError::Throttled("a code is being sent to this phone")),
        Err(e) => return Err(e.into()),
    }
    if test_code.is_some() {
        tracing::info!(phone = %phone.masked(), "test number: fixed code, no SMS");
        return Ok(());
    }
    let text = format!("Your {} verification code is {code}", state.config.product_name);
    state.sms.send_sms(phone, &text).await?;
    tracing::info!(phone = %phone.masked(), purpose = purpose.as_str(), "code sent");
    Ok(())
}

/// A verification token: proof that the bearer received a code on `phone` for `purpose`.
pub struct VerificationToken(pub String);

/// A presented code that matched the stored one. It is consumed by putting `consume()`
/// into the caller's transaction: of concurrent matches, only one can commit.
pub struct MatchedCode {
    key: crate::ports::Key,
    tag: String,
}

impl MatchedCode {
    pub fn consume(&self) -> TxOp {
        TxOp::Delete {
            key: self.key.clone(),
            condition: Some(Condition::And(vec![
                Condition::Exists,
                Condition::eq("tag", Attr::S(self.tag.clone())),
            ])),
        }
    }
}

/// Counts an attempt against the code for (phone, purpose) and compares. Wrong: 1000;
/// absent, expired, used or out of tries: 2000.
pub async fn check_code(
    state: &AppState,
    phone: &PhoneNumber,
    purpose: CodePurpose,
    presented: &PresentedCode,
) -> Result<MatchedCode, AppError> {
    let key = keys::code(phone, purpose);
    // Count the attempt before comparing, so concurrent guesses cannot exceed the limit.
    let stored = match state
        .store
        .update(
            &key,
            vec![Update::add("tries", 1)],
            Some(Condition::And(vec![
                Condition::Exists,
                Condition::AbsentOrLessThan("tries".into(), state.config.limits.code_max_tries),
            ])),
        )
        .await
    {
        Ok(item) => item,
        Err(StoreError::ConditionFailed) => return Err(AppError::CodeExpired),
        Err(e) => return Err(e.into()),
    };
    let tag = stored.s("tag").unwrap_or_default().to_string();
    let stored_tag = hex::decode(&tag).unwrap_or_default();
    if !state
        .code_key
        .verify(&code_tag_parts(phone, purpose, &presented.0), &stored_tag)
    {
        tracing::info!(phone = %phone.masked(), tries = stored.n("tries"), "wrong code");
        return Err(AppError::WrongCode);
    }
    Ok(MatchedCode { key, tag })
}

/// Maps a failed transaction that consumed a code at `index` 0: the code went first.
pub fn code_race(e: StoreError) -> AppError {
    match e {
        StoreError::TxConditionFailed { index: 0 } | StoreError::Conflict => AppError::CodeExpired,
        e => e.into(),
    }
}

pub async fn verify_code(
    state: &AppState,
    phone: &PhoneNumber,
    purpose: CodePurpose,
    presented: &PresentedCode,
) -> Result<VerificationToken, AppError> {
    let matched = check_code(state, phone, purpose, presented).await?;
    let token = state.random.token(32);
    let now = state.clock.now_secs();
    let ops = vec![
        matched.consume(),
        TxOp::Put {
            item: Item::new(keys::verification_token(&digest(&token)))
                .with_s("phone", phone.e164())
                .with_s("purpose", purpose.as_str())
                .expiring_at(now + state.config.limits.verification_token_ttl_secs),
            condition: Some(Condition::NotExists),
        },
    ];
    state.store.transact_write(ops).await.map_err(code_race)?;
    Ok(VerificationToken(token))
}

/// What a verification token proved, read without consuming it. Consumers delete the
/// token item with `Condition::Exists` in the same transaction as their own writes.
pub struct VerifiedPhone {
    pub phone: PhoneNumber,
    pub purpose: CodePurpose,
    pub key: crate::ports::Key,
}

pub async fn read_verification_token(state: &AppState, token: &str) -> Result<Option<VerifiedPhone>, AppError> {
    let key = keys::verification_token(&digest(token));
    let Some(item) = state.store.get(&key).await? else {
        return Ok(None);
    };
    let phone = PhoneNumber::parse_e164("verification_token", item.s("phone").unwrap_or_default())?;
    let purpose = CodePurpose::parse(item.s("purpose"))?;
    Ok(Some(VerifiedPhone { phone, purpose, key }))
}

/// Whether a phone number is free for a new account.
pub async fn phone_available(state: &AppState, phone: &PhoneNumber) -> Result<bool, AppError> {
    Ok(state.store.get(&keys::phone_owner(phone)).await?.is_none())
}
