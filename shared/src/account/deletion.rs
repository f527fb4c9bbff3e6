//! Account deletion with a fresh `delete` code: the profile, the credential, the login
//! marker (the identifier is free again) and every session go at once.

use super::password::session_deletes;
use crate::auth::Credential;
use crate::domain::{CodePurpose, LoginId, Recipient};
use crate::error::Error;
use crate::ports::TxOp;
use crate::state::AppState;
use crate::store::{self, login_failures, profile::Profile, Tx, TxError};
use crate::verification::{check_code, PresentedCode};

#[derive(Clone, Copy, Debug)]
enum Step {
    Code,
    Session,
    Profile,
    Credential,
    Marker,
    Failures,
    OtherSessions,
}

pub async fn delete_account(state: &AppState, cred: &Credential, code: &PresentedCode) -> Result<(), Error> {
    let keys = [store::profile::key(&cred.user), store::credential::key(&cred.user)];
    let [profile, credential] = cred.read(state, keys.clone()).await?;
    let profile = Profile::from_item(&profile.ok_or(Error::Unauthorized)?)?;
    let phone = profile.phone.ok_or(Error::Unauthorized)?;
    let mut opened = store::credential::sessions_opened(&credential.ok_or(Error::Unauthorized)?)?;
    let id = LoginId::Phone(phone.clone());
    let matched = check_code(state, &Recipient::Phone(phone), CodePurpose::Delete, code).await?;
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
            .step(Step::Marker, store::markers::release(&id, &cred.user))
            .step(Step::Failures, login_failures::clear(&id))
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
