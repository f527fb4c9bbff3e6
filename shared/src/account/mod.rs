//! The `account` endpoint group: sign-up, logins (password, SMS code, OAuth), tokens,
//! sessions, password flows, phone and email changes, and account deletion. `routes.rs` is the edge; each use case
//! has its service file.
mod contact;
mod deletion;
mod directory;
mod login;
mod oauth;
mod password;
mod routes;
mod sessions;
mod signup;
mod tokens;

pub use routes::routes;
