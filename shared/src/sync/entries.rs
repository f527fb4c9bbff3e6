//! The shapes of a sync answer, as SealTalk's user API and client cache document define
//! them, and the set of entries one answer collects (one per subject: the last state read
//! wins, so a subject changed twice is delivered once).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::{GroupId, UserId};
use crate::store::groups::{Member, Meta};
use crate::store::profile::Profile;
use crate::store::relations::{Edge, Status};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserEntry {
    pub id: String,
    pub nickname: String,
    pub portrait_uri: String,
    pub timestamp: i64,
}

impl UserEntry {
    pub fn of(id: &UserId, p: &Profile, now: i64) -> UserEntry {
        UserEntry {
            id: id.to_string(),
            nickname: p.nickname.clone(),
            portrait_uri: p.portrait_uri.clone(),
            timestamp: now,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BlacklistEntry {
    pub friend_id: String,
    /// false: the entry is gone.
    pub status: bool,
    pub timestamp: i64,
}

/// A friend as their own profile says (how friends' nicknames reach the local user table).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Brief {
    pub id: String,
    pub nickname: String,
    pub portrait_uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FriendEntry {
    pub friend_id: String,
    pub display_name: String,
    /// SealTalk's statuses; 30: the relation is gone.
    pub status: i64,
    pub timestamp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<Brief>,
}

impl FriendEntry {
    pub fn of(f: &UserId, edge: &Edge, p: &Profile, now: i64) -> FriendEntry {
        FriendEntry {
            friend_id: f.to_string(),
            display_name: edge.display_name.clone(),
            status: edge.status.code(),
            timestamp: now,
            user: Some(Brief {
                id: f.to_string(),
                nickname: p.nickname.clone(),
                portrait_uri: p.portrait_uri.clone(),
            }),
        }
    }
    pub fn gone(f: &UserId, now: i64) -> FriendEntry {
        FriendEntry {
            friend_id: f.to_string(),
            display_name: String::new(),
            status: Status::Deleted.code(),
            timestamp: now,
            user: None,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupBrief {
    pub id: String,
    pub name: String,
    pub portrait_uri: String,
    pub creator_id: String,
    pub timestamp: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupEntry {
    pub display_name: String,
    pub role: i64,
    pub is_deleted: bool,
    pub group: GroupBrief,
}

impl GroupEntry {
    pub fn of(meta: &Meta, me: &Member, now: i64) -> GroupEntry {
        GroupEntry {
            display_name: me.display_name.clone(),
            role: me.role.code(),
            is_deleted: false,
            group: GroupBrief {
                id: meta.id.to_string(),
                name: meta.name.clone(),
                portrait_uri: meta.portrait_uri.clone(),
                creator_id: meta.creator.to_string(),
                timestamp: now,
            },
        }
    }
    /// The group is gone for this user (left, removed or dismissed): the client drops it
    /// and its member rows.
    pub fn gone(g: &GroupId, meta: Option<&Meta>, now: i64) -> GroupEntry {
        GroupEntry {
            display_name: String::new(),
            role: 1,
            is_deleted: true,
            group: GroupBrief {
                id: g.to_string(),
                name: meta.map(|m| m.name.clone()).unwrap_or_default(),
                portrait_uri: meta.map(|m| m.portrait_uri.clone()).unwrap_or_default(),
                creator_id: meta.map(|m| m.creator.to_string()).unwrap_or_default(),
                timestamp: now,
            },
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberUser {
    pub nickname: String,
    pub portrait_uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberEntry {
    pub group_id: String,
    pub member_id: String,
    pub display_name: String,
    pub role: i64,
    pub is_deleted: bool,
    pub timestamp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<MemberUser>,
}

impl MemberEntry {
    pub fn of(g: &GroupId, m: &Member, p: &Profile, now: i64) -> MemberEntry {
        MemberEntry {
            group_id: g.to_string(),
            member_id: m.user.to_string(),
            display_name: m.display_name.clone(),
            role: m.role.code(),
            is_deleted: false,
            timestamp: now,
            user: Some(MemberUser {
                nickname: p.nickname.clone(),
                portrait_uri: p.portrait_uri.clone(),
            }),
        }
    }
    pub fn gone(g: &GroupId, u: &UserId, now: i64) -> MemberEntry {
        MemberEntry {
            group_id: g.to_string(),
            member_id: u.to_string(),
            display_name: String::new(),
            role: 1,
            is_deleted: true,
            timestamp: now,
            user: None,
        }
    }
}

/// The entries one answer delivers, one per subject.
#[derive(Default)]
pub struct Delivery {
    pub blacklist: BTreeMap<UserId, BlacklistEntry>,
    pub friends: BTreeMap<UserId, FriendEntry>,
    pub groups: BTreeMap<GroupId, GroupEntry>,
    pub members: BTreeMap<(GroupId, UserId), MemberEntry>,
}

impl Delivery {
    pub(super) fn len(&self) -> usize {
        self.blacklist.len() + self.friends.len() + self.groups.len() + self.members.len()
    }

    /// A group and its members as one unit (a subscription: never split across answers).
    pub fn group_unit(&mut self, g: &GroupId, entry: GroupEntry, members: Vec<(UserId, MemberEntry)>) {
        self.groups.insert(g.clone(), entry);
        for (u, m) in members {
            self.members.insert((g.clone(), u), m);
        }
    }

    /// A group tombstone replaces whatever this answer held of the group's members: the
    /// client drops their rows with the group.
    pub fn group_gone(&mut self, g: &GroupId, entry: GroupEntry) {
        self.members.retain(|(group, _), _| group != g);
        self.groups.insert(g.clone(), entry);
    }
}
