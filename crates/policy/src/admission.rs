//! Pending-handshake and connection caps, enforced at accept before any TLS work.
//!
//! Every per-source cap counts a [`SourceKey`], the unit bans use too: an IPv4 address, or
//! the IPv6 network of `ipv6_prefix` bits (default /64) around the peer's address. Counted
//! per IPv6 address instead, one host holding a /64 would get 2^64 budgets.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

use crate::source::SourceKey;
use crate::UnixMillis;

/// Sources whose connection rate is tracked at once; past it, idle entries are dropped.
const MAX_RATE_ENTRIES: usize = 10_000;
/// The rate window: connections are counted per source per second.
const RATE_WINDOW_MS: i64 = 1000;

/// Caps enforced at accept, before any TLS work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdmissionLimits {
    pub max_pending_per_ip: u32,
    pub max_pending_total: u32,
    pub max_connections_total: u32,
    /// Live connections (authenticated or not) from one source.
    pub max_connections_per_ip: u32,
    /// New connections one source may open per second (0: no limit).
    pub max_connection_rate_per_ip: u32,
    /// New connections all sources together may open per second (0: no limit).
    pub max_connection_rate_total: u32,
}

/// Why a connection was refused at accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This source (address, or IPv6 network) already has `max_pending_per_ip`
    /// unauthenticated connections.
    PendingPerIp,
    /// `max_pending_total` unauthenticated connections exist.
    PendingTotal,
    /// `max_connections_total` connections exist.
    ConnectionsTotal,
    /// This source already has `max_connections_per_ip` live connections.
    ConnectionsPerIp,
    /// This source opened `max_connection_rate_per_ip` connections within the last second.
    RatePerIp,
    /// `max_connection_rate_total` connections were opened within the last second.
    RateTotal,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::PendingPerIp => "too many pending handshakes from this source",
            Self::PendingTotal => "too many pending handshakes",
            Self::ConnectionsTotal => "too many connections",
            Self::ConnectionsPerIp => "too many connections from this source",
            Self::RatePerIp => "connection rate from this source too high",
            Self::RateTotal => "connection rate too high",
        })
    }
}

/// A connection's standing in the admission table. Only [`Admission`] makes these.
#[derive(Debug, PartialEq, Eq)]
pub struct Ticket {
    source: SourceKey,
    pending: bool,
}

impl Ticket {
    /// The source this connection counts against.
    pub fn source(&self) -> SourceKey {
        self.source
    }

    pub fn is_pending(&self) -> bool {
        self.pending
    }
}

/// Counts of pending (unauthenticated) and live connections.
#[derive(Debug)]
pub struct Admission {
    limits: AdmissionLimits,
    /// IPv6 peers are counted per network of this many bits (as the guard bans them).
    ipv6_prefix: u8,
    pending_by_ip: HashMap<SourceKey, u32>,
    pending_total: u32,
    connections: u32,
    connections_by_ip: HashMap<SourceKey, u32>,
    /// Per source: start of the current one-second window and connections opened in it.
    rate_by_ip: HashMap<SourceKey, (UnixMillis, u32)>,
    /// The same, for all sources together.
    rate_total: (UnixMillis, u32),
}

impl Admission {
    /// Caps `limits`, with IPv6 sources grouped by `ipv6_prefix` bits (pass the guard's
    /// `ipv6_prefix`, so that admission and bans count the same sources).
    pub fn new(limits: AdmissionLimits, ipv6_prefix: u8) -> Self {
        Self {
            limits,
            ipv6_prefix,
            pending_by_ip: HashMap::new(),
            pending_total: 0,
            connections: 0,
            connections_by_ip: HashMap::new(),
            rate_by_ip: HashMap::new(),
            rate_total: (UnixMillis(i64::MIN), 0),
        }
    }

    /// Decide on a new TCP connection from `ip` at `now`. A refused attempt still counts
    /// toward the source's rate, so hammering keeps it refused.
    pub fn admit(&mut self, ip: IpAddr, now: UnixMillis) -> Result<Ticket, Refusal> {
        let source = self.source_of(ip);
        if !self.within_rate(source, now) {
            return Err(Refusal::RatePerIp);
        }
        if !self.within_total_rate(now) {
            return Err(Refusal::RateTotal);
        }
        if self.connections >= self.limits.max_connections_total {
            return Err(Refusal::ConnectionsTotal);
        }
        if self.connections_by_ip.get(&source).copied().unwrap_or(0) >= self.limits.max_connections_per_ip {
            return Err(Refusal::ConnectionsPerIp);
        }
        if self.pending_total >= self.limits.max_pending_total {
            return Err(Refusal::PendingTotal);
        }
        let per_ip = self.pending_by_ip.get(&source).copied().unwrap_or(0);
        if per_ip >= self.limits.max_pending_per_ip {
            return Err(Refusal::PendingPerIp);
        }
        self.pending_by_ip.insert(source, per_ip + 1);
        self.pending_total += 1;
        self.connections += 1;
        *self.connections_by_ip.entry(source).or_insert(0) += 1;
        Ok(Ticket { source, pending: true })
    }

