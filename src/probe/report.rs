//! The probe report: every probe as plain data (JSON, and the source of the table in `table.rs`).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use super::payload::escape;
use super::schedule::{Attempt, Flow};
use super::verdict::{State, judge};
use crate::render::ms_f64;
use crate::services::ServiceNames;
use crate::stats::Stats;
use crate::target::{Proto, interface_name};

/// Everything `sockdiag probe` found.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProbeReport {
    /// How the probes were made.
    pub settings: ProbeSettings,
    /// One entry per target, in the order given.
    pub targets: Vec<TargetReport>,
    /// Counts over every probe.
    pub summary: Summary,
    /// `--all-ports`: list every port in the table.
    #[serde(skip)]
    pub show_all: bool,
    /// A `--tls`/`--http` run: the table shows phases and TLS facts.
    #[serde(skip)]
    pub sessions: bool,
    /// Draw each connection's phases as a bar (a table on a terminal).
    #[serde(skip)]
    pub bars: bool,
}

/// Whether each probe waited a fixed time or one adapted to each host's measured round trips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimeoutMode {
    /// `-w`: the same wait for every probe.
    Fixed,
    /// From the round trips measured to each host, between a floor and a cap.
    Adaptive,
}

/// How the probes were made.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProbeSettings {
    /// Probes per port; 0: until Ctrl-C.
    pub count: u32,
    /// Time between repeats; null without repeats.
    pub interval_ms: Option<f64>,
    /// Fixed (`-w`) or adaptive.
    pub timeout: TimeoutMode,
    /// The fixed wait (`-w`); null when adaptive.
    pub timeout_ms: Option<f64>,
    /// The shortest adaptive wait; null when fixed.
    pub adaptive_floor_ms: Option<f64>,
    /// The longest adaptive wait (also the wait before any round trip was measured); null when fixed.
    pub adaptive_cap_ms: Option<f64>,
    /// Probes in flight at most.
    pub parallel: usize,
    /// The bound source address (`--source`), or null.
    pub source: Option<String>,
    /// The data sent after connecting (`--send`, `--send-hex`), escaped; null when none.
    pub send: Option<String>,
    /// `--retry-budget`: time to re-probe the silent ports of hosts that rate-limit ICMP.
    pub retry_budget_ms: f64,
    /// `--tls`/`--http`/`--starttls`: what each connection did after the connect; null without them.
    pub session: Option<super::tls::options::SessionSettings>,
}

/// One target as given on the command line.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TargetReport {
    /// The text given.
    pub target: String,
    /// The host part (name or address).
    pub host: String,
    /// Every address probed for it.
    pub addresses: Vec<IpAddr>,
    /// Why it could not be probed (name lookup failure, no address of the family); null when it was.
    pub error: Option<String>,
    /// One entry per address, protocol and port (hosts that are down have none: see `down`).
    pub probes: Vec<PortReport>,
    /// Addresses that showed no sign of life, each once with what was seen.
    pub down: Vec<super::discovery::DownHost>,
}

