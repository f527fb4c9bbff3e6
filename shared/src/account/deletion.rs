//! Account deletion with a fresh `delete` code sent to the account's phone or email: the
//! profile, the credential, every uniqueness marker (phone, email, username, SealTalk
//! id: each is free again), the name directory entries and every session go at once.

use super::password::session_deletes;
use crate::auth::Credential;
use crate::domain::{CodePurpose, LoginId, Recipient, StAccount, Username};
use crate::error::Error;
use crate::ports::TxOp;
use crate::state::AppState;
use crate::store::names::{self, NameKind};
use crate::store::{self, keys, login_failures, profile::Profile, Tx, TxError};
use crate::verification::{check_code, MatchedCode, PresentedCode};

#[derive(Clone, Copy, Debug)]
enum Step {
    Code,
    Session,
    Profile,
    Credential,
    Marker,
    Failures,
    Names,
    OtherSessions,
}

/// The `delete` code sent to one of the account's addresses that matches. A code sent to
/// neither is `CodeExpired`; a wrong code is `WrongCode` (counted against each).
async fn matching_code(state: &AppState, addresses: &[Recipient], code: &PresentedCode) -> Result<MatchedCode, Error> {
    let mut wrong = false;
    for to in addresses {
        match check_code(state, to, CodePurpose::Delete, code).await {
            Ok(matched) => return Ok(matched),
            Err(Error::WrongCode) => wrong = true,
            Err(Error::CodeExpired) => {}
            Err(e) => return Err(e),
        }
    }
    Err(if wrong { Error::WrongCode } else { Error::CodeExpired })
}

pub async fn delete_account(state: &AppState, cred: &Credential, code: &PresentedCode) -> Result<(), Error> {
    let keys = [store::profile::key(&cred.user), store::credential::key(&cred.user)];
    let [profile, credential] = cred.read(state, keys.clone()).await?;
    let profile = Profile::from_item(&profile.ok_or(Error::Unauthorized)?)?;
    let mut opened = store::credential::sessions_opened(&credential.ok_or(Error::Unauthorized)?)?;
    let mut ids = vec![];
    let mut addresses = vec![];
    if let Some(phone) = &profile.phone {
        ids.push(LoginId::Phone(phone.clone()));
        addresses.push(Recipient::Phone(phone.clone()));
    }
    if let Some(email) = &profile.email {
        ids.push(LoginId::Email(email.clone()));
        addresses.push(Recipient::Email(email.clone()));
    }
    if let Ok(name) = Username::parse(&profile.username) {
        ids.push(LoginId::Username(name));
    }
    let st_account = StAccount::parse(&profile.st_account)
        .ok()
        .map(|a| keys::st_account_marker(&a));
    let matched = matching_code(state, &addresses, code).await?;
    let current = cred.session_key();
    // Again only when a login opened a session between the listing and the commit.
    for _ in 0..3 {
        let others = session_deletes(state, &cred.user, Some(&current)).await?;
        let tx = Tx::new()
            .step(Step::Code, matched.consume())
            .step(
                Step::Session,
                TxOp::Delete {
                    key: current.clone(),
                    condition: Some(cred.condition()),
                },
            )
            .step(Step::Profile, store::profile::delete(&cred.user))
            .step(Step::Credential, store::credential::delete(&cred.user, opened))
            .steps(
                Step::Marker,
                ids.iter().map(|id| store::markers::release(id, &cred.user)),
            )
            .steps(
                Step::Marker,
                st_account
                    .iter()
                    .map(|k| store::markers::release_key(k.clone(), &cred.user)),
            )
            .steps(Step::Failures, ids.iter().map(login_failures::clear))
            .step(Step::Names, names::delete(&cred.user, NameKind::Nickname))
            .step(Step::Names, names::delete(&cred.user, NameKind::Username))
            .steps(Step::OtherSessions, others);
        match tx.commit(state.store.as_ref()).await {
            Ok(()) => {
                tracing::info!(user = %cred.user, "account deleted");
                return Ok(());
            }
            Err(TxError::Failed(Step::Code)) => return Err(Error::CodeExpired),
            Err(TxError::Failed(Step::Credential) | TxError::Conflict) => {
                let [_, credential] = cred.read(state, keys.clone()).await?;
                opened = store::credential::sessions_opened(&credential.ok_or(Error::Unauthorized)?)?;
            }
            Err(TxError::Failed(_)) => return Err(cred.rejected()),
            Err(TxError::Store(e)) => return Err(e.into()),
        }
    }
    Err(Error::Contended)
}
