//! Account deletion with a fresh `delete` code sent to the account's phone or email: the
//! profile, the credential, every uniqueness marker (phone, email, username, SealTalk
//! id: each is free again), the name directory entries and every session go at once, with
//! a `user` tombstone in the account's feed and the clean-up job (`docs/sync.md` §8) in
//! the same transaction. The request then runs the job's first pages; the sweep finishes.

use super::password::session_deletes;
use crate::auth::Credential;
use crate::domain::{CodePurpose, LoginId, Recipient, StAccount, Username};
use crate::error::Error;
use crate::jobs::deletion::{self as cleanup, Budget};
use crate::ports::TxOp;
use crate::state::AppState;
use crate::store::feeds::{self, Change, Op};
use crate::store::names::{self, NameKind};
use crate::store::{self, jobs, keys, login_failures, profile::Profile, Tx, TxError};
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
    Feed,
    Job,
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
    let keys = [
        store::profile::key(&cred.user),
        store::credential::key(&cred.user),
        feeds::user_head(&cred.user),
    ];
    let [profile, credential, mut head] = cred.read(state, keys.clone()).await?;
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
        let now = state.clock.now_millis();
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
            .steps(
                Step::Feed,
                feeds::append(
                    &feeds::user_head(&cred.user),
                    feeds::seq(head.as_ref())?,
                    &[Change::of("user", &cred.user, Op::Delete)],
                    now,
                ),
            )
            .step(
                Step::Job,
                jobs::start_deletion(&cred.user, &cleanup::first_cursor(), now),
            )
            .steps(Step::OtherSessions, others);
        match tx.commit(state.store.as_ref()).await {
            Ok(()) => {
                tracing::info!(user = %cred.user, "account deleted");
                // The account is gone whatever happens next: a clean-up that stops here
                // is finished by the sweep.
                match cleanup::run(state, &cred.user, Budget::inline()).await {
                    Ok(done) => tracing::info!(user = %cred.user, done, "account clean-up ran inline"),
                    Err(e) => {
                        tracing::warn!(user = %cred.user, error = %e, "account clean-up stopped; the sweep resumes it")
                    }
                }
                return Ok(());
            }
            Err(TxError::Failed(Step::Code)) => return Err(Error::CodeExpired),
            Err(TxError::Failed(Step::Credential | Step::Feed) | TxError::Conflict) => {
                let [_, credential, fresh_head] = cred.read(state, keys.clone()).await?;
                opened = store::credential::sessions_opened(&credential.ok_or(Error::Unauthorized)?)?;
                head = fresh_head;
            }
            Err(TxError::Failed(_)) => return Err(cred.rejected()),
            Err(TxError::Store(e)) => return Err(e.into()),
        }
    }
    Err(Error::Contended)
}
