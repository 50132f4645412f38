//! `rampart session-leader`: one root process per desktop session, the session's login.
//!
//! The supervisor's [`SessionManager`](crate::SessionManager) starts it with one end of a
//! socket pair on its stdin, sends one [`LeaderRequest`] line and reads one
//! [`LeaderReply`] line. The leader never sees a network byte. For the request it:
//!
//! 1. runs PAM's account step for the `rampart` service (expiry, nologin, access rules);
//! 2. takes the account's supplementary groups (`initgroups`), establishes PAM credentials
//!    and opens the PAM session (limits, loginuid, logind) — in this process, which lives
//!    as long as the session, because modules such as pam_limits and pam_loginuid act on
//!    the calling process and its children inherit what they set;
//! 3. starts Xvfb, then writes the utmp/wtmp login record for its display, then starts the
//!    session command, both as the user in sessions of their own;
//! 4. replies with the display and cookie, and waits.
//!
//! The session ends when the supervisor closes the socket (or dies), when Xvfb or the
//! session command exits, or on SIGTERM/SIGINT/SIGHUP. The leader then ends both
//! children (SIGTERM to the command's process group and to Xvfb, SIGKILL after
//! [`TERM_GRACE`](crate::session::TERM_GRACE)), writes the logout record, closes the PAM
//! session, deletes the credentials, ends PAM and exits.

use std::io::{Read, Write};
use std::net::IpAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::process::{Pid, PidfdFlags, Signal};
use serde::{Deserialize, Serialize};

use super::account::LoginRefusal;
use super::pam::{AccountStatus, Item, Pam, PAM_ACCT_EXPIRED};
use super::signals::Termination;
use super::user_process::{self, UserIds};
use super::utmpx::{self, LoginRecord};
use crate::session::{self, PrivateDisplay, SESSION_PATH, TERM_GRACE};
use crate::{readiness, DesktopError, UnixAccount};

/// The PAM service (`/etc/pam.d/rampart`; the repository ships it as `packaging/pam.d/rampart`).
pub const PAM_SERVICE: &str = "rampart";
/// Where Linux-PAM looks for the service's file. Without one it uses the `other` service
/// (Debian's runs the common account and session stacks, without pam_limits or
/// pam_nologin; elsewhere it may refuse everything).
pub const PAM_SERVICE_FILES: [&str; 2] = ["/etc/pam.d/rampart", "/usr/lib/pam.d/rampart"];
/// `PAM_TTY` before the display exists (as sshd says "ssh"); modules that look at the
/// terminal see a network login.
const PAM_TTY: &str = "rdp";
/// Longest line either side sends.
pub(crate) const MAX_LINE: usize = 64 * 1024;
/// How long the leader waits for the supervisor's request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest reason text passed back from a PAM refusal.
const MAX_DETAIL: usize = 200;

/// Shell script run as the session command. `$1` is the default command.
const SESSION_SCRIPT: &str = r#"if [ -n "$RAMPART_USE_XSESSION" ] && [ -f "$HOME/.xsession" ] && [ -x "$HOME/.xsession" ]; then
  unset RAMPART_USE_XSESSION; exec "$HOME/.xsession"
elif [ -n "$RAMPART_USE_XSESSION" ] && [ -f "$HOME/.xsession" ] && [ -r "$HOME/.xsession" ]; then
  unset RAMPART_USE_XSESSION; exec /bin/sh "$HOME/.xsession"
fi
unset RAMPART_USE_XSESSION
exec /bin/sh -c "$1""#;

/// Environment names the session gets from Rampart, whatever PAM's modules set.
const OWN_ENV: [&str; 8] = ["HOME", "USER", "LOGNAME", "SHELL", "PATH", "DISPLAY", "XAUTHORITY", "RAMPART_USE_XSESSION"];

/// What the supervisor asks of a leader.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct LeaderRequest {
    /// For the leader's log lines.
    pub rdp_user: String,
    pub account: UnixAccount,
    /// The client's address (PAM_RHOST, the utmp host).
    pub remote: Option<IpAddr>,
    pub width: u16,
    pub height: u16,
    /// The session's directory, made by the supervisor, owned by the user.
    pub dir: PathBuf,
    pub server: crate::XServer,
    pub depth: u8,
    pub default_command: String,
    pub use_xsession: bool,
    /// The PAM service, normally [`PAM_SERVICE`].
    pub pam_service: String,
}

/// The leader's one answer.
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub(crate) enum LeaderReply {
    /// The session runs.
    Ready {
        display: u32,
        /// The size the X server started at (at least its minimum).
        width: u16,
        height: u16,
        cookie_hex: String,
        xserver_pid: u32,
        command_pid: u32,
    },
    /// The account may not log in (nothing was started).
    Refused { refusal: LoginRefusal },
    /// Something else failed (nothing is left running).
    Failed { error: String },
}

