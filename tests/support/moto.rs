//! Reading what moto's SNS "sent": `GET /moto-api/data.json` lists every SMS under
//! `sns.SMS` as `{phone_number, message, message_id}` (absent before the first Publish),
//! and every email under `ses.Message` as `{source, destinations.ToAddresses, subject, body}`.

use serde_json::Value;

pub fn collect_sms(data: &Value, e164: &str, out: &mut Vec<String>) {
    if let Some(list) = data["sns"]["SMS"].as_array() {
        for m in list {
            if m["phone_number"] == e164 {
                if let Some(text) = m["message"].as_str() {
                    out.push(text.to_string());
                }
            }
        }
    }
}

pub struct Email {
    pub from: String,
    pub subject: String,
    pub body: String,
}

pub fn emails_to(data: &Value, address: &str) -> Vec<Email> {
    let mut out = vec![];
    if let Some(list) = data["ses"]["Message"].as_array() {
        for m in list {
            let to = m["destinations"]["ToAddresses"].as_array();
            if to.is_some_and(|t| t.iter().any(|a| a == address)) {
                out.push(Email {
                    from: m["source"].as_str().unwrap_or_default().to_string(),
                    subject: m["subject"].as_str().unwrap_or_default().to_string(),
                    body: m["body"].as_str().unwrap_or_default().to_string(),
                });
            }
        }
    }
    out
}
