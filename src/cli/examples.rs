//! The examples each subcommand's `--help` and man page show; the test suite runs every one of them (against
//! loopback or the lab), so none can rot.

/// One example command line and what it shows.
#[derive(Debug, Clone, Copy)]
pub struct Example {
    /// The whole command line, starting with `sockdiag` (or `sudo sockdiag`).
    pub command: &'static str,
    /// What it does, in a few words.
    pub says: &'static str,
}

const fn ex(command: &'static str, says: &'static str) -> Example {
    Example { command, says }
}

/// `sockdiag resolve` examples (tests/examples_resolve.rs runs each in the lab, example.org standing for its zone).
pub const RESOLVE: &[Example] = &[
    ex(
        "sockdiag resolve localhost",
        "every getaddrinfo row, as a program gets them",
    ),
    ex(
        "sockdiag resolve www.example.org --service https",
        "with the port of a service",
    ),
    ex(
        "sockdiag resolve 127.0.0.1 --service 80",
        "reverse lookup (getnameinfo)",
    ),
    ex(
        "sockdiag resolve -t MX,NS,SOA example.org",
        "ask DNS directly, like dig",
    ),
    ex("sockdiag resolve @192.0.2.53 www.example.org", "ask one server"),
    ex("sockdiag resolve -x 198.51.100.200", "PTR through DNS"),
    ex(
        "sockdiag resolve --compare www.example.org",
        "getaddrinfo beside DNS, differences explained",
    ),
];

/// `sockdiag probe` examples.
pub const PROBE: &[Example] = &[
    ex(
        "sockdiag probe db.example 5432",
        "every address of the name, both families",
    ),
    ex(
        "sockdiag probe example.org -p 22,80,443,u:53",
        "TCP and UDP ports",
    ),
    ex(
        "sockdiag probe 198.51.100.7 -",
        "all 65,535 ports; closed ones are counted",
    ),
    ex(
        "sockdiag probe [2001:db8::1]:443 -c 10 -i 0.2",
        "like ping: loss and round-trip statistics",
    ),
    ex(
        "sockdiag probe mail.example:25 --send 'EHLO x\\r\\n'",
        "show the first bytes the server answers",
    ),
    ex(
        "sockdiag --format csv probe 198.51.100.7 22,80,443",
        "one record per port, for a spreadsheet",
    ),
];

/// `sockdiag trace` examples.
pub const TRACE: &[Example] = &[
    ex(
        "sudo sockdiag trace example.org",
        "ICMP echo, every TTL in flight at once",
    ),
    ex(
        "sudo sockdiag trace -n -q 5 -m 20 2001:db8::1",
        "no names, 5 probes per hop, 20 hops at most",
    ),
    ex(
        "sudo sockdiag trace -n -w 500ms --deadline 3s 198.51.100.7",
        "each reply waited for 500 ms at most, the whole trace 3 s",
    ),
    ex(
        "sudo sockdiag --json trace -6 example.org",
        "per-probe samples and the stop reason",
    ),
    ex(
        "sudo sockdiag trace --udp -n 198.51.100.7",
        "UDP to port 33434, every probe on one flow",
    ),
    ex(
        "sockdiag trace --tcp -p 443 -n 198.51.100.7",
        "TCP SYNs (by connect() without root): open, closed or filtered",
    ),
    ex(
        "sudo sockdiag trace --mtu -n 198.51.100.7",
        "path MTU too: `pmtu 1500 -> 1400` where it drops",
    ),
];

/// `sockdiag listen` examples (the README's listen section lists the same commands; tests/examples_listen.rs runs
/// each against loopback and checks what it says).
pub const LISTEN: &[Example] = &[
    ex(
        "sockdiag listen 3490",
        "TCP and UDP, both families, echo; Ctrl-C prints the summary",
    ),
    ex(
        "sockdiag listen 0 --tcp",
        "the system picks the port (shown first)",
    ),
    ex(
        "sockdiag listen 8080 --reply 'Hello, world!' --once",
        "send one TCP client a fixed text, then stop",
    ),
    ex(
        "sockdiag listen 9000 --mode sink -b 127.0.0.1",
        "count bytes, report each client's throughput",
    ),
    ex(
        "sockdiag listen 5300 --udp --deadline 2 --quiet",
        "UDP echo for 2 seconds, no per-event log",
    ),
    ex(
        "sockdiag --json listen 5300 --udp",
        "NDJSON events on stdout, the summary last",
    ),
    ex(
        "sockdiag --format csv listen 9000 --tcp --clients 2",
        "stop after two TCP clients; the sessions as CSV",
    ),
    ex(
        "sockdiag listen 3491 --tcp --show --once",
        "print what a client sends, control bytes escaped",
    ),
    ex(
        "sockdiag listen unix:/tmp/x.sock --show",
        "a Unix stream socket; clients named by pid/uid/gid",
    ),
    ex(
        "sockdiag listen 8443 --tls --mode http",
        "HTTPS with a certificate made now (fingerprints shown)",
    ),
];

/// `sockdiag sockets` examples (tests/sockets.rs runs each in a lab namespace holding known sockets).
pub const SOCKETS: &[Example] = &[
    ex(
        "sockdiag sockets",
        "every socket of this host, with owner and diagnosis",
    ),
    ex("sockdiag sockets tcp listening", "TCP listeners only"),
    ex("sockdiag sockets :22", "sockets on port 22, either end"),
    ex(
        "sockdiag sockets state syn-sent",
        "connects still waiting for an answer",
    ),
    ex("sockdiag sockets process sshd", "what one program holds"),
    ex(
        "sockdiag sockets tcp established -c 5 -i 1s",
        "sample 5 times: retransmissions, queues, RTT",
    ),
];

/// The text after a subcommand's long help: its examples, then its notes (exit codes and the like).
pub fn after_help(examples: &[Example], notes: &str) -> String {
    let width = examples.iter().map(|e| e.command.len()).max().unwrap_or(0);
    let mut text = String::from("Examples:\n");
    for e in examples {
        text.push_str(&format!("  {:width$}  # {}\n", e.command, e.says));
    }
    text.push('\n');
    text.push_str(notes);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_are_aligned_and_followed_by_the_notes() {
        let text = after_help(
            &[ex("sockdiag a", "one"), ex("sockdiag abc", "two")],
            "Exit codes: ...",
        );
        assert_eq!(
            text,
            "Examples:\n  sockdiag a    # one\n  sockdiag abc  # two\n\nExit codes: ..."
        );
    }

    #[test]
    fn every_example_names_its_own_subcommand() {
        for (name, list) in [
            ("resolve", RESOLVE),
            ("probe", PROBE),
            ("trace", TRACE),
            ("listen", LISTEN),
        ] {
            for e in list {
                let words: Vec<&str> = e.command.split_whitespace().collect();
                assert!(
                    words.contains(&"sockdiag") && words.contains(&name),
                    "{}",
                    e.command
                );
            }
        }
    }
}
