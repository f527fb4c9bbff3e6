//! Verification tokens: proof that the bearer received a code at an address for a
//! purpose. Stored under the token's digest; consumed by a conditional delete.

use super::{corrupt, keys, req_s};
use crate::domain::{CodePurpose, Recipient};
use crate::error::Error;
use crate::ports::{Condition, Item, Key, TxOp};

const CHANNEL: &str = "channel";
const ADDRESS: &str = "address";
const PURPOSE: &str = "purpose";

pub fn key(digest: &str) -> Key {
    keys::verification_token(digest)
}

pub fn create(digest: &str, to: &Recipient, purpose: CodePurpose, expires_at: i64) -> TxOp {
    TxOp::Put {
        item: Item::new(key(digest))
            .with_s(CHANNEL, to.channel())
            .with_s(ADDRESS, to.address())
            .with_s(PURPOSE, purpose.as_str())
            .expiring_at(expires_at),
        condition: Some(Condition::NotExists),
    }
}

pub fn decode(item: &Item) -> Result<(Recipient, CodePurpose), Error> {
    let to = Recipient::from_stored(req_s(item, CHANNEL)?, req_s(item, ADDRESS)?)
        .ok_or_else(|| corrupt(item, "unknown recipient"))?;
    let purpose = CodePurpose::parse(Some(req_s(item, PURPOSE)?)).map_err(|e| corrupt(item, e.message))?;
    Ok((to, purpose))
}

/// Spends the token; fails when it is gone (used, expired) or spent concurrently.
pub fn consume(key: Key) -> TxOp {
    TxOp::Delete {
        key,
        condition: Some(Condition::Exists),
    }
}
