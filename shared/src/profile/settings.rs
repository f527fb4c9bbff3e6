//! Profile settings. A change friends see (nickname, portrait) records a `user` change
//! in the user's feed in the same transaction (`docs/sync.md` §9); the others are one
//! transaction with the session check.

use crate::auth::Credential;
use crate::domain::{Birthday, Gender, LoginId, Nickname, PortraitUri, PrivacyChange, StAccount, Username};
use crate::error::Error;
use crate::ports::TxOp;
use crate::state::AppState;
use crate::store::feeds::{self, Change};
use crate::store::profile::{self, Profile};
use crate::store::{keys, markers, Tx, TxError};

/// How often a synced write re-reads after another writer moved the feed first.
const ATTEMPTS: usize = 5;

#[derive(Clone, Copy, Debug)]
enum Step {
    Session,
    Profile,
    Feed,
    Claim,
    Release,
}

/// One transaction: the session check and one profile update.
async fn update(state: &AppState, cred: &Credential, op: TxOp) -> Result<(), Error> {
    let tx = Tx::new().step(Step::Session, cred.check_op()).step(Step::Profile, op);
    match tx.commit(state.store.as_ref()).await {
        Ok(()) => Ok(()),
        Err(TxError::Failed(Step::Session)) => Err(cred.rejected()),
        Err(TxError::Failed(_)) => Err(Error::Unauthorized),
        Err(TxError::Conflict) => Err(Error::Contended),
        Err(TxError::Store(e)) => Err(e.into()),
    }
}

/// A change friends see: the profile and a `user` record in the user's feed, together.
pub(super) async fn change_seen_by_friends(
    state: &AppState,
    cred: &Credential,
    nickname: Option<&Nickname>,
    portrait: Option<&PortraitUri>,
) -> Result<(), Error> {
    let head = feeds::user_head(&cred.user);
    for _ in 0..ATTEMPTS {
        let [profile, head_item] = cred.read(state, [profile::key(&cred.user), head.clone()]).await?;
        profile.ok_or(Error::Unauthorized)?;
        let n = feeds::seq(head_item.as_ref())?;
        let now = state.clock.now_millis();
        let tx = Tx::new()
            .step(Step::Session, cred.check_op())
            .step(
                Step::Profile,
                profile::set_seen_by_friends(&cred.user, nickname, portrait, n + 1, now),
            )
            .steps(Step::Feed, feeds::append(&head, n, &[Change::user(&cred.user)], now));
        match tx.commit(state.store.as_ref()).await {
            Ok(()) => return Ok(()),
            Err(TxError::Failed(Step::Session)) => return Err(cred.rejected()),
            Err(TxError::Failed(Step::Profile)) => return Err(Error::Unauthorized),
            // Another write to this user's feed took the next number: read again.
            Err(TxError::Failed(_) | TxError::Conflict) => continue,
            Err(TxError::Store(e)) => return Err(e.into()),
        }
    }
    Err(Error::Contended)
}

pub async fn set_nickname(state: &AppState, cred: &Credential, nickname: &Nickname) -> Result<(), Error> {
    change_seen_by_friends(state, cred, Some(nickname), None).await
}

pub async fn set_portrait_uri(state: &AppState, cred: &Credential, portrait: &PortraitUri) -> Result<(), Error> {
    change_seen_by_friends(state, cred, None, Some(portrait)).await
}

pub async fn set_gender(state: &AppState, cred: &Credential, gender: Gender) -> Result<(), Error> {
    update(
        state,
        cred,
        profile::set_gender(&cred.user, gender, state.clock.now_millis()),
    )
    .await
}

