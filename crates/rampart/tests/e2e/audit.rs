//! Reading the server's audit trail (`<state-dir>/rampart.db`, table `events`).

use std::path::Path;
use std::time::Duration;

use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};

#[derive(Clone, Debug, Default)]
pub struct Event {
    pub time_ms: i64,
    pub kind: String,
    pub outcome: String,
    pub peer: String,
    pub user: String,
    pub reason: String,
}

impl Event {
    pub fn is(&self, kind: &str) -> bool {
        self.kind == kind
    }

    /// The peer's IP without the port ("127.0.0.1:5555" -> "127.0.0.1").
    pub fn peer_ip(&self) -> &str {
        match self.peer.rsplit_once(':') {
            Some((ip, port)) if port.chars().all(|c| c.is_ascii_digit()) && !ip.is_empty() => {
                ip.trim_start_matches('[').trim_end_matches(']')
            }
            _ => &self.peer,
        }
    }
}

fn text(v: Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => f.to_string(),
        Value::Text(t) => t,
        Value::Blob(b) => String::from_utf8_lossy(&b).into_owned(),
    }
}

/// All events in insertion order; empty if the database does not exist yet.
pub fn read(db: &Path) -> Vec<Event> {
    if !db.exists() {
        return Vec::new();
    }
    let conn = match Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX) {
        Ok(c) => c,
        Err(e) => panic!("cannot open audit db {}: {e}", db.display()),
    };
    let _ = conn.busy_timeout(Duration::from_secs(5));
    let mut stmt = match conn.prepare("SELECT time_ms, kind, outcome, peer, user, reason FROM events ORDER BY rowid") {
        Ok(s) => s,
        // The server may not have created the table yet.
        Err(e) if e.to_string().contains("no such table") => return Vec::new(),
        Err(e) => panic!("audit db {} has no usable `events` table: {e}", db.display()),
    };
    let rows = stmt
        .query_map([], |r| {
            Ok(Event {
                time_ms: match r.get::<_, Value>(0)? {
                    Value::Integer(i) => i,
                    other => text(other).parse().unwrap_or(0),
                },
                kind: text(r.get(1)?),
                outcome: text(r.get(2)?),
                peer: text(r.get(3)?),
                user: text(r.get(4)?),
                reason: text(r.get(5)?),
            })
        })
        .unwrap_or_else(|e| panic!("query audit events: {e}"));
    rows.map(|r| r.unwrap_or_else(|e| panic!("read audit row: {e}"))).collect()
}

/// One line per event for failure messages.
pub fn describe(events: &[Event]) -> String {
    if events.is_empty() {
        return "  (none)".to_owned();
    }
    events
        .iter()
        .map(|e| format!("  {} {} outcome={} peer={} user={} reason={}", e.time_ms, e.kind, e.outcome, e.peer, e.user, e.reason))
        .collect::<Vec<_>>()
        .join("\n")
}
