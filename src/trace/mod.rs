//! `sockdiag trace`: an ICMP traceroute on raw or ping sockets.

pub mod engine;
pub mod packet;
