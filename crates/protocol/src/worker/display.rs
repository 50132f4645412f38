//! Adapters between IronRDP's display/input traits and the X11 desktop.
//!
//! The desktop is reached only after NLA and, where required, the second factor:
//! `request_initial_size` (or `updates`, for clients that do not offer desktop resize) asks
//! the supervisor to start or resume the authenticated user's session and then connects
//! capture and input to that display. When a second factor is due, `updates` first runs
//! the two-step prompt ([`crate::worker::prompt`]) on the same update stream, with keyboard input
//! routed to it, and asks for the session only once the supervisor accepts a code.

use std::num::{NonZeroU16, NonZeroUsize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context};
use bytes::Bytes;
use ironrdp_displaycontrol::pdu::DisplayControlMonitorLayout;
use ironrdp_server::{
    BitmapUpdate, DesktopSize, DisplayUpdate, KeyboardEvent, MouseEvent, PixelFormat, RGBAPointer, RdpServerDisplay,
    RdpServerDisplayUpdates, RdpServerInputHandler,
};
use rampart_desktop::{Capture, CaptureEvent, Frame, Input, MouseButton, X11Target};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use crate::worker::clipboard::ClipboardLink;
use crate::worker::gfx::GfxLink;
use crate::ipc::{SecondFactorPlan, ToSupervisor, ToWorker, TypedCode, WorkerInit};
use crate::worker::prompt::{render, CodeEntry, EntryEvent, PromptFrame, PromptView, NOT_ENROLLED};
use crate::worker::{AuthenticatedUser, SharedChannel};

/// Frames queued between the capture thread and the encoder. Small on purpose: when the
/// network is slow the capture thread waits and X damage accumulates and merges.
const FRAME_QUEUE: usize = 4;

/// The connection's view of its desktop, shared by the display and input adapters.
pub(crate) struct DesktopLink {
    channel: SharedChannel,
    /// Started with the policy of the grant, once the supervisor grants the session.
    clipboard: Arc<ClipboardLink>,
    state: Mutex<LinkState>,
    /// While the two-step prompt is up, keyboard events go here instead of the desktop.
    prompt_keys: Mutex<Option<std::sync::mpsc::Sender<KeyboardEvent>>>,
    /// Why the worker itself ended the connection (e.g. too many wrong codes).
    close_reason: Mutex<Option<String>>,
    /// The supervisor accepted a code: no prompt again, even after a reactivation.
    prompt_passed: std::sync::atomic::AtomicBool,
    /// What the client asked of the picture, for the capture thread to act on.
    view: Mutex<ViewRequests>,
    /// The graphics pipeline (H.264), which takes over the frames once the client is ready.
    gfx: Arc<GfxLink>,
}

struct LinkState {
    size: DesktopSize,
    grant: Option<Grant>,
    input: Option<Input>,
    /// The capture connection made while sizing, handed to `updates`.
    capture: Option<Capture>,
}

/// The display the supervisor granted this connection.
#[derive(Clone, Debug)]
struct Grant {
    target: X11Target,
    /// The user's own session (resized to the client); false for a shadowed display.
    resizable: bool,
}

/// Requests from the client that the capture thread carries out between frames.
#[derive(Debug, Default)]
struct ViewRequests {
    /// Display Control: resize the session to this (latest wins).
    resize: Option<DesktopSize>,
    /// Refresh Rect, or output resumed: send the whole screen.
    repaint: bool,
    /// Suppress Output: capture and encode nothing until it is lifted.
    suppressed: bool,
}

impl DesktopLink {
    pub(crate) fn new(channel: SharedChannel, init: &WorkerInit, clipboard: Arc<ClipboardLink>) -> Self {
        Self {
            channel,
            clipboard,
            prompt_keys: Mutex::new(None),
            close_reason: Mutex::new(None),
            prompt_passed: std::sync::atomic::AtomicBool::new(false),
            view: Mutex::new(ViewRequests::default()),
            gfx: GfxLink::new(),
            state: Mutex::new(LinkState {
                size: DesktopSize {
                    width: init.default_width,
                    height: init.default_height,
                },
                grant: None,
                input: None,
                capture: None,
            }),
        }
    }

