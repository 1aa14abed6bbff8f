//! Pure judging of a TLS connection: a certificate problem, an alert, an answer that was not TLS, silence,
//! each named in words with a hint; and the verdict of a finished handshake (ok, expiring soon, insecure).

use std::time::Duration;

use rustls::{CertificateError, Error, PeerIncompatible};

use super::session::{SessionState as S, SessionVerdict};
use super::sniff::{Sniffed, is_legacy};
use crate::render::fmt_ms;
use crate::text::escape_bytes;
use crate::tls::cert::CertFacts;
use crate::tls::verifier::Seen;
use crate::tls::version_name;

/// How a handshake ended without finishing.
#[derive(Debug)]
pub enum Ended<'a> {
    /// Nothing completed it within this wait.
    Timeout(Duration),
    /// rustls refused it (or the server's alert).
    Tls(&'a Error),
    /// The connection failed (closed, reset).
    Io(&'a std::io::Error),
}

/// What the judge knows about a connection.
#[derive(Debug)]
pub struct Evidence<'a> {
    /// What the verifier saw.
    pub seen: &'a Seen,
    /// The chain's facts, leaf first.
    pub chain: &'a [CertFacts],
    /// The name checked.
    pub hostname: &'a str,
    /// Now, Unix seconds.
    pub now: i64,
    /// What the server's first bytes were.
    pub sniffed: Sniffed,
}

const HINT_CA: &str = "trust its issuer with --ca FILE, or time the handshake anyway with --insecure";

/// The verdict of a handshake that did not finish.
pub fn judge_failure(ended: &Ended<'_>, ev: &Evidence<'_>) -> SessionVerdict {
    if let Some(v) = from_sniffed(&ev.sniffed) {
        return v;
    }
    match ended {
        Ended::Timeout(waited) => SessionVerdict::new(
            S::Timeout,
            format!("no answer to the ClientHello within {}", fmt_ms(*waited)),
            Some(
                "the port accepts TCP but does not speak TLS first; a mail or database port may need --starttls",
            ),
        ),
        Ended::Io(e) => closed(e),
        Ended::Tls(Error::InvalidCertificate(_)) => match certificate(ev) {
            Some(v) => v,
            None => SessionVerdict::new(S::BadCertificate, "the certificate did not verify", Some(HINT_CA)),
        },
        Ended::Tls(Error::AlertReceived(alert)) => {
            let name = snake(&format!("{alert:?}"));
            let none_in_common = matches!(
                name.as_str(),
                "handshake_failure"
                    | "protocol_version"
                    | "insufficient_security"
                    | "no_application_protocol"
            );
            let state = if none_in_common {
                S::NoCommonProtocol
            } else {
                S::Alert
            };
            SessionVerdict::new(
                state,
                format!("the server ended the handshake with alert '{name}'"),
                Some(if none_in_common {
                    "no TLS version, cipher suite or ALPN protocol in common with TLS 1.2/1.3 (check --alpn)"
                } else {
                    "the server refused the handshake: its log says why"
                }),
            )
        }
        Ended::Tls(Error::PeerIncompatible(p)) => SessionVerdict::new(
            S::NoCommonProtocol,
            format!("nothing in common with the server: {}", incompatible(p)),
            Some("this tool speaks TLS 1.2 and 1.3 with current cipher suites and groups"),
        ),
        Ended::Tls(other) => SessionVerdict::new(S::TlsError, format!("TLS error: {}", shown(other)), None),
    }
}

fn incompatible(p: &PeerIncompatible) -> String {
    snake(&format!("{p:?}")).replace('_', " ")
}

/// Answers that were not a modern TLS handshake, recognised from the bytes themselves.
fn from_sniffed(sniffed: &Sniffed) -> Option<SessionVerdict> {
    match sniffed {
        Sniffed::Http { status_line } => Some(SessionVerdict::new(
            S::PlainHttp,
            format!(
                "this port speaks HTTP, not TLS (it answered '{}')",
                escape_bytes(status_line)
            ),
            Some("probe it with --http and without --tls, or use the server's TLS port"),
        )),
        Sniffed::ServerHello { version }
        | Sniffed::Alert {
            record_version: version,
            ..
        } if is_legacy(*version) => Some(SessionVerdict::new(
            S::LegacyOnly,
            format!(
                "server offers only {} (not testable here)",
                version_name(*version)
            ),
            Some(
                "rustls speaks TLS 1.2 and 1.3 only; the server needs upgrading (openssl s_client -tls1 can still talk to it)",
            ),
        )),
        Sniffed::Other { first } => Some(SessionVerdict::new(
            S::NotTls,
            format!("the server answered with '{}', not TLS", escape_bytes(first)),
            Some("a server that speaks first wants its own protocol: try --starttls smtp|imap|pop3|ftp"),
        )),
        _ => None,
    }
}

