//! The `groups` endpoint group: SealTalk's `/group/*`, `/user/groups` and
//! `/user/favgroups`. Every write is planned from one batched read (the session check
//! included) and committed as one transaction whose conditions are the states it was
//! planned from, recording its changes in the group's and the members' feeds
//! (`docs/sync.md` §7, §9); when another write got there first it is planned again.
mod membership;
mod reads;
mod routes;
mod settings;

pub use routes::routes;

use crate::auth::Credential;
use crate::error::Error;
use crate::state::AppState;
use crate::store::retry::Attempt;
use crate::store::{Tx, TxError};

/// Members whose membership one transaction changes at most (each costs up to 6 of
/// DynamoDB's 100 operations).
const CHUNK: usize = 12;

/// Commits a planned write: done, the session gone, or (any other condition lost) plan
/// again from a fresh read.
async fn commit_or_again<S: Copy + std::fmt::Debug + PartialEq>(
    state: &AppState,
    cred: &Credential,
    tx: Tx<S>,
    session: S,
) -> Result<Attempt<()>, Error> {
    match tx.commit(state.store.as_ref()).await {
        Ok(()) => Ok(Attempt::Done(())),
        Err(TxError::Failed(s)) if s == session => Err(cred.rejected()),
        Err(TxError::Failed(_) | TxError::Conflict) => Ok(Attempt::Again),
        Err(TxError::Store(e)) => Err(e.into()),
    }
}
