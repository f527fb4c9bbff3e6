//! Keyed hashing used for codes, captchas, stored token digests and local upload URLs.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// An HMAC-SHA256 key, checked once at start-up so signing never fails on a request path.
#[derive(Clone)]
pub struct HmacKey(Hmac<Sha256>);

impl HmacKey {
    pub fn new(secret: &[u8]) -> Result<Self, String> {
        if secret.len() < 32 {
            return Err(format!("must be at least 32 bytes, got {}", secret.len()));
        }
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
            .map(HmacKey)
            .map_err(|e| e.to_string())
    }

    /// The tag of the parts, each length-prefixed so that ("ab","c") and ("a","bc") differ.
    pub fn sign(&self, parts: &[&[u8]]) -> [u8; 32] {
        self.keyed(parts).finalize().into_bytes().into()
    }

    pub fn sign_hex(&self, parts: &[&[u8]]) -> String {
        hex::encode(self.sign(parts))
    }

    /// Constant-time comparison of a presented tag.
    pub fn verify(&self, parts: &[&[u8]], tag: &[u8]) -> bool {
        self.keyed(parts).verify_slice(tag).is_ok()
    }

    fn keyed(&self, parts: &[&[u8]]) -> Hmac<Sha256> {
        let mut mac = self.0.clone();
        for p in parts {
            mac.update(&(p.len() as u64).to_be_bytes());
            mac.update(p);
        }
        mac
    }
}

/// Stored form of a bearer secret (verification token, captcha id): a leaked table
/// does not hand out usable tokens.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}
