//! The HTTPS client every AWS SDK client in a process shares: the SDK's own hyper client,
//! with rustls on ring instead of the default aws-lc. One cryptography stack (tokens sign
//! and verify with ring as well), and a smaller binary: aws-lc's EVP tables link every
//! algorithm it has, post-quantum ones included, into each function.

use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// Connections are made on first use, not here.
pub fn client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https()
}