/// Takes the SealTalk id, frees the old one, and changes the profile, all at once: of
/// racing claims one wins, and no marker is left without its profile.
pub async fn set_st_account(state: &AppState, cred: &Credential, account: &StAccount) -> Result<(), Error> {
    let [profile] = cred.read(state, [profile::key(&cred.user)]).await?;
    let current = Profile::from_item(&profile.ok_or(Error::Unauthorized)?)?;
    let old = current.st_account;
    if old == account.as_str() {
        return Ok(());
    }
    let now = state.clock.now_millis();
    let mut tx = Tx::new()
        .step(Step::Session, cred.check_op())
        .step(Step::Profile, profile::set_st_account(&cred.user, &old, account, now));
    let old_account = StAccount::parse(&old).ok();
    let same_name = old_account
        .as_ref()
        .is_some_and(|o| o.unique_form() == account.unique_form());
    if !same_name {
        // A new name: claim it; a new spelling of one's own name keeps its marker.
        tx = tx.step(
            Step::Claim,
            markers::claim_key(keys::st_account_marker(account), &cred.user),
        );
        if let Some(old) = &old_account {
            tx = tx.step(
                Step::Release,
                markers::release_key(keys::st_account_marker(old), &cred.user),
            );
        }
    }
    match tx.commit(state.store.as_ref()).await {
        Ok(()) => Ok(()),
        Err(TxError::Failed(Step::Session)) => Err(cred.rejected()),
        Err(TxError::Failed(Step::Claim)) => Err(Error::StAccountTaken),
        // The user's own id changed meanwhile (a racing request of theirs): retry.
        Err(TxError::Failed(_) | TxError::Conflict) => Err(Error::Contended),
        Err(TxError::Store(e)) => Err(e.into()),
    }
}

/// Takes the username, frees the old one, and changes the profile, all at once (the
/// username is a login identifier: its marker is the one a username login reads).
pub async fn set_username(state: &AppState, cred: &Credential, name: &Username) -> Result<(), Error> {
    let [profile] = cred.read(state, [profile::key(&cred.user)]).await?;
    let old = Profile::from_item(&profile.ok_or(Error::Unauthorized)?)?.username;
    if old == name.as_str() {
        return Ok(());
    }
    let now = state.clock.now_millis();
    let mut tx = Tx::new()
        .step(Step::Session, cred.check_op())
        .step(Step::Profile, profile::set_username(&cred.user, &old, name, now));
    let old_name = Username::parse(&old).ok();
    if old_name.as_ref().map(Username::unique_form) != Some(name.unique_form()) {
        tx = tx.step(
            Step::Claim,
            markers::claim(&LoginId::Username(name.clone()), &cred.user),
        );
        if let Some(old) = old_name {
            tx = tx.step(Step::Release, markers::release(&LoginId::Username(old), &cred.user));
        }
    }
    match tx.commit(state.store.as_ref()).await {
        Ok(()) => Ok(()),
        Err(TxError::Failed(Step::Session)) => Err(cred.rejected()),
        Err(TxError::Failed(Step::Claim)) => Err(Error::UsernameTaken),
        Err(TxError::Failed(_) | TxError::Conflict) => Err(Error::Contended),
        Err(TxError::Store(e)) => Err(e.into()),
    }
}

/// Today's date (UTC) by the service clock, for date rules.
pub fn today(state: &AppState) -> (u16, u8, u8) {
    let iso = crate::privacy::iso_millis(state.clock.now_millis());
    let y = iso[0..4].parse().unwrap_or(1970);
    let m = iso[5..7].parse().unwrap_or(1);
    let d = iso[8..10].parse().unwrap_or(1);
    (y, m, d)
}

pub async fn set_birthday(state: &AppState, cred: &Credential, birthday: Birthday) -> Result<(), Error> {
    update(
        state,
        cred,
        profile::set_birthday(&cred.user, birthday, state.clock.now_millis()),
    )
    .await
}

pub async fn set_privacy(state: &AppState, cred: &Credential, change: &PrivacyChange) -> Result<(), Error> {
    if change.is_empty() {
        return cred.check(state).await;
    }
    update(
        state,
        cred,
        profile::set_privacy(&cred.user, change, state.clock.now_millis()),
    )
    .await
}

pub async fn set_poke(state: &AppState, cred: &Credential, on: bool) -> Result<(), Error> {
    update(state, cred, profile::set_poke(&cred.user, on, state.clock.now_millis())).await
}

/// The caller's own profile (one round trip with the session check).
pub async fn own(state: &AppState, cred: &Credential) -> Result<Profile, Error> {
    let [profile] = cred.read(state, [profile::key(&cred.user)]).await?;
    Profile::from_item(&profile.ok_or(Error::Unauthorized)?)
}
