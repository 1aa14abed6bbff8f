//! The seam to the kernel: one NETLINK_SOCK_DIAG socket, a dump request per family and protocol, datagrams read
//! until the kernel says done. Everything it returns is decoded by the pure `wire` module.

use std::io;

use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_SOCK_DIAG};

use super::wire::{self, Batch, InetProto, InetSocket, UnixSocket, WireError};

/// Bounds one dump: a namespace holding more sockets than this many datagrams' worth is cut short, not read forever.
const MAX_DATAGRAMS: usize = 1 << 20;

/// A sock_diag socket of this network namespace.
pub struct Diag {
    socket: Socket,
    seq: u32,
    buf: Vec<u8>,
    congestion: bool,
}

impl Diag {
    /// Opens the netlink socket (no privilege needed).
    pub fn open() -> io::Result<Diag> {
        let mut socket = Socket::new(NETLINK_SOCK_DIAG)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        Ok(Diag {
            socket,
            seq: 0,
            buf: Vec::with_capacity(1 << 16),
            congestion: true,
        })
    }

    /// Stops asking TCP dumps for the congestion algorithm: a name per socket that plain output does not show.
    pub fn skip_congestion(&mut self) {
        self.congestion = false;
    }

    /// Every inet socket of one family (AF_INET, AF_INET6) and protocol. A kernel without the protocol's diag
    /// module answers with an errno, returned as an error.
    pub fn inet(&mut self, family: u8, proto: InetProto) -> io::Result<Vec<InetSocket>> {
        let mut out = Vec::new();
        self.each_inet(family, proto, &mut |s| out.push(s))?;
        Ok(out)
    }

    /// Every inet socket of one family and protocol, handed to `found` as each datagram is decoded: a host with
    /// many sockets is never held in memory whole.
    pub fn each_inet(
        &mut self,
        family: u8,
        proto: InetProto,
        found: &mut dyn FnMut(InetSocket),
    ) -> io::Result<()> {
        self.seq += 1;
        let request = wire::inet_request(family, proto, self.seq, self.congestion);
        self.dump(&request, wire::decode_inet, found)
    }

    /// Every TCP socket of both families from one dump, handed to `found` as each datagram is decoded.
    pub fn each_tcp(&mut self, found: &mut dyn FnMut(InetSocket)) -> io::Result<()> {
        self.seq += 1;
        let request = wire::tcp_request_both(self.seq, self.congestion);
        self.dump(&request, wire::decode_inet, found)
    }

    /// Every Unix socket.
    pub fn unix(&mut self) -> io::Result<Vec<UnixSocket>> {
        let mut out = Vec::new();
        self.each_unix(&mut |s| out.push(s))?;
        Ok(out)
    }

    /// Every Unix socket, handed to `found` as each datagram is decoded.
    pub fn each_unix(&mut self, found: &mut dyn FnMut(UnixSocket)) -> io::Result<()> {
        self.seq += 1;
        let request = wire::unix_request(self.seq);
        self.dump(&request, wire::decode_unix, found)
    }

    fn dump<T>(
        &mut self,
        request: &[u8],
        decode: fn(&[u8]) -> Result<Batch<T>, WireError>,
        found: &mut dyn FnMut(T),
    ) -> io::Result<()> {
        self.socket.send(request, 0)?;
        for _ in 0..MAX_DATAGRAMS {
            self.buf.clear();
            self.socket.recv(&mut self.buf, 0)?;
            let batch = decode(&self.buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            batch.sockets.into_iter().for_each(&mut *found);
            if let Some(errno) = batch.error.filter(|&e| e != 0) {
                return Err(io::Error::from_raw_os_error(errno));
            }
            if batch.done {
                break;
            }
        }
        Ok(())
    }
}