    /// The source a peer at `ip` counts as.
    pub fn source_of(&self, ip: IpAddr) -> SourceKey {
        SourceKey::of(ip, self.ipv6_prefix)
    }

    /// Counts this attempt in the global one-second window; false past the limit.
    fn within_total_rate(&mut self, now: UnixMillis) -> bool {
        let limit = self.limits.max_connection_rate_total;
        if limit == 0 {
            return true;
        }
        let (start, count) = &mut self.rate_total;
        if now.0.saturating_sub(start.0) >= RATE_WINDOW_MS || now.0 < start.0 {
            *start = now;
            *count = 0;
        }
        *count = count.saturating_add(1);
        *count <= limit
    }

    /// Counts this attempt in the source's one-second window; false past the limit.
    fn within_rate(&mut self, source: SourceKey, now: UnixMillis) -> bool {
        let limit = self.limits.max_connection_rate_per_ip;
        if limit == 0 {
            return true;
        }
        if self.rate_by_ip.len() >= MAX_RATE_ENTRIES && !self.rate_by_ip.contains_key(&source) {
            self.rate_by_ip.retain(|_, (start, _)| now.0.saturating_sub(start.0) < RATE_WINDOW_MS);
            if self.rate_by_ip.len() >= MAX_RATE_ENTRIES {
                // Still full of live windows: a spray from many sources. Forget them rather
                // than grow; the other caps still hold.
                self.rate_by_ip.clear();
            }
        }
        let entry = self.rate_by_ip.entry(source).or_insert((now, 0));
        if now.0.saturating_sub(entry.0 .0) >= RATE_WINDOW_MS || now.0 < entry.0 .0 {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1 <= limit
    }

    /// The connection passed authentication: it no longer counts as pending.
    pub fn authenticated(&mut self, ticket: &mut Ticket) {
        if ticket.pending {
            self.release_pending(ticket.source);
            ticket.pending = false;
        }
    }

    /// The connection is gone.
    pub fn closed(&mut self, ticket: Ticket) {
        if ticket.pending {
            self.release_pending(ticket.source);
        }
        self.connections = self.connections.saturating_sub(1);
        if let Some(n) = self.connections_by_ip.get_mut(&ticket.source) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.connections_by_ip.remove(&ticket.source);
            }
        }
    }

    pub fn pending_total(&self) -> u32 {
        self.pending_total
    }

    /// Unauthenticated connections counted against the source of `ip`.
    pub fn pending_from(&self, ip: IpAddr) -> u32 {
        self.pending_by_ip.get(&self.source_of(ip)).copied().unwrap_or(0)
    }

    pub fn connections(&self) -> u32 {
        self.connections
    }

    /// Live connections counted against the source of `ip`.
    pub fn connections_from(&self, ip: IpAddr) -> u32 {
        self.connections_by_ip.get(&self.source_of(ip)).copied().unwrap_or(0)
    }

    fn release_pending(&mut self, source: SourceKey) {
        if let Some(n) = self.pending_by_ip.get_mut(&source) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.pending_by_ip.remove(&source);
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
            max_connections_per_ip: 3,
            max_connection_rate_per_ip: 0,
            max_connection_rate_total: 0,
        }
    }

    const T0: UnixMillis = UnixMillis(1_000_000);

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn per_ip_cap_refuses_only_that_ip() {
        let mut a = Admission::new(limits(), 64);
        let _t1 = a.admit(ip("10.0.0.1"), T0).unwrap();
        let _t2 = a.admit(ip("10.0.0.1"), T0).unwrap();
        assert_eq!(a.admit(ip("10.0.0.1"), T0), Err(Refusal::PendingPerIp));
        assert!(a.admit(ip("10.0.0.2"), T0).is_ok());
    }

    #[test]
    fn global_pending_cap() {
        let mut a = Admission::new(limits(), 64);
        for i in 1..=3 {
            a.admit(ip(&format!("10.0.0.{i}")), T0).unwrap();
        }
        assert_eq!(a.admit(ip("10.0.0.9"), T0), Err(Refusal::PendingTotal));
    }

    #[test]
    fn authenticated_connections_free_their_pending_slot_but_count_as_live() {
        let mut a = Admission::new(limits(), 64);
        let mut t1 = a.admit(ip("10.0.0.1"), T0).unwrap();
        let mut t2 = a.admit(ip("10.0.0.1"), T0).unwrap();
        a.authenticated(&mut t1);
        a.authenticated(&mut t1); // idempotent
        assert_eq!(a.pending_from(ip("10.0.0.1")), 1);
        let mut t3 = a.admit(ip("10.0.0.1"), T0).unwrap();
        a.authenticated(&mut t2);
        a.authenticated(&mut t3);
        let _t4 = a.admit(ip("10.0.0.2"), T0).unwrap();
        assert_eq!(a.connections(), 4);
        assert_eq!(a.admit(ip("10.0.0.3"), T0), Err(Refusal::ConnectionsTotal));
        a.closed(t1);
        assert!(a.admit(ip("10.0.0.3"), T0).is_ok());
    }

    #[test]
    fn closing_releases_everything_exactly_once() {
        let mut a = Admission::new(limits(), 64);
        let t1 = a.admit(ip("10.0.0.1"), T0).unwrap();
        let mut t2 = a.admit(ip("10.0.0.1"), T0).unwrap();
        a.authenticated(&mut t2);
        a.closed(t1);
        a.closed(t2);
        assert_eq!(a.pending_total(), 0);
        assert_eq!(a.connections(), 0);
        assert_eq!(a.pending_from(ip("10.0.0.1")), 0);
    }

    #[test]
    fn mapped_ipv6_counts_as_ipv4() {
        let mut a = Admission::new(limits(), 64);
        let _t1 = a.admit(ip("::ffff:10.0.0.1"), T0).unwrap();
        let _t2 = a.admit(ip("10.0.0.1"), T0).unwrap();
        assert_eq!(a.admit(ip("::ffff:10.0.0.1"), T0), Err(Refusal::PendingPerIp));
        assert_eq!(a.pending_from(ip("10.0.0.1")), 2);
    }

    #[test]
    fn per_ip_connection_cap_counts_authenticated_connections_too() {
        let mut a = Admission::new(
            AdmissionLimits {
                max_connections_total: 100,
                max_pending_total: 100,
                max_pending_per_ip: 100,
                ..limits()
            },
            64,
        );
        let mut tickets = Vec::new();
        for _ in 0..3 {
            let mut t = a.admit(ip("10.0.0.1"), T0).unwrap();
            a.authenticated(&mut t);
            tickets.push(t);
        }
        assert_eq!(a.admit(ip("10.0.0.1"), T0), Err(Refusal::ConnectionsPerIp));
        assert!(a.admit(ip("10.0.0.2"), T0).is_ok());
        a.closed(tickets.pop().unwrap());
        assert!(a.admit(ip("10.0.0.1"), T0).is_ok());
    }

    #[test]
    fn connection_rate_is_per_source_per_second() {
        let mut a = Admission::new(
            AdmissionLimits {
                max_connections_total: 100,
                max_pending_total: 100,
                max_pending_per_ip: 100,
                max_connections_per_ip: 100,
                max_connection_rate_per_ip: 3,
                max_connection_rate_total: 0,
            },
            64,
        );
        for _ in 0..3 {
            let t = a.admit(ip("10.0.0.1"), T0).unwrap();
            a.closed(t);
        }
        assert_eq!(a.admit(ip("10.0.0.1"), UnixMillis(T0.0 + 999)), Err(Refusal::RatePerIp));
        // Another source has its own budget.
        assert!(a.admit(ip("10.0.0.2"), UnixMillis(T0.0 + 999)).is_ok());
        // A new second, a new budget.
        assert!(a.admit(ip("10.0.0.1"), UnixMillis(T0.0 + 1000)).is_ok());
    }

    #[test]
    fn rate_table_stays_bounded() {
        let mut a = Admission::new(
            AdmissionLimits {
                max_connections_total: u32::MAX,
                max_pending_total: u32::MAX,
                max_pending_per_ip: u32::MAX,
                max_connections_per_ip: u32::MAX,
                max_connection_rate_per_ip: 10,
                max_connection_rate_total: 0,
            },
            64,
        );
        for i in 0..(MAX_RATE_ENTRIES as u32 + 50) {
            let addr = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            let t = a.admit(addr, T0).unwrap();
            a.closed(t);
        }
        assert!(a.rate_by_ip.len() <= MAX_RATE_ENTRIES);
    }

    #[test]
    fn global_connection_rate_spans_sources() {
        let mut a = Admission::new(
            AdmissionLimits {
                max_connections_total: 100,
                max_pending_total: 100,
                max_pending_per_ip: 100,
                max_connections_per_ip: 100,
                max_connection_rate_per_ip: 0,
                max_connection_rate_total: 2,
            },
            64,
        );
        for n in 1..=2 {
            let t = a.admit(ip(&format!("10.0.0.{n}")), T0).unwrap();
            a.closed(t);
        }
        assert_eq!(a.admit(ip("10.0.0.3"), T0), Err(Refusal::RateTotal));
        assert!(a.admit(ip("10.0.0.3"), UnixMillis(T0.0 + 1000)).is_ok());
    }

    fn open_limits() -> AdmissionLimits {
        AdmissionLimits {
            max_pending_per_ip: 100,
            max_pending_total: 100,
            max_connections_total: 100,
            max_connections_per_ip: 100,
            max_connection_rate_per_ip: 0,
            max_connection_rate_total: 0,
        }
    }

    #[test]
    fn ipv6_addresses_in_one_64_share_the_pending_cap() {
        let mut a = Admission::new(limits(), 64);
        let _t1 = a.admit(ip("2001:db8:1:2::1"), T0).unwrap();
        let _t2 = a.admit(ip("2001:db8:1:2:ffff:ffff:ffff:fffe"), T0).unwrap();
        // A third address of the same /64 is the same source.
        assert_eq!(a.admit(ip("2001:db8:1:2:abcd::9"), T0), Err(Refusal::PendingPerIp));
        assert_eq!(a.pending_from(ip("2001:db8:1:2::77")), 2);
        // The next /64 is another source, with a budget of its own.
        assert!(a.admit(ip("2001:db8:1:3::1"), T0).is_ok());
        assert_eq!(a.pending_from(ip("2001:db8:1:3::2")), 1);
    }

    #[test]
    fn ipv6_addresses_in_one_64_share_the_connection_cap() {
        let mut a = Admission::new(
            AdmissionLimits {
                max_connections_per_ip: 3,
                ..open_limits()
            },
            64,
        );
        let mut tickets = Vec::new();
        for n in 1..=3 {
            let mut t = a.admit(ip(&format!("2001:db8:0:1::{n}")), T0).unwrap();
            a.authenticated(&mut t);
            tickets.push(t);
        }
        assert_eq!(a.connections_from(ip("2001:db8:0:1::99")), 3);
        assert_eq!(a.admit(ip("2001:db8:0:1::4"), T0), Err(Refusal::ConnectionsPerIp));
        assert!(a.admit(ip("2001:db8:0:2::4"), T0).is_ok());
        // Closing one gives the /64 one slot back, whichever address it came from.
        a.closed(tickets.remove(0));
        assert!(a.admit(ip("2001:db8:0:1::5"), T0).is_ok());
    }

    #[test]
    fn ipv6_addresses_in_one_64_share_the_connection_rate() {
        let mut a = Admission::new(
            AdmissionLimits {
                max_connection_rate_per_ip: 2,
                ..open_limits()
            },
            64,
        );
        for n in 1..=2 {
            let t = a.admit(ip(&format!("2001:db8:0:1::{n}")), T0).unwrap();
            a.closed(t);
        }
        assert_eq!(a.admit(ip("2001:db8:0:1::3"), T0), Err(Refusal::RatePerIp));
        assert!(a.admit(ip("2001:db8:0:2::3"), T0).is_ok());
    }

    #[test]
    fn the_ipv6_grouping_follows_the_prefix_given() {
        // Per address (ipv6_ban_prefix = 128): two addresses of one /64 are two sources.
        let mut a = Admission::new(limits(), 128);
        let _t1 = a.admit(ip("2001:db8::1"), T0).unwrap();
        let _t2 = a.admit(ip("2001:db8::1"), T0).unwrap();
        assert_eq!(a.admit(ip("2001:db8::1"), T0), Err(Refusal::PendingPerIp));
        assert!(a.admit(ip("2001:db8::2"), T0).is_ok());
        // Per /48: two /64s of it are one source.
        let two_pending = AdmissionLimits {
            max_pending_per_ip: 2,
            ..open_limits()
        };
        let mut a = Admission::new(two_pending, 48);
        let t1 = a.admit(ip("2001:db8:0:1::1"), T0).unwrap();
        let _t2 = a.admit(ip("2001:db8:0:2::1"), T0).unwrap();
        assert_eq!(a.admit(ip("2001:db8:0:3::1"), T0), Err(Refusal::PendingPerIp));
        assert_eq!(t1.source().to_string(), "2001:db8::/48");
        // IPv4 stays per address whatever the IPv6 prefix.
        let _t3 = a.admit(ip("10.0.0.1"), T0).unwrap();
        assert!(a.admit(ip("10.0.0.2"), T0).is_ok());
    }
}
