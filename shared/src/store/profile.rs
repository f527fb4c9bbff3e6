//! A user's profile: what SealTalk's user API shows of a person, their privacy and poke
//! settings, and `pseq`, the number of the last change record that touched what their
//! friends see (`docs/sync.md` §4).

use super::{corrupt, keys, req_n, req_s};
use crate::domain::{
    Birthday, EmailAddress, Gender, Nickname, PhoneNumber, PortraitUri, Privacy, PrivacyChange, StAccount, UserId,
    Username,
};
use crate::error::Error;
use crate::ports::{Attr, Condition, Item, Key, TxOp, Update};

const PHONE: &str = "phone";
const EMAIL: &str = "email";
/// Epoch millis of the last phone changes, newest last, comma separated (at most the
/// limit's number): the rolling window is exact, and the list is the change's condition.
const PHONE_CHANGES: &str = "phoneChanges";
const DISPLAY_EMAIL: &str = "displayEmail";
const NICKNAME: &str = "nickname";
const PORTRAIT_URI: &str = "portraitUri";
const GENDER: &str = "gender";
const ST_ACCOUNT: &str = "stAccount";
const CREATED_AT: &str = "createdAt";
const UPDATED_AT: &str = "updatedAt";
const PHONE_VERIFY: &str = "phoneVerify";
const ST_SEARCH_VERIFY: &str = "stSearchVerify";
const FRI_VERIFY: &str = "friVerify";
const GROUP_VERIFY: &str = "groupVerify";
const DISPLAY_FOLLOWS: &str = "displayFollows";
const DISPLAY_PHONE: &str = "displayPhone";
const DISPLAY_BIRTHDAY: &str = "displayBirthday";
const USERNAME: &str = "username";
const LEVEL: &str = "level";
const BIRTHDAY: &str = "birthday";
const POKE_STATUS: &str = "pokeStatus";
const PSEQ: &str = "pseq";

pub fn key(user: &UserId) -> Key {
    keys::profile(user)
}

#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    pub phone: Option<PhoneNumber>,
    pub email: Option<EmailAddress>,
    /// When the phone number was changed lately (epoch millis, oldest first).
    pub phone_changes: Vec<i64>,
    phone_changes_raw: String,
    pub nickname: String,
    pub portrait_uri: String,
    pub gender: String,
    pub st_account: String,
    pub privacy: Privacy,
    /// "" until the user picks one.
    pub username: String,
    /// `YYYY-MM-DD`, or "".
    pub birthday: String,
    /// Set by operators (`roster-admin set-level`); a configured minimum gates viewing.
    pub level: i64,
    pub poke: bool,
    pub pseq: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

fn flag(item: &Item, name: &str) -> Result<bool, Error> {
    match req_n(item, name)? {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(corrupt(item, format!("`{name}` is {other}, not 0 or 1"))),
    }
}

fn n(on: bool) -> Attr {
    Attr::N(i64::from(on))
}

