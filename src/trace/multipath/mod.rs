//! `sockdiag trace --multipath`: every branch of every load balancer on the path (MDA), all hops at once.

pub mod log;
pub mod plan;
pub mod rule;
