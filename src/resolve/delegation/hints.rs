//! Where `--trace` starts: the root's servers from `--root-hints FILE` (zone-file lines: `. NS name` and
//! `name A|AAAA address`, like named.root), or the IANA root servers' IPv4 addresses built in.

use std::net::IpAddr;
use std::path::Path;

use crate::error::{Error, Result};

/// The servers of the zone where the walk starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hints {
    /// The zone they serve (the root, unless the file names another).
    pub zone: String,
    /// Each server's name and addresses.
    pub servers: Vec<(String, Vec<IpAddr>)>,
    /// Where they came from, for the report.
    pub source: String,
}

/// The IANA root servers (a to m), IPv4.
const ROOT_SERVERS: [(&str, &str); 13] = [
    ("a.root-servers.net.", "198.41.0.4"),
    ("b.root-servers.net.", "170.247.170.2"),
    ("c.root-servers.net.", "192.33.4.12"),
    ("d.root-servers.net.", "199.7.91.13"),
    ("e.root-servers.net.", "192.203.230.10"),
    ("f.root-servers.net.", "192.5.5.241"),
    ("g.root-servers.net.", "192.112.36.4"),
    ("h.root-servers.net.", "198.97.190.53"),
    ("i.root-servers.net.", "192.36.148.17"),
    ("j.root-servers.net.", "192.58.128.30"),
    ("k.root-servers.net.", "193.0.14.129"),
    ("l.root-servers.net.", "199.7.83.42"),
    ("m.root-servers.net.", "202.12.27.33"),
];

/// The hints of FILE, or the root servers built in.
pub fn load(file: Option<&Path>) -> Result<Hints> {
    let Some(path) = file else {
        return Ok(Hints {
            zone: ".".into(),
            servers: ROOT_SERVERS
                .iter()
                .map(|(n, a)| (n.to_string(), vec![a.parse().expect("a root server address")]))
                .collect(),
            source: "the root servers built in".into(),
        });
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::usage(format!(
            "--root-hints {}: {}",
            path.display(),
            crate::error::plain_io(&e)
        ))
    })?;
    parse(&text).map_err(|why| {
        Error::usage(format!(
            "--root-hints {}: {why}; accepted: zone-file lines `. NS a.root.` and `a.root. A 192.0.2.1` (AAAA too)",
            path.display()
        ))
    })
    .map(|mut h| {
        h.source = path.display().to_string();
        h
    })
}

/// Absolute, lower case.
fn absolute(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with('.') {
        lower
    } else {
        format!("{lower}.")
    }
}

/// Parses the hints: NS lines name the servers (and the zone), A/AAAA lines their addresses.
pub fn parse(text: &str) -> std::result::Result<Hints, String> {
    let mut zone: Option<String> = None;
    let mut names: Vec<String> = Vec::new();
    let mut addrs: Vec<(String, IpAddr)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split(';').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line
            .split_whitespace()
            .filter(|w| !w.eq_ignore_ascii_case("IN") && !w.chars().all(|c| c.is_ascii_digit()))
            .collect();
        let [owner, rtype, data] = words[..] else {
            return Err(format!("line {}: expected OWNER [TTL] [IN] TYPE DATA", i + 1));
        };
        match rtype.to_ascii_uppercase().as_str() {
            "NS" => {
                let owner = absolute(owner);
                if zone.get_or_insert_with(|| owner.clone()) != &owner {
                    return Err(format!("line {}: NS records of two zones", i + 1));
                }
                names.push(absolute(data));
            }
            "A" | "AAAA" => {
                let ip: IpAddr = data
                    .parse()
                    .map_err(|_| format!("line {}: bad address '{data}'", i + 1))?;
                addrs.push((absolute(owner), ip));
            }
            other => return Err(format!("line {}: type {other} (only NS, A and AAAA)", i + 1)),
        }
    }
    let zone = zone.ok_or("no NS line")?;
    let servers: Vec<(String, Vec<IpAddr>)> = names
        .into_iter()
        .map(|n| {
            let ips = addrs.iter().filter(|(o, _)| *o == n).map(|(_, ip)| *ip).collect();
            (n, ips)
        })
        .collect();
    if servers
        .iter()
        .all(|(_, ips): &(String, Vec<IpAddr>)| ips.is_empty())
    {
        return Err("no address for any NS name".into());
    }
    Ok(Hints {
        zone,
        servers,
        source: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_in_zone_file_form() {
        let h = parse(
            ".  3600000 IN NS a.root.test.\n. NS B.root.test\n; comment\na.root.test. 3600000 A 203.0.113.1\n\
             b.root.test. AAAA 2001:db8::1\nb.root.test. A 203.0.113.2\n",
        )
        .unwrap();
        assert_eq!(h.zone, ".");
        assert_eq!(
            h.servers,
            vec![
                ("a.root.test.".into(), vec!["203.0.113.1".parse().unwrap()]),
                (
                    "b.root.test.".into(),
                    vec!["2001:db8::1".parse().unwrap(), "203.0.113.2".parse().unwrap()]
                ),
            ]
        );
        assert_eq!(load(None).unwrap().servers.len(), 13);
    }

    #[test]
    fn bad_hints_say_which_line() {
        for (text, why) in [
            ("", "no NS line"),
            (". NS a.\n", "no address"),
            (". NS a.\na. A 999.1.1.1\n", "line 2: bad address"),
            (". NS a. extra\n", "line 1: expected"),
            (". NS a.\nx. NS b.\n", "two zones"),
            (". NS a.\na. TXT x\n", "type TXT"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(why), "{text:?}: {err}");
        }
    }
}