fn closed(e: &std::io::Error) -> SessionVerdict {
    use std::io::ErrorKind as K;
    let how = match e.kind() {
        K::UnexpectedEof => "closed the connection",
        K::ConnectionReset => "reset the connection",
        _ => return SessionVerdict::new(S::TlsError, format!("the handshake failed: {}", shown(e)), None),
    };
    SessionVerdict::new(
        S::Closed,
        format!("the server {how} during the handshake, without an alert"),
        Some("the server may want a name it knows (--sni), or may not speak TLS on this port"),
    )
}

/// The certificate verdict from what the verifier saw; None when the certificate verified.
pub fn certificate(ev: &Evidence<'_>) -> Option<SessionVerdict> {
    if let Some(e) = &ev.seen.chain_error {
        let mut v = chain_verdict(e, ev);
        if ev.seen.name_error.is_some() {
            v.reason.push_str(&format!("; also {}", mismatch_words(ev)));
        }
        return Some(v);
    }
    ev.seen.name_error.as_ref().map(|_| {
        SessionVerdict::new(
            S::NameMismatch,
            mismatch_words(ev),
            Some("ask with a name it has (--sni NAME), or fix the server's certificate"),
        )
    })
}

fn mismatch_words(ev: &Evidence<'_>) -> String {
    let leaf = ev.chain.first();
    let names = leaf.map(|c| c.names.join(", ")).unwrap_or_default();
    if names.is_empty() {
        let subject = leaf.map_or("?", |c| c.subject.as_str());
        format!("the certificate ({subject}) has no names, not '{}'", ev.hostname)
    } else {
        format!("the certificate is for {names}, not for '{}'", ev.hostname)
    }
}

fn chain_verdict(e: &Error, ev: &Evidence<'_>) -> SessionVerdict {
    let Error::InvalidCertificate(ce) = e else {
        return SessionVerdict::new(
            S::BadCertificate,
            format!("certificate: {}", shown(e)),
            Some(HINT_CA),
        );
    };
    match ce {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            let c = ev.chain.iter().find(|c| c.validity.1 < ev.now);
            let (who, date, ago) = c.map_or(("a certificate of the chain".into(), "?", 0), |c| {
                (format!("'{}'", c.subject), c.not_after_date(), -c.days_left)
            });
            SessionVerdict::new(
                S::Expired,
                format!(
                    "certificate {who} expired on {date} ({ago} day{} ago)",
                    plural(ago)
                ),
                Some("the server must renew its certificate"),
            )
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            let c = ev.chain.iter().find(|c| c.validity.0 > ev.now);
            let (who, date) = c.map_or(("a certificate of the chain".into(), "?"), |c| {
                (format!("'{}'", c.subject), c.not_before_date())
            });
            SessionVerdict::new(
                S::NotYetValid,
                format!("certificate {who} is not valid until {date}"),
                Some("check this host's clock, or the server installed a certificate too early"),
            )
        }
        CertificateError::UnknownIssuer => unknown_issuer(ev),
        other => SessionVerdict::new(
            S::BadCertificate,
            format!("certificate: {}", shown(&format!("{other:?}"))),
            Some(HINT_CA),
        ),
    }
}

fn unknown_issuer(ev: &Evidence<'_>) -> SessionVerdict {
    let (Some(first), Some(last)) = (ev.chain.first(), ev.chain.last()) else {
        return SessionVerdict::new(S::UnknownIssuer, "the issuer is unknown", Some(HINT_CA));
    };
    if ev.chain.len() == 1 && first.self_issued {
        return SessionVerdict::new(
            S::SelfSigned,
            format!(
                "the certificate '{}' is self-signed and not among the trusted roots",
                first.subject
            ),
            Some(HINT_CA),
        );
    }
    if last.self_issued {
        return SessionVerdict::new(
            S::UnknownIssuer,
            format!(
                "the chain ends at root '{}', which is not among the trusted roots",
                last.subject
            ),
            Some(HINT_CA),
        );
    }
    SessionVerdict::new(
        S::IncompleteChain,
        format!(
            "the certificate of '{}' (issuer of '{}') is missing: the server did not send it and no trusted root is it",
            last.issuer, last.subject
        ),
        Some(
            "an intermediate the server should send with its certificate (configure the full chain), or a private root to give with --ca",
        ),
    )
}

