//! `rampart check`: the effective configuration and facts about the host, judged against
//! the hardening items (the CIS "Remote Desktop Services" and account-lockout items where
//! they apply to Rampart, and the product's own defaults).
//!
//! Pure: [`judge`] takes the typed [`Config`], [`HostFacts`] gathered at the edge
//! (`cli/check.rs`: file modes, the certificate, the worker account) and the time, and
//! returns one [`Finding`] per item. Nothing here reads a file or the clock.
//!
//! Items the configuration cannot weaken today still appear, as PASS with the reason.
//! Items of features that are not configurable yet read their setting from
//! [`SessionPolicy::from_config`], the one place to change when the key lands.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use rampart_policy::IpNet;

use crate::config::Config;

/// How an item came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Pass,
    /// Weaker than the benchmark asks, by choice or because it is not configurable yet;
    /// does not fail the check.
    Warn,
    Fail,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        })
    }
}

/// One judged item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Stable short name (`lockout-threshold`), for scripts and tests.
    pub id: &'static str,
    /// What the item asks for, as the benchmark says it.
    pub title: &'static str,
    pub status: Status,
    /// Why, with the values that decided it.
    pub reason: String,
}

/// Metadata of a file or directory that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileFacts {
    /// Permission bits (`mode & 0o7777`).
    pub mode: u32,
    pub uid: u32,
    pub is_dir: bool,
}

/// What the edge found at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed<T> {
    Present(T),
    Missing,
    /// It exists but could not be read or parsed: the message says why.
    Unreadable(String),
}

/// A file and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathFacts {
    pub path: PathBuf,
    pub facts: Observed<FileFacts>,
}

/// The leaf certificate, as far as the items need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFacts {
    /// Seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
    pub key: PublicKey,
    pub self_signed: bool,
}

/// The certificate's public key algorithm and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    Rsa { bits: u32 },
    /// ECDSA on a named curve (its OID as text when not a NIST curve).
    Ec { curve: String },
    Ed25519,
    Other { algorithm: String },
}

/// The TLS identity in use: the admin's PEM files, or the one generated in the state dir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFacts {
    /// The admin set `[tls] certificate`/`private_key`; otherwise Rampart generates them.
    pub admin_supplied: bool,
    pub certificate_path: PathBuf,
    pub certificate: Observed<CertFacts>,
    pub key: PathFacts,
}

/// Everything [`judge`] needs beyond the configuration, gathered at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFacts {
    pub state_dir: PathFacts,
    pub database: PathFacts,
    pub host_key: PathFacts,
    pub tls: TlsFacts,
    /// Accounts and groups whose ids fall in the workers' uid range, or why the account
    /// files could not be read.
    pub worker_ids_taken: Result<Vec<String>, String>,
}

/// A setting of a session feature: configured by the admin, or fixed by what is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting<T> {
    /// Read from the config file.
    Configured(T),
    /// Not configurable yet; the value is what Rampart does today, the note says how.
    Fixed(T, &'static str),
}

/// The session-policy settings the checks read. Each field is one line in
/// [`SessionPolicy::from_config`]: when the config key exists, that line becomes
/// `Setting::Configured(cfg....)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Idle sessions are ended after this long; `None`: never.
    pub idle_limit: Setting<Option<Duration>>,
    /// Disconnected sessions are ended after this long; `None`: kept until they exit.
    pub disconnected_limit: Setting<Option<Duration>>,
    /// The clipboard is shared in at least one direction.
    pub clipboard_shared: Setting<bool>,
    /// Client drives, printers, ports or smart cards are redirected into the session.
    pub device_redirection: Setting<bool>,
}

impl SessionPolicy {
    pub fn from_config(cfg: &Config) -> Self {
        Self {
            // [session] idle_disconnect_secs (0: off).
            idle_limit: Setting::Configured(cfg.session.limits.idle),
            // [session] disconnected_end_secs (0: kept until its programs exit).
            disconnected_limit: Setting::Configured(cfg.session.limits.disconnected),
            // [session] clipboard (and per-user overrides): shared if any user may use it.
            clipboard_shared: Setting::Configured(cfg.session.clipboard.ever_on()),
            // Never offered: there is no rdpdr channel in Rampart.
            device_redirection: Setting::Fixed(
                false,
                "no device redirection channel (rdpdr) is offered: drives, printers, ports and smart cards stay on the client",
            ),
        }
    }
}

/// CIS: lockout after 5 or fewer invalid attempts (and not 0).
pub const CIS_MAX_FAILURES: u32 = 5;
/// CIS: lockout duration 15 minutes or more.
pub const CIS_MIN_LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// CIS: reset the failure counter after 15 minutes or more.
pub const CIS_MIN_RESET: Duration = Duration::from_secs(15 * 60);
/// CIS: end active but idle sessions after 15 minutes or less.
pub const CIS_MAX_IDLE: Duration = Duration::from_secs(15 * 60);
/// CIS: end disconnected sessions after 1 minute.
pub const CIS_MAX_DISCONNECTED: Duration = Duration::from_secs(60);
/// RSA keys shorter than this are refused.
pub const MIN_RSA_BITS: u32 = 2048;
/// A certificate that ends sooner than this is a warning.
pub const CERT_RENEWAL_WARNING: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// Beyond these the pre-authentication limits stop meaning much.
pub const MAX_SENSIBLE_HANDSHAKE: Duration = Duration::from_secs(30);
pub const MAX_SENSIBLE_PREAUTH_BYTES: u64 = 1024 * 1024;

