//! The privileged supervisor: owns the listening socket, the store and the desktop
//! sessions; starts one unprivileged worker process per admitted connection and answers
//! its few requests (the TLS handshake signature, the NTLM challenge and the check of the
//! client's proof, the second factor, session start). It holds every secret and decides
//! authentication itself; a worker that asks for anything out of turn is killed.
//!
//! Shape after mini-redis (accept loop, one task per connection, shutdown on signal) and
//! OpenSSH privilege separation (the process that parses the peer's bytes holds nothing
//! it does not need; the monitor acts only on a narrow request enum).

use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use rampart_audit::{Event, EventKind, Outcome, UnixMillis};
use rampart_desktop::session::LeaderCommand;
use rampart_desktop::{DesktopError, SessionConfig, SessionManager, UnixAccount};
use rampart_policy::{
    AccessGrant, AccessState, Admission, Ban, Guard, GuardAction, GuardState, IpNet, Verdict,
};
use rampart_store::Store;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tracing::{error, info, warn};

use admission_slot::{AdmissionSlot, AdmissionTable};
use audit_writer::{AuditWriter, OnStored};
use crate::clipboard::{ClipboardGrant, ClipboardTally};
use crate::ipc::{
    self, CloseFault, CodeVerdict, HexBytes, NtlmClaim, NtlmVerdict, SessionGrant, SessionKeyHex, ShadowTarget,
    ToSupervisor, ToWorker, TypedCode, WorkerInit,
};
use logon::{LogonDecision, LogonFacts};
use rampart_policy::{Decided, Monitor, Request, Stage, Violation};
use crate::options::{DesktopMode, ServeOptions};
use crate::worker::prompt::NOT_ENROLLED;
use crate::tls::{IdentitySource, TlsIdentity};
use crate::tls_signing::HandshakeKey;
use rampart_auth::ntlm::IssuedChallenge;

mod admission_slot;
mod audit_writer;
pub mod control;
pub(crate) mod forward;
mod guard_memory;
pub(crate) mod jail;
pub(crate) mod logon;
pub(crate) mod metrics;
pub(crate) mod roster;
mod sessions;
pub mod systemd_notify;
/// Session sizes honoured from a client (memory per session grows with the area).
const MIN_DIM: u16 = 200;
const MAX_DIM: u16 = 4096;

/// Start the server and serve until SIGINT/SIGTERM.
pub fn serve(opts: ServeOptions) -> anyhow::Result<()> {
    keep_secrets_in_memory()?;
    create_private_dir(&opts.state_dir)?;
    let store = Store::open(&opts.state_dir.join("rampart.db"), &opts.host_key)
        .with_context(|| format!("cannot open the store in {}", opts.state_dir.display()))?;
    let (identity, source) = TlsIdentity::load_or_generate(
        &opts.state_dir,
        opts.tls_certificate.as_deref(),
        opts.tls_private_key.as_deref(),
    )?;
    let fingerprint = identity.fingerprint()?;
    match &source {
        IdentitySource::Generated(p) => info!(path = %p.display(), "generated a new self-signed certificate"),
        IdentitySource::Existing(p) | IdentitySource::Admin(p) => info!(path = %p.display(), "using certificate"),
    }
    info!(%fingerprint, "certificate sha-256 fingerprint");
    eprintln!("rampart: certificate sha256 fingerprint {fingerprint}");
    // The key stays in this process; workers ask for the one signature a handshake needs.
    let handshake_key = HandshakeKey::new(&identity.private_key()?).context("the tls private key cannot sign")?;

    let jail = worker_jail(&opts)?;
    if opts.guard.dangerous_allow_any_source {
        warn!("dangerous_allow_any_source is set: every address on the internet may try to log in");
        eprintln!("rampart: WARNING: dangerous_allow_any_source is set; the source allowlist is off");
    }
    let now = now_millis();
    let stored_bans = store.bans().context("cannot read bans from the store")?;
    let (known_good, failures) = guard_memory::load(&store, &opts.guard.policy, now)
        .context("cannot read the guard's known-good sources and failure counts from the store")?;
    let guard = Guard::restore(
        GuardState {
            bans: stored_bans.iter().filter_map(ban_from_record).collect(),
            known_good,
            failures,
            ..Default::default()
        },
        opts.guard.policy.clone(),
    );
    let active = guard.bans(now).len();
    if active > 0 {
        info!(active, "restored bans from the store");
    }
    let grants = grants_from_store(&store, now);
    if let Some(schedule) = &opts.access.schedule {
        info!(%schedule, "access windows");
    }
    let fail2ban = match &opts.guard.fail2ban_log {
        Some(path) => Some(Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("cannot open fail2ban_log {}", path.display()))?,
        )),
        None => None,
    };
    let forward = match &opts.audit.forward {
        Some(target) => Some(Arc::new(
            forward::Forwarder::new(target.clone()).context("cannot create the audit forwarding socket")?,
        )),
        None => None,
    };
    let sessions = match &opts.desktop {
        DesktopMode::Session(s) => {
            let manager = SessionManager::new(SessionConfig {
                runtime_dir: opts.runtime_dir.join("sessions"),
                server: s.x_server.clone(),
                default_command: s.default_command.clone(),
                use_xsession: s.use_xsession,
                depth: 24,
                allow_root: opts.allow_root,
                // The supervisor's own binary, `rampart session-leader`.
                leader: LeaderCommand::default(),
                pam_service: rampart_desktop::login::PAM_SERVICE.to_owned(),
            });
            check_private_displays(&manager)?;
            warn_without_pam_service();
            Some(Mutex::new(manager))
        }
        DesktopMode::Shadow { .. } => None,
    };
    let shadow = match &opts.desktop {
        DesktopMode::Shadow {
            display: name,
            view_only,
            users,
        } => {
            let target = rampart_desktop::shadow_target(name)
                .with_context(|| format!("cannot reach the display {name} to shadow"))?;
            let owner = rampart_desktop::display_owner(name)
                .with_context(|| format!("cannot tell which account owns the display {name}"))?;
            info!(display = %name, view_only = *view_only, owner_uid = owner, also = ?users, "shadow mode: sharing an existing display with its owner");
            Some(Shadow {
                target: ShadowTarget {
                    display: target.display.clone(),
                    cookie_hex: target.cookie.as_deref().map(hex::encode),
                    view_only: *view_only,
                },
                owner,
                users: users.iter().map(|u| u.to_lowercase()).collect(),
            })
        }
        DesktopMode::Session(_) => None,
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("tokio runtime")?;
    runtime.block_on(async move {
        // Bind once up front so a bad address or a taken port is a start-up error, even when
        // the access schedule keeps the port closed right now.
        let listener = TcpListener::bind(opts.listen)
            .await
            .with_context(|| format!("cannot listen on {}", opts.listen))?;
        let limits = opts.limits;
        let store = Arc::new(Mutex::new(store));
        let audit_writer = AuditWriter::spawn(Arc::clone(&store), stored_hook(forward));
        let supervisor = Arc::new(Supervisor {
            exe: worker_program()?,
            identity,
            handshake_key,
            store,
            audit_writer,
            sessions,
            // Keyed like bans: IPv6 sources per `ipv6_ban_prefix` network.
            admission: Arc::new(Mutex::new(Admission::new(
                limits.admission(),
                opts.guard.policy.ipv6_prefix,
            ))),
            next_connection: AtomicU64::new(1),
            jail,
            shadow,
            guard: Mutex::new(guard),
            grants: Mutex::new(grants),
            refusals: Mutex::new(std::collections::HashMap::new()),
            live: Mutex::new(std::collections::HashMap::new()),
            roster: roster::Roster::new(now_millis()),
            metrics: Arc::new(metrics::Metrics::new()),
            fail2ban,
            opts,
        });
        supervisor.run(listener).await
    })
}

fn create_private_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let meta = std::fs::metadata(dir).with_context(|| format!("cannot stat {}", dir.display()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot restrict {}", dir.display()))?;
    }
    Ok(())
}

