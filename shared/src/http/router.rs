//! Turning a group's routes into a router: JSON 404 and 405, request ids and logs.

use axum::http::header::CACHE_CONTROL;
use axum::http::HeaderValue;
use axum::routing::MethodRouter;
use axum::Router;

use super::{observe, Error};
use crate::state::AppState;

/// A group's routes: path template and the methods it answers.
pub type Routes = Vec<(&'static str, MethodRouter<AppState>)>;

async fn no_route(method: axum::http::Method, uri: axum::http::Uri) -> Error {
    Error::NotFound(format!("no route for {method} {}", uri.path()))
}

async fn wrong_method(method: axum::http::Method) -> axum::response::Response {
    super::error::json_response(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        serde_json::json!({ "code": 405, "message": format!("method {method} is not allowed here") }),
    )
}

/// CORS for the configured web origins, with credentials (the session cookie); none
/// when no origin is configured. Preflight requests are answered here, before routing.
fn cors(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{header, Method};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_credentials(true)
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
            .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
            .expose_headers([header::RETRY_AFTER, header::HeaderName::from_static("x-request-id")])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// gzip for answers over 1 KiB when the client accepts it (lists, sync pages, the region
/// table); smaller ones cost more to compress than they save.
fn compression() -> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate + Clone> {
    use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
    tower_http::compression::CompressionLayer::new()
        .gzip(true)
        .compress_when(SizeAbove::new(1024).and(NotForContentType::IMAGES))
}

/// Wraps routes with what every response needs: JSON 404/405, request ids and logs.
pub fn serve(routes: Routes, state: AppState) -> Router {
    let mut router = Router::new();
    for (path, method_router) in routes {
        router = router.route(path, method_router);
    }
    let router = router
        .route_layer(axum::middleware::from_fn(observe::record_route))
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(axum::middleware::from_fn(finish_response))
        .layer(compression())
        .layer(axum::middleware::from_fn(observe::request_context));
    let router = match cors(&state.config.cors_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    };
    router.with_state(state)
}

/// `Cache-Control` for a response anyone may cache for `max_age_secs` (static data).
pub fn cacheable(mut res: axum::response::Response, max_age_secs: u32) -> axum::response::Response {
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={max_age_secs}")) {
        res.headers_mut().insert(CACHE_CONTROL, v);
    }
    res
}

/// A static answer, serialized once per process, with its entity tag.
pub struct StaticJson {
    body: axum::body::Bytes,
    etag: HeaderValue,
}

impl StaticJson {
    /// The envelope `{"code":200,"result":…}` around `result`.
    pub fn new(result: impl serde::Serialize) -> StaticJson {
        StaticJson::raw(serde_json::json!({ "code": 200, "result": result }).to_string())
    }

    /// A JSON document served as is (a key set, the OpenAPI document).
    pub fn raw(body: String) -> StaticJson {
        let tag = format!("\"{}\"", &crate::crypto::digest(&body)[..16]);
        StaticJson {
            etag: HeaderValue::from_str(&tag).unwrap_or(HeaderValue::from_static("\"0\"")),
            body: axum::body::Bytes::from(body),
        }
    }

    /// The bytes, or 304 when the client's `If-None-Match` names this version; cacheable
    /// for `max_age_secs` either way.
    pub fn answer(&self, headers: &axum::http::HeaderMap, max_age_secs: u32) -> axum::response::Response {
        use axum::http::header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH};
        use axum::response::IntoResponse;
        let matches = headers
            .get_all(IF_NONE_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim() == "*" || t.trim().trim_start_matches("W/").as_bytes() == self.etag.as_bytes());
        let mut res = if matches {
            axum::http::StatusCode::NOT_MODIFIED.into_response()
        } else {
            let mut res = self.body.clone().into_response();
            res.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            res
        };
        res.headers_mut().insert(ETAG, self.etag.clone());
        cacheable(res, max_age_secs)
    }
}

/// What every answer gets on its way out (one layer, not two: each layer costs a boxed
/// future per request).
async fn finish_response(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let res = json_errors(next.run(req).await).await;
    no_store_unless_cacheable(res)
}

/// Responses carry personal data or credentials unless a handler marked them cacheable:
/// no shared or browser cache may keep them.
fn no_store_unless_cacheable(mut res: axum::response::Response) -> axum::response::Response {
    if !res.headers().contains_key(CACHE_CONTROL) {
        res.headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Every error the application answers is JSON in the envelope, including the plain-text
/// rejections of axum's extractors (a body over the size limit, a path that is not
/// UTF-8): their status is kept, their text becomes the message.
async fn json_errors(res: axum::response::Response) -> axum::response::Response {
    use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
    let status = res.status();
    let is_json = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if status.as_u16() < 400 || is_json {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    // Rejection texts are short; anything longer is cut rather than buffered.
    let text = match axum::body::to_bytes(body, 4096).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_string(),
        Err(_) => String::new(),
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_lowercase()
    } else {
        text
    };
    let json = super::error::json_response(
        status,
        serde_json::json!({ "code": status.as_u16(), "message": message }),
    );
    parts.headers.remove(CONTENT_LENGTH);
    parts.headers.remove(CONTENT_TYPE);
    let (json_parts, json_body) = json.into_parts();
    parts.headers.extend(json_parts.headers);
    axum::response::Response::from_parts(parts, json_body)
}
