//! The `relations` endpoint group: SealTalk's blacklist and friendships, and follows. One model of
//! edges (one friendship row per side, block rows indexed by the blocked user); every
//! edge write is one transaction with the session check, the counters and limits on the
//! feed heads, and the change records `docs/sync.md` asks for.
mod blacklist;
mod follows;
mod friendship;
mod pair;
mod routes;

pub use routes::routes;
