//! Sessions as the groups use them: opening one (the item and the secret only its
//! holder gets), reading a user's sessions, and the session cookie. What a session item
//! holds is `store::sessions`'s business.

use serde::Serialize;

use crate::crypto::digest;
use crate::domain::{Device, UserId};
use crate::error::Error;
use crate::ports::TxOp;
use crate::state::AppState;
use crate::store::sessions::{self as stored, StoredSession};

pub use crate::store::sessions::SessionKind;

pub const COOKIE_NAME: &str = "roster_session";
/// How many replaced refresh tokens a family remembers, to recognise reuse.
pub const REMEMBERED_REFRESH_TOKENS: usize = 20;

/// A session about to be stored, and the secret only its holder gets.
pub struct NewSession {
    /// Puts the session item (condition: it does not exist yet).
    pub create: TxOp,
    pub id: String,
    /// `<user>.<session>.<secret>`: the cookie value, or the refresh token.
    pub bearer_secret: String,
}

pub fn new_session(state: &AppState, user: &UserId, kind: SessionKind, device: &Device) -> NewSession {
    let id = state.random.token(12);
    let secret = state.random.token(32);
    let now_ms = state.clock.now_millis();
    let bearer_secret = format!("{}.{}.{}", user, id, secret);
    let create = stored::create(stored::NewSession {
        user,
        id: &id,
        kind,
        secret_hash: digest(&secret),
        device,
        now_ms,
        expires_at: now_ms / 1000 + state.config.limits.session_ttl_secs,
    });
    NewSession {
        create,
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
    pub fn new(s: &StoredSession, current: &str) -> Self {
        SessionView {
            current: s.id == current,
            id: s.id.clone(),
            kind: s.kind.as_str().to_string(),
            device_type: s.device_type.clone(),
            device_id: s.device_id.clone(),
            created_at: s.created_at,
            last_used_at: s.last_used_at,
        }
    }
}

/// Every live session of a user (sessions are few; the pages are read to the end).
pub async fn all_sessions(state: &AppState, user: &UserId) -> Result<Vec<StoredSession>, Error> {
    let mut sessions = vec![];
    let mut cursor = None;
    loop {
        let page = state
            .store
            .query(stored::of_user(user).limit(100).after(cursor))
            .await?;
        for item in &page.items {
            sessions.push(StoredSession::from_item(item)?);
        }
        cursor = page.cursor;
        if cursor.is_none() {
            return Ok(sessions);
        }
    }
}
