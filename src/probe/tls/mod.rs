//! `probe --tls`/`--http`: after the TCP connect, an optional STARTTLS dialogue, a TLS handshake and an HTTP
//! request, each phase timed; the chain checked and every failure named.

pub mod clock;
pub mod connect;
pub mod failure;
pub mod handshake;
pub mod options;
pub mod recorder;
pub mod report;
pub mod roots;
pub mod session;
pub mod sniff;
pub mod starttls;
pub mod view;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use super::http;
use super::schedule::{AdaptiveTimeout, TryResult};
use super::sock::SocketSetup;
use crate::tls::cert::{CertFacts, unix_now};
use clock::Clock;
use failure::{Ended, Evidence};
use handshake::Failed;
pub use options::SessionOptions;
use session::{Phase, Session, SessionState, SessionVerdict, Verification};

/// What a probe needs to know of its target: the name asked for (None for an address) and its lookup time.
#[derive(Debug, Clone)]
pub struct TargetInfo {
    /// The host name given; None for an address.
    pub name: Option<String>,
    /// How long its name lookup took.
    pub lookup: Duration,
}

/// Connects to `dest` and runs the session `opts` asks for; the session's findings ride on the result.
pub async fn try_once(
    dest: SocketAddr,
    target: &TargetInfo,
    opts: &SessionOptions,
    setup: &SocketSetup,
    timeout: Arc<AdaptiveTimeout>,
) -> TryResult {
    let started = Instant::now();
    let (stream, mut result) = match connect::connect(dest, setup, &timeout).await {
        Ok(connected) => connected,
        Err(failed) => return failed,
    };
    let mut clock = Clock::start(target.lookup, started);
    clock.mark(Phase::Connect);
    result.session = Some(Box::new(session(stream, dest, target, opts, clock).await));
    result
}

async fn session(
    mut stream: tokio::net::TcpStream,
    dest: SocketAddr,
    target: &TargetInfo,
    opts: &SessionOptions,
    mut clock: Clock,
) -> Session {
    let mut s = Session {
        phases: Vec::new(),
        tls: None,
        chain: Vec::new(),
        verification: None,
        http: None,
        verdict: SessionVerdict::new(SessionState::Ok, "connected", None),
    };
    if let Some(proto) = opts.starttls {
        let upgraded = starttls::upgrade(&mut stream, proto, opts.wait).await;
        clock.mark(Phase::Starttls);
        if let Err(v) = upgraded {
            s.verdict = v;
            s.phases = clock.into_phases();
            return s;
        }
    }
    if opts.tls {
        tls_session(stream, dest, target, opts, &mut clock, &mut s).await;
    } else if let Some(req) = &opts.http {
        http_step(
            &mut stream,
            req,
            &host_header(dest, target, opts),
            opts,
            &mut clock,
            &mut s,
        )
        .await;
    }
    s.phases = clock.into_phases();
    s
}

async fn tls_session(
    stream: tokio::net::TcpStream,
    dest: SocketAddr,
    target: &TargetInfo,
    opts: &SessionOptions,
    clock: &mut Clock,
    s: &mut Session,
) {
    let sni = opts.sni.clone().or_else(|| target.name.clone());
    let name: ServerName<'static> = match &sni {
        Some(n) => {
            ServerName::try_from(n.clone()).unwrap_or_else(|_| ServerName::IpAddress(dest.ip().into()))
        }
        None => ServerName::IpAddress(dest.ip().into()),
    };
    let hostname = sni.clone().unwrap_or_else(|| dest.ip().to_string());
    let sent_sni = sni.filter(|n| n.parse::<std::net::IpAddr>().is_err());
    let hs = handshake::run(stream, opts, name, sent_sni).await;
    clock.mark(Phase::Tls);
    let now = unix_now();
    s.chain = hs
        .seen
        .chain
        .iter()
        .map(|c| CertFacts::from_der(c, now))
        .collect();
    if hs.seen.checked {
        s.verification = Some(verification(&hs.seen, &s.chain, &hostname, opts));
    }
    let ev = Evidence {
        seen: &hs.seen,
        chain: &s.chain,
        hostname: &hostname,
        now,
        sniffed: sniff::Sniffed::Nothing,
    };
    match hs.result {
        Ok((mut tls, facts)) => {
            s.verdict = failure::judge_done(&ev, opts.warn_days, &facts.version);
            let h2 = facts.alpn.as_deref() == Some("h2");
            s.tls = Some(facts);
            if let Some(req) = &opts.http {
                if h2 {
                    s.verdict = SessionVerdict::new(
                        SessionState::HttpError,
                        "the server chose h2 by ALPN; this probe speaks HTTP/1.1",
                        Some("offer --alpn http/1.1 (the default with --http)"),
                    );
                } else {
                    http_step(&mut tls, req, &host_header(dest, target, opts), opts, clock, s).await;
                }
            }
        }
        Err(failed) => {
            let ev = Evidence {
                sniffed: sniff::sniff(&hs.first_bytes),
                ..ev
            };
            let inner = match &failed {
                Failed::Io(e) => e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()),
                Failed::Timeout(_) => None,
            };
            let ended = match (&failed, inner) {
                (Failed::Timeout(w), _) => Ended::Timeout(*w),
                (_, Some(tls)) => Ended::Tls(tls),
                (Failed::Io(e), None) => Ended::Io(e),
            };
            s.verdict = failure::judge_failure(&ended, &ev);
        }
    }
}

fn verification(
    seen: &crate::tls::verifier::Seen,
    chain: &[CertFacts],
    hostname: &str,
    opts: &SessionOptions,
) -> Verification {
    Verification {
        roots: opts.roots.source.clone(),
        trusted: seen.chain_error.is_none(),
        chain_error: seen.chain_error.as_ref().map(|e| failure::shown(e)),
        hostname: hostname.to_string(),
        hostname_match: seen.name_error.is_none(),
        ocsp_stapled: seen.ocsp,
        min_days_left: chain
            .iter()
            .filter(|c| c.error.is_none())
            .map(|c| c.days_left)
            .min(),
        warn_days: opts.warn_days,
    }
}

/// The Host header: the name asked for (or the address), with the port unless it is the scheme's default.
fn host_header(dest: SocketAddr, target: &TargetInfo, opts: &SessionOptions) -> String {
    let host = match opts.sni.clone().or_else(|| target.name.clone()) {
        Some(n) => n,
        None if dest.is_ipv6() => format!("[{}]", dest.ip()),
        None => dest.ip().to_string(),
    };
    let default = if opts.tls { 443 } else { 80 };
    if dest.port() == default {
        host
    } else {
        format!("{host}:{}", dest.port())
    }
}

async fn http_step<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    req: &http::HttpRequest,
    host: &str,
    opts: &SessionOptions,
    clock: &mut Clock,
    s: &mut Session,
) {
    let facts = http::exchange(stream, req, host, opts.wait, clock).await;
    match (&facts.error, &facts.status_line) {
        (Some(why), _) => s.verdict = SessionVerdict::new(SessionState::HttpError, why.clone(), None),
        (None, Some(line)) if s.verdict.state == SessionState::Ok && !opts.tls => {
            s.verdict = SessionVerdict::new(SessionState::Ok, format!("answered '{line}'"), None);
        }
        _ => {}
    }
    s.http = Some(facts);
}
