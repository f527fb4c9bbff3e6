//! SealTalk's friendships: invite, agree, ignore, delete, display names, the list and a
//! friend's profile. Statuses per side as the reference table: 10 requesting,
//! 11 requested, 20 agreed, 21 ignored, 30 deleted.

use serde::Serialize;

use super::pair::{self, Pair, Plan};
use crate::auth::Credential;
use crate::domain::{UserId, ValidationError};
use crate::error::Error;
use crate::privacy::{iso_millis, Viewer};
use crate::state::AppState;
use crate::store::feeds::Counter;
use crate::store::profile::{self, Profile};
use crate::store::relations::{self, Edge, Status};

/// `result.action` of an invite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Added,
    Sent,
    None,
    AddDirectly,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Added => "Added",
            Action::Sent => "Sent",
            Action::None => "None",
            Action::AddDirectly => "AddDirectly",
        }
    }
}

fn room_for_friends(state: &AppState, p: &Pair) -> Result<(), Error> {
    let max = state.config.limits.max_friends;
    if p.my_count(Counter::Friends) >= max || p.their_count(Counter::Friends) >= max {
        return Err(Error::RelationLimit("a user has reached the number of friends allowed"));
    }
    Ok(())
}

fn both_agreed() -> Plan {
    Plan {
        mine: Some((Status::Agreed, None)),
        theirs: Some((Status::Agreed, None)),
        ..Plan::default()
    }
}

pub async fn invite(state: &AppState, cred: &Credential, friend: &UserId, message: &str) -> Result<Action, Error> {
    pair::change(state, cred, friend, |p| {
        if p.they_block {
            return Ok((Plan::default(), Action::None));
        }
        if p.i_block {
            return Err(ValidationError::new("friendId", "is on your blacklist; remove them from it first").into());
        }
        let (mine, theirs) = (p.my_status(), p.their_status());
        if mine == Some(Status::Agreed) && theirs == Some(Status::Agreed) {
            return Err(ValidationError::new("friendId", "is already your friend").into());
        }
        // They asked me first, or still count me as a friend: we are friends again.
        if matches!(theirs, Some(Status::Requesting | Status::Agreed)) {
            room_for_friends(state, p)?;
            return Ok((both_agreed(), Action::Added));
        }
        let mut plan = if p.their_profile.privacy.fri_verify {
            if theirs != Some(Status::Requested)
                && p.their_count(Counter::PendingRequests) >= state.config.limits.max_pending_requests
            {
                return Err(Error::RelationLimit("this user has too many friend requests waiting"));
            }
            let plan = Plan {
                mine: Some((Status::Requesting, Some(message.to_string()))),
                theirs: Some((Status::Requested, Some(message.to_string()))),
                ..Plan::default()
            };
            (plan, Action::Sent)
        } else {
            room_for_friends(state, p)?;
            (both_agreed(), Action::AddDirectly)
        };
        plan.0.unless_they_block = true;
        Ok(plan)
    })
    .await
}

pub async fn agree(state: &AppState, cred: &Credential, friend: &UserId) -> Result<Action, Error> {
    pair::change(state, cred, friend, |p| {
        let asked = matches!(p.my_status(), Some(Status::Requested | Status::Ignored))
            && p.their_status() == Some(Status::Requesting);
        if !asked {
            return Err(Error::NoSuchRelation("no friend request from this user"));
        }
        room_for_friends(state, p)?;
        Ok((both_agreed(), Action::Added))
    })
    .await
}

pub async fn ignore(state: &AppState, cred: &Credential, friend: &UserId) -> Result<(), Error> {
    pair::change(state, cred, friend, |p| {
        if p.my_status() != Some(Status::Requested) {
            return Err(Error::NoSuchRelation("no friend request from this user"));
        }
        let plan = Plan {
            mine: Some((Status::Ignored, None)),
            ..Plan::default()
        };
        Ok((plan, ()))
    })
    .await
}

/// Ends my side of a friendship (theirs stays 20, as the reference table).
pub async fn delete(state: &AppState, cred: &Credential, friend: &UserId) -> Result<(), Error> {
    pair::change(state, cred, friend, |p| {
        if p.my_status() != Some(Status::Agreed) {
            return Err(Error::NoSuchRelation("this user is not your friend"));
        }
        let plan = Plan {
            mine: Some((Status::Deleted, None)),
            ..Plan::default()
        };
        Ok((plan, ()))
    })
    .await
}

