//! Profile settings. A change friends see (nickname, portrait) records a `user` change
//! in the user's feed in the same transaction (`docs/sync.md` §9); the others are one
//! transaction with the session check.

use crate::auth::Credential;
use crate::domain::{Birthday, Gender, LoginId, Nickname, PortraitUri, PrivacyChange, StAccount, Username};
use crate::error::Error;
use crate::ports::{Key, TxOp};
use crate::state::AppState;
use crate::store::feeds::{self, Change};
use crate::store::names::{self, NameKind};
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
    Names,
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
        let mut tx = Tx::new()
            .step(Step::Session, cred.check_op())
            .step(
                Step::Profile,
                profile::set_seen_by_friends(&cred.user, nickname, portrait, n + 1, now),
            )
            .steps(Step::Feed, feeds::append(&head, n, &[Change::user(&cred.user)], now));
        if let Some(nickname) = nickname {
            tx = tx.step(
                Step::Names,
                names::put(&cred.user, NameKind::Nickname, nickname.as_str()),
            );
        }
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

/// Renames one of the user's unique names (SealTalk id, username): the profile moves
/// from `old` (a racing change of the user's own name fails instead of orphaning a
/// marker) and, unless only the spelling's case changed, the new marker is claimed and
/// the old one freed, all in one transaction: of racing claims one wins.
async fn rename(
    state: &AppState,
    cred: &Credential,
    profile_op: TxOp,
    markers: Option<(Key, Option<Key>)>,
    index: Option<TxOp>,
    taken: Error,
) -> Result<(), Error> {
    let mut tx = Tx::new()
        .step(Step::Session, cred.check_op())
        .step(Step::Profile, profile_op);
    if let Some(index) = index {
        tx = tx.step(Step::Names, index);
    }
    if let Some((new, old)) = markers {
        tx = tx.step(Step::Claim, markers::claim_key(new, &cred.user));
        if let Some(old) = old {
            tx = tx.step(Step::Release, markers::release_key(old, &cred.user));
        }
    }
    match tx.commit(state.store.as_ref()).await {
        Ok(()) => Ok(()),
        Err(TxError::Failed(Step::Session)) => Err(cred.rejected()),
        Err(TxError::Failed(Step::Claim)) => Err(taken),
        // The user's own name changed meanwhile (a racing request of theirs): retry.
        Err(TxError::Failed(_) | TxError::Conflict) => Err(Error::Contended),
        Err(TxError::Store(e)) => Err(e.into()),
    }
}

pub async fn set_st_account(state: &AppState, cred: &Credential, account: &StAccount) -> Result<(), Error> {
    let old = own(state, cred).await?.st_account;
    if old == account.as_str() {
        return Ok(());
    }
    let op = profile::set_st_account(&cred.user, &old, account, state.clock.now_millis());
    let old_account = StAccount::parse(&old).ok();
    let markers = (old_account.as_ref().map(StAccount::unique_form) != Some(account.unique_form())).then(|| {
        (
            keys::st_account_marker(account),
            old_account.as_ref().map(keys::st_account_marker),
        )
    });
    rename(state, cred, op, markers, None, Error::StAccountTaken).await
}

/// The username is a login identifier: its marker is the one a username login reads.
pub async fn set_username(state: &AppState, cred: &Credential, name: &Username) -> Result<(), Error> {
    let old = own(state, cred).await?.username;
    if old == name.as_str() {
        return Ok(());
    }
    let op = profile::set_username(&cred.user, &old, name, state.clock.now_millis());
    let old_name = Username::parse(&old).ok();
    let marker = |n: &Username| markers::key(&LoginId::Username(n.clone()));
    let markers = (old_name.as_ref().map(Username::unique_form) != Some(name.unique_form()))
        .then(|| (marker(name), old_name.as_ref().map(marker)));
    let index = names::put(&cred.user, NameKind::Username, name.as_str());
    rename(state, cred, op, markers, Some(index), Error::UsernameTaken).await
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
