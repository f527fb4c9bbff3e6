//! Logins: password (per login identifier, with exponential backoff) and a code sent by
//! SMS or email (creating the account on first use).

use std::net::IpAddr;

use crate::auth::passwords;
use crate::auth::sessions::{new_session, NewSession, SessionKind};
use crate::domain::{CodePurpose, Device, LoginId, Nickname, Password, Recipient, UserId};
use crate::error::Error;
use crate::ports::StoreError;
use crate::state::AppState;
use crate::store::profile::Contact;
use crate::store::{self, login_failures, Tx, TxError};
use crate::verification::{check_code, PresentedCode};

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

#[derive(Clone, Copy, Debug)]
enum Step {
    Session,
    Owner,
    Password,
    Failures,
}

/// One password check on a login identifier from a client network. Logins and
/// `change_password` (whose old password is a guess too) share it: a running backoff of
/// the identifier, or a network past its hourly number of failures (password spraying
/// across many accounts), refuses the check before any hash is computed; a wrong
/// password counts atomically on both.
pub(super) struct PasswordAttempt<'a> {
    id: &'a LoginId,
    network_key: crate::ports::Key,
    now: i64,
    hour_end: i64,
}

/// The keys a check reads first: the identifier's failures and the network's.
pub(super) fn attempt_keys(state: &AppState, id: &LoginId, ip: &IpAddr) -> [crate::ports::Key; 2] {
    let hour = state.clock.now_secs().div_euclid(3600);
    [login_failures::key(id), login_failures::network_key(ip, hour)]
}

