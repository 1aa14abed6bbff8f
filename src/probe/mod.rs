//! `sockdiag probe`: validate targets and ports, resolve every address, run the probes concurrently,
//! build the report.

pub mod config;
pub mod discovery;
pub mod greeting;
pub mod http;
mod local;
pub mod payload;
pub mod progress;
pub mod ratelimit;
pub mod report;
pub mod schedule;
pub mod sock;
pub mod table;
pub mod targets;
pub mod tcp;
pub mod tls;
pub mod udp;
pub mod unix;
pub mod unprobed;
pub mod verdict;

use std::net::{IpAddr, SocketAddr, SocketAddrV6};
use std::sync::Arc;

use crate::cli::{GlobalArgs, ProbeArgs};
use crate::error::{Context, Error, Outcome, Result};
use crate::lookup::{self, FailureClass, Family, Hints, SockType};
use crate::services::ServiceNames;
use crate::target::{Host, PortItem, Proto, TargetSpec};

use crate::render::write_json_line;
use config::{Config, Stream};
use progress::ScanProgress;
use report::{ProbeLine, ProbeReport, ProbeSettings, ResolvedTarget, TimeoutMode};
use schedule::{AdaptiveTimeout, Flow, MAX_DEFAULT_PARALLEL, RunResult, Schedule, TimeoutPolicy};
use sock::SocketSetup;
use std::io::Write as _;
use verdict::local_reason;

/// Every probe's result is kept for the report, so one run is bounded to keep memory bounded too.
const MAX_PROBES: u64 = 1_000_000;

/// Runtime workers at most, whatever the core count: past a few, the probes' shared state costs more than
/// another core gains.
const MAX_WORKERS: usize = 4;

/// Rejects runs whose probes (port/address pairs times repeats) would not fit the report's bound.
fn check_total(flows: usize, count: u32) -> Result<()> {
    if count == 0 {
        return Ok(()); // until Ctrl-C: the user bounds the run
    }
    let total = flows as u64 * u64::from(count);
    if total > MAX_PROBES {
        return Err(Error::usage(format!(
            "{total} probes ({flows} port/address pairs x {count} repeats) is more than one run keeps: \
             at most {MAX_PROBES}; lower --count or probe fewer ports"
        )));
    }
    Ok(())
}

/// Runs `sockdiag probe` and returns the report with its outcome.
pub fn run(args: &ProbeArgs, global: &GlobalArgs) -> Result<(ProbeReport, Outcome)> {
    let config = Config::from_args(args, global)?;
    let parallel = parallelism(config.parallel);
    if let Some(src) = config.source {
        check_source(src)?;
    }
    let runtime = probe_runtime()?;
    let targets = runtime.block_on(resolve_all(&config))?;
    let flows = flows_for(&config, &targets);
    check_total(flows.len(), config.count)?;
    if !config.quiet {
        eprintln!("{}", plan_line(&targets, flows.len(), config.count));
    }
    let links = Arc::new(discovery::LocalLinks::load());
    let mut result = runtime.block_on(probe_all(&config, &targets, &flows, parallel, &links));
    drop(runtime);
    let stopped = result.stopped.map(stop_reason);
    let rate_limited = std::mem::take(&mut result.rate_limited);
    let mut report = report::build(
        &targets,
        &flows,
        &result.attempts,
        &ServiceNames::load(),
        settings(&config, parallel),
        result.elapsed,
        result.interrupted,
    );
    report.show_all = config.list_all;
    report.sessions = config.session.is_some();
    local::name_listeners_elsewhere(&mut report);
    if config.count == 1 {
        report.mark_down(discovery::down_hosts(&flows, &result.attempts, &links));
    }
    report.summary.stopped = stopped;
    report.summary.rate_limited = rate_limited;
    // -c 0 runs until Ctrl-C: there Ctrl-C is the normal end, and the exit code says what was found.
    let outcome = if report.summary.stopped.is_some() {
        Outcome::Stopped
    } else if result.interrupted && config.count != 0 {
        Outcome::Interrupted
    } else {
        let lost = config.fail_on_loss && report.any_loss();
        Outcome::negative_if(lost || !report.all_open(config.udp_open_filtered_ok))
    };
    Ok((report, outcome))
}

