//! The direct DNS report: every query's result, where the servers came from, and its table view.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;

use super::answer::{QueryReport, Status, failure_message};
use super::exchange::Transport;
use super::resolv_conf::SystemConf;
use crate::render::{Cell, Report, Section, Tone, View, fmt_ms};

/// Where the server came from.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case", tag = "source")]
pub enum ServerSource {
    /// resolv.conf, as every program on the host uses it.
    System {
        /// What resolv.conf says.
        resolv_conf: SystemConf,
        /// Servers listed beyond glibc's three, which are never asked.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        ignored: Vec<SocketAddr>,
    },
    /// `@SERVER` or `--server`.
    Chosen {
        /// What the user wrote.
        given: Vec<String>,
    },
}

/// Everything `sockdiag resolve -t ...` found.
#[derive(Debug, Serialize)]
pub struct DnsReport {
    /// Where the servers came from.
    pub server_source: ServerSource,
    /// The servers asked, in order.
    pub servers: Vec<SocketAddr>,
    /// "udp" (with TCP after a truncated answer) or "tcp".
    pub transport: Transport,
    /// How long each try waits.
    pub timeout_ms: f64,
    /// Rounds over the servers.
    pub attempts: u8,
    /// Names are asked as given, absolute: no search list (like dig without +search).
    pub search_list_applied: bool,
    /// One entry per query, in input order (names, then types).
    pub queries: Vec<QueryReport>,
    #[serde(skip)]
    pub(crate) timeout: Duration,
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
        // DATA comes last: a long TXT record then does not push the other columns apart in a pipe.
        let mut s = Section::new(&["NAME", "TYPE", "TTL", "SERVER", "TIME", "DATA"]);
        for q in &self.queries {
            s.rows.extend(query_rows(q));
        }
        s.notes.push(self.server_note());
        s.notes.push(self.asking_note());
        s.notes.push(summary(&self.queries));
        View { sections: vec![s] }
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
            match self.transport {
                Transport::Udp => "udp, tcp when the answer is truncated",
                Transport::Tcp => "tcp only",
            },
            fmt_ms(self.timeout),
            self.attempts,
            if self.attempts == 1 { "round" } else { "rounds" }
        )
    }
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

fn summary(queries: &[QueryReport]) -> String {
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
        "{} {}: {}",
        queries.len(),
        if queries.len() == 1 { "query" } else { "queries" },
        parts.join(", ")
    );
    if truncated > 0 {
        text.push_str(&format!(
            "; {truncated} truncated over udp and asked again over tcp"
        ));
    }
    text
}
