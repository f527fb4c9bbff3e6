//! HTTP routes of the `account` group: SealTalk's `/user/register`, `/user/login`,
//! `/user/logout`, `/user/reset_password`, `/user/change_password`, `/user/get_token`,
//! and the extensions (SMS login, sessions, account deletion, OAuth, JWKS).

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::HeaderValue;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::json;

use super::sessions::Scope;
use super::{contact, deletion, directory, login, oauth, password, sessions as own_sessions, signup, tokens};
use crate::auth::sessions::{all_sessions, clear_cookie, set_cookie, SessionKind, SessionView};
use crate::auth::Credential;
use crate::domain::{Device, EmailAddress, LoginId, Nickname, Password, Recipient, UserId, Username, ValidationError};
use crate::http::{ok, ok_with, ApiResult, ClientIp, Input, Routes};
use crate::state::AppState;
use crate::verification::{PresentedCode, VerificationToken};

pub fn routes() -> Routes {
    vec![
        ("/user/register", post(register)),
        ("/user/login", post(login)),
        ("/user/login_sms", post(login_sms)),
        ("/user/login_email", post(login_email)),
        ("/user/verify_account", post(verify_account)),
        ("/user/logout", post(logout)),
        ("/user/reset_password", post(reset_password)),
        ("/user/change_password", post(change_password)),
        ("/user/get_token", get(get_token).post(get_token)),
        ("/user/sessions", get(sessions)),
        ("/user/sessions/revoke", post(revoke_sessions)),
        ("/user/change_phone", post(change_phone)),
        ("/user/change_email", post(change_email)),
        ("/user/delete_account", post(delete_account)),
        ("/oauth/token", post(oauth::token)),
        ("/.well-known/jwks.json", get(jwks)),
    ]
}

fn with_cookie(mut res: Response, cookie: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        res.headers_mut().append(SET_COOKIE, v);
    }
    res
}

fn device(input: &Input) -> Result<Device, ValidationError> {
    Device::parse(
        input.opt_string("deviceType")?.as_deref(),
        input.opt_string("deviceId")?.as_deref(),
    )
}

async fn register(State(state): State<AppState>, input: Input) -> ApiResult {
    let nickname = Nickname::parse(&input.string("nickname")?)?;
    let password = Password::parse("password", &input.string("password")?)?;
    let username = match input.opt_string("username")?.filter(|u| !u.is_empty()) {
        Some(u) => Some(Username::parse(&u)?),
        None => None,
    };
    let token = match input.opt_string("verification_token")?.filter(|t| !t.is_empty()) {
        Some(t) => Some(VerificationToken::parse(&t)?),
        None => None,
    };
    let device = device(&input)?;
    let proof = match &token {
        Some(t) => signup::Proof::Token(t),
        // By username alone: a solved captcha, so sign-ups cannot be scripted for free.
        None => {
            if username.is_none() {
                return Err(ValidationError::new(
                    "verification_token",
                    "is required (or a username and a solved captcha)",
                )
                .into());
            }
            let id = input.opt_string("verifyId")?.ok_or_else(|| {
                ValidationError::new(
                    "verifyId",
                    "is required to sign up by username: solve /user/get_sms_img_code",
                )
            })?;
            crate::captcha::solve(&state, &id, &input.string("verifyCode")?).await?;
            signup::Proof::Captcha
        }
    };
    let (user, session) = signup::register(&state, &nickname, &password, proof, username.as_ref(), &device).await?;
    // Signed in at once, with the same cookie as a login (SealTalk's server does this).
    let res = ok_with(json!({ "id": user }))?;
    Ok(with_cookie(
        res,
        &set_cookie(&session.bearer_secret, state.config.limits.session_ttl_secs),
    ))
}

