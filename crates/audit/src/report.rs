//! `rampart audit report`: a human summary of a time range of the trail. Pure: the caller
//! passes the events (oldest first) and the range.

use std::collections::{BTreeMap, HashMap};
use std::fmt::{self, Write as _};
use std::net::IpAddr;

use crate::{Event, EventKind, Outcome, UnixMillis};

/// How many rows the "top" tables show.
pub const TOP: usize = 10;

/// One user's sessions in the range.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserSessions {
    /// Connections that opened (started or resumed) a session.
    pub connections: u32,
    /// New desktop sessions among them.
    pub started: u32,
    /// Time connected, summed over the connections (open ones up to the end of the range).
    pub total_ms: i64,
    pub longest_ms: i64,
    /// Connections still attached at the end of the range.
    pub open: u32,
}

/// The summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub since: UnixMillis,
    pub until: UnixMillis,
    pub events: usize,
    pub logons: u32,
    pub failed_logons: u32,
    pub refused_connections: u32,
    /// (source, failures), most first.
    pub failing_sources: Vec<(IpAddr, u32)>,
    /// (user name as sent, failures), most first.
    pub failing_users: Vec<(String, u32)>,
    /// (time, what, reason) of automatic and manual bans and unbans.
    pub bans: Vec<(UnixMillis, EventKind, String)>,
    pub sessions: BTreeMap<String, UserSessions>,
    /// (user, second-factor failures), most first.
    pub mfa_failures: Vec<(String, u32)>,
    pub admin_changes: u32,
}

fn top<K: Ord + Clone>(counts: HashMap<K, u32>) -> Vec<(K, u32)> {
    let mut v: Vec<(K, u32)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(TOP);
    v
}

/// Summarises `events` (oldest first) that fall in `since..until`.
pub fn summarise(events: &[Event], since: UnixMillis, until: UnixMillis) -> Report {
    let mut logons = 0;
    let mut failed_logons = 0;
    let mut refused = 0;
    let mut sources: HashMap<IpAddr, u32> = HashMap::new();
    let mut users: HashMap<String, u32> = HashMap::new();
    let mut mfa: HashMap<String, u32> = HashMap::new();
    let mut bans = Vec::new();
    let mut admin = 0;
    let mut sessions: BTreeMap<String, UserSessions> = BTreeMap::new();
    // connection -> (user, since)
    let mut attached: HashMap<u64, (String, i64)> = HashMap::new();
    let mut count = 0;
    for e in events.iter().filter(|e| e.time >= since && e.time < until) {
        count += 1;
        let user = e.user.clone().unwrap_or_default();
        match e.kind {
            EventKind::AuthSucceeded if e.reason.is_none() => logons += 1,
            EventKind::MfaSucceeded => logons += 1,
            EventKind::AuthFailed | EventKind::MfaFailed => {
                failed_logons += 1;
                if let Some(peer) = e.peer {
                    *sources.entry(peer.ip()).or_default() += 1;
                }
                if !user.is_empty() {
                    *users.entry(user.clone()).or_default() += 1;
                }
                if e.kind == EventKind::MfaFailed {
                    *mfa.entry(user.clone()).or_default() += 1;
                }
            }
            EventKind::ConnectionRefused => refused += 1,
            EventKind::SourceBanned | EventKind::BanAdded | EventKind::BanRemoved => {
                let what = match (e.kind, e.peer) {
                    (EventKind::SourceBanned, Some(peer)) => {
                        format!("{} ({})", peer.ip(), e.reason.as_deref().unwrap_or(""))
                    }
                    _ => e.reason.clone().unwrap_or_default(),
                };
                bans.push((e.time, e.kind, what));
            }
            EventKind::SessionStarted | EventKind::SessionResumed => {
                let entry = sessions.entry(user.clone()).or_default();
                entry.connections += 1;
                if e.kind == EventKind::SessionStarted {
                    entry.started += 1;
                }
                if let Some(conn) = e.connection {
                    attached.insert(conn, (user, e.time.0));
                }
            }
            EventKind::SessionDisconnected => {
                if let Some((user, from)) = e.connection.and_then(|c| attached.remove(&c)) {
                    let entry = sessions.entry(user).or_default();
                    let d = e.time.0.saturating_sub(from).max(0);
                    entry.total_ms = entry.total_ms.saturating_add(d);
                    entry.longest_ms = entry.longest_ms.max(d);
                }
            }
            _ => {}
        }
        if e.peer.is_none() && e.outcome == Outcome::Success && is_admin(e.kind) {
            admin += 1;
        }
    }
    for (user, from) in attached.into_values() {
        let entry = sessions.entry(user).or_default();
        let d = until.0.saturating_sub(from).max(0);
        entry.total_ms = entry.total_ms.saturating_add(d);
        entry.longest_ms = entry.longest_ms.max(d);
        entry.open += 1;
    }
    Report {
        since,
        until,
        events: count,
        logons,
        failed_logons,
        refused_connections: refused,
        failing_sources: top(sources),
        failing_users: top(users),
        bans,
        sessions,
        mfa_failures: top(mfa),
        admin_changes: admin,
    }
}

fn is_admin(kind: EventKind) -> bool {
    crate::KIND_ALIASES
        .iter()
        .find(|(name, _)| *name == "admin")
        .is_some_and(|(_, kinds)| kinds.contains(&kind))
}

