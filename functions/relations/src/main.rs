//! Lambda for the `relations` endpoint group.
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::lambda::run(roster::relations::routes).await
}
