//! `sockdiag trace --multipath`: every branch of every load balancer on the path (MDA), all hops at once.

pub mod engine;
pub mod graph;
pub mod log;
pub mod plan;
pub mod report;
pub mod rule;
pub mod run;
