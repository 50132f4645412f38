//! The supervisor's roster of live connections: who is connected from where, how far each
//! got, which ones show a desktop and when their client last sent input, and since when
//! each desktop has had nobody connected. What `rampart status` shows and what the session
//! limits ([`rampart_policy::session_limits`]) decide on.
//!
//! It also carries why a connection was told to go (idle, ended by an administrator), so
//! that the connection's own records say so.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rampart_audit::UnixMillis;
use rampart_desktop::session::SessionSummary;
use rampart_policy::LiveConnection;
use tokio::sync::Notify;

/// How far a connection got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stage {
    /// TLS, NLA: not authenticated yet.
    Handshake,
    /// NLA passed (the second factor may still be due).
    Authenticated,
    /// Shows this display.
    Desktop { display: String },
}

#[derive(Debug)]
struct Entry {
    peer: SocketAddr,
    accepted: UnixMillis,
    accepted_at: Instant,
    /// The canonical user name, once NLA passed.
    user: Option<String>,
    stage: Stage,
    /// The last input the worker reported (or the desktop's grant).
    last_input: UnixMillis,
    /// When the last activity report was taken, and how many came too early in a row.
    last_report: Option<Instant>,
    early_reports: u32,
    kick: Arc<Notify>,
    /// Why the connection was told to go, once it was.
    leaving: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    connections: HashMap<u64, Entry>,
    /// Desktops (by lowercased user) that nobody is connected to, and since when.
    detached: HashMap<String, UnixMillis>,
}

/// A connection as `rampart status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConnectionSnapshot {
    pub id: u64,
    pub peer: SocketAddr,
    pub accepted: UnixMillis,
    pub user: Option<String>,
    pub stage: Stage,
    pub last_input: UnixMillis,
    pub leaving: Option<String>,
}

/// What a worker report is, as far as its timing goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReportTiming {
    /// Take it.
    Due,
    /// Sooner than half an interval after the last one: ignored.
    Early,
    /// Early again and again: the worker is not ours any more.
    Flooding,
}

/// Early reports in a row before a worker counts as flooding.
const MAX_EARLY_REPORTS: u32 = 16;

#[derive(Debug)]
pub(crate) struct Roster {
    state: Mutex<State>,
    /// The session manager's list as last read (it is busy while a session starts).
    desktops: Mutex<Vec<SessionSummary>>,
    /// When the server started (for `rampart status`).
    pub started: UnixMillis,
}

fn key(user: &str) -> String {
    user.to_lowercase()
}

