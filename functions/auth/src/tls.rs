//! reqwest's TLS on ring: the one crypto provider the product's HTTPS clients use.
//!
//! reqwest is built without a provider of its own (its default would compile aws-lc, a C
//! library, for every target), and panics when a client is built while the process has none.
//! [`http_client`] installs ring as the process's provider first, so every client is built
//! through it.

/// A client builder, with ring installed as the process's TLS crypto provider (once; a provider
/// already installed stays).
pub fn http_client() -> reqwest::ClientBuilder {
    // An `Err` means a provider is already installed, which is all that is needed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_client_builds_with_the_ring_provider() {
        let client = super::http_client().build();
        assert!(client.is_ok(), "{client:?}");
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}
