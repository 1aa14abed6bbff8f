//! The `--tls`/`--http`/`--starttls` flags checked into the options one session needs (usage errors, exit 2,
//! before any I/O but reading `--ca`).

use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;
use rustls::pki_types::ServerName;

use super::roots::{self, Roots};
use super::starttls::Starttls;
use crate::cli::ProbeArgs;
use crate::error::{Error, Result};
use crate::probe::http::{HttpMethod, HttpRequest};

/// How long each step (handshake, dialogue, answer) waits without `-w`.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(5);

/// What a session does after the TCP connect.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// Make a TLS handshake.
    pub tls: bool,
    /// `--sni`: the name to send and check instead of the target's.
    pub sni: Option<String>,
    /// ALPN protocols to offer.
    pub alpn: Vec<String>,
    /// Trust anchors.
    pub roots: Roots,
    /// `--insecure`: finish the handshake whatever the certificate.
    pub insecure: bool,
    /// `--warn-days`.
    pub warn_days: u32,
    /// `--http`: the request to make.
    pub http: Option<HttpRequest>,
    /// `--starttls`.
    pub starttls: Option<Starttls>,
    /// Each step's wait.
    pub wait: Duration,
}

impl SessionOptions {
    /// The options the flags ask for; None without --tls, --http or --starttls.
    pub fn from_args(args: &ProbeArgs) -> Result<Option<SessionOptions>> {
        let wanted = args.tls || args.http || args.starttls.is_some();
        if !wanted {
            return no_session_flags(args).map(|()| None);
        }
        if args.udp {
            return Err(Error::usage(
                "--tls, --http and --starttls probe TCP: leave out --udp",
            ));
        }
        if args.send.is_some() || args.send_hex.is_some() {
            return Err(Error::usage(
                "--send and --send-hex cannot go with --tls, --http or --starttls",
            ));
        }
        let tls = args.tls || args.starttls.is_some();
        if !tls && (args.sni.is_some() || args.alpn.is_some() || args.ca.is_some() || args.insecure) {
            return Err(Error::usage("--sni, --alpn, --ca and --insecure need --tls"));
        }
        let http = args.http.then(|| http_request(args)).transpose()?;
        if !args.http && (args.http_path.is_some() || args.http_method.is_some()) {
            return Err(Error::usage("--http-path and --http-method need --http"));
        }
        let alpn = match &args.alpn {
            Some(list) => parse_alpn(list)?,
            None if http.is_some() => vec!["http/1.1".to_string()],
            None => Vec::new(),
        };
        Ok(Some(SessionOptions {
            tls,
            sni: args.sni.as_deref().map(check_sni).transpose()?,
            alpn,
            roots: match (&args.ca, tls) {
                (_, false) => Roots {
                    store: Arc::new(RootCertStore::empty()),
                    source: String::new(),
                },
                (Some(path), true) => roots::from_file(path)?,
                (None, true) => roots::system(),
            },
            insecure: args.insecure,
            warn_days: args.warn_days,
            http,
            starttls: args.starttls,
            wait: args.timeout.unwrap_or(DEFAULT_WAIT),
        }))
    }
}

/// The session's settings as the report states them.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct SessionSettings {
    /// A TLS handshake is made (`--tls`, or implied by `--starttls`).
    pub tls: bool,
    /// `--starttls`: the protocol upgraded; null without.
    pub starttls: Option<String>,
    /// `--sni`; null: the target's name.
    pub sni: Option<String>,
    /// ALPN protocols offered.
    pub alpn: Vec<String>,
    /// The trust anchors (`system (N certificates)`, `--ca FILE (N)`); empty without TLS.
    pub roots: String,
    /// `--insecure`.
    pub insecure: bool,
    /// `--warn-days`.
    pub warn_days: u32,
    /// The HTTP request line (`HEAD / HTTP/1.1`); null without --http.
    pub http: Option<String>,
    /// Each step's wait (handshake, dialogue, answer).
    pub wait_ms: f64,
}

impl SessionOptions {
    /// What the report states of these options.
    pub fn settings(&self) -> SessionSettings {
        SessionSettings {
            tls: self.tls,
            starttls: self.starttls.map(|s| format!("{s:?}").to_ascii_lowercase()),
            sni: self.sni.clone(),
            alpn: self.alpn.clone(),
            roots: self.roots.source.clone(),
            insecure: self.insecure,
            warn_days: self.warn_days,
            http: self
                .http
                .as_ref()
                .map(|h| format!("{} {} HTTP/1.1", h.method, h.path)),
            wait_ms: crate::render::ms_f64(self.wait),
        }
    }
}

fn no_session_flags(args: &ProbeArgs) -> Result<()> {
    let given = [
        ("--sni", args.sni.is_some()),
        ("--alpn", args.alpn.is_some()),
        ("--ca", args.ca.is_some()),
        ("--insecure", args.insecure),
        ("--http-path", args.http_path.is_some()),
        ("--http-method", args.http_method.is_some()),
    ];
    match given.iter().find(|(_, on)| *on) {
        Some((flag, _)) => Err(Error::usage(format!("{flag} needs --tls or --http"))),
        None => Ok(()),
    }
}

fn http_request(args: &ProbeArgs) -> Result<HttpRequest> {
    let path = args.http_path.clone().unwrap_or_else(|| "/".to_string());
    if !path.starts_with('/') || path.len() > 8000 || path.bytes().any(|b| !(0x21..0x7f).contains(&b)) {
        return Err(Error::usage(format!(
            "bad --http-path '{}': accepted: a path starting with '/', printable ASCII without spaces \
             (percent-encode the rest), at most 8000 bytes",
            crate::text::excerpt(&path, 100)
        )));
    }
    let method = match args.http_method.unwrap_or(HttpMethod::Head) {
        HttpMethod::Head => "HEAD",
        HttpMethod::Get => "GET",
    };
    Ok(HttpRequest {
        method: method.to_string(),
        path,
    })
}

/// `h2,http/1.1` as the list of protocols to offer.
pub fn parse_alpn(list: &str) -> Result<Vec<String>> {
    let protocols: Vec<String> = list.split(',').map(|p| p.trim().to_string()).collect();
    let bad = protocols
        .iter()
        .find(|p| p.is_empty() || p.len() > 255 || !p.bytes().all(|b| b.is_ascii_graphic()));
    if let Some(p) = bad {
        return Err(Error::usage(format!(
            "bad --alpn protocol '{}' in '{}': accepted: comma-separated protocol ids such as h2,http/1.1",
            crate::text::excerpt(p, 60),
            crate::text::excerpt(list, 100)
        )));
    }
    Ok(protocols)
}

fn check_sni(name: &str) -> Result<String> {
    let ok = !name.is_empty() && name.is_ascii() && ServerName::try_from(name.to_string()).is_ok();
    if !ok {
        return Err(Error::usage(format!(
            "bad --sni '{}': accepted: a DNS name (lab.example) or an address",
            crate::text::excerpt(name, 100)
        )));
    }
    Ok(name.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpn_lists() {
        assert_eq!(parse_alpn("h2,http/1.1").unwrap(), ["h2", "http/1.1"]);
        assert!(parse_alpn("h2,,x").is_err());
        assert!(parse_alpn("h 2").is_err());
        assert!(check_sni("lab.test").is_ok());
        assert!(check_sni("bad name").is_err());
    }
}
