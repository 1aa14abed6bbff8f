//! The TLS lab of the `probe --tls` tests: certificates made here with rcgen (a root, an intermediate, leaves
//! valid, expired, not yet valid, self-signed), and small servers on a thread (rustls, plain HTTP, silent,
//! scripted bytes, STARTTLS dialogues), each bounded in time and stopped on drop.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::support::netns::{Netns, enter_current_thread};

/// A server never lives longer than this, whatever the test does.
const LIFETIME: Duration = Duration::from_secs(60);
/// Connections one server handles at most.
const MAX_CONNS: usize = 64;

/// A leaf certificate and its key, with the chain the server sends.
pub struct Leaf {
    /// What the server sends, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf's key.
    pub key: PrivateKeyDer<'static>,
}

/// A test CA: a root and an intermediate; the root's PEM in a file for `--ca`.
pub struct Pki {
    // The root signs the intermediate; kept so the pair is one value.
    _root: CertifiedIssuer<'static, KeyPair>,
    inter: CertifiedIssuer<'static, KeyPair>,
    dir: PathBuf,
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p
}

/// A calendar date (year, month, day).
pub type Date = (i32, u8, u8);

/// The date `days` from now.
pub fn days_from_now(days: i64) -> Date {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let text = sockdiag::tls::cert::rfc3339(now + days * 86_400);
    let (y, m, d) = (&text[0..4], &text[5..7], &text[8..10]);
    (y.parse().unwrap(), m.parse().unwrap(), d.parse().unwrap())
}

impl Pki {
    /// A new root and intermediate; `tag` names the temporary directory.
    pub fn new(tag: &str) -> Pki {
        Self::with_root(tag, "Lab Root")
    }

