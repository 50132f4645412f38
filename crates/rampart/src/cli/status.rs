//! `rampart status`: what the running server is doing, asked over its control socket
//! (`[session] runtime_dir`/control, root only): the listener, the connections, the desktop
//! sessions (connected or not), the bans in force.
//!
//! Exit status 0 when a server answered, 3 when none runs (as `systemctl status` does for
//! an inactive unit); other failures are errors (1).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use rampart_audit::UnixMillis;
use rampart_protocol::control::{self, ClientError, Reply, Request, SessionView, Status};

use super::user::format_utc;
use super::CommonArgs;
use crate::config::Config;

/// `rampart status` when no server answers.
pub const NOT_RUNNING: u8 = 3;

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Print the server's answer as one JSON object (for scripts)
    #[arg(long)]
    json: bool,
}

/// The control socket of the server that `cfg` describes.
pub(super) fn control_socket(cfg: &Config) -> std::path::PathBuf {
    control::socket_path(&cfg.session.runtime_dir)
}

/// One request to the running server; `Ok(None)` when none runs.
pub(super) fn ask(cfg: &Config, request: &Request) -> anyhow::Result<Option<Reply>> {
    let path = control_socket(cfg);
    match control::request(&path, request) {
        Ok(reply) => Ok(Some(reply)),
        Err(ClientError::NotRunning { .. }) => Ok(None),
        Err(err @ ClientError::Io { .. }) if is_denied(&err) => {
            Err(err).context("the control socket is root's: run this as root")
        }
        Err(err) => Err(err).context("cannot ask the running server"),
    }
}

fn is_denied(err: &ClientError) -> bool {
    matches!(err, ClientError::Io { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied)
}

pub fn run(args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let cfg = args.common.load_config()?;
    let Some(reply) = ask(&cfg, &Request::Status)? else {
        if args.json {
            println!("{{\"running\":false}}");
        } else {
            println!(
                "rampart: not running (no server answers on {})",
                control_socket(&cfg).display()
            );
        }
        return Ok(ExitCode::from(NOT_RUNNING));
    };
    let status = match reply {
        Reply::Status(status) => status,
        Reply::Error { message } => anyhow::bail!("the server refused: {message}"),
        other => anyhow::bail!("unexpected answer from the server: {other:?}"),
    };
    if args.json {
        println!("{}", serde_json::to_string(&status).context("encoding the status")?);
    } else {
        print!("{}", render(&status));
    }
    Ok(ExitCode::SUCCESS)
}

/// A duration for people: `45 s`, `3m 05s`, `2h 10m`, `3d 4h`.
pub(super) fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{}m {:02}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

fn since(now_ms: i64, then_ms: i64) -> String {
    human(Duration::from_millis(u64::try_from(now_ms.saturating_sub(then_ms)).unwrap_or(0)))
}

/// Rows under a header, each column as wide as its widest cell, two spaces apart.
pub(super) fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("  {}\n", padded.join("  ").trim_end())
    };
    let mut out = line(headers.iter().map(|h| (*h).to_owned()).collect());
    for row in rows {
        out.push_str(&line(row.clone()));
    }
    out
}

/// The sessions as a table (also `rampart session list`).
pub(super) fn sessions_table(sessions: &[SessionView], now_ms: i64) -> String {
    let rows: Vec<Vec<String>> = sessions
        .iter()
        .map(|s| {
            let state = if s.connected {
                let ids: Vec<String> = s.connections.iter().map(u64::to_string).collect();
                format!("connected (connection {})", ids.join(", "))
            } else {
                match s.disconnected_since_ms {
                    Some(at) => format!("disconnected for {}", since(now_ms, at)),
                    None => "disconnected".to_owned(),
                }
            };
            vec![
                s.id.to_string(),
                s.user.clone(),
                s.unix_user.clone(),
                s.display.clone(),
                format!("{} ({} ago)", format_utc(UnixMillis(s.started_ms)), since(now_ms, s.started_ms)),
                state,
            ]
        })
        .collect();
    table(&["ID", "USER", "UNIX USER", "DISPLAY", "SINCE (UTC)", "STATE"], &rows)
}

fn limit(secs: Option<u64>, what: &str) -> String {
    match secs {
        Some(s) => format!("{what} after {}", human(Duration::from_secs(s))),
        None => format!("{what}: never"),
    }
}

