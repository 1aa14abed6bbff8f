//! `sockdiag resolve -f`: names are read, asked and printed as they come (answers appear while the input is
//! still open), a bad line is named by its number and quoted in part, invalid UTF-8 is a usage error, Ctrl-C
//! prints what was done and names what was not (exit 130), and international names are asked in punycode on
//! both paths. Loopback servers only, or a lab namespace for the system resolver.

use crate::support;

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::str::FromStr;
use std::sync::mpsc;
use std::time::Duration;

use hickory_resolver::proto::rr::rdata::A;
use hickory_resolver::proto::rr::{Name, RData, Record};
use support::dns::script::answer;
use support::dns::{DnsServer, Reply, ScriptedServer, Zone, lab_zone as lz};
use support::{Netns, addr, sockdiag};

use crate::resolve_formats::valid;

/// A file in a directory of the test's own, removed on drop.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(tag: &str, bytes: &[u8]) -> TempFile {
        let dir = std::env::temp_dir().join(format!("sdg-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("names.txt");
        std::fs::write(&path, bytes).unwrap();
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.0.parent().unwrap());
    }
}

#[test]
fn answers_come_out_while_stdin_is_still_open() {
    needs!(dns);
    let dns = DnsServer::start_loopback(&[lz::lab_zone()]);
    let at = format!("@{}", dns.addr());
    let mut command = sockdiag(&["resolve", "-t", "A", &at, "-f", "-"]).command();
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    stdin.write_all(b"host.lab.test\nv4only.lab.test\n").unwrap();
    stdin.flush().unwrap();
    // Both answers arrive with stdin still open: nothing waits for the end of the input. (The limit only
    // keeps a broken build from hanging the suite.)
    let mut seen = Vec::new();
    let want = [lz::HOST_V4.to_string(), lz::V4ONLY_V4.to_string()];
    while !want
        .iter()
        .all(|w| seen.iter().any(|l: &String| l.contains(w.as_str())))
    {
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(line) => seen.push(line),
            Err(e) => panic!("answers did not come while stdin was open ({e}); got {seen:?}"),
        }
    }
    // The last line read so far is a row, not the closing notes: the run is still going.
    assert!(!seen.iter().any(|l| l.starts_with("# ")), "{seen:?}");
    stdin.write_all(b"missing.lab.test\n").unwrap();
    drop(stdin);
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let rest: Vec<String> = rx.try_iter().collect();
    assert_eq!(status.code(), Some(1), "missing.lab.test is NXDOMAIN: {rest:?}");
    let header_count = seen
        .iter()
        .chain(&rest)
        .filter(|l| l.starts_with("NAME "))
        .count();
    assert_eq!(header_count, 1, "one header: {seen:?} {rest:?}");
    let closing = rest.iter().find(|l| l.contains("3 queries in")).expect("totals");
    assert!(closing.contains("2 answered, 1 not"), "{closing}");
}

#[test]
fn a_bad_line_is_named_and_quoted_in_part() {
    let mut text = b"localhost\n".to_vec();
    text.extend(std::iter::repeat_n(b'x', 2_000_000));
    text.push(b'\n');
    let file = TempFile::new("long", &text);
    let out = sockdiag(&["resolve", "-f", file.path()]).exits(2);
    let err = out.stderr();
    assert!(
        err.contains("names.txt line 2: a name is at most 253 bytes"),
        "{err}"
    );
    assert!(
        err.len() < 400,
        "quoted in part, not echoed whole: {} bytes",
        err.len()
    );
    assert!(out.stdout().is_empty(), "a file is checked before any lookup");
}

#[test]
fn invalid_utf8_is_a_usage_error_naming_the_line() {
    let file = TempFile::new("utf8", b"localhost\n# fine\n\xc3\x28.test\n");
    let out = sockdiag(&["resolve", "-f", file.path()]).exits(2);
    assert!(
        out.stderr().contains("line 3: not UTF-8 text"),
        "{}",
        out.stderr()
    );
    let out = sockdiag(&["resolve", "-f", "-"])
        .stdin(b"localhost\n\xff\n")
        .exits(2);
    assert!(
        out.stderr().contains("stdin line 2: not UTF-8 text"),
        "{}",
        out.stderr()
    );
}

