//! Logins: password (per login identifier, with exponential backoff) and SMS code
//! (creating the account on first use).

use crate::auth::passwords;
use crate::auth::sessions::{new_session, NewSession, SessionKind};
use crate::domain::{CodePurpose, Device, LoginId, Nickname, Password, PhoneNumber, Recipient, UserId};
use crate::error::Error;
use crate::ports::StoreError;
use crate::state::AppState;
use crate::store::{self, login_failures, Tx, TxError};
use crate::verification::{check_code, PresentedCode};

/// How long failed logins are remembered.
const FAILURE_MEMORY_SECS: i64 = 86_400;
/// How long one attempt holds the lock that serialises attempts on an identifier.
const ATTEMPT_LOCK_SECS: i64 = 10;

fn backoff_secs(state: &AppState, failures: i64) -> i64 {
    let l = &state.config.limits;
    if failures < l.login_failures_before_backoff {
        return 0;
    }
    let exp = (failures - l.login_failures_before_backoff).min(30) as u32;
    (1i64 << exp).min(l.login_backoff_max_secs)
}

#[derive(Clone, Copy, Debug)]
enum Step {
    Session,
    Owner,
    Password,
    Failures,
}

/// Logs in with an identifier and a password. Unknown identifiers and wrong passwords
/// take the same path (a dummy hash is verified) and count the same failures, so
/// neither the answer nor its timing says whether the identifier is registered.
pub async fn login_password(
    state: &AppState,
    id: &LoginId,
    password: &Password,
    device: &Device,
    kind: SessionKind,
) -> Result<(UserId, NewSession), Error> {
    let now = state.clock.now_secs();
    let fail_key = login_failures::key(id);
    // Attempts on one identifier are serialised by a short lock on its failure record,
    // taken only when no backoff is running: concurrent guesses cannot outrun the count.
    let (updates, condition) = login_failures::reserve(now, now + ATTEMPT_LOCK_SECS, now + FAILURE_MEMORY_SECS);
    let reserve = state.store.update(&fail_key, updates, Some(condition));
    let marker_key = store::markers::key(id);
    let (reserved, marker) = tokio::join!(reserve, state.store.get(&marker_key));
    let failures = match reserved {
        // Failures are consecutive within a day; an older run no longer counts, even
        // while the store still holds its expired record.
        Ok(item) => login_failures::recent_failures(&item, now, FAILURE_MEMORY_SECS),
        Err(StoreError::ConditionFailed) => {
            let wait = match state.store.get(&fail_key).await? {
                Some(item) => login_failures::wait_secs(&item, now),
                None => 1,
            };
            return Err(Error::LoginBackoff {
                retry_after_secs: wait.max(1),
            });
        }
        Err(e) => return Err(e.into()),
    };
    let user = match marker? {
        Some(m) => Some(store::markers::owner(&m)?),
        None => None,
    };
    let credential = match &user {
        Some(u) => state.store.get(&store::credential::key(u)).await?,
        None => None,
    };
    let stored_hash = credential.as_ref().and_then(store::credential::password_hash);
    let matched = passwords::verify(password, stored_hash).await?;
    let (user, hash) = match (matched, user, stored_hash) {
        (true, Some(user), Some(hash)) => (user, hash),
        _ => {
            let n = failures + 1;
            let updates = login_failures::record_failure(n, now, now + backoff_secs(state, n));
            state.store.update(&fail_key, updates, None).await?;
            tracing::info!(login = %id.masked(), failures = n, "login failed");
            return Err(Error::WrongPassword);
        }
    };
    let session = new_session(state, &user, kind, device);
    let tx = Tx::new()
        .step(Step::Session, session.create.clone())
        .step(Step::Owner, store::markers::check_owner(id, &user))
        // The session is opened only against the password that was verified: a login in
        // flight during a password change or reset fails instead of outliving it.
        .step(Step::Password, store::credential::open_session_with_password(&user, hash))
        .step(Step::Failures, login_failures::clear(id));
    match tx.commit(state.store.as_ref()).await {
        Ok(()) => Ok((user, session)),
        Err(TxError::Failed(Step::Owner | Step::Password) | TxError::Conflict) => {
            state.store.update(&fail_key, login_failures::release(), None).await?;
            Err(Error::WrongPassword)
        }
        Err(TxError::Failed(step)) => Err(Error::Internal(format!("login step {step:?} failed"))),
        Err(TxError::Store(e)) => Err(e.into()),
    }
}

pub struct SmsLogin {
    pub user: UserId,
    pub session: NewSession,
    pub first_login: bool,
}

#[derive(Clone, Copy, Debug)]
enum SmsStep {
    Code,
    Marker,
    Profile,
    Credential,
    Session,
}

/// The nickname of an account created by SMS login: `user` and the last four digits.
fn default_nickname(phone: &PhoneNumber) -> Result<Nickname, Error> {
    let national = phone.national();
    let tail = &national[national.len().saturating_sub(4)..];
    Ok(Nickname::parse(&format!("user{tail}"))?)
}

pub async fn login_sms(
    state: &AppState,
    phone: &PhoneNumber,
    code: &PresentedCode,
    device: &Device,
) -> Result<SmsLogin, Error> {
    let to = Recipient::Phone(phone.clone());
    let id = LoginId::Phone(phone.clone());
    let matched = check_code(state, &to, CodePurpose::Login, code).await?;
    let marker_key = store::markers::key(&id);
    // Twice at most: a first login can lose the race to create the account to another.
    for _ in 0..2 {
        let owner = match state.store.get(&marker_key).await? {
            Some(m) => Some(store::markers::owner(&m)?),
            None => None,
        };
        let first_login = owner.is_none();
        let user = owner.unwrap_or_else(|| UserId::from_minted(state.random.token(UserId::BYTES)));
        let session = new_session(state, &user, SessionKind::Cookie, device);
        let mut tx = Tx::new().step(SmsStep::Code, matched.consume());
        tx = if first_login {
            let now = state.clock.now_millis();
            tx.step(SmsStep::Marker, store::markers::claim(&id, &user))
                .step(SmsStep::Profile, store::profile::create(&user, phone, &default_nickname(phone)?, now))
                .step(SmsStep::Credential, store::credential::create(&user, None))
        } else {
            tx.step(SmsStep::Marker, store::markers::check_owner(&id, &user))
                .step(SmsStep::Credential, store::credential::open_session(&user))
        };
        tx = tx.step(SmsStep::Session, session.create.clone());
        match tx.commit(state.store.as_ref()).await {
            Ok(()) => {
                return Ok(SmsLogin {
                    user,
                    session,
                    first_login,
                })
            }
            Err(TxError::Failed(SmsStep::Marker)) => continue,
            Err(TxError::Failed(SmsStep::Code) | TxError::Conflict) => return Err(Error::CodeExpired),
            Err(TxError::Failed(step)) => return Err(Error::Internal(format!("SMS login step {step:?} failed"))),
            Err(TxError::Store(e)) => return Err(e.into()),
        }
    }
    Err(Error::CodeExpired)
}
