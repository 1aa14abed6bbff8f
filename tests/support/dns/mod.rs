//! DNS for the lab: zones as data, a real authoritative server (NSD), and refusing/silent stubs, and a scripted hostile one.

pub mod lab_zone;
pub mod script;
pub mod server;
pub mod signed;
pub mod stub;
pub mod tls;
pub mod wire;
pub mod zone;

pub use lab_zone::lab_zone;
pub use script::{Reply, ScriptedServer};
pub use server::DnsServer;
pub use stub::StubServer;
pub use zone::{RData, Record, Zone};
