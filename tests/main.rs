//! The integration tests in one binary: the built `sockdiag` run end to end on loopback and in the lab, and the
//! lab's own self-checks. Each module is one file of tests/; `cargo test --test integration probe::` runs one.
//!
//! Two files are binaries of their own (see Cargo.toml): `lab_teardown` inspects its whole process, and
//! `trace_sim` times the simulator to a few milliseconds with nothing else running.

#[macro_use]
mod support;

mod cli;
mod escapes;
mod examples_listen;
mod examples_probe;
mod examples_resolve;
mod examples_trace;
mod generated;
mod lab_dns;
mod lab_sim;
mod lab_topology;
mod listen;
mod listen_chat;
mod listen_http;
mod listen_interactive;
mod listen_limits;
mod listen_show;
mod listen_stall;
mod listen_tls;
mod listen_unix;
mod probe;
mod probe_hostile;
mod probe_targets;
mod probe_tls;
mod probe_tls_lab;
mod resolve_compare;
mod resolve_dns;
mod resolve_encrypted;
mod resolve_formats;
mod resolve_hostile;
mod resolve_lab;
mod resolve_local;
mod resolve_servers;
mod resolve_stream;
mod resolve_trace;
mod resolve_types;
mod resolve_validate;
mod sockets;
mod trace;
mod trace_hostile;
mod trace_many;
mod trace_mtu;
mod trace_multipath;
mod trace_nat;
mod trace_pacing;
mod trace_protocols;
mod trace_tcp;

/// The harness names a test after its function, as `cargo test` lists it.
#[test]
fn test_name_is_the_function_path_without_the_crate() {
    assert_eq!(test_name!(), "test_name_is_the_function_path_without_the_crate");
}
