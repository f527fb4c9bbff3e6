//! The clean-up after an account deletion (`docs/sync.md` §8). The user's transaction has
//! already made the account dead and its identifiers free; this removes what still points
//! at the account from other users' partitions and the groups, a page per transaction, and
//! records each synced removal in the counterpart's feed.
//!
//! Each page commits with `cursor = <old>` as a condition and moves the cursor past itself,
//! so of two workers (the request that deleted, the sweep) only one commits a page, and a
//! worker that dies leaves the cursor where the last committed page put it. A page re-read
//! after a crash finds only items that still exist; every counter moves in the transaction
//! that deletes its item, so nothing is counted twice.

use std::time::Duration;

use crate::domain::{GroupId, Role, UserId};
use crate::error::Error;
use crate::ports::store::CursorKey;
use crate::ports::{Condition, IndexName, Item, Key, Query, TxOp};
use crate::state::AppState;
use crate::store::feeds::{self, Change, Counter, Op};
use crate::store::groups::{self, Member, Meta};
use crate::store::jobs::{self, DeletionJob};
use crate::store::relations::{self, Edge, Follow, Status};
use crate::store::{keys, Tx, TxError};

/// Items one page removes at most (a friend costs 4 operations of the 100).
const PAGE: usize = 20;
/// The inverted index may lag: the index phases run again once the job is this old.
const INDEX_LAG_MS: i64 = 5 * 60 * 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Friends,
    Blocks,
    Follows,
    FollowGroups,
    Favourites,
    Groups,
    Invitations,
    Fans,
    Blockers,
    Avatars,
    Settle,
}

const ORDER: [Phase; 11] = [
    Phase::Friends,
    Phase::Blocks,
    Phase::Follows,
    Phase::FollowGroups,
    Phase::Favourites,
    Phase::Groups,
    Phase::Invitations,
    Phase::Fans,
    Phase::Blockers,
    Phase::Avatars,
    Phase::Settle,
];

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Friends => "friends",
            Phase::Blocks => "blocks",
            Phase::Follows => "follows",
            Phase::FollowGroups => "followgroups",
            Phase::Favourites => "favourites",
            Phase::Groups => "groups",
            Phase::Invitations => "invitations",
            Phase::Fans => "fans",
            Phase::Blockers => "blockers",
            Phase::Avatars => "avatars",
            Phase::Settle => "settle",
        }
    }

    /// Where the phase finds its items: x's partition, or the inverted index under x.
    fn source(self) -> Option<(IndexName, &'static str)> {
        Some(match self {
            Phase::Friends => (IndexName::Primary, keys::FRIEND_PREFIX),
            Phase::Blocks => (IndexName::Primary, keys::BLOCK_PREFIX),
            Phase::Follows => (IndexName::Primary, keys::FOLLOW_PREFIX),
            Phase::FollowGroups => (IndexName::Primary, keys::FOLLOW_GROUP_PREFIX),
            Phase::Favourites => (IndexName::Primary, groups::FAV_PREFIX),
            Phase::Groups => (IndexName::Primary, groups::MIRROR_PREFIX),
            Phase::Invitations => (IndexName::Inverted, groups::INVITE_INDEX_PREFIX),
            Phase::Fans => (IndexName::Inverted, keys::FAN_PREFIX),
            Phase::Blockers => (IndexName::Inverted, keys::BLOCKER_PREFIX),
            Phase::Avatars | Phase::Settle => return None,
        })
    }

    fn next(self) -> Phase {
        let i = ORDER.iter().position(|p| *p == self).unwrap_or(ORDER.len() - 1);
        ORDER[(i + 1).min(ORDER.len() - 1)]
    }

    fn start(self) -> String {
        format!("{}|", self.name())
    }
}

/// The first cursor of a job.
pub fn first_cursor() -> String {
    ORDER[0].start()
}

/// `<phase>|<pk>|<sk>|<isk>` of the last item done, or `<phase>|` at the phase's start.
fn parse(cursor: &str) -> Result<(Phase, Option<CursorKey>), Error> {
    let mut parts = cursor.split('|');
    let name = parts.next().unwrap_or_default();
    let phase = ORDER
        .iter()
        .copied()
        .find(|p| p.name() == name)
        .ok_or_else(|| Error::Internal(format!("deletion job cursor {cursor:?}")))?;
    let rest: Vec<&str> = parts.collect();
    let last = match rest.as_slice() {
        [pk, sk, isk] => Some(CursorKey {
            pk: pk.to_string(),
            sk: sk.to_string(),
            ipk: None,
            isk: (!isk.is_empty()).then(|| isk.to_string()),
        }),
        _ => None,
    };
    Ok((phase, last))
}

