//! Desktop sessions, kept alive across connections: the supervisor's side.
//!
//! Owned by the privileged supervisor. For each RDP user there is at most one live
//! session, and each session is a real login of the mapped Unix account, made and held by
//! its own root *session leader* process ([`crate::login::leader`]): PAM account and
//! session, supplementary groups, utmp/wtmp, then an Xvfb and the session command
//! (`~/.xsession` or the configured default) as that account, each in a session of its
//! own, with a clean environment. The manager keeps one socket to each leader; closing it
//! ends the session.
//!
//! Before anything starts, [`crate::login::account`] decides whether the account may log
//! in now (uid 0 without `allow_root`, `/etc/nologin`, an expired or locked account) —
//! for new and resumed sessions alike.
//!
//! Files: `runtime_dir` (root, 0711: others may traverse it but not list it)
//! holds one directory per session with a random name, owned by the user and
//! 0700, containing `Xauthority` (0600, a wildcard MIT-MAGIC-COOKIE-1 entry used
//! both as Xvfb's `-auth` file and as the session's `XAUTHORITY`) and the logs
//! of Xvfb and the session command.
//!
//! Privacy of the display ([`crate::privacy`]): the user must be able to reach that
//! directory (checked before Xvfb starts), and the started X server must refuse a client
//! without the cookie (checked before the display is handed out); otherwise the session
//! is not started. [`SessionManager::self_test`] runs the same checks once at start-up.

use std::collections::HashMap;
use std::fmt;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{Read, Write};
use std::net::IpAddr;
use std::os::fd::OwnedFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use rustix::process::{Pid, Signal};
use serde::{Deserialize, Serialize};

use crate::login::leader::{self, LeaderReply, LeaderRequest};
use crate::login::user_process::{self, UserIds};
use crate::xserver::XServer;
use crate::{login, privacy, readiness, xauth, DesktopError, X11Target};

/// The PATH sessions (and session leaders) get.
pub const SESSION_PATH: &str = "/usr/local/bin:/usr/bin:/bin";
/// How long Xvfb may take to report its display number.
pub const XSERVER_READY_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a session leader may take to answer: PAM (pam_systemd may wait on logind for
/// up to 25 s) and Xvfb's start.
pub const LEADER_READY_TIMEOUT: Duration = Duration::from_secs(45);
/// How long processes get between SIGTERM and SIGKILL.
pub const TERM_GRACE: Duration = Duration::from_secs(2);
/// How long a leader gets to end its session (its children's grace, then PAM and wtmp)
/// before it and its children are killed.
pub const LEADER_END_TIMEOUT: Duration = Duration::from_secs(5);
/// At most this many live sessions per manager.
pub const MAX_SESSIONS: usize = 256;
/// Accepted screen sizes.
pub const MIN_SIDE: u16 = 64;
pub const MAX_SIDE: u16 = 8192;

/// How to start a session leader: `rampart session-leader` in the server (the same binary
/// that runs the supervisor).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaderCommand {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Added to the leader's otherwise clean environment (`PATH`, and `RUST_LOG` if set).
    pub env: Vec<(String, String)>,
}

impl Default for LeaderCommand {
    fn default() -> Self {
        Self {
            program: PathBuf::from("/proc/self/exe"),
            args: vec!["session-leader".to_owned()],
            env: Vec::new(),
        }
    }
}

/// How sessions are started.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// Root-owned directory for per-session files (created 0711 if missing).
    pub runtime_dir: PathBuf,
    /// The X server sessions run (Xorg with the dummy driver unless configured).
    pub server: XServer,
    /// Run with `/bin/sh -c` when the user has no usable `~/.xsession`.
    pub default_command: String,
    /// Honour `~/.xsession`.
    pub use_xsession: bool,
    /// Screen depth for Xvfb (24 unless you know better).
    pub depth: u8,
    /// Sessions as root (uid 0) are refused unless this is set.
    pub allow_root: bool,
    /// The session leader program.
    pub leader: LeaderCommand,
    /// The PAM service logins go through ([`login::PAM_SERVICE`]).
    pub pam_service: String,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            runtime_dir: PathBuf::from("/run/rampart/sessions"),
            server: XServer::default(),
            default_command: "exec xterm".to_owned(),
            use_xsession: true,
            depth: 24,
            allow_root: false,
            leader: LeaderCommand::default(),
            pam_service: login::PAM_SERVICE.to_owned(),
        }
    }
}

