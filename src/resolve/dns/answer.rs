//! What one DNS query came to (answer, NXDOMAIN, NODATA, REFUSED, SERVFAIL, timeout, no connection, ...),
//! classified from its exchange, with the words the table shows for it.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::proto::op::{Message, ResponseCode};
use hickory_resolver::proto::rr::{Name, RecordType};
use schemars::JsonSchema;
use serde::Serialize;

use super::accept::IgnoredReplies;
use super::exchange::{Exchange, Transport, Try, TryOutcome};
use super::records::{RecordRow, name_text, negative_ttl, row, sort_answer, type_name};
use super::validate::{Security, Validation};
use crate::render::{fmt_ms, ms_f64};

/// What a query came to, distinct in the table, the JSON and the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Records of the type asked for.
    Answer,
    /// The name does not exist.
    Nxdomain,
    /// The name exists but has no record of this type.
    Nodata,
    /// The server refused to answer.
    Refused,
    /// The server failed to answer.
    Servfail,
    /// Another error response code (FORMERR, NOTIMP, ...).
    ServerError,
    /// No answer within the timeout, after every try.
    Timeout,
    /// The server could not be reached.
    NoConnection,
    /// Something came back that is not a usable answer.
    BadResponse,
}

impl Status {
    /// The name as the JSON spells it.
    pub fn name(self) -> &'static str {
        match self {
            Status::Answer => "answer",
            Status::Nxdomain => "nxdomain",
            Status::Nodata => "nodata",
            Status::Refused => "refused",
            Status::Servfail => "servfail",
            Status::ServerError => "server_error",
            Status::Timeout => "timeout",
            Status::NoConnection => "no_connection",
            Status::BadResponse => "bad_response",
        }
    }

    /// The word a table shows: DNS's mnemonics in capitals, the rest in words.
    pub fn label(self) -> &'static str {
        match self {
            Status::Answer => "answer",
            Status::Nxdomain => "NXDOMAIN",
            Status::Nodata => "NODATA",
            Status::Refused => "REFUSED",
            Status::Servfail => "SERVFAIL",
            Status::ServerError => "error",
            Status::Timeout => "timeout",
            Status::NoConnection => "no connection",
            Status::BadResponse => "bad response",
        }
    }
}

/// The result of one query; what no response told is null.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct QueryReport {
    /// The name asked, absolute.
    pub name: String,
    /// The type asked.
    #[serde(rename = "type")]
    pub qtype: String,
    /// What it came to.
    pub status: Status,
    /// The response code's mnemonic (NOERROR, NXDOMAIN, ...), when a response came.
    pub rcode: Option<String>,
    /// The server that answered.
    pub server: Option<SocketAddr>,
    /// The transport that carried the answer.
    pub transport: Option<Transport>,
    /// A UDP answer came back truncated, so the query was asked again over TCP.
    pub truncated_udp: bool,
    /// From sending the query to the answer (dig's "Query time").
    pub query_time_ms: Option<f64>,
    /// Size of the answer.
    pub size_bytes: Option<usize>,
    /// The AA bit: the server is authoritative for the name.
    pub authoritative: Option<bool>,
    /// The AD bit: the server says it validated the answer with DNSSEC (meaningful from a validating
    /// resolver asked over a path you trust).
    pub authentic_data: Option<bool>,
    /// The answer section, CNAME chain first, in order.
    pub records: Vec<RecordRow>,
    /// For NXDOMAIN/NODATA: seconds the negative answer may be cached (lesser of SOA TTL and MINIMUM).
    pub negative_ttl: Option<u32>,
    /// For NXDOMAIN/NODATA: the SOA record from the authority section.
    pub soa: Option<RecordRow>,
    /// For failures, what happened in plain words.
    pub message: Option<String>,
    /// Records in the answer section that do not answer the question (another owner, another class).
    pub ignored_records: Vec<IgnoredRecord>,
    /// Datagrams set aside while waiting, summed over every try.
    pub ignored_replies: IgnoredReplies,
    /// `--validate`: what local DNSSEC validation said (null without it, or when nothing was asked).
    pub validation: Option<Validation>,
    /// Every send made, in order.
    pub tries: Vec<Try>,
    #[serde(skip)]
    pub(super) elapsed: Duration,
}

/// A record a server sent that does not answer the question, and why.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct IgnoredRecord {
    /// The record.
    #[serde(flatten)]
    pub record: RecordRow,
    /// Why it is not taken as part of the answer.
    pub reason: String,
}

