//! The certificate side of encrypted DNS: which CAs are trusted (`--ca FILE`, else the system's and Mozilla's),
//! the server's certificate as the report shows it, and its problem in words.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::{CertificateError, ClientConfig, RootCertStore};
use schemars::JsonSchema;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::tls::cert::{self, CertFacts};
use crate::tls::verifier::Recording;
pub use crate::tls::verifier::Seen;

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

/// A client configuration whose verifier (the one `probe --tls` uses) records what it saw in `seen`.
pub fn client_config(roots: Arc<RootCertStore>, seen: Arc<Mutex<Seen>>) -> Result<ClientConfig> {
    let config = ClientConfig::builder_with_provider(crate::tls::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::System(format!("cannot set up TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Recording::new(roots, false, seen)))
        .with_no_client_auth();
    Ok(config)
}

/// The server's certificate, and why it was refused in words, from what the verifier saw.
pub fn verdict(seen: &Seen) -> (Option<CertSummary>, Option<String>) {
    let certificate = seen.chain.first().and_then(summary);
    (certificate, seen.first_error().map(problem_words))
}

/// The certificate's names, issuer and end of validity; None when it cannot be parsed.
fn summary(der: &CertificateDer<'_>) -> Option<CertSummary> {
    let facts = CertFacts::from_der(der.as_ref(), cert::unix_now());
    if facts.error.is_some() {
        return None;
    }
    let (_, parsed) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    let subject_cn = parsed
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(String::from);
    Some(CertSummary {
        subject_cn,
        names: facts.names,
        issuer: facts.issuer,
        not_after: facts.not_after,
    })
}

/// A certificate problem in the words a user acts on.
pub fn problem_words(e: &rustls::Error) -> String {
    let rustls::Error::InvalidCertificate(cert) = e else {
        return format!("TLS error: {e}");
    };
    match cert {
        CertificateError::Expired => "certificate expired".into(),
        CertificateError::ExpiredContext { not_after, .. } => {
            format!(
                "certificate expired (valid until {})",
                cert::rfc3339(secs(not_after))
            )
        }
        CertificateError::NotValidYet => "certificate not valid yet".into(),
        CertificateError::NotValidYetContext { not_before, .. } => {
            format!(
                "certificate not valid yet (valid from {})",
                cert::rfc3339(secs(not_before))
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
            expected: rustls::pki_types::ServerName::try_from("dns.test").unwrap(),
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
