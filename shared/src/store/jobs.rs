//! Background jobs (`docs/sync.md` §8): an account deletion's clean-up, kept as one item
//! with a cursor so that exactly one worker commits each page, and indexed under `JOBS` so
//! that the sweep finds every unfinished one.
//!
//! | item | pk | sk | index | attributes |
//! | --- | --- | --- | --- | --- |
//! | deletion job | `USER#<u>` | `DELETION` | `JOBS` / `DELETION#<u>` | `cursor`, `startedAt` |

use super::{corrupt, keys, req_n, req_s};
use crate::domain::UserId;
use crate::error::Error;
use crate::ports::{Attr, Condition, IndexName, Item, Key, Query, TxOp, Update};

const CURSOR: &str = "cursor";
const STARTED_AT: &str = "startedAt";
const JOBS: &str = "JOBS";
const DELETION_PREFIX: &str = "DELETION#";

pub fn deletion_key(user: &UserId) -> Key {
    Key::new(keys::user_pk(user), "DELETION")
}

#[derive(Clone, Debug, PartialEq)]
pub struct DeletionJob {
    pub user: UserId,
    pub cursor: String,
    pub started_at: i64,
}

impl DeletionJob {
    pub fn from_item(item: &Item) -> Result<DeletionJob, Error> {
        let user = item
            .key
            .pk
            .strip_prefix("USER#")
            .and_then(|id| UserId::parse("user", id).ok())
            .ok_or_else(|| corrupt(item, "not a deletion job key"))?;
        Ok(DeletionJob {
            user,
            cursor: req_s(item, CURSOR)?.to_string(),
            started_at: req_n(item, STARTED_AT)?,
        })
    }
}

/// The job, in the transaction that deletes the account.
pub fn start_deletion(user: &UserId, cursor: &str, now_ms: i64) -> TxOp {
    TxOp::Put {
        item: Item::new(deletion_key(user))
            .with_s(CURSOR, cursor)
            .with_n(STARTED_AT, now_ms)
            .indexed_as(Key::new(JOBS, format!("{DELETION_PREFIX}{user}"))),
        condition: Some(Condition::NotExists),
    }
}

/// A page is done: the cursor moves, only if no other worker moved it first.
pub fn advance(user: &UserId, from: &str, to: &str) -> TxOp {
    TxOp::Update {
        key: deletion_key(user),
        updates: vec![Update::set(CURSOR, Attr::S(to.into()))],
        condition: Some(Condition::eq(CURSOR, Attr::S(from.into()))),
    }
}

/// The last step: the job goes, only if still where this worker read it.
pub fn finish(user: &UserId, from: &str) -> TxOp {
    TxOp::Delete {
        key: deletion_key(user),
        condition: Some(Condition::eq(CURSOR, Attr::S(from.into()))),
    }
}

/// Unfinished jobs, from the index (eventually consistent: a job it does not show yet is
/// found by a later sweep).
pub fn unfinished() -> Query {
    Query::partition(JOBS).on(IndexName::Inverted).limit(100)
}

/// The user a job's index entry names, if it is a deletion job.
pub fn deletion_of(item: &Item) -> Option<UserId> {
    item.index_key
        .as_ref()
        .and_then(|k| k.sk.strip_prefix(DELETION_PREFIX))
        .and_then(|id| UserId::parse("user", id).ok())
}