/// The verdict of a finished handshake: trusted and valid (perhaps expiring soon), or accepted with --insecure.
pub fn judge_done(ev: &Evidence<'_>, warn_days: u32, version: &str) -> SessionVerdict {
    if let Some(problem) = certificate(ev) {
        return SessionVerdict::new(
            S::Insecure,
            format!(
                "{version} handshake done, certificate not trusted ({}): {}",
                problem.state.name(),
                problem.reason
            ),
            Some("--insecure accepted it; without it this is a failure"),
        );
    }
    let soonest = ev
        .chain
        .iter()
        .filter(|c| c.error.is_none())
        .min_by_key(|c| c.days_left);
    match soonest {
        Some(c) if c.days_left < i64::from(warn_days) => SessionVerdict::new(
            S::ExpiresSoon,
            format!(
                "{version} handshake done; certificate '{}' expires on {} ({} day{} left, under --warn-days {warn_days})",
                c.subject,
                c.not_after_date(),
                c.days_left,
                plural(c.days_left)
            ),
            Some("renew the certificate"),
        ),
        Some(c) => SessionVerdict::new(
            S::Ok,
            format!(
                "{version} handshake done, certificate trusted and valid for '{}' ({} days left)",
                ev.hostname, c.days_left
            ),
            None,
        ),
        None => SessionVerdict::new(S::Ok, format!("{version} handshake done"), None),
    }
}

/// An error's words through the escaper: some carry what the certificate says (the names it presents).
pub fn shown(e: &dyn std::fmt::Display) -> String {
    crate::text::escape(&e.to_string()).into_owned()
}