/// One address, protocol and port, with its verdict.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PortReport {
    /// The address probed.
    pub address: IpAddr,
    /// The IPv6 scope (interface) of a link-local address; null otherwise.
    pub scope: Option<String>,
    /// "inet" or "inet6".
    pub family: &'static str,
    /// "tcp" or "udp".
    #[schemars(with = "ProtocolName")]
    pub protocol: Proto,
    /// The port.
    pub port: u16,
    /// Its name in the services database; null when it has none.
    pub service: Option<String>,
    /// The verdict (with --count, the last repeat's: a port that went down reads as down).
    pub state: State,
    /// Why, in words; with --count and a change of state, the changes first (`open -> filtered at #7: ...`).
    pub reason: String,
    /// Time to the answer or error; null after silence.
    pub rtt_ms: Option<f64>,
    /// The local address and port the probe used; null when unknown.
    #[schemars(with = "Option<String>")]
    pub local: Option<SocketAddr>,
    /// First bytes received (UDP reply, a server's greeting, TCP reply after --send), escaped; null when
    /// nothing was read.
    pub banner: Option<String>,
    /// What those bytes are, named: a greeting (`SSH: SSH-2.0-OpenSSH_9.6`), a DNS or NTP reply (`DNS:
    /// NOERROR, 1 answer`, `NTP: stratum 2`); null when not recognised.
    pub greeting: Option<String>,
    /// Statistics over repeats (--count); null for a single probe.
    pub stats: Option<Stats>,
    /// Every repeat (--count); empty for a single probe.
    pub repeats: Vec<RepeatReport>,
    /// Each change of state between two repeats, in order; empty when the state held.
    pub changes: Vec<StateChange>,
    /// With --tls/--http, what followed the connect (phases, TLS facts, chain, HTTP answer, verdict); null
    /// without them or when the port did not connect (`state` says why).
    pub connection: Option<super::tls::report::ConnectionReport>,
}

/// A port whose state changed between two repeats.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct StateChange {
    /// The repeat (0-based `seq`) that first saw the new state.
    pub seq: u32,
    /// The state before.
    pub from: State,
    /// The state from this repeat on.
    pub to: State,
}

/// The protocol names in JSON (the schema of `target::Proto`'s serialisation).
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum ProtocolName {
    Tcp,
    Udp,
}

/// One repeat of a probe.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RepeatReport {
    /// 0-based repeat number.
    pub seq: u32,
    /// When it started, from the beginning of the probing.
    pub since_start_ms: f64,
    /// Its verdict.
    pub state: State,
    /// Why.
    pub reason: String,
    /// Time to the answer or error; null after silence.
    pub rtt_ms: Option<f64>,
}

/// One finished probe as `--format ndjson` streams it while the run goes on; the summary document is the last line.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProbeLine {
    /// Always "probe": a streamed probe, where the last line (the summary) has `command`.
    pub event: &'static str,
    /// The address probed.
    pub address: IpAddr,
    /// "tcp" or "udp".
    #[schemars(with = "ProtocolName")]
    pub protocol: Proto,
    /// The port.
    pub port: u16,
    /// When the probe ended (RFC 3339, as ping -D stamps each line).
    pub ended_at: String,
    /// The repeat: its number, start, verdict, reason and round trip.
    #[serde(flatten)]
    pub repeat: RepeatReport,
}

impl ProbeLine {
    /// The line as plain text: time, address, port, repeat, state, round trip, reason.
    pub fn plain(&self) -> String {
        let rtt = self.repeat.rtt_ms.map_or("-".to_string(), |ms| {
            crate::render::fmt_ms(Duration::from_secs_f64(ms / 1000.0))
        });
        format!(
            "{} {} {}/{} #{} {} {rtt} {}",
            self.ended_at,
            self.address,
            self.port,
            self.protocol.name(),
            self.repeat.seq,
            self.repeat.state.name(),
            self.repeat.reason
        )
    }

    /// The line for one finished attempt of a flow.
    pub fn new(flow: &Flow, attempt: &Attempt) -> Self {
        let target = flow.addr.ip();
        let local = attempt.result.local.map(|l| l.ip());
        let verdict = judge(flow.proto, target, local, &attempt.result.evidence);
        ProbeLine {
            event: "probe",
            ended_at: humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
            address: target,
            protocol: flow.proto,
            port: flow.addr.port(),
            repeat: RepeatReport {
                seq: attempt.seq,
                since_start_ms: ms_f64(attempt.at),
                state: verdict.state,
                reason: verdict.reason,
                rtt_ms: attempt.result.rtt.map(ms_f64),
            },
        }
    }
}

