//! The configuration file: `/etc/rampart/rampart.toml` by default.
//!
//! Read in two steps (parse, don't validate): TOML into raw serde structs that deny unknown
//! keys and keep each value's position, then into typed values ([`Config`]) that cannot hold
//! an invalid setting. Every error names the file, the line and the key. Defaults and the
//! reasons for them live here, in [`Config::default`]; `docs/config.md` and
//! `rampart.example.toml` describe the same keys.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, Context};
use rampart_policy::{AccessSchedule, AccessWindow, AccessZone, GuardConfig, IpNet, IpNetError};
use serde::Deserialize;
use toml::Spanned;

/// Used when no `--config` is given, if it exists.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/rampart/rampart.toml";

/// The typed configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub server: ServerConfig,
    pub tls: TlsConfig,
    pub limits: LimitsConfig,
    pub session: SessionConfig,
    pub shadow: ShadowConfig,
    pub guard: GuardSettings,
    pub access: AccessConfig,
    pub auth: AuthSettings,
    pub audit: AuditConfig,
    pub display: DisplayConfig,
    pub metrics: MetricsConfig,
}

/// `[metrics]`: the Prometheus endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    /// Where `GET /metrics` is answered; `None` (`listen = ""`): no endpoint.
    pub listen: Option<SocketAddr>,
    /// A `listen` address other hosts can reach was asked for by name: warned at start-up.
    pub dangerous_allow_remote: bool,
}

/// `[display]`: how the desktop is encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayConfig {
    /// H.264 over the graphics pipeline for clients that offer it (docs/h264.md).
    pub h264: bool,
}

/// `[audit]`: retention and forwarding of the audit trail. The protocol layer's own type, so
/// its defaults (with their reasons, in `rampart_protocol::AuditOptions::default`) are the
/// config's defaults.
pub type AuditConfig = rampart_protocol::AuditOptions;

/// Longest retention accepted (days): a century.
pub const MAX_KEEP_DAYS: u32 = 36_500;
/// Where `[audit] syslog = true` sends events unless `syslog_socket` says otherwise.
pub const DEFAULT_SYSLOG_SOCKET: &str = "/dev/log";

/// `[auth]`: the second factor and the password lifecycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSettings {
    /// What the server enforces after NLA (MFA mode, per-user overrides, prompt, expiry).
    pub policy: rampart_protocol::AuthOptions,
    /// The issuer name authenticator apps show next to the account.
    pub mfa_issuer: String,
}

/// Bounds on `[auth]` values.
pub const MFA_PROMPT_SECS: std::ops::RangeInclusive<u64> = 10..=600;
pub const MFA_ATTEMPTS: std::ops::RangeInclusive<u8> = 1..=10;
pub const MAX_PASSWORD_AGE_DAYS: u64 = 3650;

/// `[access]`: the access windows, global and per user, in one time zone.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccessConfig {
    /// When the port is open; `None` (no windows configured): always.
    pub schedule: Option<AccessSchedule>,
    /// Per-user windows (`[access.users]`), keyed by the lowercased user name: user names
    /// are case-insensitive, as in the store. Use [`AccessConfig::user_schedule`].
    pub users: HashMap<String, AccessSchedule>,
}

impl AccessConfig {
    /// The windows of `user` (any case), if they have their own.
    pub fn user_schedule(&self, user: &str) -> Option<&AccessSchedule> {
        self.users.get(&user.to_ascii_lowercase())
    }
}

/// `[guard]`: the brute-force guard and the source lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardSettings {
    /// The pure policy's tunables, allowlist included. With `dangerous_allow_any_source` the
    /// allowlist is every address (`0.0.0.0/0`, `::/0`).
    pub policy: GuardConfig,
    /// Every source may connect: warn about it at start-up.
    pub dangerous_allow_any_source: bool,
    /// Append fail2ban-style lines for authentication failures to this file.
    pub fail2ban_log: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Holds `rampart.db`, the generated TLS identity and session runtime files.
    pub state_dir: PathBuf,
    /// Workers run as `worker_uid_base + n`, one uid per live connection.
    pub worker_uid_base: u32,
    /// Serve without confining workers (only possible, and then needed, when not root).
    pub insecure_no_privsep: bool,
    /// The host key sealing secrets in the store; `None`: `host.key` in the state directory.
    pub host_key: Option<PathBuf>,
}

/// Admin-supplied PEM files; both `None` means a generated self-signed identity.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsConfig {
    pub certificate: Option<PathBuf>,
    pub private_key: Option<PathBuf>,
}

/// Pre-authentication bounds: the protocol layer's own type, so its defaults (with their
/// reasons, in `rampart_protocol::Limits::default`) are the config's defaults.
pub type LimitsConfig = rampart_protocol::Limits;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    pub default_command: String,
    pub use_xsession: bool,
    pub default_width: u16,
    pub default_height: u16,
    /// `[session] x_server` with the matching program path (`xorg` or `xvfb`).
    pub x_server: rampart_protocol::XServer,
    /// Root-owned directory for session files (cookies, logs); every session user must be
    /// able to traverse it, so it never sits in the root-only state directory.
    pub runtime_dir: PathBuf,
    /// Desktops (and shadowing) for users mapped to root.
    pub allow_root: bool,
    /// `clipboard`, `clipboard_max_bytes` and `[session.users.NAME] clipboard`.
    pub clipboard: rampart_protocol::ClipboardOptions,
    /// `idle_disconnect_secs` and `disconnected_end_secs` (`None`: off).
    pub limits: rampart_policy::SessionLimits,
}

/// Bounds on `[session] idle_disconnect_secs` (0 turns it off): the workers report input
/// every 2 s, so a shorter limit would cut people off while they type; a day is the most
/// that still means something.
pub const IDLE_DISCONNECT_SECS: std::ops::RangeInclusive<u64> = 5..=86_400;
/// Bounds on `[session] disconnected_end_secs` (0: never): up to 30 days.
pub const DISCONNECTED_END_SECS: std::ops::RangeInclusive<u64> = 5..=30 * 86_400;

/// Bounds on `[session] clipboard_max_bytes`.
pub const MIN_CLIPBOARD_BYTES: u64 = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShadowConfig {
    /// `Some(":0")` shares that display instead of starting per-user sessions.
    pub display: Option<String>,
    pub view_only: bool,
    /// Rampart users (lowercased) who may watch the display besides its owner's accounts.
    pub users: Vec<String>,
}

/// Session sizes accepted (the protocol layer clamps client sizes to the same range).
pub const MIN_DIMENSION: u16 = 200;
pub const MAX_DIMENSION: u16 = 4096;
/// Below this a real client's NLA handshake does not fit in the pre-auth budget.
pub const MIN_PREAUTH_BYTES: u64 = 16 * 1024;
/// Longest handshake deadline accepted: past this the limit stops bounding anything.
pub const MAX_HANDSHAKE_TIMEOUT_SECS: u64 = 300;
/// Longest failure window, ban and ban cap accepted: 30 days.
pub const MAX_GUARD_SECS: u64 = 30 * 24 * 60 * 60;
/// Shortest IPv6 network the guard may count and ban a source under: wider would let one
/// attacker ban a whole provider's customers.
pub const MIN_IPV6_BAN_PREFIX: u8 = 48;

impl Default for Config {
    fn default() -> Self {
        Self {
            server: ServerConfig {
                // The standard RDP port on every interface; the source allowlist, not the bind
                // address, decides who may connect.
                listen: SocketAddr::from(([0, 0, 0, 0], 3389)),
                state_dir: PathBuf::from("/var/lib/rampart"),
                // One uid per connection, far above the accounts of any distribution
                // (Debian's system and user ranges end at 60000 and 65533; systemd's dynamic
                // users are below 65536; container sub-ids usually start at 100000 and
                // stay below 2^31 only by convention, hence the check at start-up).
                worker_uid_base: 2_000_000_000,
                insecure_no_privsep: false,
                // Beside the store unless the admin keeps it elsewhere (e.g. /etc/rampart,
                // out of the state directory's backups): see docs/security.md.
                host_key: None,
            },
            tls: TlsConfig::default(),
            limits: LimitsConfig::default(),
            session: SessionConfig {
                default_command: "x-window-manager & exec x-terminal-emulator".to_owned(),
                use_xsession: true,
                default_width: 1024,
                default_height: 768,
                // Xorg's dummy screen grows with the client; Xvfb cannot grow past its start.
                x_server: rampart_protocol::XServer::default(),
                // The FHS place for runtime files (a tmpfs, cleared at boot); systemd's
                // RuntimeDirectory=rampart makes the same directory.
                runtime_dir: PathBuf::from("/run/rampart"),
                // A desktop is a login; root logs in at the console, not over the network.
                allow_root: false,
                // Both ways, 1 MiB: the reasons are with `ClipboardOptions::default`.
                clipboard: rampart_protocol::ClipboardOptions::default(),
                // Idle 15 min (CIS), disconnected desktops kept 8 h: the reasons are with
                // `rampart_protocol::DEFAULT_IDLE_DISCONNECT` and `DEFAULT_DISCONNECTED_END`.
                limits: rampart_protocol::default_session_limits(),
            },
            shadow: ShadowConfig {
                display: None,
                // Watching is the common helpdesk case; control must be asked for.
                view_only: true,
                // Only the display's owner: another user's screen is theirs to share.
                users: Vec::new(),
            },
            // The best codec both sides support; off for hosts that must not use H.264
            // (patent licensing: docs/h264.md).
            display: DisplayConfig { h264: true },
            guard: GuardSettings {
                // The defaults and their reasons live with the policy
                // (`rampart_policy::GuardConfig::default`): 5 failures in 10 min ban for
                // 15 min, doubling up to 24 h; private address space only.
                policy: GuardConfig::default(),
                dangerous_allow_any_source: false,
                fail2ban_log: None,
            },
            // No windows: the port is open all the time, as before access windows existed;
            // the source allowlist already limits who may connect.
            access: AccessConfig::default(),
            // MFA required for everyone; reasons with `rampart_protocol::AuthOptions`.
            auth: AuthSettings {
                policy: rampart_protocol::AuthOptions::default(),
                mfa_issuer: "Rampart".to_owned(),
            },
            // A year of events, no forwarding: reasons with `rampart_protocol::AuditOptions`.
            audit: AuditConfig::default(),
            // On, loopback only: reasons with `rampart_protocol::MetricsOptions::default`.
            metrics: MetricsConfig {
                listen: rampart_protocol::MetricsOptions::default().listen,
                dangerous_allow_remote: false,
            },
        }
    }
}

