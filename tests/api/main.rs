//! Black-box API scenarios. Each runs on the embedded store and on DynamoDB Local
//! (with SMS through moto's SNS): `api::sqlite::…` and `api::dynamodb::…`.
//!
//! A scenario left out of its file's `on_every_store!` list is dead code, and dead code
//! is an error here: no scenario can be written and silently never run.
#![deny(dead_code)]

#[path = "../support/mod.rs"]
mod support;

mod account;
mod codes;
mod deletion;
mod faults;
mod groups;
mod http;
mod identities;
mod observability;
mod profile;
mod relations;
mod round_trips;
mod sync;

/// Generates one test per scenario per store.
#[macro_export]
macro_rules! on_every_store {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test] async fn $name() {
                super::$name($crate::support::TestApp::spawn($crate::support::StoreKind::Sqlite).await).await
            } )*
        }
        #[cfg(feature = "dynamodb")]
        mod dynamodb {
            $( #[tokio::test] async fn $name() {
                super::$name($crate::support::TestApp::spawn($crate::support::StoreKind::Dynamodb).await).await
            } )*
        }
    };
}
