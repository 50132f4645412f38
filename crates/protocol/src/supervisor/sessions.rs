//! The supervisor's operations on live sessions: the control socket's answers (status,
//! session list, ending sessions with who asked on record), the session limits (idle
//! connections disconnected, detached desktops ended), the metrics endpoint and the workers'
//! activity reports. A child module of `supervisor`, so that the connection loop needs only
//! one-line hooks into it.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rampart_audit::{Event, EventKind, Outcome, UnixMillis};
use rampart_desktop::session::SessionSummary;
use rampart_policy::{AccessState, HeldDesktop, LimitAction};
use tracing::{info, warn};

use super::{now_millis, Supervisor};
use crate::supervisor::control::{
    self, BanView, ConnectionView, EndTarget, EndedView, ListenerView, Requester, SessionView, Status,
};
use crate::supervisor::metrics::{self, Gauges};
use crate::supervisor::roster::Stage;

/// How often the session limits are checked.
const LIMITS_TICK: Duration = Duration::from_secs(1);
/// How long ending a session waits for its connections to go before it ends the processes.
const KICK_WAIT: Duration = Duration::from_secs(3);
/// How long `rampart status` waits for the session table while a session is starting.
const TABLE_WAIT: Duration = Duration::from_secs(2);

/// What `start_operations` started; `stop` ends it at shutdown.
pub(super) struct Operations {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    control_path: std::path::PathBuf,
}

impl Operations {
    /// Stops the control socket, the metrics endpoint and the limits, and removes the socket.
    pub(super) fn stop(self) {
        for task in &self.tasks {
            task.abort();
        }
        if let Err(err) = std::fs::remove_file(&self.control_path) {
            if err.kind() != std::io::ErrorKind::NotFound {
                warn!(path = %self.control_path.display(), %err, "cannot remove the control socket");
            }
        }
    }
}

fn millis(t: SystemTime) -> UnixMillis {
    UnixMillis(
        t.duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0),
    )
}

impl Supervisor {
    /// Binds the control socket and the metrics endpoint (start-up errors if either cannot
    /// be had) and starts them and the session limits.
    pub(super) async fn start_operations(self: &Arc<Self>) -> anyhow::Result<Operations> {
        let control_path = control::socket_path(&self.opts.runtime_dir);
        let control = control::bind(&control_path)?;
        info!(path = %control_path.display(), "control socket");
        let mut tasks = vec![tokio::spawn(control::serve(control, Arc::new(Front(Arc::clone(self)))))];
        if let Some(addr) = self.opts.metrics.listen {
            let listener = metrics::bind(addr).await?;
            let local = listener.local_addr()?;
            info!(%local, "metrics endpoint");
            self.metrics.set_address(local);
            eprintln!("rampart: metrics on http://{local}/metrics");
            let this = Arc::clone(self);
            let gauges: Arc<dyn Fn() -> Gauges + Send + Sync> = Arc::new(move || this.gauges());
            tasks.push(tokio::spawn(metrics::serve(listener, Arc::clone(&self.metrics), gauges)));
        }
        tasks.push(tokio::spawn(Arc::clone(self).enforce_limits()));
        Ok(Operations { tasks, control_path })
    }

    /// The session manager's list, fresh if it is free, else as last read.
    fn desktops_now(&self) -> Vec<SessionSummary> {
        let Some(sessions) = &self.sessions else {
            return Vec::new();
        };
        match sessions.try_lock() {
            Ok(manager) => {
                let list = manager.list();
                self.roster.set_desktops(list.clone());
                list
            }
            Err(_) => self.roster.desktops(),
        }
    }

    fn gauges(&self) -> Gauges {
        let now = now_millis();
        let bans = self.guard.lock().map(|g| g.bans(now).len()).unwrap_or(0);
        let (pending_handshakes, connections) = self
            .admission
            .lock()
            .map(|a| (a.pending_total(), a.connections()))
            .unwrap_or((0, 0));
        let desktops = self.desktops_now();
        let sessions_detached = desktops.iter().filter(|d| !self.roster.shown(&d.rdp_user)).count();
        Gauges {
            bans,
            pending_handshakes,
            connections,
            sessions: desktops.len(),
            sessions_detached,
        }
    }

