//! Building the listening sockets: dual-stack or per-address, TCP and UDP on one port (also when the system
//! chooses it), and one clear error for a port in use, a privileged port or an address this host lacks.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};

use socket2::{Domain, Protocol, Socket, Type};

use super::session::Proto;
use crate::error::{Error, Result};

/// Listen backlog asked for; the kernel caps it at net.core.somaxconn.
const BACKLOG: i32 = 65_535;
/// Tries at finding one free port for every socket when the system chooses it.
const PORT_TRIES: usize = 20;

/// An address to listen on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindAddr {
    /// The address.
    pub ip: IpAddr,
    /// IPv6 scope (interface index) for link-local addresses.
    pub scope_id: u32,
    /// An IPv6 wildcard that also takes IPv4 (IPV6_V6ONLY off).
    pub dual: bool,
}

impl BindAddr {
    /// A plain address (IPv6 ones take IPv6 only).
    pub fn plain(ip: IpAddr, scope_id: u32) -> Self {
        BindAddr {
            ip,
            scope_id,
            dual: false,
        }
    }

    fn socket_addr(&self, port: u16) -> SocketAddr {
        match self.ip {
            IpAddr::V4(v4) => SocketAddr::new(IpAddr::V4(v4), port),
            IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, port, 0, self.scope_id)),
        }
    }
}

/// The default when no -b is given: every address of the allowed families.
pub fn wildcard(v4: bool, v6: bool) -> Vec<BindAddr> {
    let any4 = BindAddr::plain(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);
    let any6 = BindAddr::plain(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0);
    match (v4, v6) {
        (true, false) => vec![any4],
        (false, true) => vec![any6],
        // One dual-stack socket when the host has IPv6; IPv4 alone when it does not.
        _ if ipv6_available() => vec![BindAddr { dual: true, ..any6 }],
        _ => vec![any4],
    }
}

fn ipv6_available() -> bool {
    Socket::new(Domain::IPV6, Type::DGRAM, None)
        .and_then(|s| s.bind(&SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)).into()))
        .is_ok()
}

/// One bound socket, listening (TCP) or ready to receive (UDP).
#[derive(Debug)]
pub struct Bound {
    /// TCP or UDP.
    pub proto: Proto,
    /// The address and port it is bound to.
    pub local: SocketAddr,
    /// Whether it takes IPv4 too (a dual-stack IPv6 wildcard).
    pub dual: bool,
    /// The socket, non-blocking.
    pub socket: Socket,
}

/// Binds every protocol on every address to one port; with port 0 the first socket chooses and the rest follow.
pub fn bind_all(addrs: &[BindAddr], port: u16, tcp: bool, udp: bool) -> Result<Vec<Bound>> {
    let protos: Vec<Proto> = [(tcp, Proto::Tcp), (udp, Proto::Udp)]
        .into_iter()
        .filter_map(|(on, p)| on.then_some(p))
        .collect();
    let mut last_err = None;
    for _ in 0..PORT_TRIES {
        match bind_once(addrs, port, &protos) {
            Ok(bound) => return Ok(bound),
            // A chosen port was taken for another protocol or address: let the system choose again.
            Err((e, _)) if port == 0 && e.kind() == io::ErrorKind::AddrInUse => last_err = Some(e),
            Err((e, what)) => return Err(bind_error(&what, e, port)),
        }
    }
    Err(Error::io(
        "finding one free port for every socket",
        last_err.unwrap_or_else(|| io::Error::from(io::ErrorKind::AddrInUse)),
    ))
}

fn bind_once(
    addrs: &[BindAddr],
    port: u16,
    protos: &[Proto],
) -> std::result::Result<Vec<Bound>, (io::Error, String)> {
    let mut bound: Vec<Bound> = Vec::new();
    let mut port = port;
    for addr in addrs {
        for &proto in protos {
            let sa = addr.socket_addr(port);
            let what = format!("{} {}", proto.name(), sa);
            let socket = open(addr, proto, sa).map_err(|e| (e, what))?;
            let local = socket.local_addr().ok().and_then(|a| a.as_socket()).unwrap_or(sa);
            port = local.port();
            bound.push(Bound {
                proto,
                local,
                dual: addr.dual,
                socket,
            });
        }
    }
    Ok(bound)
}

