//! Encrypted DNS (`@tls://`, `@https://`) through hickory's own DoT and DoH clients: one connection is made
//! per run, timed apart from the queries, and every question is sent over it, many in flight at once. The
//! certificate the server showed, and any problem with it, go into the report.

pub mod certs;
pub mod spec;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_resolver::net::h2::HttpsClientStream;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::xfer::{DnsExchange, FirstAnswer};
use hickory_resolver::net::{DnsHandle, NetError};
use hickory_resolver::proto::op::{DnsRequestOptions, Query};
use rustls::pki_types::ServerName;
use schemars::JsonSchema;
use serde::Serialize;

use super::accept::{IgnoredReplies, Verdict, judge_bytes};
use super::exchange::{Answered, Exchange, Transport, Try, TryOutcome};
use crate::error::{Error, Result};
use certs::{CertSummary, Seen};
use spec::{EncryptedSpec, Scheme};

/// The most queries in flight on the one connection (hickory's multiplexer holds this many).
const MAX_IN_FLIGHT: usize = 64;

/// How the encrypted connection went, for the report.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SessionInfo {
    /// `tls` or `https`.
    pub transport: Transport,
    /// The server as given (`tls://...`, `https://...`).
    pub url: String,
    /// The address connected to.
    pub server: SocketAddr,
    /// The name the certificate was checked against.
    pub tls_name: String,
    /// The certificate the server showed (null when none came).
    pub certificate: Option<CertSummary>,
    /// TCP connect and TLS handshake (and, for HTTPS, the HTTP/2 preface), apart from every query time.
    pub handshake_ms: Option<f64>,
    /// Why no connection could be made (a certificate problem in words, a refusal, a timeout).
    pub problem: Option<String>,
    /// `--ca`: the CA file trusted instead of the system's.
    pub ca: Option<PathBuf>,
}

/// One encrypted connection, kept for the whole run (every chunk of names is sent over it).
pub struct Session {
    runtime: tokio::runtime::Runtime,
    // Holds the connection's background task: hickory aborts it when the last handle of its provider goes.
    _provider: TokioRuntimeProvider,
    handle: Option<DnsExchange<TokioRuntimeProvider>>,
    /// How the connection went.
    pub info: SessionInfo,
}

/// What one query needs besides the connection.
#[derive(Clone, Copy)]
struct Asking {
    server: SocketAddr,
    transport: Transport,
    timeout: Duration,
    dnssec: bool,
}

