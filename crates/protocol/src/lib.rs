//! The IronRDP glue.
//!
//! Tiers (see ARCHITECTURE.md): `supervisor` runs privileged and owns the socket, store and
//! sessions; `worker` runs unprivileged, one process per connection, and is the only code
//! that parses the peer's bytes; `ipc` is the narrow channel between them; `budget` bounds
//! what a peer may send before authenticating; `display` adapts the X11 desktop to
//! IronRDP's traits; `gfx` sends it over the graphics pipeline as H.264 where the client
//! offers it; `tls` owns the certificate and rustls configuration.

mod budget;
mod display;
mod gfx;
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