impl<'a> PasswordAttempt<'a> {
    /// Starts a check, given what `attempt_keys` read; answers with the backoff still
    /// running, if one is.
    pub(super) fn begin(
        state: &AppState,
        id: &'a LoginId,
        ip: &IpAddr,
        [failures, network]: [Option<&crate::ports::Item>; 2],
    ) -> Result<PasswordAttempt<'a>, Error> {
        let now = state.clock.now_secs();
        let hour = now.div_euclid(3600);
        let hour_end = (hour + 1) * 3600;
        if network.is_some_and(|n| login_failures::count(n) >= state.config.limits.password_failures_per_ip_hour) {
            return Err(Error::LoginBackoff {
                retry_after_secs: hour_end - now,
            });
        }
        let wait = failures.map_or(0, |f| login_failures::wait_secs(f, now));
        if wait > 0 {
            return Err(Error::LoginBackoff { retry_after_secs: wait });
        }
        Ok(PasswordAttempt {
            id,
            network_key: login_failures::network_key(ip, hour),
            now,
            hour_end,
        })
    }

    /// Counts a wrong password and extends the backoff it earned.
    pub(super) async fn failed(self, state: &AppState) -> Result<Error, Error> {
        let key = login_failures::key(self.id);
        let forget_at = self.now + FAILURE_MEMORY_SECS;
        let mut count = None;
        // A running count grows; a stale or absent one starts over. Of two racing first
        // failures one starts the count and the other adds to it.
        for _ in 0..3 {
            let (updates, condition) = login_failures::add_failure(self.now, forget_at);
            match state.store.update(&key, updates, Some(condition)).await {
                Ok(item) => {
                    count = Some(login_failures::count(&item));
                    break;
                }
                Err(StoreError::ConditionFailed) => {}
                Err(e) => return Err(e.into()),
            }
            let (updates, condition) = login_failures::first_failure(self.now, forget_at);
            match state.store.update(&key, updates, Some(condition)).await {
                Ok(_) => {
                    count = Some(1);
                    break;
                }
                Err(StoreError::ConditionFailed) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let n = count.ok_or(Error::Contended)?;
        state
            .store
            .update(
                &self.network_key,
                login_failures::count_network_failure(self.hour_end),
                None,
            )
            .await?;
        let backoff = backoff_secs(state, n);
        if backoff > 0 {
            let (updates, condition) = login_failures::block_until(self.now + backoff);
            match state.store.update(&key, updates, Some(condition)).await {
                Ok(_) | Err(StoreError::ConditionFailed) => {}
                Err(e) => return Err(e.into()),
            }
        }
        tracing::info!(login = %self.id.masked(), failures = n, "wrong password");
        Ok(Error::WrongPassword)
    }

    /// The transaction step that forgets the failures when the password was right.
    pub(super) fn succeeded(&self) -> crate::ports::TxOp {
        login_failures::clear(self.id)
    }
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
    ip: &IpAddr,
) -> Result<(UserId, NewSession), Error> {
    // One round trip reads the identifier's owner, its failures and the network's.
    let [failures_key, network_key] = attempt_keys(state, id, ip);
    let read = state
        .store
        .batch_get(&[store::markers::key(id), failures_key, network_key])
        .await?;
    let [marker, failures, network] = store::exactly(read)?;
    let attempt = PasswordAttempt::begin(state, id, ip, [failures.as_ref(), network.as_ref()])?;
    let user = match marker {
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
        _ => return Err(attempt.failed(state).await?),
    };
    let session = new_session(state, &user, kind, device);
    let tx = Tx::new()
        .step(Step::Session, session.create.clone())
        .step(Step::Owner, store::markers::check_owner(id, &user))
        // The session is opened only against the password that was verified: a login in
        // flight during a password change or reset fails instead of outliving it.
        .step(
            Step::Password,
            store::credential::open_session_with_password(&user, hash),
        )
        .step(Step::Failures, attempt.succeeded());
    match tx.commit(state.store.as_ref()).await {
        Ok(()) => Ok((user, session)),
        Err(TxError::Failed(Step::Owner | Step::Password) | TxError::Conflict) => Err(Error::WrongPassword),
        Err(TxError::Failed(step)) => Err(Error::Internal(format!("login step {step:?} failed"))),
        Err(TxError::Store(e)) => Err(e.into()),
    }
}

pub struct CodeLogin {
    pub user: UserId,
    pub session: NewSession,
    pub first_login: bool,
}

#[derive(Clone, Copy, Debug)]
enum CodeStep {
    Code,
    Marker,
    Profile,
    Credential,
    Session,
}

/// The nickname of an account created by a code login: `user` and the phone's last four
/// digits, or the email address's local part.
fn default_nickname(to: &Recipient) -> Result<Nickname, Error> {
    let name = match to {
        Recipient::Phone(phone) => {
            let national = phone.national();
            format!("user{}", &national[national.len().saturating_sub(4)..])
        }
        Recipient::Email(email) => {
            let local: String = email
                .as_str()
                .split('@')
                .next()
                .unwrap_or("")
                .chars()
                .take(20)
                .collect();
            if local.is_empty() {
                "user".to_string()
            } else {
                local
            }
        }
    };
    Ok(Nickname::parse(&name).or_else(|_| Nickname::parse("user"))?)
}

/// Signs in with a `login` code sent by SMS or email, creating the account on first use
/// (the phone or the email is then its login identity).
pub async fn login_code(
    state: &AppState,
    to: &Recipient,
    code: &PresentedCode,
    device: &Device,
) -> Result<CodeLogin, Error> {
    let id = to.login_id().ok_or(Error::CodeExpired)?;
    let matched = check_code(state, to, CodePurpose::Login, code).await?;
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
        let mut tx = Tx::new().step(CodeStep::Code, matched.consume());
        tx = if first_login {
            let now = state.clock.now_millis();
            let contact = Contact::of(to);
            let nickname = default_nickname(to)?;
            tx.step(CodeStep::Marker, store::markers::claim(&id, &user))
                .step(
                    CodeStep::Profile,
                    store::profile::create(&user, contact, &nickname, state.config.limits.default_level, now),
                )
                .step(
                    CodeStep::Profile,
                    store::names::put(&user, store::names::NameKind::Nickname, nickname.as_str()),
                )
                .step(CodeStep::Credential, store::credential::create(&user, None))
        } else {
            tx.step(CodeStep::Marker, store::markers::check_owner(&id, &user))
                .step(CodeStep::Credential, store::credential::open_session(&user))
        };
        tx = tx.step(CodeStep::Session, session.create.clone());
        match tx.commit(state.store.as_ref()).await {
            Ok(()) => {
                return Ok(CodeLogin {
                    user,
                    session,
                    first_login,
                })
            }
            Err(TxError::Failed(CodeStep::Marker)) => continue,
            Err(TxError::Failed(CodeStep::Code) | TxError::Conflict) => return Err(Error::CodeExpired),
            Err(TxError::Failed(step)) => return Err(Error::Internal(format!("code login step {step:?} failed"))),
            Err(TxError::Store(e)) => return Err(e.into()),
        }
    }
    Err(Error::CodeExpired)
}
