//! Reading other users: by id, a batch of ids, or a directory look-up by phone number
//! or SealTalk id. Everything returned goes through the privacy view; look-ups are
//! rate limited per user and per network so the directory cannot be scraped.

use std::net::IpAddr;

use crate::auth::Credential;
use crate::domain::{LoginId, PhoneNumber, StAccount, UserId};
use crate::error::Error;
use crate::homepage;
use crate::ports::{Item, Key};
use crate::privacy::{Card, Relation, Seen, Viewer};
use crate::state::AppState;
use crate::store::feeds;
use crate::store::profile::{self, Profile};
use crate::store::relations::{self, Edge, Status};
use crate::store::{codes, keys, markers, names, Tx, TxError};

/// A user read by id, with their relation counts and, when their `displayFollows`
/// allows (or it is the user themself), whom they follow and their first fans.
#[derive(serde::Serialize)]
#[serde(untagged)]
pub enum UserPage {
    Full {
        #[serde(flatten)]
        user: crate::privacy::UserView,
        #[serde(flatten)]
        counts: homepage::Counts,
        #[serde(flatten, skip_serializing_if = "Option::is_none")]
        lists: Option<homepage::Lists>,
    },
    Card(Card),
}

pub async fn user(state: &AppState, cred: &Credential, target: &UserId) -> Result<UserPage, Error> {
    let me = &cred.user;
    let keys = [
        profile::key(target),
        relations::block_key(target, me),
        relations::friend_key(me, target),
        relations::friend_key(target, me),
        feeds::user_head(target),
        profile::key(me),
    ];
    // The lists are read at the same time as the rest, and dropped if not to be shown.
    let (read, lists) = tokio::join!(cred.read(state, keys), homepage::lists(state, target));
    let [item, blocks_me, mine, theirs, head, own] = read?;
    let own = Profile::from_item(&own.ok_or(Error::Unauthorized)?)?;
    if me != target && own.level < state.config.limits.min_viewer_level {
        return Err(Error::LevelTooLow);
    }
    let item = item.ok_or_else(|| Error::NotFound("no such user".into()))?;
    let agreed = |e: Option<Item>| -> Result<bool, Error> {
        Ok(e.as_ref()
            .map(Edge::from_item)
            .transpose()?
            .is_some_and(|e| e.status == Status::Agreed))
    };
    let relation = Relation {
        friends: agreed(mine)? && agreed(theirs)?,
        blocked_by_target: blocks_me.is_some(),
    };
    let profile = Profile::from_item(&item)?;
    let viewer = Viewer(me);
    Ok(match viewer.seen(target, &profile, relation) {
        Seen::Card(card) => UserPage::Card(card),
        Seen::Full(user) => UserPage::Full {
            user,
            counts: homepage::counts(head.as_ref()),
            lists: viewer.sees_follows(target, &profile).then(|| lists).transpose()?,
        },
    })
}

/// Cards of the given users (distinct, at most 100), unknown ones left out.
pub async fn batch(state: &AppState, cred: &Credential, ids: &[UserId]) -> Result<Vec<Card>, Error> {
    let keys: Vec<Key> = ids.iter().map(profile::key).collect();
    let items = cred.read_many(state, &keys).await?;
    let viewer = Viewer(&cred.user);
    let mut cards = vec![];
    for (id, item) in ids.iter().zip(items) {
        if let Some(item) = item {
            cards.push(viewer.card(id, &Profile::from_item(&item)?));
        }
    }
    Ok(cards)
}

pub enum Lookup {
    Phone(PhoneNumber),
    StAccount(StAccount),
}

#[derive(Clone, Copy, Debug)]
enum Step {
    Session,
    PerUser,
    PerNetwork,
}

