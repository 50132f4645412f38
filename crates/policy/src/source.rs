//! `SourceKey`: the unit a connection's source is counted, rate-limited and banned by.
//!
//! One rule for every per-source table (the guard's failures and bans, the admission caps):
//! an IPv4 peer is its address (IPv4-mapped IPv6 counted as IPv4); an IPv6 peer is the
//! network of `ipv6_prefix` bits around its address (`[guard] ipv6_ban_prefix`, default
//! `/64`), because one IPv6 host normally holds a whole /64 and could otherwise take a new
//! address — and with it a fresh budget — for every connection.

use std::fmt;
use std::net::IpAddr;

use crate::ip_net::{canonical, IpNet};

/// The source a peer is counted as. Only [`SourceKey::of`] makes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceKey(IpNet);

impl SourceKey {
    /// The source of a peer at `ip`, with IPv6 grouped by `ipv6_prefix` bits (a prefix
    /// longer than 128 counts the single address).
    pub fn of(ip: IpAddr, ipv6_prefix: u8) -> Self {
        let ip = canonical(ip);
        match ip {
            IpAddr::V6(_) => Self(IpNet::truncating(ip, ipv6_prefix).unwrap_or_else(|_| IpNet::host(ip))),
            IpAddr::V4(_) => Self(IpNet::host(ip)),
        }
    }

    /// The network this source stands for (what a ban on it covers).
    pub fn net(self) -> IpNet {
        self.0
    }
}

impl fmt::Display for SourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str, prefix: u8) -> SourceKey {
        SourceKey::of(s.parse().unwrap(), prefix)
    }

    #[test]
    fn ipv4_is_the_address_and_mapped_ipv6_is_ipv4() {
        assert_eq!(key("10.0.0.1", 64).to_string(), "10.0.0.1/32");
        assert_eq!(key("::ffff:10.0.0.1", 64), key("10.0.0.1", 64));
        assert_ne!(key("10.0.0.1", 64), key("10.0.0.2", 64));
    }

    #[test]
    fn ipv6_is_the_prefix_network() {
        assert_eq!(key("2001:db8:1:2:aaaa::1", 64).to_string(), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2::1", 64), key("2001:db8:1:2:ffff:ffff:ffff:ffff", 64));
        assert_ne!(key("2001:db8:1:2::1", 64), key("2001:db8:1:3::1", 64));
        assert_eq!(key("2001:db8:1:2::1", 48), key("2001:db8:1:3::1", 48));
        assert_ne!(key("2001:db8::1", 128), key("2001:db8::2", 128));
        // Out of range: the single address, never a wider network.
        assert_eq!(key("2001:db8::1", 200).to_string(), "2001:db8::1/128");
    }
}
