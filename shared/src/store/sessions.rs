//! Sessions: one item per login. A cookie session stores a digest of its cookie secret;
//! an OAuth session is a refresh-token family and stores the digest of its current
//! refresh token and of those it replaced. Deleting the item revokes them all at once.

use super::{corrupt, keys, req_n, req_s};
use crate::domain::{Device, UserId};
use crate::error::Error;
use crate::ports::{Attr, Condition, Item, Key, Query, TxOp, Update};

const KIND: &str = "kind";
const SECRET_HASH: &str = "secretHash";
const REFRESH_HASH: &str = "refreshHash";
const REFRESH_PREV: &str = "refreshPrev";
const DEVICE_TYPE: &str = "deviceType";
const DEVICE_ID: &str = "deviceId";
const CREATED_AT: &str = "createdAt";
const LAST_USED_AT: &str = "lastUsedAt";
const REFRESH_GEN: &str = "refreshGen";
const ROTATED_AT: &str = "rotatedAt";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionKind {
    Cookie,
    OAuth,
}

impl SessionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Cookie => "cookie",
            SessionKind::OAuth => "oauth",
        }
    }
}

pub fn key(user: &UserId, session: &str) -> Key {
    keys::session(user, session)
}

/// Every session of a user, a page at a time.
pub fn of_user(user: &UserId) -> Query {
    Query::partition(keys::user_pk(user)).begins_with(keys::SESSION_PREFIX)
}

#[derive(Clone, Debug)]
pub struct StoredSession {
    pub key: Key,
    pub id: String,
    pub kind: SessionKind,
    /// Cookie sessions: the digest of the cookie secret.
    pub secret_hash: Option<String>,
    /// OAuth sessions: the digest of the current refresh token and of replaced ones.
    pub refresh_hash: Option<String>,
    pub refresh_prev: Vec<String>,
    /// How many times the refresh token rotated (0: the first, random one is current).
    pub refresh_gen: i64,
    /// When it last rotated (epoch milliseconds; 0: never).
    pub rotated_at: i64,
    pub device_type: String,
    pub device_id: String,
    pub created_at: i64,
    pub last_used_at: i64,
}

impl StoredSession {
    pub fn from_item(item: &Item) -> Result<StoredSession, Error> {
        let id = item
            .key
            .sk
            .strip_prefix(keys::SESSION_PREFIX)
            .ok_or_else(|| corrupt(item, "not a session key"))?
            .to_string();
        let kind = match req_s(item, KIND)? {
            "cookie" => SessionKind::Cookie,
            "oauth" => SessionKind::OAuth,
            other => return Err(corrupt(item, format!("unknown session kind `{other}`"))),
        };
        Ok(StoredSession {
            key: item.key.clone(),
            id,
            kind,
            secret_hash: item.s(SECRET_HASH).map(str::to_string),
            refresh_hash: item.s(REFRESH_HASH).map(str::to_string),
            refresh_prev: item
                .s(REFRESH_PREV)
                .unwrap_or("")
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            // Only refresh-token families rotate; a cookie session has neither.
            refresh_gen: if kind == SessionKind::OAuth {
                req_n(item, REFRESH_GEN)?
            } else {
                0
            },
            rotated_at: if kind == SessionKind::OAuth {
                req_n(item, ROTATED_AT)?
            } else {
                0
            },
            device_type: req_s(item, DEVICE_TYPE)?.to_string(),
            device_id: req_s(item, DEVICE_ID)?.to_string(),
            created_at: req_n(item, CREATED_AT)?,
            last_used_at: req_n(item, LAST_USED_AT)?,
        })
    }
}

pub struct NewSession<'a> {
    pub user: &'a UserId,
    pub id: &'a str,
    pub kind: SessionKind,
    /// Digest of the cookie secret or of the first refresh token.
    pub secret_hash: String,
    pub device: &'a Device,
    pub now_ms: i64,
    pub expires_at: i64,
}

pub fn create(s: NewSession<'_>) -> TxOp {
    let hash_attr = match s.kind {
        SessionKind::Cookie => SECRET_HASH,
        SessionKind::OAuth => REFRESH_HASH,
    };
    let mut item = Item::new(key(s.user, s.id))
        .with_s(KIND, s.kind.as_str())
        .with_s(hash_attr, s.secret_hash)
        .with_s(DEVICE_TYPE, &s.device.kind)
        .with_s(DEVICE_ID, &s.device.id)
        .with_n(CREATED_AT, s.now_ms)
        .with_n(LAST_USED_AT, s.now_ms)
        .expiring_at(s.expires_at);
    if s.kind == SessionKind::OAuth {
        item = item.with_n(REFRESH_GEN, 0).with_n(ROTATED_AT, 0);
    }
    TxOp::Put {
        item,
        condition: Some(Condition::NotExists),
    }
}

/// The session still exists and, for a cookie, still has the presented secret.
pub fn backs(cookie_secret_hash: Option<&str>) -> Condition {
    match cookie_secret_hash {
        None => Condition::Exists,
        Some(hash) => Condition::And(vec![
            Condition::Exists,
            Condition::eq(SECRET_HASH, Attr::S(hash.to_string())),
        ]),
    }
}

pub fn touch(now_ms: i64) -> Vec<Update> {
    vec![Update::set(LAST_USED_AT, Attr::N(now_ms))]
}

/// Rotates the refresh token from `presented` to generation `gen` (digest `new`),
/// remembering `remembered` as replaced ones; fails when another use rotated it first.
pub fn rotate_refresh(
    presented: &str,
    new: String,
    gen: i64,
    remembered: String,
    now_ms: i64,
    expires_at: i64,
) -> (Vec<Update>, Condition) {
    (
        vec![
            Update::set(REFRESH_HASH, Attr::S(new)),
            Update::set(REFRESH_PREV, Attr::S(remembered)),
            Update::set(REFRESH_GEN, Attr::N(gen)),
            Update::set(ROTATED_AT, Attr::N(now_ms)),
            Update::set(LAST_USED_AT, Attr::N(now_ms)),
            Update::SetExpiry(expires_at),
        ],
        Condition::And(vec![
            Condition::Exists,
            Condition::eq(REFRESH_HASH, Attr::S(presented.to_string())),
        ]),
    )
}

pub fn delete(key: Key) -> TxOp {
    TxOp::Delete { key, condition: None }
}
