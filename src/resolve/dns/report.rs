//! The direct DNS report: every query's result, where the servers came from, and its table view.

use std::net::SocketAddr;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use super::answer::{QueryReport, Status, failure_message};
use super::config::DnsOptions;
use super::encrypted::SessionInfo;
use super::encrypted::spec::Scheme;
use super::exchange::Transport;
use super::resolv_conf::SystemConf;
use super::server::ServerChoice;
use crate::render::{Cell, Report, Section, Tone, View, fmt_ms, ms_f64};
use crate::resolve::system::rows::FamilyName;

/// Where the server came from.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "source")]
pub enum ServerSource {
    /// resolv.conf, as every program on the host uses it.
    System {
        /// What resolv.conf says.
        resolv_conf: SystemConf,
        /// Servers listed beyond glibc's three, which are never asked.
        ignored: Vec<SocketAddr>,
    },
    /// `@SERVER` or `--server`.
    Chosen {
        /// What the user wrote.
        given: Vec<String>,
    },
}

/// How DNS is asked: the same in the DNS mode and on the DNS side of `--compare`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct QuerySettings {
    /// `udp` (with TCP after a truncated answer), `tcp` (`--tcp`), `tls` or `https` (an encrypted server).
    pub transport: Transport,
    /// How long each try waits (`-w`).
    pub timeout_ms: f64,
    /// Rounds over the servers (`--attempts`).
    pub attempts: u8,
    /// `--dnssec` (or `--validate`): the DO bit was set.
    pub dnssec: bool,
    /// `--validate`: every answer was validated locally.
    pub validate: bool,
    /// `--trust-anchor`: the file validation started from (null: the root's key, built in).
    pub trust_anchor: Option<String>,
}

impl QuerySettings {
    /// The settings of these options.
    pub fn from_options(options: &DnsOptions) -> Self {
        QuerySettings {
            transport: match &options.servers {
                ServerChoice::Encrypted { spec, .. } if spec.scheme == Scheme::Https => Transport::Https,
                ServerChoice::Encrypted { .. } => Transport::Tls,
                _ if options.tcp_only => Transport::Tcp,
                _ => Transport::Udp,
            },
            timeout_ms: ms_f64(options.timeout),
            attempts: options.attempts,
            dnssec: options.dnssec,
            validate: options.validate.is_some(),
            trust_anchor: options.trust_anchor.as_ref().map(|p| p.display().to_string()),
        }
    }
}

/// The settings of the DNS mode.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DnsSettings {
    /// `-4`/`-6`: the family of the servers asked (`any`: both).
    pub family: FamilyName,
    /// Transport, wait and rounds.
    #[serde(flatten)]
    pub query: QuerySettings,
    /// Queries in flight at once (`--parallel`).
    pub parallel: usize,
    /// Always false: names are asked as given, absolute (like dig without +search).
    pub search_list_applied: bool,
}

/// Everything `sockdiag resolve -t ...` found.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DnsReport {
    /// The settings the queries ran with.
    pub settings: DnsSettings,
    /// The servers asked, in order.
    pub servers: Vec<SocketAddr>,
    /// Where the servers came from.
    pub server_source: ServerSource,
    /// The encrypted connection (`@tls://`, `@https://`): its certificate and handshake time; null over UDP/TCP.
    pub encrypted: Option<Box<SessionInfo>>,
    /// One entry per query, in input order (names, then types).
    pub queries: Vec<QueryReport>,
    #[serde(skip)]
    pub(crate) timeout: Duration,
    /// How long all the queries took (the envelope's `elapsed_ms` carries it in JSON).
    #[serde(skip)]
    pub took: Duration,
}

impl DnsReport {
    /// One line per unreachable server and transport, for stderr: which server, which transport, what happened.
    pub fn unreachable(&self) -> Vec<String> {
        let mut lines: Vec<(String, usize)> = Vec::new();
        for q in &self.queries {
            if matches!(q.status, Status::Timeout | Status::NoConnection) {
                let line = failure_message(&q.tries, self.timeout);
                match lines.iter_mut().find(|(l, _)| *l == line) {
                    Some((_, n)) => *n += 1,
                    None => lines.push((line, 1)),
                }
            }
        }
        lines
            .into_iter()
            .map(|(line, n)| {
                if n == 1 {
                    line
                } else {
                    format!("{line} ({n} queries)")
                }
            })
            .collect()
    }
}

