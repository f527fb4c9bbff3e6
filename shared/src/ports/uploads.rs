use async_trait::async_trait;
use serde::Serialize;

/// A presigned upload: the client sends the file with `method` to `url`, with `headers`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PresignedUpload {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub key: String,
    /// Epoch seconds after which the URL no longer works.
    pub expires_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("could not sign the upload: {0}")]
    Signing(String),
    #[error("could not store the upload: {0}")]
    Storing(String),
}

#[async_trait]
pub trait UploadSigner: Send + Sync {
    /// A URL that accepts one PUT of `key` with this content type and, when given, exactly
    /// this many bytes (both are part of the signature).
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: Option<u64>,
        ttl_secs: u64,
    ) -> Result<PresignedUpload, UploadError>;

    /// Stores a file the service itself received (a direct avatar upload).
    async fn put(&self, key: &str, content_type: &str, bytes: Vec<u8>) -> Result<(), UploadError>;

    /// Deletes every stored file whose key starts with `prefix` (an account's avatars);
    /// none there is done. Answers how many went.
    async fn delete_prefix(&self, prefix: &str) -> Result<usize, UploadError>;
}
