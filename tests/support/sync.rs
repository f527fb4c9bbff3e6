//! A sync client as SealTalk's cache strategy describes one: local tables of the friends'
//! profiles, blacklist, friends, groups and group members, built only from
//! `/user/sync/:version` answers; and the same tables as the other routes show the
//! current state, to compare with.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::users::User;
use super::TestApp;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tables {
    pub blacklist: BTreeSet<String>,
    /// friendId → (status, displayName)
    pub friends: BTreeMap<String, (i64, String)>,
    /// id → (nickname, portraitUri) of friends at status 20.
    pub profiles: BTreeMap<String, (String, String)>,
    /// groupId → (name, portraitUri, creatorId, my role, my displayName)
    pub groups: BTreeMap<String, (String, String, String, i64, String)>,
    /// (groupId, memberId) → (role, displayName). Members' nicknames are not compared:
    /// profile changes of members who are not friends are not pushed (`docs/sync.md` §5).
    pub members: BTreeMap<(String, String), (i64, String)>,
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

impl Tables {
    /// Applies one answer's `result`, as the client cache document says.
    pub fn apply(&mut self, r: &Value) {
        if r["full"] == true {
            *self = Tables::default();
        }
        for b in r["blacklist"].as_array().unwrap() {
            let id = s(&b["friendId"]);
            if b["status"] == true {
                self.blacklist.insert(id);
            } else {
                self.blacklist.remove(&id);
            }
        }
        for f in r["friends"].as_array().unwrap() {
            let id = s(&f["friendId"]);
            let status = f["status"].as_i64().unwrap();
            if status == 30 {
                self.friends.remove(&id);
            } else {
                self.friends.insert(id.clone(), (status, s(&f["displayName"])));
            }
            if status == 20 && f["user"].is_object() {
                self.profiles
                    .insert(id, (s(&f["user"]["nickname"]), s(&f["user"]["portraitUri"])));
            } else {
                self.profiles.remove(&id);
            }
        }
        for g in r["groups"].as_array().unwrap() {
            let id = s(&g["group"]["id"]);
            if g["isDeleted"] == true {
                self.groups.remove(&id);
                self.members.retain(|(gid, _), _| *gid != id);
            } else {
                self.groups.insert(
                    id,
                    (
                        s(&g["group"]["name"]),
                        s(&g["group"]["portraitUri"]),
                        s(&g["group"]["creatorId"]),
                        g["role"].as_i64().unwrap(),
                        s(&g["displayName"]),
                    ),
                );
            }
        }
        for m in r["group_members"].as_array().unwrap() {
            let key = (s(&m["groupId"]), s(&m["memberId"]));
            if m["isDeleted"] == true {
                self.members.remove(&key);
            } else {
                assert!(
                    m["user"]["nickname"].is_string(),
                    "a member entry carries the member's profile: {m}"
                );
                self.members
                    .insert(key, (m["role"].as_i64().unwrap(), s(&m["displayName"])));
            }
        }
    }
}

/// A client of one user: its tables and the version it holds.
pub struct SyncClient {
    pub tables: Tables,
    pub version: i64,
}

impl SyncClient {
    pub fn new() -> SyncClient {
        SyncClient {
            tables: Tables::default(),
            version: 0,
        }
    }

    /// One call: applies the answer and keeps its version; returns the `result`.
    pub async fn once(&mut self, app: &TestApp, user: &User) -> Value {
        let res = app.as_user(user).get(&format!("/user/sync/{}", self.version)).await;
        assert_eq!(res.code(), 200, "{}", res.body);
        let r = res.body["result"].clone();
        let entries = ["blacklist", "friends", "groups", "group_members"]
            .iter()
            .map(|k| r[k].as_array().unwrap().len())
            .sum::<usize>();
        assert!(entries <= 1000, "an answer holds at most 1000 entries, not {entries}");
        self.tables.apply(&r);
        self.version = r["version"].as_i64().unwrap();
        r
    }

    /// Calls until nothing more is waiting; returns the answers.
    pub async fn drain(&mut self, app: &TestApp, user: &User) -> Vec<Value> {
        let mut answers = vec![];
        for _ in 0..200 {
            let r = self.once(app, user).await;
            let more = r["hasMore"] == true;
            answers.push(r);
            if !more {
                return answers;
            }
        }
        panic!("sync kept answering hasMore");
    }
}

/// The tables as the other routes show the current state: the blacklist, the friendship
/// list, the user's groups and each group's members.
pub async fn truth(app: &TestApp, user: &User) -> Tables {
    let me = app.as_user(user);
    let mut t = Tables::default();
    let res = me.get("/user/blacklist").await;
    assert_eq!(res.code(), 200, "{}", res.body);
    for b in res.body["result"].as_array().unwrap() {
        t.blacklist.insert(s(&b["user"]["id"]));
    }
    let res = me.get("/friendship/all").await;
    assert_eq!(res.code(), 200, "{}", res.body);
    for f in res.body["result"].as_array().unwrap() {
        let status = f["status"].as_i64().unwrap();
        if status == 30 {
            continue;
        }
        let id = s(&f["user"]["id"]);
        t.friends.insert(id.clone(), (status, s(&f["displayName"])));
        if status == 20 {
            t.profiles
                .insert(id, (s(&f["user"]["nickname"]), s(&f["user"]["portraitUri"])));
        }
    }
    let res = me.get("/user/groups").await;
    assert_eq!(res.code(), 200, "{}", res.body);
    for g in res.body["result"].as_array().unwrap() {
        let id = s(&g["id"]);
        let res = me.get(&format!("/group/{id}/members")).await;
        assert_eq!(res.code(), 200, "{}", res.body);
        let mut mine = (1, String::new());
        for m in res.body["result"].as_array().unwrap() {
            let uid = s(&m["user"]["id"]);
            let role = m["role"].as_i64().unwrap();
            if uid == user.id {
                mine = (role, s(&m["groupNickname"]));
            }
            t.members.insert((id.clone(), uid), (role, s(&m["groupNickname"])));
        }
        t.groups.insert(
            id,
            (s(&g["name"]), s(&g["portraitUri"]), s(&g["creatorId"]), mine.0, mine.1),
        );
    }
    t
}
