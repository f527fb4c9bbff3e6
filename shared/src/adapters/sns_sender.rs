//! SMS through Amazon SNS `Publish` to a phone number, as transactional messages.

use async_trait::async_trait;
use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sns::Client;

use crate::domain::Recipient;
use crate::ports::{MessageSender, SendError};

pub struct SnsSender {
    client: Client,
    sender_id: Option<String>,
}

impl SnsSender {
    pub fn new(client: Client, sender_id: Option<String>) -> Self {
        SnsSender { client, sender_id }
    }
}

fn attr(v: &str) -> Result<MessageAttributeValue, SendError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(v)
        .build()
        .map_err(|e| SendError::Provider(e.to_string()))
}

#[async_trait]
impl MessageSender for SnsSender {
    async fn send(&self, to: &Recipient, text: &str) -> Result<(), SendError> {
        let Recipient::Phone(to) = to else {
            return Err(SendError::Unsupported(to.channel()));
        };
        let mut req = self
            .client
            .publish()
            .phone_number(to.e164())
            .message(text)
            .message_attributes("AWS.SNS.SMS.SMSType", attr("Transactional")?);
        if let Some(id) = &self.sender_id {
            req = req.message_attributes("AWS.SNS.SMS.SenderID", attr(id)?);
        }
        req.send().await.map_err(|e| {
            let detail = e
                .as_service_error()
                .map(|s| s.to_string())
                .unwrap_or_else(|| e.to_string());
            SendError::Provider(detail)
        })?;
        Ok(())
    }
}
