//! The Prometheus endpoint (`[metrics] listen`): what the supervisor counts and a minimal
//! HTTP server that answers `GET /metrics` in the Prometheus text format (0.0.4), through
//! the `prometheus-client` crate.
//!
//! Counters move where the supervisor already audits (accept, refusal, NLA and code
//! results, the end of a connection); gauges are read when scraped; bytes, frames and
//! encode time come from the workers' periodic reports, which are claims and are bounded
//! before they are added. No label carries a user name or an address: a label's values
//! are a fixed set, so a stranger cannot grow the series.
//!
//! The HTTP side is bounded like everything else: a few connections at once, a request
//! head of at most [`MAX_REQUEST`] bytes read within [`REQUEST_TIMEOUT`], one answer, close.

use std::sync::atomic::{AtomicI64, AtomicU64};
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use rampart_audit::{Event, EventKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing::{debug, warn};

/// Longest request head read (request line and headers).
pub const MAX_REQUEST: usize = 8 * 1024;
/// The whole exchange (read the request, write the answer) must fit in this.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Scrapes served at once; more connections are closed unanswered.
pub const MAX_SCRAPERS: usize = 4;

/// Why a connection was refused at accept: the fixed label values.
pub const REFUSAL_REASONS: &[&str] = &[
    "banned",
    "denylist",
    "not_allowlisted",
    "outside_window",
    "pending_per_ip",
    "pending_total",
    "connections_total",
    "connections_per_ip",
    "rate_per_ip",
    "rate_total",
    "other",
];

/// How far a connection got: the fixed label values (see [`ConnectionProgress::outcome`]).
pub const OUTCOMES: &[&str] = &["desktop", "authenticated", "second_factor_unmet", "nla_failed", "unauthenticated"];

/// Bounds on one worker report (every [`crate::worker::activity::REPORT_INTERVAL`]): far above
/// what one connection sends in that time, so only a lying worker is clamped.
pub const MAX_REPORT_BYTES: u64 = 8 << 30;
pub const MAX_REPORT_FRAMES: u64 = 10_000;
pub const MAX_REPORT_ENCODE: Duration = Duration::from_secs(60);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

/// Everything the endpoint shows. Cheap to update from any thread.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    accepted: Counter,
    refused: Family<ReasonLabel, Counter>,
    closed: Family<OutcomeLabel, Counter>,
    nla: Family<ResultLabel, Counter>,
    second_factor: Family<ResultLabel, Counter>,
    limits: Family<ReasonLabel, Counter>,
    bans: Gauge<i64, AtomicI64>,
    pending: Gauge<i64, AtomicI64>,
    connections: Gauge<i64, AtomicI64>,
    sessions: Gauge<i64, AtomicI64>,
    sessions_detached: Gauge<i64, AtomicI64>,
    handshake: Histogram,
    login: Histogram,
    bytes: Counter,
    frames: Counter,
    encode: Counter<f64, AtomicU64>,
    /// Where the endpoint listens, once bound (for `rampart status`).
    bound: std::sync::OnceLock<std::net::SocketAddr>,
}

/// The gauges, as read when a scrape comes in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Gauges {
    pub bans: usize,
    pub pending_handshakes: u32,
    pub connections: u32,
    pub sessions: usize,
    pub sessions_detached: usize,
}

/// What the supervisor knows about a connection when it ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ConnectionProgress {
    /// The worker asked for the NLA verification.
    pub nla_attempted: bool,
    /// The supervisor verified the user's proof.
    pub nla_passed: bool,
    /// Every factor passed (or none more was due).
    pub all_factors: bool,
    /// A desktop was granted.
    pub desktop: bool,
}

impl ConnectionProgress {
    /// The `outcome` label: the furthest the connection got.
    pub fn outcome(self) -> &'static str {
        match self {
            Self { desktop: true, .. } => "desktop",
            Self {
                nla_passed: true,
                all_factors: true,
                ..
            } => "authenticated",
            Self { nla_passed: true, .. } => "second_factor_unmet",
            Self { nla_attempted: true, .. } => "nla_failed",
            _ => "unauthenticated",
        }
    }
}

