//! Every `sockdiag listen` example of `--help` (cli::examples::LISTEN) and of the README's listen section runs
//! here on loopback, with a client that does what the example is for, and its output is checked against what the
//! example says.
//!
//! One substitution, so that no fixed port can be taken: the example's PORT becomes 0 (the system picks a free
//! one, which the listener prints first), and a `unix:PATH` becomes a path of this run in the temporary
//! directory. Everything else runs as written.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::sync::mpsc::{self, Receiver};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use serde_json::Value;
use sockdiag::cli::examples::LISTEN;

use crate::support::binary::Running;
use crate::support::{Run, schema, sockdiag};

/// Longest wait for anything the listener should do promptly.
const PATIENCE: Duration = Duration::from_secs(15);

/// The words of a command line as a POSIX shell splits them (the examples use single quotes only).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                word.get_or_insert_with(String::new);
            }
            c if c.is_whitespace() && !quoted => words.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    assert!(!quoted, "unbalanced quote in {line}");
    words.extend(word);
    words
}

/// The arguments of an example (without `sockdiag`), its PORT replaced by 0.
fn arguments(command: &str) -> Vec<String> {
    let mut words = shell_words(command);
    assert_eq!(words.remove(0), "sockdiag", "{command}");
    let at = words
        .iter()
        .position(|w| w == "listen")
        .expect("a listen example")
        + 1;
    if words[at].starts_with("unix:") {
        words[at] = format!("unix:{}", example_socket().display());
        return words;
    }
    assert!(
        words[at].parse::<u16>().is_ok(),
        "PORT right after listen: {command}"
    );
    words[at] = "0".into();
    words
}

/// Where the `unix:PATH` example listens in this run.
fn example_socket() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("sockdiag-example-{}.sock", std::process::id()))
}

/// An example running: its log (stderr, or stdout for NDJSON) read on a thread, the port it chose.
struct Started {
    running: Running,
    json: bool,
    port: u16,
    lines: Receiver<String>,
    log: JoinHandle<Vec<String>>,
}

/// Starts an example and waits for its first listening line.
fn start(command: &str) -> Started {
    let args = arguments(command);
    let json = args.iter().any(|a| a == "--json");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut running = sockdiag(&args).spawn();
    let child = running.child();
    let pipe: Box<dyn Read + Send> = if json {
        Box::new(child.stdout.take().unwrap())
    } else {
        Box::new(child.stderr.take().unwrap())
    };
    let (tx, lines) = mpsc::channel();
    let log = thread::spawn(move || {
        let mut all = Vec::new();
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            all.push(line);
        }
        all
    });
    let first = lines.recv_timeout(PATIENCE).expect("a listening line first");
    let local = if json {
        let event: Value = serde_json::from_str(&first).unwrap();
        assert_eq!(event["event"], "listening", "{first}");
        event["local"].as_str().unwrap().to_string()
    } else {
        let rest = first
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("{first}"));
        rest.split_whitespace().nth(1).unwrap().to_string()
    };
    let port = if local.starts_with("unix:") {
        0
    } else {
        let port = local.parse::<SocketAddr>().unwrap().port();
        assert_ne!(port, 0, "the chosen port is shown: {first}");
        port
    };
    Started {
        running,
        json,
        port,
        lines,
        log,
    }
}

impl Started {
    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Waits until the log has a line containing `text` (an event the next step depends on).
    fn wait_for(&self, text: &str) {
        loop {
            let line = self
                .lines
                .recv_timeout(PATIENCE)
                .unwrap_or_else(|_| panic!("no log line with {text:?}"));
            if line.contains(text) {
                return;
            }
        }
    }

    /// Ends the run with SIGINT (as Ctrl-C does), unless it ends by itself.
    fn interrupt(self) -> Finished {
        self.running.signal(libc::SIGINT);
        self.finish()
    }

