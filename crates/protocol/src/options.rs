//! What `rampart serve` needs to know, already validated by the binary's config layer.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use rampart_store::UserRecord;

/// Everything the supervisor needs. Built by the binary from config file and flags.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    /// Holds `rampart.db`, the generated TLS key and certificate, and session runtime files.
    pub state_dir: PathBuf,
    /// Admin-supplied PEM files; both `None` means "generate on first start".
    pub tls_certificate: Option<PathBuf>,
    pub tls_private_key: Option<PathBuf>,
    pub limits: Limits,
    pub desktop: DesktopMode,
    /// Each connection's worker runs as `worker_uid_base + n` (its own uid and gid).
    pub worker_uid_base: u32,
    /// Serve without confining workers: refused unless this is set when not root.
    pub insecure_no_privsep: bool,
    /// Root-owned runtime directory: session files below `sessions/`, the workers' empty
    /// root `jail/`.
    pub runtime_dir: PathBuf,
    pub guard: GuardOptions,
    pub access: AccessOptions,
    /// The host key that seals credential material in the store (created if missing).
    pub host_key: PathBuf,
    pub auth: AuthOptions,
    /// The audit trail's retention and forwarding.
    pub audit: AuditOptions,
    /// Desktops for accounts mapped to root (uid 0); refused unless set (`[session] allow_root`).
    pub allow_root: bool,
    /// Which way text may cross the clipboard (per server and per user), and the size cap.
    pub clipboard: crate::clipboard::ClipboardOptions,
    /// Offer the graphics pipeline with H.264 (AVC420) to clients that support it.
    pub h264: bool,
    /// `[session] idle_disconnect_secs` and `disconnected_end_secs`.
    pub session_limits: rampart_policy::SessionLimits,
    /// `[metrics]`: the Prometheus endpoint.
    pub metrics: MetricsOptions,
}

/// CIS (Remote Desktop Services, session time limits): an active but idle session is
/// disconnected after 15 minutes or less. Disconnected, not ended: the desktop stays and
/// the user's next login resumes it, so nothing is lost.
pub const DEFAULT_IDLE_DISCONNECT: Duration = Duration::from_secs(15 * 60);

/// A desktop nobody is connected to is ended after 8 hours. CIS asks for 1 minute, which
/// loses the work of anyone whose network drops or whose laptop sleeps for a moment; 8 h
/// keeps a desktop over lunch, meetings and a commute (the cases resuming exists for) but
/// not overnight, so forgotten logins and their programs do not pile up. `rampart check`
/// reports it as a WARN (above the benchmark), by choice.
pub const DEFAULT_DISCONNECTED_END: Duration = Duration::from_secs(8 * 60 * 60);

/// The session limits Rampart uses unless configured (reasons with the constants).
pub fn default_session_limits() -> rampart_policy::SessionLimits {
    rampart_policy::SessionLimits {
        idle: Some(DEFAULT_IDLE_DISCONNECT),
        disconnected: Some(DEFAULT_DISCONNECTED_END),
    }
}

/// `[metrics]`: where the Prometheus text endpoint listens (`GET /metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsOptions {
    /// `None`: no endpoint.
    pub listen: Option<SocketAddr>,
}

/// The metrics port: unassigned on Prometheus' list of exporter ports.
pub const DEFAULT_METRICS_PORT: u16 = 9393;

impl Default for MetricsOptions {
    /// On, on loopback only: a local Prometheus (or an agent that forwards) scrapes it;
    /// the endpoint has no authentication, so nothing beyond the host reaches it unless the
    /// admin says so (`dangerous_allow_remote`).
    fn default() -> Self {
        Self {
            listen: Some(SocketAddr::from(([127, 0, 0, 1], DEFAULT_METRICS_PORT))),
        }
    }
}

/// Retention and forwarding of the audit trail (`[audit]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditOptions {
    /// Events older than this many days are pruned from the head (`None`: kept forever).
    pub keep_days: Option<u32>,
    /// Also send each event, once stored, to a local datagram socket.
    pub forward: Option<AuditForward>,
}

impl Default for AuditOptions {
    /// One year: what PCI DSS (10.5.1) asks audit logs to be kept, and a trail of a
    /// year is small (events are a few hundred bytes; refusal floods are rate-limited).
    fn default() -> Self {
        Self {
            keep_days: Some(365),
            forward: None,
        }
    }
}

impl AuditOptions {
    /// The time before which events are pruned at `now`, if retention is on.
    pub fn prune_before(&self, now: rampart_audit::UnixMillis) -> Option<rampart_audit::UnixMillis> {
        let days = i64::from(self.keep_days?);
        Some(rampart_audit::UnixMillis(now.0.saturating_sub(days.saturating_mul(24 * 60 * 60 * 1000))))
    }
}

/// Where forwarded events go and in what form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditForward {
    /// A Unix datagram socket: `/dev/log` (syslog, or journald's syslog socket) or
    /// `/run/systemd/journal/socket` (journald's native protocol).
    pub socket: PathBuf,
    pub format: ForwardFormat,
}

