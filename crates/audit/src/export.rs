//! Event formats for other tools: JSON lines with the chain link, ArcSight CEF for SIEMs, and
//! syslog datagrams (RFC 5424 with structured data, or the journald native protocol). Pure
//! formatting; the caller writes the bytes.

use std::fmt::Write as _;

use crate::{Event, EventKind, Outcome, UnixMillis};

/// The private enterprise number in the RFC 5424 structured-data ID. 32473 is the number
/// RFC 5612 reserves for documentation and examples: Rampart has none of its own.
pub const SD_ENTERPRISE: u32 = 32473;

/// Vendor, product and version in the CEF header.
pub const CEF_VENDOR: &str = "Rampart";
pub const CEF_PRODUCT: &str = "rampart";

/// A stored event with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequenced<'a> {
    pub seq: i64,
    pub event: &'a Event,
    /// The row's chain link (lowercase hex), if known.
    pub hash: Option<&'a str>,
}

/// One JSON object per line: [`Event::to_json_line`]'s fields plus `seq` and `hash`.
pub fn json_line(s: &Sequenced<'_>) -> String {
    let mut value: serde_json::Value =
        serde_json::from_str(&s.event.to_json_line()).unwrap_or_else(|_| serde_json::json!({}));
    if let Some(map) = value.as_object_mut() {
        map.insert("seq".into(), s.seq.into());
        map.insert("time".into(), s.event.time.rfc3339_millis().into());
        if let Some(hash) = s.hash {
            map.insert("hash".into(), hash.into());
        }
    }
    value.to_string()
}

/// CEF severity (0-10) of an event: bans and failures stand out, information does not.
pub fn severity(event: &Event) -> u8 {
    match (event.kind, event.outcome) {
        (EventKind::SourceBanned, _) => 8,
        (EventKind::AuditPruned, _) => 5,
        (_, Outcome::Failure) => 6,
        (EventKind::UserAdded | EventKind::UserDeleted | EventKind::PasswordChanged, _) => 4,
        (EventKind::BanAdded | EventKind::BanRemoved | EventKind::AccessOpened | EventKind::AccessClosed, _) => 4,
        (EventKind::MfaEnrolled | EventKind::MfaRemoved | EventKind::UserLocked | EventKind::UserUnlocked, _) => 4,
        (_, Outcome::Success) => 3,
        (_, Outcome::Info) => 1,
    }
}

/// A readable name for the CEF header and messages: the code with spaces.
pub fn title(kind: EventKind) -> String {
    kind.code().replace('_', " ")
}

