//! `sockdiag trace` end to end: the built binary against kernel routers in namespaces (root-only) and
//! its bad-input paths (no network).

use crate::support;

use std::net::IpAddr;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use support::binary::{BIN, NOBODY};
use support::dns::{DnsServer, Zone};
use support::netns::Netns;
use support::topo::{RouterMode, Topology, Unreach};
use support::{Run, Sockdiag, cmd, sockdiag};

/// sockdiag with `args` in `ns`, as nobody (without supplementary groups) when `as_nobody`.
fn in_ns<'a>(ns: &'a Netns, args: &[&str], as_nobody: bool) -> Sockdiag<'a> {
    let run = sockdiag(args).in_ns(ns);
    if as_nobody { run.unprivileged() } else { run }
}

/// Runs a JSON trace in `ns` and returns the exit code and the parsed report.
fn trace_json(ns: &Netns, target: IpAddr, extra: &[&str], as_nobody: bool) -> (Option<i32>, Value) {
    let target = target.to_string();
    let mut args = vec!["--json", "trace", "-n"];
    args.extend_from_slice(extra);
    args.push(&target);
    let out = in_ns(ns, &args, as_nobody).run();
    let json = out.json();
    // Every document, success or error, has the published shape.
    let name = if json.get("error").is_some() {
        "error"
    } else {
        "trace"
    };
    support::schema::assert_valid(name, &json);
    (out.status.code(), json)
}

/// The address each hop row lists (None for a silent hop), in TTL order.
fn hop_addrs(report: &Value) -> Vec<Option<String>> {
    report["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let addresses = h["addresses"].as_array().unwrap();
            assert!(addresses.len() <= 1, "several addresses at one hop: {h}");
            addresses
                .first()
                .map(|a| a["address"].as_str().unwrap().to_string())
        })
        .collect()
}

/// Every probe with an answer was answered by the address that really sits at its TTL.
fn assert_samples_match_path(report: &Value, path: &[IpAddr], target: IpAddr) {
    for s in report["samples"].as_array().unwrap() {
        let Some(from) = s["from"].as_str() else { continue };
        let ttl = s["ttl"].as_u64().unwrap() as usize;
        let want = path.get(ttl - 1).copied().unwrap_or(target);
        assert_eq!(
            from,
            want.to_string(),
            "probe at TTL {ttl} answered by the wrong address: {s}"
        );
        let kind = s["kind"].as_str().unwrap();
        let want_kind = if want == target {
            "echo_reply"
        } else {
            "time_exceeded"
        };
        assert_eq!(kind, want_kind, "{s}");
        assert_eq!(s["duplicates"], 0, "{s}");
    }
}

#[test]
fn hop_addresses_in_order_with_a_silent_router_v4_and_v6() {
    needs!(lab);
    let topo = Topology::builder()
        .routers(4)
        .router(2, RouterMode::Silent)
        .no_standard_ports()
        .build();
    for v6 in [false, true] {
        let target = topo.target_addr(v6);
        let (code, report) = trace_json(topo.client(), target, &[], false);
        assert_eq!(code, Some(0), "{report}");
        let hop = |i| Some(topo.hop(i, v6).to_string());
        assert_eq!(
            hop_addrs(&report),
            vec![hop(1), None, hop(3), hop(4), Some(target.to_string())],
            "v6={v6}"
        );
        assert_eq!(report["stop"]["reason"], "reached");
        assert_eq!(report["stop"]["hop"], 5);
        assert_eq!(report["socket"], "raw");
        // The silent hop: three probes sent, none answered.
        assert_eq!(report["hops"][1]["sent"], 3);
        assert_eq!(report["hops"][1]["received"], 0);
        assert_eq!(report["hops"][1]["loss_pct"], 100.0);
        for i in [0, 2, 3, 4] {
            assert_eq!(report["hops"][i]["received"], 3, "hop {}: {report}", i + 1);
        }
        let path: Vec<IpAddr> = (1..=4).map(|i| topo.hop(i, v6)).collect();
        assert_samples_match_path(&report, &path, target);
        // A silent hop costs one fair wait (200 ms floor on a fast path), not seconds.
        let took = report["probing_ms"].as_f64().unwrap();
        assert!(took < 1000.0, "took {took} ms");
    }
}