impl Config {
    /// Loads `path`, or [`DEFAULT_CONFIG_PATH`] if `path` is `None` and that file exists, or
    /// the defaults. An explicit `path` that does not exist is an error.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let path = match path {
            Some(p) => p.to_owned(),
            None => {
                let default = PathBuf::from(DEFAULT_CONFIG_PATH);
                if !default.exists() {
                    return Ok(Self::default());
                }
                default
            }
        };
        let source = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        Self::parse(&source, &path)
    }

    /// Parses `source`; `path` is only used in error messages.
    pub fn parse(source: &str, path: &Path) -> anyhow::Result<Self> {
        let doc = Doc { source, path };
        let raw: RawConfig = toml::from_str(source).map_err(|err| doc.toml_error(&err))?;
        raw.into_config(&doc)
    }
}

/// Error-message context: the file and its text.
struct Doc<'a> {
    source: &'a str,
    path: &'a Path,
}

impl Doc<'_> {
    fn line_of(&self, offset: usize) -> usize {
        self.source
            .get(..offset)
            .map_or(1, |before| before.matches('\n').count() + 1)
    }

    /// The text of the line containing `offset`.
    fn line_text(&self, offset: usize) -> &str {
        let start = self
            .source
            .get(..offset)
            .and_then(|before| before.rfind('\n'))
            .map_or(0, |i| i + 1);
        let rest = self.source.get(start..).unwrap_or("");
        rest.split('\n').next().unwrap_or("")
    }

    /// The `[table]` header in force at `offset`, from the nearest header line above it.
    fn table_at(&self, offset: usize) -> Option<String> {
        let before = self.source.get(..offset)?;
        before.lines().rev().find_map(|line| {
            let line = line.trim();
            let inner = line.strip_prefix('[')?;
            let end = inner.find(']')?;
            inner.get(..end).map(|name| name.trim().trim_matches(['[', ']']).trim().to_owned())
        })
    }

    fn location(&self, offset: usize) -> String {
        format!("{}:{}", self.path.display(), self.line_of(offset))
    }

    fn where_key(&self, offset: usize, key: &str) -> String {
        match self.table_at(offset) {
            Some(table) => format!("\"{key}\" in [{table}]"),
            None => format!("\"{key}\""),
        }
    }

    /// Turns a TOML/serde error into `FILE:LINE: what, naming the key`.
    fn toml_error(&self, err: &toml::de::Error) -> anyhow::Error {
        let message = err.message().trim().trim_end_matches('.').replace('\n', ", ");
        let message = message.as_str();
        let Some(span) = err.span() else {
            return anyhow!("{}: {message}", self.path.display());
        };
        let location = self.location(span.start);
        if let Some(rest) = message.strip_prefix("unknown field `") {
            let key = rest.split('`').next().unwrap_or(rest);
            let line = self.line_text(span.start).trim();
            if let Some(header) = line.strip_prefix('[') {
                let header = header.trim_start_matches('[').split(']').next().unwrap_or(key).trim();
                return anyhow!("{location}: unknown table [{header}]");
            }
            return match self.table_at(span.start) {
                Some(table) => anyhow!("{location}: unknown key \"{key}\" in [{table}]"),
                None => anyhow!("{location}: unknown table or key \"{key}\""),
            };
        }
        // The span of a type error covers the value; the key is left of `=` on its line.
        let line = self.line_text(span.start);
        match line.split_once('=') {
            Some((key, _)) if !line.trim_start().starts_with('[') => {
                let key = key.trim().trim_matches('"');
                anyhow!("{location}: bad value for {}: {message}", self.where_key(span.start, key))
            }
            _ => anyhow!("{location}: {message}"),
        }
    }

    /// An error for a value that parsed as TOML but is not a valid setting.
    fn invalid(&self, table: &str, key: &str, span: Range<usize>, why: impl std::fmt::Display) -> anyhow::Error {
        anyhow!("{}: bad value for \"{key}\" in [{table}]: {why}", self.location(span.start))
    }
}

// Raw shapes: exactly what the file may contain.

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    tls: RawTls,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    session: RawSession,
    #[serde(default)]
    shadow: RawShadow,
    #[serde(default)]
    guard: RawGuard,
    #[serde(default)]
    access: RawAccess,
    #[serde(default)]
    auth: RawAuth,
    #[serde(default)]
    audit: RawAudit,
    #[serde(default)]
    display: RawDisplay,
    #[serde(default)]
    metrics: RawMetrics,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    listen: Option<Spanned<String>>,
    dangerous_allow_remote: Option<bool>,
}

