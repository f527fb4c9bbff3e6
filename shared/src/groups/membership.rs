//! Who is in a group: create, add, join, agree, kick, quit, dismiss, transfer, managers.
//! Each membership change moves the member item, its mirror, the member's feed (a
//! `group` record, `groupCount`) and the group's feed (a `group_member` record,
//! `memberCount`) in one transaction; the counts' bounds are its conditions.

use std::collections::HashSet;

use serde::Serialize;

use super::{commit_or_again, CHUNK};
use crate::auth::Credential;
use crate::domain::{GroupId, GroupName, Role, UserId};
use crate::error::Error;
use crate::ports::{Item, Key, TxOp};
use crate::state::AppState;
use crate::store::feeds::{self, Change, Counter, Op};
use crate::store::groups::{self, Member, Meta, NoticeType};
use crate::store::profile::{self, Profile};
use crate::store::retry::{retrying, Attempt};
use crate::store::{keys, relations, Tx, TxError};

/// SealTalk's answer per user: 1 joined, 2 waiting for a manager, 3 waiting for the invitee.
#[derive(Serialize, Debug, Clone)]
pub struct UserStatus {
    pub id: UserId,
    pub status: i64,
}

const JOINED: i64 = 1;
const WAITING_FOR_MANAGER: i64 = 2;
const WAITING_FOR_INVITEE: i64 = 3;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Step {
    Session,
    Meta,
    Role,
    GroupFeed,
    Member,
    UserFeed,
    Alive,
    NotBlocked,
    Notice,
}

/// The group as one batched read saw it, with the caller's membership.
pub(super) struct GroupRead {
    pub meta: Option<Meta>,
    pub head: Option<Item>,
    pub me: Option<Member>,
}

impl GroupRead {
    pub fn seq(&self) -> Result<i64, Error> {
        feeds::seq(self.head.as_ref())
    }
    pub fn members(&self) -> i64 {
        feeds::counter(self.head.as_ref(), Counter::Members)
    }
    /// The active group, or 404.
    pub fn active(&self) -> Result<&Meta, Error> {
        self.meta
            .as_ref()
            .filter(|m| m.active)
            .ok_or_else(|| Error::NotFound("no such group".into()))
    }
    /// The caller's membership, or 403.
    pub fn my_role(&self) -> Result<Role, Error> {
        self.me
            .as_ref()
            .map(|m| m.role)
            .ok_or(Error::GroupForbidden("you are not a member of this group"))
    }
}

/// Reads the group (meta, feed head, the caller's member item) and `extra`, with the
/// session check, in one round trip.
pub(super) async fn read_group(
    state: &AppState,
    cred: &Credential,
    g: &GroupId,
    extra: &[Key],
) -> Result<(GroupRead, Vec<Option<Item>>), Error> {
    let mut keys = vec![groups::meta_key(g), groups::head(g), groups::member_key(g, &cred.user)];
    keys.extend_from_slice(extra);
    let mut found = cred.read_many(state, &keys).await?;
    let rest = found.split_off(3);
    let mut it = found.into_iter();
    let meta = it.next().flatten().as_ref().map(Meta::from_item).transpose()?;
    let head = it.next().flatten();
    let me = it.next().flatten().as_ref().map(Member::from_item).transpose()?;
    Ok((GroupRead { meta, head, me }, rest))
}

/// What a target user looked like to the planner.
struct Target {
    user: UserId,
    head: Option<Item>,
    member: bool,
    alive: bool,
    profile: Option<Profile>,
    blocks_me: bool,
}

fn target_keys(g: &GroupId, me: &UserId, t: &UserId) -> [Key; 5] {
    [
        feeds::user_head(t),
        groups::member_key(g, t),
        keys::credential(t),
        profile::key(t),
        relations::block_key(t, me),
    ]
}

fn targets_from(users: &[UserId], found: &[Option<Item>]) -> Result<Vec<Target>, Error> {
    users
        .iter()
        .zip(found.chunks(5))
        .map(|(u, r)| {
            Ok(Target {
                user: u.clone(),
                head: r[0].clone(),
                member: r[1].is_some(),
                alive: r[2].is_some(),
                profile: r[3].as_ref().map(Profile::from_item).transpose()?,
                blocks_me: r[4].is_some(),
            })
        })
        .collect()
}