impl Profile {
    pub fn from_item(item: &Item) -> Result<Profile, Error> {
        let phone = match item.s(PHONE).filter(|p| !p.is_empty()) {
            Some(p) => Some(PhoneNumber::from_stored("phone", p).map_err(|e| corrupt(item, e.message))?),
            None => None,
        };
        let email = match req_s(item, EMAIL)?.to_string() {
            e if e.is_empty() => None,
            e => Some(EmailAddress::parse("email", &e).map_err(|err| corrupt(item, err.message))?),
        };
        let phone_changes_raw = req_s(item, PHONE_CHANGES)?.to_string();
        let phone_changes = phone_changes_raw
            .split(',')
            .filter(|t| !t.is_empty())
            .map(|t| {
                t.parse::<i64>()
                    .map_err(|_| corrupt(item, format!("`{PHONE_CHANGES}` holds {t:?}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Profile {
            phone,
            email,
            phone_changes,
            phone_changes_raw,
            nickname: req_s(item, NICKNAME)?.to_string(),
            portrait_uri: req_s(item, PORTRAIT_URI)?.to_string(),
            gender: req_s(item, GENDER)?.to_string(),
            st_account: req_s(item, ST_ACCOUNT)?.to_string(),
            privacy: Privacy {
                phone_verify: flag(item, PHONE_VERIFY)?,
                st_search_verify: flag(item, ST_SEARCH_VERIFY)?,
                fri_verify: flag(item, FRI_VERIFY)?,
                group_verify: flag(item, GROUP_VERIFY)?,
                display_follows: flag(item, DISPLAY_FOLLOWS)?,
                display_phone: flag(item, DISPLAY_PHONE)?,
                display_birthday: flag(item, DISPLAY_BIRTHDAY)?,
                display_email: flag(item, DISPLAY_EMAIL)?,
            },
            username: req_s(item, USERNAME)?.to_string(),
            birthday: req_s(item, BIRTHDAY)?.to_string(),
            level: req_n(item, LEVEL)?,
            poke: flag(item, POKE_STATUS)?,
            pseq: req_n(item, PSEQ)?,
            created_at: req_n(item, CREATED_AT)?,
            updated_at: req_n(item, UPDATED_AT)?,
        })
    }
}

/// The identifiers a new account starts with: a verified phone or email, or neither
/// (signed up by username alone).
#[derive(Clone, Copy, Default)]
pub struct Contact<'a> {
    pub phone: Option<&'a PhoneNumber>,
    pub email: Option<&'a EmailAddress>,
}

impl<'a> Contact<'a> {
    /// The address a verified code proved.
    pub fn of(to: &'a crate::domain::Recipient) -> Contact<'a> {
        match to {
            crate::domain::Recipient::Phone(p) => Contact {
                phone: Some(p),
                email: None,
            },
            crate::domain::Recipient::Email(e) => Contact {
                phone: None,
                email: Some(e),
            },
        }
    }
}

/// A new profile at `level`.
pub fn create(user: &UserId, contact: Contact<'_>, nickname: &Nickname, level: i64, now_ms: i64) -> TxOp {
    let privacy = Privacy::default();
    TxOp::Put {
        item: Item::new(key(user))
            .with_s(PHONE, contact.phone.map_or("", PhoneNumber::e164))
            .with_s(EMAIL, contact.email.map_or("", EmailAddress::as_str))
            .with_s(PHONE_CHANGES, "")
            .with_s(NICKNAME, nickname.as_str())
            .with_s(PORTRAIT_URI, "")
            .with_s(GENDER, "")
            .with_s(ST_ACCOUNT, "")
            .with(PHONE_VERIFY, n(privacy.phone_verify))
            .with(ST_SEARCH_VERIFY, n(privacy.st_search_verify))
            .with(FRI_VERIFY, n(privacy.fri_verify))
            .with(GROUP_VERIFY, n(privacy.group_verify))
            .with(DISPLAY_FOLLOWS, n(privacy.display_follows))
            .with(DISPLAY_PHONE, n(privacy.display_phone))
            .with(DISPLAY_BIRTHDAY, n(privacy.display_birthday))
            .with(DISPLAY_EMAIL, n(privacy.display_email))
            .with_s(USERNAME, "")
            .with_s(BIRTHDAY, "")
            .with_n(LEVEL, level)
            .with(POKE_STATUS, n(true))
            .with_n(PSEQ, 0)
            .with_n(CREATED_AT, now_ms)
            .with_n(UPDATED_AT, now_ms),
        condition: Some(Condition::NotExists),
    }
}

/// A new profile's item with the username it signed up with.
pub fn with_username(item: Item, name: &Username) -> Item {
    item.with_s(USERNAME, name.as_str())
}

fn update(user: &UserId, mut updates: Vec<Update>, now_ms: i64, condition: Condition) -> TxOp {
    updates.push(Update::set(UPDATED_AT, Attr::N(now_ms)));
    TxOp::Update {
        key: key(user),
        updates,
        condition: Some(condition),
    }
}

/// What friends see changed: the new value, and `pseq` pointing at its change record.
pub fn set_seen_by_friends(
    user: &UserId,
    nickname: Option<&Nickname>,
    portrait: Option<&PortraitUri>,
    pseq: i64,
    now_ms: i64,
) -> TxOp {
    let mut updates = vec![Update::set(PSEQ, Attr::N(pseq))];
    if let Some(nickname) = nickname {
        updates.push(Update::set(NICKNAME, Attr::S(nickname.as_str().into())));
    }
    if let Some(portrait) = portrait {
        updates.push(Update::set(PORTRAIT_URI, Attr::S(portrait.as_str().into())));
    }
    update(user, updates, now_ms, Condition::Exists)
}

pub fn set_gender(user: &UserId, gender: Gender, now_ms: i64) -> TxOp {
    update(
        user,
        vec![Update::set(GENDER, Attr::S(gender.as_str().into()))],
        now_ms,
        Condition::Exists,
    )
}

/// Sets the SealTalk id, only if it is still `old` ("" for none): a racing change of
/// one's own id fails instead of orphaning a marker.
pub fn set_st_account(user: &UserId, old: &str, new: &StAccount, now_ms: i64) -> TxOp {
    update(
        user,
        vec![Update::set(ST_ACCOUNT, Attr::S(new.as_str().into()))],
        now_ms,
        Condition::eq(ST_ACCOUNT, Attr::S(old.into())),
    )
}

/// Sets the username, only if it is still `old` ("" for none).
pub fn set_username(user: &UserId, old: &str, new: &Username, now_ms: i64) -> TxOp {
    update(
        user,
        vec![Update::set(USERNAME, Attr::S(new.as_str().into()))],
        now_ms,
        Condition::eq(USERNAME, Attr::S(old.into())),
    )
}

/// An operator's change of a user's level (the profile must exist).
pub fn set_level(user: &UserId, level: i64, now_ms: i64) -> TxOp {
    update(
        user,
        vec![Update::set(LEVEL, Attr::N(level))],
        now_ms,
        Condition::Exists,
    )
}

pub fn set_birthday(user: &UserId, birthday: Birthday, now_ms: i64) -> TxOp {
    update(
        user,
        vec![Update::set(BIRTHDAY, Attr::S(birthday.to_text()))],
        now_ms,
        Condition::Exists,
    )
}

pub fn set_privacy(user: &UserId, change: &PrivacyChange, now_ms: i64) -> TxOp {
    let mut updates = vec![];
    for (name, value) in [
        (PHONE_VERIFY, change.phone_verify),
        (ST_SEARCH_VERIFY, change.st_search_verify),
        (FRI_VERIFY, change.fri_verify),
        (GROUP_VERIFY, change.group_verify),
        (DISPLAY_FOLLOWS, change.display_follows),
        (DISPLAY_PHONE, change.display_phone),
        (DISPLAY_BIRTHDAY, change.display_birthday),
        (DISPLAY_EMAIL, change.display_email),
    ] {
        if let Some(on) = value {
            updates.push(Update::set(name, n(on)));
        }
    }
    update(user, updates, now_ms, Condition::Exists)
}

/// Moves the account to a new phone number, only if the number and the list of recent
/// changes are still what the caller read: racing changes cannot both pass the limit.
/// `recent` is the list to keep (already trimmed to the window), without `now_ms`.
pub fn set_phone(user: &UserId, read: &Profile, new: &PhoneNumber, recent: &[i64], now_ms: i64) -> TxOp {
    let mut changes: Vec<String> = recent.iter().map(i64::to_string).collect();
    changes.push(now_ms.to_string());
    let old = read.phone.as_ref().map_or("", PhoneNumber::e164);
    update(
        user,
        vec![
            Update::set(PHONE, Attr::S(new.e164().into())),
            Update::set(PHONE_CHANGES, Attr::S(changes.join(","))),
        ],
        now_ms,
        Condition::And(vec![
            Condition::eq(PHONE, Attr::S(old.into())),
            Condition::eq(PHONE_CHANGES, Attr::S(read.phone_changes_raw.clone())),
        ]),
    )
}

/// Sets the email address, only if it is still the one the caller read.
pub fn set_email(user: &UserId, old: Option<&EmailAddress>, new: &EmailAddress, now_ms: i64) -> TxOp {
    update(
        user,
        vec![Update::set(EMAIL, Attr::S(new.as_str().into()))],
        now_ms,
        Condition::eq(EMAIL, Attr::S(old.map_or("", EmailAddress::as_str).into())),
    )
}

pub fn set_poke(user: &UserId, on: bool, now_ms: i64) -> TxOp {
    update(user, vec![Update::set(POKE_STATUS, n(on))], now_ms, Condition::Exists)
}

pub fn delete(user: &UserId) -> TxOp {
    TxOp::Delete {
        key: key(user),
        condition: Some(Condition::Exists),
    }
}