/// A Unix account from `/etc/passwd`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnixAccount {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
    pub shell: PathBuf,
}

impl UnixAccount {
    /// Looks `name` up in `/etc/passwd` (local accounts only; NSS sources such as
    /// LDAP are not consulted).
    pub fn lookup(name: &str) -> Result<Self, DesktopError> {
        let text = fs::read_to_string("/etc/passwd")
            .map_err(|e| DesktopError::io("reading /etc/passwd", e))?;
        Self::from_passwd(&text, name)
    }

    /// Finds `name` in the text of a passwd file.
    pub fn from_passwd(text: &str, name: &str) -> Result<Self, DesktopError> {
        if name.is_empty() || name.starts_with(['+', '-']) || name.contains([':', '\n']) {
            return Err(DesktopError::UnknownUnixUser(name.to_owned()));
        }
        for line in text.lines() {
            let mut fields = line.split(':');
            if fields.next() != Some(name) {
                continue;
            }
            let invalid = |detail: &str| DesktopError::Invalid {
                what: "passwd entry",
                detail: format!("{name}: {detail}"),
            };
            let _password = fields.next();
            let uid = fields
                .next()
                .and_then(|f| f.parse().ok())
                .ok_or_else(|| invalid("bad uid"))?;
            let gid = fields
                .next()
                .and_then(|f| f.parse().ok())
                .ok_or_else(|| invalid("bad gid"))?;
            let _gecos = fields.next();
            let home = fields.next().ok_or_else(|| invalid("no home"))?;
            let shell = fields.next().unwrap_or("");
            return Ok(Self {
                name: name.to_owned(),
                uid,
                gid,
                home: PathBuf::from(home),
                shell: PathBuf::from(if shell.is_empty() { "/bin/sh" } else { shell }),
            });
        }
        Err(DesktopError::UnknownUnixUser(name.to_owned()))
    }
}

/// What a connection needs to attach to a session.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// X display number (`:N`).
    pub display: u32,
    /// MIT-MAGIC-COOKIE-1 for the display.
    pub cookie: Vec<u8>,
    pub width: u16,
    pub height: u16,
    /// True when an existing session was returned.
    pub resumed: bool,
}

impl SessionInfo {
    /// How to connect to this session's display.
    pub fn target(&self) -> X11Target {
        X11Target::local(self.display, self.cookie.clone())
    }
}

impl fmt::Debug for SessionInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionInfo")
            .field("display", &self.display)
            .field("cookie", &"<redacted>")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("resumed", &self.resumed)
            .finish()
    }
}

/// One live session, as the supervisor sees it: its leader and what the leader reported.
struct Session {
    /// Numbered from 1 per manager, for `rampart session list|end`.
    id: u64,
    /// When the leader reported the session ready.
    started: SystemTime,
    unix_user: String,
    uid: u32,
    display: u32,
    cookie: Vec<u8>,
    width: u16,
    height: u16,
    dir: PathBuf,
    leader: Child,
    /// The supervisor's end of the leader's socket; closing it ends the session.
    channel: Option<UnixStream>,
    xserver_pid: u32,
    /// The session command; also the id of its session and process group.
    command_pid: u32,
}

impl Session {
    fn info(&self, resumed: bool) -> SessionInfo {
        SessionInfo {
            display: self.display,
            cookie: self.cookie.clone(),
            width: self.width,
            height: self.height,
            resumed,
        }
    }

    /// The leader stays exactly as long as both its children.
    fn alive(&mut self) -> bool {
        matches!(self.leader.try_wait(), Ok(None))
    }

    /// Process ids, for tests and diagnostics: (Xvfb, session command).
    fn pids(&self) -> (u32, u32) {
        (self.xserver_pid, self.command_pid)
    }

    fn summary(&self, rdp_user: &str) -> SessionSummary {
        SessionSummary {
            id: self.id,
            rdp_user: rdp_user.to_owned(),
            unix_user: self.unix_user.clone(),
            display: self.display,
            width: self.width,
            height: self.height,
            started: self.started,
        }
    }
}

/// A live session as `rampart session list` shows it (no cookie).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionSummary {
    pub id: u64,
    pub rdp_user: String,
    pub unix_user: String,
    /// X display number (`:N`).
    pub display: u32,
    /// The size it was started at.
    pub width: u16,
    pub height: u16,
    pub started: SystemTime,
}

