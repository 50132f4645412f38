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
use rampart_desktop::{SessionConfig, SessionManager, UnixAccount};
use rampart_policy::{
    AccessGrant, AccessState, Admission, Ban, Guard, GuardState, IpNet, Verdict,
};
use rampart_store::Store;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tracing::{error, info, warn};

use admission_slot::{AdmissionSlot, AdmissionTable};
use audit_writer::{AuditWriter, OnStored};
use crate::ipc::{self, ShadowTarget, ToWorker, WorkerInit};
use crate::options::{DesktopMode, ServeOptions};
use crate::tls::{IdentitySource, TlsIdentity};
use crate::tls_signing::HandshakeKey;


mod admission_slot;
mod audit_writer;
mod connection;
pub mod control;
pub(crate) mod forward;
mod guard_memory;
pub(crate) mod jail;
pub(crate) mod logon;
pub(crate) mod metrics;
pub(crate) mod roster;
mod sessions;
pub mod systemd_notify;

use connection::Connection;
pub(crate) use connection::read_line;

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
                    let mut conn = Connection::new(Arc::clone(&self), connection, peer, slot);
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