impl Report for DnsReport {
    fn view(&self) -> View {
        // DATA comes last: a long TXT record then does not push the other columns apart in a pipe. The
        // answering server and the time are in the notes and the JSON, so they go first on a narrow terminal.
        const FRONT: [&str; 5] = ["NAME", "TYPE", "TTL", "SERVER", "TIME"];
        // Records of one kind with parts (TLSA, DS, HTTPS...) show the parts as columns in place of DATA.
        let fields = super::columns::shared(&self.queries);
        let header = [&FRONT[..], fields.unwrap_or(&["DATA"])].concat();
        let mut s = Section::new(&header).droppable(&["TIME", "SERVER", "TTL"]);
        for q in &self.queries {
            let mut rows = query_rows(q);
            if fields.is_some() {
                for (row, rec) in rows.iter_mut().zip(&q.records) {
                    row.pop();
                    let cells = rec.fields.as_ref().and_then(super::columns::of);
                    row.extend(cells.into_iter().flat_map(|(_, c)| c).map(Cell::from));
                }
            }
            s.rows.extend(rows);
        }
        s.notes.push(self.server_note());
        if let Some(info) = &self.encrypted {
            s.notes.push(encrypted_note(info));
        }
        s.notes.push(self.asking_note());
        if self.settings.query.validate {
            s.notes.extend(validation_notes(
                &self.queries,
                self.settings.query.trust_anchor.as_deref(),
            ));
        }
        if self.queries.iter().any(|q| q.qtype == "ANY") {
            s.notes.push(
                "ANY shows what this server chose to send: many answer it minimally, or with one HINFO record \
                 (RFC 8482); ask for the types you need with -t"
                    .into(),
            );
        }
        s.notes.push(summary(&self.queries, self.took));
        View { sections: vec![s] }
    }

    fn records(&self) -> Section {
        super::csv::records(&self.queries)
    }
}

/// One row per record, then the status row of a query that was not answered; the server and the time go on
/// the first row only.
fn query_rows(q: &QueryReport) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    for rec in &q.records {
        let tone = if rec.rtype == q.qtype {
            Tone::Good
        } else {
            Tone::Normal
        };
        rows.push(vec![
            rec.name.clone().into(),
            rec.rtype.clone().into(),
            rec.ttl.to_string().into(),
            "".into(),
            "".into(),
            Cell::toned(rec.data.clone(), tone),
        ]);
    }
    for ignored in &q.ignored_records {
        let rec = &ignored.record;
        rows.push(vec![
            rec.name.clone().into(),
            rec.rtype.clone().into(),
            rec.ttl.to_string().into(),
            "".into(),
            "".into(),
            Cell::toned(format!("ignored ({}): {}", ignored.reason, rec.data), Tone::Dim),
        ]);
    }
    if q.status != Status::Answer {
        let tone = if matches!(q.status, Status::Nxdomain | Status::Nodata) {
            Tone::Warn
        } else {
            Tone::Bad
        };
        rows.push(vec![
            q.name.clone().into(),
            q.qtype.clone().into(),
            q.negative_ttl.map(|t| t.to_string()).unwrap_or_default().into(),
            "".into(),
            "".into(),
            Cell::toned(q.status_text(), tone),
        ]);
    }
    if q.status == Status::Answer
        && let Some(text) = q.ignored_replies.text()
    {
        let status = Cell::toned(text, Tone::Dim);
        rows.push(vec![
            q.name.clone().into(),
            q.qtype.clone().into(),
            "".into(),
            "".into(),
            "".into(),
            status,
        ]);
    }
    // An answered query has at least one record, an unanswered one its status row: there is a first row.
    rows[0][3] = q.server_cell().into();
    rows[0][4] = fmt_ms(q.elapsed).into();
    rows
}

impl DnsReport {
    /// Which servers were asked and where they came from.
    fn server_note(&self) -> String {
        match &self.server_source {
            ServerSource::System { resolv_conf, ignored } => system_servers_note(resolv_conf, ignored),
            ServerSource::Chosen { given } => {
                let servers: Vec<String> = self.servers.iter().map(|s| s.to_string()).collect();
                // Say how it was written only when that differs (a host name, a default port).
                if *given == servers {
                    format!("server: {}", servers.join(", "))
                } else {
                    format!("server: {} (given as {})", servers.join(", "), given.join(", "))
                }
            }
        }
    }

    /// How the names were asked: no search list, the transport, the wait and the rounds.
    fn asking_note(&self) -> String {
        format!(
            "names asked as given, absolute (no search list, like dig); {}; {} per try, {} {}",
            match self.settings.query.transport {
                Transport::Udp => "udp, tcp when the answer is truncated",
                Transport::Tcp => "tcp only",
                Transport::Tls => "over one TLS connection, queries pipelined",
                Transport::Https => "over one HTTP/2 connection, queries side by side",
            },
            fmt_ms(self.timeout),
            self.settings.query.attempts,
            if self.settings.query.attempts == 1 {
                "round"
            } else {
                "rounds"
            }
        ) + if self.settings.query.dnssec {
            "; DNSSEC OK bit set: signatures shown, AD marks an answer the server says it validated"
        } else {
            ""
        }
    }
}