/// An X server that passed the cookieless check, before its session command starts.
pub(crate) struct PrivateDisplay {
    pub xserver: Child,
    pub number: u32,
    /// The size it started at (at least the server's minimum).
    pub width: u16,
    pub height: u16,
    pub cookie: Vec<u8>,
    pub auth_path: PathBuf,
}

/// Starts, finds and ends desktop sessions.
pub struct SessionManager {
    config: SessionConfig,
    sessions: HashMap<String, Session>,
    /// The id the next session gets.
    next_id: u64,
}

impl SessionManager {
    pub fn new(config: SessionConfig) -> Self {
        Self {
            config,
            sessions: HashMap::new(),
            next_id: 1,
        }
    }

    /// Returns the live session of `rdp_user`, or logs `account` in and starts one;
    /// `remote` is the client's address (for PAM and the login records).
    ///
    /// The account is checked first either way ([`login::account::check`]): a refusal is
    /// [`DesktopError::LoginRefused`], and a live session is then left as it is. A live
    /// session keeps its size (`width`/`height` only apply to new ones). A session that
    /// belongs to another uid (the mapping changed) is ended first.
    pub fn ensure(
        &mut self,
        rdp_user: &str,
        account: &UnixAccount,
        width: u16,
        height: u16,
        remote: Option<IpAddr>,
    ) -> Result<SessionInfo, DesktopError> {
        login::account::check(account, self.config.allow_root, SystemTime::now())?;
        if let Some(session) = self.sessions.get_mut(rdp_user) {
            if session.uid == account.uid && session.alive() {
                return Ok(session.info(true));
            }
            if let Some(old) = self.sessions.remove(rdp_user) {
                end_sessions(vec![old]);
            }
        }
        if self.sessions.len() >= MAX_SESSIONS {
            return Err(DesktopError::TooManySessions(MAX_SESSIONS));
        }
        if !(MIN_SIDE..=MAX_SIDE).contains(&width) || !(MIN_SIDE..=MAX_SIDE).contains(&height) {
            return Err(DesktopError::Invalid {
                what: "screen size",
                detail: format!("{width}x{height}"),
            });
        }
        let dir = self.new_session_dir(account)?;
        let session = match self.start_leader(rdp_user, account, width, height, remote, &dir) {
            Ok(mut session) => {
                session.id = self.next_id;
                self.next_id = self.next_id.saturating_add(1);
                session
            }
            Err(e) => {
                let _ = fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        let info = session.info(false);
        tracing::info!(rdp_user, unix_user = %account.name, display = info.display, "desktop session started");
        self.sessions.insert(rdp_user.to_owned(), session);
        Ok(info)
    }

    /// A fresh private directory for one session's files, owned by `account`, after
    /// checking that the account can reach it (the X server reads its cookie there).
    fn new_session_dir(&self, account: &UnixAccount) -> Result<PathBuf, DesktopError> {
        prepare_runtime_dir(&self.config.runtime_dir)?;
        ensure_x11_socket_dir()?;
        let dir = self.config.runtime_dir.join(format!(
            "s-{}",
            hex::encode(xauth::random_cookie().get(..8).unwrap_or_default())
        ));
        DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(|e| DesktopError::io(format!("creating {}", dir.display()), e))?;
        let reachable = chown(&dir, account).and_then(|()| check_reachable(&dir, account));
        if let Err(e) = reachable {
            let _ = fs::remove_dir_all(&dir);
            return Err(e);
        }
        Ok(dir)
    }

    /// Starts the session leader for one login and waits for its answer.
    fn start_leader(
        &self,
        rdp_user: &str,
        account: &UnixAccount,
        width: u16,
        height: u16,
        remote: Option<IpAddr>,
        dir: &Path,
    ) -> Result<Session, DesktopError> {
        let (ours, theirs) = UnixStream::pair().map_err(|e| DesktopError::io("socket pair for the session leader", e))?;
        let leader_cmd = &self.config.leader;
        let mut cmd = Command::new(&leader_cmd.program);
        cmd.args(&leader_cmd.args)
            .env_clear()
            .env("PATH", SESSION_PATH)
            .envs(leader_cmd.env.iter().map(|(k, v)| (k, v)))
            .current_dir("/")
            .stdin(Stdio::from(OwnedFd::from(theirs)))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some(filter) = std::env::var_os("RUST_LOG") {
            cmd.env("RUST_LOG", filter);
        }
        let spawned = cmd.spawn();
        // Our copy of the leader's end must go now: the leader must see EOF when `ours` closes.
        drop(cmd);
        let mut child = spawned.map_err(|source| DesktopError::Spawn {
            what: "session leader",
            source,
        })?;
        let request = LeaderRequest {
            rdp_user: rdp_user.to_owned(),
            account: account.clone(),
            remote,
            width,
            height,
            dir: dir.to_owned(),
            server: self.config.server.clone(),
            depth: self.config.depth,
            default_command: self.config.default_command.clone(),
            use_xsession: self.config.use_xsession,
            pam_service: self.config.pam_service.clone(),
        };
        let answer = leader::send(&ours, &request)
            .and_then(|()| leader::read_line(&ours, LEADER_READY_TIMEOUT))
            .and_then(|line| {
                serde_json::from_slice::<LeaderReply>(&line).map_err(|e| DesktopError::Invalid {
                    what: "session leader reply",
                    detail: e.to_string(),
                })
            });
        let reply = match answer {
            Ok(reply) => reply,
            Err(e) => {
                drop(ours);
                stop_leader(&mut child);
                return Err(e);
            }
        };
        match reply {
            LeaderReply::Ready {
                display,
                width,
                height,
                cookie_hex,
                xserver_pid,
                command_pid,
            } => {
                let session = Session {
                    id: 0,
                    started: SystemTime::now(),
                    unix_user: account.name.clone(),
                    uid: account.uid,
                    display,
                    cookie: hex::decode(&cookie_hex).unwrap_or_default(),
                    width,
                    height,
                    dir: dir.to_owned(),
                    leader: child,
                    channel: Some(ours),
                    xserver_pid,
                    command_pid,
                };
                if session.cookie.len() != xauth::COOKIE_LEN {
                    end_sessions(vec![session]);
                    return Err(DesktopError::Invalid {
                        what: "session leader reply",
                        detail: "bad cookie".into(),
                    });
                }
                Ok(session)
            }
            LeaderReply::Refused { refusal } => {
                drop(ours);
                stop_leader(&mut child);
                Err(DesktopError::LoginRefused(refusal))
            }
            LeaderReply::Failed { error } => {
                drop(ours);
                stop_leader(&mut child);
                Err(DesktopError::LoginFailed(error))
            }
        }
    }

    /// Checks, before any session exists, that a display started here admits only its
    /// owner: starts a small Xvfb as `account` (no supplementary groups, no login) with a
    /// cookie in the runtime directory, makes sure a client without the cookie is refused
    /// and one with it is admitted, then ends it. `serve` refuses to run when this fails.
    pub fn self_test(&self, account: &UnixAccount) -> Result<(), DesktopError> {
        let dir = self.new_session_dir(account)?;
        let ids = UserIds {
            uid: account.uid,
            gid: account.gid,
            groups: Vec::new(),
        };
        let result = start_display(&self.config.server, self.config.depth, account, &ids, MIN_SIDE, MIN_SIDE, &dir)
            .map(|mut display| {
                let with_cookie =
                    crate::connection::connect(&X11Target::local(display.number, display.cookie.clone()));
                kill_and_wait(&mut display.xserver);
                with_cookie.map(|_| ())
            });
        let _ = fs::remove_dir_all(&dir);
        result?
    }

    /// Ends sessions whose leader has exited (it does when Xvfb or the session command
    /// exits, after ending the other) and returns their RDP user names.
    pub fn reap(&mut self) -> Vec<String> {
        let dead: Vec<String> = self
            .sessions
            .iter_mut()
            .filter_map(|(name, s)| (!s.alive()).then(|| name.clone()))
            .collect();
        let mut ended = Vec::new();
        for name in &dead {
            if let Some(s) = self.sessions.remove(name) {
                tracing::info!(rdp_user = %name, display = s.display, "desktop session ended");
                ended.push(s);
            }
        }
        end_sessions(ended);
        dead
    }

    /// Ends every session (all leaders at once) and removes their files.
    pub fn shutdown_all(&mut self) {
        end_sessions(self.sessions.drain().map(|(_, s)| s).collect());
    }

    /// The live session of `rdp_user`, without starting one.
    pub fn get(&mut self, rdp_user: &str) -> Option<SessionInfo> {
        let s = self.sessions.get_mut(rdp_user)?;
        s.alive().then(|| s.info(true))
    }

    /// Every session held, live or not yet reaped, by id.
    pub fn list(&self) -> Vec<SessionSummary> {
        let mut all: Vec<SessionSummary> = self.sessions.iter().map(|(name, s)| s.summary(name)).collect();
        all.sort_by_key(|s| s.id);
        all
    }

    /// Ends `rdp_user`'s session, as when its last program exits: the leader ends the
    /// session's processes, writes the logout record and closes PAM (bounded by
    /// [`LEADER_END_TIMEOUT`], then killed). Returns what was ended, if there was a session.
    pub fn end(&mut self, rdp_user: &str) -> Option<SessionSummary> {
        let session = self.sessions.remove(rdp_user)?;
        let summary = session.summary(rdp_user);
        tracing::info!(rdp_user, display = session.display, id = session.id, "desktop session ended on request");
        end_sessions(vec![session]);
        Some(summary)
    }

    /// Process ids (Xvfb, session command) of `rdp_user`'s session.
    pub fn pids(&self, rdp_user: &str) -> Option<(u32, u32)> {
        self.sessions.get(rdp_user).map(Session::pids)
    }

    /// Number of sessions held (live or not yet reaped).
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }
}

impl Drop for SessionManager {
    fn drop(&mut self) {
        self.shutdown_all();
    }
}

/// Starts the X server as `ids` with a fresh cookie in `dir` and waits until it serves,
/// refusing (and ending) one that admits clients without the cookie.
pub(crate) fn start_display(
    server: &XServer,
    depth: u8,
    account: &UnixAccount,
    ids: &UserIds,
    width: u16,
    height: u16,
    dir: &Path,
) -> Result<PrivateDisplay, DesktopError> {
    let cookie = xauth::random_cookie();
    let auth_path = dir.join("Xauthority");
    let entry = xauth::encode_wild_cookie(&cookie).ok_or(DesktopError::Invalid {
        what: "cookie",
        detail: "too long".into(),
    })?;
    write_private(&auth_path, &entry, account)?;
    let (width, height) = server.start_size(width, height);
    for (name, contents) in server.files(width, height, depth) {
        write_private(&dir.join(name), contents.as_bytes(), account)?;
    }
    let server_log = create_log(&dir.join("xserver.log"), account)?;
    let mut server_cmd = server.command(dir, &auth_path, width, height, depth);
    server_cmd
        .env_clear()
        .env("PATH", SESSION_PATH)
        .env("HOME", &account.home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(server_log);
    user_process::run_as(&mut server_cmd, ids, Path::new("/"))
        .map_err(|e| DesktopError::io("preparing the x server", e))?;
    let mut xserver = server_cmd.spawn().map_err(|source| DesktopError::Spawn {
        what: "x server",
        source,
    })?;
    let log_tail = || {
        let log = fs::read_to_string(dir.join("xserver.log")).unwrap_or_default();
        log.lines().rev().take(5).collect::<Vec<_>>().join(" | ")
    };
    let number = match read_display_number(&mut xserver, XSERVER_READY_TIMEOUT) {
        Ok(d) => d,
        Err(e) => {
            kill_and_wait(&mut xserver);
            tracing::warn!(error = %e, xserver_log = %log_tail(), "x server did not start");
            return Err(e);
        }
    };
    // The X server does not refuse to start when it cannot read its cookie: it admits
    // everyone instead. Never hand out such a display.
    match privacy::admits_without_cookie(number) {
        Ok(false) => {}
        Ok(true) => {
            kill_and_wait(&mut xserver);
            let log = log_tail();
            tracing::error!(display = number, xserver_log = %log, "x server admitted a client without the cookie; session refused");
            return Err(DesktopError::NotPrivate {
                display: format!(":{number}"),
                detail: format!("it admits clients without the cookie (x server log: {log})"),
            });
        }
        Err(e) => {
            kill_and_wait(&mut xserver);
            return Err(DesktopError::NotPrivate {
                display: format!(":{number}"),
                detail: format!("the cookieless check failed: {e}"),
            });
        }
    }
    Ok(PrivateDisplay {
        xserver,
        number,
        width,
        height,
        cookie,
        auth_path,
    })
}

fn chown(path: &Path, account: &UnixAccount) -> Result<(), DesktopError> {
    std::os::unix::fs::chown(path, Some(account.uid), Some(account.gid))
        .map_err(|e| DesktopError::io(format!("chown {}", path.display()), e))
}

fn write_private(path: &Path, bytes: &[u8], account: &UnixAccount) -> Result<(), DesktopError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| DesktopError::io(format!("creating {}", path.display()), e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| DesktopError::io(format!("writing {}", path.display()), e))?;
    chown(path, account)
}

pub(crate) fn create_log(path: &Path, account: &UnixAccount) -> Result<File, DesktopError> {
    let f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| DesktopError::io(format!("creating {}", path.display()), e))?;
    chown(path, account)?;
    Ok(f)
}

