//! Avatar uploads: a presigned PUT under the user's own prefix (S3 on AWS, the local
//! upload routes on a laptop), served from the avatar domain (CloudFront on AWS).

use serde::Serialize;

use crate::auth::Credential;
use crate::domain::ImageType;
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
