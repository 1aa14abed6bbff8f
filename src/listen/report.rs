//! The summary printed when the listener stops: one row per client session and the totals, as a table or JSON.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;

use super::format::{bytes_per_sec, fmt_duration_ms, fmt_rate, rfc3339};
use super::session::{End, Ledger, Proto, Session, Totals, Traffic};
use crate::render::{Cell, Report, Section, Tone, View, ms_f64};

/// Rows shown in the table; JSON always has every kept session.
pub const TABLE_ROWS: usize = 200;

/// A socket the listener had bound.
#[derive(Debug, Clone, Serialize)]
pub struct BoundReport {
    /// TCP or UDP.
    pub protocol: Proto,
    /// Address and port.
    pub local: SocketAddr,
    /// Whether it took IPv4 too (dual-stack IPv6 wildcard).
    pub dual_stack: bool,
}

/// One session in the summary.
#[derive(Debug, Serialize)]
pub struct SessionRow {
    /// The session's record.
    #[serde(flatten)]
    pub session: Session,
    /// When it began, RFC 3339 UTC.
    pub started: String,
    /// How long it lasted.
    pub duration_ms: f64,
    /// Bytes received per second (sink mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_in_bps: Option<f64>,
}

/// Everything `sockdiag listen` reports when it stops.
#[derive(Debug, Serialize)]
pub struct ListenReport {
    /// Always "summary": the last NDJSON line of a --json run.
    pub event: &'static str,
    /// The mode served.
    pub mode: &'static str,
    /// The sockets bound.
    pub bound: Vec<BoundReport>,
    /// What stopped the listener: "SIGINT", "SIGTERM", "once", "clients (N TCP clients)", "deadline".
    pub ended_by: String,
    /// How long it listened (the document's `elapsed_ms` is the envelope's, for the whole run).
    #[serde(skip)]
    pub elapsed_ms: f64,
    /// Sessions in order of arrival (at most session::MAX_RECORDS).
    pub sessions: Vec<SessionRow>,
    /// Sessions counted in the totals but not listed, beyond the record cap.
    pub sessions_not_listed: u64,
    /// Counters over all sessions.
    pub totals: Totals,
}

impl ListenReport {
    /// Builds the summary from the finished sessions; `report_rate` adds each one's throughput (sink mode).
    pub fn new(
        mode: &'static str,
        bound: Vec<BoundReport>,
        ended_by: String,
        elapsed: Duration,
        ledger: Ledger,
        report_rate: bool,
    ) -> Self {
        let totals = ledger.totals.clone();
        let (sessions, not_listed) = ledger.finish();
        let sessions = sessions
            .into_iter()
            .map(|s| {
                let d = s.duration(elapsed);
                SessionRow {
                    started: rfc3339(s.started_at),
                    duration_ms: ms_f64(d),
                    rate_in_bps: report_rate.then(|| bytes_per_sec(s.traffic.bytes_in, d)),
                    session: s,
                }
            })
            .collect();
        ListenReport {
            event: "summary",
            mode,
            bound,
            ended_by,
            elapsed_ms: ms_f64(elapsed),
            sessions,
            sessions_not_listed: not_listed,
            totals,
        }
    }
}

impl Report for ListenReport {
    fn view(&self) -> View {
        View {
            sections: vec![self.sessions_section(), self.totals_section()],
        }
    }
}

impl ListenReport {
    /// One row per session, the first TABLE_ROWS of them, with a note on those not shown.
    fn sessions_section(&self) -> Section {
        let with_rate = self.sessions.iter().any(|s| s.rate_in_bps.is_some());
        let mut columns = vec![
            "PROTO",
            "PEER",
            "LOCAL",
            "BYTES IN",
            "BYTES OUT",
            "DURATION",
            "END",
        ];
        if with_rate {
            columns.push("RATE IN");
        }
        let mut section = Section::new(&columns).titled("sessions");
        section.rows = self.sessions.iter().take(TABLE_ROWS).map(session_cells).collect();
        let hidden =
            (self.sessions.len() - self.sessions.len().min(TABLE_ROWS)) as u64 + self.sessions_not_listed;
        if self.sessions.is_empty() {
            section.notes.push("no clients".into());
        } else if hidden > 0 {
            section.notes.push(format!(
                "{hidden} more sessions not shown (the first {TABLE_ROWS} are; --json lists up to {})",
                super::session::MAX_RECORDS
            ));
        }
        section
    }

    /// A row per protocol served, one for all, and the closing line: mode, what ended it, how long it ran.
    fn totals_section(&self) -> Section {
        let t = &self.totals;
        let mut section =
            Section::new(&["PROTO", "SESSIONS", "BYTES IN", "BYTES OUT", "NOTE"]).titled("totals");
        section.rows.extend(self.tcp_totals());
        section.rows.extend(self.udp_totals());
        section.rows.push(vec![
            "all".into(),
            (t.tcp_sessions + t.udp_peers).to_string().into(),
            t.bytes_in.to_string().into(),
            t.bytes_out.to_string().into(),
            "".into(),
        ]);
        section.notes.push(format!(
            "{} mode; ended by {} after {}",
            self.mode,
            self.ended_by,
            fmt_duration_ms(self.elapsed_ms)
        ));
        section
    }