    /// Waits for the run to end and collects the log and the run.
    fn finish(self) -> Finished {
        let run = self.running.wait(PATIENCE);
        assert_eq!(run.status.code(), Some(0), "{run}");
        let log = self.log.join().unwrap();
        Finished {
            run,
            log,
            json: self.json,
        }
    }
}

/// A finished example: its run (stdout holds the summary unless NDJSON) and its log lines.
struct Finished {
    run: Run,
    log: Vec<String>,
    json: bool,
}

impl Finished {
    /// The summary on stdout (text or CSV), or the NDJSON summary line as text.
    fn summary(&self) -> String {
        if self.json {
            self.log.last().cloned().unwrap_or_default()
        } else {
            self.run.stdout()
        }
    }

    /// The closing `#` line of a text summary.
    fn closing(&self) -> String {
        let out = self.summary();
        out.lines().last().unwrap_or_default().to_string()
    }
}

fn echo_tcp(addr: SocketAddr, payload: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect_timeout(&addr, PATIENCE).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.write_all(payload).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    got
}

fn echo_udp(addr: SocketAddr, payload: &[u8]) -> Vec<u8> {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.connect(addr).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.send(payload).unwrap();
    let mut buf = [0u8; 2048];
    let n = s.recv(&mut buf).unwrap();
    buf[..n].to_vec()
}

