//! `sockdiag probe --tls` and `--http` end to end on loopback: servers made by the test (tests/probe_tls_lab.rs)
//! with certificates made by the test; each verdict checked against what the server was set up to do.

use serde_json::Value;

use crate::probe_tls_lab::{Mode, Pki, Server, self_signed, self_signed_cn, server_config};
use crate::support::{Run, sockdiag};

/// Unix seconds of 2099-01-01T00:00:00Z.
const Y2099: i64 = 4_070_908_800;

/// Runs `probe ADDR --tls ...` (JSON) against `server`, expecting `code`.
fn probe(server: &Server, extra: &[&str], code: i32) -> Run {
    let target = server.addr.to_string();
    sockdiag(&["--json", "--quiet", "probe", &target])
        .args(extra)
        .exits(code)
}

/// The single port's `connection` object.
fn connection(run: &Run) -> Value {
    let report = run.json();
    crate::support::schema::assert_valid("probe", &report);
    let row = &report["targets"][0]["probes"][0];
    assert_eq!(row["state"], "open", "{report:#}");
    row["connection"].clone()
}

fn state(c: &Value) -> &str {
    c["verdict"]["state"].as_str().unwrap_or_default()
}

fn reason(c: &Value) -> &str {
    c["verdict"]["reason"].as_str().unwrap_or_default()
}

fn days_until(unix: i64) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    (unix - now).div_euclid(86_400)
}

