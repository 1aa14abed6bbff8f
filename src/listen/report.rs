//! The summary printed when the listener stops: one row per client session and the totals, as a table or JSON
//! (the `listen` schema; with --json it is the last NDJSON line, after the events).

use super::endpoint::Endpoint;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use super::config::Settings;
use super::format::{bytes_per_sec, fmt_duration_ms, fmt_rate, rfc3339};
use super::session::{Counts, End, EndKind, Ledger, Proto, SessionId, Totals};
use super::state::StopReason;
use crate::cli::ListenMode;
use crate::render::{Cell, Report, Section, Tone, View, ms_f64};

/// Rows shown in the table; JSON always has every kept session.
pub const TABLE_ROWS: usize = 200;
/// Session columns left out first when the table is wider than the terminal: where the client came in, what
/// was sent back (the peer knows), how long it took, the protocol, and last the bytes received (in sink mode
/// the rate says more). The peer, how it ended and the rate always stay.
const SESSION_DROP_ORDER: [&str; 5] = ["LOCAL", "BYTES OUT", "DURATION", "PROTO", "BYTES IN"];

/// A socket the listener had bound.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BoundReport {
    /// TCP or UDP.
    pub protocol: Proto,
    /// Address and port.
    pub local: Endpoint,
    /// Whether it took IPv4 too (dual-stack IPv6 wildcard).
    pub dual_stack: bool,
}

/// One session in the summary.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SessionRow {
    /// Number in order of arrival, from 1 (the events' `session_id`).
    pub id: SessionId,
    /// TCP or UDP.
    pub protocol: Proto,
    /// The client's address and port (IPv4-mapped addresses shown as IPv4).
    pub peer: Endpoint,
    /// The local address and port it reached.
    pub local: Endpoint,
    /// When it began, RFC 3339 UTC with milliseconds.
    pub started_at: String,
    /// How long it lasted.
    pub duration_ms: f64,
    /// Bytes both ways, and the datagram counts (null for TCP).
    #[serde(flatten)]
    pub counts: Counts,
    /// Bytes received per second over the session; null outside sink mode (only sink measures throughput).
    pub received_bytes_per_second: Option<f64>,
    /// How it ended.
    pub end: End,
}

/// The tag of the summary line: `"event": "summary"`, so that every NDJSON line of a run has an `event`.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SummaryTag {
    /// The summary, last of the run.
    Summary,
}

