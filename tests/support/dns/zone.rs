//! Zones described as data, rendered to RFC 1035 zone files for the server.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::support::addr;

/// Default TTL of records added without `.ttl(..)`.
pub const DEFAULT_TTL: u32 = 300;
/// Default negative-caching TTL: the SOA minimum (the SOA's own TTL is larger, so this wins).
pub const DEFAULT_NEG_TTL: u32 = 30;
/// TTL of the SOA and NS records a zone gets automatically.
pub const SOA_TTL: u32 = 3600;

/// The data of one resource record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RData {
    /// IPv4 address.
    A(Ipv4Addr),
    /// IPv6 address.
    Aaaa(Ipv6Addr),
    /// Alias to another name.
    Cname(String),
    /// Mail exchanger: preference and host.
    Mx(u16, String),
    /// Text: one or more strings (longer than 255 bytes are split on output).
    Txt(Vec<String>),
    /// Name server.
    Ns(String),
    /// Service: priority, weight, port, target.
    Srv(u16, u16, u16, String),
    /// Pointer (reverse zones).
    Ptr(String),
    /// Certification authority authorization: flags, tag, value.
    Caa(u8, String, String),
    /// Any other type, as the zone file writes it: the type (`HTTPS`, `TYPE65280`) and its data text.
    Raw(&'static str, String),
}

/// One record: owner name (relative to the zone, `@` for the apex, or absolute with a final dot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Owner name as written in the zone.
    pub name: String,
    /// Time to live in seconds.
    pub ttl: u32,
    /// The record data.
    pub data: RData,
}

/// The SOA fields a test may care about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Soa {
    /// Primary name server (absolute, no final dot).
    pub mname: String,
    /// Responsible mailbox as a name (absolute, no final dot).
    pub rname: String,
    /// Serial number.
    pub serial: u32,
    /// SOA minimum: the negative-caching TTL (RFC 2308).
    pub minimum: u32,
}

/// A zone: its origin, SOA, and records. Build with the chained helpers.
#[derive(Debug, Clone)]
pub struct Zone {
    origin: String,
    soa: Soa,
    records: Vec<Record>,
    /// The zone file as a signer rewrote it, served instead of the records (see `dns::signed`).
    signed: Option<String>,
}

impl Zone {
    /// An empty zone for `origin` with an SOA, `NS ns1.<origin>` and glue pointing at the lab DNS address.
    pub fn new(origin: &str) -> Zone {
        let origin = origin.trim_end_matches('.').to_ascii_lowercase();
        let mut z = Zone::bare(&origin, &format!("ns1.{origin}"));
        z = z.ns("@", "ns1").ttl(SOA_TTL);
        z.a("ns1", addr::LAB_DNS_V4).aaaa("ns1", addr::LAB_DNS_V6)
    }

    /// A zone with only an SOA naming `mname` (used for reverse zones; add NS yourself).
    pub fn bare(origin: &str, mname: &str) -> Zone {
        let origin = origin.trim_end_matches('.').to_ascii_lowercase();
        Zone {
            soa: Soa {
                mname: mname.trim_end_matches('.').to_string(),
                rname: format!("hostmaster.{origin}"),
                serial: 1,
                minimum: DEFAULT_NEG_TTL,
            },
            origin,
            records: Vec::new(),
            signed: None,
        }
    }

    /// The zone's origin, without the final dot.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The SOA fields.
    pub fn soa(&self) -> &Soa {
        &self.soa
    }

    /// All records except the SOA.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The negative-caching TTL that NXDOMAIN and NODATA answers carry.
    pub fn negative_ttl(&self) -> u32 {
        self.soa.minimum.min(SOA_TTL)
    }

    /// Sets the SOA minimum, i.e. the negative TTL.
    pub fn with_negative_ttl(mut self, secs: u32) -> Zone {
        self.soa.minimum = secs;
        self
    }

    /// Sets the SOA serial.
    pub fn with_serial(mut self, serial: u32) -> Zone {
        self.soa.serial = serial;
        self
    }

    /// The absolute name (no final dot) of an owner name as written in this zone.
    pub fn fqdn(&self, name: &str) -> String {
        if name == "@" {
            self.origin.clone()
        } else if let Some(abs) = name.strip_suffix('.') {
            abs.to_string()
        } else {
            format!("{name}.{}", self.origin)
        }
    }

    /// Adds a record with the default TTL.
    pub fn record(mut self, name: &str, data: RData) -> Zone {
        self.records.push(Record {
            name: name.to_string(),
            ttl: DEFAULT_TTL,
            data,
        });
        self
    }

    /// Sets the TTL of the record added last.
    pub fn ttl(mut self, secs: u32) -> Zone {
        self.records.last_mut().expect("ttl() after a record").ttl = secs;
        self
    }

    /// Adds an A record.
    pub fn a(self, name: &str, ip: Ipv4Addr) -> Zone {
        self.record(name, RData::A(ip))
    }

    /// Adds an AAAA record.
    pub fn aaaa(self, name: &str, ip: Ipv6Addr) -> Zone {
        self.record(name, RData::Aaaa(ip))
    }

    /// Adds an A or AAAA record, whichever fits `ip`.
    pub fn addr(self, name: &str, ip: IpAddr) -> Zone {
        match ip {
            IpAddr::V4(v4) => self.a(name, v4),
            IpAddr::V6(v6) => self.aaaa(name, v6),
        }
    }

    /// Adds a CNAME record.
    pub fn cname(self, name: &str, target: &str) -> Zone {
        self.record(name, RData::Cname(target.to_string()))
    }

    /// Adds an MX record.
    pub fn mx(self, name: &str, preference: u16, host: &str) -> Zone {
        self.record(name, RData::Mx(preference, host.to_string()))
    }