/// The phases' names in order, and whether their sum is the total.
fn phases(c: &Value) -> Vec<String> {
    let list = c["phases"].as_array().expect("phases");
    let sum: f64 = list.iter().map(|p| p["ms"].as_f64().unwrap()).sum();
    let total = c["total_ms"].as_f64().unwrap();
    assert!(
        (sum - total).abs() < 0.01,
        "phases add to {sum}, total {total}: {c:#}"
    );
    let last_end = list.last().unwrap()["end_ms"].as_f64().unwrap();
    assert!((last_end - total).abs() < 0.01, "{c:#}");
    list.iter()
        .map(|p| p["phase"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_good_chain_from_the_test_ca_is_open_tls13_with_h2_and_the_days_left() {
    let pki = Pki::new("good");
    let config = server_config(
        pki.good_leaf(&["lab.test"], (2099, 1, 1)),
        &[],
        &["h2", "http/1.1"],
    );
    let server = Server::start(Mode::Tls(config));
    let before = days_until(Y2099);
    let ca = pki.ca_file();
    let run = probe(
        &server,
        &["--tls", "--sni", "lab.test", "--ca", &ca, "--alpn", "h2,http/1.1"],
        0,
    );
    let c = connection(&run);
    assert_eq!(state(&c), "ok", "{c:#}");
    assert_eq!(c["tls"]["version"], "TLS 1.3");
    assert!(
        c["tls"]["cipher_suite"].as_str().unwrap().starts_with("TLS13_"),
        "{c:#}"
    );
    assert_eq!(c["tls"]["alpn"], "h2");
    assert_eq!(c["tls"]["h2_offered"], true);
    assert_eq!(c["tls"]["sni"], "lab.test");
    assert_eq!(c["tls"]["resumed"], false);
    assert!(c["tls"]["kx_group"].is_string(), "{c:#}");
    let chain = c["chain"].as_array().unwrap();
    assert_eq!(chain.len(), 2, "leaf and intermediate as sent");
    assert_eq!(chain[0]["subject"], "CN=lab.test");
    assert_eq!(chain[0]["issuer"], "CN=Lab Intermediate");
    assert_eq!(chain[0]["names"], serde_json::json!(["lab.test"]));
    assert_eq!(chain[0]["not_after"], "2099-01-01T00:00:00Z");
    assert_eq!(chain[0]["key_type"], "EC P-256");
    assert_eq!(chain[0]["signature"], "ecdsa-with-SHA256");
    let days = chain[0]["days_left"].as_i64().unwrap();
    assert!(
        days == before || days == days_until(Y2099),
        "days_left {days}, expected {before}"
    );
    assert_eq!(chain[1]["subject"], "CN=Lab Intermediate");
    let v = &c["verification"];
    assert_eq!(
        (v["trusted"].as_bool(), v["hostname_match"].as_bool()),
        (Some(true), Some(true)),
        "{c:#}"
    );
    assert_eq!(v["ocsp_stapled"], false);
    assert!(v["roots"].as_str().unwrap().starts_with("--ca "), "{v}");
    assert_eq!(phases(&c), ["lookup", "connect", "tls"]);
}

#[test]
fn tls12_is_named_with_its_cipher_suite() {
    let pki = Pki::new("tls12");
    let leaf = pki.good_leaf(&["lab.test"], (2099, 1, 1));
    let server = Server::start(Mode::Tls(server_config(leaf, &[&rustls::version::TLS12], &[])));
    let ca = pki.ca_file();
    let c = connection(&probe(&server, &["--tls", "--sni", "lab.test", "--ca", &ca], 0));
    assert_eq!(c["tls"]["version"], "TLS 1.2", "{c:#}");
    assert!(
        c["tls"]["cipher_suite"]
            .as_str()
            .unwrap()
            .starts_with("TLS_ECDHE_"),
        "{c:#}"
    );
    assert_eq!(c["tls"]["alpn"], Value::Null);
}

#[test]
fn an_expired_certificate_is_named_with_its_date() {
    let pki = Pki::new("expired");
    let leaf = pki.leaf(&["lab.test"], (2020, 1, 1), (2021, 1, 1));
    let server = Server::start(Mode::Tls(server_config(leaf, &[], &[])));
    let ca = pki.ca_file();
    let c = connection(&probe(&server, &["--tls", "--sni", "lab.test", "--ca", &ca], 1));
    assert_eq!(state(&c), "expired", "{c:#}");
    assert!(
        reason(&c).starts_with("certificate 'CN=lab.test' expired on 2021-01-01 ("),
        "{c:#}"
    );
    assert!(c["verdict"]["hint"].is_string());
    assert!(c["chain"][0]["days_left"].as_i64().unwrap() < 0, "{c:#}");
}

#[test]
fn a_certificate_not_valid_yet_is_named() {
    let pki = Pki::new("notyet");
    let leaf = pki.leaf(&["lab.test"], (2090, 1, 1), (2091, 1, 1));
    let server = Server::start(Mode::Tls(server_config(leaf, &[], &[])));
    let ca = pki.ca_file();
    let c = connection(&probe(&server, &["--tls", "--sni", "lab.test", "--ca", &ca], 1));
    assert_eq!(state(&c), "not_yet_valid", "{c:#}");
    assert!(reason(&c).contains("is not valid until 2090-01-01"), "{c:#}");
}

#[test]
fn a_name_mismatch_lists_the_names_the_certificate_has() {
    let pki = Pki::new("mismatch");
    let leaf = pki.good_leaf(&["lab.test", "www.lab.test"], (2099, 1, 1));
    let server = Server::start(Mode::Tls(server_config(leaf, &[], &[])));
    let ca = pki.ca_file();
    let c = connection(&probe(&server, &["--tls", "--sni", "other.test", "--ca", &ca], 1));
    assert_eq!(state(&c), "name_mismatch", "{c:#}");
    assert_eq!(
        reason(&c),
        "the certificate is for lab.test, www.lab.test, not for 'other.test'"
    );
    assert_eq!(c["verification"]["trusted"], true);
    assert_eq!(c["verification"]["hostname_match"], false);
}

#[test]
fn a_self_signed_certificate_is_named_and_insecure_times_it_anyway() {
    let leaf = || self_signed(&["lab.test"]);
    let server = Server::start(Mode::Tls(server_config(leaf(), &[], &[])));
    let c = connection(&probe(&server, &["--tls", "--sni", "lab.test"], 1));
    assert_eq!(state(&c), "self_signed", "{c:#}");
    assert!(reason(&c).contains("'CN=lab.test' is self-signed"), "{c:#}");
    assert!(
        c["verification"]["roots"]
            .as_str()
            .unwrap()
            .contains("certificate"),
        "{c:#}"
    );
    let c = connection(&probe(&server, &["--tls", "--sni", "lab.test", "--insecure"], 0));
    assert_eq!(state(&c), "insecure", "{c:#}");
    assert!(reason(&c).contains("(self-signed)"), "{c:#}");
    assert_eq!(c["tls"]["version"], "TLS 1.3");
}

#[test]
fn a_chain_missing_its_intermediate_names_the_missing_certificate() {
    let pki = Pki::new("incomplete");
    let mut leaf = pki.good_leaf(&["lab.test"], (2099, 1, 1));
    leaf.chain.truncate(1);
    let server = Server::start(Mode::Tls(server_config(leaf, &[], &[])));
    let ca = pki.ca_file();
    let c = connection(&probe(&server, &["--tls", "--sni", "lab.test", "--ca", &ca], 1));
    assert_eq!(state(&c), "incomplete_chain", "{c:#}");
    assert!(
        reason(&c).contains("'CN=Lab Intermediate' (issuer of 'CN=lab.test') is missing"),
        "{c:#}"
    );
    // With the intermediate sent, but a root the client does not trust: unknown issuer at the intermediate.
    let other = Pki::with_root("incomplete-other", "Other Root");
    let full = pki.good_leaf(&["lab.test"], (2099, 1, 1));
    let server = Server::start(Mode::Tls(server_config(full, &[], &[])));
    let ca = other.ca_file();
    let c = connection(&probe(&server, &["--tls", "--sni", "lab.test", "--ca", &ca], 1));
    assert_eq!(state(&c), "incomplete_chain", "{c:#}");
    assert!(reason(&c).contains("'CN=Lab Root'"), "{c:#}");
}

#[test]
fn a_plain_http_server_on_the_port_is_named() {
    let server = Server::start(Mode::PlainHttp);
    let c = connection(&probe(&server, &["--tls"], 1));
    assert_eq!(state(&c), "plain_http", "{c:#}");
    assert_eq!(
        reason(&c),
        "this port speaks HTTP, not TLS (it answered 'HTTP/1.1 200 OK')"
    );
}

#[test]
fn a_server_that_never_answers_the_client_hello_times_out() {
    let server = Server::start(Mode::Silent);
    let c = connection(&probe(&server, &["--tls", "-w", "1"], 1));
    assert_eq!(state(&c), "timeout", "{c:#}");
    assert_eq!(reason(&c), "no answer to the ClientHello within 1.00 s");
    assert_eq!(phases(&c), ["lookup", "connect", "tls"]);
    let tls = c["phases"][2]["ms"].as_f64().unwrap();
    assert!(tls >= 1000.0, "the handshake phase lasted the wait: {c:#}");
}

#[test]
fn a_server_that_closes_during_the_handshake_is_named() {
    let server = Server::start(Mode::Bytes(Vec::new()));
    let c = connection(&probe(&server, &["--tls"], 1));
    assert_eq!(state(&c), "closed", "{c:#}");
}

#[test]
fn a_tls10_only_server_is_recognised_from_its_alert() {
    // What a server limited to TLS 1.0 answers a TLS 1.2/1.3 ClientHello with: a protocol_version alert in a
    // TLS 1.0 record.
    let server = Server::start(Mode::Bytes(vec![21, 3, 1, 0, 2, 2, 70]));
    let c = connection(&probe(&server, &["--tls"], 1));
    assert_eq!(state(&c), "legacy_only", "{c:#}");
    assert_eq!(reason(&c), "server offers only TLS 1.0 (not testable here)");
    // A TLS 1.1 server that answers with its own ServerHello instead.
    let server = Server::start(Mode::Bytes(legacy_server_hello(0x0302)));
    let c = connection(&probe(&server, &["--tls"], 1));
    assert_eq!(state(&c), "legacy_only", "{c:#}");
    assert_eq!(reason(&c), "server offers only TLS 1.1 (not testable here)");
}

/// A ServerHello record choosing `version` (no extensions, as servers before TLS 1.2 sent it).
fn legacy_server_hello(version: u16) -> Vec<u8> {
    let mut hs = vec![2, 0, 0, 0];
    hs.extend(version.to_be_bytes());
    hs.extend([7u8; 32]);
    hs.extend([0, 0x00, 0x2f, 0]); // no session id, TLS_RSA_WITH_AES_128_CBC_SHA, no compression
    hs[3] = (hs.len() - 4) as u8;
    let mut record = vec![22, 3, 1, 0, hs.len() as u8];
    record.extend(hs);
    record
}

#[test]
fn no_alpn_protocol_in_common_is_named() {
    let pki = Pki::new("alpn");
    let leaf = pki.good_leaf(&["lab.test"], (2099, 1, 1));
    let server = Server::start(Mode::Tls(server_config(leaf, &[], &["x-lab"])));
    let ca = pki.ca_file();
    let c = connection(&probe(
        &server,
        &["--tls", "--sni", "lab.test", "--ca", &ca, "--alpn", "h2"],
        1,
    ));
    assert_eq!(state(&c), "no_common_protocol", "{c:#}");
    assert!(reason(&c).contains("no_application_protocol"), "{c:#}");
}

#[test]
fn http_over_tls_gives_the_status_server_and_redirect() {
    let pki = Pki::new("http");
    let leaf = pki.good_leaf(&["lab.test"], (2099, 1, 1));
    let server = Server::start(Mode::Tls(server_config(leaf, &[], &["h2", "http/1.1"])));
    let ca = pki.ca_file();
    let c = connection(&probe(
        &server,
        &["--tls", "--http", "--sni", "lab.test", "--ca", &ca],
        0,
    ));
    assert_eq!(state(&c), "ok", "{c:#}");
    assert_eq!(c["tls"]["alpn"], "http/1.1", "--http offers http/1.1 only");
    assert_eq!(c["tls"]["h2_offered"], false);
    let h = &c["http"];
    assert_eq!(h["request"], "HEAD / HTTP/1.1");
    assert_eq!(h["host"], format!("lab.test:{}", server.addr.port()));
    assert_eq!(h["status"], 301);
    assert_eq!(h["status_line"], "HTTP/1.1 301 Moved Permanently");
    assert_eq!(h["server"], "lab-tls");
    assert_eq!(h["location"], "https://lab.test/new");
    assert_eq!(
        phases(&c),
        ["lookup", "connect", "tls", "request", "first_byte", "transfer"]
    );
}

#[test]
fn http_over_plain_tcp_with_get() {
    let server = Server::start(Mode::PlainHttp);
    let c = connection(&probe(
        &server,
        &["--http", "--http-method", "GET", "--http-path", "/x?y=1"],
        0,
    ));
    assert_eq!(c["tls"], Value::Null);
    assert_eq!(c["http"]["request"], "GET /x?y=1 HTTP/1.1");
    assert_eq!(c["http"]["status"], 200);
    assert_eq!(c["http"]["body_bytes"], 5);
    assert_eq!(
        phases(&c),
        ["lookup", "connect", "request", "first_byte", "transfer"]
    );
}

#[test]
fn repeats_give_statistics_per_phase() {
    let pki = Pki::new("repeat");
    let leaf = pki.good_leaf(&["lab.test"], (2099, 1, 1));
    let server = Server::start(Mode::Tls(server_config(leaf, &[], &[])));
    let ca = pki.ca_file();
    let c = connection(&probe(
        &server,
        &["--tls", "--sni", "lab.test", "--ca", &ca, "-c", "3", "-i", "0.05"],
        0,
    ));
    let stats = c["phase_stats"].as_array().unwrap();
    let names: Vec<&str> = stats.iter().map(|s| s["phase"].as_str().unwrap()).collect();
    assert_eq!(names, ["lookup", "connect", "tls", "total"]);
    for s in stats {
        assert_eq!(s["samples"], 3);
        let (min, p50, max) = (
            s["min_ms"].as_f64().unwrap(),
            s["p50_ms"].as_f64().unwrap(),
            s["max_ms"].as_f64().unwrap(),
        );
        assert!(min <= p50 && p50 <= max, "{s}");
    }
    assert_eq!(c["verdicts"]["ok"], 3);
}

#[test]
fn starttls_smtp_imap_pop3_ftp_and_postgres_upgrade() {
    let pki = Pki::new("starttls");
    let ca = pki.ca_file();
    let config = || server_config(pki.good_leaf(&["lab.test"], (2099, 1, 1)), &[], &[]);
    let dialogues: [(&str, Mode); 5] = [
        (
            "smtp",
            Mode::Starttls(
                "220 lab ESMTP\r\n",
                vec![
                    ("EHLO", "250-lab\r\n250 STARTTLS\r\n"),
                    ("STARTTLS", "220 go\r\n"),
                ],
                config(),
            ),
        ),
        (
            "imap",
            Mode::Starttls("* OK lab\r\n", vec![("a1 STARTTLS", "a1 OK begin\r\n")], config()),
        ),
        (
            "pop3",
            Mode::Starttls("+OK lab\r\n", vec![("STLS", "+OK begin\r\n")], config()),
        ),
        (
            "ftp",
            Mode::Starttls("220 lab\r\n", vec![("AUTH TLS", "234 go\r\n")], config()),
        ),
        ("postgres", Mode::Postgres(config())),
    ];
    for (proto, mode) in dialogues {
        let server = Server::start(mode);
        let c = connection(&probe(
            &server,
            &["--starttls", proto, "--sni", "lab.test", "--ca", &ca],
            0,
        ));
        assert_eq!(state(&c), "ok", "{proto}: {c:#}");
        assert_eq!(phases(&c), ["lookup", "connect", "starttls", "tls"], "{proto}");
    }
    // A server that refuses the upgrade.
    let refusing = Mode::Starttls(
        "220 lab ESMTP\r\n",
        vec![("EHLO", "250 lab\r\n"), ("STARTTLS", "454 no TLS\r\n")],
        config(),
    );
    let server = Server::start(refusing);
    let c = connection(&probe(&server, &["--starttls", "smtp"], 1));
    assert_eq!(state(&c), "starttls_failed", "{c:#}");
    assert!(reason(&c).contains("'454 no TLS'"), "{c:#}");
}

#[test]
fn a_terminal_table_draws_the_phase_bar_a_pipe_gets_columns_and_csv_raw_numbers() {
    let pki = Pki::new("bar");
    let leaf = pki.good_leaf(&["lab.test"], (2099, 1, 1));
    let server = Server::start(Mode::Tls(server_config(leaf, &[], &[])));
    let (target, ca) = (server.addr.to_string(), pki.ca_file());
    let args = ["probe", &target, "--tls", "--sni", "lab.test", "--ca", &ca];
    let table = sockdiag(&["--quiet", "--format", "table"])
        .args(&args)
        .env("COLUMNS", "200")
        .exits(0)
        .stdout();
    assert!(
        table.contains("lookup:") && table.contains("connect:") && table.contains("tls:"),
        "{table}"
    );
    assert!(
        table.contains("cert 0: CN=lab.test (issuer CN=Lab Intermediate)"),
        "{table}"
    );
    let csv = sockdiag(&["--quiet", "--format", "csv"])
        .args(&args)
        .exits(0)
        .stdout();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let record = reader.records().next().unwrap().unwrap();
    let at = |name: &str| record[header.iter().position(|h| h == name).unwrap()].to_string();
    assert_eq!(
        [at("state"), at("tls_version"), at("starttls_ms")],
        ["ok", "TLS 1.3", ""],
        "{csv}"
    );
    assert!(at("tls_ms").parse::<f64>().unwrap() > 0.0, "{csv}");
    let plain = sockdiag(&["--quiet", "--format", "plain"])
        .args(&args)
        .exits(0)
        .stdout();
    assert!(!plain.contains("connect:"), "{plain}");
    assert!(plain.contains("CONNECT") && plain.contains("TLS 1.3"), "{plain}");
}

#[test]
fn bad_tls_flags_are_usage_errors() {
    let cases: [&[&str]; 6] = [
        &["probe", "127.0.0.1:1", "--sni", "lab.test"],
        &["probe", "127.0.0.1:1", "--tls", "--udp"],
        &["probe", "127.0.0.1:1", "--tls", "--alpn", "h2,,x"],
        &["probe", "127.0.0.1:1", "--http", "--http-path", "no-slash"],
        &["probe", "127.0.0.1:1", "--tls", "--send", "x"],
        &["probe", "127.0.0.1:1", "--http-method", "GET"],
    ];
    for args in cases {
        let run = sockdiag(args).exits(2);
        let err = run.stderr();
        assert_eq!(err.lines().count(), 1, "{run}");
    }
    let pki = Pki::new("badca");
    let garbage = pki.file("garbage.pem", "not a certificate\n");
    let run = sockdiag(&["probe", "127.0.0.1:1", "--tls", "--ca", &garbage]).exits(2);
    assert!(run.stderr().contains("holds no usable certificate"), "{run}");
}

#[test]
fn hostile_certificate_text_is_escaped_everywhere() {
    let leaf = self_signed_cn("evil\x1b[31m\u{202e}", &["lab.test"]);
    let server = Server::start(Mode::Tls(server_config(leaf, &[], &[])));
    let target = server.addr.to_string();
    let args = ["probe", &target, "--tls", "--sni", "lab.test"];
    for format in ["plain", "table", "json", "csv"] {
        let run = sockdiag(&["--quiet", "--format", format]).args(&args).exits(1);
        let out = run.stdout();
        assert!(
            !out.contains('\x1b') && !out.contains('\u{202e}'),
            "{format}: {out}"
        );
        assert!(out.contains("evil"), "{format}: {out}");
    }
    let c = connection(&probe(&server, &["--tls", "--sni", "lab.test"], 1));
    assert_eq!(c["chain"][0]["subject"], "CN=evil\\x1b[31m\\u{202e}", "{c:#}");
}

#[test]
fn the_settings_state_the_session() {
    let server = Server::start(Mode::PlainHttp);
    let target = server.addr.to_string();
    let args = [
        "--json", "--quiet", "probe", &target, "--tls", "--http", "--sni", "lab.test", "-w", "2",
    ];
    let run = sockdiag(&args).run();
    let s = &run.json()["settings"]["session"];
    assert_eq!(s["tls"], true);
    assert_eq!(s["sni"], "lab.test");
    assert_eq!(s["alpn"], serde_json::json!(["http/1.1"]));
    assert_eq!(s["http"], "HEAD / HTTP/1.1");
    assert_eq!(s["wait_ms"], 2000.0);
    let roots = s["roots"].as_str().unwrap();
    assert!(
        roots.starts_with("system") || roots.starts_with("webpki"),
        "{roots}"
    );
    let plain = sockdiag(&["--json", "--quiet", "probe", &target]).exits(0);
    assert_eq!(plain.json()["settings"]["session"], Value::Null);
}
