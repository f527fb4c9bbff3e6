//! Lambda for the `codes` endpoint group.
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::lambda::run(roster::codes::routes).await
}