#[test]
fn table_output_shows_silent_hop_as_stars_and_the_end() {
    needs!(lab);
    let topo = Topology::builder()
        .routers(2)
        .router(1, RouterMode::Silent)
        .no_standard_ports()
        .build();
    let target = topo.target_v4().to_string();
    let out = sockdiag(&["trace", "-n", &target]).in_ns(topo.client()).exits(0);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!("# trace to {target} ({target})"));
    assert!(lines[1].starts_with("HOP  ADDRESS"), "{text}");
    assert!(lines[2].starts_with("1    *"), "{text}");
    assert_eq!(
        lines[2].split_whitespace().take(5).collect::<Vec<_>>(),
        ["1", "*", "*", "*", "*"],
        "{text}"
    );
    assert!(lines[2].contains("100%"), "{text}");
    assert!(
        lines[3].starts_with(&format!("2    {}", topo.hop_v4(2))),
        "{text}"
    );
    assert!(lines[4].starts_with(&format!("3    {target}")), "{text}");
    assert!(
        lines[5].starts_with(&format!("# reached {target} at hop 3 in ")),
        "{text}"
    );
    assert!(
        out.stderr.is_empty(),
        "no progress or noise when stderr is not a terminal"
    );
}

#[test]
fn unreachable_routers_stop_the_trace_with_their_annotation() {
    needs!(lab);
    // (kind, IPv4 code, IPv6 code, annotation v4, annotation v6)
    let cases = [
        (Unreach::AdminProhibited, 13, 1, "!X", "!X"),
        (Unreach::Host, 1, 3, "!H", "!H"),
        (Unreach::Net, 0, 0, "!N", "!N"),
    ];
    for (kind, code4, code6, ann4, ann6) in cases {
        let topo = Topology::builder()
            .routers(3)
            .router(2, RouterMode::Unreachable(kind))
            .no_standard_ports()
            .build();
        for v6 in [false, true] {
            let (code, report) = trace_json(topo.client(), topo.target_addr(v6), &[], false);
            assert_eq!(code, Some(1), "{kind:?} v6={v6}: {report}");
            let stop = &report["stop"];
            assert_eq!(stop["reason"], "unreachable", "{report}");
            // The kernel checks the TTL before the forward hook that rejects: TTL 2 still expires at
            // router 2 (Time Exceeded), TTL 3 passes it and draws the reject, as traceroute shows it.
            assert_eq!(stop["hop"], 3);
            let (want_code, want_ann) = if v6 { (code6, ann6) } else { (code4, ann4) };
            assert_eq!(stop["icmp_code"], want_code, "{kind:?} v6={v6}");
            assert_eq!(stop["annotation"], want_ann);
            let router2 = topo.hop(2, v6).to_string();
            assert!(
                stop["message"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("from {router2}")),
                "{stop}"
            );
            let hops = report["hops"].as_array().unwrap();
            assert_eq!(hops.len(), 3);
            assert_eq!(hops[1]["addresses"][0]["address"], router2);
            assert!(hops[1]["unreachable"].as_array().unwrap().is_empty());
            assert_eq!(hops[2]["addresses"][0]["address"], router2);
            let unreach = &hops[2]["unreachable"][0];
            assert_eq!(unreach["icmp_type"], if v6 { 1 } else { 3 });
            assert_eq!(unreach["icmp_code"], want_code);
            assert_eq!(unreach["annotation"], want_ann);
            // Every probe from TTL 3 on hears router 2 say the same thing.
            for s in report["samples"].as_array().unwrap() {
                if s["ttl"].as_u64().unwrap() >= 3 && !s["from"].is_null() {
                    assert_eq!(s["kind"], "unreachable", "{s}");
                    assert_eq!(s["from"], router2);
                }
            }
        }
    }
}

