//! Serving `GET /user/sync/:version` exactly as `docs/sync.md` §5 and §6 describe: the own
//! feed first (rule R), then the heads of the subscribed feeds (groups, friends' profiles),
//! a sync point written only when a position moved, and a full rebuild for a version that
//! names no live point. Every delivered state comes from a snapshot (`transact_get`) taken
//! after the records it answers; a position never passes the lowest head a snapshot saw.

use std::collections::{BTreeSet, HashMap};

use super::entries::{BlacklistEntry, Delivery, FriendEntry, GroupEntry, MemberEntry, UserEntry};
use crate::auth::Credential;
use crate::domain::{GroupId, UserId};
use crate::error::Error;
use crate::ports::store::CursorKey;
use crate::ports::{Item, Key, Query};
use crate::state::AppState;
use crate::store::feeds::{self, Change};
use crate::store::groups::{self, Member, Meta};
use crate::store::keys;
use crate::store::profile::{self, Profile};
use crate::store::relations::{self, Edge, Status};
use crate::store::retry::{retrying, Attempt};
use crate::store::sync_points::{self, Positions, Subscription, SyncPoint, POINT_LIFETIME_SECS};

/// Entries one answer holds at most (`hasMore` tells the client to call again).
const MAX_ENTRIES: usize = 1000;
/// Change records one answer reads at most.
const MAX_RECORDS: usize = 1000;
/// Records re-delivered after an enumeration (`docs/sync.md` §5, settle replay).
const SETTLE: i64 = 100;
/// Records whose subjects one snapshot reads (≤ 4 keys each, plus the feed head and the
/// group's own items: within the 100 keys of one `transact_get`).
const CHUNK: usize = 20;
const DAY_SECS: i64 = 86_400;
const REBUILD_PHASES: [&str; 3] = [keys::BLOCK_PREFIX, keys::FRIEND_PREFIX, groups::MIRROR_PREFIX];
const SETTLE_PHASE: &str = "SETTLE";

pub struct Answer {
    pub version: i64,
    pub full: bool,
    pub has_more: bool,
    pub user: UserEntry,
    pub delivery: Delivery,
}

/// One record of a feed as read: its number, what it names, when it expires.
struct Record {
    seq: i64,
    change: Change,
    expires_at: Option<i64>,
}

/// Items of one snapshot, by key.
struct Snapshot(HashMap<Key, Item>);

impl Snapshot {
    fn get(&self, key: &Key) -> Option<&Item> {
        self.0.get(key)
    }
}

/// What one answer has done so far.
struct Run<'a> {
    state: &'a AppState,
    me: &'a UserId,
    now: i64,
    out: Delivery,
    records_read: usize,
    /// The answer is full: stop at the next record boundary.
    capped: bool,
    /// Some feed may hold records above its position that this answer did not read.
    unread: bool,
    /// The earliest expiry (epoch seconds) of a record read but left pending.
    pending_expiry: Option<i64>,
}

