//! What one server's reply to an iterative query says about its zone: the answer (or NXDOMAIN/NODATA) with
//! authority, a referral to a zone below, or a lame reply (refused, no authority, an upward referral).

use std::net::IpAddr;

use hickory_resolver::proto::op::{Message, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, RecordType};

/// A server's reply, classified against the zone it was asked as a server of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Authoritative records for the question (or the CNAME it starts with).
    Answer(Vec<String>),
    /// Authoritative: the name does not exist.
    Nxdomain,
    /// Authoritative: the name has no record of the type.
    Nodata,
    /// A delegation to a zone below: its NS names and the glue addresses that came with them.
    Referral {
        /// The child zone.
        zone: String,
        /// Its name servers, sorted.
        ns: Vec<String>,
        /// Addresses given for them in the additional section.
        glue: Vec<(String, IpAddr)>,
    },
    /// Not a server of the zone, in words.
    Lame(String),
}

/// Absolute, lower case.
pub fn text(name: &Name) -> String {
    let mut s = name.to_ascii().to_ascii_lowercase();
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

/// Classifies `message`, the reply of a server of `zone` to `qname qtype`.
pub fn classify(message: &Message, zone: &Name, qname: &Name, qtype: RecordType) -> Reply {
    let meta = &message.metadata;
    match meta.response_code {
        ResponseCode::NoError | ResponseCode::NXDomain => {}
        ResponseCode::Refused => return Reply::Lame(format!("refused: does not serve {}", text(zone))),
        other => return Reply::Lame(format!("answered {other} for {}", text(zone))),
    }
    if meta.authoritative {
        if meta.response_code == ResponseCode::NXDomain {
            return Reply::Nxdomain;
        }
        let data: Vec<String> = message
            .answers
            .iter()
            .filter(|r| r.record_type() == qtype || r.record_type() == RecordType::CNAME)
            .map(|r| format!("{} {}", r.record_type(), r.data))
            .collect();
        return if data.is_empty() {
            Reply::Nodata
        } else {
            Reply::Answer(data)
        };
    }
    let mut ns: Vec<(Name, String)> = message
        .authorities
        .iter()
        .filter_map(|r| match &r.data {
            RData::NS(n) => Some((r.name.clone(), text(&n.0))),
            _ => None,
        })
        .collect();
    let Some((child, _)) = ns.first().cloned() else {
        return Reply::Lame(format!("no authority for {} and no referral", text(zone)));
    };
    let below = child != *zone && zone.zone_of(&child) && child.zone_of(qname);
    if !below {
        return Reply::Lame(format!(
            "not authoritative: refers upward or aside to {}",
            text(&child)
        ));
    }
    ns.retain(|(owner, _)| *owner == child);
    let mut names: Vec<String> = ns.into_iter().map(|(_, n)| n).collect();
    names.sort();
    names.dedup();
    let glue = message
        .additionals
        .iter()
        .filter_map(|r| {
            let ip = match &r.data {
                RData::A(a) => IpAddr::V4(a.0),
                RData::AAAA(a) => IpAddr::V6(a.0),
                _ => return None,
            };
            let owner = text(&r.name);
            names.contains(&owner).then_some((owner, ip))
        })
        .collect();
    Reply::Referral {
        zone: text(&child),
        ns: names,
        glue,
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use hickory_resolver::proto::op::OpCode;
    use hickory_resolver::proto::rr::Record;
    use hickory_resolver::proto::rr::rdata::{A, NS};

    use super::*;

    fn name(s: &str) -> Name {
        Name::from_str(s).unwrap()
    }

    fn reply(aa: bool, rcode: ResponseCode) -> Message {
        let mut m = Message::response(1, OpCode::Query);
        m.metadata.authoritative = aa;
        m.metadata.response_code = rcode;
        m
    }

    #[test]
    fn referrals_answers_and_lame_replies() {
        let (root, q) = (name("."), name("www.zone.test."));
        let mut referral = reply(false, ResponseCode::NoError);
        referral.add_authority(Record::from_rdata(
            name("test."),
            60,
            RData::NS(NS(name("ns1.test."))),
        ));
        referral.add_additional(Record::from_rdata(
            name("ns1.test."),
            60,
            RData::A(A::new(203, 0, 113, 1)),
        ));
        assert_eq!(
            classify(&referral, &root, &q, RecordType::A),
            Reply::Referral {
                zone: "test.".into(),
                ns: vec!["ns1.test.".into()],
                glue: vec![("ns1.test.".into(), "203.0.113.1".parse().unwrap())],
            }
        );
        // The same referral from a server of test. itself points upward: lame.
        assert!(matches!(
            classify(&referral, &name("test."), &q, RecordType::A),
            Reply::Lame(_)
        ));
        let mut answer = reply(true, ResponseCode::NoError);
        answer.add_answer(Record::from_rdata(
            q.clone(),
            60,
            RData::A(A::new(198, 51, 100, 1)),
        ));
        assert_eq!(
            classify(&answer, &name("zone.test."), &q, RecordType::A),
            Reply::Answer(vec!["A 198.51.100.1".into()])
        );
        assert_eq!(
            classify(&reply(true, ResponseCode::NXDomain), &root, &q, RecordType::A),
            Reply::Nxdomain
        );
        assert_eq!(
            classify(&reply(true, ResponseCode::NoError), &root, &q, RecordType::A),
            Reply::Nodata
        );
        let refused = classify(
            &reply(false, ResponseCode::Refused),
            &name("zone.test."),
            &q,
            RecordType::A,
        );
        assert_eq!(refused, Reply::Lame("refused: does not serve zone.test.".into()));
        assert!(matches!(
            classify(&reply(false, ResponseCode::NoError), &root, &q, RecordType::A),
            Reply::Lame(_)
        ));
    }
}
