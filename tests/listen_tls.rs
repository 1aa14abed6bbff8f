//! `sockdiag listen --tls` (issue 18): echo with `openssl s_client` (and the printed fingerprint is the one it
//! sees), curl trusting --cert by --cacert and pinning the made certificate's key by --pinnedpubkey, a TLS 1.0
//! client and plain HTTP logged as such, a client rejecting the certificate named with its alert, and the
//! never-stall and memory properties over TLS.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;

use crate::listen::{Listener, PATIENCE, connect, data, num, rss_kib, rss_settled_kib, start_text};

/// A certificate for 127.0.0.1 made by the test (not by the listener), written as PEM, removed on drop.
struct Pem {
    dir: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    der: CertificateDer<'static>,
}

impl Pem {
    fn new(tag: &str) -> Pem {
        let dir = std::env::temp_dir().join(format!("sockdiag-tls-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let made =
            rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".into()]).unwrap();
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert, made.cert.pem()).unwrap();
        std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
        Pem {
            dir,
            cert,
            key,
            der: made.cert.der().clone(),
        }
    }

    fn args(&self) -> Vec<String> {
        vec![
            "--cert".into(),
            self.cert.display().to_string(),
            "--key".into(),
            self.key.display().to_string(),
        ]
    }
}

impl Drop for Pem {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A TLS client over `stream` trusting only `cert`.
fn tls(
    stream: TcpStream,
    cert: &CertificateDer<'static>,
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    rustls::StreamOwned::new(conn, stream)
}

/// Sends `payload` over TLS, half-closes with close_notify, and reads the echo to the end.
fn tls_exchange(addr: SocketAddr, cert: &CertificateDer<'static>, payload: &[u8]) -> Vec<u8> {
    let mut s = tls(connect(addr), cert);
    // Written in pieces the listener echoes as they come; the socket buffers hold what is not read yet.
    for chunk in payload.chunks(16 * 1024) {
        s.write_all(chunk).unwrap();
        s.flush().unwrap();
    }
    s.conn.send_close_notify();
    s.flush().unwrap();
    let mut got = Vec::new();
    match s.read_to_end(&mut got) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
        Err(e) => panic!("reading the echo: {e} after {} bytes", got.len()),
    }
    got
}

fn tls_events(events: &[Value]) -> Vec<&Value> {
    events.iter().filter(|e| e["event"] == "tls").collect()
}

#[test]
fn openssl_s_client_gets_its_echo_and_sees_the_printed_fingerprint() {
    let l = Listener::start(&["--tcp", "-b", "127.0.0.1", "--tls"]);
    let port = l.port.to_string();
    let target = format!("127.0.0.1:{port}");
    let mut client = Command::new("openssl")
        .args(["s_client", "-connect", &target, "-servername", "localhost"])
        .args(["-alpn", "h2,http/1.1", "-quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl runs");
    let mut stdin = client.stdin.take().unwrap();
    stdin.write_all(b"hello over tls\n").unwrap();
    stdin.flush().unwrap();
    let mut line = String::new();
    BufReader::new(client.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "hello over tls\n");
    drop(stdin);
    let _ = client.kill();
    let _ = client.wait();
    // The certificate as openssl receives it has the SHA-256 the listener printed.
    let shown = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "openssl s_client -connect {target} </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256"
        ))
        .output()
        .unwrap();
    let fingerprint = String::from_utf8_lossy(&shown.stdout).trim().to_string();
    let f = l.stop();
    f.assert_ok();
    let listening = f.events("listening")[0];
    let printed = listening["tls_certificate_sha256"].as_str().unwrap();
    assert_eq!(fingerprint.rsplit('=').next().unwrap(), printed, "{fingerprint}");
    assert_eq!(f.summary["settings"]["tls_certificate_sha256"], printed);
    let hs = tls_events(&f.events);
    let first = hs[0];
    assert_eq!(first["server_name"], "localhost");
    assert_eq!(first["alpn_offered"], serde_json::json!(["h2", "http/1.1"]));
    assert_eq!(first["version"], "TLS 1.3");
    assert!(first["failure"].is_null(), "{first}");
    let s = &f.sessions()[0];
    assert_eq!(
        (num(&s["received_bytes"]), num(&s["sent_bytes"])),
        (15, 15),
        "plaintext is counted"
    );
}

