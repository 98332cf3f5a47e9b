//! The HTTPS client every AWS SDK client of the product uses: hyper with rustls on ring.
//!
//! The SDK's `default-https-client` feature would build the same client on aws-lc, whose C build
//! costs a minute of CPU for each target the product is compiled for; ring is already a
//! dependency of the SDK's credential code. The SDK is built without that feature, so a
//! configuration loaded without this client has none, and its first call fails (it does not
//! silently use another): every loader in the product sets it.

use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// A new HTTPS client (TLS 1.2 and 1.3, the platform's root certificates) on ring.
pub fn https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}
