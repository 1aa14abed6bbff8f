//! Pure record rendering the way dig users read it, CNAME chain ordering and negative-answer TTLs.

use std::net::IpAddr;

use hickory_resolver::proto::rr::{DNSClass, Name, RData, Record, RecordType};
use schemars::JsonSchema;
use serde::Serialize;

/// One resource record as reported: owner, type, TTL, dig-style text and typed fields for scripts.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq, Eq)]
pub struct RecordRow {
    /// Owner name, absolute (trailing dot), in ASCII.
    pub name: String,
    /// Record type as DNS names it (A, AAAA, MX, ...).
    #[serde(rename = "type")]
    pub rtype: String,
    /// TTL in seconds, as the server sent it (DNS's own unit and name, as dig shows it).
    pub ttl: u32,
    /// The data as dig prints it.
    pub data: String,
    /// The data split into its fields, by the record's type; null for a type shown only as text.
    pub fields: Option<Fields>,
}

/// The typed fields of a record's data; which ones depends on the record's `type`.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(untagged)]
pub enum Fields {
    /// A, AAAA.
    Address {
        /// The address.
        address: IpAddr,
    },
    /// CNAME, NS, PTR.
    Target {
        /// The name pointed to.
        target: String,
    },
    /// MX.
    Mx {
        /// Lower is preferred.
        preference: u16,
        /// The mail exchanger.
        exchange: String,
    },
    /// SRV.
    Srv {
        /// Lower is preferred.
        priority: u16,
        /// Share among equal priorities.
        weight: u16,
        /// Service port.
        port: u16,
        /// Host offering the service.
        target: String,
    },
    /// TXT: the character strings, each decoded lossily as UTF-8.
    Txt {
        /// The strings in order.
        strings: Vec<String>,
    },
    /// SOA.
    Soa {
        /// Primary server.
        mname: String,
        /// Responsible mailbox, as a name.
        rname: String,
        /// Zone serial.
        serial: u32,
        /// Seconds between refreshes of a secondary.
        refresh: i32,
        /// Seconds between retries of a failed refresh.
        retry: i32,
        /// Seconds after which a secondary stops answering.
        expire: i32,
        /// Negative-caching TTL (RFC 2308).
        minimum: u32,
    },
    /// CAA.
    Caa {
        /// Flags byte (128: issuer critical).
        flags: u8,
        /// Property tag.
        tag: String,
        /// Property value, decoded lossily as UTF-8.
        value: String,
    },
}

/// A name as dig prints it: absolute with a trailing dot, each label in the master-file notation of RFC 1035 5.1
/// (`\.` and `\\` inside a label, `\DDD` for bytes outside printable ASCII), the one notation used for every
/// piece of DNS data here.
pub fn name_text(name: &Name) -> String {
    if name.is_root() {
        return ".".to_string();
    }
    let mut out = String::new();
    for label in name.iter() {
        for &b in label {
            match b {
                b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$' => {
                    out.push('\\');
                    out.push(b as char);
                }
                0x21..=0x7e => out.push(b as char),
                _ => push_decimal(&mut out, b),
            }
        }
        out.push('.');
    }
    out
}

/// One byte as `\DDD`, three decimal digits.
fn push_decimal(out: &mut String, b: u8) {
    out.push_str(&format!("\\{b:03}"));
}

/// Quotes a character string as dig does: `"` and `\` escaped, bytes outside printable ASCII as `\DDD`.
pub fn quote(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => push_decimal(&mut out, b),
        }
    }
    out.push('"');
    out
}

