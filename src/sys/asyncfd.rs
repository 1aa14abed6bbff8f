//! Handing a socket to the async runtime's reactor (epoll), which then watches its descriptor.

use std::io;

use socket2::Socket;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// Registers a socket with the runtime for `interest`; the AsyncFd owns it from now on.
pub fn register(sock: Socket, interest: Interest) -> io::Result<AsyncFd<Socket>> {
    // SAFETY: tokio needs the descriptor to stay open and the same while registered. The Socket owns it
    // (it is closed only when the Socket drops), and the AsyncFd owns the Socket until it is dropped or
    // gives the Socket back.
    unsafe { AsyncFd::register_with_interest(sock, interest) }.map_err(|e| e.into_parts().1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use socket2::{Domain, Type};

    #[tokio::test]
    async fn a_registered_socket_reports_readiness() {
        let rx = Socket::new(Domain::IPV4, Type::DGRAM.nonblocking(), None).unwrap();
        rx.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .unwrap();
        let to = rx.local_addr().unwrap();
        let fd = register(rx, Interest::READABLE).unwrap();
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        tx.send_to(b"x", to.as_socket().unwrap()).unwrap();
        let ready = tokio::time::timeout(std::time::Duration::from_secs(5), fd.readable()).await;
        assert!(ready.is_ok(), "no readiness reported");
    }
}
