//! Adapters between IronRDP's display/input traits and the X11 desktop.
//!
//! The desktop is reached only after NLA: `request_initial_size` (or `updates`, for clients
//! that do not offer desktop resize) asks the supervisor to start or resume the
//! authenticated user's session and then connects capture and input to that display.

use std::num::{NonZeroU16, NonZeroUsize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context};
use bytes::Bytes;
use ironrdp_server::{
    BitmapUpdate, DesktopSize, DisplayUpdate, KeyboardEvent, MouseEvent, PixelFormat, RGBAPointer, RdpServerDisplay,
    RdpServerDisplayUpdates, RdpServerInputHandler,
};
use rampart_desktop::{Capture, CaptureEvent, Frame, Input, MouseButton, X11Target};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use crate::ipc::{ToSupervisor, ToWorker, WorkerInit};
use crate::worker::{AuthenticatedUser, SharedChannel};

/// Frames queued between the capture thread and the encoder. Small on purpose: when the
/// network is slow the capture thread waits and X damage accumulates and merges.
const FRAME_QUEUE: usize = 4;

/// The connection's view of its desktop, shared by the display and input adapters.
pub(crate) struct DesktopLink {
    channel: SharedChannel,
    shadow: Option<(X11Target, bool)>,
    state: Mutex<LinkState>,
}

struct LinkState {
    size: DesktopSize,
    target: Option<X11Target>,
    input: Option<Input>,
    /// The capture connection made while sizing, handed to `updates`.
    capture: Option<Capture>,
}

impl DesktopLink {
    pub(crate) fn new(channel: SharedChannel, init: &WorkerInit) -> Self {
        let shadow = init.shadow.as_ref().map(|s| {
            (
                X11Target {
                    display: s.display.clone(),
                    cookie: s.cookie_hex.as_deref().and_then(|h| hex::decode(h).ok()),
                },
                s.view_only,
            )
        });
        Self {
            channel,
            shadow,
            state: Mutex::new(LinkState {
                size: DesktopSize {
                    width: init.default_width,
                    height: init.default_height,
                },
                target: None,
                input: None,
                capture: None,
            }),
        }
    }

    fn size(&self) -> DesktopSize {
        self.state.lock().map(|s| s.size).unwrap_or(DesktopSize { width: 1024, height: 768 })
    }

    /// Start or resume the desktop (once), connect input to it, and return its target.
    fn ensure(&self, wanted: DesktopSize) -> anyhow::Result<X11Target> {
        let mut state = self.state.lock().map_err(|_| anyhow::anyhow!("desktop state poisoned"))?;
        if let Some(target) = &state.target {
            return Ok(target.clone());
        }
        let (target, view_only) = match &self.shadow {
            Some((target, view_only)) => (target.clone(), *view_only),
            None => {
                let reply = self
                    .channel
                    .lock()
                    .map_err(|_| anyhow::anyhow!("ipc channel poisoned"))?
                    .request(&ToSupervisor::OpenSession {
                        width: wanted.width,
                        height: wanted.height,
                    })
                    .context("asking the supervisor for a session")?;
                match reply {
                    ToWorker::Session(grant) => {
                        let cookie = grant
                            .cookie_hex
                            .as_deref()
                            .map(hex::decode)
                            .transpose()
                            .context("session cookie is not hex")?;
                        info!(display = %grant.display, resumed = grant.resumed, "desktop session granted");
                        (
                            X11Target {
                                display: grant.display,
                                cookie,
                            },
                            false,
                        )
                    }
                    ToWorker::SessionRefused { reason } => bail!("session refused: {reason}"),
                    other => bail!("unexpected reply to session request: {other:?}"),
                }
            }
        };
        // Remember the grant first: the supervisor grants one session per connection, so a
        // retry after a failed connect below must reuse it rather than ask again.
        state.target = Some(target.clone());
        let capture = Capture::connect(&target).context("connecting to the desktop")?;
        let (w, h) = capture.size();
        state.size = DesktopSize { width: w, height: h };
        if !view_only {
            match Input::connect(&target) {
                Ok(input) => state.input = Some(input),
                Err(err) => warn!(%err, "input unavailable; session is view-only"),
            }
        }
        state.capture = Some(capture);
        Ok(target)
    }

    fn take_capture(&self) -> Option<Capture> {
        self.state.lock().ok().and_then(|mut s| s.capture.take())
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

    fn ensure(&mut self, wanted: DesktopSize) -> anyhow::Result<X11Target> {
        if self.auth.user().is_none() {
            bail!("display requested before authentication");
        }
        // Starting Xvfb takes a moment; this process serves one connection, so waiting here
        // stalls nobody else.
        self.link.ensure(wanted)
    }
}

#[async_trait::async_trait]
impl RdpServerDisplay for WorkerDisplay {
    async fn size(&mut self) -> DesktopSize {
        // Called before the handshake for every connection: cheap and without side effects.
        self.link.size()
    }

    async fn request_initial_size(&mut self, client_size: DesktopSize) -> DesktopSize {
        self.announced = Some(client_size);
        match self.ensure(client_size) {
            Ok(_) => self.link.size(),
            Err(err) => {
                warn!(error = %format!("{err:#}"), "cannot open desktop");
                client_size
            }
        }
    }

    async fn updates(&mut self) -> anyhow::Result<Box<dyn RdpServerDisplayUpdates>> {
        let wanted = self.announced.unwrap_or_else(|| self.link.size());
        let target = self.ensure(wanted)?;
        let mut capture = match self.link.take_capture() {
            Some(capture) => capture,
            None => Capture::connect(&target).context("connecting capture to the desktop")?,
        };
        let (tx, rx) = mpsc::channel(FRAME_QUEUE);
        let (w, h) = capture.size();
        let size = DesktopSize { width: w, height: h };
        if let Some(announced) = self.announced {
            if announced != size {
                // Resumed a session of another size: the client must follow the desktop.
                let _ = tx.send(DisplayUpdate::Resize(size)).await;
            }
        }
        std::thread::Builder::new()
            .name("capture".into())
            .spawn(move || capture_loop(&mut capture, &tx))
            .context("spawning capture thread")?;
        Ok(Box::new(Updates { rx }))
    }
}

fn capture_loop(capture: &mut Capture, tx: &mpsc::Sender<DisplayUpdate>) {
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
        let event = match capture.next_event(Duration::from_millis(200)) {
            Ok(Some(event)) => event,
            Ok(None) => continue,
            Err(err) => {
                warn!(%err, "capture stopped");
                return;
            }
        };
        let updates: Vec<DisplayUpdate> = match event {
            CaptureEvent::Frames(frames) => frames.into_iter().filter_map(bitmap).collect(),
            CaptureEvent::Cursor(cursor) => vec![DisplayUpdate::RGBAPointer(RGBAPointer {
                cache_index: 0,
                width: cursor.width,
                height: cursor.height,
                hot_x: cursor.hot_x,
                hot_y: cursor.hot_y,
                data: cursor.rgba,
            })],
            CaptureEvent::Resized { width, height } => vec![DisplayUpdate::Resize(DesktopSize { width, height })],
        };
        for update in updates {
            if tx.blocking_send(update).is_err() {
                return;
            }
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
