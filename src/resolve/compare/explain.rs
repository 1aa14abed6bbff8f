//! Pure comparison of what getaddrinfo returned with what DNS answered for the name as given, with each
//! difference explained: an /etc/hosts line, a search-list expansion and the ndots rule, a family removed by
//! AI_ADDRCONFIG, a CNAME chain the system followed. Nothing here touches the network.

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::Serialize;

use super::hosts::HostsHit;
use super::search::{Candidate, SearchRule};
use super::sides::{DnsSide, SystemSide};
use crate::lookup::Family;

/// Which address families this host has configured, as AI_ADDRCONFIG sees them (glibc counts any IPv4
/// address but 127.0.0.1 and any IPv6 address but ::1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub struct HostFamilies {
    /// An IPv4 address other than 127.0.0.1 is configured.
    pub ipv4: bool,
    /// An IPv6 address other than ::1 is configured.
    pub ipv6: bool,
}

impl HostFamilies {
    /// The family AI_ADDRCONFIG leaves when only one is configured (glibc filters nothing when neither is).
    pub fn only(self) -> Option<Family> {
        match (self.ipv4, self.ipv6) {
            (true, false) => Some(Family::Inet),
            (false, true) => Some(Family::Inet6),
            _ => None,
        }
    }
}

/// Why an address is where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Both sides have it.
    Agree,
    /// Only the system has it: an /etc/hosts line.
    Hosts,
    /// Only DNS has it: /etc/hosts answered first, so the system never asked DNS.
    HostsFirst,
    /// Only the system has it: a search-list expansion of the name.
    Search,
    /// Only DNS has it: the search list gave the system another name first.
    SearchFirst,
    /// Only DNS has it: AI_ADDRCONFIG removed its family.
    Addrconfig,
    /// No explanation found.
    Unexplained,
}

/// One address and why it is on one side, the other, or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Row {
    /// The address.
    pub address: IpAddr,
    /// getaddrinfo returned it.
    pub system: bool,
    /// DNS returned it for the name as given.
    pub dns: bool,
    /// The kind of explanation.
    pub reason: Reason,
    /// The explanation in words.
    pub why: String,
}

/// Everything the comparison of one name needs.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    /// The name as the user gave it.
    pub name: &'a str,
    /// getaddrinfo's view.
    pub system: &'a SystemSide,
    /// DNS for the name as given.
    pub dns: &'a DnsSide,
    /// The names glibc would ask, in order, each with DNS's answer (at least up to the first with an address).
    pub candidates: &'a [(Candidate, DnsSide)],
    /// The ndots rule that ordered them.
    pub rule: &'a SearchRule,
    /// The hosts-file lines naming the host.
    pub hosts: &'a [HostsHit],
    /// The hosts file's path.
    pub hosts_path: &'a str,
    /// resolv.conf's path.
    pub resolv_path: &'a str,
    /// With AI_ADDRCONFIG: the families this host has.
    pub addrconfig: Option<HostFamilies>,
}

/// The comparison of one name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Comparison {
    /// Both sides give the same set of addresses (or both give none).
    pub agree: bool,
    /// Where the system's answer came from, in words.
    pub system_source: String,
    /// One row per address.
    pub rows: Vec<Row>,
    /// Explanations not tied to one address (agreement, canonical name, CNAME chain).
    pub notes: Vec<String>,
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

/// Compares the two sides and explains every difference it can.
pub fn explain(inputs: &Inputs) -> Comparison {
    let evidence = Evidence::gather(inputs);
    let system = &inputs.system.addresses;
    let mut rows: Vec<Row> = system.iter().map(|a| evidence.system_row(*a)).collect();
    let dns_only = inputs.dns.addresses.iter().filter(|a| !system.contains(a));
    rows.extend(dns_only.map(|a| evidence.dns_only_row(*a)));
    let agree = rows.iter().all(|r| r.reason == Reason::Agree);
    let mut notes = Vec::new();
    if agree {
        notes.push(agreement_note(inputs, &rows));
    }
    if let Some(canon) = &inputs.system.canonical_name
        && !same_name(canon, inputs.name)
    {
        notes.push(evidence.canonical_note(canon));
    }
    Comparison {
        agree,
        system_source: evidence.system_source(),
        rows,
        notes,
    }
}

/// The agreement in words: the addresses both sides give, or what each side said when neither has one.
fn agreement_note(inputs: &Inputs, rows: &[Row]) -> String {
    if rows.is_empty() {
        return format!(
            "agree: no address on either side (system: {}; DNS: {})",
            inputs
                .system
                .error
                .as_ref()
                .map_or("none".to_string(), ToString::to_string),
            inputs.dns.status_text()
        );
    }
    let addresses: Vec<String> = rows.iter().map(|r| r.address.to_string()).collect();
    format!("agree: the system and DNS both give {}", addresses.join(", "))
}