/// The status for people.
pub fn render(s: &Status) -> String {
    let mut out = format!(
        "rampart {}: running, pid {}, up {} (since {} UTC)\n",
        s.version,
        s.pid,
        since(s.now_ms, s.started_ms),
        format_utc(UnixMillis(s.started_ms))
    );
    out.push_str(&format!("listener:   {}  {}\n", s.listener.address, s.listener.detail));
    out.push_str(&format!(
        "limits:     {}; {}\n",
        limit(s.idle_disconnect_secs, "idle connections disconnected"),
        limit(s.disconnected_end_secs, "desktops without a connection ended")
    ));
    out.push_str(&format!("metrics:    {}\n", s.metrics.as_deref().unwrap_or("off")));

    out.push_str(&format!(
        "\nconnections: {} ({} pending authentication)\n",
        s.connections.len(),
        s.pending_handshakes
    ));
    if !s.connections.is_empty() {
        let rows: Vec<Vec<String>> = s
            .connections
            .iter()
            .map(|c| {
                let stage = match (&c.display, &c.leaving) {
                    (_, Some(why)) => format!("{} (leaving: {why})", c.stage),
                    (Some(display), None) => format!("desktop {display}"),
                    (None, None) => c.stage.clone(),
                };
                vec![
                    c.id.to_string(),
                    c.peer.clone(),
                    c.user.clone().unwrap_or_else(|| "-".to_owned()),
                    stage,
                    since(s.now_ms, c.since_ms),
                    c.idle_secs.map_or_else(|| "-".to_owned(), |i| human(Duration::from_secs(i))),
                ]
            })
            .collect();
        out.push_str(&table(&["ID", "PEER", "USER", "STAGE", "FOR", "IDLE"], &rows));
    }

    match &s.sessions {
        Some(sessions) => {
            let detached = sessions.iter().filter(|x| !x.connected).count();
            out.push_str(&format!("\nsessions: {} ({} disconnected)\n", sessions.len(), detached));
            if !sessions.is_empty() {
                out.push_str(&sessions_table(sessions, s.now_ms));
            }
        }
        None => out.push_str(&format!("\nsessions: {}\n", s.sessions_note.as_deref().unwrap_or("unknown"))),
    }

    out.push_str(&format!("\nbans: {}\n", s.bans.len()));
    if !s.bans.is_empty() {
        let rows: Vec<Vec<String>> = s
            .bans
            .iter()
            .map(|b| vec![b.net.clone(), format_utc(UnixMillis(b.until_ms)), since(b.until_ms, s.now_ms)])
            .collect();
        out.push_str(&table(&["NETWORK", "UNTIL (UTC)", "LEFT"], &rows));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_protocol::control::{BanView, ConnectionView, ListenerView};

    #[test]
    fn durations_read_like_a_person_wrote_them() {
        assert_eq!(human(Duration::from_secs(0)), "0 s");
        assert_eq!(human(Duration::from_secs(59)), "59 s");
        assert_eq!(human(Duration::from_secs(185)), "3m 05s");
        assert_eq!(human(Duration::from_secs(2 * 3600 + 600)), "2h 10m");
        assert_eq!(human(Duration::from_secs(3 * 86_400 + 4 * 3600)), "3d 4h");
    }

    #[test]
    fn the_status_names_everything_it_was_given() {
        let now = 1_700_000_000_000;
        let status = Status {
            version: "0.1.0".into(),
            pid: 42,
            started_ms: now - 125_000,
            now_ms: now,
            listener: ListenerView {
                address: "0.0.0.0:3389".into(),
                state: "open".into(),
                detail: "open".into(),
            },
            pending_handshakes: 1,
            connections: vec![
                ConnectionView {
                    id: 7,
                    peer: "192.0.2.1:50000".into(),
                    since_ms: now - 65_000,
                    user: Some("alice".into()),
                    stage: "desktop".into(),
                    display: Some(":10".into()),
                    idle_secs: Some(12),
                    leaving: None,
                },
                ConnectionView {
                    id: 8,
                    peer: "192.0.2.2:50001".into(),
                    since_ms: now - 1000,
                    user: None,
                    stage: "handshake".into(),
                    display: None,
                    idle_secs: None,
                    leaving: None,
                },
            ],
            sessions: Some(vec![
                SessionView {
                    id: 1,
                    user: "alice".into(),
                    unix_user: "alice".into(),
                    display: ":10".into(),
                    started_ms: now - 3_600_000,
                    connected: true,
                    connections: vec![7],
                    disconnected_since_ms: None,
                },
                SessionView {
                    id: 2,
                    user: "bob".into(),
                    unix_user: "robert".into(),
                    display: ":11".into(),
                    started_ms: now - 7_200_000,
                    connected: false,
                    connections: Vec::new(),
                    disconnected_since_ms: Some(now - 300_000),
                },
            ]),
            sessions_note: None,
            bans: vec![BanView {
                net: "203.0.113.7/32".into(),
                until_ms: now + 900_000,
            }],
            idle_disconnect_secs: Some(900),
            disconnected_end_secs: None,
            metrics: Some("http://127.0.0.1:9393/metrics".into()),
        };
        let text = render(&status);
        for expected in [
            "rampart 0.1.0: running, pid 42, up 2m 05s",
            "listener:   0.0.0.0:3389  open",
            "idle connections disconnected after 15m 00s; desktops without a connection ended: never",
            "metrics:    http://127.0.0.1:9393/metrics",
            "connections: 2 (1 pending authentication)",
            "192.0.2.1:50000",
            "desktop :10",
            "12 s",
            "sessions: 2 (1 disconnected)",
            "connected (connection 7)",
            "robert",
            "disconnected for 5m 00s",
            "bans: 1",
            "203.0.113.7/32",
            "15m 00s",
        ] {
            assert!(text.contains(expected), "no {expected:?} in:\n{text}");
        }
    }
}