impl RawMetrics {
    fn into_config(self, doc: &Doc<'_>, d: MetricsConfig) -> anyhow::Result<MetricsConfig> {
        let dangerous = self.dangerous_allow_remote.unwrap_or(d.dangerous_allow_remote);
        let listen = typed(doc, "metrics", "listen", self.listen, d.listen, |v| {
            if v.is_empty() {
                return Ok(None);
            }
            let addr = parse_listen(&v)?;
            if !addr.ip().is_loopback() && !dangerous {
                return Err(format!(
                    "{addr} is reachable from other hosts and the endpoint has no authentication; \
                     use a loopback address (127.0.0.1 or [::1]) and let a local agent forward, \
                     or set dangerous_allow_remote = true (and firewall the port)"
                ));
            }
            Ok(Some(addr))
        })?;
        Ok(MetricsConfig {
            listen,
            dangerous_allow_remote: dangerous,
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    keep_days: Option<Spanned<u32>>,
    syslog: Option<bool>,
    syslog_socket: Option<Spanned<String>>,
    syslog_format: Option<Spanned<String>>,
}

impl RawAudit {
    fn into_config(self, doc: &Doc<'_>, d: AuditConfig) -> anyhow::Result<AuditConfig> {
        let keep_days = typed(doc, "audit", "keep_days", self.keep_days, d.keep_days, |v| match v {
            0 => Ok(None),
            1..=MAX_KEEP_DAYS => Ok(Some(v)),
            _ => Err(format!("must be between 0 (keep forever) and {MAX_KEEP_DAYS} days")),
        })?;
        let socket = typed(
            doc,
            "audit",
            "syslog_socket",
            self.syslog_socket,
            PathBuf::from(DEFAULT_SYSLOG_SOCKET),
            |v| absolute_path(&v),
        )?;
        let format = typed(doc, "audit", "syslog_format", self.syslog_format, rampart_protocol::ForwardFormat::default(), |v| {
            match v.as_str() {
                "rfc5424" => Ok(rampart_protocol::ForwardFormat::Rfc5424),
                "journald" => Ok(rampart_protocol::ForwardFormat::Journald),
                other => Err(format!("{other:?} is not \"rfc5424\" or \"journald\"")),
            }
        })?;
        let forward = self
            .syslog
            .unwrap_or(false)
            .then_some(rampart_protocol::AuditForward { socket, format });
        Ok(AuditConfig { keep_days, forward })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDisplay {
    h264: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuth {
    mfa: Option<Spanned<String>>,
    mfa_issuer: Option<Spanned<String>>,
    mfa_prompt_timeout_secs: Option<Spanned<u64>>,
    mfa_max_attempts: Option<Spanned<u8>>,
    max_password_age_days: Option<Spanned<u64>>,
    #[serde(default)]
    users: HashMap<String, Spanned<RawAuthUser>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuthUser {
    mfa: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<Spanned<String>>,
    state_dir: Option<Spanned<String>>,
    /// Replaced by `worker_uid_base`: named in a clear error rather than "unknown key".
    worker_user: Option<Spanned<String>>,
    worker_uid_base: Option<Spanned<u32>>,
    insecure_no_privsep: Option<bool>,
    host_key: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    certificate: Option<Spanned<String>>,
    private_key: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    handshake_timeout_secs: Option<Spanned<u64>>,
    max_pending_per_ip: Option<Spanned<u32>>,
    max_pending_total: Option<Spanned<u32>>,
    max_connections_total: Option<Spanned<u32>>,
    max_connections_per_ip: Option<Spanned<u32>>,
    max_connection_rate_per_ip: Option<Spanned<u32>>,
    max_connection_rate_total: Option<Spanned<u32>>,
    max_preauth_bytes: Option<Spanned<u64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSession {
    default_command: Option<Spanned<String>>,
    use_xsession: Option<bool>,
    default_width: Option<Spanned<u16>>,
    default_height: Option<Spanned<u16>>,
    x_server: Option<Spanned<String>>,
    xorg: Option<Spanned<String>>,
    xvfb: Option<Spanned<String>>,
    runtime_dir: Option<Spanned<String>>,
    allow_root: Option<bool>,
    clipboard: Option<Spanned<String>>,
    clipboard_max_bytes: Option<Spanned<u64>>,
    idle_disconnect_secs: Option<Spanned<u64>>,
    disconnected_end_secs: Option<Spanned<u64>>,
    #[serde(default)]
    users: HashMap<String, Spanned<RawSessionUser>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSessionUser {
    clipboard: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShadow {
    display: Option<Spanned<String>>,
    view_only: Option<bool>,
    users: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGuard {
    max_failures: Option<Spanned<u32>>,
    failure_window_secs: Option<Spanned<u64>>,
    ban_secs: Option<Spanned<u64>>,
    max_ban_secs: Option<Spanned<u64>>,
    account_max_failures: Option<u32>,
    ipv6_ban_prefix: Option<Spanned<u8>>,
    allow: Option<Spanned<Vec<Spanned<String>>>>,
    deny: Option<Vec<Spanned<String>>>,
    dangerous_allow_any_source: Option<Spanned<bool>>,
    fail2ban_log: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccess {
    windows: Option<Spanned<Vec<Spanned<String>>>>,
    timezone: Option<Spanned<String>>,
    #[serde(default)]
    users: HashMap<String, Spanned<Vec<Spanned<String>>>>,
}

/// Validates one optional spanned value, keeping the default when absent.
fn typed<R, T>(
    doc: &Doc<'_>,
    table: &str,
    key: &str,
    raw: Option<Spanned<R>>,
    default: T,
    parse: impl FnOnce(R) -> Result<T, String>,
) -> anyhow::Result<T> {
    match raw {
        None => Ok(default),
        Some(spanned) => {
            let span = spanned.span();
            parse(spanned.into_inner()).map_err(|why| doc.invalid(table, key, span, why))
        }
    }
}

impl RawConfig {
    fn into_config(self, doc: &Doc<'_>) -> anyhow::Result<Config> {
        let d = Config::default();
        let s = self.server;
        let server = ServerConfig {
            listen: typed(doc, "server", "listen", s.listen, d.server.listen, |v| parse_listen(&v))?,
            state_dir: typed(doc, "server", "state_dir", s.state_dir, d.server.state_dir, |v| {
                absolute_path(&v)
            })?,
            worker_uid_base: match s.worker_user {
                Some(old) => {
                    return Err(doc.invalid(
                        "server",
                        "worker_user",
                        old.span(),
                        "workers no longer share one account: each connection runs as its own uid \
                         from [server] worker_uid_base (default 2000000000); remove worker_user",
                    ))
                }
                None => typed(doc, "server", "worker_uid_base", s.worker_uid_base, d.server.worker_uid_base, |v| {
                    if !(65_536..=u32::MAX - 65_536).contains(&v) {
                        Err("must be between 65536 and 4294901759: above every account and group, with room for one uid per connection".to_owned())
                    } else {
                        Ok(v)
                    }
                })?,
            },
            insecure_no_privsep: s.insecure_no_privsep.unwrap_or(d.server.insecure_no_privsep),
            host_key: typed(doc, "server", "host_key", s.host_key, None, optional_path)?,
        };

        let tls = self.tls;
        let cert_span = tls.certificate.as_ref().map(Spanned::span);
        let key_span = tls.private_key.as_ref().map(Spanned::span);
        let certificate = typed(doc, "tls", "certificate", tls.certificate, None, optional_path)?;
        let private_key = typed(doc, "tls", "private_key", tls.private_key, None, optional_path)?;
        match (&certificate, &private_key, cert_span, key_span) {
            (Some(_), None, Some(span), _) => {
                return Err(doc.invalid("tls", "certificate", span, "set \"private_key\" too, or neither"));
            }
            (None, Some(_), _, Some(span)) => {
                return Err(doc.invalid("tls", "private_key", span, "set \"certificate\" too, or neither"));
            }
            _ => {}
        }

        let l = self.limits;
        let limits = LimitsConfig {
            handshake_timeout: typed(
                doc,
                "limits",
                "handshake_timeout_secs",
                l.handshake_timeout_secs,
                d.limits.handshake_timeout,
                |v| {
                    if (1..=MAX_HANDSHAKE_TIMEOUT_SECS).contains(&v) {
                        Ok(Duration::from_secs(v))
                    } else {
                        Err(format!("must be between 1 and {MAX_HANDSHAKE_TIMEOUT_SECS} seconds"))
                    }
                },
            )?,
            max_pending_per_ip: typed(
                doc,
                "limits",
                "max_pending_per_ip",
                l.max_pending_per_ip,
                d.limits.max_pending_per_ip,
                at_least_one,
            )?,
            max_pending_total: typed(
                doc,
                "limits",
                "max_pending_total",
                l.max_pending_total,
                d.limits.max_pending_total,
                at_least_one,
            )?,
            max_connections_total: typed(
                doc,
                "limits",
                "max_connections_total",
                l.max_connections_total,
                d.limits.max_connections_total,
                at_least_one,
            )?,
            max_connections_per_ip: typed(
                doc,
                "limits",
                "max_connections_per_ip",
                l.max_connections_per_ip,
                d.limits.max_connections_per_ip,
                at_least_one,
            )?,
            max_connection_rate_per_ip: typed(
                doc,
                "limits",
                "max_connection_rate_per_ip",
                l.max_connection_rate_per_ip,
                d.limits.max_connection_rate_per_ip,
                Ok,
            )?,
            max_connection_rate_total: typed(
                doc,
                "limits",
                "max_connection_rate_total",
                l.max_connection_rate_total,
                d.limits.max_connection_rate_total,
                Ok,
            )?,
            max_preauth_bytes: typed(
                doc,
                "limits",
                "max_preauth_bytes",
                l.max_preauth_bytes,
                d.limits.max_preauth_bytes,
                |v| {
                    if v >= MIN_PREAUTH_BYTES {
                        Ok(v)
                    } else {
                        Err(format!(
                            "must be at least {MIN_PREAUTH_BYTES}: a client's NLA handshake would not fit"
                        ))
                    }
                },
            )?,
        };

        let se = self.session;
        let session = SessionConfig {
            default_command: typed(
                doc,
                "session",
                "default_command",
                se.default_command,
                d.session.default_command,
                |v| non_empty(v, "a command"),
            )?,
            use_xsession: se.use_xsession.unwrap_or(d.session.use_xsession),
            default_width: typed(
                doc,
                "session",
                "default_width",
                se.default_width,
                d.session.default_width,
                dimension,
            )?,
            default_height: typed(
                doc,
                "session",
                "default_height",
                se.default_height,
                d.session.default_height,
                dimension,
            )?,
            x_server: x_server(doc, se.x_server, se.xorg, se.xvfb)?,
            runtime_dir: typed(doc, "session", "runtime_dir", se.runtime_dir, d.session.runtime_dir, |v| {
                absolute_path(&v)
            })?,
            allow_root: se.allow_root.unwrap_or(d.session.allow_root),
            clipboard: clipboard_options(doc, se.clipboard, se.clipboard_max_bytes, se.users, d.session.clipboard)?,
            limits: rampart_policy::SessionLimits {
                idle: typed(doc, "session", "idle_disconnect_secs", se.idle_disconnect_secs, d.session.limits.idle, |v| {
                    seconds_or_off(v, &IDLE_DISCONNECT_SECS, "0 (never)")
                })?,
                disconnected: typed(
                    doc,
                    "session",
                    "disconnected_end_secs",
                    se.disconnected_end_secs,
                    d.session.limits.disconnected,
                    |v| seconds_or_off(v, &DISCONNECTED_END_SECS, "0 (kept until its programs exit)"),
                )?,
            },
        };

        let sh = self.shadow;
        let mut shadow_users: Vec<String> = Vec::new();
        for name in sh.users.unwrap_or_default() {
            let span = name.span();
            let lower = name.into_inner().trim().to_lowercase();
            if lower.is_empty() {
                return Err(doc.invalid("shadow", "users", span, "a user name must not be empty"));
            }
            if shadow_users.contains(&lower) {
                return Err(doc.invalid("shadow", "users", span, format!("{lower:?} is listed twice (names are case-insensitive)")));
            }
            shadow_users.push(lower);
        }
        let shadow = ShadowConfig {
            display: typed(doc, "shadow", "display", sh.display, d.shadow.display, |v| {
                if v.is_empty() {
                    Ok(None)
                } else {
                    parse_display(&v).map(Some)
                }
            })?,
            view_only: sh.view_only.unwrap_or(d.shadow.view_only),
            users: shadow_users,
        };

        let guard = self.guard.into_settings(doc, d.guard)?;
        let access = self.access.into_config(doc)?;
        let auth = self.auth.into_settings(doc, d.auth)?;
        let audit = self.audit.into_config(doc, d.audit)?;
        let display = DisplayConfig {
            h264: self.display.h264.unwrap_or(d.display.h264),
        };
        let metrics = self.metrics.into_config(doc, d.metrics)?;

        Ok(Config {
            server,
            tls: TlsConfig {
                certificate,
                private_key,
            },
            limits,
            session,
            shadow,
            guard,
            access,
            auth,
            audit,
            display,
            metrics,
        })
    }
}

/// A time limit in seconds: 0 turns it off, anything else must be within `range`.
fn seconds_or_off(v: u64, range: &std::ops::RangeInclusive<u64>, off: &str) -> Result<Option<Duration>, String> {
    match v {
        0 => Ok(None),
        v if range.contains(&v) => Ok(Some(Duration::from_secs(v))),
        _ => Err(format!("must be {off} or between {} and {} seconds", range.start(), range.end())),
    }
}

/// `"required"` or `"optional"`.
pub fn parse_mfa_mode(v: &str) -> Result<rampart_protocol::MfaMode, String> {
    match v {
        "required" => Ok(rampart_protocol::MfaMode::Required),
        "optional" => Ok(rampart_protocol::MfaMode::Optional),
        other => Err(format!("{other:?} is not \"required\" or \"optional\"")),
    }
}

impl RawAuth {
    fn into_settings(self, doc: &Doc<'_>, d: AuthSettings) -> anyhow::Result<AuthSettings> {
        let dp = d.policy;
        let mfa = typed(doc, "auth", "mfa", self.mfa, dp.mfa, |v| parse_mfa_mode(&v))?;
        let mfa_issuer = typed(doc, "auth", "mfa_issuer", self.mfa_issuer, d.mfa_issuer, |v| {
            if v.is_empty() || v.len() > 64 || v.chars().any(|c| c.is_control() || c == ':') {
                Err("must be 1 to 64 characters without ':' or control characters".to_owned())
            } else {
                Ok(v)
            }
        })?;
        let mfa_prompt_timeout = typed(
            doc,
            "auth",
            "mfa_prompt_timeout_secs",
            self.mfa_prompt_timeout_secs,
            dp.mfa_prompt_timeout,
            |v| {
                if MFA_PROMPT_SECS.contains(&v) {
                    Ok(Duration::from_secs(v))
                } else {
                    Err(format!("must be between {} and {} seconds", MFA_PROMPT_SECS.start(), MFA_PROMPT_SECS.end()))
                }
            },
        )?;
        let mfa_max_attempts = typed(doc, "auth", "mfa_max_attempts", self.mfa_max_attempts, dp.mfa_max_attempts, |v| {
            if MFA_ATTEMPTS.contains(&v) {
                Ok(v)
            } else {
                Err(format!("must be between {} and {}", MFA_ATTEMPTS.start(), MFA_ATTEMPTS.end()))
            }
        })?;
        let max_password_age = typed(
            doc,
            "auth",
            "max_password_age_days",
            self.max_password_age_days,
            dp.max_password_age,
            |v| match v {
                0 => Ok(None),
                1..=MAX_PASSWORD_AGE_DAYS => Ok(Some(Duration::from_secs(v * 24 * 60 * 60))),
                _ => Err(format!("must be between 0 (never) and {MAX_PASSWORD_AGE_DAYS} days")),
            },
        )?;
        let mut user_mfa = HashMap::new();
        let mut seen = HashSet::new();
        for (name, user) in in_file_order(self.users) {
            let key = user_key(doc, "auth.users", &mut seen, &name, user.span())?;
            let table = format!("auth.users.{name}");
            if let Some(mode) = user.into_inner().mfa {
                let mode = typed(doc, &table, "mfa", Some(mode), mfa, |v| parse_mfa_mode(&v))?;
                user_mfa.insert(key, mode);
            }
        }
        Ok(AuthSettings {
            policy: rampart_protocol::AuthOptions {
                mfa,
                user_mfa,
                mfa_prompt_timeout,
                mfa_max_attempts,
                max_password_age,
            },
            mfa_issuer,
        })
    }
}

/// `"both"`, `"to-client"`, `"to-server"` or `"off"`.
pub fn parse_clipboard_policy(v: &str) -> Result<rampart_protocol::ClipboardPolicy, String> {
    rampart_protocol::ClipboardPolicy::parse(v)
        .ok_or_else(|| format!("{v:?} is not \"both\", \"to-client\", \"to-server\" or \"off\""))
}

/// `[session] clipboard`, `clipboard_max_bytes` and the `[session.users.NAME]` tables.
fn clipboard_options(
    doc: &Doc<'_>,
    policy: Option<Spanned<String>>,
    max_bytes: Option<Spanned<u64>>,
    users: HashMap<String, Spanned<RawSessionUser>>,
    d: rampart_protocol::ClipboardOptions,
) -> anyhow::Result<rampart_protocol::ClipboardOptions> {
    let policy = typed(doc, "session", "clipboard", policy, d.policy, |v| parse_clipboard_policy(&v))?;
    let max = u64::try_from(rampart_protocol::clipboard::MAX_MAX_BYTES).unwrap_or(u64::MAX);
    let max_bytes = typed(doc, "session", "clipboard_max_bytes", max_bytes, d.max_bytes, |v| {
        if (MIN_CLIPBOARD_BYTES..=max).contains(&v) {
            usize::try_from(v).map_err(|_| "too large for this machine".to_owned())
        } else {
            Err(format!("must be between {MIN_CLIPBOARD_BYTES} and {max} bytes"))
        }
    })?;
    let mut by_user = HashMap::new();
    let mut seen = HashSet::new();
    for (name, user) in in_file_order(users) {
        let key = user_key(doc, "session.users", &mut seen, &name, user.span())?;
        let table = format!("session.users.{name}");
        if let Some(raw) = user.into_inner().clipboard {
            let p = typed(doc, &table, "clipboard", Some(raw), policy, |v| parse_clipboard_policy(&v))?;
            by_user.insert(key, p);
        }
    }
    Ok(rampart_protocol::ClipboardOptions {
        policy,
        users: by_user,
        max_bytes,
    })
}

/// A per-user table's entries in file order, so the first offending entry is the one reported.
fn in_file_order<T>(users: HashMap<String, Spanned<T>>) -> Vec<(String, Spanned<T>)> {
    let mut users: Vec<_> = users.into_iter().collect();
    users.sort_by_key(|(_, entry)| entry.span().start);
    users
}

/// The lowercased key of a per-user entry; a second entry for the same user (names are
/// case-insensitive) is an error.
fn user_key(
    doc: &Doc<'_>,
    table: &str,
    seen: &mut HashSet<String>,
    name: &str,
    span: Range<usize>,
) -> anyhow::Result<String> {
    let key = name.to_ascii_lowercase();
    if !seen.insert(key.clone()) {
        return Err(doc.invalid(
            table,
            name,
            span,
            "a second entry for the same user (user names are case-insensitive)",
        ));
    }
    Ok(key)
}

impl RawAccess {
    fn into_config(self, doc: &Doc<'_>) -> anyhow::Result<AccessConfig> {
        let zone = typed(doc, "access", "timezone", self.timezone, AccessZone::utc(), |v| {
            v.parse::<AccessZone>().map_err(|err| err.to_string())
        })?;
        let windows = |table: &str, key: &str, items: Vec<Spanned<String>>| -> anyhow::Result<Vec<AccessWindow>> {
            items
                .into_iter()
                .map(|item| {
                    let span = item.span();
                    item.get_ref()
                        .parse::<AccessWindow>()
                        .map_err(|why| doc.invalid(table, key, span, why))
                })
                .collect()
        };
        let schedule = |table: &str, key: &str, list: Spanned<Vec<Spanned<String>>>| -> anyhow::Result<AccessSchedule> {
            let span = list.span();
            let parsed = windows(table, key, list.into_inner())?;
            AccessSchedule::new(parsed, zone.clone()).map_err(|why| doc.invalid(table, key, span, why))
        };
        let global = match self.windows {
            // No windows: always open.
            None => None,
            Some(list) if list.get_ref().is_empty() => None,
            Some(list) => Some(schedule("access", "windows", list)?),
        };
        let mut by_name = HashMap::new();
        let mut seen = HashSet::new();
        for (name, list) in in_file_order(self.users) {
            let span = list.span();
            if list.get_ref().is_empty() {
                return Err(doc.invalid(
                    "access.users",
                    &name,
                    span,
                    "an empty list; remove the entry to give the user no windows of their own",
                ));
            }
            let key = user_key(doc, "access.users", &mut seen, &name, span)?;
            let parsed = schedule("access.users", &name, list)?;
            by_name.insert(key, parsed);
        }
        Ok(AccessConfig {
            schedule: global,
            users: by_name,
        })
    }
}

impl RawGuard {
    fn into_settings(self, doc: &Doc<'_>, d: GuardSettings) -> anyhow::Result<GuardSettings> {
        let dp = d.policy;
        let secs = |key: &str, raw: Option<Spanned<u64>>, default: Duration| {
            typed(doc, "guard", key, raw, default, |v| {
                if (1..=MAX_GUARD_SECS).contains(&v) {
                    Ok(Duration::from_secs(v))
                } else {
                    Err(format!("must be between 1 and {MAX_GUARD_SECS} seconds"))
                }
            })
        };
        let failures = typed(doc, "guard", "max_failures", self.max_failures, dp.failures, at_least_one)?;
        let window = secs("failure_window_secs", self.failure_window_secs, dp.window)?;
        let ban_span = self.ban_secs.as_ref().map(Spanned::span);
        let ban = secs("ban_secs", self.ban_secs, dp.ban)?;
        let max_ban_span = self.max_ban_secs.as_ref().map(Spanned::span);
        let max_ban = secs("max_ban_secs", self.max_ban_secs, dp.max_ban)?;
        if max_ban < ban {
            // Blame the key the file set (a default cannot be wrong).
            return Err(match (max_ban_span, ban_span) {
                (Some(span), _) => doc.invalid("guard", "max_ban_secs", span, "must be at least ban_secs"),
                (None, Some(span)) => doc.invalid(
                    "guard",
                    "ban_secs",
                    span,
                    format!("must be at most max_ban_secs ({})", max_ban.as_secs()),
                ),
                (None, None) => anyhow!("{}: ban_secs exceeds max_ban_secs", doc.path.display()),
            });
        }
        let ipv6_prefix = typed(doc, "guard", "ipv6_ban_prefix", self.ipv6_ban_prefix, dp.ipv6_prefix, |v| {
            if (MIN_IPV6_BAN_PREFIX..=128).contains(&v) {
                Ok(v)
            } else {
                Err(format!("must be between {MIN_IPV6_BAN_PREFIX} and 128"))
            }
        })?;

        let nets = |key: &str, items: Vec<Spanned<String>>| -> anyhow::Result<Vec<IpNet>> {
            items
                .into_iter()
                .map(|item| {
                    let span = item.span();
                    parse_net(item.get_ref()).map_err(|why| doc.invalid("guard", key, span, why))
                })
                .collect()
        };
        let deny = match self.deny {
            Some(items) => nets("deny", items)?,
            None => dp.deny,
        };
        let dangerous = self.dangerous_allow_any_source.as_ref().is_some_and(|b| *b.get_ref());
        let allow = match self.allow {
            None if dangerous => vec![IpNet::ANY_V4, IpNet::ANY_V6],
            None => dp.allow,
            Some(list) => {
                let span = list.span();
                let items = list.into_inner();
                match (items.is_empty(), dangerous) {
                    (true, true) => vec![IpNet::ANY_V4, IpNet::ANY_V6],
                    (true, false) => {
                        return Err(doc.invalid(
                            "guard",
                            "allow",
                            span,
                            "an empty allowlist would refuse every source; list the networks \
                             clients connect from, or set dangerous_allow_any_source = true to \
                             let any address try to log in",
                        ));
                    }
                    (false, true) => {
                        return Err(doc.invalid(
                            "guard",
                            "allow",
                            span,
                            "dangerous_allow_any_source = true admits every source, so the \
                             allowlist would be ignored; set allow = [] or drop \
                             dangerous_allow_any_source",
                        ));
                    }
                    (false, false) => nets("allow", items)?,
                }
            }
        };
        let fail2ban_log = typed(doc, "guard", "fail2ban_log", self.fail2ban_log, d.fail2ban_log, optional_path)?;

        Ok(GuardSettings {
            policy: GuardConfig {
                failures,
                window,
                ban,
                max_ban,
                account_failures: self.account_max_failures.unwrap_or(dp.account_failures),
                ipv6_prefix,
                allow,
                deny,
                ..dp
            },
            dangerous_allow_any_source: dangerous,
            fail2ban_log,
        })
    }
}

/// A network (`"10.0.0.0/8"`) or a single address, as the guard's lists and bans take it.
pub fn parse_net(v: &str) -> Result<IpNet, String> {
    v.parse::<IpNet>().map_err(|err| match err {
        IpNetError::BadAddress(_) => err.to_string(),
        _ => format!("{v:?}: {err}"),
    })
}

pub fn parse_listen(v: &str) -> Result<SocketAddr, String> {
    v.parse::<SocketAddr>()
        .map_err(|_| format!("{v:?} is not an address and port such as \"0.0.0.0:3389\" or \"[::]:3389\""))
}

/// `[session] x_server = "xorg" | "xvfb"` and the path of the chosen program (`xorg`,
/// `xvfb`); a path given for the server not chosen is refused rather than ignored.
fn x_server(
    doc: &Doc<'_>,
    kind: Option<Spanned<String>>,
    xorg: Option<Spanned<String>>,
    xvfb: Option<Spanned<String>>,
) -> anyhow::Result<rampart_protocol::XServer> {
    use rampart_protocol::XServer;
    let program = |v: String| non_empty(v, "a program name or path").map(PathBuf::from);
    let kind_span = kind.as_ref().map(|k| k.span());
    let kind = typed(doc, "session", "x_server", kind, "xorg".to_owned(), |v| match v.as_str() {
        "xorg" | "xvfb" => Ok(v),
        _ => Err("must be \"xorg\" (the default: Xorg with the dummy driver, resizable) or \"xvfb\"".to_owned()),
    })?;
    let unused = |key: &str, raw: &Option<Spanned<String>>| -> anyhow::Result<()> {
        match raw {
            Some(v) => Err(doc.invalid(
                "session",
                key,
                v.span(),
                format!("is set but x_server is {kind:?}{}", if kind_span.is_none() { " (the default)" } else { "" }),
            )),
            None => Ok(()),
        }
    };
    if kind == "xvfb" {
        unused("xorg", &xorg)?;
        let xvfb = typed(doc, "session", "xvfb", xvfb, PathBuf::from("Xvfb"), program)?;
        Ok(XServer::Xvfb { xvfb })
    } else {
        unused("xvfb", &xvfb)?;
        let default = match XServer::default() {
            XServer::XorgDummy { xorg } => xorg,
            XServer::Xvfb { xvfb } => xvfb,
        };
        let xorg = typed(doc, "session", "xorg", xorg, default, program)?;
        Ok(XServer::XorgDummy { xorg })
    }
}

fn absolute_path(v: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(v);
    if path.is_absolute() {
        Ok(path)
    } else {
        Err(format!("{v:?} is not an absolute path"))
    }
}

fn optional_path(v: String) -> Result<Option<PathBuf>, String> {
    if v.is_empty() {
        Ok(None)
    } else {
        absolute_path(&v).map(Some)
    }
}

fn at_least_one(v: u32) -> Result<u32, String> {
    if v >= 1 {
        Ok(v)
    } else {
        Err("must be at least 1".to_owned())
    }
}

fn dimension(v: u16) -> Result<u16, String> {
    if (MIN_DIMENSION..=MAX_DIMENSION).contains(&v) {
        Ok(v)
    } else {
        Err(format!("must be between {MIN_DIMENSION} and {MAX_DIMENSION} pixels"))
    }
}

fn non_empty(v: String, what: &str) -> Result<String, String> {
    if v.trim().is_empty() {
        Err(format!("must be {what}, not empty"))
    } else {
        Ok(v)
    }
}

/// An X display name: `:N`, `:N.S` or `host:N[.S]`.
pub fn parse_display(v: &str) -> Result<String, String> {
    let bad = || format!("{v:?} is not an X display such as \":0\"");
    let (_host, number) = v.rsplit_once(':').ok_or_else(bad)?;
    let (display, screen) = number.split_once('.').unwrap_or((number, "0"));
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    if digits(display) && digits(screen) {
        Ok(v.to_owned())
    } else {
        Err(bad())
    }
}

/// Precedence for the state directory: `--state-dir`, then the config file, then the
/// default.
/// The host key file: `[server] host_key`, or `host.key` in `state_dir`.
pub fn host_key_path(cfg: &Config, state_dir: &Path) -> PathBuf {
    cfg.server.host_key.clone().unwrap_or_else(|| state_dir.join("host.key"))
}

pub fn state_dir(cfg: &Config, flag: Option<&Path>) -> PathBuf {
    flag.map_or_else(|| cfg.server.state_dir.clone(), Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> anyhow::Result<Config> {
        Config::parse(src, Path::new("/etc/rampart/rampart.toml"))
    }

    fn err(src: &str) -> String {
        format!("{:#}", parse(src).unwrap_err())
    }

    #[test]
    fn empty_file_gives_defaults() {
        assert_eq!(parse("").unwrap(), Config::default());
        assert_eq!(parse("[server]\n[limits]\n").unwrap(), Config::default());
    }

    #[test]
    fn defaults() {
        let d = Config::default();
        assert_eq!(d.server.listen, "0.0.0.0:3389".parse().unwrap());
        assert_eq!(d.server.state_dir, PathBuf::from("/var/lib/rampart"));
        assert_eq!(d.server.worker_uid_base, 2_000_000_000);
        assert!(!d.server.insecure_no_privsep);
        assert_eq!(d.tls, TlsConfig::default());
        assert_eq!(d.limits.handshake_timeout, Duration::from_secs(10));
        assert_eq!(d.limits.max_pending_per_ip, 5);
        assert_eq!(d.limits.max_pending_total, 64);
        assert_eq!(d.limits.max_connections_total, 256);
        assert_eq!(d.limits.max_preauth_bytes, 65536);
        assert!(d.session.use_xsession);
        assert_eq!((d.session.default_width, d.session.default_height), (1024, 768));
        assert_eq!(d.shadow.display, None);
        assert!(d.shadow.view_only);
        assert!(!d.session.allow_root, "root desktops are refused unless asked for");
        assert!(d.shadow.users.is_empty(), "only the display's owner shadows by default");
    }

    #[test]
    fn allow_root_and_shadow_users() {
        let cfg = parse("[session]\nallow_root = true\n[shadow]\nusers = [\"Alice\", \"bob\"]\n").unwrap();
        assert!(cfg.session.allow_root);
        assert_eq!(cfg.shadow.users, ["alice", "bob"]);
        let msg = err("[shadow]\nusers = [\n  \"alice\",\n  \"ALICE\",\n]\n");
        assert!(msg.starts_with("/etc/rampart/rampart.toml:4: bad value for \"users\" in [shadow]: "), "{msg}");
        assert!(msg.contains("twice"), "{msg}");
        let msg = err("[shadow]\n\nusers = [\"\"]\n");
        assert!(msg.starts_with("/etc/rampart/rampart.toml:3: bad value for \"users\" in [shadow]: "), "{msg}");
        let msg = err("[session]\nallow_root = \"yes\"\n");
        assert!(msg.starts_with("/etc/rampart/rampart.toml:2: bad value for \"allow_root\" in [session]"), "{msg}");
    }

    #[test]
    fn defaults_match_the_protocol_layer() {
        let limits = rampart_protocol::Limits::default();
        let d = Config::default();
        assert_eq!(d.limits.handshake_timeout, limits.handshake_timeout);
        assert_eq!(d.limits.max_pending_per_ip, limits.max_pending_per_ip);
        assert_eq!(d.limits.max_pending_total, limits.max_pending_total);
        assert_eq!(d.limits.max_connections_total, limits.max_connections_total);
        assert_eq!(d.limits.max_connections_per_ip, limits.max_connections_per_ip);
        assert_eq!(d.limits.max_connection_rate_per_ip, limits.max_connection_rate_per_ip);
        assert_eq!(d.limits.max_connection_rate_total, limits.max_connection_rate_total);
        assert_eq!(d.limits.max_preauth_bytes, limits.max_preauth_bytes);
        let session = rampart_protocol::SessionOptions::default();
        assert_eq!(d.session.default_command, session.default_command);
        assert_eq!(d.session.use_xsession, session.use_xsession);
        assert_eq!(d.session.default_width, session.default_width);
        assert_eq!(d.session.default_height, session.default_height);
        assert_eq!(d.session.x_server, session.x_server);
    }

    #[test]
    fn values_are_read() {
        let cfg = parse(
            r#"
[server]
listen = "[::1]:13389"
state_dir = "/srv/rampart"
worker_uid_base = 3000000000
[tls]
certificate = "/etc/rampart/cert.pem"
private_key = "/etc/rampart/key.pem"
[limits]
handshake_timeout_secs = 20
max_pending_per_ip = 2
max_pending_total = 10
max_connections_total = 20
max_preauth_bytes = 32768
[session]
default_command = "startxfce4"
use_xsession = false
default_width = 1920
default_height = 1080
x_server = "xvfb"
xvfb = "/usr/bin/Xvfb"
[shadow]
display = ":0"
view_only = false
"#,
        )
        .unwrap();
        assert_eq!(cfg.server.listen, "[::1]:13389".parse().unwrap());
        assert_eq!(cfg.server.state_dir, PathBuf::from("/srv/rampart"));
        assert_eq!(cfg.server.worker_uid_base, 3_000_000_000);
        assert_eq!(cfg.tls.certificate, Some(PathBuf::from("/etc/rampart/cert.pem")));
        assert_eq!(cfg.tls.private_key, Some(PathBuf::from("/etc/rampart/key.pem")));
        assert_eq!(cfg.limits.handshake_timeout, Duration::from_secs(20));
        assert_eq!(cfg.limits.max_pending_per_ip, 2);
        assert_eq!(cfg.limits.max_pending_total, 10);
        assert_eq!(cfg.limits.max_connections_total, 20);
        assert_eq!(cfg.limits.max_preauth_bytes, 32768);
        assert_eq!(cfg.session.default_command, "startxfce4");
        assert!(!cfg.session.use_xsession);
        assert_eq!((cfg.session.default_width, cfg.session.default_height), (1920, 1080));
        assert_eq!(
            cfg.session.x_server,
            rampart_protocol::XServer::Xvfb {
                xvfb: PathBuf::from("/usr/bin/Xvfb")
            }
        );
        assert_eq!(cfg.shadow.display.as_deref(), Some(":0"));
        assert!(!cfg.shadow.view_only);
    }

    #[test]
    fn x_server_choice_and_its_errors() {
        let xorg = parse("[session]\nxorg = \"/opt/xorg/bin/Xorg\"\n").unwrap();
        assert_eq!(
            xorg.session.x_server,
            rampart_protocol::XServer::XorgDummy {
                xorg: PathBuf::from("/opt/xorg/bin/Xorg")
            }
        );
        assert_eq!(
            err("[session]\nx_server = \"weston\"\n"),
            "/etc/rampart/rampart.toml:2: bad value for \"x_server\" in [session]: must be \"xorg\" (the default: Xorg with the dummy driver, resizable) or \"xvfb\""
        );
        let e = err("[session]\n\nxvfb = \"/usr/bin/Xvfb\"\n");
        assert!(e.starts_with("/etc/rampart/rampart.toml:3:") && e.contains("xvfb") && e.contains("(the default)"), "{e}");
        let e = err("[session]\nx_server = \"xvfb\"\nxorg = \"/usr/lib/xorg/Xorg\"\n");
        assert!(e.starts_with("/etc/rampart/rampart.toml:3:") && e.contains("\"xvfb\""), "{e}");
    }

    #[test]
    fn audit_keys() {
        let d = Config::default().audit;
        assert_eq!(d.keep_days, Some(365));
        assert_eq!(d.forward, None);
        let cfg = parse("[audit]\nkeep_days = 30\nsyslog = true\n").unwrap();
        assert_eq!(cfg.audit.keep_days, Some(30));
        let fwd = cfg.audit.forward.unwrap();
        assert_eq!(fwd.socket, PathBuf::from("/dev/log"));
        assert_eq!(fwd.format, rampart_protocol::ForwardFormat::Rfc5424);
        let cfg = parse("[audit]\nkeep_days = 0\nsyslog = true\nsyslog_socket = \"/run/systemd/journal/socket\"\nsyslog_format = \"journald\"\n").unwrap();
        assert_eq!(cfg.audit.keep_days, None);
        assert_eq!(cfg.audit.forward.unwrap().format, rampart_protocol::ForwardFormat::Journald);
        // syslog off: the socket keys are checked but nothing is forwarded.
        assert_eq!(parse("[audit]\nsyslog_socket = \"/dev/log\"\n").unwrap().audit.forward, None);
        assert_eq!(
            err("[audit]\n\nkeep_days = 99999\n"),
            "/etc/rampart/rampart.toml:3: bad value for \"keep_days\" in [audit]: must be between 0 (keep forever) and 36500 days"
        );
        assert_eq!(
            err("[audit]\nsyslog_format = \"cef\"\n"),
            "/etc/rampart/rampart.toml:2: bad value for \"syslog_format\" in [audit]: \"cef\" is not \"rfc5424\" or \"journald\""
        );
        assert!(err("[audit]\nsyslog_socket = \"dev/log\"\n").starts_with("/etc/rampart/rampart.toml:2: bad value for \"syslog_socket\" in [audit]"));
        assert_eq!(err("[audit]\nkeep = 3\n"), "/etc/rampart/rampart.toml:2: unknown key \"keep\" in [audit]");
    }

    #[test]
    fn h264_is_on_unless_turned_off() {
        assert!(parse("").unwrap().display.h264);
        assert!(!parse("[display]\nh264 = false\n").unwrap().display.h264);
        assert_eq!(
            err("[display]\nh264 = \"no\"\n"),
            "/etc/rampart/rampart.toml:2: bad value for \"h264\" in [display]: invalid type: string \"no\", expected a boolean"
        );
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let src = "# comment\n[server]\nlisten = \"0.0.0.0:3389\"\n\n\n\nlistne = \"x\"\n";
        assert_eq!(err(src), "/etc/rampart/rampart.toml:7: unknown key \"listne\" in [server]");
    }

    #[test]
    fn unknown_table_names_line() {
        let src = "[server]\n\n[sever]\nlisten = \"0.0.0.0:1\"\n";
        assert_eq!(err(src), "/etc/rampart/rampart.toml:3: unknown table [sever]");
    }

    #[test]
    fn bad_type_names_line_and_key() {
        let msg = err("[server]\nlisten = 5\n");
        assert!(msg.starts_with("/etc/rampart/rampart.toml:2: bad value for \"listen\" in [server]: "), "{msg}");
        assert!(msg.contains("string"), "{msg}");
        let msg = err("[limits]\nmax_pending_per_ip = -1\n");
        assert!(
            msg.starts_with("/etc/rampart/rampart.toml:2: bad value for \"max_pending_per_ip\" in [limits]"),
            "{msg}"
        );
    }

    #[test]
    fn invalid_values_name_line_and_key() {
        assert_eq!(
            err("[server]\n\nlisten = \"localhost\"\n"),
            "/etc/rampart/rampart.toml:3: bad value for \"listen\" in [server]: \"localhost\" is not an address \
             and port such as \"0.0.0.0:3389\" or \"[::]:3389\""
        );
        let msg = err("[server]\nstate_dir = \"relative/dir\"\n");
        assert!(msg.contains(":2: bad value for \"state_dir\" in [server]: "), "{msg}");
        let msg = err("[limits]\nhandshake_timeout_secs = 0\n");
        assert!(msg.contains(":2: bad value for \"handshake_timeout_secs\""), "{msg}");
        let msg = err("[limits]\nmax_preauth_bytes = 100\n");
        assert!(msg.contains("must be at least 16384"), "{msg}");
        let msg = err("[session]\ndefault_width = 10\n");
        assert!(msg.contains(":2: bad value for \"default_width\" in [session]"), "{msg}");
        let msg = err("[shadow]\ndisplay = \"zero\"\n");
        assert!(msg.contains(":2: bad value for \"display\" in [shadow]"), "{msg}");
        // Removed key: the NTLM challenge already carries empty names (see docs/config.md).
        let msg = err("[server]\nntlm_target_name = \"GATE\"\n");
        assert!(msg.contains("unknown key \"ntlm_target_name\""), "{msg}");
    }

    #[test]
    fn tls_needs_both_files_or_neither() {
        let msg = err("[tls]\ncertificate = \"/etc/rampart/cert.pem\"\n");
        assert!(msg.contains(":2: bad value for \"certificate\" in [tls]"), "{msg}");
        let cfg = parse("[tls]\ncertificate = \"\"\nprivate_key = \"\"\n").unwrap();
        assert_eq!(cfg.tls, TlsConfig::default());
    }

    #[test]
    fn syntax_error_names_line() {
        let msg = err("[server]\nlisten = \n");
        assert!(msg.starts_with("/etc/rampart/rampart.toml:2"), "{msg}");
    }

    #[test]
    fn displays() {
        assert!(parse_display(":0").is_ok());
        assert!(parse_display(":10.1").is_ok());
        assert!(parse_display("host:1").is_ok());
        assert!(parse_display("0").is_err());
        assert!(parse_display(":").is_err());
        assert!(parse_display(":a").is_err());
    }

    #[test]
    fn load_missing_explicit_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.toml");
        let msg = format!("{:#}", Config::load(Some(&missing)).unwrap_err());
        assert!(msg.contains("nope.toml"), "{msg}");
    }

    #[test]
    fn auth_defaults_and_values() {
        use rampart_protocol::MfaMode;
        let d = Config::default().auth;
        assert_eq!(d.policy.mfa, MfaMode::Required);
        assert_eq!(d.policy.mfa_prompt_timeout, Duration::from_secs(60));
        assert_eq!(d.policy.mfa_max_attempts, 3);
        assert_eq!(d.policy.max_password_age, None);
        assert_eq!(d.mfa_issuer, "Rampart");
        assert_eq!(Config::default().server.host_key, None);
        let cfg = parse(
            "[server]\nhost_key = \"/etc/rampart/host.key\"\n\n[auth]\nmfa = \"optional\"\nmfa_issuer = \"ACME RDP\"\n\
             mfa_prompt_timeout_secs = 30\nmfa_max_attempts = 5\nmax_password_age_days = 90\n\n\
             [auth.users.Alice]\nmfa = \"required\"\n\n[auth.users.bob]\n",
        )
        .unwrap();
        assert_eq!(cfg.server.host_key, Some(PathBuf::from("/etc/rampart/host.key")));
        assert_eq!(host_key_path(&cfg, Path::new("/var/lib/rampart")), PathBuf::from("/etc/rampart/host.key"));
        assert_eq!(
            host_key_path(&Config::default(), Path::new("/var/lib/rampart")),
            PathBuf::from("/var/lib/rampart/host.key")
        );
        let a = cfg.auth;
        assert_eq!(a.policy.mfa, MfaMode::Optional);
        assert_eq!(a.policy.mfa_for("alice"), MfaMode::Required);
        assert_eq!(a.policy.mfa_for("bob"), MfaMode::Optional);
        assert_eq!(a.policy.mfa_prompt_timeout, Duration::from_secs(30));
        assert_eq!(a.policy.mfa_max_attempts, 5);
        assert_eq!(a.policy.max_password_age, Some(Duration::from_secs(90 * 24 * 60 * 60)));
        assert_eq!(a.mfa_issuer, "ACME RDP");
        assert_eq!(parse("[auth]\nmax_password_age_days = 0\n").unwrap().auth.policy.max_password_age, None);
    }

    #[test]
    fn bad_auth_values_name_file_line_and_key() {
        let msg = err("[auth]\n\nmfa = \"sometimes\"\n");
        assert!(msg.contains(":3: bad value for \"mfa\" in [auth]: \"sometimes\" is not \"required\" or \"optional\""), "{msg}");
        let msg = err("[auth]\nmfa_prompt_timeout_secs = 5\n");
        assert!(msg.contains(":2: bad value for \"mfa_prompt_timeout_secs\" in [auth]: must be between 10 and 600"), "{msg}");
        let msg = err("[auth]\nmfa_max_attempts = 0\n");
        assert!(msg.contains(":2: bad value for \"mfa_max_attempts\" in [auth]"), "{msg}");
        let msg = err("[auth]\nmax_password_age_days = 5000\n");
        assert!(msg.contains(":2: bad value for \"max_password_age_days\" in [auth]"), "{msg}");
        let msg = err("[auth]\nmfa_issuer = \"a:b\"\n");
        assert!(msg.contains(":2: bad value for \"mfa_issuer\" in [auth]"), "{msg}");
        let msg = err("[auth.users.alice]\nmfa = \"off\"\n");
        assert!(msg.contains(":2: bad value for \"mfa\" in [auth.users.alice]"), "{msg}");
        let msg = err("[auth.users.alice]\ntotp = true\n");
        assert!(msg.contains("unknown") && msg.contains("totp"), "{msg}");
        let msg = err("[auth]\nmfa = \"optional\"\nmfa_required = true\n");
        assert!(msg.contains(":3: unknown key \"mfa_required\" in [auth]"), "{msg}");
        let msg = err("[auth.users.alice]\nmfa = \"optional\"\n[auth.users.ALICE]\nmfa = \"optional\"\n");
        assert!(msg.contains("a second entry"), "{msg}");
    }

    #[test]
    fn clipboard_defaults_and_values() {
        use rampart_protocol::ClipboardPolicy;
        let d = Config::default().session.clipboard;
        assert_eq!(d.policy, ClipboardPolicy::Both);
        assert_eq!(d.max_bytes, 1024 * 1024);
        assert!(d.users.is_empty());
        let cfg = parse(
            "[session]\nclipboard = \"off\"\nclipboard_max_bytes = 4096\n\n\
             [session.users.Alice]\nclipboard = \"to-client\"\n\n[session.users.bob]\nclipboard = \"both\"\n\n\
             [session.users.carol]\n",
        )
        .unwrap();
        let c = cfg.session.clipboard;
        assert_eq!(c.policy, ClipboardPolicy::Off);
        assert_eq!(c.max_bytes, 4096);
        assert_eq!(c.policy_for("alice"), ClipboardPolicy::ToClient);
        assert_eq!(c.policy_for("BOB"), ClipboardPolicy::Both);
        assert_eq!(c.policy_for("carol"), ClipboardPolicy::Off, "an empty table keeps the server's policy");
        assert!(c.ever_on());
        let cfg = parse("[session]\nclipboard = \"to-server\"\n").unwrap();
        assert_eq!(cfg.session.clipboard.policy_for("anyone"), ClipboardPolicy::ToServer);
    }

    #[test]
    fn bad_clipboard_values_name_file_line_and_key() {
        let msg = err("[session]\n\nclipboard = \"in\"\n");
        assert!(
            msg.contains(":3: bad value for \"clipboard\" in [session]: \"in\" is not \"both\", \"to-client\", \"to-server\" or \"off\""),
            "{msg}"
        );
        let msg = err("[session]\nclipboard_max_bytes = 10\n");
        assert!(msg.contains(":2: bad value for \"clipboard_max_bytes\" in [session]: must be between 1024 and 16777216 bytes"), "{msg}");
        let msg = err("[session]\nclipboard_max_bytes = 16777217\n");
        assert!(msg.contains(":2: bad value for \"clipboard_max_bytes\""), "{msg}");
        let msg = err("[session.users.alice]\nclipboard = \"yes\"\n");
        assert!(msg.contains(":2: bad value for \"clipboard\" in [session.users.alice]"), "{msg}");
        let msg = err("[session.users.alice]\nmfa = \"optional\"\n");
        assert!(msg.contains("unknown") && msg.contains("mfa"), "{msg}");
        let msg = err("[session.users.alice]\nclipboard = \"off\"\n[session.users.ALICE]\nclipboard = \"off\"\n");
        assert!(msg.contains("a second entry"), "{msg}");
    }

    #[test]
    fn example_file_parses_and_matches_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rampart.example.toml");
        let cfg = Config::load(Some(&path)).unwrap();
        assert_eq!(cfg, Config::default());
    }

    #[test]
    fn guard_defaults_and_values() {
        let d = Config::default().guard;
        assert_eq!(d.policy, GuardConfig::default());
        assert_eq!(d.policy.failures, 5);
        assert_eq!(d.policy.window, Duration::from_secs(600));
        assert_eq!(d.policy.ban, Duration::from_secs(900));
        assert_eq!(d.policy.max_ban, Duration::from_secs(86_400));
        assert_eq!(d.policy.allow, rampart_policy::default_allowlist());
        assert!(!d.dangerous_allow_any_source);
        assert_eq!(d.fail2ban_log, None);

        let cfg = parse(
            r#"
[guard]
max_failures = 3
failure_window_secs = 60
ban_secs = 120
max_ban_secs = 3600
account_max_failures = 0
ipv6_ban_prefix = 128
allow = ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"]
deny = ["10.6.6.0/24"]
fail2ban_log = "/var/log/rampart-auth.log"
"#,
        )
        .unwrap()
        .guard;
        let p = &cfg.policy;
        assert_eq!(p.failures, 3);
        assert_eq!(p.window, Duration::from_secs(60));
        assert_eq!(p.ban, Duration::from_secs(120));
        assert_eq!(p.max_ban, Duration::from_secs(3600));
        assert_eq!(p.account_failures, 0);
        assert_eq!(p.ipv6_prefix, 128);
        let text = |nets: &[IpNet]| nets.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(text(&p.allow), ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32"]);
        assert_eq!(text(&p.deny), ["10.6.6.0/24"]);
        assert_eq!(cfg.fail2ban_log, Some(PathBuf::from("/var/log/rampart-auth.log")));
        assert!(!cfg.dangerous_allow_any_source);
    }

    #[test]
    fn bad_networks_name_file_line_and_key() {
        assert_eq!(
            err("[guard]\nallow = [\n  \"10.0.0.0/8\",\n  \"10.0.0.1/8\",\n]\n"),
            "/etc/rampart/rampart.toml:4: bad value for \"allow\" in [guard]: \"10.0.0.1/8\": host bits are set; \
             did you mean \"10.0.0.0/8\"?"
        );
        assert_eq!(
            err("[guard]\n\ndeny = [\"example.com\"]\n"),
            "/etc/rampart/rampart.toml:3: bad value for \"deny\" in [guard]: \"example.com\" is not an IP address \
             or network such as \"10.0.0.0/8\""
        );
        let msg = err("[guard]\ndeny = [\"::/129\"]\n");
        assert!(msg.contains(":2: bad value for \"deny\" in [guard]: \"::/129\": prefix length 129"), "{msg}");
    }

    #[test]
    fn bad_guard_values_name_line_and_key() {
        let msg = err("[guard]\nmax_failures = 0\n");
        assert!(msg.contains(":2: bad value for \"max_failures\" in [guard]: must be at least 1"), "{msg}");
        let msg = err("[guard]\nban_secs = 0\n");
        assert!(msg.contains(":2: bad value for \"ban_secs\" in [guard]"), "{msg}");
        let msg = err("[guard]\nban_secs = 600\nmax_ban_secs = 60\n");
        assert!(msg.contains(":3: bad value for \"max_ban_secs\" in [guard]: must be at least ban_secs"), "{msg}");
        let msg = err("[guard]\nban_secs = 100000\n");
        assert!(msg.contains(":2: bad value for \"ban_secs\" in [guard]: must be at most max_ban_secs"), "{msg}");
        let msg = err("[guard]\nipv6_ban_prefix = 16\n");
        assert!(msg.contains(":2: bad value for \"ipv6_ban_prefix\" in [guard]"), "{msg}");
        let msg = err("[guard]\nfail2ban_log = \"relative.log\"\n");
        assert!(msg.contains(":2: bad value for \"fail2ban_log\" in [guard]"), "{msg}");
        let msg = err("[guard]\nmax_failure = 5\n");
        assert!(msg.contains(":2: unknown key \"max_failure\" in [guard]"), "{msg}");
    }

    #[test]
    fn any_source_only_through_the_dangerous_key() {
        let msg = err("[guard]\nallow = []\n");
        assert!(msg.contains(":2: bad value for \"allow\" in [guard]: an empty allowlist"), "{msg}");
        assert!(msg.contains("dangerous_allow_any_source"), "{msg}");
        let any = vec![IpNet::ANY_V4, IpNet::ANY_V6];
        let cfg = parse("[guard]\nallow = []\ndangerous_allow_any_source = true\n").unwrap();
        assert!(cfg.guard.dangerous_allow_any_source);
        assert_eq!(cfg.guard.policy.allow, any);
        let cfg = parse("[guard]\ndangerous_allow_any_source = true\n").unwrap();
        assert_eq!(cfg.guard.policy.allow, any);
        let msg = err("[guard]\nallow = [\"10.0.0.0/8\"]\ndangerous_allow_any_source = true\n");
        assert!(msg.contains(":2: bad value for \"allow\" in [guard]: dangerous_allow_any_source"), "{msg}");
        let cfg = parse("[guard]\ndangerous_allow_any_source = false\n").unwrap();
        assert_eq!(cfg.guard, Config::default().guard);
    }

    #[test]
    fn access_defaults_and_values() {
        assert_eq!(Config::default().access, AccessConfig::default());
        assert_eq!(Config::default().access.schedule, None);
        assert_eq!(parse("[access]\nwindows = []\n").unwrap().access, AccessConfig::default());

        let cfg = parse(
            r#"
[access]
windows = ["Mon-Fri 08:00-18:00", "Sat 10:00-12:00"]
timezone = "Europe/Berlin"

[access.users]
alice = ["Mon-Fri 09:00-17:00"]
"Bob.Smith" = ["always"]
"#,
        )
        .unwrap()
        .access;
        let schedule = cfg.schedule.clone().unwrap();
        assert_eq!(schedule.to_string(), "Mon-Fri 08:00-18:00, Sat 10:00-12:00 (Europe/Berlin)");
        assert_eq!(
            cfg.user_schedule("ALICE").unwrap().to_string(),
            "Mon-Fri 09:00-17:00 (Europe/Berlin)",
            "user windows use the section's time zone; names any case"
        );
        assert!(cfg.user_schedule("bob.smith").is_some());
        assert!(cfg.user_schedule("carol").is_none());
        // 2024-01-08 is a Monday; 07:00 UTC is 08:00 in Berlin.
        let monday_8 = rampart_audit::UnixMillis(1_704_697_200_000);
        assert!(schedule.is_open(monday_8));
        assert!(!cfg.user_schedule("alice").unwrap().is_open(monday_8));

        let cfg = parse("[access]\ntimezone = \"+01:00\"\nwindows = [\"*\"]\n").unwrap().access;
        assert_eq!(cfg.schedule.unwrap().zone().name(), "+01:00");
    }

    #[test]
    fn bad_access_values_name_file_line_and_key() {
        assert_eq!(
            err("[access]\nwindows = [\n  \"Mon-Fri 08:00-18:00\",\n  \"Mon-Fry 08:00-18:00\",\n]\n"),
            "/etc/rampart/rampart.toml:4: bad value for \"windows\" in [access]: \"Mon-Fry\" is not a day or day \
             range such as \"Mon\", \"Mon-Fri\" or \"Sat,Sun\""
        );
        let msg = err("[access]\nwindows = [\"Mon 08:00-25:00\"]\n");
        assert!(
            msg.contains(":2: bad value for \"windows\" in [access]: \"08:00-25:00\" is not a time range"),
            "{msg}"
        );
        let msg = err("[access]\nwindows = [\"Mon 08:00-08:00\"]\n");
        assert!(msg.contains(":2: bad value for \"windows\" in [access]: \"08:00-08:00\" starts when it ends"), "{msg}");
        let msg = err("[access]\nwindows = [\"Mon\"]\n\ntimezone = \"Europe/Berlinn\"\n");
        assert!(
            msg.contains(":4: bad value for \"timezone\" in [access]: \"Europe/Berlinn\" is not a time zone"),
            "{msg}"
        );
        let msg = err("[access]\nwindow = []\n");
        assert!(msg.contains(":2: unknown key \"window\" in [access]"), "{msg}");
        let msg = err("[access.users]\nalice = [\"Mon 9-17\"]\n");
        assert!(msg.contains(":2: bad value for \"alice\" in [access.users]: \"9-17\""), "{msg}");
        let msg = err("[access.users]\nalice = []\n");
        assert!(msg.contains(":2: bad value for \"alice\" in [access.users]: an empty list"), "{msg}");
        let msg = err("[access.users]\nalice = [\"always\"]\nAlice = [\"always\"]\n");
        assert!(msg.contains(":3: bad value for \"Alice\" in [access.users]: a second entry"), "{msg}");
        let msg = err("[access.users]\nalice = \"Mon 09:00-17:00\"\n");
        assert!(msg.contains(":2: bad value for \"alice\""), "{msg}");
    }

    #[test]
    fn state_dir_precedence() {
        let mut cfg = Config::default();
        assert_eq!(state_dir(&cfg, None), PathBuf::from("/var/lib/rampart"));
        cfg.server.state_dir = PathBuf::from("/srv/r");
        assert_eq!(state_dir(&cfg, None), PathBuf::from("/srv/r"));
        assert_eq!(state_dir(&cfg, Some(Path::new("/tmp/x"))), PathBuf::from("/tmp/x"));
    }

    #[test]
    fn session_limits_default_to_15_min_idle_and_8_h_disconnected() {
        let d = Config::default().session.limits;
        assert_eq!(d.idle, Some(Duration::from_secs(15 * 60)));
        assert_eq!(d.disconnected, Some(Duration::from_secs(8 * 60 * 60)));
        let cfg = parse("[session]\nidle_disconnect_secs = 600\ndisconnected_end_secs = 0\n").unwrap();
        assert_eq!(cfg.session.limits.idle, Some(Duration::from_secs(600)));
        assert_eq!(cfg.session.limits.disconnected, None, "0: kept until its programs exit");
        let cfg = parse("[session]\nidle_disconnect_secs = 0\n").unwrap();
        assert_eq!(cfg.session.limits.idle, None);
        let msg = err("[session]\n\nidle_disconnect_secs = 2\n");
        assert!(
            msg.contains(":3: bad value for \"idle_disconnect_secs\" in [session]: must be 0 (never) or between 5 and 86400 seconds"),
            "{msg}"
        );
        let msg = err("[session]\ndisconnected_end_secs = -1\n");
        assert!(msg.contains(":2: bad value for \"disconnected_end_secs\" in [session]"), "{msg}");
        let msg = err("[session]\ndisconnected_end_secs = 99999999\n");
        assert!(msg.contains("between 5 and 2592000 seconds"), "{msg}");
    }

    #[test]
    fn metrics_listen_on_loopback_unless_remote_is_asked_for_by_name() {
        let d = Config::default().metrics;
        assert_eq!(d.listen, Some("127.0.0.1:9393".parse().unwrap()));
        assert!(!d.dangerous_allow_remote);
        assert_eq!(parse("[metrics]\nlisten = \"\"\n").unwrap().metrics.listen, None);
        assert_eq!(
            parse("[metrics]\nlisten = \"[::1]:9100\"\n").unwrap().metrics.listen,
            Some("[::1]:9100".parse().unwrap())
        );
        let msg = err("[metrics]\nlisten = \"0.0.0.0:9393\"\n");
        assert!(
            msg.contains(":2: bad value for \"listen\" in [metrics]: 0.0.0.0:9393 is reachable from other hosts"),
            "{msg}"
        );
        let cfg = parse("[metrics]\nlisten = \"192.0.2.1:9393\"\ndangerous_allow_remote = true\n").unwrap();
        assert_eq!(cfg.metrics.listen, Some("192.0.2.1:9393".parse().unwrap()));
        assert!(cfg.metrics.dangerous_allow_remote);
        let msg = err("[metrics]\nlisten = \"localhost\"\n");
        assert!(msg.contains(":2: bad value for \"listen\" in [metrics]: \"localhost\" is not an address"), "{msg}");
        let msg = err("[metrics]\nport = 1\n");
        assert!(msg.contains(":2: unknown key \"port\" in [metrics]"), "{msg}");
    }
}
