//! TLS pieces shared by `probe --tls`, `listen --tls` and encrypted DNS: one crypto provider for the process.

pub mod cert;
pub mod verifier;

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

/// A TLS version's name (`TLS 1.3`), or its wire value (`0x7f1c`) for one this tool does not know.
pub fn version_name(v: u16) -> String {
    match v {
        0x0300 => "SSL 3.0".into(),
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        other => format!("0x{other:04x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_named_and_unknown_ones_shown_as_numbers() {
        assert_eq!(version_name(0x0301), "TLS 1.0");
        assert_eq!(version_name(0x0304), "TLS 1.3");
        assert_eq!(version_name(0x7f1c), "0x7f1c");
    }

    #[test]
    fn the_provider_is_ring_and_installing_twice_keeps_it() {
        let first = provider();
        let second = provider();
        assert!(Arc::ptr_eq(&first, &second));
        assert!(!first.cipher_suites.is_empty());
    }
}
