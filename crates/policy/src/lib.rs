//! Pure admission and punishment decisions.
//!
//! No clock, socket, process or database here: the supervisor feeds in what happened and
//! the time (`now`), and acts on what comes out. Everything is tested exhaustively
//! in-process on virtual time.
//!
//! - [`Admission`]: caps on connections that have not authenticated yet (per source IP and
//!   global) and on live connections.
//! - [`Guard`]: source allowlist and denylist, brute-force bans, per (user, source) back-off
//!   and an account lockout that never applies to a user's known-good sources.
//! - [`IpNet`]: the CIDR networks those lists and bans are made of.
//! - [`fail2ban_line`]: the optional fail2ban-compatible failure line.
//! - [`Monitor`]: which request a connection's worker may make in which state and how
//!   often (the privilege-separation dispatch table).
//! - [`AccessSchedule`], [`decide`]: access windows (when the port is open at all) and
//!   just-in-time grants.
//! - [`SessionLimits`], [`session_limits::due`]: the idle and disconnected-session limits.

mod access;
mod admission;
mod fail2ban;
mod guard;
mod ip_net;
mod monitor;
pub mod session_limits;
mod source;

pub use access::{
    decide, next_review, user_allowed, AccessError, AccessGrant, AccessSchedule, AccessState, AccessWindow, AccessZone,
    MAX_WINDOWS,
};
pub use admission::{Admission, AdmissionLimits, Refusal, Ticket};
pub use fail2ban::fail2ban_line;
pub use guard::{
    Ban, FailureCount, FailureScope, Guard, GuardAction, GuardConfig, GuardState, KnownGood, RepeatRecord, SourceRefusal, SyncMark, Verdict,
    MAX_USER_KEY_CHARS,
};
pub use ip_net::{canonical, default_allowlist, IpNet, IpNetError};
pub use source::SourceKey;
pub use monitor::{Decided, Monitor, Request, Stage, Violation, DISPLAY_OPEN_WINDOW_MS, MAX_DISPLAY_OPENS};
pub use rampart_audit::UnixMillis;
pub use session_limits::{HeldDesktop, LimitAction, LiveConnection, SessionLimits};