fn cursor_after(phase: Phase, item: &Item) -> String {
    let isk = item.index_key.as_ref().map(|k| k.sk.as_str()).unwrap_or_default();
    format!("{}|{}|{}|{}", phase.name(), item.key.pk, item.key.sk, isk)
}

/// How much one call may do.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub pages: usize,
    pub until: tokio::time::Instant,
    /// Inline in the deleting request: the avatars (another service) and the settle wait
    /// are left to the sweep.
    pub inline: bool,
}

impl Budget {
    /// What the deleting request does before it answers: up to 3 pages or 1 s.
    pub fn inline() -> Budget {
        Budget {
            pages: 3,
            until: tokio::time::Instant::now() + Duration::from_secs(1),
            inline: true,
        }
    }
    pub fn sweep(until: tokio::time::Instant) -> Budget {
        Budget {
            pages: usize::MAX,
            until,
            inline: false,
        }
    }
}

enum Page {
    /// A page committed (or another worker's did): read the job again.
    Moved,
    /// Nothing to do before the index settles, or left to the sweep.
    Later,
    Finished,
}

/// Runs `user`'s job within the budget; true when it is finished (by this call or another).
pub async fn run(state: &AppState, user: &UserId, budget: Budget) -> Result<bool, Error> {
    let mut pages = 0;
    loop {
        let Some(item) = state.store.get(&jobs::deletion_key(user)).await? else {
            return Ok(true);
        };
        if pages >= budget.pages || tokio::time::Instant::now() >= budget.until {
            return Ok(false);
        }
        let job = DeletionJob::from_item(&item)?;
        match page(state, &job, budget.inline).await? {
            Page::Moved => pages += 1,
            Page::Later => return Ok(false),
            Page::Finished => {
                tracing::info!(user = %user, "account clean-up finished");
                return Ok(true);
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Step {
    Job,
    Item,
    Counterpart,
    Feed,
    Group,
}

/// Commits a page with the cursor's move; a lost condition means another worker moved
/// the job or a counterpart changed: either way the page is planned again.
async fn commit(state: &AppState, tx: Tx<Step>) -> Result<Page, Error> {
    match tx.commit(state.store.as_ref()).await {
        Ok(()) | Err(TxError::Failed(_) | TxError::Conflict) => Ok(Page::Moved),
        Err(TxError::Store(e)) => Err(e.into()),
    }
}

/// One page: the next items of the current phase (empty phases are passed in memory).
async fn page(state: &AppState, job: &DeletionJob, inline: bool) -> Result<Page, Error> {
    let x = &job.user;
    let mut cursor = job.cursor.clone();
    loop {
        let (phase, last) = parse(&cursor)?;
        let Some((index, prefix)) = phase.source() else {
            if inline {
                return Ok(Page::Later);
            }
            return match phase {
                Phase::Avatars => {
                    let gone = state
                        .uploads
                        .delete_prefix(&format!("avatars/{x}/"))
                        .await
                        .map_err(|e| Error::Internal(format!("avatars of a deleted account: {e}")))?;
                    tracing::info!(user = %x, objects = gone, "avatars deleted");
                    commit(
                        state,
                        Tx::new().step(Step::Job, jobs::advance(x, &job.cursor, &Phase::Settle.start())),
                    )
                    .await
                }
                _ => settle(state, job).await,
            };
        };
        let mut query = Query::partition(keys::user_pk(x))
            .on(index)
            .begins_with(prefix)
            .limit(if phase == Phase::Groups { 1 } else { PAGE });
        if let Some(mut last) = last {
            if index == IndexName::Inverted {
                last.ipk = Some(keys::user_pk(x));
            }
            query = query.after(Some(last.encode()));
        }
        let found = loop {
            let found = state.store.query(query.clone()).await?;
            match found.cursor {
                // A page of only expired items: the phase goes on past them.
                Some(next) if found.items.is_empty() => query = query.after(Some(next)),
                _ => break found,
            }
        };
        let Some(end) = found.items.last() else {
            cursor = phase.next().start();
            continue;
        };
        let to = cursor_after(phase, end);
        let tx = Tx::new().step(Step::Job, jobs::advance(x, &job.cursor, &to));
        let tx = match phase {
            Phase::Friends => friends(state, x, &found.items, tx).await?,
            Phase::Follows => follows(x, &found.items, tx)?,
            Phase::Groups => group(state, x, &found.items[0], tx).await?,
            Phase::Fans => fans(state, x, &found.items, tx).await?,
            Phase::Blockers => blockers(state, x, &found.items, tx).await?,
            // Blocks, follow groups, favourites, invitations: the items just go (a block is
            // private to its owner, and the owner's feed is no one's to read).
            _ => tx.steps(
                Step::Item,
                found.items.iter().map(|i| TxOp::Delete {
                    key: i.key.clone(),
                    condition: None,
                }),
            ),
        };
        return commit(state, tx).await;
    }
}

/// x's friendship rows; each friend's row about x goes too, with its counter and a
/// `friend` tombstone in the friend's feed.
async fn friends(state: &AppState, x: &UserId, items: &[Item], mut tx: Tx<Step>) -> Result<Tx<Step>, Error> {
    let edges: Vec<Edge> = items.iter().map(Edge::from_item).collect::<Result<_, _>>()?;
    let keys: Vec<Key> = edges
        .iter()
        .flat_map(|e| [relations::friend_key(&e.other, x), feeds::user_head(&e.other)])
        .collect();
    let found = state.store.batch_get(&keys).await?;
    let now = state.clock.now_millis();
    for (e, pair) in edges.iter().zip(found.chunks(2)) {
        tx = tx.step(
            Step::Item,
            TxOp::Delete {
                key: relations::friend_key(x, &e.other),
                condition: None,
            },
        );
        let Some(theirs) = pair[0].as_ref().map(Edge::from_item).transpose()? else {
            continue;
        };
        let counter = match theirs.status {
            Status::Agreed => Some(Counter::Friends),
            Status::Requested => Some(Counter::PendingRequests),
            _ => None,
        };
        tx = tx
            .step(
                Step::Counterpart,
                TxOp::Delete {
                    key: relations::friend_key(&e.other, x),
                    condition: Some(Condition::Exists),
                },
            )
            .steps(
                Step::Feed,
                feeds::append_counting(
                    &feeds::user_head(&e.other),
                    feeds::seq(pair[1].as_ref())?,
                    &[Change::of("friend", x, Op::Delete)],
                    now,
                    &counter.map(|c| vec![(c, -1, i64::MAX)]).unwrap_or_default(),
                ),
            );
    }
    Ok(tx)
}

/// x's follows: each followed user has one fan fewer.
fn follows(x: &UserId, items: &[Item], mut tx: Tx<Step>) -> Result<Tx<Step>, Error> {
    for item in items {
        let f = Follow::from_item(item)?;
        tx = tx
            .step(
                Step::Item,
                TxOp::Delete {
                    key: relations::follow_key(x, &f.other),
                    condition: Some(Condition::Exists),
                },
            )
            .step(
                Step::Feed,
                feeds::count_only(&feeds::user_head(&f.other), Counter::Fans, -1),
            );
    }
    Ok(tx)
}

/// Users who follow x: their follow goes, with their counters.
async fn fans(state: &AppState, x: &UserId, items: &[Item], mut tx: Tx<Step>) -> Result<Tx<Step>, Error> {
    // The index may show a follow already gone: the primary table says.
    let keys: Vec<Key> = items.iter().map(|i| i.key.clone()).collect();
    let found = state.store.batch_get(&keys).await?;
    for item in found.iter().flatten() {
        let y = relations::fan_id(item)?;
        let f = Follow::from_item(item)?;
        tx = tx
            .step(
                Step::Counterpart,
                TxOp::Delete {
                    key: relations::follow_key(&y, x),
                    condition: Some(Condition::Exists),
                },
            )
            .step(Step::Counterpart, relations::count_in_group(&y, &f.group, -1))
            .step(
                Step::Feed,
                feeds::count_only(&feeds::user_head(&y), Counter::Follows, -1),
            );
    }
    Ok(tx)
}

/// Users who blocked x: the block goes from their blacklist, with a tombstone in their feed.
async fn blockers(state: &AppState, x: &UserId, items: &[Item], mut tx: Tx<Step>) -> Result<Tx<Step>, Error> {
    let blockers: Vec<UserId> = items
        .iter()
        .filter_map(|i| i.key.pk.strip_prefix("USER#"))
        .filter_map(|id| UserId::parse("blocker", id).ok())
        .collect();
    let keys: Vec<Key> = blockers
        .iter()
        .flat_map(|y| [relations::block_key(y, x), feeds::user_head(y)])
        .collect();
    let found = state.store.batch_get(&keys).await?;
    let now = state.clock.now_millis();
    for (y, pair) in blockers.iter().zip(found.chunks(2)) {
        if pair[0].is_none() {
            continue;
        }
        tx = tx.step(Step::Counterpart, relations::unblock(y, x)).steps(
            Step::Feed,
            feeds::append_counting(
                &feeds::user_head(y),
                feeds::seq(pair[1].as_ref())?,
                &[Change::of("blacklist", x, Op::Delete)],
                now,
                &[(Counter::Blocked, -1, i64::MAX)],
            ),
        );
    }
    Ok(tx)
}

/// One of x's groups: x leaves it as on quit (a creator hands over to the longest-standing
/// manager, else member; alone, the group is dismissed), with the records members sync.
async fn group(state: &AppState, x: &UserId, mirror: &Item, mut tx: Tx<Step>) -> Result<Tx<Step>, Error> {
    let g: GroupId = groups::group_of(mirror, groups::MIRROR_PREFIX)?;
    let [meta, head, member] = crate::store::exactly(
        state
            .store
            .batch_get(&[groups::meta_key(&g), groups::head(&g), groups::member_key(&g, x)])
            .await?,
    )?;
    let meta = meta.as_ref().map(Meta::from_item).transpose()?;
    let member = member.as_ref().map(Member::from_item).transpose()?;
    let (Some(meta), Some(member)) = (meta, member) else {
        // Dismissed and cleared, or never completed: only the mirror is left.
        return Ok(tx.step(
            Step::Item,
            TxOp::Delete {
                key: mirror.key.clone(),
                condition: None,
            },
        ));
    };
    if !meta.active {
        // Dismissed: its members learnt it from the group's feed; the items just go.
        return Ok(tx.steps(Step::Item, groups::remove_member(&g, x, member.role)));
    }
    let now = state.clock.now_millis();
    tx = tx.steps(Step::Item, groups::remove_member(&g, x, member.role));
    let mut changes = vec![Change::of("group_member", x, Op::Delete)];
    if member.role == Role::Creator {
        let page = state.store.query(groups::members_of(&g)).await?;
        let members: Vec<Member> = page.items.iter().map(Member::from_item).collect::<Result<_, _>>()?;
        match groups::successor(&members, x) {
            Some(s) => {
                let (ops, records) = groups::hand_over(&g, s, now);
                tx = tx.steps(Step::Group, ops);
                changes.extend(records);
            }
            None => {
                tx = tx.step(Step::Group, groups::dismiss(&g, now));
                changes = vec![Change::named("group", g.as_str(), Op::Delete)];
            }
        }
    }
    Ok(tx.steps(
        Step::Feed,
        feeds::append_counting(
            &groups::head(&g),
            feeds::seq(head.as_ref())?,
            &changes,
            now,
            &[(Counter::Members, -1, i64::MAX)],
        ),
    ))
}

/// The last phase: once the index has had time to show every entry, the index phases run
/// again; when they find nothing, the job ends.
async fn settle(state: &AppState, job: &DeletionJob) -> Result<Page, Error> {
    let x = &job.user;
    if state.clock.now_millis() - job.started_at < INDEX_LAG_MS {
        return Ok(Page::Later);
    }
    for phase in [Phase::Invitations, Phase::Fans, Phase::Blockers] {
        let Some((index, prefix)) = phase.source() else {
            continue;
        };
        let found = state
            .store
            .query(
                Query::partition(keys::user_pk(x))
                    .on(index)
                    .begins_with(prefix)
                    .limit(1),
            )
            .await?;
        if !found.items.is_empty() || found.cursor.is_some() {
            let tx = Tx::new().step(Step::Job, jobs::advance(x, &job.cursor, &Phase::Invitations.start()));
            return commit(state, tx).await;
        }
    }
    // The account's feed head goes with its last record (nobody reads either).
    let expiry = state.clock.now_millis() / 1000 + feeds::RECORD_LIFETIME_SECS;
    match Tx::new()
        .step(Step::Job, jobs::finish(x, &job.cursor))
        .step(
            Step::Item,
            TxOp::Update {
                key: feeds::user_head(x),
                updates: vec![crate::ports::Update::SetExpiry(expiry)],
                condition: None,
            },
        )
        .commit(state.store.as_ref())
        .await
    {
        Ok(()) => Ok(Page::Finished),
        Err(TxError::Failed(_) | TxError::Conflict) => Ok(Page::Moved),
        Err(TxError::Store(e)) => Err(e.into()),
    }
}
