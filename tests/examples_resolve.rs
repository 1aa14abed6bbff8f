//! Every `sockdiag resolve` example, of `--help` (`cli::examples::RESOLVE`) and of the README's resolve sections,
//! run in a lab namespace whose resolver is the lab's DNS server, its output checked. The examples name
//! documentation names; [`MAPPING`] says what stands for each in the lab.

use std::net::IpAddr;

use crate::support::dns::{DnsServer, lab_zone as lz};
use crate::support::{Netns, addr, sockdiag};

use crate::resolve_formats::valid;

/// What the examples write, and what the lab has in its place: the zone `example.org` is the lab's `lab.test`
/// (www, mail and the apex have the same roles there), 192.0.2.53 is the lab's DNS server.
const MAPPING: [(&str, &str); 2] = [("example.org", "lab.test"), ("192.0.2.53", "203.0.113.253")];

/// The names file of the `-f names.txt` example.
const NAMES_FILE: &str = "www.lab.test\nv6only.lab.test\n";

/// How an example must end, and text its output must show (lab names and addresses).
struct Expect {
    exit: i32,
    shows: Vec<String>,
}

fn expect(exit: i32, shows: &[&dyn ToString]) -> Expect {
    Expect {
        exit,
        shows: shows.iter().map(|s| s.to_string()).collect(),
    }
}

/// What each example must do; an example missing here fails the test, so a new one gets a check too.
fn expectation(command: &str) -> Option<Expect> {
    let (v4, v6) = (lz::HOST_V4, lz::HOST_V6);
    let dns = addr::LAB_DNS_V4;
    Some(match command {
        "sockdiag resolve localhost" => {
            expect(0, &[&"127.0.0.1", &"::1", &"stream", &"# 1 name looked up in"])
        }
        "sockdiag resolve www.example.org --service https" => {
            expect(0, &[&v4, &v6, &"443", &"host.lab.test", &"service=https"])
        }
        "sockdiag resolve www.example.org -6 --socket-type stream --ai-addrconfig" => {
            expect(0, &[&v6, &"flags=AI_CANONNAME|AI_ADDRCONFIG"])
        }
        "sockdiag resolve --ai-passive --service 8080" => {
            expect(0, &[&"0.0.0.0", &"::", &"8080", &"AI_PASSIVE"])
        }
        "sockdiag resolve 127.0.0.1 --service 80" => expect(0, &[&"localhost", &"80 (http)", &"getnameinfo"]),
        "sockdiag resolve www.example.org mail.example.org" => {
            expect(0, &[&v4, &lz::MAIL_V4, &"2 names looked up in"])
        }
        "sockdiag resolve -t MX,NS,SOA example.org" => expect(
            0,
            &[
                &"10 mail.lab.test.",
                &"ns1.lab.test.",
                &"server: the system's",
                &"3 answered",
            ],
        ),
        "sockdiag resolve @192.0.2.53 www.example.org" => expect(
            0,
            &[
                &"host.lab.test.",
                &v4,
                &format!("server: {dns}:53"),
                &"1 answered",
            ],
        ),
        "sockdiag resolve -t common example.org --tcp -w 1" => expect(
            0,
            &[&"tcp only", &"1.00 s per try", &"NODATA", &"10 mail.lab.test."],
        ),
        "sockdiag resolve -x 198.51.100.200" => {
            expect(0, &[&"200.100.51.198.in-addr.arpa.", &"PTR", &"host.lab.test."])
        }
        "sockdiag resolve -t AAAA -f names.txt --json" => {
            expect(0, &[&"\"mode\": \"dns\"", &v6, &lz::V6ONLY_V6])
        }
        "sockdiag resolve --compare www.example.org" => {
            expect(0, &[&"www.lab.test: agree", &"both", &"1 name compared in"])
        }
        "sockdiag resolve --short @192.0.2.53 www.example.org" => expect(0, &[&"host.lab.test.\n", &v4]),
        // The lab namespace's resolv.conf names the lab server by both its addresses.
        "sockdiag resolve --servers-compare www.example.org" => expect(
            0,
            &[
                &"203.0.113.253:53",
                &"[2001:db8:53::53]:53",
                &v4,
                &"1 agree, 0 differ",
            ],
        ),
        // The lab server answers plain DNS only: the encrypted examples run, name the transport and the refusal.
        "sockdiag resolve @tls://192.0.2.53#dns.example.org www.example.org" => expect(
            1,
            &[
                &"over TLS (DoT) to 203.0.113.253:853",
                &"no connection: connection refused",
                &"tls",
            ],
        ),
        "sockdiag resolve @https://192.0.2.53/dns-query#dns.example.org www.example.org" => expect(
            1,
            &[
                &"over HTTPS (DoH) to 203.0.113.253:443",
                &"no connection: connection refused",
            ],
        ),
        // The lab zone is unsigned and its server serves no parent that could prove it so: bogus, and why.
        "sockdiag resolve --validate @192.0.2.53 www.example.org" => expect(
            1,
            &[
                &v4,
                &"udp bogus",
                &"from the root's key",
                &"bogus: www.lab.test. A: missing signature",
            ],
        ),
        // The hints name the lab server, which answers for lab.test itself: the walk ends at the first step.
        "sockdiag resolve --trace --root-hints named.root www.example.org" => expect(
            0,
            &[
                &"www.lab.test. A",
                &"ns1.lab.test.",
                &"CNAME host.lab.test.",
                &"1 question walked",
            ],
        ),
        "sockdiag resolve münchen.example.org" => expect(
            0,
            &[
                &"xn--mnchen-3ya.lab.test",
                &lz::MUENCHEN_V4,
                &"münchen.lab.test is xn--mnchen-3ya.lab.test",
            ],
        ),
        "sockdiag resolve --format csv www.example.org" => expect(0, &[&"name,lookup,status", &v4, &v6]),
        _ => return None,
    })
}

