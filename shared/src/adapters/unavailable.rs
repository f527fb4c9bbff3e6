//! Stand-ins for adapters a function was built without: its routes never use them, so
//! they only answer, loudly, if that assumption breaks.

use async_trait::async_trait;

use crate::domain::PhoneNumber;
use crate::ports::{MessageSender, PresignedUpload, SendError, UploadError, UploadSigner};

pub struct NotInThisFunction;

#[async_trait]
impl MessageSender for NotInThisFunction {
    async fn send_sms(&self, _to: &PhoneNumber, _text: &str) -> Result<(), SendError> {
        Err(SendError::Provider("this function is built without SMS sending".into()))
    }
}

#[async_trait]
impl UploadSigner for NotInThisFunction {
    async fn presign_put(&self, _key: &str, _content_type: &str, _ttl: u64) -> Result<PresignedUpload, UploadError> {
        Err(UploadError::Signing("this function is built without uploads".into()))
    }
}