    pub(crate) fn gfx(&self) -> &Arc<GfxLink> {
        &self.gfx
    }

    fn size(&self) -> DesktopSize {
        self.state.lock().map(|s| s.size).unwrap_or(DesktopSize { width: 1024, height: 768 })
    }

    /// The size the client is told before any desktop exists (the prompt's size).
    /// IronRDP sizes its encoder from `size()` after `request_initial_size`; an encoder
    /// sized smaller than what is drawn drops every update that does not fit, silently.
    fn announce(&self, size: DesktopSize) {
        if let Ok(mut state) = self.state.lock() {
            if state.grant.is_none() {
                state.size = size;
            }
        }
    }

    /// Whether the granted display is the user's own session (resizable to the client).
    fn resizable(&self) -> bool {
        self.state
            .lock()
            .map(|s| s.grant.as_ref().is_some_and(|g| g.resizable))
            .unwrap_or(false)
    }

    fn set_size(&self, (width, height): (u16, u16)) {
        if let Ok(mut state) = self.state.lock() {
            state.size = DesktopSize { width, height };
        }
    }

    fn view(&self) -> std::sync::MutexGuard<'_, ViewRequests> {
        self.view.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Start or resume the desktop (once) and connect input to it.
    fn ensure(&self, wanted: DesktopSize) -> anyhow::Result<Grant> {
        let mut state = self.state.lock().map_err(|_| anyhow::anyhow!("desktop state poisoned"))?;
        if let Some(grant) = &state.grant {
            return Ok(grant.clone());
        }
        // Session and shadow mode alike: the display and its cookie come from the
        // supervisor, which grants them only after every factor has passed.
        let reply = self
            .channel
            .lock()
            .map_err(|_| anyhow::anyhow!("ipc channel poisoned"))?
            .request(&ToSupervisor::OpenSession {
                width: wanted.width,
                height: wanted.height,
            })
            .context("asking the supervisor for a session")?;
        let (grant, view_only, clipboard) = match reply {
            ToWorker::Session(grant) => {
                let cookie = grant
                    .cookie_hex
                    .as_deref()
                    .map(hex::decode)
                    .transpose()
                    .context("session cookie is not hex")?;
                info!(display = %grant.display, resumed = grant.resumed, "desktop session granted");
                (
                    Grant {
                        target: X11Target {
                            display: grant.display,
                            cookie,
                        },
                        resizable: grant.resizable,
                    },
                    grant.view_only,
                    grant.clipboard,
                )
            }
            ToWorker::SessionRefused { reason } => bail!("session refused: {reason}"),
            other => bail!("unexpected reply to session request: {other:?}"),
        };
        // Remember the grant first: the supervisor grants one session per connection, so a
        // retry after a failed connect below must reuse it rather than ask again.
        state.grant = Some(grant.clone());
        if !view_only {
            match self.dial().and_then(|stream| Ok(Input::connect_stream(stream, &grant.target)?)) {
                Ok(input) => state.input = Some(input),
                Err(err) => warn!(%err, "input unavailable; session is view-only"),
            }
        }
        // Only now, after every factor and the grant: the clipboard reaches the session.
        self.clipboard.start(|| self.dial(), &grant.target, clipboard, Arc::clone(&self.channel));
        // Input seen and what goes out, every few seconds (idle limit, metrics).
        crate::worker::activity::start_reporter(Arc::clone(&self.channel));
        Ok(grant)
    }

