//! Running one endpoint group on AWS Lambda.

use serde_json::Value;

use crate::config::Config;
use crate::error::Error;
use crate::http::observe;
use crate::http::{serve, Routes};
use crate::state::AppState;

/// How long one scheduled sweep runs (the function's timeout is longer).
const SWEEP_BUDGET: std::time::Duration = std::time::Duration::from_secs(40);

async fn state() -> Result<AppState, lambda_http::Error> {
    observe::init_logging();
    let config = Config::from_env().inspect_err(|e| tracing::error!(error = %e, "refusing to start"))?;
    Ok(AppState::from_config(config)
        .await
        .inspect_err(|e| tracing::error!(error = %e, "refusing to start"))?)
}

/// Builds the state once, then serves the group's routes for every invocation.
pub async fn run(routes: fn() -> Routes) -> Result<(), lambda_http::Error> {
    lambda_http::run(serve(routes(), state().await?)).await
}

/// What a function does with a payload that is not an HTTP request, if it is one it knows:
/// `{"roster": "sweep"}` (the 5-minute schedule) runs the background jobs.
pub async fn background(state: &AppState, payload: &Value) -> Option<Result<Value, Error>> {
    if payload.get("roster").and_then(Value::as_str) != Some("sweep") {
        return None;
    }
    let until = tokio::time::Instant::now() + SWEEP_BUDGET;
    Some(crate::jobs::sweep(state, until).await.and_then(|report| {
        tracing::info!(found = report.found, finished = report.finished, "sweep");
        serde_json::to_value(report).map_err(|e| Error::Internal(e.to_string()))
    }))
}

/// `run`, for the function that also receives the sweep schedule: background payloads go
/// to the jobs, everything else to the HTTP adapter as `run` would.
pub async fn run_with_jobs(routes: fn() -> Routes) -> Result<(), lambda_http::Error> {
    use lambda_http::lambda_runtime::{service_fn, LambdaEvent};
    use lambda_http::request::LambdaRequest;
    use lambda_http::tower::ServiceExt;
    let state = state().await?;
    let router = serve(routes(), state.clone());
    lambda_http::lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let (state, router) = (state.clone(), router.clone());
        async move {
            let LambdaEvent { payload, context } = event;
            if let Some(done) = background(&state, &payload).await {
                return done.map_err(lambda_http::Error::from);
            }
            let request: LambdaRequest = serde_json::from_value(payload)?;
            let adapter = lambda_http::Adapter::from(router);
            let response = adapter.oneshot(LambdaEvent::new(request, context)).await?;
            Ok::<Value, lambda_http::Error>(serde_json::to_value(response)?)
        }
    }))
    .await
}
