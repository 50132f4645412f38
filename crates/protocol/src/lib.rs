//! The IronRDP glue, laid out along the trust boundary (see ARCHITECTURE.md and
//! docs/privsep.md).
//!
//! - `supervisor` runs as root and owns the listening socket, the store, every secret and
//!   the sessions; it parses no peer byte. Its monitor loop checks every worker request
//!   against `rampart_policy::Monitor` before acting on it. Beside it: the NLA decision
//!   (`logon`), the workers' uids and jail (`jail`), the table of live connections
//!   (`roster`), the root-only control socket (`control`), the Prometheus endpoint
//!   (`metrics`), syslog forwarding (`forward`) and sd_notify (`systemd_notify`).
//! - `worker` runs unprivileged, one confined process per connection (`confine`), and is
//!   the only code that parses the peer's bytes: the pre-auth byte budget (`budget`), the
//!   desktop over IronRDP's traits (`display`), the two-step prompt (`prompt`), the graphics
//!   pipeline (`gfx`), the clipboard channel (`clipboard`), activity reports (`activity`).
//! - Between them, and read by both: [`ipc`] (the only messages that cross), [`tls_signing`]
//!   (the one handshake signature the worker asks for), [`tls`], [`clipboard`] (the policy
//!   and text conversion), `options`. [`fuzzing`] holds the entry points of `fuzz/`.

// The interface between the two sides, and what both read.
pub mod clipboard;
pub mod fuzzing;
pub mod ipc;
mod options;
pub mod tls;
pub mod tls_signing;

// The privileged side (root): accept, admission, the monitor, secrets, sessions.
mod supervisor;
// The unprivileged side (one process per connection): every parser of peer bytes.
mod worker;

pub use options::{
    AccessOptions, AuditForward, AuditOptions, AuthOptions, DesktopMode, ForwardFormat, GuardOptions, Limits, MetricsOptions, MfaMode, ServeOptions, SessionOptions,
    default_session_limits, DEFAULT_DISCONNECTED_END, DEFAULT_IDLE_DISCONNECT, DEFAULT_METRICS_PORT,
};
pub use clipboard::{ClipboardOptions, ClipboardPolicy};
pub use rampart_desktop::XServer;
pub use supervisor::jail::ids_in_range;
pub use supervisor::{control, systemd_notify};
pub use worker::confine;
pub use supervisor::serve;
pub use worker::{log_target_allowed, worker_main, FORBIDDEN_LOG_TARGETS};