    /// A new connection to the granted display, opened by the supervisor: this process is
    /// confined and cannot reach the display's socket itself.
    fn dial(&self) -> anyhow::Result<std::os::unix::net::UnixStream> {
        let (reply, fd) = self
            .channel
            .lock()
            .map_err(|_| anyhow::anyhow!("ipc channel poisoned"))?
            .request_fd(&ToSupervisor::OpenDisplay)
            .context("asking the supervisor for a display connection")?;
        match (reply, fd) {
            (ToWorker::Display, Some(fd)) => Ok(std::os::unix::net::UnixStream::from(fd)),
            (ToWorker::Display, None) => bail!("display reply without a connection"),
            (ToWorker::DisplayRefused { reason }, _) => bail!("display connection refused: {reason}"),
            (other, _) => bail!("unexpected reply to a display request: {other:?}"),
        }
    }

    fn take_capture(&self) -> Option<Capture> {
        self.state.lock().ok().and_then(|mut s| s.capture.take())
    }

    fn store_capture(&self, capture: Capture) {
        if let Ok(mut state) = self.state.lock() {
            state.capture = Some(capture);
        }
    }

    /// Start or resume the desktop and hand over a capture connection to it (the one made
    /// while sizing, if any), at the client's size where the display is the user's own: a
    /// resumed session made at another size follows the client that came back.
    fn open_capture(&self, wanted: DesktopSize) -> anyhow::Result<Capture> {
        let grant = self.ensure(wanted)?;
        let mut capture = match self.take_capture() {
            Some(capture) => capture,
            None => Capture::connect_stream(self.dial()?, &grant.target).context("connecting capture to the desktop")?,
        };
        if grant.resizable && capture.size() != (wanted.width, wanted.height) {
            let (from_w, from_h) = capture.size();
            match capture.resize(wanted.width, wanted.height) {
                Ok(()) => info!(from = %format!("{from_w}x{from_h}"), to = %format!("{}x{}", wanted.width, wanted.height), "session resized to the client"),
                Err(err) => warn!(%err, "session keeps its size"),
            }
        }
        self.set_size(capture.size());
        Ok(capture)
    }

    fn with_input(&self, f: impl FnOnce(&mut Input) -> Result<(), rampart_desktop::DesktopError>) {
        if let Ok(mut state) = self.state.lock() {
            if let Some(input) = state.input.as_mut() {
                if let Err(err) = f(input) {
                    debug!(%err, "input event dropped");
                }
            }
        }
    }

    /// Sends `event` to the two-step prompt if it is up; returns whether it took it.
    fn key_to_prompt(&self, event: KeyboardEvent) -> Result<(), KeyboardEvent> {
        match self.prompt_keys.lock().ok().and_then(|keys| keys.clone()) {
            Some(keys) => keys.send(event).map_err(|err| err.0),
            None => Err(event),
        }
    }

    fn set_prompt_keys(&self, keys: Option<std::sync::mpsc::Sender<KeyboardEvent>>) {
        if let Ok(mut slot) = self.prompt_keys.lock() {
            *slot = keys;
        }
    }

    /// Why the worker ended the connection itself, if it did.
    pub(crate) fn close_reason(&self) -> Option<String> {
        self.close_reason.lock().ok().and_then(|r| r.clone())
    }

    fn set_close_reason(&self, reason: &str) {
        if let Ok(mut slot) = self.close_reason.lock() {
            *slot = Some(reason.to_owned());
        }
    }

    /// Ask the supervisor about one typed code.
    fn verify_code(&self, code: &str) -> anyhow::Result<crate::ipc::CodeVerdict> {
        let reply = self
            .channel
            .lock()
            .map_err(|_| anyhow::anyhow!("ipc channel poisoned"))?
            .request(&ToSupervisor::VerifyCode {
                code: TypedCode(code.to_owned()),
            })
            .context("asking the supervisor to check a code")?;
        match reply {
            ToWorker::CodeResult(verdict) => Ok(verdict),
            other => bail!("unexpected reply to a code: {other:?}"),
        }
    }

