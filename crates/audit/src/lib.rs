//! Typed security events.
//!
//! Every security-relevant thing Rampart sees becomes one [`Event`]: a value with a stable,
//! versioned schema that the store writes durably. This crate owns the schema only: no I/O,
//! no clock (the caller stamps the time), no secrets (an event never holds a password or
//! hash; user names and addresses are not secrets).
//!
//! Audit is not logging: `tracing` output is for operators and may change freely; the event
//! kinds, their `code()` strings and Windows event IDs are an interface that admins'
//! tooling parses, so they only ever grow.

use std::fmt;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

pub mod chain;
pub mod export;
pub mod report;

/// Version of the event schema; bump when a field changes meaning.
pub const SCHEMA_VERSION: u32 = 1;

/// What happened. The variant set only grows; `code()` values never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A TCP connection passed admission and was handed to a worker.
    ConnectionAccepted,
    /// A TCP connection was refused before any protocol work (admission limits).
    ConnectionRefused,
    /// The peer asked for a security layer Rampart never offers (TLS-only, Standard RDP Security).
    NegotiationRefused,
    /// One NLA (CredSSP/NTLM) credential check succeeded.
    AuthSucceeded,
    /// One NLA credential check failed (unknown user, wrong password, or malformed exchange).
    AuthFailed,
    /// The handshake did not finish in time, or the peer exceeded its pre-auth byte budget.
    HandshakeAborted,
    /// A new desktop session was created for a user.
    SessionStarted,
    /// A connection attached to a user's existing desktop session.
    SessionResumed,
    /// The connection to a session ended (the session itself may live on).
    SessionDisconnected,
    /// A user's desktop session ended.
    SessionEnded,
    /// An authenticated user got no desktop: the Unix account may not log in now (root,
    /// nologin, expired, locked, PAM's account step), shadow mode is not theirs, or the
    /// session could not start; `reason` says which.
    SessionRefused,
    /// A connection closed; `reason` says why (peer closed, protocol error, worker crash).
    ConnectionClosed,
    /// Administrative changes made through the CLI.
    UserAdded,
    UserDeleted,
    PasswordChanged,
    /// The guard banned a source automatically (repeated authentication failures); `peer`
    /// is the source's address (port 0), `reason` says how long and why.
    SourceBanned,
    /// An administrator banned a source network (`rampart ban add`); `reason` names the
    /// network and the end.
    BanAdded,
    /// An administrator lifted a ban (`rampart ban del`); `reason` names the network.
    BanRemoved,
    /// An administrator opened the port outside the access windows (`rampart access open`);
    /// `reason` names the sources and the end.
    AccessOpened,
    /// An administrator withdrew every access grant (`rampart access close`).
    AccessClosed,
    /// The second factor (TOTP or recovery code) was accepted after NLA.
    MfaSucceeded,
    /// A wrong, replayed or missing second factor, or the prompt timed out.
    MfaFailed,
    /// An administrator enrolled (or re-enrolled) a user's TOTP secret.
    MfaEnrolled,
    /// An administrator removed a user's TOTP secret.
    MfaRemoved,
    /// An administrator locked an account.
    UserLocked,
    /// An administrator unlocked an account.
    UserUnlocked,
    /// Retention removed the oldest events; `reason` names how many and the checkpoint
    /// (sequence number and hash of the last one removed) the chain now starts from.
    AuditPruned,
    /// Clipboard use in one connection's session, one event per direction used, written
    /// when the connection ends: `reason` is `direction=to-client|to-server transfers=N
    /// bytes=N refused=N` (refused: over the size cap). Never the content.
    ClipboardTransfer,
}

