//! What a socket's state means for a connection that does not work: listeners only reachable from this host, accept
//! queues that are full, connections retransmitting or waiting for an answer, and TIME-WAIT heaps counted per
//! endpoint pair instead of listed. Pure: rows in, rows with notes out.

use std::collections::BTreeMap;

use super::model::{Proto, SocketRow};

/// Adds the notes that a single look at a socket supports.
pub fn annotate(row: &mut SocketRow) {
    let listening = row.state == "LISTEN" || (row.proto == Proto::Udp && row.state == "UNCONN");
    if listening && row.proto != Proto::Unix && row.local_addr.is_some_and(|a| a.ip().is_loopback()) {
        row.notes
            .push("loopback only: not reachable from other hosts".into());
    }
    if row.state == "LISTEN" && row.send_q > 0 && row.recv_q >= row.send_q {
        row.notes.push(format!(
            "accept queue full ({} of backlog {}): the server is not calling accept()",
            row.recv_q, row.send_q
        ));
    }
    if row.state == "SYN-SENT" {
        row.notes
            .push("no SYN-ACK yet: the peer is silent (filtered, or the host is down)".into());
    }
    if row.state == "CLOSE-WAIT" {
        row.notes
            .push("the peer closed; the owner has not closed its end".into());
    }
    if let Some(tcp) = &row.tcp
        && let Some(n) = tcp.retransmits.filter(|&n| n > 0)
    {
        row.notes.push(format!("retransmitting ({n} in a row)"));
    }
}

/// TIME-WAIT sockets that share their addresses and service port, gathered into one counted row each: a client
/// making many short connections leaves thousands of them, one per local port, which say one thing.
#[derive(Debug, Default)]
pub struct TimeWait {
    groups: BTreeMap<String, (SocketRow, (String, String))>,
}

impl TimeWait {
    /// Keeps a TIME-WAIT row for its group; any other row is handed back.
    pub fn offer(&mut self, row: SocketRow) -> Option<SocketRow> {
        let (Some(local), Some(peer)) = (row.local_addr, row.peer_addr) else {
            return Some(row);
        };
        if row.state != "TIME-WAIT" {
            return Some(row);
        }
        // The well-known end keeps its port; the ephemeral end (the higher port) becomes `*`.
        let (local_text, peer_text) = if local.port() <= peer.port() {
            (local.to_string(), format!("{}:*", bracket(peer.ip())))
        } else {
            (format!("{}:*", bracket(local.ip())), peer.to_string())
        };
        let key = format!("{:?} {local_text} {peer_text}", row.proto);
        self.groups
            .entry(key)
            .and_modify(|(g, _)| g.count += 1)
            .or_insert_with(|| {
                let original = (row.local.clone(), row.peer.clone());
                let grouped = SocketRow {
                    local: local_text,
                    peer: peer_text,
                    ..row
                };
                (grouped, original)
            });
        None
    }

    /// One row per group: counted when it stands for several sockets, the socket itself when for one.
    pub fn groups(self) -> impl Iterator<Item = SocketRow> {
        self.groups.into_values().map(|(mut group, (local, peer))| {
            if group.count > 1 {
                group
                    .notes
                    .push(format!("{} connections in TIME-WAIT", group.count));
            } else {
                // A group of one is that socket: its own ends say more than a wildcard.
                (group.local, group.peer) = (local, peer);
            }
            group
        })
    }
}

/// Replaces TIME-WAIT sockets that share their addresses and service port by one counted row (see [`TimeWait`]).
#[cfg(test)]
fn group_time_wait(rows: Vec<SocketRow>) -> Vec<SocketRow> {
    let mut groups = TimeWait::default();
    let mut out: Vec<SocketRow> = rows.into_iter().filter_map(|r| groups.offer(r)).collect();
    out.extend(groups.groups());
    out
}

fn bracket(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    }
}

