//! HTTP routes of the `profile` group (SealTalk-compatible): setters, privacy and poke,
//! and reading other users (every read is GET or POST, as the reference server serves).

use axum::extract::{Multipart, Path, RawQuery, State};
use axum::routing::post;
use base64::Engine;
use serde_json::json;

use super::avatars;
use super::lookups::{self, Lookup};
use super::settings;
use crate::auth::Credential;
use crate::domain::{
    Birthday, Gender, ImageType, Nickname, PhoneNumber, PortraitUri, PrivacyChange, StAccount, UserId, Username,
    ValidationError,
};
use crate::http::{ok, ok_with, ApiResult, ClientIp, Input, Routes};
use crate::privacy::Viewer;
use crate::state::AppState;

pub fn routes() -> Routes {
    vec![
        ("/user/set_nickname", post(set_nickname)),
        ("/user/set_portrait_uri", post(set_portrait_uri)),
        ("/user/set_gender", post(set_gender)),
        ("/user/set_st_account", post(set_st_account)),
        ("/user/set_username", post(set_username)),
        ("/user/set_birthday", post(set_birthday)),
        ("/user/set_privacy", post(set_privacy)),
        ("/user/get_privacy", axum::routing::get(get_privacy).post(get_privacy)),
        ("/user/set_poke", post(set_poke)),
        ("/user/get_poke", axum::routing::get(get_poke).post(get_poke)),
        ("/user/own_info", axum::routing::get(own_info).post(own_info)),
        (
            "/user/get_image_token",
            axum::routing::get(get_image_token).post(get_image_token),
        ),
        ("/user/upload_avatar", post(upload_avatar)),
        ("/user/batch", axum::routing::get(batch).post(batch)),
        (
            "/user/find/{region}/{phone}",
            axum::routing::get(find_by_phone).post(find_by_phone),
        ),
        ("/user/find_user", axum::routing::get(find_user).post(find_user)),
        ("/user/search", axum::routing::get(search).post(search)),
        ("/user/{id}", axum::routing::get(user).post(user)),
    ]
}

async fn get_image_token(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let image = match input.opt_string("contentType")? {
        Some(ct) => ImageType::parse("contentType", &ct)?,
        None => ImageType::Jpeg,
    };
    let length = match input.opt_string("contentLength")? {
        None => None,
        Some(raw) => {
            let max = state.config.limits.avatar_max_bytes;
            let n: u64 = raw
                .trim()
                .parse()
                .ok()
                .filter(|&n| n >= 1 && n <= max as u64)
                .ok_or_else(|| {
                    ValidationError::new("contentLength", format!("must be a byte count from 1 to {max}"))
                })?;
            Some(n)
        }
    };
    ok_with(avatars::image_token(&state, &cred, image, length).await?)
}