fn open(addr: &BindAddr, proto: Proto, sa: SocketAddr) -> io::Result<Socket> {
    let domain = Domain::for_address(sa);
    let socket = match proto {
        Proto::Tcp => Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?,
        Proto::Udp => Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?,
        Proto::Unix | Proto::Unixgram => return Err(io::ErrorKind::Unsupported.into()),
    };
    if sa.is_ipv6() {
        socket.set_only_v6(!addr.dual)?;
    }
    // SO_REUSEADDR lets a restarted listener bind over its old TIME_WAIT connections. Not for UDP: there it
    // would let two listeners share the port silently instead of reporting it in use.
    if proto == Proto::Tcp {
        socket.set_reuse_address(true)?;
    }
    if proto == Proto::Udp {
        // Before bind, so that no datagram arrives without its local address.
        crate::sys::pktinfo::enable(&socket, sa.is_ipv6())?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&sa.into())?;
    if proto == Proto::Tcp {
        socket.listen(BACKLOG)?;
    }
    Ok(socket)
}

/// One line saying what could not be bound and why, with the likely cause.
fn bind_error(what: &str, e: io::Error, port: u16) -> Error {
    let hint = match e.raw_os_error() {
        Some(libc::EACCES) => format!(
            " (ports below {} need root or CAP_NET_BIND_SERVICE)",
            unprivileged_port_start()
        ),
        Some(libc::EADDRINUSE) => holder_hint(what.starts_with("tcp"), port),
        Some(libc::EADDRNOTAVAIL) => " (not an address of this host)".to_string(),
        _ => String::new(),
    };
    if hint.is_empty() {
        Error::io(format!("binding {what}"), e)
    } else {
        let plain = Error::io(format!("binding {what}"), e).to_string();
        Error::System(format!("{plain}{hint}"))
    }
}

/// Who holds the port, as the kernel's socket list says (`port 3490/tcp is held by nginx (pid 812) on 0.0.0.0`).
fn holder_hint(tcp: bool, port: u16) -> String {
    let proto = if tcp { "tcp" } else { "udp" };
    match crate::inventory::listeners(tcp, port) {
        Ok(found) if !found.is_empty() => {
            let holders: Vec<String> = found.iter().map(|h| h.describe()).collect();
            format!(" (port {port}/{proto} is held by {})", holders.join(", "))
        }
        _ => " (another socket is bound to this port)".to_string(),
    }
}

fn unprivileged_port_start() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1024)
}

/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as plain IPv4; anything else unchanged.
pub fn unmap(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(unmap_ip(addr.ip()), addr.port())
}

/// An IPv4-mapped IPv6 address as plain IPv4; anything else unchanged.
pub fn unmap_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_addresses_become_ipv4() {
        let a: SocketAddr = "[::ffff:127.0.0.1]:80".parse().unwrap();
        assert_eq!(unmap(a).to_string(), "127.0.0.1:80");
        let b: SocketAddr = "[::1]:80".parse().unwrap();
        assert_eq!(unmap(b), b);
        // An IPv4-compatible address (deprecated ::a.b.c.d) is not a mapped one.
        let c: SocketAddr = "[::7f00:1]:80".parse().unwrap();
        assert_eq!(unmap(c), c);
    }

    #[test]
    fn port_zero_gives_every_socket_the_same_port() {
        let addrs = [
            BindAddr::plain("127.0.0.1".parse().unwrap(), 0),
            BindAddr::plain("::1".parse().unwrap(), 0),
        ];
        let bound = bind_all(&addrs, 0, true, true).unwrap();
        assert_eq!(bound.len(), 4);
        let port = bound[0].local.port();
        assert_ne!(port, 0);
        assert!(bound.iter().all(|b| b.local.port() == port), "{bound:?}");
    }

    #[test]
    fn port_in_use_is_one_system_error() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let addrs = [BindAddr::plain("127.0.0.1".parse().unwrap(), 0)];
        let err = bind_all(&addrs, port, true, false).unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::SYSTEM);
        assert_eq!(
            err.to_string(),
            format!(
                "binding tcp 127.0.0.1:{port}: Address already in use (port {port}/tcp is held by {} (pid {}) on 127.0.0.1)",
                std::fs::read_to_string("/proc/self/comm").unwrap().trim_end(),
                std::process::id()
            )
        );
    }
}
