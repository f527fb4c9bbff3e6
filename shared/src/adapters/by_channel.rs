//! One message port over two providers: SMS to phones, email to addresses. Each side is
//! chosen by the configuration (SNS or the outbox, SES or the outbox).

use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::Recipient;
use crate::ports::{MessageSender, SendError};

pub struct ByChannel {
    pub sms: Arc<dyn MessageSender>,
    pub email: Arc<dyn MessageSender>,
}

#[async_trait]
impl MessageSender for ByChannel {
    async fn send(&self, to: &Recipient, text: &str) -> Result<(), SendError> {
        match to {
            Recipient::Phone(_) => self.sms.send(to, text).await,
            Recipient::Email(_) => self.email.send(to, text).await,
        }
    }
}
