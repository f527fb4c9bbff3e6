//! Follows (the account and IM documents): follow into a group, unfollow, follow groups,
//! the paged lists of follows and of fans (from the inverted index). Follows are not
//! synced (`docs/sync.md` §9); their counters live on the feed heads.

use serde::Serialize;

use super::pair::{self, Plan};
use crate::auth::Credential;
use crate::domain::{UserId, ValidationError};
use crate::error::Error;
use crate::homepage::all_follows;
use crate::state::AppState;
use crate::store::feeds::{self, Counter};
use crate::store::profile::{self, Profile};
use crate::store::relations::{self, Follow, BUILT_IN_GROUPS};
use crate::store::{Tx, TxError};

/// A follow group's name: 1 to 32 bytes, printable.
pub fn group_name(raw: Option<String>) -> Result<String, ValidationError> {
    let name = raw.unwrap_or_else(|| "default".into());
    let name = name.trim();
    if name.is_empty() || name.len() > 32 || name.chars().any(|c| c.is_control() || c == '#') {
        return Err(ValidationError::new("groupName", "must be 1 to 32 bytes, without #"));
    }
    Ok(name.to_string())
}

pub async fn follow(state: &AppState, cred: &Credential, other: &UserId, group: &str) -> Result<(), Error> {
    let built_in = BUILT_IN_GROUPS.contains(&group);
    if !built_in {
        let [g] = cred
            .read(state, [relations::follow_group_key(&cred.user, group)])
            .await?;
        if g.is_none() {
            return Err(ValidationError::new("groupName", "is not one of your follow groups").into());
        }
    }
    pair::change(state, cred, other, |p| {
        if p.they_block {
            return Err(Error::FollowRefused);
        }
        if p.i_follow.as_ref().is_some_and(|f| f.group == group) {
            return Ok((Plan::default(), ()));
        }
        if p.i_follow.is_none() && p.my_count(Counter::Follows) >= state.config.limits.max_follows {
            return Err(Error::RelationLimit("you follow as many users as allowed"));
        }
        // Following someone you blocked lifts the block.
        let plan = Plan {
            my_follow: Some(Some(group.to_string())),
            block: p.i_block.then_some(false),
            ..Plan::default()
        };
        Ok((plan, ()))
    })
    .await
}

pub async fn unfollow(state: &AppState, cred: &Credential, other: &UserId) -> Result<(), Error> {
    pair::change(state, cred, other, |p| {
        let plan = Plan {
            my_follow: p.i_follow.is_some().then_some(None),
            ..Plan::default()
        };
        Ok((plan, ()))
    })
    .await
}

#[derive(Clone, Copy, Debug)]
enum Step {
    Session,
    Group,
    Head,
}

pub async fn add_group(state: &AppState, cred: &Credential, name: &str) -> Result<(), Error> {
    if BUILT_IN_GROUPS.contains(&name) {
        return Err(ValidationError::new("groupName", "already exists").into());
    }
    let head = feeds::user_head(&cred.user);
    let max_custom = state.config.limits.max_follow_groups - BUILT_IN_GROUPS.len() as i64;
    for _ in 0..5 {
        let [head_item] = cred.read(state, [head.clone()]).await?;
        if feeds::counter(head_item.as_ref(), Counter::FollowGroups) >= max_custom {
            return Err(Error::RelationLimit("you have as many follow groups as allowed"));
        }
        let n = feeds::seq(head_item.as_ref())?;
        let tx = Tx::new()
            .step(Step::Session, cred.check_op())
            .step(Step::Group, relations::create_follow_group(&cred.user, name))
            .steps(
                Step::Head,
                feeds::append_counting(
                    &head,
                    n,
                    &[],
                    state.clock.now_millis(),
                    &[(Counter::FollowGroups, 1, max_custom)],
                ),
            );
        match tx.commit(state.store.as_ref()).await {
            Ok(()) => return Ok(()),
            Err(TxError::Failed(Step::Session)) => return Err(cred.rejected()),
            Err(TxError::Failed(Step::Group)) => return Err(ValidationError::new("groupName", "already exists").into()),
            Err(TxError::Failed(Step::Head) | TxError::Conflict) => continue,
            Err(TxError::Store(e)) => return Err(e.into()),
        }
    }
    Err(Error::Contended)
}