impl Roster {
    pub fn new(started: UnixMillis) -> Self {
        Self {
            state: Mutex::new(State::default()),
            desktops: Mutex::new(Vec::new()),
            started,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The roster holds plain data; a panic elsewhere cannot leave it half-updated in a
        // way that matters more than losing it would.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A connection admitted at `now`; `kick` ends it.
    pub fn add(&self, id: u64, peer: SocketAddr, now: UnixMillis, kick: Arc<Notify>) {
        self.lock().connections.insert(
            id,
            Entry {
                peer,
                accepted: now,
                accepted_at: Instant::now(),
                user: None,
                stage: Stage::Handshake,
                last_input: now,
                last_report: None,
                early_reports: 0,
                kick,
                leaving: None,
            },
        );
    }

    /// NLA passed for `user`.
    pub fn authenticated(&self, id: u64, user: &str) {
        if let Some(e) = self.lock().connections.get_mut(&id) {
            e.user = Some(user.to_owned());
            e.stage = Stage::Authenticated;
        }
    }

    /// The connection shows `display` from `now`; its user's desktop is attached again.
    /// Returns the time since accept.
    pub fn desktop(&self, id: u64, display: &str, now: UnixMillis) -> Option<Duration> {
        let mut state = self.lock();
        let entry = state.connections.get_mut(&id)?;
        entry.stage = Stage::Desktop {
            display: display.to_owned(),
        };
        entry.last_input = now;
        let since = entry.accepted_at.elapsed();
        if let Some(user) = entry.user.clone() {
            state.detached.remove(&key(&user));
        }
        Some(since)
    }

    /// Time since the connection was accepted.
    pub fn since_accept(&self, id: u64) -> Option<Duration> {
        self.lock().connections.get(&id).map(|e| e.accepted_at.elapsed())
    }

    /// A worker's activity report arrived: whether to take it.
    pub fn report(&self, id: u64, input: bool, now: UnixMillis) -> ReportTiming {
        let mut state = self.lock();
        let Some(e) = state.connections.get_mut(&id) else {
            return ReportTiming::Early;
        };
        let at = Instant::now();
        let half = crate::worker::activity::REPORT_INTERVAL / 2;
        if e.last_report.is_some_and(|last| at.duration_since(last) < half) {
            e.early_reports = e.early_reports.saturating_add(1);
            return if e.early_reports > MAX_EARLY_REPORTS {
                ReportTiming::Flooding
            } else {
                ReportTiming::Early
            };
        }
        e.last_report = Some(at);
        e.early_reports = 0;
        if input {
            e.last_input = now;
        }
        ReportTiming::Due
    }

    /// The connection ended at `now`. If it showed a desktop and no other connection of
    /// the same user does, that desktop is detached from now on.
    pub fn remove(&self, id: u64, now: UnixMillis) {
        let mut state = self.lock();
        let Some(gone) = state.connections.remove(&id) else { return };
        let (Some(user), Stage::Desktop { .. }) = (gone.user, gone.stage) else { return };
        let k = key(&user);
        let still_shown = state.connections.values().any(|e| {
            matches!(e.stage, Stage::Desktop { .. }) && e.user.as_deref().is_some_and(|u| key(u) == k)
        });
        if !still_shown {
            state.detached.insert(k, now);
        }
    }

    /// Tells a connection to go, for `reason` (kept for its records). False if it is gone
    /// or already leaving.
    pub fn kick(&self, id: u64, reason: &str) -> bool {
        let mut state = self.lock();
        let Some(e) = state.connections.get_mut(&id) else { return false };
        if e.leaving.is_some() {
            return false;
        }
        e.leaving = Some(reason.to_owned());
        e.kick.notify_one();
        true
    }

    /// Tells every connection of `user` (any case) to go; returns their ids.
    pub fn kick_user(&self, user: &str, reason: &str) -> Vec<u64> {
        let k = key(user);
        let mut state = self.lock();
        let mut kicked = Vec::new();
        for (id, e) in state.connections.iter_mut() {
            if e.user.as_deref().is_some_and(|u| key(u) == k) && e.leaving.is_none() {
                e.leaving = Some(reason.to_owned());
                e.kick.notify_one();
                kicked.push(*id);
            }
        }
        kicked
    }

    /// Why the connection was told to go, if it was.
    pub fn leaving_reason(&self, id: u64) -> Option<String> {
        self.lock().connections.get(&id).and_then(|e| e.leaving.clone())
    }

    /// Whether a connection of `user` (any case) shows a desktop.
    pub fn shown(&self, user: &str) -> bool {
        let k = key(user);
        self.lock()
            .connections
            .values()
            .any(|e| matches!(e.stage, Stage::Desktop { .. }) && e.user.as_deref().is_some_and(|u| key(u) == k))
    }

    /// Whether any connection of `user` (any case) is still live.
    pub fn connected(&self, user: &str) -> bool {
        let k = key(user);
        self.lock()
            .connections
            .values()
            .any(|e| e.user.as_deref().is_some_and(|u| key(u) == k))
    }

    /// Since when `user`'s desktop has had nobody connected, if it is detached.
    pub fn detached_since(&self, user: &str) -> Option<UnixMillis> {
        self.lock().detached.get(&key(user)).copied()
    }

    /// `user`'s desktop is gone: nothing more to time.
    pub fn forget(&self, user: &str) {
        self.lock().detached.remove(&key(user));
    }

    /// Keeps the session manager's list for when it is busy.
    pub fn set_desktops(&self, desktops: Vec<SessionSummary>) {
        *self.desktops.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = desktops;
    }

    /// The session manager's list as last read.
    pub fn desktops(&self) -> Vec<SessionSummary> {
        self.desktops.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// The connections as the session limits see them.
    pub fn for_limits(&self) -> Vec<LiveConnection> {
        self.lock()
            .connections
            .iter()
            .map(|(id, e)| LiveConnection {
                id: *id,
                in_desktop: matches!(e.stage, Stage::Desktop { .. }),
                last_input: e.last_input,
                leaving: e.leaving.is_some(),
            })
            .collect()
    }

    /// Every live connection, oldest first.
    pub fn snapshot(&self) -> Vec<ConnectionSnapshot> {
        let mut all: Vec<ConnectionSnapshot> = self
            .lock()
            .connections
            .iter()
            .map(|(id, e)| ConnectionSnapshot {
                id: *id,
                peer: e.peer,
                accepted: e.accepted,
                user: e.user.clone(),
                stage: e.stage.clone(),
                last_input: e.last_input,
                leaving: e.leaving.clone(),
            })
            .collect();
        all.sort_by_key(|c| c.id);
        all
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn peer() -> SocketAddr {
        "127.0.0.1:5000".parse().unwrap()
    }

    #[test]
    fn a_desktop_is_detached_when_its_last_connection_goes() {
        let r = Roster::new(UnixMillis(0));
        for id in [1, 2] {
            r.add(id, peer(), UnixMillis(10), Arc::new(Notify::new()));
            r.authenticated(id, "Alice");
            r.desktop(id, ":10", UnixMillis(20)).unwrap();
        }
        assert!(r.shown("alice"));
        r.remove(1, UnixMillis(30));
        assert_eq!(r.detached_since("alice"), None, "another connection still shows it");
        r.remove(2, UnixMillis(40));
        assert_eq!(r.detached_since("ALICE"), Some(UnixMillis(40)));
        assert!(!r.shown("alice"));
        // Coming back attaches it again.
        r.add(3, peer(), UnixMillis(50), Arc::new(Notify::new()));
        r.authenticated(3, "alice");
        assert_eq!(r.detached_since("alice"), Some(UnixMillis(40)), "not attached before the desktop");
        r.desktop(3, ":10", UnixMillis(60)).unwrap();
        assert_eq!(r.detached_since("alice"), None);
    }

    #[test]
    fn a_connection_without_a_desktop_detaches_nothing() {
        let r = Roster::new(UnixMillis(0));
        r.add(1, peer(), UnixMillis(10), Arc::new(Notify::new()));
        r.authenticated(1, "bob");
        r.remove(1, UnixMillis(20));
        assert_eq!(r.detached_since("bob"), None);
        assert!(r.snapshot().is_empty());
    }

    #[tokio::test]
    async fn kicks_carry_their_reason_once() {
        let r = Roster::new(UnixMillis(0));
        let kick = Arc::new(Notify::new());
        r.add(1, peer(), UnixMillis(10), Arc::clone(&kick));
        r.authenticated(1, "alice");
        assert!(r.kick(1, "idle for 5 s"));
        assert!(!r.kick(1, "again"), "a connection leaving is not told twice");
        assert_eq!(r.leaving_reason(1).as_deref(), Some("idle for 5 s"));
        assert!(r.kick_user("alice", "ended").is_empty());
        assert!(r.for_limits().iter().all(|c| c.leaving));
        // The notification waits for the connection's loop.
        let woke = tokio::time::timeout(Duration::from_millis(500), kick.notified()).await;
        assert!(woke.is_ok(), "the kick was not delivered");
    }

    #[test]
    fn reports_sooner_than_half_an_interval_are_dropped_then_refused() {
        let r = Roster::new(UnixMillis(0));
        r.add(1, peer(), UnixMillis(0), Arc::new(Notify::new()));
        assert_eq!(r.report(1, true, UnixMillis(5000)), ReportTiming::Due);
        assert_eq!(r.for_limits().first().unwrap().last_input, UnixMillis(5000));
        for _ in 0..MAX_EARLY_REPORTS {
            assert_eq!(r.report(1, true, UnixMillis(9000)), ReportTiming::Early);
        }
        assert_eq!(r.report(1, true, UnixMillis(9000)), ReportTiming::Flooding);
        assert_eq!(r.for_limits().first().unwrap().last_input, UnixMillis(5000), "early reports change nothing");
        assert_eq!(r.report(99, true, UnixMillis(0)), ReportTiming::Early, "unknown connections change nothing");
    }
}
