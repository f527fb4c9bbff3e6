//! A user's own sessions: revoking the current one, one by id, all others, or all.

use crate::auth::sessions::all_sessions;
use crate::auth::Credential;
use crate::domain::ValidationError;
use crate::error::Error;
use crate::ports::StoreError;
use crate::state::AppState;
use crate::store::sessions as stored;
use crate::store::{Tx, TxError};

pub enum Scope {
    Current,
    Others,
    All,
    One(String),
}

impl Scope {
    pub fn parse(scope: Option<&str>, session_id: Option<String>) -> Result<Self, ValidationError> {
        if let Some(id) = session_id.filter(|s| !s.is_empty()) {
            return Ok(Scope::One(id));
        }
        Ok(match scope.unwrap_or("current") {
            "current" => Scope::Current,
            "others" => Scope::Others,
            "all" => Scope::All,
            _ => return Err(ValidationError::new("scope", "must be current, others or all")),
        })
    }

    /// Whether the caller's own session ends.
    pub fn ends_current(&self, cred: &Credential) -> bool {
        match self {
            Scope::Current | Scope::All => true,
            Scope::Others => false,
            Scope::One(id) => *id == cred.session,
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Step {
    Caller,
    Target,
    Others,
}

pub async fn revoke(state: &AppState, cred: &Credential, scope: &Scope) -> Result<(), Error> {
    match scope {
        Scope::Current => revoke_current(state, cred).await,
        Scope::One(id) if *id == cred.session => revoke_current(state, cred).await,
        Scope::One(id) => {
            let target = crate::ports::TxOp::Delete {
                key: stored::key(&cred.user, id),
                condition: Some(stored::backs(None)),
            };
            let tx = Tx::new().step(Step::Caller, cred.check_op()).step(Step::Target, target);
            match tx.commit(state.store.as_ref()).await {
                Ok(()) => Ok(()),
                Err(TxError::Failed(Step::Target)) => Err(Error::NoSuchSession),
                Err(TxError::Failed(Step::Caller | Step::Others)) => Err(cred.rejected()),
                Err(TxError::Conflict) => Err(StoreError::Conflict.into()),
                Err(TxError::Store(e)) => Err(e.into()),
            }
        }
        Scope::Others | Scope::All => {
            let sessions = all_sessions(state, &cred.user).await?;
            let current = cred.session_key();
            if !cred.accepts(sessions.iter().find(|s| s.key == current)) {
                return Err(cred.rejected());
            }
            let caller = match scope {
                Scope::All => crate::ports::TxOp::Delete {
                    key: current.clone(),
                    condition: Some(cred.condition()),
                },
                _ => cred.check_op(),
            };
            let others = sessions
                .into_iter()
                .filter(|s| s.key != current)
                .map(|s| stored::delete(s.key));
            let tx = Tx::new().step(Step::Caller, caller).steps(Step::Others, others);
            match tx.commit(state.store.as_ref()).await {
                Ok(()) => Ok(()),
                Err(TxError::Failed(_)) => Err(cred.rejected()),
                Err(TxError::Conflict) => Err(StoreError::Conflict.into()),
                Err(TxError::Store(e)) => Err(e.into()),
            }
        }
    }
}

async fn revoke_current(state: &AppState, cred: &Credential) -> Result<(), Error> {
    match state.store.delete(&cred.session_key(), Some(cred.condition())).await {
        Ok(_) => Ok(()),
        Err(StoreError::ConditionFailed) => Err(cred.rejected()),
        Err(e) => Err(e.into()),
    }
}