    /// Every second: the limits' decisions, carried out.
    async fn enforce_limits(self: Arc<Self>) {
        let limits = self.opts.session_limits;
        let mut tick = tokio::time::interval(LIMITS_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = now_millis();
            let held: Vec<HeldDesktop> = self
                .desktops_now()
                .into_iter()
                .map(|d| HeldDesktop {
                    // A connection of the user (at the prompt, or showing it) holds the
                    // desktop; with none, the clock runs from when the last one left.
                    detached_since: (!self.roster.connected(&d.rdp_user))
                        .then(|| self.roster.detached_since(&d.rdp_user).unwrap_or_else(|| millis(d.started))),
                    user: d.rdp_user,
                })
                .collect();
            for action in rampart_policy::session_limits::due(&limits, &self.roster.for_limits(), &held, now) {
                let reason = action.reason();
                match action {
                    LimitAction::Disconnect { connection, .. } => {
                        if self.roster.kick(connection, &reason) {
                            info!(connection, %reason, "idle limit: connection disconnected, desktop kept");
                            self.metrics.limit_enforced(true);
                        }
                    }
                    LimitAction::End { user, .. } => {
                        if self.end_desktop(&user, &reason).await.is_some() {
                            info!(%user, %reason, "disconnected limit: desktop ended");
                            self.metrics.limit_enforced(false);
                        }
                    }
                }
            }
        }
    }

