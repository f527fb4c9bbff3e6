//! Local mode's message sender: nothing leaves the laptop. Each message is printed to the
//! terminal and appended to `outbox.jsonl` in the data folder, which every local process
//! shares and `GET /_local/outbox` lists.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::domain::Recipient;
use crate::ports::{Clock, MessageSender, SendError};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OutboxMessage {
    pub channel: String,
    pub to: String,
    pub text: String,
    /// Epoch milliseconds.
    pub sent_at: i64,
}

pub struct LocalOutbox {
    path: PathBuf,
    clock: Arc<dyn Clock>,
    lock: std::sync::Mutex<()>,
}

impl LocalOutbox {
    pub fn new(data_dir: &std::path::Path, clock: Arc<dyn Clock>) -> Self {
        LocalOutbox {
            path: data_dir.join("outbox.jsonl"),
            clock,
            lock: std::sync::Mutex::new(()),
        }
    }

    pub fn list(&self) -> Result<Vec<OutboxMessage>, SendError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(SendError::Provider(format!("outbox unreadable: {e}"))),
        };
        Ok(text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect())
    }
}

#[async_trait]
impl MessageSender for LocalOutbox {
    async fn send(&self, to: &Recipient, text: &str) -> Result<(), SendError> {
        let msg = OutboxMessage {
            channel: to.channel().into(),
            to: to.address().to_string(),
            text: text.to_string(),
            sent_at: self.clock.now_millis(),
        };
        let line = serde_json::to_string(&msg).map_err(|e| SendError::Provider(e.to_string()))?;
        {
            let _guard = self
                .lock
                .lock()
                .map_err(|_| SendError::Provider("outbox lock poisoned".into()))?;
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|e| SendError::Provider(format!("outbox unwritable: {e}")))?;
            // One write call per line keeps lines whole when several processes append.
            f.write_all(format!("{line}\n").as_bytes())
                .map_err(|e| SendError::Provider(e.to_string()))?;
        }
        // The local terminal is the developer's phone; this is not a log line.
        println!("[outbox] {} to {}: {}", msg.channel, msg.to, msg.text);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{EmailAddress, PhoneNumber};
    use crate::ports::ManualClock;

    #[tokio::test]
    async fn the_outbox_carries_sms_and_email_each_on_its_channel() {
        let dir = std::env::temp_dir().join(format!("roster-outbox-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let outbox = LocalOutbox::new(&dir, Arc::new(ManualClock::starting_at_secs(1_800_000_000)));
        let phone = Recipient::Phone(PhoneNumber::parse("1", "2015550123").unwrap());
        let email = Recipient::Email(EmailAddress::parse("email", "Tom@Example.com").unwrap());
        outbox.send(&phone, "code 1").await.unwrap();
        outbox.send(&email, "code 2").await.unwrap();
        let sent: Vec<(String, String)> = outbox.list().unwrap().into_iter().map(|m| (m.channel, m.to)).collect();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            sent,
            vec![
                ("sms".to_string(), "+12015550123".to_string()),
                ("email".to_string(), "tom@example.com".to_string())
            ]
        );
    }
}
