//! `POST /oauth/token` (RFC 6749): the password and refresh_token grants, form-encoded,
//! with RFC 6749 section 5.2 errors.

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::json;

use super::service::{self, TokenPair};
use crate::app::AppState;
use crate::domain::{Device, Password, PhoneNumber};
use crate::http::{ApiResult, AppError, Input};

fn invalid_request(description: impl Into<String>) -> AppError {
    AppError::OAuth {
        status: 400,
        error: "invalid_request",
        description: description.into(),
        retry_after: None,
    }
}

fn required(input: &Input, name: &'static str) -> Result<String, AppError> {
    input
        .opt_string(name)
        .ok()
        .flatten()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| invalid_request(format!("{name} is required")))
}

pub async fn token(State(state): State<AppState>, headers: HeaderMap, input: Input) -> ApiResult {
    let form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if !form {
        return Err(invalid_request("the body must be application/x-www-form-urlencoded"));
    }
    let pair: TokenPair = match required(&input, "grant_type")?.as_str() {
        "password" => {
            let phone = PhoneNumber::parse_e164("username", &required(&input, "username")?)
                .map_err(|e| invalid_request(format!("username {}", e.message)))?;
            let password = Password::parse("password", &required(&input, "password")?)
                .map_err(|_| service::invalid_grant("wrong username or password"))?;
            service::oauth_password(&state, &phone, &password, &Device::default()).await?
        }
        "refresh_token" => service::oauth_refresh(&state, &required(&input, "refresh_token")?).await?,
        other => {
            return Err(AppError::OAuth {
                status: 400,
                error: "unsupported_grant_type",
                description: format!("grant_type {other} is not supported"),
                retry_after: None,
            })
        }
    };
    let mut res = crate::http::error::json_response(
        StatusCode::OK,
        json!({
            "access_token": pair.access_token,
            "token_type": "Bearer",
            "expires_in": pair.expires_in,
            "refresh_token": pair.refresh_token,
        }),
    );
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.headers_mut().insert(PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(res)
}