    /// Release keys and buttons this connection still holds down.
    pub(crate) fn release_input(&self) {
        if let Ok(mut state) = self.state.lock() {
            if let Some(input) = state.input.as_mut() {
                input.release_all();
            }
        }
    }
}

pub(crate) struct WorkerDisplay {
    link: Arc<DesktopLink>,
    auth: Arc<dyn AuthenticatedUser>,
    /// The size the client was told during the handshake.
    announced: Option<DesktopSize>,
}

impl WorkerDisplay {
    pub(crate) fn new(link: Arc<DesktopLink>, auth: Arc<dyn AuthenticatedUser>) -> Self {
        Self {
            link,
            auth,
            announced: None,
        }
    }

    /// The second factor still to pass on this connection, if any.
    fn prompt_due(&self) -> Option<SecondFactorPlan> {
        if self.link.prompt_passed.load(std::sync::atomic::Ordering::SeqCst) {
            return None;
        }
        self.auth.second_factor()
    }

    /// Start or resume the desktop at the client's size and keep the capture connection
    /// for `updates`. Starting an X server takes a moment; this process serves one
    /// connection, so waiting here stalls nobody else.
    fn open_desktop(&mut self, wanted: DesktopSize) -> anyhow::Result<()> {
        self.authenticated()?;
        let capture = self.link.open_capture(wanted)?;
        self.link.store_capture(capture);
        Ok(())
    }

