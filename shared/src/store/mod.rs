//! Typed access to what Roster stores, above the store port. Each entity has one module
//! that owns its attribute names, decodes its items and builds its write operations;
//! services never spell an attribute name. An item that does not decode is our bug: an
//! `Error::Corrupt` naming its key (a 500), never a default and never a client's 400.
pub mod captcha;
pub mod codes;
pub mod credential;
pub mod feeds;
pub mod groups;
pub mod jobs;
pub mod keys;
pub mod login_failures;
pub mod markers;
pub mod names;
pub mod profile;
pub mod relations;
pub mod retry;
pub mod sessions;
pub mod sync_points;
mod tx;
pub mod verification_tokens;

pub use tx::{Tx, TxError};

use crate::error::Error;
use crate::ports::Item;

pub(crate) fn corrupt(item: &Item, detail: impl Into<String>) -> Error {
    Error::Corrupt {
        key: format!("{}/{}", item.key.pk, item.key.sk),
        detail: detail.into(),
    }
}

/// The answers of a batch get of `N` keys, as an array.
pub(crate) fn exactly<const N: usize>(items: Vec<Option<Item>>) -> Result<[Option<Item>; N], Error> {
    items
        .try_into()
        .map_err(|_| Error::Internal("the store answered a batch get with the wrong number of items".into()))
}

/// A string attribute the item must have.
pub(crate) fn req_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, Error> {
    item.s(name)
        .ok_or_else(|| corrupt(item, format!("string attribute `{name}` is missing")))
}

/// A number attribute the item must have.
pub(crate) fn req_n(item: &Item, name: &str) -> Result<i64, Error> {
    item.n(name)
        .ok_or_else(|| corrupt(item, format!("number attribute `{name}` is missing")))
}