/// The encrypted connection: the transport, the certificate shown, the handshake time or why it failed.
fn encrypted_note(info: &SessionInfo) -> String {
    let over = match info.transport {
        Transport::Https => "HTTPS (DoH)",
        _ => "TLS (DoT)",
    };
    let trusted = match &info.ca {
        Some(ca) => format!("CAs of --ca {}", crate::text::escape(&ca.display().to_string())),
        None => "the system's CAs".into(),
    };
    let certificate = match &info.certificate {
        Some(c) => format!(
            "certificate for {} (issued by {}, valid until {}), checked for {} against {trusted}",
            crate::text::escape(&c.name()),
            crate::text::escape(&c.issuer),
            c.not_after,
            info.tls_name
        ),
        None => "no certificate received".into(),
    };
    let connection = match (&info.problem, info.handshake_ms) {
        (Some(problem), _) => format!("no connection: {}", crate::text::escape(problem)),
        (None, Some(ms)) => format!(
            "connect and handshake {}, apart from each query's time",
            fmt_ms(Duration::from_secs_f64(ms / 1000.0))
        ),
        (None, None) => "the connection of the first names, reused".into(),
    };
    format!("over {over} to {}: {connection}; {certificate}", info.server)
}

/// How answers were validated, then the reason for each answer not found secure or insecure.
fn validation_notes(queries: &[QueryReport], anchor: Option<&str>) -> Vec<String> {
    let from = match anchor {
        Some(file) => format!("the trust anchor in {}", crate::text::escape(file)),
        None => "the root's key".into(),
    };
    let mut notes = vec![format!(
        "validated here (DNSSEC) from {from}: secure, insecure (no chain of trust: an unsigned zone) or bogus \
         in the SERVER column"
    )];
    for q in queries {
        if let Some(v) = &q.validation
            && let Some(reason) = &v.reason
        {
            notes.push(format!(
                "{}: {} {}: {}",
                v.word(),
                q.name,
                q.qtype,
                crate::text::escape(reason)
            ));
        }
    }
    notes
}