    /// The TCP totals row, if TCP was served or seen.
    fn tcp_totals(&self) -> Option<Vec<Cell>> {
        let t = &self.totals;
        if t.tcp_sessions == 0 && t.tcp_refused == 0 && !self.serves(Proto::Tcp) {
            return None;
        }
        let note = if t.tcp_refused > 0 {
            format!("{} refused at --max-conns", t.tcp_refused)
        } else {
            String::new()
        };
        Some(vec![
            "tcp".into(),
            t.tcp_sessions.to_string().into(),
            self.exact_or_at_least(self.listed_sum(Proto::Tcp, |c| c.bytes_in))
                .into(),
            self.exact_or_at_least(self.listed_sum(Proto::Tcp, |c| c.bytes_out))
                .into(),
            note.into(),
        ])
    }

    /// The UDP totals row, if UDP was served or seen, with datagrams, rate limiting and evictions.
    fn udp_totals(&self) -> Option<Vec<Cell>> {
        let t = &self.totals;
        if t.udp_peers == 0 && !self.serves(Proto::Udp) {
            return None;
        }
        let mut note = format!("{} datagrams in, {} out", t.datagrams_in, t.datagrams_out);
        if t.udp_rate_limited > 0 {
            note.push_str(&format!(", {} answers rate-limited", t.udp_rate_limited));
        }
        if t.udp_evicted > 0 {
            note.push_str(&format!(", {} peers evicted", t.udp_evicted));
        }
        Some(vec![
            "udp".into(),
            t.udp_peers.to_string().into(),
            self.exact_or_at_least(self.listed_sum(Proto::Udp, |c| c.bytes_in))
                .into(),
            self.exact_or_at_least(self.listed_sum(Proto::Udp, |c| c.bytes_out))
                .into(),
            note.into(),
        ])
    }

    /// A count summed over the listed sessions of one protocol.
    fn listed_sum(&self, p: Proto, count: impl Fn(&Traffic) -> u64) -> u64 {
        self.sessions
            .iter()
            .filter(|r| r.session.protocol == p)
            .map(|r| count(&r.session.traffic))
            .sum()
    }

    /// Whether a socket of this protocol was bound.
    fn serves(&self, p: Proto) -> bool {
        self.bound.iter().any(|b| b.protocol == p)
    }

    /// A per-protocol sum is exact only when every session was kept; otherwise say it is a lower bound.
    fn exact_or_at_least(&self, listed: u64) -> String {
        if self.sessions_not_listed == 0 {
            listed.to_string()
        } else {
            format!(">={listed}")
        }
    }
}

/// A session's table row.
fn session_cells(row: &SessionRow) -> Vec<Cell> {
    let s = &row.session;
    let end = s.end.as_ref().map(|e| e.to_string()).unwrap_or_default();
    let mut cells: Vec<Cell> = vec![
        s.protocol.name().into(),
        s.peer.to_string().into(),
        Cell::toned(s.local.to_string(), Tone::Dim),
        s.traffic.bytes_in.to_string().into(),
        s.traffic.bytes_out.to_string().into(),
        fmt_duration_ms(row.duration_ms).into(),
        Cell::toned(end, end_tone(s.end.as_ref())),
    ];
    if let Some(r) = row.rate_in_bps {
        cells.push(fmt_rate(r).into());
    }
    cells
}

fn end_tone(end: Option<&End>) -> Tone {
    match end {
        Some(End::PeerClosed) | Some(End::ListenerStopped) => Tone::Good,
        Some(End::Reset) | Some(End::Error(_)) => Tone::Bad,
        Some(_) => Tone::Warn,
        None => Tone::Normal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{RenderOptions, write_report};
    use std::time::SystemTime;

    fn report(n: usize) -> ListenReport {
        let mut l = Ledger::new();
        let local: SocketAddr = "127.0.0.1:7".parse().unwrap();
        for i in 0..n {
            let proto = if i % 2 == 0 { Proto::Tcp } else { Proto::Udp };
            let id = l.open(
                proto,
                "127.0.0.1:4000".parse().unwrap(),
                local,
                Duration::ZERO,
                SystemTime::now(),
            );
            if proto == Proto::Tcp {
                l.add_in(id, 10);
                l.add_out(id, 10);
            } else {
                l.datagram_in(id, 3);
            }
            l.close(id, End::PeerClosed, Duration::from_millis(20));
        }
        let bound = vec![BoundReport {
            protocol: Proto::Tcp,
            local,
            dual_stack: false,
        }];
        ListenReport::new("echo", bound, "SIGINT".into(), Duration::from_secs(1), l, false)
    }

    fn plain(r: &ListenReport) -> String {
        let opts = RenderOptions::plain();
        let mut out = Vec::new();
        write_report(r, &opts, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn table_lists_sessions_and_totals_per_protocol() {
        let text = plain(&report(3));
        assert!(
            text.contains("tcp    127.0.0.1:4000  127.0.0.1:7  10        10"),
            "{text}"
        );
        assert!(
            text.contains("\nudp    1         3         0          1 datagrams in, 0 out"),
            "{text}"
        );
        assert!(text.contains("\nall    3         23        20"), "{text}");
        assert!(
            text.contains("# echo mode; ended by SIGINT after 1.00 s"),
            "{text}"
        );
    }

    #[test]
    fn long_tables_are_capped_with_a_note_and_json_keeps_all() {
        let r = report(TABLE_ROWS + 5);
        let text = plain(&r);
        assert!(text.contains("# 5 more sessions not shown"), "{text}");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["sessions"].as_array().unwrap().len(), TABLE_ROWS + 5);
        assert_eq!(json["event"], "summary");
        assert_eq!(json["sessions"][0]["end"]["kind"], "peer-closed");
        assert_eq!(json["sessions"][0]["duration_ms"], 20.0);
        assert_eq!(json["sessions"][1]["datagrams_in"], 1);
    }
}