impl Session {
    /// Connects (looking the host up first when a name was given) and times the handshake. A connection that
    /// fails is kept as a problem: every query then reports it.
    pub fn connect(
        spec: &EncryptedSpec,
        ca: Option<&std::path::Path>,
        family: crate::lookup::Family,
        timeout: Duration,
    ) -> Result<Session> {
        let roots = Arc::new(certs::roots(ca)?);
        let server = super::server::address_of(&spec.server, family)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("starting the async runtime", e))?;
        let seen = Arc::new(Mutex::new(Seen::default()));
        let config = certs::client_config(roots, seen.clone())?;
        let transport = match spec.scheme {
            Scheme::Tls => Transport::Tls,
            Scheme::Https => Transport::Https,
        };
        let started = Instant::now();
        let keep = TokioRuntimeProvider::new();
        let provider = keep.clone();
        let connected = runtime.block_on(async {
            let connecting = async {
                match spec.scheme {
                    Scheme::Tls => {
                        let name = ServerName::try_from(spec.tls_name.clone())
                            .map_err(|e| NetError::from(format!("bad certificate name: {e}")))?;
                        hickory_resolver::net::tls::tls_exchange(
                            server,
                            name,
                            config,
                            timeout,
                            Some(MAX_IN_FLIGHT),
                            provider,
                        )
                        .await
                    }
                    Scheme::Https => {
                        let mut builder = HttpsClientStream::builder(Arc::new(config), provider);
                        builder.request_timeout(timeout);
                        builder
                            .exchange(server, spec.tls_name.as_str().into(), spec.path.as_str().into())
                            .await
                    }
                }
            };
            tokio::time::timeout(timeout, connecting).await
        });
        let handshake = started.elapsed();
        let (certificate, cert_problem) = certs::verdict(&seen.lock().unwrap_or_else(|e| e.into_inner()));
        let (handle, problem) = match connected {
            Ok(Ok(handle)) => (Some(handle), None),
            Ok(Err(e)) => (None, Some(cert_problem.unwrap_or_else(|| net_words(&e)))),
            Err(_) => (
                None,
                Some(format!("no connection within {}", crate::render::fmt_ms(timeout))),
            ),
        };
        let info = SessionInfo {
            transport,
            url: spec.given.clone(),
            server,
            tls_name: spec.tls_name.clone(),
            certificate,
            handshake_ms: handle.is_some().then(|| crate::render::ms_f64(handshake)),
            problem,
            ca: ca.map(PathBuf::from),
        };
        Ok(Session {
            runtime,
            _provider: keep,
            handle,
            info,
        })
    }

    /// Asks every question over the connection with at most `limit` in flight, in question order; with
    /// Ctrl-C the questions not finished come back as None.
    pub fn ask_all(
        &self,
        questions: &[Query],
        limit: usize,
        timeout: Duration,
        dnssec: bool,
    ) -> Result<Vec<Option<Exchange>>> {
        let asking = Asking {
            server: self.info.server,
            transport: self.info.transport,
            timeout,
            dnssec,
        };
        let handle = self.handle.clone();
        let problem = self.info.problem.clone().unwrap_or_default();
        super::ask_with(
            &self.runtime,
            questions,
            limit.min(MAX_IN_FLIGHT),
            true,
            move |query| {
                let (handle, problem) = (handle.clone(), problem.clone());
                async move {
                    match handle {
                        Some(handle) => ask(&handle, asking, query).await,
                        None => failed(asking, TryOutcome::NoConnection(problem), Duration::ZERO),
                    }
                }
            },
        )
    }
}

/// One question over the connection: one try (the connection itself is reliable; a lost answer is a timeout).
async fn ask(handle: &DnsExchange<TokioRuntimeProvider>, asking: Asking, query: Query) -> Exchange {
    let mut options = DnsRequestOptions::default();
    options.recursion_desired = true;
    options.use_edns = asking.dnssec;
    options.edns_set_dnssec_ok = asking.dnssec;
    options.edns_payload_len = 1232;
    let started = Instant::now();
    let sent = handle.lookup(query.clone(), options).first_answer();
    let answer = match tokio::time::timeout(asking.timeout, sent).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(NetError::Timeout)) | Err(_) => {
            return failed(asking, TryOutcome::TimedOut, started.elapsed());
        }
        Ok(Err(e)) => return failed(asking, TryOutcome::NoConnection(net_words(&e)), started.elapsed()),
    };
    let query_time = started.elapsed();
    let bytes = answer.as_buffer();
    let id = answer.metadata.id;
    match judge_bytes(bytes, id, &query) {
        Verdict::Ours(message) => Exchange {
            tries: vec![one_try(asking, TryOutcome::Answered, query_time)],
            answer: Some(Answered {
                message,
                server: asking.server,
                transport: asking.transport,
                query_time,
                size: bytes.len(),
            }),
        },
        Verdict::Foreign(_) => failed(
            asking,
            TryOutcome::BadResponse("the answer does not match the query (question)".into()),
            query_time,
        ),
        Verdict::Malformed(why) => failed(asking, TryOutcome::BadResponse(why), query_time),
    }
}

fn one_try(asking: Asking, outcome: TryOutcome, elapsed: Duration) -> Try {
    Try {
        server: asking.server,
        transport: asking.transport,
        outcome,
        elapsed,
        ignored: IgnoredReplies::default(),
    }
}

fn failed(asking: Asking, outcome: TryOutcome, elapsed: Duration) -> Exchange {
    Exchange {
        tries: vec![one_try(asking, outcome, elapsed)],
        answer: None,
    }
}

/// A hickory network error in plain words (a refused connection, a closed one, an HTTP status).
fn net_words(e: &NetError) -> String {
    match e {
        NetError::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
            std::io::ErrorKind::TimedOut => "connection timed out".into(),
            _ => crate::error::plain_io(io),
        },
        NetError::Timeout => "timed out".into(),
        other => other.to_string(),
    }
}
