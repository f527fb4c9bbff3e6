//! Who is calling: password hashing, signed tokens, sessions and the credential every
//! authenticated route extracts.
pub mod credential;
pub mod jwt_crypto;
pub mod passwords;
pub mod sessions;
pub mod tokens;

pub use credential::Credential;
pub use tokens::TokenKeys;
