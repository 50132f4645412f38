//! The privileged supervisor: owns the listening socket, the store and the desktop
//! sessions; starts one unprivileged worker process per admitted connection and answers
//! its few requests (user lookup, attempt reports, session start).
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
use rampart_desktop::{SessionConfig, SessionManager, UnixAccount};
use rampart_policy::{
    AccessGrant, AccessState, Admission, Ban, Guard, GuardAction, GuardState, IpNet, Ticket, Verdict,
};
use rampart_store::Store;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tracing::{error, info, warn};

use crate::ipc::{
    self, AttemptOutcome, CloseFault, CodeVerdict, SecondFactorPlan, SessionGrant, ShadowTarget, ToSupervisor,
    ToWorker, TypedCode, WorkerInit,
};
use crate::options::{DesktopMode, ServeOptions};
use crate::prompt::NOT_ENROLLED;
use crate::tls::{IdentitySource, TlsIdentity};

/// How many user lookups one connection may ask for (one CredSSP exchange needs one).
const MAX_LOOKUPS_PER_CONNECTION: u32 = 2;
/// Session sizes honoured from a client (memory per session grows with the area).
const MIN_DIM: u16 = 200;
const MAX_DIM: u16 = 4096;

/// Start the server and serve until SIGINT/SIGTERM.
pub fn serve(opts: ServeOptions) -> anyhow::Result<()> {
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

    let run_as = worker_identity(&opts.worker_user)?;
    if opts.guard.dangerous_allow_any_source {
        warn!("dangerous_allow_any_source is set: every address on the internet may try to log in");
        eprintln!("rampart: WARNING: dangerous_allow_any_source is set; the source allowlist is off");
    }
    let now = now_millis();
    let stored_bans = store.bans().context("cannot read bans from the store")?;
    let guard = Guard::restore(
        GuardState {
            bans: stored_bans.iter().filter_map(ban_from_record).collect(),
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
    let sessions = match &opts.desktop {
        DesktopMode::Session(s) => {
            let runtime_dir = opts.state_dir.join("sessions");
            create_private_dir(&runtime_dir)?;
            Some(Mutex::new(SessionManager::new(SessionConfig {
                runtime_dir,
                xvfb: s.xvfb.clone(),
                default_command: s.default_command.clone(),
                use_xsession: s.use_xsession,
                depth: 24,
            })))
        }
        DesktopMode::Shadow { .. } => None,
    };
    let shadow = match &opts.desktop {
        DesktopMode::Shadow { display: name, view_only } => {
            let target = rampart_desktop::shadow_target(name)
                .with_context(|| format!("cannot reach the display {name} to shadow"))?;
            info!(display = %name, view_only = *view_only, "shadow mode: sharing an existing display");
            Some(ShadowTarget {
                display: target.display.clone(),
                cookie_hex: target.cookie.as_deref().map(hex::encode),
                view_only: *view_only,
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
        let supervisor = Arc::new(Supervisor {
            exe: std::env::current_exe().context("cannot find own executable")?,
            identity,
            store: Mutex::new(store),
            sessions,
            admission: Mutex::new(Admission::new(limits.admission())),
            next_connection: AtomicU64::new(1),
            run_as,
            shadow,
            guard: Mutex::new(guard),
            grants: Mutex::new(grants),
            refusals: Mutex::new(std::collections::HashMap::new()),
            live: Mutex::new(std::collections::HashMap::new()),
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

/// The uid/gid workers drop to: `worker_user` when we are root, none otherwise.
fn worker_identity(user: &str) -> anyhow::Result<Option<(u32, u32)>> {
    if !rustix::process::geteuid().is_root() {
        return Ok(None);
    }
    let account = UnixAccount::lookup(user)
        .with_context(|| format!("worker_user {user:?} is not a unix account on this host"))?;
    if account.uid == 0 {
        anyhow::bail!("worker_user {user:?} is root; workers must run unprivileged");
    }
    Ok(Some((account.uid, account.gid)))
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
    store: Mutex<Store>,
    sessions: Option<Mutex<SessionManager>>,
    admission: Mutex<Admission>,
    next_connection: AtomicU64,
    run_as: Option<(u32, u32)>,
    shadow: Option<ShadowTarget>,
    guard: Mutex<Guard>,
    /// Just-in-time access grants (`rampart access open`), synced from the store.
    grants: Mutex<Vec<AccessGrant>>,
    /// Authenticated connections by id: (lowercased user, the connection's kick signal).
    live: Mutex<std::collections::HashMap<u64, (String, Arc<tokio::sync::Notify>)>>,
    /// Last audited refusal per source, so a flood from one banned address costs one
    /// audit write per interval instead of one per connection.
    refusals: Mutex<std::collections::HashMap<std::net::IpAddr, (UnixMillis, u32)>>,
    fail2ban: Option<Mutex<std::fs::File>>,
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
        reaper.abort();
        self.flush_refusals().await;
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
        loop {
            tick.tick().await;
            self.sync_from_store().await;
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
                self.audit(Event::new(now_millis(), EventKind::SessionEnded, Outcome::Info).with_user(user))
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

    /// Make the guard's ban table and the access grants equal to the store's (picks up
    /// `rampart ban` and `rampart access` changes), and forget what has expired.
    async fn sync_from_store(self: &Arc<Self>) {
        let now = now_millis();
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
            guard.sync_bans(&bans, now);
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

    /// Write one audit event durably.
    async fn audit(self: &Arc<Self>, event: Event) {
        info!(target: "rampart::audit", "{}", event.to_json_line());
        if let Err(err) = self.with_store(move |store| Ok(store.append_event(&event)?)).await {
            error!(error = %format!("{err:#}"), "audit event not stored");
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
            Verdict::Allow if outside_window => Some("outside the access windows and grants".to_owned()),
            Verdict::Allow => None,
        };
        if let Some(refusal) = refusal_text {
            // Dropped before any TLS or process work.
            drop(stream);
            self.refused(peer, connection, refusal, now).await;
            return;
        }
        let decision = match self.admission.lock() {
            Ok(mut a) => a.admit(peer.ip(), now),
            Err(_) => return,
        };
        let ticket = match decision {
            Ok(ticket) => ticket,
            Err(refusal) => {
                drop(stream);
                self.refused(peer, connection, refusal.to_string(), now).await;
                return;
            }
        };
        match self.spawn_worker(stream, peer, connection) {
            Ok((child, channel)) => {
                self.audit(
                    Event::new(now_millis(), EventKind::ConnectionAccepted, Outcome::Success)
                        .with_peer(peer)
                        .with_connection(connection),
                )
                .await;
                tokio::spawn(async move {
                    let mut conn = Connection {
                        sup: Arc::clone(&self),
                        connection,
                        peer,
                        ticket: Some(ticket),
                        looked_up: None,
                        lookups: 0,
                        backoff: None,
                        outside_user_window: false,
                        refused_account: None,
                        plan: None,
                        user: None,
                        mfa: MfaGate::Waiting,
                        kick: Arc::new(tokio::sync::Notify::new()),
                        had_session: false,
                    };
                    conn.drive(child, channel).await;
                    if let Ok(mut live) = self.live.lock() {
                        live.remove(&connection);
                    }
                    if let Some(ticket) = conn.ticket.take() {
                        if let Ok(mut a) = self.admission.lock() {
                            a.closed(ticket);
                        }
                    }
                });
            }
            Err(err) => {
                if let Ok(mut a) = self.admission.lock() {
                    a.closed(ticket);
                }
                error!(error = %format!("{err:#}"), %peer, "cannot start worker");
                self.audit(
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
        let Some(suppressed) = self.refusal_due(peer.ip(), now) else {
            return;
        };
        if suppressed > 0 {
            reason.push_str(&format!(" ({suppressed} more refused since the last record)"));
        }
        warn!(%peer, %reason, "connection refused");
        self.audit(
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
            self.audit(
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
    ) -> anyhow::Result<(tokio::process::Child, tokio::net::UnixStream)> {
        let socket: OwnedFd = stream.into_std().context("detach socket")?.into();
        // The socket must be blocking for the child's own runtime to set up as it likes.
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().context("ipc socket pair")?;
        let mut cmd = tokio::process::Command::new(&self.exe);
        cmd.arg("worker")
            .stdin(Stdio::from(socket))
            .stdout(Stdio::from(OwnedFd::from(theirs)))
            .stderr(Stdio::inherit())
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .kill_on_drop(true);
        if let Ok(filter) = std::env::var("RUST_LOG") {
            cmd.env("RUST_LOG", filter);
        }
        let child = cmd.spawn().context("spawn worker process")?;
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
            key_pem: self.identity.key_pem.clone(),
            max_preauth_bytes: self.opts.limits.max_preauth_bytes,
            default_width,
            default_height,
            run_as: self.run_as,
        };
        // The init line fits the socket buffer; write it synchronously before the task starts.
        let line = ipc::encode(&ToWorker::Init(init))?;
        let std_channel = channel.into_std()?;
        std_channel.set_nonblocking(false)?;
        std::io::Write::write_all(&mut &std_channel, &line).context("send init to worker")?;
        std_channel.set_nonblocking(true)?;
        let channel = tokio::net::UnixStream::from_std(std_channel)?;
        Ok((child, channel))
    }
}

/// The supervisor's record of one connection.
struct Connection {
    sup: Arc<Supervisor>,
    connection: u64,
    peer: SocketAddr,
    ticket: Option<Ticket>,
    /// Canonical name of the user the worker asked about, if that user exists.
    looked_up: Option<(String, String)>,
    lookups: u32,
    /// The last lookup was refused because of the (user, source) back-off.
    backoff: Option<Duration>,
    /// The last lookup named a user outside their own access windows.
    outside_user_window: bool,
    /// Why the last lookup was refused whatever the password (locked, expired).
    refused_account: Option<&'static str>,
    /// The second factor the looked-up user must pass after NLA.
    plan: Option<SecondFactorPlan>,
    /// Set only when the worker reported success for the user it looked up.
    user: Option<(String, String)>,
    /// The second-factor state once NLA has passed.
    mfa: MfaGate,
    /// Notified when the store says the authenticated user was locked or deleted.
    kick: Arc<tokio::sync::Notify>,
    had_session: bool,
}

/// Where a connection stands with its second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MfaGate {
    /// NLA has not passed yet.
    Waiting,
    /// The prompt is up: this many wrong codes left, closed at the deadline.
    Prompt {
        attempts_left: u8,
        deadline: tokio::time::Instant,
    },
    /// The user has no secret but must have one: nothing typed can pass.
    NotEnrolled { deadline: tokio::time::Instant },
    /// Passed, or not required: a session may be opened.
    Open,
}

/// Stands in for "no deadline" in the connection loop.
const NO_DEADLINE: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// Slack on top of the prompt timeout before the supervisor kills a worker that did not
/// close its own prompt.
const PROMPT_DEADLINE_SLACK: Duration = Duration::from_secs(5);

enum Step {
    Continue,
    Stop,
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
            let deadline = match self.mfa {
                _ if self.user.is_none() => Some((handshake_deadline, EventKind::HandshakeAborted, "handshake deadline")),
                MfaGate::Prompt { deadline, .. } | MfaGate::NotEnrolled { deadline } => {
                    Some((deadline, EventKind::MfaFailed, "two-step prompt timed out"))
                }
                MfaGate::Waiting | MfaGate::Open => None,
            };
            // No deadline once every factor passed: a year stands in for "never".
            let (until, kind, why) =
                deadline.unwrap_or((tokio::time::Instant::now() + NO_DEADLINE, EventKind::ConnectionClosed, ""));
            let kick = Arc::clone(&self.kick);
            let line = tokio::select! {
                () = kick.notified() => {
                    // Losing a partly read line does not matter: the worker is going.
                    let _ = child.start_kill();
                    warn!(peer = %self.peer, "account locked or deleted; connection ended");
                    let ev = self
                        .event(EventKind::ConnectionClosed, Outcome::Info)
                        .with_reason("account locked or deleted by an administrator");
                    self.sup.audit(ev).await;
                    closed_reported = true;
                    break;
                }
                read = tokio::time::timeout_at(until, read_line(&mut reader)) => match read {
                    Ok(line) => line,
                    Err(_) => {
                        let _ = child.start_kill();
                        warn!(peer = %self.peer, why, "deadline passed; worker killed");
                        let ev = self.event(kind, Outcome::Failure).with_reason(why);
                        self.sup.audit(ev).await;
                        closed_reported = true;
                        break;
                    }
                },
            };
            let msg = match line {
                Ok(Some(line)) => match serde_json::from_slice::<ToSupervisor>(&line) {
                    Ok(msg) => msg,
                    Err(err) => {
                        warn!(%err, "worker sent a malformed message; killing it");
                        let _ = child.start_kill();
                        break;
                    }
                },
                Ok(None) => break,
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
            self.sup.audit(ev).await;
        }
        if self.had_session {
            let ev = self.event(EventKind::SessionDisconnected, Outcome::Info);
            self.sup.audit(ev).await;
        }
    }

    async fn handle(&mut self, msg: ToSupervisor, write: &mut tokio::net::unix::OwnedWriteHalf) -> Step {
        match msg {
            ToSupervisor::LookupUser { user, domain: _ } => {
                self.lookups += 1;
                self.backoff = self
                    .sup
                    .guard
                    .lock()
                    .ok()
                    .and_then(|g| g.backoff(self.peer.ip(), &user, now_millis()));
                let user_schedule = self.sup.opts.access.users.get(&user.to_ascii_lowercase());
                self.outside_user_window = !rampart_policy::user_allowed(user_schedule, now_millis());
                let mut found = if self.lookups > MAX_LOOKUPS_PER_CONNECTION
                    || self.user.is_some()
                    || self.backoff.is_some()
                    || self.outside_user_window
                {
                    // Verification then fails exactly like an unknown user.
                    None
                } else {
                    self.lookup(&user).await
                };
                let auth = &self.sup.opts.auth;
                self.refused_account = found.as_ref().and_then(|rec| auth.refusal(rec, now_millis()));
                if self.refused_account.is_some() {
                    // Answered like an unknown user: a locked or expired account tells a
                    // guesser nothing, and the reason goes to the audit trail only.
                    found = None;
                }
                self.plan = found.as_ref().and_then(|rec| auth.second_factor(rec));
                let reply = ToWorker::UserHash {
                    nt_hash_hex: found
                        .as_ref()
                        .map(|rec| crate::ipc::HashHex(hex::encode(rec.nt_hash.as_bytes()))),
                    second_factor: self.plan.clone(),
                };
                self.looked_up = found.map(|rec| (rec.name, rec.unix_user));
                self.reply(write, &reply).await
            }
            ToSupervisor::Attempt(report) => {
                let success = report.outcome == AttemptOutcome::Success;
                let named = report.user.clone();
                let (kind, outcome, reason) = match &report.outcome {
                    AttemptOutcome::Success => (EventKind::AuthSucceeded, Outcome::Success, None),
                    AttemptOutcome::UnknownUser => (EventKind::AuthFailed, Outcome::Failure, Some("unknown user".to_owned())),
                    AttemptOutcome::WrongPassword => {
                        (EventKind::AuthFailed, Outcome::Failure, Some("wrong password".to_owned()))
                    }
                    AttemptOutcome::Failed { reason } => {
                        (EventKind::AuthFailed, Outcome::Failure, Some(format!("nla failed: {reason}")))
                    }
                };
                let mut ev = self.event(kind, outcome).with_domain(report.domain.clone());
                if !success && self.outside_user_window {
                    // Not a guess: the user may not log in now at all.
                    let ev = ev
                        .with_user(named.clone().unwrap_or_default())
                        .with_reason("outside the user's access windows");
                    self.sup.audit(ev).await;
                    return Step::Continue;
                }
                if let (false, Some(why)) = (success, self.refused_account) {
                    let ev = ev.with_user(named.clone().unwrap_or_default()).with_reason(why);
                    self.sup.audit(ev).await;
                    self.punish(named.as_deref()).await;
                    return Step::Continue;
                }
                if let (false, Some(wait)) = (success, self.backoff) {
                    // No credential was checked, but hammering during the back-off is itself
                    // what a guesser does: it counts toward the source's ban.
                    let ev = ev
                        .with_user(named.clone().unwrap_or_default())
                        .with_reason(format!("back-off: retry in {} s", wait.as_secs().max(1)));
                    self.sup.audit(ev).await;
                    self.punish(named.as_deref()).await;
                    return Step::Continue;
                }
                if success {
                    // Only a success for the user we looked up counts.
                    match (&self.looked_up, &named) {
                        (Some((canonical, _)), Some(named)) if canonical.eq_ignore_ascii_case(named) => {
                            self.user = self.looked_up.clone();
                            ev = ev.with_user(canonical.clone());
                            if let Ok(mut live) = self.sup.live.lock() {
                                live.insert(self.connection, (canonical.to_lowercase(), Arc::clone(&self.kick)));
                            }
                            info!(peer = %self.peer, user = %canonical, "nla succeeded");
                            match &self.plan {
                                Some(plan) => {
                                    let deadline = tokio::time::Instant::now()
                                        + Duration::from_secs(u64::from(plan.timeout_secs))
                                        + PROMPT_DEADLINE_SLACK;
                                    self.mfa = if plan.enrolled {
                                        MfaGate::Prompt {
                                            attempts_left: plan.attempts,
                                            deadline,
                                        }
                                    } else {
                                        MfaGate::NotEnrolled { deadline }
                                    };
                                    ev = ev.with_reason("password verified; second factor pending");
                                }
                                None => {
                                    let canonical = canonical.clone();
                                    self.fully_authenticated(&canonical);
                                }
                            }
                        }
                        _ => {
                            warn!(peer = %self.peer, "worker claimed success for a user it did not look up");
                            let ev = ev.with_reason("success claimed without lookup");
                            self.sup.audit(ev).await;
                            return Step::Stop;
                        }
                    }
                } else {
                    let shown = self.looked_up.as_ref().map(|(c, _)| c.clone()).or(named);
                    if let Some(name) = shown {
                        ev = ev.with_user(name);
                    }
                    warn!(peer = %self.peer, user = ?ev.user, reason = ?reason, "nla failed");
                }
                if let Some(reason) = reason {
                    ev = ev.with_reason(reason);
                }
                let failed_user = (!success).then(|| ev.user.clone()).flatten();
                self.sup.audit(ev).await;
                if !success {
                    self.punish(failed_user.as_deref()).await;
                }
                Step::Continue
            }
            ToSupervisor::VerifyCode { code } => self.verify_code(code, write).await,
            ToSupervisor::OpenSession { width, height } => {
                let reply = match self.open_session(width, height).await {
                    Ok(grant) => ToWorker::Session(grant),
                    Err(err) => {
                        let reason = format!("{err:#}");
                        error!(peer = %self.peer, %reason, "cannot open session");
                        ToWorker::SessionRefused { reason }
                    }
                };
                self.reply(write, &reply).await
            }
            ToSupervisor::Closed { reason, fault } => {
                let (kind, outcome) = match fault {
                    CloseFault::None => (EventKind::ConnectionClosed, Outcome::Info),
                    CloseFault::Negotiation => (EventKind::NegotiationRefused, Outcome::Failure),
                    CloseFault::Budget => (EventKind::HandshakeAborted, Outcome::Failure),
                    CloseFault::Peer | CloseFault::Internal => (EventKind::ConnectionClosed, Outcome::Failure),
                };
                info!(peer = %self.peer, %reason, "connection closed");
                let ev = self.event(kind, outcome).with_reason(reason);
                self.sup.audit(ev).await;
                Step::Stop
            }
        }
    }

    /// Every factor passed: the connection no longer counts as pending.
    fn fully_authenticated(&mut self, user: &str) {
        self.mfa = MfaGate::Open;
        if let (Some(ticket), Ok(mut a)) = (self.ticket.as_mut(), self.sup.admission.lock()) {
            a.authenticated(ticket);
        }
        if let Ok(mut guard) = self.sup.guard.lock() {
            guard.record_success(self.peer.ip(), user, now_millis());
        }
    }

    /// One code typed at the prompt: check it in the store, audit it, count a failure
    /// toward the source's ban, and close the connection when no attempts are left.
    async fn verify_code(&mut self, code: TypedCode, write: &mut tokio::net::unix::OwnedWriteHalf) -> Step {
        let Some((user, _)) = self.user.clone() else {
            warn!(peer = %self.peer, "code submitted before nla; killing the worker");
            return Step::Stop;
        };
        let attempts_left = match self.mfa {
            MfaGate::Prompt { attempts_left, .. } => attempts_left,
            MfaGate::NotEnrolled { .. } => {
                let ev = self
                    .event(EventKind::MfaFailed, Outcome::Failure)
                    .with_reason("no second factor enrolled");
                self.sup.audit(ev).await;
                let verdict = CodeVerdict {
                    accepted: false,
                    attempts_left: 0,
                    notice: NOT_ENROLLED.to_owned(),
                };
                return self.reply(write, &ToWorker::CodeResult(verdict)).await;
            }
            MfaGate::Waiting | MfaGate::Open => {
                warn!(peer = %self.peer, "code submitted with no prompt up; killing the worker");
                return Step::Stop;
            }
        };
        if code.0.chars().count() > ipc::MAX_CODE_LEN {
            warn!(peer = %self.peer, "over-long code; killing the worker");
            return Step::Stop;
        }
        let now = now_millis();
        let name = user.clone();
        let checked = self
            .sup
            .with_store(move |store| Ok(store.check_second_factor(&name, &code.0, now)?))
            .await;
        let check = match checked {
            Ok(check) => check,
            Err(err) => {
                error!(error = %format!("{err:#}"), "second factor check failed");
                rampart_store::CodeCheck::Wrong
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
            self.sup.audit(ev).await;
            info!(peer = %self.peer, user = %user, "second factor passed");
            self.fully_authenticated(&user);
            let verdict = CodeVerdict {
                accepted: true,
                attempts_left,
                notice,
            };
            return self.reply(write, &ToWorker::CodeResult(verdict)).await;
        }
        let attempts_left = attempts_left.saturating_sub(1);
        if let MfaGate::Prompt { deadline, .. } = self.mfa {
            self.mfa = MfaGate::Prompt { attempts_left, deadline };
        }
        warn!(peer = %self.peer, user = %user, %reason, attempts_left, "second factor failed");
        let ev = self
            .event(EventKind::MfaFailed, Outcome::Failure)
            .with_reason(format!("{reason}; {attempts_left} attempts left"));
        self.sup.audit(ev).await;
        self.punish(Some(&user)).await;
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
            self.sup.audit(ev).await;
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
        let actions = match self.sup.guard.lock() {
            Ok(mut guard) => guard.record_failure(ip, user, now),
            Err(_) => return,
        };
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
                    if let Err(err) = stored {
                        error!(%net, error = %format!("{err:#}"), "ban not stored; it holds until restart only");
                    }
                    let ev = self
                        .event(EventKind::SourceBanned, Outcome::Failure)
                        .with_reason(format!("{net} banned for {minutes} min (ban #{repeat})"));
                    self.sup.audit(ev).await;
                }
                GuardAction::AccountLocked { user, until } => {
                    let minutes = (until.0 - now.0) / 60_000;
                    warn!(%user, minutes, "account locked for sources that never logged in as it");
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

    /// An existing user, with the NT hash opened.
    async fn lookup(&self, user: &str) -> Option<rampart_store::UserRecord> {
        let user = user.to_owned();
        let found = self.sup.with_store(move |store| Ok(store.get_user(&user)?)).await;
        found.unwrap_or_else(|err| {
            error!(error = %format!("{err:#}"), "user lookup failed");
            None
        })
    }

    async fn open_session(&mut self, width: u16, height: u16) -> anyhow::Result<SessionGrant> {
        let (user, unix_user) = self.user.clone().context("no authenticated user on this connection")?;
        if self.mfa != MfaGate::Open {
            anyhow::bail!("second factor not passed on this connection");
        }
        if self.had_session {
            anyhow::bail!("session already opened on this connection");
        }
        if let Some(shadow) = &self.sup.shadow {
            // The shared display's cookie reaches a worker only now, after every factor.
            self.had_session = true;
            let ev = self
                .event(EventKind::SessionStarted, Outcome::Success)
                .with_reason(format!("shadowing {} (view only: {})", shadow.display, shadow.view_only));
            self.sup.audit(ev).await;
            return Ok(SessionGrant {
                display: shadow.display.clone(),
                cookie_hex: shadow.cookie_hex.clone(),
                width,
                height,
                resumed: true,
                view_only: shadow.view_only,
            });
        }
        let width = width.clamp(MIN_DIM, MAX_DIM);
        let height = height.clamp(MIN_DIM, MAX_DIM);
        let sup = Arc::clone(&self.sup);
        let rdp_user = user.clone();
        let info = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let account = UnixAccount::lookup(&unix_user)
                .with_context(|| format!("unix account {unix_user:?} of user {rdp_user:?}"))?;
            let sessions = sup.sessions.as_ref().context("no session manager (shadow mode)")?;
            let mut sessions = sessions.lock().map_err(|_| anyhow::anyhow!("session table poisoned"))?;
            Ok(sessions.ensure(&rdp_user, &account, width, height)?)
        })
        .await
        .context("session task")??;
        self.had_session = true;
        let kind = if info.resumed {
            EventKind::SessionResumed
        } else {
            EventKind::SessionStarted
        };
        let ev = self
            .event(kind, Outcome::Success)
            .with_reason(format!("display :{} {}x{}", info.display, info.width, info.height));
        self.sup.audit(ev).await;
        Ok(SessionGrant {
            display: format!(":{}", info.display),
            cookie_hex: Some(hex::encode(&info.cookie)),
            width: info.width,
            height: info.height,
            resumed: info.resumed,
            view_only: false,
        })
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
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "ipc line too long"));
        }
        line.extend_from_slice(chunk);
        let consumed = done.unwrap_or(buf.len());
        reader.consume(consumed);
        if done.is_some() {
            return Ok(Some(line));
        }
    }
}
