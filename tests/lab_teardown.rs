//! Teardown checks: after a deliberately failing scenario nothing of the lab is left behind.
//!
//! Other lab tests may run at the same time, so every check looks only at names, pids and
//! inodes recorded by the scenario itself.

#[macro_use]
mod support;

use std::net::{IpAddr, SocketAddr};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::Command;

use support::dns::stub::StubMode;
use support::dns::{DnsServer, StubServer, Zone, lab_zone};
use support::netns::{self, own_threads_in_netns, pids_in_netns};
use support::sim::{Scenario, SimPath};
use support::topo::{RouterMode, Topology};
use support::wait::ms;
use support::{Netns, addr, cmd};

/// What a scenario created, written down before it fails.
#[derive(Debug, Default)]
struct Footprint {
    namespaces: Vec<String>,
    inodes: Vec<(u64, u64)>,
    pids: Vec<u32>,
    sim_device: String,
}

/// A process counts as gone when /proc has no entry or only a zombie awaiting its reaper.
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit(')').next().and_then(|r| r.split_whitespace().next()) != Some("Z"),
        Err(_) => false,
    }
}

fn host_links() -> String {
    let mut c = Command::new("ip");
    c.args(["-o", "link", "show"]);
    cmd::run_ok(c, None)
}

fn tun_fds_of_ours() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| {
            d.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .filter(|t| t == Path::new("/dev/net/tun"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn a_panicking_scenario_leaves_no_namespaces_links_processes_or_files() {
    needs!(lab);
    let mut fp = Footprint::default();
    let dns_dirs_before = dns_dirs();
    let result = catch_unwind(AssertUnwindSafe(|| {
        let topo = Topology::builder()
            .routers(2)
            .router(1, RouterMode::Silent)
            .build();
        let dns = DnsServer::start_in(topo.client(), &[lab_zone()]);
        let sim = SimPath::start(topo.client(), Scenario::linear(2, ms(5)));
        let stub_at = SocketAddr::new(IpAddr::V4(addr::LAB_DNS_V4), 5353);
        let _stub = StubServer::start_in(topo.client(), StubMode::Silent, stub_at);
        for ns in topo.namespaces() {
            fp.namespaces.push(ns.name().to_string());
            fp.inodes.push(ns.inode().expect("namespace inode"));
            fp.pids.extend(ns.pids());
        }
        fp.pids.extend(topo.service_pids());
        fp.pids.push(dns.pid());
        fp.sim_device = sim.device().to_string();
        assert!(
            fp.pids.len() >= 4,
            "socat, nsd and helpers are running: {:?}",
            fp.pids
        );
        let out = topo
            .client()
            .run("ping", &["-n", "-c1", "-W1", &sim.target_v4().to_string()]);
        assert!(out.status.success(), "{}", cmd::text(&out));
        panic!("deliberate failure inside a lab scenario");
    }));
    let msg = result.expect_err("the scenario panics");
    assert_eq!(
        msg.downcast_ref::<&str>(),
        Some(&"deliberate failure inside a lab scenario")
    );

    let listed = cmd::run_ok(support::cmd::command("ip", &["netns", "list"]), None);
    let links = host_links();
    for (name, ino) in fp.namespaces.iter().zip(&fp.inodes) {
        assert!(
            !listed.lines().any(|l| l.split_whitespace().next() == Some(name)),
            "{name} still listed"
        );
        assert!(
            !Path::new("/run/netns").join(name).exists(),
            "/run/netns/{name} remains"
        );
        assert!(
            !Path::new("/etc/netns").join(name).exists(),
            "/etc/netns/{name} remains"
        );
        assert!(pids_in_netns(*ino).is_empty(), "processes still in {name}");
        assert_eq!(own_threads_in_netns(*ino), 0, "a lab thread is still in {name}");
    }
    for pid in &fp.pids {
        assert!(!alive(*pid), "process {pid} survived teardown");
    }
    // Links were created inside the namespaces; none may have surfaced in the host's.
    for dev in ["prev", "next", fp.sim_device.as_str()] {
        assert!(
            !links.contains(&format!(": {dev}:")),
            "link {dev} in the host namespace: {links}"
        );
    }
    assert_eq!(tun_fds_of_ours(), 0, "TUN device still open");
    let leaked: Vec<PathBuf> = dns_dirs()
        .into_iter()
        .filter(|d| !dns_dirs_before.contains(d))
        .collect();
    assert!(leaked.is_empty(), "DNS server directories remain: {leaked:?}");
}

/// This process's DNS server working directories.
fn dns_dirs() -> Vec<PathBuf> {
    let prefix = format!("sdg-dns-{}-", std::process::id());
    std::fs::read_dir(std::env::temp_dir())
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_dns_server_that_fails_to_start_is_reported_and_cleaned_up() {
    needs!(lab);
    let ns = Netns::new();
    // CNAME and other data at one name: NSD refuses to load the zone.
    let bad = Zone::new("bad.test")
        .cname("x", "y")
        .a("x", "198.51.100.9".parse().unwrap());
    let err = catch_unwind(AssertUnwindSafe(|| DnsServer::start_in(&ns, &[bad]))).expect_err("start fails");
    let text = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        text.contains("rcode") || text.contains("exited"),
        "a reason is given: {text}"
    );
    assert!(ns.pids().is_empty(), "no nsd process left: {:?}", ns.pids());
}

#[test]
fn namespaces_of_dead_test_processes_are_reaped() {
    needs!(lab);
    let mut child = Command::new("true").spawn().expect("spawn true");
    let dead = child.id();
    child.wait().expect("wait");
    let name = format!("{}{dead}-stale", netns::PREFIX);
    std::fs::create_dir_all(Path::new("/etc/netns").join(&name)).expect("etc dir");
    cmd::run_ok(cmd::command("ip", &["netns", "add", &name]), None);
    netns::reap_stale();
    assert!(
        !Path::new("/run/netns").join(&name).exists(),
        "stale namespace reaped"
    );
    assert!(
        !Path::new("/etc/netns").join(&name).exists(),
        "stale /etc/netns entry reaped"
    );
}
