//! `DnsServer`: NSD serving test zones, in a namespace on port 53 or on a loopback port; killed on drop.
//!
//! NSD rather than dnsmasq: dnsmasq's authoritative mode ignores per-record TTLs and does not
//! follow CNAME-to-CNAME chains, both of which resolve tests need.

use std::fs;
use std::net::{IpAddr, SocketAddr, TcpListener, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::tls::Pki;
use super::wire;
use super::zone::{self, Zone};
use crate::support::addr;
use crate::support::netns::Netns;
use crate::support::wait;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// How long a server may take to answer its first query.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// A running authoritative DNS server for the given zones (plus the lab's reverse zones).
#[derive(Debug)]
pub struct DnsServer {
    dir: PathBuf,
    child: Child,
    addrs: Vec<SocketAddr>,
    zones: Vec<Zone>,
    tls_addr: Option<SocketAddr>,
}

/// NSD's DNS-over-TLS service: the certificate and key, and the port.
struct TlsService<'a> {
    pki: &'a Pki,
    addr: SocketAddr,
}

impl DnsServer {
    /// Starts a server inside `ns` on the lab DNS addresses (203.0.113.253, 2001:db8:53::53) port 53,
    /// which the namespace's default resolv.conf names.
    pub fn start_in(ns: &Netns, zones: &[Zone]) -> DnsServer {
        let addrs = [
            SocketAddr::new(IpAddr::V4(addr::LAB_DNS_V4), 53),
            SocketAddr::new(IpAddr::V6(addr::LAB_DNS_V6), 53),
        ];
        ns.ip_batch(&format!(
            "addr replace {}/32 dev lo\naddr replace {}/128 dev lo nodad\n",
            addr::LAB_DNS_V4,
            addr::LAB_DNS_V6
        ));
        Self::start_in_at(ns, zones, &addrs)
    }

    /// Starts a server inside `ns` on the given addresses (which must exist in `ns`).
    pub fn start_in_at(ns: &Netns, zones: &[Zone], addrs: &[SocketAddr]) -> DnsServer {
        Self::start(Some(ns), zones, addrs.to_vec(), None)
            .unwrap_or_else(|e| panic!("lab: DNS server in {}: {e}", ns.name()))
    }

