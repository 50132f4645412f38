//! The control socket: how `rampart status` and `rampart session list|end` (and `user lock
//! --end-session`) reach a running server.
//!
//! A Unix stream socket at `[session] runtime_dir`/`control` (default `/run/rampart/control`),
//! owned by root, mode 0600. Each connection carries one request and one answer, each one
//! JSON line ([`Request`], [`Reply`]). The server checks the peer's credentials with
//! `SO_PEERCRED`: only root (or the account the server runs as, when it is not root) may ask
//! anything; the requester's uid and pid go into the audit record of what it asked for.
//! Bounded: a request line of at most [`MAX_REQUEST`] bytes read within [`READ_TIMEOUT`], a
//! few clients at once. The store stays the way bans, grants and locks travel; the socket
//! is for what only the running server knows (its connections) and does (ending sessions).

use std::io::{BufRead, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tracing::{debug, warn};

/// The socket's name in the runtime directory.
pub const SOCKET_NAME: &str = "control";
/// Longest request line the server reads.
pub const MAX_REQUEST: usize = 4096;
/// Longest answer the client reads (a status with many connections and bans).
pub const MAX_REPLY: usize = 4 << 20;
/// The server reads a request within this.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The client waits this long for an answer: ending a session waits for its connections to
/// go and its leader to end them (bounded on the server's side too).
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);
/// Control connections served at once; more are closed unanswered.
pub const MAX_CLIENTS: usize = 4;
/// Longest note (e.g. "account locked") a requester may add to an end.
pub const MAX_NOTE: usize = 200;

/// Where the control socket of a server with this runtime directory is.
pub fn socket_path(runtime_dir: &Path) -> PathBuf {
    runtime_dir.join(SOCKET_NAME)
}

/// What a client asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Listener, connections, sessions, bans.
    Status,
    /// The desktop sessions.
    SessionList,
    /// End desktop sessions: their connections are closed, then their processes ended.
    SessionEnd {
        target: EndTarget,
        /// Why, in the requester's words (for the audit record; at most [`MAX_NOTE`]).
        #[serde(default)]
        note: Option<String>,
    },
}

/// Which sessions to end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndTarget {
    /// The session of this user (any case).
    User(String),
    /// The session with this id (`rampart session list`).
    Id(u64),
    /// Every session no connection shows.
    AllDisconnected,
}

/// The server's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum Reply {
    Status(Box<Status>),
    Sessions { sessions: Vec<SessionView> },
    Ended { ended: Vec<EndedView> },
    Error { message: String },
}

/// A running server, as `rampart status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub version: String,
    pub pid: u32,
    /// Unix milliseconds.
    pub started_ms: i64,
    pub now_ms: i64,
    pub listener: ListenerView,
    /// Connections that have not passed every factor yet (the admission count).
    pub pending_handshakes: u32,
    pub connections: Vec<ConnectionView>,
    /// `None` in shadow mode, or when the session table was busy (a session starting).
    pub sessions: Option<Vec<SessionView>>,
    /// Why `sessions` is `None`.
    pub sessions_note: Option<String>,
    pub bans: Vec<BanView>,
    pub idle_disconnect_secs: Option<u64>,
    pub disconnected_end_secs: Option<u64>,
    /// The metrics endpoint, if on.
    pub metrics: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenerView {
    pub address: String,
    /// `open`, `open_for` (grants only) or `closed` (outside every access window).
    pub state: String,
    /// In words, e.g. "closed by the access windows; opens 2025-01-06 08:00:00 UTC".
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionView {
    pub id: u64,
    pub peer: String,
    pub since_ms: i64,
    pub user: Option<String>,
    /// `handshake`, `authenticated` or `desktop`.
    pub stage: String,
    pub display: Option<String>,
    /// Seconds since the client's last input (in a desktop).
    pub idle_secs: Option<u64>,
    /// Why it was told to go, if it was.
    pub leaving: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub id: u64,
    pub user: String,
    pub unix_user: String,
    /// `:N`.
    pub display: String,
    pub started_ms: i64,
    /// A connection shows it.
    pub connected: bool,
    /// The connections showing it.
    pub connections: Vec<u64>,
    /// Since when nobody has been connected (when disconnected).
    pub disconnected_since_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BanView {
    pub net: String,
    pub until_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndedView {
    pub id: u64,
    pub user: String,
    pub display: String,
}

/// Who sent a request (from `SO_PEERCRED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requester {
    pub uid: u32,
    pub pid: i32,
}

impl std::fmt::Display for Requester {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "uid {} (pid {})", self.uid, self.pid)
    }
}

