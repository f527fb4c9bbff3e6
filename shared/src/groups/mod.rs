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

use crate::error::Error;
use crate::state::AppState;

/// Members whose membership one transaction changes at most (each costs up to 6 of
/// DynamoDB's 100 operations).
const CHUNK: usize = 12;

/// How long a write keeps re-planning after losing races before answering 503.
const RETRY_BUDGET: std::time::Duration = std::time::Duration::from_secs(2);

/// What one planned attempt came to.
enum Attempt<A> {
    Done(A),
    /// Another write won a condition: plan again from a fresh read.
    Again,
}

/// Runs `attempt` until it is done, an error, or the retry budget is spent (each lost
/// race means another writer committed: N simultaneous writers need up to N rounds).
async fn retrying<A, F, Fut>(state: &AppState, mut attempt: F) -> Result<A, Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Attempt<A>, Error>>,
{
    let started = tokio::time::Instant::now();
    let mut round = 0u32;
    while started.elapsed() < RETRY_BUDGET {
        if round > 0 {
            let jitter = u64::from(state.random.below(40));
            tokio::time::sleep(std::time::Duration::from_millis(10 + jitter)).await;
        }
        round += 1;
        if let Attempt::Done(a) = attempt().await? {
            return Ok(a);
        }
    }
    Err(Error::Contended)
}