pub async fn sync(state: &AppState, cred: &Credential, version: i64) -> Result<Answer, Error> {
    let me = &cred.user;
    // Points are numbered from 1: `SYNCPT#0` never exists, so version 0, a forged version
    // and another account's read nothing.
    let n = sync_points::number(me, version).unwrap_or(0);
    let [own_profile, head, point] = cred
        .read(state, [profile::key(me), feeds::user_head(me), sync_points::key(me, n)])
        .await?;
    let own_profile = Profile::from_item(&own_profile.ok_or(Error::Unauthorized)?)?;
    let own_head = feeds::seq(head.as_ref())?;
    let previous = point.as_ref().map(SyncPoint::from_item).transpose()?;
    let start = match &previous {
        Some(p) => p.positions.clone(),
        // Older than the horizon, never issued, or another account's: rebuild from the
        // own feed's head as read now (everything above it commits later).
        None => Positions {
            own: own_head,
            feeds: Default::default(),
            rebuild: Some(format!("{}|", REBUILD_PHASES[0])),
        },
    };
    let mut pos = start.clone();
    let mut run = Run {
        state,
        me,
        now: state.clock.now_millis(),
        out: Delivery::default(),
        records_read: 0,
        capped: false,
        unread: false,
        pending_expiry: None,
    };
    run.rebuild(&mut pos).await?;
    if pos.rebuild.is_none() && !run.capped {
        run.advance_own(&mut pos, own_head).await?;
    }
    // Subscriptions only once the own feed is drained: an ended membership or friendship
    // is known before that feed is read.
    if pos.rebuild.is_none() && !run.capped && pos.own >= own_head {
        run.advance_subscriptions(&mut pos).await?;
    } else {
        run.unread = true;
    }
    let full = previous.is_none();
    let has_more = pos.rebuild.is_some() || run.capped || run.unread || pos.own < own_head;
    let now_secs = run.now / 1000;
    let version = match previous {
        Some(p) if pos == start => {
            if !has_more && p.expires_at < now_secs + POINT_LIFETIME_SECS - DAY_SECS {
                let (key, updates, condition) = sync_points::extend(me, n, now_secs + POINT_LIFETIME_SECS);
                // Best effort: a point that is not extended is only rebuilt sooner.
                if let Err(e) = state.store.update(&key, updates, Some(condition)).await {
                    tracing::warn!(error = %e, "could not extend a sync point");
                }
            }
            version
        }
        previous => {
            // Invariant H (`docs/sync.md` §6): the point dies before any record it still
            // needs. Pending records this answer read bound it by their own expiry; pending
            // records it did not read lie above the previous point, which bounds them.
            let mut expires = now_secs + POINT_LIFETIME_SECS;
            if has_more {
                if let Some(p) = &previous {
                    expires = expires.min(p.expires_at);
                }
                if let Some(e) = run.pending_expiry {
                    expires = expires.min(e - DAY_SECS);
                }
            }
            sync_points::version(me, write_point(state, me, head.as_ref(), &pos, expires).await?)
        }
    };
    Ok(Answer {
        version,
        full,
        has_more,
        user: UserEntry::of(me, &own_profile, run.now),
        delivery: run.out,
    })
}

/// Writes the next point; a concurrent sync of the same user took the number: take the next.
async fn write_point(
    state: &AppState,
    me: &UserId,
    head: Option<&Item>,
    pos: &Positions,
    expires: i64,
) -> Result<i64, Error> {
    let first = sync_points::last(head);
    let mut fresh = false;
    retrying(state, || {
        let read_again = fresh;
        fresh = true;
        async move {
            let m = if read_again {
                sync_points::last(state.store.get(&feeds::user_head(me)).await?.as_ref())
            } else {
                first
            };
            match state
                .store
                .transact_write(sync_points::write(me, m, pos, expires).to_vec())
                .await
            {
                Ok(()) => Ok(Attempt::Done(m + 1)),
                Err(crate::ports::StoreError::TxConditionFailed { .. } | crate::ports::StoreError::Conflict) => {
                    Ok(Attempt::Again)
                }
                Err(e) => Err(e.into()),
            }
        }
    })
    .await
}

/// Reads many keys, a batch of 100 at a time, the batches in parallel.
async fn read_all(state: &AppState, keys: Vec<Key>) -> Result<Vec<Option<Item>>, Error> {
    let mut set = tokio::task::JoinSet::new();
    for (i, chunk) in keys.chunks(crate::ports::store::MAX_BATCH_KEYS).enumerate() {
        let store = state.store.clone();
        let chunk = chunk.to_vec();
        set.spawn(async move { (i, store.batch_get(&chunk).await) });
    }
    let mut parts = Vec::with_capacity(set.len());
    while let Some(joined) = set.join_next().await {
        let (i, items) = joined.map_err(|e| Error::Internal(format!("a batch read stopped: {e}")))?;
        parts.push((i, items?));
    }
    parts.sort_by_key(|(i, _)| *i);
    Ok(parts.into_iter().flat_map(|(_, items)| items).collect())
}

fn user_of(raw: &str) -> Option<UserId> {
    UserId::parse("subject", raw).ok()
}

fn group_of(raw: &str) -> Option<GroupId> {
    GroupId::parse("subject", raw).ok()
}

fn live_profile(item: Option<&Item>) -> Result<Option<Profile>, Error> {
    item.map(Profile::from_item).transpose()
}

