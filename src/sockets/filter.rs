//! The filter words a user types after `sockdiag sockets`: `:3490`, `port 3490`, `listening`, `established`,
//! `state syn-sent`, `tcp`, `udp`, `raw`, `unix`, `pid 1234`, `process nginx`, an address or a CIDR prefix. Words of
//! one kind widen (`tcp udp`: either); kinds narrow (`tcp :22`: TCP and port 22).

use std::net::IpAddr;

use ipnet::IpNet;

use super::model::{Proto, SocketRow};
use crate::error::{Error, Result};

/// What the filter words ask for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Protocols (none: all).
    pub protos: Vec<Proto>,
    /// States as ss names them (none: all).
    pub states: Vec<&'static str>,
    /// Ports, local or peer.
    pub ports: Vec<u16>,
    /// Owning process ids.
    pub pids: Vec<u32>,
    /// Owning process names (a part of the command name).
    pub processes: Vec<String>,
    /// Addresses or prefixes, local or peer.
    pub nets: Vec<IpNet>,
}

const ACCEPTED: &str = "accepted: tcp, udp, raw, unix, listening, established, state NAME, :PORT, port PORT, \
                        pid PID, process NAME, an IP address or a CIDR prefix";

/// States `state NAME` accepts, in the words ss uses.
const STATES: [(&str, &str); 12] = [
    ("established", "ESTAB"),
    ("syn-sent", "SYN-SENT"),
    ("syn-recv", "SYN-RECV"),
    ("fin-wait-1", "FIN-WAIT-1"),
    ("fin-wait-2", "FIN-WAIT-2"),
    ("time-wait", "TIME-WAIT"),
    ("closed", "UNCONN"),
    ("unconnected", "UNCONN"),
    ("close-wait", "CLOSE-WAIT"),
    ("last-ack", "LAST-ACK"),
    ("listening", "LISTEN"),
    ("closing", "CLOSING"),
];

impl Filter {
    /// Parses the words, or says which one is not understood and what is accepted.
    pub fn parse(words: &[String]) -> Result<Filter> {
        let mut f = Filter::default();
        let mut words = words.iter().map(String::as_str);
        while let Some(word) = words.next() {
            let mut value = |what: &str| {
                words
                    .next()
                    .ok_or_else(|| Error::usage(format!("'{word}' needs {what} after it; {ACCEPTED}")))
            };
            match word.to_ascii_lowercase().as_str() {
                "tcp" => f.protos.push(Proto::Tcp),
                "udp" => f.protos.push(Proto::Udp),
                "raw" => f.protos.push(Proto::Raw),
                "unix" => f.protos.push(Proto::Unix),
                "listening" | "listen" => f.states.extend(["LISTEN", "UNCONN"]),
                "established" => f.states.push("ESTAB"),
                "state" => f.states.push(state(value("a state name")?)?),
                "port" => f.ports.push(port(value("a port number")?)?),
                "pid" => f.pids.push(pid(value("a process id")?)?),
                "process" => f.processes.push(value("a process name")?.to_string()),
                _ => f.word(word)?,
            }
        }
        Ok(f)
    }

    /// `:PORT`, an address or a prefix.
    fn word(&mut self, word: &str) -> Result<()> {
        if let Some(p) = word.strip_prefix(':') {
            self.ports.push(port(p)?);
        } else if let Ok(ip) = word.parse::<IpAddr>() {
            self.nets.push(IpNet::from(ip));
        } else if let Ok(net) = word.parse::<IpNet>() {
            self.nets.push(net);
        } else {
            return Err(Error::usage(format!("unknown filter word '{word}'; {ACCEPTED}")));
        }
        Ok(())
    }

    /// Whether a row passes every kind of word given.
    pub fn matches(&self, row: &SocketRow) -> bool {
        let ends = || row.local_addr.into_iter().chain(row.peer_addr);
        (self.protos.is_empty() || self.protos.contains(&row.proto))
            && (self.states.is_empty() || self.states.contains(&row.state))
            && (self.ports.is_empty() || ends().any(|a| self.ports.contains(&a.port())))
            && (self.nets.is_empty() || ends().any(|a| self.nets.iter().any(|n| n.contains(&a.ip()))))
            && (self.pids.is_empty() || row.owners.iter().any(|o| self.pids.contains(&o.pid)))
            && (self.processes.is_empty()
                || row
                    .owners
                    .iter()
                    .any(|o| self.processes.iter().any(|p| o.process.contains(p.as_str()))))
    }

    /// Whether a row's owners decide whether it passes (`pid`, `process`).
    pub fn needs_owners(&self) -> bool {
        !self.pids.is_empty() || !self.processes.is_empty()
    }

    /// Whether sockets of this protocol can pass: a dump no word wants is not asked for.
    pub fn wants(&self, proto: Proto) -> bool {
        self.protos.is_empty() || self.protos.contains(&proto)
    }
}

fn state(name: &str) -> Result<&'static str> {
    let lower = name.to_ascii_lowercase();
    STATES
        .iter()
        .find(|(word, ss)| *word == lower || ss.eq_ignore_ascii_case(&lower))
        .map(|(_, ss)| *ss)
        .ok_or_else(|| {
            let names: Vec<&str> = STATES.iter().map(|(w, _)| *w).collect();
            Error::usage(format!("unknown state '{name}'; accepted: {}", names.join(", ")))
        })
}

fn port(text: &str) -> Result<u16> {
    text.parse()
        .map_err(|_| Error::usage(format!("bad port '{text}'; accepted: a number 0-65535")))
}

fn pid(text: &str) -> Result<u32> {
    text.parse()
        .map_err(|_| Error::usage(format!("bad process id '{text}'; accepted: a number")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &str) -> Result<Filter> {
        Filter::parse(&words.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn words_as_users_type_them() {
        let f = parse("tcp :3490 state syn-sent 198.51.100.0/24 pid 12 process nginx").unwrap();
        assert_eq!(f.protos, [Proto::Tcp]);
        assert_eq!(f.ports, [3490]);
        assert_eq!(f.states, ["SYN-SENT"]);
        assert_eq!(f.nets, ["198.51.100.0/24".parse::<IpNet>().unwrap()]);
        assert_eq!(
            (f.pids.as_slice(), f.processes.as_slice()),
            (&[12][..], &["nginx".to_string()][..])
        );
        assert_eq!(parse("port 22 established").unwrap().states, ["ESTAB"]);
        assert_eq!(parse("2001:db8::1").unwrap().nets[0].prefix_len(), 128);
        assert_eq!(parse("state TIME-WAIT").unwrap().states, ["TIME-WAIT"]);
    }

    #[test]
    fn bad_words_say_what_is_accepted() {
        let err = parse("tcp nonsense").unwrap_err().to_string();
        assert!(
            err.contains("'nonsense'") && err.contains("accepted: tcp"),
            "{err}"
        );
        assert!(
            parse("port")
                .unwrap_err()
                .to_string()
                .contains("needs a port number")
        );
        assert!(parse(":99999").is_err());
        assert!(
            parse("state sleepy")
                .unwrap_err()
                .to_string()
                .contains("syn-sent")
        );
        assert!(parse("pid x").is_err());
    }
}