/// The `reason` label of a refusal at accept, from the refusal's text (the `Display` of the
/// policy's refusals, which is also what the audit trail records).
pub(crate) fn refusal_label(text: &str) -> &'static str {
    use rampart_policy::{Refusal, SourceRefusal};
    let source = [
        (SourceRefusal::Banned { until: rampart_audit::UnixMillis(0) }.to_string(), "banned"),
        (SourceRefusal::Denied.to_string(), "denylist"),
        (SourceRefusal::NotAllowlisted.to_string(), "not_allowlisted"),
        (Refusal::PendingPerIp.to_string(), "pending_per_ip"),
        (Refusal::PendingTotal.to_string(), "pending_total"),
        (Refusal::ConnectionsTotal.to_string(), "connections_total"),
        (Refusal::ConnectionsPerIp.to_string(), "connections_per_ip"),
        (Refusal::RatePerIp.to_string(), "rate_per_ip"),
        (Refusal::RateTotal.to_string(), "rate_total"),
        (OUTSIDE_WINDOW.to_owned(), "outside_window"),
    ];
    source
        .iter()
        .find(|(known, _)| text.starts_with(known.as_str()))
        .map_or("other", |(_, label)| label)
}

/// The refusal text of a source outside every access window and grant (as audited).
pub(crate) const OUTSIDE_WINDOW: &str = "outside the access windows and grants";

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let accepted = Counter::default();
        registry.register("rampart_connections_accepted", "TCP connections admitted (a worker started)", accepted.clone());
        let refused = Family::<ReasonLabel, Counter>::default();
        registry.register("rampart_connections_refused", "Connections refused at accept, by reason", refused.clone());
        let closed = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "rampart_connections_closed",
            "Connections ended, by the furthest they got (desktop, authenticated, second_factor_unmet, nla_failed, unauthenticated)",
            closed.clone(),
        );
        let nla = Family::<ResultLabel, Counter>::default();
        registry.register("rampart_nla", "NLA (CredSSP/NTLM) logon attempts decided, by result", nla.clone());
        let second_factor = Family::<ResultLabel, Counter>::default();
        registry.register(
            "rampart_second_factor",
            "Second-factor outcomes at the two-step prompt (codes, timeouts), by result",
            second_factor.clone(),
        );
        let limits = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "rampart_session_limit_actions",
            "Session limits enforced: idle connections disconnected, disconnected desktops ended",
            limits.clone(),
        );
        let bans = Gauge::<i64, AtomicI64>::default();
        registry.register("rampart_bans_active", "Source bans in force", bans.clone());
        let pending = Gauge::<i64, AtomicI64>::default();
        registry.register("rampart_handshakes_pending", "Connections that have not authenticated yet", pending.clone());
        let connections = Gauge::<i64, AtomicI64>::default();
        registry.register("rampart_connections_active", "Live connections (worker processes)", connections.clone());
        let sessions = Gauge::<i64, AtomicI64>::default();
        registry.register("rampart_sessions_active", "Desktop sessions held (connected or not)", sessions.clone());
        let sessions_detached = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "rampart_sessions_disconnected",
            "Desktop sessions held with no connection",
            sessions_detached.clone(),
        );
        let handshake = Histogram::new([0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0]);
        registry.register_with_unit(
            "rampart_handshake",
            "From accept to the NLA decision",
            Unit::Seconds,
            handshake.clone(),
        );
        let login = Histogram::new([0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0]);
        registry.register_with_unit(
            "rampart_login",
            "From accept to the desktop granted (including the two-step prompt)",
            Unit::Seconds,
            login.clone(),
        );
        let bytes = Counter::default();
        registry.register_with_unit(
            "rampart_sent",
            "Bytes sent to clients in desktops (on the socket, TLS included), as workers report",
            Unit::Bytes,
            bytes.clone(),
        );
        let frames = Counter::default();
        registry.register(
            "rampart_sent_frames",
            "Screen updates encoded and sent to clients in desktops, as workers report",
            frames.clone(),
        );
        let encode = Counter::<f64, AtomicU64>::default();
        registry.register_with_unit(
            "rampart_encode",
            "Time spent encoding screen updates (RemoteFX/bitmap and H.264), as workers report",
            Unit::Seconds,
            encode.clone(),
        );
        // Every series exists from the start (at 0), so a rate is defined from the first scrape.
        for reason in REFUSAL_REASONS {
            refused.get_or_create(&ReasonLabel { reason }).get();
        }
        for outcome in OUTCOMES {
            closed.get_or_create(&OutcomeLabel { outcome }).get();
        }
        for result in ["success", "failure"] {
            nla.get_or_create(&ResultLabel { result }).get();
            second_factor.get_or_create(&ResultLabel { result }).get();
        }
        for reason in ["idle", "disconnected"] {
            limits.get_or_create(&ReasonLabel { reason }).get();
        }
        Self {
            registry,
            accepted,
            refused,
            closed,
            nla,
            second_factor,
            limits,
            bans,
            pending,
            connections,
            sessions,
            sessions_detached,
            handshake,
            login,
            bytes,
            frames,
            encode,
            bound: std::sync::OnceLock::new(),
        }
    }

    /// The endpoint is bound to `addr`.
    pub fn set_address(&self, addr: std::net::SocketAddr) {
        let _ = self.bound.set(addr);
    }

    /// Where the endpoint listens, if it does.
    pub fn address(&self) -> Option<std::net::SocketAddr> {
        self.bound.get().copied()
    }

    /// An audit event on its way to the store: the counters that follow the trail.
    pub fn observe(&self, event: &Event) {
        let result = |ok: bool| ResultLabel {
            result: if ok { "success" } else { "failure" },
        };
        match event.kind {
            EventKind::ConnectionAccepted => {
                self.accepted.inc();
            }
            EventKind::AuthSucceeded => {
                self.nla.get_or_create(&result(true)).inc();
            }
            EventKind::AuthFailed => {
                self.nla.get_or_create(&result(false)).inc();
            }
            EventKind::MfaSucceeded => {
                self.second_factor.get_or_create(&result(true)).inc();
            }
            EventKind::MfaFailed => {
                self.second_factor.get_or_create(&result(false)).inc();
            }
            _ => {}
        }
    }

    /// A refusal at accept (every one, before the audit trail's rate limit).
    pub fn refused(&self, reason_text: &str) {
        self.refused
            .get_or_create(&ReasonLabel {
                reason: refusal_label(reason_text),
            })
            .inc();
    }

    pub fn closed(&self, progress: ConnectionProgress) {
        self.closed
            .get_or_create(&OutcomeLabel {
                outcome: progress.outcome(),
            })
            .inc();
    }

    pub fn handshake_decided(&self, since_accept: Duration) {
        self.handshake.observe(since_accept.as_secs_f64());
    }

    pub fn desktop_granted(&self, since_accept: Duration) {
        self.login.observe(since_accept.as_secs_f64());
    }

    /// One session limit enforced: `"idle"` or `"disconnected"`.
    pub fn limit_enforced(&self, idle: bool) {
        let reason = if idle { "idle" } else { "disconnected" };
        self.limits.get_or_create(&ReasonLabel { reason }).inc();
    }

    /// A worker's report, bounded (a worker is not believed beyond what is possible).
    pub fn worker_report(&self, bytes: u64, frames: u64, encode: Duration) {
        self.bytes.inc_by(bytes.min(MAX_REPORT_BYTES));
        self.frames.inc_by(frames.min(MAX_REPORT_FRAMES));
        self.encode.inc_by(encode.min(MAX_REPORT_ENCODE).as_secs_f64());
    }

    fn set_gauges(&self, g: Gauges) {
        let int = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.bans.set(int(g.bans));
        self.pending.set(i64::from(g.pending_handshakes));
        self.connections.set(i64::from(g.connections));
        self.sessions.set(int(g.sessions));
        self.sessions_detached.set(int(g.sessions_detached));
    }

    /// The text exposition with the gauges as given.
    pub fn render(&self, gauges: Gauges) -> String {
        self.set_gauges(gauges);
        let mut text = String::new();
        if let Err(err) = prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry) {
            warn!(%err, "cannot encode metrics");
        }
        text
    }
}

