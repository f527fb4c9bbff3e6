//! Reading and changing the relation between the caller and one other user. A write is
//! planned from one batched read (session check included), then committed as one
//! transaction whose conditions are the states it was planned from: when another write
//! got there first, the plan is made again from a fresh read.

use crate::auth::Credential;
use crate::domain::UserId;
use crate::error::Error;
use crate::ports::{Item, Key, TxOp};
use crate::state::AppState;
use crate::store::feeds::{self, Change, Counter, Op};
use crate::store::profile::{self, Profile};
use crate::store::relations::{self, Edge, Follow, Status};
use crate::store::retry::{retrying, Attempt};
use crate::store::{Tx, TxError};

/// What was read of the relation between `me` and `other`.
pub struct Pair {
    pub me: UserId,
    my_head: Option<Item>,
    their_head: Option<Item>,
    pub mine: Option<Edge>,
    pub theirs: Option<Edge>,
    pub i_block: bool,
    pub they_block: bool,
    pub i_follow: Option<Follow>,
    pub they_follow: Option<Follow>,
    pub their_profile: Profile,
}

impl Pair {
    pub fn my_count(&self, c: Counter) -> i64 {
        feeds::counter(self.my_head.as_ref(), c)
    }
    pub fn their_count(&self, c: Counter) -> i64 {
        feeds::counter(self.their_head.as_ref(), c)
    }
    pub fn my_status(&self) -> Option<Status> {
        self.mine.as_ref().map(|e| e.status)
    }
    pub fn their_status(&self) -> Option<Status> {
        self.theirs.as_ref().map(|e| e.status)
    }
}

pub async fn read(state: &AppState, cred: &Credential, other: &UserId) -> Result<Pair, Error> {
    let me = &cred.user;
    let keys: [Key; 9] = [
        feeds::user_head(me),
        feeds::user_head(other),
        relations::friend_key(me, other),
        relations::friend_key(other, me),
        relations::block_key(me, other),
        relations::block_key(other, me),
        relations::follow_key(me, other),
        relations::follow_key(other, me),
        profile::key(other),
    ];
    let [my_head, their_head, mine, theirs, i_block, they_block, i_follow, they_follow, their_profile] =
        cred.read(state, keys).await?;
    let their_profile = their_profile.ok_or_else(|| Error::NotFound("no such user".into()))?;
    Ok(Pair {
        me: me.clone(),
        my_head,
        their_head,
        mine: mine.as_ref().map(Edge::from_item).transpose()?,
        theirs: theirs.as_ref().map(Edge::from_item).transpose()?,
        i_block: i_block.is_some(),
        they_block: they_block.is_some(),
        i_follow: i_follow.as_ref().map(Follow::from_item).transpose()?,
        they_follow: they_follow.as_ref().map(Follow::from_item).transpose()?,
        their_profile: Profile::from_item(&their_profile)?,
    })
}

/// The change a request makes to a pair, and what it answers.
#[derive(Default)]
pub struct Plan {
    /// New status (and message) of my side, of theirs.
    pub mine: Option<(Status, Option<String>)>,
    pub theirs: Option<(Status, Option<String>)>,
    /// Some(true): I block them; Some(false): I unblock them.
    pub block: Option<bool>,
    /// The write holds only while they do not block me (an invite).
    pub unless_they_block: bool,
    /// Other operations on my side (a display name), recorded as a friend change.
    pub extra_mine: Option<TxOp>,
    /// My follow of them: into this group (new, or moved), or ended (`Some(None)`).
    pub my_follow: Option<Option<String>>,
    /// Their follow of me ends (a block ends follows both ways).
    pub end_their_follow: bool,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.mine.is_none()
            && self.theirs.is_none()
            && self.block.is_none()
            && self.extra_mine.is_none()
            && self.my_follow.is_none()
            && !self.end_their_follow
    }
}

/// How a status change moves a side's counters.
fn moves(before: Option<Status>, after: Status) -> Vec<(Counter, i64)> {
    let mut out = vec![];
    let was = |s: Status| before == Some(s);
    for (counter, status) in [
        (Counter::Friends, Status::Agreed),
        (Counter::PendingRequests, Status::Requested),
    ] {
        match (was(status), after == status) {
            (false, true) => out.push((counter, 1)),
            (true, false) => out.push((counter, -1)),
            _ => {}
        }
    }
    out
}

#[derive(Clone, Copy, Debug)]
enum Step {
    Session,
    TheyExist,
    TheyDontBlock,
    Block,
    Mine,
    Theirs,
    Extra,
    MyFeed,
    TheirFeed,
    MyFollow,
    MyGroups,
    TheirFollow,
    TheirGroup,
}

