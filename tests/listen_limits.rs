//! `sockdiag listen` under abuse from one address (issue 19): a slowloris from one source must not take every
//! slot, and its refusals are logged once per address per interval, not once per connection.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use socket2::{Domain, Socket, Type};

use crate::listen::{Listener, connect, exchange, num};

/// A TCP connection to `to` from the loopback address `from` (any port).
fn connect_from(from: &str, to: SocketAddr) -> TcpStream {
    try_connect_from(from, to).expect("connect")
}

/// The same, or None when the listener refused it so fast that the reset came before connect returned.
fn try_connect_from(from: &str, to: SocketAddr) -> Option<TcpStream> {
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    let src: SocketAddr = format!("{from}:0").parse().unwrap();
    s.bind(&src.into()).unwrap();
    match s.connect_timeout(&to.into(), Duration::from_secs(5)) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => return None,
        Err(e) => panic!("connect from {from}: {e}"),
    }
    let s: TcpStream = s.into();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    Some(s)
}

/// Whether the listener serves this connection: one byte goes out and comes back (a refused one is reset).
fn served(s: &mut TcpStream) -> bool {
    let _ = s.write_all(b"x");
    let mut buf = [0u8; 1];
    match s.read(&mut buf) {
        Ok(1) => true,
        Ok(_) => false,
        Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) => false,
        Err(e) => panic!("neither served nor refused: {e}"),
    }
}

#[test]
fn one_address_cannot_take_every_slot_and_its_refusals_are_logged_once() {
    // --max-conns 200: by default one address may hold an eighth of them, 25.
    let l = Listener::start(&["--tcp", "-b", "127.0.0.1", "--max-conns", "200"]);
    let to = l.addr("127.0.0.1");
    // The slowloris: every slot asked for from 127.0.0.2, each connection held open.
    let mut hog: Vec<TcpStream> = (0..200)
        .filter_map(|_| try_connect_from("127.0.0.2", to))
        .collect();
    let held = hog.iter_mut().map(served).filter(|x| *x).count();
    assert_eq!(held, 25, "one address holds its share, no more");
    // Another address is still served while the hog holds its connections.
    let other = connect_from("127.0.0.3", to);
    let me = other.local_addr().unwrap();
    assert_eq!(exchange(other, b"still served".to_vec()), b"still served");
    let done = l.stop();
    done.assert_ok();
    assert_eq!(num(&done.session_of(me)["received_bytes"]), 12);
    let totals = &done.summary["totals"];
    assert_eq!(num(&totals["tcp_refused"]), 175, "{totals}");
    assert_eq!(num(&totals["tcp_refused_per_address"]), 175, "{totals}");
    assert_eq!(
        done.summary["settings"]["max_connections_per_address"], 25,
        "{}",
        done.summary["settings"]
    );
    // 175 refusals, one line: the first, saying that more are counted, not logged.
    let refused = done.events("refused");
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0]["peer"].as_str().unwrap().starts_with("127.0.0.2:"));
    let detail = refused[0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("--max-conns-per-address 25") && detail.contains("logged once per 10 s"),
        "{detail}"
    );
    drop(hog);
}

#[test]
fn max_conns_per_address_sets_the_share_and_a_freed_slot_is_its_own_again() {
    let mut l = Listener::start(&[
        "--tcp",
        "-b",
        "127.0.0.1",
        "--max-conns",
        "100",
        "--max-conns-per-address",
        "2",
    ]);
    let to = l.addr("127.0.0.1");
    let mut first: Vec<TcpStream> = (0..6).filter_map(|_| try_connect_from("127.0.0.2", to)).collect();
    assert_eq!(first.iter_mut().map(served).filter(|x| *x).count(), 2);
    l.wait_for("refused");
    // A slot freed by the address is its own again.
    drop(first);
    let again = connect(l.addr("127.0.0.1"));
    assert_eq!(exchange(again, b"ok".to_vec()), b"ok");
    let done = l.stop();
    assert_eq!(num(&done.summary["totals"]["tcp_refused_per_address"]), 4);
    assert_eq!(done.summary["settings"]["max_connections_per_address"], 2);
}