/// What the inputs say about where the system's answer came from, before any one address is looked at.
struct Evidence<'a> {
    inputs: &'a Inputs<'a>,
    /// The family AI_ADDRCONFIG leaves, when it removes the other.
    kept_family: Option<Family>,
    /// The hosts lines for the name of a family AI_ADDRCONFIG keeps.
    hosts_kept: Vec<&'a HostsHit>,
    /// The first candidate DNS gave a kept address for: where the system's search ended.
    used: Option<&'a (Candidate, DnsSide)>,
}

impl<'a> Evidence<'a> {
    fn gather(inputs: &'a Inputs<'a>) -> Self {
        let kept_family = inputs.addrconfig.and_then(HostFamilies::only);
        let kept = |a: &IpAddr| kept_family.is_none_or(|f| Family::of(a) == f);
        Evidence {
            inputs,
            kept_family,
            hosts_kept: inputs.hosts.iter().filter(|h| kept(&h.address)).collect(),
            used: inputs
                .candidates
                .iter()
                .find(|(_, side)| side.addresses.iter().any(kept)),
        }
    }

    /// Whether AI_ADDRCONFIG leaves this address's family.
    fn family_kept(&self, a: &IpAddr) -> bool {
        self.kept_family.is_none_or(|f| Family::of(a) == f)
    }

    /// nsswitch "hosts: files dns": a hosts line for the name ends the lookup before DNS is asked.
    fn answered_from_hosts(&self) -> bool {
        !self.hosts_kept.is_empty()
    }

    /// The candidate the system used, when it is a search-list expansion rather than the name as given.
    fn expanded(&self) -> Option<&'a (Candidate, DnsSide)> {
        self.used.filter(|(c, _)| c.suffix.is_some())
    }

    /// The line numbers of the kept hosts lines, e.g. "3, 7".
    fn hosts_lines(&self) -> String {
        let mut numbers: Vec<String> = self.hosts_kept.iter().map(|h| h.line.to_string()).collect();
        numbers.dedup();
        numbers.join(", ")
    }

    /// A search-list expansion in words: the name, the suffix, the file it came from and the ndots rule.
    fn expansion(&self, c: &Candidate) -> String {
        format!(
            "{} (suffix '{}' from {}); {}",
            c.name,
            c.suffix.as_deref().unwrap_or_default(),
            self.inputs.resolv_path,
            self.inputs.rule.text
        )
    }

    /// Where the system's answer came from, in words.
    fn system_source(&self) -> String {
        if self.answered_from_hosts() {
            return format!("{} line {}", self.inputs.hosts_path, self.hosts_lines());
        }
        match (self.used, &self.inputs.system.error) {
            (_, Some(e)) => format!("none: getaddrinfo failed ({})", e.code),
            (Some((c, _)), None) if c.suffix.is_some() => format!("DNS, as {}", c.name),
            (Some(_), None) => "DNS, as given".to_string(),
            (None, None) => "DNS".to_string(),
        }
    }

    /// An address getaddrinfo returned: on both sides, from a hosts line, or from a search-list expansion.
    fn system_row(&self, address: IpAddr) -> Row {
        let inputs = self.inputs;
        let in_dns = inputs.dns.addresses.contains(&address);
        let hit = inputs.hosts.iter().find(|h| h.address == address);
        let (reason, why) = if in_dns {
            match hit {
                Some(h) if self.answered_from_hosts() => (
                    Reason::Agree,
                    format!(
                        "both (the system's copy came from {} line {})",
                        inputs.hosts_path, h.line
                    ),
                ),
                _ => (Reason::Agree, "both".to_string()),
            }
        } else if let Some(h) = hit {
            (
                Reason::Hosts,
                format!(
                    "{} line {} ({}): files come before dns in nsswitch.conf",
                    inputs.hosts_path, h.line, h.text
                ),
            )
        } else if let Some((c, _)) = self
            .expanded()
            .filter(|(_, side)| side.addresses.contains(&address))
        {
            (
                Reason::Search,
                format!("search-list expansion: the system asked {}", self.expansion(c)),
            )
        } else {
            (
                Reason::Unexplained,
                format!(
                    "not explained: DNS did not return it for {} or any search-list expansion",
                    inputs.dns.name
                ),
            )
        };
        Row {
            address,
            system: true,
            dns: in_dns,
            reason,
            why,
        }
    }

    /// An address only DNS returned: its family dropped, or the system answered from elsewhere first.
    fn dns_only_row(&self, address: IpAddr) -> Row {
        let (reason, why) = if !self.family_kept(&address) {
            let family = Family::of(&address);
            let loopback = if family == Family::Inet {
                "127.0.0.1"
            } else {
                "::1"
            };
            (
                Reason::Addrconfig,
                format!(
                    "AI_ADDRCONFIG dropped {0}: this host has no {0} address other than {loopback}",
                    family.label()
                ),
            )
        } else if self.answered_from_hosts() {
            (
                Reason::HostsFirst,
                format!(
                    "not used: {} line {} answered for the name first, so the system never asked DNS",
                    self.inputs.hosts_path,
                    self.hosts_lines()
                ),
            )
        } else if let Some((c, _)) = self.expanded() {
            (
                Reason::SearchFirst,
                format!(
                    "not used: a search-list expansion answered first: {}",
                    self.expansion(c)
                ),
            )
        } else {
            let why = match &self.inputs.system.error {
                Some(e) => format!("not explained: the system returned no address ({e})"),
                None => "not explained: the system did not return it".to_string(),
            };
            (Reason::Unexplained, why)
        };
        Row {
            address,
            system: false,
            dns: true,
            reason,
            why,
        }
    }

    /// Why getaddrinfo's canonical name differs from the name asked.
    fn canonical_note(&self, canon: &str) -> String {
        if let Some(first) = self.hosts_kept.first() {
            let first_name = first.text.split_whitespace().nth(1).unwrap_or("");
            if same_name(first_name, canon) {
                return format!(
                    "canonical name {canon}: the first name on {} line {}",
                    self.inputs.hosts_path, first.line
                );
            }
        }
        if let Some((c, side)) = self.used {
            if side.cname_chain.len() > 1 && side.cname_chain.last().is_some_and(|end| same_name(end, canon))
            {
                return format!(
                    "CNAME followed: the system went {} to its canonical name {canon}",
                    side.cname_chain.join(" -> ")
                );
            }
            if same_name(&c.name, canon) {
                return format!("canonical name {canon}: the search-list expansion the system used");
            }
        }
        format!("canonical name {canon}: not explained by DNS")
    }
}