fn prepare_runtime_dir(dir: &Path) -> Result<(), DesktopError> {
    if !dir.is_dir() {
        DirBuilder::new()
            .recursive(true)
            .mode(0o711)
            .create(dir)
            .map_err(|e| DesktopError::io(format!("creating {}", dir.display()), e))?;
    }
    // Whoever owns or may write the runtime directory could swap a session's files.
    let meta = fs::metadata(dir).map_err(|e| DesktopError::io(format!("stat {}", dir.display()), e))?;
    let me = rustix::process::geteuid().as_raw();
    if std::os::unix::fs::MetadataExt::uid(&meta) != me {
        return Err(DesktopError::Invalid {
            what: "session runtime directory",
            detail: format!(
                "{} is owned by uid {}, not by this server (uid {me})",
                dir.display(),
                std::os::unix::fs::MetadataExt::uid(&meta)
            ),
        });
    }
    // Traversable (the user's Xvfb opens its auth file below it), not listable.
    fs::set_permissions(dir, fs::Permissions::from_mode(0o711))
        .map_err(|e| DesktopError::io(format!("chmod {}", dir.display()), e))
}

/// Refuses a session directory that its account cannot walk down to: its X server would
/// not read the cookie and would admit every local client instead.
fn check_reachable(dir: &Path, account: &UnixAccount) -> Result<(), DesktopError> {
    let chain = privacy::dir_chain(dir)?;
    match privacy::unreachable_dir(&chain, account.uid, account.gid) {
        None => Ok(()),
        Some(block) => Err(DesktopError::Unreachable {
            user: account.name.clone(),
            dir: block.dir,
            mode: block.mode,
            owner: block.owner,
        }),
    }
}

