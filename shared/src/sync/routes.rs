//! HTTP route of the `sync` group, in SealTalk's shape: `result` holds `version`, `user`,
//! `blacklist`, `friends`, `groups` and `group_members`, plus Roster's `full` (the client
//! empties its tables first) and `hasMore` (call again with the returned `version`).

use axum::extract::{Path, State};
use axum::routing::get;
use serde_json::json;

use super::service;
use crate::auth::Credential;
use crate::domain::ValidationError;
use crate::http::{ok_with, ApiResult, Routes};
use crate::state::AppState;

pub fn routes() -> Routes {
    vec![("/user/sync/{version}", get(sync).post(sync))]
}

fn version(raw: &str) -> Result<i64, ValidationError> {
    raw.parse::<i64>()
        .ok()
        .filter(|v| *v >= 0)
        .ok_or_else(|| ValidationError::new("version", "must be a whole number, 0 or more"))
}

async fn sync(State(state): State<AppState>, cred: Credential, Path(raw): Path<String>) -> ApiResult {
    let v = version(&raw)?;
    let answer = service::sync(&state, &cred, v).await?;
    let d = answer.delivery;
    ok_with(json!({
        "version": answer.version,
        "full": answer.full,
        "hasMore": answer.has_more,
        "user": answer.user,
        "blacklist": d.blacklist.into_values().collect::<Vec<_>>(),
        "friends": d.friends.into_values().collect::<Vec<_>>(),
        "groups": d.groups.into_values().collect::<Vec<_>>(),
        "group_members": d.members.into_values().collect::<Vec<_>>(),
    }))
}
