//! Avatar uploads: a presigned PUT under the user's own prefix (S3 on AWS, the local
//! upload routes on a laptop), served from the avatar domain (CloudFront on AWS).

use serde::Serialize;

use crate::auth::Credential;
use crate::domain::{ImageType, Nickname, PortraitUri, ValidationError};
use crate::error::Error;
use crate::state::AppState;

/// How long an upload URL works.
const UPLOAD_TTL_SECS: u64 = 600;

/// SealTalk's `get_image_token` result (`target`, `domain`, `token`), and what a client
/// needs to upload without guessing: the URL, method, headers to send, key and address.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageToken {
    pub target: &'static str,
    pub domain: String,
    pub token: String,
    pub upload_url: String,
    pub method: String,
    pub headers: serde_json::Map<String, serde_json::Value>,
    pub key: String,
    pub public_url: String,
    pub expires_in: u64,
}

pub async fn image_token(
    state: &AppState,
    cred: &Credential,
    image: ImageType,
    length: Option<u64>,
) -> Result<ImageToken, Error> {
    cred.check(state).await?;
    // Unguessable, and under the user's own prefix.
    let key = format!("avatars/{}/{}.{}", cred.user, state.random.token(16), image.extension());
    let signed = state
        .uploads
        .presign_put(&key, image.mime(), length, UPLOAD_TTL_SECS)
        .await?;
    let domain = state.config.avatar_domain();
    let headers = signed
        .headers
        .into_iter()
        .filter(|(name, _)| name != "host")
        .map(|(name, value)| (name, serde_json::Value::String(value)))
        .collect();
    Ok(ImageToken {
        target: "s3",
        public_url: format!("{domain}/{key}"),
        domain,
        token: signed.url.clone(),
        upload_url: signed.url,
        method: signed.method,
        headers,
        key,
        expires_in: UPLOAD_TTL_SECS,
    })
}

/// What `upload_avatar` answers (the IM access document's "update user info").
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Updated {
    pub id: String,
    pub nickname: String,
    pub portrait_uri: String,
}

/// Stores an avatar sent in the request itself and makes it the portrait (and the
/// nickname, when one came along), as one change friends see. The image type is what
/// the bytes are, whatever the request declared.
pub async fn upload(
    state: &AppState,
    cred: &Credential,
    bytes: Vec<u8>,
    nickname: Option<&Nickname>,
) -> Result<Updated, Error> {
    let max = state.config.limits.avatar_direct_max_bytes;
    if bytes.len() as i64 > max {
        return Err(ValidationError::new("avatar", format!("must be at most {max} bytes")).into());
    }
    let image = ImageType::sniff(&bytes)
        .ok_or_else(|| ValidationError::new("avatar", "must be a JPEG, PNG, WebP or GIF image"))?;
    cred.check(state).await?;
    let key = format!("avatars/{}/{}.{}", cred.user, state.random.token(16), image.extension());
    state.uploads.put(&key, image.mime(), bytes).await?;
    let url = format!("{}/{key}", state.config.avatar_domain());
    let portrait = PortraitUri::parse(&url).map_err(|e| Error::Internal(format!("avatar URL {url}: {e}")))?;
    super::settings::change_seen_by_friends(state, cred, nickname, Some(&portrait)).await?;
    let profile = super::settings::own(state, cred).await?;
    Ok(Updated {
        id: cred.user.to_string(),
        nickname: profile.nickname,
        portrait_uri: profile.portrait_uri,
    })
}
