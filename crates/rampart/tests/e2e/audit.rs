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
    /// The server's connection id, when the schema has one.
    pub connection: String,
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
    let conn = match Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) {
        Ok(c) => c,
        Err(e) => panic!("cannot open audit db {}: {e}", db.display()),
    };
    let _ = conn.busy_timeout(Duration::from_secs(5));
    // Columns are picked by name (`time` or `time_ms`; `connection` if present) so
    // the reader follows the store's versioned schema without caring about order.
    let mut stmt = match conn.prepare("SELECT * FROM events ORDER BY rowid") {
        Ok(s) => s,
        // The server may not have created the table yet.
        Err(e) if e.to_string().contains("no such table") => return Vec::new(),
        Err(e) => panic!(
            "audit db {} has no usable `events` table: {e}",
            db.display()
        ),
    };
    let names: Vec<String> = stmt.column_names().iter().map(|n| n.to_string()).collect();
    let col = |want: &[&str]| names.iter().position(|n| want.contains(&n.as_str()));
    let (time, kind, outcome, peer, user, reason, connection) = (
        col(&["time_ms", "time"]),
        col(&["kind"]),
        col(&["outcome"]),
        col(&["peer"]),
        col(&["user"]),
        col(&["reason"]),
        col(&["connection"]),
    );
    assert!(
        kind.is_some(),
        "audit table `events` has no `kind` column: {names:?}"
    );
    let get = |r: &rusqlite::Row<'_>, i: Option<usize>| -> rusqlite::Result<String> {
        match i {
            Some(i) => Ok(text(r.get::<_, Value>(i)?)),
            None => Ok(String::new()),
        }
    };
    let rows = stmt
        .query_map([], |r| {
            Ok(Event {
                time_ms: get(r, time)?.parse().unwrap_or(0),
                kind: get(r, kind)?,
                outcome: get(r, outcome)?,
                peer: get(r, peer)?,
                user: get(r, user)?,
                reason: get(r, reason)?,
                connection: get(r, connection)?,
            })
        })
        .unwrap_or_else(|e| panic!("query audit events: {e}"));
    rows.map(|r| r.unwrap_or_else(|e| panic!("read audit row: {e}")))
        .collect()
}

/// One line per event for failure messages.
pub fn describe(events: &[Event]) -> String {
    if events.is_empty() {
        return "  (none)".to_owned();
    }
    events
        .iter()
        .map(|e| {
            format!(
                "  {} {} outcome={} peer={} user={} conn={} reason={}",
                e.time_ms, e.kind, e.outcome, e.peer, e.user, e.connection, e.reason
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
