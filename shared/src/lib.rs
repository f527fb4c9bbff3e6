//! Roster: accounts and contacts for instant-messaging apps.
//!
//! `domain` holds the types parsed at the edge, `ports` the traits the domain needs,
//! `adapters` their AWS and local implementations, `store` typed access to the stored
//! entities, `state` the adapters built once per process, `http` the shared HTTP layer,
//! `auth` and `verification` the logic several groups share, and each endpoint group
//! (`codes`, `account`) its routes and services. Groups import the layers below them,
//! never each other and never the servers (`local`, `lambda`) that list them.
pub mod account;
pub mod adapters;
pub mod admin;
pub mod auth;
pub mod captcha;
pub mod codes;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod error;
pub mod groups;
pub mod homepage;
pub mod http;
pub mod jobs;
pub mod lambda;
pub mod local;
pub mod openapi;
pub mod ports;
pub mod privacy;
pub mod profile;
pub mod relations;
pub mod state;
pub mod store;
pub mod sync;
pub mod verification;
