//! Account rules: sign-up, logins, sessions, password flows, deletion. Every uniqueness
//! and single-use rule is a condition in the same transaction as the write it guards.

use crate::app::AppState;
use crate::auth::sessions::{
    all_sessions, new_session, split_bearer_secret, NewSession, SessionKind, REMEMBERED_REFRESH_TOKENS,
};
use crate::auth::tokens::{AccessClaims, ImClaims, ACCESS_AUDIENCE, IM_AUDIENCE, ISSUER};
use crate::auth::{passwords, Credential};
use crate::codes::service::{check_code, code_race, read_verification_token, PresentedCode};
use crate::crypto::digest;
use crate::domain::{CodePurpose, Device, Nickname, Password, PhoneNumber, UserId};
use crate::http::AppError;
use crate::keys;
use crate::ports::{Attr, Condition, Item, Key, StoreError, TxOp, Update};

fn token_gone() -> AppError {
    AppError::NotFound("verification_token does not exist or has expired".into())
}

fn owner_item(phone: &PhoneNumber, user: &UserId, password_hash: Option<String>) -> Item {
    let item = Item::new(keys::phone_owner(phone)).with_s("userId", user.as_str());
    match password_hash {
        Some(h) => item.with_s("passwordHash", h),
        None => item,
    }
}

fn profile_item(user: &UserId, phone: &PhoneNumber, nickname: &Nickname, now_ms: i64) -> Item {
    Item::new(keys::profile(user))
        .with_s("phone", phone.e164())
        .with_s("nickname", nickname.as_str())
        .with_s("portraitUri", "")
        .with_s("gender", "")
        .with_s("stAccount", "")
        .with_n("createdAt", now_ms)
        .with_n("updatedAt", now_ms)
}

fn owned_by(user: &UserId) -> Condition {
    Condition::eq("userId", Attr::S(user.as_str().to_string()))
}

fn user_of(owner: &Item) -> Result<UserId, AppError> {
    UserId::parse("userId", owner.s("userId").unwrap_or_default()).map_err(|e| AppError::Internal(e.to_string()))
}

/// Runs deletions in transactions of at most 100, the first carrying `head`.
async fn transact_chunked(state: &AppState, head: Vec<TxOp>, tail: Vec<TxOp>) -> Result<(), StoreError> {
    let room = 100usize.saturating_sub(head.len());
    let split = tail.len().min(room);
    let mut first = head;
    let mut rest = tail;
    let later = rest.split_off(split);
    first.extend(rest);
    state.store.transact_write(first).await?;
    for chunk in later.chunks(100) {
        state.store.transact_write(chunk.to_vec()).await?;
    }
    Ok(())
}

/// Deletions of every session of `user` but `keep`.
async fn session_deletes(state: &AppState, user: &UserId, keep: Option<&Key>) -> Result<Vec<TxOp>, AppError> {
    Ok(all_sessions(state, user)
        .await?
        .into_iter()
        .filter(|s| Some(&s.key) != keep)
        .map(|s| TxOp::Delete {
            key: s.key,
            condition: None,
        })
        .collect())
}

// ----- sign-up ------------------------------------------------------------------------

pub async fn register(
    state: &AppState,
    nickname: &Nickname,
    password: &Password,
    token: &str,
) -> Result<UserId, AppError> {
    let verified = read_verification_token(state, token).await?.ok_or_else(token_gone)?;
    if !matches!(verified.purpose, CodePurpose::Verify | CodePurpose::Register) {
        return Err(token_gone());
    }
    let hash = passwords::hash(password, state.random.as_ref()).await?;
    let user = UserId::from_minted(state.random.token(UserId::BYTES));
    let now = state.clock.now_millis();
    let ops = vec![
        TxOp::Delete {
            key: verified.key,
            condition: Some(Condition::Exists),
        },
        TxOp::Put {
            item: owner_item(&verified.phone, &user, Some(hash)),
            condition: Some(Condition::NotExists),
        },
        TxOp::Put {
            item: profile_item(&user, &verified.phone, nickname, now),
            condition: Some(Condition::NotExists),
        },
    ];
    match state.store.transact_write(ops).await {
        Ok(()) => {
            tracing::info!(user = %user, phone = %verified.phone.masked(), "registered");
            Ok(user)
        }
        Err(StoreError::TxConditionFailed { index: 0 } | StoreError::Conflict) => Err(token_gone()),
        Err(StoreError::TxConditionFailed { index: 1 }) => Err(AppError::PhoneTaken),
        Err(e) => Err(e.into()),
    }
}