/// What the server does with requests.
#[async_trait::async_trait]
pub(crate) trait Handler: Send + Sync {
    async fn status(&self) -> Status;
    async fn sessions(&self) -> Result<Vec<SessionView>, String>;
    async fn end(&self, target: EndTarget, by: Requester, note: Option<String>) -> Result<Vec<EndedView>, String>;
}

/// A requester's note, on one bounded line.
pub(crate) fn clean_note(note: Option<String>) -> Option<String> {
    let note: String = note?
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_NOTE)
        .collect();
    let note = note.trim().to_owned();
    (!note.is_empty()).then_some(note)
}

/// Whether `peer_uid` may use the socket of a server running as `server_uid`.
pub(crate) fn may_control(peer_uid: u32, server_uid: u32) -> bool {
    peer_uid == 0 || peer_uid == server_uid
}

/// Binds the socket at `path` (mode 0600). A socket left by a server that is gone is
/// replaced; one that a live server answers on is not: that is a second server with the
/// same runtime directory, a start-up error.
pub(crate) fn bind(path: &Path) -> anyhow::Result<UnixListener> {
    use anyhow::Context;
    if let Some(dir) = path.parent() {
        if !dir.is_dir() {
            std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o711)
                .create(dir)
                .with_context(|| format!("cannot create the runtime directory {}", dir.display()))?;
        }
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) => {
            use std::os::unix::fs::FileTypeExt;
            if !meta.file_type().is_socket() {
                anyhow::bail!("{} exists and is not a socket; remove it", path.display());
            }
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                anyhow::bail!(
                    "another rampart serve answers on {}: each server needs its own [session] runtime_dir",
                    path.display()
                );
            }
            std::fs::remove_file(path).with_context(|| format!("cannot remove the stale socket {}", path.display()))?;
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err).with_context(|| format!("cannot stat {}", path.display())),
    }
    let listener = UnixListener::bind(path).with_context(|| {
        format!("cannot create the control socket {}; check [session] runtime_dir", path.display())
    })?;
    // The credential check below is what guards it; the mode keeps others from even asking.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot restrict {}", path.display()))?;
    Ok(listener)
}

/// Answers requests until the task is aborted.
pub(crate) async fn serve(listener: UnixListener, handler: Arc<dyn Handler>) {
    let server_uid = rustix::process::geteuid().as_raw();
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CLIENTS));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(err) => {
                warn!(%err, "control socket accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
            debug!("too many control clients at once; connection closed");
            continue;
        };
        let cred = match rustix::net::sockopt::socket_peercred(&stream) {
            Ok(cred) => cred,
            Err(err) => {
                warn!(%err, "control socket: no peer credentials; connection closed");
                continue;
            }
        };
        let by = Requester {
            uid: cred.uid.as_raw(),
            pid: cred.pid.as_raw_nonzero().get(),
        };
        let handler = Arc::clone(&handler);
        tokio::spawn(async move {
            let reply = if may_control(by.uid, server_uid) {
                answer(stream, handler.as_ref(), by).await
            } else {
                warn!(%by, "control request from an account other than root refused");
                write_reply(
                    stream,
                    &Reply::Error {
                        message: "only root may control the server".to_owned(),
                    },
                )
                .await
            };
            if let Err(err) = reply {
                debug!(%err, "control request not answered");
            }
            drop(permit);
        });
    }
}