/// This process holds the TLS key, the host key and opened NT hashes: no core dump may
/// write them out and no other process of the same uid may read its memory. Not
/// dumpable (reset at `execve`, so sessions and workers are not affected by it) and a
/// soft core limit of 0 (the hard limit stays, so a session may raise its own).
fn keep_secrets_in_memory() -> anyhow::Result<()> {
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .context("cannot make the supervisor not dumpable")?;
    let core = rustix::process::getrlimit(rustix::process::Resource::Core);
    rustix::process::setrlimit(
        rustix::process::Resource::Core,
        rustix::process::Rlimit {
            current: Some(0),
            maximum: core.maximum,
        },
    )
    .context("cannot turn core dumps off")?;
    Ok(())
}

/// Refuses to serve unless a display started the way sessions are started admits only
/// clients with its cookie (an X server that cannot read its cookie admits everyone).
/// The probe runs as the unprivileged worker account, never root, so a runtime directory
/// that only root can enter fails here rather than at the first login.
fn check_private_displays(manager: &SessionManager) -> anyhow::Result<()> {
    if !rustix::process::geteuid().is_root() {
        // Sessions as another user need root; without it no session starts at all.
        return Ok(());
    }
    // Any account but root will do: `nobody` is on every Debian system.
    let probe_user = "nobody";
    let account = UnixAccount::lookup(probe_user)
        .with_context(|| format!("the display check runs as {probe_user:?}, which is not a unix account on this host"))?;
    manager
        .self_test(&account)
        .context("session displays would not be private to their owners; refusing to serve")?;
    info!("session display check passed: a client without the cookie is refused");
    Ok(())
}

/// Sessions are PAM logins of the `rampart` service; without its file PAM falls back to
/// `other`, which on Debian skips pam_limits and pam_nologin. Said at every start.
fn warn_without_pam_service() {
    let files = rampart_desktop::login::PAM_SERVICE_FILES;
    let [usual, _] = files;
    if !files.iter().any(|f| std::path::Path::new(f).exists()) {
        warn!(missing = usual, "no pam service file for rampart; session logins use pam's \"other\" service");
        eprintln!(
            "rampart: WARNING: {usual} is missing: session logins use PAM's \"other\" service (no pam_limits, no pam_nologin); install packaging/pam.d/rampart there"
        );
    }
}

/// Where workers are confined (their uids and empty root), or `None` when the server is
/// not root and `insecure_no_privsep` says to serve anyway.
fn worker_jail(opts: &ServeOptions) -> anyhow::Result<Option<jail::Jail>> {
    if !rustix::process::geteuid().is_root() {
        if !opts.insecure_no_privsep {
            anyhow::bail!(
                "not running as root: workers cannot be confined (own uid, namespaces, chroot, \
                 seccomp), so a bug in the code that parses a stranger's bytes would run with \
                 this server's rights; run as root, or set [server] insecure_no_privsep = true \
                 to serve anyway (for development only)"
            );
        }
        warn!("insecure_no_privsep: workers run unconfined, as this server's user");
        eprintln!("rampart: WARNING: insecure_no_privsep is set; workers are not confined");
        return Ok(None);
    }
    let slots = opts.limits.max_connections_total.max(1);
    let jail = jail::Jail::prepare(&opts.runtime_dir, opts.worker_uid_base, slots)
        .context("cannot prepare the workers' confinement")?;
    info!(base = opts.worker_uid_base, slots, "workers run confined, each as its own uid");
    Ok(Some(jail))
}

pub(crate) fn now_millis() -> UnixMillis {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    UnixMillis(ms)
}

struct Supervisor {
    opts: ServeOptions,
    exe: PathBuf,
    identity: TlsIdentity,
    /// The TLS private key: signs workers' handshakes, never leaves this process.
    handshake_key: HandshakeKey,
    store: Arc<Mutex<Store>>,
    /// The one task that appends audit events (batched; see `audit_writer`).
    audit_writer: AuditWriter,
    sessions: Option<Mutex<SessionManager>>,
    /// Admission caps; each connection holds an [`AdmissionSlot`] that gives its slots back.
    admission: AdmissionTable,
    next_connection: AtomicU64,
    /// Worker confinement (`None` only with `insecure_no_privsep`).
    jail: Option<jail::Jail>,
    shadow: Option<Shadow>,
    guard: Mutex<Guard>,
    /// Just-in-time access grants (`rampart access open`), synced from the store.
    grants: Mutex<Vec<AccessGrant>>,
    /// Authenticated connections by id: (lowercased user, the connection's kick signal).
    live: Mutex<std::collections::HashMap<u64, (String, Arc<tokio::sync::Notify>)>>,
    /// Live connections and desktops, for `rampart status` and the session limits.
    roster: roster::Roster,
    metrics: Arc<metrics::Metrics>,
    /// Last audited refusal per source, so a flood from one banned address costs one
    /// audit write per interval instead of one per connection.
    refusals: Mutex<std::collections::HashMap<std::net::IpAddr, (UnixMillis, u32)>>,
    fail2ban: Option<Mutex<std::fs::File>>,
}

/// An audit event could not be written (the store said why, in the log).
#[derive(Debug, thiserror::Error)]
#[error("audit event not stored")]
struct AuditNotStored;

/// How often retention prunes the audit trail (also once at start-up).
const AUDIT_PRUNE_INTERVAL: Duration = Duration::from_secs(60 * 60);

/// Shadow mode: the shared display and who may have it.
struct Shadow {
    target: ShadowTarget,
    /// The uid the display's X server runs as (the owner of its socket).
    owner: u32,
    /// Rampart users (lowercased) who may shadow besides the owner's accounts.
    users: Vec<String>,
}

impl Shadow {
    /// Whether `rdp_user`, mapped to the Unix account `uid`, may watch the display.
    fn admits(&self, rdp_user: &str, uid: u32) -> bool {
        uid == self.owner || self.users.contains(&rdp_user.to_lowercase())
    }
}

/// How often a refused source gets an audit event while it keeps knocking.
const REFUSAL_AUDIT_INTERVAL_MS: i64 = 10_000;
/// Sources whose refusal counters are tracked at once (bounded memory under a flood).
const MAX_REFUSAL_ENTRIES: usize = 10_000;

fn grants_from_store(store: &Store, now: UnixMillis) -> Vec<AccessGrant> {
    match store.access_grants(now) {
        Ok(records) => records
            .iter()
            .filter_map(|r| {
                let net = match &r.net {
                    Some(text) => Some(text.parse::<IpNet>().ok()?),
                    None => None,
                };
                Some(AccessGrant { net, until: r.until })
            })
            .collect(),
        Err(err) => {
            warn!(%err, "cannot read access grants");
            Vec::new()
        }
    }
}

/// What the audit writer does with each event once it is on disk: `[audit] syslog`
/// forwarding, when on.
fn stored_hook(forward: Option<Arc<forward::Forwarder>>) -> OnStored {
    Arc::new(move |seq, event, hash| {
        if let Some(forward) = &forward {
            forward.send(seq, event, hash);
        }
    })
}

fn ban_from_record(record: &rampart_store::BanRecord) -> Option<Ban> {
    let net: IpNet = record.net.parse().ok()?;
    Some(Ban {
        net,
        until: record.until,
        repeat: record.repeat,
    })
}

