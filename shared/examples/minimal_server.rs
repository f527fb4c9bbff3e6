//! The physical limit a route is measured against (`scripts/bench/ratio.py`): axum
//! answering a constant JSON on the paths of `GET /user/{id}` and `GET /user/get_token`,
//! with the same runtime and the same release profile as the local server, and nothing
//! else: no store, no session, no logging.
//!
//! `ROSTER_PORT=7990 cargo run --release -p roster --example minimal_server`

use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use axum::Router;

const USER: &str = r#"{"code":200,"result":{"id":"Xy3kQ9vLm2PzR8tW","nickname":"Ann","portraitUri":"","gender":"female","stAccount":"","phone":"","region":"86","isDeleted":false}}"#;
const TOKEN: &str = r#"{"code":200,"result":{"userId":"Xy3kQ9vLm2PzR8tW","token":"eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJyb3N0ZXIiLCJhdWQiOiJyb3N0ZXItaW0iLCJzdWIiOiJYeTNrUTl2TG0yUHpSOHRXIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjE3MDAwMDA5MDB9.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmUtc2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU"}}"#;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("ROSTER_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(7990);
    let app = Router::new()
        .route(
            "/user/get_token",
            get(|| async { ([(CONTENT_TYPE, "application/json")], TOKEN) }),
        )
        .route(
            "/user/{id}",
            get(|| async { ([(CONTENT_TYPE, "application/json")], USER) }),
        );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await
}
