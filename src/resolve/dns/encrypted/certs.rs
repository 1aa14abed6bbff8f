//! The certificate side of encrypted DNS: which CAs are trusted (`--ca FILE`, else the system's and Mozilla's),
//! a verifier that keeps the server's certificate and its problem for the report, and that problem in words.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use schemars::JsonSchema;
use serde::Serialize;

use crate::error::{Error, Result};

/// The server's certificate as the report shows it.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct CertSummary {
    /// The subject's common name, when it has one.
    pub subject_cn: Option<String>,
    /// The names and addresses it is valid for (subjectAltName).
    pub names: Vec<String>,
    /// Who signed it.
    pub issuer: String,
    /// The end of its validity, RFC 3339.
    pub not_after: String,
}

impl CertSummary {
    /// The name to show first: the first subjectAltName, else the common name.
    pub fn name(&self) -> String {
        self.names
            .first()
            .cloned()
            .or_else(|| self.subject_cn.clone())
            .unwrap_or_else(|| "(no name)".into())
    }
}

/// What the verifier saw: the end-entity certificate and, when it was refused, why.
#[derive(Debug, Default)]
pub struct Seen {
    /// The server's certificate, parsed.
    pub certificate: Option<CertSummary>,
    /// Why it was refused, in words.
    pub problem: Option<String>,
}

/// The trusted CAs: the PEM file of `--ca`, or the system's store with Mozilla's roots beside it.
pub fn roots(ca: Option<&Path>) -> Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    let Some(path) = ca else {
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = store.add(cert);
        }
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        return Ok(store);
    };
    let bad = |why: String| {
        Error::usage(format!(
            "--ca {}: {why}; accepted: a PEM file of CA certificates",
            path.display()
        ))
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(e.to_string()))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no certificate in it".into()));
    }
    for cert in certs {
        store
            .add(cert)
            .map_err(|e| bad(format!("a certificate rustls cannot use ({e})")))?;
    }
    Ok(store)
}

/// A client configuration whose verifier records what it saw in `seen`.
pub fn client_config(roots: Arc<RootCertStore>, seen: Arc<Mutex<Seen>>) -> Result<ClientConfig> {
    let provider = crate::tls::provider();
    let inner = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
        .build()
        .map_err(|e| Error::System(format!("cannot set up certificate checks: {e}")))?;
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::System(format!("cannot set up TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Recording { inner, seen }))
        .with_no_client_auth();
    Ok(config)
}

/// The WebPKI verifier, keeping the certificate and the verdict for the report.
#[derive(Debug)]
struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    seen: Arc<Mutex<Seen>>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let verdict =
            self.inner
                .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.certificate = summary(end_entity);
        seen.problem = verdict.as_ref().err().map(problem_words);
        verdict
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The certificate's names, issuer and end of validity; None when it cannot be parsed.
fn summary(der: &CertificateDer<'_>) -> Option<CertSummary> {
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    let subject_cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(String::from);
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                x509_parser::extensions::GeneralName::DNSName(n) => names.push(n.to_string()),
                x509_parser::extensions::GeneralName::IPAddress(b) => names.extend(ip_text(b)),
                _ => {}
            }
        }
    }
    Some(CertSummary {
        subject_cn,
        names,
        issuer: cert.issuer().to_string(),
        not_after: rfc3339(cert.validity().not_after.timestamp()),
    })
}

fn ip_text(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => Some(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(bytes).ok()?).to_string()),
        16 => Some(std::net::Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?).to_string()),
        _ => None,
    }
}

/// Seconds since 1970 as an RFC 3339 UTC time (before 1970: the epoch).
fn rfc3339(secs: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(secs).unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}

/// A certificate problem in the words a user acts on.
pub fn problem_words(e: &rustls::Error) -> String {
    let rustls::Error::InvalidCertificate(cert) = e else {
        return format!("TLS error: {e}");
    };
    match cert {
        CertificateError::Expired => "certificate expired".into(),
        CertificateError::ExpiredContext { not_after, .. } => {
            format!("certificate expired (valid until {})", rfc3339(secs(not_after)))
        }
        CertificateError::NotValidYet => "certificate not valid yet".into(),
        CertificateError::NotValidYetContext { not_before, .. } => {
            format!(
                "certificate not valid yet (valid from {})",
                rfc3339(secs(not_before))
            )
        }
        CertificateError::NotValidForName => "name mismatch: the certificate is for another name".into(),
        CertificateError::NotValidForNameContext { expected, presented } => format!(
            "name mismatch: the certificate is for {}, not {}",
            if presented.is_empty() {
                "no name".to_string()
            } else {
                presented.join(", ")
            },
            expected.to_str()
        ),
        CertificateError::UnknownIssuer => {
            "unknown issuer: no trusted CA signed the certificate (a private CA is given with --ca FILE)"
                .into()
        }
        CertificateError::BadSignature => "bad signature on the certificate".into(),
        CertificateError::Revoked => "certificate revoked".into(),
        other => format!("certificate refused: {other:?}"),
    }
}

fn secs(t: &UnixTime) -> i64 {
    i64::try_from(t.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_in_words() {
        let e = |c| rustls::Error::InvalidCertificate(c);
        assert_eq!(
            problem_words(&e(CertificateError::ExpiredContext {
                time: UnixTime::since_unix_epoch(std::time::Duration::from_secs(2_000_000_000)),
                not_after: UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_000_000_000)),
            })),
            "certificate expired (valid until 2001-09-09T01:46:40Z)"
        );
        let mismatch = problem_words(&e(CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("dns.test").unwrap(),
            presented: vec!["DnsName(\"other.test\")".into()],
        }));
        assert!(
            mismatch.starts_with("name mismatch") && mismatch.contains("dns.test"),
            "{mismatch}"
        );
        assert!(problem_words(&e(CertificateError::UnknownIssuer)).starts_with("unknown issuer"));
    }

    #[test]
    fn a_ca_file_without_certificates_is_a_usage_error() {
        let dir = std::env::temp_dir().join(format!("sdg-ca-{}", std::process::id()));
        std::fs::write(&dir, "not a certificate\n").unwrap();
        let err = roots(Some(&dir)).unwrap_err();
        let _ = std::fs::remove_file(&dir);
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("PEM"), "{err}");
    }
}
