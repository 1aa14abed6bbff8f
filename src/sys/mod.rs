//! The kernel's interface: every unsafe block and raw system call of sockdiag lives here, behind safe
//! functions, one module per kernel concept. The commands call only these functions; the crate denies
//! `unsafe_code` everywhere else (Cargo.toml).
//!
//! Where a maintained crate already wraps a call safely it is used here rather than written again:
//! socket2 for sockets and sendmsg, rustix for clocks, poll, resource limits, user ids and capabilities,
//! nix for getifaddrs.

// The crate denies unsafe code (Cargo.toml); this module is the one place it is allowed.
#![allow(unsafe_code)]

pub mod asyncfd;
pub mod caps;
pub mod clock;
pub mod cmsg;
pub mod errqueue;
pub mod gai;
pub mod ids;
pub mod ifaddrs;
pub mod ifname;
pub mod memory;
pub mod msg;
pub mod pktinfo;
pub mod poll;
pub mod rlimit;
pub mod services;
pub mod sigint;
pub mod sockaddr;
pub mod sockopt;
pub mod timestamp;
pub mod unixmsg;
