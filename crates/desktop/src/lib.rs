//! X11 desktops for Rampart: Xvfb sessions started as the mapped Unix user,
//! screen capture with MIT-SHM and XDamage, cursor shapes from XFixes, and input
//! injection with XTest, and the CLIPBOARD selection for text.
//!
//! This crate knows nothing about RDP wire formats: it speaks in scancodes, pixels
//! and rectangles, and an adapter elsewhere converts. Pure decisions (the keymap,
//! damage coalescing, the Xauthority encoding, `/etc/passwd` parsing) live in
//! their own modules with unit tests; X11 and process I/O stay at the edges.
//!
//! A session is a real login of the mapped account ([`login`]): PAM account and session,
//! supplementary groups, utmp/wtmp records, its own session id, held by a per-session
//! root leader process.
//!
//! `unsafe` is used only where the platform forces it: [`shm`] maps the memfd shared with
//! the X server; `login::pam`, `login::utmpx`, `login::user_process` and
//! `login::signals` call libpam and glibc.

pub mod capture;
pub mod clipboard;
pub mod connection;
pub mod input;
pub mod login;
pub mod keymap;
pub mod privacy;
mod randr;
mod readiness;
mod region;
pub mod session;
mod shadow;
mod shm;
mod xauth;
pub mod xserver;

use std::fmt;

pub use capture::{Capture, CaptureEvent, CaptureOptions, CursorImage, Frame};
pub use clipboard::{Clipboard, ClipboardEvent, SessionText};
pub use input::{Input, MouseButton};
pub use keymap::scancode_to_evdev;
pub use region::Rect;
pub use session::{SessionConfig, SessionInfo, SessionManager, UnixAccount};
pub use login::LoginRefusal;
pub use shadow::{display_owner, shadow_target};
pub use xserver::XServer;

/// The name of the only X authorization protocol we use.
pub const MIT_MAGIC_COOKIE: &str = "MIT-MAGIC-COOKIE-1";

/// Everything that can go wrong while starting, capturing or driving a desktop.
#[derive(Debug, thiserror::Error)]
pub enum DesktopError {
    /// The X server could not be reached or refused the connection.
    #[error("cannot connect to x display {display}: {reason}")]
    Connect { display: String, reason: String },
    /// The display name is not of the form `:N` or `:N.S`.
    #[error("invalid x display name {0:?}")]
    InvalidDisplay(String),
    /// The X server lacks an extension (or a version of it) we need.
    #[error("x server does not support {0}")]
    Unsupported(String),
    /// A request to the X server failed after the connection was set up.
    #[error("x11: {0}")]
    X11(String),
    /// A process (Xvfb, the session command) could not be started.
    #[error("cannot start {what}: {source}")]
    Spawn {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The Unix account named for a session does not exist.
    #[error("unknown unix user {0:?}")]
    UnknownUnixUser(String),
    /// A session display would not be private to its owner.
    #[error("x display {display} is not private: {detail}")]
    NotPrivate { display: String, detail: String },
    /// The session's account cannot reach its session files (and so its X server could
    /// not read its cookie).
    #[error(
        "session files for unix user {user:?} would sit below {}, which that user cannot enter (mode {mode:o}, owner uid {owner}); choose a [session] runtime_dir every session user can traverse",
        dir.display()
    )]
    Unreachable {
        user: String,
        dir: std::path::PathBuf,
        mode: u32,
        owner: u32,
    },
    /// The account may not log in now (the reason is the whole message: it is audited).
    #[error("{0}")]
    LoginRefused(LoginRefusal),
    /// The login itself (PAM, groups, the session leader) failed.
    #[error("session login failed: {0}")]
    LoginFailed(String),
    /// Something did not happen within its deadline.
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    /// A process we started died before it was ready.
    #[error("{what} exited before it was ready: {detail}")]
    Exited { what: &'static str, detail: String },
    /// The session table is full.
    #[error("too many sessions (limit {0})")]
    TooManySessions(usize),
    /// A file or directory operation failed.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// A value from the system (a passwd line, Xvfb's display number) made no sense.
    #[error("invalid {what}: {detail}")]
    Invalid { what: &'static str, detail: String },
}

impl DesktopError {
    pub(crate) fn x11(err: impl fmt::Display) -> Self {
        Self::X11(err.to_string())
    }

    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            what: what.into(),
            source,
        }
    }
}

/// How to reach an X display.
///
/// `cookie` holds MIT-MAGIC-COOKIE-1 bytes; `None` means "use `$XAUTHORITY` or no
/// authorization", which is what shadowing an existing display needs.
#[derive(Clone)]
pub struct X11Target {
    /// Display name such as `:5` (local displays only).
    pub display: String,
    /// MIT-MAGIC-COOKIE-1 secret, if we created the display ourselves.
    pub cookie: Option<Vec<u8>>,
}

impl fmt::Debug for X11Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("X11Target")
            .field("display", &self.display)
            .field("cookie", &self.cookie.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl X11Target {
    /// A target for a display number we started, with its cookie.
    pub fn local(display: u32, cookie: Vec<u8>) -> Self {
        Self {
            display: format!(":{display}"),
            cookie: Some(cookie),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_debug_redacts_cookie() {
        let t = X11Target::local(7, vec![0xAB; 16]);
        let s = format!("{t:?}");
        assert!(s.contains(":7"));
        assert!(s.contains("redacted"));
        assert!(!s.to_lowercase().contains("ab, "));
        assert!(!s.contains("171"));
    }
}
