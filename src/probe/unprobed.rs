//! The ports a run left unprobed (Ctrl-C, an early stop), written compactly: `198.51.100.7 tcp 3005-3999`.

use std::net::IpAddr;

use super::schedule::{Attempt, Flow};
use crate::target::Proto;

/// One address and protocol with its unprobed port ranges.
type Group = (IpAddr, Proto, Vec<(u16, u16)>);

/// Flows without a finished attempt, grouped by address and protocol, consecutive ports as ranges.
pub fn not_probed(flows: &[Flow], attempts: &[Vec<Attempt>]) -> Vec<String> {
    let mut groups: Vec<Group> = Vec::new();
    for (flow, tries) in flows.iter().zip(attempts) {
        if !tries.is_empty() {
            continue;
        }
        let (ip, proto, port) = (flow.addr.ip(), flow.proto, flow.addr.port());
        let group = match groups.iter_mut().find(|(a, p, _)| *a == ip && *p == proto) {
            Some(g) => g,
            None => {
                groups.push((ip, proto, Vec::new()));
                groups.last_mut().unwrap_or_else(|| unreachable!("just pushed"))
            }
        };
        match group.2.last_mut() {
            Some((_, last)) if last.checked_add(1) == Some(port) => *last = port,
            _ => group.2.push((port, port)),
        }
    }
    groups
        .into_iter()
        .map(|(ip, proto, ranges)| {
            let ports: Vec<String> = ranges
                .iter()
                .map(|&(a, b)| if a == b { a.to_string() } else { format!("{a}-{b}") })
                .collect();
            format!("{ip} {} {}", proto.name(), ports.join(","))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::report::tests::{attempt, flow};
    use crate::probe::verdict::Evidence;

    #[test]
    fn unprobed_ports_collapse_into_ranges_per_protocol() {
        let mut flows: Vec<Flow> = (1..=10).map(|p| flow(p, Proto::Tcp)).collect();
        flows.push(flow(53, Proto::Udp));
        let attempts: Vec<Vec<Attempt>> = flows
            .iter()
            .map(|f| match f.addr.port() {
                1 | 2 | 5 => vec![attempt(0, Evidence::Refused, Some(1))],
                _ => Vec::new(),
            })
            .collect();
        assert_eq!(
            not_probed(&flows, &attempts),
            ["198.51.100.7 tcp 3-4,6-10", "198.51.100.7 udp 53"]
        );
        let all: Vec<Vec<Attempt>> = flows
            .iter()
            .map(|_| vec![attempt(0, Evidence::Refused, Some(1))])
            .collect();
        assert!(not_probed(&flows, &all).is_empty());
    }
}