impl EventKind {
    /// Stable machine-readable name, as stored in the `kind` column.
    pub fn code(self) -> &'static str {
        match self {
            Self::ConnectionAccepted => "connection_accepted",
            Self::ConnectionRefused => "connection_refused",
            Self::NegotiationRefused => "negotiation_refused",
            Self::AuthSucceeded => "auth_succeeded",
            Self::AuthFailed => "auth_failed",
            Self::HandshakeAborted => "handshake_aborted",
            Self::SessionStarted => "session_started",
            Self::SessionResumed => "session_resumed",
            Self::SessionDisconnected => "session_disconnected",
            Self::SessionEnded => "session_ended",
            Self::SessionRefused => "session_refused",
            Self::ConnectionClosed => "connection_closed",
            Self::UserAdded => "user_added",
            Self::UserDeleted => "user_deleted",
            Self::PasswordChanged => "password_changed",
            Self::SourceBanned => "source_banned",
            Self::BanAdded => "ban_added",
            Self::BanRemoved => "ban_removed",
            Self::AccessOpened => "access_opened",
            Self::AccessClosed => "access_closed",
            Self::MfaSucceeded => "mfa_succeeded",
            Self::MfaFailed => "mfa_failed",
            Self::MfaEnrolled => "mfa_enrolled",
            Self::MfaRemoved => "mfa_removed",
            Self::UserLocked => "user_locked",
            Self::UserUnlocked => "user_unlocked",
            Self::AuditPruned => "audit_pruned",
            Self::ClipboardTransfer => "clipboard_transfer",
        }
    }

    /// Parses a stored `code()` back into a kind.
    pub fn from_code(code: &str) -> Option<Self> {
        ALL_KINDS.iter().copied().find(|k| k.code() == code)
    }

    /// The Windows Security/TerminalServices event ID admins already know, where one fits.
    pub fn windows_event_id(self) -> Option<u32> {
        match self {
            Self::AuthSucceeded => Some(4624),
            Self::AuthFailed => Some(4625),
            // Windows logs a logon refused for an expired or disabled account as 4625 too.
            Self::SessionRefused => Some(4625),
            Self::SessionEnded => Some(4634),
            Self::SessionResumed => Some(4778),
            Self::SessionDisconnected => Some(4779),
            Self::ConnectionAccepted => Some(1149),
            // "A user account was locked out": the closest Windows event to a source ban.
            Self::SourceBanned => Some(4740),
            // "A user account was disabled" / "enabled".
            Self::UserLocked => Some(4725),
            Self::UserUnlocked => Some(4722),
            // "The audit log was cleared": the nearest Windows event to a retention prune.
            Self::AuditPruned => Some(1102),
            _ => None,
        }
    }
}

/// Every kind, for parsing and exhaustive tests.
pub const ALL_KINDS: &[EventKind] = &[
    EventKind::ConnectionAccepted,
    EventKind::ConnectionRefused,
    EventKind::NegotiationRefused,
    EventKind::AuthSucceeded,
    EventKind::AuthFailed,
    EventKind::HandshakeAborted,
    EventKind::SessionStarted,
    EventKind::SessionResumed,
    EventKind::SessionDisconnected,
    EventKind::SessionEnded,
    EventKind::SessionRefused,
    EventKind::ConnectionClosed,
    EventKind::UserAdded,
    EventKind::UserDeleted,
    EventKind::PasswordChanged,
    EventKind::SourceBanned,
    EventKind::BanAdded,
    EventKind::BanRemoved,
    EventKind::AccessOpened,
    EventKind::AccessClosed,
    EventKind::MfaSucceeded,
    EventKind::MfaFailed,
    EventKind::MfaEnrolled,
    EventKind::MfaRemoved,
    EventKind::UserLocked,
    EventKind::UserUnlocked,
    EventKind::AuditPruned,
    EventKind::ClipboardTransfer,
];

/// Friendly names for groups of kinds, for searching (`rampart audit search --kind`).
/// Each maps to the kinds it stands for; the Windows event IDs work too (see [`select_kinds`]).
pub const KIND_ALIASES: &[(&str, &[EventKind])] = &[
    // Windows 4625 "An account failed to log on": either factor.
    ("failed-logon", &[EventKind::AuthFailed, EventKind::MfaFailed]),
    ("logon", &[EventKind::AuthSucceeded, EventKind::MfaSucceeded]),
    (
        "session",
        &[
            EventKind::SessionStarted,
            EventKind::SessionResumed,
            EventKind::SessionDisconnected,
            EventKind::SessionEnded,
        ],
    ),
    ("ban", &[EventKind::SourceBanned, EventKind::BanAdded, EventKind::BanRemoved]),
    ("mfa", &[EventKind::MfaSucceeded, EventKind::MfaFailed, EventKind::MfaEnrolled, EventKind::MfaRemoved]),
    (
        "admin",
        &[
            EventKind::UserAdded,
            EventKind::UserDeleted,
            EventKind::PasswordChanged,
            EventKind::BanAdded,
            EventKind::BanRemoved,
            EventKind::AccessOpened,
            EventKind::AccessClosed,
            EventKind::MfaEnrolled,
            EventKind::MfaRemoved,
            EventKind::UserLocked,
            EventKind::UserUnlocked,
        ],
    ),
    (
        "connection",
        &[
            EventKind::ConnectionAccepted,
            EventKind::ConnectionRefused,
            EventKind::ConnectionClosed,
            EventKind::NegotiationRefused,
            EventKind::HandshakeAborted,
        ],
    ),
];