/// The hidden `rampart session-leader` command: leaves the supervisor's session (no
/// terminal to reach, no signal meant for the supervisor's group), blocks the termination
/// signals, and serves the request on stdin.
pub fn main() -> Result<(), DesktopError> {
    // Fails only if already a process group leader, which a freshly started child is not.
    let _ = rustix::process::setsid();
    let termination = Termination::block().map_err(|e| DesktopError::io("blocking termination signals", e))?;
    let channel: OwnedFd = std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| DesktopError::io("taking the supervisor's channel", e))?;
    serve_until(UnixStream::from(channel), Some(&termination))
}

/// Reads the request from `channel`, logs the session in and holds it until the channel
/// closes or a child exits. Refusals are not errors; failures are, after being reported.
pub fn serve(channel: UnixStream) -> Result<(), DesktopError> {
    serve_until(channel, None)
}

/// [`serve`], also ending on the `termination` signals.
fn serve_until(mut channel: UnixStream, termination: Option<&Termination>) -> Result<(), DesktopError> {
    let request = match read_request(&channel) {
        Ok(request) => request,
        Err(e) => {
            let _ = send(&channel, &LeaderReply::Failed { error: e.to_string() });
            return Err(e);
        }
    };
    let login = if rustix::process::geteuid().is_root() {
        Login::start(&request)
    } else {
        Err(Stop::Failed(DesktopError::LoginFailed(
            "the session leader must run as root".into(),
        )))
    };
    let mut login = match login {
        Ok(login) => login,
        Err(Stop::Refused(refusal)) => {
            tracing::warn!(rdp_user = %request.rdp_user, unix_user = %request.account.name, %refusal, "login refused");
            let _ = send(&channel, &LeaderReply::Refused { refusal });
            return Ok(());
        }
        Err(Stop::Failed(e)) => {
            tracing::warn!(rdp_user = %request.rdp_user, unix_user = %request.account.name, error = %e, "login failed");
            let _ = send(&channel, &LeaderReply::Failed { error: e.to_string() });
            return Err(e);
        }
    };
    let ready = LeaderReply::Ready {
        display: login.display,
        width: login.size.0,
        height: login.size.1,
        cookie_hex: hex::encode(&login.cookie),
        xserver_pid: login.xvfb.id(),
        command_pid: login.command.id(),
    };
    let why = match send(&channel, &ready) {
        Ok(()) => login.wait(&mut channel, termination),
        Err(e) => format!("cannot answer the supervisor: {e}"),
    };
    tracing::info!(rdp_user = %request.rdp_user, unix_user = %request.account.name, display = login.display, %why, "session over");
    login.end();
    Ok(())
}

/// Why a login did not go ahead.
enum Stop {
    Refused(LoginRefusal),
    Failed(DesktopError),
}

impl From<DesktopError> for Stop {
    fn from(e: DesktopError) -> Self {
        Self::Failed(e)
    }
}

fn pam_failed(e: super::pam::PamError) -> Stop {
    Stop::Failed(DesktopError::LoginFailed(e.to_string()))
}

/// A logged-in session: PAM open, children running, login record written.
struct Login {
    xvfb: Child,
    command: Child,
    display: u32,
    /// The size the X server started at.
    size: (u16, u16),
    cookie: Vec<u8>,
    record: Option<LoginRecord>,
    pam: Pam,
}

