//! Uniqueness markers: one item per login identifier, holding only its owner's id.

use super::{corrupt, keys, req_s};
use crate::domain::{LoginId, UserId};
use crate::error::Error;
use crate::ports::{Attr, Condition, Item, Key, TxOp};

const OWNER: &str = "userId";

pub fn key(id: &LoginId) -> Key {
    keys::marker(id)
}

/// Takes the identifier for `user`; fails when anyone holds it.
pub fn claim(id: &LoginId, user: &UserId) -> TxOp {
    claim_key(key(id), user)
}

/// Takes the marker `key` (any unique name: a login identifier, a SealTalk id).
pub fn claim_key(key: Key, user: &UserId) -> TxOp {
    TxOp::Put {
        item: Item::new(key).with_s(OWNER, user.as_str()),
        condition: Some(Condition::NotExists),
    }
}

/// Frees the marker `key`, if `user` still holds it.
pub fn release_key(key: Key, user: &UserId) -> TxOp {
    TxOp::Delete {
        key,
        condition: Some(owned_by(user)),
    }
}

fn owned_by(user: &UserId) -> Condition {
    Condition::eq(OWNER, Attr::S(user.as_str().to_string()))
}

/// Holds only while `user` still owns the identifier.
pub fn check_owner(id: &LoginId, user: &UserId) -> TxOp {
    TxOp::Check {
        key: key(id),
        condition: owned_by(user),
    }
}

/// Frees the identifier, if `user` still holds it.
pub fn release(id: &LoginId, user: &UserId) -> TxOp {
    TxOp::Delete {
        key: key(id),
        condition: Some(owned_by(user)),
    }
}

pub fn owner(item: &Item) -> Result<UserId, Error> {
    UserId::parse("userId", req_s(item, OWNER)?).map_err(|e| corrupt(item, e.message))
}