/// How users come into the group.
#[derive(Clone, Copy)]
pub(super) enum How<'a> {
    /// The group does not exist yet; the caller becomes its creator.
    Create { name: &'a GroupName, portrait: &'a str },
    /// A member adds others: invitations for `groupVerify` 0, join requests for a plain
    /// member's adds while certification is on.
    Add,
    /// The caller joins (a request while certification is on).
    Join,
    /// A pending notice of this kind, for the one target, is accepted.
    Agree(NoticeType),
}

/// Brings `targets` (distinct, at most `CHUNK`, the caller excluded except for `Join`)
/// into the group in one transaction; the answer per user.
async fn admit_chunk(
    state: &AppState,
    cred: &Credential,
    g: &GroupId,
    targets: &[UserId],
    how: How<'_>,
) -> Result<Vec<UserStatus>, Error> {
    let me = &cred.user;
    let limits = &state.config.limits;
    retrying(state, || async {
        let mut extra: Vec<Key> = targets.iter().flat_map(|t| target_keys(g, me, t)).collect();
        let creating = matches!(how, How::Create { .. });
        if creating {
            extra.extend(target_keys(g, me, me));
        }
        let (group, found) = read_group(state, cred, g, &extra).await?;
        let found_targets = targets_from(targets, &found[..targets.len() * 5])?;
        let creator = if creating {
            if group.meta.is_some() {
                return Err(Error::Internal("a fresh group id was taken".into()));
            }
            Some(targets_from(std::slice::from_ref(me), &found[targets.len() * 5..])?.remove(0))
        } else {
            None
        };
        let meta = if creating { None } else { Some(group.active()?) };
        let my_role = match how {
            How::Create { .. } => Role::Creator,
            How::Join | How::Agree(NoticeType::Invitee) => Role::Member,
            How::Add | How::Agree(NoticeType::Manager) => group.my_role()?,
        };
        if matches!(how, How::Agree(NoticeType::Manager)) && !my_role.manages() {
            return Err(Error::GroupForbidden(
                "only the creator or a manager answers join requests",
            ));
        }
        let certification = meta.is_some_and(|m| m.certification);

        // Plan: who joins now, who gets an invitation or a request.
        let mut statuses = vec![];
        let mut joining: Vec<(&Target, Role)> = vec![];
        let mut notices: Vec<(UserId, NoticeType)> = vec![];
        if let Some(c) = &creator {
            joining.push((c, Role::Creator));
            statuses.push(UserStatus {
                id: me.clone(),
                status: JOINED,
            });
        }
        for t in &found_targets {
            if t.member {
                statuses.push(UserStatus {
                    id: t.user.clone(),
                    status: JOINED,
                });
                continue;
            }
            let Some(profile) = t.profile.as_ref().filter(|_| t.alive) else {
                return Err(Error::NotFound(format!("no such user: {}", t.user)));
            };
            let status = match how {
                How::Create { .. } | How::Add => {
                    if t.blocks_me {
                        return Err(Error::GroupRefused);
                    }
                    if matches!(how, How::Add) && certification && !my_role.manages() {
                        notices.push((t.user.clone(), NoticeType::Manager));
                        WAITING_FOR_MANAGER
                    } else if !profile.privacy.group_verify {
                        notices.push((t.user.clone(), NoticeType::Invitee));
                        WAITING_FOR_INVITEE
                    } else {
                        JOINED
                    }
                }
                How::Join if certification => {
                    notices.push((t.user.clone(), NoticeType::Manager));
                    WAITING_FOR_MANAGER
                }
                How::Join | How::Agree(_) => JOINED,
            };
            statuses.push(UserStatus {
                id: t.user.clone(),
                status,
            });
        }
        for t in &found_targets {
            if !t.member && statuses.iter().any(|s| s.id == t.user && s.status == JOINED) {
                joining.push((t, Role::Member));
            }
        }
        if joining.is_empty() && notices.is_empty() {
            return Ok(Attempt::Done(statuses));
        }

        // Bounds, from what was read; the transaction's conditions make them exact.
        let k = joining.len() as i64;
        if group.members() + k > limits.max_group_members {
            return Err(Error::GroupLimit("the group has its largest number of members"));
        }
        for (t, _) in &joining {
            if feeds::counter(t.head.as_ref(), Counter::Groups) >= limits.max_groups {
                return Err(Error::GroupLimit("a user is in the largest number of groups"));
            }
        }

        let now = state.clock.now_millis();
        let n = group.seq()?;
        let mut tx = Tx::new().step(Step::Session, cred.check_op());
        match how {
            How::Create { name, portrait } => {
                tx = tx.step(Step::Meta, groups::create_meta(g, name.as_str(), portrait, me, now));
            }
            _ => {
                tx = tx.step(Step::Meta, groups::check_active(g));
            }
        }
        match how {
            How::Add | How::Agree(NoticeType::Manager) => {
                tx = tx.step(Step::Role, groups::check_role(g, me, &[my_role]));
            }
            _ => {}
        }
        let mut changes = vec![];
        if creating {
            changes.push(Change::named("group", g.as_str(), Op::Upsert));
        }
        for (t, role) in &joining {
            changes.push(Change::of("group_member", &t.user, Op::Upsert));
            let join_seq = n + changes.len() as i64;
            tx = tx.steps(Step::Member, groups::add_member(g, &t.user, *role, join_seq, now));
            let t_seq = feeds::seq(t.head.as_ref())?;
            tx = tx.steps(
                Step::UserFeed,
                feeds::append_counting(
                    &feeds::user_head(&t.user),
                    t_seq,
                    &[Change::named("group", g.as_str(), Op::Upsert)],
                    now,
                    &[(Counter::Groups, 1, limits.max_groups)],
                ),
            );
            if t.user != *me {
                tx = tx.step(
                    Step::Alive,
                    TxOp::Check {
                        key: keys::credential(&t.user),
                        condition: crate::ports::Condition::Exists,
                    },
                );
                if matches!(how, How::Create { .. } | How::Add) {
                    tx = tx.step(Step::NotBlocked, relations::not_blocked(&t.user, me));
                }
            }
        }
        if !changes.is_empty() {
            tx = tx.steps(
                Step::GroupFeed,
                feeds::append_counting(
                    &groups::head(g),
                    n,
                    &changes,
                    now,
                    &[(Counter::Members, k, limits.max_group_members)],
                ),
            );
        }
        for (user, kind) in &notices {
            tx = tx.step(Step::Notice, groups::put_notice(g, user, *kind, me, now));
        }
        if let How::Agree(kind) = how {
            for t in targets {
                tx = tx.step(Step::Notice, groups::take_notice(g, t, kind));
            }
        }
        match tx.commit(state.store.as_ref()).await {
            Ok(()) => Ok(Attempt::Done(statuses)),
            Err(TxError::Failed(Step::Session)) => Err(cred.rejected()),
            Err(TxError::Failed(Step::Alive)) => Err(Error::NotFound("a user you named is gone".into())),
            Err(TxError::Failed(Step::Meta)) if !creating => Err(Error::NotFound("no such group".into())),
            Err(TxError::Failed(Step::Notice)) if matches!(how, How::Agree(_)) => {
                Err(Error::NotFound("no such pending request".into()))
            }
            Err(TxError::Failed(_) | TxError::Conflict) => Ok(Attempt::Again),
            Err(TxError::Store(e)) => Err(e.into()),
        }
    })
    .await
}

