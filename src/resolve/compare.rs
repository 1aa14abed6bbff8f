//! Pure comparison of what getaddrinfo returned with what DNS answered for the name as given, with each
//! difference explained: an /etc/hosts line, a search-list expansion and the ndots rule, a family removed by
//! AI_ADDRCONFIG, a CNAME chain the system followed. Nothing here touches the network.

use std::net::IpAddr;

use serde::Serialize;

use super::hosts::HostsHit;

/// One name glibc's stub resolver would ask, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    /// The absolute name asked (trailing dot).
    pub name: String,
    /// The search-list suffix appended, None for the name as given.
    pub suffix: Option<String>,
}

/// How the ndots rule ordered the candidates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchRule {
    /// Dots in the name as given (a final dot not counted).
    pub dots: usize,
    /// `options ndots:N` from resolv.conf.
    pub ndots: usize,
    /// The name ends with a dot, so no search list applies.
    pub absolute: bool,
    /// The rule in words.
    pub text: String,
}

/// The names glibc's res_search asks for `name`, in its order: an absolute name as given only; a name with at
/// least ndots dots as given first, then with each suffix; otherwise each suffix first, then as given.
pub fn glibc_order(name: &str, search: &[String], ndots: usize) -> (Vec<Candidate>, SearchRule) {
    let absolute = name.ends_with('.');
    let bare = name.trim_end_matches('.');
    let dots = bare.matches('.').count();
    let as_given = Candidate {
        name: format!("{bare}."),
        suffix: None,
    };
    let expanded: Vec<Candidate> = search
        .iter()
        .map(|s| s.trim_matches('.'))
        .filter(|s| !s.is_empty())
        .map(|s| Candidate {
            name: format!("{bare}.{s}."),
            suffix: Some(s.to_string()),
        })
        .collect();
    let plural = |n: usize| if n == 1 { "dot" } else { "dots" };
    let (candidates, text) = if absolute {
        (
            vec![as_given],
            format!("'{name}' ends with a dot, so it is asked as given and the search list does not apply"),
        )
    } else if expanded.is_empty() {
        (
            vec![as_given],
            "resolv.conf has no search list, so the name is asked as given".to_string(),
        )
    } else if dots >= ndots {
        let mut all = vec![as_given];
        all.extend(expanded);
        (
            all,
            format!(
                "'{name}' has {dots} {} (ndots:{ndots} or more), so it is asked as given first and the search list only after that fails",
                plural(dots)
            ),
        )
    } else {
        let mut all = expanded;
        all.push(as_given);
        (
            all,
            format!(
                "'{name}' has {dots} {}, fewer than ndots:{ndots}, so the search list is tried before the name as given",
                plural(dots)
            ),
        )
    };
    (
        candidates,
        SearchRule {
            dots,
            ndots,
            absolute,
            text,
        },
    )
}

/// Which address families this host has configured, as AI_ADDRCONFIG sees them (glibc counts any IPv4
/// address but 127.0.0.1 and any IPv6 address but ::1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HostFamilies {
    /// An IPv4 address other than 127.0.0.1 is configured.
    pub ipv4: bool,
    /// An IPv6 address other than ::1 is configured.
    pub ipv6: bool,
}

impl HostFamilies {
    /// The family AI_ADDRCONFIG leaves when only one is configured (glibc filters nothing when neither is).
    pub fn only(self) -> Option<Fam> {
        match (self.ipv4, self.ipv6) {
            (true, false) => Some(Fam::V4),
            (false, true) => Some(Fam::V6),
            _ => None,
        }
    }
}

/// An address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fam {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

impl Fam {
    fn of(addr: &IpAddr) -> Fam {
        if addr.is_ipv4() { Fam::V4 } else { Fam::V6 }
    }

    fn name(self) -> &'static str {
        match self {
            Fam::V4 => "IPv4",
            Fam::V6 => "IPv6",
        }
    }
}