impl Supervisor {
    async fn run(self: Arc<Self>, listener: TcpListener) -> anyhow::Result<()> {
        let operations = self.start_operations().await?;
        let reaper = tokio::spawn(Arc::clone(&self).reap_sessions());
        let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let mut backoff = Duration::from_millis(10);
        // The port is open only while the access policy says so; outside every window the
        // socket is closed, so a scanner sees nothing listening.
        let mut listener = Some(listener);
        let mut announced = false;
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            let open = self.port_open(now_millis());
            if open && listener.is_none() {
                match TcpListener::bind(self.opts.listen).await {
                    Ok(l) => {
                        info!(listen = %self.opts.listen, "access window open: port open");
                        listener = Some(l);
                    }
                    Err(err) => warn!(%err, "cannot reopen the listening socket; retrying"),
                }
            } else if !open && listener.is_some() {
                listener = None;
                info!(listen = %self.opts.listen, "outside every access window: port closed");
                if !announced {
                    eprintln!("rampart: outside every access window; port {} closed", self.opts.listen);
                }
            }
            if !announced {
                if let Some(l) = &listener {
                    let local = l.local_addr()?;
                    info!(%local, "listening");
                    eprintln!("rampart: listening on {local}");
                }
                systemd_notify::ready(listener.as_ref().and_then(|l| l.local_addr().ok()));
                announced = true;
            }
            tokio::select! {
                accepted = accept_on(listener.as_ref()) => match accepted {
                    Ok((stream, peer)) => {
                        backoff = Duration::from_millis(10);
                        // The accept loop never waits on disk or fork: each connection is
                        // decided and started on its own task.
                        tokio::spawn(Arc::clone(&self).admit(stream, peer));
                    }
                    Err(err) => {
                        // EMFILE and friends: back off instead of spinning (mini-redis).
                        warn!(%err, "accept failed");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(1));
                    }
                },
                _ = tick.tick() => {}
                _ = tokio::signal::ctrl_c() => break,
                _ = sigterm.recv() => break,
            }
        }
        info!("shutting down");
        systemd_notify::stopping();
        reaper.abort();
        operations.stop();
        self.flush_refusals().await;
        let written = self.audit_writer.stats();
        info!(events = written.events(), transactions = written.batches(), "audit events written");
        if let Some(sessions) = &self.sessions {
            if let Ok(mut s) = sessions.lock() {
                s.shutdown_all();
            }
        }
        Ok(())
    }

    /// The access decision at `now` (windows and grants).
    fn access_state(&self, now: UnixMillis) -> AccessState {
        let grants = self.grants.lock().map(|g| g.clone()).unwrap_or_default();
        rampart_policy::decide(self.opts.access.schedule.as_ref(), &grants, now)
    }

    /// Whether the listening socket should be open at `now`.
    fn port_open(&self, now: UnixMillis) -> bool {
        self.access_state(now).is_listening()
    }

    async fn reap_sessions(self: Arc<Self>) {
        let mut tick = tokio::time::interval(Duration::from_secs(2));
        let mut last_prune: Option<tokio::time::Instant> = None;
        loop {
            tick.tick().await;
            self.sync_from_store().await;
            if last_prune.is_none_or(|t| t.elapsed() >= AUDIT_PRUNE_INTERVAL) {
                last_prune = Some(tokio::time::Instant::now());
                self.prune_audit(now_millis()).await;
                let guard = self.opts.guard.policy.clone();
                let pruned = self
                    .with_store(move |store| Ok(guard_memory::prune(store, &guard, now_millis())?))
                    .await;
                if let Err(err) = pruned {
                    warn!(error = %format!("{err:#}"), "cannot prune the guard's memory in the store");
                }
            }
            if self.sessions.is_none() {
                continue;
            }
            let this = Arc::clone(&self);
            let ended = tokio::task::spawn_blocking(move || {
                this.sessions
                    .as_ref()
                    .and_then(|s| s.lock().ok().map(|mut s| s.reap()))
                    .unwrap_or_default()
            })
            .await
            .unwrap_or_default();
            for user in ended {
                info!(%user, "session ended");
                self.roster.forget(&user);
                let _ = self
                    .audit(Event::new(now_millis(), EventKind::SessionEnded, Outcome::Info).with_user(user))
                    .await;
            }
        }
    }

    /// Run `work` on the store, off the async threads (SQLite calls block, and audit writes
    /// wait for fsync).
    async fn with_store<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&mut Store) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let mut store = this.store.lock().map_err(|_| anyhow::anyhow!("store lock poisoned"))?;
            work(&mut store)
        })
        .await
        .context("store task")?
    }

    /// Merge the store's bans into the guard's and take its access grants (picks up
    /// `rampart ban` and `rampart access` changes), and forget what has expired.
    async fn sync_from_store(self: &Arc<Self>) {
        let now = now_millis();
        // Before the read: bans this server writes after it are not lifted by its result.
        let Some(mark) = self.guard.lock().ok().map(|g| g.sync_mark()) else { return };
        let read = self
            .with_store(move |store| Ok((store.bans()?, grants_from_store(store, now), store.list_users()?)))
            .await;
        let (records, grants, users) = match read {
            Ok(read) => read,
            Err(err) => {
                warn!(error = %format!("{err:#}"), "cannot sync bans and grants");
                return;
            }
        };
        if let Ok(mut g) = self.grants.lock() {
            *g = grants;
        }
        let bans: Vec<Ban> = records.iter().filter_map(ban_from_record).collect();
        if let Ok(mut guard) = self.guard.lock() {
            guard.sync_bans(&bans, mark, now);
            guard.prune(now);
        }
        // `rampart user lock` and `user del` end the user's live connections too.
        let allowed: std::collections::HashSet<String> =
            users.iter().filter(|u| !u.locked).map(|u| u.name.to_lowercase()).collect();
        if let Ok(live) = self.live.lock() {
            for (user, kick) in live.values() {
                if !allowed.contains(user) {
                    kick.notify_one();
                }
            }
        }
    }

    /// Write one audit event durably, then forward it if `[audit] syslog` is on. An error
    /// means the event is not on disk (logged here): the caller refuses or ends the
    /// connection the event records, so nothing happens off the record.
    async fn audit(self: &Arc<Self>, event: Event) -> Result<(), AuditNotStored> {
        info!(target: "rampart::audit", "{}", event.to_json_line());
        self.metrics.observe(&event);
        match self.audit_writer.record(event).await {
            Ok(_) => Ok(()),
            Err(err) => {
                error!(error = %err, "audit event not stored; the connection it records is ended");
                Err(AuditNotStored)
            }
        }
    }

    /// Retention: prune the events older than `[audit] keep_days` at `now`.
    async fn prune_audit(self: &Arc<Self>, now: UnixMillis) {
        let Some(before) = self.opts.audit.prune_before(now) else { return };
        match self.with_store(move |store| Ok(store.prune_events(before, now)?)).await {
            Ok(0) => {}
            Ok(pruned) => info!(pruned, before = %before.rfc3339(), "audit events pruned (retention)"),
            Err(err) => error!(error = %format!("{err:#}"), "cannot prune audit events"),
        }
    }

    async fn admit(self: Arc<Self>, stream: TcpStream, peer: SocketAddr) {
        let connection = self.next_connection.fetch_add(1, Ordering::Relaxed);
        let now = now_millis();
        let verdict = match self.guard.lock() {
            Ok(guard) => guard.check_connect(peer.ip(), now),
            Err(_) => return,
        };
        let outside_window = matches!(verdict, Verdict::Allow) && !self.access_state(now).admits(peer.ip());
        let refusal_text = match &verdict {
            Verdict::Refuse(refusal) => Some(refusal.to_string()),
            Verdict::Allow if outside_window => Some(metrics::OUTSIDE_WINDOW.to_owned()),
            Verdict::Allow => None,
        };
        if let Some(refusal) = refusal_text {
            // Dropped before any TLS or process work.
            drop(stream);
            self.refused(peer, connection, refusal, now).await;
            return;
        }
        // Released when dropped: on every return below and when the connection task ends,
        // even by a panic.
        let slot = match AdmissionSlot::admit(&self.admission, peer.ip(), now) {
            Ok(slot) => slot,
            Err(refusal) => {
                drop(stream);
                self.refused(peer, connection, refusal.to_string(), now).await;
                return;
            }
        };
        match self.spawn_worker(stream, peer, connection) {
            Ok((child, channel, lease)) => {
                let recorded = self
                    .audit(
                        Event::new(now_millis(), EventKind::ConnectionAccepted, Outcome::Success)
                            .with_peer(peer)
                            .with_connection(connection),
                    )
                    .await;
                if recorded.is_err() {
                    // Not on record, not served: the worker (killed on drop) goes with it.
                    drop((child, channel, slot));
                    return;
                }
                tokio::spawn(async move {
                    let mut conn = Connection {
                        sup: Arc::clone(&self),
                        connection,
                        peer,
                        slot,
                        monitor: Monitor::new(),
                        challenge: None,
                        user: None,
                        enrolled: false,
                        kick: Arc::new(tokio::sync::Notify::new()),
                        granted_display: None,
                        clipboard: ClipboardGrant::default(),
                        clipboard_use: ClipboardTally::default(),
                    };
                    self.roster.add(connection, peer, now, Arc::clone(&conn.kick));
                    conn.drive(child, channel).await;
                    self.roster.remove(connection, now_millis());
                    // The worker has exited (drive waits for it): its uid is free again.
                    drop(lease);
                    if let Ok(mut live) = self.live.lock() {
                        live.remove(&connection);
                    }
                    // `conn` (and with it the admission slot) is dropped here.
                });
            }
            Err(err) => {
                drop(slot);
                error!(error = %format!("{err:#}"), %peer, "cannot start worker");
                let _ = self.audit(
                    Event::new(now_millis(), EventKind::ConnectionClosed, Outcome::Failure)
                        .with_peer(peer)
                        .with_connection(connection)
                        .with_reason("internal error: cannot start worker"),
                )
                .await;
            }
        }
    }

    /// Audit a refusal at accept, at most once per source per interval (with the count of
    /// those not recorded since), so a flood costs one write per interval, not per connection.
    async fn refused(self: &Arc<Self>, peer: SocketAddr, connection: u64, mut reason: String, now: UnixMillis) {
        self.metrics.refused(&reason);
        let Some(suppressed) = self.refusal_due(peer.ip(), now) else {
            return;
        };
        if suppressed > 0 {
            reason.push_str(&format!(" ({suppressed} more refused since the last record)"));
        }
        warn!(%peer, %reason, "connection refused");
        let _ = self.audit(
            Event::new(now, EventKind::ConnectionRefused, Outcome::Failure)
                .with_peer(peer)
                .with_connection(connection)
                .with_reason(reason),
        )
        .await;
    }

    /// At shutdown: record the refusals not yet on record, so the trail keeps every one.
    async fn flush_refusals(self: &Arc<Self>) {
        let pending: Vec<(std::net::IpAddr, u32)> = match self.refusals.lock() {
            Ok(mut table) => table
                .drain()
                .filter(|(_, (_, n))| *n > 0)
                .map(|(ip, (_, n))| (ip, n))
                .collect(),
            Err(_) => return,
        };
        for (ip, n) in pending {
            let _ = self.audit(
                Event::new(now_millis(), EventKind::ConnectionRefused, Outcome::Failure)
                    .with_peer(SocketAddr::new(ip, 0))
                    .with_reason(format!("{n} more refused since the last record (at shutdown)")),
            )
            .await;
        }
    }

    /// Whether a refusal from `ip` should be audited now; `Some(n)` with the number of
    /// refusals not audited since the last record.
    fn refusal_due(&self, ip: std::net::IpAddr, now: UnixMillis) -> Option<u32> {
        let mut table = self.refusals.lock().ok()?;
        if table.len() >= MAX_REFUSAL_ENTRIES && !table.contains_key(&ip) {
            table.retain(|_, (last, _)| now.0 - last.0 < REFUSAL_AUDIT_INTERVAL_MS);
            if table.len() >= MAX_REFUSAL_ENTRIES {
                table.clear();
            }
        }
        match table.get_mut(&ip) {
            Some((last, suppressed)) if now.0 - last.0 < REFUSAL_AUDIT_INTERVAL_MS => {
                *suppressed = suppressed.saturating_add(1);
                None
            }
            Some((last, suppressed)) => {
                let n = *suppressed;
                *last = now;
                *suppressed = 0;
                Some(n)
            }
            None => {
                table.insert(ip, (now, 0));
                Some(0)
            }
        }
    }

    fn spawn_worker(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
        connection: u64,
    ) -> anyhow::Result<(tokio::process::Child, tokio::net::UnixStream, Option<jail::UidLease>)> {
        // The worker's own uid: taken before anything starts, given back once it has exited.
        let lease = match &self.jail {
            Some(jail) => Some(jail.lease().context("no worker uid free")?),
            None => None,
        };
        let socket: OwnedFd = stream.into_std().context("detach socket")?.into();
        // The socket must be blocking for the child's own runtime to set up as it likes.
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().context("ipc socket pair")?;
        let mut cmd = tokio::process::Command::new(&self.exe);
        cmd.arg("worker")
            .stdin(Stdio::from(socket))
            .stdout(Stdio::from(OwnedFd::from(theirs)))
            // Never the supervisor's own stderr (a terminal, maybe): a pipe we read.
            .stderr(Stdio::piped())
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .kill_on_drop(true);
        if let Ok(filter) = std::env::var("RUST_LOG") {
            cmd.env("RUST_LOG", filter);
        }
        let mut child = cmd.spawn().context("spawn worker process")?;
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(relay_worker_log(stderr, connection));
        }
        ours.set_nonblocking(true)?;
        let channel = tokio::net::UnixStream::from_std(ours)?;
        let (default_width, default_height) = match &self.opts.desktop {
            DesktopMode::Session(s) => (s.default_width, s.default_height),
            DesktopMode::Shadow { .. } => (1024, 768),
        };
        let init = WorkerInit {
            connection,
            peer,
            cert_pem: self.identity.cert_pem.clone(),
            signature_schemes: self.handshake_key.schemes().iter().map(|s| u16::from(*s)).collect(),
            max_preauth_bytes: self.opts.limits.max_preauth_bytes,
            default_width,
            default_height,
            confinement: match (&self.jail, &lease) {
                (Some(jail), Some(lease)) => Some(jail.confinement(lease)),
                _ => None,
            },
            clipboard: self.opts.clipboard.ever_on(),
            h264: self.opts.h264,
        };
        // The init line fits the socket buffer; write it synchronously before the task starts.
        let line = ipc::encode(&ToWorker::Init(init))?;
        let std_channel = channel.into_std()?;
        std_channel.set_nonblocking(false)?;
        std::io::Write::write_all(&mut &std_channel, &line).context("send init to worker")?;
        std_channel.set_nonblocking(true)?;
        let channel = tokio::net::UnixStream::from_std(std_channel)?;
        Ok((child, channel, lease))
    }
}

