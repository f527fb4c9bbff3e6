//! Re-planning a write that lost a race (`docs/sync.md` §3): each lost condition means
//! another writer committed, so N simultaneous writers need up to N rounds. Writes retry
//! for a time budget rather than a count, with a short jittered pause, then answer 503.

use crate::error::Error;
use crate::state::AppState;

/// How long a write keeps re-planning after losing races before answering 503.
pub const RETRY_BUDGET: std::time::Duration = std::time::Duration::from_secs(2);

/// What one planned attempt came to.
pub enum Attempt<A> {
    Done(A),
    /// Another write won a condition: plan again from a fresh read.
    Again,
}

/// Runs `attempt` until it is done, an error, or the retry budget is spent.
pub async fn retrying<A, F, Fut>(state: &AppState, mut attempt: F) -> Result<A, Error>
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