    fn authenticated(&self) -> anyhow::Result<()> {
        if self.auth.user().is_none() {
            bail!("display requested before authentication");
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl RdpServerDisplay for WorkerDisplay {
    async fn size(&mut self) -> DesktopSize {
        // Called before the handshake for every connection: cheap and without side effects.
        self.link.size()
    }

    async fn request_initial_size(&mut self, client_size: DesktopSize) -> DesktopSize {
        if self.prompt_due().is_some() {
            // No session before the second factor: the prompt is drawn at the client's size.
            let size = DesktopSize {
                width: client_size.width.clamp(PROMPT_MIN_DIM, PROMPT_MAX_DIM),
                height: client_size.height.clamp(PROMPT_MIN_DIM, PROMPT_MAX_DIM),
            };
            self.announced = Some(size);
            self.link.announce(size);
            return size;
        }
        self.announced = Some(client_size);
        match self.open_desktop(clamp_session(client_size)) {
            Ok(()) => self.link.size(),
            Err(err) => {
                warn!(error = %format!("{err:#}"), "cannot open desktop");
                client_size
            }
        }
    }

    async fn updates(&mut self) -> anyhow::Result<Box<dyn RdpServerDisplayUpdates>> {
        let wanted = self.announced.unwrap_or_else(|| self.link.size());
        if let Some(plan) = self.prompt_due() {
            let user = self.auth.user().context("display requested before authentication")?;
            let (tx, rx) = mpsc::channel(FRAME_QUEUE);
            let link = Arc::clone(&self.link);
            std::thread::Builder::new()
                .name("prompt".into())
                .spawn(move || prompt_then_desktop(&link, &plan, &user, wanted, &tx))
                .context("spawning prompt thread")?;
            return Ok(Box::new(Updates { rx }));
        }
        self.authenticated()?;
        let capture = self.link.open_capture(clamp_session(wanted))?;
        let (tx, rx) = mpsc::channel(FRAME_QUEUE);
        let told = self.announced;
        let link = Arc::clone(&self.link);
        std::thread::Builder::new()
            .name("capture".into())
            .spawn(move || stream_desktop(&link, capture, told, &tx))
            .context("spawning capture thread")?;
        Ok(Box::new(Updates { rx }))
    }

    fn request_layout(&mut self, layout: DisplayControlMonitorLayout) {
        // Called on IronRDP's blocking pool: only note the wish; the capture thread resizes.
        match layout_size(&layout) {
            Some(size) => {
                debug!(width = size.width, height = size.height, "display control: client resized");
                self.link.view().resize = Some(clamp_session(size));
            }
            None => debug!("display control layout without a usable monitor"),
        }
    }

    fn repaint(&mut self) {
        self.link.view().repaint = true;
    }

    fn set_output_suppressed(&mut self, suppressed: bool) {
        info!(suppressed, "client output suppression");
        self.link.view().suppressed = suppressed;
    }
}

/// Session sizes honoured from a client (as the supervisor clamps them).
const SESSION_MIN_DIM: u16 = 200;
const SESSION_MAX_DIM: u16 = 4096;

fn clamp_session(size: DesktopSize) -> DesktopSize {
    DesktopSize {
        width: size.width.clamp(SESSION_MIN_DIM, SESSION_MAX_DIM),
        height: size.height.clamp(SESSION_MIN_DIM, SESSION_MAX_DIM),
    }
}

/// The one desktop a client's monitor layout gets: the box around all its monitors (a
/// multi-monitor client sees one desktop spanning them).
fn layout_size(layout: &DisplayControlMonitorLayout) -> Option<DesktopSize> {
    let mut bounds: Option<(i64, i64, i64, i64)> = None;
    for monitor in layout.monitors() {
        let (w, h) = monitor.dimensions();
        let (x, y) = monitor.position().unwrap_or((0, 0));
        let (x, y, w, h) = (i64::from(x), i64::from(y), i64::from(w), i64::from(h));
        if w <= 0 || h <= 0 {
            continue;
        }
        bounds = Some(match bounds {
            None => (x, y, x + w, y + h),
            Some((l, t, r, b)) => (l.min(x), t.min(y), r.max(x + w), b.max(y + h)),
        });
    }
    let (l, t, r, b) = bounds?;
    Some(DesktopSize {
        width: u16::try_from(r - l).ok()?,
        height: u16::try_from(b - t).ok()?,
    })
}

/// Prompt sizes (the renderer handles any size in this range).
const PROMPT_MIN_DIM: u16 = 200;
const PROMPT_MAX_DIM: u16 = 4096;

/// Runs the two-step prompt on the update stream; on success starts the desktop on the same
/// stream, otherwise records why and ends the stream (which ends the connection).
fn prompt_then_desktop(
    link: &DesktopLink,
    plan: &SecondFactorPlan,
    user: &str,
    size: DesktopSize,
    tx: &mpsc::Sender<DisplayUpdate>,
) {
    let (keys_tx, keys) = std::sync::mpsc::channel();
    link.set_prompt_keys(Some(keys_tx));
    let outcome = run_prompt(link, plan, user, size, &keys, tx);
    link.set_prompt_keys(None);
    if let Err(reason) = outcome {
        info!(%reason, "two-step prompt ended the connection");
        link.set_close_reason(reason);
        return;
    }
    link.prompt_passed.store(true, std::sync::atomic::Ordering::SeqCst);
    match link.open_capture(clamp_session(size)) {
        // The client was told the prompt's size.
        Ok(capture) => stream_desktop(link, capture, Some(size), tx),
        Err(err) => {
            warn!(error = %format!("{err:#}"), "cannot open desktop after the second factor");
            link.set_close_reason("internal error: cannot open the desktop");
        }
    }
}

/// Streams the desktop to the client: first a resize when the client was told another size
/// (a resumed session keeps its own), then the frames.
fn stream_desktop(link: &DesktopLink, mut capture: Capture, told: Option<DesktopSize>, tx: &mpsc::Sender<DisplayUpdate>) {
    let (width, height) = capture.size();
    let size = DesktopSize { width, height };
    if told.is_some_and(|told| told != size) {
        // The client learns the size through a deactivation-reactivation, which asks for a
        // new update stream: this one has done its job.
        link.gfx.resized(width, height);
        let _ = tx.blocking_send(DisplayUpdate::Resize(size));
        return;
    }
    capture_loop(link, &mut capture, tx);
}

/// The prompt itself: draw, read keys, submit codes to the supervisor. `Ok` once a code is
/// accepted; `Err(reason)` when the connection must close.
fn run_prompt(
    link: &DesktopLink,
    plan: &SecondFactorPlan,
    user: &str,
    size: DesktopSize,
    keys: &std::sync::mpsc::Receiver<KeyboardEvent>,
    tx: &mpsc::Sender<DisplayUpdate>,
) -> Result<(), &'static str> {
    let started = std::time::Instant::now();
    let timeout = Duration::from_secs(u64::from(plan.timeout_secs));
    let mut entry = CodeEntry::new();
    let mut attempts_left = plan.attempts;
    let mut notice: Option<String> = (!plan.enrolled).then(|| NOT_ENROLLED.to_owned());
    let mut shown: Option<PromptFrame> = None;
    loop {
        let left = timeout.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Err("two-step prompt timed out");
        }
        let view = PromptView {
            user,
            typed: entry.len(),
            attempts_left,
            notice: notice.as_deref(),
            seconds_left: u32::try_from(left.as_secs() + u64::from(left.subsec_nanos() > 0)).unwrap_or(u32::MAX),
        };
        let frame = render(&view, size.width, size.height);
        if let Some(update) = changed_rows(shown.as_ref(), &frame) {
            if tx.blocking_send(update).is_err() {
                return Err("client disconnected at the two-step prompt");
            }
        }
        shown = Some(frame);
        // Redraw at least every second for the countdown.
        let tick = Duration::from_nanos(u64::from(left.subsec_nanos())).max(Duration::from_millis(50));
        let event = match keys.recv_timeout(tick.min(left)) {
            Ok(event) => event,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return Err("input closed at the two-step prompt"),
        };
        let EntryEvent::Submit(code) = entry.key(&event) else {
            continue;
        };
        let verdict = link.verify_code(&code).map_err(|err| {
            warn!(error = %format!("{err:#}"), "code check failed");
            "internal error: code check failed"
        })?;
        if verdict.accepted {
            return Ok(());
        }
        if !plan.enrolled {
            continue;
        }
        attempts_left = verdict.attempts_left;
        if attempts_left == 0 {
            let view = PromptView {
                user,
                typed: 0,
                attempts_left,
                notice: Some("Too many wrong codes. This connection is closing."),
                seconds_left: 0,
            };
            let frame = render(&view, size.width, size.height);
            if let Some(update) = changed_rows(shown.as_ref(), &frame) {
                let _ = tx.blocking_send(update);
            }
            // Let the client show it before the connection goes.
            std::thread::sleep(Duration::from_millis(1500));
            return Err("too many wrong codes");
        }
        notice = Some(verdict.notice);
    }
}

/// The band of rows that differ between the frame on screen and `next`, as one update
/// (the whole frame when nothing is on screen yet).
fn changed_rows(shown: Option<&PromptFrame>, next: &PromptFrame) -> Option<DisplayUpdate> {
    let stride = next.stride;
    fn rows(f: &PromptFrame, stride: usize) -> Vec<&[u8]> {
        f.data.chunks_exact(stride.max(1)).collect()
    }
    let next_rows = rows(next, stride);
    let (first, last) = match shown {
        Some(shown) if shown.width == next.width && shown.height == next.height => {
            let old_rows = rows(shown, stride);
            let differs = |i: &usize| old_rows.get(*i) != next_rows.get(*i);
            let first = (0..next_rows.len()).find(differs)?;
            let last = (0..next_rows.len()).rev().find(differs)?;
            (first, last)
        }
        _ => (0, next_rows.len().checked_sub(1)?),
    };
    let data = next.data.get(first * stride..(last + 1) * stride)?;
    Some(DisplayUpdate::Bitmap(BitmapUpdate {
        x: 0,
        y: u16::try_from(first).ok()?,
        width: NonZeroU16::new(next.width)?,
        height: NonZeroU16::new(u16::try_from(last + 1 - first).ok()?)?,
        format: PixelFormat::BgrX32,
        stride: NonZeroUsize::new(stride)?,
        data: Bytes::copy_from_slice(data),
    }))
}

/// How often the capture thread looks at the client's requests while nothing changes.
const VIEW_POLL: Duration = Duration::from_millis(100);

fn capture_loop(link: &DesktopLink, capture: &mut Capture, tx: &mpsc::Sender<DisplayUpdate>) {
    match capture.full_frame() {
        Ok(frame) => {
            if let Some(update) = bitmap(frame) {
                if tx.blocking_send(update).is_err() {
                    return;
                }
            }
        }
        Err(err) => {
            warn!(%err, "first frame failed");
            return;
        }
    }
    loop {
        if tx.is_closed() {
            return;
        }
        let (resize, repaint, suppressed) = {
            let mut view = link.view();
            (view.resize.take(), std::mem::take(&mut view.repaint), view.suppressed)
        };
        if let Some(size) = resize {
            if live_resize(link, capture, size, tx) {
                return;
            }
        }
        if suppressed {
            // Nothing captured or encoded while the client does not look; damage keeps
            // accumulating in the X server and the whole screen follows the resume.
            std::thread::sleep(VIEW_POLL);
            continue;
        }
        if repaint && link.gfx.is_active() {
            // After the graphics pipeline took over, nothing may go the classic way.
            link.gfx.repaint();
            continue;
        }
        if repaint {
            let update = capture.full_frame().ok().and_then(|frame| match bitmap(frame) {
                Some(DisplayUpdate::Bitmap(b)) => Some(DisplayUpdate::Repaint(b)),
                other => other,
            });
            if let Some(update) = update {
                if tx.blocking_send(update).is_err() {
                    return;
                }
            }
            continue;
        }
        let event = match capture.next_event(VIEW_POLL) {
            Ok(Some(event)) => event,
            Ok(None) => {
                // An idle screen still switches to the graphics pipeline once it is ready.
                link.gfx.route(capture, Vec::new(), tx.capacity() == tx.max_capacity());
                continue;
            }
            Err(err) => {
                warn!(%err, "capture stopped");
                return;
            }
        };
        let updates: Vec<DisplayUpdate> = match event {
            CaptureEvent::Frames(frames) => link
                .gfx
                .route(capture, frames, tx.capacity() == tx.max_capacity())
                .into_iter()
                .filter_map(bitmap)
                .collect(),
            CaptureEvent::Cursor(cursor) => vec![DisplayUpdate::RGBAPointer(RGBAPointer {
                cache_index: 0,
                width: cursor.width,
                height: cursor.height,
                hot_x: cursor.hot_x,
                hot_y: cursor.hot_y,
                data: cursor.rgba,
            })],
            CaptureEvent::Resized { width, height } => {
                // Someone else resized the screen (another client of the same session):
                // this client follows through a reactivation, with a new update stream.
                link.set_size((width, height));
                link.gfx.resized(width, height);
                let _ = tx.blocking_send(DisplayUpdate::Resize(DesktopSize { width, height }));
                return;
            }
        };
        for update in updates {
            if tx.blocking_send(update).is_err() {
                return;
            }
        }
    }
}

/// A Display Control resize of the user's own session. Returns whether the stream ended
/// (the client is told the new size through a reactivation, which opens a new stream).
fn live_resize(link: &DesktopLink, capture: &mut Capture, size: DesktopSize, tx: &mpsc::Sender<DisplayUpdate>) -> bool {
    if !link.resizable() || capture.size() == (size.width, size.height) {
        return false;
    }
    match capture.resize(size.width, size.height) {
        Ok(()) => {
            info!(width = size.width, height = size.height, "session resized with the client window");
            link.set_size(capture.size());
            link.gfx.resized(size.width, size.height);
            let _ = tx.blocking_send(DisplayUpdate::Resize(size));
            true
        }
        Err(err) => {
            warn!(%err, "display control resize refused; the session keeps its size");
            false
        }
    }
}

fn bitmap(frame: Frame) -> Option<DisplayUpdate> {
    Some(DisplayUpdate::Bitmap(BitmapUpdate {
        x: frame.x,
        y: frame.y,
        width: NonZeroU16::new(frame.width)?,
        height: NonZeroU16::new(frame.height)?,
        format: PixelFormat::BgrX32,
        stride: NonZeroUsize::new(frame.stride)?,
        data: Bytes::from(frame.data),
    }))
}

struct Updates {
    rx: mpsc::Receiver<DisplayUpdate>,
}

#[async_trait::async_trait]
impl RdpServerDisplayUpdates for Updates {
    async fn next_update(&mut self) -> anyhow::Result<Option<DisplayUpdate>> {
        // `recv` is cancel-safe, as the trait requires.
        Ok(self.rx.recv().await)
    }
}

pub(crate) struct WorkerInput {
    link: Arc<DesktopLink>,
}

impl WorkerInput {
    pub(crate) fn new(link: Arc<DesktopLink>) -> Self {
        Self { link }
    }
}

impl RdpServerInputHandler for WorkerInput {
    fn keyboard(&mut self, event: KeyboardEvent) {
        let Err(event) = self.link.key_to_prompt(event) else {
            return;
        };
        // A client sends lock-key synchronisation by itself (on focus): not the user's input.
        if !matches!(event, KeyboardEvent::Synchronize(_)) {
            crate::worker::activity::COUNTERS.input();
        }
        self.link.with_input(|input| match event {
            KeyboardEvent::Pressed { code, extended } => input.key_scancode(code, extended, true),
            KeyboardEvent::Released { code, extended } => input.key_scancode(code, extended, false),
            KeyboardEvent::UnicodePressed(ch) => input.key_unicode(ch, true),
            KeyboardEvent::UnicodeReleased(ch) => input.key_unicode(ch, false),
            KeyboardEvent::Synchronize(flags) => {
                use ironrdp_pdu::input::fast_path::SynchronizeFlags as F;
                input.sync_locks(
                    flags.contains(F::CAPS_LOCK),
                    flags.contains(F::NUM_LOCK),
                    flags.contains(F::SCROLL_LOCK),
                )
            }
        });
    }

