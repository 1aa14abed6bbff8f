//! Text from outside never reaches the terminal raw: every argument path, a names file, a hostile DNS server and a
//! hostile banner are fed terminal escapes (cursor moves, OSC 52 clipboard writes, BEL, DEL, C1, a bidirectional
//! override), and no such byte may come out on stdout or stderr, in tables, plain columns, CSV, JSON or errors.

use crate::support;

use std::io::Write;
use std::net::TcpListener;
use std::thread;

use support::dns::{DnsServer, Zone};
use support::sockdiag;

/// Hostile text: a clipboard write (OSC 52) ended by BEL, a colour change, DEL, a C1 CSI and a right-to-left override.
const HOSTILE: &str = "x\u{1b}]52;c;aGk=\u{7}\u{1b}[31mred\u{7f}\u{9b}2J\u{202e}cba";

/// Fails when `text` carries a byte below 0x20 other than newline and tab, DEL, a C1 control, or an invisible
/// Unicode control.
fn assert_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| c != '\n' && c != '\t' && ::sockdiag::text::is_unsafe(c))
        .collect();
    assert!(bad.is_empty(), "{what}: raw {bad:?} in {text:?}");
}

fn clean_run(what: &str, args: &[&str]) -> (String, String, i32) {
    // Wide enough that no table cell wraps: the checks look for whole strings.
    let out = sockdiag(args).env("COLUMNS", "400").run();
    assert_clean(&format!("{what} stdout"), out.stdout().as_bytes());
    assert_clean(&format!("{what} stderr"), out.stderr().as_bytes());
    (out.stdout(), out.stderr(), out.code())
}

/// A directory of this test's own, removed when dropped, even after a failed assertion.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let path = std::env::temp_dir().join(format!("sockdiag-escapes-{}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn every_argument_path_escapes_what_the_user_typed() {
    let dir = TempDir::new();
    let names = dir.path().join("names.txt");
    std::fs::write(&names, format!("localhost\n{HOSTILE}\n")).unwrap();
    let names = names.to_str().unwrap();
    let missing = format!("{}/{HOSTILE}", dir.path().display());
    let scoped = format!("fe80::1%{HOSTILE}");
    let server = format!("@{HOSTILE}");
    let hex = format!("zz{HOSTILE}");
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("-t", vec!["resolve", "localhost", "-t", HOSTILE]),
        ("@server", vec!["resolve", "localhost", &server]),
        ("--server", vec!["resolve", "localhost", "--server", HOSTILE]),
        ("-x", vec!["resolve", "-x", HOSTILE]),
        ("numeric host", vec!["resolve", "--ai-numerichost", HOSTILE]),
        ("--service", vec!["resolve", "localhost", "--service", HOSTILE]),
        ("%scope", vec!["probe", &scoped, "-p", "22"]),
        (
            "--send-hex",
            vec!["probe", "127.0.0.1", "-p", "u:9", "--send-hex", &hex],
        ),
        ("-b", vec!["listen", "-b", HOSTILE, "0"]),
        ("--reply-file", vec!["listen", "0", "--reply-file", HOSTILE]),
        ("-f path", vec!["resolve", "-f", &missing]),
        ("-f line", vec!["resolve", "-f", names]),
        ("probe target", vec!["probe", HOSTILE, "-p", "1"]),
        ("probe ports", vec!["probe", "127.0.0.1", "-p", HOSTILE]),
        ("trace target", vec!["trace", HOSTILE]),
        ("clap value", vec!["probe", "127.0.0.1", "-w", HOSTILE]),
        ("clap enum", vec!["--format", HOSTILE, "probe", "127.0.0.1"]),
    ];
    for (what, args) in cases {
        let (_, stderr, code) = clean_run(what, &args);
        assert!(matches!(code, 2 | 3), "{what}: exit {code}: {stderr}");
        // The value is quoted, escaped, not dropped: the reader sees what was typed.
        assert!(stderr.contains("\\x1b"), "{what}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{what}: one line: {stderr}");
        // Errors as JSON: the document parses, and the message is the same line.
        let mut json_args = vec!["--json"];
        json_args.extend(&args);
        let (stdout, _, _) = clean_run(what, &json_args);
        let doc: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{what}: {e}: {stdout}"));
        assert!(
            doc["error"]["message"].as_str().unwrap().contains("\\x1b]52"),
            "{what}: {doc}"
        );
    }
}

#[test]
fn records_from_a_hostile_dns_server_are_escaped_in_every_format() {
    needs!(dns);
    let zone = Zone::new("evil.test")
        .txt("t", &[HOSTILE, "plain"])
        .txt("@", &[HOSTILE])
        .caa("t", 0, "issue", HOSTILE)
        .caa("@", 0, "issue", HOSTILE);
    let dns = DnsServer::start_loopback(&[zone]);
    let server = format!("@{}", dns.addr());
    for format in ["table", "plain", "csv", "json", "ndjson"] {
        let args = [
            "resolve",
            "--format",
            format,
            &server,
            "-t",
            "TXT,CAA",
            "t.evil.test",
            "evil.test",
        ];
        let (stdout, stderr, code) = clean_run(format, &args);
        assert_eq!(code, 0, "{format}: {stderr}");
        if format.ends_with("json") {
            // JSON keeps the data exact: its escapes decode to what the server sent.
            let last = stdout.lines().last().unwrap();
            let doc: serde_json::Value = if format == "json" {
                serde_json::from_str(&stdout).unwrap()
            } else {
                serde_json::from_str(last).unwrap()
            };
            let strings = &doc["queries"][0]["records"][0]["fields"]["strings"];
            assert_eq!(strings[0], HOSTILE, "{format}: {doc}");
        } else {
            // One notation for DNS data: RFC 1035's \DDD, in TXT and CAA alike.
            assert!(
                stdout.contains("\"x\\027]52;c;aGk=\\007\\027[31mred\\127"),
                "{format}: {stdout}"
            );
            assert_eq!(
                stdout.matches("\\226\\128\\174cba").count(),
                4,
                "{format}: {stdout}"
            );
        }
    }
}

#[test]
fn a_hostile_banner_is_escaped_in_every_format() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let server = thread::spawn(move || {
        // One connection per format below.
        for _ in 0..4 {
            let (mut conn, _) = listener.accept().unwrap();
            let _ = conn.write_all(format!("SSH-2.0-{HOSTILE}\r\n").as_bytes());
        }
    });
    for format in ["table", "plain", "csv", "json"] {
        let args = [
            "probe",
            "-v",
            "--format",
            format,
            "127.0.0.1",
            "-p",
            &port,
            "--send",
            "",
        ];
        let (stdout, stderr, code) = clean_run(format, &args);
        assert_eq!(code, 0, "{format}: {stderr}");
        assert!(
            stdout.contains("SSH-2.0-x"),
            "{format}: the banner is shown: {stdout}"
        );
    }
    server.join().unwrap();
}
