use async_trait::async_trait;

use crate::domain::PhoneNumber;

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the message provider refused or failed: {0}")]
    Provider(String),
}

/// Sends messages to people: SMS now, email later.
#[async_trait]
pub trait MessageSender: Send + Sync {
    async fn send_sms(&self, to: &PhoneNumber, text: &str) -> Result<(), SendError>;
}