impl Login {
    fn start(request: &LeaderRequest) -> Result<Self, Stop> {
        let account = &request.account;
        let mut pam = Pam::start(&request.pam_service, &account.name).map_err(pam_failed)?;
        if let Some(remote) = request.remote {
            pam.set_item(Item::RemoteHost, &remote.to_string()).map_err(pam_failed)?;
        }
        pam.set_item(Item::Tty, PAM_TTY).map_err(pam_failed)?;
        match pam.account() {
            Ok(AccountStatus::Ok) => {}
            Ok(AccountStatus::PasswordChangeRequired) => {
                // Rampart's own password (and its age limit) is what the user logs in with.
                tracing::warn!(unix_user = %account.name, "the unix password must be changed; rampart does not use it, login goes on");
            }
            Err(e) if e.code == PAM_ACCT_EXPIRED => return Err(Stop::Refused(LoginRefusal::Expired)),
            Err(e) => {
                let said = pam.messages();
                tracing::info!(unix_user = %account.name, error = %e, messages = ?said, "pam account step refused");
                let mut detail = e.message;
                if let Some(first) = said.first() {
                    detail = format!("{detail} ({first})");
                }
                return Err(Stop::Refused(LoginRefusal::PamAccount {
                    detail: detail.chars().take(MAX_DETAIL).collect(),
                }));
            }
        }
        user_process::initgroups(&account.name, account.gid)
            .map_err(|e| DesktopError::io(format!("initgroups for {}", account.name), e))?;
        pam.establish_credentials().map_err(pam_failed)?;
        pam.open_session().map_err(pam_failed)?;
        for message in pam.messages() {
            tracing::info!(unix_user = %account.name, %message, "pam");
        }
        // pam_setcred may have added groups (pam_group); the children get exactly these.
        let ids = UserIds {
            uid: account.uid,
            gid: account.gid,
            groups: user_process::current_groups().map_err(|e| DesktopError::io("getgroups", e))?,
        };
        let PrivateDisplay {
            xserver: mut xvfb,
            number: display,
            width,
            height,
            cookie,
            auth_path,
        } = session::start_display(
            &request.server,
            request.depth,
            account,
            &ids,
            request.width,
            request.height,
            &request.dir,
        )?;
        let leader_pid = i32::try_from(std::process::id()).unwrap_or(i32::MAX);
        let record = LoginRecord::login(leader_pid, display, &account.name, request.remote, SystemTime::now());
        write_record(&record);
        let command = match spawn_session_command(request, &ids, display, &auth_path, &pam.env()) {
            Ok(command) => command,
            Err(e) => {
                session::kill_and_wait(&mut xvfb);
                write_record(&record.logout(SystemTime::now()));
                return Err(e.into());
            }
        };
        Ok(Self {
            xvfb,
            command,
            display,
            size: (width, height),
            cookie,
            record: Some(record),
            pam,
        })
    }

    /// Waits until the session should end; returns why.
    fn wait(&mut self, channel: &mut UnixStream, termination: Option<&Termination>) -> String {
        let pidfd = |child: &Child| {
            i32::try_from(child.id())
                .ok()
                .and_then(Pid::from_raw)
                .and_then(|pid| rustix::process::pidfd_open(pid, PidfdFlags::empty()).ok())
        };
        // Exit notifications; without pidfds (old kernels) the timeout below polls.
        let xvfb_fd = pidfd(&self.xvfb);
        let command_fd = pidfd(&self.command);
        let tick = Timespec {
            tv_sec: 1,
            tv_nsec: 0,
        };
        loop {
            if let Ok(Some(status)) = self.command.try_wait() {
                return format!("session command exited ({status})");
            }
            if let Ok(Some(status)) = self.xvfb.try_wait() {
                return format!("xvfb exited ({status})");
            }
            if let Some(signal) = termination.and_then(Termination::take) {
                return format!("signal {signal}");
            }
            let mut fds = vec![PollFd::new(&*channel, PollFlags::IN)];
            if let Some(t) = termination {
                fds.push(PollFd::new(t, PollFlags::IN));
            }
            for fd in [&xvfb_fd, &command_fd].into_iter().flatten() {
                fds.push(PollFd::new(fd, PollFlags::IN));
            }
            match rustix::event::poll(&mut fds, Some(&tick)) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => return format!("poll failed: {e}"),
            }
            let channel_ready = fds.first().is_some_and(|fd| !fd.revents().is_empty());
            drop(fds);
            if channel_ready {
                let mut byte = [0u8; 1];
                return match channel.read(&mut byte) {
                    Ok(0) => "the supervisor ended the session".to_owned(),
                    Ok(_) => "unexpected input from the supervisor".to_owned(),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => format!("the supervisor's channel failed: {e}"),
                };
            }
        }
    }

    /// Ends the children, writes the logout record, closes PAM (on drop).
    fn end(mut self) {
        end_children(&mut self.command, &mut self.xvfb);
        if let Some(record) = self.record.take() {
            write_record(&record.logout(SystemTime::now()));
        }
        // Closes the PAM session, deletes the credentials and ends PAM, last.
        drop(self.pam);
    }
}

/// Writes a record to utmp and wtmp; failures are logged (a host without utmp still runs).
fn write_record(record: &LoginRecord) {
    if let Err(e) = utmpx::write_utmp(record) {
        tracing::debug!(error = %e, line = %record.line, "no utmp record");
    }
    if let Err(e) = utmpx::write_wtmp(record, Path::new(utmpx::WTMP)) {
        tracing::warn!(error = %e, line = %record.line, "no wtmp record");
    }
}

