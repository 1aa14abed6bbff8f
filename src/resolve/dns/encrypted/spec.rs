//! The encrypted server forms: `tls://ADDR[:PORT][#NAME]` (DNS over TLS, RFC 7858) and
//! `https://HOST[:PORT][/PATH][#NAME]` (DNS over HTTPS, RFC 8484), as doggo writes them; `#NAME` is the name the
//! certificate must carry when it is not the host given (an address, or a name the lab cannot look up).

use rustls::pki_types::ServerName;

use super::super::server::{ServerSpec, parse_server};
use crate::error::{Error, Result};
use crate::host::{RESOLVE, check_host};
use crate::target::parse_ip_literal;

/// What an encrypted server argument accepts, for error messages.
pub const ENCRYPTED_ACCEPTED: &str = "tls://ADDR[:PORT][#NAME] (DNS over TLS, port 853) or \
https://HOST[:PORT][/PATH][#NAME] (DNS over HTTPS, port 443, path /dns-query); #NAME is the name the \
certificate must carry when it is not HOST";

/// DNS over TLS or over HTTPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// RFC 7858: length-prefixed messages on one TLS connection.
    Tls,
    /// RFC 8484: one HTTP/2 POST per message.
    Https,
}

impl Scheme {
    fn default_port(self) -> u16 {
        match self {
            Scheme::Tls => 853,
            Scheme::Https => 443,
        }
    }
}

/// An encrypted server as the user wrote it, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedSpec {
    /// TLS or HTTPS.
    pub scheme: Scheme,
    /// The address (or the host name to look up) and the port.
    pub server: ServerSpec,
    /// The path of the DoH endpoint (HTTPS only; empty for TLS).
    pub path: String,
    /// The name the certificate is checked against (and the HTTP authority).
    pub tls_name: String,
    /// The argument as given, without its `@`.
    pub given: String,
}

/// Whether a server argument names an encrypted transport (so its errors are worded for that form).
pub fn is_encrypted(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.starts_with("tls://") || lower.starts_with("https://")
}

/// Parses `tls://...` or `https://...`.
pub fn parse_encrypted(text: &str) -> Result<EncryptedSpec> {
    let bad = |why: &str| {
        Error::usage(format!(
            "bad server '{text}': {why}; accepted: {ENCRYPTED_ACCEPTED}"
        ))
    };
    let (scheme, rest) = match text.split_once("://") {
        Some((s, rest)) if s.eq_ignore_ascii_case("tls") => (Scheme::Tls, rest),
        Some((s, rest)) if s.eq_ignore_ascii_case("https") => (Scheme::Https, rest),
        _ => return Err(bad("unknown scheme")),
    };
    let (rest, name) = match rest.split_once('#') {
        Some((rest, name)) => (rest, Some(name)),
        None => (rest, None),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let path = match (scheme, path) {
        (Scheme::Tls, "" | "/") => String::new(),
        (Scheme::Tls, _) => return Err(bad("a tls:// server has no path")),
        (Scheme::Https, "" | "/") => "/dns-query".to_string(),
        (Scheme::Https, p) if p.chars().all(|c| c.is_ascii_graphic()) => p.to_string(),
        (Scheme::Https, _) => return Err(bad("the path holds a space or a character outside ASCII")),
    };
    if authority.is_empty() {
        return Err(bad("no server address or name"));
    }
    let mut server =
        parse_server(authority).map_err(|_| bad("the server is not an address or a host name"))?;
    if !has_port(authority)? {
        server = with_port(server, scheme.default_port());
    }
    let host = match &server {
        ServerSpec::Addr(addr) => addr.ip().to_string(),
        ServerSpec::Host(host, _) => host.clone(),
    };
    let tls_name = match name {
        Some("") => return Err(bad("empty name after '#'")),
        Some(n) => {
            check_host(n, RESOLVE).map_err(|_| bad("the name after '#' is not a host name"))?;
            n.to_string()
        }
        None => host,
    };
    if ServerName::try_from(tls_name.as_str()).is_err() {
        return Err(bad(&format!("'{tls_name}' cannot be a certificate name")));
    }
    Ok(EncryptedSpec {
        scheme,
        server,
        path,
        tls_name,
        given: text.to_string(),
    })
}

/// Whether the authority part names a port (`[V6]:P`, `A.B.C.D:P`, `host:P`; a bare IPv6 address has none).
fn has_port(authority: &str) -> Result<bool> {
    if let Some(rest) = authority.strip_prefix('[') {
        return Ok(rest.contains("]:"));
    }
    Ok(parse_ip_literal(authority)?.is_none() && authority.contains(':'))
}

fn with_port(server: ServerSpec, port: u16) -> ServerSpec {
    match server {
        ServerSpec::Addr(mut addr) => {
            addr.set_port(port);
            ServerSpec::Addr(addr)
        }
        ServerSpec::Host(host, _) => ServerSpec::Host(host, port),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> (Scheme, ServerSpec, String, String) {
        let s = parse_encrypted(text).unwrap();
        (s.scheme, s.server, s.path, s.tls_name)
    }

    fn addr(text: &str) -> ServerSpec {
        ServerSpec::Addr(text.parse().unwrap())
    }

    #[test]
    fn tls_forms() {
        assert_eq!(
            parsed("tls://1.1.1.1"),
            (Scheme::Tls, addr("1.1.1.1:853"), String::new(), "1.1.1.1".into())
        );
        assert_eq!(
            parsed("tls://127.0.0.1:8853#dns.test"),
            (
                Scheme::Tls,
                addr("127.0.0.1:8853"),
                String::new(),
                "dns.test".into()
            )
        );
        assert_eq!(
            parsed("TLS://[2001:db8::53]"),
            (
                Scheme::Tls,
                addr("[2001:db8::53]:853"),
                String::new(),
                "2001:db8::53".into()
            )
        );
        assert_eq!(
            parsed("tls://2001:db8::53"),
            (
                Scheme::Tls,
                addr("[2001:db8::53]:853"),
                String::new(),
                "2001:db8::53".into()
            )
        );
        assert_eq!(
            parsed("tls://dns.example:8853"),
            (
                Scheme::Tls,
                ServerSpec::Host("dns.example".into(), 8853),
                String::new(),
                "dns.example".into()
            )
        );
    }

    #[test]
    fn https_forms() {
        assert_eq!(
            parsed("https://dns.example/dns-query"),
            (
                Scheme::Https,
                ServerSpec::Host("dns.example".into(), 443),
                "/dns-query".into(),
                "dns.example".into()
            )
        );
        assert_eq!(
            parsed("https://127.0.0.1:8443/q?x=1#doh.test"),
            (
                Scheme::Https,
                addr("127.0.0.1:8443"),
                "/q?x=1".into(),
                "doh.test".into()
            )
        );
        assert_eq!(parsed("https://dns.example").2, "/dns-query");
    }

    #[test]
    fn bad_forms_say_what_is_accepted() {
        for bad in [
            "quic://1.1.1.1",
            "tls://",
            "tls://1.1.1.1/path",
            "tls://1.1.1.1#",
            "tls://1.1.1.1:0",
            "tls://a b",
            "https://dns.example/a b",
            "https://1.1.1.1#bad name",
            "tls://[::1",
        ] {
            let err = parse_encrypted(bad).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad}");
            assert!(err.to_string().contains("accepted"), "{bad}: {err}");
        }
        assert!(is_encrypted("HTTPS://x") && is_encrypted("tls://x") && !is_encrypted("1.1.1.1"));
    }
}
