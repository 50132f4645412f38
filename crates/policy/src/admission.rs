//! Pending-handshake and connection caps, enforced at accept before any TLS work.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

use crate::ip_net::canonical;

/// Caps enforced at accept, before any TLS work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdmissionLimits {
    pub max_pending_per_ip: u32,
    pub max_pending_total: u32,
    pub max_connections_total: u32,
}

/// Why a connection was refused at accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This source already has `max_pending_per_ip` unauthenticated connections.
    PendingPerIp,
    /// `max_pending_total` unauthenticated connections exist.
    PendingTotal,
    /// `max_connections_total` connections exist.
    ConnectionsTotal,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::PendingPerIp => "too many pending handshakes from this address",
            Self::PendingTotal => "too many pending handshakes",
            Self::ConnectionsTotal => "too many connections",
        })
    }
}

/// A connection's standing in the admission table. Only [`Admission`] makes these.
#[derive(Debug, PartialEq, Eq)]
pub struct Ticket {
    ip: IpAddr,
    pending: bool,
}

impl Ticket {
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    pub fn is_pending(&self) -> bool {
        self.pending
    }
}

/// Counts of pending (unauthenticated) and live connections.
#[derive(Debug)]
pub struct Admission {
    limits: AdmissionLimits,
    pending_by_ip: HashMap<IpAddr, u32>,
    pending_total: u32,
    connections: u32,
}

impl Admission {
    pub fn new(limits: AdmissionLimits) -> Self {
        Self {
            limits,
            pending_by_ip: HashMap::new(),
            pending_total: 0,
            connections: 0,
        }
    }

    /// Decide on a new TCP connection from `ip`.
    pub fn admit(&mut self, ip: IpAddr) -> Result<Ticket, Refusal> {
        let ip = canonical(ip);
        if self.connections >= self.limits.max_connections_total {
            return Err(Refusal::ConnectionsTotal);
        }
        if self.pending_total >= self.limits.max_pending_total {
            return Err(Refusal::PendingTotal);
        }
        let per_ip = self.pending_by_ip.get(&ip).copied().unwrap_or(0);
        if per_ip >= self.limits.max_pending_per_ip {
            return Err(Refusal::PendingPerIp);
        }
        self.pending_by_ip.insert(ip, per_ip + 1);
        self.pending_total += 1;
        self.connections += 1;
        Ok(Ticket { ip, pending: true })
    }

    /// The connection passed authentication: it no longer counts as pending.
    pub fn authenticated(&mut self, ticket: &mut Ticket) {
        if ticket.pending {
            self.release_pending(ticket.ip);
            ticket.pending = false;
        }
    }

    /// The connection is gone.
    pub fn closed(&mut self, ticket: Ticket) {
        if ticket.pending {
            self.release_pending(ticket.ip);
        }
        self.connections = self.connections.saturating_sub(1);
    }

    pub fn pending_total(&self) -> u32 {
        self.pending_total
    }

    pub fn pending_from(&self, ip: IpAddr) -> u32 {
        self.pending_by_ip.get(&canonical(ip)).copied().unwrap_or(0)
    }

    pub fn connections(&self) -> u32 {
        self.connections
    }

    fn release_pending(&mut self, ip: IpAddr) {
        if let Some(n) = self.pending_by_ip.get_mut(&ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.pending_by_ip.remove(&ip);
            }
        }
        self.pending_total = self.pending_total.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> AdmissionLimits {
        AdmissionLimits {
            max_pending_per_ip: 2,
            max_pending_total: 3,
            max_connections_total: 4,
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn per_ip_cap_refuses_only_that_ip() {
        let mut a = Admission::new(limits());
        let _t1 = a.admit(ip("10.0.0.1")).unwrap();
        let _t2 = a.admit(ip("10.0.0.1")).unwrap();
        assert_eq!(a.admit(ip("10.0.0.1")), Err(Refusal::PendingPerIp));
        assert!(a.admit(ip("10.0.0.2")).is_ok());
    }

    #[test]
    fn global_pending_cap() {
        let mut a = Admission::new(limits());
        for i in 1..=3 {
            a.admit(ip(&format!("10.0.0.{i}"))).unwrap();
        }
        assert_eq!(a.admit(ip("10.0.0.9")), Err(Refusal::PendingTotal));
    }

    #[test]
    fn authenticated_connections_free_their_pending_slot_but_count_as_live() {
        let mut a = Admission::new(limits());
        let mut t1 = a.admit(ip("10.0.0.1")).unwrap();
        let mut t2 = a.admit(ip("10.0.0.1")).unwrap();
        a.authenticated(&mut t1);
        a.authenticated(&mut t1); // idempotent
        assert_eq!(a.pending_from(ip("10.0.0.1")), 1);
        let mut t3 = a.admit(ip("10.0.0.1")).unwrap();
        a.authenticated(&mut t2);
        a.authenticated(&mut t3);
        let _t4 = a.admit(ip("10.0.0.2")).unwrap();
        assert_eq!(a.connections(), 4);
        assert_eq!(a.admit(ip("10.0.0.3")), Err(Refusal::ConnectionsTotal));
        a.closed(t1);
        assert!(a.admit(ip("10.0.0.3")).is_ok());
    }

    #[test]
    fn closing_releases_everything_exactly_once() {
        let mut a = Admission::new(limits());
        let t1 = a.admit(ip("10.0.0.1")).unwrap();
        let mut t2 = a.admit(ip("10.0.0.1")).unwrap();
        a.authenticated(&mut t2);
        a.closed(t1);
        a.closed(t2);
        assert_eq!(a.pending_total(), 0);
        assert_eq!(a.connections(), 0);
        assert_eq!(a.pending_from(ip("10.0.0.1")), 0);
    }

    #[test]
    fn mapped_ipv6_counts_as_ipv4() {
        let mut a = Admission::new(limits());
        let _t1 = a.admit(ip("::ffff:10.0.0.1")).unwrap();
        let _t2 = a.admit(ip("10.0.0.1")).unwrap();
        assert_eq!(a.admit(ip("::ffff:10.0.0.1")), Err(Refusal::PendingPerIp));
        assert_eq!(a.pending_from(ip("10.0.0.1")), 2);
    }
}
