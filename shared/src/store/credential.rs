//! The private credential of a user: the password hash, in an item of its own that no
//! read path returns. One password change touches this one item.

use super::keys;
use crate::domain::UserId;
use crate::ports::{Attr, Condition, Item, Key, TxOp, Update};

const PASSWORD_HASH: &str = "passwordHash";

pub fn key(user: &UserId) -> Key {
    keys::credential(user)
}

/// The stored password hash; `None` for an account created by SMS login.
pub fn password_hash(item: &Item) -> Option<&str> {
    item.s(PASSWORD_HASH)
}

pub fn create(user: &UserId, hash: Option<String>) -> TxOp {
    let item = Item::new(key(user));
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

/// Holds only while the password is still the one whose hash was verified: a login
/// that raced a password change cannot open a session with the old password.
pub fn check_unchanged(user: &UserId, verified_hash: &str) -> TxOp {
    TxOp::Check {
        key: key(user),
        condition: hash_is(verified_hash),
    }
}

/// Replaces the hash. With `expected`, only if it is still that one (a concurrent change
/// wins once); without, only if the credential exists.
pub fn set_password(user: &UserId, expected: Option<&str>, new_hash: String) -> TxOp {
    TxOp::Update {
        key: key(user),
        updates: vec![Update::set(PASSWORD_HASH, Attr::S(new_hash))],
        condition: Some(match expected {
            Some(old) => hash_is(old),
            None => Condition::Exists,
        }),
    }
}

pub fn delete(user: &UserId) -> TxOp {
    TxOp::Delete {
        key: key(user),
        condition: None,
    }
}
