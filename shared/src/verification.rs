//! Verification codes as every group consumes them: checking a presented code with
//! bounded tries, and the single-use verification token a verified code turns into.
//! Sending lives in the `codes` group; `account` consumes codes and tokens through this
//! module, so no group imports another's service.
//!
//! Every rule is decided by the store: an attempt is counted by an atomic conditional
//! increment before the code is compared, and a code or token is consumed by a
//! conditional delete inside the consumer's own transaction.

use crate::crypto::digest;
use crate::domain::{CodePurpose, Recipient, ValidationError};
use crate::error::Error;
use crate::ports::{Key, StoreError, TxOp};
use crate::state::AppState;
use crate::store::{self, Tx, TxError};

pub const CODE_LEN: usize = 6;
/// Random bytes in a verification token (43 URL-safe characters).
const TOKEN_BYTES: usize = 32;

/// A presented code: digits only (its length is checked against the stored code's).
pub struct PresentedCode(String);

impl PresentedCode {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::parse_as("code", raw)
    }
    pub fn parse_as(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > 12 || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ValidationError::new(
                field,
                "must be the digits of the code you received",
            ));
        }
        Ok(PresentedCode(raw.to_string()))
    }
}

/// A presented verification token of the shape Roster issues; whether it exists is the
/// store's to say.
pub struct VerificationToken(String);

impl VerificationToken {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let ok = raw.len() == 43 && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(VerificationToken(raw.to_string()))
        } else {
            Err(ValidationError::new(
                "verification_token",
                "is not a verification token (43 URL-safe characters from verify_code)",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn tag_parts<'a>(to: &'a Recipient, purpose: CodePurpose, code: &'a str) -> [&'a [u8]; 5] {
    [
        b"code",
        to.channel().as_bytes(),
        to.address().as_bytes(),
        purpose.as_str().as_bytes(),
        code.as_bytes(),
    ]
}

/// The keyed hash stored for a code: the code itself is never stored.
pub fn code_tag(state: &AppState, to: &Recipient, purpose: CodePurpose, code: &str) -> String {
    state.code_key.sign_hex(&tag_parts(to, purpose, code))
}

/// A presented code that matched the stored one. It is consumed by putting `consume()`
/// into the caller's transaction: of concurrent matches, only one can commit.
pub struct MatchedCode {
    key: Key,
    tag: String,
}

impl MatchedCode {
    pub fn consume(&self) -> TxOp {
        store::codes::consume(self.key.clone(), &self.tag)
    }
}

/// Counts an attempt against the code for (recipient, purpose) and compares. Wrong:
/// `WrongCode`; absent, expired, used or out of tries: `CodeExpired`.
pub async fn check_code(
    state: &AppState,
    to: &Recipient,
    purpose: CodePurpose,
    presented: &PresentedCode,
) -> Result<MatchedCode, Error> {
    let key = store::codes::key(to, purpose);
    // Count the attempt before comparing, so concurrent guesses cannot exceed the limit.
    let (updates, condition) = store::codes::count_try(state.config.limits.code_max_tries);
    let stored = match state.store.update(&key, updates, Some(condition)).await {
        Ok(item) => item,
        Err(StoreError::ConditionFailed) => return Err(Error::CodeExpired),
        Err(e) => return Err(e.into()),
    };
    let tag = store::codes::tag(&stored)?.to_string();
    let stored_tag = hex::decode(&tag).map_err(|_| store::corrupt(&stored, "tag is not hex"))?;
    if !state
        .code_key
        .verify(&tag_parts(to, purpose, &presented.0), &stored_tag)
    {
        tracing::info!(to = %to.masked(), tries = store::codes::tries(&stored), "wrong code");
        return Err(Error::WrongCode);
    }
    Ok(MatchedCode { key, tag })
}

#[derive(Clone, Copy, Debug)]
enum Step {
    Code,
    Token,
}

/// Turns a matching code into a verification token (the code is spent).
pub async fn verify_code(
    state: &AppState,
    to: &Recipient,
    purpose: CodePurpose,
    presented: &PresentedCode,
) -> Result<String, Error> {
    let matched = check_code(state, to, purpose, presented).await?;
    let token = state.random.token(TOKEN_BYTES);
    let expires_at = state.clock.now_secs() + state.config.limits.verification_token_ttl_secs;
    let tx = Tx::new().step(Step::Code, matched.consume()).step(
        Step::Token,
        store::verification_tokens::create(&digest(&token), to, purpose, expires_at),
    );
    match tx.commit(state.store.as_ref()).await {
        Ok(()) => Ok(token),
        // Another verify spent the code first (a token digest collision is impossible).
        Err(TxError::Failed(_) | TxError::Conflict) => Err(Error::CodeExpired),
        Err(TxError::Store(e)) => Err(e.into()),
    }
}

/// What a verification token proved, read without spending it. Consumers put `spend()`
/// into the same transaction as their own writes.
pub struct Verified {
    pub to: Recipient,
    pub purpose: CodePurpose,
    key: Key,
}

impl Verified {
    pub fn spend(&self) -> TxOp {
        store::verification_tokens::consume(self.key.clone())
    }
}

/// The live token for one of `purposes`, or `VerificationTokenGone`.
pub async fn read_token(
    state: &AppState,
    token: &VerificationToken,
    purposes: &[CodePurpose],
) -> Result<Verified, Error> {
    let key = store::verification_tokens::key(&digest(token.as_str()));
    let item = state.store.get(&key).await?.ok_or(Error::VerificationTokenGone)?;
    let (to, purpose) = store::verification_tokens::decode(&item)?;
    if !purposes.contains(&purpose) {
        return Err(Error::VerificationTokenGone);
    }
    Ok(Verified { to, purpose, key })
}
