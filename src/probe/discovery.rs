//! Host discovery from what the probes saw: a local-link host whose neighbour resolution failed is down or
//! not there (one line, not a row per port), a remote host silent on every port gave no sign of life at all,
//! and a host that answered anything (a reset, an ICMP error, an ARP/ND reply) is up.

use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;
use schemars::JsonSchema;
use serde::Serialize;

use super::schedule::{Attempt, Flow};
use super::verdict::Evidence;
use crate::sys::errqueue::ErrOrigin;

/// How long the first probe to a local-link host may wait: Linux gives up on ARP/ND after about 3 s
/// (3 solicitations a second apart), and only then says the host is unreachable.
pub const NEIGHBOUR_WAIT: Duration = Duration::from_millis(3500);

/// The networks of this host's interfaces: a target inside one is on a local link.
#[derive(Debug, Clone, Default)]
pub struct LocalLinks(Vec<IpNet>);

impl LocalLinks {
    /// This host's networks now (none if they cannot be read: then no target counts as local-link).
    pub fn load() -> Self {
        let nets = crate::sys::ifaddrs::networks().unwrap_or_default();
        LocalLinks(
            nets.into_iter()
                .filter_map(|(a, len)| IpNet::new(a, len).ok())
                .collect(),
        )
    }

    /// From given networks (tests).
    pub fn of(nets: Vec<IpNet>) -> Self {
        LocalLinks(nets)
    }

    /// Whether `ip` is on one of this host's links (a /32 or /128 address is no link; loopback is none).
    pub fn contains(&self, ip: IpAddr) -> bool {
        !ip.is_loopback()
            && self
                .0
                .iter()
                .any(|n| n.prefix_len() < n.max_prefix_len() && n.contains(&ip))
    }
}

/// Whether a probe failed because this host could not resolve the target's link-layer address: an ICMP host
/// (or IPv6 address) unreachable that this host sent itself.
pub fn neighbour_failed(ev: &Evidence, target: IpAddr, local: Option<IpAddr>) -> bool {
    let Evidence::Queued(q) = ev else { return false };
    let host_unreach = matches!(
        (q.origin, q.icmp_type, q.code),
        (ErrOrigin::Icmp, 3, 1) | (ErrOrigin::Icmp6, 1, 3)
    );
    host_unreach && q.offender.is_some() && q.offender == local && q.offender != Some(target)
}

/// A host that showed no sign of life, and what was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DownHost {
    /// The address.
    pub address: IpAddr,
    /// What was seen, in words.
    pub reason: String,
}

/// Words for a local-link host whose neighbour resolution failed.
pub const NO_NEIGHBOUR: &str = "host down or not there (no ARP/ND answer)";
/// Words for a remote host silent on every port.
pub const NO_ANSWER: &str = "no answer from the host at all";

/// The hosts that are down: every probe to a local-link address failed neighbour resolution, or (off-link) at
/// least two ports were all silent. In address order of first appearance.
pub fn down_hosts(flows: &[Flow], attempts: &[Vec<Attempt>], links: &LocalLinks) -> Vec<DownHost> {
    let mut order: Vec<IpAddr> = Vec::new();
    for f in flows {
        if !order.contains(&f.addr.ip()) {
            order.push(f.addr.ip());
        }
    }
    order
        .into_iter()
        .filter_map(|ip| {
            let last: Vec<&Attempt> = flows
                .iter()
                .zip(attempts)
                .filter(|(f, _)| f.addr.ip() == ip)
                .filter_map(|(_, a)| a.last())
                .collect();
            let all = |p: &dyn Fn(&Attempt) -> bool| !last.is_empty() && last.iter().all(|a| p(a));
            let local = |a: &Attempt| a.result.local.map(|l| l.ip());
            let reason = if all(&|a| neighbour_failed(&a.result.evidence, ip, local(a))) {
                NO_NEIGHBOUR
            } else if !links.contains(ip)
                && last.len() >= 2
                && all(&|a| matches!(a.result.evidence, Evidence::Silence { .. }))
            {
                NO_ANSWER
            } else {
                return None;
            };
            Some(DownHost {
                address: ip,
                reason: reason.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::report::tests::attempt;
    use crate::probe::schedule::TryResult;
    use crate::sys::errqueue::QueuedError;
    use crate::target::Proto;
    use std::net::SocketAddr;

    const ME: &str = "198.51.100.1";

    fn flow(ip: &str, port: u16) -> Flow {
        Flow {
            target: 0,
            addr: SocketAddr::new(ip.parse().unwrap(), port),
            proto: Proto::Tcp,
        }
    }

    fn no_arp() -> Attempt {
        Attempt {
            seq: 0,
            at: Duration::ZERO,
            result: TryResult {
                local: Some(SocketAddr::new(ME.parse().unwrap(), 40000)),
                ..TryResult::bare(Evidence::Queued(QueuedError {
                    errno: libc::EHOSTUNREACH,
                    origin: ErrOrigin::Icmp,
                    icmp_type: 3,
                    code: 1,
                    rfc4884_len: 0,
                    offender: Some(ME.parse().unwrap()),
                }))
            },
        }
    }

    fn silent() -> Attempt {
        attempt(
            0,
            Evidence::Silence {
                waited: Duration::from_secs(2),
                tries: 1,
            },
            None,
        )
    }

    #[test]
    fn local_links_exclude_single_addresses_and_loopback() {
        let links = LocalLinks::of(vec![
            "198.51.100.1/28".parse().unwrap(),
            "203.0.113.1/32".parse().unwrap(),
        ]);
        assert!(links.contains("198.51.100.9".parse().unwrap()));
        assert!(!links.contains("198.51.100.17".parse().unwrap()));
        assert!(!links.contains("203.0.113.1".parse().unwrap()));
        assert!(!links.contains("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn down_hosts_are_named_once_with_what_was_seen() {
        let links = LocalLinks::of(vec!["198.51.100.1/28".parse().unwrap()]);
        let flows = [
            flow("198.51.100.5", 22),
            flow("198.51.100.5", 80),
            flow("198.51.100.6", 22),
            flow("198.51.100.6", 80),
            flow("203.0.113.9", 22),
            flow("203.0.113.9", 80),
            flow("203.0.113.10", 22),
        ];
        let attempts = vec![
            vec![no_arp()],
            vec![no_arp()],
            // On the link and answering ARP, but every port dropped: up, its ports filtered.
            vec![silent()],
            vec![silent()],
            vec![silent()],
            vec![silent()],
            // One silent port says nothing about the host.
            vec![silent()],
        ];
        let down = down_hosts(&flows, &attempts, &links);
        assert_eq!(
            down,
            [
                DownHost {
                    address: "198.51.100.5".parse().unwrap(),
                    reason: NO_NEIGHBOUR.into()
                },
                DownHost {
                    address: "203.0.113.9".parse().unwrap(),
                    reason: NO_ANSWER.into()
                },
            ]
        );
    }
}
