//! SealTalk's blacklist. Blocking someone ends the friendship both ways and drops
//! pending requests, in the same transaction as the block.

use serde::Serialize;

use super::pair::{self, Plan};
use crate::auth::Credential;
use crate::domain::UserId;
use crate::error::Error;
use crate::privacy::{UserView, Viewer};
use crate::state::AppState;
use crate::store::feeds::Counter;
use crate::store::profile::{self, Profile};
use crate::store::relations::{self, Status};

pub async fn add(state: &AppState, cred: &Credential, other: &UserId) -> Result<(), Error> {
    pair::change(state, cred, other, |p| {
        if p.i_block {
            return Ok((Plan::default(), ()));
        }
        if p.my_count(Counter::Blocked) >= state.config.limits.max_blocked {
            return Err(Error::RelationLimit("the blacklist is full"));
        }
        let ends = |s: Option<Status>| {
            s.is_some_and(|s| s != Status::Deleted)
                .then_some((Status::Deleted, None))
        };
        // The block cancels the relation: friendship, pending requests and follows, both ways.
        let plan = Plan {
            block: Some(true),
            mine: ends(p.my_status()),
            theirs: ends(p.their_status()),
            my_follow: p.i_follow.is_some().then_some(None),
            end_their_follow: p.they_follow.is_some(),
            ..Plan::default()
        };
        Ok((plan, ()))
    })
    .await
}

pub async fn remove(state: &AppState, cred: &Credential, other: &UserId) -> Result<(), Error> {
    pair::change(state, cred, other, |p| {
        let plan = Plan {
            block: p.i_block.then_some(false),
            ..Plan::default()
        };
        Ok((plan, ()))
    })
    .await
}

#[derive(Serialize)]
pub struct Entry {
    pub user: UserView,
}

/// The caller's blacklist, oldest first; `page` (from 1) and `size` cut one page.
/// Returns the entries and the total.
pub async fn list(
    state: &AppState,
    cred: &Credential,
    page: Option<(usize, usize)>,
) -> Result<(Vec<Entry>, usize), Error> {
    let mut blocked: Vec<(i64, UserId)> = vec![];
    let mut cursor = None;
    loop {
        let res = state
            .store
            .query(relations::blocks_of(&cred.user).limit(1000).after(cursor))
            .await?;
        for item in &res.items {
            blocked.push((relations::block_created_at(item)?, relations::blocked_id(item)?));
        }
        cursor = res.cursor;
        if cursor.is_none() {
            break;
        }
    }
    blocked.sort_by(|a, b| (a.0, a.1.as_str()).cmp(&(b.0, b.1.as_str())));
    let total = blocked.len();
    let wanted: Vec<UserId> = match page {
        Some((page, size)) => blocked
            .into_iter()
            .skip((page - 1) * size)
            .take(size)
            .map(|(_, id)| id)
            .collect(),
        None => blocked.into_iter().map(|(_, id)| id).collect(),
    };
    let viewer = Viewer(&cred.user);
    let mut entries = vec![];
    for chunk in wanted.chunks(199) {
        let keys: Vec<_> = chunk.iter().map(profile::key).collect();
        let items = cred.read_many(state, &keys).await?;
        for (id, item) in chunk.iter().zip(items) {
            if let Some(item) = item {
                entries.push(Entry {
                    user: viewer.user(id, &Profile::from_item(&item)?),
                });
            }
        }
    }
    if wanted.is_empty() {
        cred.check(state).await?;
    }
    Ok((entries, total))
}
