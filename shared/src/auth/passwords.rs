//! argon2id password hashes (m = 19 MiB, t = 2, p = 1), computed off the async threads.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// argon2 verifications run so far (the dummy ones included), for the tests that pin
/// that an unknown account costs the same work as a known one.
pub static VERIFICATIONS: AtomicU64 = AtomicU64::new(0);

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::domain::Password;
use crate::error::Error;
use crate::ports::Random;

fn argon2() -> Result<Argon2<'static>, Error> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub async fn hash(password: &Password, random: &dyn Random) -> Result<String, Error> {
    let mut salt = [0u8; 16];
    random.fill(&mut salt);
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        argon2()?
            .hash_password_with_salt(password.expose(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(e.to_string()))
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
}

/// A hash of a password nobody knows, so that an unknown account costs the same work.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut salt = [0u8; 16];
        crate::ports::OsRandom.fill(&mut salt);
        argon2()
            .ok()
            .and_then(|a| a.hash_password_with_salt(&salt, &salt).ok())
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// Whether `password` matches `stored`; with no stored hash, verifies against a dummy.
pub async fn verify(password: &Password, stored: Option<&str>) -> Result<bool, Error> {
    let password = password.clone();
    let stored = stored.map(str::to_string);
    tokio::task::spawn_blocking(move || {
        let argon = argon2()?;
        VERIFICATIONS.fetch_add(1, Ordering::SeqCst);
        Ok(match stored {
            Some(h) => argon.verify_password(password.expose(), h.as_str()).is_ok(),
            None => {
                let _ = argon.verify_password(password.expose(), dummy_hash());
                false
            }
        })
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unknown_account_costs_one_full_argon2_verification_like_a_known_one() {
        let pw = Password::parse("password", "P@ssw0rd").unwrap();
        let stored = hash(&pw, &crate::ports::OsRandom).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
        let before = VERIFICATIONS.load(Ordering::SeqCst);
        assert!(verify(&pw, Some(&stored)).await.unwrap());
        let wrong = Password::parse("password", "Wr0ngPass").unwrap();
        assert!(!verify(&wrong, Some(&stored)).await.unwrap());
        assert!(!verify(&pw, None).await.unwrap());
        assert_eq!(VERIFICATIONS.load(Ordering::SeqCst) - before, 3);
        // The dummy is a real argon2id hash with the same parameters.
        assert!(
            dummy_hash().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            dummy_hash()
        );
    }
}
