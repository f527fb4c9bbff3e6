//! Email through Amazon SES v2 `SendEmail`, a plain-text message from the configured
//! sender, tagged with the configuration set when one is given (bounce and complaint
//! handling live there).

use async_trait::async_trait;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use aws_sdk_sesv2::Client;

use crate::domain::Recipient;
use crate::ports::{MessageSender, SendError};

pub struct SesSender {
    client: Client,
    from: String,
    configuration_set: Option<String>,
    subject: String,
}

impl SesSender {
    /// `subject` is the same for every message: the product's name and what it is.
    pub fn new(client: Client, from: String, configuration_set: Option<String>, subject: String) -> Self {
        SesSender {
            client,
            from,
            configuration_set,
            subject,
        }
    }
}

fn utf8(text: &str) -> Result<Content, SendError> {
    Content::builder()
        .data(text)
        .charset("UTF-8")
        .build()
        .map_err(|e| SendError::Provider(e.to_string()))
}

#[async_trait]
impl MessageSender for SesSender {
    async fn send(&self, to: &Recipient, text: &str) -> Result<(), SendError> {
        let Recipient::Email(to) = to else {
            return Err(SendError::Unsupported(to.channel()));
        };
        let message = Message::builder()
            .subject(utf8(&self.subject)?)
            .body(Body::builder().text(utf8(text)?).build())
            .build();
        self.client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(to.as_str()).build())
            .content(EmailContent::builder().simple(message).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map_err(|e| {
                let detail = e
                    .as_service_error()
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| e.to_string());
                SendError::Provider(detail)
            })?;
        Ok(())
    }
}
