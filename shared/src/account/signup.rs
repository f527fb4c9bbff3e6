//! Sign-up with a verification token: the phone it proved becomes the account's login
//! identifier, and the new user is logged in at once (as SealTalk's server does).

use crate::auth::passwords;
use crate::auth::sessions::{new_session, NewSession, SessionKind};
use crate::domain::{CodePurpose, Device, LoginId, Nickname, Password, Recipient, UserId, ValidationError};
use crate::error::Error;
use crate::state::AppState;
use crate::store::{self, Tx, TxError};
use crate::verification::{read_token, VerificationToken};

#[derive(Clone, Copy, Debug)]
enum Step {
    Token,
    Marker,
    Profile,
    Credential,
    Session,
}

pub async fn register(
    state: &AppState,
    nickname: &Nickname,
    password: &Password,
    token: &VerificationToken,
    device: &Device,
) -> Result<(UserId, NewSession), Error> {
    let verified = read_token(state, token, &[CodePurpose::Verify, CodePurpose::Register]).await?;
    let Recipient::Phone(phone) = &verified.to else {
        return Err(ValidationError::new("verification_token", "proves an email address; sign-up needs a phone's").into());
    };
    let hash = passwords::hash(password, state.random.as_ref()).await?;
    let user = UserId::from_minted(state.random.token(UserId::BYTES));
    let session = new_session(state, &user, SessionKind::Cookie, device);
    let now = state.clock.now_millis();
    let tx = Tx::new()
        .step(Step::Token, verified.spend())
        .step(Step::Marker, store::markers::claim(&LoginId::Phone(phone.clone()), &user))
        .step(Step::Profile, store::profile::create(&user, phone, nickname, now))
        .step(Step::Credential, store::credential::create(&user, Some(hash)))
        .step(Step::Session, session.create.clone());
    match tx.commit(state.store.as_ref()).await {
        Ok(()) => {
            tracing::info!(user = %user, phone = %phone.masked(), "registered");
            Ok((user, session))
        }
        Err(TxError::Failed(Step::Token) | TxError::Conflict) => Err(Error::VerificationTokenGone),
        Err(TxError::Failed(Step::Marker)) => Err(Error::PhoneTaken),
        // Fresh random ids cannot exist already.
        Err(TxError::Failed(step @ (Step::Profile | Step::Credential | Step::Session))) => {
            Err(Error::Internal(format!("a new account's {step:?} item already existed")))
        }
        Err(TxError::Store(e)) => Err(e.into()),
    }
}
