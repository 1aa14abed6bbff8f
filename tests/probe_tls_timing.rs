//! Timing truth of `probe --tls --http`: over a 50 ms round trip (two lab namespaces joined by a link that
//! delays every packet 25 ms each way, tests/probe_tls_path.rs), every phase is the network's: TCP connect and
//! the TLS 1.3 handshake one round trip, TLS 1.2 two, the HTTP first byte one; and the phases add up to the total.
//!
//! A test binary of its own (see Cargo.toml), as trace_sim: no other test competes with the relay's threads for
//! the CPU while it times.

#[macro_use]
mod support;
#[path = "probe_tls_lab.rs"]
#[allow(dead_code)]
mod probe_tls_lab;
#[path = "probe_tls_path.rs"]
mod probe_tls_path;

use std::time::Duration;

use serde_json::Value;

use crate::probe_tls_lab::{Mode, Pki, Server, server_config};
use crate::probe_tls_path::{DelayedPath, SERVER};
use crate::support::{Netns, sockdiag};

const RTT_MS: f64 = 50.0;

/// The fastest of each phase over ten repeats (the path's own time: a repeat slowed by this busy machine's
/// scheduling of the relay threads says nothing about the tool), from the report of `probe --tls --http` in `ns`.
fn fastest(ns: &Netns, server: &Server, ca: &str) -> Value {
    let target = server.addr.to_string();
    let args = [
        "--json", "--quiet", "probe", &target, "--tls", "--http", "--sni", "lab.test", "--ca", ca,
    ];
    let run = sockdiag(&args)
        .args(&["-c", "10", "-i", "0.2"])
        .in_ns(ns)
        .exits(0);
    let report = run.json();
    let c = report["targets"][0]["probes"][0]["connection"].clone();
    let phases = c["phases"].as_array().unwrap();
    let sum: f64 = phases.iter().map(|p| p["ms"].as_f64().unwrap()).sum();
    let total = c["total_ms"].as_f64().unwrap();
    assert!(
        (sum - total).abs() <= 1.0,
        "phases add to {sum} ms, total {total} ms"
    );
    let mut out = serde_json::Map::new();
    for s in c["phase_stats"].as_array().unwrap() {
        out.insert(s["phase"].as_str().unwrap().to_string(), s["min_ms"].clone());
    }
    eprintln!("{} fastest: {}", c["tls"]["version"], Value::Object(out.clone()));
    Value::Object(out)
}

fn within_10pct(name: &str, got: &Value, rtts: f64) {
    let ms = got[name].as_f64().unwrap_or_else(|| panic!("no {name} in {got}"));
    let want = rtts * RTT_MS;
    assert!(
        (ms - want).abs() <= want * 0.1,
        "{name}: {ms} ms, expected {want} ms within 10%: {got}"
    );
}

#[test]
fn over_a_50ms_path_each_phase_takes_its_round_trips() {
    needs!(lab);
    let (ns, far) = (Netns::new(), Netns::new());
    let _path = DelayedPath::new(&ns, &far, Duration::from_millis(25));
    let bind = format!("{SERVER}:0");
    let pki = Pki::new("timing");
    let ca = pki.ca_file();
    let leaf = || pki.good_leaf(&["lab.test"], (2099, 1, 1));
    let tls13 = Server::start_in(
        &far,
        &bind,
        Mode::Tls(server_config(leaf(), &[&rustls::version::TLS13], &[])),
    );
    let got = fastest(&ns, &tls13, &ca);
    within_10pct("connect", &got, 1.0);
    within_10pct("tls", &got, 1.0);
    within_10pct("first_byte", &got, 1.0);
    let tls12 = Server::start_in(
        &far,
        &bind,
        Mode::Tls(server_config(leaf(), &[&rustls::version::TLS12], &[])),
    );
    let got = fastest(&ns, &tls12, &ca);
    within_10pct("connect", &got, 1.0);
    within_10pct("tls", &got, 2.0);
    within_10pct("first_byte", &got, 1.0);
}

