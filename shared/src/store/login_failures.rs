//! Failed password checks per login identifier: how many in a row (within a day of the
//! last one) and the backoff they earned. Nothing here serialises attempts: a check
//! reads the backoff, and only a failure writes, so simultaneous correct logins all
//! proceed and an abandoned request leaves nothing behind.
//!
//! The record expires a day after the last failure, and an expired record reads as
//! absent: "still counting" is the `Exists` condition, not a comparison of clocks.

use super::keys;
use crate::domain::LoginId;
use crate::ports::{Attr, Condition, Item, Key, TxOp, Update};

const COUNT: &str = "n";
const LAST_FAIL_AT: &str = "lastFailAt";
const BLOCKED_UNTIL: &str = "blockedUntil";

pub fn key(id: &LoginId) -> Key {
    keys::login_failures(id)
}

/// Seconds the backoff still runs at `now` (0 or less: none).
pub fn wait_secs(item: &Item, now: i64) -> i64 {
    item.n(BLOCKED_UNTIL).unwrap_or(0) - now
}

/// The failures counted so far (a record without a count has none).
pub fn count(item: &Item) -> i64 {
    item.n(COUNT).unwrap_or(0)
}

/// One more failure in a running count: only while the record lives.
pub fn add_failure(now: i64, forget_at: i64) -> (Vec<Update>, Condition) {
    (
        vec![
            Update::add(COUNT, 1),
            Update::set(LAST_FAIL_AT, Attr::N(now)),
            Update::SetExpiry(forget_at),
        ],
        Condition::Exists,
    )
}

/// The first failure of a new count: only while no record lives (a day after the last
/// failure, a stale count starts over).
pub fn first_failure(now: i64, forget_at: i64) -> (Vec<Update>, Condition) {
    (
        vec![
            Update::set(COUNT, Attr::N(1)),
            Update::set(LAST_FAIL_AT, Attr::N(now)),
            Update::Remove(BLOCKED_UNTIL.into()),
            Update::SetExpiry(forget_at),
        ],
        Condition::NotExists,
    )
}

/// Extends the backoff to `until`; never shortens one a concurrent failure set longer.
pub fn block_until(until: i64) -> (Vec<Update>, Condition) {
    (
        vec![Update::set(BLOCKED_UNTIL, Attr::N(until))],
        Condition::And(vec![
            Condition::Exists,
            Condition::AbsentOrLessThan(BLOCKED_UNTIL.into(), until),
        ]),
    )
}

/// Failed checks from one client network in the hour `hour`.
pub fn network_key(ip: &std::net::IpAddr, hour: i64) -> Key {
    keys::password_failures_per_network_hour(ip, hour)
}

/// Counts a failed check from the network (the counter lives until its hour ends).
pub fn count_network_failure(hour_end: i64) -> Vec<Update> {
    vec![Update::add(COUNT, 1), Update::SetExpiry(hour_end)]
}

/// A successful login or a new password forgets the failures.
pub fn clear(id: &LoginId) -> TxOp {
    TxOp::Delete {
        key: key(id),
        condition: None,
    }
}