/// Runs one example with the client its purpose needs, and checks what it says.
fn check(command: &str) {
    let l = start(command);
    let addr = l.addr();
    match command {
        "sockdiag listen 3490" => {
            assert_eq!(echo_tcp(addr, b"hello"), b"hello");
            assert_eq!(echo_udp(addr, b"ping"), b"ping");
            l.wait_for("close: peer closed");
            let done = l.interrupt();
            let out = done.summary();
            assert!(
                out.lines()
                    .any(|r| r.starts_with("tcp ") && r.ends_with("peer closed")),
                "{out}"
            );
            assert!(out.lines().any(|r| r.starts_with("udp ")), "{out}");
            let closing = done.closing();
            assert!(closing.starts_with("# echo mode, 2 client sessions in "), "{out}");
            assert!(closing.ends_with("; ended by SIGINT"), "{out}");
            assert!(
                done.log.iter().any(|e| e.ends_with(" new peer")),
                "{:?}",
                done.log
            );
        }
        "sockdiag listen 0 --tcp" => {
            assert_eq!(echo_tcp(addr, b"x"), b"x");
            let done = l.interrupt();
            let listening: Vec<&String> = done.log.iter().filter(|e| e.starts_with("listening")).collect();
            assert!(
                listening.iter().all(|e| e.starts_with("listening tcp ")),
                "{listening:?}"
            );
            let out = done.summary();
            assert!(!out.lines().any(|r| r.starts_with("udp ")), "TCP only: {out}");
        }
        "sockdiag listen 8080 --reply 'Hello, world!' --once" => {
            let mut s = TcpStream::connect_timeout(&addr, PATIENCE).unwrap();
            s.set_read_timeout(Some(PATIENCE)).unwrap();
            let mut got = String::new();
            s.read_to_string(&mut got).unwrap();
            assert_eq!(got, "Hello, world!");
            drop(s);
            // No signal: --once ends it.
            let done = l.finish();
            let closing = done.closing();
            assert!(
                closing.starts_with("# reply mode, 1 client session in "),
                "{closing}"
            );
            assert!(
                closing.ends_with("; ended after the first TCP client (--once)"),
                "{closing}"
            );
        }
        "sockdiag listen 9000 --mode sink -b 127.0.0.1" => {
            assert!(
                echo_tcp(addr, &vec![7u8; 1 << 20]).is_empty(),
                "sink sends nothing"
            );
            l.wait_for("close: peer closed; in 1048576 B, out 0 B");
            let done = l.interrupt();
            assert!(
                done.log[0].starts_with("listening tcp 127.0.0.1:"),
                "{:?}",
                done.log
            );
            let out = done.summary();
            assert!(out.contains("RATE IN"), "{out}");
            let row = out
                .lines()
                .find(|r| r.starts_with("tcp  "))
                .unwrap_or_else(|| panic!("{out}"));
            assert!(row.contains("1048576") && row.ends_with("B/s"), "{row}");
            assert!(
                done.closing().starts_with("# sink mode, 1 client session in "),
                "{out}"
            );
        }
        "sockdiag listen 5300 --udp --deadline 2 --quiet" => {
            assert_eq!(echo_udp(addr, b"ping"), b"ping");
            // No signal: the deadline ends it, about 2 s after the start.
            let done = l.finish();
            assert!(
                done.log.iter().all(|e| e.starts_with("listening udp ")),
                "--quiet: {:?}",
                done.log
            );
            let closing = done.closing();
            assert!(
                closing.starts_with("# echo mode, 1 client session in 2."),
                "{closing}"
            );
            assert!(closing.ends_with("; ended at the --deadline"), "{closing}");
        }
        "sockdiag --json listen 5300 --udp" => {
            assert_eq!(echo_udp(addr, b"ping"), b"ping");
            l.wait_for("\"new_peer\"");
            let done = l.interrupt();
            let lines: Vec<Value> = done
                .log
                .iter()
                .map(|e| serde_json::from_str(e).unwrap())
                .collect();
            let (summary, events) = lines.split_last().unwrap();
            for event in events {
                schema::assert_valid("listen-event", event);
            }
            schema::assert_valid("listen", summary);
            assert!(events.iter().any(|e| e["event"] == "new_peer"), "{events:?}");
            let close = events
                .iter()
                .find(|e| e["event"] == "close")
                .expect("the peer's close");
            assert_eq!(close["end"]["kind"], "listener_stopped");
            assert_eq!(close["received_bytes"], 4, "{close}");
            assert_eq!(close["sent_bytes"], 4, "{close}");
            assert_eq!(summary["event"], "summary");
            assert_eq!(summary["settings"]["protocols"], serde_json::json!(["udp"]));
            assert_eq!(summary["ended_by"], "sigint");
        }
        "sockdiag --format csv listen 9000 --tcp --clients 2" => {
            assert_eq!(echo_tcp(addr, b"one"), b"one");
            assert_eq!(echo_tcp(addr, b"two!"), b"two!");
            let done = l.finish();
            let out = done.summary();
            let mut reader = csv::Reader::from_reader(out.as_bytes());
            assert_eq!(&reader.headers().unwrap()[1], "protocol", "{out}");
            let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
            assert_eq!(records.len(), 2, "{out}");
            assert_eq!(
                (&records[0][6], &records[1][6]),
                ("3", "4"),
                "received_bytes: {out}"
            );
        }
        "sockdiag listen 3491 --tcp --show --once" => {
            assert_eq!(
                echo_tcp(addr, b"GET / HTTP/1.0\r\n\x1b[2J\r\n"),
                b"GET / HTTP/1.0\r\n\x1b[2J\r\n"
            );
            let done = l.finish();
            let shown: Vec<&String> = done.log.iter().filter(|l| l.contains(" < ")).collect();
            assert!(shown[0].ends_with(" < GET / HTTP/1.0\\r\\n"), "{shown:?}");
            assert!(shown[1].ends_with(" < \\x1b[2J\\r\\n"), "{shown:?}");
        }
        "sockdiag listen unix:/tmp/x.sock --show" => {
            let path = example_socket();
            let mut c = std::os::unix::net::UnixStream::connect(&path).unwrap();
            c.set_read_timeout(Some(PATIENCE)).unwrap();
            c.write_all(b"hi\x1b[2J\n").unwrap();
            c.shutdown(Shutdown::Write).unwrap();
            let mut got = Vec::new();
            c.read_to_end(&mut got).unwrap();
            assert_eq!(got, b"hi\x1b[2J\n");
            l.wait_for("close");
            let done = l.interrupt();
            let me = format!("pid={},", std::process::id());
            let shown: Vec<&String> = done.log.iter().filter(|l| l.contains(" < ")).collect();
            assert!(
                shown[0].starts_with(&me) && shown[0].ends_with(" < hi\\x1b[2J\\n"),
                "{shown:?}"
            );
            assert!(!path.exists(), "the socket file is removed at the end");
        }
        "sockdiag listen 8443 --tls --mode http" => {
            let out = std::process::Command::new("curl")
                .args(["-sS", "--max-time", "10", "--insecure"])
                .arg(format!("https://127.0.0.1:{}/x", l.port))
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
            assert!(
                String::from_utf8_lossy(&out.stdout).starts_with("GET /x HTTP/1.1\n"),
                "{out:?}"
            );
            l.wait_for("request: GET /x HTTP/1.1 -> 200");
            let done = l.interrupt();
            let listening = &done.log[0];
            assert!(
                listening.contains(", TLS: certificate sha256 ")
                    && listening.contains(", public key sha256//"),
                "{listening}"
            );
            assert!(
                done.log.iter().any(|l| l.contains(" tls: TLS 1.3 ")),
                "{:?}",
                done.log
            );
        }
        other => panic!("no check for the example `{other}`: add one here"),
    }
}

