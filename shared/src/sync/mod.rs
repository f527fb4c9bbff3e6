//! The `sync` endpoint group: `GET|POST /user/sync/:version`, how clients keep their
//! local tables of users, blacklist, friends, groups and group members current
//! (`docs/sync.md` §5, §6). Its function also runs the background jobs (`crate::jobs`).
mod entries;
mod routes;
mod service;

pub use routes::routes;
