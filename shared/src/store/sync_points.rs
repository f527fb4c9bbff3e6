//! Sync points (`docs/sync.md` §5, §6): what a client's `version` names. `USER#<u>/SYNCPT#<v>`
//! holds the position in the user's own feed (`own`), one position per subscribed feed
//! (`feeds`: `g<groupId>:<seq>` for a group's feed, `f<userId>:<pseq>` for a friend's
//! profile) and, while a full rebuild is unfinished, where it stopped (`rebuild`). Points
//! are never changed, only extended; v comes from the `sp` counter on the user's feed head,
//! in the transaction that writes the point, so concurrent syncs get distinct points.

use std::collections::BTreeMap;

use super::{corrupt, keys, req_n, req_s};
use crate::domain::{GroupId, UserId};
use crate::error::Error;
use crate::ports::{Attr, Condition, Item, Key, TxOp, Update};

const SP: &str = "sp";
const OWN: &str = "own";
const FEEDS: &str = "feeds";
const REBUILD: &str = "rebuild";
const PREFIX: &str = "SYNCPT#";

/// The longest a point lives (`docs/sync.md` §6: change records live 35 days).
pub const POINT_LIFETIME_SECS: i64 = 30 * 86_400;

/// A feed a sync follows besides the user's own.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subscription {
    /// A group's feed, at its `seq`.
    Group(GroupId),
    /// A friend's profile, at its `pseq`.
    Friend(UserId),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Positions {
    pub own: i64,
    pub feeds: BTreeMap<Subscription, i64>,
    /// `<prefix>|<last sort key>` while a full rebuild is unfinished.
    pub rebuild: Option<String>,
}

#[derive(Clone, Debug)]
pub struct SyncPoint {
    pub positions: Positions,
    /// Epoch seconds.
    pub expires_at: i64,
}

/// Point `n` of the user.
pub fn key(user: &UserId, n: i64) -> Key {
    Key::new(keys::user_pk(user), format!("{PREFIX}{n:020}"))
}

/// Bits of a version that name the user: point numbers are per user, so without them
/// another account's version would name one of this user's points.
const TAG_BITS: u32 = 20;

fn tag(user: &UserId) -> i64 {
    // FNV-1a: stable across builds and processes, which is all a tag needs.
    let mut h: u32 = 0x811c_9dc5;
    for b in user.as_str().bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    i64::from(h & ((1 << TAG_BITS) - 1))
}

/// The version a client is given for point `n` (a JSON-safe integer for n < 2^33).
pub fn version(user: &UserId, n: i64) -> i64 {
    (n << TAG_BITS) | tag(user)
}

/// The point a version names, if it is one of this user's.
pub fn number(user: &UserId, version: i64) -> Option<i64> {
    let n = version >> TAG_BITS;
    (n > 0 && version & ((1 << TAG_BITS) - 1) == tag(user)).then_some(n)
}

/// The number of the user's last point, from their feed head (0: none yet).
pub fn last(head: Option<&Item>) -> i64 {
    head.and_then(|h| h.n(SP)).unwrap_or(0)
}

fn encode(feeds: &BTreeMap<Subscription, i64>) -> String {
    let mut out = String::with_capacity(feeds.len() * 30);
    for (sub, at) in feeds {
        if !out.is_empty() {
            out.push(',');
        }
        match sub {
            Subscription::Group(g) => out.push_str(&format!("g{g}:{at}")),
            Subscription::Friend(f) => out.push_str(&format!("f{f}:{at}")),
        }
    }
    out
}

fn decode(item: &Item, raw: &str) -> Result<BTreeMap<Subscription, i64>, Error> {
    let mut feeds = BTreeMap::new();
    for entry in raw.split(',').filter(|e| !e.is_empty()) {
        let bad = || corrupt(item, format!("feed position {entry:?}"));
        let (id, at) = entry.rsplit_once(':').ok_or_else(bad)?;
        let at: i64 = at.parse().map_err(|_| bad())?;
        let sub = match id.split_at_checked(1) {
            Some(("g", g)) => Subscription::Group(GroupId::parse("groupId", g).map_err(|_| bad())?),
            Some(("f", f)) => Subscription::Friend(UserId::parse("friendId", f).map_err(|_| bad())?),
            _ => return Err(bad()),
        };
        feeds.insert(sub, at);
    }
    Ok(feeds)
}

impl SyncPoint {
    pub fn from_item(item: &Item) -> Result<SyncPoint, Error> {
        Ok(SyncPoint {
            positions: Positions {
                own: req_n(item, OWN)?,
                feeds: decode(item, req_s(item, FEEDS)?)?,
                rebuild: item.s(REBUILD).map(str::to_string),
            },
            expires_at: item
                .expires_at
                .ok_or_else(|| corrupt(item, "a sync point without expiry"))?,
        })
    }
}

/// Point `m + 1`: the head's counter moves from `m` (only if still there) and the point is
/// new. The counter lives apart from `seq`, so writing a point never touches the change feed.
pub fn write(user: &UserId, m: i64, positions: &Positions, expires_at: i64) -> [TxOp; 2] {
    let mut item = Item::new(key(user, m + 1))
        .with_n(OWN, positions.own)
        .with_s(FEEDS, encode(&positions.feeds))
        .expiring_at(expires_at);
    if let Some(r) = &positions.rebuild {
        item = item.with_s(REBUILD, r.as_str());
    }
    [
        TxOp::Update {
            key: keys::user_feed(user),
            updates: vec![Update::set(SP, Attr::N(m + 1))],
            condition: Some(if m == 0 {
                Condition::AbsentOrLessThan(SP.into(), 1)
            } else {
                Condition::eq(SP, Attr::N(m))
            }),
        },
        TxOp::Put {
            item,
            condition: Some(Condition::NotExists),
        },
    ]
}

/// A point whose positions were all current lives on (`docs/sync.md` §6).
pub fn extend(user: &UserId, v: i64, expires_at: i64) -> (Key, Vec<Update>, Condition) {
    (key(user, v), vec![Update::SetExpiry(expires_at)], Condition::Exists)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_survive_the_round_trip() {
        let mut feeds = BTreeMap::new();
        feeds.insert(Subscription::Group(GroupId::from_minted("g1xAAAAAAAA".into())), 7);
        feeds.insert(Subscription::Friend(UserId::from_minted("AbC_9-zzzz".into())), 12);
        let [_, put] = write(
            &UserId::from_minted("me".into()),
            0,
            &Positions {
                own: 3,
                feeds: feeds.clone(),
                rebuild: None,
            },
            99,
        );
        let TxOp::Put { item, .. } = put else { panic!("a put") };
        let point = SyncPoint::from_item(&item).unwrap();
        assert_eq!(point.positions.own, 3);
        assert_eq!(point.positions.feeds, feeds);
        assert_eq!(point.expires_at, 99);
    }

    #[test]
    fn a_version_names_a_point_of_its_own_user_only() {
        let (a, b) = (UserId::from_minted("alice1".into()), UserId::from_minted("bob2".into()));
        assert_eq!(number(&a, version(&a, 7)), Some(7));
        assert_eq!(number(&b, version(&a, 7)), None);
        assert_eq!(number(&a, 0), None);
        assert_eq!(number(&a, 7), None);
    }
}
