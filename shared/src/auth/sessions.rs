//! Sessions: one item per login (`USER#<id>` / `SESSION#<sid>`). A cookie session stores a
//! digest of its cookie secret; an OAuth session is a refresh-token family and stores the
//! digest of its current refresh token and of those it replaced. Deleting the item
//! revokes every credential of the session at once.

use serde::Serialize;

use crate::app::AppState;
use crate::crypto::digest;
use crate::domain::{Device, UserId};
use crate::keys;
use crate::ports::{Item, Query};

pub const COOKIE_NAME: &str = "roster_session";
/// How many replaced refresh tokens a family remembers, to recognise reuse.
pub const REMEMBERED_REFRESH_TOKENS: usize = 20;

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

/// A session about to be stored, and the secret only its holder gets.
pub struct NewSession {
    pub item: Item,
    pub id: String,
    /// `<user>.<session>.<secret>`: the cookie value, or the refresh token.
    pub bearer_secret: String,
}

pub fn new_session(state: &AppState, user: &UserId, kind: SessionKind, device: &Device) -> NewSession {
    let id = state.random.token(12);
    let secret = state.random.token(32);
    let now_ms = state.clock.now_millis();
    let bearer_secret = format!("{}.{}.{}", user, id, secret);
    let hash_attr = match kind {
        SessionKind::Cookie => "secretHash",
        SessionKind::OAuth => "refreshHash",
    };
    let item = Item::new(keys::session(user, &id))
        .with_s("kind", kind.as_str())
        .with_s(hash_attr, digest(&secret))
        .with_s("deviceType", &device.kind)
        .with_s("deviceId", &device.id)
        .with_n("createdAt", now_ms)
        .with_n("lastUsedAt", now_ms)
        .expiring_at(now_ms / 1000 + state.config.limits.session_ttl_secs);
    NewSession {
        item,
        id,
        bearer_secret,
    }
}

/// `<user>.<session>.<secret>` split into its parts, if it has that shape.
pub fn split_bearer_secret(raw: &str) -> Option<(UserId, String, String)> {
    let mut parts = raw.trim().split('.');
    let (user, session, secret) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || session.is_empty() || session.len() > 64 || secret.is_empty() || secret.len() > 128 {
        return None;
    }
    Some((
        UserId::parse("session", user).ok()?,
        session.to_string(),
        secret.to_string(),
    ))
}

pub fn set_cookie(value: &str, max_age: i64) -> String {
    format!("{COOKIE_NAME}={value}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={max_age}")
}

/// Clears the cookie with the attributes it was set with.
pub fn clear_cookie() -> String {
    set_cookie("", 0)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    pub id: String,
    pub kind: String,
    pub device_type: String,
    pub device_id: String,
    pub created_at: i64,
    pub last_used_at: i64,
    pub current: bool,
}

impl SessionView {
    pub fn from_item(item: &Item, current: &str) -> Option<Self> {
        let id = item.key.sk.strip_prefix(keys::SESSION_PREFIX)?.to_string();
        Some(SessionView {
            current: id == current,
            id,
            kind: item.s("kind").unwrap_or_default().to_string(),
            device_type: item.s("deviceType").unwrap_or_default().to_string(),
            device_id: item.s("deviceId").unwrap_or_default().to_string(),
            created_at: item.n("createdAt").unwrap_or_default(),
            last_used_at: item.n("lastUsedAt").unwrap_or_default(),
        })
    }
}

/// Every live session of a user (sessions are few; the pages are read to the end).
pub async fn all_sessions(state: &AppState, user: &UserId) -> Result<Vec<Item>, crate::http::AppError> {
    let mut items = vec![];
    let mut cursor = None;
    loop {
        let page = state
            .store
            .query(
                Query::partition(keys::user_pk(user))
                    .begins_with(keys::SESSION_PREFIX)
                    .limit(100)
                    .after(cursor),
            )
            .await?;
        items.extend(page.items);
        cursor = page.cursor;
        if cursor.is_none() {
            return Ok(items);
        }
    }
}
