//! Pure mapping from what the kernel reported for a probe (errno, queued ICMP error, silence) to a state
//! and a reason in words.

use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;

use crate::render::{Tone, fmt_ms};
use crate::sys::errqueue::{ErrOrigin, QueuedError};
use crate::target::Proto;

/// The state of a probed port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// TCP handshake completed, or a UDP reply came.
    Open,
    /// TCP RST, or ICMP port unreachable for UDP from the target itself.
    Closed,
    /// An ICMP error stopped a TCP probe on the way (the ICMP reason is named).
    Unreachable,
    /// No answer before the timeout (TCP), or an ICMP error other than port unreachable (UDP).
    Filtered,
    /// UDP silence: an open service that ignored the datagram or a firewall that dropped it.
    OpenFiltered,
    /// Silence from a host that was seen rate-limiting its ICMP errors: the silence says nothing.
    Unknown,
    /// This host could not send the probe (no route, no free port, firewall on this host).
    Error,
}

impl State {
    /// Every state, in the order a summary lists them (by name).
    pub const ALL: [State; 7] = [
        State::Closed,
        State::Error,
        State::Filtered,
        State::Open,
        State::OpenFiltered,
        State::Unknown,
        State::Unreachable,
    ];

    /// The key in JSON (snake_case, as serde writes it).
    pub fn key(self) -> &'static str {
        match self {
            State::OpenFiltered => "open_filtered",
            other => other.name(),
        }
    }

    /// The name shown in tables (nmap's words).
    pub fn name(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Closed => "closed",
            State::Unreachable => "unreachable",
            State::Filtered => "filtered",
            State::OpenFiltered => "open|filtered",
            State::Unknown => "unknown",
            State::Error => "error",
        }
    }

    /// The colour meaning of the state.
    pub fn tone(self) -> Tone {
        match self {
            State::Open => Tone::Good,
            State::Closed | State::Unreachable | State::Error => Tone::Bad,
            State::Filtered | State::OpenFiltered | State::Unknown => Tone::Warn,
        }
    }
}

/// What the network (or this host) did with one probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// The TCP handshake completed.
    Connected,
    /// A UDP datagram came back.
    Reply,
    /// ECONNREFUSED with no ICMP detail queued: a TCP RST (or, for UDP, a port unreachable we could not read).
    Refused,
    /// An ICMP error (or a local one) queued on the socket.
    Queued(QueuedError),
    /// Nothing came back: `tries` probes each waited `waited`.
    Silence {
        /// How long each try waited.
        waited: Duration,
        /// How many tries were made.
        tries: u32,
    },
    /// connect() or send() failed at once: this host refused to send.
    LocalErrno(i32),
    /// The connection failed later with no ICMP detail (e.g. the kernel's own SYN retries ran out).
    LateErrno(i32),
    /// The socket connected to itself (source = destination), every try.
    SelfConnect,
    /// Silence from a host that rate-limits its ICMP errors: it sent `errors` of them, then nothing.
    RateLimited {
        /// ICMP errors the host sent during the run.
        errors: u32,
    },
    /// The destination is a broadcast address, which needs SO_BROADCAST (this host refused with EACCES).
    Broadcast,
}

impl Evidence {
    /// Whether the target itself answered (a round trip to the host was measured).
    pub fn is_answer(&self, target: IpAddr) -> bool {
        match self {
            Evidence::Connected | Evidence::Reply | Evidence::Refused => true,
            Evidence::LateErrno(libc::ECONNRESET) => true,
            Evidence::Queued(q) => is_port_unreachable(q) && from_target(q, target, None),
            _ => false,
        }
    }
}

/// A state with the reason it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The state.
    pub state: State,
    /// Why, in words.
    pub reason: String,
}

fn verdict(state: State, reason: impl Into<String>) -> Verdict {
    Verdict {
        state,
        reason: reason.into(),
    }
}

