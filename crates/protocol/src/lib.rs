//! The IronRDP glue.
//!
//! Tiers (see ARCHITECTURE.md): `supervisor` runs privileged and owns the socket, store and
//! sessions; `worker` runs unprivileged, one process per connection, and is the only code
//! that parses the peer's bytes; `ipc` is the narrow channel between them; `budget` bounds
//! what a peer may send before authenticating; `display` adapts the X11 desktop to
//! IronRDP's traits; `gfx` sends it over the graphics pipeline as H.264 where the client
//! offers it; `clipboard` carries text between the client and the session under the
//! granted policy; `tls` owns the certificate and rustls configuration, `tls_signing` the
//! handshake signature the worker asks the supervisor's key for; `systemd_notify` tells
//! systemd when the server is ready and when it stops.

mod admission_slot;
mod audit_writer;
mod budget;
pub mod clipboard;
pub mod confine;
mod display;
mod forward;
mod gfx;
mod guard_memory;
mod jail;
pub mod ipc;
mod logon;
mod options;
mod prompt;
mod supervisor;
pub mod systemd_notify;
pub mod tls;
pub mod tls_signing;
mod worker;

pub use options::{
    AccessOptions, AuditForward, AuditOptions, AuthOptions, DesktopMode, ForwardFormat, GuardOptions, Limits, MfaMode, ServeOptions, SessionOptions,
};
pub use clipboard::{ClipboardOptions, ClipboardPolicy};
pub use rampart_desktop::XServer;
pub use jail::ids_in_range;
pub use supervisor::serve;
pub use worker::{log_target_allowed, worker_main, FORBIDDEN_LOG_TARGETS};
