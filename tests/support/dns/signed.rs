//! A DNSSEC lab signed by the test with ldns (Debian ldnsutils): `sec.test` signed, with three delegations
//! served by the same NSD: `good` signed with its DS in the parent (secure), `stale` signed with signatures
//! that expired in 2020 and its DS in the parent (bogus: expired signature), `plain` unsigned with no DS
//! (insecure, proven by the parent's NSEC), `rekeyed` signed with a key other than the one its DS names
//! (bogus: key mismatch). The trust anchor file holds the parent's key.

use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use super::zone::Zone;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The signed parent zone.
pub const PARENT: &str = "sec.test";
/// `www` in each zone, by zone: parent, good, stale, plain, rekeyed.
pub const WWW: [(&str, Ipv4Addr); 5] = [
    ("www.sec.test", Ipv4Addr::new(198, 51, 100, 10)),
    ("www.good.sec.test", Ipv4Addr::new(198, 51, 100, 11)),
    ("www.stale.sec.test", Ipv4Addr::new(198, 51, 100, 12)),
    ("www.plain.sec.test", Ipv4Addr::new(198, 51, 100, 13)),
    ("www.rekeyed.sec.test", Ipv4Addr::new(198, 51, 100, 14)),
];

/// The signed zones and the trust anchor, in a directory removed on drop.
#[derive(Debug)]
pub struct SignedLab {
    dir: PathBuf,
    /// Every zone, ready for [`super::DnsServer`].
    pub zones: Vec<Zone>,
}

impl SignedLab {
    /// Makes the keys, signs the zones and writes the anchor.
    pub fn new() -> SignedLab {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("sdg-dnssec-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create the DNSSEC directory");
        let child = |label: &str, ip: Ipv4Addr| Zone::new(&format!("{label}.{PARENT}")).a("www", ip);
        let good_key = keygen(&dir, "good.sec.test");
        let stale_key = keygen(&dir, "stale.sec.test");
        let good = sign(&dir, child("good", WWW[1].1), &good_key, None);
        let stale = sign(
            &dir,
            child("stale", WWW[2].1),
            &stale_key,
            Some(("20200101000000", "20200201000000")),
        );
        let plain = child("plain", WWW[3].1);
        let rekeyed_key = keygen(&dir, "rekeyed.sec.test");
        let retired_key = keygen(&dir, "rekeyed.sec.test");
        let rekeyed = sign(&dir, child("rekeyed", WWW[4].1), &rekeyed_key, None);
        let parent_key = keygen(&dir, PARENT);
        let mut parent = Zone::new(PARENT).a("www", WWW[0].1);
        for label in ["good", "stale", "plain", "rekeyed"] {
            parent = parent.ns(label, "ns1");
        }
        parent = parent
            .raw("good", "DS", &ds(&dir, &good_key))
            .raw("stale", "DS", &ds(&dir, &stale_key))
            .raw("rekeyed", "DS", &ds(&dir, &retired_key));
        let parent = sign(&dir, parent, &parent_key, None);
        fs::copy(dir.join(format!("{parent_key}.key")), dir.join("anchor.key")).expect("write the anchor");
        SignedLab {
            zones: vec![parent, good, stale, plain, rekeyed],
            dir,
        }
    }

    /// The trust anchor: the parent's DNSKEY, as ldns-keygen wrote it.
    pub fn anchor(&self) -> PathBuf {
        self.dir.join("anchor.key")
    }
}

impl Drop for SignedLab {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Runs an ldns tool in `dir` and returns its stdout.
fn ldns(dir: &Path, tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("lab: cannot run {tool}: {e}"));
    assert!(
        out.status.success(),
        "lab: {tool} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A key (ECDSA P-256, flags 257) for `zone`; returns its base name (`K<zone>.+013+<tag>`).
fn keygen(dir: &Path, zone: &str) -> String {
    ldns(dir, "ldns-keygen", &["-a", "ECDSAP256SHA256", "-k", zone])
}

/// The DS RDATA (SHA-256) of a key.
fn ds(dir: &Path, key: &str) -> String {
    let name = ldns(dir, "ldns-key2ds", &["-n", "-2", &format!("{key}.key")]);
    // "-n" prints the record: owner TTL class DS rdata.
    let rdata: Vec<&str> = name
        .split_whitespace()
        .skip_while(|w| *w != "DS")
        .skip(1)
        .collect();
    rdata.join(" ")
}

/// Signs `zone` with `key` (inception and expiration when given) and returns it serving the signed text.
fn sign(dir: &Path, zone: Zone, key: &str, window: Option<(&str, &str)>) -> Zone {
    let file = dir.join(format!("{}.zone", zone.origin()));
    fs::write(&file, zone.to_zone_file()).expect("write the zone to sign");
    let file_text = file.to_str().unwrap().to_string();
    let mut args: Vec<&str> = Vec::new();
    if let Some((inception, expiration)) = window {
        args.extend(["-i", inception, "-e", expiration]);
    }
    args.extend([file_text.as_str(), key]);
    ldns(dir, "ldns-signzone", &args);
    let signed = fs::read_to_string(format!("{file_text}.signed")).expect("read the signed zone");
    zone.with_signed_text(signed)
}
