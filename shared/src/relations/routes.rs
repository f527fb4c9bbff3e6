//! HTTP routes of the `relations` group: SealTalk's blacklist (`/user/…`) and
//! friendship API (`/friendship/…`), wire-compatible.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde_json::json;

use super::{blacklist, follows, friendship};
use crate::auth::Credential;
use crate::domain::{UserId, ValidationError};
use crate::http::{ok, ok_with, paged, paging, ApiResult, Input, Routes};
use crate::state::AppState;

pub fn routes() -> Routes {
    vec![
        ("/user/blacklist", get(blacklist_list).post(blacklist_list)),
        ("/user/add_to_blacklist", post(add_to_blacklist)),
        ("/user/remove_from_blacklist", post(remove_from_blacklist)),
        ("/friendship/invite", post(invite)),
        ("/friendship/agree", post(agree)),
        ("/friendship/ignore", post(ignore)),
        ("/friendship/delete", post(delete)),
        ("/friendship/set_display_name", post(set_display_name)),
        ("/friendship/all", get(all).post(all)),
        (
            "/friendship/{friendId}/profile",
            get(friend_profile).post(friend_profile),
        ),
        ("/user/follow", post(follow)),
        ("/user/unfollow", post(unfollow)),
        ("/user/add_follow_group", post(add_follow_group)),
        ("/user/delete_follow_group", post(delete_follow_group)),
        ("/user/follow_groups", get(follow_groups).post(follow_groups)),
        ("/user/follows", get(follows_list).post(follows_list)),
        ("/user/fans", get(fans_list).post(fans_list)),
    ]
}

/// `userId`: another user than the caller.
fn target(input: &Input, cred: &Credential) -> Result<UserId, ValidationError> {
    let id = UserId::parse("userId", &input.string("userId")?)?;
    if id == cred.user {
        return Err(ValidationError::new("userId", "cannot be yourself"));
    }
    Ok(id)
}

async fn follow(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let other = target(&input, &cred)?;
    let group = follows::group_name(input.opt_string("groupName")?)?;
    follows::follow(&state, &cred, &other, &group).await?;
    ok()
}

async fn unfollow(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let other = target(&input, &cred)?;
    follows::unfollow(&state, &cred, &other).await?;
    ok()
}

async fn add_follow_group(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let name = follows::group_name(Some(input.string("groupName")?))?;
    follows::add_group(&state, &cred, &name).await?;
    ok()
}

async fn delete_follow_group(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let name = follows::group_name(Some(input.string("groupName")?))?;
    follows::delete_group(&state, &cred, &name).await?;
    ok()
}

async fn follow_groups(State(state): State<AppState>, cred: Credential) -> ApiResult {
    ok_with(follows::groups(&state, &cred).await?)
}

async fn follows_list(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let (page, size) = paging(&input)?.unwrap_or((1, 20));
    let (list, total) = follows::follows_page(&state, &cred, page, size).await?;
    paged(list, total, page, size)
}

async fn fans_list(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let (page, size) = paging(&input)?.unwrap_or((1, 20));
    let (list, total) = follows::fans_page(&state, &cred, page, size).await?;
    paged(list, total, page, size)
}

/// `friendId`: another user than the caller.
fn other(input: &Input, cred: &Credential) -> Result<UserId, ValidationError> {
    let id = UserId::parse("friendId", &input.string("friendId")?)?;
    if id == cred.user {
        return Err(ValidationError::new("friendId", "cannot be yourself"));
    }
    Ok(id)
}

async fn blacklist_list(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let paging = paging(&input)?;
    let (entries, total) = blacklist::list(&state, &cred, paging).await?;
    match paging {
        None => ok_with(entries),
        Some((page, size)) => paged(entries, total, page, size),
    }
}

async fn add_to_blacklist(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let other = other(&input, &cred)?;
    blacklist::add(&state, &cred, &other).await?;
    ok()
}

async fn remove_from_blacklist(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let other = other(&input, &cred)?;
    blacklist::remove(&state, &cred, &other).await?;
    ok()
}

async fn invite(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let friend = other(&input, &cred)?;
    let message = input.opt_string("message")?.unwrap_or_default();
    if message.chars().count() > 64 || message.chars().any(char::is_control) {
        return Err(ValidationError::new("message", "must be at most 64 printable characters").into());
    }
    let action = friendship::invite(&state, &cred, &friend, message.trim()).await?;
    ok_with(json!({ "action": action.as_str() }))
}

async fn agree(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let friend = other(&input, &cred)?;
    let action = friendship::agree(&state, &cred, &friend).await?;
    ok_with(json!({ "action": action.as_str() }))
}

async fn ignore(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let friend = other(&input, &cred)?;
    friendship::ignore(&state, &cred, &friend).await?;
    ok()
}

async fn delete(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let friend = other(&input, &cred)?;
    friendship::delete(&state, &cred, &friend).await?;
    ok()
}

async fn set_display_name(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let friend = other(&input, &cred)?;
    let name = input.opt_string("displayName")?.unwrap_or_default();
    let name = name.trim();
    if name.len() > 32 || name.chars().any(char::is_control) {
        return Err(ValidationError::new("displayName", "must be at most 32 bytes").into());
    }
    friendship::set_display_name(&state, &cred, &friend, name).await?;
    ok()
}

async fn all(State(state): State<AppState>, cred: Credential) -> ApiResult {
    ok_with(friendship::all(&state, &cred).await?)
}

async fn friend_profile(State(state): State<AppState>, cred: Credential, Path(friend): Path<String>) -> ApiResult {
    let friend = UserId::parse("friendId", &friend)?;
    ok_with(friendship::profile_of(&state, &cred, &friend).await?)
}