#[cfg(test)]
mod tests {
    use super::super::search::glibc_order;
    use super::super::sides::SideQuery;
    use super::*;
    use crate::resolve::dns::answer::Status;
    use crate::resolve::system::rows::LookupError;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn dns(name: &str, addrs: &[&str]) -> DnsSide {
        DnsSide {
            name: name.into(),
            addresses: addrs.iter().map(|a| ip(a)).collect(),
            cname_chain: vec![],
            queries: vec![SideQuery {
                qtype: "A".into(),
                status: if addrs.is_empty() {
                    Status::Nxdomain
                } else {
                    Status::Answer
                },
                negative_ttl: None,
                message: None,
            }],
        }
    }

    fn sys(addrs: &[&str], canon: Option<&str>) -> SystemSide {
        SystemSide {
            addresses: addrs.iter().map(|a| ip(a)).collect(),
            canonical_name: canon.map(String::from),
            error: addrs.is_empty().then(|| LookupError {
                code: "EAI_NONAME",
                message: "no such name".into(),
            }),
        }
    }

    struct Case {
        name: &'static str,
        system: SystemSide,
        dns: DnsSide,
        candidates: Vec<(Candidate, DnsSide)>,
        rule: SearchRule,
        hosts: Vec<HostsHit>,
        addrconfig: Option<HostFamilies>,
    }

    impl Case {
        fn new(name: &'static str, system: SystemSide, dns: DnsSide, search: &[&str]) -> Self {
            let search: Vec<String> = search.iter().map(|s| s.to_string()).collect();
            let (cands, rule) = glibc_order(name, &search, 1);
            let candidates = cands
                .into_iter()
                .map(|c| {
                    let side = if c.suffix.is_none() {
                        dns.clone()
                    } else {
                        DnsSide::default()
                    };
                    (c, side)
                })
                .collect();
            Case {
                name,
                system,
                dns,
                candidates,
                rule,
                hosts: vec![],
                addrconfig: None,
            }
        }

        fn run(&self) -> Comparison {
            explain(&Inputs {
                name: self.name,
                system: &self.system,
                dns: &self.dns,
                candidates: &self.candidates,
                rule: &self.rule,
                hosts: &self.hosts,
                hosts_path: "/etc/hosts",
                resolv_path: "/etc/resolv.conf",
                addrconfig: self.addrconfig,
            })
        }
    }

    #[test]
    fn agreement_is_stated() {
        let c = Case::new(
            "web.lab.test",
            sys(&["198.51.100.10"], None),
            dns("web.lab.test.", &["198.51.100.10"]),
            &[],
        );
        let out = c.run();
        assert!(out.agree);
        assert_eq!(out.rows[0].reason, Reason::Agree);
        assert_eq!(out.notes, ["agree: the system and DNS both give 198.51.100.10"]);
        assert_eq!(out.system_source, "DNS, as given");
    }