/// Judges one probe. `local` is the probe socket's own address, to recognise ICMP this host sent itself.
pub fn judge(proto: Proto, target: IpAddr, local: Option<IpAddr>, ev: &Evidence) -> Verdict {
    match (proto, ev) {
        (Proto::Tcp, Evidence::Connected) => verdict(State::Open, "connected (handshake completed)"),
        (Proto::Udp, Evidence::Connected) => verdict(State::Open, "connected"),
        (_, Evidence::Reply) => verdict(State::Open, "reply received"),
        (Proto::Tcp, Evidence::Refused) => verdict(State::Closed, "refused (TCP RST)"),
        (Proto::Udp, Evidence::Refused) => verdict(State::Closed, "refused (ICMP port unreachable)"),
        (_, Evidence::Queued(q)) => judge_queued(proto, target, local, q),
        (_, Evidence::Silence { waited, tries }) => {
            let wait = if *tries > 1 {
                format!("in {tries} tries of {} each", fmt_ms(*waited))
            } else {
                format!("within {}", fmt_ms(*waited))
            };
            match proto {
                Proto::Tcp => verdict(State::Filtered, format!("no answer {wait}")),
                Proto::Udp => verdict(State::OpenFiltered, format!("no reply {wait}")),
            }
        }
        (_, Evidence::LocalErrno(errno)) => verdict(State::Error, local_reason(*errno)),
        (_, Evidence::LateErrno(errno)) => judge_late(proto, *errno),
        (_, Evidence::SelfConnect) => verdict(
            State::Error,
            "local: the probe connected to itself (its source address and port are the target's)",
        ),
        (_, Evidence::RateLimited { errors }) => verdict(
            State::Unknown,
            format!("the host rate-limits ICMP ({errors} errors, then silence)"),
        ),
        (_, Evidence::Broadcast) => verdict(
            State::Error,
            "local: broadcast needs SO_BROADCAST, which probe does not set (EACCES)",
        ),
    }
}

/// Whether an ICMP error came from the target itself. `::` and `0.0.0.0` name this host: the kernel sends
/// to its own loopback, whose errors come from there.
fn from_target(q: &QueuedError, target: IpAddr, local: Option<IpAddr>) -> bool {
    q.offender
        .is_none_or(|o| o == target || (target.is_unspecified() && (o.is_loopback() || Some(o) == local)))
}

fn judge_queued(proto: Proto, target: IpAddr, local: Option<IpAddr>, q: &QueuedError) -> Verdict {
    let name = match q.origin {
        ErrOrigin::Icmp | ErrOrigin::Icmp6 => icmp_name(q),
        ErrOrigin::Local | ErrOrigin::Other(_) => return verdict(State::Error, local_reason(q.errno)),
    };
    let from = match q.offender {
        Some(o) if Some(o) == local && o != target => " from this host".to_string(),
        Some(o) => format!(" from {o}"),
        None => String::new(),
    };
    let port_unreach = is_port_unreachable(q);
    let by_target = from_target(q, target, local);
    // A host unreachable this host sends itself means the next hop never answered ARP or neighbour discovery.
    let neighbour =
        if q.offender.is_some() && q.offender == local && q.offender != Some(target) && !port_unreach {
            " (no ARP/neighbour reply for the next hop)"
        } else {
            ""
        };
    let reason = format!("ICMP {name}{from}{neighbour}");
    match proto {
        Proto::Udp if port_unreach && by_target => verdict(State::Closed, reason),
        Proto::Udp if port_unreach => verdict(
            State::Filtered,
            format!("{reason}, a router rather than the target"),
        ),
        Proto::Udp => verdict(State::Filtered, reason),
        // A TCP stack answers a closed port with RST; an ICMP error means something refused it on the way.
        Proto::Tcp => verdict(State::Unreachable, reason),
    }
}