/// Exactly one of `region`+`phone`, `email` or `username`.
fn login_id(input: &Input) -> Result<LoginId, ValidationError> {
    let phone = input.opt_string("phone")?.is_some() || input.opt_string("region")?.is_some();
    let email = input.opt_string("email")?.filter(|e| !e.is_empty());
    let username = input.opt_string("username")?.filter(|u| !u.is_empty());
    match (phone, email, username) {
        (true, None, None) => Ok(LoginId::Phone(input.phone()?)),
        (false, Some(e), None) => Ok(LoginId::Email(EmailAddress::parse("email", &e)?)),
        (false, None, Some(u)) => Ok(LoginId::Username(Username::parse(&u).map_err(|e| {
            // A reserved name is simply an unknown account to a login.
            ValidationError::new("username", e.message)
        })?)),
        (false, None, None) => Err(ValidationError::new(
            "phone",
            "give region and phone, email, or username",
        )),
        _ => Err(ValidationError::new(
            "username",
            "give only one of region and phone, email, or username",
        )),
    }
}

async fn verify_account(State(state): State<AppState>, ClientIp(ip): ClientIp, input: Input) -> ApiResult {
    let id = login_id(&input)?;
    let captcha_solved = match input.opt_string("verifyId")? {
        Some(verify_id) => {
            crate::captcha::solve(&state, &verify_id, &input.string("verifyCode")?).await?;
            true
        }
        None => false,
    };
    let registered = directory::registered(&state, &id, ip, captcha_solved).await?;
    ok_with(json!({ "registered": registered }))
}

async fn login(State(state): State<AppState>, ClientIp(ip): ClientIp, input: Input) -> ApiResult {
    let id = login_id(&input)?;
    let password = Password::parse("password", &input.string("password")?)?;
    let device = device(&input)?;
    let (user, session) = login::login_password(&state, &id, &password, &device, SessionKind::Cookie, &ip).await?;
    let token = tokens::im_token(&state, &user, None, vec![])?;
    let res = ok_with(json!({ "id": user, "token": token }))?;
    Ok(with_cookie(
        res,
        &set_cookie(&session.bearer_secret, state.config.limits.session_ttl_secs),
    ))
}

async fn login_sms(State(state): State<AppState>, input: Input) -> ApiResult {
    let to = Recipient::Phone(input.phone()?);
    login_code(&state, &input, &to).await
}

async fn login_email(State(state): State<AppState>, input: Input) -> ApiResult {
    let to = Recipient::Email(EmailAddress::parse("email", &input.string("email")?)?);
    login_code(&state, &input, &to).await
}

async fn login_code(state: &AppState, input: &Input, to: &Recipient) -> ApiResult {
    let code = PresentedCode::parse(&input.string("code")?)?;
    let device = device(input)?;
    let login = login::login_code(state, to, &code, &device).await?;
    let token = tokens::im_token(state, &login.user, None, vec![])?;
    let res = ok_with(json!({ "id": login.user, "token": token, "isFirstLogin": login.first_login }))?;
    Ok(with_cookie(
        res,
        &set_cookie(&login.session.bearer_secret, state.config.limits.session_ttl_secs),
    ))
}

/// Revokes the scope and, when the caller's own session ends, clears its cookie.
async fn revoke_and_answer(state: &AppState, cred: &Credential, scope: &Scope) -> ApiResult {
    own_sessions::revoke(state, cred, scope).await?;
    let res = ok()?;
    Ok(if scope.ends_current(cred) {
        with_cookie(res, &clear_cookie())
    } else {
        res
    })
}

fn scope(input: &Input) -> Result<Scope, ValidationError> {
    Scope::parse(input.opt_string("scope")?.as_deref(), input.opt_string("sessionId")?)
}

async fn logout(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    revoke_and_answer(&state, &cred, &scope(&input)?).await
}

async fn revoke_sessions(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    // Unlike logout, revoking needs an explicit target.
    // An empty `sessionId` names nothing: it must not fall through to "current".
    let named = input.opt_string("sessionId")?.is_some_and(|s| !s.trim().is_empty());
    if input.opt_string("scope")?.is_none() && !named {
        return Err(ValidationError::new("sessionId", "name a session, or a scope of current, others or all").into());
    }
    revoke_and_answer(&state, &cred, &scope(&input)?).await
}

