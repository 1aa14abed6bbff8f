//! The standard test zone `lab.test`, with constants so tests assert against the same data.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::zone::Zone;

/// The standard zone's origin.
pub const ORIGIN: &str = "lab.test";
/// `host.lab.test`: dual stack.
pub const HOST_V4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 200);
/// `host.lab.test`: dual stack.
pub const HOST_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0x200);
/// `multi.lab.test`: two addresses per family.
pub const MULTI_V4: [Ipv4Addr; 2] = [Ipv4Addr::new(198, 51, 100, 201), Ipv4Addr::new(198, 51, 100, 202)];
/// `multi.lab.test`: two addresses per family.
pub const MULTI_V6: [Ipv6Addr; 2] = [
    Ipv6Addr::new(0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0x201),
    Ipv6Addr::new(0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0x202),
];
/// `v4only.lab.test`: an A record and no AAAA (an AAAA query gives NODATA).
pub const V4ONLY_V4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 203);
/// `v6only.lab.test`: an AAAA record and no A.
pub const V6ONLY_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0x204);
/// `short.lab.test`: an A record with a 5 s TTL.
pub const SHORT_V4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 205);
/// `mail.lab.test`: the preferred mail exchanger's address.
pub const MAIL_V4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 206);
/// `xn--mnchen-3ya.lab.test` (münchen.lab.test): an international name's ASCII form.
pub const MUENCHEN_V4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 88);
/// TTLs chosen so a test can tell records apart by TTL.
pub const HOST_TTL: u32 = 300;
/// TTL of `www.lab.test CNAME host`.
pub const WWW_TTL: u32 = 120;
/// TTL of `alias.lab.test CNAME www`.
pub const ALIAS_TTL: u32 = 60;
/// TTL of `short.lab.test A`.
pub const SHORT_TTL: u32 = 5;
/// TTL of `txt.lab.test TXT`.
pub const TXT_TTL: u32 = 42;
/// Negative TTL (SOA minimum) of the zone.
pub const NEG_TTL: u32 = 30;
/// A name that does not exist (NXDOMAIN).
pub const MISSING: &str = "missing.lab.test";
/// Strings of `txt.lab.test`.
pub const TXT: [&str; 2] = ["v=lab1", "hello lab"];
/// `big-txt.lab.test`: over 512 bytes (UDP without EDNS truncates) but under 1232 bytes.
pub const BIG_TXT_LEN: usize = 600;
/// `huge-txt.lab.test`: over 1232 bytes, so UDP truncates even with EDNS and TCP must answer.
pub const HUGE_TXT_LEN: usize = 2000;

/// The text of a TXT record of `len` bytes: a repeating, recognisable pattern.
pub fn filler(len: usize) -> String {
    "0123456789abcdef".chars().cycle().take(len).collect()
}

/// The standard zone `lab.test`.
///
/// | name | records |
/// |---|---|
/// | host | A 198.51.100.200, AAAA 2001:db8:100::200 (TTL 300) |
/// | multi | A .201 .202, AAAA ::201 ::202 |
/// | v4only / v6only | A .203 only / AAAA ::204 only |
/// | www → host, alias → www | CNAME chain (TTL 120, 60); canonical name host.lab.test |
/// | short | A .205, TTL 5 |
/// | @ | MX 10 mail, MX 20 mail2; CAA 0 issue "ca.lab.test"; NS ns1; SOA minimum 30 |
/// | txt, big-txt, huge-txt | TXT 2 strings (TTL 42); 600 bytes; 2000 bytes |
/// | _lab._tcp | SRV 10 5 8001 host |
/// | xn--mnchen-3ya | A .88 (münchen.lab.test in punycode) |
/// | missing | does not exist (NXDOMAIN with the SOA) |
/// Reverse zones answer PTR for every address above.
pub fn lab_zone() -> Zone {
    Zone::new(ORIGIN)
        .with_negative_ttl(NEG_TTL)
        .a("host", HOST_V4)
        .aaaa("host", HOST_V6)
        .a("multi", MULTI_V4[0])
        .a("multi", MULTI_V4[1])
        .aaaa("multi", MULTI_V6[0])
        .aaaa("multi", MULTI_V6[1])
        .a("v4only", V4ONLY_V4)
        .aaaa("v6only", V6ONLY_V6)
        .cname("www", "host")
        .ttl(WWW_TTL)
        .cname("alias", "www")
        .ttl(ALIAS_TTL)
        .a("short", SHORT_V4)
        .ttl(SHORT_TTL)
        .mx("@", 10, "mail")
        .mx("@", 20, "mail2")
        .a("mail", MAIL_V4)
        .a("mail2", Ipv4Addr::new(198, 51, 100, 207))
        .caa("@", 0, "issue", "ca.lab.test")
        .txt("txt", &TXT)
        .ttl(TXT_TTL)
        .txt("big-txt", &[&filler(BIG_TXT_LEN)])
        .txt("huge-txt", &[&filler(HUGE_TXT_LEN)])
        .srv("_lab._tcp", 10, 5, 8001, "host")
        .a("xn--mnchen-3ya", MUENCHEN_V4)
}