/// Notes what changed between the first and the last sample of the same socket: retransmissions climbing, a queue
/// that grew, the RTT that moved.
pub fn changes(first: &SocketRow, last: &mut SocketRow) {
    let (Some(a), Some(b)) = (&first.tcp, &last.tcp) else {
        return;
    };
    if let (Some(before), Some(after)) = (a.total_retrans, b.total_retrans)
        && after > before
    {
        last.notes.push(format!(
            "retransmitting: {} more since the first sample",
            after - before
        ));
    }
    if let (Some(before), Some(after)) = (a.rtt_us, b.rtt_us)
        && before.abs_diff(after) * 4 > before.max(1)
    {
        last.notes.push(format!(
            "RTT {:.1} -> {:.1} ms",
            f64::from(before) / 1000.0,
            f64::from(after) / 1000.0
        ));
    }
    if last.recv_q > first.recv_q && last.recv_q > 0 {
        last.notes.push(format!(
            "receive queue grew {} -> {} B: the owner is not reading",
            first.recv_q, last.recv_q
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::tcp_info::TcpInfo;

    fn row(proto: Proto, state: &'static str, local: &str, peer: Option<&str>) -> SocketRow {
        SocketRow {
            proto,
            kind: None,
            state,
            local: local.into(),
            peer: peer.unwrap_or("*").into(),
            local_addr: Some(local.parse().unwrap()),
            peer_addr: peer.map(|p| p.parse().unwrap()),
            recv_q: 0,
            send_q: 0,
            uid: None,
            inode: 1,
            owners: vec![],
            tcp: None,
            congestion: None,
            count: 1,
            notes: vec![],
        }
    }

    #[test]
    fn loopback_listeners_and_full_queues_are_named() {
        let mut r = row(Proto::Tcp, "LISTEN", "127.0.0.1:22", None);
        r.recv_q = 2;
        r.send_q = 1;
        annotate(&mut r);
        assert!(r.notes[0].starts_with("loopback only"), "{:?}", r.notes);
        assert!(
            r.notes[1].starts_with("accept queue full (2 of backlog 1)"),
            "{:?}",
            r.notes
        );
        let mut all = row(Proto::Tcp, "LISTEN", "0.0.0.0:22", None);
        all.send_q = 128;
        annotate(&mut all);
        assert!(all.notes.is_empty(), "{:?}", all.notes);
        let mut udp = row(Proto::Udp, "UNCONN", "[::1]:53", None);
        annotate(&mut udp);
        assert!(udp.notes[0].starts_with("loopback only"));
    }

    #[test]
    fn connections_in_trouble_are_named() {
        let mut syn = row(
            Proto::Tcp,
            "SYN-SENT",
            "198.51.100.1:40000",
            Some("198.51.100.2:443"),
        );
        annotate(&mut syn);
        assert!(syn.notes[0].contains("no SYN-ACK yet"));
        let mut est = row(
            Proto::Tcp,
            "ESTAB",
            "198.51.100.1:40000",
            Some("198.51.100.2:443"),
        );
        est.tcp = Some(TcpInfo {
            retransmits: Some(3),
            ..TcpInfo::default()
        });
        annotate(&mut est);
        assert_eq!(est.notes, ["retransmitting (3 in a row)"]);
    }

    #[test]
    fn time_wait_is_counted_per_endpoint_pair() {
        let mut rows: Vec<SocketRow> = (0..5)
            .map(|i| {
                row(
                    Proto::Tcp,
                    "TIME-WAIT",
                    &format!("198.51.100.1:{}", 40000 + i),
                    Some("198.51.100.2:80"),
                )
            })
            .collect();
        rows.push(row(
            Proto::Tcp,
            "TIME-WAIT",
            "198.51.100.1:40000",
            Some("198.51.100.3:80"),
        ));
        rows.push(row(
            Proto::Tcp,
            "ESTAB",
            "198.51.100.1:40009",
            Some("198.51.100.2:80"),
        ));
        let out = group_time_wait(rows);
        assert_eq!(out.len(), 3);
        let big = out.iter().find(|r| r.count == 5).unwrap();
        assert_eq!(
            (big.local.as_str(), big.peer.as_str()),
            ("198.51.100.1:*", "198.51.100.2:80")
        );
        assert_eq!(big.notes, ["5 connections in TIME-WAIT"]);
    }

    #[test]
    fn samples_show_climbing_retransmissions() {
        let mut first = row(Proto::Tcp, "ESTAB", "198.51.100.1:1", Some("198.51.100.2:2"));
        first.tcp = Some(TcpInfo {
            total_retrans: Some(1),
            rtt_us: Some(1000),
            ..TcpInfo::default()
        });
        let mut last = first.clone();
        last.tcp = Some(TcpInfo {
            total_retrans: Some(4),
            rtt_us: Some(50_000),
            ..TcpInfo::default()
        });
        last.recv_q = 100;
        changes(&first, &mut last);
        assert_eq!(last.notes[0], "retransmitting: 3 more since the first sample");
        assert_eq!(last.notes[1], "RTT 1.0 -> 50.0 ms");
        assert!(last.notes[2].contains("0 -> 100 B"));
    }
}
