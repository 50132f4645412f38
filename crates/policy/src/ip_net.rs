//! `IpNet`: an IPv4 or IPv6 network in CIDR notation, for allowlists, denylists and bans.
//!
//! Rules:
//! - `"10.0.0.0/8"`, `"fc00::/7"`; a bare address is a single host (`/32` or `/128`).
//! - Host bits must be zero (`"10.0.0.1/8"` is refused): a typo in a security list should be
//!   an error, not silently widened or narrowed.
//! - IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, what a dual-stack listener reports for
//!   IPv4 peers) are IPv4: `"::ffff:10.0.0.0/104"` is `10.0.0.0/8`, and `10.0.0.0/8` contains
//!   the peer `::ffff:10.1.2.3`. An IPv6 network wider than `/96` that covers the mapped
//!   range (e.g. `::/0`) contains the IPv4 addresses it covers.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// IPv4-mapped IPv6 addresses (from a dual-stack listener) count as the IPv4 address.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// A network: an address with all host bits zero and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

/// Why a string or address/prefix pair is not an [`IpNet`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpNetError {
    /// The part before `/` is not an IP address.
    BadAddress(String),
    /// The part after `/` is not a number.
    BadPrefix(String),
    /// The prefix is longer than the address (32 for IPv4, 128 for IPv6).
    PrefixTooLong { prefix: u8, max: u8 },
    /// Bits below the prefix are set; `network` is probably what was meant.
    HostBitsSet { network: IpNet },
}

impl fmt::Display for IpNetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadAddress(s) => write!(f, "{s:?} is not an IP address or network such as \"10.0.0.0/8\""),
            Self::BadPrefix(s) => write!(f, "{s:?} is not a prefix length"),
            Self::PrefixTooLong { prefix, max } => write!(f, "prefix length {prefix} is longer than {max}"),
            Self::HostBitsSet { network } => write!(f, "host bits are set; did you mean \"{network}\"?"),
        }
    }
}

impl std::error::Error for IpNetError {}

impl IpNet {
    /// Every IPv4 address.
    pub const ANY_V4: Self = Self {
        addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        prefix: 0,
    };
    /// Every IPv6 address (and, through the mapped range, every IPv4 address).
    pub const ANY_V6: Self = Self {
        addr: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        prefix: 0,
    };

    /// The network `addr/prefix`; host bits must be zero. Mapped IPv6 networks of `/96` or
    /// longer become IPv4.
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Self, IpNetError> {
        let (addr, prefix) = canonical_net(addr, prefix)?;
        let network = Self {
            addr: mask(addr, prefix),
            prefix,
        };
        if network.addr == addr {
            Ok(network)
        } else {
            Err(IpNetError::HostBitsSet { network })
        }
    }

    /// The network `addr/prefix` with host bits cleared (for deriving a source's network,
    /// e.g. the /64 an IPv6 peer is in).
    pub fn truncating(addr: IpAddr, prefix: u8) -> Result<Self, IpNetError> {
        let (addr, prefix) = canonical_net(addr, prefix)?;
        Ok(Self {
            addr: mask(addr, prefix),
            prefix,
        })
    }

    /// The single-address network of `ip` (`/32` or `/128`; mapped addresses are IPv4).
    pub fn host(ip: IpAddr) -> Self {
        let addr = canonical(ip);
        Self {
            addr,
            prefix: max_prefix(addr),
        }
    }

    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    pub fn is_ipv4(&self) -> bool {
        self.addr.is_ipv4()
    }

    /// Whether this is a single address.
    pub fn is_host(&self) -> bool {
        self.prefix == max_prefix(self.addr)
    }

    /// Whether `ip` is in this network (mapped IPv6 peers are matched as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(_), ip @ IpAddr::V4(_)) => mask(ip, self.prefix) == self.addr,
            (IpAddr::V6(_), ip @ IpAddr::V6(_)) => mask(ip, self.prefix) == self.addr,
            // Only networks wider than /96 stay IPv6 while covering part of the mapped range.
            (IpAddr::V6(_), IpAddr::V4(v4)) => mask(IpAddr::V6(v4.to_ipv6_mapped()), self.prefix) == self.addr,
            (IpAddr::V4(_), IpAddr::V6(_)) => false,
        }
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl FromStr for IpNet {
    type Err = IpNetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        match s.split_once('/') {
            None => {
                let addr = s.parse::<IpAddr>().map_err(|_| IpNetError::BadAddress(s.to_owned()))?;
                Ok(Self::host(addr))
            }
            Some((addr, prefix)) => {
                let addr = addr
                    .parse::<IpAddr>()
                    .map_err(|_| IpNetError::BadAddress(addr.to_owned()))?;
                // Digits only: `u8::from_str` would also take "+8".
                if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(IpNetError::BadPrefix(prefix.to_owned()));
                }
                let prefix = prefix
                    .parse::<u8>()
                    .map_err(|_| IpNetError::BadPrefix(prefix.to_owned()))?;
                Self::new(addr, prefix)
            }
        }
    }
}