/// Text from a record's own display with control characters in the same `\DDD` notation (each UTF-8 byte of a
/// Unicode control, bidirectional or zero-width character), so a hostile server cannot send terminal escape
/// sequences through a record type rendered opaquely.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if crate::text::is_unsafe(c) {
            let mut buf = [0; 4];
            for &b in c.encode_utf8(&mut buf).as_bytes() {
                push_decimal(&mut out, b);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Renders one record.
pub fn row(record: &Record) -> RecordRow {
    let (data, fields) = data_of(&record.data);
    RecordRow {
        name: name_text(&record.name),
        rtype: record.record_type().to_string(),
        ttl: record.ttl,
        data,
        fields,
    }
}

/// The dig-style text and the typed fields of a record's data (None: a type shown only as text).
fn data_of(rdata: &RData) -> (String, Option<Fields>) {
    match typed(rdata) {
        Some((text, fields)) => (text, Some(fields)),
        None => (printable(&rdata.to_string()), None),
    }
}

/// The types reported field by field.
fn typed(rdata: &RData) -> Option<(String, Fields)> {
    Some(match rdata {
        RData::A(a) => (a.0.to_string(), Fields::Address { address: a.0.into() }),
        RData::AAAA(a) => (a.0.to_string(), Fields::Address { address: a.0.into() }),
        RData::CNAME(n) => target(&n.0),
        RData::NS(n) => target(&n.0),
        RData::PTR(n) => target(&n.0),
        RData::MX(mx) => {
            let exchange = name_text(&mx.exchange);
            (
                format!("{} {exchange}", mx.preference),
                Fields::Mx {
                    preference: mx.preference,
                    exchange,
                },
            )
        }
        RData::SRV(srv) => {
            let target = name_text(&srv.target);
            (
                format!("{} {} {} {target}", srv.priority, srv.weight, srv.port),
                Fields::Srv {
                    priority: srv.priority,
                    weight: srv.weight,
                    port: srv.port,
                    target,
                },
            )
        }
        RData::TXT(txt) => (
            txt.txt_data
                .iter()
                .map(|s| quote(s))
                .collect::<Vec<_>>()
                .join(" "),
            Fields::Txt {
                strings: txt
                    .txt_data
                    .iter()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect(),
            },
        ),
        RData::SOA(soa) => {
            let (mname, rname) = (name_text(&soa.mname), name_text(&soa.rname));
            (
                format!(
                    "{mname} {rname} {} {} {} {} {}",
                    soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum
                ),
                Fields::Soa {
                    mname,
                    rname,
                    serial: soa.serial,
                    refresh: soa.refresh,
                    retry: soa.retry,
                    expire: soa.expire,
                    minimum: soa.minimum,
                },
            )
        }
        RData::CAA(caa) => (
            format!(
                "{} {} {}",
                caa.flags(),
                printable(&caa.tag.to_string()),
                quote(&caa.value)
            ),
            Fields::Caa {
                flags: caa.flags(),
                tag: caa.tag.clone(),
                value: String::from_utf8_lossy(&caa.value).into_owned(),
            },
        ),
        _ => return None,
    })
}

fn target(name: &Name) -> (String, Fields) {
    let text = name_text(name);
    (text.clone(), Fields::Target { target: text })
}

/// An answer section sorted out: what answers the question, what does not and why, and the chain's end.
#[derive(Debug, Clone)]
pub struct Sorted {
    /// The CNAME chain from the query name, then the records at its end, in the order the server sent them.
    pub answers: Vec<Record>,
    /// Records that do not answer the question, each with the reason.
    pub ignored: Vec<(Record, String)>,
    /// The end of the CNAME chain (the query name when there is none).
    pub end: Name,
}

/// Sorts an answer section as a reader follows it: only class IN records owned by the query name or by a name
/// on its CNAME chain answer it; anything else a server put there (another name, another class) is set aside
/// with the reason, so it is never taken for the name's data.
pub fn sort_answer(section: &[Record], qname: &Name) -> Sorted {
    let mut used = vec![false; section.len()];
    let mut answers = Vec::with_capacity(section.len());
    let mut ignored = Vec::new();
    for (i, record) in section.iter().enumerate() {
        if record.dns_class != DNSClass::IN {
            used[i] = true;
            ignored.push((record.clone(), format!("class {}, not IN", record.dns_class)));
        }
    }
    let mut current = qname.clone();
    // A chain cannot be longer than the section; the bound also stops a CNAME loop.
    for _ in 0..section.len() {
        let next = section.iter().enumerate().find(|(i, r)| {
            !used[*i] && r.record_type() == RecordType::CNAME && r.name.eq_ignore_root(&current)
        });
        let Some((i, record)) = next else { break };
        used[i] = true;
        answers.push(record.clone());
        if let RData::CNAME(target) = &record.data {
            current = target.0.clone();
        }
    }
    for (i, record) in section.iter().enumerate() {
        if !used[i] && record.name.eq_ignore_root(&current) {
            used[i] = true;
            answers.push(record.clone());
        }
    }
    let asked = name_text(qname);
    for (i, record) in section.iter().enumerate() {
        if !used[i] {
            let why = if current.eq_ignore_root(qname) {
                format!("owner is not {asked}, the name asked")
            } else {
                format!("owner is neither {asked} nor on its CNAME chain")
            };
            ignored.push((record.clone(), why));
        }
    }
    Sorted {
        answers,
        ignored,
        end: current,
    }
}

/// The negative-caching TTL of a negative answer (RFC 2308 section 5): the lesser of the SOA record's TTL
/// and its MINIMUM field. Returns the SOA record too.
pub fn negative_ttl(authorities: &[Record]) -> Option<(u32, &Record)> {
    authorities.iter().find_map(|r| match &r.data {
        RData::SOA(soa) => Some((r.ttl.min(soa.minimum), r)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use hickory_resolver::proto::rr::rdata::{A, CAA, CNAME, MX, SOA, SRV, TXT};

    use super::*;

    fn name(text: &str) -> Name {
        Name::from_str(text).unwrap()
    }

    fn rec(owner: &str, ttl: u32, data: RData) -> Record {
        Record::from_rdata(name(owner), ttl, data)
    }

    #[test]
    fn dig_style_text() {
        let mx = row(&rec(
            "lab.test.",
            300,
            RData::MX(MX::new(10, name("mail.lab.test."))),
        ));
        assert_eq!(
            (mx.rtype.as_str(), mx.ttl, mx.data.as_str()),
            ("MX", 300, "10 mail.lab.test.")
        );
        let srv = row(&rec(
            "_sip._tcp.lab.test.",
            60,
            RData::SRV(SRV::new(10, 5, 5060, name("sip.lab.test."))),
        ));
        assert_eq!(srv.data, "10 5 5060 sip.lab.test.");
        assert_eq!(srv.name, "_sip._tcp.lab.test.");
        let txt = row(&rec(
            "t.lab.test.",
            1,
            RData::TXT(TXT::from_bytes(vec![b"v=spf1 -all", b"say \"hi\"\\\x01\xff"])),
        ));
        assert_eq!(txt.data, r#""v=spf1 -all" "say \"hi\"\\\001\255""#);
        let soa = row(&rec(
            "lab.test.",
            3600,
            RData::SOA(SOA::new(
                name("ns1.lab.test."),
                name("hostmaster.lab.test."),
                7,
                1200,
                180,
                1209600,
                30,
            )),
        ));
        assert_eq!(
            soa.data,
            "ns1.lab.test. hostmaster.lab.test. 7 1200 180 1209600 30"
        );
        let caa = row(&rec(
            "lab.test.",
            5,
            RData::CAA(CAA::new_issue(false, Some(name("ca.example")), vec![])),
        ));
        assert_eq!(caa.data, "0 issue \"ca.example\"");
        let cname = row(&rec(
            "www.lab.test.",
            5,
            RData::CNAME(CNAME(name("web.lab.test."))),
        ));
        assert_eq!(cname.data, "web.lab.test.");
        assert_eq!(
            cname.fields,
            Some(Fields::Target {
                target: "web.lab.test.".into()
            })
        );
    }

    #[test]
    fn json_fields_are_typed() {
        let mx = row(&rec(
            "lab.test.",
            300,
            RData::MX(MX::new(10, name("mail.lab.test."))),
        ));
        let json = serde_json::to_value(&mx).unwrap();
        assert_eq!(json["type"], "MX");
        assert_eq!(json["fields"]["preference"], 10);
        assert_eq!(json["fields"]["exchange"], "mail.lab.test.");
    }

    #[test]
    fn chains_are_followed_in_order_whatever_the_section_order() {
        let a = rec("web.lab.test.", 60, RData::A(A::new(198, 51, 100, 10)));
        let c2 = rec("alias.lab.test.", 30, RData::CNAME(CNAME(name("web.lab.test."))));
        let c1 = rec("www.lab.test.", 20, RData::CNAME(CNAME(name("alias.lab.test."))));
        let stray = rec("other.lab.test.", 5, RData::A(A::new(198, 51, 100, 99)));
        let sorted = sort_answer(
            &[a.clone(), stray.clone(), c2.clone(), c1.clone()],
            &name("www.lab.test"),
        );
        assert_eq!(sorted.answers, vec![c1, c2, a]);
        assert_eq!(sorted.end, name("web.lab.test."));
        assert_eq!(
            sorted.ignored,
            vec![(
                stray,
                "owner is neither www.lab.test. nor on its CNAME chain".to_string()
            )]
        );
    }

    #[test]
    fn unrelated_owners_and_other_classes_do_not_answer() {
        let other = rec("other.example.", 60, RData::A(A::new(203, 0, 113, 9)));
        let mut chaos = rec("www.lab.test.", 60, RData::A(A::new(203, 0, 113, 8)));
        chaos.dns_class = DNSClass::CH;
        let sorted = sort_answer(&[other.clone(), chaos.clone()], &name("www.lab.test."));
        assert!(sorted.answers.is_empty());
        let reasons: Vec<&str> = sorted.ignored.iter().map(|(_, why)| why.as_str()).collect();
        assert_eq!(
            reasons,
            ["class CH, not IN", "owner is not www.lab.test., the name asked"]
        );
    }

    #[test]
    fn cname_loops_end() {
        let x = rec("x.test.", 5, RData::CNAME(CNAME(name("y.test."))));
        let y = rec("y.test.", 5, RData::CNAME(CNAME(name("x.test."))));
        let sorted = sort_answer(&[y.clone(), x.clone()], &name("x.test."));
        assert_eq!(sorted.answers, vec![x, y]);
    }

    #[test]
    fn negative_ttl_is_the_lesser_of_ttl_and_minimum() {
        let soa = |ttl, min| {
            rec(
                "lab.test.",
                ttl,
                RData::SOA(SOA::new(
                    name("ns1.lab.test."),
                    name("h.lab.test."),
                    1,
                    2,
                    3,
                    4,
                    min,
                )),
            )
        };
        assert_eq!(negative_ttl(&[soa(3600, 30)]).unwrap().0, 30);
        assert_eq!(negative_ttl(&[soa(10, 30)]).unwrap().0, 10);
        assert!(negative_ttl(&[]).is_none());
    }

    #[test]
    fn names_and_strings_share_one_notation() {
        let raw = Name::from_labels(vec![&b"a.b\x1b"[..], &b"x\xc3\xa9"[..]]).unwrap();
        assert_eq!(name_text(&raw), "a\\.b\\027.x\\195\\169.");
        assert_eq!(quote("x\u{1b}é".as_bytes()), "\"x\\027\\195\\169\"");
        assert_eq!(name_text(&Name::root()), ".");
        assert_eq!(
            name_text(&Name::from_ascii("www.lab.test").unwrap()),
            "www.lab.test."
        );
    }

    #[test]
    fn opaque_records_cannot_carry_terminal_escapes() {
        use hickory_resolver::proto::rr::rdata::HINFO;
        let hinfo = RData::HINFO(HINFO::new("x\x1b[2J".into(), "y\u{9b}".into()));
        let (text, fields) = data_of(&hinfo);
        assert_eq!(fields, None);
        assert!(!text.chars().any(char::is_control), "{text:?}");
        assert!(
            text.contains("\\027[2J") && text.contains("\\194\\155"),
            "{text:?}"
        );
        assert_eq!(printable("plain text, é"), "plain text, é");
    }
}
