//! The OpenAPI document and the routers agree: every route a router serves is in the
//! document with exactly its methods, the document has nothing else, every reference
//! resolves, and the local server serves the document and an offline documentation page.
//! (That every answer of every scenario fits the document is checked in the harness,
//! `support::contract`.)

mod support;

use std::collections::BTreeSet;

use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use support::contract::document;
use support::{StoreKind, TestApp};
use tower::ServiceExt;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// (METHOD, path) of every operation in the document.
fn documented() -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in document()["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method).is_some() {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

#[tokio::test]
async fn every_served_route_is_in_the_document_and_nothing_else_is() {
    let mut groups = roster::local::all_groups();
    groups.push(("local", roster::local::local_routes()));
    let served: BTreeSet<(String, String)> = support::served_routes(groups)
        .await
        .into_iter()
        // The router's wildcard `{*key}` is OpenAPI's `{key}`.
        .map(|(_, method, path)| (method, path.replace("{*", "{")))
        .collect();
    let documented = documented();
    let missing: Vec<_> = served.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&served).collect();
    assert!(
        missing.is_empty(),
        "served but not in the OpenAPI document: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "in the OpenAPI document but served by no router: {extra:?}"
    );
    assert!(served.len() >= 100, "{}", served.len());
}

fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r);
            }
            m.values().for_each(|v| refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves_and_every_operation_is_complete() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut all = vec![];
    refs(doc, &mut all);
    for r in &all {
        assert!(
            r.starts_with("#/") && doc.pointer(&r[1..]).is_some(),
            "$ref {r} does not resolve"
        );
    }
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path}: no operationId"));
            assert!(ids.insert(id.to_string()), "operationId {id} is used twice");
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.contains_key("200") || responses.contains_key("204"),
                "{method} {path}: no success answer"
            );
            // Every route that takes a body can be sent a malformed one.
            if method == "post" && !path.starts_with("/_local") {
                assert!(responses.contains_key("400"), "{method} {path}: no 400");
            }
            // Every route that reads the store can find it down.
            if !path.starts_with("/_local") && path != "/.well-known/jwks.json" && path != "/user/regionlist" {
                assert!(responses.contains_key("503"), "{method} {path}: no 503");
            }
        }
    }
}

#[tokio::test]
async fn the_local_server_serves_the_document_with_its_tag() {
    let app = TestApp::spawn(StoreKind::Sqlite).await;
    let res = app
        .router
        .clone()
        .oneshot(Request::get("/openapi.json").body(axum::body::Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res.headers()["etag"].clone();
    let served: Value = serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(&served, document());
    let again = app
        .router
        .clone()
        .oneshot(
            Request::get("/openapi.json")
                .header("if-none-match", etag)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
}

/// The documentation page (the `docs` feature, on in the local server's default build).
#[cfg(feature = "docs")]
#[tokio::test]
async fn the_documentation_page_loads_nothing_from_elsewhere() {
    let app = TestApp::spawn(StoreKind::Sqlite).await;
    let page = app
        .router
        .clone()
        .oneshot(Request::get("/docs/").body(axum::body::Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = String::from_utf8(page.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(html.contains("/openapi.json"), "{html}");
    // Every script and style comes from this server.
    for attr in ["src=\"", "href=\""] {
        for (i, _) in html.match_indices(attr) {
            let url = &html[i + attr.len()..];
            assert!(
                !url.starts_with("http") && !url.starts_with("//"),
                "a remote asset: {url:.60}"
            );
        }
    }
    for asset in ["/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"] {
        let res = app
            .router
            .clone()
            .oneshot(Request::get(asset).body(axum::body::Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{asset}");
        let len = res.into_body().collect().await.unwrap().to_bytes().len();
        assert!(len > 10_000, "{asset} is {len} bytes");
    }
}