/// Judges every item at `now` (seconds since the Unix epoch).
pub fn judge(cfg: &Config, session: &SessionPolicy, host: &HostFacts, now: i64) -> Vec<Finding> {
    vec![
        nla(),
        tls_only(),
        password_prompt(),
        second_factor(cfg),
        lockout_threshold(cfg),
        lockout_duration(cfg),
        lockout_reset(cfg),
        account_lockout(cfg),
        allowlist(cfg),
        preauth_limits(cfg),
        idle_limit(&session.idle_limit),
        disconnected_limit(&session.disconnected_limit),
        clipboard(&session.clipboard_shared),
        device_redirection(&session.device_redirection),
        metrics_endpoint(cfg),
        worker_uids(cfg, &host.worker_ids_taken),
        certificate_validity(&host.tls, now),
        certificate_key(&host.tls),
        private_file(
            "state-dir-mode",
            "State directory 0700, owned by root",
            &host.state_dir,
            0o700,
            true,
            "created 0700 on first use",
        ),
        private_file(
            "database-mode",
            "User store 0600, owned by root",
            &host.database,
            0o600,
            false,
            "created 0600 with the first user",
        ),
        private_file(
            "host-key-mode",
            "Host key 0600, owned by root",
            &host.host_key,
            0o600,
            false,
            "created 0600 with the store",
        ),
        tls_key_mode(&host.tls),
    ]
}

fn finding(id: &'static str, title: &'static str, status: Status, reason: impl Into<String>) -> Finding {
    Finding {
        id,
        title,
        status,
        reason: reason.into(),
    }
}

fn nla() -> Finding {
    finding(
        "nla",
        "Require Network Level Authentication",
        Status::Pass,
        "CredSSP/NLA (HYBRID, HYBRID_EX) is the only security protocol offered; no setting turns it off",
    )
}

fn tls_only() -> Finding {
    finding(
        "tls-only",
        "Require the TLS security layer (no Standard RDP Security / RC4)",
        Status::Pass,
        "TLS 1.2 and 1.3 (rustls) only; Standard RDP Security with RC4 is not implemented and clients asking for it are refused",
    )
}

fn password_prompt() -> Finding {
    finding(
        "password-prompt",
        "Always prompt for the password on connection",
        Status::Pass,
        "every connection authenticates with NLA; credentials a client sends later (Client Info PDU auto-logon) never log anyone in",
    )
}

fn second_factor(cfg: &Config) -> Finding {
    use rampart_protocol::MfaMode;
    const TITLE: &str = "Require a second factor (TOTP) for every user";
    let auth = &cfg.auth.policy;
    if auth.mfa == MfaMode::Optional {
        return finding(
            "mfa",
            TITLE,
            Status::Fail,
            "[auth] mfa = \"optional\": users without a TOTP secret log in with the password alone",
        );
    }
    let mut optional: Vec<&str> = auth
        .user_mfa
        .iter()
        .filter(|(_, mode)| **mode == MfaMode::Optional)
        .map(|(name, _)| name.as_str())
        .collect();
    optional.sort_unstable();
    if optional.is_empty() {
        finding("mfa", TITLE, Status::Pass, "[auth] mfa = \"required\" and no user is exempt")
    } else {
        finding(
            "mfa",
            TITLE,
            Status::Warn,
            format!(
                "[auth] mfa = \"required\", but [auth.users] makes it optional for: {}",
                optional.join(", ")
            ),
        )
    }
}

fn lockout_threshold(cfg: &Config) -> Finding {
    const TITLE: &str = "Lockout threshold: 5 or fewer failed attempts, not 0";
    let failures = cfg.guard.policy.failures;
    let window = minutes(cfg.guard.policy.window);
    if (1..=CIS_MAX_FAILURES).contains(&failures) {
        finding(
            "lockout-threshold",
            TITLE,
            Status::Pass,
            format!("[guard] max_failures = {failures}: that many failures within {window} ban the source"),
        )
    } else {
        finding(
            "lockout-threshold",
            TITLE,
            Status::Fail,
            format!(
                "[guard] max_failures = {failures}: a source gets {failures} guesses per {window} before a ban (at most {CIS_MAX_FAILURES})"
            ),
        )
    }
}

fn lockout_duration(cfg: &Config) -> Finding {
    const TITLE: &str = "Lockout duration: 15 minutes or more";
    let ban = cfg.guard.policy.ban;
    let max = minutes(cfg.guard.policy.max_ban);
    if ban >= CIS_MIN_LOCKOUT {
        finding(
            "lockout-duration",
            TITLE,
            Status::Pass,
            format!(
                "[guard] ban_secs = {}: a first ban lasts {}, repeats double up to {max}",
                ban.as_secs(),
                minutes(ban)
            ),
        )
    } else {
        finding(
            "lockout-duration",
            TITLE,
            Status::Fail,
            format!("[guard] ban_secs = {}: a ban lasts only {}", ban.as_secs(), minutes(ban)),
        )
    }
}

fn lockout_reset(cfg: &Config) -> Finding {
    const TITLE: &str = "Reset the failure counter after 15 minutes or more";
    let window = cfg.guard.policy.window;
    let failures = cfg.guard.policy.failures;
    let below = failures.saturating_sub(1);
    if window >= CIS_MIN_RESET {
        finding(
            "lockout-reset",
            TITLE,
            Status::Pass,
            format!(
                "[guard] failure_window_secs = {}: failures count for {}",
                window.as_secs(),
                minutes(window)
            ),
        )
    } else {
        finding(
            "lockout-reset",
            TITLE,
            Status::Warn,
            format!(
                "[guard] failure_window_secs = {}: failures are forgotten after {}, so a source that stays under the threshold gets {below} guesses per {} instead of per {}; set it to 900 or more",
                window.as_secs(),
                minutes(window),
                minutes(window),
                minutes(CIS_MIN_RESET)
            ),
        )
    }
}

fn account_lockout(cfg: &Config) -> Finding {
    const TITLE: &str = "Lock an account attacked from many sources";
    let n = cfg.guard.policy.account_failures;
    if n == 0 {
        finding(
            "account-lockout",
            TITLE,
            Status::Warn,
            "[guard] account_max_failures = 0: guessing spread over many addresses is limited only per source",
        )
    } else {
        finding(
            "account-lockout",
            TITLE,
            Status::Pass,
            format!(
                "[guard] account_max_failures = {n}: that many failures for one user from sources it never logged in from refuse such sources; its own addresses can still log in"
            ),
        )
    }
}

