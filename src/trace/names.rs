//! Reverse names of hop addresses, looked up concurrently through hickory-resolver on its own thread so
//! that DNS never delays a probe.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::thread::JoinHandle;
use std::time::Duration;

use hickory_resolver::Resolver;
use hickory_resolver::proto::rr::RData;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// Per-query timeout: a reverse zone that does not answer quickly is not worth holding the report for.
const QUERY_TIMEOUT: Duration = Duration::from_millis(800);

/// Background reverse lookups: addresses go in while probing, names come out at the end.
pub struct ReverseNames {
    tx: Option<mpsc::UnboundedSender<IpAddr>>,
    seen: HashSet<IpAddr>,
    worker: Option<JoinHandle<HashMap<IpAddr, String>>>,
}

impl ReverseNames {
    /// Starts the lookup thread with the system's resolver configuration (/etc/resolv.conf). Lookups
    /// still running `grace` after [`ReverseNames::finish`] is called are abandoned.
    pub fn start(grace: Duration) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let worker = std::thread::Builder::new()
            .name("reverse-names".into())
            .spawn(move || lookup_thread(rx, grace))
            .ok();
        ReverseNames {
            tx: Some(tx),
            seen: HashSet::new(),
            worker,
        }
    }

    /// Queues an address for a reverse lookup (once per address); never blocks.
    pub fn lookup(&mut self, addr: IpAddr) {
        if self.seen.insert(addr)
            && let Some(tx) = &self.tx
        {
            let _ = tx.send(addr);
        }
    }

    /// Waits for the outstanding lookups (at most the grace period) and returns the names found.
    pub fn finish(mut self) -> HashMap<IpAddr, String> {
        self.tx.take();
        self.worker.take().and_then(|w| w.join().ok()).unwrap_or_default()
    }
}

fn lookup_thread(mut rx: mpsc::UnboundedReceiver<IpAddr>, grace: Duration) -> HashMap<IpAddr, String> {
    let mut names = HashMap::new();
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        return names;
    };
    runtime.block_on(async {
        let resolver = match Resolver::builder_tokio() {
            Ok(mut builder) => {
                builder.options_mut().timeout = QUERY_TIMEOUT;
                builder.options_mut().attempts = 1;
                builder.build().ok()
            }
            Err(_) => None,
        };
        let Some(resolver) = resolver else {
            // No usable resolver configuration: drain the channel so senders never block, and give up.
            while rx.recv().await.is_some() {}
            return;
        };
        let mut pending = JoinSet::new();
        loop {
            tokio::select! {
                addr = rx.recv() => match addr {
                    Some(addr) => {
                        let resolver = resolver.clone();
                        pending.spawn(async move { (addr, resolver.reverse_lookup(addr).await.ok()) });
                    }
                    None => break,
                },
                Some(done) = pending.join_next(), if !pending.is_empty() => record(&mut names, done),
            }
        }
        let _ = tokio::time::timeout(grace, async {
            while let Some(done) = pending.join_next().await {
                record(&mut names, done);
            }
        })
        .await;
    });
    names
}

type Done = Result<(IpAddr, Option<hickory_resolver::lookup::Lookup>), tokio::task::JoinError>;

fn record(names: &mut HashMap<IpAddr, String>, done: Done) {
    let Ok((addr, Some(lookup))) = done else {
        return;
    };
    let name = lookup.answers().iter().find_map(|r| match &r.data {
        RData::PTR(ptr) => Some(ptr.0.to_utf8().trim_end_matches('.').to_string()),
        _ => None,
    });
    if let Some(name) = name {
        names.insert(addr, name);
    }
}
