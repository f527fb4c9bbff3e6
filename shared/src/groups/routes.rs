//! HTTP routes of the `groups` group: SealTalk's `/group/*` (wire-compatible paths,
//! fields and result shapes), `/user/groups` and `/user/favgroups`.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde_json::{json, Value};

use super::{membership, reads, settings};
use crate::auth::Credential;
use crate::domain::{Bulletin, GroupDisplayName, GroupId, GroupName, PortraitUri, Role, UserId, ValidationError};
use crate::http::{ok, ok_with, paged, paging, ApiResult, Input, Routes};
use crate::state::AppState;
use crate::store::groups::Setting;

pub fn routes() -> Routes {
    vec![
        ("/group/create", post(create)),
        ("/group/add", post(add)),
        ("/group/join", post(join)),
        ("/group/kick", post(kick)),
        ("/group/quit", post(quit)),
        ("/group/dismiss", post(dismiss)),
        ("/group/transfer", post(transfer)),
        ("/group/set_manager", post(set_manager)),
        ("/group/remove_manager", post(remove_manager)),
        ("/group/rename", post(rename)),
        ("/group/set_portrait_uri", post(set_portrait_uri)),
        ("/group/set_display_name", post(set_display_name)),
        ("/group/set_bulletin", post(set_bulletin)),
        ("/group/get_bulletin", get(get_bulletin).post(get_bulletin)),
        ("/group/mute_all", post(mute_all)),
        ("/group/set_certification", post(set_certification)),
        ("/group/fav", post(fav).delete(unfav)),
        ("/group/notice_info", get(notice_info).post(notice_info)),
        ("/group/agree", post(agree)),
        ("/group/{id}", get(info).post(info)),
        ("/group/{id}/members", get(members).post(members)),
        ("/user/groups", get(user_groups).post(user_groups)),
        ("/user/favgroups", get(favgroups)),
    ]
}

/// At most this many ids in one request (DESIGN's batch limit).
const MAX_IDS: usize = 100;

/// `field`: 1 to 100 user ids.
fn user_ids(input: &Input, field: &'static str) -> Result<Vec<UserId>, ValidationError> {
    let ids = input
        .opt_user_ids(field)?
        .ok_or_else(|| ValidationError::new(field, "is required: a list of user ids"))?;
    if ids.is_empty() || ids.len() > MAX_IDS {
        return Err(ValidationError::new(field, "must hold 1 to 100 user ids"));
    }
    Ok(ids)
}

fn group_id(input: &Input) -> Result<GroupId, ValidationError> {
    let raw = match input.opt_string("groupId")? {
        Some(g) => g,
        None => input
            .opt_string("id")?
            .ok_or_else(|| ValidationError::new("groupId", "is required"))?,
    };
    GroupId::parse("groupId", &raw)
}

/// A 0-or-1 field that must be given.
fn flag(input: &Input, field: &'static str) -> Result<bool, ValidationError> {
    input
        .opt_flag(field)?
        .ok_or_else(|| ValidationError::new(field, "is required: 0 or 1"))
}

async fn create(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let name = GroupName::parse(&input.string("name")?)?;
    let portrait = match input.opt_string("portraitUri")?.filter(|p| !p.is_empty()) {
        Some(p) => PortraitUri::parse(&p)?.as_str().to_string(),
        None => String::new(),
    };
    // SealTalk's list includes the creator; an empty list makes a group of one.
    let members = match input.get("memberIds") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) if a.is_empty() => vec![],
        _ => user_ids(&input, "memberIds")?,
    };
    ok_with(membership::create(&state, &cred, &name, &portrait, &members).await?)
}

async fn add(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let g = group_id(&input)?;
    let members = user_ids(&input, "memberIds")?;
    ok_with(membership::add(&state, &cred, &g, &members).await?)
}

async fn join(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let g = group_id(&input)?;
    let status = membership::join(&state, &cred, &g).await?;
    ok_with(json!({ "status": status }))
}

async fn kick(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let g = group_id(&input)?;
    let members = user_ids(&input, "memberIds")?;
    membership::kick(&state, &cred, &g, &members).await?;
    ok()
}

async fn quit(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    membership::quit(&state, &cred, &group_id(&input)?).await?;
    ok()
}

async fn dismiss(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    membership::dismiss(&state, &cred, &group_id(&input)?).await?;
    ok()
}

