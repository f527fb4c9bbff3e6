//! HTTP routes of the `codes` group (SealTalk-compatible).

use axum::extract::State;
use axum::routing::{get, post};

use super::service;
use crate::captcha;
use crate::domain::{regions, CodePurpose, EmailAddress, Recipient};
use crate::http::{ok, ok_with, ApiResult, ClientIp, Input, Routes, StaticJson};
use crate::state::AppState;
use crate::verification::{self, PresentedCode};

pub fn routes() -> Routes {
    vec![
        ("/user/regionlist", get(regionlist).post(regionlist)),
        ("/user/check_phone_available", post(check_phone_available)),
        ("/user/send_code", post(send_code)),
        ("/user/send_code_yp", post(send_code)),
        ("/user/verify_code", post(verify_code)),
        ("/user/verify_code_yp", post(verify_code)),
        ("/user/send_email_code", post(send_email_code)),
        ("/user/verify_email_code", post(verify_email_code)),
        ("/user/get_sms_img_code", get(get_sms_img_code).post(get_sms_img_code)),
    ]
}

async fn regionlist(headers: axum::http::HeaderMap) -> ApiResult {
    // The table changes only with a release: serialized once per process, revalidated
    // by its entity tag.
    static BODY: std::sync::OnceLock<StaticJson> = std::sync::OnceLock::new();
    Ok(BODY
        .get_or_init(|| StaticJson::new(regions::all()))
        .answer(&headers, 86_400))
}

async fn check_phone_available(State(state): State<AppState>, input: Input) -> ApiResult {
    let phone = input.phone()?;
    ok_with(service::phone_available(&state, &phone).await?)
}

async fn send_code(State(state): State<AppState>, ClientIp(ip): ClientIp, input: Input) -> ApiResult {
    let to = Recipient::Phone(input.phone()?);
    send_to(&state, ip, &input, &to).await
}

async fn send_email_code(State(state): State<AppState>, ClientIp(ip): ClientIp, input: Input) -> ApiResult {
    let to = Recipient::Email(EmailAddress::parse("email", &input.string("email")?)?);
    send_to(&state, ip, &input, &to).await
}

async fn send_to(state: &AppState, ip: std::net::IpAddr, input: &Input, to: &Recipient) -> ApiResult {
    let purpose = CodePurpose::parse(input.opt_string("purpose")?.as_deref())?;
    let captcha_solved = match (input.opt_string("verifyId")?, input.opt_string("captchaToken")?) {
        (Some(id), _) => {
            let answer = input.string("verifyCode")?;
            captcha::solve(state, &id, &answer).await?;
            true
        }
        (None, Some(token)) => {
            captcha::verify_hosted(state, &token, ip).await?;
            true
        }
        (None, None) => false,
    };
    service::send_code(state, to, purpose, ip, captcha_solved).await?;
    ok()
}

async fn verify_code(State(state): State<AppState>, input: Input) -> ApiResult {
    let to = Recipient::Phone(input.phone()?);
    verify_for(&state, &input, &to).await
}

async fn verify_email_code(State(state): State<AppState>, input: Input) -> ApiResult {
    let to = Recipient::Email(EmailAddress::parse("email", &input.string("email")?)?);
    verify_for(&state, &input, &to).await
}

async fn verify_for(state: &AppState, input: &Input, to: &Recipient) -> ApiResult {
    let purpose = CodePurpose::parse(input.opt_string("purpose")?.as_deref())?;
    let code = PresentedCode::parse(&input.string("code")?)?;
    let token = verification::verify_code(state, to, purpose, &code).await?;
    ok_with(serde_json::json!({ "verification_token": token }))
}

async fn get_sms_img_code(State(state): State<AppState>) -> ApiResult {
    ok_with(captcha::issue(&state).await?)
}
