//! A closed port on this very host is often a server listening on another of its addresses (127.0.0.1 only, say):
//! the kernel's socket list tells, so the verdict can name the listener instead of leaving the user to guess.

use std::collections::HashMap;
use std::net::IpAddr;

use super::report::{PortReport, ProbeReport};
use super::verdict::State;
use crate::inventory::{self, Holder};
use crate::target::Proto;

/// Adds `but sshd (pid 812) listens on 127.0.0.1:22 only` to each closed TCP port of a local address that is
/// listened on elsewhere on this host.
pub fn name_listeners_elsewhere(report: &mut ProbeReport) {
    let local: Vec<IpAddr> = crate::sys::ifaddrs::addresses().unwrap_or_default();
    // Asked of the kernel once, at the first closed local port, however many ports were probed.
    let mut listeners: Option<HashMap<u16, Vec<Holder>>> = None;
    for probe in report.targets.iter_mut().flat_map(|t| t.probes.iter_mut()) {
        if probe.protocol != Proto::Tcp || probe.state != State::Closed {
            continue;
        }
        if !(probe.address.is_loopback() || probe.address.is_unspecified() || local.contains(&probe.address))
        {
            continue;
        }
        let listeners = listeners.get_or_insert_with(|| inventory::all_listeners(true).unwrap_or_default());
        let Some(holders) = listeners.get(&probe.port) else {
            continue;
        };
        if let Some(note) = elsewhere(probe, holders) {
            probe.reason = format!("{}; {note}", probe.reason);
        }
    }
}

/// The note for one closed port, when some listener on its port is bound to another address.
fn elsewhere(probe: &PortReport, holders: &[Holder]) -> Option<String> {
    let others: Vec<&Holder> = holders.iter().filter(|h| h.local.ip() != probe.address).collect();
    let first = others.first()?;
    let who = match first.owners.first() {
        Some(o) => format!("{} (pid {})", o.process, o.pid),
        None => "a process".to_string(),
    };
    let addresses: Vec<String> = others.iter().map(|h| h.local.to_string()).collect();
    Some(format!(
        "closed on {}, but {who} listens on {} only",
        probe.address,
        addresses.join(", ")
    ))
}
