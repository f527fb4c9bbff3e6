//! The one place where the domain's errors become HTTP: statuses, business codes and
//! the response envelope.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{json, Value};

pub use crate::error::Error;
use crate::ports::StoreError;

pub type ApiResult = Result<Response, Error>;

/// SealTalk's business codes (HTTP 200 with `code` != 200), plus this service's own.
pub mod codes {
    pub const OK: u16 = 200;
    pub const WRONG_CODE: u16 = 1000;
    pub const CODE_EXPIRED: u16 = 2000;
    pub const REGION_NOT_SERVED: u16 = 3000;
    pub const PHONE_TAKEN: u16 = 3001;
    pub const THROTTLED: u16 = 5000;
    pub const CAPTCHA_REQUIRED: u16 = 5001;
    pub const CAPTCHA_WRONG: u16 = 5002;
    pub const RELATION_LIMIT: u16 = 3100;
    pub const FOLLOW_REFUSED: u16 = 3101;
    pub const BUILT_IN_FOLLOW_GROUP: u16 = 3102;
    pub const USERNAME_TAKEN: u16 = 3002;
    pub const EMAIL_TAKEN: u16 = 3003;
    pub const PHONE_CHANGE_LIMIT: u16 = 3004;
    pub const GROUP_LIMIT: u16 = 3300;
    pub const GROUP_REFUSED: u16 = 3301;
    pub const LEVEL_TOO_LOW: u16 = 3200;
}

/// `{"code":200}`
pub fn ok() -> ApiResult {
    Ok(json_response(StatusCode::OK, json!({ "code": codes::OK })))
}

/// `{"code":200,"result":…}`
pub fn ok_with(result: impl Serialize) -> ApiResult {
    let result = serde_json::to_value(result).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(json_response(
        StatusCode::OK,
        json!({ "code": codes::OK, "result": result }),
    ))
}

pub fn json_response(status: StatusCode, body: Value) -> Response {
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    res
}

fn business(code: u16, message: String) -> Response {
    json_response(StatusCode::OK, json!({ "code": code, "message": message }))
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let message = self.to_string();
        match self {
            Error::Invalid(e) => json_response(
                StatusCode::BAD_REQUEST,
                json!({ "code": 400, "message": message, "field": e.field }),
            ),
            Error::WrongCode | Error::WrongPassword => business(codes::WRONG_CODE, message),
            // SealTalk answers a taken SealTalk id with its code 1000.
            Error::StAccountTaken => business(codes::WRONG_CODE, message),
            Error::UsernameTaken => business(codes::USERNAME_TAKEN, message),
            Error::EmailTaken => business(codes::EMAIL_TAKEN, message),
            Error::LevelTooLow => business(codes::LEVEL_TOO_LOW, message),
            Error::PhoneChangeLimit(_) => business(codes::PHONE_CHANGE_LIMIT, message),
            Error::RelationLimit(_) => business(codes::RELATION_LIMIT, message),
            Error::FollowRefused => business(codes::FOLLOW_REFUSED, message),
            Error::BuiltInFollowGroup => business(codes::BUILT_IN_FOLLOW_GROUP, message),
            // SealTalk: 404 for an invalid request or unknown friend, 403 for "not your friend".
            Error::NoSuchRelation(_) => {
                json_response(StatusCode::NOT_FOUND, json!({ "code": 404, "message": message }))
            }
            Error::NotFriends(_) | Error::GroupForbidden(_) => {
                json_response(StatusCode::FORBIDDEN, json!({ "code": 403, "message": message }))
            }
            Error::GroupLimit(_) => business(codes::GROUP_LIMIT, message),
            Error::GroupRefused => business(codes::GROUP_REFUSED, message),
            Error::CodeExpired => business(codes::CODE_EXPIRED, message),
            Error::RegionNotServed(_) => business(codes::REGION_NOT_SERVED, message),
            Error::Throttled(_) => business(codes::THROTTLED, message),
            Error::CaptchaRequired => business(codes::CAPTCHA_REQUIRED, message),
            Error::CaptchaWrong => business(codes::CAPTCHA_WRONG, message),
            Error::PhoneTaken => business(codes::PHONE_TAKEN, message),
            Error::LoginBackoff { retry_after_secs } => {
                let mut res = json_response(
                    StatusCode::TOO_MANY_REQUESTS,
                    json!({ "code": codes::THROTTLED, "message": message }),
                );
                res.headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after_secs.max(1)));
                res
            }
            Error::Unauthorized | Error::RefreshTokenRejected(_) | Error::RefreshTokenReused => {
                json_response(StatusCode::FORBIDDEN, json!({ "code": 403, "message": message }))
            }
            Error::InvalidBearerToken => {
                let mut res = json_response(StatusCode::UNAUTHORIZED, json!({ "code": 401, "message": message }));
                res.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
                res
            }
            Error::VerificationTokenGone | Error::NoSuchAccount | Error::NoSuchSession | Error::NotFound(_) => {
                json_response(StatusCode::NOT_FOUND, json!({ "code": 404, "message": message }))
            }
            Error::Contended | Error::Overloaded => {
                let mut res = json_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    json!({ "code": 503, "message": message }),
                );
                res.headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
                res
            }
            Error::Send(_) => unavailable("the message provider failed: nothing was spent, retry", &message),
            // An outage or a timeout of the store: the failed call was one transaction or a
            // read, so nothing is half-written and the same request can be sent again.
            Error::Store(StoreError::Backend(_)) => {
                unavailable("the store is unavailable: nothing was written, retry", &message)
            }
            Error::Upload(_) => unavailable("the file store is unavailable: retry", &message),
            Error::Challenge(_) => unavailable("the captcha provider is unavailable: retry", &message),
            Error::Corrupt { .. } | Error::Store(_) | Error::Internal(_) => internal(&message),
        }
    }
}

/// A 503 for a store or provider that failed after nothing was kept: retry. The detail
/// goes to the log under the request id, never to the client.
pub fn unavailable(message: &str, detail: &str) -> Response {
    let request_id = super::observe::current_request_id();
    tracing::error!(error = %detail, "a dependency failed");
    let mut res = json_response(
        StatusCode::SERVICE_UNAVAILABLE,
        json!({ "code": 503, "message": message, "requestId": request_id }),
    );
    res.headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    res
}

/// A 500: the detail goes to the log under the request id, never to the client.
pub fn internal(detail: &str) -> Response {
    let request_id = super::observe::current_request_id();
    tracing::error!(error = %detail, "request failed");
    json_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({ "code": 500, "message": "internal error", "requestId": request_id }),
    )
}