/// Counts a look-up against the caller's and the network's hourly allowance, in one
/// transaction with the session check.
async fn count_lookup(state: &AppState, cred: &Credential, ip: IpAddr) -> Result<(), Error> {
    let limits = &state.config.limits;
    let hour = state.clock.now_secs().div_euclid(3600);
    let hour_end = (hour + 1) * 3600;
    let tx = Tx::new()
        .step(Step::Session, cred.check_op())
        .step(
            Step::PerUser,
            codes::bounded_increment(
                keys::lookups_per_user_hour(&cred.user, hour),
                limits.lookups_per_user_hour,
                hour_end,
            ),
        )
        .step(
            Step::PerNetwork,
            codes::bounded_increment(
                keys::lookups_per_network_hour(&ip, hour),
                limits.lookups_per_ip_hour,
                hour_end,
            ),
        );
    match tx.commit(state.store.as_ref()).await {
        Ok(()) => Ok(()),
        Err(TxError::Failed(Step::Session)) => Err(cred.rejected()),
        Err(TxError::Failed(Step::PerUser)) => Err(Error::Throttled("too many look-ups by this user this hour")),
        Err(TxError::Failed(Step::PerNetwork)) => {
            Err(Error::Throttled("too many look-ups from this network this hour"))
        }
        Err(TxError::Conflict) => Err(Error::Contended),
        Err(TxError::Store(e)) => Err(e.into()),
    }
}

/// Finds a user by phone or SealTalk id, if their privacy settings allow it and they
/// have not blocked the caller. An unknown
/// identifier and a hidden user get the same answer after the same work: the marker
/// read and the rate count go together, then one profile read (of a key that cannot
/// exist when the identifier is unknown).
pub async fn find(
    state: &AppState,
    cred: &Credential,
    ip: IpAddr,
    lookup: &Lookup,
) -> Result<(UserId, Profile), Error> {
    let marker_key = match lookup {
        Lookup::Phone(phone) => markers::key(&LoginId::Phone(phone.clone())),
        Lookup::StAccount(account) => keys::st_account_marker(account),
    };
    let (counted, marker) = tokio::join!(count_lookup(state, cred, ip), state.store.get(&marker_key));
    counted?;
    let owner = match marker? {
        Some(item) => Some(markers::owner(&item)?),
        None => None,
    };
    // No owner: read a profile no user can have, so the work is the same.
    let nobody = UserId::from_minted("-unknown-".into());
    let target = owner.clone().unwrap_or(nobody);
    let read = state
        .store
        .batch_get(&[profile::key(&target), relations::block_key(&target, &cred.user)])
        .await?;
    let not_found = || Error::NotFound("no user matches".into());
    let (Some(owner), Some(Some(item))) = (owner, read.first().cloned()) else {
        return Err(not_found());
    };
    let found = Profile::from_item(&item)?;
    let viewer = Viewer(&cred.user);
    let relation = Relation {
        friends: false,
        blocked_by_target: read.get(1).is_some_and(Option::is_some),
    };
    let allowed = match lookup {
        Lookup::Phone(_) => viewer.may_find_by_phone(&found, relation),
        Lookup::StAccount(_) => viewer.may_find_by_st_account(&found, relation),
    };
    if !allowed {
        return Err(not_found());
    }
    Ok((owner, found))
}

/// One page of a name search: cards (with the username) of the users whose nickname or
/// username starts with the keyword, in name order.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchPage {
    pub list: Vec<SearchHit>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    #[serde(flatten)]
    pub card: Card,
    pub username: String,
}

/// Searches the name directory. Counted as a look-up (the session check goes with the
/// count); then one index query and one batched read of the found profiles and of
/// whether each blocked the caller (those are left out).
pub async fn search(
    state: &AppState,
    cred: &Credential,
    ip: IpAddr,
    kind: names::NameKind,
    keyword: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<SearchPage, Error> {
    let (counted, found) = tokio::join!(
        count_lookup(state, cred, ip),
        names::search(state, kind, keyword, after, limit)
    );
    counted?;
    let found = found?;
    let mut keys = Vec::with_capacity(found.users.len() * 2);
    for user in &found.users {
        keys.push(profile::key(user));
        keys.push(relations::block_key(user, &cred.user));
    }
    let read = if keys.is_empty() {
        vec![]
    } else {
        state.store.batch_get(&keys).await?
    };
    let viewer = Viewer(&cred.user);
    let mut list = vec![];
    for (user, pair) in found.users.iter().zip(read.chunks(2)) {
        let (Some(Some(item)), Some(None)) = (pair.first(), pair.get(1)) else {
            continue;
        };
        let p = Profile::from_item(item)?;
        list.push(SearchHit {
            card: viewer.card(user, &p),
            username: p.username.clone(),
        });
    }
    Ok(SearchPage {
        list,
        next_cursor: found.next,
    })
}
