//! The private credential of a user: the password hash, in an item of its own that no
//! read path returns, and a count of the sessions opened against it. One password change
//! touches this one item.
//!
//! Every session is opened in a transaction that bumps `sessionsOpened` (with the hash
//! it verified as condition), and every change that ends sessions (password change or
//! reset, deletion) conditions on the count it saw when it listed them. So a login and
//! a change cannot interleave: either the login's session exists when the change lists
//! the sessions it ends, or the login fails.

use super::{keys, req_n};
use crate::domain::UserId;
use crate::error::Error;
use crate::ports::{Attr, Condition, Item, Key, TxOp, Update};

const PASSWORD_HASH: &str = "passwordHash";
const SESSIONS_OPENED: &str = "sessionsOpened";

pub fn key(user: &UserId) -> Key {
    keys::credential(user)
}

/// The stored password hash; `None` for an account created by SMS login.
pub fn password_hash(item: &Item) -> Option<&str> {
    item.s(PASSWORD_HASH)
}

/// Sessions opened so far: the version a change that ends sessions conditions on.
pub fn sessions_opened(item: &Item) -> Result<i64, Error> {
    req_n(item, SESSIONS_OPENED)
}

/// A new credential, with the account's first session (register, first SMS login).
pub fn create(user: &UserId, hash: Option<String>) -> TxOp {
    let item = Item::new(key(user)).with_n(SESSIONS_OPENED, 1);
    let item = match hash {
        Some(h) => item.with_s(PASSWORD_HASH, h),
        None => item,
    };
    TxOp::Put {
        item,
        condition: Some(Condition::NotExists),
    }
}

fn hash_is(hash: &str) -> Condition {
    Condition::eq(PASSWORD_HASH, Attr::S(hash.to_string()))
}

fn opened_is(count: i64) -> Condition {
    Condition::eq(SESSIONS_OPENED, Attr::N(count))
}

/// Counts a session opened with a password: only while the password is still the one
/// whose hash was verified, so a login that raced a password change cannot outlive it.
pub fn open_session_with_password(user: &UserId, verified_hash: &str) -> TxOp {
    TxOp::Update {
        key: key(user),
        updates: vec![Update::add(SESSIONS_OPENED, 1)],
        condition: Some(hash_is(verified_hash)),
    }
}

/// Counts a session opened by another proof (an SMS code): only while the account lives.
pub fn open_session(user: &UserId) -> TxOp {
    TxOp::Update {
        key: key(user),
        updates: vec![Update::add(SESSIONS_OPENED, 1)],
        condition: Some(Condition::Exists),
    }
}

/// Replaces the hash, only if no session was opened since `opened` was read and, with
/// `expected`, only if the hash is still that one (a concurrent change wins once).
pub fn set_password(user: &UserId, expected: Option<&str>, opened: i64, new_hash: String) -> TxOp {
    let mut conditions = vec![Condition::Exists, opened_is(opened)];
    if let Some(old) = expected {
        conditions.push(hash_is(old));
    }
    TxOp::Update {
        key: key(user),
        updates: vec![Update::set(PASSWORD_HASH, Attr::S(new_hash))],
        condition: Some(Condition::And(conditions)),
    }
}

/// Deletes the credential, only if no session was opened since `opened` was read.
pub fn delete(user: &UserId, opened: i64) -> TxOp {
    TxOp::Delete {
        key: key(user),
        condition: Some(opened_is(opened)),
    }
}