#[test]
fn unprivileged_user_traces_through_ping_sockets() {
    needs!(lab, "setpriv");
    let topo = Topology::builder()
        .routers(3)
        .router(2, RouterMode::Silent)
        .no_standard_ports()
        .build();
    // Only inside the client namespace: nobody's group may open ping sockets (IPv6 follows the same range).
    topo.client()
        .sysctl("net.ipv4.ping_group_range", &format!("{NOBODY} {NOBODY}"));
    for v6 in [false, true] {
        let target = topo.target_addr(v6);
        let (code, report) = trace_json(topo.client(), target, &[], true);
        assert_eq!(code, Some(0), "v6={v6}: {report}");
        assert_eq!(report["socket"], "ping");
        assert_eq!(report["privilege"]["uid"], 65534);
        assert_eq!(report["privilege"]["capabilities"], 0);
        let hop = |i| Some(topo.hop(i, v6).to_string());
        assert_eq!(
            hop_addrs(&report),
            vec![hop(1), None, hop(3), Some(target.to_string())]
        );
        let path: Vec<IpAddr> = (1..=3).map(|i| topo.hop(i, v6)).collect();
        assert_samples_match_path(&report, &path, target);
    }
}

#[test]
fn unreachable_router_seen_through_the_ping_socket_error_queue() {
    needs!(lab, "setpriv");
    let topo = Topology::builder()
        .routers(2)
        .router(2, RouterMode::Unreachable(Unreach::AdminProhibited))
        .no_standard_ports()
        .build();
    topo.client().sysctl("net.ipv4.ping_group_range", "0 2147483647");
    for v6 in [false, true] {
        let (code, report) = trace_json(topo.client(), topo.target_addr(v6), &[], true);
        assert_eq!(code, Some(1), "{report}");
        assert_eq!(report["socket"], "ping");
        assert_eq!(report["stop"]["reason"], "unreachable");
        assert_eq!(report["stop"]["annotation"], "!X");
        assert_eq!(report["stop"]["hop"], 3);
        assert_eq!(
            report["hops"][2]["addresses"][0]["address"],
            topo.hop(2, v6).to_string()
        );
        assert_eq!(report["hops"][2]["unreachable"][0]["annotation"], "!X");
    }
}