/// Deletes a custom group and the follows in it (in transactions of at most 100:
/// idempotent, so a retry after a failure finishes the job).
pub async fn delete_group(state: &AppState, cred: &Credential, name: &str) -> Result<(), Error> {
    if BUILT_IN_GROUPS.contains(&name) {
        return Err(Error::BuiltInFollowGroup);
    }
    let [group] = cred
        .read(state, [relations::follow_group_key(&cred.user, name)])
        .await?;
    if group.is_none() {
        return Err(Error::NotFound("no such follow group".into()));
    }
    let in_group: Vec<Follow> = all_follows(state, &cred.user)
        .await?
        .into_iter()
        .filter(|f| f.group == name)
        .collect();
    for f in &in_group {
        unfollow(state, cred, &f.other).await?;
    }
    let head = feeds::user_head(&cred.user);
    for _ in 0..5 {
        let [head_item] = cred.read(state, [head.clone()]).await?;
        let n = feeds::seq(head_item.as_ref())?;
        let tx = Tx::new()
            .step(Step::Session, cred.check_op())
            .step(Step::Group, relations::delete_follow_group(&cred.user, name))
            .steps(
                Step::Head,
                feeds::append_counting(
                    &head,
                    n,
                    &[],
                    state.clock.now_millis(),
                    &[(Counter::FollowGroups, -1, i64::MAX)],
                ),
            );
        match tx.commit(state.store.as_ref()).await {
            Ok(()) => return Ok(()),
            Err(TxError::Failed(Step::Session)) => return Err(cred.rejected()),
            // Deleted meanwhile by another request: done.
            Err(TxError::Failed(Step::Group)) => return Ok(()),
            Err(TxError::Failed(_) | TxError::Conflict) => continue,
            Err(TxError::Store(e)) => return Err(e.into()),
        }
    }
    Err(Error::Contended)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupCount {
    pub group_name: String,
    pub count: i64,
}

/// The caller's follow groups with their sizes; `default` and `special` always listed.
pub async fn groups(state: &AppState, cred: &Credential) -> Result<Vec<GroupCount>, Error> {
    cred.check(state).await?;
    let mut out: Vec<GroupCount> = BUILT_IN_GROUPS
        .iter()
        .map(|g| GroupCount {
            group_name: (*g).to_string(),
            count: 0,
        })
        .collect();
    let page = state
        .store
        .query(relations::follow_groups_of(&cred.user).limit(100))
        .await?;
    for item in &page.items {
        let name = relations::follow_group_name(item)?;
        let count = relations::follow_group_count(item);
        match out.iter_mut().find(|g| g.group_name == name) {
            Some(g) => g.count = count,
            None => out.push(GroupCount {
                group_name: name,
                count,
            }),
        }
    }
    Ok(out)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Listed {
    pub user_id: String,
    pub nickname: String,
    pub portrait_uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
}

/// One page (from 1) of the caller's follows, oldest first, and the total.
pub async fn follows_page(
    state: &AppState,
    cred: &Credential,
    page: usize,
    size: usize,
) -> Result<(Vec<Listed>, usize), Error> {
    let follows = all_follows(state, &cred.user).await?;
    let total = follows.len();
    let chosen: Vec<(UserId, Option<String>)> = follows
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .map(|f| (f.other, Some(f.group)))
        .collect();
    Ok((listed(state, cred, chosen).await?, total))
}

/// One page of the caller's fans (from the inverted index) and the total.
pub async fn fans_page(
    state: &AppState,
    cred: &Credential,
    page: usize,
    size: usize,
) -> Result<(Vec<Listed>, usize), Error> {
    let mut fans = vec![];
    let mut cursor = None;
    loop {
        let res = state
            .store
            .query(relations::fans_of(&cred.user).limit(1000).after(cursor))
            .await?;
        for item in &res.items {
            let f = Follow::from_item(item)?;
            fans.push((f.created_at, relations::fan_id(item)?));
        }
        cursor = res.cursor;
        if cursor.is_none() {
            break;
        }
    }
    fans.sort_by(|a, b| (a.0, a.1.as_str()).cmp(&(b.0, b.1.as_str())));
    let total = fans.len();
    let chosen = fans
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .map(|(_, id)| (id, None))
        .collect();
    Ok((listed(state, cred, chosen).await?, total))
}

/// The users of a page with their cards, read in one batch with the session check.
async fn listed(
    state: &AppState,
    cred: &Credential,
    users: Vec<(UserId, Option<String>)>,
) -> Result<Vec<Listed>, Error> {
    let keys: Vec<_> = users.iter().map(|(id, _)| profile::key(id)).collect();
    let items = cred.read_many(state, &keys).await?;
    let mut out = vec![];
    for ((id, group), item) in users.into_iter().zip(items) {
        if let Some(item) = item {
            let p = Profile::from_item(&item)?;
            out.push(Listed {
                user_id: id.to_string(),
                nickname: p.nickname,
                portrait_uri: p.portrait_uri,
                group_name: group,
            });
        }
    }
    Ok(out)
}
