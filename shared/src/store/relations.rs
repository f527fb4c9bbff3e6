//! Relations between two users: one friendship row per side (SealTalk's statuses), and
//! blocks (indexed by the blocked user, for "who blocked me").

use super::{corrupt, keys, req_n, req_s};
use crate::domain::UserId;
use crate::error::Error;
use crate::ports::{Attr, Condition, Item, Key, Query, TxOp, Update};

const STATUS: &str = "status";
const MESSAGE: &str = "message";
const DISPLAY_NAME: &str = "displayName";
const UPDATED_AT: &str = "updatedAt";
const CREATED_AT: &str = "createdAt";

/// SealTalk's friendship statuses, as one side sees the relation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// I sent a request.
    Requesting = 10,
    /// I received a request.
    Requested = 11,
    Agreed = 20,
    /// I ignored their request.
    Ignored = 21,
    Deleted = 30,
}

impl Status {
    fn from_n(n: i64) -> Option<Status> {
        Some(match n {
            10 => Status::Requesting,
            11 => Status::Requested,
            20 => Status::Agreed,
            21 => Status::Ignored,
            30 => Status::Deleted,
            _ => return None,
        })
    }
    pub fn code(self) -> i64 {
        self as i64
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    pub other: UserId,
    pub status: Status,
    pub message: String,
    pub display_name: String,
    pub updated_at: i64,
}

impl Edge {
    pub fn from_item(item: &Item) -> Result<Edge, Error> {
        let other = item
            .key
            .sk
            .strip_prefix(keys::FRIEND_PREFIX)
            .and_then(|id| UserId::parse("friend", id).ok())
            .ok_or_else(|| corrupt(item, "not a friendship key"))?;
        let n = req_n(item, STATUS)?;
        Ok(Edge {
            other,
            status: Status::from_n(n).ok_or_else(|| corrupt(item, format!("unknown status {n}")))?,
            message: req_s(item, MESSAGE)?.to_string(),
            display_name: req_s(item, DISPLAY_NAME)?.to_string(),
            updated_at: req_n(item, UPDATED_AT)?,
        })
    }
}

pub fn friend_key(user: &UserId, other: &UserId) -> Key {
    keys::friend(user, other)
}

/// Every friendship row of a user, a page at a time.
pub fn friends_of(user: &UserId) -> Query {
    Query::partition(keys::user_pk(user)).begins_with(keys::FRIEND_PREFIX)
}

/// The row's status as it was read: the condition a change of it is made under.
fn was(before: Option<&Edge>) -> Condition {
    match before {
        None => Condition::NotExists,
        Some(e) => Condition::eq(STATUS, Attr::N(e.status.code())),
    }
}

/// Sets `user`'s side to `status` (with `message` when given), only if it is still as read.
pub fn set_status(user: &UserId, other: &UserId, before: Option<&Edge>, status: Status, message: Option<&str>, now_ms: i64) -> TxOp {
    let key = friend_key(user, other);
    match before {
        None => TxOp::Put {
            item: Item::new(key)
                .with_n(STATUS, status.code())
                .with_s(MESSAGE, message.unwrap_or(""))
                .with_s(DISPLAY_NAME, "")
                .with_n(UPDATED_AT, now_ms),
            condition: Some(Condition::NotExists),
        },
        Some(_) => {
            let mut updates = vec![Update::set(STATUS, Attr::N(status.code())), Update::set(UPDATED_AT, Attr::N(now_ms))];
            if let Some(m) = message {
                updates.push(Update::set(MESSAGE, Attr::S(m.into())));
            }
            TxOp::Update {
                key,
                updates,
                condition: Some(was(before)),
            }
        }
    }
}

/// Sets the display name on `user`'s side, only while they are friends.
pub fn set_display_name(user: &UserId, other: &UserId, name: &str, now_ms: i64) -> TxOp {
    TxOp::Update {
        key: friend_key(user, other),
        updates: vec![
            Update::set(DISPLAY_NAME, Attr::S(name.into())),
            Update::set(UPDATED_AT, Attr::N(now_ms)),
        ],
        condition: Some(Condition::eq(STATUS, Attr::N(Status::Agreed.code()))),
    }
}

pub fn block_key(user: &UserId, other: &UserId) -> Key {
    keys::block(user, other)
}

/// Every block of a user, a page at a time.
pub fn blocks_of(user: &UserId) -> Query {
    Query::partition(keys::user_pk(user)).begins_with(keys::BLOCK_PREFIX)
}

pub fn blocked_id(item: &Item) -> Result<UserId, Error> {
    item.key
        .sk
        .strip_prefix(keys::BLOCK_PREFIX)
        .and_then(|id| UserId::parse("blocked", id).ok())
        .ok_or_else(|| corrupt(item, "not a block key"))
}

pub fn block_created_at(item: &Item) -> Result<i64, Error> {
    req_n(item, CREATED_AT)
}

pub fn block(user: &UserId, other: &UserId, now_ms: i64) -> TxOp {
    TxOp::Put {
        item: Item::new(block_key(user, other))
            .with_n(CREATED_AT, now_ms)
            .indexed_as(keys::blocked_by(user, other)),
        condition: Some(Condition::NotExists),
    }
}

pub fn unblock(user: &UserId, other: &UserId) -> TxOp {
    TxOp::Delete {
        key: block_key(user, other),
        condition: Some(Condition::Exists),
    }
}

/// Holds only while `blocker` does not block `other` (an invite checks it).
pub fn not_blocked(blocker: &UserId, other: &UserId) -> TxOp {
    TxOp::Check {
        key: block_key(blocker, other),
        condition: Condition::NotExists,
    }
}
