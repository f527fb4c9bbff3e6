//! Logs are JSON with a request id and never hold codes, tokens or whole phone numbers;
//! internal failures answer 500 with the request id and nothing internal.

use std::io::Write;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::http::StatusCode;
use roster::ports::{Condition, Item, Key, Page, Query, Store, StoreError, TxOp, Update};
use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;

use crate::on_every_store;
use crate::support::{new_phone, phone_body, TestApp};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_writer(captured.clone())
        // The most a deployment can ask for: RUST_LOG=trace.
        .with_env_filter(roster::http::observe::log_filter("trace"))
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    (captured, guard)
}

async fn logs_hold_request_ids_but_no_codes_tokens_or_phone_numbers(app: TestApp) {
    let (captured, _guard) = capture();
    let (national, e164) = new_phone();
    assert_eq!(app.post("/user/send_code", phone_body(&national)).await.code(), 200);
    let code = app.last_code(&e164).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    app.post(
        "/user/verify_code",
        json!({"region": 86, "phone": national, "code": wrong}),
    )
    .await;
    let res = app
        .post(
            "/user/verify_code",
            json!({"region": 86, "phone": national, "code": code}),
        )
        .await;
    let token = res.body["result"]["verification_token"].as_str().unwrap().to_string();

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON log line"))
        .collect();
    let served: Vec<_> = lines.iter().filter(|l| l["fields"]["message"] == "served").collect();
    assert_eq!(served.len(), 3, "{text}");
    for l in &served {
        assert_eq!(l["span"]["request_id"].as_str().map(str::len), Some(24), "{l}");
        assert!(l["span"]["route"].as_str().unwrap().starts_with("/user/"), "{l}");
    }
    for secret in [national.as_str(), code.as_str(), wrong, token.as_str()] {
        assert!(!text.contains(secret), "log holds {secret}: {text}");
    }
    assert!(
        text.contains(&format!("+86*******{}", &national[7..])),
        "masked phone expected in {text}"
    );
}

/// A store whose backend fails with a message that must never reach a client.
struct BrokenStore;

fn broken() -> StoreError {
    StoreError::Backend("connection to db-internal.example:5432 refused (table roster-prod)".into())
}

#[async_trait]
impl Store for BrokenStore {
    async fn get(&self, _: &Key) -> Result<Option<Item>, StoreError> {
        Err(broken())
    }
    async fn put(&self, _: Item, _: Option<Condition>) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn update(&self, _: &Key, _: Vec<Update>, _: Option<Condition>) -> Result<Item, StoreError> {
        Err(broken())
    }
    async fn delete(&self, _: &Key, _: Option<Condition>) -> Result<Option<Item>, StoreError> {
        Err(broken())
    }
    async fn query(&self, _: Query) -> Result<Page, StoreError> {
        Err(broken())
    }
    async fn transact_write(&self, _: Vec<TxOp>) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn batch_get(&self, _: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        Err(broken())
    }
}

async fn an_internal_failure_is_a_500_with_the_request_id_and_no_detail(app: TestApp) {
    let state = roster::app::AppState::new(roster::app::Services {
        config: app.state.config.clone(),
        store: Arc::new(BrokenStore),
        sms: app.state.sms.clone(),
        uploads: app.state.uploads.clone(),
        clock: app.state.clock.clone(),
        random: app.state.random.clone(),
        code_key: app.state.code_key.clone(),
        tokens: app.state.tokens.clone(),
        local: None,
    });
    let router = roster::local::router(state);
    let (national, _) = new_phone();
    let req = axum::http::Request::post("/user/send_code")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(phone_body(&national).to_string()))
        .unwrap();
    let (captured, _guard) = capture();
    let body = crate::support::call(router, req).await;
    assert_eq!(body["code"], 500);
    assert_eq!(body["message"], "internal error");
    let id = body["requestId"].as_str().unwrap();
    assert!(!body.to_string().contains("db-internal"), "{body}");
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("db-internal") && logs.contains(id),
        "the detail is logged under the id: {logs}"
    );
    let _ = StatusCode::INTERNAL_SERVER_ERROR;
}

on_every_store!(
    logs_hold_request_ids_but_no_codes_tokens_or_phone_numbers,
    an_internal_failure_is_a_500_with_the_request_id_and_no_detail,
);
