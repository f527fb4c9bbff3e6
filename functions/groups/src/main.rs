//! Lambda for the `groups` endpoint group.
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::lambda::run(roster::groups::routes).await
}