/// The kinds one `--kind` word selects: a stable code (`auth_failed`, dashes accepted), an
/// alias from [`KIND_ALIASES`], or a Windows event ID (`4625` selects both factors' failures,
/// as Windows logs both under it). `None` for a word that matches nothing.
pub fn select_kinds(word: &str) -> Option<Vec<EventKind>> {
    let word = word.trim().to_ascii_lowercase();
    if let Some((_, kinds)) = KIND_ALIASES.iter().find(|(name, _)| *name == word) {
        return Some(kinds.to_vec());
    }
    if let Some(kind) = EventKind::from_code(&word.replace('-', "_")) {
        return Some(vec![kind]);
    }
    if let Ok(id) = word.parse::<u32>() {
        if id == 4625 {
            return Some(vec![EventKind::AuthFailed, EventKind::MfaFailed]);
        }
        let kinds: Vec<EventKind> = ALL_KINDS
            .iter()
            .copied()
            .filter(|k| k.windows_event_id() == Some(id))
            .collect();
        if !kinds.is_empty() {
            return Some(kinds);
        }
    }
    None
}

/// Whether the thing the event describes went the way its subject wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
    /// Informational (a session ended, a connection closed normally).
    Info,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Info => "info",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "success" => Some(Self::Success),
            "failure" => Some(Self::Failure),
            "info" => Some(Self::Info),
            _ => None,
        }
    }
}

/// Milliseconds since the Unix epoch. The caller supplies it: this crate never reads a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UnixMillis(pub i64);

