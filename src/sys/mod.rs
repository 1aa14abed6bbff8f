//! Every raw kernel and C-library call, behind safe functions; the commands call only this API.

pub mod gai;
pub mod ifaddrs;