/// Xvfb running as an ordinary user cannot create `/tmp/.X11-unix` properly; make
/// sure it exists with the usual sticky, world-writable mode.
fn ensure_x11_socket_dir() -> Result<(), DesktopError> {
    let dir = Path::new("/tmp/.X11-unix");
    if dir.is_dir() {
        return Ok(());
    }
    if !rustix::process::geteuid().is_root() {
        return Ok(());
    }
    if let Err(e) = DirBuilder::new().mode(0o1777).create(dir) {
        // Someone else may have created it meanwhile.
        if !dir.is_dir() {
            return Err(DesktopError::io("creating /tmp/.X11-unix", e));
        }
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(0o1777))
        .map_err(|e| DesktopError::io("chmod /tmp/.X11-unix", e))
}

/// Reads the display number Xvfb writes to its `-displayfd` once it is ready.
fn read_display_number(xvfb: &mut Child, timeout: Duration) -> Result<u32, DesktopError> {
    let deadline = Instant::now() + timeout;
    let Some(stdout) = xvfb.stdout.as_mut() else {
        return Err(DesktopError::Exited {
            what: "xvfb",
            detail: "no display pipe".into(),
        });
    };
    let mut buf = Vec::new();
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Err(DesktopError::Timeout("xvfb to report its display"));
        }
        let readable = readiness::wait_readable(&*stdout, deadline - now)
            .map_err(|e| DesktopError::io("waiting for xvfb", e))?;
        if !readable {
            continue;
        }
        let mut chunk = [0u8; 32];
        let n = stdout
            .read(&mut chunk)
            .map_err(|e| DesktopError::io("reading xvfb display number", e))?;
        if n == 0 {
            return Err(DesktopError::Exited {
                what: "xvfb",
                detail: "closed its display pipe without a display number".into(),
            });
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
        if buf.len() > 16 {
            return Err(DesktopError::Invalid {
                what: "xvfb display number",
                detail: String::from_utf8_lossy(&buf).into_owned(),
            });
        }
        if buf.contains(&b'\n') {
            let text = String::from_utf8_lossy(&buf);
            return text.trim().parse().map_err(|_| DesktopError::Invalid {
                what: "xvfb display number",
                detail: text.trim().to_owned(),
            });
        }
    }
}