impl UnixMillis {
    /// The UTC calendar time, to the second: (year, month, day, hour, minute, second).
    pub fn utc(self) -> (i64, i64, i64, i64, i64, i64) {
        let secs = self.0.div_euclid(1000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        (y, m, d, sod / 3600, (sod % 3600) / 60, sod % 60)
    }

    /// `YYYY-MM-DD HH:MM:SS` in UTC, for people.
    pub fn format_utc(self) -> String {
        let (y, m, d, h, mi, s) = self.utc();
        format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}")
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` (RFC 3339, UTC), for machines.
    pub fn rfc3339(self) -> String {
        let (y, m, d, h, mi, s) = self.utc();
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe.saturating_add(era.saturating_mul(400)).saturating_add(i64::from(m <= 2));
    (y, m, d)
}

impl fmt::Display for UnixMillis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub time: UnixMillis,
    pub kind: EventKind,
    pub outcome: Outcome,
    /// Source address and port of the connection, if the event belongs to one.
    pub peer: Option<SocketAddr>,
    /// Rampart user name, when known (for a failed NLA attempt: the name the client sent).
    pub user: Option<String>,
    /// NTLM domain the client sent, if any.
    pub domain: Option<String>,
    /// Server-assigned connection number, to tie a connection's events together.
    pub connection: Option<u64>,
    /// Short lowercase reason, e.g. "wrong password", "unknown user", "handshake deadline".
    pub reason: Option<String>,
}

impl Event {
    /// An event with only the mandatory fields; fill the rest with the `with_*` methods.
    pub fn new(time: UnixMillis, kind: EventKind, outcome: Outcome) -> Self {
        Self {
            time,
            kind,
            outcome,
            peer: None,
            user: None,
            domain: None,
            connection: None,
            reason: None,
        }
    }

    #[must_use]
    pub fn with_peer(mut self, peer: SocketAddr) -> Self {
        self.peer = Some(peer);
        self
    }

    #[must_use]
    pub fn with_user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    #[must_use]
    pub fn with_domain(mut self, domain: Option<String>) -> Self {
        self.domain = domain.filter(|d| !d.is_empty());
        self
    }

    #[must_use]
    pub fn with_connection(mut self, connection: u64) -> Self {
        self.connection = Some(connection);
        self
    }

    #[must_use]
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// One JSON line (schema `SCHEMA_VERSION`), for export and the operator log.
    pub fn to_json_line(&self) -> String {
        let mut value = serde_json::json!({
            "v": SCHEMA_VERSION,
            "time_ms": self.time.0,
            "kind": self.kind.code(),
            "outcome": self.outcome.code(),
        });
        if let Some(map) = value.as_object_mut() {
            if let Some(id) = self.kind.windows_event_id() {
                map.insert("windows_event_id".into(), id.into());
            }
            if let Some(peer) = self.peer {
                map.insert("peer_ip".into(), peer.ip().to_string().into());
                map.insert("peer_port".into(), peer.port().into());
            }
            for (key, val) in [("user", &self.user), ("domain", &self.domain), ("reason", &self.reason)] {
                if let Some(val) = val {
                    map.insert(key.into(), val.clone().into());
                }
            }
            if let Some(conn) = self.connection {
                map.insert("connection".into(), conn.into());
            }
        }
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for kind in ALL_KINDS {
            assert!(seen.insert(kind.code()), "duplicate code {}", kind.code());
            assert_eq!(EventKind::from_code(kind.code()), Some(*kind));
        }
        assert_eq!(EventKind::from_code("nope"), None);
    }

    #[test]
    fn kind_selectors() {
        assert_eq!(select_kinds("failed-logon"), Some(vec![EventKind::AuthFailed, EventKind::MfaFailed]));
        assert_eq!(select_kinds("4625"), select_kinds("failed-logon"));
        assert_eq!(select_kinds("auth-succeeded"), Some(vec![EventKind::AuthSucceeded]));
        assert_eq!(select_kinds("SOURCE_BANNED"), Some(vec![EventKind::SourceBanned]));
        assert_eq!(select_kinds("4740"), Some(vec![EventKind::SourceBanned]));
        assert_eq!(select_kinds("1102"), Some(vec![EventKind::AuditPruned]));
        assert_eq!(select_kinds("4999"), None);
        assert_eq!(select_kinds("nope"), None);
        for (name, kinds) in KIND_ALIASES {
            assert!(!kinds.is_empty(), "{name}");
            assert!(EventKind::from_code(name).is_none(), "alias {name} shadows a code");
        }
        // Every kind is in ALL_KINDS exactly once.
        assert_eq!(ALL_KINDS.len(), 28);
    }

    #[test]
    fn utc_formatting() {
        assert_eq!(UnixMillis(0).format_utc(), "1970-01-01 00:00:00");
        assert_eq!(UnixMillis(1_700_000_000_123).format_utc(), "2023-11-14 22:13:20");
        assert_eq!(UnixMillis(951_782_400_999).rfc3339(), "2000-02-29T00:00:00Z");
        assert_eq!(UnixMillis(-1000).format_utc(), "1969-12-31 23:59:59");
    }

    #[test]
    fn windows_ids_match_the_events_admins_know() {
        assert_eq!(EventKind::AuthSucceeded.windows_event_id(), Some(4624));
        assert_eq!(EventKind::AuthFailed.windows_event_id(), Some(4625));
        assert_eq!(EventKind::ConnectionRefused.windows_event_id(), None);
        assert_eq!(EventKind::SourceBanned.windows_event_id(), Some(4740));
        assert_eq!(EventKind::SourceBanned.code(), "source_banned");
        assert_eq!(EventKind::BanAdded.code(), "ban_added");
        assert_eq!(EventKind::BanRemoved.code(), "ban_removed");
    }

    #[test]
    fn json_line_carries_peer_user_and_reason() {
        let ev = Event::new(UnixMillis(1_700_000_000_000), EventKind::AuthFailed, Outcome::Failure)
            .with_peer("127.0.0.1:4000".parse().unwrap())
            .with_user("alice")
            .with_domain(Some(String::new()))
            .with_reason("wrong password");
        let v: serde_json::Value = serde_json::from_str(&ev.to_json_line()).unwrap();
        assert_eq!(v["kind"], "auth_failed");
        assert_eq!(v["windows_event_id"], 4625);
        assert_eq!(v["peer_ip"], "127.0.0.1");
        assert_eq!(v["peer_port"], 4000);
        assert_eq!(v["user"], "alice");
        assert_eq!(v["reason"], "wrong password");
        assert!(v.get("domain").is_none(), "empty domain is dropped");
    }
}
