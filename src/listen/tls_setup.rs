//! The listener's TLS identity: a self-signed certificate made at start (--tls) or one read from PEM files
//! (--cert/--key), the rustls server settings built on it, and the fingerprints a client can pin.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::error::{Error, Result};

/// Names the made certificate is valid for: what a client on this host connects to.
const MADE_FOR: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The TLS settings of a run and how to recognise its certificate.
#[derive(Debug, Clone)]
pub struct TlsSetup {
    /// The rustls server settings (TLS 1.2 and 1.3, no client certificates).
    pub config: Arc<ServerConfig>,
    /// SHA-256 of the certificate (DER), as `openssl x509 -fingerprint -sha256` shows it: AB:CD:...
    pub cert_sha256: String,
    /// SHA-256 of the public key (SubjectPublicKeyInfo), base64: curl --pinnedpubkey sha256//THIS.
    pub pubkey_sha256: String,
    /// Whether the certificate was made at start (self-signed) rather than read from --cert.
    pub made: bool,
}

/// A self-signed certificate for localhost, 127.0.0.1 and ::1, made now.
pub fn made() -> Result<TlsSetup> {
    let names: Vec<String> = MADE_FOR.iter().map(|s| s.to_string()).collect();
    let made = rcgen::generate_simple_self_signed(names)
        .map_err(|e| Error::System(format!("making a TLS certificate: {e}")))?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()));
    build(vec![made.cert.der().clone()], key, true)
}

/// The certificate chain of `cert` and the private key of `key`, both PEM.
pub fn from_files(cert: &Path, key: &Path) -> Result<TlsSetup> {
    let shown = |p: &Path| crate::text::escape(&p.to_string_lossy()).into_owned();
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| pem_error("--cert", &shown(cert), e))?;
    if chain.is_empty() {
        return Err(Error::usage(format!(
            "--cert {}: no CERTIFICATE in it: accepted is a PEM file with the certificate first; see \
             'sockdiag listen --help'",
            shown(cert)
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| pem_error("--key", &shown(key), e))?;
    build(chain, key, false)
}

fn pem_error(flag: &str, shown: &str, e: rustls::pki_types::pem::Error) -> Error {
    match e {
        rustls::pki_types::pem::Error::Io(io) => Error::io(format!("reading {flag} {shown}"), io),
        other => Error::usage(format!(
            "{flag} {shown}: {other}: accepted is a PEM file (a certificate chain for --cert, a PKCS#8, \
             PKCS#1 or SEC1 private key for --key); see 'sockdiag listen --help'"
        )),
    }
}

fn build(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>, made: bool) -> Result<TlsSetup> {
    let leaf = chain[0].to_vec();
    let spki = x509_parser::parse_x509_certificate(&leaf)
        .map(|(_, c)| c.tbs_certificate.subject_pki.raw.to_vec())
        .map_err(|e| Error::usage(format!("--cert: the first certificate does not parse: {e}")))?;
    let config = ServerConfig::builder_with_provider(crate::tls::provider())
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
        .map_err(|e| {
            Error::usage(format!(
                "--cert/--key: {e}: accepted is a certificate and the private key that goes with it"
            ))
        })?;
    Ok(TlsSetup {
        config: Arc::new(config),
        cert_sha256: colon_hex(&sha256(&leaf)),
        pubkey_sha256: super::show::base64(&sha256(&spki)),
        made,
    })
}

/// SHA-256 through the process's crypto provider (no second hash implementation compiled in).
fn sha256(data: &[u8]) -> Vec<u8> {
    let suite = rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256;
    let hash = suite
        .tls13()
        .expect("a TLS 1.3 suite has its TLS 1.3 parts")
        .common
        .hash_provider;
    hash.hash(data).as_ref().to_vec()
}

fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_the_standard_vector() {
        let abc = colon_hex(&sha256(b"abc")).replace(':', "").to_lowercase();
        assert_eq!(
            abc,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_made_certificate_has_both_fingerprints() {
        let t = made().unwrap();
        assert!(t.made);
        assert_eq!(t.cert_sha256.len(), 32 * 3 - 1, "{}", t.cert_sha256);
        assert_eq!(t.pubkey_sha256.len(), 44, "{}", t.pubkey_sha256);
        assert_ne!(made().unwrap().cert_sha256, t.cert_sha256, "a new key each run");
    }

    #[test]
    fn pem_files_load_and_bad_ones_say_which_flag() {
        let dir = std::env::temp_dir().join(format!("sockdiag-tls-pem-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert, made.cert.pem()).unwrap();
        std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
        let t = from_files(&cert, &key).unwrap();
        assert!(!t.made);
        let err = from_files(&key, &key).unwrap_err();
        assert!(err.to_string().contains("--cert"), "{err}");
        assert_eq!(err.exit_code(), crate::error::exit::USAGE);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
