//! The `account` endpoint group: sign-up, login (password, SMS code, OAuth), tokens,
//! sessions, password flows and account deletion.
mod oauth;
mod routes;
pub mod service;

pub use routes::routes;
