//! Special-use names answered here without asking anyone (RFC 6761): names under `.invalid` do not exist,
//! and names under `.localhost` are this host (127.0.0.1 and ::1).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use hickory_resolver::proto::rr::rdata::{A, AAAA};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};

use super::accept::IgnoredReplies;
use super::answer::{QueryReport, Status};
use super::records::{name_text, row, type_name};

/// The local answer to a question about a special-use name; None for any other name.
pub fn answer(qname: &Name, qtype: RecordType) -> Option<QueryReport> {
    let last = qname.iter().next_back().map(|l| l.to_ascii_lowercase())?;
    match last.as_slice() {
        b"invalid" => Some(local(
            qname,
            qtype,
            Status::Nxdomain,
            Vec::new(),
            "answered here, no server asked: names under .invalid never exist (RFC 6761)",
        )),
        b"localhost" => {
            let data = match qtype {
                RecordType::A | RecordType::ANY => Some(RData::A(A(Ipv4Addr::LOCALHOST))),
                RecordType::AAAA => Some(RData::AAAA(AAAA(Ipv6Addr::LOCALHOST))),
                _ => None,
            };
            let records: Vec<Record> = data
                .into_iter()
                .map(|d| Record::from_rdata(qname.clone(), 0, d))
                .collect();
            let (status, message) = if records.is_empty() {
                (
                    Status::Nodata,
                    "answered here, no server asked: names under .localhost are this host \
                                  (RFC 6761), with only A and AAAA records",
                )
            } else {
                (
                    Status::Answer,
                    "answered here, no server asked: names under .localhost are this host (RFC 6761)",
                )
            };
            Some(local(qname, qtype, status, records, message))
        }
        _ => None,
    }
}

fn local(
    qname: &Name,
    qtype: RecordType,
    status: Status,
    records: Vec<Record>,
    message: &str,
) -> QueryReport {
    QueryReport {
        name: name_text(qname),
        qtype: type_name(qtype),
        status,
        rcode: Some(
            if status == Status::Nxdomain {
                "NXDOMAIN"
            } else {
                "NOERROR"
            }
            .into(),
        ),
        server: None,
        transport: None,
        truncated_udp: false,
        query_time_ms: None,
        size_bytes: None,
        authoritative: None,
        authentic_data: None,
        records: records.iter().map(row).collect(),
        negative_ttl: None,
        soa: None,
        message: Some(message.into()),
        ignored_records: Vec::new(),
        ignored_replies: IgnoredReplies::default(),
        validation: None,
        tries: Vec::new(),
        elapsed: Duration::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn name(text: &str) -> Name {
        Name::from_str(text).unwrap()
    }

    #[test]
    fn invalid_and_localhost_are_answered_here() {
        let r = answer(&name("foo.INVALID."), RecordType::A).unwrap();
        assert_eq!((r.status, r.tries.len()), (Status::Nxdomain, 0));
        let r = answer(&name("app.localhost."), RecordType::AAAA).unwrap();
        assert_eq!(r.status, Status::Answer);
        assert_eq!(r.records[0].data, "::1");
        assert_eq!(
            answer(&name("localhost."), RecordType::MX).unwrap().status,
            Status::Nodata
        );
        assert!(answer(&name("localhost.example."), RecordType::A).is_none());
        assert!(answer(&name("invalid.example."), RecordType::A).is_none());
        assert!(answer(&Name::root(), RecordType::NS).is_none());
    }
}
