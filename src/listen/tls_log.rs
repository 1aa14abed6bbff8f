//! --tls on one connection: the handshake run before the mode, logged as a `tls` event with what the client
//! offered (SNI, ALPN, versions) and what was agreed, or why it failed, by name.

use std::time::SystemTime;

use rustls::ServerConnection;
use schemars::JsonSchema;
use serde::Serialize;

use super::endpoint::Endpoint;
use super::format::rfc3339;
use super::hello::ClientHello;
use super::log::Event;
use super::session::{End, EndKind, Proto, SessionId};
use super::state::Shared;
use super::stream::Stream;
use super::tls::{Handshake, TlsStream};
use super::tls_setup::TlsSetup;
use crate::tls::version_name;

/// A TLS handshake, agreed or failed.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TlsHandshake {
    /// When it ended, RFC 3339 UTC with milliseconds.
    pub occurred_at: String,
    /// The session (connection) it is on.
    pub session_id: SessionId,
    /// TCP or Unix (stream).
    pub protocol: Proto,
    /// The client's end.
    pub peer: Endpoint,
    /// The end it reached.
    pub local: Endpoint,
    /// The host name the client asked for (SNI); null when it sent none (or no ClientHello).
    pub server_name: Option<String>,
    /// The application protocols the client offered (ALPN), in its order.
    pub alpn_offered: Vec<String>,
    /// The TLS versions the client offered, as named (`TLS 1.3`).
    pub versions_offered: Vec<String>,
    /// The version agreed; null when the handshake failed.
    pub version: Option<String>,
    /// The cipher suite agreed; null when the handshake failed.
    pub cipher_suite: Option<String>,
    /// Why the handshake failed, in words; null when it succeeded.
    pub failure: Option<String>,
}

/// Runs the handshake on an accepted connection and logs it; the TLS stream, or how the session ends.
pub async fn accept(
    stream: Stream,
    setup: &TlsSetup,
    id: SessionId,
    ends: (&Endpoint, &Endpoint),
    shared: &Shared,
) -> Result<Stream, End> {
    let protocol = stream.proto();
    let conn = ServerConnection::new(setup.config.clone()).map_err(|e| End::error(e.to_string()))?;
    let (result, seen) = TlsStream::accept(stream, conn, shared.cfg.idle_timeout).await;
    let hello = seen.hello.clone().unwrap_or_default();
    let mut event = TlsHandshake {
        occurred_at: rfc3339(SystemTime::now()),
        session_id: id,
        protocol,
        peer: ends.0.clone(),
        local: ends.1.clone(),
        server_name: hello.server_name.clone(),
        alpn_offered: hello.alpn.clone(),
        versions_offered: hello.versions.iter().map(|&v| version_name(v)).collect(),
        version: None,
        cipher_suite: None,
        failure: None,
    };
    let outcome = match result {
        Ok(tls) => {
            tls.with_conn(|c| {
                event.version = c.protocol_version().map(|v| version_name(u16::from(v)));
                event.cipher_suite = c.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite()));
            });
            Ok(Stream::Tls(Box::new(tls)))
        }
        Err(e) => {
            let why = failure(&seen, e.as_ref());
            event.failure = Some(why.clone());
            Err(End {
                kind: EndKind::TlsFailed,
                detail: Some(why),
            })
        }
    };
    // Under --quiet the log leaves it out, as every event about one client.
    shared.emit(&Event::Tls(event));
    outcome
}

/// Why a handshake failed, by name: plain HTTP, not TLS, the certificate rejected (with the alert), no
/// common version or application protocol, the client gone; else rustls's words.
pub fn failure(seen: &Handshake, err: Option<&rustls::Error>) -> String {
    let hello = seen.hello.clone().unwrap_or_default();
    if seen.plain_http {
        return "plain HTTP spoken to a TLS port (answered 400)".into();
    }
    if seen.not_tls {
        return "not TLS: the client's first bytes are no TLS handshake".into();
    }
    match err {
        None => "the client went away or stalled before the handshake finished".into(),
        Some(rustls::Error::AlertReceived(a)) if rejects_certificate(a) => {
            format!("the client rejected our certificate (alert {})", alert_name(a))
        }
        Some(rustls::Error::AlertReceived(a)) => format!("the client sent alert {}", alert_name(a)),
        Some(e @ rustls::Error::PeerIncompatible(_)) => match hello.newest() {
            Some(v) if v < 0x0303 => format!(
                "no common protocol version: the client offered only {} (this listener speaks TLS 1.2 and 1.3)",
                offered(&hello)
            ),
            _ => format!("no common protocol: {e}"),
        },
        Some(rustls::Error::NoApplicationProtocol) => format!(
            "no common application protocol (ALPN): the client offered {}",
            hello.alpn.join(", ")
        ),
        Some(e) => e.to_string(),
    }
}

fn offered(hello: &ClientHello) -> String {
    let names: Vec<String> = hello.versions.iter().map(|&v| version_name(v)).collect();
    names.join(", ")
}

/// Alerts a client sends when it does not accept the server's certificate.
fn rejects_certificate(a: &rustls::AlertDescription) -> bool {
    use rustls::AlertDescription as A;
    matches!(
        a,
        A::BadCertificate
            | A::UnsupportedCertificate
            | A::CertificateRevoked
            | A::CertificateExpired
            | A::CertificateUnknown
            | A::UnknownCA
    )
}

/// An alert's RFC name: `bad_certificate`, `unknown_ca`.
pub fn alert_name(a: &rustls::AlertDescription) -> String {
    let camel = format!("{a:?}");
    let mut out = String::new();
    let mut prev_lower = false;
    for c in camel.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The text words of a `tls` event (after `PEER -> LOCAL`).
pub fn words(t: &TlsHandshake) -> String {
    let sni = t.server_name.as_deref().unwrap_or("-");
    let alpn = if t.alpn_offered.is_empty() {
        "-".to_string()
    } else {
        t.alpn_offered.join(",")
    };
    let offer = format!("SNI {sni}, ALPN offered {alpn}");
    match (&t.failure, &t.version) {
        (Some(why), _) => {
            let versions = if t.versions_offered.is_empty() {
                "-".to_string()
            } else {
                t.versions_offered.join(",")
            };
            format!("tls failed: {why}; versions offered {versions}, {offer}")
        }
        (None, v) => format!(
            "tls: {} {}, {offer}",
            v.as_deref().unwrap_or("?"),
            t.cipher_suite.as_deref().unwrap_or("?")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(versions: &[u16]) -> Handshake {
        Handshake {
            hello: Some(ClientHello {
                server_name: Some("localhost".into()),
                alpn: vec!["h2".into()],
                versions: versions.to_vec(),
            }),
            ..Handshake::default()
        }
    }

    #[test]
    fn failures_are_named() {
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::UnknownCA);
        assert_eq!(
            failure(&seen(&[0x0304]), Some(&alert)),
            "the client rejected our certificate (alert unknown_ca)"
        );
        let old = rustls::Error::PeerIncompatible(rustls::PeerIncompatible::ServerDoesNotSupportTls12Or13);
        assert_eq!(
            failure(&seen(&[0x0301]), Some(&old)),
            "no common protocol version: the client offered only TLS 1.0 (this listener speaks TLS 1.2 and 1.3)"
        );
        let http = Handshake {
            plain_http: true,
            ..Handshake::default()
        };
        assert!(failure(&http, None).starts_with("plain HTTP spoken to a TLS port"));
        assert!(failure(&Handshake::default(), None).contains("went away"));
        assert_eq!(
            alert_name(&rustls::AlertDescription::BadCertificate),
            "bad_certificate"
        );
    }
}
