//! Tokens: the IM token (for the messaging service), and OAuth access and refresh tokens.

use crate::auth::sessions::{split_bearer_secret, SessionKind, REMEMBERED_REFRESH_TOKENS};
use crate::auth::tokens::{AccessClaims, ImClaims, ACCESS_AUDIENCE, IM_AUDIENCE, ISSUER};
use crate::crypto::digest;
use crate::domain::{Device, LoginId, Password, UserId};
use crate::error::Error;
use crate::ports::{Key, StoreError};
use crate::state::AppState;
use crate::store::sessions::{self as stored, StoredSession};

use super::login::login_password;

pub fn im_token(state: &AppState, user: &UserId, act: Option<String>, members: Vec<String>) -> Result<String, Error> {
    let now = state.clock.now_secs();
    let claims = ImClaims {
        iss: ISSUER.into(),
        aud: IM_AUDIENCE.into(),
        sub: user.to_string(),
        iat: now,
        exp: now + state.config.limits.im_token_ttl_secs,
        act,
        members,
    };
    state.tokens.im_token(&claims).map_err(Error::Internal)
}

pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

fn token_pair(state: &AppState, user: &UserId, session: &str, refresh_token: String) -> Result<TokenPair, Error> {
    let now = state.clock.now_secs();
    let ttl = state.config.limits.access_token_ttl_secs;
    let claims = AccessClaims {
        iss: ISSUER.into(),
        aud: ACCESS_AUDIENCE.into(),
        sub: user.to_string(),
        sid: session.to_string(),
        iat: now,
        exp: now + ttl,
    };
    Ok(TokenPair {
        access_token: state.tokens.sign(&claims).map_err(Error::Internal)?,
        refresh_token,
        expires_in: ttl,
    })
}

/// The password grant: a password login whose session is a refresh-token family.
pub async fn oauth_password(
    state: &AppState,
    id: &LoginId,
    password: &Password,
    ip: &std::net::IpAddr,
) -> Result<TokenPair, Error> {
    let (user, session) = login_password(state, id, password, &Device::default(), SessionKind::OAuth, ip).await?;
    token_pair(state, &user, &session.id, session.bearer_secret)
}

/// How long after a rotation the token it replaced still answers, with the family's
/// current pair: a mobile client that retried, or two tabs that raced, stay logged in.
const REFRESH_GRACE_MS: i64 = 10_000;

/// The secret of refresh-token generation `gen` (1 and up) of a session: derived with
/// the server key, so the grace window can answer with the current token again without
/// storing it.
fn refresh_secret(state: &AppState, user: &UserId, sid: &str, gen: i64) -> String {
    let tag = state
        .code_key
        .sign(&[b"refresh", user.as_str().as_bytes(), sid.as_bytes(), &gen.to_be_bytes()]);
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, tag)
}

/// The family's current pair, for a token replaced less than the grace window ago.
fn within_grace(state: &AppState, session: &StoredSession, presented_hash: &str) -> bool {
    session.refresh_prev.last().is_some_and(|last| last == presented_hash)
        && session.refresh_gen >= 1
        && state.clock.now_millis() - session.rotated_at <= REFRESH_GRACE_MS
}

/// Rotates a refresh token. Presenting the token just replaced, within the grace window,
/// answers with the family's current pair; presenting an older one, or the replaced one
/// later, revokes the whole family.
pub async fn oauth_refresh(state: &AppState, presented: &str) -> Result<TokenPair, Error> {
    let (user, sid, secret) =
        split_bearer_secret(presented).ok_or(Error::RefreshTokenRejected("malformed refresh token"))?;
    let key = stored::key(&user, &sid);
    let read = |state: &AppState| {
        let key = key.clone();
        let state = state.clone();
        async move {
            let item = state
                .store
                .get(&key)
                .await?
                .ok_or(Error::RefreshTokenRejected("the refresh token is revoked or expired"))?;
            StoredSession::from_item(&item)
        }
    };
    let session = read(state).await?;
    if session.kind != SessionKind::OAuth {
        return Err(Error::RefreshTokenRejected("not a refresh token"));
    }
    let presented_hash = digest(&secret);
    let current = |session: &StoredSession| {
        let secret = refresh_secret(state, &user, &sid, session.refresh_gen);
        token_pair(state, &user, &sid, format!("{user}.{sid}.{secret}"))
    };
    if session.refresh_hash.as_deref() != Some(presented_hash.as_str()) {
        if within_grace(state, &session, &presented_hash) {
            return current(&session);
        }
        if session.refresh_prev.contains(&presented_hash) {
            revoke_family(state, &key).await?;
            return Err(Error::RefreshTokenReused);
        }
        return Err(Error::RefreshTokenRejected("unknown refresh token"));
    }
    let gen = session.refresh_gen + 1;
    let new_secret = refresh_secret(state, &user, &sid, gen);
    let mut remembered = session.refresh_prev;
    remembered.push(presented_hash.clone());
    let skip = remembered.len().saturating_sub(REMEMBERED_REFRESH_TOKENS);
    let remembered = remembered[skip..].join(",");
    let now = state.clock.now_secs();
    let (updates, condition) = stored::rotate_refresh(
        &presented_hash,
        digest(&new_secret),
        gen,
        remembered,
        state.clock.now_millis(),
        now + state.config.limits.session_ttl_secs,
    );
    match state.store.update(&key, updates, Some(condition)).await {
        Ok(_) => token_pair(state, &user, &sid, format!("{user}.{sid}.{new_secret}")),
        // Another use rotated it first: a race of the same client, answered like a retry.
        Err(StoreError::ConditionFailed) => {
            let session = read(state).await?;
            if within_grace(state, &session, &presented_hash) {
                return current(&session);
            }
            revoke_family(state, &key).await?;
            Err(Error::RefreshTokenReused)
        }
        Err(e) => Err(e.into()),
    }
}

async fn revoke_family(state: &AppState, key: &Key) -> Result<(), Error> {
    state.store.delete(key, None).await?;
    tracing::warn!(session = %key.sk, "refresh token reuse: session revoked");
    Ok(())
}