fn judge_late(proto: Proto, errno: i32) -> Verdict {
    match errno {
        libc::ETIMEDOUT => match proto {
            Proto::Tcp => verdict(
                State::Filtered,
                "no answer (the kernel's SYN retries ran out: ETIMEDOUT)",
            ),
            Proto::Udp => verdict(State::OpenFiltered, "no reply (ETIMEDOUT)"),
        },
        // A reset in SYN-SENT is ECONNREFUSED: ECONNRESET means the handshake had completed first.
        libc::ECONNRESET if proto == Proto::Tcp => verdict(
            State::Open,
            "connected; reset by the server after accepting (ECONNRESET)",
        ),
        libc::ECONNRESET => verdict(State::Closed, "connection reset (ECONNRESET)"),
        libc::EHOSTUNREACH | libc::ENETUNREACH | libc::EACCES | libc::EHOSTDOWN | libc::ENONET => {
            let state = if proto == Proto::Tcp {
                State::Unreachable
            } else {
                State::Filtered
            };
            verdict(
                state,
                format!("{} ({}; no ICMP detail)", errno_text(errno), errno_name(errno)),
            )
        }
        _ => verdict(
            State::Error,
            format!("{} ({})", errno_text(errno), errno_name(errno)),
        ),
    }
}

fn is_port_unreachable(q: &QueuedError) -> bool {
    match q.origin {
        ErrOrigin::Icmp => q.icmp_type == 3 && q.code == 3,
        ErrOrigin::Icmp6 => q.icmp_type == 1 && q.code == 4,
        _ => false,
    }
}

/// The name of an ICMP or ICMPv6 error message.
pub fn icmp_name(q: &QueuedError) -> String {
    let known = match (q.origin, q.icmp_type, q.code) {
        (ErrOrigin::Icmp, 3, 0) => "net unreachable",
        (ErrOrigin::Icmp, 3, 1) => "host unreachable",
        (ErrOrigin::Icmp, 3, 2) => "protocol unreachable",
        (ErrOrigin::Icmp, 3, 3) => "port unreachable",
        (ErrOrigin::Icmp, 3, 4) => "fragmentation needed",
        (ErrOrigin::Icmp, 3, 5) => "source route failed",
        (ErrOrigin::Icmp, 3, 6) => "destination network unknown",
        (ErrOrigin::Icmp, 3, 7) => "destination host unknown",
        (ErrOrigin::Icmp, 3, 8) => "source host isolated",
        (ErrOrigin::Icmp, 3, 9) => "net administratively prohibited",
        (ErrOrigin::Icmp, 3, 10) => "host administratively prohibited",
        (ErrOrigin::Icmp, 3, 11) => "net unreachable for type of service",
        (ErrOrigin::Icmp, 3, 12) => "host unreachable for type of service",
        (ErrOrigin::Icmp, 3, 13) => "communication administratively prohibited",
        (ErrOrigin::Icmp, 3, 14) => "host precedence violation",
        (ErrOrigin::Icmp, 3, 15) => "precedence cutoff in effect",
        (ErrOrigin::Icmp, 11, 0) => "time exceeded in transit",
        (ErrOrigin::Icmp, 11, 1) => "fragment reassembly time exceeded",
        (ErrOrigin::Icmp, 12, _) => "parameter problem",
        (ErrOrigin::Icmp6, 1, 0) => "no route to destination",
        (ErrOrigin::Icmp6, 1, 1) => "communication administratively prohibited",
        (ErrOrigin::Icmp6, 1, 2) => "beyond scope of source address",
        (ErrOrigin::Icmp6, 1, 3) => "address unreachable",
        (ErrOrigin::Icmp6, 1, 4) => "port unreachable",
        (ErrOrigin::Icmp6, 1, 5) => "source address failed ingress/egress policy",
        (ErrOrigin::Icmp6, 1, 6) => "reject route to destination",
        (ErrOrigin::Icmp6, 2, _) => "packet too big",
        (ErrOrigin::Icmp6, 3, 0) => "hop limit exceeded in transit",
        (ErrOrigin::Icmp6, 3, 1) => "fragment reassembly time exceeded",
        (ErrOrigin::Icmp6, 4, _) => "parameter problem",
        _ => "",
    };
    let v6 = if q.origin == ErrOrigin::Icmp6 { "v6" } else { "" };
    if known.is_empty() {
        format!("{v6} type {} code {}", q.icmp_type, q.code)
            .trim_start()
            .to_string()
    } else {
        known.to_string()
    }
}

