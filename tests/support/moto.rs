//! Reading what moto's SNS "sent": `GET /moto-api/data.json` lists every SMS under
//! `sns.SMS` as `{phone_number, message, message_id}` (absent before the first Publish).

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
