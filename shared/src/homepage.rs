//! What a user's homepage shows of their relations: the counts kept on their feed head,
//! whom they follow by group, and their first fans. Shared by `own_info` and `/user/:id`
//! (through the privacy view's `displayFollows` for others).

use serde::Serialize;

use crate::domain::UserId;
use crate::error::Error;
use crate::ports::Item;
use crate::state::AppState;
use crate::store::feeds::{self, Counter};
use crate::store::relations::{self, Follow};

/// Fans listed inline; all of them through `/user/fans`.
pub const INLINE_FANS: usize = 100;

#[derive(Serialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub friend_count: i64,
    pub follow_count: i64,
    pub fan_count: i64,
}

pub fn counts(head: Option<&Item>) -> Counts {
    Counts {
        friend_count: feeds::counter(head, Counter::Friends),
        follow_count: feeds::counter(head, Counter::Follows),
        fan_count: feeds::counter(head, Counter::Fans),
    }
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct FollowGroup {
    pub group_name: String,
    pub user_ids: Vec<String>,
}

#[derive(Serialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct Lists {
    pub follows: Vec<FollowGroup>,
    pub fan_ids: Vec<String>,
}

/// Every follow of `user` (at most the follow limit), oldest first.
pub async fn all_follows(state: &AppState, user: &UserId) -> Result<Vec<Follow>, Error> {
    let mut out: Vec<Follow> = vec![];
    let mut cursor = None;
    loop {
        let page = state
            .store
            .query(relations::follows_of(user).limit(1000).after(cursor))
            .await?;
        for item in &page.items {
            out.push(Follow::from_item(item)?);
        }
        cursor = page.cursor;
        if cursor.is_none() {
            break;
        }
    }
    out.sort_by(|a, b| (a.created_at, a.other.as_str()).cmp(&(b.created_at, b.other.as_str())));
    Ok(out)
}

/// Whom `user` follows (grouped, in group order of first follow) and their first fans:
/// two queries, run together.
pub async fn lists(state: &AppState, user: &UserId) -> Result<Lists, Error> {
    let follows = all_follows(state, user);
    let fans = state.store.query(relations::fans_of(user).limit(INLINE_FANS));
    let (follows, fans) = tokio::join!(follows, fans);
    let follows = follows?;
    let mut groups: Vec<FollowGroup> = vec![];
    for f in follows {
        match groups.iter_mut().find(|g| g.group_name == f.group) {
            Some(g) => g.user_ids.push(f.other.to_string()),
            None => groups.push(FollowGroup {
                group_name: f.group,
                user_ids: vec![f.other.to_string()],
            }),
        }
    }
    let fan_ids = fans?
        .items
        .iter()
        .map(|item| relations::fan_id(item).map(|id| id.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Lists {
        follows: groups,
        fan_ids,
    })
}
