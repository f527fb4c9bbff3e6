//! Turning a group's routes into a router: JSON 404 and 405, request ids and logs.

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

/// Wraps routes with what every response needs: JSON 404/405, request ids and logs.
pub fn serve(routes: Routes, state: AppState) -> Router {
    let mut router = Router::new();
    for (path, method_router) in routes {
        router = router.route(path, method_router);
    }
    router
        .route_layer(axum::middleware::from_fn(observe::record_route))
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(axum::middleware::from_fn(observe::request_context))
        .with_state(state)
}
