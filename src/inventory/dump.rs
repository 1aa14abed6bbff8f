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
        })
    }

    /// Every inet socket of one family (AF_INET, AF_INET6) and protocol. A kernel without the protocol's diag
    /// module answers with an errno, returned as an error.
    pub fn inet(&mut self, family: u8, proto: InetProto) -> io::Result<Vec<InetSocket>> {
        self.seq += 1;
        let request = wire::inet_request(family, proto, self.seq);
        self.dump(&request, wire::decode_inet)
    }

    /// Every Unix socket.
    pub fn unix(&mut self) -> io::Result<Vec<UnixSocket>> {
        self.seq += 1;
        let request = wire::unix_request(self.seq);
        self.dump(&request, wire::decode_unix)
    }

    fn dump<T>(
        &mut self,
        request: &[u8],
        decode: fn(&[u8]) -> Result<Batch<T>, WireError>,
    ) -> io::Result<Vec<T>> {
        self.socket.send(request, 0)?;
        let mut out = Vec::new();
        for _ in 0..MAX_DATAGRAMS {
            self.buf.clear();
            self.socket.recv(&mut self.buf, 0)?;
            let batch = decode(&self.buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            out.extend(batch.sockets);
            if let Some(errno) = batch.error.filter(|&e| e != 0) {
                return Err(io::Error::from_raw_os_error(errno));
            }
            if batch.done {
                break;
            }
        }
        Ok(out)
    }
}
