//! Timing truth of `probe --tls --http`: over a 50 ms round trip (two lab namespaces joined by a link that
//! delays every packet 25 ms each way, tests/probe_tls_path.rs), every phase is the network's: TCP connect and the TLS 1.3 handshake one round trip, TLS 1.2
//! two, the HTTP first byte one; and the phases add up to the total.

use serde_json::Value;

use std::time::Duration;

use crate::probe_tls_lab::{Mode, Pki, Server, server_config};
use crate::probe_tls_path::{DelayedPath, SERVER};
use crate::support::{Netns, sockdiag};

const RTT_MS: f64 = 50.0;

/// The fastest of each phase over five repeats (the path's own time: a repeat slowed by this busy machine's
/// scheduling of the relay threads says nothing about the tool), from the report of `probe --tls --http` in `ns`.
fn fastest(ns: &Netns, server: &Server, ca: &str) -> Value {
    let target = server.addr.to_string();
    let args = [
        "--json", "--quiet", "probe", &target, "--tls", "--http", "--sni", "lab.test", "--ca", ca,
    ];
    let run = sockdiag(&args).args(&["-c", "5", "-i", "0.3"]).in_ns(ns).exits(0);
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