/// Distinct ids, the caller left out, at most 100.
fn distinct_others(ids: &[UserId], me: &UserId) -> Vec<UserId> {
    let mut seen = HashSet::new();
    ids.iter()
        .filter(|u| *u != me && seen.insert((*u).clone()))
        .cloned()
        .collect()
}

/// The distinct others a role-bound write acts on; naming oneself is refused with
/// `why_not_me`.
fn others_only(ids: &[UserId], me: &UserId, why_not_me: &'static str) -> Result<Vec<UserId>, Error> {
    if ids.contains(me) {
        return Err(crate::domain::ValidationError::new("memberIds", why_not_me).into());
    }
    Ok(distinct_others(ids, me))
}

#[derive(Serialize)]
pub struct Created {
    pub id: GroupId,
    #[serde(rename = "userStatus")]
    pub user_status: Vec<UserStatus>,
}

pub async fn create(
    state: &AppState,
    cred: &Credential,
    name: &GroupName,
    portrait: &str,
    members: &[UserId],
) -> Result<Created, Error> {
    let g = GroupId::from_minted(state.random.token(GroupId::BYTES));
    let others = distinct_others(members, &cred.user);
    // The first transaction creates the group with the creator and a first chunk; the
    // rest join as the creator's adds.
    let (first, rest) = others.split_at(others.len().min(CHUNK - 1));
    let mut statuses = admit_chunk(state, cred, &g, first, How::Create { name, portrait }).await?;
    for chunk in rest.chunks(CHUNK) {
        statuses.extend(admit_chunk(state, cred, &g, chunk, How::Add).await?);
    }
    tracing::info!(group = %g, members = statuses.len(), "group created");
    Ok(Created {
        id: g,
        user_status: statuses,
    })
}

