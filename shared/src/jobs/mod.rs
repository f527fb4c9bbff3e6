//! Background jobs, below the endpoint groups (`docs/sync.md` §8): the clean-up after an
//! account deletion, started inline by the deleting request and finished by the sweep.
//!
//! The sweep reads the unfinished jobs from the index (`JOBS`) and runs each within a time
//! budget. On AWS an EventBridge schedule invokes the `sync` function every 5 minutes with
//! `{"roster": "sweep"}` (`events/sync/sweep.json`); locally `roster-local` sweeps at start
//! and every 5 minutes. A job the index does not show yet is found by a later sweep.
pub mod deletion;

use crate::error::Error;
use crate::state::AppState;
use crate::store::jobs;

#[derive(Debug, Default, serde::Serialize)]
pub struct SweepReport {
    pub found: usize,
    pub finished: usize,
}

/// Runs every unfinished job until `until`; a job's failure is logged and the sweep goes on.
pub async fn sweep(state: &AppState, until: tokio::time::Instant) -> Result<SweepReport, Error> {
    let mut report = SweepReport::default();
    let mut cursor = None;
    loop {
        let page = state.store.query(jobs::unfinished().after(cursor)).await?;
        for item in &page.items {
            let Some(user) = jobs::deletion_of(item) else { continue };
            report.found += 1;
            if tokio::time::Instant::now() >= until {
                return Ok(report);
            }
            match deletion::run(state, &user, deletion::Budget::sweep(until)).await {
                Ok(true) => report.finished += 1,
                Ok(false) => {}
                Err(e) => tracing::error!(user = %user, error = %e, "account clean-up failed; the next sweep retries"),
            }
        }
        cursor = page.cursor;
        if cursor.is_none() {
            return Ok(report);
        }
    }
}