#[test]
fn without_any_privilege_one_line_says_how_to_grant_it() {
    needs!(lab, "setpriv");
    let topo = Topology::builder().routers(1).no_standard_ports().build();
    topo.client().sysctl("net.ipv4.ping_group_range", "1 0");
    let target = topo.target_v4().to_string();
    let out = sockdiag(&["trace", "-n", &target])
        .in_ns(topo.client())
        .unprivileged()
        .exits(3);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("sockdiag: no permission for ICMP sockets"),
        "{err}"
    );
    assert!(err.contains("CAP_NET_RAW"), "{err}");
    assert!(err.contains("ping_group_range is \"1 0\""), "{err}");
    assert!(
        err.contains("sudo") && err.contains("setcap cap_net_raw+ep"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

/// A copy of the binary with CAP_NET_RAW as a file capability, in a temporary directory removed on drop.
struct CapableCopy(std::path::PathBuf);

impl CapableCopy {
    fn new() -> CapableCopy {
        let dir = std::env::temp_dir().join(format!("sockdiag-setcap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let copy = CapableCopy(dir);
        std::fs::copy(BIN, copy.bin()).expect("copy binary");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&copy.0, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let out = cmd::output_with_timeout(
            cmd::command("setcap", &["cap_net_raw+ep", copy.bin().to_str().unwrap()]),
            None,
            Duration::from_secs(10),
        );
        assert!(out.status.success(), "setcap: {}", cmd::text(&out));
        copy
    }

    fn bin(&self) -> std::path::PathBuf {
        self.0.join("sockdiag")
    }
}

impl Drop for CapableCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn setcap_binary_opens_raw_sockets_then_drops_the_capability() {
    needs!(lab, "setcap");
    let topo = Topology::builder().routers(1).no_standard_ports().build();
    // No ping sockets for anyone here: only the file capability can make this work.
    topo.client().sysctl("net.ipv4.ping_group_range", "1 0");
    let copy = CapableCopy::new();
    for v6 in [false, true] {
        let target = topo.target_addr(v6).to_string();
        let out = sockdiag(&["--json", "trace", "-n", &target])
            .program(copy.bin())
            .in_ns(topo.client())
            .unprivileged()
            .exits(0);
        let report = out.json();
        assert_eq!(report["socket"], "raw");
        assert_eq!(report["privilege"]["uid"], 65534);
        assert_eq!(
            report["privilege"]["capabilities"], 0,
            "CAP_NET_RAW dropped after opening"
        );
        assert_eq!(report["stop"]["hop"], 2);
    }
}

#[test]
fn under_sudo_it_runs_as_the_invoking_user_after_opening_sockets() {
    needs!(lab);
    let topo = Topology::builder().routers(2).no_standard_ports().build();
    let target = topo.target_v4().to_string();
    // Root with SUDO_UID/SUDO_GID, as `sudo sockdiag trace` would be: the raw socket opens as root,
    // then the process becomes 65534 with no capabilities, and the trace still works.
    let out = sockdiag(&["--json", "-v", "trace", "-n", &target])
        .in_ns(topo.client())
        .env("SUDO_UID", &NOBODY.to_string())
        .env("SUDO_GID", &NOBODY.to_string())
        .exits(0);
    let report = out.json();
    assert_eq!(report["socket"], "raw");
    assert_eq!(report["privilege"]["uid"], 65534);
    assert_eq!(report["privilege"]["gid"], 65534);
    assert_eq!(report["privilege"]["sudo_user"], true);
    assert_eq!(report["privilege"]["capabilities"], 0);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("raw ICMP socket open; now uid 65534 gid 65534, capabilities 0x0"),
        "{err}"
    );
    // Plain root without sudo keeps uid 0 but loses every capability.
    let (code, report) = trace_json(topo.client(), topo.target_addr(false), &[], false);
    assert_eq!(code, Some(0));
    assert_eq!(report["privilege"]["uid"], 0);
    assert_eq!(report["privilege"]["capabilities"], 0);
    assert_eq!(report["privilege"]["sudo_user"], false);
}

#[test]
fn concurrent_traces_and_a_ping_never_leak_into_each_other() {
    needs!(lab, "ping");
    // A silent router makes each trace last one fair wait (about 200 ms), so they overlap.
    let topo = Topology::builder()
        .routers(3)
        .router(3, RouterMode::Silent)
        .no_standard_ports()
        .build();
    topo.client().sysctl("net.ipv4.ping_group_range", "0 2147483647");
    for v6 in [false, true] {
        let target = topo.target_addr(v6);
        let target_s = target.to_string();
        let fam = if v6 { "-6" } else { "-4" };
        // A fast ping to the same target for the whole time (its echo replies reach every raw socket).
        let mut ping = topo.client().command("ping");
        ping.args([fam, "-n", "-q", "-i", "0.005", "-c", "300", "-w", "5", &target_s])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut ping = ping.spawn().expect("start ping");
        std::thread::sleep(Duration::from_millis(100));
        let spawn_trace = |as_nobody: bool| {
            in_ns(
                topo.client(),
                &["--json", "trace", "-n", "-q", "5", &target_s],
                as_nobody,
            )
            .spawn()
        };
        // Two raw-socket traces and one on a ping socket, all at once.
        let children = vec![spawn_trace(false), spawn_trace(false), spawn_trace(true)];
        let outputs: Vec<Run> = children
            .into_iter()
            .map(|c| c.wait(Duration::from_secs(30)))
            .collect();
        let _ = ping.kill();
        let _ = ping.wait();
        let path: Vec<IpAddr> = (1..=3).map(|i| topo.hop(i, v6)).collect();
        for (i, out) in outputs.iter().enumerate() {
            let report = out.json();
            assert_eq!(out.status.code(), Some(0), "trace {i} v6={v6}: {report}");
            let hop = |i| Some(topo.hop(i, v6).to_string());
            assert_eq!(
                hop_addrs(&report),
                vec![hop(1), hop(2), None, Some(target_s.clone())]
            );
            assert_samples_match_path(&report, &path, target);
            let answered = report["samples"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| !s["from"].is_null())
                .count();
            assert!(
                answered >= 15,
                "trace {i}: hops 1, 2, 4 answer all 5 queries: {report}"
            );
            if i < 2 {
                // Raw sockets saw the others' ICMP and counted it as foreign instead of using it.
                assert!(
                    report["foreign_replies"].as_u64().unwrap() > 0,
                    "trace {i} v6={v6}: {report}"
                );
            }
        }
    }
}

#[test]
fn hop_names_come_from_the_lab_dns() {
    needs!(lab, "nsd");
    let topo = Topology::builder().routers(2).no_standard_ports().build();
    let zone = Zone::new("lab.test")
        .a("r1", topo.hop_v4(1))
        .aaaa("r1", topo.hop_v6(1))
        .a("r2", topo.hop_v4(2))
        .a("far", topo.target_v4());
    // The client namespace's resolv.conf names the lab DNS addresses this server listens on.
    let _dns = DnsServer::start_in(topo.client(), &[zone]);
    let target = topo.target_v4().to_string();
    let out = sockdiag(&["--json", "trace", &target])
        .in_ns(topo.client())
        .exits(0);
    let report = out.json();
    let names: Vec<Value> = report["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["addresses"][0]["name"].clone())
        .collect();
    assert_eq!(names, vec!["r1.lab.test", "r2.lab.test", "far.lab.test"]);
    // IPv6 hop 2 has no PTR: no name, and no invented one.
    let target6 = topo.target_v6().to_string();
    let out = sockdiag(&["--json", "trace", &target6])
        .in_ns(topo.client())
        .run();
    let report = out.json();
    assert_eq!(report["hops"][0]["addresses"][0]["name"], "r1.lab.test");
    assert!(report["hops"][1]["addresses"][0]["name"].is_null(), "{report}");
    // -n: no lookups at all.
    let (_, report) = trace_json(topo.client(), topo.target_addr(false), &[], false);
    assert!(report["hops"][0]["addresses"][0]["name"].is_null());
}

#[test]
fn target_name_resolves_through_the_namespace_hosts_file() {
    needs!(lab);
    let probe = Topology::builder().routers(1).no_standard_ports();
    // The target's addresses are known before build: link 1, side 2.
    let hosts = "127.0.0.1 localhost\n198.51.100.6 far.lab.test\n2001:db8:0:1::2 far.lab.test\n";
    let topo = probe.client_files(hosts, "nameserver 203.0.113.253\n").build();
    assert_eq!(topo.target_v4().to_string(), "198.51.100.6");
    for (flag, want) in [("-4", topo.target_addr(false)), ("-6", topo.target_addr(true))] {
        let out = sockdiag(&["--json", "trace", "-n", flag, "far.lab.test"])
            .in_ns(topo.client())
            .exits(0);
        let report = out.json();
        assert_eq!(report["target"], "far.lab.test");
        assert_eq!(report["address"], want.to_string());
        assert_eq!(report["stop"]["hop"], 2);
    }
}

#[test]
fn a_near_target_answering_every_wave_shows_no_false_loss() {
    needs!(lab);
    // The namespace's own loopback answers every probe of every TTL at once: 2,550 replies if all
    // probes went out before any reply was read, more than the socket buffer holds (replies were
    // dropped, and hop 1 showed loss that never happened).
    let ns = Netns::new();
    for target in ["127.0.0.1", "::1"] {
        let (code, report) = trace_json(&ns, target.parse().unwrap(), &["-m", "255", "-q", "10"], false);
        assert_eq!(code, Some(0), "{report}");
        assert_eq!(report["stop"]["hop"], 1, "{}", report["stop"]);
        let hop = &report["hops"][0];
        assert_eq!(hop["addresses"][0]["address"], target);
        assert_eq!(
            (hop["sent"].as_u64(), hop["received"].as_u64()),
            (Some(10), Some(10)),
            "{hop}"
        );
        // Probes beyond the end of the path stop going out once it is known.
        let sent = report["probes_sent"].as_u64().unwrap();
        assert!(sent < 2550, "{target}: {sent} probes sent");
    }
}

#[test]
fn a_target_name_without_an_address_is_a_negative_answer() {
    needs!(lab);
    // The namespace's only name server is its own loopback, where nothing listens: the lookup fails at
    // once, and never reaches a host resolver.
    let ns = Netns::builder()
        .resolv_conf("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        .build();
    let out = sockdiag(&["trace", "-n", "nowhere.lab.test"]).in_ns(&ns).exits(1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("sockdiag: cannot resolve 'nowhere.lab.test': ") && err.contains("(EAI_"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn every_send_failing_ends_the_trace_with_the_reason() {
    needs!(lab);
    let topo = Topology::builder().routers(1).no_standard_ports().build();
    // No route to 203.0.113.0/24 in a kernel topology's client: every sendto fails at once.
    let (code, report) = trace_json(topo.client(), "203.0.113.200".parse().unwrap(), &[], false);
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(report["stop"]["reason"], "send_failed");
    assert!(
        report["stop"]["message"]
            .as_str()
            .unwrap()
            .contains("unreachable"),
        "{report}"
    );
    let s = &report["samples"][0];
    assert!(s["send_error"].as_str().unwrap().contains("unreachable"), "{s}");
}

#[test]
fn bad_input_is_rejected_with_one_line_and_exit_2() {
    for (args, fragment) in [
        (&["trace"][..], "required"),
        (
            &["trace", "--first-ttl", "10", "--max-hops", "5", "127.0.0.1"],
            "--first-ttl 10 is above --max-hops 5",
        ),
        (&["trace", "-4", "::1"], "not an IPv4 address"),
        (&["trace", "-6", "127.0.0.1"], "not an IPv6 address"),
        (&["trace", "-w", "5d", "127.0.0.1"], "bad duration '5d'"),
        (&["trace", "-w", "0", "127.0.0.1"], "'0' is zero"),
        (&["trace", "--deadline", "0s", "127.0.0.1"], "--deadline"),
        (&["trace", "-f", "3", "127.0.0.1"], "-f"),
        (&["trace", "-q", "0", "127.0.0.1"], "--queries"),
        (&["trace", "-m", "0", "127.0.0.1"], "--max-hops"),
        (&["trace", "bad name", "-n"], "bad name"),
    ] {
        let out = sockdiag(args).run();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("sockdiag: ") && err.contains(fragment),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn help_documents_the_flags_and_exit_codes() {
    let out = sockdiag(&["trace", "--help"]).run();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--first-ttl",
        "--max-hops",
        "--queries",
        "--max-inflight",
        "--timeout",
        "--deadline",
        "--numeric",
        "[default: 1s]",
        "[default: 1.5s, plus",
        "--count",
        "--interval",
        "--udp",
        "--tcp",
        "--flow",
        "130",
        "CAP_NET_RAW",
        "root",
        "net.ipv4.ping_group_range",
        "Examples:",
        "Exit codes",
    ] {
        assert!(help.contains(flag), "{flag}: {help}");
    }
}