pub async fn add(
    state: &AppState,
    cred: &Credential,
    g: &GroupId,
    members: &[UserId],
) -> Result<Vec<UserStatus>, Error> {
    let others = distinct_others(members, &cred.user);
    let mut statuses = vec![];
    for chunk in others.chunks(CHUNK) {
        statuses.extend(admit_chunk(state, cred, g, chunk, How::Add).await?);
    }
    Ok(statuses)
}

pub async fn join(state: &AppState, cred: &Credential, g: &GroupId) -> Result<i64, Error> {
    let statuses = admit_chunk(state, cred, g, std::slice::from_ref(&cred.user), How::Join).await?;
    Ok(statuses.first().map_or(JOINED, |s| s.status))
}

/// Answers a pending notice: the invitee their invitation, a manager a join request.
/// `accept` false drops it.
pub async fn agree(
    state: &AppState,
    cred: &Credential,
    g: &GroupId,
    receiver: &UserId,
    accept: bool,
) -> Result<(), Error> {
    let me = &cred.user;
    let (group, found) = read_group(state, cred, g, &[groups::notice_key(g, receiver)]).await?;
    group.active()?;
    let notice = found[0]
        .as_ref()
        .map(groups::Notice::from_item)
        .transpose()?
        .ok_or_else(|| Error::NotFound("no such pending request".into()))?;
    match notice.kind {
        NoticeType::Invitee if receiver != me => {
            return Err(Error::GroupForbidden("only the invited user answers an invitation"))
        }
        NoticeType::Manager if !group.me.as_ref().is_some_and(|m| m.role.manages()) => {
            return Err(Error::GroupForbidden(
                "only the creator or a manager answers join requests",
            ))
        }
        _ => {}
    }
    if !accept {
        let tx = Tx::new()
            .step(Step::Session, cred.check_op())
            .step(Step::Notice, groups::take_notice(g, receiver, notice.kind));
        return match tx.commit(state.store.as_ref()).await {
            Ok(()) => Ok(()),
            Err(TxError::Failed(Step::Session)) => Err(cred.rejected()),
            Err(TxError::Failed(_) | TxError::Conflict) => Err(Error::NotFound("no such pending request".into())),
            Err(TxError::Store(e)) => Err(e.into()),
        };
    }
    admit_chunk(state, cred, g, std::slice::from_ref(receiver), How::Agree(notice.kind)).await?;
    Ok(())
}

/// Removes members: the changes for one leaving member.
fn leave_ops(tx: Tx<Step>, g: &GroupId, member: &Member, head: Option<&Item>, now: i64) -> Result<Tx<Step>, Error> {
    let seq = feeds::seq(head)?;
    Ok(tx
        .steps(Step::Member, groups::remove_member(g, &member.user, member.role))
        .steps(
            Step::UserFeed,
            feeds::append_counting(
                &feeds::user_head(&member.user),
                seq,
                &[Change::named("group", g.as_str(), Op::Delete)],
                now,
                &[(Counter::Groups, -1, i64::MAX)],
            ),
        ))
}

/// Removes members (at most 100): the creator or a manager; a manager kicks only plain
/// members, and nobody kicks the creator.
pub async fn kick(state: &AppState, cred: &Credential, g: &GroupId, members: &[UserId]) -> Result<(), Error> {
    let others = others_only(members, &cred.user, "cannot hold yourself: quit instead")?;
    for chunk in others.chunks(20) {
        retrying(state, || async {
            let extra: Vec<Key> = chunk
                .iter()
                .flat_map(|u| [groups::member_key(g, u), feeds::user_head(u)])
                .collect();
            let (group, found) = read_group(state, cred, g, &extra).await?;
            group.active()?;
            let my_role = group.my_role()?;
            if !my_role.manages() {
                return Err(Error::GroupForbidden("only the creator or a manager removes members"));
            }
            let mut leaving = vec![];
            for pair in found.chunks(2) {
                let Some(m) = pair[0].as_ref().map(Member::from_item).transpose()? else {
                    return Err(crate::domain::ValidationError::new(
                        "memberIds",
                        "holds a user who is not a member of this group",
                    )
                    .into());
                };
                {
                    if m.role == Role::Creator {
                        return Err(Error::GroupForbidden("the creator cannot be removed"));
                    }
                    if m.role == Role::Manager && my_role != Role::Creator {
                        return Err(Error::GroupForbidden("only the creator removes a manager"));
                    }
                    leaving.push((m, pair[1].clone()));
                }
            }
            if leaving.is_empty() {
                return Ok(Attempt::Done(()));
            }
            let now = state.clock.now_millis();
            let mut tx = Tx::new()
                .step(Step::Session, cred.check_op())
                .step(Step::Role, groups::check_role(g, &cred.user, &[my_role]));
            let mut changes = vec![];
            for (m, head) in &leaving {
                tx = leave_ops(tx, g, m, head.as_ref(), now)?;
                changes.push(Change::of("group_member", &m.user, Op::Delete));
            }
            tx = tx.steps(
                Step::GroupFeed,
                feeds::append_counting(
                    &groups::head(g),
                    group.seq()?,
                    &changes,
                    now,
                    &[(Counter::Members, -(leaving.len() as i64), i64::MAX)],
                ),
            );
            commit_or_again(state, cred, tx, Step::Session).await
        })
        .await?;
    }
    Ok(())
}

