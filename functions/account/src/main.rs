//! Lambda for the `account` endpoint group.
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::lambda::run(roster::account::routes).await
}
