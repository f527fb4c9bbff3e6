use std::net::IpAddr;

use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
pub enum ChallengeError {
    #[error("the challenge provider failed: {0}")]
    Provider(String),
}

/// A hosted human-verification challenge (Cloudflare Turnstile, hCaptcha): whether the
/// token a client got from the provider's widget was really solved, from this address.
#[async_trait]
pub trait ChallengeVerifier: Send + Sync {
    async fn verify(&self, token: &str, client: IpAddr) -> Result<bool, ChallengeError>;
}