pub async fn set_display_name(state: &AppState, cred: &Credential, friend: &UserId, name: &str) -> Result<(), Error> {
    pair::change(state, cred, friend, |p| {
        if p.my_status() != Some(Status::Agreed) {
            return Err(Error::NoSuchRelation("this user is not your friend"));
        }
        let plan = Plan {
            extra_mine: Some(relations::set_display_name(
                &p.me,
                friend,
                name,
                state.clock.now_millis(),
            )),
            ..Plan::default()
        };
        Ok((plan, ()))
    })
    .await
}

/// The user object of a friendship entry (SealTalk's shape, with `region`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FriendUser {
    pub id: String,
    pub nickname: String,
    pub region: String,
    pub phone: String,
    pub portrait_uri: String,
    pub gender: String,
    pub st_account: String,
}

fn friend_user(viewer: &Viewer<'_>, id: &UserId, p: &Profile, friends: bool) -> FriendUser {
    let (region, phone) = viewer.phone(id, p, friends);
    FriendUser {
        id: id.to_string(),
        nickname: p.nickname.clone(),
        region,
        phone,
        portrait_uri: p.portrait_uri.clone(),
        gender: p.gender.clone(),
        st_account: p.st_account.clone(),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub display_name: String,
    pub message: String,
    pub status: i64,
    pub updated_at: String,
    pub updated_time: i64,
    pub user: FriendUser,
}

/// Every friendship row of the caller, with the other user as the privacy view shows
/// them (the phone only to friends both ways).
pub async fn all(state: &AppState, cred: &Credential) -> Result<Vec<Entry>, Error> {
    let mut edges: Vec<Edge> = vec![];
    let mut cursor = None;
    loop {
        let page = state
            .store
            .query(relations::friends_of(&cred.user).limit(1000).after(cursor))
            .await?;
        for item in &page.items {
            edges.push(Edge::from_item(item)?);
        }
        cursor = page.cursor;
        if cursor.is_none() {
            break;
        }
    }
    let mut entries = Vec::with_capacity(edges.len());
    let viewer = Viewer(&cred.user);
    // Their profiles and their side of each friendship, in batches with the session check.
    for chunk in edges.chunks(49) {
        let mut keys = vec![];
        for e in chunk {
            keys.push(profile::key(&e.other));
            keys.push(relations::friend_key(&e.other, &cred.user));
        }
        let items = cred.read_many(state, &keys).await?;
        for (e, pair) in chunk.iter().zip(items.chunks(2)) {
            let Some(profile_item) = &pair[0] else { continue };
            let p = Profile::from_item(profile_item)?;
            let theirs = pair[1].as_ref().map(Edge::from_item).transpose()?;
            let friends = e.status == Status::Agreed && theirs.is_some_and(|t| t.status == Status::Agreed);
            entries.push(Entry {
                display_name: e.display_name.clone(),
                message: e.message.clone(),
                status: e.status.code(),
                updated_at: iso_millis(e.updated_at),
                updated_time: e.updated_at,
                user: friend_user(&viewer, &e.other, &p, friends),
            });
        }
    }
    if edges.is_empty() {
        cred.check(state).await?;
    }
    Ok(entries)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FriendProfile {
    pub display_name: String,
    pub user: FriendUser,
}

/// A friend's profile: only while I count them as a friend (SealTalk answers 403 else).
pub async fn profile_of(state: &AppState, cred: &Credential, friend: &UserId) -> Result<FriendProfile, Error> {
    let p = pair::read(state, cred, friend).await?;
    let Some(mine) = p.mine.as_ref().filter(|e| e.status == Status::Agreed) else {
        return Err(Error::NotFriends("this user is not your friend"));
    };
    let friends = p.their_status() == Some(Status::Agreed);
    Ok(FriendProfile {
        display_name: mine.display_name.clone(),
        user: friend_user(&Viewer(&cred.user), friend, &p.their_profile, friends),
    })
}