/// Counts over the whole run.
#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct Summary {
    /// Ports probed (address, protocol, port).
    pub ports: usize,
    /// Probes made (repeats included, retries not).
    pub probes: usize,
    /// Ports per state (only the states seen).
    pub states: BTreeMap<&'static str, usize>,
    /// Targets that could not be probed.
    pub unresolved: usize,
    /// Wall time of the probing itself (the document's `elapsed_ms` adds name lookups and setup).
    pub probing_ms: f64,
    /// Probes finished per second.
    pub probes_per_sec: f64,
    /// Ctrl-C ended the run early.
    pub interrupted: bool,
    /// Why the run stopped before its end (a local resource that stayed short); null when it did not.
    pub stopped: Option<String>,
    /// Ports a run that ended early did not probe, per address and protocol (`198.51.100.7 tcp 3005-3999`).
    pub not_probed: Vec<String>,
    /// Addresses that showed no sign of life (listed per target under `down`, not as port rows).
    pub hosts_down: usize,
    /// Hosts seen rate-limiting their ICMP errors, and what re-probing them found.
    pub rate_limited: Vec<super::ratelimit::RateLimitNote>,
}

/// A target after name resolution.
#[derive(Debug, Clone)]
pub struct ResolvedTarget {
    /// The text given.
    pub text: String,
    /// Host part.
    pub host: String,
    /// Addresses (with scope) to probe.
    pub addresses: Vec<SocketAddr>,
    /// Why there is nothing to probe.
    pub error: Option<String>,
    /// How long the name lookup took (zero for addresses).
    pub lookup: Duration,
}

/// Builds the report from the targets, the flows and what each flow's attempts saw.
pub fn build(
    targets: &[ResolvedTarget],
    flows: &[Flow],
    attempts: &[Vec<Attempt>],
    services: &ServiceNames,
    settings: ProbeSettings,
    elapsed: Duration,
    interrupted: bool,
) -> ProbeReport {
    // Rows sized up front: a scan's rows are large, and growing them by doubling copies them over and over.
    let mut rows = vec![0usize; targets.len()];
    for f in flows {
        rows[f.target] += 1;
    }
    let mut out: Vec<TargetReport> = targets
        .iter()
        .zip(rows)
        .map(|(t, n)| TargetReport {
            target: t.text.clone(),
            host: t.host.clone(),
            addresses: t.addresses.iter().map(SocketAddr::ip).collect(),
            error: t.error.clone(),
            probes: Vec::with_capacity(n),
            down: Vec::new(),
        })
        .collect();
    let repeating = settings.count != 1;
    let mut summary = Summary {
        interrupted,
        probing_ms: ms_f64(elapsed),
        unresolved: targets.iter().filter(|t| t.error.is_some()).count(),
        ..Summary::default()
    };
    for (flow, tries) in flows.iter().zip(attempts) {
        if tries.is_empty() {
            continue; // interrupted before this probe finished
        }
        let row = port_report(flow, tries, services, repeating);
        summary.ports += 1;
        summary.probes += tries.len();
        *summary.states.entry(row.state.key()).or_default() += 1;
        out[flow.target].probes.push(row);
    }
    summary.not_probed = super::unprobed::not_probed(flows, attempts);
    let secs = elapsed.as_secs_f64();
    summary.probes_per_sec = if secs > 0.0 {
        (summary.probes as f64 / secs).round()
    } else {
        0.0
    };
    ProbeReport {
        settings,
        targets: out,
        summary,
        show_all: false,
        sessions: false,
        bars: false,
    }
}

/// The state a set of repeats adds up to: the strongest evidence wins.
pub(crate) fn rank(state: State) -> u8 {
    match state {
        State::Open => 0,
        State::Closed => 1,
        State::Unreachable => 2,
        State::Filtered => 3,
        State::Unknown => 4,
        State::OpenFiltered => 5,
        State::Error => 6,
    }
}

