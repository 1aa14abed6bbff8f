//! The sockets report: the rows, what could not be seen, and its table view.

use std::collections::BTreeMap;

use serde::Serialize;

use super::model::{Proto, SocketRow};
use crate::render::{Cell, Report, Section, Tone, View};

/// What `sockdiag sockets` found.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SocketsReport {
    /// Every socket that passed the filter (TIME-WAIT grouped), in protocol, state and address order.
    pub sockets: Vec<SocketRow>,
    /// Sockets per state, TIME-WAIT groups counted by their members.
    pub states: BTreeMap<String, u32>,
    /// Sockets held by some process whose owner this user could not see (another user's process).
    pub owners_hidden: u32,
    /// Kinds of socket the kernel would not list, with why (a kernel without raw_diag, say).
    pub not_listed: Vec<String>,
    /// How many samples were taken (`-c`), 1 for a single look.
    pub samples: u32,
    /// Ctrl-C ended the sampling early; the report is the last sample taken.
    pub interrupted: bool,
}

impl SocketsReport {
    /// Sockets the rows stand for.
    pub fn total(&self) -> u32 {
        self.states.values().sum()
    }

    /// The lines after the table: counts per state, what could not be seen, how it was sampled.
    pub(super) fn closing_notes(&self) -> Vec<String> {
        let states: Vec<String> = self.states.iter().map(|(s, n)| format!("{n} {s}")).collect();
        let total = self.total();
        let mut notes = vec![format!(
            "{total} socket{}{}{}",
            if total == 1 { "" } else { "s" },
            if states.is_empty() { "" } else { ": " },
            states.join(", ")
        )];
        if self.owners_hidden > 0 {
            notes.push(format!(
                "owners of {} sockets not visible: they belong to other users' processes (run as root to see them)",
                self.owners_hidden
            ));
        }
        notes.extend(self.not_listed.iter().cloned());
        if self.samples > 1 {
            notes.push(format!(
                "{} samples; notes compare the first with the last",
                self.samples
            ));
        }
        notes
    }
}

/// The table's columns, in the order [`row_cells`] fills them.
pub(super) const COLUMNS: [&str; 11] = [
    "PROTO", "STATE", "LOCAL", "PEER", "RECV-Q", "SEND-Q", "OWNER", "RTT", "RETRANS", "CWND", "NOTE",
];

impl Report for SocketsReport {
    fn view(&self) -> View {
        let mut section =
            Section::new(&COLUMNS).droppable(&["CWND", "RETRANS", "SEND-Q", "RECV-Q", "RTT", "OWNER"]);
        section.rows = self.sockets.iter().map(row_cells).collect();
        section.notes = self.closing_notes();
        View {
            sections: vec![section],
        }
    }
}

/// The cells of one row.
pub(super) fn row_cells(r: &SocketRow) -> Vec<Cell> {
    let proto = match r.kind {
        Some(kind) => format!("{}/{kind}", r.proto.name()),
        None => r.proto.name().to_string(),
    };
    let tone = match r.state {
        "LISTEN" | "ESTAB" => Tone::Good,
        "SYN-SENT" | "CLOSE-WAIT" => Tone::Warn,
        _ => Tone::Normal,
    };
    let owner = super::model::owner_text(&r.owners);
    let tcp = r.tcp.as_ref();
    let rtt = tcp
        .and_then(|t| t.rtt_us)
        .filter(|_| r.proto == Proto::Tcp && r.state != "LISTEN")
        .map_or(String::new(), |us| format!("{:.2} ms", f64::from(us) / 1000.0));
    let retrans = tcp.filter(|_| r.state != "LISTEN").map_or(String::new(), |t| {
        format!("{}/{}", t.retransmits.unwrap_or(0), t.total_retrans.unwrap_or(0))
    });
    let cwnd = tcp
        .filter(|_| r.state != "LISTEN")
        .and_then(|t| t.cwnd)
        .map_or(String::new(), |c| c.to_string());
    let mut note = r.notes.join("; ");
    if r.count > 1 && note.is_empty() {
        note = format!("{} sockets", r.count);
    }
    vec![
        proto.into(),
        Cell::toned(r.state, tone),
        r.local.clone().into(),
        r.peer.clone().into(),
        r.recv_q.to_string().into(),
        r.send_q.to_string().into(),
        owner.into(),
        rtt.into(),
        retrans.into(),
        cwnd.into(),
        Cell::toned(
            note,
            if r.notes.is_empty() {
                Tone::Normal
            } else {
                Tone::Warn
            },
        ),
    ]
}
