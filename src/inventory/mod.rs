//! This host's own sockets as the kernel lists them (NETLINK_SOCK_DIAG) and the processes that hold them: the
//! `sockets` command's source, and the answer to "who holds this port?" that listen and probe give.

pub mod dump;
pub mod owners;
pub mod tcp_info;
pub mod wire;

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;

use dump::Diag;
use owners::{Owner, Owners};
use wire::InetProto;

/// A socket listening on a port (TCP LISTEN, or a bound unconnected UDP socket), with who holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The address it is bound to.
    pub local: SocketAddr,
    /// The processes holding it (empty: not visible to this user).
    pub owners: Vec<Owner>,
}

impl Holder {
    /// `nginx (pid 812) on 0.0.0.0`, or `a process this user cannot see on 0.0.0.0`.
    pub fn describe(&self) -> String {
        let who = match self.owners.first() {
            Some(o) => format!("{} (pid {})", o.process, o.pid),
            None => "a process this user cannot see (run as root to name it)".to_string(),
        };
        format!("{who} on {}", self.local.ip())
    }
}

/// The sockets of this network namespace listening on `port` (TCP: LISTEN; UDP: bound, not connected).
pub fn listeners(tcp: bool, port: u16) -> io::Result<Vec<Holder>> {
    Ok(all_listeners(tcp)?.remove(&port).unwrap_or_default())
}

/// Every listening socket of this network namespace by port, from one kernel dump and one walk of /proc (only
/// when something listens): what a caller asking about many ports uses.
pub fn all_listeners(tcp: bool) -> io::Result<HashMap<u16, Vec<Holder>>> {
    let mut diag = Diag::open()?;
    let proto = if tcp { InetProto::Tcp } else { InetProto::Udp };
    let wanted_state = if tcp { 10 } else { 7 };
    let mut found = Vec::new();
    for family in [libc::AF_INET as u8, libc::AF_INET6 as u8] {
        found.extend(
            diag.inet(family, proto)?
                .into_iter()
                .filter(|s| s.state == wanted_state),
        );
    }
    let mut by_port: HashMap<u16, Vec<Holder>> = HashMap::new();
    if found.is_empty() {
        return Ok(by_port);
    }
    let owners = Owners::scan();
    for s in found {
        by_port.entry(s.local.port()).or_default().push(Holder {
            local: s.local,
            owners: owners.of(u64::from(s.inode)),
        });
    }
    Ok(by_port)
}

/// About how many inet sockets this network namespace holds, from /proc/net/sockstat and sockstat6 (0 when they
/// cannot be read): enough to size buffers for a dump once instead of growing them by doubling.
pub fn socket_estimate() -> usize {
    ["/proc/net/sockstat", "/proc/net/sockstat6"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .map(|text| sockstat_count(&text))
        .sum()
}

/// The sockets a sockstat file counts: every `inuse N` and `tw N`.
fn sockstat_count(text: &str) -> usize {
    let mut total = 0;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        for pair in words.windows(2) {
            if pair[0] == "inuse" || pair[0] == "tw" {
                total += pair[1].parse::<usize>().unwrap_or(0);
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockstat_counts_sockets_in_use_and_in_time_wait() {
        let text = "sockets: used 20001\nTCP: inuse 20001 orphan 0 tw 7 alloc 20002 mem 318\nUDP: inuse 3 mem 2\n\
                    RAW: inuse 1\nFRAG: inuse 0 memory 0\n";
        assert_eq!(sockstat_count(text), 20012);
        assert_eq!(sockstat_count("TCP6: inuse x\n"), 0);
        assert_eq!(sockstat_count(""), 0);
    }

    #[test]
    fn a_listener_of_this_process_is_found_with_its_owner() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let found = listeners(true, port).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].local, listener.local_addr().unwrap());
        assert!(found[0].owners.iter().any(|o| o.pid == std::process::id()));
        assert!(
            found[0].describe().ends_with("on 127.0.0.1"),
            "{}",
            found[0].describe()
        );
        assert!(listeners(false, port).unwrap().is_empty());
    }
}
