//! The one target a scan is about: `HOST[:PORT]`, `[IPv6]:PORT` or a bare IPv6 address.
//! One explicit host per scan: no ranges, no networks, no lists (scanning is opt-in per
//! target).

use std::net::IpAddr;

use thiserror::Error;

pub const DEFAULT_PORT: u16 = 3389;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TargetError {
    #[error("empty target")]
    Empty,
    #[error("bad port {0:?} (1 to 65535)")]
    BadPort(String),
    #[error("{0:?} is a network or range; name one host (scanning is opt-in per target)")]
    NotOneHost(String),
    #[error("{0:?} is not a host name or address")]
    BadHost(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: Host,
    pub port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Ip(IpAddr),
    Name(String),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.host {
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]:{}", self.port),
            Host::Ip(ip) => write!(f, "{ip}:{}", self.port),
            Host::Name(name) => write!(f, "{name}:{}", self.port),
        }
    }
}

impl Target {
    pub fn parse(input: &str) -> Result<Target, TargetError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(TargetError::Empty);
        }
        if input.contains(['/', ',', '*', ' ']) {
            return Err(TargetError::NotOneHost(input.to_owned()));
        }
        let (host, port) = if let Some(rest) = input.strip_prefix('[') {
            let (host, after) = rest.split_once(']').ok_or_else(|| TargetError::BadHost(input.to_owned()))?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(|| TargetError::BadPort(p.to_owned()))?),
            };
            let ip: std::net::Ipv6Addr = host.parse().map_err(|_| TargetError::BadHost(host.to_owned()))?;
            (Host::Ip(IpAddr::V6(ip)), port)
        } else if input.matches(':').count() > 1 {
            // A bare IPv6 address: no port possible without brackets.
            let ip: std::net::Ipv6Addr = input.parse().map_err(|_| TargetError::BadHost(input.to_owned()))?;
            (Host::Ip(IpAddr::V6(ip)), None)
        } else {
            let (host, port) = match input.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (input, None),
            };
            (parse_host(host)?, port)
        };
        let port = match port {
            None => DEFAULT_PORT,
            Some(p) => p.parse::<u16>().ok().filter(|&p| p != 0).ok_or_else(|| TargetError::BadPort(p.to_owned()))?,
        };
        Ok(Target { host, port })
    }

    /// The host name, when the target was given as one.
    pub fn name(&self) -> Option<&str> {
        match &self.host {
            Host::Name(name) => Some(name),
            Host::Ip(_) => None,
        }
    }
}

fn parse_host(host: &str) -> Result<Host, TargetError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(Host::Ip(ip));
    }
    if host.contains('-') && host.split('.').all(|part| part.chars().all(|c| c.is_ascii_digit() || c == '-')) {
        return Err(TargetError::NotOneHost(host.to_owned()));
    }
    let valid_label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && !l.starts_with('-')
    };
    if host.len() <= 253 && host.trim_end_matches('.').split('.').all(valid_label) {
        Ok(Host::Name(host.to_owned()))
    } else {
        Err(TargetError::BadHost(host.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_of_one_host() {
        let t = Target::parse("127.0.0.1").unwrap();
        assert_eq!((t.host, t.port), (Host::Ip("127.0.0.1".parse().unwrap()), 3389));
        let t = Target::parse("127.0.0.1:33890").unwrap();
        assert_eq!(t.port, 33890);
        assert_eq!(t.to_string(), "127.0.0.1:33890");
        let t = Target::parse("[::1]:4000").unwrap();
        assert_eq!((t.host.clone(), t.port), (Host::Ip("::1".parse().unwrap()), 4000));
        assert_eq!(t.to_string(), "[::1]:4000");
        assert_eq!(Target::parse("::1").unwrap().port, 3389);
        assert_eq!(Target::parse("[::1]").unwrap().port, 3389);
        let t = Target::parse("rdp.example.com:3390").unwrap();
        assert_eq!(t.name(), Some("rdp.example.com"));
    }

    #[test]
    fn ranges_networks_and_junk_are_refused() {
        for bad in ["10.0.0.0/24", "10.0.0.1-20", "a,b", "*", "host name"] {
            assert!(matches!(Target::parse(bad), Err(TargetError::NotOneHost(_))), "{bad}");
        }
        assert_eq!(Target::parse(""), Err(TargetError::Empty));
        assert!(matches!(Target::parse("host:0"), Err(TargetError::BadPort(_))));
        assert!(matches!(Target::parse("host:99999"), Err(TargetError::BadPort(_))));
        assert!(matches!(Target::parse("[::1]x"), Err(TargetError::BadPort(_))));
        assert!(matches!(Target::parse("[nope]:1"), Err(TargetError::BadHost(_))));
        assert!(matches!(Target::parse("bad..name"), Err(TargetError::BadHost(_))));
        assert!(matches!(Target::parse("x:y:z"), Err(TargetError::BadHost(_))));
    }
}
