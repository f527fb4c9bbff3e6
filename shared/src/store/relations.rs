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
pub fn set_status(
    user: &UserId,
    other: &UserId,
    before: Option<&Edge>,
    status: Status,
    message: Option<&str>,
    now_ms: i64,
) -> TxOp {
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
            let mut updates = vec![
                Update::set(STATUS, Attr::N(status.code())),
                Update::set(UPDATED_AT, Attr::N(now_ms)),
            ];
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

const GROUP: &str = "groupName";
const COUNT: &str = "count";

/// The follow groups every user has; they cannot be deleted.
pub const BUILT_IN_GROUPS: [&str; 2] = ["default", "special"];

#[derive(Clone, Debug, PartialEq)]
pub struct Follow {
    pub other: UserId,
    pub group: String,
    pub created_at: i64,
}

impl Follow {
    pub fn from_item(item: &Item) -> Result<Follow, Error> {
        let other = item
            .key
            .sk
            .strip_prefix(keys::FOLLOW_PREFIX)
            .and_then(|id| UserId::parse("followed", id).ok())
            .ok_or_else(|| corrupt(item, "not a follow key"))?;
        Ok(Follow {
            other,
            group: req_s(item, GROUP)?.to_string(),
            created_at: req_n(item, CREATED_AT)?,
        })
    }
}

pub fn follow_key(user: &UserId, other: &UserId) -> Key {
    keys::follow(user, other)
}

/// Every follow of a user, a page at a time.
pub fn follows_of(user: &UserId) -> Query {
    Query::partition(keys::user_pk(user)).begins_with(keys::FOLLOW_PREFIX)
}

/// A user's fans, from the inverted index, a page at a time.
pub fn fans_of(user: &UserId) -> Query {
    Query::partition(keys::user_pk(user))
        .begins_with(keys::FAN_PREFIX)
        .on(crate::ports::IndexName::Inverted)
}

/// The fan's id, from an index entry (the follow item, found by its index key).
pub fn fan_id(item: &Item) -> Result<UserId, Error> {
    item.key
        .pk
        .strip_prefix("USER#")
        .and_then(|id| UserId::parse("fan", id).ok())
        .ok_or_else(|| corrupt(item, "not a follow item"))
}

pub fn follow(user: &UserId, other: &UserId, group: &str, now_ms: i64) -> TxOp {
    TxOp::Put {
        item: Item::new(follow_key(user, other))
            .with_s(GROUP, group)
            .with_n(CREATED_AT, now_ms)
            .indexed_as(keys::fan(user, other)),
        condition: Some(Condition::NotExists),
    }
}

/// Moves a follow to another group, only if it is still in `from`.
pub fn move_follow(user: &UserId, other: &UserId, from: &str, to: &str) -> TxOp {
    TxOp::Update {
        key: follow_key(user, other),
        updates: vec![Update::set(GROUP, Attr::S(to.into()))],
        condition: Some(Condition::eq(GROUP, Attr::S(from.into()))),
    }
}

pub fn unfollow(user: &UserId, other: &UserId) -> TxOp {
    TxOp::Delete {
        key: follow_key(user, other),
        condition: Some(Condition::Exists),
    }
}

pub fn follow_group_key(user: &UserId, name: &str) -> Key {
    keys::follow_group(user, name)
}

/// Every custom follow group of a user (built-in ones appear once they hold a follow).
pub fn follow_groups_of(user: &UserId) -> Query {
    Query::partition(keys::user_pk(user)).begins_with(keys::FOLLOW_GROUP_PREFIX)
}

pub fn follow_group_name(item: &Item) -> Result<String, Error> {
    item.key
        .sk
        .strip_prefix(keys::FOLLOW_GROUP_PREFIX)
        .map(str::to_string)
        .ok_or_else(|| corrupt(item, "not a follow group key"))
}

pub fn follow_group_count(item: &Item) -> i64 {
    item.n(COUNT).unwrap_or(0)
}

pub fn create_follow_group(user: &UserId, name: &str) -> TxOp {
    TxOp::Put {
        item: Item::new(follow_group_key(user, name)).with_n(COUNT, 0),
        condition: Some(Condition::NotExists),
    }
}

/// Moves a group's follow count; a custom group must still exist (a built-in one is
/// created by its first follow).
pub fn count_in_group(user: &UserId, name: &str, by: i64) -> TxOp {
    let built_in = BUILT_IN_GROUPS.contains(&name);
    TxOp::Update {
        key: follow_group_key(user, name),
        updates: vec![Update::add(COUNT, by)],
        condition: (!built_in).then_some(Condition::Exists),
    }
}

pub fn delete_follow_group(user: &UserId, name: &str) -> TxOp {
    TxOp::Delete {
        key: follow_group_key(user, name),
        condition: Some(Condition::Exists),
    }
}