fn plural(n: i64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `HandshakeFailure` -> `handshake_failure`.
pub fn snake(camel: &str) -> String {
    let mut out = String::new();
    for (i, ch) in camel.chars().enumerate() {
        if ch.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(ch.to_ascii_lowercase());
        } else if ch.is_ascii_alphanumeric() {
            out.push(ch);
        } else {
            break; // `Unknown(42)`: the name only
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::AlertDescription;

    fn facts(subject: &str, issuer: &str, names: &[&str], validity: (i64, i64), now: i64) -> CertFacts {
        let mut c = CertFacts::from_der(b"", now);
        c.error = None;
        c.subject = subject.into();
        c.issuer = issuer.into();
        c.names = names.iter().map(|s| s.to_string()).collect();
        c.self_issued = subject == issuer;
        c.validity = validity;
        c.not_before = crate::tls::cert::rfc3339(validity.0);
        c.not_after = crate::tls::cert::rfc3339(validity.1);
        c.days_left = (validity.1 - now).div_euclid(86_400);
        c
    }

    const NOW: i64 = 1_767_225_600; // 2026-01-01

    fn judge(ended: Ended<'_>, seen: &Seen, chain: &[CertFacts]) -> SessionVerdict {
        let ev = Evidence {
            seen,
            chain,
            hostname: "lab.test",
            now: NOW,
            sniffed: Sniffed::Nothing,
        };
        judge_failure(&ended, &ev)
    }

    fn seen(chain: Option<CertificateError>, name: bool) -> Seen {
        Seen {
            chain_error: chain.map(Error::InvalidCertificate),
            name_error: name.then_some(Error::InvalidCertificate(CertificateError::NotValidForName)),
            checked: true,
            ..Seen::default()
        }
    }

    #[test]
    fn certificate_failures_are_named() {
        let leaf = facts(
            "CN=lab.test",
            "CN=Lab CA",
            &["lab.test"],
            (NOW - 90 * 86_400, NOW - 3 * 86_400),
            NOW,
        );
        let bad = Error::InvalidCertificate(CertificateError::Expired);
        let v = judge(
            Ended::Tls(&bad),
            &seen(Some(CertificateError::Expired), false),
            std::slice::from_ref(&leaf),
        );
        assert_eq!(v.state, S::Expired);
        assert_eq!(
            v.reason,
            "certificate 'CN=lab.test' expired on 2025-12-29 (3 days ago)"
        );
        let other = facts(
            "CN=other",
            "CN=Lab CA",
            &["other.test", "www.other.test"],
            (NOW - 1, NOW + 1),
            NOW,
        );
        let v = judge(Ended::Tls(&bad), &seen(None, true), &[other]);
        assert_eq!(v.state, S::NameMismatch);
        assert_eq!(
            v.reason,
            "the certificate is for other.test, www.other.test, not for 'lab.test'"
        );
        let own = facts(
            "CN=lab.test",
            "CN=lab.test",
            &["lab.test"],
            (NOW - 1, NOW + 1),
            NOW,
        );
        let unknown = seen(Some(CertificateError::UnknownIssuer), false);
        assert_eq!(judge(Ended::Tls(&bad), &unknown, &[own]).state, S::SelfSigned);
        let leaf_only = facts(
            "CN=lab.test",
            "CN=Lab Intermediate",
            &["lab.test"],
            (NOW - 1, NOW + 1),
            NOW,
        );
        let v = judge(Ended::Tls(&bad), &unknown, &[leaf_only]);
        assert_eq!(v.state, S::IncompleteChain);
        assert!(
            v.reason
                .contains("'CN=Lab Intermediate' (issuer of 'CN=lab.test') is missing"),
            "{}",
            v.reason
        );
    }

    #[test]
    fn alerts_sniffed_answers_and_silence() {
        let none = Seen::default();
        let alert = Error::AlertReceived(AlertDescription::HandshakeFailure);
        let v = judge(Ended::Tls(&alert), &none, &[]);
        assert_eq!(
            (v.state, v.reason.as_str()),
            (
                S::NoCommonProtocol,
                "the server ended the handshake with alert 'handshake_failure'"
            )
        );
        let alert = Error::AlertReceived(AlertDescription::AccessDenied);
        assert_eq!(judge(Ended::Tls(&alert), &none, &[]).state, S::Alert);
        let v = judge(Ended::Timeout(Duration::from_secs(1)), &none, &[]);
        assert_eq!(
            (v.state, v.reason.as_str()),
            (S::Timeout, "no answer to the ClientHello within 1.00 s")
        );
        let eof = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
        assert_eq!(judge(Ended::Io(&eof), &none, &[]).state, S::Closed);
        let sniffed = |s: Sniffed| {
            let ev = Evidence {
                seen: &none,
                chain: &[],
                hostname: "x",
                now: NOW,
                sniffed: s,
            };
            judge_failure(&Ended::Io(&eof), &ev)
        };
        let v = sniffed(Sniffed::Http {
            status_line: b"HTTP/1.1 400 Bad Request".to_vec(),
        });
        assert_eq!(v.state, S::PlainHttp);
        assert!(
            v.reason.starts_with("this port speaks HTTP, not TLS"),
            "{}",
            v.reason
        );
        let v = sniffed(Sniffed::Alert {
            record_version: 0x0301,
            level: Some(2),
            description: Some(70),
        });
        assert_eq!(
            (v.state, v.reason.as_str()),
            (S::LegacyOnly, "server offers only TLS 1.0 (not testable here)")
        );
        assert_eq!(
            sniffed(Sniffed::Other {
                first: b"220 hi".to_vec()
            })
            .state,
            S::NotTls
        );
        assert_eq!(snake("ProtocolVersion"), "protocol_version");
        assert_eq!(snake("Unknown(42)"), "unknown");
    }

    #[test]
    fn finished_handshakes_warn_before_expiry() {
        let none = Seen::default();
        let soon = facts(
            "CN=lab.test",
            "CN=CA",
            &["lab.test"],
            (NOW - 1, NOW + 10 * 86_400),
            NOW,
        );
        let ev = Evidence {
            seen: &none,
            chain: &[soon],
            hostname: "lab.test",
            now: NOW,
            sniffed: Sniffed::Nothing,
        };
        let v = judge_done(&ev, 21, "TLS 1.3");
        assert_eq!(v.state, S::ExpiresSoon);
        assert!(v.reason.contains("10 days left"), "{}", v.reason);
        assert_eq!(judge_done(&ev, 5, "TLS 1.3").state, S::Ok);
        let insecure = seen(Some(CertificateError::UnknownIssuer), false);
        let ev = Evidence {
            seen: &insecure,
            ..ev
        };
        assert_eq!(judge_done(&ev, 5, "TLS 1.3").state, S::Insecure);
    }
}