// ----- password login -----------------------------------------------------------------

/// How long failed logins are remembered.
const FAILURE_MEMORY_SECS: i64 = 86_400;

fn backoff_secs(state: &AppState, failures: i64) -> i64 {
    let l = &state.config.limits;
    if failures < l.login_failures_before_backoff {
        return 0;
    }
    let exp = (failures - l.login_failures_before_backoff).min(30) as u32;
    (1i64 << exp).min(l.login_backoff_max_secs)
}

/// Logs in with phone and password. Unknown phones and wrong passwords take the same
/// path (a dummy hash is verified) and count the same failures, so neither the answer
/// nor its timing says whether the phone is registered.
pub async fn login_password(
    state: &AppState,
    phone: &PhoneNumber,
    password: &Password,
    device: &Device,
    kind: SessionKind,
) -> Result<(UserId, NewSession), AppError> {
    let now = state.clock.now_secs();
    let fail_key = keys::login_failures(phone);
    let owner_key = keys::phone_owner(phone);
    // Attempts on one phone are serialised by a short lock on its failure record, taken
    // only when no backoff is running: concurrent guesses cannot outrun the count.
    let reserve = state.store.update(
        &fail_key,
        vec![
            Update::set("lockedUntil", Attr::N(now + 10)),
            Update::SetExpiry(now + FAILURE_MEMORY_SECS),
        ],
        Some(Condition::And(vec![
            Condition::AbsentOrLessThan("blockedUntil".into(), now + 1),
            Condition::AbsentOrLessThan("lockedUntil".into(), now + 1),
        ])),
    );
    let (reserved, owner) = tokio::join!(reserve, state.store.get(&owner_key));
    let failures = match reserved {
        // Failures are consecutive within a day; an older run no longer counts, even
        // while the store still holds its expired record.
        Ok(item) if item.n("lastFailAt").is_some_and(|t| t > now - FAILURE_MEMORY_SECS) => item.n("n").unwrap_or(0),
        Ok(_) => 0,
        Err(StoreError::ConditionFailed) => {
            let wait = match state.store.get(&fail_key).await? {
                Some(item) => {
                    item.n("blockedUntil")
                        .unwrap_or(0)
                        .max(item.n("lockedUntil").unwrap_or(0))
                        - now
                }
                None => 1,
            };
            return Err(AppError::LoginBackoff(wait.max(1)));
        }
        Err(e) => return Err(e.into()),
    };
    let owner = owner?;
    let stored_hash = owner.as_ref().and_then(|o| o.s("passwordHash"));
    let matched = passwords::verify(password, stored_hash).await?;
    let user = match (matched, owner.as_ref()) {
        (true, Some(o)) => user_of(o)?,
        _ => {
            let n = failures + 1;
            state
                .store
                .update(
                    &fail_key,
                    vec![
                        Update::set("n", Attr::N(n)),
                        Update::set("lastFailAt", Attr::N(now)),
                        Update::set("blockedUntil", Attr::N(now + backoff_secs(state, n))),
                        Update::Remove("lockedUntil".into()),
                    ],
                    None,
                )
                .await?;
            tracing::info!(phone = %phone.masked(), failures = n, "login failed");
            return Err(AppError::WrongPassword);
        }
    };
    let session = new_session(state, &user, kind, device);
    let ops = vec![
        TxOp::Put {
            item: session.item.clone(),
            condition: Some(Condition::NotExists),
        },
        TxOp::Check {
            key: owner_key,
            condition: owned_by(&user),
        },
        TxOp::Delete {
            key: fail_key,
            condition: None,
        },
    ];
    match state.store.transact_write(ops).await {
        Ok(()) => Ok((user, session)),
        Err(StoreError::TxConditionFailed { index: 1 }) => Err(AppError::WrongPassword),
        Err(e) => Err(e.into()),
    }
}

// ----- SMS login (creates the account on first use) -----------------------------------

pub struct SmsLogin {
    pub user: UserId,
    pub session: NewSession,
    pub first_login: bool,
}