/// What getaddrinfo returned for the name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SystemSide {
    /// Distinct addresses in the order returned.
    pub addresses: Vec<IpAddr>,
    /// AI_CANONNAME's answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canonical_name: Option<String>,
    /// The failure (EAI_* code and meaning).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What DNS answered (A and AAAA) for one name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DnsSide {
    /// The absolute name asked.
    pub name: String,
    /// Distinct addresses, A then AAAA.
    pub addresses: Vec<IpAddr>,
    /// The CNAME chain followed, from the name asked to its end (empty without a CNAME).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cname_chain: Vec<String>,
    /// What each query came to, e.g. "A: answer", "AAAA: NODATA".
    pub status: Vec<String>,
}

/// Why an address is where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
pub fn explain(inp: &Inputs) -> Comparison {
    let sys = &inp.system.addresses;
    let dns = &inp.dns.addresses;
    let family_kept = |a: &IpAddr| match inp.addrconfig.and_then(HostFamilies::only) {
        Some(only) => Fam::of(a) == only,
        None => true,
    };
    let hosts_kept: Vec<&HostsHit> = inp.hosts.iter().filter(|h| family_kept(&h.address)).collect();
    // nsswitch "hosts: files dns": a hosts line for the name ends the lookup before DNS is asked.
    let from_hosts = !hosts_kept.is_empty();
    let used = inp
        .candidates
        .iter()
        .find(|(_, side)| side.addresses.iter().any(family_kept));
    let expanded = used.filter(|(c, _)| c.suffix.is_some());
    let lines = |hits: &[&HostsHit]| {
        let mut ns: Vec<String> = hits.iter().map(|h| h.line.to_string()).collect();
        ns.dedup();
        ns.join(", ")
    };
    let system_source = if from_hosts {
        format!("{} line {}", inp.hosts_path, lines(&hosts_kept))
    } else {
        match (used, &inp.system.error) {
            (_, Some(e)) => format!("none: getaddrinfo failed ({})", e.split(':').next().unwrap_or(e)),
            (Some((c, _)), None) if c.suffix.is_some() => format!("DNS, as {}", c.name),
            (Some(_), None) => "DNS, as given".to_string(),
            (None, None) => "DNS".to_string(),
        }
    };

    let expansion = |c: &Candidate| {
        format!(
            "{} (suffix '{}' from {}); {}",
            c.name,
            c.suffix.as_deref().unwrap_or_default(),
            inp.resolv_path,
            inp.rule.text
        )
    };
    let mut rows = Vec::new();
    for a in sys {
        let in_dns = dns.contains(a);
        let hit = inp.hosts.iter().find(|h| h.address == *a);
        let (reason, why) = if in_dns {
            match hit {
                Some(h) if from_hosts => (
                    Reason::Agree,
                    format!(
                        "both (the system's copy came from {} line {})",
                        inp.hosts_path, h.line
                    ),
                ),
                _ => (Reason::Agree, "both".to_string()),
            }
        } else if let Some(h) = hit {
            (
                Reason::Hosts,
                format!(
                    "{} line {} ({}): files come before dns in nsswitch.conf",
                    inp.hosts_path, h.line, h.text
                ),
            )
        } else if let Some((c, _)) = expanded.filter(|(_, side)| side.addresses.contains(a)) {
            (
                Reason::Search,
                format!("search-list expansion: the system asked {}", expansion(c)),
            )
        } else {
            (
                Reason::Unexplained,
                format!(
                    "not explained: DNS did not return it for {} or any search-list expansion",
                    inp.dns.name
                ),
            )
        };
        rows.push(Row {
            address: *a,
            system: true,
            dns: in_dns,
            reason,
            why,
        });
    }
    for a in dns.iter().filter(|a| !sys.contains(a)) {
        let (reason, why) = if !family_kept(a) {
            let fam = Fam::of(a);
            (
                Reason::Addrconfig,
                format!(
                    "AI_ADDRCONFIG dropped {}: this host has no {} address other than {}",
                    fam.name(),
                    fam.name(),
                    if fam == Fam::V4 { "127.0.0.1" } else { "::1" }
                ),
            )
        } else if from_hosts {
            (
                Reason::HostsFirst,
                format!(
                    "not used: {} line {} answered for the name first, so the system never asked DNS",
                    inp.hosts_path,
                    lines(&hosts_kept)
                ),
            )
        } else if let Some((c, _)) = expanded {
            (
                Reason::SearchFirst,
                format!(
                    "not used: a search-list expansion answered first: {}",
                    expansion(c)
                ),
            )
        } else {
            let why = match &inp.system.error {
                Some(e) => format!("not explained: the system returned no address ({e})"),
                None => "not explained: the system did not return it".to_string(),
            };
            (Reason::Unexplained, why)
        };
        rows.push(Row {
            address: *a,
            system: false,
            dns: true,
            reason,
            why,
        });
    }

    let agree = rows.iter().all(|r| r.reason == Reason::Agree);
    let mut notes = Vec::new();
    if agree {
        notes.push(if rows.is_empty() {
            format!(
                "agree: no address on either side (system: {}; DNS: {})",
                inp.system.error.as_deref().unwrap_or("none"),
                inp.dns.status.join(", ")
            )
        } else {
            format!(
                "agree: the system and DNS both give {}",
                rows.iter()
                    .map(|r| r.address.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
    }
    if let Some(canon) = &inp.system.canonical_name
        && !same_name(canon, inp.name)
    {
        notes.push(canonical_note(canon, inp, from_hosts, &hosts_kept, used));
    }
    Comparison {
        agree,
        system_source,
        rows,
        notes,
    }
}

/// Why getaddrinfo's canonical name differs from the name asked.
fn canonical_note(
    canon: &str,
    inp: &Inputs,
    from_hosts: bool,
    hosts: &[&HostsHit],
    used: Option<&(Candidate, DnsSide)>,
) -> String {
    if from_hosts {
        let first_name = hosts
            .first()
            .and_then(|h| h.text.split_whitespace().nth(1))
            .unwrap_or("");
        if same_name(first_name, canon) {
            return format!(
                "canonical name {canon}: the first name on {} line {}",
                inp.hosts_path, hosts[0].line
            );
        }
    }
    if let Some((c, side)) = used {
        if side.cname_chain.len() > 1 && side.cname_chain.last().is_some_and(|end| same_name(end, canon)) {
            return format!(
                "CNAME followed: the system went {} to its canonical name {canon}",
                side.cname_chain.join(" → ")
            );
        }
        if same_name(&c.name, canon) {
            return format!("canonical name {canon}: the search-list expansion the system used");
        }
    }
    format!("canonical name {canon}: not explained by DNS")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn dns(name: &str, addrs: &[&str]) -> DnsSide {
        DnsSide {
            name: name.into(),
            addresses: addrs.iter().map(|a| ip(a)).collect(),
            cname_chain: vec![],
            status: vec![if addrs.is_empty() {
                "A: NXDOMAIN".into()
            } else {
                "A: answer".into()
            }],
        }
    }

    fn sys(addrs: &[&str], canon: Option<&str>) -> SystemSide {
        SystemSide {
            addresses: addrs.iter().map(|a| ip(a)).collect(),
            canonical_name: canon.map(String::from),
            error: addrs.is_empty().then(|| "EAI_NONAME: no such name".to_string()),
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
                        super::DnsSide::default()
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
    fn ndots_orders_candidates_like_glibc() {
        let search = ["lab.test".to_string(), "corp.test".to_string()];
        let names = |n: &str, ndots| {
            glibc_order(n, &search, ndots)
                .0
                .into_iter()
                .map(|c| c.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(names("web", 1), ["web.lab.test.", "web.corp.test.", "web."]);
        assert_eq!(names("a.b", 1), ["a.b.", "a.b.lab.test.", "a.b.corp.test."]);
        assert_eq!(names("a.b", 2), ["a.b.lab.test.", "a.b.corp.test.", "a.b."]);
        assert_eq!(names("web.", 1), ["web."]);
        assert_eq!(glibc_order("web", &[], 1).0.len(), 1);
        let rule = glibc_order("web", &search, 1).1;
        assert_eq!((rule.dots, rule.ndots, rule.absolute), (0, 1, false));
        assert!(rule.text.contains("0 dots, fewer than ndots:1"), "{}", rule.text);
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
            "CNAME followed: the system went www.lab.test. → alias.lab.test. → web.lab.test. to its canonical name web.lab.test"
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
