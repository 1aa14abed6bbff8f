//! getifaddrs: the addresses configured on this host's interfaces.
//!
//! nix's `ifaddrs::getifaddrs` owns the unsafe call and frees the list; this module only keeps the IP addresses.

use std::io;
use std::net::IpAddr;

/// Every IPv4 and IPv6 address configured on an interface of this host, in the order getifaddrs lists them.
pub fn addresses() -> io::Result<Vec<IpAddr>> {
    let list = nix::ifaddrs::getifaddrs().map_err(io::Error::from)?;
    Ok(list
        .filter_map(|ifa| ifa.address)
        .filter_map(|storage| {
            storage
                .as_sockaddr_in()
                .map(|sin| IpAddr::V4(sin.ip()))
                .or_else(|| storage.as_sockaddr_in6().map(|sin6| IpAddr::V6(sin6.ip())))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_call_succeeds() {
        // Which addresses exist depends on the host; that the list can be read and walked does not.
        assert!(addresses().is_ok());
    }
}
