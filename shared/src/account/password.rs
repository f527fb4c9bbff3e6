//! Password flows: changing it (with the old one) and resetting it (with a verified
//! code). Either touches one item, the user's credential, and ends other sessions.

use crate::auth::sessions::all_sessions;
use crate::auth::{passwords, Credential};
use crate::domain::{CodePurpose, LoginId, Password, UserId};
use crate::error::Error;
use crate::ports::{Key, TxOp};
use crate::state::AppState;
use std::net::IpAddr;

use super::login::{attempt_keys, PasswordAttempt};
use crate::store::profile::Profile;
use crate::store::{self, login_failures, Tx, TxError};
use crate::verification::{read_token, VerificationToken};

/// Deletions of every session of `user` but `keep`.
pub(super) async fn session_deletes(state: &AppState, user: &UserId, keep: Option<&Key>) -> Result<Vec<TxOp>, Error> {
    Ok(all_sessions(state, user)
        .await?
        .into_iter()
        .filter(|s| Some(&s.key) != keep)
        .map(|s| store::sessions::delete(s.key))
        .collect())
}

#[derive(Clone, Copy, Debug)]
enum ChangeStep {
    Session,
    Password,
    OtherSessions,
    Failures,
}

/// How often a change that ends sessions re-reads after a login slipped in between.
const ATTEMPTS: usize = 3;

/// Changes the password and ends every other session; the caller's stays.
/// The old password is a guess like a login's: it takes the same attempt lock and
/// counts toward the same backoff as logins with the account's phone.
pub async fn change_password(
    state: &AppState,
    cred: &Credential,
    old: &Password,
    new: &Password,
    ip: &IpAddr,
) -> Result<(), Error> {
    let keys = [store::credential::key(&cred.user), store::profile::key(&cred.user)];
    let [credential, profile] = cred.read(state, keys).await?;
    let credential = credential.ok_or(Error::Unauthorized)?;
    let profile = Profile::from_item(&profile.ok_or(Error::Unauthorized)?)?;
    // The backoff of the account's phone, or of its username when it has no phone.
    let id = match (profile.phone, crate::domain::Username::parse(&profile.username).ok()) {
        (Some(phone), _) => LoginId::Phone(phone),
        (None, Some(name)) => LoginId::Username(name),
        (None, None) => return Err(Error::Unauthorized),
    };
    let [failures, network] = store::exactly(state.store.batch_get(&attempt_keys(state, &id, ip)).await?)?;
    let attempt = PasswordAttempt::begin(state, &id, ip, [failures.as_ref(), network.as_ref()])?;
    let old_hash = store::credential::password_hash(&credential).map(str::to_string);
    let old_hash = match (passwords::verify(old, old_hash.as_deref()).await?, old_hash) {
        (true, Some(hash)) => hash,
        _ => return Err(attempt.failed(state).await?),
    };
    let new_hash = passwords::hash(new, state.random.as_ref()).await?;
    let current = cred.session_key();
    let mut opened = store::credential::sessions_opened(&credential)?;
    for _ in 0..ATTEMPTS {
        let others = session_deletes(state, &cred.user, Some(&current)).await?;
        let tx = Tx::new()
            .step(ChangeStep::Session, cred.check_op())
            .step(
                ChangeStep::Password,
                store::credential::set_password(&cred.user, Some(&old_hash), opened, new_hash.clone()),
            )
            .steps(ChangeStep::OtherSessions, others)
            .step(ChangeStep::Failures, attempt.succeeded());
        match tx.commit(state.store.as_ref()).await {
            Ok(()) => return Ok(()),
            Err(TxError::Failed(ChangeStep::Session)) => return Err(cred.rejected()),
            // A login or another change committed since the read: which one decides.
            Err(
                TxError::Failed(ChangeStep::Password | ChangeStep::OtherSessions | ChangeStep::Failures)
                | TxError::Conflict,
            ) => {
                let [credential] = cred.read(state, [store::credential::key(&cred.user)]).await?;
                let credential = credential.ok_or(Error::Unauthorized)?;
                if store::credential::password_hash(&credential) != Some(old_hash.as_str()) {
                    return Err(Error::WrongPassword);
                }
                opened = store::credential::sessions_opened(&credential)?;
            }
            Err(TxError::Store(e)) => return Err(e.into()),
        }
    }
    Err(Error::Contended)
}

#[derive(Clone, Copy, Debug)]
enum ResetStep {
    Token,
    Owner,
    Password,
    Failures,
    Sessions,
}

/// Sets a new password with a verification token and ends every session of the account.
pub async fn reset_password(state: &AppState, password: &Password, token: &VerificationToken) -> Result<(), Error> {
    let verified = read_token(state, token, &[CodePurpose::Verify, CodePurpose::Reset]).await?;
    let id: LoginId = verified.to.login_id().ok_or(Error::NoSuchAccount)?;
    let marker = state
        .store
        .get(&store::markers::key(&id))
        .await?
        .ok_or(Error::NoSuchAccount)?;
    let user = store::markers::owner(&marker)?;
    let hash = passwords::hash(password, state.random.as_ref()).await?;
    for _ in 0..ATTEMPTS {
        let credential = state
            .store
            .get(&store::credential::key(&user))
            .await?
            .ok_or(Error::NoSuchAccount)?;
        let opened = store::credential::sessions_opened(&credential)?;
        let sessions = session_deletes(state, &user, None).await?;
        let tx = Tx::new()
            .step(ResetStep::Token, verified.spend())
            .step(ResetStep::Owner, store::markers::check_owner(&id, &user))
            .step(
                ResetStep::Password,
                store::credential::set_password(&user, None, opened, hash.clone()),
            )
            .step(ResetStep::Failures, login_failures::clear(&id))
            .steps(ResetStep::Sessions, sessions);
        match tx.commit(state.store.as_ref()).await {
            Ok(()) => {
                tracing::info!(user = %user, login = %verified.to.masked(), "password reset");
                return Ok(());
            }
            Err(TxError::Failed(ResetStep::Token)) => return Err(Error::VerificationTokenGone),
            Err(TxError::Failed(ResetStep::Owner)) => return Err(Error::NoSuchAccount),
            // A session was opened since the read (or the credential is gone: the re-read says).
            Err(
                TxError::Failed(ResetStep::Password | ResetStep::Failures | ResetStep::Sessions) | TxError::Conflict,
            ) => {}
            Err(TxError::Store(e)) => return Err(e.into()),
        }
    }
    Err(Error::Contended)
}
