//! The IronRDP glue.
//!
//! Tiers (see ARCHITECTURE.md): `supervisor` runs privileged and owns the socket, store and
//! sessions; `worker` runs unprivileged, one process per connection, and is the only code
//! that parses the peer's bytes; `ipc` is the narrow channel between them; `budget` bounds
//! what a peer may send before authenticating; `display` adapts the X11 desktop to
//! IronRDP's traits; `tls` owns the certificate and rustls configuration; `fuzzing` holds
//! the entry points of the fuzz targets in `fuzz/`.

mod budget;
mod display;
pub mod fuzzing;
pub mod ipc;
mod options;
mod prompt;
mod supervisor;
pub mod tls;
mod worker;

pub use options::{
    AccessOptions, AuthOptions, DesktopMode, GuardOptions, Limits, MfaMode, ServeOptions, SessionOptions,
};
pub use supervisor::serve;
pub use worker::worker_main;