/// Median of some samples.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The bench behind bench/connect.sh (ignored by the suite: its figures are wall-clock times): sockdiag
/// `probe --tls --http` and `curl -I -w` on the same server and 50 ms path, one after the other, BENCH_RUNS
/// times each; the median of each phase side by side, and each whole process run, start to exit.
#[test]
#[ignore = "a benchmark: run by bench/connect.sh"]
fn bench_beside_curl() {
    needs!(lab, "curl");
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
        .max(1);
    let bin = std::env::var("SOCKDIAG_BIN").unwrap_or_else(|_| crate::support::binary::BIN.to_string());
    let ns = Netns::builder()
        .hosts(&format!("{}127.0.0.1 localhost\n{SERVER} lab.test\n", ""))
        .build();
    let far = Netns::new();
    let _path = DelayedPath::new(&ns, &far, Duration::from_millis(25));
    let pki = Pki::new("bench");
    let ca = pki.ca_file();
    let leaf = pki.good_leaf(&["lab.test"], (2099, 1, 1));
    let _server = Server::start_in(
        &far,
        &format!("{SERVER}:443"),
        Mode::Tls(server_config(leaf, &[], &[])),
    );
    let format = "%{time_namelookup} %{time_connect} %{time_appconnect} %{time_starttransfer} %{time_total}";
    let (mut ours, mut theirs): (Vec<[f64; 6]>, Vec<[f64; 6]>) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let started = std::time::Instant::now();
        let args = [
            "--json",
            "--quiet",
            "probe",
            "lab.test:443",
            "--tls",
            "--http",
            "--ca",
            &ca,
        ];
        let run = sockdiag(&args).program(&bin).in_ns(&ns).exits(0);
        let wall = started.elapsed().as_secs_f64() * 1000.0;
        let c = run.json()["targets"][0]["probes"][0]["connection"].clone();
        let phase = |name: &str| -> f64 {
            let list = c["phases"].as_array().unwrap();
            list.iter()
                .filter(|p| p["phase"] == name)
                .map(|p| p["ms"].as_f64().unwrap())
                .sum()
        };
        let first = phase("request") + phase("first_byte");
        ours.push([
            phase("lookup"),
            phase("connect"),
            phase("tls"),
            first,
            c["total_ms"].as_f64().unwrap(),
            wall,
        ]);
        let started = std::time::Instant::now();
        let mut curl = ns.command("curl");
        curl.args([
            "-s",
            "-o",
            "/dev/null",
            "-I",
            "--cacert",
            &ca,
            "-w",
            format,
            "https://lab.test/",
        ]);
        let out = crate::support::cmd::run_ok(curl, None);
        let wall = started.elapsed().as_secs_f64() * 1000.0;
        let t: Vec<f64> = out
            .split_whitespace()
            .map(|x| x.parse::<f64>().unwrap() * 1000.0)
            .collect();
        theirs.push([t[0], t[1] - t[0], t[2] - t[1], t[3] - t[2], t[4], wall]);
    }
    let names = ["lookup", "connect", "tls", "first byte", "total", "process wall"];
    eprintln!("bench connect: {runs} runs each over a 50 ms path, medians in ms (sockdiag {bin})");
    eprintln!("{:<14}{:>10}{:>10}{:>8}", "phase", "sockdiag", "curl", "diff");
    let mut worst: f64 = 0.0;
    for (i, name) in names.iter().enumerate() {
        let a = median(ours.iter().map(|r| r[i]).collect());
        let b = median(theirs.iter().map(|r| r[i]).collect());
        eprintln!("{name:<14}{a:>10.2}{b:>10.2}{:>8.2}", a - b);
        // Over curl's by more than 2 ms would be this tool's overhead; under it is curl's own (OpenSSL loads
        // --cacert and sets up its context inside the appconnect time).
        if (1..=3).contains(&i) {
            worst = worst.max(a - b);
        }
    }
    let wall_ours = median(ours.iter().map(|r| r[5]).collect());
    let wall_curl = median(theirs.iter().map(|r| r[5]).collect());
    eprintln!(
        "most over curl in a phase {worst:.2} ms; whole run {wall_ours:.1} ms vs curl {wall_curl:.1} ms"
    );
    assert!(worst <= 2.0, "a phase takes {worst:.2} ms longer than curl's");
    assert!(
        wall_ours <= wall_curl,
        "sockdiag's whole run is slower than curl's"
    );
}
