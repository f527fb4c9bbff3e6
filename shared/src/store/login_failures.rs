//! Failed logins per login identifier: the count, when the last one happened, the
//! backoff it earned, and a short lock that serialises attempts.

use super::keys;
use crate::domain::LoginId;
use crate::ports::{Attr, Condition, Item, Key, TxOp, Update};

const COUNT: &str = "n";
const LAST_FAIL_AT: &str = "lastFailAt";
const BLOCKED_UNTIL: &str = "blockedUntil";
const LOCKED_UNTIL: &str = "lockedUntil";

pub fn key(id: &LoginId) -> Key {
    keys::login_failures(id)
}

/// Takes the attempt lock until `lock_until`, only when no backoff or lock is running.
pub fn reserve(now: i64, lock_until: i64, remember_until: i64) -> (Vec<Update>, Condition) {
    (
        vec![
            Update::set(LOCKED_UNTIL, Attr::N(lock_until)),
            Update::SetExpiry(remember_until),
        ],
        Condition::And(vec![
            Condition::AbsentOrLessThan(BLOCKED_UNTIL.into(), now + 1),
            Condition::AbsentOrLessThan(LOCKED_UNTIL.into(), now + 1),
        ]),
    )
}

/// Consecutive failures that still count at `now` (older than `memory_secs`: none).
pub fn recent_failures(item: &Item, now: i64, memory_secs: i64) -> i64 {
    match item.n(LAST_FAIL_AT) {
        Some(t) if t > now - memory_secs => item.n(COUNT).unwrap_or(0),
        _ => 0,
    }
}

/// Seconds until the next attempt is allowed.
pub fn wait_secs(item: &Item, now: i64) -> i64 {
    item.n(BLOCKED_UNTIL).unwrap_or(0).max(item.n(LOCKED_UNTIL).unwrap_or(0)) - now
}

/// Records failure number `n` and the backoff it earned; releases the lock.
pub fn record_failure(n: i64, now: i64, blocked_until: i64) -> Vec<Update> {
    vec![
        Update::set(COUNT, Attr::N(n)),
        Update::set(LAST_FAIL_AT, Attr::N(now)),
        Update::set(BLOCKED_UNTIL, Attr::N(blocked_until)),
        Update::Remove(LOCKED_UNTIL.into()),
    ]
}

/// Releases the attempt lock without counting a failure (the password was right, but the
/// credential changed before the session could be opened).
pub fn release() -> Vec<Update> {
    vec![Update::Remove(LOCKED_UNTIL.into())]
}

/// A successful login or a new password forgets the failures.
pub fn clear(id: &LoginId) -> TxOp {
    TxOp::Delete {
        key: key(id),
        condition: None,
    }
}