impl QueryReport {
    /// Classifies an exchange. `timeout` is the per-try wait, for the message of a timeout.
    pub fn from_exchange(qname: &Name, qtype: RecordType, exchange: Exchange, timeout: Duration) -> Self {
        let elapsed = exchange.tries.iter().map(|t| t.elapsed).sum();
        let mut r = QueryReport {
            name: name_text(qname),
            qtype: type_name(qtype),
            status: Status::Timeout,
            rcode: None,
            server: None,
            transport: None,
            truncated_udp: exchange.truncated_udp(),
            query_time_ms: None,
            size_bytes: None,
            authoritative: None,
            authentic_data: None,
            records: Vec::new(),
            negative_ttl: None,
            soa: None,
            message: None,
            ignored_records: Vec::new(),
            ignored_replies: IgnoredReplies::default(),
            validation: None,
            tries: exchange.tries,
            elapsed,
        };
        for t in &r.tries {
            r.ignored_replies.add(&t.ignored);
        }
        let Some(answer) = exchange.answer else {
            r.status = failure_status(&r.tries);
            let mut message = failure_message(&r.tries, timeout);
            if let Some(ignored) = r.ignored_replies.text() {
                message = format!("{message}; {ignored}");
            }
            r.message = Some(message);
            return r;
        };
        let meta = &answer.message.metadata;
        r.rcode = Some(rcode_name(meta.response_code));
        r.server = Some(answer.server);
        r.transport = Some(answer.transport);
        r.query_time_ms = Some(ms_f64(answer.query_time));
        r.size_bytes = Some(answer.size);
        r.authoritative = Some(meta.authoritative);
        r.authentic_data = Some(meta.authentic_data);
        r.elapsed = answer.query_time;
        let sorted = sort_answer(&answer.message.answers, qname);
        // ANY is answered by records of any type at the name.
        let has_type = sorted
            .answers
            .iter()
            .any(|rec| rec.record_type() == qtype || qtype == RecordType::ANY);
        r.records = sorted.answers.iter().map(row).collect();
        r.ignored_records = sorted
            .ignored
            .iter()
            .map(|(record, reason)| IgnoredRecord {
                record: row(record),
                reason: reason.clone(),
            })
            .collect();
        r.status = match meta.response_code {
            ResponseCode::NoError if has_type => Status::Answer,
            ResponseCode::NoError => Status::Nodata,
            ResponseCode::NXDomain => Status::Nxdomain,
            ResponseCode::Refused => Status::Refused,
            ResponseCode::ServFail => Status::Servfail,
            _ => Status::ServerError,
        };
        r.explain(&answer.message, &name_text(&sorted.end), qtype);
        r
    }

    /// Sets the message of a negative or failed answer (and the SOA and negative TTL of a negative one).
    fn explain(&mut self, message: &Message, end: &str, qtype: RecordType) {
        let code = message.metadata.response_code;
        self.message = match self.status {
            Status::Nxdomain | Status::Nodata => {
                let negative = negative_ttl(&message.authorities);
                self.negative_ttl = negative.map(|(ttl, _)| ttl);
                self.soa = negative.map(|(_, soa)| row(soa));
                let what = if self.status == Status::Nxdomain {
                    format!("{end} does not exist")
                } else {
                    format!("{end} exists but has no {} record", type_name(qtype))
                };
                Some(match &self.soa {
                    Some(soa) => format!("{what}; negative TTL from the SOA of {}", soa.name),
                    None => {
                        format!("{what}; no SOA in the authority section, so the negative TTL is unknown")
                    }
                })
            }
            Status::Refused => Some("the server refused to answer".into()),
            Status::Servfail => Some("the server failed to find an answer".into()),
            Status::ServerError => Some(format!("the server answered {} ({code})", rcode_name(code))),
            _ => None,
        };
    }

    /// True unless the query came back with records of the type asked (and, validated, not bogus).
    pub fn is_negative(&self) -> bool {
        self.status != Status::Answer
            || self
                .validation
                .as_ref()
                .is_some_and(|v| v.status == Security::Bogus)
    }

    /// The status in words for the DATA column; the server prefix is left to the SERVER column.
    pub fn status_text(&self) -> String {
        let label = match self.status {
            Status::ServerError => self.rcode.as_deref().unwrap_or("error"),
            status => status.label(),
        };
        match &self.message {
            // The message already starts with "no connection:" or "bad response:".
            Some(m) if matches!(self.status, Status::NoConnection | Status::BadResponse) => strip_server(m),
            Some(m) if self.server.is_none() => format!("{label}: {}", strip_server(m)),
            Some(m) => format!("{label}: {m}"),
            None => label.to_string(),
        }
    }

