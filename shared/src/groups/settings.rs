//! A group's settings (name, portrait, bulletin, mute, certification), a member's display
//! name, and favourites. A setting is O(1) writes whatever the group's size: the meta
//! and one `group` record in the group's feed, which every member's sync follows.

use super::commit_or_again;
use super::membership::read_group;
use crate::auth::Credential;
use crate::domain::{GroupDisplayName, GroupId, Role, UserId};
use crate::error::Error;
use crate::state::AppState;
use crate::store::feeds::{self, Change, Op};
use crate::store::groups::{self, Setting};
use crate::store::retry::retrying;
use crate::store::{Tx, TxError};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Step {
    Session,
    Role,
    Meta,
    Member,
    GroupFeed,
    Fav,
}

/// Changes a setting: the creator or a manager.
pub async fn set(state: &AppState, cred: &Credential, g: &GroupId, setting: Setting<'_>) -> Result<(), Error> {
    retrying(state, || async {
        let (group, _) = read_group(state, cred, g, &[]).await?;
        group.active()?;
        let role = group.my_role()?;
        if !role.manages() {
            return Err(Error::GroupForbidden("only the creator or a manager changes the group"));
        }
        let now = state.clock.now_millis();
        let tx = Tx::new()
            .step(Step::Session, cred.check_op())
            .step(Step::Role, groups::check_role(g, &cred.user, &[role]))
            .step(Step::Meta, groups::set(g, setting, now))
            .steps(
                Step::GroupFeed,
                feeds::append(
                    &groups::head(g),
                    group.seq()?,
                    &[Change::named("group", g.as_str(), Op::Upsert)],
                    now,
                ),
            );
        commit_or_again(state, cred, tx, Step::Session).await
    })
    .await
}

/// The caller's own name in the group.
pub async fn set_display_name(
    state: &AppState,
    cred: &Credential,
    g: &GroupId,
    name: &GroupDisplayName,
) -> Result<(), Error> {
    retrying(state, || async {
        let (group, _) = read_group(state, cred, g, &[]).await?;
        group.active()?;
        group.my_role()?;
        let now = state.clock.now_millis();
        let tx = Tx::new()
            .step(Step::Session, cred.check_op())
            .step(
                Step::Member,
                groups::set_display_name(g, &cred.user, name.as_str(), now),
            )
            .steps(
                Step::GroupFeed,
                feeds::append(
                    &groups::head(g),
                    group.seq()?,
                    &[Change::of("group_member", &cred.user, Op::Upsert)],
                    now,
                ),
            );
        commit_or_again(state, cred, tx, Step::Session).await
    })
    .await
}

/// Saves the group to (or removes it from) the caller's favourites; saving needs an
/// active group the caller is a member of, checked in the same transaction.
pub async fn fav(state: &AppState, cred: &Credential, g: &GroupId, on: bool) -> Result<(), Error> {
    let me: &UserId = &cred.user;
    let mut tx = Tx::new().step(Step::Session, cred.check_op());
    tx = if on {
        tx.step(Step::Meta, groups::check_active(g))
            .step(
                Step::Role,
                groups::check_role(g, me, &[Role::Creator, Role::Manager, Role::Member]),
            )
            .step(Step::Fav, groups::fav(me, g, state.clock.now_millis()))
    } else {
        tx.step(Step::Fav, groups::unfav(me, g))
    };
    match tx.commit(state.store.as_ref()).await {
        Ok(()) => Ok(()),
        Err(TxError::Failed(Step::Session)) => Err(cred.rejected()),
        Err(TxError::Failed(Step::Meta)) => Err(Error::NotFound("no such group".into())),
        Err(TxError::Failed(_)) => Err(Error::GroupForbidden("you are not a member of this group")),
        Err(TxError::Conflict) => Err(Error::Contended),
        Err(TxError::Store(e)) => Err(e.into()),
    }
}