/// Loopback, RFC 1918, CGNAT (VPN overlays), link-local, IPv6 loopback, ULA and link-local.
fn private_ranges() -> Vec<IpNet> {
    [
        "127.0.0.0/8",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "169.254.0.0/16",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
    ]
    .iter()
    .filter_map(|net| net.parse().ok())
    .collect()
}

fn within(inner: &IpNet, outer: &IpNet) -> bool {
    inner.is_ipv4() == outer.is_ipv4() && outer.prefix() <= inner.prefix() && outer.contains(inner.addr())
}

fn allowlist(cfg: &Config) -> Finding {
    const TITLE: &str = "Source allowlist no wider than private address ranges";
    if cfg.guard.dangerous_allow_any_source {
        return finding(
            "allowlist",
            TITLE,
            Status::Fail,
            "[guard] dangerous_allow_any_source = true: every address on the internet may try to log in",
        );
    }
    let private = private_ranges();
    let public: Vec<String> = cfg
        .guard
        .policy
        .allow
        .iter()
        .filter(|net| !private.iter().any(|p| within(net, p)))
        .map(IpNet::to_string)
        .collect();
    if public.is_empty() {
        finding(
            "allowlist",
            TITLE,
            Status::Pass,
            format!(
                "[guard] allow: {} network(s), all loopback, RFC 1918, CGNAT, link-local or ULA",
                cfg.guard.policy.allow.len()
            ),
        )
    } else {
        finding(
            "allowlist",
            TITLE,
            Status::Fail,
            format!("[guard] allow admits public addresses: {}", public.join(", ")),
        )
    }
}

fn preauth_limits(cfg: &Config) -> Finding {
    const TITLE: &str = "Bounded unauthenticated connections";
    let l = &cfg.limits;
    let mut loose = Vec::new();
    if l.handshake_timeout > MAX_SENSIBLE_HANDSHAKE {
        loose.push(format!(
            "handshake_timeout_secs = {} (over {} s)",
            l.handshake_timeout.as_secs(),
            MAX_SENSIBLE_HANDSHAKE.as_secs()
        ));
    }
    if l.max_preauth_bytes > MAX_SENSIBLE_PREAUTH_BYTES {
        loose.push(format!("max_preauth_bytes = {} (over 1 MiB)", l.max_preauth_bytes));
    }
    if l.max_connection_rate_per_ip == 0 {
        loose.push("max_connection_rate_per_ip = 0 (off)".to_owned());
    }
    if l.max_connection_rate_total == 0 {
        loose.push("max_connection_rate_total = 0 (off)".to_owned());
    }
    if loose.is_empty() {
        finding(
            "preauth-limits",
            TITLE,
            Status::Pass,
            format!(
                "[limits] handshake within {} s, {} bytes before NLA, {} pending per source, {} new connections per second per source",
                l.handshake_timeout.as_secs(),
                l.max_preauth_bytes,
                l.max_pending_per_ip,
                l.max_connection_rate_per_ip
            ),
        )
    } else {
        finding("preauth-limits", TITLE, Status::Warn, format!("[limits] {}", loose.join(", ")))
    }
}

/// A fixed setting cannot be changed by the admin: a weakness in it is reported, not failed.
fn settle<T>(setting: &Setting<T>, judge: impl FnOnce(&T) -> (Status, String)) -> (Status, String) {
    match setting {
        Setting::Configured(value) => judge(value),
        Setting::Fixed(value, note) => match judge(value) {
            (Status::Pass, _) => (Status::Pass, (*note).to_owned()),
            (_, why) => (Status::Warn, format!("not configurable yet: {note}; {why}")),
        },
    }
}

/// One of the two session time limits: `done` says what happens at the limit, `key` where
/// it is set.
struct TimeLimit {
    id: &'static str,
    title: &'static str,
    done: &'static str,
    key: &'static str,
    cis: Duration,
}

fn time_limit(item: &TimeLimit, setting: &Setting<Option<Duration>>) -> Finding {
    let TimeLimit { done, key, cis, .. } = *item;
    let (status, reason) = settle(setting, |limit| match limit {
        None => (
            Status::Fail,
            format!("no limit ([session] {key} = 0); the benchmark asks for at most {}", minutes(cis)),
        ),
        Some(d) if *d <= cis => (Status::Pass, format!("{done} after {}", minutes(*d))),
        Some(d) => (
            Status::Warn,
            format!("{done} after {} ([session] {key}); the benchmark asks for at most {}", minutes(*d), minutes(cis)),
        ),
    });
    finding(item.id, item.title, status, reason)
}

fn idle_limit(setting: &Setting<Option<Duration>>) -> Finding {
    let item = TimeLimit {
        id: "idle-limit",
        title: "End idle sessions after 15 minutes or less",
        done: "idle connections are disconnected (the desktop stays, resumable)",
        key: "idle_disconnect_secs",
        cis: CIS_MAX_IDLE,
    };
    time_limit(&item, setting)
}

fn disconnected_limit(setting: &Setting<Option<Duration>>) -> Finding {
    let item = TimeLimit {
        id: "disconnected-limit",
        title: "End disconnected sessions after a time limit",
        done: "desktops with no connection are ended",
        key: "disconnected_end_secs",
        cis: CIS_MAX_DISCONNECTED,
    };
    time_limit(&item, setting)
}

fn metrics_endpoint(cfg: &Config) -> Finding {
    const ID: &str = "metrics-endpoint";
    const TITLE: &str = "Monitoring endpoint reachable from this host only";
    match cfg.metrics.listen {
        None => finding(ID, TITLE, Status::Pass, "off ([metrics] listen = \"\")"),
        Some(addr) if addr.ip().is_loopback() => {
            finding(ID, TITLE, Status::Pass, format!("on {addr}, loopback only"))
        }
        Some(addr) => finding(
            ID,
            TITLE,
            Status::Fail,
            format!("[metrics] listen = {addr} with dangerous_allow_remote = true: other hosts read it, without authentication"),
        ),
    }
}

