//! The report of `--trace`: each step of the walk from the root, every server of the zone with what it said,
//! and the marks dig +trace cannot show (lame servers, timeouts, NS sets or glue that disagree).

use std::net::IpAddr;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use crate::render::{Cell, Report, Section, Tone, View, fmt_ms};

/// Every question walked from the root.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DelegationReport {
    /// Where the walk started (`--root-hints FILE`, or the root servers built in).
    pub hints: String,
    /// One walk per question, in input order.
    pub traces: Vec<TraceRun>,
    /// How long the whole run took.
    #[serde(skip)]
    pub took: Duration,
}

/// One question's walk.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TraceRun {
    /// The name asked, absolute.
    pub name: String,
    /// The type asked.
    #[serde(rename = "type")]
    pub qtype: String,
    /// Each zone on the way, from the top.
    pub steps: Vec<TraceStep>,
    /// How it ended, in words (the answer, NXDOMAIN, or where it broke).
    pub result: String,
    /// An authoritative answer (records, NXDOMAIN or NODATA) ended the walk.
    pub answered: bool,
}

impl TraceRun {
    /// Whether the walk ended without an answer or found anything to mark.
    pub fn is_negative(&self) -> bool {
        !self.answered || self.steps.iter().any(|s| !s.marks.is_empty())
    }
}

/// One zone: every server asked, and what is wrong there.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TraceStep {
    /// The zone whose servers were asked.
    pub zone: String,
    /// Each server address and its reply.
    pub servers: Vec<ServerReply>,
    /// Lame servers, timeouts, NS sets or glue that disagree, in words.
    pub marks: Vec<String>,
}

/// What a server said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReplyKind {
    /// A delegation to the next zone.
    Referral,
    /// Authoritative records.
    Answer,
    /// Authoritative: no such name.
    Nxdomain,
    /// Authoritative: no record of the type.
    Nodata,
    /// Listed as a server of the zone but not serving it.
    Lame,
    /// No reply in time.
    Timeout,
    /// Could not be reached.
    NoConnection,
    /// Something that is not a usable reply.
    BadResponse,
}

/// One server address's reply.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ServerReply {
    /// The server's name (as the parent or the hints list it).
    pub name: String,
    /// The address asked (port 53).
    pub address: IpAddr,
    /// What it said.
    pub reply: ReplyKind,
    /// The referral's servers, the answer's data, or why it is lame or failed.
    pub detail: String,
    /// From sending to the reply.
    pub time_ms: Option<f64>,
}

impl Report for DelegationReport {
    fn view(&self) -> View {
        let mut s = Section::new(&["QUESTION", "ZONE", "SERVER", "ADDRESS", "TIME", "REPLY"])
            .droppable(&["TIME", "ADDRESS"]);
        for run in &self.traces {
            let question = format!("{} {}", run.name, run.qtype);
            for (i, step) in run.steps.iter().enumerate() {
                for (j, server) in step.servers.iter().enumerate() {
                    let tone = match server.reply {
                        ReplyKind::Referral | ReplyKind::Answer => Tone::Good,
                        ReplyKind::Nxdomain | ReplyKind::Nodata => Tone::Warn,
                        _ => Tone::Bad,
                    };
                    s.rows.push(vec![
                        if i == 0 && j == 0 {
                            question.clone()
                        } else {
                            String::new()
                        }
                        .into(),
                        if j == 0 { step.zone.clone() } else { String::new() }.into(),
                        server.name.clone().into(),
                        server.address.to_string().into(),
                        server
                            .time_ms
                            .map(|ms| fmt_ms(Duration::from_secs_f64(ms / 1000.0)))
                            .unwrap_or_default()
                            .into(),
                        Cell::toned(server.detail.clone(), tone),
                    ]);
                }
                for mark in &step.marks {
                    s.notes.push(format!("! {} {}: {mark}", question, step.zone));
                }
            }
            s.notes.push(format!("{question}: {}", run.result));
        }
        s.notes.push(format!(
            "walked from {}, asking every server of each zone (no recursion asked)",
            self.hints
        ));
        let marked = self.traces.iter().filter(|t| t.is_negative()).count();
        s.notes.push(format!(
            "{} {} walked in {}: {} clean, {marked} with a mark or no answer",
            self.traces.len(),
            if self.traces.len() == 1 {
                "question"
            } else {
                "questions"
            },
            fmt_ms(self.took),
            self.traces.len() - marked
        ));
        View { sections: vec![s] }
    }
}
