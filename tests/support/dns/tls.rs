//! Encrypted DNS for the lab: a test CA and server certificates made with rcgen (valid, expired, for another
//! name), written where NSD and the DoH front read them, and `DohFront`, a small DNS-over-HTTPS server
//! (tokio-rustls, HTTP/2) that passes each query to the lab's NSD over UDP and its answer back.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A test CA and one server certificate it signed, as PEM files in a directory removed on drop.
#[derive(Debug)]
pub struct Pki {
    dir: PathBuf,
}

/// What the server certificate says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// Valid from last year to two years on.
    Current,
    /// Ended in 2020.
    Expired,
}

impl Pki {
    /// Makes a CA and a server certificate for `names` (host names or IP addresses).
    pub fn new(names: &[&str], validity: Validity) -> Pki {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("sdg-pki-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create the PKI directory");
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, "sockdiag lab CA");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca, ca_key);
        let key = KeyPair::generate().expect("server key");
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let mut server = CertificateParams::new(names.clone()).expect("server params");
        server
            .distinguished_name
            .push(DnType::CommonName, names[0].clone());
        match validity {
            Validity::Current => {
                let year = this_year();
                server.not_before = rcgen::date_time_ymd(year - 1, 1, 1);
                server.not_after = rcgen::date_time_ymd(year + 2, 1, 1);
            }
            Validity::Expired => {
                server.not_before = rcgen::date_time_ymd(2019, 1, 1);
                server.not_after = rcgen::date_time_ymd(2020, 1, 1);
            }
        }
        let cert = server.signed_by(&key, &issuer).expect("server certificate");
        fs::write(dir.join("ca.pem"), ca_cert.pem()).expect("write ca.pem");
        fs::write(dir.join("server.pem"), cert.pem()).expect("write server.pem");
        fs::write(dir.join("server.key"), key.serialize_pem()).expect("write server.key");
        Pki { dir }
    }

    /// The CA certificate (for `--ca`).
    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// The server certificate.
    pub fn cert(&self) -> PathBuf {
        self.dir.join("server.pem")
    }

    /// The server's private key.
    pub fn key(&self) -> PathBuf {
        self.dir.join("server.key")
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The current year, near enough for a validity that spans it by a year each side.
fn this_year() -> i32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    1970 + i32::try_from(secs / 31_556_952).expect("a plausible year")
}

/// A DNS-over-HTTPS server on a loopback port: POST (and GET `?dns=`) at any path, answered by `upstream`.
pub struct DohFront {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DohFront {
    /// Starts the front with the PKI's server certificate, forwarding to `upstream` (UDP).
    pub fn start(pki: &Pki, upstream: SocketAddr) -> DohFront {
        let config = Arc::new(server_config(&pki.cert(), &pki.key(), vec![b"h2".to_vec()]));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the DoH front");
        listener.set_nonblocking(true).expect("nonblocking listener");
        let addr = listener.local_addr().expect("local addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                let acceptor = tokio_rustls::TlsAcceptor::from(config);
                tokio::select! {
                    _ = stopped => {}
                    () = accept_loop(listener, acceptor, upstream) => {}
                }
            });
        });
        DohFront {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for DohFront {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A rustls server configuration from PEM files.
pub fn server_config(cert: &Path, key: &Path, alpn: Vec<Vec<u8>>) -> rustls::ServerConfig {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .expect("read the certificate")
        .collect::<Result<_, _>>()
        .expect("parse the certificate");
    let key = PrivateKeyDer::from_pem_file(key).expect("read the key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server certificate");
    config.alpn_protocols = alpn;
    config
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    upstream: SocketAddr,
) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            // A client that fails the handshake (a refused certificate) just ends its connection.
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let Ok(mut conn) = h2::server::handshake(tls).await else {
                return;
            };
            while let Some(Ok((request, respond))) = conn.accept().await {
                tokio::spawn(answer(request, respond, upstream));
            }
        });
    }
}

/// One DoH request: the DNS message from the body, asked of `upstream`, the answer as the response body.
async fn answer(
    request: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<bytes::Bytes>,
    upstream: SocketAddr,
) {
    let mut body = request.into_body();
    let mut query = Vec::new();
    while let Some(Ok(chunk)) = body.data().await {
        let _ = body.flow_control().release_capacity(chunk.len());
        query.extend_from_slice(&chunk);
        if query.len() > 65_535 {
            break;
        }
    }
    let reply = forward(&query, upstream).await;
    let (status, body) = match reply {
        Some(reply) => (200, reply),
        None => (502, Vec::new()),
    };
    let response = http::Response::builder()
        .status(status)
        .header("content-type", "application/dns-message")
        .header("content-length", body.len())
        .body(())
        .expect("response head");
    if let Ok(mut send) = respond.send_response(response, false) {
        let _ = send.send_data(bytes::Bytes::from(body), true);
    }
}

async fn forward(query: &[u8], upstream: SocketAddr) -> Option<Vec<u8>> {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.ok()?;
    sock.connect(upstream).await.ok()?;
    sock.send(query).await.ok()?;
    let mut buf = vec![0u8; 65_535];
    let n = tokio::time::timeout(Duration::from_secs(2), sock.recv(&mut buf))
        .await
        .ok()?
        .ok()?;
    buf.truncate(n);
    Some(buf)
}

/// A TCP relay on a loopback port to `upstream` that counts the connections made through it, so a test can
/// tell one reused connection from one per query.
pub struct CountingRelay {
    addr: SocketAddr,
    count: Arc<std::sync::atomic::AtomicUsize>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CountingRelay {
    /// Starts relaying to `upstream`.
    pub fn start(upstream: SocketAddr) -> CountingRelay {
        use std::sync::atomic::{AtomicBool, AtomicUsize};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the relay");
        listener.set_nonblocking(true).expect("nonblocking relay");
        let addr = listener.local_addr().expect("local addr");
        let count = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (count.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        c.fetch_add(1, Ordering::Relaxed);
                        relay(client, upstream);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        CountingRelay {
            addr,
            count,
            stop,
            thread: Some(thread),
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }
}

impl Drop for CountingRelay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Copies both ways until either side closes; the threads end with the connection.
fn relay(client: std::net::TcpStream, upstream: SocketAddr) {
    let _ = client.set_nonblocking(false);
    let Ok(server) = std::net::TcpStream::connect_timeout(&upstream, Duration::from_secs(2)) else {
        return;
    };
    let pairs = [
        (client.try_clone(), server.try_clone()),
        (server.try_clone(), client.try_clone()),
    ];
    for pair in pairs {
        if let (Ok(mut from), Ok(mut to)) = pair {
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut from, &mut to);
                let _ = to.shutdown(std::net::Shutdown::Write);
            });
        }
    }
}