/// The runtime probes run on: one worker per core. The kernel does each probe's protocol work inside our
/// connect() (SYN out, the RST or SYN-ACK of a near host often in before it returns), so that work spreads
/// over the cores only when the connects do.
fn probe_runtime() -> Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut builder = if cores <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(cores.min(MAX_WORKERS));
        b
    };
    builder
        .enable_all()
        .build()
        .context(|| "starting the async runtime".to_string())
}

/// `--list-targets`: the addresses the targets expand to (names resolved, exclusions applied), one a line on
/// stdout; nothing is probed.
pub fn list_targets(args: &ProbeArgs, global: &GlobalArgs) -> Result<Outcome> {
    use std::io::Write;
    let config = Config::from_args(args, global)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .context(|| "starting the async runtime".to_string())?;
    let targets = runtime.block_on(resolve_all(&config))?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut failed = false;
    for t in &targets {
        if let Some(why) = &t.error {
            eprintln!("sockdiag: {}: {why}", t.text.escape_debug());
            failed = true;
        }
        for a in &t.addresses {
            let written = match a {
                SocketAddr::V6(v6) if v6.scope_id() != 0 => {
                    writeln!(
                        out,
                        "{}%{}",
                        v6.ip(),
                        crate::target::interface_name(v6.scope_id())
                    )
                }
                _ => writeln!(out, "{}", a.ip()),
            };
            match written {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(Outcome::Success),
                other => other.context(|| "writing the target list".to_string())?,
            }
        }
    }
    let _ = out.flush();
    Ok(Outcome::negative_if(failed))
}

/// The first line on stderr: how many addresses and probes the run will make.
fn plan_line(targets: &[ResolvedTarget], flows: usize, count: u32) -> String {
    let addresses: usize = targets.iter().map(|t| t.addresses.len()).sum();
    let repeats = match count {
        0 => ", each repeated until Ctrl-C".to_string(),
        1 => String::new(),
        n => format!(", each {n} times"),
    };
    format!(
        "sockdiag: probing {addresses} address{}: {flows} probe{}{repeats}",
        if addresses == 1 { "" } else { "es" },
        if flows == 1 { "" } else { "s" }
    )
}

/// Probes in flight at most: `--parallel` if given, never more than the open-file limit allows.
fn parallelism(asked: Option<usize>) -> usize {
    let soft = crate::sys::rlimit::raise_open_files(schedule::OPEN_FILES_WANTED);
    let most = schedule::max_parallel(soft, schedule::open_fds());
    match asked {
        Some(n) => n.min(most),
        None => most.min(MAX_DEFAULT_PARALLEL),
    }
}

/// Runs every probe of every flow, with a progress bar on a terminal.
async fn probe_all(
    config: &Config,
    targets: &[ResolvedTarget],
    flows: &[Flow],
    parallel: usize,
    links: &Arc<discovery::LocalLinks>,
) -> RunResult {
    let setup = Arc::new(SocketSetup {
        source: config.source,
        send: config.send.clone(),
        reply_wait: match config.timeout {
            TimeoutPolicy::Fixed(d) => d,
            TimeoutPolicy::Adaptive { cap, .. } => cap,
        },
        banner_wait: config.banner_wait,
        spare: Arc::default(),
    });
    let plan = Schedule {
        parallel,
        count: config.count,
        interval: config.interval,
        timeout: config.timeout,
        catch_ctrl_c: true,
        local_links: Arc::clone(links),
    };
    let total = (config.count != 0).then(|| flows.len() as u64 * u64::from(config.count));
    let progress = ScanProgress::new(total, config.count != 1, !config.quiet);
    let ticker = progress.clone();
    let session = config.session.clone();
    let infos: Vec<tls::TargetInfo> = config.targets.iter().zip(targets).map(target_info).collect();
    let infos = Arc::new(infos);
    let probe = move |flow: Flow, seq: u32, timeout: Arc<AdaptiveTimeout>| {
        let setup = Arc::clone(&setup);
        let (session, infos) = (session.clone(), Arc::clone(&infos));
        async move {
            // The session and UDP probes' futures are boxed: every probe task is as large as the largest
            // future it may hold, and most probes are plain TCP connects.
            match (flow.proto, session) {
                (Proto::Tcp, Some(opts)) => {
                    let info = &infos[flow.target];
                    Box::pin(tls::try_once(flow.addr, info, &opts, &setup, timeout)).await
                }
                (Proto::Tcp, None) => tcp::try_once(flow.addr, &setup, seq == 0, timeout).await,
                (Proto::Udp, _) => Box::pin(udp::try_once(flow.addr, seq, &setup, timeout)).await,
            }
        }
    };
    let stream = config.stream;
    let on_done = move |flow: &Flow, attempt: &schedule::Attempt| {
        ticker.inc();
        // A reader that went away is met again, and ignored, when the summary is written.
        match stream {
            Stream::Off => {}
            Stream::Ndjson => {
                let _ = write_json_line(&ProbeLine::new(flow, attempt), &mut std::io::stdout().lock());
            }
            Stream::Plain => {
                let _ = writeln!(
                    std::io::stdout().lock(),
                    "{}",
                    ProbeLine::new(flow, attempt).plain()
                );
            }
        }
    };
    let mut result = schedule::run(flows, plan, probe.clone(), on_done).await;
    progress.finish();
    if config.count == 1 && !result.interrupted && result.stopped.is_none() {
        let budget = config.retry_budget;
        let (timeouts, elapsed) = (result.final_timeouts.clone(), result.elapsed);
        let again = ratelimit::reprobe(flows, &mut result.attempts, probe, budget, &timeouts, elapsed);
        tokio::select! {
            notes = again => result.rate_limited = notes,
            // Ctrl-C while re-probing: the run's own verdicts stand.
            _ = tokio::signal::ctrl_c() => result.interrupted = true,
        }
    }
    result
}