/// The program each connection's worker runs: this very binary (`rampart worker`). Debug
/// builds only, for the e2e suite's lying worker (`tests/e2e/lying_worker.py`), take
/// `RAMPART_TEST_WORKER_PROGRAM` instead; release builds have no such switch.
fn worker_program() -> anyhow::Result<PathBuf> {
    #[cfg(debug_assertions)]
    if let Some(program) = std::env::var_os("RAMPART_TEST_WORKER_PROGRAM") {
        warn!(program = ?program, "debug build: workers are RAMPART_TEST_WORKER_PROGRAM, not rampart");
        return Ok(PathBuf::from(program));
    }
    std::env::current_exe().context("cannot find own executable")
}

/// The supervisor's record of one connection.
struct Connection {
    sup: Arc<Supervisor>,
    connection: u64,
    peer: SocketAddr,
    /// This connection's admission slots, given back when the connection is dropped.
    slot: AdmissionSlot,
    /// Which request the worker may make now, and how often: the monitor's rules
    /// (`rampart_policy::Monitor`). Only this supervisor's decisions move it on.
    monitor: Monitor,
    /// The NTLM challenge handed out (once per connection).
    challenge: Option<IssuedChallenge>,
    /// (canonical name, unix user), set only when this supervisor verified the user's proof.
    user: Option<(String, String)>,
    /// The user has a TOTP secret (when a second factor is due).
    enrolled: bool,
    /// Notified when the store says the authenticated user was locked or deleted.
    kick: Arc<tokio::sync::Notify>,
    /// The display granted to this connection (`:N`), once there is one.
    granted_display: Option<String>,
    /// The clipboard the session was granted, and what the worker reported moving.
    clipboard: ClipboardGrant,
    clipboard_use: ClipboardTally,
}

/// Stands in for "no deadline" in the connection loop.
const NO_DEADLINE: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// Slack on top of the prompt timeout before the supervisor kills a worker that did not
/// close its own prompt.
const PROMPT_DEADLINE_SLACK: Duration = Duration::from_secs(5);

enum Step {
    Continue,
    Stop,
    /// The worker asked for something out of turn: end it now.
    Kill,
}

impl Connection {
    fn event(&self, kind: EventKind, outcome: Outcome) -> Event {
        let mut ev = Event::new(now_millis(), kind, outcome)
            .with_peer(self.peer)
            .with_connection(self.connection);
        if let Some((name, _)) = &self.user {
            ev = ev.with_user(name.clone());
        }
        ev
    }