/// What a scrape asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Metrics,
    NotFound,
    MethodNotAllowed,
    BadRequest,
}

/// Routes a request from its head (`GET /metrics HTTP/1.1`, headers ignored).
fn route(head: &[u8]) -> Route {
    let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.trim_end_matches('\r').split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next()) else {
        return Route::BadRequest;
    };
    if parts.next().is_some() || !version.starts_with("HTTP/1.") {
        return Route::BadRequest;
    }
    let path = target.split('?').next().unwrap_or_default();
    match (method, path) {
        ("GET", "/metrics") => Route::Metrics,
        ("GET", _) => Route::NotFound,
        _ => Route::MethodNotAllowed,
    }
}

/// Binds the endpoint; a start-up error if the address is taken or not ours.
pub(crate) async fn bind(addr: std::net::SocketAddr) -> anyhow::Result<TcpListener> {
    use anyhow::Context;
    TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen for metrics on {addr}; set [metrics] listen to a free address, or to \"\" to turn the endpoint off")
    })
}

/// Answers scrapes until the task is aborted. `gauges` reads the current gauges.
pub(crate) async fn serve(listener: TcpListener, metrics: Arc<Metrics>, gauges: Arc<dyn Fn() -> Gauges + Send + Sync>) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_SCRAPERS));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                warn!(%err, "metrics accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
            debug!(%peer, "too many metrics scrapes at once; connection closed");
            continue;
        };
        let metrics = Arc::clone(&metrics);
        let gauges = Arc::clone(&gauges);
        tokio::spawn(async move {
            let answered = tokio::time::timeout(REQUEST_TIMEOUT, answer(stream, &metrics, gauges.as_ref())).await;
            if !matches!(answered, Ok(Ok(()))) {
                debug!(%peer, "metrics request not answered (timeout, oversized or closed)");
            }
            drop(permit);
        });
    }
}

