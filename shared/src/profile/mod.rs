//! The `profile` endpoint group: what a user sets on their profile (nickname, portrait,
//! gender, SealTalk id, privacy, poke) and what others may read of it (by id, in batches,
//! by phone or SealTalk id). `routes.rs` is the edge; `settings.rs` and `lookups.rs` the
//! rules; `view.rs` the privacy view every read of another user goes through.
mod avatars;
mod lookups;
mod routes;
mod settings;
pub mod view;

pub use routes::routes;