async fn sessions(State(state): State<AppState>, cred: Credential) -> ApiResult {
    // The listing doubles as the session check: one query, no separate read.
    let sessions = all_sessions(&state, &cred.user).await?;
    let current = cred.session_key();
    if !cred.accepts(sessions.iter().find(|s| s.key == current)) {
        return Err(cred.rejected());
    }
    let views: Vec<SessionView> = sessions.iter().map(|s| SessionView::new(s, &cred.session)).collect();
    ok_with(views)
}

async fn reset_password(State(state): State<AppState>, input: Input) -> ApiResult {
    let password = Password::parse("password", &input.string("password")?)?;
    let token = VerificationToken::parse(&input.string("verification_token")?)?;
    password::reset_password(&state, &password, &token).await?;
    ok()
}

async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    cred: Credential,
    input: Input,
) -> ApiResult {
    let old = Password::parse("oldPassword", &input.string("oldPassword")?)?;
    let new = Password::parse("newPassword", &input.string("newPassword")?)?;
    password::change_password(&state, &cred, &old, &new, &ip).await?;
    ok()
}

/// `members`: at most 500 user ids.
fn members(input: &Input) -> Result<Vec<UserId>, ValidationError> {
    let list = input.opt_user_ids("members")?.unwrap_or_default();
    if list.len() > 500 {
        return Err(ValidationError::new("members", "must hold at most 500 ids"));
    }
    Ok(list)
}

async fn get_token(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let act = input.opt_string("act")?.filter(|a| !a.is_empty());
    if act.as_ref().is_some_and(|a| a.len() > 64) {
        return Err(ValidationError::new("act", "must be at most 64 characters").into());
    }
    let members = members(&input)?;
    // One read: the session, and whether any member blocked the caller.
    let me = cred.user.clone();
    let blocks: Vec<_> = members
        .iter()
        .map(|m| crate::store::relations::block_key(m, &me))
        .collect();
    let (first, rest) = blocks.split_at(blocks.len().min(199));
    let mut found = cred.read_many(&state, first).await?;
    for chunk in rest.chunks(crate::ports::store::MAX_BATCH_KEYS) {
        found.extend(state.store.batch_get(chunk).await?);
    }
    if found.iter().any(Option::is_some) {
        return Err(ValidationError::new("members", "holds a user who does not accept you").into());
    }
    let members = members.iter().map(|m| m.as_str().to_string()).collect();
    let token = tokens::im_token(&state, &cred.user, act, members)?;
    ok_with(json!({ "userId": cred.user, "token": token }))
}

fn original_code(input: &Input) -> Result<Option<PresentedCode>, ValidationError> {
    match input.opt_string("originalCode")?.filter(|c| !c.is_empty()) {
        Some(c) => Ok(Some(PresentedCode::parse_as("originalCode", &c)?)),
        None => Ok(None),
    }
}

async fn change_phone(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let phone = input.phone()?;
    let code = PresentedCode::parse(&input.string("code")?)?;
    let original = original_code(&input)?;
    let codes = contact::Codes {
        new: &code,
        original: original.as_ref(),
    };
    contact::change_phone(&state, &cred, &phone, codes).await?;
    ok()
}

async fn change_email(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let email = EmailAddress::parse("email", &input.string("email")?)?;
    let code = PresentedCode::parse(&input.string("code")?)?;
    let original = original_code(&input)?;
    let codes = contact::Codes {
        new: &code,
        original: original.as_ref(),
    };
    contact::change_email(&state, &cred, &email, codes).await?;
    ok()
}

async fn delete_account(State(state): State<AppState>, cred: Credential, input: Input) -> ApiResult {
    let code = PresentedCode::parse(&input.string("code")?)?;
    deletion::delete_account(&state, &cred, &code).await?;
    Ok(with_cookie(ok()?, &clear_cookie()))
}

async fn jwks(State(state): State<AppState>, headers: axum::http::HeaderMap) -> ApiResult {
    // A bare RFC 7517 key set: JWT libraries fetch this URL as is.
    // Short enough that a rotated-in key is seen well before the previous one retires.
    Ok(state.tokens.jwks_answer().answer(&headers, 300))
}
