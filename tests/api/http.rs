//! The envelope and error mapping every route shares.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::on_every_store;
use crate::support::{TestApp, DEFAULT_IP};

async fn an_unknown_route_is_a_json_404(app: TestApp) {
    let res = app.get("/user/no_such_thing/at/all").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.code(), 404);
}

async fn a_wrong_method_is_a_json_405(app: TestApp) {
    let res = app.request(Method::DELETE, "/user/send_code", None, DEFAULT_IP).await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.code(), 405);
}

async fn malformed_json_is_a_400_naming_the_body(app: TestApp) {
    let req = axum::http::Request::post("/user/send_code")
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{\"region\": 86,"))
        .unwrap();
    let res = app.send(req, DEFAULT_IP).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.body["field"], "body");
}

async fn every_response_carries_a_request_id(app: TestApp) {
    let res = app.post("/user/check_phone_available", json!({"region": 86})).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.body["field"], "phone");
    let id = res.headers.get("x-request-id").expect("x-request-id").to_str().unwrap();
    assert_eq!(id.len(), 24);
}

on_every_store!(
    an_unknown_route_is_a_json_404,
    a_wrong_method_is_a_json_405,
    malformed_json_is_a_400_naming_the_body,
    every_response_carries_a_request_id,
);
