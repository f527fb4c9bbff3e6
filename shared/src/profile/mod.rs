//! The `profile` endpoint group: what a user sets on their profile (nickname, portrait,
//! gender, SealTalk id, privacy, poke). `routes.rs` is the edge, `settings.rs` the rules.
mod routes;
mod settings;

pub use routes::routes;
