//! Local mode: every group on one port, plus routes that exist only here — the outbox
//! of messages that were "sent", and the target of local presigned uploads.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use crate::adapters::local_uploads::{LocalUploadError, LocalUploads};
use crate::http::error::json_response;
use crate::http::{ok_with, ApiResult, Error};
use crate::http::{serve, Routes};
use crate::state::{AppState, LocalAdapters};

pub fn local_routes() -> Routes {
    vec![
        ("/_local/outbox", get(outbox)),
        ("/_local/uploads/{*key}", get(download).put(upload)),
    ]
}

/// Every endpoint group, as the local server merges them. The one list of groups: a
/// Lambda function serves one of them (`functions/<group>`).
pub fn all_groups() -> Vec<(&'static str, Routes)> {
    vec![
        ("codes", crate::codes::routes()),
        ("account", crate::account::routes()),
        ("profile", crate::profile::routes()),
        ("relations", crate::relations::routes()),
        ("groups", crate::groups::routes()),
        ("sync", crate::sync::routes()),
    ]
}

/// All groups and the local routes, as one router, with the API's documentation.
pub fn router(state: AppState) -> Router {
    let mut routes = local_routes();
    for (_, group) in all_groups() {
        routes.extend(group);
    }
    serve(routes, state).merge(documentation())
}

/// `/openapi.json`, and with the `docs` feature `/docs`: Swagger UI, whose scripts and
/// styles the `swagger-ui-dist` crate compiles in, so the page needs no network.
fn documentation() -> Router {
    let router = Router::new().route("/openapi.json", get(openapi_json));
    #[cfg(feature = "docs")]
    let router = router.merge(swagger_ui_dist::generate_routes(swagger_ui_dist::ApiDefinition {
        uri_prefix: "/docs",
        api_definition: swagger_ui_dist::OpenApiSource::Uri("/openapi.json"),
        title: Some("Roster API"),
    }));
    router
}

async fn openapi_json(headers: axum::http::HeaderMap) -> Response {
    static DOC: std::sync::OnceLock<Result<crate::http::StaticJson, String>> = std::sync::OnceLock::new();
    match DOC.get_or_init(|| crate::openapi::document().map(|d| crate::http::StaticJson::raw(d.to_string()))) {
        Ok(doc) => doc.answer(&headers, 300),
        Err(e) => crate::http::error::internal(e),
    }
}

/// The background jobs, as the 5-minute schedule runs them on AWS: at start, then every
/// 5 minutes, for as long as the server runs.
pub fn sweep_every_5_minutes(state: AppState) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(300));
        loop {
            every.tick().await;
            let until = tokio::time::Instant::now() + Duration::from_secs(60);
            match crate::jobs::sweep(&state, until).await {
                Ok(r) => tracing::info!(found = r.found, finished = r.finished, "sweep"),
                Err(e) => tracing::error!(error = %e, "sweep failed; the next one retries"),
            }
        }
    });
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
    #[serde(default)]
    content_length: Option<u64>,
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
    let path = match uploads.verify(&key, &p.content_type, p.content_length, p.expires, &p.signature) {
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
    // A signed length is part of the deal, as S3 enforces it.
    if p.content_length.is_some_and(|n| n != body.len() as u64) {
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
    if !LocalUploads::is_safe_key(&key) {
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

/// The local server's patience with slow clients.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// How long a client may take to send a request's headers before the connection
    /// closes (slow-header clients would otherwise hold connections open for ever).
    pub header_read: Duration,
    /// How long one request may take, its body included, before it is answered 503.
    pub request: Duration,
    /// How long in-flight requests may finish after SIGTERM or Ctrl-C.
    pub drain: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header_read: Duration::from_secs(10),
            request: Duration::from_secs(30),
            drain: Duration::from_secs(30),
        }
    }
}

/// Answers a request that runs past its time (a body that never arrives, say) with a
/// JSON 503 instead of holding the connection.
async fn request_timeout(limit: Duration, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({ "code": 503, "message": "the request took too long (its body did not arrive?)" }),
        ),
    }
}

/// The connection as hyper sees it, with one change: hyper answers a request it cannot
/// parse (a bad request line or header: 400, headers too large: 431, a URI too long:
/// 414) itself, before any request reaches the application, with an empty body. This
/// rewrites that one automatic answer into the JSON envelope every other error has. The
/// application's own 4xx always carry a JSON body, so an empty 4xx can only be hyper's.
struct JsonParseErrors<T> {
    inner: T,
    /// Rewritten bytes not yet written to `inner` (hyper was told they were).
    pending: Vec<u8>,
}

impl<T> JsonParseErrors<T> {
    fn new(inner: T) -> Self {
        JsonParseErrors { inner, pending: vec![] }
    }

    /// The JSON version of an automatic empty error answer, if `head` is one.
    fn rewrite(head: &[u8]) -> Option<Vec<u8>> {
        let text = std::str::from_utf8(head).ok()?;
        if !text.ends_with("\r\n\r\n") || !text.to_ascii_lowercase().contains("\r\ncontent-length: 0\r\n") {
            return None;
        }
        let status: u16 = text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()?;
        if !matches!(status, 400 | 414 | 431) {
            return None;
        }
        let reason = StatusCode::from_u16(status).ok()?.canonical_reason()?.to_lowercase();
        let body = serde_json::json!({ "code": status, "message": format!("the request could not be read: {reason}") })
            .to_string();
        Some(
            format!(
                "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
        )
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> JsonParseErrors<T> {
    fn poll_pending(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
        while !self.pending.is_empty() {
            let n = std::task::ready!(std::pin::Pin::new(&mut self.inner).poll_write(cx, &self.pending))?;
            if n == 0 {
                return std::task::Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
            }
            self.pending.drain(..n);
        }
        std::task::Poll::Ready(Ok(()))
    }
}

impl<T: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for JsonParseErrors<T> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for JsonParseErrors<T> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::ready!(self.poll_pending(cx))?;
        if let Some(json) = Self::rewrite(buf) {
            self.pending = json;
            // Best effort now; flush and shutdown finish it.
            let _ = self.poll_pending(cx);
            return std::task::Poll::Ready(Ok(buf.len()));
        }
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::ready!(self.poll_pending(cx))?;
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::ready!(self.poll_pending(cx))?;
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// SIGTERM (how process managers stop a server) or Ctrl-C.
async fn stop_requested() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Serves on 127.0.0.1 until SIGTERM or Ctrl-C, then lets in-flight requests finish.
pub async fn serve_local(state: AppState, port: u16, timeouts: Timeouts) -> Result<(), ServeError> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt;

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            ServeError::PortInUse(port)
        } else {
            ServeError::Listen(port, e)
        }
    })?;
    let addr = listener.local_addr().map_err(ServeError::Serve)?;
    println!("Roster is listening on http://{addr}");
    let app = router(state).layer(axum::middleware::from_fn(move |req, next| {
        request_timeout(timeouts.request, req, next)
    }));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop_requested());
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // A connection that failed before it was accepted (reset, out of files).
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let app = app.clone();
        let service = tower::service_fn(move |mut req: axum::http::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            app.clone().oneshot(req.map(axum::body::Body::new))
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(timeouts.header_read)
            .serve_connection(
                TokioIo::new(JsonParseErrors::new(stream)),
                TowerToHyperService::new(service),
            );
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
    println!("Roster is stopping: finishing requests in flight");
    drop(listener);
    if tokio::time::timeout(timeouts.drain, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still in flight after the drain timeout were cut");
    }
    Ok(())
}
