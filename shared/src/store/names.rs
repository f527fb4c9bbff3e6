//! The name directory: one index item per user and kind of name (nickname, username),
//! found by prefix through the inverted index without a scan.
//!
//! | item | pk | sk | ipk / isk |
//! | --- | --- | --- | --- |
//! | name entry | `USER#<id>` | `NAME#nickname` / `NAME#username` | `NAMES#<kind>#<first char>` / `<folded name>#<id>` |
//!
//! A name is folded to lower case. The index partition is the kind and the folded name's
//! first character, so a prefix query reads one partition, in name order; the user id
//! ends the sort key, so every user is one entry, once, and pages never repeat or skip
//! anyone. An entry is written (a blind put) in the same transaction as the name it
//! mirrors, so the entry and the profile agree after every commit.

use super::keys;
use crate::domain::UserId;
use crate::error::Error;
use crate::ports::{IndexName, Item, Key, Query, TxOp};
use crate::state::AppState;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    Nickname,
    Username,
}

impl NameKind {
    fn as_str(self) -> &'static str {
        match self {
            NameKind::Nickname => "nickname",
            NameKind::Username => "username",
        }
    }
}

const USER_ID: &str = "userId";

/// The form a name is indexed and searched in.
pub fn fold(name: &str) -> String {
    name.trim().to_lowercase()
}

pub fn key(user: &UserId, kind: NameKind) -> Key {
    Key::new(keys::user_pk(user), format!("NAME#{}", kind.as_str()))
}

fn partition(kind: NameKind, folded: &str) -> String {
    let first = folded.chars().next().unwrap_or(' ');
    format!("NAMES#{}#{first}", kind.as_str())
}

/// Indexes `name` as the user's `kind` of name (replacing the previous entry).
pub fn put(user: &UserId, kind: NameKind, name: &str) -> TxOp {
    let folded = fold(name);
    TxOp::Put {
        item: Item::new(key(user, kind))
            .with_s(USER_ID, user.as_str())
            .indexed_as(Key::new(partition(kind, &folded), format!("{folded}#{user}"))),
        condition: None,
    }
}

pub fn delete(user: &UserId, kind: NameKind) -> TxOp {
    TxOp::Delete {
        key: key(user, kind),
        condition: None,
    }
}

/// One page of a prefix search: the users, and where the next page starts.
pub struct Found {
    pub users: Vec<UserId>,
    /// The last entry's index sort key, when more may follow.
    pub next: Option<String>,
}

/// Users whose `kind` of name starts with `prefix` (folded, non-empty), in name order,
/// strictly after the entry `after` (a `next` of an earlier page of the same search).
pub async fn search(
    state: &AppState,
    kind: NameKind,
    prefix: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Found, Error> {
    let query = Query::partition(partition(kind, prefix)).on(IndexName::Inverted);
    // The cursor entry itself is read again and dropped: `Between` includes both ends.
    let query = match after {
        None => query.begins_with(prefix).limit(limit),
        Some(after) => query.sk_between(after, format!("{prefix}\u{10FFFF}")).limit(limit + 1),
    };
    let page = state.store.query(query).await?;
    let mut users = vec![];
    let mut last = None;
    for item in &page.items {
        let Some(isk) = item.index_key.as_ref().map(|k| k.sk.as_str()) else {
            continue;
        };
        if Some(isk) == after {
            continue;
        }
        if users.len() == limit {
            break;
        }
        let id = super::req_s(item, USER_ID)?;
        users.push(UserId::parse("userId", id).map_err(|e| super::corrupt(item, e.message))?);
        last = Some(isk.to_string());
    }
    let more = page.cursor.is_some() || page.items.len() > users.len() + usize::from(after.is_some());
    Ok(Found {
        next: if more && users.len() == limit { last } else { None },
        users,
    })
}
