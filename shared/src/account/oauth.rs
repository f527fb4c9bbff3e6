//! `POST /oauth/token` (RFC 6749): the password and refresh_token grants, form-encoded.
//! The one place that knows RFC 6749 section 5.2's error shapes: domain errors become
//! `invalid_grant` and friends here, and nowhere else.

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::tokens::{self, TokenPair};
use crate::domain::{EmailAddress, LoginId, Password, PhoneNumber, Username};
use crate::error::Error;
use crate::http::error::json_response;
use crate::http::{ClientIp, Input};
use crate::state::AppState;

/// An RFC 6749 error response.
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    retry_after: Option<i64>,
}

impl OAuthError {
    fn new(error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status: StatusCode::BAD_REQUEST,
            error,
            description: description.into(),
            retry_after: None,
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut res = json_response(
            self.status,
            json!({ "error": self.error, "error_description": self.description }),
        );
        res.headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(secs) = self.retry_after {
            res.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        res
    }
}

/// A domain error as an OAuth client expects it; failures that are not the client's
/// (a 500) keep the service's own shape.
fn answer(e: Error) -> Response {
    match e {
        Error::WrongPassword => OAuthError::new("invalid_grant", "wrong username or password").into_response(),
        Error::LoginBackoff { retry_after_secs } => OAuthError {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some(retry_after_secs),
            ..OAuthError::new(
                "invalid_grant",
                format!("too many failed logins; retry in {retry_after_secs} s"),
            )
        }
        .into_response(),
        Error::RefreshTokenRejected(_) | Error::RefreshTokenReused => {
            OAuthError::new("invalid_grant", e.to_string()).into_response()
        }
        Error::Invalid(v) => OAuthError::new("invalid_request", v.to_string()).into_response(),
        other => other.into_response(),
    }
}

fn required(input: &Input, name: &'static str) -> Result<String, OAuthError> {
    input
        .opt_string(name)
        .ok()
        .flatten()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| OAuthError::new("invalid_request", format!("{name} is required")))
}

pub async fn token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    input: Input,
) -> Response {
    match grant(&state, &headers, &input, &ip).await {
        Ok(Ok(pair)) => issued(pair),
        Ok(Err(e)) => answer(e),
        Err(e) => e.into_response(),
    }
}

/// The outer error is the request's shape; the inner one the grant's outcome.
async fn grant(
    state: &AppState,
    headers: &HeaderMap,
    input: &Input,
    ip: &std::net::IpAddr,
) -> Result<Result<TokenPair, Error>, OAuthError> {
    let form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if !form {
        return Err(OAuthError::new(
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    if let Some(field) = input.repeated() {
        return Err(OAuthError::new(
            "invalid_request",
            format!("{field} is given more than once"),
        ));
    }
    Ok(match required(input, "grant_type")?.as_str() {
        "password" => {
            // An E.164 phone, an email address or a username.
            let raw = required(input, "username")?;
            let id = if raw.trim_start().starts_with('+') {
                PhoneNumber::parse_e164("username", &raw).map(LoginId::Phone)
            } else if raw.contains('@') {
                EmailAddress::parse("username", &raw).map(LoginId::Email)
            } else {
                Username::parse(&raw).map(LoginId::Username)
            }
            .map_err(|e| OAuthError::new("invalid_request", format!("username {}", e.message)))?;
            let password = Password::parse("password", &required(input, "password")?)
                .map_err(|_| OAuthError::new("invalid_grant", "wrong username or password"))?;
            tokens::oauth_password(state, &id, &password, ip).await
        }
        "refresh_token" => tokens::oauth_refresh(state, &required(input, "refresh_token")?).await,
        other => {
            return Err(OAuthError::new(
                "unsupported_grant_type",
                format!("grant_type {other} is not supported"),
            ))
        }
    })
}

fn issued(pair: TokenPair) -> Response {
    let mut res = json_response(
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
    res
}
