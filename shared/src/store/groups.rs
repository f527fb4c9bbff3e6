//! Groups (`docs/sync.md` §2, §7): the group's `META`, its feed head (`seq`,
//! `memberCount`), one `MEMBER#<u>` item per member, the member's mirror `USER#<u>/GROUP#<g>`
//! (so "my groups" is one strongly consistent query of my partition), pending invitations
//! and join requests (`NOTICE#<u>`), and favourites (`USER#<u>/FAVGROUP#<g>`).
//!
//! | item | pk | sk | index | attributes |
//! | --- | --- | --- | --- | --- |
//! | meta | `GROUP#<g>` | `META` | — | `state`, `name`, `portraitUri`, `creatorId`, `bulletin`, `bulletinTime`, `isMute`, `certiStatus`, `createdAt`, `updatedAt` |
//! | feed head | `GROUP#<g>` | `FEED` | — | `seq`, `memberCount` |
//! | member | `GROUP#<g>` | `MEMBER#<u>` | — | `role`, `displayName`, `joinSeq`, `createdAt`, `updatedAt` |
//! | mirror | `USER#<u>` | `GROUP#<g>` | — | `role`, `createdAt` |
//! | notice | `GROUP#<g>` | `NOTICE#<u>` | invitations: `USER#<u>` / `GNOTICE#<g>` | `type`, `requesterId`, `createdAt` |
//! | favourite | `USER#<u>` | `FAVGROUP#<g>` | — | `createdAt` |

use super::{corrupt, keys, req_n, req_s};
use crate::domain::{GroupId, Role, UserId};
use crate::error::Error;
use crate::ports::{Attr, Condition, Item, Key, Query, TxOp, Update};

const STATE: &str = "state";
const NAME: &str = "name";
const PORTRAIT_URI: &str = "portraitUri";
const CREATOR_ID: &str = "creatorId";
const BULLETIN: &str = "bulletin";
const BULLETIN_TIME: &str = "bulletinTime";
const IS_MUTE: &str = "isMute";
const CERTI_STATUS: &str = "certiStatus";
const CREATED_AT: &str = "createdAt";
const UPDATED_AT: &str = "updatedAt";
const ROLE: &str = "role";
const DISPLAY_NAME: &str = "displayName";
const JOIN_SEQ: &str = "joinSeq";
const TYPE: &str = "type";
const REQUESTER_ID: &str = "requesterId";

const ACTIVE: &str = "active";
const DISMISSED: &str = "dismissed";
pub const MEMBER_PREFIX: &str = "MEMBER#";
pub const MIRROR_PREFIX: &str = "GROUP#";
pub const NOTICE_PREFIX: &str = "NOTICE#";
pub const FAV_PREFIX: &str = "FAVGROUP#";
pub const INVITE_INDEX_PREFIX: &str = "GNOTICE#";

/// A dismissed group's items stay this long, for syncs to see it go.
const DISMISSED_LIFETIME_SECS: i64 = 35 * 86_400;

pub fn group_pk(g: &GroupId) -> String {
    format!("GROUP#{g}")
}
pub fn meta_key(g: &GroupId) -> Key {
    Key::new(group_pk(g), "META")
}
pub fn head(g: &GroupId) -> Key {
    Key::new(group_pk(g), "FEED")
}
pub fn member_key(g: &GroupId, u: &UserId) -> Key {
    Key::new(group_pk(g), format!("{MEMBER_PREFIX}{u}"))
}
pub fn mirror_key(u: &UserId, g: &GroupId) -> Key {
    Key::new(keys::user_pk(u), format!("{MIRROR_PREFIX}{g}"))
}
pub fn notice_key(g: &GroupId, u: &UserId) -> Key {
    Key::new(group_pk(g), format!("{NOTICE_PREFIX}{u}"))
}
pub fn fav_key(u: &UserId, g: &GroupId) -> Key {
    Key::new(keys::user_pk(u), format!("{FAV_PREFIX}{g}"))
}