fn clipboard(setting: &Setting<bool>) -> Finding {
    let (status, reason) = settle(setting, |shared| {
        if *shared {
            (Status::Warn, "the clipboard is shared with the client".to_owned())
        } else {
            (Status::Pass, "the clipboard is not shared".to_owned())
        }
    });
    finding("clipboard", "Do not allow clipboard redirection", status, reason)
}

fn device_redirection(setting: &Setting<bool>) -> Finding {
    let (status, reason) = settle(setting, |on| {
        if *on {
            (Status::Fail, "client devices are redirected into sessions".to_owned())
        } else {
            (Status::Pass, "no client device is redirected".to_owned())
        }
    });
    finding(
        "device-redirection",
        "Do not allow drive, printer, port or smart card redirection",
        status,
        reason,
    )
}

fn worker_uids(cfg: &Config, taken: &Result<Vec<String>, String>) -> Finding {
    const ID: &str = "worker-confinement";
    const TITLE: &str = "Network-facing code runs confined, without root, each connection apart";
    let base = cfg.server.worker_uid_base;
    let end = u64::from(base) + u64::from(cfg.limits.max_connections_total);
    if cfg.server.insecure_no_privsep {
        return finding(
            ID,
            TITLE,
            Status::Fail,
            "[server] insecure_no_privsep = true: when not started as root, workers run unconfined as the server's user".to_owned(),
        );
    }
    match taken {
        Ok(taken) if taken.is_empty() => finding(
            ID,
            TITLE,
            Status::Pass,
            format!(
                "each connection's worker runs as its own uid ({base}..{end}, used by no account or group), \
                 no_new_privs, not dumpable, chrooted to an empty directory, in its own session, under a seccomp allowlist"
            ),
        ),
        Ok(taken) => finding(
            ID,
            TITLE,
            Status::Fail,
            format!(
                "[server] worker_uid_base = {base}: ids {base}..{end} are used by {} (serve refuses to start)",
                taken.join(", ")
            ),
        ),
        Err(why) => finding(ID, TITLE, Status::Fail, format!("cannot read the account files: {why}")),
    }
}

fn certificate_validity(tls: &TlsFacts, now: i64) -> Finding {
    const ID: &str = "certificate-validity";
    const TITLE: &str = "Server certificate valid now and not about to expire";
    let path = tls.certificate_path.display();
    let cert = match &tls.certificate {
        Observed::Present(cert) => cert,
        Observed::Missing if !tls.admin_supplied => {
            return finding(
                ID,
                TITLE,
                Status::Pass,
                format!("{path} not generated yet: serve makes an RSA-2048 self-signed certificate, valid 10 years, on first start"),
            );
        }
        Observed::Missing => {
            return finding(ID, TITLE, Status::Fail, format!("[tls] certificate {path} does not exist"));
        }
        Observed::Unreadable(why) => return finding(ID, TITLE, Status::Fail, format!("{path}: {why}")),
    };
    let kind = if cert.self_signed {
        "self-signed (clients ask the user to compare its fingerprint)"
    } else {
        "issued by a CA"
    };
    let days_left = (cert.not_after - now) / 86_400;
    if now < cert.not_before {
        finding(ID, TITLE, Status::Fail, format!("{path}: not valid yet"))
    } else if now >= cert.not_after {
        finding(
            ID,
            TITLE,
            Status::Fail,
            format!("{path}: expired {} day(s) ago", (now - cert.not_after) / 86_400),
        )
    } else if cert.not_after - now < duration_secs(CERT_RENEWAL_WARNING) {
        finding(
            ID,
            TITLE,
            Status::Warn,
            format!("{path}: expires in {days_left} day(s); renew it"),
        )
    } else {
        finding(
            ID,
            TITLE,
            Status::Pass,
            format!("{path}: valid for {days_left} more day(s), {kind}"),
        )
    }
}

fn certificate_key(tls: &TlsFacts) -> Finding {
    const ID: &str = "certificate-key";
    const TITLE: &str = "Certificate key: RSA 2048 bits or more, or elliptic curve";
    let cert = match &tls.certificate {
        Observed::Present(cert) => cert,
        Observed::Missing if !tls.admin_supplied => {
            return finding(ID, TITLE, Status::Pass, "not generated yet: serve makes an RSA-2048 key on first start");
        }
        Observed::Missing | Observed::Unreadable(_) => {
            return finding(ID, TITLE, Status::Fail, "no readable certificate (see certificate-validity)");
        }
    };
    match &cert.key {
        PublicKey::Rsa { bits } if *bits >= MIN_RSA_BITS => {
            finding(ID, TITLE, Status::Pass, format!("RSA {bits} bits"))
        }
        PublicKey::Rsa { bits } => finding(
            ID,
            TITLE,
            Status::Fail,
            format!("RSA {bits} bits (at least {MIN_RSA_BITS})"),
        ),
        PublicKey::Ec { curve } => finding(
            ID,
            TITLE,
            Status::Pass,
            format!("ECDSA {curve} (Windows mstsc and rdesktop expect RSA server certificates)"),
        ),
        PublicKey::Ed25519 => finding(
            ID,
            TITLE,
            Status::Pass,
            "Ed25519 (few RDP clients accept it: mstsc expects RSA)",
        ),
        PublicKey::Other { algorithm } => {
            finding(ID, TITLE, Status::Warn, format!("unrecognised key algorithm {algorithm}"))
        }
    }
}