/// What a session probe needs of its target: the name (for SNI and Host) and the lookup's time.
fn target_info((spec, t): (&TargetSpec, &ResolvedTarget)) -> tls::TargetInfo {
    tls::TargetInfo {
        // Addresses, blocks and ranges have no name to send or check.
        name: matches!(spec.host, Host::Name(_)).then(|| t.host.clone()),
        lookup: t.lookup,
    }
}

/// Why a run stopped early: the local resource that stayed short (descriptors, ports, buffers).
fn stop_reason(errno: i32) -> String {
    format!(
        "this host ran short of a resource for {} s: {}",
        schedule::SHORTAGE_PATIENCE.as_secs(),
        local_reason(errno).trim_start_matches("local: ")
    )
}

/// The settings the report states.
fn settings(config: &Config, parallel: usize) -> ProbeSettings {
    let ms = crate::render::ms_f64;
    let (mode, fixed, floor, cap) = match config.timeout {
        TimeoutPolicy::Fixed(d) => (TimeoutMode::Fixed, Some(ms(d)), None, None),
        TimeoutPolicy::Adaptive { floor, cap } => {
            (TimeoutMode::Adaptive, None, Some(ms(floor)), Some(ms(cap)))
        }
    };
    ProbeSettings {
        count: config.count,
        interval_ms: (config.count != 1).then(|| ms(config.interval)),
        timeout: mode,
        timeout_ms: fixed,
        adaptive_floor_ms: floor,
        adaptive_cap_ms: cap,
        parallel,
        source: config.source.map(|s| s.to_string()),
        send: config.send.as_deref().map(payload::escape),
        retry_budget_ms: ms(config.retry_budget),
        session: config.session.as_deref().map(tls::SessionOptions::settings),
    }
}

/// Binds a throwaway socket to the source address so a wrong one fails once, before any probe.
fn check_source(src: SocketAddr) -> Result<()> {
    let setup = SocketSetup {
        source: Some(src),
        ..SocketSetup::default()
    };
    sock::open(src, Proto::Tcp, &setup).map(drop).map_err(|errno| {
        Error::io(
            format!("binding the source address {src}"),
            std::io::Error::from_raw_os_error(errno),
        )
    })
}

/// Resolves every target, names concurrently through getaddrinfo.
async fn resolve_all(config: &Config) -> Result<Vec<ResolvedTarget>> {
    let mut handles = Vec::new();
    for t in &config.targets {
        let spec = t.clone();
        let family = config.family;
        handles.push(tokio::task::spawn_blocking(move || resolve_one(&spec, family)));
    }
    let mut out = Vec::new();
    for h in handles {
        let mut target = h
            .await
            .map_err(|e| Error::System(format!("name lookup task failed: {e}")))??;
        if !config.exclude.is_empty() {
            target.addresses.retain(|a| !config.exclude.contains(a.ip()));
        }
        out.push(target);
    }
    Ok(out)
}

