//! Request ids and structured JSON logs. Log lines carry the route template (never the
//! raw path, which can hold a phone number), status and latency; handlers log only
//! masked values.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use lambda_http::request::RequestContext;
use tracing::Instrument;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served, for error bodies.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(|id| id.clone()).ok()
}

/// 24 hex digits: a random base drawn once per process, plus a counter. Unique without a
/// system call per request (the request id is a label, not a secret).
fn fresh_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static BASE: std::sync::OnceLock<(u64, u32)> = std::sync::OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let (high, low) = *BASE.get_or_init(|| {
        use crate::ports::Random;
        let (mut high, mut low) = ([0u8; 8], [0u8; 4]);
        crate::ports::OsRandom.fill(&mut high);
        crate::ports::OsRandom.fill(&mut low);
        (u64::from_le_bytes(high), u32::from_le_bytes(low))
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{:016x}{:08x}", high.wrapping_add(n), low)
}

/// Gives each request an id (API Gateway's own when there is one), logs one line per
/// request, and returns the id in `x-request-id`.
pub async fn request_context(req: Request, next: Next) -> Response {
    let id = match req.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone().unwrap_or_else(fresh_id),
        _ => fresh_id(),
    };
    let method = req.method().clone();
    let span = tracing::info_span!("request", request_id = %id, method = %method, route = tracing::field::Empty);
    let started = Instant::now();
    let mut res = REQUEST_ID
        .scope(id.clone(), next.run(req).instrument(span.clone()))
        .await;
    span.in_scope(|| {
        tracing::info!(
            status = res.status().as_u16(),
            latency_ms = started.elapsed().as_millis() as u64,
            "served"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

/// Records the matched route template on the request span (routing happens inside the
/// outer layer, so only a route layer can see it).
pub async fn record_route(req: Request, next: Next) -> Response {
    if let Some(m) = req.extensions().get::<MatchedPath>() {
        tracing::Span::current().record("route", m.as_str());
    }
    next.run(req).await
}

/// Dependencies that log request bodies (which hold phone numbers) at debug and trace:
/// they stay at info whatever `RUST_LOG` asks for.
const QUIET_TARGETS: &str = "aws_smithy_runtime=info,aws_smithy_runtime_api=info,aws_smithy_http=info,\
aws_sdk_dynamodb=info,aws_sdk_sns=info,aws_sdk_s3=info,aws_config=info,aws_sigv4=info,hyper=info,hyper_util=info,h2=info,\
lambda_runtime=info,lambda_http=info";

/// The log filter: `requested` (or `info`) for Roster, capped for chatty dependencies.
/// `Targets` takes `RUST_LOG`'s `level` and `target=level` directives without the regex
/// engine `EnvFilter` links (two tenths of a megabyte in every function).
pub fn log_filter(requested: &str) -> tracing_subscriber::filter::Targets {
    let base = if requested.trim().is_empty() {
        "info"
    } else {
        requested.trim()
    };
    // A directive only EnvFilter knows (span or field filters) falls back to `info`.
    format!("{base},{QUIET_TARGETS}")
        .parse()
        .or_else(|_| format!("info,{QUIET_TARGETS}").parse())
        .unwrap_or_default()
}

/// JSON logs to stdout (CloudWatch on Lambda). `RUST_LOG` filters; default `info`.
pub fn init_logging() {
    use tracing_subscriber::layer::SubscriberExt;
    let requested = std::env::var("RUST_LOG").unwrap_or_default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .finish()
        .with(log_filter(&requested));
    let _ = tracing::subscriber::set_global_default(subscriber);
}

#[cfg(test)]
mod tests {
    use super::fresh_id;

    #[test]
    fn request_ids_are_24_hex_digits_and_never_repeat_across_threads() {
        let ids: Vec<String> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..4)
                .map(|_| s.spawn(|| (0..2000).map(|_| fresh_id()).collect::<Vec<_>>()))
                .collect();
            workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
        });
        assert!(ids
            .iter()
            .all(|id| id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit())));
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
    }
}