    fn mouse(&mut self, event: MouseEvent) {
        crate::worker::activity::COUNTERS.input();
        self.link.with_input(|input| match event {
            MouseEvent::Move { x, y } => input.mouse_move(x, y),
            MouseEvent::LeftPressed => input.mouse_button(MouseButton::Left, true),
            MouseEvent::LeftReleased => input.mouse_button(MouseButton::Left, false),
            MouseEvent::RightPressed => input.mouse_button(MouseButton::Right, true),
            MouseEvent::RightReleased => input.mouse_button(MouseButton::Right, false),
            MouseEvent::MiddlePressed => input.mouse_button(MouseButton::Middle, true),
            MouseEvent::MiddleReleased => input.mouse_button(MouseButton::Middle, false),
            MouseEvent::Button4Pressed => input.mouse_button(MouseButton::X1, true),
            MouseEvent::Button4Released => input.mouse_button(MouseButton::X1, false),
            MouseEvent::Button5Pressed => input.mouse_button(MouseButton::X2, true),
            MouseEvent::Button5Released => input.mouse_button(MouseButton::X2, false),
            MouseEvent::VerticalScroll { value } => input.wheel(value, 0),
            MouseEvent::Scroll { x, y } => input.wheel(
                i16::try_from(y).unwrap_or(if y < 0 { i16::MIN } else { i16::MAX }),
                i16::try_from(x).unwrap_or(if x < 0 { i16::MIN } else { i16::MAX }),
            ),
            MouseEvent::RelMove { .. } => Ok(()),
        });
    }
}
