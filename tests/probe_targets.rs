//! `sockdiag probe` targets as nmap takes them (issue 14): CIDR blocks, octet ranges, files, exclusions,
//! `--list-targets`, the plan line on stderr, and ports as positional words. Loopback only, no root.

use crate::probe::rows;
use crate::support;

use std::net::TcpListener;

use support::sockdiag;

/// The (address, port, state) of every row.
fn verdicts(report: &serde_json::Value) -> Vec<(String, u64, String)> {
    let mut v: Vec<(String, u64, String)> = rows(report)
        .iter()
        .map(|r| {
            (
                r["address"].as_str().unwrap().to_string(),
                r["port"].as_u64().unwrap(),
                r["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn ports_as_words_equal_dash_p() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap().port().to_string();
    let closed = crate::probe::free_tcp_port().to_string();
    let words = sockdiag(&["--json", "probe", "127.0.0.1", &open, &closed])
        .exits(1)
        .json();
    let dash_p = sockdiag(&["--json", "probe", "127.0.0.1", "-p", &format!("{open},{closed}")])
        .exits(1)
        .json();
    assert_eq!(verdicts(&words), verdicts(&dash_p));
    assert_eq!(verdicts(&words).len(), 2);
    // Numeric words before a last port list join it.
    let mixed = sockdiag(&["--json", "probe", "127.0.0.1", &open, &format!("{closed},{open}")])
        .exits(1)
        .json();
    assert_eq!(verdicts(&mixed), verdicts(&dash_p));
}

#[test]
fn blocks_ranges_and_exclusions_expand_as_nmap_does() {
    let list = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["probe"];
        all.extend_from_slice(args);
        all.push("--list-targets");
        sockdiag(&all)
            .exits(0)
            .stdout()
            .lines()
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        list(&["198.51.100.7/30"]),
        ["198.51.100.4", "198.51.100.5", "198.51.100.6", "198.51.100.7"]
    );
    assert_eq!(
        list(&["198.51.100-101.1-2", "--exclude", "198.51.101.1"]),
        ["198.51.100.1", "198.51.100.2", "198.51.101.2"]
    );
    assert_eq!(
        list(&["2001:db8::/126", "--exclude", "2001:db8::/127"]),
        ["2001:db8::2", "2001:db8::3"]
    );
    assert_eq!(list(&["198.51.100.0/24"]).len(), 256);
    assert_eq!(list(&["2001:db8::/112"]).len(), 65_536);
}

#[test]
fn target_files_and_stdin_with_comments() {
    let dir = std::env::temp_dir().join(format!("sockdiag-targets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("targets.txt");
    std::fs::write(
        &file,
        "# lab hosts\n198.51.100.1 198.51.100.2  # two\n\n198.51.100.8/31\n",
    )
    .unwrap();
    let excl = dir.join("exclude.txt");
    std::fs::write(&excl, "198.51.100.2 # not this one\n").unwrap();
    let path = file.to_str().unwrap();
    let out = sockdiag(&[
        "probe",
        "-f",
        path,
        "--exclude-file",
        excl.to_str().unwrap(),
        "--list-targets",
    ])
    .exits(0);
    assert_eq!(
        out.stdout().lines().collect::<Vec<_>>(),
        ["198.51.100.1", "198.51.100.8", "198.51.100.9"]
    );
    let out = sockdiag(&["probe", "-f", "-", "--list-targets"])
        .stdin(b"198.51.100.3\n# nothing\n198.51.100.4-5\n")
        .exits(0);
    assert_eq!(
        out.stdout().lines().collect::<Vec<_>>(),
        ["198.51.100.3", "198.51.100.4", "198.51.100.5"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_blocks_are_usage_errors_that_query_nothing() {
    for (target, says) in [
        ("198.51.100.0/33", "'/33' is not a prefix length"),
        ("198.51.100.5-2", "reversed range '5-2'"),
        ("2001:db8::/64", "needs --allow-large"),
        ("198.51.100.1-300", "is not an octet"),
    ] {
        let out = sockdiag(&["probe", target, "-p", "22"]).exits(2);
        assert!(out.stderr().contains(says), "{target}: {}", out.stderr());
        assert_eq!(out.stderr().lines().count(), 1, "{}", out.stderr());
        assert!(out.stdout.is_empty());
    }
    let out = sockdiag(&["probe", "127.0.0.1", "22", "--exclude", "a!b"]).exits(2);
    assert!(out.stderr().contains("bad exclusion"), "{}", out.stderr());
}

#[test]
fn the_first_stderr_line_counts_addresses_and_probes() {
    let out = sockdiag(&["--json", "probe", "127.0.0.1-3", "1", "2"]).exits(1);
    let first = out.stderr().lines().next().unwrap_or_default().to_string();
    assert_eq!(first, "sockdiag: probing 3 addresses: 6 probes");
    assert_eq!(rows(&out.json()).len(), 6);
    let quiet = sockdiag(&["--quiet", "probe", "127.0.0.1", "1"]).exits(1);
    assert!(quiet.stderr().is_empty(), "{}", quiet.stderr());
}