/// Errors that mean this host ran short of something; the scheduler waits and tries again.
pub fn is_resource_shortage(errno: i32) -> bool {
    matches!(
        errno,
        libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM | libc::EADDRNOTAVAIL | libc::EAGAIN
    )
}

/// A local failure in words: what this host refused and why.
pub fn local_reason(errno: i32) -> String {
    let what = match errno {
        libc::ENETUNREACH => "no route to the network in this host's routing table",
        libc::EHOSTUNREACH => "this host's routing table marks the destination unreachable",
        libc::EACCES | libc::EPERM => "this host refused to send (its firewall or a prohibit route)",
        libc::EINVAL => "this host cannot send there (a blackhole route or an unusable address)",
        libc::EADDRNOTAVAIL => "no free local port, or the source address is not on this host",
        libc::EADDRINUSE => "the source address and port are in use",
        libc::EMFILE | libc::ENFILE => "out of file descriptors",
        libc::ENOBUFS | libc::ENOMEM => "out of socket buffers",
        libc::EAGAIN => "no free local port",
        libc::ENETDOWN => "the outgoing interface is down",
        libc::EAFNOSUPPORT => "this host has no support for the address family",
        _ => "",
    };
    let what = if what.is_empty() {
        errno_text(errno)
    } else {
        what.to_string()
    };
    format!("local: {what} ({})", errno_name(errno))
}

/// The C name of an errno value.
pub fn errno_name(errno: i32) -> String {
    let name = match errno {
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::EHOSTUNREACH => "EHOSTUNREACH",
        libc::ENETUNREACH => "ENETUNREACH",
        libc::EACCES => "EACCES",
        libc::EPERM => "EPERM",
        libc::EINVAL => "EINVAL",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::EADDRINUSE => "EADDRINUSE",
        libc::EMFILE => "EMFILE",
        libc::ENFILE => "ENFILE",
        libc::ENOBUFS => "ENOBUFS",
        libc::ENOMEM => "ENOMEM",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::ECONNRESET => "ECONNRESET",
        libc::EMSGSIZE => "EMSGSIZE",
        libc::EPROTO => "EPROTO",
        libc::ENOPROTOOPT => "ENOPROTOOPT",
        libc::EHOSTDOWN => "EHOSTDOWN",
        libc::ENONET => "ENONET",
        libc::EAGAIN => "EAGAIN",
        libc::ENETDOWN => "ENETDOWN",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        _ => return format!("errno {errno}"),
    };
    name.to_string()
}