async fn answer(mut stream: TcpStream, metrics: &Metrics, gauges: &(dyn Fn() -> Gauges + Send + Sync)) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(chunk.get(..n).unwrap_or_default());
        if head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n") {
            break;
        }
        if head.len() > MAX_REQUEST {
            return respond(&mut stream, "431 Request Header Fields Too Large", "text/plain", "request too large\n").await;
        }
    }
    match route(&head) {
        Route::Metrics => {
            let body = metrics.render(gauges());
            respond(&mut stream, "200 OK", prometheus_client::encoding::prometheus_text::CONTENT_TYPE, &body).await
        }
        Route::NotFound => respond(&mut stream, "404 Not Found", "text/plain", "only /metrics here\n").await,
        Route::MethodNotAllowed => respond(&mut stream, "405 Method Not Allowed", "text/plain", "GET only\n").await,
        Route::BadRequest => respond(&mut stream, "400 Bad Request", "text/plain", "bad request\n").await,
    }
}

async fn respond(stream: &mut TcpStream, status: &str, content_type: &str, body: &str) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use rampart_audit::{Outcome, UnixMillis};

    #[test]
    fn requests_are_routed_by_method_and_path() {
        assert_eq!(route(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), Route::Metrics);
        assert_eq!(route(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n"), Route::Metrics);
        assert_eq!(route(b"GET / HTTP/1.1\r\n\r\n"), Route::NotFound);
        assert_eq!(route(b"POST /metrics HTTP/1.1\r\n\r\n"), Route::MethodNotAllowed);
        assert_eq!(route(b"GET /metrics\r\n\r\n"), Route::BadRequest);
        assert_eq!(route(b"GET /metrics HTTP/1.1 extra\r\n\r\n"), Route::BadRequest);
        assert_eq!(route(b"\x16\x03\x01garbage"), Route::BadRequest);
        assert_eq!(route(b""), Route::BadRequest);
    }

    #[test]
    fn refusals_get_their_label_from_the_policy_text() {
        use rampart_policy::{Refusal, SourceRefusal};
        let banned = SourceRefusal::Banned { until: UnixMillis(5) }.to_string();
        assert_eq!(refusal_label(&banned), "banned");
        assert_eq!(refusal_label(&format!("{banned} (3 more refused since the last record)")), "banned");
        assert_eq!(refusal_label(&SourceRefusal::NotAllowlisted.to_string()), "not_allowlisted");
        assert_eq!(refusal_label(&Refusal::PendingPerIp.to_string()), "pending_per_ip");
        assert_eq!(refusal_label(&Refusal::PendingTotal.to_string()), "pending_total");
        assert_eq!(refusal_label(&Refusal::RatePerIp.to_string()), "rate_per_ip");
        assert_eq!(refusal_label(OUTSIDE_WINDOW), "outside_window");
        assert_eq!(refusal_label("something new"), "other");
        assert!(REFUSAL_REASONS.contains(&refusal_label("x")));
    }

    #[test]
    fn a_connection_is_counted_by_the_furthest_it_got() {
        let p = |nla_attempted, nla_passed, all_factors, desktop| ConnectionProgress {
            nla_attempted,
            nla_passed,
            all_factors,
            desktop,
        };
        assert_eq!(p(false, false, false, false).outcome(), "unauthenticated");
        assert_eq!(p(true, false, false, false).outcome(), "nla_failed");
        assert_eq!(p(true, true, false, false).outcome(), "second_factor_unmet");
        assert_eq!(p(true, true, true, false).outcome(), "authenticated");
        assert_eq!(p(true, true, true, true).outcome(), "desktop");
        for o in OUTCOMES {
            assert!(["desktop", "authenticated", "second_factor_unmet", "nla_failed", "unauthenticated"].contains(o));
        }
    }

    #[test]
    fn the_exposition_has_every_series_and_follows_the_trail() {
        let m = Metrics::new();
        let ev = |kind| Event::new(UnixMillis(0), kind, Outcome::Info);
        m.observe(&ev(EventKind::ConnectionAccepted));
        m.observe(&ev(EventKind::AuthFailed));
        m.observe(&ev(EventKind::AuthSucceeded));
        m.observe(&ev(EventKind::AuthSucceeded));
        m.observe(&ev(EventKind::MfaFailed));
        m.observe(&ev(EventKind::SessionStarted));
        m.refused("source address is on the denylist");
        m.handshake_decided(Duration::from_millis(300));
        m.worker_report(1000, 3, Duration::from_millis(1500));
        m.worker_report(u64::MAX, u64::MAX, Duration::MAX);
        m.limit_enforced(true);
        let text = m.render(Gauges {
            bans: 2,
            pending_handshakes: 1,
            connections: 3,
            sessions: 1,
            sessions_detached: 0,
        });
        for line in [
            "rampart_connections_accepted_total 1",
            "rampart_nla_total{result=\"success\"} 2",
            "rampart_nla_total{result=\"failure\"} 1",
            "rampart_second_factor_total{result=\"failure\"} 1",
            "rampart_second_factor_total{result=\"success\"} 0",
            "rampart_connections_refused_total{reason=\"denylist\"} 1",
            "rampart_connections_refused_total{reason=\"banned\"} 0",
            "rampart_connections_closed_total{outcome=\"desktop\"} 0",
            "rampart_session_limit_actions_total{reason=\"idle\"} 1",
            "rampart_bans_active 2",
            "rampart_handshakes_pending 1",
            "rampart_connections_active 3",
            "rampart_sessions_active 1",
            "rampart_handshake_seconds_count 1",
            "rampart_handshake_seconds_bucket{le=\"0.5\"} 1",
            "rampart_handshake_seconds_bucket{le=\"0.25\"} 0",
            "rampart_login_seconds_count 0",
            "rampart_sent_frames_total 10003",
        ] {
            assert!(text.lines().any(|l| l == line), "no line {line:?} in:\n{text}");
        }
        let bytes = format!("rampart_sent_bytes_total {}", 1000 + MAX_REPORT_BYTES);
        assert!(text.lines().any(|l| l == bytes), "{bytes} in:\n{text}");
        assert!(text.lines().any(|l| l == "rampart_encode_seconds_total 61.5"), "{text}");
    }
}