pub fn members_of(g: &GroupId) -> Query {
    Query::partition(group_pk(g)).begins_with(MEMBER_PREFIX).limit(1000)
}
pub fn mirrors_of(u: &UserId) -> Query {
    Query::partition(keys::user_pk(u))
        .begins_with(MIRROR_PREFIX)
        .limit(1000)
}
pub fn notices_of_group(g: &GroupId) -> Query {
    Query::partition(group_pk(g)).begins_with(NOTICE_PREFIX).limit(1000)
}
pub fn invitations_of(u: &UserId) -> Query {
    Query::partition(keys::user_pk(u))
        .on(crate::ports::IndexName::Inverted)
        .begins_with(INVITE_INDEX_PREFIX)
        .limit(1000)
}
pub fn favourites_of(u: &UserId) -> Query {
    Query::partition(keys::user_pk(u)).begins_with(FAV_PREFIX).limit(1000)
}

fn id_after(item: &Item, prefix: &str) -> Result<String, Error> {
    item.key
        .sk
        .strip_prefix(prefix)
        .map(str::to_string)
        .ok_or_else(|| corrupt(item, format!("not a {prefix} key")))
}

/// The group a mirror or favourite names.
pub fn group_of(item: &Item, prefix: &str) -> Result<GroupId, Error> {
    GroupId::parse("groupId", &id_after(item, prefix)?).map_err(|e| corrupt(item, e.message))
}