#[test]
fn ctrl_c_prints_the_answers_so_far_and_names_what_was_not_done() {
    // Names starting with "slow" are never answered; the others at once.
    let server = ScriptedServer::loopback(|q| {
        let name = q.queries[0].name().to_ascii();
        if name.starts_with("slow") {
            return vec![];
        }
        let ip = std::net::Ipv4Addr::new(198, 51, 100, 9);
        vec![Reply::new(&answer(
            q,
            vec![Record::from_rdata(
                Name::from_str(&name).unwrap(),
                60,
                RData::A(A(ip)),
            )],
        ))]
    });
    let file = TempFile::new("sigint", b"fast1.test\nfast2.test\nslow.test\nfast3.test\n");
    let at = format!("@{}", server.addr());
    let child = sockdiag(&["resolve", "--json", "-t", "A", &at, "-w", "30", "-f", file.path()]).spawn();
    // Every query has reached the server; the slow one waits 30 s for an answer that never comes.
    crate::support::wait::until("every query at the server", Duration::from_secs(20), || {
        server.queries() >= 4
    });
    child.signal(libc::SIGINT);
    let out = child.wait(Duration::from_secs(10));
    assert_eq!(out.code(), 130, "{out}");
    let doc = valid(out.json());
    assert_eq!(doc["interrupted"], true);
    assert_eq!(doc["not_done"], serde_json::json!(["slow.test. A"]));
    let done: Vec<&str> = doc["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap())
        .collect();
    assert_eq!(done, ["fast1.test.", "fast2.test.", "fast3.test."]);
    assert!(
        doc["queries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|q| q["status"] == "answer")
    );
}

#[test]
fn ctrl_c_in_a_table_lists_the_names_not_done() {
    let server = ScriptedServer::loopback(|_| vec![]);
    let at = format!("@{}", server.addr());
    let child = sockdiag(&["resolve", "-t", "A", &at, "-w", "30", "slow1.test", "slow2.test"]).spawn();
    crate::support::wait::until("both queries at the server", Duration::from_secs(20), || {
        server.queries() >= 2
    });
    child.signal(libc::SIGINT);
    let out = child.wait(Duration::from_secs(10));
    assert_eq!(out.code(), 130, "{out}");
    assert!(
        out.stdout()
            .contains("interrupted (Ctrl-C): 2 not done: slow1.test. A, slow2.test. A"),
        "{}",
        out.stdout()
    );
}

const MUENCHEN_V4: std::net::Ipv4Addr = lz::MUENCHEN_V4;

fn idn_zone() -> Zone {
    lz::lab_zone()
}

#[test]
fn international_names_are_asked_in_punycode_over_dns() {
    needs!(dns);
    let dns = DnsServer::start_loopback(&[idn_zone()]);
    let at = format!("@{}", dns.addr());
    let out = sockdiag(&["resolve", "--json", "-t", "A", &at, "münchen.lab.test"]).exits(0);
    let doc = valid(out.json());
    assert_eq!(doc["queries"][0]["name"], "xn--mnchen-3ya.lab.test.");
    assert_eq!(doc["queries"][0]["records"][0]["data"], MUENCHEN_V4.to_string());
    assert_eq!(doc["international_names"][0]["given"], "münchen.lab.test");
    assert_eq!(doc["international_names"][0]["ascii"], "xn--mnchen-3ya.lab.test");
    let text = sockdiag(&["resolve", "-t", "A", &at, "münchen.lab.test"])
        .exits(0)
        .stdout();
    assert!(
        text.contains("münchen.lab.test is xn--mnchen-3ya.lab.test"),
        "{text}"
    );
}

#[test]
fn international_names_are_asked_in_punycode_by_the_system_resolver() {
    needs!(lab);
    let resolv = format!("nameserver {}\noptions timeout:1 attempts:1\n", addr::LAB_DNS_V4);
    let ns = Netns::builder().resolv_conf(&resolv).build();
    let _dns = DnsServer::start_in(&ns, &[idn_zone()]);
    let out = sockdiag(&["resolve", "--json", "-4", "münchen.lab.test"])
        .in_ns(&ns)
        .exits(0);
    let doc = valid(out.json());
    let result = &doc["results"][0];
    assert_eq!(result["name"], "xn--mnchen-3ya.lab.test", "{doc}");
    assert_eq!(
        result["addresses"][0]["address"],
        MUENCHEN_V4.to_string(),
        "{doc}"
    );
    assert_eq!(doc["international_names"][0]["given"], "münchen.lab.test");
}

#[test]
fn ctrl_c_stops_the_system_resolver_starting_more_names() {
    needs!(lab);
    let resolv = format!("nameserver {}\noptions timeout:2 attempts:1\n", addr::LAB_DNS_V4);
    let ns = Netns::builder().resolv_conf(&resolv).build();
    // A silent server: each getaddrinfo waits out resolv.conf's timeout.
    let server = ScriptedServer::start_in(&ns, |_| vec![]);
    let names: String = (0..40).map(|i| format!("n{i}.lab.test\n")).collect();
    let file = TempFile::new("sysint", names.as_bytes());
    let child = sockdiag(&["resolve", "--json", "--parallel", "2", "-f", file.path()])
        .in_ns(&ns)
        .spawn();
    crate::support::wait::until("the first lookups at the server", Duration::from_secs(20), || {
        server.queries() >= 2
    });
    child.signal(libc::SIGINT);
    let out = child.wait(Duration::from_secs(20));
    assert_eq!(out.code(), 130, "{out}");
    let doc = valid(out.json());
    let done = doc["results"].as_array().unwrap().len();
    let not_done = doc["not_done"].as_array().unwrap().len();
    // The lookups already running finish (getaddrinfo cannot be cancelled); no new one starts.
    assert_eq!(done + not_done, 40, "{doc}");
    assert!(not_done >= 30, "most names were never started: {done} done");
    assert_eq!(doc["not_done"][not_done - 1], "n39.lab.test");
}