fn private_file(
    id: &'static str,
    title: &'static str,
    file: &PathFacts,
    want_mode: u32,
    want_dir: bool,
    when_missing: &str,
) -> Finding {
    let path = file.path.display();
    match &file.facts {
        Observed::Missing => finding(id, title, Status::Pass, format!("{path} not created yet: {when_missing}")),
        Observed::Unreadable(why) => finding(id, title, Status::Fail, format!("{path}: {why}")),
        Observed::Present(f) if f.is_dir != want_dir => finding(
            id,
            title,
            Status::Fail,
            format!("{path} is {}", if f.is_dir { "a directory" } else { "not a directory" }),
        ),
        Observed::Present(f) => {
            let mut wrong = Vec::new();
            if f.mode & !want_mode & 0o7777 != 0 {
                wrong.push(format!("mode {:04o} (want {want_mode:04o}: chmod {want_mode:o} {path})", f.mode));
            }
            if f.uid != 0 {
                wrong.push(format!("owner uid {} (want root)", f.uid));
            }
            if wrong.is_empty() {
                finding(id, title, Status::Pass, format!("{path}: mode {:04o}, owner root", f.mode))
            } else {
                finding(id, title, Status::Fail, format!("{path}: {}", wrong.join(", ")))
            }
        }
    }
}

fn tls_key_mode(tls: &TlsFacts) -> Finding {
    const ID: &str = "tls-key-mode";
    const TITLE: &str = "TLS private key 0600, owned by root";
    if tls.admin_supplied && tls.key.facts == Observed::Missing {
        return finding(
            ID,
            TITLE,
            Status::Fail,
            format!("[tls] private_key {} does not exist", tls.key.path.display()),
        );
    }
    private_file(ID, TITLE, &tls.key, 0o600, false, "generated 0600 on first start")
}

fn minutes(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        s if s % 3600 == 0 && s > 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 && s > 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

fn duration_secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// Reads what the items need from a PEM certificate chain (the leaf: the first block).
pub fn certificate_facts(pem: &str) -> Result<CertFacts, String> {
    use x509_cert::der::{Decode, DecodePem, Encode};
    let cert = x509_cert::Certificate::from_pem(first_pem_block(pem).ok_or("no certificate in the file")?)
        .map_err(|e| format!("not a valid PEM certificate: {e}"))?;
    let tbs = &cert.tbs_certificate;
    let unix = |t: &x509_cert::time::Time| i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    let spki = &tbs.subject_public_key_info;
    let oid = spki.algorithm.oid.to_string();
    let key = match oid.as_str() {
        OID_RSA => {
            let bytes = spki.subject_public_key.as_bytes().ok_or("RSA key is not whole bytes")?;
            let rsa = pkcs1::RsaPublicKey::from_der(bytes).map_err(|e| format!("bad RSA public key: {e}"))?;
            PublicKey::Rsa {
                bits: bit_length(rsa.modulus.as_bytes()),
            }
        }
        OID_EC => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<x509_cert::der::asn1::ObjectIdentifier>().ok())
                .map(|c| c.to_string())
                .unwrap_or_default();
            PublicKey::Ec {
                curve: match curve.as_str() {
                    "1.2.840.10045.3.1.7" => "P-256".to_owned(),
                    "1.3.132.0.34" => "P-384".to_owned(),
                    "1.3.132.0.35" => "P-521".to_owned(),
                    other => other.to_owned(),
                },
            }
        }
        OID_ED25519 => PublicKey::Ed25519,
        other => PublicKey::Other {
            algorithm: other.to_owned(),
        },
    };
    let self_signed = tbs.issuer.to_der().ok() == tbs.subject.to_der().ok();
    Ok(CertFacts {
        not_before: unix(&tbs.validity.not_before),
        not_after: unix(&tbs.validity.not_after),
        key,
        self_signed,
    })
}

const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_EC: &str = "1.2.840.10045.2.1";
const OID_ED25519: &str = "1.3.101.112";

/// The first `-----BEGIN CERTIFICATE-----` block of a chain.
fn first_pem_block(pem: &str) -> Option<&str> {
    const END: &str = "-----END CERTIFICATE-----";
    let start = pem.find("-----BEGIN CERTIFICATE-----")?;
    let rest = pem.get(start..)?;
    let end = rest.find(END)? + END.len();
    rest.get(..end)
}

