//! Operator tasks, run by the `roster-admin` binary against the configured store (the
//! same settings as the server: the SQLite file locally, the table on AWS).

use crate::domain::UserId;
use crate::error::Error;
use crate::state::AppState;
use crate::store::profile;

/// Sets a user's level; an unknown user is an error, not a new profile.
pub async fn set_level(state: &AppState, user: &UserId, level: i64) -> Result<(), Error> {
    if level < 0 {
        return Err(crate::domain::ValidationError::new("level", "must be 0 or more").into());
    }
    let op = profile::set_level(user, level, state.clock.now_millis());
    match crate::store::Tx::new().step((), op).commit(state.store.as_ref()).await {
        Ok(()) => Ok(()),
        Err(crate::store::TxError::Failed(())) => Err(Error::NotFound(format!("no user {user}"))),
        Err(crate::store::TxError::Conflict) => Err(Error::Contended),
        Err(crate::store::TxError::Store(e)) => Err(e.into()),
    }
}