/// All members of the group, read in one query.
pub(super) async fn all_members(state: &AppState, g: &GroupId) -> Result<Vec<Member>, Error> {
    let page = state.store.query(groups::members_of(g)).await?;
    page.items.iter().map(Member::from_item).collect()
}

/// The caller leaves. A creator hands the group to the longest-standing manager, else
/// member; the last member leaving dismisses it.
pub async fn quit(state: &AppState, cred: &Credential, g: &GroupId) -> Result<(), Error> {
    let me = &cred.user;
    retrying(state, || async {
        let (group, found) = read_group(state, cred, g, &[feeds::user_head(me)]).await?;
        group.active()?;
        let mine = group
            .me
            .clone()
            .ok_or(Error::GroupForbidden("you are not a member of this group"))?;
        let now = state.clock.now_millis();
        let mut tx = Tx::new().step(Step::Session, cred.check_op());
        tx = leave_ops(tx, g, &mine, found[0].as_ref(), now)?;
        let mut changes = vec![Change::of("group_member", me, Op::Delete)];
        if mine.role == Role::Creator {
            // Only a creator's leaving needs the member list (to pick a successor).
            let members = all_members(state, g).await?;
            match groups::successor(&members, me) {
                None => return dismiss_now(state, cred, g, &group).await.map(Attempt::Done),
                Some(s) => {
                    let (ops, records) = groups::hand_over(g, s, now);
                    tx = tx.steps(Step::Role, ops);
                    changes.extend(records);
                }
            }
        }
        tx = tx.steps(
            Step::GroupFeed,
            feeds::append_counting(
                &groups::head(g),
                group.seq()?,
                &changes,
                now,
                &[(Counter::Members, -1, i64::MAX)],
            ),
        );
        commit_or_again(state, cred, tx, Step::Session).await
    })
    .await
}

/// Dismissal by the creator.
pub async fn dismiss(state: &AppState, cred: &Credential, g: &GroupId) -> Result<(), Error> {
    retrying(state, || async {
        let (group, _) = read_group(state, cred, g, &[]).await?;
        group.active()?;
        if group.my_role()? != Role::Creator {
            return Err(Error::GroupForbidden("only the creator dismisses the group"));
        }
        dismiss_now(state, cred, g, &group).await.map(Attempt::Done)
    })
    .await
}

/// The group reads as gone from the moment this commits (one transaction, O(1)): its
/// meta is dismissed and its feed records the deletion for every member's sync. The
/// member items and mirrors are removed afterwards, in pages; until then every reader
/// treats a mirror of a dismissed group as no membership.
async fn dismiss_now(state: &AppState, cred: &Credential, g: &GroupId, group: &GroupRead) -> Result<(), Error> {
    let now = state.clock.now_millis();
    let mut tx = Tx::new()
        .step(Step::Session, cred.check_op())
        .step(Step::Meta, groups::dismiss(g, now))
        .step(Step::Role, groups::check_role(g, &cred.user, &[Role::Creator]));
    tx = tx.steps(
        Step::GroupFeed,
        feeds::append(
            &groups::head(g),
            group.seq()?,
            &[Change::named("group", g.as_str(), Op::Delete)],
            now,
        ),
    );
    match tx.commit(state.store.as_ref()).await {
        Ok(()) => {}
        Err(TxError::Failed(Step::Session)) => return Err(cred.rejected()),
        Err(TxError::Failed(_) | TxError::Conflict) => return Err(Error::Contended),
        Err(TxError::Store(e)) => return Err(e.into()),
    }
    tracing::info!(group = %g, "group dismissed");
    clear_members(state, g).await
}