    async fn drive(&mut self, mut child: tokio::process::Child, channel: tokio::net::UnixStream) {
        let (read, mut write) = channel.into_split();
        let mut reader = BufReader::new(read);
        let handshake_deadline = tokio::time::Instant::now() + self.sup.opts.limits.handshake_timeout;
        let mut closed_reported = false;
        loop {
            let deadline = match self.monitor.stage() {
                Stage::Handshake => Some((handshake_deadline, EventKind::HandshakeAborted, "handshake deadline")),
                Stage::SecondFactor { deadline, .. } => {
                    let left = Duration::from_millis(u64::try_from(deadline.0.saturating_sub(now_millis().0)).unwrap_or(0));
                    Some((tokio::time::Instant::now() + left, EventKind::MfaFailed, "two-step prompt timed out"))
                }
                Stage::Authenticated { .. } | Stage::Session { .. } | Stage::Finished => None,
            };
            // No deadline once every factor passed: a year stands in for "never".
            let (until, kind, why) =
                deadline.unwrap_or((tokio::time::Instant::now() + NO_DEADLINE, EventKind::ConnectionClosed, ""));
            let kick = Arc::clone(&self.kick);
            let line = tokio::select! {
                () = kick.notified() => {
                    // Losing a partly read line does not matter: the worker is going.
                    let _ = child.start_kill();
                    // Told to go by a session limit or an administrator, or (no reason) the
                    // store says the account was locked or deleted.
                    let why = self
                        .sup
                        .roster
                        .leaving_reason(self.connection)
                        .unwrap_or_else(|| "account locked or deleted by an administrator".to_owned());
                    warn!(peer = %self.peer, %why, "connection ended");
                    let ev = self.event(EventKind::ConnectionClosed, Outcome::Info).with_reason(why);
                    let _ = self.sup.audit(ev).await;
                    closed_reported = true;
                    break;
                }
                read = tokio::time::timeout_at(until, read_line(&mut reader)) => match read {
                    Ok(line) => line,
                    Err(_) => {
                        let _ = child.start_kill();
                        warn!(peer = %self.peer, why, "deadline passed; worker killed");
                        let ev = self.event(kind, Outcome::Failure).with_reason(why);
                        let _ = self.sup.audit(ev).await;
                        closed_reported = true;
                        break;
                    }
                },
            };
            let msg = match line {
                Ok(Some(line)) => match serde_json::from_slice::<ToSupervisor>(&line) {
                    Ok(msg) => msg,
                    Err(err) => {
                        // Not a message a worker of ours sends: audited like any other breach.
                        let _ = child.start_kill();
                        self.kill_worker(&format!("malformed message ({err})")).await;
                        closed_reported = true;
                        break;
                    }
                },
                Ok(None) => break,
                Err(err) if err.kind() == std::io::ErrorKind::InvalidData => {
                    let _ = child.start_kill();
                    self.kill_worker(&err.to_string()).await;
                    closed_reported = true;
                    break;
                }
                Err(err) => {
                    warn!(%err, "worker channel failed; killing it");
                    let _ = child.start_kill();
                    break;
                }
            };
            match self.handle(msg, &mut write).await {
                Step::Continue => {}
                Step::Stop => {
                    closed_reported = true;
                    break;
                }
                Step::Kill => {
                    let _ = child.start_kill();
                    closed_reported = true;
                    break;
                }
            }
        }
        let status = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
        if !closed_reported {
            let reason = match status {
                Ok(Ok(s)) => format!("worker exited without a report: {s}"),
                _ => "worker did not exit".to_owned(),
            };
            let _ = child.start_kill();
            let ev = self.event(EventKind::ConnectionClosed, Outcome::Failure).with_reason(reason);
            let _ = self.sup.audit(ev).await;
        }
        // Clipboard use, once per connection: counts and sizes, never the content.
        for reason in self.clipboard_use.audit_reasons() {
            let ev = self.event(EventKind::ClipboardTransfer, Outcome::Info).with_reason(reason);
            // The connection is over either way; a failed write is logged by `audit`.
            let _ = self.sup.audit(ev).await;
        }
        if self.granted_display.is_some() {
            let mut ev = self.event(EventKind::SessionDisconnected, Outcome::Info);
            if let Some(why) = self.sup.roster.leaving_reason(self.connection) {
                ev = ev.with_reason(why);
            }
            let _ = self.sup.audit(ev).await;
        }
        self.sup.metrics.closed(self.progress());
    }

    async fn handle(&mut self, msg: ToSupervisor, write: &mut tokio::net::unix::OwnedWriteHalf) -> Step {
        // Every request passes the monitor first: out of place or too often ends the worker.
        let request = match &msg {
            ToSupervisor::SignHandshake { .. } => Request::SignHandshake,
            ToSupervisor::NtlmChallenge => Request::NtlmChallenge,
            ToSupervisor::NtlmVerify(_) => Request::NtlmVerify,
            ToSupervisor::VerifyCode { .. } => Request::VerifyCode,
            ToSupervisor::OpenSession { .. } => Request::OpenSession,
            ToSupervisor::OpenDisplay => Request::OpenDisplay,
            ToSupervisor::ClipboardTransfer { .. } | ToSupervisor::Activity { .. } => Request::Report,
            ToSupervisor::Closed { .. } => Request::Closed,
        };
        if let Err(violation) = self.monitor.allow(request, now_millis()) {
            if violation == Violation::PromptExpired {
                let ev = self.event(EventKind::MfaFailed, Outcome::Failure).with_reason("two-step prompt timed out");
                let _ = self.sup.audit(ev).await;
            }
            return self.kill_worker(&violation.to_string()).await;
        }
        match msg {
            ToSupervisor::SignHandshake { scheme, message } => {
                if message.0.len() > ipc::MAX_SIGN_INPUT {
                    return self.kill_worker("asked to sign an over-long message").await;
                }
                let sup = Arc::clone(&self.sup);
                let scheme = rustls::SignatureScheme::from(scheme);
                let signed =
                    tokio::task::spawn_blocking(move || sup.handshake_key.sign(scheme, &message.0)).await;
                match signed {
                    Ok(Ok((_, signature))) => {
                        self.reply(write, &ToWorker::HandshakeSignature {
                            signature: HexBytes(signature),
                        })
                        .await
                    }
                    Ok(Err(refusal)) => self.kill_worker(&format!("signature refused: {refusal}")).await,
                    Err(err) => self.kill_worker(&format!("signature task failed: {err}")).await,
                }
            }
            ToSupervisor::NtlmChallenge => {
                // Made here, once: a worker cannot pick an old challenge to replay a
                // recorded exchange.
                let issued = IssuedChallenge::random(now_millis().0);
                self.challenge = Some(issued);
                let reply = ToWorker::NtlmChallenge {
                    challenge: HexBytes(issued.server_challenge.to_vec()),
                    timestamp: issued.timestamp,
                };
                self.reply(write, &reply).await
            }
            ToSupervisor::NtlmVerify(claim) => self.verify_ntlm(claim, write).await,
            ToSupervisor::VerifyCode { code } => self.verify_code(code, write).await,
            ToSupervisor::OpenSession { width, height } => {
                let reply = match self.open_session(width, height).await {
                    Ok(grant) => ToWorker::Session(grant),
                    Err(err) => {
                        let reason = refusal_reason(&err);
                        warn!(peer = %self.peer, %reason, "no desktop for this connection");
                        let ev = self.event(EventKind::SessionRefused, Outcome::Failure).with_reason(reason.clone());
                        // Refused either way: a failed write changes nothing for this connection.
                        let _ = self.sup.audit(ev).await;
                        ToWorker::SessionRefused { reason }
                    }
                };
                self.reply(write, &reply).await
            }
            ToSupervisor::OpenDisplay => self.open_display(write).await,
            ToSupervisor::ClipboardTransfer {
                direction,
                bytes,
                outcome,
            } => {
                // A claim like any other: only inside a granted session, only the way the
                // grant allows. Anything else means the worker is not ours any more.
                if !self.clipboard.policy.allows(direction) {
                    warn!(peer = %self.peer, direction = direction.code(), policy = %self.clipboard.policy, "worker reported a clipboard transfer its session was not granted; killing it");
                    let ev = self.event(EventKind::ConnectionClosed, Outcome::Failure).with_reason(format!(
                        "worker reported a {} clipboard transfer outside its grant ({})",
                        direction.code(),
                        self.clipboard.policy
                    ));
                    // The worker is ended either way.
                    let _ = self.sup.audit(ev).await;
                    return Step::Stop;
                }
                self.clipboard_use.record(direction, bytes, outcome);
                Step::Continue
            }
            ToSupervisor::Activity {
                input,
                bytes,
                frames,
                encode_micros,
            } => self.activity(input, bytes, frames, encode_micros).await,
            ToSupervisor::Closed { reason, fault } => {
                // The reason goes into the audit trail: short, printable, or the worker is lying.
                if reason.chars().count() > ipc::MAX_REASON_LEN {
                    return self.kill_worker("reported an over-long close reason").await;
                }
                if reason.chars().any(char::is_control) {
                    return self.kill_worker("reported a close reason with control characters").await;
                }
                let (kind, outcome) = match fault {
                    CloseFault::None => (EventKind::ConnectionClosed, Outcome::Info),
                    CloseFault::Negotiation => (EventKind::NegotiationRefused, Outcome::Failure),
                    CloseFault::Budget => (EventKind::HandshakeAborted, Outcome::Failure),
                    CloseFault::Peer | CloseFault::Internal => (EventKind::ConnectionClosed, Outcome::Failure),
                };
                info!(peer = %self.peer, %reason, "connection closed");
                let ev = self.event(kind, outcome).with_reason(reason);
                let _ = self.sup.audit(ev).await;
                Step::Stop
            }
        }
    }