pub async fn login_sms(
    state: &AppState,
    phone: &PhoneNumber,
    code: &PresentedCode,
    device: &Device,
) -> Result<SmsLogin, AppError> {
    let matched = check_code(state, phone, CodePurpose::Login, code).await?;
    let owner_key = keys::phone_owner(phone);
    // Twice at most: a first login can lose the race to create the account to another.
    for _ in 0..2 {
        let owner = state.store.get(&owner_key).await?;
        let (user, first_login, mut ops) = match owner {
            Some(o) => {
                let user = user_of(&o)?;
                let check = TxOp::Check {
                    key: owner_key.clone(),
                    condition: owned_by(&user),
                };
                (user, false, vec![matched.consume(), check])
            }
            None => {
                let user = UserId::from_minted(state.random.token(UserId::BYTES));
                let tail = &phone.national()[phone.national().len().saturating_sub(4)..];
                let nickname = Nickname::parse(&format!("user{tail}"))?;
                let now = state.clock.now_millis();
                let ops = vec![
                    matched.consume(),
                    TxOp::Put {
                        item: owner_item(phone, &user, None),
                        condition: Some(Condition::NotExists),
                    },
                    TxOp::Put {
                        item: profile_item(&user, phone, &nickname, now),
                        condition: Some(Condition::NotExists),
                    },
                ];
                (user, true, ops)
            }
        };
        let session = new_session(state, &user, SessionKind::Cookie, device);
        ops.push(TxOp::Put {
            item: session.item.clone(),
            condition: Some(Condition::NotExists),
        });
        match state.store.transact_write(ops).await {
            Ok(()) => {
                return Ok(SmsLogin {
                    user,
                    session,
                    first_login,
                })
            }
            Err(StoreError::TxConditionFailed { index: 1 }) => continue,
            Err(e) => return Err(code_race(e)),
        }
    }
    Err(AppError::CodeExpired)
}

// ----- tokens ---------------------------------------------------------------------------

pub fn im_token(
    state: &AppState,
    user: &UserId,
    act: Option<String>,
    members: Vec<String>,
) -> Result<String, AppError> {
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
    state.tokens.sign(&claims).map_err(AppError::Internal)
}

pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

fn access_token(state: &AppState, user: &UserId, session: &str) -> Result<TokenPair, AppError> {
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
    let access_token = state.tokens.sign(&claims).map_err(AppError::Internal)?;
    Ok(TokenPair {
        access_token,
        refresh_token: String::new(),
        expires_in: ttl,
    })
}

pub fn invalid_grant(description: &str) -> AppError {
    AppError::OAuth {
        status: 400,
        error: "invalid_grant",
        description: description.into(),
        retry_after: None,
    }
}

pub async fn oauth_password(
    state: &AppState,
    phone: &PhoneNumber,
    password: &Password,
    device: &Device,
) -> Result<TokenPair, AppError> {
    let (user, session) = match login_password(state, phone, password, device, SessionKind::OAuth).await {
        Ok(ok) => ok,
        Err(AppError::WrongPassword) => return Err(invalid_grant("wrong username or password")),
        Err(AppError::LoginBackoff(secs)) => {
            return Err(AppError::OAuth {
                status: 429,
                error: "invalid_grant",
                description: format!("too many failed logins; retry in {secs} s"),
                retry_after: Some(secs),
            })
        }
        Err(e) => return Err(e),
    };
    let mut pair = access_token(state, &user, &session.id)?;
    pair.refresh_token = session.bearer_secret;
    Ok(pair)
}

/// Rotates a refresh token. Presenting one that was already rotated out (or racing
/// another use of the same one) revokes its whole family.
pub async fn oauth_refresh(state: &AppState, presented: &str) -> Result<TokenPair, AppError> {
    let (user, sid, secret) = split_bearer_secret(presented).ok_or_else(|| invalid_grant("malformed refresh token"))?;
    let key = keys::session(&user, &sid);
    let item = state
        .store
        .get(&key)
        .await?
        .ok_or_else(|| invalid_grant("the refresh token is revoked or expired"))?;
    if item.s("kind") != Some(SessionKind::OAuth.as_str()) {
        return Err(invalid_grant("not a refresh token"));
    }
    let presented_hash = digest(&secret);
    let previous: Vec<&str> = item
        .s("refreshPrev")
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .collect();
    if item.s("refreshHash") != Some(presented_hash.as_str()) {
        if previous.contains(&presented_hash.as_str()) {
            revoke_family(state, &key).await?;
            return Err(invalid_grant("refresh token reuse: the session is revoked"));
        }
        return Err(invalid_grant("unknown refresh token"));
    }
    let new_secret = state.random.token(32);
    let mut remembered: Vec<&str> = previous;
    remembered.push(&presented_hash);
    let skip = remembered.len().saturating_sub(REMEMBERED_REFRESH_TOKENS);
    let remembered = remembered[skip..].join(",");
    let now = state.clock.now_secs();
    let rotated = state
        .store
        .update(
            &key,
            vec![
                Update::set("refreshHash", Attr::S(digest(&new_secret))),
                Update::set("refreshPrev", Attr::S(remembered)),
                Update::set("lastUsedAt", Attr::N(state.clock.now_millis())),
                Update::SetExpiry(now + state.config.limits.session_ttl_secs),
            ],
            Some(Condition::And(vec![
                Condition::Exists,
                Condition::eq("refreshHash", Attr::S(presented_hash)),
            ])),
        )
        .await;
    match rotated {
        Ok(_) => {}
        Err(StoreError::ConditionFailed) => {
            revoke_family(state, &key).await?;
            return Err(invalid_grant("refresh token reuse: the session is revoked"));
        }
        Err(e) => return Err(e.into()),
    }
    let mut pair = access_token(state, &user, &sid)?;
    pair.refresh_token = format!("{user}.{sid}.{new_secret}");
    Ok(pair)
}

