//! Roster: accounts and contacts for instant-messaging apps.
//!
//! `domain` holds the types parsed at the edge, `ports` the traits the domain needs,
//! `adapters` their AWS and local implementations, `http` the shared HTTP layer, and each
//! endpoint group (`codes`, …) its service and routes.
pub mod account;
pub mod adapters;
pub mod app;
pub mod auth;
pub mod codes;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod http;
pub mod keys;
pub mod lambda;
pub mod local;
pub mod ports;