/// Plans with `decide` from a fresh read and commits, again while other writes win the
/// race; at a limit `decide` answers with the limit's error from what it read.
pub async fn change<A>(
    state: &AppState,
    cred: &Credential,
    other: &UserId,
    decide: impl Fn(&Pair) -> Result<(Plan, A), Error>,
) -> Result<A, Error> {
    let limits = &state.config.limits;
    let max = |c: Counter| match c {
        Counter::Friends => limits.max_friends,
        Counter::PendingRequests => limits.max_pending_requests,
        Counter::Blocked => limits.max_blocked,
        Counter::Follows => limits.max_follows,
        Counter::Fans => i64::MAX,
        Counter::FollowGroups => limits.max_follow_groups - relations::BUILT_IN_GROUPS.len() as i64,
        Counter::Groups => limits.max_groups,
        Counter::Members => limits.max_group_members,
    };
    retrying(state, || async {
        let pair = read(state, cred, other).await?;
        let (plan, answer) = decide(&pair)?;
        if plan.is_empty() {
            return Ok(Attempt::Done(answer));
        }
        let now = state.clock.now_millis();
        let me = &pair.me;
        // Serialized against their account's deletion: no edge towards them after it.
        let mut tx = Tx::new().step(Step::Session, cred.check_op()).step(
            Step::TheyExist,
            TxOp::Check {
                key: profile::key(other),
                condition: crate::ports::Condition::Exists,
            },
        );
        if plan.unless_they_block {
            tx = tx.step(Step::TheyDontBlock, relations::not_blocked(other, me));
        }
        let (mut my_changes, mut their_changes) = (vec![], vec![]);
        let (mut my_counts, mut their_counts) = (vec![], vec![]);
        if let Some(block) = plan.block {
            tx = tx.step(
                Step::Block,
                if block {
                    relations::block(me, other, now)
                } else {
                    relations::unblock(me, other)
                },
            );
            my_changes.push(Change::of(
                "blacklist",
                other,
                if block { Op::Upsert } else { Op::Delete },
            ));
            my_counts.push((Counter::Blocked, if block { 1 } else { -1 }));
        }
        if let Some((status, message)) = &plan.mine {
            tx = tx.step(
                Step::Mine,
                relations::set_status(me, other, pair.mine.as_ref(), *status, message.as_deref(), now),
            );
            my_changes.push(Change::of("friend", other, Op::Upsert));
            my_counts.extend(moves(pair.my_status(), *status));
        }
        if let Some(op) = plan.extra_mine {
            tx = tx.step(Step::Extra, op);
            if plan.mine.is_none() {
                my_changes.push(Change::of("friend", other, Op::Upsert));
            }
        }
        if let Some((status, message)) = &plan.theirs {
            tx = tx.step(
                Step::Theirs,
                relations::set_status(other, me, pair.theirs.as_ref(), *status, message.as_deref(), now),
            );
            their_changes.push(Change::of("friend", me, Op::Upsert));
            their_counts.extend(moves(pair.their_status(), *status));
        }
        // Follows: my side, their side; counters on the heads, group counts on the groups.
        let (mut my_head_only, mut their_head_only) = (vec![], vec![]);
        if let Some(to) = &plan.my_follow {
            match (&pair.i_follow, to) {
                (None, Some(group)) => {
                    tx = tx
                        .step(Step::MyFollow, relations::follow(me, other, group, now))
                        .step(Step::MyGroups, relations::count_in_group(me, group, 1));
                    my_head_only.push((Counter::Follows, 1));
                    their_head_only.push((Counter::Fans, 1));
                }
                (Some(f), Some(group)) if f.group != *group => {
                    tx = tx
                        .step(Step::MyFollow, relations::move_follow(me, other, &f.group, group))
                        .steps(
                            Step::MyGroups,
                            [
                                relations::count_in_group(me, &f.group, -1),
                                relations::count_in_group(me, group, 1),
                            ],
                        );
                }
                (Some(f), None) => {
                    tx = tx
                        .step(Step::MyFollow, relations::unfollow(me, other))
                        .step(Step::MyGroups, relations::count_in_group(me, &f.group, -1));
                    my_head_only.push((Counter::Follows, -1));
                    their_head_only.push((Counter::Fans, -1));
                }
                _ => {}
            }
        }
        if plan.end_their_follow {
            if let Some(f) = &pair.they_follow {
                tx = tx
                    .step(Step::TheirFollow, relations::unfollow(other, me))
                    .step(Step::TheirGroup, relations::count_in_group(other, &f.group, -1));
                their_head_only.push((Counter::Follows, -1));
                my_head_only.push((Counter::Fans, -1));
            }
        }
        my_counts.extend(my_head_only);
        their_counts.extend(their_head_only);
        let bounded = |counts: Vec<(Counter, i64)>| -> Vec<(Counter, i64, i64)> {
            counts.into_iter().map(|(c, by)| (c, by, max(c))).collect()
        };
        if !my_changes.is_empty() || !my_counts.is_empty() {
            let n = feeds::seq(pair.my_head.as_ref())?;
            let ops = feeds::append_counting(&feeds::user_head(me), n, &my_changes, now, &bounded(my_counts));
            tx = tx.steps(Step::MyFeed, ops);
        }
        if !their_changes.is_empty() || !their_counts.is_empty() {
            let n = feeds::seq(pair.their_head.as_ref())?;
            let ops = feeds::append_counting(&feeds::user_head(other), n, &their_changes, now, &bounded(their_counts));
            tx = tx.steps(Step::TheirFeed, ops);
        }
        match tx.commit(state.store.as_ref()).await {
            Ok(()) => Ok(Attempt::Done(answer)),
            Err(TxError::Failed(Step::Session)) => Err(cred.rejected()),
            // Something moved since the read (an edge, a head, a counter): plan again.
            Err(TxError::Failed(_) | TxError::Conflict) => Ok(Attempt::Again),
            Err(TxError::Store(e)) => Err(e.into()),
        }
    })
    .await
}