    /// The worker asked for something out of turn (a second exchange, a signature after the
    /// handshake, fields no client sends): audited, and the worker is ended.
    async fn kill_worker(&self, why: &str) -> Step {
        warn!(peer = %self.peer, why, "worker broke the supervisor protocol; killing it");
        let ev = self
            .event(EventKind::ConnectionClosed, Outcome::Failure)
            .with_reason(format!("worker killed: {why}"));
        // Killed either way; a failed write is logged by `audit`.
        let _ = self.sup.audit(ev).await;
        Step::Kill
    }

    /// The one NLA logon of this connection: check the client's NTLMv2 proof against the
    /// challenge handed out and the store (a random hash when the account is unknown or
    /// may not log in now), decide, audit, and answer the worker with the session key or
    /// nothing.
    async fn verify_ntlm(&mut self, claim: NtlmClaim, write: &mut tokio::net::unix::OwnedWriteHalf) -> Step {
        let Some(issued) = self.challenge else {
            return self.kill_worker("asked to verify ntlm without a challenge").await;
        };
        if let Err(err) = claim.fields().check_bounds() {
            return self.kill_worker(&err.to_string()).await;
        }
        let now = now_millis();
        let named = rampart_auth::ntlm::account_name(&claim.user, &claim.domain)
            .unwrap_or(&claim.user)
            .to_owned();
        let backoff = self
            .sup
            .guard
            .lock()
            .ok()
            .and_then(|g| g.backoff(self.peer.ip(), &named, now));
        let user_schedule = self.sup.opts.access.users.get(&named.to_ascii_lowercase());
        let outside_user_window = !rampart_policy::user_allowed(user_schedule, now);
        let (account, code_failures) = if backoff.is_none() && !outside_user_window {
            self.lookup(&named).await.map_or((None, 0), |(a, n)| (Some(a), n))
        } else {
            (None, 0)
        };
        let auth = &self.sup.opts.auth;
        let hash = match &account {
            Some(a) if logon::hash_is_checked(Some(a), auth, now) => a.nt_hash.clone(),
            _ => rampart_auth::random_nt_hash(),
        };
        let proof = rampart_auth::ntlm::verify(&hash, &issued, &claim.fields());
        let facts = LogonFacts {
            named: &named,
            account: account.as_ref(),
            outside_user_window,
            backoff,
            code_failures,
            proof,
        };
        let domain = (!claim.domain.is_empty()).then(|| claim.domain.clone());
        let decision = logon::decide(facts, auth, now);
        self.sup.handshake_decided(self.connection);
        match decision {
            LogonDecision::Granted {
                user,
                unix_user,
                session_key,
                second_factor,
            } => {
                // On disk before anything follows from it: a success that cannot be
                // recorded is not granted (the client is never told it logged in).
                let mut ev = self
                    .event(EventKind::AuthSucceeded, Outcome::Success)
                    .with_domain(domain)
                    .with_user(user.clone());
                if second_factor.is_some() {
                    ev = ev.with_reason("password verified; second factor pending");
                }
                if self.sup.audit(ev).await.is_err() {
                    self.monitor.decided(Decided::AuthenticationFailed);
                    return Step::Stop;
                }
                self.monitor.decided(Decided::Authenticated {
                    user: user.clone(),
                    second_factor_deadline: second_factor.as_ref().map(|plan| {
                        let ms = (u64::from(plan.timeout_secs) * 1000).saturating_add(
                            u64::try_from(PROMPT_DEADLINE_SLACK.as_millis()).unwrap_or(u64::MAX),
                        );
                        UnixMillis(now_millis().0.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX)))
                    }),
                    code_attempts: second_factor.as_ref().map_or(0, |plan| plan.attempts),
                });
                self.user = Some((user.clone(), unix_user));
                if let Ok(mut live) = self.sup.live.lock() {
                    live.insert(self.connection, (user.to_lowercase(), Arc::clone(&self.kick)));
                }
                self.sup.roster.authenticated(self.connection, &user);
                info!(peer = %self.peer, user = %user, "nla succeeded");
                match &second_factor {
                    Some(plan) => self.enrolled = plan.enrolled,
                    None => self.fully_authenticated(&user).await,
                }
                let verdict = NtlmVerdict {
                    session_key: Some(SessionKeyHex(*session_key.as_bytes())),
                    user: Some(user),
                    second_factor,
                };
                self.reply(write, &ToWorker::NtlmVerdict(verdict)).await
            }
            LogonDecision::Refused {
                user,
                reason,
                counts_as_failure,
            } => {
                self.monitor.decided(Decided::AuthenticationFailed);
                warn!(peer = %self.peer, user = %user, %reason, "nla failed");
                let ev = self
                    .event(EventKind::AuthFailed, Outcome::Failure)
                    .with_domain(domain)
                    .with_user(user.clone())
                    .with_reason(reason);
                let recorded = self.sup.audit(ev).await;
                if counts_as_failure {
                    self.punish(Some(&user)).await;
                }
                if recorded.is_err() {
                    // An outcome off the record is never answered: the connection just ends.
                    return Step::Stop;
                }
                let verdict = NtlmVerdict {
                    session_key: None,
                    user: None,
                    second_factor: None,
                };
                self.reply(write, &ToWorker::NtlmVerdict(verdict)).await
            }
        }
    }

    /// Every factor passed: the connection no longer counts as pending, and its source is
    /// known-good for the user (in the store too, so a restart keeps it).
    async fn fully_authenticated(&mut self, user: &str) {
        self.slot.authenticated();
        let now = now_millis();
        let ip = rampart_policy::canonical(self.peer.ip());
        if let Ok(mut guard) = self.sup.guard.lock() {
            guard.record_success(ip, user, now);
        }
        let key = user.to_lowercase();
        let written = self
            .sup
            .with_store(move |store| Ok(store.put_known_good(&key, &ip.to_string(), now)?))
            .await;
        if let Err(err) = written {
            error!(error = %format!("{err:#}"), "known-good source not stored; it holds until the server restarts");
        }
    }

    /// One code typed at the prompt: check it in the store, audit it, count a failure
    /// toward the source's ban, and close the connection when no attempts are left.
    async fn verify_code(&mut self, code: TypedCode, write: &mut tokio::net::unix::OwnedWriteHalf) -> Step {
        let Some((user, _)) = self.user.clone() else {
            return self.kill_worker("submitted a code before nla").await;
        };
        let Stage::SecondFactor { attempts_left, .. } = *self.monitor.stage() else {
            return self.kill_worker("submitted a code with no prompt up").await;
        };
        if !self.enrolled {
            // Nothing typed can pass; the tries still count down (the monitor ends the
            // worker when they run out) so the prompt is not a free oracle.
            self.monitor.decided(Decided::CodeRefused { attempts_left });
            let ev = self
                .event(EventKind::MfaFailed, Outcome::Failure)
                .with_reason("no second factor enrolled");
            if self.sup.audit(ev).await.is_err() {
                return Step::Stop;
            }
            let verdict = CodeVerdict {
                accepted: false,
                attempts_left: 0,
                notice: NOT_ENROLLED.to_owned(),
            };
            return self.reply(write, &ToWorker::CodeResult(verdict)).await;
        }
        if code.0.chars().count() > ipc::MAX_CODE_LEN {
            return self.kill_worker("submitted an over-long code").await;
        }
        let now = now_millis();
        let name = user.clone();
        let since = self.code_failures_since(now);
        let checked = self
            .sup
            .with_store(move |store| Ok(store.check_second_factor_counted(&name, &code.0, now, since)?))
            .await;
        // The user's wrong codes are counted in the store (across connections); a failed
        // check counts as one more here too.
        let (check, failures) = match checked {
            Ok(checked) => checked,
            Err(err) => {
                error!(error = %format!("{err:#}"), "second factor check failed");
                (rampart_store::CodeCheck::Wrong, u32::from(attempts_left).saturating_add(1))
            }
        };
        let (reason, notice) = match check {
            rampart_store::CodeCheck::Totp => ("totp code accepted".to_owned(), String::new()),
            rampart_store::CodeCheck::Recovery { left } => (
                format!("recovery code accepted; {left} left"),
                format!("Recovery code used; {left} left."),
            ),
            rampart_store::CodeCheck::Replayed => ("code already used".to_owned(), "That code was already used.".to_owned()),
            rampart_store::CodeCheck::Wrong => ("wrong code".to_owned(), "Wrong code.".to_owned()),
            rampart_store::CodeCheck::NotEnrolled => ("no second factor enrolled".to_owned(), NOT_ENROLLED.to_owned()),
        };
        if check.accepted() {
            let ev = self.event(EventKind::MfaSucceeded, Outcome::Success).with_reason(reason);
            if self.sup.audit(ev).await.is_err() {
                return Step::Stop;
            }
            info!(peer = %self.peer, user = %user, "second factor passed");
            self.monitor.decided(Decided::CodeAccepted);
            self.fully_authenticated(&user).await;
            let verdict = CodeVerdict {
                accepted: true,
                attempts_left,
                notice,
            };
            return self.reply(write, &ToWorker::CodeResult(verdict)).await;
        }
        let max = self.sup.opts.auth.mfa_max_attempts;
        let attempts_left = max
            .saturating_sub(u8::try_from(failures).unwrap_or(u8::MAX))
            .min(attempts_left.saturating_sub(1));
        self.monitor.decided(Decided::CodeRefused { attempts_left });
        warn!(peer = %self.peer, user = %user, %reason, attempts_left, "second factor failed");
        let ev = self
            .event(EventKind::MfaFailed, Outcome::Failure)
            .with_reason(format!("{reason}; {attempts_left} attempts left"));
        let recorded = self.sup.audit(ev).await;
        self.punish(Some(&user)).await;
        if recorded.is_err() {
            return Step::Stop;
        }
        let verdict = CodeVerdict {
            accepted: false,
            attempts_left,
            notice,
        };
        let step = self.reply(write, &ToWorker::CodeResult(verdict)).await;
        if attempts_left == 0 {
            // The worker closes the connection on its own; the supervisor does not wait
            // for it: no more codes are accepted and the worker is ended.
            let ev = self
                .event(EventKind::ConnectionClosed, Outcome::Failure)
                .with_reason("too many wrong codes");
            let _ = self.sup.audit(ev).await;
            return Step::Stop;
        }
        step
    }

    /// Count a failed authentication against the source; ban it when the policy says so.
    async fn punish(&self, user: Option<&str>) {
        let now = now_millis();
        let ip = self.peer.ip();
        if let Some(file) = &self.sup.fail2ban {
            let line = rampart_policy::fail2ban_line(now, std::process::id(), user, ip);
            if let Ok(mut f) = file.lock() {
                let _ = std::io::Write::write_all(&mut *f, format!("{line}\n").as_bytes());
            }
        }
        let (actions, counts) = match self.sup.guard.lock() {
            Ok(mut guard) => (guard.record_failure(ip, user, now), guard.failure_counts(ip, user)),
            Err(_) => return,
        };
        // On disk before the client is answered: a restart does not reset the count.
        let records = guard_memory::records(&counts);
        let written = self.sup.with_store(move |store| Ok(store.put_guard_failures(&records)?)).await;
        if let Err(err) = written {
            error!(error = %format!("{err:#}"), "failure count not stored; it holds until the server restarts");
        }
        for action in actions {
            match action {
                GuardAction::Banned { net, until, repeat } => {
                    let minutes = (until.0 - now.0) / 60_000;
                    warn!(%net, minutes, repeat, "source banned after repeated authentication failures");
                    let net_text = net.to_string();
                    let stored = self
                        .sup
                        .with_store(move |store| {
                            Ok(store.put_ban(&net_text, until, repeat, "repeated authentication failures", now)?)
                        })
                        .await;
                    match stored {
                        Ok(()) => {
                            // From now on, its absence from the store means `rampart ban del`.
                            if let Ok(mut guard) = self.sup.guard.lock() {
                                guard.ban_written(net, until);
                            }
                        }
                        Err(err) => {
                            error!(%net, error = %format!("{err:#}"), "ban not stored; it holds until it ends or the server restarts");
                        }
                    }
                    let ev = self
                        .event(EventKind::SourceBanned, Outcome::Failure)
                        .with_reason(format!("{net} banned for {minutes} min (ban #{repeat})"));
                    let _ = self.sup.audit(ev).await;
                }
                GuardAction::AccountLocked { user, until } => {
                    let minutes = (until.0 - now.0) / 60_000;
                    warn!(%user, minutes, "account locked for sources that never logged in as it");
                }
            }
        }
    }

    /// Connect to the display granted to this connection and hand the connection to the
    /// worker, which cannot reach the display's socket from its confinement.
    async fn open_display(&mut self, write: &mut tokio::net::unix::OwnedWriteHalf) -> Step {
        let Some(granted) = self.granted_display.clone() else {
            warn!(peer = %self.peer, "display asked for before a session was granted; killing the worker");
            return Step::Stop;
        };
        let connected = rampart_desktop::connection::socket_path(&granted)
            .ok_or_else(|| std::io::Error::other(format!("not a local display: {granted}")))
            .and_then(std::os::unix::net::UnixStream::connect);
        let x = match connected {
            Ok(x) => x,
            Err(err) => {
                warn!(display = %granted, %err, "cannot connect to the session display");
                let reply = ToWorker::DisplayRefused {
                    reason: format!("cannot connect to {granted}: {err}"),
                };
                return self.reply(write, &reply).await;
            }
        };
        let line = match ipc::encode(&ToWorker::Display) {
            Ok(line) => line,
            Err(err) => {
                error!(%err, "cannot encode reply");
                return Step::Stop;
            }
        };
        let stream: &tokio::net::UnixStream = write.as_ref();
        loop {
            if let Err(err) = stream.writable().await {
                warn!(%err, "worker went away");
                return Step::Stop;
            }
            let sent = stream.try_io(tokio::io::Interest::WRITABLE, || {
                ipc::send_with_fd(stream, &line, std::os::fd::AsFd::as_fd(&x))
            });
            match sent {
                Ok(n) if n == line.len() => return Step::Continue,
                Ok(_) => {
                    // A short write of a line this small means the channel is broken.
                    warn!("short write of a display reply; killing the worker");
                    return Step::Stop;
                }
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(err) => {
                    warn!(%err, "worker went away");
                    return Step::Stop;
                }
            }
        }
    }

    async fn reply(&self, write: &mut tokio::net::unix::OwnedWriteHalf, msg: &ToWorker) -> Step {
        let line = match ipc::encode(msg) {
            Ok(line) => line,
            Err(err) => {
                error!(%err, "cannot encode reply");
                return Step::Stop;
            }
        };
        match write.write_all(&line).await {
            Ok(()) => Step::Continue,
            Err(err) => {
                warn!(%err, "worker went away");
                Step::Stop
            }
        }
    }

    /// An existing user, with the NT hash opened, and the wrong second-factor codes on
    /// record for them (within the guard's failure window).
    async fn lookup(&self, user: &str) -> Option<(rampart_store::UserRecord, u32)> {
        let user = user.to_owned();
        let since = self.code_failures_since(now_millis());
        let found = self
            .sup
            .with_store(move |store| {
                let Some(record) = store.get_user(&user)? else {
                    return Ok(None);
                };
                let failures = store.code_failures(&record.name, since)?;
                Ok(Some((record, failures)))
            })
            .await;
        found.unwrap_or_else(|err| {
            error!(error = %format!("{err:#}"), "user lookup failed");
            None
        })
    }

    /// Wrong codes count toward the user's attempts for the guard's failure window after
    /// the last one (a good code clears them at once).
    fn code_failures_since(&self, now: UnixMillis) -> UnixMillis {
        let window = i64::try_from(self.sup.opts.guard.policy.window.as_millis()).unwrap_or(i64::MAX);
        UnixMillis(now.0.saturating_sub(window))
    }

    async fn open_session(&mut self, width: u16, height: u16) -> anyhow::Result<SessionGrant> {
        let (user, unix_user) = self.user.clone().context("no authenticated user on this connection")?;
        // The monitor allowed the request; this is the same rule stated where it matters.
        if !matches!(self.monitor.stage(), Stage::Authenticated { .. }) {
            anyhow::bail!("not every factor has passed on this connection");
        }
        if let Some(shadow) = &self.sup.shadow {
            // Only the display's owner and the listed users watch it; the account must be
            // one that may log in now, as for a session of its own.
            let allow_root = self.sup.opts.allow_root;
            let rdp_user = user.clone();
            let account = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                let account = UnixAccount::lookup(&unix_user)
                    .with_context(|| format!("unix account {unix_user:?} of user {rdp_user:?}"))?;
                rampart_desktop::login::account::check(&account, allow_root, SystemTime::now())?;
                Ok(account)
            })
            .await
            .context("account check task")??;
            if !shadow.admits(&user, account.uid) {
                anyhow::bail!(
                    "shadow mode: {user} (unix account {}) is not the owner of display {} and not in [shadow] users",
                    account.name,
                    shadow.target.display
                );
            }
            let shadow = &shadow.target;
            // The shared display's cookie reaches a worker only now, after every factor.
            self.clipboard = self.sup.opts.clipboard.grant_for(&user, shadow.view_only);
            let ev = self.event(EventKind::SessionStarted, Outcome::Success).with_reason(format!(
                "shadowing {} (view only: {}); clipboard {}",
                shadow.display, shadow.view_only, self.clipboard.policy
            ));
            self.sup.audit(ev).await.context("no session without its audit event")?;
            self.granted_display = Some(shadow.display.clone());
            self.monitor.decided(Decided::SessionGranted);
            self.sup.desktop_granted(self.connection, &shadow.display);
            return Ok(SessionGrant {
                display: shadow.display.clone(),
                cookie_hex: shadow.cookie_hex.clone(),
                width,
                height,
                resumed: true,
                view_only: shadow.view_only,
                // Someone else's console: never resized from here.
                resizable: false,
                clipboard: self.clipboard,
            });
        }
        let width = width.clamp(MIN_DIM, MAX_DIM);
        let height = height.clamp(MIN_DIM, MAX_DIM);
        let sup = Arc::clone(&self.sup);
        let rdp_user = user.clone();
        let remote = Some(self.peer.ip());
        let info = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let account = UnixAccount::lookup(&unix_user)
                .with_context(|| format!("unix account {unix_user:?} of user {rdp_user:?}"))?;
            let sessions = sup.sessions.as_ref().context("no session manager (shadow mode)")?;
            let mut sessions = sessions.lock().map_err(|_| anyhow::anyhow!("session table poisoned"))?;
            Ok(sessions.ensure(&rdp_user, &account, width, height, remote)?)
        })
        .await
        .context("session task")??;
        self.clipboard = self.sup.opts.clipboard.grant_for(&user, false);
        let kind = if info.resumed {
            EventKind::SessionResumed
        } else {
            EventKind::SessionStarted
        };
        let ev = self
            .event(kind, Outcome::Success)
            .with_reason(format!(
                "display :{} {}x{}; clipboard {}",
                info.display, info.width, info.height, self.clipboard.policy
            ));
        self.sup.audit(ev).await.context("no session without its audit event")?;
        self.granted_display = Some(format!(":{}", info.display));
        self.monitor.decided(Decided::SessionGranted);
        self.sup.desktop_granted(self.connection, &format!(":{}", info.display));
        Ok(SessionGrant {
            display: format!(":{}", info.display),
            cookie_hex: Some(hex::encode(&info.cookie)),
            width: info.width,
            height: info.height,
            resumed: info.resumed,
            view_only: false,
            resizable: true,
            clipboard: self.clipboard,
        })
    }
}