    /// Adds a TXT record made of `strings`.
    pub fn txt(self, name: &str, strings: &[&str]) -> Zone {
        self.record(name, RData::Txt(strings.iter().map(|s| s.to_string()).collect()))
    }

    /// Adds an NS record.
    pub fn ns(self, name: &str, host: &str) -> Zone {
        self.record(name, RData::Ns(host.to_string()))
    }

    /// Adds an SRV record.
    pub fn srv(self, name: &str, priority: u16, weight: u16, port: u16, target: &str) -> Zone {
        self.record(name, RData::Srv(priority, weight, port, target.to_string()))
    }

    /// Adds a PTR record.
    pub fn ptr(self, name: &str, target: &str) -> Zone {
        self.record(name, RData::Ptr(target.to_string()))
    }

    /// Adds a CAA record.
    pub fn caa(self, name: &str, flags: u8, tag: &str, value: &str) -> Zone {
        self.record(name, RData::Caa(flags, tag.to_string(), value.to_string()))
    }

    /// Adds a record of any type, written as the zone file writes it.
    pub fn raw(self, name: &str, rtype: &'static str, text: &str) -> Zone {
        self.record(name, RData::Raw(rtype, text.to_string()))
    }

    /// Serves `text` (this zone signed by a DNSSEC signer, or edited) instead of the records.
    pub fn with_signed_text(mut self, text: String) -> Zone {
        self.signed = Some(text);
        self
    }

    /// The zone in master-file format, as NSD reads it.
    pub fn to_zone_file(&self) -> String {
        if let Some(signed) = &self.signed {
            return signed.clone();
        }
        let mut s = String::new();
        let _ = writeln!(s, "$ORIGIN {}.", self.origin);
        let _ = writeln!(
            s,
            "@ {SOA_TTL} IN SOA {}. {}. {} 3600 600 86400 {}",
            self.soa.mname, self.soa.rname, self.soa.serial, self.soa.minimum
        );
        for r in &self.records {
            let _ = writeln!(s, "{} {} IN {}", r.name, r.ttl, rdata_text(&r.data));
        }
        s
    }
}

fn rdata_text(d: &RData) -> String {
    match d {
        RData::A(ip) => format!("A {ip}"),
        RData::Aaaa(ip) => format!("AAAA {ip}"),
        RData::Cname(t) => format!("CNAME {t}"),
        RData::Mx(p, h) => format!("MX {p} {h}"),
        RData::Txt(parts) => {
            let quoted: Vec<String> = parts
                .iter()
                .flat_map(|p| chunks(p, 255))
                .map(|c| quote(&c))
                .collect();
            format!("TXT {}", quoted.join(" "))
        }
        RData::Ns(h) => format!("NS {h}"),
        RData::Srv(p, w, port, t) => format!("SRV {p} {w} {port} {t}"),
        RData::Ptr(t) => format!("PTR {t}"),
        RData::Caa(f, tag, v) => format!("CAA {f} {tag} {}", quote(v)),
        RData::Raw(rtype, text) => format!("{rtype} {text}"),
    }
}

/// A character-string can hold 255 bytes; longer text becomes several strings, as DNS requires.
fn chunks(s: &str, n: usize) -> Vec<String> {
    if s.is_empty() {
        return vec![String::new()];
    }
    s.as_bytes()
        .chunks(n)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect()
}

/// A quoted character-string of a zone file: `"` and `\` escaped, and bytes outside printable ASCII as `\DDD`,
/// so that tests can serve hostile text.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for &b in s.as_bytes() {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{b:03}")),
        }
    }
    out.push('"');
    out
}

/// The reverse-zone owner name of an address (e.g. `10.100.51.198.in-addr.arpa`).
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let hex: String = v6.octets().iter().map(|b| format!("{b:02x}")).collect();
            let nibbles: Vec<String> = hex.chars().rev().map(|c| c.to_string()).collect();
            format!("{}.ip6.arpa", nibbles.join("."))
        }
    }
}

/// Reverse zones the server always serves, covering the lab's documentation ranges.
pub const REVERSE_ORIGINS: [&str; 3] = [
    "100.51.198.in-addr.arpa",
    "113.0.203.in-addr.arpa",
    "8.b.d.0.1.0.0.2.ip6.arpa",
];

/// PTR zones for the lab ranges, holding one PTR per address found in `zones` (first owner wins).
pub fn reverse_zones(zones: &[Zone]) -> Vec<Zone> {
    let mname = zones
        .first()
        .map(|z| z.soa.mname.clone())
        .unwrap_or_else(|| "ns1.lab.test".into());
    let mut out: Vec<Zone> = REVERSE_ORIGINS
        .iter()
        .map(|o| Zone::bare(o, &mname).ns("@", &format!("{mname}.")).ttl(SOA_TTL))
        .collect();
    let mut seen: Vec<IpAddr> = Vec::new();
    for z in zones {
        for r in &z.records {
            let ip = match r.data {
                RData::A(v4) => IpAddr::V4(v4),
                RData::Aaaa(v6) => IpAddr::V6(v6),
                _ => continue,
            };
            if seen.contains(&ip) {
                continue;
            }
            let owner = reverse_name(ip);
            if let Some(rz) = out
                .iter_mut()
                .find(|rz| owner.ends_with(&format!(".{}", rz.origin)))
            {
                seen.push(ip);
                let target = format!("{}.", z.fqdn(&r.name));
                rz.records.push(Record {
                    name: format!("{owner}."),
                    ttl: r.ttl,
                    data: RData::Ptr(target),
                });
            }
        }
    }
    out
}
