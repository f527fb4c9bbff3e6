//! Change feeds (`docs/sync.md` §3, §4): a head item with the number of the feed's last
//! record, and one record per change, appended in the same transaction as the change.
//! The head's `seq = n` condition makes the numbers gap-free and ordered, with no clock.

use super::{corrupt, keys, req_n, req_s};
use crate::domain::UserId;
use crate::error::Error;
use crate::ports::{Attr, Condition, Item, Key, Query, TxOp, Update};

const SEQ: &str = "seq";
const KIND: &str = "kind";
const SUBJECT: &str = "subject";
const OP: &str = "op";
const AT: &str = "at";

/// Change records live this long (tombstones at least 30 days, `docs/sync.md` §6).
pub const RECORD_LIFETIME_SECS: i64 = 35 * 86_400;

pub fn user_head(user: &UserId) -> Key {
    keys::user_feed(user)
}

/// The number of the feed's last record (0: none yet; a head may exist before its first
/// record, holding only counters or the sync point counter).
pub fn seq(head: Option<&Item>) -> Result<i64, Error> {
    match head {
        Some(item) if item.attrs.contains_key(SEQ) => req_n(item, SEQ),
        _ => Ok(0),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Upsert,
    Delete,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Upsert => "upsert",
            Op::Delete => "delete",
        }
    }
}

/// What changed: a kind of synced item and its subject's id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub kind: String,
    pub subject: String,
    pub op: String,
}

impl Change {
    pub fn user(user: &UserId) -> Change {
        Change::of("user", user, Op::Upsert)
    }

    pub fn of(kind: &str, subject: &UserId, op: Op) -> Change {
        Change {
            kind: kind.into(),
            subject: subject.to_string(),
            op: op.as_str().into(),
        }
    }

    /// A change whose subject is named by a string id (a group).
    pub fn named(kind: &str, subject: &str, op: Op) -> Change {
        Change {
            kind: kind.into(),
            subject: subject.into(),
            op: op.as_str().into(),
        }
    }

    pub fn from_item(item: &Item) -> Result<Change, Error> {
        Ok(Change {
            kind: req_s(item, KIND)?.to_string(),
            subject: req_s(item, SUBJECT)?.to_string(),
            op: req_s(item, OP)?.to_string(),
        })
    }
}

/// A counter kept on a feed head (`docs/sync.md` §2): friends, pending requests, ...
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counter {
    Friends,
    PendingRequests,
    Blocked,
    Follows,
    Fans,
    /// Custom follow groups (`default` and `special` always exist besides).
    FollowGroups,
    /// Groups the user is a member of (on the user's head).
    Groups,
    /// Members of a group (on the group's head).
    Members,
}

impl Counter {
    fn attr(self) -> &'static str {
        match self {
            Counter::Friends => "friendCount",
            Counter::PendingRequests => "pendingCount",
            Counter::Blocked => "blockedCount",
            Counter::Follows => "followCount",
            Counter::Fans => "fanCount",
            Counter::FollowGroups => "followGroupCount",
            Counter::Groups => "groupCount",
            Counter::Members => "memberCount",
        }
    }
}

/// A counter's value on a head as read (absent: 0).
pub fn counter(head: Option<&Item>, c: Counter) -> i64 {
    head.and_then(|h| h.n(c.attr())).unwrap_or(0)
}

/// The operations that append `changes` to the feed whose head is `head`, last at `n`:
/// the head moves to n + len only if it is still at n, and each record is new.
pub fn append(head: &Key, n: i64, changes: &[Change], now_ms: i64) -> Vec<TxOp> {
    append_counting(head, n, changes, now_ms, &[])
}

/// `append`, moving counters on the head in the same write; an increase is bounded by
/// its limit as a condition, so at a limit the transaction fails (`(counter, by, max)`).
pub fn append_counting(
    head: &Key,
    n: i64,
    changes: &[Change],
    now_ms: i64,
    counters: &[(Counter, i64, i64)],
) -> Vec<TxOp> {
    let m = changes.len() as i64;
    let mut conditions = vec![if n == 0 {
        Condition::AbsentOrLessThan(SEQ.into(), 1)
    } else {
        Condition::eq(SEQ, Attr::N(n))
    }];
    let mut updates = vec![Update::set(SEQ, Attr::N(n + m))];
    for &(c, by, max) in counters {
        if by > 0 {
            conditions.push(Condition::AbsentOrLessThan(c.attr().into(), max - by + 1));
        }
        if by != 0 {
            updates.push(Update::add(c.attr(), by));
        }
    }
    let mut ops = vec![TxOp::Update {
        key: head.clone(),
        updates,
        condition: Some(Condition::And(conditions)),
    }];
    for (i, change) in changes.iter().enumerate() {
        ops.push(TxOp::Put {
            item: Item::new(keys::change(&head.pk, n + 1 + i as i64))
                .with_s(KIND, change.kind.as_str())
                .with_s(SUBJECT, change.subject.as_str())
                .with_s(OP, change.op.as_str())
                .with_n(AT, now_ms)
                .expiring_at(now_ms / 1000 + RECORD_LIFETIME_SECS),
            condition: Some(Condition::NotExists),
        });
    }
    ops
}

/// Moves a counter on an existing head without a record (a change the feed's readers
/// learn elsewhere, e.g. a dismissed group's members through the group's feed).
pub fn count_only(head: &Key, c: Counter, by: i64) -> TxOp {
    TxOp::Update {
        key: head.clone(),
        updates: vec![Update::add(c.attr(), by)],
        condition: Some(Condition::Exists),
    }
}

/// The feed's records after `after`, in order, a page at a time.
pub fn records_after(head: &Key, after: i64) -> Query {
    Query::partition(head.pk.clone()).sk_between(
        format!("{}{:020}", keys::CHANGE_PREFIX, after + 1),
        format!("{}{:020}", keys::CHANGE_PREFIX, i64::MAX),
    )
}

/// The number of a record, from its key.
pub fn record_seq(item: &Item) -> Result<i64, Error> {
    item.key
        .sk
        .strip_prefix(keys::CHANGE_PREFIX)
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| corrupt(item, "not a change record key"))
}

/// Records `after + 1 ..= upto` of the feed, in order (a page may stop early).
pub fn records_between(head: &Key, after: i64, upto: i64) -> Query {
    Query::partition(head.pk.clone())
        .sk_between(
            format!("{}{:020}", keys::CHANGE_PREFIX, after + 1),
            format!("{}{:020}", keys::CHANGE_PREFIX, upto),
        )
        .limit((upto - after).clamp(1, 1000) as usize)
}