/// The example commands of the README's resolve sections (```sh blocks under a `### resolve` heading).
fn readme_examples() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let mut in_resolve = false;
    let mut in_block = false;
    let mut commands = Vec::new();
    for line in readme.lines() {
        if let Some(heading) = line.strip_prefix("### ") {
            in_resolve = heading.starts_with("resolve");
        } else if line.starts_with("```") {
            in_block = !in_block;
        } else if in_resolve && in_block {
            let command = line.split(" #").next().unwrap().trim();
            assert!(
                command.starts_with("sockdiag resolve"),
                "not a resolve example: {line}"
            );
            commands.push(command.to_string());
        }
    }
    commands
}

/// Every example: `--help`'s, then the README's.
fn examples() -> Vec<String> {
    let mut all: Vec<String> = sockdiag::cli::examples::RESOLVE
        .iter()
        .map(|e| e.command.to_string())
        .collect();
    for command in readme_examples() {
        if !all.contains(&command) {
            all.push(command);
        }
    }
    all
}

/// The example's arguments with the lab's names, addresses and files in place of the documentation's.
fn lab_args(command: &str, names_file: &str) -> Vec<String> {
    command
        .split_whitespace()
        .skip(1)
        .map(|word| {
            let word = MAPPING
                .iter()
                .fold(word.to_string(), |w, (doc, lab)| w.replace(doc, lab));
            match word.as_str() {
                "names.txt" => names_file.to_string(),
                // The root hints of the --trace example: the lab server, beside the names file.
                "named.root" => format!("{names_file}.root"),
                _ => word,
            }
        })
        .collect()
}

#[test]
fn the_mapping_names_the_lab_server_and_zone() {
    assert_eq!(MAPPING[0].1, lz::ORIGIN);
    assert_eq!(
        MAPPING[1].1.parse::<IpAddr>().unwrap(),
        IpAddr::V4(addr::LAB_DNS_V4)
    );
    assert_eq!(
        lab_args("sockdiag resolve @192.0.2.53 -f names.txt mail.example.org", "/x"),
        ["resolve", "@203.0.113.253", "-f", "/x", "mail.lab.test"]
    );
}

#[test]
fn every_resolve_example_runs_in_the_lab_and_shows_what_it_says() {
    needs!(lab);
    let ns = Netns::new();
    let _dns = DnsServer::start_in(&ns, &[lz::lab_zone()]);
    let names_file = std::env::temp_dir().join(format!("sdg-example-names-{}.txt", std::process::id()));
    std::fs::write(&names_file, NAMES_FILE).unwrap();
    let hints_file = format!("{}.root", names_file.display());
    std::fs::write(
        &hints_file,
        format!(". NS ns1.lab.test.\nns1.lab.test. A {}\n", addr::LAB_DNS_V4),
    )
    .unwrap();
    let examples = examples();
    assert!(examples.len() >= 10, "{examples:?}");
    let mut failures = Vec::new();
    for command in &examples {
        let Some(want) = expectation(command) else {
            failures.push(format!("{command}: no expectation in examples_resolve.rs"));
            continue;
        };
        let args = lab_args(command, names_file.to_str().unwrap());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = sockdiag(&args).in_ns(&ns).run();
        let stdout = out.stdout();
        if out.code() != want.exit {
            failures.push(format!(
                "{command}: exit {} (want {})\n{stdout}{}",
                out.code(),
                want.exit,
                out.stderr()
            ));
        }
        for text in &want.shows {
            if !stdout.contains(text.as_str()) {
                failures.push(format!("{command}: no {text:?} in\n{stdout}"));
            }
        }
        if args.contains(&"--json") {
            valid(out.json());
        }
    }
    let _ = std::fs::remove_file(&names_file);
    let _ = std::fs::remove_file(&hints_file);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
