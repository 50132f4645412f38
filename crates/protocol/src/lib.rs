//! The IronRDP glue.
//!
//! Tiers (see ARCHITECTURE.md): `supervisor` runs privileged and owns the socket, store and
//! sessions; `worker` runs unprivileged, one process per connection, and is the only code
//! that parses the peer's bytes; `ipc` is the narrow channel between them; `budget` bounds
//! what a peer may send before authenticating; `display` adapts the X11 desktop to
//! IronRDP's traits; `tls` owns the certificate and rustls configuration, `tls_signing` the
//! handshake signature the worker asks the supervisor's key for.

mod budget;
mod display;
pub mod ipc;
mod logon;
mod options;
mod prompt;
mod supervisor;
pub mod tls;
pub mod tls_signing;
mod worker;

pub use options::{
    AccessOptions, AuthOptions, DesktopMode, GuardOptions, Limits, MfaMode, ServeOptions, SessionOptions,
};
pub use supervisor::serve;
pub use worker::{log_target_allowed, worker_main, FORBIDDEN_LOG_TARGETS};
