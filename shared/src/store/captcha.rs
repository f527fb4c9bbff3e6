//! Captchas: the keyed hash of the answer, under the digest of the captcha's id.

use super::{keys, req_s};
use crate::error::Error;
use crate::ports::{Item, Key};

const ANSWER_TAG: &str = "answer";

pub fn key(digest: &str) -> Key {
    keys::captcha(digest)
}

pub fn item(digest: &str, answer_tag: String, expires_at: i64) -> Item {
    Item::new(key(digest))
        .with_s(ANSWER_TAG, answer_tag)
        .expiring_at(expires_at)
}

pub fn answer_tag(item: &Item) -> Result<&str, Error> {
    req_s(item, ANSWER_TAG)
}