/// A multipart form with an `avatar` file and an optional `nickname`.
async fn upload_avatar(
    State(state): State<AppState>,
    cred: Credential,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult {
    let mut form = form.map_err(|_| ValidationError::new("avatar", "must be sent as multipart/form-data"))?;
    let malformed = |_| ValidationError::new("avatar", "the multipart form could not be read");
    let mut avatar: Option<Vec<u8>> = None;
    let mut nickname: Option<Nickname> = None;
    while let Some(field) = form.next_field().await.map_err(malformed)? {
        match field.name() {
            Some("avatar") => avatar = Some(field.bytes().await.map_err(malformed)?.to_vec()),
            Some("nickname") => {
                let text = field
                    .text()
                    .await
                    .map_err(|_| ValidationError::new("nickname", "must be text"))?;
                nickname = Some(Nickname::parse(&text)?);
            }
            _ => {}
        }
    }
    let avatar = avatar.ok_or_else(|| ValidationError::new("avatar", "is required (a file field named avatar)"))?;
    ok_with(avatars::upload(&state, &cred, avatar, nickname.as_ref()).await?)
}

/// The caller's own profile with their relation counts, follows by group and first fans.
async fn own_info(State(state): State<AppState>, cred: Credential) -> ApiResult {
    let keys = [
        crate::store::profile::key(&cred.user),
        crate::store::feeds::user_head(&cred.user),
    ];
    let (read, lists) = tokio::join!(cred.read(&state, keys), crate::homepage::lists(&state, &cred.user));
    let [profile, head] = read?;
    let p = crate::store::profile::Profile::from_item(&profile.ok_or(crate::error::Error::Unauthorized)?)?;
    let counts = crate::homepage::counts(head.as_ref());
    let lists = lists?;
    ok_with(json!({
        "id": cred.user,
        "nickname": p.nickname,
        "region": p.phone.as_ref().map(|ph| ph.region().to_string()).unwrap_or_default(),
        "phone": p.phone.as_ref().map(|ph| ph.national().to_string()).unwrap_or_default(),
        "email": p.email.as_ref().map(|e| e.as_str().to_string()).unwrap_or_default(),
        "gender": p.gender,
        "portraitUri": p.portrait_uri,
        "stAccount": p.st_account,
        "username": p.username,
        "birthday": p.birthday,
        "level": p.level,
        "createdAt": crate::privacy::iso_millis(p.created_at),
        "friendCount": counts.friend_count,
        "followCount": counts.follow_count,
        "fanCount": counts.fan_count,
        "follows": lists.follows,
        "fanIds": lists.fan_ids,
    }))
}

/// At most this many ids in one batch.
const MAX_BATCH_IDS: usize = 100;

async fn user(State(state): State<AppState>, cred: Credential, Path(id): Path<String>) -> ApiResult {
    let id = UserId::parse("id", &id)?;
    ok_with(lookups::user(&state, &cred, &id).await?)
}

/// `?id=a&id=b` (SealTalk's reference server), or `id` as a list or a comma-separated
/// string in the body; a repeated id counts once.
fn batch_ids(query: Option<&str>, input: &Input) -> Result<Vec<UserId>, ValidationError> {
    let mut raw: Vec<String> = vec![];
    if let Some(q) = query {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(q).map_err(|_| ValidationError::new("id", "is not a valid query string"))?;
        raw.extend(pairs.into_iter().filter(|(k, _)| k == "id").map(|(_, v)| v));
    }
    match input.get("id") {
        Some(serde_json::Value::Array(list)) => {
            for v in list {
                raw.push(
                    v.as_str()
                        .ok_or_else(|| ValidationError::new("id", "must be user ids"))?
                        .to_string(),
                );
            }
        }
        Some(serde_json::Value::String(s)) if query.is_none() => raw.push(s.clone()),
        _ => {}
    }
    let mut ids: Vec<UserId> = vec![];
    for r in raw
        .iter()
        .flat_map(|r| r.split(','))
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        let id = UserId::parse("id", r)?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Err(ValidationError::new("id", "is required (one or more user ids)"));
    }
    if ids.len() > MAX_BATCH_IDS {
        return Err(ValidationError::new(
            "id",
            format!("must name at most {MAX_BATCH_IDS} users"),
        ));
    }
    Ok(ids)
}

async fn batch(State(state): State<AppState>, cred: Credential, RawQuery(query): RawQuery, input: Input) -> ApiResult {
    let ids = batch_ids(query.as_deref(), &input)?;
    ok_with(lookups::batch(&state, &cred, &ids).await?)
}

async fn find_by_phone(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    cred: Credential,
    Path((region, phone)): Path<(String, String)>,
) -> ApiResult {
    let phone = PhoneNumber::parse(&region, &phone)?;
    let (id, profile) = lookups::find(&state, &cred, ip, &Lookup::Phone(phone)).await?;
    ok_with(Viewer(&cred.user).card(&id, &profile))
}