/// The datagram format of forwarded events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ForwardFormat {
    /// RFC 5424 with the event's fields as structured data (`[rampart@32473 ...]`).
    #[default]
    Rfc5424,
    /// journald's native protocol: `RAMPART_*` fields.
    Journald,
}

/// Whether the second factor is required after NLA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MfaMode {
    /// Every login needs a TOTP or recovery code; users without a secret cannot log in.
    #[default]
    Required,
    /// Users with a TOTP secret are asked for a code; users without one are not.
    Optional,
}

/// Account and second-factor rules applied after NLA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthOptions {
    pub mfa: MfaMode,
    /// Per-user overrides, keyed by the lowercased user name.
    pub user_mfa: std::collections::HashMap<String, MfaMode>,
    /// How long the two-step prompt stays up.
    pub mfa_prompt_timeout: Duration,
    /// Wrong codes a user may type (counted per user in the store, across connections,
    /// within the guard's failure window) before the prompt closes.
    pub mfa_max_attempts: u8,
    /// Passwords older than this are refused at NLA (`None`: they never expire).
    pub max_password_age: Option<Duration>,
}

impl Default for AuthOptions {
    /// MFA required; 60 s and 3 attempts at the prompt (issue 4); no password expiry
    /// (NIST SP 800-63B advises against periodic rotation without cause).
    fn default() -> Self {
        Self {
            mfa: MfaMode::Required,
            user_mfa: std::collections::HashMap::new(),
            mfa_prompt_timeout: Duration::from_secs(60),
            mfa_max_attempts: 3,
            max_password_age: None,
        }
    }
}

impl AuthOptions {
    /// The mode that applies to `user` (any case).
    pub fn mfa_for(&self, user: &str) -> MfaMode {
        self.user_mfa.get(&user.to_lowercase()).copied().unwrap_or(self.mfa)
    }

    /// Why `account` may not log in at `now` whatever the password (the audit reason), if so.
    pub fn refusal(&self, account: &UserRecord, now: rampart_audit::UnixMillis) -> Option<&'static str> {
        if account.locked {
            return Some("account locked");
        }
        let max_age = self.max_password_age?;
        let age = now.0.saturating_sub(account.password_changed.0);
        (u128::try_from(age).unwrap_or(0) > max_age.as_millis()).then_some("password expired")
    }

    /// The prompt `account` must pass after NLA, if any: always where MFA is required (a
    /// user without a secret is shown why they cannot go on); where optional, only for users
    /// with a secret.
    pub fn second_factor(&self, account: &UserRecord) -> Option<crate::ipc::SecondFactorPlan> {
        if self.mfa_for(&account.name) == MfaMode::Optional && !account.mfa_enrolled {
            return None;
        }
        Some(crate::ipc::SecondFactorPlan {
            attempts: self.mfa_max_attempts,
            timeout_secs: u32::try_from(self.mfa_prompt_timeout.as_secs()).unwrap_or(u32::MAX),
            enrolled: account.mfa_enrolled,
        })
    }
}

/// When the port is open at all, and when each user may log in.
#[derive(Debug, Clone, Default)]
pub struct AccessOptions {
    /// `None`: always open (no windows configured).
    pub schedule: Option<rampart_policy::AccessSchedule>,
    /// Per-user windows, keyed by the lowercased user name.
    pub users: std::collections::HashMap<String, rampart_policy::AccessSchedule>,
}

/// The brute-force guard and source filter (bans, back-off, allow/deny lists).
#[derive(Debug, Clone, Default)]
pub struct GuardOptions {
    pub policy: rampart_policy::GuardConfig,
    /// Every source may connect (allowlist is everything): warned about at every start.
    pub dangerous_allow_any_source: bool,
    /// Append a fail2ban-compatible line per authentication failure to this file.
    pub fail2ban_log: Option<PathBuf>,
}

/// Pre-authentication bounds. Defaults live in [`Limits::default`] with their reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// From accept to successful NLA; past it the worker is killed.
    pub handshake_timeout: Duration,
    /// Connections from one IP that have not authenticated yet.
    pub max_pending_per_ip: u32,
    /// Connections from anywhere that have not authenticated yet.
    pub max_pending_total: u32,
    /// Worker processes alive at once (authenticated or not).
    pub max_connections_total: u32,
    /// Live connections from one source (authenticated or not).
    pub max_connections_per_ip: u32,
    /// New connections one source may open per second (0: no limit).
    pub max_connection_rate_per_ip: u32,
    /// New connections all sources together may open per second (0: no limit).
    pub max_connection_rate_total: u32,
    /// Bytes a peer may send before it has authenticated.
    pub max_preauth_bytes: u64,
}

