//! The application error enum and its mapping to the response envelope: the one place
//! where errors become HTTP.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{json, Value};

use crate::domain::ValidationError;
use crate::ports::{SendError, StoreError, UploadError};

pub type ApiResult = Result<Response, AppError>;

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
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Validation(#[from] ValidationError),
    #[error("wrong verification code")]
    WrongCode,
    #[error("no valid code: it expired, was already used, or had too many wrong tries")]
    CodeExpired,
    #[error("SMS to region +{0} is not served")]
    RegionNotServed(u16),
    #[error("{0}")]
    Throttled(&'static str),
    #[error("too many codes from this network: solve the captcha from /user/get_sms_img_code and send verifyId and verifyCode")]
    CaptchaRequired,
    #[error("the captcha answer is wrong or the captcha expired; get a new one")]
    CaptchaWrong,
    #[error("wrong phone number or password")]
    WrongPassword,
    #[error("this phone number is already registered")]
    PhoneTaken,
    #[error("too many failed logins; retry in {0} s")]
    LoginBackoff(i64),
    #[error("{description}")]
    OAuth {
        status: u16,
        error: &'static str,
        description: String,
        retry_after: Option<i64>,
    },
    #[error("not logged in")]
    Unauthorized,
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Send(#[from] SendError),
    #[error(transparent)]
    Upload(#[from] UploadError),
    #[error("{0}")]
    Internal(String),
}

/// `{"code":200}`
pub fn ok() -> ApiResult {
    Ok(json_response(StatusCode::OK, json!({ "code": codes::OK })))
}

/// `{"code":200,"result":…}`
pub fn ok_with(result: impl Serialize) -> ApiResult {
    let result = serde_json::to_value(result).map_err(|e| AppError::Internal(e.to_string()))?;
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

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        match self {
            AppError::Validation(e) => json_response(
                StatusCode::BAD_REQUEST,
                json!({ "code": 400, "message": message, "field": e.field }),
            ),
            AppError::WrongCode => business(codes::WRONG_CODE, message),
            AppError::CodeExpired => business(codes::CODE_EXPIRED, message),
            AppError::RegionNotServed(_) => business(codes::REGION_NOT_SERVED, message),
            AppError::Throttled(_) => business(codes::THROTTLED, message),
            AppError::CaptchaRequired => business(codes::CAPTCHA_REQUIRED, message),
            AppError::CaptchaWrong => business(codes::CAPTCHA_WRONG, message),
            AppError::WrongPassword => business(codes::WRONG_CODE, message),
            AppError::PhoneTaken => business(codes::PHONE_TAKEN, message),
            AppError::LoginBackoff(secs) => {
                let mut res = json_response(
                    StatusCode::TOO_MANY_REQUESTS,
                    json!({ "code": codes::THROTTLED, "message": message }),
                );
                res.headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from(secs.max(1)));
                res
            }
            AppError::OAuth {
                status,
                error,
                retry_after,
                ..
            } => {
                // RFC 6749 section 5.2, not the envelope: OAuth clients expect this shape.
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
                let mut res = json_response(status, json!({ "error": error, "error_description": message }));
                res.headers_mut()
                    .insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
                if let Some(secs) = retry_after {
                    res.headers_mut()
                        .insert(header::RETRY_AFTER, header::HeaderValue::from(secs.max(1)));
                }
                res
            }
            AppError::Unauthorized => json_response(StatusCode::FORBIDDEN, json!({ "code": 403, "message": message })),
            AppError::NotFound(_) => json_response(StatusCode::NOT_FOUND, json!({ "code": 404, "message": message })),
            AppError::Store(_) | AppError::Send(_) | AppError::Upload(_) | AppError::Internal(_) => {
                let request_id = super::observe::current_request_id();
                // The detail goes to the log under the request id, never to the client.
                tracing::error!(error = %message, "request failed");
                json_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({ "code": 500, "message": "internal error", "requestId": request_id }),
                )
            }
        }
    }
}
