//! Request input as a flat map of fields, from a JSON object or a form body (and the
//! query string). SealTalk clients send `region` and `phone` as numbers or strings, so
//! field access converts, and every failure names its field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use serde_json::{Map, Value};

use super::Error;
use crate::domain::{PhoneNumber, UserId, ValidationError};

const MAX_BODY: usize = 64 * 1024;

#[derive(Debug, Default, Clone)]
pub struct Input {
    fields: Map<String, Value>,
    /// Fields given more than once (the last one is kept in `fields`).
    repeated: Vec<String>,
}

impl Input {
    pub fn new(fields: Map<String, Value>) -> Self {
        Input {
            fields,
            repeated: vec![],
        }
    }

    /// The raw value of a field, for shapes beyond strings (lists).
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields.get(field)
    }

    /// The first field the request gave more than once, if any (RFC 6749 §3.2 forbids
    /// repeating a parameter; elsewhere the last one wins).
    pub fn repeated(&self) -> Option<&str> {
        self.repeated.first().map(String::as_str)
    }

    /// User ids as a JSON array or a comma-separated string (SealTalk clients send
    /// both); absent or null is `None`. Each id is parsed; the caller bounds the count.
    pub fn opt_user_ids(&self, field: &'static str) -> Result<Option<Vec<UserId>>, ValidationError> {
        let raw: Vec<String> = match self.fields.get(field) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<_>>()
                .ok_or_else(|| ValidationError::new(field, "must be user ids"))?,
            Some(Value::String(s)) => s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            Some(_) => return Err(ValidationError::new(field, "must be a list of user ids")),
        };
        raw.iter()
            .map(|id| UserId::parse(field, id))
            .collect::<Result<_, _>>()
            .map(Some)
    }

    pub fn opt_string(&self, field: &'static str) -> Result<Option<String>, ValidationError> {
        match self.fields.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) if n.is_u64() || n.is_i64() => Ok(Some(n.to_string())),
            Some(_) => Err(ValidationError::new(field, "must be a string")),
        }
    }

    pub fn string(&self, field: &'static str) -> Result<String, ValidationError> {
        self.opt_string(field)?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ValidationError::new(field, "is required"))
    }

    /// A 0-or-1 setting (a JSON number, or "0"/"1" from a form); absent is `None`.
    pub fn opt_flag(&self, field: &'static str) -> Result<Option<bool>, ValidationError> {
        match self.fields.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) if n.as_u64() == Some(0) => Ok(Some(false)),
            Some(Value::Number(n)) if n.as_u64() == Some(1) => Ok(Some(true)),
            Some(Value::String(s)) if s == "0" => Ok(Some(false)),
            Some(Value::String(s)) if s == "1" => Ok(Some(true)),
            Some(_) => Err(ValidationError::new(field, "must be 0 or 1")),
        }
    }

    /// SealTalk's `region` + `phone` pair.
    pub fn phone(&self) -> Result<PhoneNumber, ValidationError> {
        let region = self.string("region")?;
        let phone = self.string("phone")?;
        PhoneNumber::parse(&region, &phone)
    }
}

impl<S: Send + Sync> FromRequest<S> for Input {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let mut map = Map::new();
        let mut repeated = vec![];
        let mut insert = |map: &mut Map<String, Value>, k: String, v: Value| {
            if map.insert(k.clone(), v).is_some() && !repeated.contains(&k) {
                repeated.push(k);
            }
        };
        if let Some(q) = req.uri().query() {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q)
                .map_err(|_| ValidationError::new("query", "is not a valid query string"))?;
            for (k, v) in pairs {
                insert(&mut map, k, Value::String(v));
            }
        }
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|_| ValidationError::new("body", "could not be read"))?;
        if body.len() > MAX_BODY {
            return Err(ValidationError::new("body", "is too large").into());
        }
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Input { fields: map, repeated });
        }
        if content_type.starts_with("application/x-www-form-urlencoded") {
            let pairs: Vec<(String, String)> =
                serde_urlencoded::from_bytes(&body).map_err(|_| ValidationError::new("body", "is not a valid form"))?;
            for (k, v) in pairs {
                insert(&mut map, k, Value::String(v));
            }
        } else {
            // JSON is the default dialect, whether or not the client said so.
            match serde_json::from_slice::<Value>(&body) {
                Ok(Value::Object(obj)) => {
                    for (k, v) in obj {
                        insert(&mut map, k, v);
                    }
                }
                Ok(_) => return Err(ValidationError::new("body", "must be a JSON object").into()),
                Err(e) => return Err(ValidationError::new("body", format!("is not valid JSON ({e})")).into()),
            }
        }
        Ok(Input { fields: map, repeated })
    }
}
