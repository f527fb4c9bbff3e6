//! argon2id password hashes (m = 19 MiB, t = 2, p = 1), computed off the async threads.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::domain::Password;
use crate::http::AppError;
use crate::ports::Random;

fn argon2() -> Result<Argon2<'static>, AppError> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub async fn hash(password: &Password, random: &dyn Random) -> Result<String, AppError> {
    let mut salt = [0u8; 16];
    random.fill(&mut salt);
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        argon2()?
            .hash_password_with_salt(password.expose(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(e.to_string()))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
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
pub async fn verify(password: &Password, stored: Option<&str>) -> Result<bool, AppError> {
    let password = password.clone();
    let stored = stored.map(str::to_string);
    tokio::task::spawn_blocking(move || {
        let argon = argon2()?;
        Ok(match stored {
            Some(h) => argon.verify_password(password.expose(), h.as_str()).is_ok(),
            None => {
                let _ = argon.verify_password(password.expose(), dummy_hash());
                false
            }
        })
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}
