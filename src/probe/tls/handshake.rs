//! One TLS handshake over a connected stream, with a recording verifier and a recording stream, so that a
//! failure can be named from what the server really sent.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::Resumption;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, HandshakeKind};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::SessionOptions;
use super::recorder::Recorder;
use super::session::TlsFacts;
use crate::tls::verifier::{Recording, Seen};
use crate::tls::version_name;

/// How a handshake that did not finish ended.
#[derive(Debug)]
pub enum Failed {
    /// No end within the wait.
    Timeout(Duration),
    /// The error (a rustls error inside, when rustls refused).
    Io(io::Error),
}

/// What a handshake left behind, finished or not.
#[derive(Debug)]
pub struct Handshake<S> {
    /// The stream and the negotiated parameters, or how it failed.
    pub result: Result<(TlsStream<Recorder<S>>, TlsFacts), Failed>,
    /// What the verifier saw.
    pub seen: Seen,
    /// The server's first bytes.
    pub first_bytes: Vec<u8>,
}

/// Runs the handshake to `name` (SNI `sni`) within `wait`.
pub async fn run<S>(
    stream: S,
    opts: &SessionOptions,
    name: ServerName<'static>,
    sni: Option<String>,
) -> Handshake<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let seen = Arc::new(Mutex::new(Seen::default()));
    let bytes = Arc::new(Mutex::new(Vec::new()));
    let config = client_config(opts, Arc::clone(&seen), sni.is_some());
    let connector = TlsConnector::from(Arc::new(config));
    let connect = connector.connect(name, Recorder::new(stream, Arc::clone(&bytes)));
    let result = match tokio::time::timeout(opts.wait, connect).await {
        Err(_) => Err(Failed::Timeout(opts.wait)),
        Ok(Err(e)) => Err(Failed::Io(e)),
        Ok(Ok(tls)) => {
            let facts = facts(&tls, opts, sni);
            Ok((tls, facts))
        }
    };
    let seen = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let first_bytes = bytes.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Handshake {
        result,
        seen,
        first_bytes,
    }
}

/// A client configuration for one connection: full handshakes (no resumption, so repeats time the same
/// work), the offered ALPN protocols, the recording verifier.
fn client_config(opts: &SessionOptions, seen: Arc<Mutex<Seen>>, sni: bool) -> ClientConfig {
    let verifier = Recording::new(Arc::clone(&opts.roots.store), opts.insecure, seen);
    let builder = ClientConfig::builder_with_provider(crate::tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|_| unreachable!("the ring provider supports TLS 1.2 and 1.3"));
    let mut config = builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = opts.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    config.resumption = Resumption::disabled();
    config.enable_sni = sni;
    config
}

fn facts<S>(tls: &TlsStream<S>, opts: &SessionOptions, sni: Option<String>) -> TlsFacts {
    let (_, conn) = tls.get_ref();
    let version = conn
        .protocol_version()
        .map_or(String::new(), |v| version_name(u16::from(v)));
    TlsFacts {
        version,
        cipher_suite: conn
            .negotiated_cipher_suite()
            .map_or(String::new(), |s| format!("{:?}", s.suite())),
        kx_group: conn
            .negotiated_key_exchange_group()
            .map(|g| format!("{:?}", g.name())),
        alpn: conn.alpn_protocol().map(crate::text::escape_bytes),
        alpn_offered: opts.alpn.clone(),
        h2_offered: opts.alpn.iter().any(|p| p == "h2"),
        resumed: conn.handshake_kind() == Some(HandshakeKind::Resumed),
        sni,
    }
}
