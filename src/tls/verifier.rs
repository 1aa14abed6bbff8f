//! A certificate verifier that checks as rustls's WebPKI verifier does, but keeps what it saw: the chain as
//! sent, whether the chain and the name verified (each on its own), whether OCSP was stapled. `probe --tls`
//! reports all of it (and with `--insecure` lets the handshake finish whatever the certificate); encrypted DNS
//! reports the server's certificate and its first problem.

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_cert_signed_by_trust_anchor, verify_server_name};
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{DigitallySignedStruct, Error, RootCertStore, SignatureScheme};

/// What the verifier saw during one handshake.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    /// The chain as sent, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The server stapled an OCSP response.
    pub ocsp: bool,
    /// Why the chain does not verify (None: it does, or no certificate came).
    pub chain_error: Option<Error>,
    /// Why the certificate is not valid for the name.
    pub name_error: Option<Error>,
    /// Whether a certificate was checked at all.
    pub checked: bool,
}

impl Seen {
    /// The first reason the certificate was refused: the chain's, else the name's.
    pub fn first_error(&self) -> Option<&Error> {
        self.chain_error.as_ref().or(self.name_error.as_ref())
    }
}

/// The verifier for one connection.
#[derive(Debug)]
pub struct Recording {
    roots: Arc<RootCertStore>,
    algs: WebPkiSupportedAlgorithms,
    insecure: bool,
    seen: Arc<Mutex<Seen>>,
}

impl Recording {
    /// A verifier against `roots`; what it sees goes to `seen`.
    pub fn new(roots: Arc<RootCertStore>, insecure: bool, seen: Arc<Mutex<Seen>>) -> Self {
        Recording {
            roots,
            algs: crate::tls::provider().signature_verification_algorithms,
            insecure,
            seen,
        }
    }
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let (chain_error, name_error) = match ParsedCertificate::try_from(end_entity) {
            Ok(parsed) => (
                verify_server_cert_signed_by_trust_anchor(
                    &parsed,
                    &self.roots,
                    intermediates,
                    now,
                    self.algs.all,
                )
                .err(),
                verify_server_name(&parsed, server_name).err(),
            ),
            Err(e) => (Some(e), None),
        };
        let first = chain_error.clone().or_else(|| name_error.clone());
        {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            seen.chain = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.clone().into_owned())
                .collect();
            seen.ocsp = !ocsp_response.is_empty();
            seen.chain_error = chain_error;
            seen.name_error = name_error;
            seen.checked = true;
        }
        match first {
            Some(e) if !self.insecure => Err(e),
            _ => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}
