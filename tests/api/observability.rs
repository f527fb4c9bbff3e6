//! Logs are JSON with a request id and never hold codes, tokens or whole phone numbers;
//! internal failures answer 500 with the request id and nothing internal.

use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::support::stores::Broken;
use axum::http::StatusCode;
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
    use tracing_subscriber::layer::SubscriberExt;
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_writer(captured.clone())
        .finish()
        // The most a deployment can ask for: RUST_LOG=trace.
        .with(roster::http::observe::log_filter("trace"));
    let guard = tracing::subscriber::set_default(subscriber);
    // Tests on other threads may have had callsites' interest cached while no capturing
    // subscriber was alive ("never"): ask every callsite again, with this one in place.
    tracing::callsite::rebuild_interest_cache();
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

/// A store whose backend fails with a message that must never reach a client: an outage
/// is a 503 (retry), with the request id and nothing internal.
async fn a_store_outage_is_a_503_with_the_request_id_and_no_detail(app: TestApp) {
    let router = app.router_with_store(Arc::new(Broken));
    let (national, _) = new_phone();
    let req = axum::http::Request::post("/user/send_code")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(phone_body(&national).to_string()))
        .unwrap();
    let (captured, _guard) = capture();
    let body = crate::support::call(router, req).await;
    assert_eq!(body["code"], 503);
    assert_eq!(body["message"], "the store is unavailable: nothing was written, retry");
    let id = body["requestId"].as_str().unwrap();
    assert!(!body.to_string().contains("db-internal"), "{body}");
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("db-internal") && logs.contains(id),
        "the detail is logged under the id: {logs}"
    );
}

/// A stored item that does not decode is our bug: a 500 whose log names the item's key,
/// never a default (a missing session kind read as "cookie", say) and never a client 400.
async fn a_stored_item_that_does_not_decode_is_a_500_naming_its_key_in_the_log(app: TestApp) {
    let user = app.registered().await;
    let session_id = user.cookie.split('.').nth(1).unwrap().to_string();
    let key = roster::store::sessions::key(&roster::domain::UserId::parse("id", &user.id).unwrap(), &session_id);
    app.state
        .store
        .update(&key, vec![roster::ports::Update::Remove("kind".into())], None)
        .await
        .unwrap();
    let (captured, _guard) = capture();
    let res = app.as_user(&user).get("/user/get_token").await;
    assert_eq!(res.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", res.body);
    assert_eq!(res.body["message"], "internal error");
    assert!(!res.body.to_string().contains("SESSION#"), "{}", res.body);
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains(&format!("{}/{}", key.pk, key.sk)) && logs.contains("kind"),
        "the log names the item and the attribute: {logs}"
    );
}

on_every_store!(
    a_stored_item_that_does_not_decode_is_a_500_naming_its_key_in_the_log,
    logs_hold_request_ids_but_no_codes_tokens_or_phone_numbers,
    a_store_outage_is_a_503_with_the_request_id_and_no_detail,
);