fn max_prefix(addr: IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// Checks the prefix length and turns a mapped IPv6 network of /96 or longer into IPv4.
fn canonical_net(addr: IpAddr, prefix: u8) -> Result<(IpAddr, u8), IpNetError> {
    let max = max_prefix(addr);
    if prefix > max {
        return Err(IpNetError::PrefixTooLong { prefix, max });
    }
    match addr {
        IpAddr::V6(v6) if prefix >= 96 => match v6.to_ipv4_mapped() {
            Some(v4) => Ok((IpAddr::V4(v4), prefix - 96)),
            None => Ok((addr, prefix)),
        },
        _ => Ok((addr, prefix)),
    }
}

/// `addr` with the bits below `prefix` cleared. `prefix` is at most the address width.
fn mask(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let m = u32::MAX.checked_shl(32 - u32::from(prefix.min(32))).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(bits & m))
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let m = u128::MAX.checked_shl(128 - u32::from(prefix.min(128))).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(bits & m))
        }
    }
}

/// The default source allowlist: loopback, RFC 1918, CGNAT (Tailscale and other VPNs) and
/// IPv6 ULA. Link-local (169.254.0.0/16, fe80::/10) is left out: it is not how RDP clients
/// normally arrive, and an admin who connects over a direct cable can add it.
pub fn default_allowlist() -> Vec<IpNet> {
    let v4 = |a, b, c, d, prefix| IpNet {
        addr: IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
        prefix,
    };
    let v6 = |addr: Ipv6Addr, prefix| IpNet {
        addr: IpAddr::V6(addr),
        prefix,
    };
    vec![
        v4(127, 0, 0, 0, 8),
        v6(Ipv6Addr::LOCALHOST, 128),
        v4(10, 0, 0, 0, 8),
        v4(172, 16, 0, 0, 12),
        v4(192, 168, 0, 0, 16),
        v4(100, 64, 0, 0, 10),
        v6(Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parse_and_display() {
        assert_eq!(net("10.0.0.0/8").to_string(), "10.0.0.0/8");
        assert_eq!(net("fc00::/7").to_string(), "fc00::/7");
        assert_eq!(net("192.0.2.7").to_string(), "192.0.2.7/32");
        assert_eq!(net("2001:db8::1").to_string(), "2001:db8::1/128");
        assert_eq!(net(" 0.0.0.0/0 "), IpNet::ANY_V4);
        assert_eq!(net("::/0"), IpNet::ANY_V6);
        assert!(net("192.0.2.7").is_host());
        assert!(!net("10.0.0.0/8").is_host());
        for s in ["10.0.0.0/8", "fc00::/7", "1.2.3.4/32", "::1/128", "0.0.0.0/0"] {
            assert_eq!(net(s).to_string().parse::<IpNet>().unwrap(), net(s));
        }
    }

    #[test]
    fn parse_errors() {
        let err = |s: &str| s.parse::<IpNet>().unwrap_err();
        assert_eq!(err("example.com"), IpNetError::BadAddress("example.com".into()));
        assert_eq!(err("10.0.0/8"), IpNetError::BadAddress("10.0.0".into()));
        assert_eq!(err("10.0.0.0/"), IpNetError::BadPrefix(String::new()));
        assert_eq!(err("10.0.0.0/+8"), IpNetError::BadPrefix("+8".into()));
        assert_eq!(err("10.0.0.0/x"), IpNetError::BadPrefix("x".into()));
        assert_eq!(err("10.0.0.0/300"), IpNetError::BadPrefix("300".into()));
        assert_eq!(err("10.0.0.0/33"), IpNetError::PrefixTooLong { prefix: 33, max: 32 });
        assert_eq!(err("::/129"), IpNetError::PrefixTooLong { prefix: 129, max: 128 });
        assert_eq!(
            err("10.0.0.1/8"),
            IpNetError::HostBitsSet {
                network: net("10.0.0.0/8")
            }
        );
        assert_eq!(err("10.0.0.1/8").to_string(), "host bits are set; did you mean \"10.0.0.0/8\"?");
        assert!(matches!(err("fc00::1/7"), IpNetError::HostBitsSet { .. }));
        assert_eq!(
            err("nope").to_string(),
            "\"nope\" is not an IP address or network such as \"10.0.0.0/8\""
        );
    }

    #[test]
    fn ipv4_contains() {
        let n = net("172.16.0.0/12");
        assert!(n.contains(ip("172.16.0.0")));
        assert!(n.contains(ip("172.31.255.255")));
        assert!(!n.contains(ip("172.32.0.0")));
        assert!(!n.contains(ip("172.15.255.255")));
        assert!(!n.contains(ip("::1")));
        assert!(net("1.2.3.4").contains(ip("1.2.3.4")));
        assert!(!net("1.2.3.4").contains(ip("1.2.3.5")));
        assert!(IpNet::ANY_V4.contains(ip("203.0.113.9")));
        assert!(!IpNet::ANY_V4.contains(ip("2001:db8::1")));
    }

    #[test]
    fn ipv6_contains() {
        let n = net("fc00::/7");
        assert!(n.contains(ip("fc00::1")));
        assert!(n.contains(ip("fdff:ffff::1")));
        assert!(!n.contains(ip("fe00::1")));
        assert!(!n.contains(ip("10.0.0.1")));
        let n = net("2001:db8:1:2::/64");
        assert!(n.contains(ip("2001:db8:1:2:ffff::1")));
        assert!(!n.contains(ip("2001:db8:1:3::1")));
        assert!(net("::1").contains(ip("::1")));
        assert!(!net("::1").contains(ip("::2")));
    }

    #[test]
    fn mapped_addresses_are_ipv4() {
        // A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d.
        assert!(net("10.0.0.0/8").contains(ip("::ffff:10.1.2.3")));
        assert!(!net("10.0.0.0/8").contains(ip("::ffff:11.1.2.3")));
        assert_eq!(net("::ffff:10.0.0.0/104"), net("10.0.0.0/8"));
        assert_eq!(net("::ffff:192.0.2.1"), net("192.0.2.1/32"));
        assert_eq!(IpNet::host(ip("::ffff:192.0.2.1")), net("192.0.2.1"));
        assert!(net("::ffff:10.0.0.0/104").is_ipv4());
        // A wide IPv6 network covers the IPv4 addresses in its mapped range.
        assert!(IpNet::ANY_V6.contains(ip("192.0.2.1")));
        assert!(net("::fffe:0:0/95").contains(ip("192.0.2.1")));
        assert!(!net("2001:db8::/32").contains(ip("192.0.2.1")));
    }

    #[test]
    fn truncating_clears_host_bits() {
        assert_eq!(
            IpNet::truncating(ip("2001:db8:1:2:3:4:5:6"), 64).unwrap(),
            net("2001:db8:1:2::/64")
        );
        assert_eq!(IpNet::truncating(ip("10.9.8.7"), 32).unwrap(), net("10.9.8.7"));
        assert_eq!(IpNet::truncating(ip("10.9.8.7"), 0).unwrap(), IpNet::ANY_V4);
        assert!(IpNet::truncating(ip("10.9.8.7"), 33).is_err());
    }

    #[test]
    fn default_allowlist_is_private_space_only() {
        let allow = default_allowlist();
        let allowed = |s: &str| allow.iter().any(|n| n.contains(ip(s)));
        for s in [
            "127.0.0.1",
            "127.0.0.2",
            "::1",
            "::ffff:127.0.0.1",
            "10.1.2.3",
            "172.16.5.5",
            "172.31.255.254",
            "192.168.1.10",
            "100.64.0.1",
            "100.127.255.254",
            "fd7a:115c:a1e0::1",
            "fc00::1",
        ] {
            assert!(allowed(s), "{s} should be allowed");
        }
        for s in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "192.169.0.1",
            "169.254.1.1",
            "fe80::1",
            "2001:db8::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(!allowed(s), "{s} should not be allowed");
        }
        // The literal table in the docs.
        let text: Vec<String> = allow.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "127.0.0.0/8",
                "::1/128",
                "10.0.0.0/8",
                "172.16.0.0/12",
                "192.168.0.0/16",
                "100.64.0.0/10",
                "fc00::/7"
            ]
        );
    }
}