/// Everything `sockdiag listen` reports when it stops.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ListenReport {
    /// Always "summary": the last NDJSON line of a --json run.
    pub event: SummaryTag,
    /// The settings the run used.
    pub settings: Settings,
    /// The sockets bound.
    pub bound: Vec<BoundReport>,
    /// What stopped the listener.
    pub ended_by: StopReason,
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
    /// Builds the summary from the finished sessions; sink mode adds each one's throughput.
    pub fn new(
        settings: Settings,
        bound: Vec<BoundReport>,
        ended_by: StopReason,
        elapsed: Duration,
        ledger: Ledger,
    ) -> Self {
        let totals = ledger.totals.clone();
        let (sessions, not_listed) = ledger.finish();
        let report_rate = settings.mode == ListenMode::Sink;
        let sessions = sessions
            .into_iter()
            .map(|s| {
                let d = s.duration(elapsed);
                SessionRow {
                    id: s.id,
                    protocol: s.protocol,
                    peer: s.peer.clone(),
                    local: s.local.clone(),
                    started_at: rfc3339(s.started_at),
                    duration_ms: ms_f64(d),
                    counts: s.traffic.counts(),
                    received_bytes_per_second: report_rate
                        .then(|| bytes_per_sec(s.traffic.received_bytes, d)),
                    end: s.end.unwrap_or_else(|| EndKind::ListenerStopped.into()),
                }
            })
            .collect();
        ListenReport {
            event: SummaryTag::Summary,
            settings,
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

    /// `--format csv`: every kept session (not only the table's first TABLE_ROWS), with the JSON's names and
    /// raw values (milliseconds, bytes); a null is an empty field.
    fn records(&self) -> Section {
        let mut section = Section::new(&CSV_COLUMNS);
        section.rows = self.sessions.iter().map(csv_record).collect();
        section
    }
}

/// The columns of `--format csv`: a session's JSON keys, `end` flattened to its kind and detail.
const CSV_COLUMNS: [&str; 14] = [
    "id",
    "protocol",
    "peer",
    "local",
    "started_at",
    "duration_ms",
    "received_bytes",
    "sent_bytes",
    "received_datagrams",
    "sent_datagrams",
    "rate_limited_answers",
    "received_bytes_per_second",
    "end",
    "end_detail",
];

/// One session as a CSV record, in the order of CSV_COLUMNS.
fn csv_record(row: &SessionRow) -> Vec<Cell> {
    let or_empty = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
    let c = &row.counts;
    let end = serde_json::to_value(row.end.kind).ok();
    vec![
        row.id.to_string().into(),
        row.protocol.name().into(),
        row.peer.to_string().into(),
        row.local.to_string().into(),
        row.started_at.clone().into(),
        row.duration_ms.to_string().into(),
        c.received_bytes.to_string().into(),
        c.sent_bytes.to_string().into(),
        or_empty(c.received_datagrams).into(),
        or_empty(c.sent_datagrams).into(),
        or_empty(c.rate_limited_answers).into(),
        row.received_bytes_per_second
            .map(|r| r.to_string())
            .unwrap_or_default()
            .into(),
        end.as_ref().and_then(|v| v.as_str()).unwrap_or_default().into(),
        row.end.detail.clone().unwrap_or_default().into(),
    ]
}

impl ListenReport {
    /// One row per session, the first TABLE_ROWS of them, with a note on those not shown.
    fn sessions_section(&self) -> Section {
        let with_rate = self.settings.mode == ListenMode::Sink;
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
        let mut section = Section::new(&columns)
            .titled("sessions")
            .droppable(&SESSION_DROP_ORDER);
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

    /// A row per protocol served, one for all, and the closing line.
    fn totals_section(&self) -> Section {
        let t = &self.totals;
        let mut section = Section::new(&["PROTO", "SESSIONS", "BYTES IN", "BYTES OUT", "NOTE"])
            .titled("totals")
            .droppable(&["NOTE"]);
        section.rows.extend(self.tcp_totals());
        section.rows.extend(self.udp_totals());
        section.rows.push(vec![
            "all".into(),
            t.sessions().to_string().into(),
            t.received_bytes.to_string().into(),
            t.sent_bytes.to_string().into(),
            "".into(),
        ]);
        section.notes.push(self.closing_line());
        section
    }

    /// What was done, how long it took and how it ended: "echo mode, 3 client sessions in 1.52 s; ended by SIGINT".
    pub fn closing_line(&self) -> String {
        let n = self.totals.sessions();
        let sessions = if n == 1 { "session" } else { "sessions" };
        let dropped = match self.totals.log_lines_dropped {
            0 => String::new(),
            1 => "; 1 log line dropped (its output could not take more)".into(),
            n => format!("; {n} log lines dropped (their output could not take more)"),
        };
        format!(
            "{} mode, {n} client {sessions} in {}{dropped}; {}",
            self.settings.mode.name(),
            fmt_duration_ms(self.elapsed_ms),
            self.ended_words()
        )
    }

    /// How the run ended, in words.
    fn ended_words(&self) -> String {
        match self.ended_by {
            StopReason::Sigint => "ended by SIGINT".into(),
            StopReason::Sigterm => "ended by SIGTERM".into(),
            StopReason::Once => format!("ended after the first {} client (--once)", self.stream_word()),
            StopReason::Clients => format!(
                "ended after {} {} clients (--clients)",
                self.settings.stop_after_clients.unwrap_or(0),
                self.stream_word()
            ),
            StopReason::Deadline => "ended at the --deadline".into(),
            StopReason::OutputClosed => "ended when its output was closed".into(),
        }
    }

    /// The connection-oriented protocol served: Unix stream for unix:PATH, else TCP.
    fn stream_proto(&self) -> Proto {
        if self.serves(Proto::Unix) {
            Proto::Unix
        } else {
            Proto::Tcp
        }
    }

    /// How the closing line names a stream client.
    fn stream_word(&self) -> &'static str {
        match self.stream_proto() {
            Proto::Unix => "Unix",
            _ => "TCP",
        }
    }

    /// The TCP (or Unix stream) totals row, if it was served or seen.
    fn tcp_totals(&self) -> Option<Vec<Cell>> {
        let t = &self.totals;
        let p = self.stream_proto();
        let n = t.tcp_sessions + t.unix_sessions;
        if n == 0 && t.tcp_refused == 0 && !self.serves(p) {
            return None;
        }
        let note = match (t.tcp_refused, t.tcp_refused_per_address) {
            (0, _) => String::new(),
            (n, 0) => format!("{n} refused at --max-conns"),
            (n, a) if a == n => format!("{n} refused at --max-conns-per-address"),
            (n, a) => format!("{n} refused ({a} at --max-conns-per-address)"),
        };
        Some(self.totals_row(p, n, note))
    }

    /// The UDP totals row, if UDP was served or seen, with datagrams, rate limiting and evictions.
    fn udp_totals(&self) -> Option<Vec<Cell>> {
        let t = &self.totals;
        let p = if self.serves(Proto::Unixgram) {
            Proto::Unixgram
        } else {
            Proto::Udp
        };
        let n = t.udp_peers + t.unixgram_peers;
        if n == 0 && !self.serves(p) {
            return None;
        }
        let mut note = format!("{} datagrams in, {} out", t.received_datagrams, t.sent_datagrams);
        if t.rate_limited_answers > 0 {
            note.push_str(&format!(", {} answers rate-limited", t.rate_limited_answers));
        }
        if t.udp_evicted > 0 {
            note.push_str(&format!(", {} peers evicted", t.udp_evicted));
        }
        Some(self.totals_row(p, n, note))
    }

    /// One protocol's totals: its sessions, the bytes of its listed sessions, and a note.
    fn totals_row(&self, p: Proto, sessions: u64, note: String) -> Vec<Cell> {
        vec![
            p.name().into(),
            sessions.to_string().into(),
            self.exact_or_at_least(self.listed_sum(p, |c| c.received_bytes))
                .into(),
            self.exact_or_at_least(self.listed_sum(p, |c| c.sent_bytes))
                .into(),
            note.into(),
        ]
    }

    /// A count summed over the listed sessions of one protocol.
    fn listed_sum(&self, p: Proto, count: impl Fn(&Counts) -> u64) -> u64 {
        self.sessions
            .iter()
            .filter(|r| r.protocol == p)
            .map(|r| count(&r.counts))
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
    let mut cells: Vec<Cell> = vec![
        row.protocol.name().into(),
        row.peer.to_string().into(),
        Cell::toned(row.local.to_string(), Tone::Dim),
        row.counts.received_bytes.to_string().into(),
        row.counts.sent_bytes.to_string().into(),
        fmt_duration_ms(row.duration_ms).into(),
        Cell::toned(row.end.to_string(), end_tone(&row.end)),
    ];
    if let Some(r) = row.received_bytes_per_second {
        cells.push(fmt_rate(r).into());
    }
    cells
}

fn end_tone(end: &End) -> Tone {
    match end.kind {
        EndKind::PeerClosed | EndKind::ListenerStopped => Tone::Good,
        EndKind::Reset | EndKind::Error => Tone::Bad,
        _ => Tone::Warn,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fit_check::assert_fits;
    use crate::render::{RenderOptions, write_report};
    use std::time::SystemTime;

    fn report(n: usize) -> ListenReport {
        let mut l = Ledger::new();
        let local: Endpoint = "127.0.0.1:7".parse().unwrap();
        for i in 0..n {
            let proto = if i % 2 == 0 { Proto::Tcp } else { Proto::Udp };
            let id = l.open(
                proto,
                "127.0.0.1:4000".parse().unwrap(),
                local.clone(),
                Duration::ZERO,
                SystemTime::now(),
            );
            if proto == Proto::Tcp {
                l.add_in(id, 10);
                l.add_out(id, 10);
            } else {
                l.datagram_in(id, 3);
            }
            l.close(id, EndKind::PeerClosed.into(), Duration::from_millis(20));
        }
        let bound = vec![BoundReport {
            protocol: Proto::Tcp,
            local: local.clone(),
            dual_stack: false,
        }];
        let settings = super::super::config::tests::settings(ListenMode::Echo);
        ListenReport::new(settings, bound, StopReason::Sigint, Duration::from_secs(1), l)
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
            text.contains("# echo mode, 3 client sessions in 1.00 s; ended by SIGINT"),
            "{text}"
        );
    }

    /// A sink run with the widest things a session row holds: IPv6 peers, big counts, long end reasons, rates.
    fn wide_report(mode: ListenMode) -> ListenReport {
        let mut l = Ledger::new();
        let local: Endpoint = "[2001:db8::1]:9000".parse().unwrap();
        let ends = [
            End::from(EndKind::Stalled),
            End::from(EndKind::Evicted),
            End::error("Connection timed out"),
        ];
        for (i, end) in ends.into_iter().enumerate() {
            let peer = format!("[2001:db8::{}]:54321", 17 + i).parse().unwrap();
            let proto = if i == 1 { Proto::Udp } else { Proto::Tcp };
            let id = l.open(proto, peer, local.clone(), Duration::ZERO, SystemTime::now());
            l.add_in(id, 3_145_728_000);
            l.add_out(id, 1_048_576);
            l.close(id, end, Duration::from_millis(3_870));
        }
        let bound = vec![BoundReport {
            protocol: Proto::Tcp,
            local: local.clone(),
            dual_stack: false,
        }];
        let settings = super::super::config::tests::settings(mode);
        ListenReport::new(settings, bound, StopReason::Deadline, Duration::from_secs(4), l)
    }

    #[test]
    fn tables_fit_60_80_and_200_columns_without_splitting_a_word() {
        for mode in [ListenMode::Echo, ListenMode::Sink] {
            let r = wide_report(mode);
            for width in [60, 80, 200] {
                let text = assert_fits(&r.view(), width);
                let left_out = text.contains("left out to fit");
                assert_eq!(left_out, width < 200, "{mode:?} at {width}:\n{text}");
            }
            let narrow = assert_fits(&r.view(), 60);
            assert!(narrow.contains("[2001:db8::17]:54321"), "{narrow}");
            assert!(narrow.contains("columns LOCAL"), "{narrow}");
            if mode == ListenMode::Sink {
                assert!(narrow.contains("812.8 MB/s"), "the rate stays: {narrow}");
            }
        }
    }

    #[test]
    fn csv_has_every_session_with_raw_values_and_empty_nulls() {
        let r = report(TABLE_ROWS + 5);
        let mut out = Vec::new();
        let opts = RenderOptions {
            format: crate::render::Format::Csv,
            ..RenderOptions::plain()
        };
        write_report(&r, &opts, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], CSV_COLUMNS.join(","));
        assert_eq!(
            lines.len(),
            1 + TABLE_ROWS + 5,
            "every session, not the table's first rows"
        );
        let tcp: Vec<&str> = lines[1].split(',').collect();
        assert_eq!(&tcp[..4], ["1", "tcp", "127.0.0.1:4000", "127.0.0.1:7"]);
        assert_eq!(&tcp[5..], ["20", "10", "10", "", "", "", "", "peer_closed", ""]);
        let udp: Vec<&str> = lines[2].split(',').collect();
        assert_eq!(&udp[6..11], ["3", "0", "1", "0", "0"]);
    }

    #[test]
    fn long_tables_are_capped_with_a_note_and_json_keeps_all() {
        let r = report(TABLE_ROWS + 5);
        let text = plain(&r);
        assert!(text.contains("# 5 more sessions not shown"), "{text}");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["sessions"].as_array().unwrap().len(), TABLE_ROWS + 5);
        assert_eq!(json["event"], "summary");
        assert_eq!(json["ended_by"], "sigint");
        assert_eq!(json["settings"]["mode"], "echo");
        assert_eq!(json["sessions"][0]["end"]["kind"], "peer_closed");
        assert_eq!(json["sessions"][0]["duration_ms"], 20.0);
        assert!(json["sessions"][0]["received_datagrams"].is_null());
        assert!(json["sessions"][0]["received_bytes_per_second"].is_null());
        assert_eq!(json["sessions"][1]["received_datagrams"], 1);
    }
}
