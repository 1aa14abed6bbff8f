//! The sockets report: the rows, what could not be seen, and its table view.

use std::collections::BTreeMap;

use serde::Serialize;

use super::model::{self, Proto, SocketRow};
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
    /// One look that has found nothing yet.
    pub(super) fn empty() -> SocketsReport {
        SocketsReport {
            sockets: Vec::new(),
            states: BTreeMap::new(),
            owners_hidden: 0,
            not_listed: Vec::new(),
            samples: 1,
            interrupted: false,
        }
    }

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
    let tone = match r.state {
        "LISTEN" | "ESTAB" => Tone::Good,
        "SYN-SENT" | "CLOSE-WAIT" => Tone::Warn,
        _ => Tone::Normal,
    };
    let note_tone = if r.notes.is_empty() {
        Tone::Normal
    } else {
        Tone::Warn
    };
    (0..COLUMNS.len())
        .map(|column| {
            let mut text = String::new();
            write_cell(r, column, &mut text);
            match column {
                1 => Cell::toned(text, tone),
                10 => Cell::toned(text, note_tone),
                _ => text.into(),
            }
        })
        .collect()
}

/// Appends the text of one cell of a row, unescaped: the one place a row's cells are made, for the table and
/// for plain columns written without a string per cell.
pub(super) fn write_cell(r: &SocketRow, column: usize, out: &mut String) {
    use std::fmt::Write;
    // Writing into a String cannot fail.
    let tcp = r.tcp.as_ref().filter(|_| r.state != "LISTEN");
    let _ = match column {
        0 => match r.kind {
            Some(kind) => write!(out, "{}/{kind}", r.proto.name()),
            None => out.write_str(r.proto.name()),
        },
        1 => out.write_str(r.state),
        2 => out.write_str(&r.local),
        3 => out.write_str(&r.peer),
        4 => {
            model::push_decimal(out, r.recv_q);
            Ok(())
        }
        5 => {
            model::push_decimal(out, r.send_q);
            Ok(())
        }
        6 => write_owners(&r.owners, out),
        7 => match tcp.and_then(|t| t.rtt_us).filter(|_| r.proto == Proto::Tcp) {
            Some(us) => {
                push_millis(out, us);
                Ok(())
            }
            None => Ok(()),
        },
        8 => match tcp {
            Some(t) => write!(
                out,
                "{}/{}",
                t.retransmits.unwrap_or(0),
                t.total_retrans.unwrap_or(0)
            ),
            None => Ok(()),
        },
        9 => match tcp.and_then(|t| t.cwnd) {
            Some(c) => write!(out, "{c}"),
            None => Ok(()),
        },
        10 if r.notes.is_empty() && r.count > 1 => write!(out, "{} sockets", r.count),
        10 => {
            for (i, note) in r.notes.iter().enumerate() {
                if i > 0 {
                    out.push_str("; ");
                }
                out.push_str(note);
            }
            Ok(())
        }
        _ => Ok(()),
    };
}

/// Microseconds as milliseconds to two places, `1.25 ms`, rounded half up; without the float formatting, which
/// showed in the profile of 20,000 rows.
fn push_millis(out: &mut String, us: u32) {
    let hundredths = (u64::from(us) + 5) / 10;
    model::push_decimal(out, (hundredths / 100) as u32);
    out.push('.');
    let fraction = (hundredths % 100) as u32;
    if fraction < 10 {
        out.push('0');
    }
    model::push_decimal(out, fraction);
    out.push_str(" ms");
}

/// The OWNER cell: `nginx (812), nginx (813)`.
fn write_owners(owners: &[crate::inventory::owners::Owner], out: &mut String) -> std::fmt::Result {
    use std::fmt::Write;
    for (i, o) in owners.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write!(out, "{} ({})", o.process, o.pid)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_times_read_as_milliseconds_to_two_places() {
        let millis = |us| {
            let mut out = String::new();
            push_millis(&mut out, us);
            out
        };
        assert_eq!(millis(0), "0.00 ms");
        assert_eq!(millis(4), "0.00 ms");
        assert_eq!(millis(5), "0.01 ms");
        assert_eq!(millis(57), "0.06 ms");
        assert_eq!(millis(1234), "1.23 ms");
        assert_eq!(millis(1235), "1.24 ms");
        assert_eq!(millis(999_995), "1000.00 ms");
        assert_eq!(millis(u32::MAX), "4294967.30 ms");
    }
}
