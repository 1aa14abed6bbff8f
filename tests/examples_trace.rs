//! Every `sockdiag trace` example (from `--help` and the README) runs against the lab, its output checked.
//!
//! Mapping from the examples' names to the lab (a kernel topology with one router, target behind it):
//! `example.org` is the target's name in the client namespace's hosts file (its IPv4 and IPv6 addresses),
//! `2001:db8::1` and `198.51.100.7` are replaced by the target's IPv6 and IPv4 address, and `sudo` is
//! dropped (the tests run as root). So hop 1 must be the lab router and hop 2 the target.

use crate::support;

use std::net::IpAddr;

use sockdiag::cli::examples::TRACE;
use support::sockdiag;
use support::topo::Topology;

/// The README's trace block, each command line without its comment.
fn readme_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    readme
        .lines()
        .filter(|l| l.contains("sockdiag") && l.contains(" trace "))
        .filter(|l| l.starts_with("sudo sockdiag") || l.starts_with("sockdiag"))
        .map(|l| l.split('#').next().unwrap().trim().to_string())
        .collect()
}

/// Runs one example with the lab substituted, and checks the hops are the lab's router then the target.
fn run_example(topo: &Topology, command: &str) {
    let v4 = topo.target_v4().to_string();
    let v6 = topo.target_v6().to_string();
    let line = command
        .trim_start_matches("sudo ")
        .replace("2001:db8::1", &v6)
        .replace("198.51.100.7", &v4);
    let words: Vec<&str> = line.split_whitespace().skip(1).collect();
    let json = words.contains(&"--json");
    let out = sockdiag(&words).in_ns(topo.client()).exits(0);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    // A name may resolve to either family first (getaddrinfo's order): the title or the JSON says which.
    let want_v6 = words.contains(&"-6")
        || line.contains(&v6)
        || (!words.contains(&"-4") && !line.contains(&v4) && stdout.contains(&v6));
    if words.contains(&"-6") {
        assert!(stdout.contains(&v6), "{command}: {stdout}");
    }
    let router = topo.hop(1, want_v6).to_string();
    let target = topo.target_addr(want_v6).to_string();
    if json {
        let report = out.json();
        support::schema::assert_valid("trace", &report);
        let hops: Vec<&str> = report["hops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["addresses"][0]["address"].as_str().unwrap())
            .collect();
        assert_eq!(hops, [router.as_str(), target.as_str()], "{command}");
        assert_eq!(report["stop"]["reason"], "reached", "{command}");
        assert!(!report["samples"].as_array().unwrap().is_empty());
    } else {
        let text = stdout;
        let rows: Vec<Vec<&str>> = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("HOP"))
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(rows.len(), 2, "{command}:\n{text}");
        assert_eq!(&rows[0][..2], ["1", router.as_str()], "{command}:\n{text}");
        assert_eq!(&rows[1][..2], ["2", target.as_str()], "{command}:\n{text}");
        let queries = if words.contains(&"-q") { 5 } else { 3 };
        assert!(text.contains(&format!("RTT{queries}")), "{command}:\n{text}");
        assert!(
            text.contains(&format!("# reached {target} at hop 2 in ")),
            "{command}:\n{text}"
        );
    }
}

#[test]
fn every_trace_example_runs_against_the_lab() {
    needs!(lab);
    let probe = Topology::builder().routers(1).no_standard_ports();
    let hosts = "127.0.0.1 localhost\n198.51.100.6 example.org\n2001:db8:0:1::2 example.org\n";
    let topo = probe
        .client_files(hosts, "nameserver 203.0.113.253\noptions timeout:1 attempts:1\n")
        .build();
    assert_eq!(topo.target_v4().to_string(), "198.51.100.6");
    assert_eq!(
        topo.target_addr(true),
        "2001:db8:0:1::2".parse::<IpAddr>().unwrap()
    );
    let help: Vec<String> = TRACE.iter().map(|e| e.command.to_string()).collect();
    let readme = readme_commands();
    assert_eq!(readme, help, "the README's trace examples are the --help ones");
    for command in &help {
        run_example(&topo, command);
    }
}
