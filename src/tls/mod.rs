//! TLS pieces shared by `probe --tls`, `listen --tls` and encrypted DNS: one crypto provider for the process.

pub mod cert;

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

/// The process's rustls provider (ring), installed on first use.
///
/// rustls panics at the first handshake when it cannot tell which provider to use, so every TLS user asks for it
/// here instead of relying on a default; a second install (another command, a test in the same process) keeps the
/// first one.
pub fn provider() -> Arc<CryptoProvider> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_provider_is_ring_and_installing_twice_keeps_it() {
        let first = provider();
        let second = provider();
        assert!(Arc::ptr_eq(&first, &second));
        assert!(!first.cipher_suites.is_empty());
    }
}
