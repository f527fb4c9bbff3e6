use async_trait::async_trait;

use crate::domain::Recipient;

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the message provider refused or failed: {0}")]
    Provider(String),
    #[error("this sender cannot reach {0} recipients")]
    Unsupported(&'static str),
}

/// Sends messages to people: SMS to phones now, email next.
#[async_trait]
pub trait MessageSender: Send + Sync {
    async fn send(&self, to: &Recipient, text: &str) -> Result<(), SendError>;
}
