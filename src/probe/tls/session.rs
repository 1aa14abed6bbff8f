//! What one `--tls`/`--http` connection found: its timed phases, the TLS facts, the chain as sent, the
//! verification, the HTTP answer and the verdict (plain data; the report turns durations into milliseconds).

use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use crate::tls::cert::CertFacts;

/// A phase of a connection, in the order they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Name lookup (getaddrinfo) of the target; 0 for an address.
    Lookup,
    /// TCP connect: SYN to SYN-ACK.
    Connect,
    /// The protocol's plain-text dialogue before TLS (`--starttls`).
    Starttls,
    /// TLS handshake: ClientHello to the handshake's end.
    Tls,
    /// Writing the HTTP request.
    Request,
    /// From the request sent to the first byte of the answer (server processing and one round trip).
    FirstByte,
    /// From the first byte to the end of the answer.
    Transfer,
}

impl Phase {
    /// The name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Lookup => "lookup",
            Phase::Connect => "connect",
            Phase::Starttls => "starttls",
            Phase::Tls => "tls",
            Phase::Request => "request",
            Phase::FirstByte => "first byte",
            Phase::Transfer => "transfer",
        }
    }
}

/// The verdict of a connection beyond TCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// Handshake done, certificate trusted and valid for the name (and the HTTP answer came, with --http).
    Ok,
    /// As ok, but a certificate of the chain expires within --warn-days.
    ExpiresSoon,
    /// Handshake done with a certificate that does not verify, accepted because of --insecure.
    Insecure,
    /// A certificate of the chain has expired.
    Expired,
    /// A certificate of the chain is not valid yet.
    NotYetValid,
    /// The certificate is not for the name asked.
    NameMismatch,
    /// The chain ends at a root that is not trusted.
    UnknownIssuer,
    /// The issuer of the last certificate sent is neither sent nor trusted (a missing intermediate).
    IncompleteChain,
    /// A single self-signed certificate.
    SelfSigned,
    /// Another certificate problem (bad signature, wrong purpose, unreadable).
    BadCertificate,
    /// The server ended the handshake with an alert.
    Alert,
    /// No TLS version, cipher suite, group or ALPN protocol in common.
    NoCommonProtocol,
    /// The server speaks only SSL 3 / TLS 1.0 / 1.1, which this tool cannot handshake.
    LegacyOnly,
    /// The server answered the ClientHello in plain HTTP.
    PlainHttp,
    /// The server answered with something that is not TLS.
    NotTls,
    /// The server closed the connection during the handshake.
    Closed,
    /// No answer to the ClientHello (or to the STARTTLS dialogue, or the HTTP request) in time.
    Timeout,
    /// The STARTTLS dialogue failed (no greeting, the upgrade refused).
    StarttlsFailed,
    /// Another TLS error.
    TlsError,
    /// The HTTP request got no usable answer.
    HttpError,
}

impl SessionState {
    /// The name shown in tables.
    pub fn name(self) -> &'static str {
        match self {
            SessionState::Ok => "ok",
            SessionState::ExpiresSoon => "expires soon",
            SessionState::Insecure => "insecure",
            SessionState::Expired => "expired",
            SessionState::NotYetValid => "not yet valid",
            SessionState::NameMismatch => "name mismatch",
            SessionState::UnknownIssuer => "unknown issuer",
            SessionState::IncompleteChain => "incomplete chain",
            SessionState::SelfSigned => "self-signed",
            SessionState::BadCertificate => "bad certificate",
            SessionState::Alert => "alert",
            SessionState::NoCommonProtocol => "no common protocol",
            SessionState::LegacyOnly => "legacy TLS only",
            SessionState::PlainHttp => "plain HTTP",
            SessionState::NotTls => "not TLS",
            SessionState::Closed => "closed",
            SessionState::Timeout => "timeout",
            SessionState::StarttlsFailed => "starttls failed",
            SessionState::TlsError => "TLS error",
            SessionState::HttpError => "HTTP error",
        }
    }

    /// Whether the exit code counts this as success (warnings included).
    pub fn passes(self) -> bool {
        matches!(
            self,
            SessionState::Ok | SessionState::ExpiresSoon | SessionState::Insecure
        )
    }
}

