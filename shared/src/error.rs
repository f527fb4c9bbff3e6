//! The domain's error: what went wrong, in the words of the rules that decided it.
//! Services return it; only the HTTP layer (`http::error`) turns it into a status and a
//! body, and only `account::oauth` into RFC 6749's shapes.

use crate::domain::ValidationError;
use crate::ports::{ChallengeError, SendError, StoreError, UploadError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
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
    #[error("another user has this SealTalk id")]
    StAccountTaken,
    #[error("another user has this username")]
    UsernameTaken,
    #[error("this email address is already registered")]
    EmailTaken,
    #[error("this account changed its phone number {0} times in the last 30 days: try again later")]
    PhoneChangeLimit(i64),
    #[error("your level is too low to view other users' profiles")]
    LevelTooLow,
    #[error("{0}")]
    RelationLimit(&'static str),
    #[error("{0}")]
    NoSuchRelation(&'static str),
    #[error("this user does not accept follows from you")]
    FollowRefused,
    #[error("the default and special follow groups cannot be deleted")]
    BuiltInFollowGroup,
    #[error("{0}")]
    NotFriends(&'static str),
    /// The caller's role in the group (or not being in it) does not allow this.
    #[error("{0}")]
    GroupForbidden(&'static str),
    /// A group bound: members per group, or groups per user.
    #[error("{0}")]
    GroupLimit(&'static str),
    #[error("a user you named does not accept you: they blocked you")]
    GroupRefused,
    #[error("too many failed logins; retry in {retry_after_secs} s")]
    LoginBackoff { retry_after_secs: i64 },
    #[error("verification_token does not exist or has expired")]
    VerificationTokenGone,
    #[error("no account has this phone number")]
    NoSuchAccount,
    #[error("no such session")]
    NoSuchSession,
    #[error("{0}")]
    RefreshTokenRejected(&'static str),
    #[error("refresh token reuse: the session is revoked")]
    RefreshTokenReused,
    /// More password hashes are waiting than the service runs at once; retry shortly.
    #[error("the service is busy; retry in a moment")]
    Overloaded,
    /// Concurrent writes to the same account kept winning; the client may retry.
    #[error("the account is busy with another change; retry")]
    Contended,
    #[error("not logged in")]
    Unauthorized,
    /// A bearer access token that is expired, forged or whose session was revoked: OAuth
    /// clients refresh on this (RFC 6750 section 3.1), unlike SealTalk's 403.
    #[error("the access token is invalid, expired or revoked")]
    InvalidBearerToken,
    #[error("{0}")]
    NotFound(String),
    /// A stored item that does not decode: our bug, never the client's and never a default.
    #[error("stored item {key} does not decode: {detail}")]
    Corrupt { key: String, detail: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Send(#[from] SendError),
    #[error(transparent)]
    Upload(#[from] UploadError),
    #[error(transparent)]
    Challenge(#[from] ChallengeError),
    #[error("{0}")]
    Internal(String),
}