async fn answer(stream: UnixStream, handler: &dyn Handler, by: Requester) -> std::io::Result<()> {
    let mut reader = tokio::io::BufReader::new(stream);
    let mut line = Vec::new();
    let read = tokio::time::timeout(
        READ_TIMEOUT,
        (&mut reader).take(MAX_REQUEST as u64 + 1).read_until(b'\n', &mut line),
    )
    .await;
    let stream = reader.into_inner();
    let reply = match read {
        Err(_) => Reply::Error {
            message: "no request in time".to_owned(),
        },
        Ok(Err(err)) => return Err(err),
        Ok(Ok(_)) if line.len() > MAX_REQUEST || !line.ends_with(b"\n") => Reply::Error {
            message: format!("a request is one line of at most {MAX_REQUEST} bytes"),
        },
        Ok(Ok(_)) => match serde_json::from_slice::<Request>(&line) {
            Err(err) => Reply::Error {
                message: format!("bad request: {err}"),
            },
            Ok(Request::Status) => Reply::Status(Box::new(handler.status().await)),
            Ok(Request::SessionList) => match handler.sessions().await {
                Ok(sessions) => Reply::Sessions { sessions },
                Err(message) => Reply::Error { message },
            },
            Ok(Request::SessionEnd { target, note }) => match handler.end(target, by, clean_note(note)).await {
                Ok(ended) => Reply::Ended { ended },
                Err(message) => Reply::Error { message },
            },
        },
    };
    write_reply(stream, &reply).await
}

async fn write_reply(mut stream: UnixStream, reply: &Reply) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(reply).map_err(std::io::Error::other)?;
    line.push(b'\n');
    stream.write_all(&line).await?;
    stream.shutdown().await
}

/// Why a client got no answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No socket, or nobody answers on it: no server is running with this runtime directory.
    #[error("no running server answers on {path}: {source}")]
    NotRunning { path: PathBuf, source: std::io::Error },
    #[error("control socket {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the server's answer is not understood: {0}")]
    Malformed(String),
}

