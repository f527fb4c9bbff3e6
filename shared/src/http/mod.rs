//! The HTTP layer shared by every endpoint group: the response envelope, the one mapping
//! from errors to responses, input parsing, client address, request ids and logs.
pub mod client_ip;
pub mod error;
pub mod input;
pub mod observe;
pub mod paging;
pub mod router;

pub use client_ip::ClientIp;
pub use error::{ok, ok_with, ApiResult, Error};
pub use input::Input;
pub use paging::{paged, paging};
pub use router::{cacheable, serve, Routes, StaticJson};
