//! Hosted captcha verification: the `siteverify` protocol Cloudflare Turnstile and
//! hCaptcha share (POST `secret`, `response`, `remoteip` as a form; `{"success": bool}`),
//! over the rustls HTTPS stack the AWS SDK already links.

use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{header, Method, Request, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::ports::{ChallengeError, ChallengeVerifier};

const TIMEOUT: Duration = Duration::from_secs(5);
/// A provider's answer is a small JSON object.
const MAX_ANSWER: usize = 64 * 1024;

pub struct SiteVerify {
    client: Client<HttpsConnector<HttpConnector>, Body>,
    url: Uri,
    secret: String,
}

impl SiteVerify {
    /// `url` is the provider's siteverify endpoint (plain `http` only for a local stand-in).
    pub fn new(url: &str, secret: &str) -> Result<Self, String> {
        let url: Uri = url.parse().map_err(|e| format!("{url} is not a URL: {e}"))?;
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| format!("no TLS root certificates: {e}"))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(SiteVerify {
            client: Client::builder(TokioExecutor::new()).build(https),
            url,
            secret: secret.to_string(),
        })
    }
}

#[derive(serde::Deserialize)]
struct Answer {
    success: bool,
}

#[async_trait]
impl ChallengeVerifier for SiteVerify {
    async fn verify(&self, token: &str, client: IpAddr) -> Result<bool, ChallengeError> {
        let form = serde_urlencoded::to_string([
            ("secret", self.secret.as_str()),
            ("response", token),
            ("remoteip", &client.to_string()),
        ])
        .map_err(|e| ChallengeError::Provider(e.to_string()))?;
        let req = Request::builder()
            .method(Method::POST)
            .uri(self.url.clone())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .map_err(|e| ChallengeError::Provider(e.to_string()))?;
        let res = tokio::time::timeout(TIMEOUT, self.client.request(req))
            .await
            .map_err(|_| ChallengeError::Provider("siteverify timed out".into()))?
            .map_err(|e| ChallengeError::Provider(e.to_string()))?;
        if !res.status().is_success() {
            return Err(ChallengeError::Provider(format!(
                "siteverify answered {}",
                res.status()
            )));
        }
        let body = axum::body::to_bytes(Body::new(res.into_body()), MAX_ANSWER)
            .await
            .map_err(|e| ChallengeError::Provider(e.to_string()))?;
        let answer: Answer = serde_json::from_slice(&body)
            .map_err(|e| ChallengeError::Provider(format!("siteverify answer is not understood: {e}")))?;
        Ok(answer.success)
    }
}
