//! The JSON envelope every document shares: which command, which schema version, when it started, how long it took.

use std::time::{Instant, SystemTime};

use schemars::JsonSchema;
use serde::Serialize;

/// Version of the JSON documents' shape: raised when a key changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

/// When a run started, on the wall clock (for `started_at`) and the monotonic one (for `elapsed_ms`).
#[derive(Debug, Clone, Copy)]
pub struct RunClock {
    wall: SystemTime,
    mono: Instant,
}

impl RunClock {
    /// Starts the clock now.
    pub fn start() -> Self {
        RunClock {
            wall: SystemTime::now(),
            mono: Instant::now(),
        }
    }

    /// Wraps a report in the envelope, with the time elapsed until now.
    pub fn envelope<'a, R: Serialize>(&self, command: &'static str, report: &'a R) -> Envelope<'a, R> {
        Envelope {
            command,
            version: SCHEMA_VERSION,
            started_at: humantime::format_rfc3339_millis(self.wall).to_string(),
            elapsed_ms: super::ms_f64(self.mono.elapsed()),
            report,
        }
    }
}

/// A report with the keys every document has; the report's own keys follow at the same level.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Envelope<'a, R> {
    /// The subcommand that made the document (`resolve`, `probe`, `trace`, `listen`).
    pub command: &'static str,
    /// The schema version of the document ([`SCHEMA_VERSION`]).
    pub version: u32,
    /// When the run started, RFC 3339 in UTC.
    pub started_at: String,
    /// How long the run took, in milliseconds.
    pub elapsed_ms: f64,
    /// The command's own report.
    #[serde(flatten)]
    pub report: &'a R,
}

impl<R: super::Report> super::Report for Envelope<'_, R> {
    fn view(&self) -> super::View {
        self.report.view()
    }

    fn records(&self) -> super::Section {
        self.report.records()
    }

    fn dot(&self) -> Option<super::dot::DotGraph> {
        self.report.dot()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Body {
        targets: Vec<u16>,
    }

    #[test]
    fn the_envelope_comes_first_and_the_report_follows_at_the_same_level() {
        let clock = RunClock::start();
        let body = Body { targets: vec![22] };
        let json = serde_json::to_value(clock.envelope("probe", &body)).unwrap();
        assert_eq!(json["command"], "probe");
        assert_eq!(json["version"], SCHEMA_VERSION);
        assert_eq!(json["targets"][0], 22);
        let started = json["started_at"].as_str().unwrap();
        assert!(humantime::parse_rfc3339(started).is_ok(), "{started}");
        assert!(json["elapsed_ms"].as_f64().unwrap() >= 0.0);
        let text = serde_json::to_string(&clock.envelope("probe", &body)).unwrap();
        let at = |key: &str| text.find(&format!("\"{key}\"")).unwrap();
        let order = ["command", "version", "started_at", "elapsed_ms", "targets"].map(at);
        assert!(order.is_sorted(), "{text}");
    }
}
