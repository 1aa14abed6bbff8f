//! Every `sockdiag probe` example (the `--help` list in `cli::examples::PROBE`, which the README's probe section
//! repeats) run against the lab, its output checked.
//!
//! The examples name hosts that do not exist here; each runs in the client namespace of one lab topology with
//! these substitutions (the ports stay as written: the lab's target is set up to answer on them):
//!
//! | in the example                           | in the lab                                      |
//! |------------------------------------------|-------------------------------------------------|
//! | `db.example`, `example.org`, `mail.example` | `target.lab.test` (the target's A and AAAA, from the lab's DNS) |
//! | `198.51.100.7`                           | the target's IPv4 address                       |
//! | `2001:db8::1`                            | the target's IPv6 address                       |
//!
//! On the target: TCP 25, 80, 443 and 5432 open (an echo), 22 closed, UDP 53 answered (an echo), every
//! other port closed but the lab's standard ones (`topo::ports`).

use crate::support;

use serde_json::Value;
use sockdiag::cli::examples::PROBE;
use support::sockdiag;
use support::topo::{TcpPort, Topology, UdpPort};

/// The lab's stand-ins for the examples' names and addresses.
fn substitute(word: &str, topo: &Topology) -> String {
    let mut w = word.to_string();
    for name in ["db.example", "example.org", "mail.example"] {
        w = w.replace(name, "target.lab.test");
    }
    w.replace("198.51.100.7", &topo.target_v4().to_string())
        .replace("2001:db8::1", &topo.target_v6().to_string())
}

/// Splits a command line as a shell would for these examples: words, and 'single-quoted' words.
fn words(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = command.trim();
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('\'') {
            let end = quoted.find('\'').expect("closing quote");
            out.push(quoted[..end].to_string());
            rest = quoted[end + 1..].trim_start();
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            out.push(rest[..end].to_string());
            rest = rest[end..].trim_start();
        }
    }
    out
}

/// What each example must print (plain output, as a pipe gets it): lines, each holding all of its words; and
/// its exit code.
fn check(command: &str, code: i32, text: &str, topo: &Topology) {
    let (v4, v6) = (topo.target_v4().to_string(), topo.target_v6().to_string());
    let want: Vec<Vec<&str>> = match command {
        c if c.contains("db.example 5432") => vec![
            vec![&v4, "inet", "5432/tcp", "postgresql", "open", "connected"],
            vec![&v6, "inet6", "5432/tcp", "open"],
            vec!["# 2 ports probed in", "2 open"],
        ],
        c if c.contains("-p 22,80,443,u:53") => vec![
            vec![&v4, "22/tcp", "ssh", "closed", "refused (TCP RST)"],
            vec![&v6, "80/tcp", "http", "open"],
            vec![&v4, "53/udp", "domain", "open", "reply received"],
            vec!["# 8 ports probed in", "2 closed, 6 open"],
        ],
        c if c.ends_with(" -") => vec![
            vec![&v4, "443/tcp", "open"],
            vec!["closed ports not shown (--all-ports lists them)"],
            vec!["# 65535 ports probed in"],
        ],
        c if c.contains("-c 10") => vec![
            vec![&v6, "443/tcp", "https", "open", "10", "0%", "ms"],
            vec!["# 1 port probed in", "1 open"],
        ],
        c if c.contains("--send") => vec![vec![&v4, "25/tcp", "open", "EHLO x\\r\\n"]],
        c if c.contains("--format csv") => vec![
            vec!["target,address,family,protocol,port,service,state,reason,rtt_ms,banner"],
            vec![&v4, ",inet,tcp,22,ssh,closed,refused (TCP RST),"],
            vec![&v4, ",inet,tcp,443,https,open,connected (handshake completed),"],
        ],
        other => panic!("no expected output written for the example {other:?}: add it here"),
    };
    let code_wanted = i32::from(command.contains("22") || command.ends_with(" -"));
    assert_eq!(code, code_wanted, "{command}:\n{text}");
    for words in want {
        assert!(
            text.lines().any(|l| words.iter().all(|w| l.contains(w))),
            "{command}: no line with {words:?} in\n{text}"
        );
    }
}

#[test]
fn every_probe_example_runs_in_the_lab() {
    needs!(lab);
    let topo = Topology::builder()
        .routers(1)
        .dns()
        .tcp(25, TcpPort::Open)
        .tcp(80, TcpPort::Open)
        .tcp(443, TcpPort::Open)
        .tcp(5432, TcpPort::Open)
        .udp(53, UdpPort::Answered)
        .build();
    for example in PROBE {
        let args: Vec<String> = words(example.command)
            .iter()
            .skip(1) // sockdiag
            .map(|w| substitute(w, &topo))
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = sockdiag(&args).in_ns(topo.client()).run();
        check(example.command, out.code(), &out.stdout(), &topo);
        // The same command as JSON: a valid document.
        if !args.contains(&"--format") {
            let mut json_args = vec!["--json"];
            json_args.extend(&args);
            let doc: Value = sockdiag(&json_args).in_ns(topo.client()).run().json();
            support::schema::assert_valid("probe", &doc);
        }
    }
}

#[test]
fn the_readme_shows_the_same_probe_examples() {
    let readme = include_str!("../README.md");
    let section = readme
        .split("### probe:")
        .nth(1)
        .and_then(|s| s.split("```").nth(1))
        .expect("README has a probe section with a code block");
    let commands: Vec<&str> = section
        .lines()
        .filter(|l| l.starts_with("sockdiag"))
        .map(|l| l.split(" # ").next().unwrap().trim_end())
        .collect();
    let listed: Vec<&str> = PROBE.iter().map(|e| e.command).collect();
    assert_eq!(
        commands, listed,
        "README's probe examples and `sockdiag probe --help` differ"
    );
}

#[test]
fn words_split_like_a_shell() {
    assert_eq!(
        words("sockdiag probe a:25 --send 'EHLO x\\r\\n'"),
        ["sockdiag", "probe", "a:25", "--send", "EHLO x\\r\\n"]
    );
}
