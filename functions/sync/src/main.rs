//! Lambda for the `sync` endpoint group, which also runs the background jobs when the
//! 5-minute schedule invokes it with `{"roster": "sweep"}`.
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::lambda::run_with_jobs(roster::sync::routes).await
}
