//! Lambda for the `profile` endpoint group.
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::lambda::run(roster::profile::routes).await
}
