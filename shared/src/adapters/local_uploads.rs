//! Local mode's upload signer: the same presigned-PUT flow as S3, served by the local
//! server at `/_local/uploads/<key>` and stored in the data folder. The signature is an
//! HMAC over method, key, content type and expiry, so a URL cannot be reused for another
//! key, type or time.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;

use crate::crypto::HmacKey;
use crate::ports::{Clock, PresignedUpload, UploadError, UploadSigner};

pub struct LocalUploads {
    dir: PathBuf,
    base_url: String,
    key: HmacKey,
    clock: Arc<dyn Clock>,
}

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum LocalUploadError {
    #[error("the upload URL has expired")]
    Expired,
    #[error("the upload signature does not match")]
    BadSignature,
    #[error("the upload key is not a safe path")]
    BadKey,
}

impl LocalUploads {
    pub fn new(data_dir: &Path, base_url: impl Into<String>, key: HmacKey, clock: Arc<dyn Clock>) -> Self {
        LocalUploads {
            dir: data_dir.join("uploads"),
            base_url: base_url.into(),
            key,
            clock,
        }
    }

    fn parts<'a>(key: &'a str, content_type: &'a str, length: &'a str, expires: &'a str) -> [&'a [u8]; 5] {
        [
            b"upload:PUT",
            key.as_bytes(),
            content_type.as_bytes(),
            length.as_bytes(),
            expires.as_bytes(),
        ]
    }

    fn length_part(length: Option<u64>) -> String {
        length.map_or_else(|| "-".to_string(), |n| n.to_string())
    }

    /// A key that stays inside the upload folder: relative segments, no `.`/`..`.
    pub fn is_safe_key(key: &str) -> bool {
        !key.is_empty() && !key.contains('\\') && !key.split('/').any(|p| p.is_empty() || p == "." || p == "..")
    }

    /// Where an accepted upload is written, after checking the presigned parameters.
    pub fn verify(
        &self,
        key: &str,
        content_type: &str,
        content_length: Option<u64>,
        expires: i64,
        signature_hex: &str,
    ) -> Result<PathBuf, LocalUploadError> {
        if !Self::is_safe_key(key) {
            return Err(LocalUploadError::BadKey);
        }
        let given = hex::decode(signature_hex).map_err(|_| LocalUploadError::BadSignature)?;
        if !self.key.verify(
            &Self::parts(
                key,
                content_type,
                &Self::length_part(content_length),
                &expires.to_string(),
            ),
            &given,
        ) {
            return Err(LocalUploadError::BadSignature);
        }
        if self.clock.now_secs() >= expires {
            return Err(LocalUploadError::Expired);
        }
        Ok(self.path_of(key))
    }

    pub fn path_of(&self, key: &str) -> PathBuf {
        self.dir.join(key)
    }
}

fn encode_component(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[async_trait]
impl UploadSigner for LocalUploads {
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: Option<u64>,
        ttl_secs: u64,
    ) -> Result<PresignedUpload, UploadError> {
        let expires = self.clock.now_secs() + ttl_secs as i64;
        let length = Self::length_part(content_length);
        let sig = self
            .key
            .sign_hex(&Self::parts(key, content_type, &length, &expires.to_string()));
        let path: Vec<String> = key.split('/').map(encode_component).collect();
        let mut headers = vec![("content-type".to_string(), content_type.to_string())];
        let mut url = format!(
            "{}/_local/uploads/{}?expires={expires}&contentType={}&signature={sig}",
            self.base_url.trim_end_matches('/'),
            path.join("/"),
            encode_component(content_type)
        );
        if let Some(n) = content_length {
            url.push_str(&format!("&contentLength={n}"));
            headers.push(("content-length".into(), n.to_string()));
        }
        Ok(PresignedUpload {
            method: "PUT".into(),
            url,
            headers,
            key: key.to_string(),
            expires_at: expires,
        })
    }

    async fn put(&self, key: &str, content_type: &str, bytes: Vec<u8>) -> Result<(), UploadError> {
        if !Self::is_safe_key(key) {
            return Err(UploadError::Storing("the key is not a safe path".into()));
        }
        let path = self.path_of(key);
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| UploadError::Storing(e.to_string()))?;
        }
        tokio::fs::write(&path, bytes)
            .await
            .map_err(|e| UploadError::Storing(e.to_string()))?;
        tokio::fs::write(path.with_extension("content-type"), content_type)
            .await
            .map_err(|e| UploadError::Storing(e.to_string()))
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<usize, UploadError> {
        // Prefixes name a folder (`avatars/<user>/`): remove the folder's files.
        let folder = prefix.trim_end_matches('/');
        if !Self::is_safe_key(folder) {
            return Err(UploadError::Storing("the prefix is not a safe path".into()));
        }
        let dir = self.path_of(folder);
        let mut entries = match tokio::fs::read_dir(&dir).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(UploadError::Storing(e.to_string())),
        };
        let mut deleted = 0;
        while let Some(entry) = entries
            .next_entry()
            .await
            .map_err(|e| UploadError::Storing(e.to_string()))?
        {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "content-type") {
                let _ = tokio::fs::remove_file(&path).await;
                continue;
            }
            match tokio::fs::remove_file(&path).await {
                Ok(()) => deleted += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(UploadError::Storing(e.to_string())),
            }
        }
        let _ = tokio::fs::remove_dir(&dir).await;
        Ok(deleted)
    }
}
