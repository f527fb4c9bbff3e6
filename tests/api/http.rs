//! The envelope and error mapping every route shares.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::on_every_store;
use crate::support::users::{set_cookie, PASSWORD};
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

async fn personal_responses_are_no_store_and_static_data_is_cacheable(app: TestApp) {
    let user = app.registered().await;
    for res in [
        app.as_user(&user).get("/user/get_token").await,
        app.as_user(&user).get("/user/sessions").await,
        app.login(&user, PASSWORD).await,
        app.post(
            "/user/check_phone_available",
            json!({"region": 86, "phone": user.national}),
        )
        .await,
        app.get("/user/get_token").await,
    ] {
        assert_eq!(res.headers["cache-control"], "no-store", "{}", res.body);
    }
    for path in ["/user/regionlist", "/.well-known/jwks.json"] {
        let res = app.get(path).await;
        let cc = res.headers["cache-control"].to_str().unwrap();
        assert!(cc.starts_with("public, max-age="), "{path}: {cc}");
        let age: u32 = cc["public, max-age=".len()..].parse().unwrap();
        assert!(age >= 60, "{path}: {cc}");
    }
}

async fn registering_signs_in_with_the_same_cookie_as_a_login(app: TestApp) {
    let user = app.registered().await;
    let me = app.as_user(&user).get("/user/get_token").await;
    assert_eq!(me.code(), 200, "the registration's cookie is a session: {}", me.body);
    assert_eq!(me.body["result"]["userId"], user.id.as_str());
    // The same attributes as a login's cookie, value aside.
    let attrs = |c: String| c.split(';').skip(1).map(|a| a.trim().to_string()).collect::<Vec<_>>();
    let (_, _, token) = app.verified_phone(None).await;
    let registered = app
        .post(
            "/user/register",
            json!({"nickname": "Ann", "password": PASSWORD, "verification_token": token}),
        )
        .await;
    let login = app.login(&user, PASSWORD).await;
    assert_eq!(attrs(set_cookie(&registered)), attrs(set_cookie(&login)));
    assert_eq!(
        attrs(set_cookie(&login)),
        vec!["Path=/", "HttpOnly", "Secure", "SameSite=Lax", "Max-Age=2592000"]
    );
}