#[derive(Clone, Debug, PartialEq)]
pub struct Meta {
    pub id: GroupId,
    pub active: bool,
    pub name: String,
    pub portrait_uri: String,
    pub creator: UserId,
    pub bulletin: String,
    pub bulletin_time: i64,
    pub is_mute: bool,
    pub certification: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Meta {
    pub fn from_item(item: &Item) -> Result<Meta, Error> {
        let id = GroupId::parse("groupId", item.key.pk.strip_prefix("GROUP#").unwrap_or_default())
            .map_err(|e| corrupt(item, e.message))?;
        let flag = |name: &str| -> Result<bool, Error> {
            match req_n(item, name)? {
                0 => Ok(false),
                1 => Ok(true),
                n => Err(corrupt(item, format!("`{name}` is {n}"))),
            }
        };
        Ok(Meta {
            id,
            active: match req_s(item, STATE)? {
                ACTIVE => true,
                DISMISSED => false,
                other => return Err(corrupt(item, format!("`state` is {other:?}"))),
            },
            name: req_s(item, NAME)?.to_string(),
            portrait_uri: req_s(item, PORTRAIT_URI)?.to_string(),
            creator: UserId::parse("creatorId", req_s(item, CREATOR_ID)?).map_err(|e| corrupt(item, e.message))?,
            bulletin: req_s(item, BULLETIN)?.to_string(),
            bulletin_time: req_n(item, BULLETIN_TIME)?,
            is_mute: flag(IS_MUTE)?,
            certification: flag(CERTI_STATUS)?,
            created_at: req_n(item, CREATED_AT)?,
            updated_at: req_n(item, UPDATED_AT)?,
        })
    }
}

pub fn create_meta(g: &GroupId, name: &str, portrait: &str, creator: &UserId, now_ms: i64) -> TxOp {
    TxOp::Put {
        item: Item::new(meta_key(g))
            .with_s(STATE, ACTIVE)
            .with_s(NAME, name)
            .with_s(PORTRAIT_URI, portrait)
            .with_s(CREATOR_ID, creator.as_str())
            .with_s(BULLETIN, "")
            .with_n(BULLETIN_TIME, 0)
            .with_n(IS_MUTE, 0)
            .with_n(CERTI_STATUS, 0)
            .with_n(CREATED_AT, now_ms)
            .with_n(UPDATED_AT, now_ms),
        condition: Some(Condition::NotExists),
    }
}

fn active() -> Condition {
    Condition::eq(STATE, Attr::S(ACTIVE.into()))
}

/// The group is still active (a check in a membership write).
pub fn check_active(g: &GroupId) -> TxOp {
    TxOp::Check {
        key: meta_key(g),
        condition: active(),
    }
}

/// A setting of the group (name, portrait, bulletin, mute, certification).
#[derive(Clone, Copy, Debug)]
pub enum Setting<'a> {
    Name(&'a str),
    Portrait(&'a str),
    Bulletin(&'a str),
    Mute(bool),
    Certification(bool),
    Creator(&'a UserId),
}

pub fn set(g: &GroupId, setting: Setting<'_>, now_ms: i64) -> TxOp {
    let mut updates = vec![Update::set(UPDATED_AT, Attr::N(now_ms))];
    match setting {
        Setting::Name(n) => updates.push(Update::set(NAME, Attr::S(n.into()))),
        Setting::Portrait(p) => updates.push(Update::set(PORTRAIT_URI, Attr::S(p.into()))),
        Setting::Bulletin(b) => {
            updates.push(Update::set(BULLETIN, Attr::S(b.into())));
            updates.push(Update::set(BULLETIN_TIME, Attr::N(now_ms)));
        }
        Setting::Mute(on) => updates.push(Update::set(IS_MUTE, Attr::N(i64::from(on)))),
        Setting::Certification(on) => updates.push(Update::set(CERTI_STATUS, Attr::N(i64::from(on)))),
        Setting::Creator(u) => updates.push(Update::set(CREATOR_ID, Attr::S(u.as_str().into()))),
    }
    TxOp::Update {
        key: meta_key(g),
        updates,
        condition: Some(active()),
    }
}

/// Dismissal: the meta reads as dismissed, and it and the feed expire in 35 days.
pub fn dismiss(g: &GroupId, now_ms: i64) -> TxOp {
    TxOp::Update {
        key: meta_key(g),
        updates: vec![
            Update::set(STATE, Attr::S(DISMISSED.into())),
            Update::set(UPDATED_AT, Attr::N(now_ms)),
            Update::SetExpiry(now_ms / 1000 + DISMISSED_LIFETIME_SECS),
        ],
        condition: Some(active()),
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub user: UserId,
    pub role: Role,
    pub display_name: String,
    pub join_seq: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Member {
    pub fn from_item(item: &Item) -> Result<Member, Error> {
        let user = UserId::parse("memberId", &id_after(item, MEMBER_PREFIX)?).map_err(|e| corrupt(item, e.message))?;
        Ok(Member {
            user,
            role: Role::from_n(req_n(item, ROLE)?).ok_or_else(|| corrupt(item, "`role` is not 0, 1 or 2"))?,
            display_name: req_s(item, DISPLAY_NAME)?.to_string(),
            join_seq: req_n(item, JOIN_SEQ)?,
            created_at: req_n(item, CREATED_AT)?,
            updated_at: req_n(item, UPDATED_AT)?,
        })
    }
}

/// A new member and their mirror.
pub fn add_member(g: &GroupId, u: &UserId, role: Role, join_seq: i64, now_ms: i64) -> [TxOp; 2] {
    [
        TxOp::Put {
            item: Item::new(member_key(g, u))
                .with_n(ROLE, role.code())
                .with_s(DISPLAY_NAME, "")
                .with_n(JOIN_SEQ, join_seq)
                .with_n(CREATED_AT, now_ms)
                .with_n(UPDATED_AT, now_ms),
            condition: Some(Condition::NotExists),
        },
        TxOp::Put {
            item: Item::new(mirror_key(u, g))
                .with_n(ROLE, role.code())
                .with_n(CREATED_AT, now_ms),
            condition: Some(Condition::NotExists),
        },
    ]
}

/// A member leaves: the member item (still in the role read) and the mirror go.
pub fn remove_member(g: &GroupId, u: &UserId, role: Role) -> [TxOp; 2] {
    [
        TxOp::Delete {
            key: member_key(g, u),
            condition: Some(Condition::eq(ROLE, Attr::N(role.code()))),
        },
        TxOp::Delete {
            key: mirror_key(u, g),
            condition: None,
        },
    ]
}

/// A member's role changes from `from` to `to`, on the member item and the mirror.
pub fn set_role(g: &GroupId, u: &UserId, from: Role, to: Role, now_ms: i64) -> [TxOp; 2] {
    [
        TxOp::Update {
            key: member_key(g, u),
            updates: vec![
                Update::set(ROLE, Attr::N(to.code())),
                Update::set(UPDATED_AT, Attr::N(now_ms)),
            ],
            condition: Some(Condition::eq(ROLE, Attr::N(from.code()))),
        },
        TxOp::Update {
            key: mirror_key(u, g),
            updates: vec![Update::set(ROLE, Attr::N(to.code()))],
            condition: Some(Condition::Exists),
        },
    ]
}

/// The caller is a member in one of `roles` (a check in a group write).
pub fn check_role(g: &GroupId, u: &UserId, roles: &[Role]) -> TxOp {
    TxOp::Check {
        key: member_key(g, u),
        condition: Condition::Or(roles.iter().map(|r| Condition::eq(ROLE, Attr::N(r.code()))).collect()),
    }
}

pub fn set_display_name(g: &GroupId, u: &UserId, name: &str, now_ms: i64) -> TxOp {
    TxOp::Update {
        key: member_key(g, u),
        updates: vec![
            Update::set(DISPLAY_NAME, Attr::S(name.into())),
            Update::set(UPDATED_AT, Attr::N(now_ms)),
        ],
        condition: Some(Condition::Exists),
    }
}

/// The role a mirror records.
pub fn mirror_role(item: &Item) -> Result<Role, Error> {
    Role::from_n(req_n(item, ROLE)?).ok_or_else(|| corrupt(item, "`role` is not 0, 1 or 2"))
}

/// Who must act on a pending notice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeType {
    /// The invitee (their `groupVerify` is 0).
    Invitee = 1,
    /// The group's creator or a manager (certification is on).
    Manager = 2,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub group: GroupId,
    pub receiver: UserId,
    pub kind: NoticeType,
    pub requester: UserId,
    pub created_at: i64,
}

impl Notice {
    pub fn from_item(item: &Item) -> Result<Notice, Error> {
        let group = GroupId::parse("groupId", item.key.pk.strip_prefix("GROUP#").unwrap_or_default())
            .map_err(|e| corrupt(item, e.message))?;
        let receiver =
            UserId::parse("receiverId", &id_after(item, NOTICE_PREFIX)?).map_err(|e| corrupt(item, e.message))?;
        Ok(Notice {
            group,
            receiver,
            kind: match req_n(item, TYPE)? {
                1 => NoticeType::Invitee,
                2 => NoticeType::Manager,
                n => return Err(corrupt(item, format!("`type` is {n}"))),
            },
            requester: UserId::parse("requesterId", req_s(item, REQUESTER_ID)?)
                .map_err(|e| corrupt(item, e.message))?,
            created_at: req_n(item, CREATED_AT)?,
        })
    }
}

/// A pending invitation or join request (replacing an earlier one for the same user).
pub fn put_notice(g: &GroupId, receiver: &UserId, kind: NoticeType, requester: &UserId, now_ms: i64) -> TxOp {
    let mut item = Item::new(notice_key(g, receiver))
        .with_n(TYPE, kind as i64)
        .with_s(REQUESTER_ID, requester.as_str())
        .with_n(CREATED_AT, now_ms);
    if kind == NoticeType::Invitee {
        item = item.indexed_as(Key::new(keys::user_pk(receiver), format!("{INVITE_INDEX_PREFIX}{g}")));
    }
    TxOp::Put { item, condition: None }
}

/// Consumes a pending notice of `kind` (of concurrent answers, one wins).
pub fn take_notice(g: &GroupId, receiver: &UserId, kind: NoticeType) -> TxOp {
    TxOp::Delete {
        key: notice_key(g, receiver),
        condition: Some(Condition::eq(TYPE, Attr::N(kind as i64))),
    }
}

pub fn fav(u: &UserId, g: &GroupId, now_ms: i64) -> TxOp {
    TxOp::Put {
        item: Item::new(fav_key(u, g)).with_n(CREATED_AT, now_ms),
        condition: None,
    }
}

pub fn unfav(u: &UserId, g: &GroupId) -> TxOp {
    TxOp::Delete {
        key: fav_key(u, g),
        condition: None,
    }
}

pub fn created_at(item: &Item) -> Result<i64, Error> {
    req_n(item, CREATED_AT)
}

/// `to` becomes the creator (role, mirror, meta), and the records members sync for it.
pub fn hand_over(g: &GroupId, to: &Member, now_ms: i64) -> (Vec<TxOp>, [super::feeds::Change; 2]) {
    use super::feeds::{Change, Op};
    let mut ops = set_role(g, &to.user, to.role, Role::Creator, now_ms).to_vec();
    ops.push(set(g, Setting::Creator(&to.user), now_ms));
    (
        ops,
        [
            Change::of("group_member", &to.user, Op::Upsert),
            Change::named("group", g.as_str(), Op::Upsert),
        ],
    )
}

/// Who becomes creator when `leaving` (the creator) goes: the manager with the smallest
/// `joinSeq`, else the member with the smallest; none when nobody else is left.
pub fn successor<'a>(members: &'a [Member], leaving: &UserId) -> Option<&'a Member> {
    let others = || members.iter().filter(move |m| m.user != *leaving);
    others()
        .filter(|m| m.role == Role::Manager)
        .min_by_key(|m| m.join_seq)
        .or_else(|| others().min_by_key(|m| m.join_seq))
}