fn pid_of(raw: u32) -> Option<Pid> {
    i32::try_from(raw).ok().and_then(Pid::from_raw)
}

/// Waits (polling) until `child` has exited or `deadline` passes; true if it exited.
pub(crate) fn wait_until(deadline: Instant, child: &mut Child) -> bool {
    loop {
        if !matches!(child.try_wait(), Ok(None)) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub(crate) fn kill_and_wait(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// A leader that refused or failed: it exits on its own; killed if it does not in time.
fn stop_leader(child: &mut Child) {
    if !wait_until(Instant::now() + LEADER_END_TIMEOUT, child) {
        kill_and_wait(child);
    }
}

/// Ends sessions: closes every leader's channel at once (each leader then ends its
/// children, writes the logout record and closes PAM), waits for the leaders, and
/// removes the session directories. A leader that did not end in time is killed; when a
/// leader did not exit by itself (killed, crashed), its children are killed by the ids it
/// reported.
fn end_sessions(mut sessions: Vec<Session>) {
    for s in &mut sessions {
        drop(s.channel.take());
    }
    let deadline = Instant::now() + LEADER_END_TIMEOUT;
    for mut s in sessions {
        if !wait_until(deadline, &mut s.leader) {
            tracing::warn!(display = s.display, "session leader did not end its session in time; killing it and its children");
            kill_and_wait(&mut s.leader);
        }
        let ended_itself = matches!(s.leader.try_wait(), Ok(Some(status)) if status.signal().is_none());
        if !ended_itself {
            // Its children now belong to init, which reaps them only after they exit;
            // killed right away, their ids are very unlikely to have been reused.
            tracing::warn!(display = s.display, "session leader was killed; ending its children");
            if let Some(pg) = pid_of(s.command_pid) {
                let _ = rustix::process::kill_process_group(pg, Signal::KILL);
            }
            if let Some(pid) = pid_of(s.xserver_pid) {
                let _ = rustix::process::kill_process(pid, Signal::KILL);
            }
        }
        if let Err(e) = fs::remove_dir_all(&s.dir) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(dir = %s.dir.display(), error = %e, "cannot remove session directory");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
        daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
        alice:x:1000:1001:Alice,,,:/home/alice:\n\
        broken:x:abc:1::/home/b:/bin/sh\n\
        +nis::::::\n";

    #[test]
    fn passwd_lookup() {
        let a = UnixAccount::from_passwd(PASSWD, "alice").unwrap();
        assert_eq!(a.uid, 1000);
        assert_eq!(a.gid, 1001);
        assert_eq!(a.home, PathBuf::from("/home/alice"));
        assert_eq!(a.shell, PathBuf::from("/bin/sh"));
        let r = UnixAccount::from_passwd(PASSWD, "root").unwrap();
        assert_eq!((r.uid, r.shell), (0, PathBuf::from("/bin/bash")));
    }

    #[test]
    fn passwd_rejects() {
        assert!(matches!(
            UnixAccount::from_passwd(PASSWD, "bob"),
            Err(DesktopError::UnknownUnixUser(_))
        ));
        assert!(matches!(
            UnixAccount::from_passwd(PASSWD, ""),
            Err(DesktopError::UnknownUnixUser(_))
        ));
        assert!(matches!(
            UnixAccount::from_passwd(PASSWD, "+nis"),
            Err(DesktopError::UnknownUnixUser(_))
        ));
        assert!(matches!(
            UnixAccount::from_passwd(PASSWD, "root:x"),
            Err(DesktopError::UnknownUnixUser(_))
        ));
        assert!(matches!(
            UnixAccount::from_passwd(PASSWD, "broken"),
            Err(DesktopError::Invalid { .. })
        ));
        // a prefix of a name is not the name
        assert!(UnixAccount::from_passwd(PASSWD, "alic").is_err());
    }

    #[test]
    fn info_debug_redacts_cookie() {
        let info = SessionInfo {
            display: 3,
            cookie: vec![0x5A; 16],
            width: 800,
            height: 600,
            resumed: false,
        };
        let s = format!("{info:?}");
        assert!(s.contains("redacted") && !s.contains("90"));
    }

    #[test]
    fn manager_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<SessionManager>();
    }
}