    /// The SERVER cell: who answered over what, or every server tried.
    pub(super) fn server_cell(&self) -> String {
        match (self.server, self.transport) {
            (Some(server), Some(Transport::Tcp)) if self.truncated_udp => {
                format!("{server} tcp (udp truncated)")
            }
            (Some(server), Some(t)) => {
                let ad = if self.authentic_data == Some(true) {
                    " AD"
                } else {
                    ""
                };
                match &self.validation {
                    Some(v) => format!("{server} {}{ad} {}", t.name(), v.word()),
                    None => format!("{server} {}{ad}", t.name()),
                }
            }
            // A special-use name (RFC 6761), answered without asking anyone.
            _ if self.tries.is_empty() && self.rcode.is_some() => "here (RFC 6761)".into(),
            _ => tried_servers(&self.tries),
        }
    }
}

/// The failure message without the server prefix, which the SERVER column already shows.
fn strip_server(message: &str) -> String {
    message
        .split("; ")
        .map(|part| part.split_once(": ").map_or(part, |(_, rest)| rest))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The mnemonic dig prints for a response code (NOERROR, NXDOMAIN, ...).
pub fn rcode_name(code: ResponseCode) -> String {
    let n = u16::from(code);
    let name = match n {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        16 => "BADVERS",
        _ => return format!("RCODE{n}"),
    };
    name.to_string()
}

fn failure_status(tries: &[Try]) -> Status {
    let any = |f: fn(&TryOutcome) -> bool| tries.iter().any(|t| f(&t.outcome));
    if any(|o| *o == TryOutcome::TimedOut) {
        Status::Timeout
    } else if any(|o| matches!(o, TryOutcome::BadResponse(_))) {
        Status::BadResponse
    } else {
        Status::NoConnection
    }
}

/// One sentence per server and transport: what every try there came to.
pub(super) fn failure_message(tries: &[Try], timeout: Duration) -> String {
    let mut groups: Vec<(SocketAddr, Transport, Vec<&TryOutcome>)> = Vec::new();
    for t in tries {
        match groups.iter_mut().find(|g| g.0 == t.server && g.1 == t.transport) {
            Some(g) => g.2.push(&t.outcome),
            None => groups.push((t.server, t.transport, vec![&t.outcome])),
        }
    }
    if groups.is_empty() {
        return "no server to ask".into();
    }
    groups
        .iter()
        .map(|(server, transport, outcomes)| {
            let n = outcomes.len();
            let timed_out = outcomes.iter().filter(|o| ***o == TryOutcome::TimedOut).count();
            let detail = outcomes.iter().find_map(|o| match o {
                TryOutcome::NoConnection(why) => Some(format!("no connection: {why}")),
                TryOutcome::BadResponse(why) => Some(format!("bad response: {why}")),
                TryOutcome::Truncated => Some("answer truncated".into()),
                _ => None,
            });
            let mut parts = Vec::new();
            if timed_out > 0 {
                parts.push(format!(
                    "no answer after {timed_out} {} of {} each",
                    if timed_out == 1 { "try" } else { "tries" },
                    fmt_ms(timeout)
                ));
            }
            parts.extend(detail);
            if parts.is_empty() {
                parts.push(format!("{n} tries"));
            }
            format!("{server} over {}: {}", transport.name(), parts.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn tried_servers(tries: &[Try]) -> String {
    let mut seen: Vec<String> = Vec::new();
    for t in tries {
        let s = format!("{} {}", t.server, t.transport.name());
        if !seen.contains(&s) {
            seen.push(s);
        }
    }
    seen.join(", ")
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use hickory_resolver::proto::op::{OpCode, Query};
    use hickory_resolver::proto::rr::rdata::{A, CNAME, SOA};
    use hickory_resolver::proto::rr::{RData, Record};

    use super::super::exchange::Answered;
    use super::*;

    fn name(t: &str) -> Name {
        Name::from_str(t).unwrap()
    }

    fn server() -> SocketAddr {
        "127.0.0.1:5353".parse().unwrap()
    }

    fn answered(
        rcode: ResponseCode,
        answers: Vec<Record>,
        authorities: Vec<Record>,
        truncated: bool,
    ) -> Exchange {
        let mut m = Message::response(1, OpCode::Query);
        m.metadata.response_code = rcode;
        m.metadata.authoritative = true;
        m.add_query(Query::query(name("www.lab.test."), RecordType::A));
        m.insert_answers(answers);
        m.insert_authorities(authorities);
        let mut tries = Vec::new();
        if truncated {
            tries.push(Try {
                server: server(),
                transport: Transport::Udp,
                outcome: TryOutcome::Truncated,
                elapsed: Duration::from_millis(1),
                ignored: Default::default(),
            });
        }
        let transport = if truncated { Transport::Tcp } else { Transport::Udp };
        tries.push(Try {
            server: server(),
            transport,
            outcome: TryOutcome::Answered,
            elapsed: Duration::from_millis(2),
            ignored: Default::default(),
        });
        Exchange {
            tries,
            answer: Some(Answered {
                message: m,
                server: server(),
                transport,
                query_time: Duration::from_millis(2),
                size: 100,
            }),
        }
    }

    fn soa(ttl: u32, minimum: u32) -> Record {
        Record::from_rdata(
            name("lab.test."),
            ttl,
            RData::SOA(SOA::new(
                name("ns1.lab.test."),
                name("hostmaster.lab.test."),
                1,
                2,
                3,
                4,
                minimum,
            )),
        )
    }

    fn classify(exchange: Exchange) -> QueryReport {
        QueryReport::from_exchange(
            &name("www.lab.test."),
            RecordType::A,
            exchange,
            Duration::from_millis(500),
        )
    }

    #[test]
    fn answer_follows_the_chain() {
        let r = classify(answered(
            ResponseCode::NoError,
            vec![
                Record::from_rdata(name("web.lab.test."), 60, RData::A(A::new(198, 51, 100, 10))),
                Record::from_rdata(
                    name("www.lab.test."),
                    300,
                    RData::CNAME(CNAME(name("web.lab.test."))),
                ),
            ],
            vec![],
            false,
        ));
        assert_eq!(r.status, Status::Answer);
        assert!(!r.is_negative());
        let rows: Vec<_> = r
            .records
            .iter()
            .map(|x| (x.rtype.as_str(), x.ttl, x.data.as_str()))
            .collect();
        assert_eq!(
            rows,
            [("CNAME", 300, "web.lab.test."), ("A", 60, "198.51.100.10")]
        );
        assert_eq!(r.server_cell(), "127.0.0.1:5353 udp");
    }

    #[test]
    fn negative_answers_carry_the_soa_ttl() {
        let r = classify(answered(
            ResponseCode::NXDomain,
            vec![],
            vec![soa(3600, 30)],
            false,
        ));
        assert_eq!(
            (r.status, r.negative_ttl, r.rcode.as_deref()),
            (Status::Nxdomain, Some(30), Some("NXDOMAIN"))
        );
        assert!(r.message.unwrap().contains("www.lab.test. does not exist"));
        let r = classify(answered(ResponseCode::NoError, vec![], vec![soa(20, 30)], false));
        assert_eq!((r.status, r.negative_ttl), (Status::Nodata, Some(20)));
        let r = classify(answered(ResponseCode::NoError, vec![], vec![], false));
        assert_eq!(r.status, Status::Nodata);
        assert!(r.message.unwrap().contains("negative TTL is unknown"));
    }

    #[test]
    fn error_codes_are_distinct() {
        assert_eq!(
            classify(answered(ResponseCode::Refused, vec![], vec![], false)).status,
            Status::Refused
        );
        assert_eq!(
            classify(answered(ResponseCode::ServFail, vec![], vec![], false)).status,
            Status::Servfail
        );
        let r = classify(answered(ResponseCode::NotImp, vec![], vec![], false));
        assert_eq!(
            (r.status, r.rcode.as_deref()),
            (Status::ServerError, Some("NOTIMP"))
        );
    }

    #[test]
    fn truncation_is_reported() {
        let r = classify(answered(
            ResponseCode::NoError,
            vec![Record::from_rdata(
                name("www.lab.test."),
                5,
                RData::A(A::new(198, 51, 100, 1)),
            )],
            vec![],
            true,
        ));
        assert!(r.truncated_udp);
        assert_eq!(r.server_cell(), "127.0.0.1:5353 tcp (udp truncated)");
    }

    #[test]
    fn failures_name_server_transport_and_tries() {
        let t = |outcome| Try {
            server: server(),
            transport: Transport::Udp,
            outcome,
            elapsed: Duration::from_millis(500),
            ignored: Default::default(),
        };
        let r = classify(Exchange {
            tries: vec![t(TryOutcome::TimedOut), t(TryOutcome::TimedOut)],
            answer: None,
        });
        assert_eq!(r.status, Status::Timeout);
        assert_eq!(
            r.message.as_deref(),
            Some("127.0.0.1:5353 over udp: no answer after 2 tries of 500 ms each")
        );
        let r = classify(Exchange {
            tries: vec![t(TryOutcome::NoConnection("connection refused".into()))],
            answer: None,
        });
        assert_eq!(r.status, Status::NoConnection);
        assert_eq!(
            r.message.as_deref(),
            Some("127.0.0.1:5353 over udp: no connection: connection refused")
        );
        assert_eq!(r.status_text(), "no connection: connection refused");
    }
}