fn port_report(flow: &Flow, tries: &[Attempt], services: &ServiceNames, repeating: bool) -> PortReport {
    let target = flow.addr.ip();
    let judged: Vec<_> = tries
        .iter()
        .map(|a| {
            let local = a.result.local.map(|l| l.ip());
            (a, judge(flow.proto, target, local, &a.result.evidence))
        })
        .collect();
    // The last repeat speaks for the row: a port that went down during the run is down.
    let (best, mut verdict) = judged
        .last()
        .map(|(a, v)| (*a, v.clone()))
        .unwrap_or_else(|| unreachable!("rows are built only for flows with attempts"));
    let changes = state_changes(&judged);
    if let Some(first) = judged.first().filter(|_| !changes.is_empty()) {
        let mut words = first.1.state.name().to_string();
        for c in &changes {
            words.push_str(&format!(" -> {} at #{}", c.to.name(), c.seq));
        }
        verdict.reason = format!("{words}: {}", verdict.reason);
    }
    let scope = match flow.addr {
        SocketAddr::V6(v6) if v6.scope_id() != 0 => Some(interface_name(v6.scope_id())),
        _ => None,
    };
    PortReport {
        address: target,
        scope,
        family: if flow.addr.is_ipv4() { "inet" } else { "inet6" },
        protocol: flow.proto,
        port: flow.addr.port(),
        service: services.name(flow.proto, flow.addr.port()).map(str::to_string),
        state: verdict.state,
        reason: verdict.reason,
        rtt_ms: best.result.rtt.map(ms_f64),
        local: best.result.local,
        banner: best.result.data.as_deref().map(escape),
        greeting: best.result.data.as_deref().and_then(|d| match flow.proto {
            Proto::Tcp => super::greeting::tcp_greeting(flow.addr.port(), d),
            Proto::Udp => super::greeting::udp_reply(flow.addr.port(), d),
        }),
        stats: repeating.then(|| {
            let answered: Vec<Duration> = tries
                .iter()
                .filter(|a| a.result.evidence.is_answer(target))
                .filter_map(|a| a.result.rtt)
                .collect();
            Stats::new(tries.len() as u32, &answered)
        }),
        repeats: if repeating {
            judged
                .iter()
                .map(|(a, v)| RepeatReport {
                    seq: a.seq,
                    since_start_ms: ms_f64(a.at),
                    state: v.state,
                    reason: v.reason.clone(),
                    rtt_ms: a.result.rtt.map(ms_f64),
                })
                .collect()
        } else {
            Vec::new()
        },
        changes,
        connection: super::tls::report::build(tries, repeating),
    }
}

/// Where consecutive repeats disagree on the state.
fn state_changes(judged: &[(&Attempt, super::verdict::Verdict)]) -> Vec<StateChange> {
    judged
        .windows(2)
        .filter(|w| w[0].1.state != w[1].1.state)
        .map(|w| StateChange {
            seq: w[1].0.seq,
            from: w[0].1.state,
            to: w[1].1.state,
        })
        .collect()
}

impl ProbeReport {
    /// Whether every probed port is open (UDP silence counting as open when `open_filtered_ok`) and every
    /// target was probed.
    pub fn all_open(&self, open_filtered_ok: bool) -> bool {
        self.summary.unresolved == 0
            && self.summary.hosts_down == 0
            && self.summary.ports > 0
            && self
                .targets
                .iter()
                .flat_map(|t| &t.probes)
                .all(|p| p.state == State::Open || (open_filtered_ok && p.state == State::OpenFiltered))
            && self
                .probes_iter()
                .all(|p| p.connection.as_ref().is_none_or(|c| c.verdict.state.passes()))
    }

    /// Moves the rows of hosts that are down out of the port lists: each becomes one entry of its target's
    /// `down`, and the summary counts hosts, not their ports.
    pub fn mark_down(&mut self, down: Vec<super::discovery::DownHost>) {
        for d in down {
            for t in &mut self.targets {
                let before = t.probes.len();
                let states = &mut self.summary.states;
                t.probes.retain(|p| {
                    let keep = p.address != d.address;
                    if !keep && let Some(n) = states.get_mut(p.state.key()) {
                        *n -= 1;
                    }
                    keep
                });
                if t.probes.len() != before {
                    self.summary.ports -= before - t.probes.len();
                    t.down.push(d.clone());
                }
            }
            self.summary.hosts_down += 1;
        }
        self.summary.states.retain(|_, n| *n > 0);
    }