fn cef_header(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn cef_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '=' => out.push_str("\\="),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

/// One CEF (version 0) line: `CEF:0|Rampart|rampart|VERSION|kind|title|severity|extension`.
/// Extension keys: `rt` (ms since epoch), `src`/`spt`, `suser`, `sntdom`, `outcome`, `reason`,
/// `externalId` (the sequence number), `cn1` (connection), `cs1` (chain hash), `cs2`
/// (Windows event ID).
pub fn cef_line(s: &Sequenced<'_>, version: &str) -> String {
    let e = s.event;
    let mut line = format!(
        "CEF:0|{}|{}|{}|{}|{}|{}|",
        cef_header(CEF_VENDOR),
        cef_header(CEF_PRODUCT),
        cef_header(version),
        cef_header(e.kind.code()),
        cef_header(&title(e.kind)),
        severity(e)
    );
    let mut ext: Vec<(&str, String)> = vec![("rt", e.time.0.to_string())];
    if let Some(peer) = e.peer {
        ext.push(("src", peer.ip().to_string()));
        ext.push(("spt", peer.port().to_string()));
    }
    if let Some(user) = &e.user {
        ext.push(("suser", user.clone()));
    }
    if let Some(domain) = &e.domain {
        ext.push(("sntdom", domain.clone()));
    }
    ext.push(("outcome", e.outcome.code().to_owned()));
    if let Some(reason) = &e.reason {
        ext.push(("reason", reason.clone()));
    }
    ext.push(("externalId", s.seq.to_string()));
    if let Some(conn) = e.connection {
        ext.push(("cn1", conn.to_string()));
        ext.push(("cn1Label", "connection".to_owned()));
    }
    if let Some(hash) = s.hash {
        ext.push(("cs1", hash.to_owned()));
        ext.push(("cs1Label", "chainHash".to_owned()));
    }
    if let Some(id) = e.kind.windows_event_id() {
        ext.push(("cs2", id.to_string()));
        ext.push(("cs2Label", "windowsEventId".to_owned()));
    }
    let parts: Vec<String> = ext.iter().map(|(k, v)| format!("{k}={}", cef_value(v))).collect();
    line.push_str(&parts.join(" "));
    line
}

/// Syslog severity: failures are warnings, successes notices, the rest informational.
pub fn syslog_severity(event: &Event) -> u8 {
    match (event.kind, event.outcome) {
        (EventKind::SourceBanned, _) | (_, Outcome::Failure) => 4,
        (_, Outcome::Success) => 5,
        (_, Outcome::Info) => 6,
    }
}

/// Facility `authpriv` (10): security messages, readable by root only in the usual setups.
pub const SYSLOG_FACILITY: u8 = 10;

fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// The fields both syslog formats carry, in a fixed order.
fn fields(s: &Sequenced<'_>) -> Vec<(&'static str, String)> {
    let e = s.event;
    let mut out = vec![
        ("kind", e.kind.code().to_owned()),
        ("outcome", e.outcome.code().to_owned()),
        ("seq", s.seq.to_string()),
    ];
    if let Some(id) = e.kind.windows_event_id() {
        out.push(("windows_event_id", id.to_string()));
    }
    if let Some(peer) = e.peer {
        out.push(("peer_ip", peer.ip().to_string()));
        out.push(("peer_port", peer.port().to_string()));
    }
    for (key, val) in [("user", &e.user), ("domain", &e.domain), ("reason", &e.reason)] {
        if let Some(val) = val {
            out.push((key, one_line(val)));
        }
    }
    if let Some(conn) = e.connection {
        out.push(("connection", conn.to_string()));
    }
    if let Some(hash) = s.hash {
        out.push(("hash", hash.to_owned()));
    }
    out
}

/// The human part of a syslog message.
fn summary(e: &Event) -> String {
    let mut msg = format!("{} {}", e.kind.code(), e.outcome.code());
    if let Some(user) = &e.user {
        let _ = write!(msg, " user={}", one_line(user));
    }
    if let Some(peer) = e.peer {
        let _ = write!(msg, " peer={peer}");
    }
    if let Some(reason) = &e.reason {
        let _ = write!(msg, ": {}", one_line(reason));
    }
    msg
}

fn sd_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// An RFC 5424 message: `<PRI>1 TIMESTAMP HOST rampart PID KIND [rampart@32473 k="v" ...] text`.
pub fn rfc5424(s: &Sequenced<'_>, hostname: &str, pid: u32) -> String {
    let e = s.event;
    let pri = u16::from(SYSLOG_FACILITY) * 8 + u16::from(syslog_severity(e));
    let host: String = hostname.chars().filter(|c| c.is_ascii_graphic()).take(255).collect();
    let host = if host.is_empty() { "-".to_owned() } else { host };
    let mut sd = format!("[rampart@{SD_ENTERPRISE}");
    for (key, val) in fields(s) {
        let _ = write!(sd, " {key}=\"{}\"", sd_value(&val));
    }
    sd.push(']');
    format!(
        "<{pri}>1 {} {host} rampart {pid} {} {sd} {}",
        e.time.rfc3339_millis(),
        e.kind.code(),
        summary(e)
    )
}

/// A journald native-protocol datagram: `KEY=value` lines, fields as `RAMPART_*`.
pub fn journald(s: &Sequenced<'_>) -> String {
    let e = s.event;
    let mut out = format!(
        "MESSAGE={}\nPRIORITY={}\nSYSLOG_FACILITY={SYSLOG_FACILITY}\nSYSLOG_IDENTIFIER=rampart\n",
        summary(e),
        syslog_severity(e)
    );
    for (key, val) in fields(s) {
        let _ = writeln!(out, "RAMPART_{}={val}", key.to_ascii_uppercase());
    }
    out
}

impl UnixMillis {
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` (RFC 3339, UTC, milliseconds).
    pub fn rfc3339_millis(self) -> String {
        let (y, m, d, h, mi, s) = self.utc();
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z", self.0.rem_euclid(1000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed() -> Event {
        Event::new(UnixMillis(1_700_000_000_123), EventKind::AuthFailed, Outcome::Failure)
            .with_peer("127.0.0.1:4000".parse().unwrap())
            .with_user("al|ice=x")
            .with_connection(9)
            .with_reason("wrong \"password\"]\nnext")
    }

    fn seq(e: &Event) -> Sequenced<'_> {
        Sequenced { seq: 42, event: e, hash: Some("ab01") }
    }

    #[test]
    fn cef_escapes_and_carries_the_fields() {
        let e = failed();
        let line = cef_line(&seq(&e), "0.1.0");
        assert!(line.starts_with("CEF:0|Rampart|rampart|0.1.0|auth_failed|auth failed|6|rt=1700000000123 "), "{line}");
        for part in [
            "src=127.0.0.1",
            "spt=4000",
            "suser=al|ice\\=x",
            "outcome=failure",
            "reason=wrong \"password\"]\\nnext",
            "externalId=42",
            "cn1=9",
            "cs1=ab01",
            "cs2=4625",
        ] {
            assert!(line.contains(part), "{part} missing in {line}");
        }
        assert!(!line.contains('\n'));
        let mut odd = e.clone();
        odd.kind = EventKind::SourceBanned;
        assert!(cef_line(&seq(&odd), "1|2").contains("|1\\|2|source_banned|source banned|8|"));
    }

    #[test]
    fn rfc5424_structured_data() {
        let e = failed();
        let msg = rfc5424(&seq(&e), "host one", 77);
        assert!(
            msg.starts_with("<84>1 2023-11-14T22:13:20.123Z hostone rampart 77 auth_failed [rampart@32473 kind=\"auth_failed\" outcome=\"failure\" seq=\"42\" windows_event_id=\"4625\" peer_ip=\"127.0.0.1\" peer_port=\"4000\" user=\"al|ice=x\" reason=\"wrong \\\"password\\\"\\] next\" connection=\"9\" hash=\"ab01\"] auth_failed failure user=al|ice=x peer=127.0.0.1:4000: wrong"),
            "{msg}"
        );
        assert!(!msg.contains('\n'));
    }

    #[test]
    fn journald_fields() {
        let e = failed();
        let msg = journald(&seq(&e));
        assert!(msg.starts_with("MESSAGE=auth_failed failure user=al|ice=x"), "{msg}");
        for line in ["PRIORITY=4", "SYSLOG_IDENTIFIER=rampart", "RAMPART_KIND=auth_failed", "RAMPART_PEER_IP=127.0.0.1", "RAMPART_SEQ=42"] {
            assert!(msg.lines().any(|l| l == line), "{line} missing in {msg}");
        }
        assert_eq!(msg.lines().filter(|l| l.starts_with("RAMPART_REASON=")).count(), 1);
    }

    #[test]
    fn json_line_has_seq_and_hash() {
        let e = failed();
        let v: serde_json::Value = serde_json::from_str(&json_line(&seq(&e))).unwrap();
        assert_eq!(v["seq"], 42);
        assert_eq!(v["hash"], "ab01");
        assert_eq!(v["kind"], "auth_failed");
        assert_eq!(v["peer_ip"], "127.0.0.1");
        assert_eq!(v["time"], "2023-11-14T22:13:20.123Z");
    }
}
