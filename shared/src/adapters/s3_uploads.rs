//! Presigned S3 `PutObject` URLs: the client uploads straight to the bucket.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::Client;

use crate::ports::{PresignedUpload, UploadError, UploadSigner};

pub struct S3Uploads {
    client: Client,
    bucket: String,
}

impl S3Uploads {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        S3Uploads {
            client,
            bucket: bucket.into(),
        }
    }
}

#[async_trait]
impl UploadSigner for S3Uploads {
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: Option<u64>,
        ttl_secs: u64,
    ) -> Result<PresignedUpload, UploadError> {
        let cfg = PresigningConfig::expires_in(Duration::from_secs(ttl_secs))
            .map_err(|e| UploadError::Signing(e.to_string()))?;
        let req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .set_content_length(content_length.and_then(|n| i64::try_from(n).ok()))
            .presigned(cfg)
            .await
            .map_err(|e| UploadError::Signing(e.to_string()))?;
        let expires_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
            + ttl_secs as i64;
        Ok(PresignedUpload {
            method: req.method().to_string(),
            url: req.uri().to_string(),
            headers: req.headers().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            key: key.to_string(),
            expires_at,
        })
    }

    async fn put(&self, key: &str, content_type: &str, bytes: Vec<u8>) -> Result<(), UploadError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(aws_sdk_s3::primitives::ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| UploadError::Storing(e.to_string()))?;
        Ok(())
    }

    /// One `ListObjectsV2` page and one `DeleteObjects` per 1000 keys.
    async fn delete_prefix(&self, prefix: &str) -> Result<usize, UploadError> {
        use aws_sdk_s3::types::{Delete, ObjectIdentifier};
        let mut deleted = 0;
        let mut token = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token)
                .send()
                .await
                .map_err(|e| UploadError::Storing(format!("listing {prefix}: {e}")))?;
            let ids = page
                .contents()
                .iter()
                .filter_map(|o| o.key())
                .map(|k| ObjectIdentifier::builder().key(k).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| UploadError::Storing(e.to_string()))?;
            if !ids.is_empty() {
                let n = ids.len();
                let delete = Delete::builder()
                    .set_objects(Some(ids))
                    .quiet(true)
                    .build()
                    .map_err(|e| UploadError::Storing(e.to_string()))?;
                let out = self
                    .client
                    .delete_objects()
                    .bucket(&self.bucket)
                    .delete(delete)
                    .send()
                    .await
                    .map_err(|e| UploadError::Storing(format!("deleting under {prefix}: {e}")))?;
                if let Some(e) = out.errors().first() {
                    return Err(UploadError::Storing(format!(
                        "deleting {}: {}",
                        e.key().unwrap_or_default(),
                        e.code().unwrap_or_default()
                    )));
                }
                deleted += n;
            }
            if page.is_truncated() != Some(true) {
                return Ok(deleted);
            }
            token = page.next_continuation_token().map(str::to_string);
        }
    }
}