/// Removes a dismissed group's member items and mirrors, a page per transaction, and
/// lowers each member's `groupCount` (a counter only: the group's feed told their sync).
pub(super) async fn clear_members(state: &AppState, g: &GroupId) -> Result<(), Error> {
    let members = all_members(state, g).await?;
    for chunk in members.chunks(30) {
        let mut tx: Tx<Step> = Tx::new();
        for m in chunk {
            tx = tx.steps(Step::Member, groups::remove_member(g, &m.user, m.role)).step(
                Step::UserFeed,
                feeds::count_only(&feeds::user_head(&m.user), Counter::Groups, -1),
            );
        }
        match tx.commit(state.store.as_ref()).await {
            Ok(()) | Err(TxError::Failed(_) | TxError::Conflict) => {}
            Err(TxError::Store(e)) => return Err(e.into()),
        }
    }
    Ok(())
}

/// The creator hands the group to another member.
pub async fn transfer(state: &AppState, cred: &Credential, g: &GroupId, to: &UserId) -> Result<(), Error> {
    if *to == cred.user {
        return Err(crate::domain::ValidationError::new("userId", "cannot be yourself").into());
    }
    retrying(state, || async {
        let (group, found) = read_group(state, cred, g, &[groups::member_key(g, to)]).await?;
        group.active()?;
        if group.my_role()? != Role::Creator {
            return Err(Error::GroupForbidden("only the creator transfers the group"));
        }
        let target = found[0]
            .as_ref()
            .map(Member::from_item)
            .transpose()?
            .ok_or_else(|| crate::domain::ValidationError::new("userId", "is not a member of this group"))?;
        let now = state.clock.now_millis();
        let tx = Tx::new()
            .step(Step::Session, cred.check_op())
            .steps(
                Step::Role,
                groups::set_role(g, &cred.user, Role::Creator, Role::Member, now),
            )
            .steps(Step::Role, groups::set_role(g, to, target.role, Role::Creator, now))
            .step(Step::Meta, groups::set(g, groups::Setting::Creator(to), now))
            .steps(
                Step::GroupFeed,
                feeds::append(
                    &groups::head(g),
                    group.seq()?,
                    &[
                        Change::of("group_member", &cred.user, Op::Upsert),
                        Change::of("group_member", to, Op::Upsert),
                        Change::named("group", g.as_str(), Op::Upsert),
                    ],
                    now,
                ),
            );
        commit_or_again(state, cred, tx, Step::Session).await
    })
    .await
}

/// Makes members managers (`to` Manager) or plain members again (`to` Member).
pub async fn set_managers(
    state: &AppState,
    cred: &Credential,
    g: &GroupId,
    members: &[UserId],
    to: Role,
) -> Result<(), Error> {
    let from = if to == Role::Manager {
        Role::Member
    } else {
        Role::Manager
    };
    let targets = others_only(members, &cred.user, "cannot hold the creator")?;
    for chunk in targets.chunks(30) {
        retrying(state, || async {
            let extra: Vec<Key> = chunk.iter().map(|u| groups::member_key(g, u)).collect();
            let (group, found) = read_group(state, cred, g, &extra).await?;
            group.active()?;
            if group.my_role()? != Role::Creator {
                return Err(Error::GroupForbidden("only the creator sets managers"));
            }
            let now = state.clock.now_millis();
            let mut tx = Tx::new()
                .step(Step::Session, cred.check_op())
                .step(Step::Role, groups::check_role(g, &cred.user, &[Role::Creator]));
            let mut changes = vec![];
            for (u, item) in chunk.iter().zip(&found) {
                let m = item.as_ref().map(Member::from_item).transpose()?.ok_or_else(|| {
                    crate::domain::ValidationError::new("memberIds", "holds a user who is not a member")
                })?;
                if m.role == from {
                    tx = tx.steps(Step::Member, groups::set_role(g, u, from, to, now));
                    changes.push(Change::of("group_member", u, Op::Upsert));
                }
            }
            if changes.is_empty() {
                return Ok(Attempt::Done(()));
            }
            tx = tx.steps(
                Step::GroupFeed,
                feeds::append(&groups::head(g), group.seq()?, &changes, now),
            );
            commit_or_again(state, cred, tx, Step::Session).await
        })
        .await?;
    }
    Ok(())
}
