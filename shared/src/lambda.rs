//! Running one endpoint group on AWS Lambda.

use crate::config::Config;
use crate::http::observe;
use crate::http::{serve, Routes};
use crate::state::AppState;

/// Builds the state once, then serves the group's routes for every invocation.
pub async fn run(routes: fn() -> Routes) -> Result<(), lambda_http::Error> {
    observe::init_logging();
    let config = Config::from_env().inspect_err(|e| tracing::error!(error = %e, "refusing to start"))?;
    let state = AppState::from_config(config)
        .await
        .inspect_err(|e| tracing::error!(error = %e, "refusing to start"))?;
    lambda_http::run(serve(routes(), state)).await
}