/// SIGTERM to the session command's process group (it leads its own session) and to
/// Xvfb; SIGKILL to what is left after the grace period.
fn end_children(command: &mut Child, xvfb: &mut Child) {
    let group = i32::try_from(command.id()).ok().and_then(Pid::from_raw);
    // Signal the group while its leader is unreaped (a zombie at worst), so the id cannot
    // have been reused.
    if let Some(pg) = group {
        let _ = rustix::process::kill_process_group(pg, Signal::TERM);
    }
    if matches!(xvfb.try_wait(), Ok(None)) {
        if let Some(pid) = i32::try_from(xvfb.id()).ok().and_then(Pid::from_raw) {
            let _ = rustix::process::kill_process(pid, Signal::TERM);
        }
    }
    let deadline = Instant::now() + TERM_GRACE;
    let command_done = session::wait_until(deadline, command);
    let xvfb_done = session::wait_until(deadline, xvfb);
    // Stragglers in the group that ignored SIGTERM. If the leader was reaped just now,
    // within the grace period, reuse of its id is very unlikely.
    if let Some(pg) = group {
        let _ = rustix::process::kill_process_group(pg, Signal::KILL);
    }
    if !command_done {
        session::kill_and_wait(command);
    }
    if !xvfb_done {
        session::kill_and_wait(xvfb);
    }
}

/// The session command as the user, with PAM's environment under Rampart's own.
fn spawn_session_command(
    request: &LeaderRequest,
    ids: &UserIds,
    display: u32,
    auth_path: &Path,
    pam_env: &[(String, String)],
) -> Result<Child, DesktopError> {
    let account = &request.account;
    let log = session::create_log(&request.dir.join("session.log"), account)?;
    let log_err = log
        .try_clone()
        .map_err(|e| DesktopError::io("duplicating session log", e))?;
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(SESSION_SCRIPT)
        .arg("rampart-session")
        .arg(&request.default_command)
        .env_clear();
    for (name, value) in pam_env {
        if !OWN_ENV.contains(&name.as_str()) {
            cmd.env(name, value);
        }
    }
    cmd.env("HOME", &account.home)
        .env("USER", &account.name)
        .env("LOGNAME", &account.name)
        .env("SHELL", &account.shell)
        .env("PATH", SESSION_PATH)
        .env("DISPLAY", format!(":{display}"))
        .env("XAUTHORITY", auth_path)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err);
    if request.use_xsession {
        cmd.env("RAMPART_USE_XSESSION", "1");
    }
    user_process::run_as(&mut cmd, ids, &account.home)
        .map_err(|e| DesktopError::io("preparing the session command", e))?;
    cmd.spawn().map_err(|source| DesktopError::Spawn {
        what: "session command",
        source,
    })
}

/// Reads one JSON line from `channel` within `timeout`, at most [`MAX_LINE`] bytes.
pub(crate) fn read_line(channel: &UnixStream, timeout: Duration) -> Result<Vec<u8>, DesktopError> {
    let deadline = Instant::now() + timeout;
    let mut line = Vec::new();
    let mut reader = channel;
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Err(DesktopError::Timeout("the session leader's channel"));
        }
        if !readiness::wait_readable(channel, deadline - now).map_err(|e| DesktopError::io("waiting on the session leader's channel", e))? {
            continue;
        }
        let mut chunk = [0u8; 4096];
        let n = match reader.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(DesktopError::io("reading the session leader's channel", e)),
        };
        if n == 0 {
            return Err(DesktopError::Exited {
                what: "session leader",
                detail: "closed its channel without an answer".into(),
            });
        }
        let chunk = chunk.get(..n).unwrap_or_default();
        match chunk.iter().position(|b| *b == b'\n') {
            Some(end) => {
                line.extend_from_slice(chunk.get(..end).unwrap_or_default());
                return if line.len() > MAX_LINE { Err(too_long()) } else { Ok(line) };
            }
            None => line.extend_from_slice(chunk),
        }
        if line.len() > MAX_LINE {
            return Err(too_long());
        }
    }
}

fn too_long() -> DesktopError {
    DesktopError::Invalid {
        what: "session leader message",
        detail: format!("longer than {MAX_LINE} bytes"),
    }
}

fn read_request(channel: &UnixStream) -> Result<LeaderRequest, DesktopError> {
    let line = read_line(channel, REQUEST_TIMEOUT)?;
    serde_json::from_slice(&line).map_err(|e| DesktopError::Invalid {
        what: "session leader request",
        detail: e.to_string(),
    })
}

/// Writes one message as a JSON line.
pub(crate) fn send<T: Serialize>(mut channel: &UnixStream, message: &T) -> Result<(), DesktopError> {
    let mut line = serde_json::to_vec(message).map_err(|e| DesktopError::Invalid {
        what: "session leader message",
        detail: e.to_string(),
    })?;
    line.push(b'\n');
    channel
        .write_all(&line)
        .map_err(|e| DesktopError::io("writing to the session leader's channel", e))
}