    /// Starts a server in the host namespace on `127.0.0.1:<free port>`, for direct queries.
    /// Needs no root; the port is free-at-probe-time, so a clash is retried a few times.
    pub fn start_loopback(zones: &[Zone]) -> DnsServer {
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_loopback_port();
            let a = SocketAddr::new(IpAddr::from([127, 0, 0, 1]), port);
            match Self::start(None, zones, vec![a], None) {
                Ok(s) => return s,
                Err(e) => last = e,
            }
        }
        panic!("lab: DNS server on loopback: {last}");
    }

    /// Starts a server on loopback answering plain DNS on one free port and DNS over TLS, with the PKI's
    /// certificate, on another ([`DnsServer::tls_addr`]).
    pub fn start_loopback_tls(zones: &[Zone], pki: &Pki) -> DnsServer {
        let mut last = String::new();
        for _ in 0..5 {
            let plain = SocketAddr::new(IpAddr::from([127, 0, 0, 1]), free_loopback_port());
            let tls = SocketAddr::new(IpAddr::from([127, 0, 0, 1]), free_loopback_port());
            match Self::start(None, zones, vec![plain], Some(TlsService { pki, addr: tls })) {
                Ok(s) => return s,
                Err(e) => last = e,
            }
        }
        panic!("lab: DNS-over-TLS server on loopback: {last}");
    }

    /// Where DNS over TLS is served, when it is.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls_addr
    }

    /// The first listening address (use it with `dig @ip -p port` or sockdiag's `--server`).
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// Every listening address.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// The zones served (including the generated reverse zones).
    pub fn zones(&self) -> &[Zone] {
        &self.zones
    }

    /// The process id of the server's main process.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn start(
        ns: Option<&Netns>,
        zones: &[Zone],
        addrs: Vec<SocketAddr>,
        tls: Option<TlsService<'_>>,
    ) -> Result<DnsServer, String> {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("sdg-dns-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        let mut all: Vec<Zone> = zones.to_vec();
        for rz in zone::reverse_zones(zones) {
            if !all.iter().any(|z| z.origin() == rz.origin()) {
                all.push(rz);
            }
        }
        let conf = dir.join("nsd.conf");
        let mut text = nsd_conf(&dir, &addrs, &all);
        if let Some(tls) = &tls {
            text = text.replacen("server:\n", &tls_conf(tls), 1);
        }
        fs::write(&conf, text).map_err(|e| e.to_string())?;
        for (i, z) in all.iter().enumerate() {
            fs::write(dir.join(format!("zone{i}")), z.to_zone_file()).map_err(|e| e.to_string())?;
        }
        let log = fs::File::create(dir.join("stderr.log")).map_err(|e| e.to_string())?;
        let mut c = match ns {
            Some(ns) => ns.command("nsd"),
            None => Command::new("nsd"),
        };
        // Own process group: NSD forks helpers, and drop must reach them all.
        c.args(["-d", "-c"])
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .process_group(0);
        let child = c.spawn().map_err(|e| format!("cannot start nsd: {e}"))?;
        let mut server = DnsServer {
            dir,
            child,
            addrs,
            zones: all,
            tls_addr: tls.map(|t| t.addr),
        };
        server.wait_ready(ns)?;
        Ok(server)
    }

    /// Polls with a real SOA query until the server answers (bounded), or reports why not.
    fn wait_ready(&mut self, ns: Option<&Netns>) -> Result<(), String> {
        let target = self.addrs[0];
        let name = self.zones[0].origin().to_string();
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("nsd exited ({status}): {}", self.log()));
            }
            let ask = || wire::ask_udp(target, &name, wire::TYPE_SOA, Duration::from_millis(200));
            let answered = match ns {
                Some(ns) => ns.enter(ask),
                None => ask(),
            };
            match answered.as_deref().and_then(wire::header) {
                Some(h) if h.rcode == 0 => return Ok(()),
                // Up but not serving the zone: NSD rejected the zone file.
                Some(h) => {
                    return Err(format!(
                        "SOA {name} answered with rcode {}: {}",
                        h.rcode,
                        self.log()
                    ));
                }
                None => {}
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "no answer from {target} within {READY_TIMEOUT:?}: {}",
            self.log()
        ))
    }

    fn log(&self) -> String {
        fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default()
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        let pgid = self.child.id() as libc::pid_t;
        // SAFETY: signalling the process group we created for this server.
        unsafe { libc::kill(-pgid, libc::SIGTERM) };
        let exited = wait::poll(Duration::from_secs(3), Duration::from_millis(10), || {
            matches!(self.child.try_wait(), Ok(Some(_))).then_some(())
        });
        if exited.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        // Helpers that outlived the main process (they share its process group).
        // SAFETY: as above.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn nsd_conf(dir: &std::path::Path, addrs: &[SocketAddr], zones: &[Zone]) -> String {
    let d = dir.display();
    let mut s = String::from("server:\n");
    for a in addrs {
        s += &format!("  ip-address: {}@{}\n", a.ip(), a.port());
    }
    s += &format!(
        "  port: {port}\n  server-count: 1\n  username: \"\"\n  chroot: \"\"\n  zonesdir: \"{d}\"\n\
  pidfile: \"{d}/nsd.pid\"\n  xfrdfile: \"{d}/xfrd.state\"\n  zonelistfile: \"{d}/zone.list\"\n\
  cookie-secret-file: \"{d}/cookie\"\n  database: \"\"\n  verbosity: 1\n  hide-version: yes\n\
  reuseport: no\n  rrl-ratelimit: 0\n  rrl-whitelist-ratelimit: 0\n  do-ip4: {v4}\n  do-ip6: {v6}\n\
remote-control:\n  control-enable: no\n",
        port = addrs[0].port(),
        v4 = if addrs.iter().any(|a| a.is_ipv4()) {
            "yes"
        } else {
            "no"
        },
        v6 = if addrs.iter().any(|a| a.is_ipv6()) {
            "yes"
        } else {
            "no"
        },
    );
    for (i, z) in zones.iter().enumerate() {
        // The root zone's origin is empty.
        let name = if z.origin().is_empty() { "." } else { z.origin() };
        s += &format!("zone:\n  name: \"{name}\"\n  zonefile: \"zone{i}\"\n");
    }
    s
}

/// The server lines that add DNS over TLS: NSD serves TLS on every address given with the tls-port.
fn tls_conf(tls: &TlsService<'_>) -> String {
    format!(
        "server:\n  ip-address: {}@{}\n  tls-port: {}\n  tls-service-key: \"{}\"\n  tls-service-pem: \"{}\"\n",
        tls.addr.ip(),
        tls.addr.port(),
        tls.addr.port(),
        tls.pki.key().display(),
        tls.pki.cert().display()
    )
}

/// A loopback port that is free for both UDP and TCP right now.
fn free_loopback_port() -> u16 {
    for _ in 0..20 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind a loopback UDP socket");
        let port = udp.local_addr().expect("local addr").port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("lab: no free loopback port found");
}
