//! The `codes` endpoint group: region list, phone availability, SMS verification codes
//! and the captcha that guards sending (`crate::captcha`).
mod routes;
pub mod service;

pub use routes::routes;