/// Significant bits of a big-endian unsigned integer.
fn bit_length(bytes: &[u8]) -> u32 {
    let mut iter = bytes.iter().skip_while(|b| **b == 0);
    match iter.next() {
        None => 0,
        Some(first) => {
            let rest = u32::try_from(iter.count()).unwrap_or(u32::MAX);
            rest.saturating_mul(8).saturating_add(8 - first.leading_zeros())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RSA-1024, self-signed, valid 2026-12-02 to 2126 (made with openssl; key discarded).
    const RSA_1024_PEM: &str = include_str!("../tests/fixtures/rsa-1024-cert.pem");

    /// ECDSA P-256, self-signed (openssl; key discarded).
    const EC_P256_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBcjCCARegAwIBAgIUfgP3eDiXbV83+Ql4AHiXGSUEIyMwCgYIKoZIzj0EAwIw
DTELMAkGA1UEAwwCZWMwIBcNMjYxMjAyMDM0MjE1WhgPMjEyNjExMDgwMzQyMTVa
MA0xCzAJBgNVBAMMAmVjMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEt2jyZ5bN
CIWYS0jWCyX2eqtenw4gBrZGp46AG3nQGw5XBfBgo3+1qDCKSOAsbCXXlXbg0e5h
0jw3vcHtgSwVnaNTMFEwHQYDVR0OBBYEFBzEjYR3I7hTEeEA821ZoBWHsxXvMB8G
A1UdIwQYMBaAFBzEjYR3I7hTEeEA821ZoBWHsxXvMA8GA1UdEwEB/wQFMAMBAf8w
CgYIKoZIzj0EAwIDSQAwRgIhAJutePQ31OH4w4bl5m6PKf4AqCkw1NrLt3Bu5Bt6
POmcAiEAhI8abK+1CCL7Gmmn3pHs5U27z+/nIA4OECyw/Uz4Ot0=
-----END CERTIFICATE-----
";

    const NOW: i64 = 1_800_000_000; // 2027-01-15
    const DAY: i64 = 86_400;

    fn file(mode: u32, is_dir: bool) -> Observed<FileFacts> {
        Observed::Present(FileFacts { mode, uid: 0, is_dir })
    }

    fn at(path: &str, facts: Observed<FileFacts>) -> PathFacts {
        PathFacts {
            path: PathBuf::from(path),
            facts,
        }
    }

    fn rsa_cert(bits: u32) -> CertFacts {
        CertFacts {
            not_before: NOW - DAY,
            not_after: NOW + 3650 * DAY,
            key: PublicKey::Rsa { bits },
            self_signed: true,
        }
    }

    /// A host as the package leaves it after the first start.
    fn good_host() -> HostFacts {
        HostFacts {
            state_dir: at("/var/lib/rampart", file(0o700, true)),
            database: at("/var/lib/rampart/rampart.db", file(0o600, false)),
            host_key: at("/var/lib/rampart/host.key", file(0o600, false)),
            tls: TlsFacts {
                admin_supplied: false,
                certificate_path: PathBuf::from("/var/lib/rampart/tls/cert.pem"),
                certificate: Observed::Present(rsa_cert(2048)),
                key: at("/var/lib/rampart/tls/key.pem", file(0o600, false)),
            },
            worker_ids_taken: Ok(Vec::new()),
        }
    }

    fn run(cfg: &Config, host: &HostFacts) -> Vec<Finding> {
        judge(cfg, &SessionPolicy::from_config(cfg), host, NOW)
    }

    fn item(findings: &[Finding], id: &str) -> Finding {
        findings
            .iter()
            .find(|f| f.id == id)
            .unwrap_or_else(|| panic!("no item {id}"))
            .clone()
    }

    fn status(cfg: &Config, host: &HostFacts, id: &str) -> Status {
        item(&run(cfg, host), id).status
    }

    #[test]
    fn defaults_have_no_failure_and_every_item() {
        let findings = run(&Config::default(), &good_host());
        let failed: Vec<_> = findings.iter().filter(|f| f.status == Status::Fail).collect();
        assert!(failed.is_empty(), "{failed:#?}");
        let ids: Vec<_> = findings.iter().map(|f| f.id).collect();
        for id in [
            "nla",
            "tls-only",
            "password-prompt",
            "mfa",
            "lockout-threshold",
            "lockout-duration",
            "lockout-reset",
            "account-lockout",
            "allowlist",
            "preauth-limits",
            "idle-limit",
            "disconnected-limit",
            "clipboard",
            "device-redirection",
            "metrics-endpoint",
            "worker-confinement",
            "certificate-validity",
            "certificate-key",
            "state-dir-mode",
            "database-mode",
            "host-key-mode",
            "tls-key-mode",
        ] {
            assert!(ids.contains(&id), "missing {id}");
        }
        assert_eq!(ids.len(), 22);
        // Fixed by what is built: pass with the reason.
        for id in ["nla", "tls-only", "password-prompt", "device-redirection", "worker-confinement"] {
            assert_eq!(item(&findings, id).status, Status::Pass, "{id}");
        }
        // The default shares the clipboard (what people expect): a warning, not a failure.
        assert_eq!(item(&findings, "clipboard").status, Status::Warn);
    }

    #[test]
    fn a_fresh_install_passes_before_the_first_start() {
        let mut host = good_host();
        host.database.facts = Observed::Missing;
        host.host_key.facts = Observed::Missing;
        host.tls.certificate = Observed::Missing;
        host.tls.key.facts = Observed::Missing;
        let findings = run(&Config::default(), &host);
        assert!(findings.iter().all(|f| f.status != Status::Fail), "{findings:#?}");
        assert!(item(&findings, "certificate-validity").reason.contains("not generated yet"));
        assert!(item(&findings, "database-mode").reason.contains("not created yet"));
    }

    #[test]
    fn mfa_optional_fails_and_exempt_users_warn() {
        let mut cfg = Config::default();
        cfg.auth.policy.mfa = rampart_protocol::MfaMode::Optional;
        assert_eq!(status(&cfg, &good_host(), "mfa"), Status::Fail);

        let mut cfg = Config::default();
        cfg.auth
            .policy
            .user_mfa
            .insert("bob".into(), rampart_protocol::MfaMode::Optional);
        cfg.auth
            .policy
            .user_mfa
            .insert("alice".into(), rampart_protocol::MfaMode::Required);
        let f = item(&run(&cfg, &good_host()), "mfa");
        assert_eq!(f.status, Status::Warn);
        assert!(f.reason.ends_with("optional for: bob"), "{}", f.reason);
    }

    #[test]
    fn lockout_threshold_at_most_five() {
        let mut cfg = Config::default();
        cfg.guard.policy.failures = 5;
        assert_eq!(status(&cfg, &good_host(), "lockout-threshold"), Status::Pass);
        cfg.guard.policy.failures = 6;
        let f = item(&run(&cfg, &good_host()), "lockout-threshold");
        assert_eq!(f.status, Status::Fail);
        assert!(f.reason.contains("max_failures = 6"), "{}", f.reason);
    }

    #[test]
    fn lockout_duration_at_least_fifteen_minutes() {
        let mut cfg = Config::default();
        cfg.guard.policy.ban = Duration::from_secs(899);
        assert_eq!(status(&cfg, &good_host(), "lockout-duration"), Status::Fail);
        cfg.guard.policy.ban = Duration::from_secs(900);
        assert_eq!(status(&cfg, &good_host(), "lockout-duration"), Status::Pass);
    }

    #[test]
    fn lockout_reset_window_below_fifteen_minutes_warns() {
        let cfg = Config::default();
        let f = item(&run(&cfg, &good_host()), "lockout-reset");
        assert_eq!(f.status, Status::Warn, "default window is 10 min");
        assert!(f.reason.contains("4 guesses per 10 min"), "{}", f.reason);
        let mut cfg = Config::default();
        cfg.guard.policy.window = Duration::from_secs(900);
        assert_eq!(status(&cfg, &good_host(), "lockout-reset"), Status::Pass);
    }

    #[test]
    fn account_lockout_off_warns() {
        let mut cfg = Config::default();
        assert_eq!(status(&cfg, &good_host(), "account-lockout"), Status::Pass);
        cfg.guard.policy.account_failures = 0;
        assert_eq!(status(&cfg, &good_host(), "account-lockout"), Status::Warn);
    }

    #[test]
    fn allowlist_only_private_ranges() {
        let with = |nets: &[&str]| {
            let mut cfg = Config::default();
            cfg.guard.policy.allow = nets.iter().map(|n| n.parse().unwrap()).collect();
            item(&run(&cfg, &good_host()), "allowlist")
        };
        assert_eq!(with(&["10.1.0.0/16", "192.168.1.7/32", "fd12::/16", "fe80::/64"]).status, Status::Pass);
        let f = with(&["10.0.0.0/8", "203.0.113.0/24", "2001:db8::/32"]);
        assert_eq!(f.status, Status::Fail);
        assert!(f.reason.contains("203.0.113.0/24, 2001:db8::/32"), "{}", f.reason);
        // Wider than a private range is not within it.
        assert_eq!(with(&["10.0.0.0/7"]).status, Status::Fail);
        assert_eq!(with(&["0.0.0.0/0"]).status, Status::Fail);

        let mut cfg = Config::default();
        cfg.guard.dangerous_allow_any_source = true;
        let f = item(&run(&cfg, &good_host()), "allowlist");
        assert_eq!(f.status, Status::Fail);
        assert!(f.reason.contains("dangerous_allow_any_source"));
    }

    #[test]
    fn loose_preauth_limits_warn() {
        let mut cfg = Config::default();
        assert_eq!(status(&cfg, &good_host(), "preauth-limits"), Status::Pass);
        cfg.limits.handshake_timeout = Duration::from_secs(120);
        cfg.limits.max_connection_rate_per_ip = 0;
        let f = item(&run(&cfg, &good_host()), "preauth-limits");
        assert_eq!(f.status, Status::Warn);
        assert!(f.reason.contains("handshake_timeout_secs = 120") && f.reason.contains("rate_per_ip = 0"));
    }

    #[test]
    fn session_limits_configured_or_fixed() {
        let idle = |s: Setting<Option<Duration>>| idle_limit(&s);
        assert_eq!(idle(Setting::Configured(Some(Duration::from_secs(600)))).status, Status::Pass);
        assert_eq!(idle(Setting::Configured(Some(Duration::from_secs(3600)))).status, Status::Warn);
        assert_eq!(idle(Setting::Configured(None)).status, Status::Fail);
        // Not configurable yet: a weakness is reported, not failed.
        let f = idle(Setting::Fixed(None, "never ended"));
        assert_eq!(f.status, Status::Warn);
        assert!(f.reason.starts_with("not configurable yet: never ended"), "{}", f.reason);

        let d = |s: Setting<Option<Duration>>| disconnected_limit(&s).status;
        assert_eq!(d(Setting::Configured(Some(Duration::from_secs(60)))), Status::Pass);
        assert_eq!(d(Setting::Configured(Some(Duration::from_secs(3600)))), Status::Warn);
        assert_eq!(d(Setting::Configured(None)), Status::Fail);

        assert_eq!(clipboard(&Setting::Configured(true)).status, Status::Warn);
        assert_eq!(clipboard(&Setting::Configured(false)).status, Status::Pass);
        assert_eq!(device_redirection(&Setting::Configured(true)).status, Status::Fail);
        let f = device_redirection(&Setting::Fixed(false, "no rdpdr"));
        assert_eq!((f.status, f.reason.as_str()), (Status::Pass, "no rdpdr"));

        let today = SessionPolicy::from_config(&Config::default());
        assert_eq!(today.idle_limit, Setting::Configured(Some(Duration::from_secs(900))));
        assert_eq!(idle_limit(&today.idle_limit).status, Status::Pass);
        // 8 h: above the benchmark's 1 minute, by choice (resuming is the point).
        let f = disconnected_limit(&today.disconnected_limit);
        assert_eq!(f.status, Status::Warn);
        assert!(f.reason.contains("are ended after 8 h ([session] disconnected_end_secs)"), "{}", f.reason);
        assert!(matches!(today.clipboard_shared, Setting::Configured(true)));
    }

    #[test]
    fn the_metrics_endpoint_stays_on_this_host() {
        let mut cfg = Config::default();
        let f = metrics_endpoint(&cfg);
        assert_eq!((f.status, f.reason.as_str()), (Status::Pass, "on 127.0.0.1:9393, loopback only"));
        cfg.metrics.listen = None;
        assert_eq!(metrics_endpoint(&cfg).status, Status::Pass);
        cfg.metrics.listen = Some("0.0.0.0:9393".parse().unwrap());
        cfg.metrics.dangerous_allow_remote = true;
        let f = metrics_endpoint(&cfg);
        assert_eq!(f.status, Status::Fail);
        assert!(f.reason.contains("dangerous_allow_remote"), "{}", f.reason);
    }

    #[test]
    fn workers_must_be_confined_in_a_free_uid_range() {
        let mut cfg = Config::default();
        assert_eq!(worker_uids(&cfg, &Ok(Vec::new())).status, Status::Pass);
        let f = worker_uids(&cfg, &Ok(vec!["user odd (2000000005)".into()]));
        assert_eq!(f.status, Status::Fail);
        assert!(f.reason.contains("user odd"));
        assert_eq!(worker_uids(&cfg, &Err("no /etc/passwd".into())).status, Status::Fail);
        cfg.server.insecure_no_privsep = true;
        assert_eq!(worker_uids(&cfg, &Ok(Vec::new())).status, Status::Fail);
    }

    #[test]
    fn certificate_validity_window() {
        let mut host = good_host();
        let cert = |nb: i64, na: i64| Observed::Present(CertFacts {
            not_before: nb,
            not_after: na,
            ..rsa_cert(2048)
        });
        host.tls.certificate = cert(NOW - 10 * DAY, NOW - 2 * DAY);
        let f = certificate_validity(&host.tls, NOW);
        assert_eq!(f.status, Status::Fail);
        assert!(f.reason.contains("expired 2 day(s) ago"), "{}", f.reason);
        host.tls.certificate = cert(NOW + 10, NOW + 400 * DAY);
        assert_eq!(certificate_validity(&host.tls, NOW).status, Status::Fail);
        host.tls.certificate = cert(NOW - DAY, NOW + 10 * DAY);
        let f = certificate_validity(&host.tls, NOW);
        assert_eq!(f.status, Status::Warn);
        assert!(f.reason.contains("expires in 10 day(s)"), "{}", f.reason);
        host.tls.certificate = cert(NOW - DAY, NOW + 400 * DAY);
        assert_eq!(certificate_validity(&host.tls, NOW).status, Status::Pass);
        // The edge of the window: not_after is the first second it is no longer valid.
        host.tls.certificate = cert(NOW - DAY, NOW);
        assert_eq!(certificate_validity(&host.tls, NOW).status, Status::Fail);
    }

    #[test]
    fn missing_certificate_is_fine_only_when_generated() {
        let mut tls = good_host().tls;
        tls.certificate = Observed::Missing;
        tls.key.facts = Observed::Missing;
        assert_eq!(certificate_validity(&tls, NOW).status, Status::Pass);
        assert_eq!(certificate_key(&tls).status, Status::Pass);
        assert_eq!(tls_key_mode(&tls).status, Status::Pass);
        tls.admin_supplied = true;
        assert_eq!(certificate_validity(&tls, NOW).status, Status::Fail);
        assert_eq!(certificate_key(&tls).status, Status::Fail);
        assert_eq!(tls_key_mode(&tls).status, Status::Fail);
        tls.certificate = Observed::Unreadable("not a valid PEM certificate".into());
        assert_eq!(certificate_validity(&tls, NOW).status, Status::Fail);
    }

    #[test]
    fn certificate_key_sizes() {
        let mut tls = good_host().tls;
        let with = |tls: &mut TlsFacts, key| {
            tls.certificate = Observed::Present(CertFacts { key, ..rsa_cert(0) });
            certificate_key(tls).status
        };
        assert_eq!(with(&mut tls, PublicKey::Rsa { bits: 2048 }), Status::Pass);
        assert_eq!(with(&mut tls, PublicKey::Rsa { bits: 4096 }), Status::Pass);
        assert_eq!(with(&mut tls, PublicKey::Rsa { bits: 2047 }), Status::Fail);
        assert_eq!(with(&mut tls, PublicKey::Ec { curve: "P-256".into() }), Status::Pass);
        assert_eq!(with(&mut tls, PublicKey::Other { algorithm: "1.2.3".into() }), Status::Warn);
    }

    #[test]
    fn certificates_are_parsed() {
        let weak = certificate_facts(RSA_1024_PEM).unwrap();
        assert_eq!(weak.key, PublicKey::Rsa { bits: 1024 });
        assert!(weak.self_signed);
        // 2026-12-02T03:42:15Z, for 36500 days.
        assert_eq!(weak.not_before, 1_796_182_935);
        assert_eq!(weak.not_after, 1_796_182_935 + 36_500 * DAY);

        let ec = certificate_facts(EC_P256_PEM).unwrap();
        assert_eq!(ec.key, PublicKey::Ec { curve: "P-256".into() });

        // What serve generates: RSA-2048, valid now.
        let generated = rampart_protocol::tls::TlsIdentity::generate().unwrap();
        let facts = certificate_facts(&generated.cert_pem).unwrap();
        assert_eq!(facts.key, PublicKey::Rsa { bits: 2048 });
        assert!(facts.not_before < facts.not_after);

        // The leaf is the first block of a chain.
        let chain = format!("{RSA_1024_PEM}{EC_P256_PEM}");
        assert_eq!(certificate_facts(&chain).unwrap().key, PublicKey::Rsa { bits: 1024 });

        assert!(certificate_facts("").unwrap_err().contains("no certificate"));
        let broken = RSA_1024_PEM.replace("MIIB/DCC", "MIIB/XXX");
        assert!(certificate_facts(&broken).is_err());
    }

    #[test]
    fn file_modes_and_owner() {
        let check = |facts: Observed<FileFacts>, want: u32, dir: bool| {
            private_file("x", "x", &at("/p", facts), want, dir, "later")
        };
        assert_eq!(check(file(0o700, true), 0o700, true).status, Status::Pass);
        let f = check(file(0o755, true), 0o700, true);
        assert_eq!(f.status, Status::Fail);
        assert!(f.reason.contains("mode 0755 (want 0700: chmod 700 /p)"), "{}", f.reason);
        assert_eq!(check(file(0o600, false), 0o600, false).status, Status::Pass);
        assert_eq!(check(file(0o400, false), 0o600, false).status, Status::Pass, "stricter is fine");
        assert_eq!(check(file(0o640, false), 0o600, false).status, Status::Fail);
        assert_eq!(check(file(0o4600, false), 0o600, false).status, Status::Fail, "setuid bit");
        let other_owner = Observed::Present(FileFacts { mode: 0o600, uid: 1000, is_dir: false });
        let f = check(other_owner, 0o600, false);
        assert_eq!(f.status, Status::Fail);
        assert!(f.reason.contains("owner uid 1000"));
        assert_eq!(check(file(0o700, false), 0o700, true).status, Status::Fail, "not a directory");
        assert_eq!(check(Observed::Missing, 0o600, false).status, Status::Pass);
        assert_eq!(check(Observed::Unreadable("denied".into()), 0o600, false).status, Status::Fail);
    }

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0, 0]), 0);
        assert_eq!(bit_length(&[1]), 1);
        assert_eq!(bit_length(&[0, 0x80, 0]), 16);
        assert_eq!(bit_length(&[0x7f, 0xff]), 15);
    }
}