#[test]
fn curl_trusts_the_given_certificate_and_pins_the_made_one() {
    let pem = Pem::new("curl");
    let mut args: Vec<String> = ["--tcp", "-b", "127.0.0.1", "--mode", "http"]
        .map(String::from)
        .to_vec();
    args.extend(pem.args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let l = Listener::start(&args);
    let url = format!("https://127.0.0.1:{}/over-tls", l.port);
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--cacert"])
        .arg(&pem.cert)
        .arg(&url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("GET /over-tls HTTP/1.1\n"));
    l.stop().assert_ok();

    // A made certificate: pinned by the public key hash the listener printed (curl checks the pin even with
    // --insecure, which only skips the chain).
    let mut l = Listener::start(&["--tcp", "-b", "127.0.0.1", "--mode", "http", "--tls"]);
    let pin = format!(
        "sha256//{}",
        l.listening()["tls_public_key_sha256"].as_str().unwrap()
    );
    let url = format!("https://127.0.0.1:{}/pinned", l.port);
    let curl = |pin: &str| {
        Command::new("curl")
            .args([
                "-sS",
                "--max-time",
                "10",
                "--insecure",
                "--pinnedpubkey",
                pin,
                &url,
            ])
            .output()
            .unwrap()
    };
    let ok = curl(&pin);
    assert!(ok.status.success(), "the printed pin is the key's: {ok:?}");
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("GET /pinned HTTP/1.1\n"));
    l.wait_for("close");
    let wrong = curl("sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    assert!(!wrong.status.success(), "another pin is refused: {wrong:?}");
    let f = l.stop();
    f.assert_ok();
    assert_eq!(
        f.summary["settings"]["tls_public_key_sha256"],
        f.events("listening")[0]["tls_public_key_sha256"]
    );
}

#[test]
fn tls_1_0_plain_http_and_a_rejected_certificate_are_named() {
    let mut l = Listener::start(&["--tcp", "-b", "127.0.0.1", "--tls"]);
    let target = format!("127.0.0.1:{}", l.port);
    let old = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &target,
            "-tls1",
            "-cipher",
            "DEFAULT@SECLEVEL=0",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!old.status.success(), "a TLS 1.0 client is not served");
    let ev = l.wait_for("tls");
    assert_eq!(ev["versions_offered"], serde_json::json!(["TLS 1.0"]), "{ev}");
    let why = ev["failure"].as_str().unwrap();
    assert!(why.contains("the client offered only TLS 1.0"), "{why}");

    let plain = Command::new("curl")
        .args(["-sS", "--max-time", "10", &format!("http://{target}/")])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&plain.stdout).contains("This port speaks TLS"),
        "{plain:?}"
    );
    let ev = l.wait_for("tls");
    assert!(
        ev["failure"]
            .as_str()
            .unwrap()
            .starts_with("plain HTTP spoken to a TLS port"),
        "{ev}"
    );

    let strict = Command::new("curl")
        .args(["-sS", "--max-time", "10", &format!("https://{target}/")])
        .output()
        .unwrap();
    assert!(!strict.status.success(), "curl does not trust a made certificate");
    let ev = l.wait_for("tls");
    assert!(
        ev["failure"]
            .as_str()
            .unwrap()
            .starts_with("the client rejected our certificate (alert "),
        "{ev}"
    );
    let f = l.stop();
    f.assert_ok();
    let ends: Vec<&Value> = f.sessions().iter().map(|s| &s["end"]["kind"]).collect();
    assert!(ends.iter().all(|k| *k == "tls_failed"), "{ends:?}");
}

#[test]
fn over_tls_a_stderr_nobody_reads_does_not_stall_clients_or_ctrl_c() {
    const THREADS: u32 = 20;
    const EACH: u32 = 50;
    let pem = Pem::new("stall");
    let mut args: Vec<String> = ["listen", "0", "--tcp", "-b", "127.0.0.1"]
        .map(String::from)
        .to_vec();
    args.extend(pem.args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (child, stderr, port) = start_text(&args);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let der = pem.der.clone();
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let der = der.clone();
            thread::spawn(move || {
                (0..EACH)
                    .filter(|i| {
                        let payload = data(100, u64::from(t * EACH + i));
                        tls_exchange(addr, &der, &payload) == payload
                    })
                    .count()
            })
        })
        .collect();
    let served: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(served, (THREADS * EACH) as usize, "every TLS client was echoed");
    child.signal(libc::SIGINT);
    let done = child.wait(PATIENCE);
    drop(stderr);
    assert_eq!(done.status.code(), Some(0), "{done}");
    let out = done.stdout();
    let closing = out.lines().last().unwrap_or_default();
    assert!(
        closing.starts_with("# echo mode, 1000 client sessions in ")
            && closing.ends_with("; ended by SIGINT"),
        "{out}"
    );
    assert!(closing.contains("log lines dropped"), "{closing}");
}

#[test]
fn over_tls_a_flood_gives_its_memory_back() {
    const CLIENTS: u64 = 50;
    const EACH: usize = 2 << 20;
    let pem = Pem::new("flood");
    let mut args: Vec<String> = ["--tcp", "--quiet", "-b", "127.0.0.1"].map(String::from).to_vec();
    args.extend(pem.args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let l = Listener::start(&args);
    let addr = l.addr("127.0.0.1");
    assert_eq!(tls_exchange(addr, &pem.der, &data(1 << 20, 1)).len(), 1 << 20);
    // The idle figure: every client connected and through its handshake, nothing moving.
    let mut streams: Vec<_> = (0..CLIENTS).map(|_| tls(connect(addr), &pem.der)).collect();
    for s in &mut streams {
        while s.conn.is_handshaking() {
            s.conn.complete_io(&mut s.sock).unwrap();
        }
    }
    thread::sleep(Duration::from_millis(300));
    let idle = rss_kib(l.child.id());
    let clients: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(i, mut s)| {
            thread::spawn(move || {
                let payload = data(EACH, i as u64 + 2);
                let mut got = vec![0u8; EACH];
                // Written in pieces, each read back before the next: the listener's buffers fill and drain.
                for (chunk, back) in payload.chunks(256 * 1024).zip(got.chunks_mut(256 * 1024)) {
                    s.write_all(chunk).unwrap();
                    s.flush().unwrap();
                    s.read_exact(back).unwrap();
                }
                (s, got == payload)
            })
        })
        .collect();
    let results: Vec<_> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    assert!(results.iter().all(|(_, exact)| *exact), "every echo was exact");
    let after = rss_settled_kib(l.child.id(), idle);
    drop(results);
    let done = l.stop();
    assert_eq!(
        num(&done.summary["totals"]["received_bytes"]),
        CLIENTS * EACH as u64 + (1 << 20)
    );
    eprintln!(
        "TLS: RSS idle {idle} KiB, after {} MiB echoed {after} KiB",
        (CLIENTS * EACH as u64) >> 20
    );
    assert!(
        after * 10 <= idle * 11,
        "RSS {after} KiB after the flood, {idle} KiB idle"
    );
}
