//! A user's profile: what SealTalk's user API shows of a person.

use super::{corrupt, keys, req_n, req_s};
use crate::domain::{Nickname, PhoneNumber, UserId};
use crate::error::Error;
use crate::ports::{Condition, Item, Key, TxOp};

const PHONE: &str = "phone";
const NICKNAME: &str = "nickname";
const PORTRAIT_URI: &str = "portraitUri";
const GENDER: &str = "gender";
const ST_ACCOUNT: &str = "stAccount";
const CREATED_AT: &str = "createdAt";
const UPDATED_AT: &str = "updatedAt";

pub fn key(user: &UserId) -> Key {
    keys::profile(user)
}

#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    pub phone: Option<PhoneNumber>,
    pub nickname: String,
    pub portrait_uri: String,
    pub gender: String,
    pub st_account: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Profile {
    pub fn from_item(item: &Item) -> Result<Profile, Error> {
        let phone = match item.s(PHONE).filter(|p| !p.is_empty()) {
            Some(p) => Some(PhoneNumber::parse_e164("phone", p).map_err(|e| corrupt(item, e.message))?),
            None => None,
        };
        Ok(Profile {
            phone,
            nickname: req_s(item, NICKNAME)?.to_string(),
            portrait_uri: req_s(item, PORTRAIT_URI)?.to_string(),
            gender: req_s(item, GENDER)?.to_string(),
            st_account: req_s(item, ST_ACCOUNT)?.to_string(),
            created_at: req_n(item, CREATED_AT)?,
            updated_at: req_n(item, UPDATED_AT)?,
        })
    }
}

pub fn create(user: &UserId, phone: &PhoneNumber, nickname: &Nickname, now_ms: i64) -> TxOp {
    TxOp::Put {
        item: Item::new(key(user))
            .with_s(PHONE, phone.e164())
            .with_s(NICKNAME, nickname.as_str())
            .with_s(PORTRAIT_URI, "")
            .with_s(GENDER, "")
            .with_s(ST_ACCOUNT, "")
            .with_n(CREATED_AT, now_ms)
            .with_n(UPDATED_AT, now_ms),
        condition: Some(Condition::NotExists),
    }
}

pub fn delete(user: &UserId) -> TxOp {
    TxOp::Delete {
        key: key(user),
        condition: Some(Condition::Exists),
    }
}
