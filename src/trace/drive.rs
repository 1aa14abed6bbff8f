//! The driver loop: asks the engine what to do, does it through the network seam, hands back what
//! happened. The only place where the engine and the network meet.

use std::net::IpAddr;
use std::time::Duration;

use super::engine::{self, Engine, Step, TraceOutcome};
use super::net::{Network, Received};
use crate::error::{Error, Result, plain_io};

/// Most queued replies read between two sends (the rest wait for the next send or wait step).
const DRAIN_PER_SEND: usize = 64;

/// Runs the engine to completion over a network, telling `on_addr` about each address that answers and
/// `on_step` about the engine after every step (for a progress display).
/// A send error is recorded for its probe and the trace goes on; a receive error ends it.
pub fn drive<N: Network + ?Sized>(
    net: &mut N,
    mut engine: Engine,
    mut on_addr: impl FnMut(IpAddr),
    mut on_step: impl FnMut(&Engine),
) -> Result<TraceOutcome> {
    let mut deliver = |engine: &mut Engine, r: Received| {
        if engine.received(r.from, &r.reply, r.at) == engine::Verdict::Matched {
            on_addr(r.from);
        }
    };
    loop {
        if let Some(at) = net.interrupted() {
            engine.interrupt(at);
        }
        match engine.step() {
            Step::Send(probe) => {
                let result = net.send(&probe).map_err(|e| plain_io(&e));
                engine.sent(probe.index, result);
                // Replies already queued are read before the next probe goes out: a wave that takes
                // longer to send than a near hop takes to answer must not fill the socket's buffer
                // (losing replies, shown as false loss), and once the path's end is known, probes
                // beyond it are not sent. Bounded, so a flood of foreign ICMP cannot stall sending.
                for _ in 0..DRAIN_PER_SEND {
                    match recv(net, Duration::ZERO)? {
                        Some(r) => deliver(&mut engine, r),
                        None => break,
                    }
                }
            }
            Step::Wait(until) => match recv(net, until)? {
                Some(r) => deliver(&mut engine, r),
                // An interrupted wait ends before `until`: the next turn records the real time.
                None if net.interrupted().is_some() => {}
                None => engine.waited(until),
            },
            Step::Done => return Ok(engine.finish()),
        }
        on_step(&engine);
    }
}

fn recv<N: Network + ?Sized>(net: &mut N, until: Duration) -> Result<Option<Received>> {
    net.recv(until)
        .map_err(|e| Error::io("receiving ICMP replies", e))
}