    #[test]
    fn hosts_line_is_cited_and_shadows_dns() {
        let mut c = Case::new(
            "web.lab.test",
            sys(&["198.51.100.77"], Some("web.lab.test")),
            dns("web.lab.test.", &["198.51.100.10"]),
            &[],
        );
        c.hosts = vec![HostsHit {
            line: 3,
            address: ip("198.51.100.77"),
            text: "198.51.100.77 web.lab.test".into(),
        }];
        let out = c.run();
        assert!(!out.agree);
        assert_eq!(out.system_source, "/etc/hosts line 3");
        assert_eq!(out.rows[0].reason, Reason::Hosts);
        assert!(
            out.rows[0]
                .why
                .starts_with("/etc/hosts line 3 (198.51.100.77 web.lab.test)"),
            "{}",
            out.rows[0].why
        );
        assert_eq!(
            (out.rows[1].address, out.rows[1].reason),
            (ip("198.51.100.10"), Reason::HostsFirst)
        );
    }

    #[test]
    fn search_expansion_names_suffix_and_rule() {
        let mut c = Case::new(
            "web",
            sys(&["198.51.100.10"], Some("web.lab.test")),
            dns("web.", &[]),
            &["lab.test"],
        );
        c.candidates[0].1 = dns("web.lab.test.", &["198.51.100.10"]);
        let out = c.run();
        assert_eq!(out.system_source, "DNS, as web.lab.test.");
        assert_eq!(out.rows.len(), 1);
        assert_eq!(out.rows[0].reason, Reason::Search);
        assert!(
            out.rows[0]
                .why
                .contains("suffix 'lab.test' from /etc/resolv.conf"),
            "{}",
            out.rows[0].why
        );
        assert!(
            out.rows[0].why.contains("fewer than ndots:1"),
            "{}",
            out.rows[0].why
        );
        assert!(
            out.notes[0].contains("the search-list expansion"),
            "{:?}",
            out.notes
        );
    }

    #[test]
    fn search_first_shadows_the_name_as_given() {
        // "db" exists as given and as db.lab.test; with 0 dots glibc asks db.lab.test first.
        let mut c = Case::new(
            "db",
            sys(&["198.51.100.20"], None),
            dns("db.", &["203.0.113.20"]),
            &["lab.test"],
        );
        c.candidates[0].1 = dns("db.lab.test.", &["198.51.100.20"]);
        let out = c.run();
        let reasons: Vec<_> = out.rows.iter().map(|r| r.reason).collect();
        assert_eq!(reasons, [Reason::Search, Reason::SearchFirst]);
    }

    #[test]
    fn addrconfig_drops_a_family() {
        let mut c = Case::new(
            "web.lab.test",
            sys(&["198.51.100.10"], None),
            dns("web.lab.test.", &["198.51.100.10", "2001:db8::10"]),
            &[],
        );
        c.addrconfig = Some(HostFamilies {
            ipv4: true,
            ipv6: false,
        });
        let out = c.run();
        assert_eq!(out.rows[1].reason, Reason::Addrconfig);
        assert!(
            out.rows[1].why.contains("no IPv6 address other than ::1"),
            "{}",
            out.rows[1].why
        );
        // With neither family configured glibc filters nothing, so the same difference stays unexplained.
        c.addrconfig = Some(HostFamilies {
            ipv4: false,
            ipv6: false,
        });
        assert_eq!(c.run().rows[1].reason, Reason::Unexplained);
    }

    #[test]
    fn cname_chain_explains_the_canonical_name() {
        let mut d = dns("www.lab.test.", &["198.51.100.10"]);
        d.cname_chain = vec![
            "www.lab.test.".into(),
            "alias.lab.test.".into(),
            "web.lab.test.".into(),
        ];
        let mut c = Case::new(
            "www.lab.test",
            sys(&["198.51.100.10"], Some("web.lab.test")),
            d,
            &[],
        );
        c.candidates[0].1 = c.dns.clone();
        let out = c.run();
        assert!(out.agree);
        assert_eq!(
            out.notes[1],
            "CNAME followed: the system went www.lab.test. -> alias.lab.test. -> web.lab.test. to its canonical name web.lab.test"
        );
    }

    #[test]
    fn both_empty_agree_and_unexplained_differences_say_so() {
        let c = Case::new("nx.lab.test", sys(&[], None), dns("nx.lab.test.", &[]), &[]);
        let out = c.run();
        assert!(out.agree);
        assert!(
            out.notes[0].starts_with("agree: no address on either side (system: EAI_NONAME"),
            "{:?}",
            out.notes
        );
        let c = Case::new(
            "x.lab.test",
            sys(&[], None),
            dns("x.lab.test.", &["198.51.100.1"]),
            &[],
        );
        let out = c.run();
        assert_eq!(out.rows[0].reason, Reason::Unexplained);
        assert!(out.rows[0].why.contains("EAI_NONAME"), "{}", out.rows[0].why);
    }
}