async fn a_configured_web_origin_can_call_with_credentials_and_others_cannot(app: TestApp) {
    let app = TestApp::spawn_with(app.kind, |c| c.cors_origins = vec!["https://web.example.com".into()]).await;
    let preflight = |origin: &str| {
        axum::http::Request::builder()
            .method(Method::OPTIONS)
            .uri("/user/login")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let res = app.send_raw(preflight("https://web.example.com")).await;
    assert!(res.status().is_success(), "{}", res.status());
    let h = res.headers();
    assert_eq!(h["access-control-allow-origin"], "https://web.example.com");
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert!(h["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    let res = app.send_raw(preflight("https://evil.example")).await;
    assert!(res.headers().get("access-control-allow-origin").is_none());
    // The actual request carries the headers too.
    let req = axum::http::Request::get("/user/regionlist")
        .header("origin", "https://web.example.com")
        .body(axum::body::Body::empty())
        .unwrap();
    let res = app.send_raw(req).await;
    assert_eq!(res.headers()["access-control-allow-origin"], "https://web.example.com");
    // Without configured origins, no CORS header is ever sent.
    let plain = TestApp::spawn(app.kind).await;
    let res = plain.send_raw(preflight("https://web.example.com")).await;
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

/// Rejections written by the framework (body too large, a path that is not UTF-8) come
/// back as JSON in the envelope like every other error.
async fn framework_rejections_are_json_too(app: TestApp) {
    let big =
        axum::http::Request::put("/_local/uploads/avatars/x/y.png?expires=1&contentType=image%2Fpng&signature=00")
            .header("content-type", "image/png")
            .body(axum::body::Body::from(vec![0u8; 3 * 1024 * 1024]))
            .unwrap();
    let res = app.send(big, DEFAULT_IP).await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", res.body);
    assert_eq!(res.code(), 413);
    let bad_path = axum::http::Request::get("/_local/uploads/%FF%FE")
        .body(axum::body::Body::empty())
        .unwrap();
    let res = app.send(bad_path, DEFAULT_IP).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
    assert_eq!(res.code(), 400);
    assert!(res.body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

/// The region list is built once and revalidated: an unchanged copy costs a 304.
async fn the_region_list_carries_an_etag_and_a_matching_one_is_304(app: TestApp) {
    let get = |etag: Option<&str>| {
        let mut req = axum::http::Request::get("/user/regionlist");
        if let Some(tag) = etag {
            req = req.header("if-none-match", tag);
        }
        let app = &app;
        let req = req.body(axum::body::Body::empty()).unwrap();
        async move { app.send_raw(req).await }
    };
    let first = get(None).await;
    assert_eq!(first.status(), StatusCode::OK);
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    let body = http_body_util::BodyExt::collect(first.into_body())
        .await
        .unwrap()
        .to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["code"], 200);
    assert!(json["result"].as_array().unwrap().len() > 100);

    let again = get(Some(&etag)).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    assert!(again.headers()["cache-control"].to_str().unwrap().starts_with("public"));
    let empty = http_body_util::BodyExt::collect(again.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert!(empty.is_empty());
    assert_eq!(
        get(Some("\"stale\"")).await.status(),
        StatusCode::OK,
        "another version is sent whole"
    );
}

async fn fetch_raw(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
) -> (axum::http::HeaderMap, StatusCode, Vec<u8>) {
    let mut req = axum::http::Request::get(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = app.send_raw(req.body(axum::body::Body::empty()).unwrap()).await;
    let (status, headers) = (res.status(), res.headers().clone());
    let body = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    (headers, status, body.to_vec())
}

/// Answers over 1 KiB travel gzipped to a client that accepts it; a client that does
/// not, and every smaller answer, get them as they are.
async fn large_answers_are_gzipped_when_the_client_accepts_it(app: TestApp) {
    let (headers, _, plain) = fetch_raw(&app, "/user/regionlist", &[]).await;
    assert!(headers.get("content-encoding").is_none());
    assert!(plain.len() > 1024);
    let (headers, status, packed) = fetch_raw(&app, "/user/regionlist", &[("accept-encoding", "gzip")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-encoding"], "gzip");
    assert!(packed.len() * 3 < plain.len(), "{} of {}", packed.len(), plain.len());
    let mut unpacked = vec![];
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&packed[..]), &mut unpacked).unwrap();
    assert_eq!(unpacked, plain);
    let (headers, _, small) = fetch_raw(&app, "/.well-known/jwks.json", &[("accept-encoding", "gzip")]).await;
    assert!(small.len() < 1024);
    assert!(
        headers.get("content-encoding").is_none(),
        "a small answer is sent as is"
    );
}

/// The key set is serialized once per process and revalidated by its tag.
async fn the_key_set_carries_an_etag_and_a_matching_one_is_304(app: TestApp) {
    let (headers, status, body) = fetch_raw(&app, "/.well-known/jwks.json", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let keys: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(keys["keys"][0]["alg"], "EdDSA");
    let etag = headers["etag"].to_str().unwrap().to_string();
    let (headers, status, body) = fetch_raw(&app, "/.well-known/jwks.json", &[("if-none-match", &etag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(headers["etag"].to_str().unwrap(), etag);
    assert!(headers["cache-control"].to_str().unwrap().contains("max-age=300"));
}

on_every_store!(
    the_region_list_carries_an_etag_and_a_matching_one_is_304,
    large_answers_are_gzipped_when_the_client_accepts_it,
    the_key_set_carries_an_etag_and_a_matching_one_is_304,
    framework_rejections_are_json_too,
    a_configured_web_origin_can_call_with_credentials_and_others_cannot,
    personal_responses_are_no_store_and_static_data_is_cacheable,
    registering_signs_in_with_the_same_cookie_as_a_login,
    an_unknown_route_is_a_json_404,
    a_wrong_method_is_a_json_405,
    malformed_json_is_a_400_naming_the_body,
    every_response_carries_a_request_id,
);
