//! `sockdiag resolve`'s machine-readable forms: every JSON document the resolve tests see is checked against
//! docs/schema/resolve.json (through [`valid`]), each mode's document is told apart by `mode`, and
//! `--format csv` gives a header and one parsable record per row with raw numbers.

use std::net::SocketAddr;

use serde_json::Value;

use crate::support::dns::{DnsServer, lab_zone as lz};
use crate::support::{schema, sockdiag};

/// Checks a document resolve printed against its published schema (an error document against the error
/// schema) and hands it back.
pub fn valid(doc: Value) -> Value {
    let name = if doc.get("error").is_some() {
        "error"
    } else {
        "resolve"
    };
    schema::assert_valid(name, &doc);
    doc
}

/// Parses CSV output: the header and the records, each as field strings.
fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let records = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, records)
}

/// The field named `column` of a record.
fn field<'a>(header: &[String], record: &'a [String], column: &str) -> &'a str {
    let i = header
        .iter()
        .position(|h| h == column)
        .unwrap_or_else(|| panic!("no {column} in {header:?}"));
    &record[i]
}

#[test]
fn every_system_shape_is_a_valid_document_naming_its_mode() {
    for args in [
        &["localhost"][..],
        &["127.0.0.1", "--service", "80"],
        &["--ai-passive", "--service", "8080", "-4"],
        &["127.0.0.1", "--ai-numerichost", "--socket-type", "raw"],
    ] {
        let doc = valid(sockdiag(&["resolve", "--json"]).args(args).exits(0).json());
        assert_eq!(doc["command"], "resolve");
        assert_eq!(doc["mode"], "system", "{args:?}");
        // Unknown values are null, not left out.
        let r = &doc["results"][0];
        for key in ["canonical_name", "host", "port", "service_name", "error"] {
            assert!(r.get(key).is_some(), "{key} left out: {r}");
        }
    }
    let doc = valid(
        sockdiag(&[
            "resolve",
            "--json",
            "127.0.0.1",
            "--ai-numerichost",
            "--socket-type",
            "raw",
        ])
        .run()
        .json(),
    );
    let row = &doc["results"][0]["addresses"][0];
    assert_eq!(
        (row["socket_type"].as_str(), row["protocol"].as_str()),
        (Some("raw"), Some("any"))
    );
    assert!(row["port"].is_null(), "{row}");
}

#[test]
fn system_csv_has_a_header_and_a_record_per_address() {
    let text = sockdiag(&[
        "resolve",
        "--format",
        "csv",
        "localhost",
        "127.0.0.1",
        "--service",
        "ssh",
    ])
    .exits(0)
    .stdout();
    let (header, records) = parse_csv(&text);
    assert_eq!(header[..4], ["name", "lookup", "status", "family"]);
    let forward: Vec<_> = records
        .iter()
        .filter(|r| field(&header, r, "lookup") == "forward")
        .collect();
    assert!(!forward.is_empty(), "{text}");
    for r in &forward {
        assert_eq!(field(&header, r, "name"), "localhost");
        assert_eq!(field(&header, r, "port"), "22");
        assert!(
            field(&header, r, "address").parse::<std::net::IpAddr>().is_ok(),
            "{r:?}"
        );
        assert!(field(&header, r, "elapsed_ms").parse::<f64>().is_ok(), "{r:?}");
    }
    let reverse: Vec<_> = records
        .iter()
        .filter(|r| field(&header, r, "lookup") == "reverse")
        .collect();
    assert_eq!(reverse.len(), 1, "{text}");
    assert_eq!(field(&header, reverse[0], "host"), "localhost");
    assert_eq!(field(&header, reverse[0], "service_name"), "ssh");
}

#[test]
fn dns_csv_has_a_record_per_answer_record_and_per_negative_query() {
    needs!(dns);
    let dns = DnsServer::start_loopback(&[lz::lab_zone()]);
    let at = format!("@{}", dns.addr());
    let text = sockdiag(&[
        "resolve",
        "--format",
        "csv",
        &at,
        "-t",
        "A",
        "alias.lab.test",
        lz::MISSING,
    ])
    .exits(1)
    .stdout();
    let (header, records) = parse_csv(&text);
    assert_eq!(header[..3], ["query_name", "query_type", "status"]);
    let chain: Vec<(&str, &str, &str)> = records
        .iter()
        .filter(|r| field(&header, r, "query_name") == "alias.lab.test.")
        .map(|r| {
            (
                field(&header, r, "record_type"),
                field(&header, r, "ttl"),
                field(&header, r, "data"),
            )
        })
        .collect();
    let (alias, www, host) = (
        lz::ALIAS_TTL.to_string(),
        lz::WWW_TTL.to_string(),
        lz::HOST_TTL.to_string(),
    );
    let host_v4 = lz::HOST_V4.to_string();
    assert_eq!(
        chain,
        [
            ("CNAME", alias.as_str(), "www.lab.test."),
            ("CNAME", www.as_str(), "host.lab.test."),
            ("A", host.as_str(), host_v4.as_str())
        ]
    );
    let missing = records
        .iter()
        .find(|r| field(&header, r, "status") == "nxdomain")
        .unwrap();
    assert_eq!(
        field(&header, missing, "ttl"),
        lz::NEG_TTL.to_string(),
        "the negative TTL"
    );
    assert_eq!(field(&header, missing, "rcode"), "NXDOMAIN");
    assert_eq!(field(&header, missing, "server"), dns.addr().to_string());
    assert!(field(&header, missing, "query_time_ms").parse::<f64>().is_ok());
}

#[test]
fn dns_documents_of_every_outcome_are_valid() {
    needs!(dns);
    let dns = DnsServer::start_loopback(&[lz::lab_zone()]);
    let closed: SocketAddr = {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        udp.local_addr().unwrap()
    };
    let servers = [format!("@{}", dns.addr()), format!("@{closed}")];
    for server in &servers {
        let doc = sockdiag(&[
            "resolve",
            "--json",
            server,
            "-t",
            "common",
            "-w",
            "1",
            "lab.test",
            "txt.lab.test",
        ])
        .run()
        .json();
        let doc = valid(doc);
        assert_eq!(doc["mode"], "dns");
        let q = &doc["queries"][0];
        for key in [
            "rcode",
            "server",
            "transport",
            "query_time_ms",
            "size_bytes",
            "negative_ttl",
            "soa",
            "message",
        ] {
            assert!(q.get(key).is_some(), "{key} left out: {q}");
        }
    }
}

#[test]
fn every_output_form_ends_quietly_when_the_reader_goes_away() {
    use std::io::Read;
    use std::process::Stdio;
    // Far more than a pipe holds (64 KiB), so the writer meets the closed pipe; localhost is in /etc/hosts.
    let names = "localhost\n".repeat(3000);
    for form in ["table", "plain", "json", "ndjson", "csv"] {
        let mut child = sockdiag(&["resolve", "--format", form, "-f", "-"])
            .command()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        std::io::Write::write_all(&mut stdin, names.as_bytes()).unwrap();
        drop(stdin);
        let mut first = [0u8; 1];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        // The reader has gone: stdout is closed.
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{form}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{form}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