/// `1h 02m`, `3m 05s`, `12s`.
pub fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, sec) => format!("{m}m {sec:02}s"),
        (h, m, _) => format!("{h}h {m:02}m"),
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Rampart audit report, {} to {} UTC ({} event{})",
            self.since.format_utc(),
            self.until.format_utc(),
            self.events,
            if self.events == 1 { "" } else { "s" }
        );
        let _ = writeln!(
            out,
            "  logons {}, failed logons {}, refused connections {}, admin changes {}",
            self.logons, self.failed_logons, self.refused_connections, self.admin_changes
        );
        let _ = writeln!(out, "\nTop failing sources:");
        if self.failing_sources.is_empty() {
            let _ = writeln!(out, "  (none)");
        }
        for (ip, n) in &self.failing_sources {
            let _ = writeln!(out, "  {n:>6}  {ip}");
        }
        let _ = writeln!(out, "\nTop failing users:");
        if self.failing_users.is_empty() {
            let _ = writeln!(out, "  (none)");
        }
        for (user, n) in &self.failing_users {
            let _ = writeln!(out, "  {n:>6}  {user}");
        }
        let _ = writeln!(out, "\nBans:");
        if self.bans.is_empty() {
            let _ = writeln!(out, "  (none)");
        }
        for (time, kind, what) in &self.bans {
            let _ = writeln!(out, "  {}  {:<13} {what}", time.format_utc(), kind.code());
        }
        let _ = writeln!(out, "\nSessions per user:");
        if self.sessions.is_empty() {
            let _ = writeln!(out, "  (none)");
        }
        for (user, s) in &self.sessions {
            let _ = write!(
                out,
                "  {user:<16} {} connection{} ({} new), total {}, longest {}",
                s.connections,
                if s.connections == 1 { "" } else { "s" },
                s.started,
                duration(s.total_ms),
                duration(s.longest_ms)
            );
            if s.open > 0 {
                let _ = write!(out, ", {} still connected", s.open);
            }
            out.push('\n');
        }
        let _ = writeln!(out, "\nSecond-factor failures:");
        if self.mfa_failures.is_empty() {
            let _ = writeln!(out, "  (none)");
        }
        for (user, n) in &self.mfa_failures {
            let _ = writeln!(out, "  {n:>6}  {user}");
        }
        f.write_str(out.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t: i64, kind: EventKind, outcome: Outcome, ip: &str, user: &str, conn: u64) -> Event {
        let mut e = Event::new(UnixMillis(t), kind, outcome).with_connection(conn);
        if !ip.is_empty() {
            e = e.with_peer(format!("{ip}:5000").parse().unwrap());
        }
        if !user.is_empty() {
            e = e.with_user(user);
        }
        e
    }

    #[test]
    fn summary_counts_and_durations() {
        use EventKind::*;
        use Outcome::*;
        let events = vec![
            ev(0, AuthFailed, Failure, "10.0.0.9", "admin", 1), // before the range
            ev(1_000, AuthFailed, Failure, "10.0.0.9", "admin", 2),
            ev(1_100, AuthFailed, Failure, "10.0.0.9", "root", 3),
            ev(1_200, AuthFailed, Failure, "10.0.0.7", "admin", 4),
            ev(1_300, SourceBanned, Failure, "10.0.0.9", "", 5).with_reason("10.0.0.9/32 banned for 15 min (ban #1)"),
            ev(2_000, AuthSucceeded, Success, "127.0.0.1", "alice", 6).with_reason("password verified; second factor pending"),
            ev(2_100, MfaFailed, Failure, "127.0.0.1", "alice", 6),
            ev(2_200, MfaSucceeded, Success, "127.0.0.1", "alice", 6),
            ev(2_300, SessionStarted, Success, "127.0.0.1", "alice", 6),
            ev(62_300, SessionDisconnected, Info, "127.0.0.1", "alice", 6),
            ev(70_000, SessionResumed, Success, "127.0.0.1", "alice", 7),
            ev(80_000, UserAdded, Success, "", "bob", 0),
            ev(90_000, ConnectionRefused, Failure, "10.0.0.9", "", 8),
        ];
        let r = summarise(&events, UnixMillis(1_000), UnixMillis(100_000));
        assert_eq!(r.events, 12);
        assert_eq!((r.logons, r.failed_logons, r.refused_connections, r.admin_changes), (1, 4, 1, 1));
        assert_eq!(r.failing_sources, vec![("10.0.0.9".parse().unwrap(), 2), ("10.0.0.7".parse().unwrap(), 1), ("127.0.0.1".parse().unwrap(), 1)]);
        assert_eq!(r.failing_users[0], ("admin".to_owned(), 2));
        assert_eq!(r.mfa_failures, vec![("alice".to_owned(), 1)]);
        assert_eq!(r.bans.len(), 1);
        let alice = &r.sessions["alice"];
        assert_eq!((alice.connections, alice.started, alice.open), (2, 1, 1));
        assert_eq!(alice.longest_ms, 60_000);
        assert_eq!(alice.total_ms, 60_000 + 30_000);
        let text = r.to_string();
        assert!(text.contains("       2  10.0.0.9"), "{text}");
        assert!(text.contains("alice            2 connections (1 new), total 1m 30s, longest 1m 00s, 1 still connected"), "{text}");
        assert!(text.contains("source_banned 10.0.0.9 (10.0.0.9/32 banned for 15 min (ban #1))"), "{text}");
    }

    #[test]
    fn an_empty_range_says_none() {
        let r = summarise(&[], UnixMillis(0), UnixMillis(1));
        let text = r.to_string();
        assert!(text.contains("(0 events)"));
        assert_eq!(text.matches("(none)").count(), 5, "{text}");
    }

    #[test]
    fn durations() {
        assert_eq!(duration(12_999), "12s");
        assert_eq!(duration(185_000), "3m 05s");
        assert_eq!(duration(3_720_000), "1h 02m");
    }
}
