//! Sign-up: with a verification token (the phone or email it proved becomes a login
//! identifier), or by username alone behind a solved captcha; an optional username is
//! claimed in the same transaction. The new user is logged in at once (as SealTalk's
//! server does).

use crate::auth::passwords;
use crate::auth::sessions::{new_session, NewSession, SessionKind};
use crate::domain::{CodePurpose, Device, LoginId, Nickname, Password, Recipient, UserId, Username, ValidationError};
use crate::error::Error;
use crate::state::AppState;
use crate::store::names::{self, NameKind};
use crate::store::profile::Contact;
use crate::store::{self, Tx, TxError};
use crate::verification::{read_token, VerificationToken, Verified};

/// What proves the sign-up is a person's: a verified code, or a solved captcha (the
/// route solved it; username-only sign-ups need one).
pub enum Proof<'a> {
    Token(&'a VerificationToken),
    Captcha,
}

#[derive(Clone, Copy, Debug)]
enum Step {
    Token,
    Marker,
    Username,
    Profile,
    Names,
    Credential,
    Session,
}

pub async fn register(
    state: &AppState,
    nickname: &Nickname,
    password: &Password,
    proof: Proof<'_>,
    username: Option<&Username>,
    device: &Device,
) -> Result<(UserId, NewSession), Error> {
    let verified: Option<Verified> = match proof {
        Proof::Token(token) => Some(read_token(state, token, &[CodePurpose::Verify, CodePurpose::Register]).await?),
        Proof::Captcha => None,
    };
    if verified.is_none() && username.is_none() {
        return Err(ValidationError::new("username", "is required to sign up without a verification_token").into());
    }
    let hash = passwords::hash(password, state.random.as_ref()).await?;
    let user = UserId::from_minted(state.random.token(UserId::BYTES));
    let session = new_session(state, &user, SessionKind::Cookie, device);
    let now = state.clock.now_millis();
    let contact = verified.as_ref().map_or_else(Contact::default, |v| Contact::of(&v.to));
    let mut tx = Tx::new();
    if let Some(v) = &verified {
        let id = v.to.login_id().ok_or(Error::VerificationTokenGone)?;
        tx = tx
            .step(Step::Token, v.spend())
            .step(Step::Marker, store::markers::claim(&id, &user));
    }
    if let Some(name) = username {
        tx = tx
            .step(
                Step::Username,
                store::markers::claim(&LoginId::Username(name.clone()), &user),
            )
            .step(Step::Names, names::put(&user, NameKind::Username, name.as_str()));
    }
    let mut profile = store::profile::create(&user, contact, nickname, state.config.limits.default_level, now);
    if let (Some(name), crate::ports::TxOp::Put { item, .. }) = (username, &mut profile) {
        *item = store::profile::with_username(item.clone(), name);
    }
    tx = tx
        .step(Step::Profile, profile)
        .step(Step::Names, names::put(&user, NameKind::Nickname, nickname.as_str()))
        .step(Step::Credential, store::credential::create(&user, Some(hash)))
        .step(Step::Session, session.create.clone());
    match tx.commit(state.store.as_ref()).await {
        Ok(()) => {
            tracing::info!(user = %user, "registered");
            Ok((user, session))
        }
        Err(TxError::Failed(Step::Token) | TxError::Conflict) => Err(Error::VerificationTokenGone),
        Err(TxError::Failed(Step::Marker)) => Err(match verified.map(|v| v.to) {
            Some(Recipient::Email(_)) => Error::EmailTaken,
            _ => Error::PhoneTaken,
        }),
        Err(TxError::Failed(Step::Username)) => Err(Error::UsernameTaken),
        // Fresh random ids cannot exist already.
        Err(TxError::Failed(step @ (Step::Profile | Step::Names | Step::Credential | Step::Session))) => Err(
            Error::Internal(format!("a new account's {step:?} item already existed")),
        ),
        Err(TxError::Store(e)) => Err(e.into()),
    }
}