/// strerror's text for an errno value, without Rust's "(os error N)" suffix.
pub fn errno_text(errno: i32) -> String {
    crate::error::plain_io(&std::io::Error::from_raw_os_error(errno))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TARGET: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 10));
    const ROUTER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 1));
    const ME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 2));

    fn icmp(origin: ErrOrigin, icmp_type: u8, code: u8, errno: i32, offender: IpAddr) -> Evidence {
        Evidence::Queued(QueuedError {
            errno,
            origin,
            icmp_type,
            code,
            rfc4884_len: 0,
            offender: Some(offender),
        })
    }

    fn j(proto: Proto, ev: Evidence) -> (State, String) {
        let v = judge(proto, TARGET, Some(ME), &ev);
        (v.state, v.reason)
    }

    #[test]
    fn tcp_outcomes() {
        assert_eq!(j(Proto::Tcp, Evidence::Connected).0, State::Open);
        assert_eq!(
            j(Proto::Tcp, Evidence::Refused),
            (State::Closed, "refused (TCP RST)".into())
        );
        let (s, r) = j(
            Proto::Tcp,
            Evidence::Silence {
                waited: Duration::from_millis(250),
                tries: 2,
            },
        );
        assert_eq!(
            (s, r.as_str()),
            (State::Filtered, "no answer in 2 tries of 250 ms each")
        );
        let (s, r) = j(
            Proto::Tcp,
            icmp(ErrOrigin::Icmp, 3, 10, libc::EHOSTUNREACH, ROUTER),
        );
        assert_eq!(
            (s, r.as_str()),
            (
                State::Unreachable,
                "ICMP host administratively prohibited from 198.51.100.1"
            )
        );
        let (s, r) = j(
            Proto::Tcp,
            icmp(ErrOrigin::Icmp, 3, 13, libc::EHOSTUNREACH, TARGET),
        );
        assert_eq!(s, State::Unreachable);
        assert!(r.contains("communication administratively prohibited from 198.51.100.10"));
        let (s, r) = j(Proto::Tcp, icmp(ErrOrigin::Icmp, 3, 0, libc::ENETUNREACH, ROUTER));
        assert_eq!(
            (s, r.as_str()),
            (State::Unreachable, "ICMP net unreachable from 198.51.100.1")
        );
        let (s, r) = j(
            Proto::Tcp,
            icmp(ErrOrigin::Icmp, 3, 3, libc::ECONNREFUSED, TARGET),
        );
        assert_eq!(
            (s, r.as_str()),
            (State::Unreachable, "ICMP port unreachable from 198.51.100.10")
        );
        let (s, r) = j(Proto::Tcp, icmp(ErrOrigin::Icmp, 3, 1, libc::EHOSTUNREACH, ME));
        assert_eq!(s, State::Unreachable);
        assert_eq!(
            r,
            "ICMP host unreachable from this host (no ARP/neighbour reply for the next hop)"
        );
    }

    #[test]
    fn tcp_over_ipv6_admin_prohibited() {
        let router6: IpAddr = "2001:db8::1".parse().unwrap();
        let v = judge(
            Proto::Tcp,
            "2001:db8:1::10".parse().unwrap(),
            None,
            &icmp(ErrOrigin::Icmp6, 1, 1, libc::EACCES, router6),
        );
        assert_eq!(v.state, State::Unreachable);
        assert_eq!(
            v.reason,
            "ICMP communication administratively prohibited from 2001:db8::1"
        );
        let v = judge(Proto::Tcp, TARGET, None, &Evidence::LateErrno(libc::EACCES));
        assert_eq!(v.state, State::Unreachable);
        assert!(v.reason.contains("EACCES"), "{}", v.reason);
    }

    #[test]
    fn udp_outcomes() {
        assert_eq!(j(Proto::Udp, Evidence::Reply).0, State::Open);
        let (s, r) = j(
            Proto::Udp,
            icmp(ErrOrigin::Icmp, 3, 3, libc::ECONNREFUSED, TARGET),
        );
        assert_eq!(
            (s, r.as_str()),
            (State::Closed, "ICMP port unreachable from 198.51.100.10")
        );
        let (s, r) = j(
            Proto::Udp,
            icmp(ErrOrigin::Icmp, 3, 3, libc::ECONNREFUSED, ROUTER),
        );
        assert_eq!(s, State::Filtered);
        assert!(r.ends_with("a router rather than the target"), "{r}");
        let (s, _) = j(
            Proto::Udp,
            icmp(ErrOrigin::Icmp, 3, 13, libc::EHOSTUNREACH, ROUTER),
        );
        assert_eq!(s, State::Filtered);
        let (s, r) = j(
            Proto::Udp,
            Evidence::Silence {
                waited: Duration::from_secs(1),
                tries: 1,
            },
        );
        assert_eq!((s, r.as_str()), (State::OpenFiltered, "no reply within 1.00 s"));
        let port6 = icmp(
            ErrOrigin::Icmp6,
            1,
            4,
            libc::ECONNREFUSED,
            "2001:db8::10".parse().unwrap(),
        );
        let v = judge(Proto::Udp, "2001:db8::10".parse().unwrap(), None, &port6);
        assert_eq!(v.state, State::Closed);
        assert!(port6.is_answer("2001:db8::10".parse().unwrap()));
        assert!(!port6.is_answer(TARGET));
    }

    #[test]
    fn local_errors_are_stated_as_such() {
        let (s, r) = j(Proto::Tcp, Evidence::LocalErrno(libc::ENETUNREACH));
        assert_eq!(s, State::Error);
        assert_eq!(
            r,
            "local: no route to the network in this host's routing table (ENETUNREACH)"
        );
        let (s, r) = j(Proto::Udp, Evidence::LocalErrno(libc::EADDRNOTAVAIL));
        assert_eq!(s, State::Error);
        assert!(r.starts_with("local: no free local port"), "{r}");
        let local = Evidence::Queued(QueuedError {
            errno: libc::EMSGSIZE,
            origin: ErrOrigin::Local,
            icmp_type: 0,
            code: 0,
            rfc4884_len: 0,
            offender: None,
        });
        assert_eq!(j(Proto::Udp, local).0, State::Error);
        assert!(is_resource_shortage(libc::EMFILE));
        assert!(!is_resource_shortage(libc::ECONNREFUSED));
        assert_eq!(errno_name(9999), "errno 9999");
    }

    #[test]
    fn unknown_icmp_codes_are_named_by_number() {
        let q = QueuedError {
            errno: 0,
            origin: ErrOrigin::Icmp6,
            icmp_type: 1,
            code: 42,
            rfc4884_len: 0,
            offender: None,
        };
        assert_eq!(icmp_name(&q), "v6 type 1 code 42");
        assert_eq!(
            j(Proto::Tcp, Evidence::LateErrno(libc::ETIMEDOUT)).0,
            State::Filtered
        );
        assert_eq!(j(Proto::Tcp, Evidence::Reply).0, State::Open);
        assert_eq!(j(Proto::Tcp, Evidence::SelfConnect).0, State::Error);
    }

    #[test]
    fn accept_then_reset_is_open() {
        let (s, r) = j(Proto::Tcp, Evidence::LateErrno(libc::ECONNRESET));
        assert_eq!(s, State::Open);
        assert!(r.contains("reset by the server after accepting"), "{r}");
        assert!(Evidence::LateErrno(libc::ECONNRESET).is_answer(TARGET));
    }

    #[test]
    fn rate_limited_silence_is_unknown_and_broadcast_is_named() {
        let (s, r) = j(Proto::Tcp, Evidence::RateLimited { errors: 6 });
        assert_eq!(
            (s, r.as_str()),
            (
                State::Unknown,
                "the host rate-limits ICMP (6 errors, then silence)"
            )
        );
        let (s, r) = j(Proto::Udp, Evidence::Broadcast);
        assert_eq!(s, State::Error);
        assert!(r.contains("broadcast needs SO_BROADCAST"), "{r}");
    }

    #[test]
    fn the_unspecified_address_is_this_host() {
        let lo6: IpAddr = "::1".parse().unwrap();
        let unspec: IpAddr = "::".parse().unwrap();
        let ev = icmp(ErrOrigin::Icmp6, 1, 4, libc::ECONNREFUSED, lo6);
        let v = judge(Proto::Udp, unspec, Some(lo6), &ev);
        assert_eq!(v.state, State::Closed, "{}", v.reason);
        assert!(v.reason.contains("from this host"), "{}", v.reason);
        assert!(ev.is_answer(unspec));
    }
}