/// The system's servers as resolv.conf lists them, with its search list and ndots.
fn system_servers_note(conf: &SystemConf, ignored: &[SocketAddr]) -> String {
    let servers = if conf.default_nameserver {
        "no nameserver line, so glibc's default 127.0.0.1".to_string()
    } else {
        format!(
            "nameserver {}",
            conf.nameservers
                .iter()
                .map(|a| a.ip().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let search = if conf.search.is_empty() {
        "no search list".to_string()
    } else {
        format!("search {}", conf.search.join(" "))
    };
    let ignored = if ignored.is_empty() {
        String::new()
    } else {
        format!(" ({} beyond the first three not asked, as glibc)", ignored.len())
    };
    format!(
        "server: the system's, from {}: {servers}{ignored}; {search}; ndots {}",
        conf.path, conf.ndots
    )
}

/// The closing line: how many queries, how long they took, what they came to.
fn summary(queries: &[QueryReport], took: Duration) -> String {
    let count = |st: Status| queries.iter().filter(|q| q.status == st).count();
    let parts: Vec<String> = [
        (Status::Answer, "answered"),
        (Status::Nxdomain, "NXDOMAIN"),
        (Status::Nodata, "NODATA"),
        (Status::Refused, "REFUSED"),
        (Status::Servfail, "SERVFAIL"),
        (Status::ServerError, "other error codes"),
        (Status::Timeout, "timed out"),
        (Status::NoConnection, "no connection"),
        (Status::BadResponse, "bad responses"),
    ]
    .into_iter()
    .filter_map(|(st, label)| match count(st) {
        0 => None,
        n => Some(format!("{n} {label}")),
    })
    .collect();
    let truncated = queries.iter().filter(|q| q.truncated_udp).count();
    let mut text = format!(
        "{} {} in {}: {}",
        queries.len(),
        if queries.len() == 1 { "query" } else { "queries" },
        fmt_ms(took),
        parts.join(", ")
    );
    if truncated > 0 {
        text.push_str(&format!(
            "; {truncated} truncated over udp and asked again over tcp"
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::super::exchange::{Try, TryOutcome};
    use super::super::records::{Fields, RecordRow};
    use super::*;
    use crate::render::fit_check::assert_fits;

    fn record(name: &str, rtype: &str, ttl: u32, data: &str) -> RecordRow {
        RecordRow {
            name: name.into(),
            rtype: rtype.into(),
            ttl,
            data: data.into(),
            fields: None,
        }
    }

    fn query(name: &str, qtype: &str, status: Status, records: Vec<RecordRow>) -> QueryReport {
        let server: SocketAddr = "[2001:db8:53::53]:53".parse().unwrap();
        let answered = status != Status::Timeout;
        QueryReport {
            name: name.into(),
            qtype: qtype.into(),
            status,
            rcode: answered.then(|| "NOERROR".into()),
            server: answered.then_some(server),
            transport: answered.then_some(Transport::Udp),
            truncated_udp: false,
            query_time_ms: answered.then_some(52.3),
            size_bytes: answered.then_some(120),
            authoritative: answered.then_some(false),
            authentic_data: answered.then_some(false),
            records,
            negative_ttl: (status == Status::Nodata).then_some(300),
            soa: None,
            message: match status {
                Status::Nodata => Some(format!("{name} exists but has no {qtype} record")),
                Status::Timeout => Some(format!(
                    "{server} over udp: no answer after 2 tries of 2.00 s each"
                )),
                _ => None,
            },
            validation: None,
            tries: vec![Try {
                server,
                transport: Transport::Udp,
                outcome: if answered {
                    TryOutcome::Answered
                } else {
                    TryOutcome::TimedOut
                },
                elapsed: Duration::from_millis(52),
                ignored: Default::default(),
            }],
            ignored_records: Vec::new(),
            ignored_replies: Default::default(),
            elapsed: Duration::from_micros(52_300),
        }
    }

    fn report() -> DnsReport {
        let mut mx = record("example.org.", "MX", 3600, "10 mail.example.org.");
        mx.fields = Some(Fields::Mx {
            preference: 10,
            exchange: "mail.example.org.".into(),
        });
        let queries = vec![
            query(
                "www.example.org.",
                "AAAA",
                Status::Answer,
                vec![
                    record("www.example.org.", "CNAME", 300, "web.example.org."),
                    record("web.example.org.", "AAAA", 60, "2001:db8:4006:80b::200e"),
                ],
            ),
            query("example.org.", "MX", Status::Answer, vec![mx]),
            query(
                "example.org.",
                "TXT",
                Status::Answer,
                vec![record(
                    "example.org.",
                    "TXT",
                    3600,
                    "\"v=spf1 include:_spf.example.org ~all\"",
                )],
            ),
            query("example.org.", "CAA", Status::Nodata, vec![]),
            query("slow.example.org.", "A", Status::Timeout, vec![]),
        ];
        DnsReport {
            settings: DnsSettings {
                family: FamilyName::Any,
                query: QuerySettings {
                    transport: Transport::Udp,
                    timeout_ms: 2000.0,
                    attempts: 2,
                    dnssec: false,
                    validate: false,
                    trust_anchor: None,
                },
                parallel: 16,
                search_list_applied: false,
            },
            servers: vec!["[2001:db8:53::53]:53".parse().unwrap()],
            server_source: ServerSource::Chosen {
                given: vec!["2001:db8:53::53".into()],
            },
            encrypted: None,
            queries,
            timeout: Duration::from_secs(2),
            took: Duration::from_millis(2010),
        }
    }

    #[test]
    fn tables_fit_60_80_and_200_columns_without_splitting_a_word() {
        let view = report().view();
        for width in [60, 80, 200] {
            assert_fits(&view, width);
        }
        let narrow = assert_fits(&view, 60);
        assert!(narrow.contains("columns TIME, SERVER"), "{narrow}");
        assert!(assert_fits(&view, 200).contains("[2001:db8:53::53]:53 udp"));
    }

    #[test]
    fn the_closing_line_says_what_was_done_how_long_and_how_it_ended() {
        let view = report().view();
        assert_eq!(
            view.sections[0].notes.last().unwrap(),
            "5 queries in 2.01 s: 3 answered, 1 NODATA, 1 timed out"
        );
    }

    #[test]
    fn json_names_unknowns_null_and_carries_the_settings() {
        let json = serde_json::to_value(report()).unwrap();
        assert_eq!(json["settings"]["transport"], "udp");
        assert_eq!(json["settings"]["timeout_ms"], 2000.0);
        assert_eq!(json["server_source"]["source"], "chosen");
        let slow = &json["queries"][4];
        assert_eq!(slow["status"], "timeout");
        for key in [
            "rcode",
            "server",
            "transport",
            "query_time_ms",
            "size_bytes",
            "soa",
            "negative_ttl",
        ] {
            assert!(slow[key].is_null(), "{key}: {slow}");
        }
        assert_eq!(slow["tries"][0]["outcome"], "timed_out");
        assert!(slow["tries"][0]["detail"].is_null());
        assert_eq!(slow["tries"][0]["elapsed_ms"], 52.0);
        assert!(json["queries"][2]["records"][0]["fields"].is_null());
        assert_eq!(json["queries"][1]["records"][0]["fields"]["preference"], 10);
    }
}