impl Run<'_> {
    fn room(&self, entries: usize) -> bool {
        self.out.len() + entries <= MAX_ENTRIES
    }

    fn leave_pending(&mut self, r: &Record) {
        if let Some(e) = r.expires_at {
            self.pending_expiry = Some(self.pending_expiry.map_or(e, |p| p.min(e)));
        }
    }

    async fn snapshot(&self, keys: Vec<Key>) -> Result<Snapshot, Error> {
        let mut distinct = Vec::with_capacity(keys.len());
        let mut seen = BTreeSet::new();
        for k in keys {
            if seen.insert(k.clone()) {
                distinct.push(k);
            }
        }
        let items = self.state.store.transact_get(&distinct).await?;
        Ok(Snapshot(
            distinct
                .into_iter()
                .zip(items)
                .filter_map(|(k, i)| i.map(|i| (k, i)))
                .collect(),
        ))
    }

    /// The feed's records `after + 1 ..= upto` that follow each other without a gap (a gap
    /// is a commit in flight: the records above it wait for a later sync).
    async fn records(&mut self, head: &Key, after: i64, upto: i64) -> Result<Vec<Record>, Error> {
        let mut out: Vec<Record> = vec![];
        if upto <= after {
            return Ok(out);
        }
        let query = feeds::records_between(head, after, upto);
        let mut cursor = None;
        let mut expected = after + 1;
        loop {
            let page = self.state.store.query(query.clone().after(cursor)).await?;
            self.records_read += page.items.len();
            for item in &page.items {
                let seq = feeds::record_seq(item)?;
                if seq != expected {
                    return Ok(out);
                }
                out.push(Record {
                    seq,
                    change: Change::from_item(item)?,
                    expires_at: item.expires_at,
                });
                expected += 1;
            }
            if expected > upto || page.cursor.is_none() {
                return Ok(out);
            }
            cursor = page.cursor;
        }
    }

    // ---- the own feed (rule R over USER#me) ----

    fn own_keys(&self, change: &Change) -> Vec<Key> {
        let me = self.me;
        match change.kind.as_str() {
            "friend" => user_of(&change.subject)
                .map(|f| vec![relations::friend_key(me, &f), profile::key(&f)])
                .unwrap_or_default(),
            "blacklist" => user_of(&change.subject)
                .map(|b| vec![relations::block_key(me, &b), profile::key(&b)])
                .unwrap_or_default(),
            "group" => group_of(&change.subject)
                .map(|g| {
                    vec![
                        groups::mirror_key(me, &g),
                        groups::meta_key(&g),
                        groups::head(&g),
                        groups::member_key(&g, me),
                    ]
                })
                .unwrap_or_default(),
            _ => vec![],
        }
    }

    async fn advance_own(&mut self, pos: &mut Positions, own_head: i64) -> Result<(), Error> {
        let head_key = feeds::user_head(self.me);
        while pos.own < own_head && !self.capped {
            let room = MAX_RECORDS.saturating_sub(self.records_read) as i64;
            if room == 0 {
                self.capped = true;
                break;
            }
            let upto = own_head.min(pos.own + room);
            let records = self.records(&head_key, pos.own, upto).await?;
            let complete = records.last().map(|r| r.seq) == Some(upto);
            if !self.apply_own(pos, &records).await? {
                return Ok(());
            }
            if !complete {
                self.unread = true;
                break;
            }
        }
        Ok(())
    }

    /// Delivers the records' subjects from snapshots, moving the own position record by
    /// record; false when it stopped before the end (a full answer, or a head not yet there).
    async fn apply_own(&mut self, pos: &mut Positions, records: &[Record]) -> Result<bool, Error> {
        let head_key = feeds::user_head(self.me);
        for chunk in records.chunks(CHUNK) {
            let mut keys = vec![head_key.clone()];
            for r in chunk {
                keys.extend(self.own_keys(&r.change));
            }
            let snap = self.snapshot(keys).await?;
            let h = feeds::seq(snap.get(&head_key))?;
            for r in chunk {
                if r.seq > h {
                    self.leave_pending(r);
                    self.unread = true;
                    return Ok(false);
                }
                if !self.deliver_own(pos, &r.change, &snap).await? {
                    self.leave_pending(r);
                    self.capped = true;
                    return Ok(false);
                }
                pos.own = pos.own.max(r.seq);
            }
        }
        Ok(true)
    }

    /// One own-feed record's subject, as the snapshot shows it; false if it does not fit.
    async fn deliver_own(&mut self, pos: &mut Positions, change: &Change, snap: &Snapshot) -> Result<bool, Error> {
        let me = self.me;
        match change.kind.as_str() {
            "friend" => {
                let Some(f) = user_of(&change.subject) else {
                    return Ok(true);
                };
                if !self.room(1) {
                    return Ok(false);
                }
                let edge = snap
                    .get(&relations::friend_key(me, &f))
                    .map(Edge::from_item)
                    .transpose()?;
                let p = live_profile(snap.get(&profile::key(&f)))?;
                self.friend(pos, &f, edge.as_ref(), p.as_ref());
            }
            "blacklist" => {
                let Some(b) = user_of(&change.subject) else {
                    return Ok(true);
                };
                if !self.room(1) {
                    return Ok(false);
                }
                // A block of a deleted account is gone for every reader.
                let on = snap.get(&relations::block_key(me, &b)).is_some() && snap.get(&profile::key(&b)).is_some();
                self.out.blacklist.insert(
                    b.clone(),
                    BlacklistEntry {
                        friend_id: b.to_string(),
                        status: on,
                        timestamp: self.now,
                    },
                );
            }
            "group" => {
                let Some(g) = group_of(&change.subject) else {
                    return Ok(true);
                };
                let meta = snap.get(&groups::meta_key(&g)).map(Meta::from_item).transpose()?;
                let mine = snap
                    .get(&groups::member_key(&g, me))
                    .map(Member::from_item)
                    .transpose()?;
                let mirrored = snap.get(&groups::mirror_key(me, &g)).is_some();
                match (meta, mine) {
                    (Some(meta), Some(mine)) if meta.active && mirrored => {
                        let sub = Subscription::Group(g.clone());
                        if pos.feeds.contains_key(&sub) {
                            if !self.room(1) {
                                return Ok(false);
                            }
                            self.out
                                .groups
                                .insert(g.clone(), GroupEntry::of(&meta, &mine, self.now));
                        } else {
                            return self.subscribe(pos, &g, &meta, &mine, &snap).await;
                        }
                    }
                    (meta, _) => {
                        if !self.room(1) {
                            return Ok(false);
                        }
                        self.out.group_gone(&g, GroupEntry::gone(&g, meta.as_ref(), self.now));
                        pos.feeds.remove(&Subscription::Group(g));
                    }
                }
            }
            // `user`: the answer always carries the caller's current profile.
            _ => {}
        }
        Ok(true)
    }

    /// A friend entry from the edge and the friend's profile read together; a friendship
    /// at 20 subscribes to the friend's profile at the `pseq` read.
    fn friend(&mut self, pos: &mut Positions, f: &UserId, edge: Option<&Edge>, p: Option<&Profile>) {
        let sub = Subscription::Friend(f.clone());
        match (edge, p) {
            (Some(edge), Some(p)) => {
                self.out
                    .friends
                    .insert(f.clone(), FriendEntry::of(f, edge, p, self.now));
                if edge.status == Status::Agreed {
                    pos.feeds.insert(sub, p.pseq);
                } else {
                    pos.feeds.remove(&sub);
                }
            }
            // No edge, or an account deleted: the relation is gone.
            _ => {
                self.out.friends.insert(f.clone(), FriendEntry::gone(f, self.now));
                pos.feeds.remove(&sub);
            }
        }
    }

    // ---- subscriptions ----

    async fn advance_subscriptions(&mut self, pos: &mut Positions) -> Result<(), Error> {
        let subs: Vec<Subscription> = pos.feeds.keys().cloned().collect();
        if subs.is_empty() {
            return Ok(());
        }
        let heads = read_all(
            self.state,
            subs.iter()
                .map(|s| match s {
                    Subscription::Group(g) => groups::head(g),
                    Subscription::Friend(f) => profile::key(f),
                })
                .collect(),
        )
        .await?;
        let mut friends = vec![];
        let mut moved_groups = vec![];
        for (sub, head) in subs.into_iter().zip(heads) {
            let at = pos.feeds.get(&sub).copied().unwrap_or(0);
            match sub {
                Subscription::Friend(f) => match head {
                    None => friends.push(f),
                    Some(item) if Profile::from_item(&item)?.pseq > at => friends.push(f),
                    Some(_) => {}
                },
                Subscription::Group(g) => {
                    let seq = feeds::seq(head.as_ref())?;
                    if seq > at {
                        moved_groups.push((g, seq));
                    }
                }
            }
        }
        for chunk in friends.chunks(CHUNK) {
            if !self.room(chunk.len()) {
                self.capped = true;
                return Ok(());
            }
            let keys = chunk
                .iter()
                .flat_map(|f| [relations::friend_key(self.me, f), profile::key(f)])
                .collect();
            let snap = self.snapshot(keys).await?;
            for f in chunk {
                let edge = snap
                    .get(&relations::friend_key(self.me, f))
                    .map(Edge::from_item)
                    .transpose()?;
                let p = live_profile(snap.get(&profile::key(f)))?;
                self.friend(pos, f, edge.as_ref(), p.as_ref());
            }
        }
        for (g, head) in moved_groups {
            if self.capped {
                self.unread = true;
                break;
            }
            self.advance_group(pos, &g, head).await?;
        }
        Ok(())
    }

    /// Rule R over a group's feed, from this user's position in it.
    async fn advance_group(&mut self, pos: &mut Positions, g: &GroupId, head: i64) -> Result<(), Error> {
        let sub = Subscription::Group(g.clone());
        let head_key = groups::head(g);
        let me = self.me;
        loop {
            let Some(&at) = pos.feeds.get(&sub) else { return Ok(()) };
            if at >= head {
                return Ok(());
            }
            let room = MAX_RECORDS.saturating_sub(self.records_read) as i64;
            if room == 0 {
                self.capped = true;
                return Ok(());
            }
            let upto = head.min(at + room);
            let records = self.records(&head_key, at, upto).await?;
            let complete = records.last().map(|r| r.seq) == Some(upto);
            for chunk in records.chunks(CHUNK * 2) {
                let mut keys = vec![
                    head_key.clone(),
                    groups::meta_key(g),
                    groups::member_key(g, me),
                    groups::mirror_key(me, g),
                ];
                for r in chunk {
                    if r.change.kind == "group_member" {
                        if let Some(u) = user_of(&r.change.subject) {
                            keys.extend([groups::member_key(g, &u), profile::key(&u)]);
                        }
                    }
                }
                let snap = self.snapshot(keys).await?;
                let h = feeds::seq(snap.get(&head_key))?;
                let meta = snap.get(&groups::meta_key(g)).map(Meta::from_item).transpose()?;
                let mine = snap
                    .get(&groups::member_key(g, me))
                    .map(Member::from_item)
                    .transpose()?;
                let (meta, mine) = match (meta, mine) {
                    (Some(meta), Some(mine)) if meta.active && snap.get(&groups::mirror_key(me, g)).is_some() => {
                        (meta, mine)
                    }
                    (meta, _) => {
                        // Dismissed, or this user is no longer in it: nothing more from it.
                        if !self.room(1) {
                            self.capped = true;
                            return Ok(());
                        }
                        self.out.group_gone(g, GroupEntry::gone(g, meta.as_ref(), self.now));
                        pos.feeds.remove(&sub);
                        return Ok(());
                    }
                };
                for r in chunk {
                    if r.seq > h {
                        self.leave_pending(r);
                        self.unread = true;
                        return Ok(());
                    }
                    if !self.room(2) {
                        self.leave_pending(r);
                        self.capped = true;
                        return Ok(());
                    }
                    match r.change.kind.as_str() {
                        "group_member" => {
                            if let Some(u) = user_of(&r.change.subject) {
                                self.member(g, &u, &snap)?;
                                if u == *me {
                                    self.out
                                        .groups
                                        .insert(g.clone(), GroupEntry::of(&meta, &mine, self.now));
                                }
                            }
                        }
                        _ => {
                            self.out
                                .groups
                                .insert(g.clone(), GroupEntry::of(&meta, &mine, self.now));
                        }
                    }
                    pos.feeds.insert(sub.clone(), r.seq);
                }
            }
            if !complete {
                self.unread = true;
                return Ok(());
            }
        }
    }

    /// A member entry from the member item and their profile in a snapshot.
    fn member(&mut self, g: &GroupId, u: &UserId, snap: &Snapshot) -> Result<(), Error> {
        let m = snap.get(&groups::member_key(g, u)).map(Member::from_item).transpose()?;
        let p = live_profile(snap.get(&profile::key(u)))?;
        let entry = match (m, p) {
            (Some(m), Some(p)) => MemberEntry::of(g, &m, &p, self.now),
            _ => MemberEntry::gone(g, u, self.now),
        };
        self.out.members.insert((g.clone(), u.clone()), entry);
        Ok(())
    }

    /// Delivers a group with its members as one unit and follows its feed from the head
    /// the snapshot read; false (nothing delivered) when the unit does not fit.
    async fn subscribe(
        &mut self,
        pos: &mut Positions,
        g: &GroupId,
        meta: &Meta,
        mine: &Member,
        snap: &Snapshot,
    ) -> Result<bool, Error> {
        let h0 = feeds::seq(snap.get(&groups::head(g)))?;
        let (entry, members) = self.group_unit(g, meta, mine, h0).await?;
        if !self.room(1 + members.len()) {
            return Ok(false);
        }
        self.out.group_unit(g, entry, members);
        pos.feeds.insert(Subscription::Group(g.clone()), h0);
        Ok(true)
    }

    /// Subscribing to a group: its members enumerated after its head `h0` was read, then
    /// the subjects of its newest records ≤ h0 again from snapshots (settle replay), so a
    /// transaction half-visible to the enumeration is delivered whole.
    async fn group_unit(
        &mut self,
        g: &GroupId,
        meta: &Meta,
        mine: &Member,
        h0: i64,
    ) -> Result<(GroupEntry, Vec<(UserId, MemberEntry)>), Error> {
        let page = self.state.store.query(groups::members_of(g)).await?;
        let members: Vec<Member> = page.items.iter().map(Member::from_item).collect::<Result<_, _>>()?;
        let profiles = read_all(self.state, members.iter().map(|m| profile::key(&m.user)).collect()).await?;
        let mut unit: HashMap<UserId, MemberEntry> = HashMap::new();
        for (m, p) in members.iter().zip(profiles) {
            // A deleted account's member item goes with its cleanup; nobody sees it meanwhile.
            if let Some(p) = live_profile(p.as_ref())? {
                unit.insert(m.user.clone(), MemberEntry::of(g, m, &p, self.now));
            }
        }
        let mut entry = GroupEntry::of(meta, mine, self.now);
        let replay = self.records(&groups::head(g), (h0 - SETTLE).max(0), h0).await?;
        let subjects: BTreeSet<UserId> = replay
            .iter()
            .filter(|r| r.change.kind == "group_member")
            .filter_map(|r| user_of(&r.change.subject))
            .collect();
        let subjects: Vec<UserId> = subjects.into_iter().collect();
        for chunk in subjects.chunks(CHUNK * 2) {
            let mut keys = vec![groups::meta_key(g), groups::member_key(g, self.me)];
            keys.extend(chunk.iter().flat_map(|u| [groups::member_key(g, u), profile::key(u)]));
            let snap = self.snapshot(keys).await?;
            if let (Some(meta), Some(mine)) = (
                snap.get(&groups::meta_key(g)).map(Meta::from_item).transpose()?,
                snap.get(&groups::member_key(g, self.me))
                    .map(Member::from_item)
                    .transpose()?,
            ) {
                entry = GroupEntry::of(&meta, &mine, self.now);
            }
            for u in chunk {
                let m = snap.get(&groups::member_key(g, u)).map(Member::from_item).transpose()?;
                match (m, live_profile(snap.get(&profile::key(u)))?) {
                    (Some(m), Some(p)) => {
                        unit.insert(u.clone(), MemberEntry::of(g, &m, &p, self.now));
                    }
                    _ => {
                        unit.remove(u);
                    }
                }
            }
        }
        let mut members: Vec<(UserId, MemberEntry)> = unit.into_iter().collect();
        members.sort_by(|a, b| a.0.cmp(&b.0));
        Ok((entry, members))
    }

    // ---- full rebuild (`docs/sync.md` §6) ----

    async fn rebuild(&mut self, pos: &mut Positions) -> Result<(), Error> {
        while let Some(cursor) = pos.rebuild.clone() {
            if self.capped {
                return Ok(());
            }
            let (phase, last) = cursor.split_once('|').unwrap_or((SETTLE_PHASE, ""));
            if phase == SETTLE_PHASE {
                if self.settle_own(pos).await? {
                    pos.rebuild = None;
                }
                return Ok(());
            }
            let Some(i) = REBUILD_PHASES.iter().position(|p| *p == phase) else {
                return Err(Error::Internal(format!("unknown rebuild phase {phase:?}")));
            };
            let next = |done: bool, last: &str| -> String {
                if done {
                    match REBUILD_PHASES.get(i + 1) {
                        Some(p) => format!("{p}|"),
                        None => format!("{SETTLE_PHASE}|"),
                    }
                } else {
                    format!("{phase}|{last}")
                }
            };
            let limit = if phase == groups::MIRROR_PREFIX { 10 } else { CHUNK * 5 };
            let pk = keys::user_pk(self.me);
            let start = (!last.is_empty()).then(|| {
                CursorKey {
                    pk: pk.clone(),
                    sk: last.to_string(),
                    ipk: None,
                    isk: None,
                }
                .encode()
            });
            let page = self
                .state
                .store
                .query(Query::partition(pk).begins_with(phase).limit(limit).after(start))
                .await?;
            let (read_to, stopped) = self.enumerate(pos, phase, &page.items).await?;
            let done = !stopped && page.cursor.is_none();
            pos.rebuild = Some(next(done, read_to.as_deref().unwrap_or(last)));
            if stopped {
                self.capped = true;
            }
        }
        Ok(())
    }

    /// Delivers one page of the rebuild's enumeration; answers the last sort key delivered
    /// and whether the answer filled up before the page's end.
    async fn enumerate(
        &mut self,
        pos: &mut Positions,
        phase: &str,
        items: &[Item],
    ) -> Result<(Option<String>, bool), Error> {
        let me = self.me;
        let id_of = |item: &Item| item.key.sk.strip_prefix(phase).map(str::to_string);
        let mut last = None;
        if phase == groups::MIRROR_PREFIX {
            let ids: Vec<GroupId> = items
                .iter()
                .filter_map(|i| id_of(i).and_then(|s| group_of(&s)))
                .collect();
            let keys = ids
                .iter()
                .flat_map(|g| [groups::meta_key(g), groups::head(g), groups::member_key(g, me)])
                .collect();
            let snap = self.snapshot(keys).await?;
            for (item, g) in items.iter().zip(&ids) {
                let meta = snap.get(&groups::meta_key(g)).map(Meta::from_item).transpose()?;
                let mine = snap
                    .get(&groups::member_key(g, me))
                    .map(Member::from_item)
                    .transpose()?;
                if let (Some(meta), Some(mine)) = (meta, mine) {
                    if meta.active {
                        if !self.subscribe(pos, g, &meta, &mine, &snap).await? {
                            return Ok((last, true));
                        }
                    }
                }
                last = Some(item.key.sk.clone());
            }
            return Ok((last, false));
        }
        let others: Vec<UserId> = items
            .iter()
            .filter_map(|i| id_of(i).and_then(|s| user_of(&s)))
            .collect();
        let profiles = read_all(self.state, others.iter().map(profile::key).collect()).await?;
        for ((item, u), p) in items.iter().zip(&others).zip(profiles) {
            if !self.room(1) {
                return Ok((last, true));
            }
            // Entries towards a deleted account are not shown while its cleanup runs.
            if let Some(p) = live_profile(p.as_ref())? {
                if phase == keys::BLOCK_PREFIX {
                    self.out.blacklist.insert(
                        u.clone(),
                        BlacklistEntry {
                            friend_id: u.to_string(),
                            status: true,
                            timestamp: self.now,
                        },
                    );
                } else {
                    let edge = Edge::from_item(item)?;
                    self.friend(pos, u, Some(&edge), Some(&p));
                }
            }
            last = Some(item.key.sk.clone());
        }
        Ok((last, false))
    }

    /// The end of a rebuild: the subjects of the own feed's newest records up to the head
    /// the rebuild started from, again from snapshots. True when done.
    async fn settle_own(&mut self, pos: &mut Positions) -> Result<bool, Error> {
        let h0 = pos.own;
        let records = self
            .records(&feeds::user_head(self.me), (h0 - SETTLE).max(0), h0)
            .await?;
        let own = pos.own;
        let done = self.apply_own(pos, &records).await?;
        pos.own = own;
        Ok(done)
    }
}
