//! Local mode: every group on one port, plus routes that exist only here — the outbox
//! of messages that were "sent", and the target of local presigned uploads.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use crate::adapters::local_uploads::LocalUploadError;
use crate::http::{serve, Routes};
use crate::state::{AppState, LocalAdapters};
use crate::http::error::json_response;
use crate::http::{ok_with, ApiResult, Error};

pub fn local_routes() -> Routes {
    vec![
        ("/_local/outbox", get(outbox)),
        ("/_local/uploads/{*key}", get(download).put(upload)),
    ]
}

/// Every endpoint group, as the local server merges them. The one list of groups: a
/// Lambda function serves one of them (`functions/<group>`).
pub fn all_groups() -> Vec<(&'static str, Routes)> {
    vec![("codes", crate::codes::routes()), ("account", crate::account::routes())]
}

/// All groups and the local routes, as one router.
pub fn router(state: AppState) -> Router {
    let mut routes = local_routes();
    for (_, group) in all_groups() {
        routes.extend(group);
    }
    serve(routes, state)
}

fn local(state: &AppState) -> Result<&LocalAdapters, Error> {
    state
        .local
        .as_ref()
        .ok_or_else(|| Error::NotFound("local routes are off".into()))
}

async fn outbox(State(state): State<AppState>) -> ApiResult {
    ok_with(local(&state)?.outbox.list()?)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UploadParams {
    expires: i64,
    content_type: String,
    signature: String,
}

fn upload_refused(e: LocalUploadError) -> Response {
    json_response(
        StatusCode::FORBIDDEN,
        serde_json::json!({ "code": 403, "message": e.to_string() }),
    )
}

async fn upload(
    State(state): State<AppState>,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Response, Error> {
    let uploads = &local(&state)?.uploads;
    let p: UploadParams = serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
        .map_err(|_| crate::domain::ValidationError::new("query", "must hold expires, contentType and signature"))?;
    let path = match uploads.verify(&key, &p.content_type, p.expires, &p.signature) {
        Ok(path) => path,
        Err(e) => return Ok(upload_refused(e)),
    };
    let sent_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if sent_type != p.content_type {
        return Ok(upload_refused(LocalUploadError::BadSignature));
    }
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| Error::Internal(e.to_string()))?;
    }
    tokio::fs::write(&path, &body)
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
    tokio::fs::write(path.with_extension("content-type"), &p.content_type)
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(StatusCode::OK.into_response())
}

async fn download(State(state): State<AppState>, Path(key): Path<String>) -> Result<Response, Error> {
    let uploads = &local(&state)?.uploads;
    if key.split('/').any(|p| p.is_empty() || p == "." || p == "..") {
        return Err(Error::NotFound("no such upload".into()));
    }
    let path = uploads.path_of(&key);
    let body = tokio::fs::read(&path)
        .await
        .map_err(|_| Error::NotFound("no such upload".into()))?;
    let ct = tokio::fs::read_to_string(path.with_extension("content-type"))
        .await
        .unwrap_or_else(|_| "application/octet-stream".into());
    Ok(([(header::CONTENT_TYPE, ct)], body).into_response())
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("port {0} on 127.0.0.1 is already in use: stop the other server or set ROSTER_PORT")]
    PortInUse(u16),
    #[error("cannot listen on 127.0.0.1:{0}: {1}")]
    Listen(u16, std::io::Error),
    #[error("server stopped: {0}")]
    Serve(std::io::Error),
}

/// Serves on 127.0.0.1 until Ctrl-C.
pub async fn serve_local(state: AppState, port: u16) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            ServeError::PortInUse(port)
        } else {
            ServeError::Listen(port, e)
        }
    })?;
    let addr = listener.local_addr().map_err(ServeError::Serve)?;
    println!("Roster is listening on http://{addr}");
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(ServeError::Serve)
}
