//! HTTP routes of the `profile` group (SealTalk-compatible): setters, privacy and poke.

use axum::extract::State;
use axum::routing::post;
use serde_json::json;

use super::settings;
use crate::auth::Credential;
use crate::domain::{Gender, Nickname, PortraitUri, PrivacyChange, StAccount};
use crate::http::{ok, ok_with, ApiResult, Input, Routes};
use crate::state::AppState;

pub fn routes() -> Routes {
    vec![
        ("/user/set_nickname", post(set_nickname)),
        ("/user/set_portrait_uri", post(set_portrait_uri)),
        ("/user/set_gender", post(set_gender)),
        ("/user/set_st_account", post(set_st_account)),
        ("/user/set_privacy", post(set_privacy)),
        ("/user/get_privacy", axum::routing::get(get_privacy).post(get_privacy)),
        ("/user/set_poke", post(set_poke)),
        ("/user/get_poke", axum::routing::get(get_poke).post(get_poke)),
    ]
}

async fn set_nickname(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let nickname = Nickname::parse(&input.string("nickname")?)?;
    settings::set_nickname(&state, &cred, &nickname).await?;
    ok()
}

async fn set_portrait_uri(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let portrait = PortraitUri::parse(&input.string("portraitUri")?)?;
    settings::set_portrait_uri(&state, &cred, &portrait).await?;
    ok()
}

async fn set_gender(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let gender = Gender::parse(&input.string("gender")?)?;
    settings::set_gender(&state, &cred, gender).await?;
    ok()
}

async fn set_st_account(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let account = StAccount::parse(&input.string("stAccount")?)?;
    settings::set_st_account(&state, &cred, &account).await?;
    ok()
}

async fn set_privacy(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let change = PrivacyChange {
        phone_verify: input.opt_flag("phoneVerify")?,
        st_search_verify: input.opt_flag("stSearchVerify")?,
        fri_verify: input.opt_flag("friVerify")?,
        group_verify: input.opt_flag("groupVerify")?,
    };
    settings::set_privacy(&state, &cred, &change).await?;
    ok()
}

async fn get_privacy(State(state): State<AppState>, cred: Credential) -> ApiResult {
    let p = settings::own(&state, &cred).await?.privacy;
    ok_with(json!({
        "phoneVerify": i64::from(p.phone_verify),
        "stSearchVerify": i64::from(p.st_search_verify),
        "friVerify": i64::from(p.fri_verify),
        "groupVerify": i64::from(p.group_verify),
    }))
}

async fn set_poke(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let on = input
        .opt_flag("pokeStatus")?
        .ok_or_else(|| crate::domain::ValidationError::new("pokeStatus", "is required"))?;
    settings::set_poke(&state, &cred, on).await?;
    ok()
}

async fn get_poke(State(state): State<AppState>, cred: Credential) -> ApiResult {
    let profile = settings::own(&state, &cred).await?;
    ok_with(json!({ "pokeStatus": i64::from(profile.poke) }))
}