async fn transfer(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let g = group_id(&input)?;
    let to = UserId::parse("userId", &input.string("userId")?)?;
    membership::transfer(&state, &cred, &g, &to).await?;
    ok()
}

async fn set_manager(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let g = group_id(&input)?;
    let members = user_ids(&input, "memberIds")?;
    membership::set_managers(&state, &cred, &g, &members, Role::Manager).await?;
    ok()
}

async fn remove_manager(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let g = group_id(&input)?;
    let members = user_ids(&input, "memberIds")?;
    membership::set_managers(&state, &cred, &g, &members, Role::Member).await?;
    ok()
}

async fn rename(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let g = group_id(&input)?;
    let name = GroupName::parse(&input.string("name")?)?;
    settings::set(&state, &cred, &g, Setting::Name(name.as_str())).await?;
    ok()
}

async fn set_portrait_uri(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let g = group_id(&input)?;
    let portrait = PortraitUri::parse(&input.string("portraitUri")?)?;
    settings::set(&state, &cred, &g, Setting::Portrait(portrait.as_str())).await?;
    ok()
}

async fn set_bulletin(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let g = group_id(&input)?;
    // The issue's `content`, or the reference's `bulletin`.
    let (field, raw) = match input.opt_string("content")? {
        Some(c) => ("content", c),
        None => ("bulletin", input.string("bulletin")?),
    };
    let bulletin = Bulletin::parse(field, &raw)?;
    settings::set(&state, &cred, &g, Setting::Bulletin(bulletin.as_str())).await?;
    ok()
}

async fn get_bulletin(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    ok_with(reads::bulletin(&state, &cred, &group_id(&input)?).await?)
}

async fn mute_all(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let g = group_id(&input)?;
    let on = flag(&input, "muteStatus")?;
    settings::set(&state, &cred, &g, Setting::Mute(on)).await?;
    ok()
}

async fn set_certification(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let g = group_id(&input)?;
    let on = flag(&input, "certiStatus")?;
    settings::set(&state, &cred, &g, Setting::Certification(on)).await?;
    ok()
}

async fn set_display_name(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let g = group_id(&input)?;
    let name = GroupDisplayName::parse(&input.string("displayName")?)?;
    settings::set_display_name(&state, &cred, &g, &name).await?;
    ok()
}

async fn fav(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    settings::fav(&state, &cred, &group_id(&input)?, true).await?;
    ok()
}

async fn unfav(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    settings::fav(&state, &cred, &group_id(&input)?, false).await?;
    ok()
}

async fn notice_info(State(state): State<AppState>, cred: Credential) -> ApiResult {
    ok_with(reads::notice_info(&state, &cred).await?)
}

async fn agree(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let g = group_id(&input)?;
    let receiver = UserId::parse("receiverId", &input.string("receiverId")?)?;
    let accept = match input.string("status")?.trim() {
        "1" => true,
        "0" => false,
        _ => return Err(ValidationError::new("status", "must be 1 (agree) or 0 (ignore)").into()),
    };
    membership::agree(&state, &cred, &g, &receiver, accept).await?;
    ok()
}

async fn info(State(state): State<AppState>, cred: Credential, Path(id): Path<String>) -> ApiResult {
    let g = GroupId::parse("id", &id)?;
    ok_with(reads::info(&state, &cred, &g).await?)
}

async fn members(State(state): State<AppState>, cred: Credential, Path(id): Path<String>, input: Input) -> ApiResult {
    let g = GroupId::parse("id", &id)?;
    let page = paging(&input)?;
    let (list, total) = reads::members(&state, &cred, &g, page).await?;
    match page {
        Some((page, size)) => paged(list, total, page, size),
        None => ok_with(list),
    }
}

async fn user_groups(State(state): State<AppState>, cred: Credential) -> ApiResult {
    ok_with(reads::user_groups(&state, &cred).await?)
}

async fn favgroups(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let number = |field: &'static str, max: usize| -> Result<Option<usize>, ValidationError> {
        match input.opt_string(field)? {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n <= max)
                .map(Some)
                .ok_or_else(|| ValidationError::new(field, format!("must be a number from 0 to {max}"))),
        }
    };
    let offset = number("offset", 100_000)?;
    let limit = number("limit", 500)?;
    let paging = match (offset, limit) {
        (None, None) => None,
        (o, l) => Some((o.unwrap_or(0), l.unwrap_or(20))),
    };
    ok_with(reads::favgroups(&state, &cred, paging).await?)
}