/// A verdict with its reason and what to try.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SessionVerdict {
    /// The state.
    pub state: SessionState,
    /// Why, in words.
    pub reason: String,
    /// What to check or try next; null when nothing is wrong.
    pub hint: Option<String>,
}

impl SessionVerdict {
    /// A verdict.
    pub fn new(state: SessionState, reason: impl Into<String>, hint: Option<&str>) -> Self {
        SessionVerdict {
            state,
            reason: reason.into(),
            hint: hint.map(str::to_string),
        }
    }
}

/// The negotiated TLS parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, JsonSchema)]
pub struct TlsFacts {
    /// `TLS 1.3`, `TLS 1.2`.
    pub version: String,
    /// The cipher suite's IANA name.
    pub cipher_suite: String,
    /// The key exchange group (`X25519`, `secp256r1`); null when not known.
    pub kx_group: Option<String>,
    /// The protocol ALPN chose; null when none.
    pub alpn: Option<String>,
    /// The protocols the ClientHello offered by ALPN.
    pub alpn_offered: Vec<String>,
    /// Whether the ClientHello offered h2.
    pub h2_offered: bool,
    /// The session was resumed (probe makes full handshakes, so false unless a server misbehaves).
    pub resumed: bool,
    /// The name sent as SNI; null for an address target without --sni.
    pub sni: Option<String>,
}

/// Whether the chain is trusted and valid for the name.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, JsonSchema)]
pub struct Verification {
    /// The roots checked against: `system (N certificates)`, `--ca FILE (N)`, `webpki-roots (N)`.
    pub roots: String,
    /// The chain leads to a trusted root and every certificate is in its validity period.
    pub trusted: bool,
    /// Why it does not, in the verifier's words; null when trusted.
    pub chain_error: Option<String>,
    /// The name (or address) checked against the certificate.
    pub hostname: String,
    /// Whether the certificate is valid for it.
    pub hostname_match: bool,
    /// Whether the server stapled an OCSP response.
    pub ocsp_stapled: bool,
    /// The fewest days left of any certificate of the chain.
    pub min_days_left: Option<i64>,
    /// `--warn-days`.
    pub warn_days: u32,
}

/// What the HTTP request got.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, JsonSchema)]
pub struct HttpFacts {
    /// The request line sent (`HEAD / HTTP/1.1`).
    pub request: String,
    /// The Host header sent.
    pub host: String,
    /// The status line (escaped); null when no answer came.
    pub status_line: Option<String>,
    /// The status code; null when no answer came.
    pub status: Option<u16>,
    /// The Server header (escaped); null when absent.
    pub server: Option<String>,
    /// The Location header of a redirect (escaped); null when absent.
    pub location: Option<String>,
    /// Body bytes read.
    pub body_bytes: u64,
    /// Why the answer is missing or incomplete; null when it came whole.
    pub error: Option<String>,
}

/// One connection's findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Phases in order with their durations (consecutive timestamps, so they add up to the total).
    pub phases: Vec<(Phase, Duration)>,
    /// TLS parameters; None without a finished handshake.
    pub tls: Option<TlsFacts>,
    /// The certificates as the server sent them, leaf first.
    pub chain: Vec<CertFacts>,
    /// The verification; None when no certificate came.
    pub verification: Option<Verification>,
    /// The HTTP exchange, with --http.
    pub http: Option<HttpFacts>,
    /// The verdict.
    pub verdict: SessionVerdict,
}

impl Session {
    /// The sum of the phases.
    pub fn total(&self) -> Duration {
        self.phases.iter().map(|(_, d)| *d).sum()
    }
}