async fn find_user(State(state): State<AppState>, ClientIp(ip): ClientIp, cred: Credential, input: Input) -> ApiResult {
    let lookup = match input.opt_string("st_account")?.filter(|s| !s.is_empty()) {
        Some(account) => {
            Lookup::StAccount(StAccount::parse(&account).map_err(|e| ValidationError::new("st_account", e.message))?)
        }
        None if input.opt_string("phone")?.is_some() || input.opt_string("region")?.is_some() => {
            Lookup::Phone(input.phone()?)
        }
        None => return Err(ValidationError::new("st_account", "give st_account, or region and phone").into()),
    };
    let (id, p) = lookups::find(&state, &cred, ip, &lookup).await?;
    ok_with(json!({
        "id": id,
        "nickname": p.nickname,
        "gender": p.gender,
        "portraitUri": p.portrait_uri,
        "stAccount": p.st_account,
    }))
}

/// At most this many users in one page of a name search.
const MAX_SEARCH_PAGE: usize = 50;

/// `GET /user/search?keyword=&by=nickname|username&limit=&cursor=`: users by name prefix.
async fn search(State(state): State<AppState>, ClientIp(ip): ClientIp, cred: Credential, input: Input) -> ApiResult {
    let keyword = crate::store::names::fold(&input.string("keyword")?);
    if keyword.is_empty() || keyword.chars().count() > 32 {
        return Err(ValidationError::new("keyword", "must be 1 to 32 characters: the start of a name").into());
    }
    let kind = match input.opt_string("by")?.as_deref() {
        None | Some("" | "nickname") => crate::store::names::NameKind::Nickname,
        Some("username") => crate::store::names::NameKind::Username,
        Some(_) => return Err(ValidationError::new("by", "must be nickname or username").into()),
    };
    let limit = match input.opt_string("limit")? {
        None => 20,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=MAX_SEARCH_PAGE).contains(l))
            .ok_or_else(|| ValidationError::new("limit", "must be a number from 1 to 50"))?,
    };
    // The cursor is the last entry of the previous page: it must belong to this search.
    let after = match input.opt_string("cursor")?.filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(c.as_bytes())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .filter(|c| c.starts_with(&keyword))
                .ok_or_else(|| ValidationError::new("cursor", "is not a nextCursor of this search"))?,
        ),
    };
    let mut page = lookups::search(&state, &cred, ip, kind, &keyword, after.as_deref(), limit).await?;
    page.next_cursor = page
        .next_cursor
        .map(|c| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(c.as_bytes()));
    ok_with(page)
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

async fn set_username(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let name = Username::parse(&input.string("username")?)?;
    settings::set_username(&state, &cred, &name).await?;
    ok()
}

async fn set_birthday(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let birthday = Birthday::parse(&input.string("birthday")?, settings::today(&state))?;
    settings::set_birthday(&state, &cred, birthday).await?;
    ok()
}

async fn set_privacy(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let change = PrivacyChange {
        phone_verify: input.opt_flag("phoneVerify")?,
        st_search_verify: input.opt_flag("stSearchVerify")?,
        fri_verify: input.opt_flag("friVerify")?,
        group_verify: input.opt_flag("groupVerify")?,
        display_follows: input.opt_flag("displayFollows")?,
        display_phone: input.opt_flag("displayPhone")?,
        display_birthday: input.opt_flag("displayBirthday")?,
        display_email: input.opt_flag("displayEmail")?,
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
        "displayFollows": i64::from(p.display_follows),
        "displayPhone": i64::from(p.display_phone),
        "displayBirthday": i64::from(p.display_birthday),
        "displayEmail": i64::from(p.display_email),
    }))
}

async fn set_poke(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let on = input
        .opt_flag("pokeStatus")?
        .ok_or_else(|| ValidationError::new("pokeStatus", "is required"))?;
    settings::set_poke(&state, &cred, on).await?;
    ok()
}

async fn get_poke(State(state): State<AppState>, cred: Credential) -> ApiResult {
    let profile = settings::own(&state, &cred).await?;
    ok_with(json!({ "pokeStatus": i64::from(profile.poke) }))
}
