//! Verification codes (the keyed hash of the code and the tries spent) and the sending
//! limits around them (a gap lock and bounded counters per window).

use super::{keys, req_s};
use crate::domain::{CodePurpose, Recipient};
use crate::error::Error;
use crate::ports::{Attr, Condition, Item, Key, TxOp, Update};

const TAG: &str = "tag";
const TRIES: &str = "tries";
const COUNT: &str = "n";

pub fn key(to: &Recipient, purpose: CodePurpose) -> Key {
    keys::code(to, purpose)
}

/// A new code replaces any earlier one for the same address and purpose.
pub fn create(to: &Recipient, purpose: CodePurpose, tag: String, expires_at: i64) -> TxOp {
    TxOp::Put {
        item: Item::new(key(to, purpose))
            .with_s(TAG, tag)
            .with_n(TRIES, 0)
            .expiring_at(expires_at),
        condition: None,
    }
}

/// Counts one try, only while the code exists and has tries left.
pub fn count_try(max_tries: i64) -> (Vec<Update>, Condition) {
    (
        vec![Update::add(TRIES, 1)],
        Condition::And(vec![
            Condition::Exists,
            Condition::AbsentOrLessThan(TRIES.into(), max_tries),
        ]),
    )
}

pub fn tag(item: &Item) -> Result<&str, Error> {
    req_s(item, TAG)
}

pub fn tries(item: &Item) -> Option<i64> {
    item.n(TRIES)
}

/// Spends the code that matched: of concurrent matches, only one can commit.
pub fn consume(key: Key, tag: &str) -> TxOp {
    TxOp::Delete {
        key,
        condition: Some(Condition::And(vec![
            Condition::Exists,
            Condition::eq(TAG, Attr::S(tag.to_string())),
        ])),
    }
}

/// The gap lock: present while another send to the address is too recent.
pub fn take_gap(to: &Recipient, expires_at: i64) -> TxOp {
    TxOp::Put {
        item: Item::new(keys::send_gap(to)).expiring_at(expires_at),
        condition: Some(Condition::NotExists),
    }
}

/// Counter update with an upper bound: +1 unless already at `max`.
pub fn bounded_increment(key: Key, max: i64, expires_at: i64) -> TxOp {
    TxOp::Update {
        key,
        updates: vec![Update::add(COUNT, 1), Update::SetExpiry(expires_at)],
        condition: Some(Condition::AbsentOrLessThan(COUNT.into(), max)),
    }
}

/// Withdraws the code just created, unless a newer one replaced it.
pub fn withdraw(to: &Recipient, purpose: CodePurpose, tag: &str) -> TxOp {
    TxOp::Delete {
        key: key(to, purpose),
        condition: Some(Condition::eq(TAG, crate::ports::Attr::S(tag.into()))),
    }
}

/// Frees the address's send gap.
pub fn release_gap(to: &Recipient) -> TxOp {
    TxOp::Delete {
        key: keys::send_gap(to),
        condition: None,
    }
}

/// Gives back one count of a window.
pub fn decrement(key: Key) -> TxOp {
    TxOp::Update {
        key,
        updates: vec![Update::add(COUNT, -1)],
        condition: Some(Condition::Exists),
    }
}
