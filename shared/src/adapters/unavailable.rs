//! Stand-ins for adapters a function was built without: its routes never use them, so
//! they only answer, loudly, if that assumption breaks.

use async_trait::async_trait;

use crate::domain::Recipient;
use crate::ports::{MessageSender, PresignedUpload, SendError, UploadError, UploadSigner};

pub struct NotInThisFunction;

#[async_trait]
impl MessageSender for NotInThisFunction {
    async fn send(&self, _to: &Recipient, _text: &str) -> Result<(), SendError> {
        Err(SendError::Provider(
            "this function is built without message sending".into(),
        ))
    }
}

#[async_trait]
impl UploadSigner for NotInThisFunction {
    async fn presign_put(
        &self,
        _key: &str,
        _content_type: &str,
        _content_length: Option<u64>,
        _ttl: u64,
    ) -> Result<PresignedUpload, UploadError> {
        Err(UploadError::Signing("this function is built without uploads".into()))
    }

    async fn put(&self, _key: &str, _content_type: &str, _bytes: Vec<u8>) -> Result<(), UploadError> {
        Err(UploadError::Storing("this function is built without uploads".into()))
    }

    async fn delete_prefix(&self, _prefix: &str) -> Result<usize, UploadError> {
        Err(UploadError::Storing("this function is built without uploads".into()))
    }
}
