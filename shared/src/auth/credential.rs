//! The credential of an authenticated request: a bearer access token (checked by
//! signature and expiry with no store read) or the session cookie. Either names a
//! session, whose item must still exist: that check rides along with the request's own
//! store read (batch get) or write (transaction condition), so revocation is immediate
//! and costs no extra round trip.

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;

use super::sessions::{split_bearer_secret, COOKIE_NAME};
use crate::crypto::digest;
use crate::domain::UserId;
use crate::error::Error;
use crate::ports::{Condition, Item, Key, TxOp};
use crate::state::AppState;
use crate::store::sessions::{self, StoredSession};

#[derive(Clone, Debug)]
enum Proof {
    /// Digest of the cookie secret, compared with the session's `secretHash`.
    Cookie(String),
    /// A verified access token: the session only has to exist.
    Bearer,
}

#[derive(Clone, Debug)]
pub struct Credential {
    pub user: UserId,
    pub session: String,
    proof: Proof,
}

impl Credential {
    pub fn session_key(&self) -> Key {
        sessions::key(&self.user, &self.session)
    }

    /// Whether the stored session (as read) backs this credential.
    pub fn accepts(&self, session: Option<&StoredSession>) -> bool {
        match (session, &self.proof) {
            (None, _) => false,
            (Some(_), Proof::Bearer) => true,
            (Some(s), Proof::Cookie(hash)) => s
                .secret_hash
                .as_deref()
                .is_some_and(|stored| constant_time_eq(stored.as_bytes(), hash.as_bytes())),
        }
    }

    /// The same check as a write condition on the session item.
    pub fn condition(&self) -> Condition {
        match &self.proof {
            Proof::Bearer => sessions::backs(None),
            Proof::Cookie(hash) => sessions::backs(Some(hash)),
        }
    }

    /// A transaction step that fails when the session is revoked.
    pub fn check_op(&self) -> TxOp {
        TxOp::Check {
            key: self.session_key(),
            condition: self.condition(),
        }
    }

    /// One round trip: the session check batched with the request's own reads, which
    /// come back in the order asked for.
    pub async fn read<const N: usize>(&self, state: &AppState, keys: [Key; N]) -> Result<[Option<Item>; N], Error> {
        let mut all = Vec::with_capacity(N + 1);
        all.push(self.session_key());
        all.extend(keys);
        let mut items = state.store.batch_get(&all).await?.into_iter();
        let session = match items.next().flatten() {
            Some(item) => Some(StoredSession::from_item(&item)?),
            None => None,
        };
        if !self.accepts(session.as_ref()) {
            return Err(self.rejected());
        }
        if let Some(session) = session {
            self.touch(state, &session).await;
        }
        crate::store::exactly(items.collect())
    }

    /// Up to 199 keys with the session check in one round trip: the store reads at most
    /// 100 keys a batch, so a second batch goes out at the same time as the first.
    pub async fn read_many(&self, state: &AppState, keys: &[Key]) -> Result<Vec<Option<Item>>, Error> {
        const FIRST: usize = crate::ports::store::MAX_BATCH_KEYS - 1;
        if keys.len() > FIRST + crate::ports::store::MAX_BATCH_KEYS {
            return Err(Error::Internal(format!("{} keys in one read", keys.len())));
        }
        let (first, rest) = keys.split_at(keys.len().min(FIRST));
        let mut head = Vec::with_capacity(first.len() + 1);
        head.push(self.session_key());
        head.extend_from_slice(first);
        let second = async {
            if rest.is_empty() {
                Ok(vec![])
            } else {
                state.store.batch_get(rest).await
            }
        };
        let (head, second) = tokio::join!(state.store.batch_get(&head), second);
        let mut head = head?.into_iter();
        let session = match head.next().flatten() {
            Some(item) => Some(StoredSession::from_item(&item)?),
            None => None,
        };
        if !self.accepts(session.as_ref()) {
            return Err(self.rejected());
        }
        let mut items: Vec<Option<Item>> = head.collect();
        items.extend(second?);
        Ok(items)
    }

    /// The answer when this credential's session is gone or does not match: a bearer
    /// token is told to refresh (401), a cookie gets SealTalk's 403.
    pub fn rejected(&self) -> Error {
        match self.proof {
            Proof::Bearer => Error::InvalidBearerToken,
            Proof::Cookie(_) => Error::Unauthorized,
        }
    }

    /// The session check alone (routes that read nothing else).
    pub async fn check(&self, state: &AppState) -> Result<(), Error> {
        self.read(state, []).await.map(|[]| ())
    }

    /// Keeps "last used" roughly current: at most one extra write per session per hour.
    async fn touch(&self, state: &AppState, session: &StoredSession) {
        let now = state.clock.now_millis();
        if now - session.last_used_at < 3_600_000 {
            return;
        }
        if let Err(e) = state
            .store
            .update(&self.session_key(), sessions::touch(now), Some(self.condition()))
            .await
        {
            tracing::debug!(error = %e, "last-used not updated");
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn cookie_value(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE_NAME)
        .map(|(_, v)| v.to_string())
}

impl FromRequestParts<AppState> for Credential {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(auth) = parts.headers.get(AUTHORIZATION) {
            let token = auth
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
                .ok_or(Error::Unauthorized)?;
            let claims = state
                .tokens
                .verify_access(token.trim(), state.clock.now_secs())
                .map_err(|_| Error::InvalidBearerToken)?;
            let user = UserId::parse("sub", &claims.sub).map_err(|_| Error::InvalidBearerToken)?;
            return Ok(Credential {
                user,
                session: claims.sid,
                proof: Proof::Bearer,
            });
        }
        let cookie = cookie_value(parts).ok_or(Error::Unauthorized)?;
        let (user, session, secret) = split_bearer_secret(&cookie).ok_or(Error::Unauthorized)?;
        Ok(Credential {
            user,
            session,
            proof: Proof::Cookie(digest(&secret)),
        })
    }
}
