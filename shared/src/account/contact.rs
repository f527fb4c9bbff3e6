//! Moving an account to a new phone number or email address. The new address proves
//! itself with a code of purpose `change_phone`/`change_email`; the current one, when the
//! account has one, with a `verify_owner` code. One transaction spends both codes,
//! updates the profile (conditioned on what was read), claims the new marker and frees
//! the old one: a taken address fails the claim and nothing changes.

use crate::auth::Credential;
use crate::domain::{CodePurpose, EmailAddress, LoginId, PhoneNumber, Recipient, ValidationError};
use crate::error::Error;
use crate::ports::TxOp;
use crate::state::AppState;
use crate::store::profile::{self, Profile};
use crate::store::{self, Tx, TxError};
use crate::verification::{check_code, MatchedCode, PresentedCode};

const WINDOW_MS: i64 = 30 * 86_400 * 1000;

#[derive(Clone, Copy, Debug)]
enum Step {
    Session,
    NewCode,
    OwnerCode,
    Profile,
    Claim,
    Release,
}

/// The codes a change presents: one for the new address, and one for the current
/// address when the account has one.
pub struct Codes<'a> {
    pub new: &'a PresentedCode,
    pub original: Option<&'a PresentedCode>,
}

/// Checks the codes; the owner's is required when there is a current address.
async fn check(
    state: &AppState,
    new: &Recipient,
    purpose: CodePurpose,
    current: Option<Recipient>,
    codes: &Codes<'_>,
) -> Result<(MatchedCode, Option<MatchedCode>), Error> {
    let owner = match (current, codes.original) {
        (Some(current), Some(code)) => Some((current, code)),
        (Some(_), None) => {
            return Err(ValidationError::new(
                "originalCode",
                "is required: a verify_owner code sent to the account's current address",
            )
            .into())
        }
        (None, _) => None,
    };
    let matched_new = check_code(state, new, purpose, codes.new).await?;
    let matched_owner = match owner {
        Some((current, code)) => Some(check_code(state, &current, CodePurpose::VerifyOwner, code).await?),
        None => None,
    };
    Ok((matched_new, matched_owner))
}

async fn commit(
    state: &AppState,
    cred: &Credential,
    codes: (MatchedCode, Option<MatchedCode>),
    profile_op: TxOp,
    claim: &LoginId,
    release: Option<&LoginId>,
    taken: Error,
) -> Result<(), Error> {
    let (new_code, owner_code) = codes;
    let mut tx = Tx::new()
        .step(Step::Session, cred.check_op())
        .step(Step::NewCode, new_code.consume());
    if let Some(owner_code) = &owner_code {
        tx = tx.step(Step::OwnerCode, owner_code.consume());
    }
    tx = tx
        .step(Step::Profile, profile_op)
        .step(Step::Claim, store::markers::claim(claim, &cred.user));
    if let Some(old) = release {
        tx = tx.step(Step::Release, store::markers::release(old, &cred.user));
    }
    match tx.commit(state.store.as_ref()).await {
        Ok(()) => Ok(()),
        Err(TxError::Failed(Step::Session)) => Err(cred.rejected()),
        Err(TxError::Failed(Step::NewCode | Step::OwnerCode)) => Err(Error::CodeExpired),
        Err(TxError::Failed(Step::Claim)) => Err(taken),
        // The profile changed since it was read (a racing change of the same account).
        Err(TxError::Failed(Step::Profile | Step::Release) | TxError::Conflict) => Err(Error::Contended),
        Err(TxError::Store(e)) => Err(e.into()),
    }
}

async fn own(state: &AppState, cred: &Credential) -> Result<Profile, Error> {
    let [item] = cred.read(state, [profile::key(&cred.user)]).await?;
    Profile::from_item(&item.ok_or(Error::Unauthorized)?)
}

/// Moves the account to `new`, at most `phone_changes_per_30_days` times in any 30 days.
pub async fn change_phone(
    state: &AppState,
    cred: &Credential,
    new: &PhoneNumber,
    codes: Codes<'_>,
) -> Result<(), Error> {
    let read = own(state, cred).await?;
    if read.phone.as_ref() == Some(new) {
        return Err(ValidationError::new("phone", "is already this account's number").into());
    }
    let now = state.clock.now_millis();
    let recent: Vec<i64> = read
        .phone_changes
        .iter()
        .copied()
        .filter(|t| now - t < WINDOW_MS)
        .collect();
    let limit = state.config.limits.phone_changes_per_30_days;
    if recent.len() as i64 >= limit {
        return Err(Error::PhoneChangeLimit(limit));
    }
    let matched = check(
        state,
        &Recipient::Phone(new.clone()),
        CodePurpose::ChangePhone,
        read.phone.clone().map(Recipient::Phone),
        &codes,
    )
    .await?;
    let old = read.phone.clone().map(LoginId::Phone);
    commit(
        state,
        cred,
        matched,
        profile::set_phone(&cred.user, &read, new, &recent, now),
        &LoginId::Phone(new.clone()),
        old.as_ref(),
        Error::PhoneTaken,
    )
    .await?;
    tracing::info!(user = %cred.user, phone = %new.masked(), "phone changed");
    Ok(())
}

/// Sets or changes the account's email address.
pub async fn change_email(
    state: &AppState,
    cred: &Credential,
    new: &EmailAddress,
    codes: Codes<'_>,
) -> Result<(), Error> {
    let read = own(state, cred).await?;
    if read.email.as_ref() == Some(new) {
        return Err(ValidationError::new("email", "is already this account's address").into());
    }
    let matched = check(
        state,
        &Recipient::Email(new.clone()),
        CodePurpose::ChangeEmail,
        read.email.clone().map(Recipient::Email),
        &codes,
    )
    .await?;
    let old = read.email.clone().map(LoginId::Email);
    commit(
        state,
        cred,
        matched,
        profile::set_email(&cred.user, read.email.as_ref(), new, state.clock.now_millis()),
        &LoginId::Email(new.clone()),
        old.as_ref(),
        Error::EmailTaken,
    )
    .await?;
    tracing::info!(user = %cred.user, email = %new.masked(), "email changed");
    Ok(())
}