#[test]
fn every_help_example_runs_and_does_what_it_says() {
    // Side by side: each waits on its own listener and clients.
    let runs: Vec<_> = LISTEN
        .iter()
        .map(|e| (e.command, thread::spawn(move || check(e.command))))
        .collect();
    let failed: Vec<&str> = runs
        .into_iter()
        .filter_map(|(command, run)| run.join().is_err().then_some(command))
        .collect();
    assert!(failed.is_empty(), "examples that failed (see above): {failed:?}");
}

#[test]
fn the_readme_lists_the_help_examples() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("### listen")
        .nth(1)
        .and_then(|s| s.split("```sh\n").nth(1))
        .and_then(|s| s.split("```").next())
        .expect("a sh block in the README's listen section");
    let commands: Vec<&str> = section
        .lines()
        .map(|l| l.split("  #").next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .collect();
    let help: Vec<&str> = LISTEN.iter().map(|e| e.command).collect();
    assert_eq!(commands, help, "README and --help show the same listen examples");
}

#[test]
fn help_shows_every_example_and_each_flags_default() {
    let out = sockdiag(&["listen", "--help"]).exits(0).stdout();
    for e in LISTEN {
        assert!(
            out.contains(e.command),
            "{} missing from --help:\n{out}",
            e.command
        );
    }
    let lines: Vec<&str> = out.lines().collect();
    // An option's help runs from its line to the next option's (options start at column 2 or 6).
    let is_option = |l: &str| l.starts_with("  -") || l.starts_with("      -");
    for flag in [
        "--bind",
        "--tcp",
        "--udp",
        "--mode",
        "--reply",
        "--reply-file",
        "--once",
        "--clients",
        "--deadline",
        "--max-conns",
        "--idle-timeout",
        "--max-buffer",
        "--max-udp-peers",
        "--udp-rate",
    ] {
        let at = lines
            .iter()
            .position(|l| {
                let names = l.trim_start();
                let long = names.split_once(", ").map_or(names, |(_, long)| long);
                is_option(l) && (long == flag || long.starts_with(&format!("{flag} ")))
            })
            .unwrap_or_else(|| panic!("{flag} not in --help:\n{out}"));
        let rest = lines[at + 1..].iter().take_while(|l| !is_option(l));
        let help: Vec<&str> = std::iter::once(lines[at]).chain(rest.copied()).collect();
        let help = help.join("\n");
        assert!(help.contains("default"), "{flag} states no default:\n{help}");
    }
}

#[test]
fn shell_words_split_as_sh_does() {
    assert_eq!(
        shell_words("sockdiag listen 8080 --reply 'Hello, world!' --once"),
        ["sockdiag", "listen", "8080", "--reply", "Hello, world!", "--once"]
    );
    assert_eq!(
        arguments("sockdiag --json listen 5300 --udp"),
        ["--json", "listen", "0", "--udp"]
    );
}
