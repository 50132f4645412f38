//! A desktop session is a real login of its Unix account, as sshd or a display manager
//! makes one.
//!
//! - [`account`]: whether the account may log in now (uid 0 without `allow_root`,
//!   `/etc/nologin`, shadow expiry and lock); pure decisions over facts read from the host.
//! - [`leader`]: the per-session root process (`rampart session-leader`) that runs the
//!   PAM account and session steps ([`pam`]), writes the utmp/wtmp records ([`utmpx`]),
//!   starts Xvfb and the session command as the user ([`user_process`]) and ends them,
//!   on the supervisor's word, a child's exit or a termination signal ([`signals`]).
//!
//! PAM runs in the leader, never in the long-lived supervisor: modules such as
//! pam_loginuid and pam_limits act on the calling process, and the PAM session must be
//! closed by the process that opened it, when the session ends.
//!
//! `pam`, `utmpx`, `user_process` and `signals` are, with `shm`, the crate's only modules
//! with `unsafe` (foreign calls into libpam and glibc), each block with its reason.

pub mod account;
pub mod leader;
mod pam;
pub(crate) mod signals;
pub(crate) mod user_process;
pub mod utmpx;

pub use account::LoginRefusal;
pub use leader::{PAM_SERVICE, PAM_SERVICE_FILES};