    /// As `new`, with the root named `root_cn`.
    pub fn with_root(tag: &str, root_cn: &str) -> Pki {
        let root = CertifiedIssuer::self_signed(ca_params(root_cn), KeyPair::generate().unwrap()).unwrap();
        let inter =
            CertifiedIssuer::signed_by(ca_params("Lab Intermediate"), KeyPair::generate().unwrap(), &root)
                .unwrap();
        let dir = std::env::temp_dir().join(format!("sdg-tls-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("root.pem"), root.pem()).unwrap();
        Pki {
            _root: root,
            inter,
            dir,
        }
    }

    /// The root's PEM file, for `--ca`.
    pub fn ca_file(&self) -> String {
        self.dir.join("root.pem").display().to_string()
    }

    /// A file of this directory with these contents.
    pub fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    /// A leaf for `names` signed by the intermediate, valid between the two dates; the chain has both.
    pub fn leaf(&self, names: &[&str], from: Date, until: Date) -> Leaf {
        let mut p = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        p.distinguished_name.push(DnType::CommonName, names[0]);
        p.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
        p.not_after = rcgen::date_time_ymd(until.0, until.1, until.2);
        let key = KeyPair::generate().unwrap();
        let cert = p.signed_by(&key, &self.inter).unwrap();
        Leaf {
            chain: vec![cert.der().clone(), self.inter.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }

    /// A leaf valid from a year ago to `until`.
    pub fn good_leaf(&self, names: &[&str], until: Date) -> Leaf {
        self.leaf(names, days_from_now(-365), until)
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A self-signed leaf (not a CA) for `names`.
pub fn self_signed(names: &[&str]) -> Leaf {
    self_signed_cn(names[0], names)
}

/// A self-signed leaf for `names` whose subject's common name is `cn` (any text, hostile included).
pub fn self_signed_cn(cn: &str, names: &[&str]) -> Leaf {
    let mut p = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    let key = KeyPair::generate().unwrap();
    let cert = p.self_signed(&key).unwrap();
    Leaf {
        chain: vec![cert.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    }
}

/// A rustls server configuration: this leaf, these versions (TLS 1.3 and 1.2 when empty), these ALPN ids.
pub fn server_config(
    leaf: Leaf,
    versions: &[&'static rustls::SupportedProtocolVersion],
    alpn: &[&str],
) -> Arc<ServerConfig> {
    let versions = if versions.is_empty() {
        rustls::ALL_VERSIONS
    } else {
        versions
    };
    let mut config = ServerConfig::builder_with_provider(sockdiag::tls::provider())
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(leaf.chain, leaf.key)
        .unwrap();
    config.alpn_protocols = alpn.iter().map(|a| a.as_bytes().to_vec()).collect();
    Arc::new(config)
}

/// What a server does with each connection.
#[derive(Clone)]
pub enum Mode {
    /// TLS, then an HTTP/1.1 301 answer to a request, if one comes.
    Tls(Arc<ServerConfig>),
    /// Plain HTTP: answers whatever comes with `HTTP/1.1 200 OK`.
    PlainHttp,
    /// Accepts and says nothing until the client goes.
    Silent,
    /// Reads the ClientHello, writes these bytes, closes.
    Bytes(Vec<u8>),
    /// A STARTTLS dialogue (greeting, then (expected command prefix, answer) pairs), then TLS as `Tls`.
    Starttls(&'static str, Vec<(&'static str, &'static str)>, Arc<ServerConfig>),
    /// PostgreSQL's SSLRequest answered 'S', then TLS.
    Postgres(Arc<ServerConfig>),
}

/// A server on a thread; stopped (and its thread joined) on drop.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Listens on 127.0.0.1 (a free port).
    pub fn start(mode: Mode) -> Server {
        Self::spawn(None, "127.0.0.1:0", mode)
    }

    /// Listens inside a lab namespace on `bind` (the timing binary's delayed path).
    #[allow(dead_code)] // only the probe_tls_timing binary uses it
    pub fn start_in(ns: &Netns, bind: &str, mode: Mode) -> Server {
        Self::spawn(Some(ns.name().to_string()), bind, mode)
    }

    fn spawn(ns: Option<String>, bind: &str, mode: Mode) -> Server {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = std::sync::mpsc::channel();
        let (flag, bind) = (Arc::clone(&stop), bind.to_string());
        let thread = std::thread::spawn(move || {
            if let Some(ns) = ns {
                enter_current_thread(&ns);
            }
            let listener = TcpListener::bind(&bind).expect("bind the lab TLS server");
            listener.set_nonblocking(true).unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            accept_loop(&listener, &mode, &flag);
        });
        let addr = rx.recv_timeout(Duration::from_secs(10)).expect("server address");
        Server {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, mode: &Mode, stop: &Arc<AtomicBool>) {
    let born = Instant::now();
    let mut handlers = Vec::new();
    while !stop.load(Ordering::SeqCst) && born.elapsed() < LIFETIME && handlers.len() < MAX_CONNS {
        match listener.accept() {
            Ok((stream, _)) => {
                let (mode, stop) = (mode.clone(), Arc::clone(stop));
                handlers.push(std::thread::spawn(move || {
                    stream.set_nonblocking(false).unwrap();
                    // Answers go out at once, not after the client's last segment is acknowledged.
                    stream.set_nodelay(true).unwrap();
                    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                    serve(stream, &mode, &stop);
                }));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
    stop.store(true, Ordering::SeqCst);
    for h in handlers {
        let _ = h.join();
    }
}

fn serve(mut stream: TcpStream, mode: &Mode, stop: &AtomicBool) {
    match mode {
        Mode::Tls(config) => serve_tls(stream, config),
        Mode::PlainHttp => {
            let mut buf = [0u8; 2048];
            if stream.read(&mut buf).unwrap_or(0) > 0 {
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nServer: lab-plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
                );
            }
        }
        Mode::Silent => {
            let born = Instant::now();
            while !stop.load(Ordering::SeqCst) && born.elapsed() < LIFETIME {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        Mode::Bytes(bytes) => {
            let mut buf = [0u8; 2048];
            if stream.read(&mut buf).unwrap_or(0) > 0 {
                let _ = stream.write_all(bytes);
            }
        }
        Mode::Starttls(greeting, steps, config) => {
            let _ = stream.write_all(greeting.as_bytes());
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            for (expect, answer) in steps {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || !line.starts_with(expect) {
                    return;
                }
                let _ = stream.write_all(answer.as_bytes());
            }
            serve_tls(stream, config);
        }
        Mode::Postgres(config) => {
            let mut req = [0u8; 8];
            if stream.read_exact(&mut req).is_ok() && req == [0, 0, 0, 8, 4, 210, 22, 47] {
                let _ = stream.write_all(b"S");
                serve_tls(stream, config);
            }
        }
    }
}

/// TLS, then a 301 to the first request, if one comes.
fn serve_tls(stream: TcpStream, config: &Arc<ServerConfig>) {
    let Ok(conn) = rustls::ServerConnection::new(Arc::clone(config)) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(conn, stream);
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match tls.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let answer = b"HTTP/1.1 301 Moved Permanently\r\nServer: lab-tls\r\nLocation: https://lab.test/new\r\n\
                   Content-Length: 0\r\nConnection: close\r\n\r\n";
    let _ = tls.write_all(answer);
    tls.conn.send_close_notify();
    let _ = tls.flush();
}
