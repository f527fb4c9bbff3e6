//! The `profile` endpoint group: what a user sets on their profile (nickname, portrait,
//! gender, SealTalk id, privacy, poke) and what others may read of it (by id, in batches,
//! by phone or SealTalk id). `routes.rs` is the edge; `settings.rs` and `lookups.rs` the
//! rules; every read of another user goes through the privacy view (`crate::privacy`).
mod avatars;
mod lookups;
mod routes;
mod settings;

pub use routes::routes;