/// The audit reason for a refused `OpenSession`: a login refusal says only what it is
/// ("unix account expired"); anything else keeps its whole chain of causes.
fn refusal_reason(err: &anyhow::Error) -> String {
    match err.downcast_ref::<DesktopError>() {
        Some(DesktopError::LoginRefused(refusal)) => refusal.to_string(),
        _ => format!("{err:#}"),
    }
}

/// Longest line of a worker's log relayed, and the most relayed per worker: a worker's
/// output is a stranger's doing too, and must not flood the supervisor's log.
const WORKER_LOG_LINE: usize = 4096;
const WORKER_LOG_BUDGET: usize = 1 << 20;

/// Copies a worker's stderr to the supervisor's, line by line, bounded; past the budget
/// it keeps reading (a worker blocked on a full pipe would hang) but prints nothing.
async fn relay_worker_log(stderr: tokio::process::ChildStderr, connection: u64) {
    use tokio::io::AsyncReadExt;
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    let mut relayed = 0usize;
    loop {
        line.clear();
        match (&mut reader).take(WORKER_LOG_LINE as u64).read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                relayed = relayed.saturating_add(n);
                if relayed > WORKER_LOG_BUDGET {
                    continue;
                }
                // The worker's text is a claim too: no escape sequences reach the operator's
                // terminal or journal (the worker's own log colours come out as `?[2m`).
                let text: String = String::from_utf8_lossy(&line)
                    .trim_end()
                    .chars()
                    .map(|c| if c.is_control() && c != '\t' { '?' } else { c })
                    .collect();
                if !text.is_empty() {
                    eprintln!("worker {connection}: {text}");
                }
                if relayed + n > WORKER_LOG_BUDGET {
                    eprintln!("worker {connection}: (more output dropped)");
                }
            }
        }
    }
}

