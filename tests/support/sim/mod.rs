//! A simulated path behind a TUN device: user-space routers with latency and odd behaviour.
//!
//! The TUN device lives in a client namespace with routes for 203.0.113.0/25 and 2001:db8:ff::/48.
//! A reader thread turns each packet into replies ([`responder`]); a scheduler thread writes them
//! back at their due time ([`sched`]). Both stop, and the device disappears, on drop.

pub mod nat;
pub mod packet;
pub mod responder;
pub mod scenario;
pub mod sched;
#[cfg(test)]
mod tests;
pub mod tun;

use std::fs::File;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

pub use packet::MplsEntry;
pub use responder::Probe;
pub use scenario::{Adversity, Hop, Scenario, Target, TcpAnswer};

use super::addr;
use super::netns::Netns;
use responder::Responder;
use sched::Scheduler;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Most probes remembered for [`SimPath::probes`].
const MAX_LOGGED: usize = 100_000;

/// A running simulated path in a namespace; borrows the namespace so it is dropped first.
#[derive(Debug)]
pub struct SimPath<'a> {
    ns: &'a Netns,
    device: String,
    scenario: Scenario,
    stop: Arc<AtomicBool>,
    sched: Scheduler,
    log: Arc<Mutex<Vec<(Instant, Probe)>>>,
    threads: Vec<JoinHandle<()>>,
}

impl<'a> SimPath<'a> {
    /// Creates the TUN device in `ns`, routes the simulated prefixes into it and starts answering.
    pub fn start(ns: &'a Netns, scenario: Scenario) -> SimPath<'a> {
        let device = format!("sim{}", COUNTER.fetch_add(1, Ordering::Relaxed));
        let reader = tun::open_in(ns, &device);
        let writer = reader.try_clone().expect("dup TUN fd");
        let t4 = scenario.target.v4;
        let t6 = scenario.target.v6;
        ns.ip_batch(&format!(
            "link set dev {device} up\n\
             addr add {c4}/32 dev {device}\n\
             addr add {c6}/128 dev {device} nodad\n\
             route add {n4} dev {device} src {c4}\n\
             route add {n6} dev {device} src {c6}\n\
             route replace {t4}/32 dev {device} src {c4}\n\
             route replace {t6}/128 dev {device} src {c6}\n",
            c4 = addr::SIM_CLIENT_V4,
            c6 = addr::SIM_CLIENT_V6,
            n4 = addr::SIM_V4_NET,
            n6 = addr::SIM_V6_NET,
        ));
        // Replies come from hop addresses that may lie outside the routed prefixes.
        ns.sysctls(&[
            ("net.ipv4.conf.all.rp_filter", "0"),
            (&format!("net.ipv4.conf.{device}.rp_filter"), "0"),
        ]);

        let stop = Arc::new(AtomicBool::new(false));
        let sched = Scheduler::default();
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut threads = Vec::new();
        {
            let sched = sched.clone();
            threads.push(std::thread::spawn(move || deliver(&sched, writer)));
        }
        {
            let (stop, sched, log) = (stop.clone(), sched.clone(), log.clone());
            let responder = Responder::new(scenario.clone());
            threads.push(std::thread::spawn(move || {
                receive(reader, responder, &stop, &sched, &log)
            }));
        }
        SimPath {
            ns,
            device,
            scenario,
            stop,
            sched,
            log,
            threads,
        }
    }

    /// The scenario being simulated.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The TUN device's name inside the namespace.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// The namespace the path lives in.
    pub fn netns(&self) -> &Netns {
        self.ns
    }

    /// The simulated target's IPv4 address.
    pub fn target_v4(&self) -> Ipv4Addr {
        self.scenario.target.v4
    }

    /// The simulated target's IPv6 address.
    pub fn target_v6(&self) -> Ipv6Addr {
        self.scenario.target.v6
    }

    /// The target's address in the family of `v6`.
    pub fn target_addr(&self, v6: bool) -> IpAddr {
        self.scenario.target.addr(v6)
    }

    /// Hop `k`'s (1-based) address in the family of `v6`.
    pub fn hop_addr(&self, k: usize, v6: bool) -> IpAddr {
        self.scenario.hop_at(k).addr(v6).expect("hop address")
    }

    /// Probes received so far (packets addressed to the target), with arrival times.
    pub fn probes(&self) -> Vec<(Instant, Probe)> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replies dropped because too many were pending.
    pub fn dropped(&self) -> u64 {
        self.sched.dropped()
    }
}

impl Drop for SimPath<'_> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.sched.stop();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        // The reader and writer files closed with their threads: the device and its routes are gone.
    }
}

/// Asks for real-time scheduling for the calling thread, so replies keep their timing on a busy
/// machine; both sim threads sleep almost all the time. Best effort: failure only costs accuracy.
fn realtime() {
    let param = libc::sched_param { sched_priority: 10 };
    // SAFETY: sets the calling thread's policy with a valid sched_param.
    unsafe { libc::pthread_setschedparam(libc::pthread_self(), libc::SCHED_FIFO, &param) };
}

/// Writes due replies into the TUN until the scheduler stops.
fn deliver(sched: &Scheduler, mut tun: File) {
    realtime();
    sched.run(|pkt| {
        let _ = tun.write(pkt);
    });
}

/// Reads packets from the TUN (polling so `stop` is seen within 50 ms) and schedules replies.
fn receive(
    mut tun: File,
    mut responder: Responder,
    stop: &AtomicBool,
    sched: &Scheduler,
    log: &Mutex<Vec<(Instant, Probe)>>,
) {
    realtime();
    let mut buf = vec![0u8; 65_536];
    while !stop.load(Ordering::Relaxed) {
        let mut pfd = libc::pollfd {
            fd: tun.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let ready = unsafe { libc::poll(&mut pfd, 1, 50) };
        if ready <= 0 {
            continue;
        }
        let Ok(n) = tun.read(&mut buf) else {
            continue;
        };
        let arrived = Instant::now();
        let (probe, replies) = responder.handle(&buf[..n]);
        if let Some(p) = probe {
            let mut l = log.lock().unwrap_or_else(|e| e.into_inner());
            if l.len() < MAX_LOGGED {
                l.push((arrived, p));
            }
        }
        for r in replies {
            sched.push(arrived + r.delay, r.packet);
        }
    }
}