    /// Ends `user`'s desktop for `reason`: its connections are told to go (and given a
    /// moment to), then the session leader ends its processes; audited as `session_ended`
    /// with the reason. `None` if there was no session.
    async fn end_desktop(self: &Arc<Self>, user: &str, reason: &str) -> Option<SessionSummary> {
        self.sessions.as_ref()?;
        let kicked = self.roster.kick_user(user, reason);
        if !kicked.is_empty() {
            info!(%user, connections = ?kicked, "ending the desktop's connections first");
            let deadline = tokio::time::Instant::now() + KICK_WAIT;
            while self.roster.connected(user) && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        let this = Arc::clone(self);
        let name = user.to_owned();
        let ended = tokio::task::spawn_blocking(move || {
            this.sessions
                .as_ref()
                .and_then(|s| s.lock().ok())
                .and_then(|mut manager| manager.end(&name))
        })
        .await
        .ok()
        .flatten();
        self.roster.forget(user);
        let summary = ended?;
        let ev = Event::new(now_millis(), EventKind::SessionEnded, Outcome::Info)
            .with_user(summary.rdp_user.clone())
            .with_reason(reason);
        // The session is gone either way; a failed write is logged by `audit`.
        let _ = self.audit(ev).await;
        Some(summary)
    }

    fn session_view(&self, d: &SessionSummary) -> SessionView {
        let connections: Vec<u64> = self
            .roster
            .snapshot()
            .into_iter()
            .filter(|c| {
                matches!(c.stage, Stage::Desktop { .. })
                    && c.user.as_deref().is_some_and(|u| u.eq_ignore_ascii_case(&d.rdp_user))
            })
            .map(|c| c.id)
            .collect();
        let connected = !connections.is_empty();
        SessionView {
            id: d.id,
            user: d.rdp_user.clone(),
            unix_user: d.unix_user.clone(),
            display: format!(":{}", d.display),
            started_ms: millis(d.started).0,
            connected,
            connections,
            disconnected_since_ms: (!connected)
                .then(|| self.roster.detached_since(&d.rdp_user).unwrap_or_else(|| millis(d.started)).0),
        }
    }

    /// The session table, waiting a little while a session is starting.
    async fn session_table(self: &Arc<Self>) -> Result<Vec<SessionSummary>, String> {
        if self.sessions.is_none() {
            return Err("shadow mode: no desktop sessions of its own".to_owned());
        }
        let deadline = tokio::time::Instant::now() + TABLE_WAIT;
        loop {
            if let Some(Ok(manager)) = self.sessions.as_ref().map(|s| s.try_lock()) {
                let list = manager.list();
                self.roster.set_desktops(list.clone());
                return Ok(list);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err("the session table is busy (a session is starting); try again".to_owned());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn listener_view(&self, now: UnixMillis) -> ListenerView {
        let address = self.opts.listen.to_string();
        let (state, detail) = match self.access_state(now) {
            AccessState::Open => ("open", "open".to_owned()),
            AccessState::OpenFor(nets) => (
                "open_for",
                format!(
                    "open for {} only (access grants outside the windows)",
                    nets.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                ),
            ),
            AccessState::Closed { next_open } => (
                "closed",
                match next_open {
                    Some(at) => format!("closed by the access windows; opens {} UTC", at.format_utc()),
                    None => "closed by the access windows".to_owned(),
                },
            ),
        };
        ListenerView {
            address,
            state: state.to_owned(),
            detail,
        }
    }

    async fn status(self: &Arc<Self>) -> Status {
        let now = now_millis();
        let connections = self
            .roster
            .snapshot()
            .into_iter()
            .map(|c| {
                let (stage, display) = match &c.stage {
                    Stage::Handshake => ("handshake", None),
                    Stage::Authenticated => ("authenticated", None),
                    Stage::Desktop { display } => ("desktop", Some(display.clone())),
                };
                ConnectionView {
                    id: c.id,
                    peer: c.peer.to_string(),
                    since_ms: c.accepted.0,
                    user: c.user,
                    stage: stage.to_owned(),
                    idle_secs: display
                        .is_some()
                        .then(|| u64::try_from(now.0.saturating_sub(c.last_input.0) / 1000).unwrap_or(0)),
                    display,
                    leaving: c.leaving,
                }
            })
            .collect();
        let (sessions, sessions_note) = match self.session_table().await {
            Ok(list) => (Some(list.iter().map(|d| self.session_view(d)).collect()), None),
            Err(note) => (None, Some(note)),
        };
        let bans = self
            .guard
            .lock()
            .map(|g| g.bans(now))
            .unwrap_or_default()
            .into_iter()
            .map(|b| BanView {
                net: b.net.to_string(),
                until_ms: b.until.0,
            })
            .collect();
        let limits = self.opts.session_limits;
        Status {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            pid: std::process::id(),
            started_ms: self.roster.started.0,
            now_ms: now.0,
            listener: self.listener_view(now),
            pending_handshakes: self.admission.lock().map(|a| a.pending_total()).unwrap_or(0),
            connections,
            sessions,
            sessions_note,
            bans,
            idle_disconnect_secs: limits.idle.map(|d| d.as_secs()),
            disconnected_end_secs: limits.disconnected.map(|d| d.as_secs()),
            metrics: self.metrics.address().map(|a| format!("http://{a}/metrics")),
        }
    }

    async fn end_sessions(
        self: &Arc<Self>,
        target: EndTarget,
        by: Requester,
        note: Option<String>,
    ) -> Result<Vec<EndedView>, String> {
        let table = self.session_table().await?;
        let chosen: Vec<&SessionSummary> = match &target {
            EndTarget::User(name) => table.iter().filter(|d| d.rdp_user.eq_ignore_ascii_case(name)).collect(),
            EndTarget::Id(id) => table.iter().filter(|d| d.id == *id).collect(),
            EndTarget::AllDisconnected => table.iter().filter(|d| !self.roster.shown(&d.rdp_user)).collect(),
        };
        if chosen.is_empty() {
            return match target {
                EndTarget::User(name) => Err(format!("no session of user {name:?}")),
                EndTarget::Id(id) => Err(format!("no session with id {id}")),
                EndTarget::AllDisconnected => Ok(Vec::new()),
            };
        }
        let reason = match &note {
            Some(note) => format!("ended by {by}: {note}"),
            None => format!("ended by {by}"),
        };
        warn!(%by, sessions = chosen.len(), %reason, "sessions ended on request");
        let mut ended = Vec::new();
        for d in chosen {
            if let Some(s) = self.end_desktop(&d.rdp_user, &reason).await {
                ended.push(EndedView {
                    id: s.id,
                    user: s.rdp_user,
                    display: format!(":{}", s.display),
                });
            }
        }
        Ok(ended)
    }

    /// Hook: the NLA decision was made on `connection`.
    pub(super) fn handshake_decided(&self, connection: u64) {
        if let Some(since) = self.roster.since_accept(connection) {
            self.metrics.handshake_decided(since);
        }
    }

    /// Hook: `connection` was granted `display`.
    pub(super) fn desktop_granted(&self, connection: u64, display: &str) {
        if let Some(since) = self.roster.desktop(connection, display, now_millis()) {
            self.metrics.desktop_granted(since);
        }
    }
}

/// The control socket's view of the supervisor.
struct Front(Arc<Supervisor>);

#[async_trait::async_trait]
impl control::Handler for Front {
    async fn status(&self) -> Status {
        self.0.status().await
    }

    async fn sessions(&self) -> Result<Vec<SessionView>, String> {
        let table = self.0.session_table().await?;
        Ok(table.iter().map(|d| self.0.session_view(d)).collect())
    }

    async fn end(&self, target: EndTarget, by: Requester, note: Option<String>) -> Result<Vec<EndedView>, String> {
        self.0.end_sessions(target, by, note).await
    }
}