impl Limits {
    /// The caps the admission policy enforces at accept.
    pub fn admission(&self) -> rampart_policy::AdmissionLimits {
        rampart_policy::AdmissionLimits {
            max_pending_per_ip: self.max_pending_per_ip,
            max_pending_total: self.max_pending_total,
            max_connections_total: self.max_connections_total,
            max_connections_per_ip: self.max_connections_per_ip,
            max_connection_rate_per_ip: self.max_connection_rate_per_ip,
            max_connection_rate_total: self.max_connection_rate_total,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // A real client finishes TLS + NLA in well under a second on a LAN and a couple of
            // seconds across the world; 10 s leaves room and bounds slow-loris holders.
            handshake_timeout: Duration::from_secs(10),
            // gnome-remote-desktop's per-peer figure; a person opens one or two at a time.
            max_pending_per_ip: 5,
            max_pending_total: 64,
            max_connections_total: 256,
            // gnome-remote-desktop's per-peer figures: a person needs a couple of
            // connections and a handful of attempts per second at most.
            max_connections_per_ip: 5,
            max_connection_rate_per_ip: 10,
            // Each admitted connection costs a process start; 100 a second is far above
            // what people do and bounds what a distributed flood can make the host fork.
            max_connection_rate_total: 100,
            // The whole NLA handshake of mstsc/FreeRDP is under 16 KiB; 64 KiB is generous and
            // keeps a garbage-streaming peer from making the worker buffer anything large.
            max_preauth_bytes: 64 * 1024,
        }
    }
}

/// Which desktop a successful logon gets.
#[derive(Debug, Clone)]
pub enum DesktopMode {
    /// A private Xvfb display per user, running the user's session as the mapped Unix account.
    Session(SessionOptions),
    /// Share an existing X display (e.g. `:0`) with its owner (the account its X server runs
    /// as) and the users listed in `users` (lowercased Rampart user names).
    Shadow {
        display: String,
        view_only: bool,
        users: Vec<String>,
    },
}

#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// Run via `/bin/sh -c` when the user has no usable `~/.xsession` (or `use_xsession` is off).
    pub default_command: String,
    pub use_xsession: bool,
    pub default_width: u16,
    pub default_height: u16,
    /// The X server sessions run (Xorg with the dummy driver unless configured).
    pub x_server: rampart_desktop::XServer,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            default_command: "x-window-manager & exec x-terminal-emulator".to_owned(),
            use_xsession: true,
            default_width: 1024,
            default_height: 768,
            x_server: rampart_desktop::XServer::default(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rampart_audit::UnixMillis;

    const DAY: i64 = 24 * 60 * 60 * 1000;

    fn user(name: &str, locked: bool, changed: i64, enrolled: bool) -> UserRecord {
        UserRecord {
            name: name.to_owned(),
            unix_user: name.to_owned(),
            nt_hash: rampart_auth::NtHash::from_bytes([0; 16]),
            created: UnixMillis(0),
            password_changed: UnixMillis(changed),
            locked,
            mfa_enrolled: enrolled,
        }
    }

    fn account(locked: bool, changed: i64, enrolled: bool) -> UserRecord {
        user("alice", locked, changed, enrolled)
    }

    #[test]
    fn mfa_is_required_by_default_and_relaxed_per_user() {
        let mut auth = AuthOptions::default();
        assert_eq!(auth.mfa, MfaMode::Required);
        let plan = auth.second_factor(&user("alice", false, 0, false)).unwrap();
        assert_eq!((plan.attempts, plan.timeout_secs, plan.enrolled), (3, 60, false));
        assert!(auth.second_factor(&user("alice", false, 0, true)).unwrap().enrolled);
        auth.user_mfa.insert("bob".into(), MfaMode::Optional);
        assert_eq!(auth.second_factor(&user("Bob", false, 0, false)), None);
        // Optional still asks users who have a secret.
        assert!(auth.second_factor(&user("bob", false, 0, true)).is_some());
        auth.mfa = MfaMode::Optional;
        auth.user_mfa.insert("carol".into(), MfaMode::Required);
        assert_eq!(auth.second_factor(&user("alice", false, 0, false)), None);
        assert!(auth.second_factor(&user("carol", false, 0, false)).is_some());
    }

    #[test]
    fn retention_cutoff() {
        let now = UnixMillis(400 * DAY);
        assert_eq!(AuditOptions::default().prune_before(now), Some(UnixMillis(35 * DAY)));
        let forever = AuditOptions {
            keep_days: None,
            forward: None,
        };
        assert_eq!(forever.prune_before(now), None);
        let one = AuditOptions {
            keep_days: Some(1),
            forward: None,
        };
        assert_eq!(one.prune_before(UnixMillis(0)), Some(UnixMillis(-DAY)));
    }

    #[test]
    fn locked_and_expired_accounts_are_refused() {
        let mut auth = AuthOptions::default();
        let now = UnixMillis(1000 * DAY);
        assert_eq!(auth.refusal(&account(false, 0, true), now), None, "no expiry by default");
        assert_eq!(auth.refusal(&account(true, 999 * DAY, true), now), Some("account locked"));
        auth.max_password_age = Some(Duration::from_secs(90 * 24 * 60 * 60));
        assert_eq!(auth.refusal(&account(false, 910 * DAY, false), now), None);
        assert_eq!(auth.refusal(&account(false, 910 * DAY - 1, false), now), Some("password expired"));
        // A clock behind the change time is not an expiry.
        assert_eq!(auth.refusal(&account(false, 2000 * DAY, false), now), None);
    }
}