async fn revoke_family(state: &AppState, key: &Key) -> Result<(), AppError> {
    state.store.delete(key, None).await?;
    tracing::warn!(session = %key.sk, "refresh token reuse: session revoked");
    Ok(())
}

// ----- sessions -----------------------------------------------------------------------

pub enum Scope {
    Current,
    Others,
    All,
    One(String),
}

impl Scope {
    pub fn parse(scope: Option<&str>, session_id: Option<String>) -> Result<Self, crate::domain::ValidationError> {
        if let Some(id) = session_id.filter(|s| !s.is_empty()) {
            return Ok(Scope::One(id));
        }
        Ok(match scope.unwrap_or("current") {
            "current" => Scope::Current,
            "others" => Scope::Others,
            "all" => Scope::All,
            _ => {
                return Err(crate::domain::ValidationError::new(
                    "scope",
                    "must be current, others or all",
                ))
            }
        })
    }
    /// Whether the caller's own session ends.
    pub fn ends_current(&self, cred: &Credential) -> bool {
        match self {
            Scope::Current | Scope::All => true,
            Scope::Others => false,
            Scope::One(id) => *id == cred.session,
        }
    }
}

pub async fn revoke(state: &AppState, cred: &Credential, scope: &Scope) -> Result<(), AppError> {
    match scope {
        Scope::Current => revoke_current(state, cred).await,
        Scope::One(id) if *id == cred.session => revoke_current(state, cred).await,
        Scope::One(id) => {
            let ops = vec![
                cred.check_op(),
                TxOp::Delete {
                    key: keys::session(&cred.user, id),
                    condition: Some(Condition::Exists),
                },
            ];
            match state.store.transact_write(ops).await {
                Ok(()) => Ok(()),
                Err(StoreError::TxConditionFailed { index: 0 }) => Err(AppError::Unauthorized),
                Err(StoreError::TxConditionFailed { .. }) => Err(AppError::NotFound("no such session".into())),
                Err(e) => Err(e.into()),
            }
        }
        Scope::Others | Scope::All => {
            let sessions = all_sessions(state, &cred.user).await?;
            let current = cred.session_key();
            if !cred.accepts(sessions.iter().find(|s| s.key == current)) {
                return Err(AppError::Unauthorized);
            }
            let head = match scope {
                Scope::All => vec![TxOp::Delete {
                    key: current.clone(),
                    condition: Some(cred.condition()),
                }],
                _ => vec![cred.check_op()],
            };
            let tail = sessions
                .into_iter()
                .filter(|s| s.key != current)
                .map(|s| TxOp::Delete {
                    key: s.key,
                    condition: None,
                })
                .collect();
            transact_chunked(state, head, tail).await.map_err(|e| match e {
                StoreError::TxConditionFailed { index: 0 } => AppError::Unauthorized,
                e => e.into(),
            })
        }
    }
}

async fn revoke_current(state: &AppState, cred: &Credential) -> Result<(), AppError> {
    match state.store.delete(&cred.session_key(), Some(cred.condition())).await {
        Ok(_) => Ok(()),
        Err(StoreError::ConditionFailed) => Err(AppError::Unauthorized),
        Err(e) => Err(e.into()),
    }
}

// ----- password flows -----------------------------------------------------------------

async fn profile_phone(state: &AppState, cred: &Credential) -> Result<PhoneNumber, AppError> {
    let items = cred.read_with(state, &[keys::profile(&cred.user)]).await?;
    let profile = items.into_iter().next().flatten().ok_or(AppError::Unauthorized)?;
    Ok(PhoneNumber::parse_e164(
        "phone",
        profile.s("phone").unwrap_or_default(),
    )?)
}