    fn probes_iter(&self) -> impl Iterator<Item = &PortReport> {
        self.targets.iter().flat_map(|t| &t.probes)
    }

    /// Whether any repeat of any port was lost (no answer).
    pub fn any_loss(&self) -> bool {
        self.targets
            .iter()
            .flat_map(|t| &t.probes)
            .any(|p| p.stats.as_ref().is_some_and(|s| s.received < s.sent))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::probe::schedule::TryResult;
    use crate::probe::verdict::Evidence;

    pub(crate) fn settings(count: u32) -> ProbeSettings {
        ProbeSettings {
            count,
            interval_ms: None,
            timeout: TimeoutMode::Adaptive,
            timeout_ms: None,
            adaptive_floor_ms: Some(200.0),
            adaptive_cap_ms: Some(2000.0),
            parallel: 100,
            source: None,
            send: None,
            retry_budget_ms: 5000.0,
            session: None,
        }
    }

    pub(crate) fn target() -> ResolvedTarget {
        ResolvedTarget {
            lookup: Duration::ZERO,
            text: "lab".into(),
            host: "lab".into(),
            addresses: vec!["198.51.100.7:0".parse().unwrap()],
            error: None,
        }
    }

    pub(crate) fn attempt(seq: u32, ev: Evidence, rtt_ms: Option<u64>) -> Attempt {
        Attempt {
            seq,
            at: Duration::from_millis(seq as u64 * 1000),
            result: TryResult {
                rtt: rtt_ms.map(Duration::from_millis),
                ..TryResult::bare(ev)
            },
        }
    }

    pub(crate) fn flow(port: u16, proto: Proto) -> Flow {
        Flow {
            target: 0,
            addr: SocketAddr::new("198.51.100.7".parse().unwrap(), port),
            proto,
        }
    }

    pub(crate) fn plain(report: &ProbeReport) -> String {
        let opts = crate::render::RenderOptions::plain();
        let mut out = Vec::new();
        crate::render::write_report(report, &opts, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn many_closed_ports_are_summarised_unless_all() {
        let flows: Vec<Flow> = (1..=100).map(|p| flow(p, Proto::Tcp)).collect();
        let attempts: Vec<Vec<Attempt>> = (1..=100)
            .map(|p| {
                let ev = match p {
                    22 => Evidence::Connected,
                    50 => Evidence::Silence {
                        waited: Duration::from_millis(200),
                        tries: 2,
                    },
                    _ => Evidence::Refused,
                };
                vec![attempt(0, ev, Some(1))]
            })
            .collect();
        let services = ServiceNames::default();
        let mut report = build(
            &[target()],
            &flows,
            &attempts,
            &services,
            settings(1),
            Duration::from_millis(250),
            false,
        );
        assert_eq!(report.summary.states["closed"], 98);
        assert!(report.summary.states.keys().all(|k| !k.contains('|')));
        assert_eq!(report.summary.states["open"], 1);
        assert_eq!(report.summary.states["filtered"], 1);
        assert!(!report.all_open(false));
        let text = plain(&report);
        assert!(
            text.contains("lab 198.51.100.7 tcp: 98 closed ports not shown (--all-ports lists them)"),
            "{text}"
        );
        assert!(
            text.contains("100 ports probed in 250 ms: 98 closed, 1 filtered, 1 open"),
            "{text}"
        );
        assert_eq!(
            text.lines().filter(|l| l.starts_with("lab ")).count(),
            2,
            "{text}"
        );
        report.show_all = true;
        assert_eq!(
            plain(&report).lines().filter(|l| l.starts_with("lab ")).count(),
            100
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["targets"][0]["probes"].as_array().unwrap().len(), 100);
        assert_eq!(json["targets"][0]["probes"][49]["state"], "filtered");
        assert_eq!(
            json["targets"][0]["probes"][49]["reason"],
            "no answer in 2 tries of 200 ms each"
        );
    }

    #[test]
    fn repeats_give_stats_and_the_strongest_state() {
        let flows = [flow(80, Proto::Tcp)];
        let silence = Evidence::Silence {
            waited: Duration::from_millis(500),
            tries: 1,
        };
        let attempts = vec![vec![
            attempt(0, Evidence::Connected, Some(50)),
            attempt(1, silence, None),
            attempt(2, Evidence::Connected, Some(70)),
        ]];
        let report = build(
            &[target()],
            &flows,
            &attempts,
            &ServiceNames::default(),
            settings(3),
            Duration::from_secs(3),
            true,
        );
        let p = &report.targets[0].probes[0];
        assert_eq!(p.state, State::Open);
        let st = p.stats.as_ref().unwrap();
        assert_eq!((st.sent, st.received, st.loss_pct), (3, 2, 33.3));
        assert_eq!(st.rtt.as_ref().unwrap().avg_ms, 60.0);
        assert_eq!(p.repeats.len(), 3);
        assert_eq!(p.repeats[1].state, State::Filtered);
        let text = plain(&report);
        assert!(text.contains("interrupted (Ctrl-C)"), "{text}");
        assert!(text.contains("33.3%"), "{text}");
    }

    #[test]
    fn a_port_that_goes_down_reads_down_with_the_change_named() {
        let flows = [flow(443, Proto::Tcp)];
        let silence = || Evidence::Silence {
            waited: Duration::from_millis(200),
            tries: 1,
        };
        let mut tries: Vec<Attempt> = (0..7).map(|i| attempt(i, Evidence::Connected, Some(5))).collect();
        tries.extend((7..10).map(|i| attempt(i, silence(), None)));
        let report = build(
            &[target()],
            &flows,
            &[tries],
            &ServiceNames::default(),
            settings(10),
            Duration::from_secs(10),
            false,
        );
        let p = &report.targets[0].probes[0];
        assert_eq!(p.state, State::Filtered);
        assert!(
            p.reason.starts_with("open -> filtered at #7: no answer"),
            "{}",
            p.reason
        );
        assert_eq!(
            p.changes,
            [StateChange {
                seq: 7,
                from: State::Open,
                to: State::Filtered
            }]
        );
        assert!(!report.all_open(false));
        assert!(report.any_loss());
        let text = plain(&report);
        assert!(text.contains("30%"), "{text}");
    }

    #[test]
    fn udp_silence_is_not_open_unless_asked() {
        let flows = [flow(53, Proto::Udp)];
        let attempts = vec![vec![attempt(
            0,
            Evidence::Silence {
                waited: Duration::from_secs(2),
                tries: 1,
            },
            None,
        )]];
        let report = build(
            &[target()],
            &flows,
            &attempts,
            &ServiceNames::default(),
            settings(1),
            Duration::from_secs(2),
            false,
        );
        assert_eq!(report.targets[0].probes[0].state, State::OpenFiltered);
        assert!(!report.all_open(false));
        assert!(report.all_open(true));
    }

    #[test]
    fn unresolved_targets_show_as_error_rows() {
        let t = ResolvedTarget {
            error: Some("name lookup failed: no such name (EAI_NONAME)".into()),
            addresses: vec![],
            ..target()
        };
        let report = build(
            &[t],
            &[],
            &[],
            &ServiceNames::default(),
            settings(1),
            Duration::ZERO,
            false,
        );
        assert!(!report.all_open(true));
        let text = plain(&report);
        assert!(text.contains("error"), "{text}");
        assert!(text.contains("EAI_NONAME"), "{text}");
    }
}