/// Sends one request to the server whose control socket is `path`, and waits (bounded) for
/// its answer. Blocking: for the CLI.
pub fn request(path: &Path, request: &Request) -> Result<Reply, ClientError> {
    let io = |source| ClientError::Io {
        path: path.to_owned(),
        source,
    };
    let stream = std::os::unix::net::UnixStream::connect(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => ClientError::NotRunning {
            path: path.to_owned(),
            source,
        },
        _ => io(source),
    })?;
    stream.set_read_timeout(Some(CLIENT_TIMEOUT)).map_err(io)?;
    stream.set_write_timeout(Some(CLIENT_TIMEOUT)).map_err(io)?;
    let mut line = serde_json::to_vec(request).map_err(|e| ClientError::Malformed(e.to_string()))?;
    line.push(b'\n');
    (&stream).write_all(&line).map_err(io)?;
    let mut reader = std::io::BufReader::new(std::io::Read::take(&stream, MAX_REPLY as u64 + 1));
    let mut answer = Vec::new();
    reader.read_until(b'\n', &mut answer).map_err(io)?;
    if answer.len() > MAX_REPLY {
        return Err(ClientError::Malformed(format!("an answer longer than {MAX_REPLY} bytes")));
    }
    serde_json::from_slice(&answer).map_err(|e| ClientError::Malformed(e.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_one_json_line_each() {
        let end = Request::SessionEnd {
            target: EndTarget::User("alice".into()),
            note: Some("account locked".into()),
        };
        let text = serde_json::to_string(&end).unwrap();
        assert_eq!(text, r#"{"op":"session_end","target":{"user":"alice"},"note":"account locked"}"#);
        assert_eq!(serde_json::from_str::<Request>(&text).unwrap(), end);
        let all: Request = serde_json::from_str(r#"{"op":"session_end","target":"all_disconnected"}"#).unwrap();
        assert_eq!(
            all,
            Request::SessionEnd {
                target: EndTarget::AllDisconnected,
                note: None
            }
        );
        assert!(serde_json::from_str::<Request>(r#"{"op":"shutdown"}"#).is_err());
        assert_eq!(serde_json::from_str::<Request>(r#"{"op":"status"}"#).unwrap(), Request::Status);
    }

    #[test]
    fn only_root_or_the_servers_own_account_may_ask() {
        assert!(may_control(0, 0));
        assert!(!may_control(1000, 0));
        assert!(may_control(1000, 1000), "a server run by a user (insecure_no_privsep) answers that user");
        assert!(may_control(0, 1000));
        assert!(!may_control(1001, 1000));
    }

    #[test]
    fn notes_are_one_bounded_line() {
        assert_eq!(clean_note(Some("account\nlocked\t".into())).as_deref(), Some("account locked"));
        assert_eq!(clean_note(Some("  ".into())), None);
        assert_eq!(clean_note(None), None);
        assert_eq!(clean_note(Some("x".repeat(1000))).unwrap().len(), MAX_NOTE);
    }

    struct Fixed;

    #[async_trait::async_trait]
    impl Handler for Fixed {
        async fn status(&self) -> Status {
            panic!("not asked")
        }
        async fn sessions(&self) -> Result<Vec<SessionView>, String> {
            Ok(vec![SessionView {
                id: 1,
                user: "alice".into(),
                unix_user: "alice".into(),
                display: ":10".into(),
                started_ms: 5,
                connected: false,
                connections: Vec::new(),
                disconnected_since_ms: Some(6),
            }])
        }
        async fn end(&self, target: EndTarget, by: Requester, note: Option<String>) -> Result<Vec<EndedView>, String> {
            Err(format!("{target:?} by uid {} ({note:?})", by.uid))
        }
    }

    #[tokio::test]
    async fn a_request_gets_its_answer_and_garbage_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = socket_path(dir.path());
        let listener = bind(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // A second server on the same runtime directory is refused while the first answers.
        let second = bind(&path).unwrap_err().to_string();
        assert!(second.contains("another rampart serve"), "{second}");
        let server = tokio::spawn(serve(listener, Arc::new(Fixed)));
        let p = path.clone();
        let list = tokio::task::spawn_blocking(move || request(&p, &Request::SessionList)).await.unwrap().unwrap();
        assert!(matches!(list, Reply::Sessions { ref sessions } if sessions.len() == 1 && sessions[0].user == "alice"), "{list:?}");
        let p = path.clone();
        let end = Request::SessionEnd {
            target: EndTarget::Id(7),
            note: Some("why\n".into()),
        };
        let ended = tokio::task::spawn_blocking(move || request(&p, &end)).await.unwrap().unwrap();
        let me = rustix::process::geteuid().as_raw();
        assert_eq!(
            ended,
            Reply::Error {
                message: format!("Id(7) by uid {me} (Some(\"why\"))")
            }
        );
        // Not JSON, and over-long: answered with an error, not a hang.
        for garbage in [b"hello\n".to_vec(), vec![b'x'; MAX_REQUEST + 10]] {
            let p = path.clone();
            let reply = tokio::task::spawn_blocking(move || {
                let mut s = std::os::unix::net::UnixStream::connect(&p).unwrap();
                s.write_all(&garbage).unwrap();
                let mut answer = String::new();
                std::io::BufReader::new(s).read_line(&mut answer).unwrap();
                answer
            })
            .await
            .unwrap();
            assert!(reply.contains("\"reply\":\"error\""), "{reply}");
        }
        server.abort();
        let _ = server.await;
        // Gone: the socket is stale and the next server takes it over.
        drop(bind(&path).unwrap());
        let gone = request(&dir.path().join("nothing"), &Request::Status).unwrap_err();
        assert!(matches!(gone, ClientError::NotRunning { .. }), "{gone:?}");
    }
}