/// Accept on the listener if the port is open; otherwise wait forever (the caller's other
/// `select!` branches decide when to look again).
async fn accept_on(listener: Option<&TcpListener>) -> std::io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

/// One line from a worker, at most `ipc::MAX_LINE` bytes; `None` at EOF. Generic over the
/// reader so the fuzz target drives this very function.
pub(crate) async fn read_line<R: tokio::io::AsyncBufRead + Unpin>(reader: &mut R) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(None);
        }
        let (chunk, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(pos) => (buf.get(..pos).unwrap_or_default(), Some(pos + 1)),
            None => (buf, None),
        };
        if line.len() + chunk.len() > ipc::MAX_LINE {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("ipc line longer than {} bytes", ipc::MAX_LINE),
            ));
        }
        line.extend_from_slice(chunk);
        let consumed = done.unwrap_or(buf.len());
        reader.consume(consumed);
        if done.is_some() {
            return Ok(Some(line));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shadow_is_for_the_displays_owner_and_the_listed_users() {
        let shadow = Shadow {
            target: ShadowTarget {
                display: ":0".into(),
                cookie_hex: None,
                view_only: true,
            },
            owner: 1000,
            users: vec!["helpdesk".into()],
        };
        // Any Rampart user mapped to the owner's account.
        assert!(shadow.admits("alice", 1000));
        assert!(shadow.admits("alice-laptop", 1000));
        // Another account only by name, in any case.
        assert!(!shadow.admits("bob", 1001));
        assert!(shadow.admits("HelpDesk", 1001));
        // Root is not the owner of a user's display.
        assert!(!shadow.admits("admin", 0));
    }
}