/// Changes the password and ends every other session; the caller's stays.
pub async fn change_password(
    state: &AppState,
    cred: &Credential,
    old: &Password,
    new: &Password,
) -> Result<(), AppError> {
    let phone = profile_phone(state, cred).await?;
    let owner_key = keys::phone_owner(&phone);
    let owner = state.store.get(&owner_key).await?.ok_or(AppError::Unauthorized)?;
    let old_hash = owner.s("passwordHash").map(str::to_string);
    if !passwords::verify(old, old_hash.as_deref()).await? {
        return Err(AppError::WrongPassword);
    }
    let new_hash = passwords::hash(new, state.random.as_ref()).await?;
    let current = cred.session_key();
    let others = session_deletes(state, &cred.user, Some(&current)).await?;
    let head = vec![
        cred.check_op(),
        TxOp::Update {
            key: owner_key,
            updates: vec![Update::set("passwordHash", Attr::S(new_hash))],
            // A concurrent change wins once: this one must start from the hash it checked.
            condition: Some(Condition::And(vec![
                owned_by(&cred.user),
                Condition::eq("passwordHash", Attr::S(old_hash.unwrap_or_default())),
            ])),
        },
    ];
    transact_chunked(state, head, others).await.map_err(|e| match e {
        StoreError::TxConditionFailed { index: 0 } => AppError::Unauthorized,
        StoreError::TxConditionFailed { .. } => AppError::WrongPassword,
        e => e.into(),
    })
}

/// Sets a new password with a verification token and ends every session of the account.
pub async fn reset_password(state: &AppState, password: &Password, token: &str) -> Result<(), AppError> {
    let verified = read_verification_token(state, token).await?.ok_or_else(token_gone)?;
    if !matches!(verified.purpose, CodePurpose::Verify | CodePurpose::Reset) {
        return Err(token_gone());
    }
    let owner_key = keys::phone_owner(&verified.phone);
    let owner = state
        .store
        .get(&owner_key)
        .await?
        .ok_or_else(|| AppError::NotFound("no account has this phone number".into()))?;
    let user = user_of(&owner)?;
    let hash = passwords::hash(password, state.random.as_ref()).await?;
    let sessions = session_deletes(state, &user, None).await?;
    let head = vec![
        TxOp::Delete {
            key: verified.key,
            condition: Some(Condition::Exists),
        },
        TxOp::Update {
            key: owner_key,
            updates: vec![Update::set("passwordHash", Attr::S(hash))],
            condition: Some(owned_by(&user)),
        },
        TxOp::Delete {
            key: keys::login_failures(&verified.phone),
            condition: None,
        },
    ];
    transact_chunked(state, head, sessions).await.map_err(|e| match e {
        StoreError::TxConditionFailed { index: 0 } | StoreError::Conflict => token_gone(),
        StoreError::TxConditionFailed { .. } => AppError::NotFound("no account has this phone number".into()),
        e => e.into(),
    })
}

// ----- account deletion ---------------------------------------------------------------

/// Deletes the account with a fresh `delete` code: profile, phone marker (the number is
/// free again) and every session go in one transaction.
pub async fn delete_account(state: &AppState, cred: &Credential, code: &PresentedCode) -> Result<(), AppError> {
    let phone = profile_phone(state, cred).await?;
    let matched = check_code(state, &phone, CodePurpose::Delete, code).await?;
    let current = cred.session_key();
    let others = session_deletes(state, &cred.user, Some(&current)).await?;
    let head = vec![
        matched.consume(),
        TxOp::Delete {
            key: current,
            condition: Some(cred.condition()),
        },
        TxOp::Delete {
            key: keys::profile(&cred.user),
            condition: Some(Condition::Exists),
        },
        TxOp::Delete {
            key: keys::phone_owner(&phone),
            condition: Some(owned_by(&cred.user)),
        },
        TxOp::Delete {
            key: keys::login_failures(&phone),
            condition: None,
        },
    ];
    transact_chunked(state, head, others).await.map_err(|e| match e {
        StoreError::TxConditionFailed { index: 0 } => AppError::CodeExpired,
        StoreError::TxConditionFailed { .. } => AppError::Unauthorized,
        e => e.into(),
    })?;
    tracing::info!(user = %cred.user, "account deleted");
    Ok(())
}