fn resolve_one(spec: &TargetSpec, family: Family) -> Result<ResolvedTarget> {
    let mut target = ResolvedTarget {
        text: spec.text.clone(),
        host: spec.host_text.clone(),
        addresses: Vec::new(),
        error: None,
        lookup: std::time::Duration::ZERO,
    };
    match &spec.host {
        Host::Block(addrs) => target.addresses = addrs.iter().map(|&ip| SocketAddr::new(ip, 0)).collect(),
        Host::Literal(lit) => {
            target.addresses.push(match lit.addr {
                IpAddr::V4(_) => SocketAddr::new(lit.addr, 0),
                IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, 0, 0, lit.scope_id)),
            });
        }
        Host::Name(name) => {
            let hints = Hints::addresses(family, SockType::Stream);
            let asked = std::time::Instant::now();
            let answer = lookup::getaddrinfo(Some(name), None, &hints);
            target.lookup = asked.elapsed();
            match answer {
                Ok(fwd) => {
                    for row in fwd.rows {
                        let addr = match row.address {
                            IpAddr::V4(_) => SocketAddr::new(row.address, 0),
                            IpAddr::V6(v6) => {
                                SocketAddr::V6(SocketAddrV6::new(v6, 0, 0, row.scope_id.unwrap_or(0)))
                            }
                        };
                        if !target.addresses.contains(&addr) {
                            target.addresses.push(addr);
                        }
                    }
                }
                Err(f) if f.class == FailureClass::System => {
                    return Err(f.to_error(&format!("looking up '{name}'")));
                }
                Err(f) => target.error = Some(format!("name lookup failed: {} ({})", f.message, f.code)),
            }
            if target.addresses.is_empty() && target.error.is_none() {
                target.error = Some("name lookup returned no address".to_string());
            }
        }
    }
    Ok(target)
}

/// Every (address, protocol, port) to probe, in report order: target, address, protocol, port as given.
fn flows_for(config: &Config, targets: &[ResolvedTarget]) -> Vec<Flow> {
    let mut flows = Vec::new();
    for (i, (spec, resolved)) in config.targets.iter().zip(targets).enumerate() {
        let items = spec.ports.as_deref().or(config.ports.as_deref()).unwrap_or(&[]);
        let ports = expand_ports(items, &config.protocols);
        for addr in &resolved.addresses {
            for &(proto, port) in &ports {
                let mut a = *addr;
                a.set_port(port);
                flows.push(Flow {
                    target: i,
                    addr: a,
                    proto,
                });
            }
        }
    }
    flows
}

/// Expands a port list into (protocol, port) pairs: TCP first, then UDP, each in the order given, once each.
pub fn expand_ports(items: &[PortItem], default_protocols: &[Proto]) -> Vec<(Proto, u16)> {
    let mut out = Vec::new();
    for proto in [Proto::Tcp, Proto::Udp] {
        let mut seen = vec![false; 65536];
        for item in items {
            let applies = match item.proto {
                Some(p) => p == proto,
                None => default_protocols.contains(&proto),
            };
            if !applies {
                continue;
            }
            for port in item.first..=item.last {
                if !std::mem::replace(&mut seen[port as usize], true) {
                    out.push((proto, port));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_beyond_the_probe_bound_are_usage_errors() {
        assert!(check_total(65_535 * 4, 1).is_ok());
        assert!(check_total(1000, 1000).is_ok());
        let err = check_total(65_535, 1000).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("at most 1000000"), "{err}");
    }

    fn item(proto: Option<Proto>, first: u16, last: u16) -> PortItem {
        PortItem { proto, first, last }
    }

    #[test]
    fn ports_expand_once_each_tcp_first() {
        let items = [
            item(None, 80, 82),
            item(Some(Proto::Udp), 53, 53),
            item(None, 81, 81),
            item(Some(Proto::Tcp), 22, 22),
        ];
        assert_eq!(
            expand_ports(&items, &[Proto::Tcp]),
            [
                (Proto::Tcp, 80),
                (Proto::Tcp, 81),
                (Proto::Tcp, 82),
                (Proto::Tcp, 22),
                (Proto::Udp, 53)
            ]
        );
        let both = expand_ports(&[item(None, 7, 7)], &[Proto::Tcp, Proto::Udp]);
        assert_eq!(both, [(Proto::Tcp, 7), (Proto::Udp, 7)]);
        assert_eq!(expand_ports(&[item(None, 1, 65535)], &[Proto::Tcp]).len(), 65535);
    }
}
