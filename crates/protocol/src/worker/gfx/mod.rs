//! The graphics pipeline (MS-RDPEGFX) with H.264 (AVC420) for clients that offer it.
//!
//! ironrdp-server 0.13 (feature `egfx`) opens the `Microsoft::Windows::RDS::Graphics`
//! dynamic channel and runs ironrdp-egfx's `GraphicsPipelineServer` on it: capability
//! negotiation, surfaces, frame acknowledgements. It brings no encoder and sends nothing by
//! itself. This module adds:
//! - [`GfxLink`]: the connection's switch between the RemoteFX/bitmap path and this one.
//!   Until the client has confirmed capabilities that allow AVC420, captured frames take the
//!   ordinary path; from then on they go to the encoder thread instead.
//! - the handler IronRDP calls on the connection's I/O task (capabilities, frame
//!   acknowledgements, close). It never blocks: acknowledgements are handed on with `try_send`.
//! - `stream`: the encoder thread (off the I/O path) that owns the OpenH264 encoder, the
//!   server's copy of the surface (`picture`) and the pure sending plan (`plan`), and writes
//!   the resulting PDUs through the server's event channel.

mod caps;
mod h264;
mod picture;
mod plan;
mod stream;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use ironrdp_egfx::pdu::{CapabilitiesAdvertisePdu, CapabilitySet};
use ironrdp_egfx::server::{GraphicsPipelineHandler, GraphicsPipelineServer};
use ironrdp_server::{GfxDvcBridge, GfxServerFactory, GfxServerHandle, ServerEvent, ServerEventSender};
use rampart_desktop::{Capture, Frame};
use tokio::sync::mpsc::UnboundedSender;
use tracing::{debug, info, warn};

use stream::Input;

/// Inputs queued for the encoder thread. Frames wait here while it encodes, so the capture
/// thread is held back (and X damage merges) when encoding falls behind.
const INPUT_QUEUE: usize = 16;

/// The connection's graphics-pipeline state, shared by the capture thread, the channel
/// handler (I/O task) and the encoder thread.
#[derive(Default)]
pub(crate) struct GfxLink {
    handle: Mutex<Option<GfxServerHandle>>,
    events: Mutex<Option<UnboundedSender<ServerEvent>>>,
    /// The client's advertised capability sets (the server confirms one of them).
    advertised: Mutex<Vec<CapabilitySet>>,
    /// Set while the encoder thread runs; frames go there.
    input: Mutex<Option<SyncSender<Input>>>,
    /// The encoder thread has not seen the whole screen yet.
    wants_full_frame: AtomicBool,
    /// The client's codecs were reset for the graphics pipeline (ResetGraphics sent).
    /// From then on FreeRDP cannot decode RemoteFX on the classic path any more.
    reset_sent: AtomicBool,
}

impl std::fmt::Debug for GfxLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GfxLink").field("active", &self.is_active()).finish()
    }
}

impl GfxLink {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The factory to hand to `RdpServerBuilder::with_gfx_factory`.
    pub(crate) fn factory(self: &Arc<Self>) -> Box<dyn GfxServerFactory> {
        Box::new(Factory(Arc::clone(self)))
    }

    /// Whether captured frames go to the H.264 path.
    pub(crate) fn is_active(&self) -> bool {
        self.input.lock().map(|i| i.is_some()).unwrap_or(false)
    }

    /// Hands `frames` to the graphics pipeline when it is active (then returns nothing to send
    /// on the ordinary path); otherwise returns them unchanged. On the switch it first sends
    /// the whole screen, read from `capture`.
    ///
    /// The switch waits until `classic_idle` (nothing queued on the ordinary path): the
    /// ResetGraphics that creates the surface also resets the client's RemoteFX decoder
    /// (FreeRDP `gdi_ResetGraphics` → `freerdp_client_codecs_reset`), so a RemoteFX update
    /// arriving after it fails and FreeRDP drops the connection.
    pub(crate) fn route(&self, capture: &mut Capture, frames: Vec<Frame>, classic_idle: bool) -> Vec<Frame> {
        if self.reset_sent.load(Ordering::SeqCst) && !self.is_active() {
            // The pipeline stopped after the client's codecs were reset: the classic path
            // cannot take over any more.
            return Vec::new();
        }
        let Some(input) = self.input.lock().ok().and_then(|i| i.clone()) else {
            return frames;
        };
        if self.wants_full_frame.load(Ordering::SeqCst) && !classic_idle {
            return frames;
        }
        if self.wants_full_frame.swap(false, Ordering::SeqCst) {
            let (width, height) = capture.size();
            if !h264::fits(width, height) {
                info!(width, height, "screen too large for H.264: staying on RemoteFX");
                return self.stopped(frames);
            }
            let full = match capture.full_frame() {
                Ok(frame) => frame,
                Err(err) => {
                    warn!(%err, "graphics pipeline: cannot read the screen");
                    self.wants_full_frame.store(true, Ordering::SeqCst);
                    return frames;
                }
            };
            if input.send(Input::Size { width, height }).is_err() || input.send(Input::Frame(full)).is_err() {
                return self.stopped(frames);
            }
        }
        for frame in frames {
            if input.send(Input::Frame(frame)).is_err() {
                return self.stopped(Vec::new());
            }
        }
        Vec::new()
    }

    /// The screen changed size (the capture sends the whole screen next).
    /// Sends the whole picture again (the client asked for a repaint).
    pub(crate) fn repaint(&self) {
        if let Some(input) = self.input.lock().ok().and_then(|i| i.clone()) {
            let _ = input.send(Input::Repaint);
        }
    }

    pub(crate) fn resized(&self, width: u16, height: u16) {
        if let Some(input) = self.input.lock().ok().and_then(|i| i.clone()) {
            let _ = input.send(Input::Size { width, height });
        }
    }

    fn stopped(&self, frames: Vec<Frame>) -> Vec<Frame> {
        if let Ok(mut input) = self.input.lock() {
            *input = None;
        }
        frames
    }

    /// Client confirmed capabilities: start the encoder thread if AVC420 is allowed.
    fn ready(self: &Arc<Self>, negotiated: &CapabilitySet) {
        if self.is_active() {
            // Capabilities again mid-session: the running encoder thread keeps its surface.
            return;
        }
        let advertised = self.advertised.lock().map(|a| a.clone()).unwrap_or_default();
        if !caps::avc420_usable(&advertised, negotiated) {
            info!(version = ?negotiated.version(), "graphics pipeline without AVC420: staying on RemoteFX");
            return;
        }
        let handle = self.handle.lock().ok().and_then(|h| h.clone());
        let events = self.events.lock().ok().and_then(|e| e.clone());
        let (Some(handle), Some(events)) = (handle, events) else {
            warn!("graphics pipeline ready without its channel handle");
            return;
        };
        let (tx, rx) = sync_channel(INPUT_QUEUE);
        let output = stream::Output::new(handle, events, Arc::clone(self));
        let spawned = std::thread::Builder::new()
            .name("h264".into())
            .spawn(move || stream::run(rx, output, stream::Settings::default()));
        match spawned {
            Ok(_) => {
                info!(version = ?negotiated.version(), "graphics pipeline: AVC420");
                self.wants_full_frame.store(true, Ordering::SeqCst);
                if let Ok(mut input) = self.input.lock() {
                    *input = Some(tx);
                }
            }
            Err(err) => warn!(%err, "cannot start the H.264 encoder thread"),
        }
    }

    fn ack(&self, frame_id: u32, queue_depth: u32) {
        tracing::trace!(frame_id, queue_depth, "frame acknowledged");
        let input = self.input.lock().ok().and_then(|i| i.clone());
        if let Some(input) = input {
            match input.try_send(Input::Ack { frame_id, queue_depth }) {
                // Lost acknowledgements only delay the next frame until the plan's timeout.
                Ok(()) | Err(TrySendError::Full(_)) => {}
                Err(TrySendError::Disconnected(_)) => {
                    self.stopped(Vec::new());
                }
            }
        }
    }

    fn set_reset_sent(&self) {
        self.reset_sent.store(true, Ordering::SeqCst);
    }

    fn closed(&self) {
        debug!("graphics pipeline channel closed");
        self.stopped(Vec::new());
    }
}

struct Factory(Arc<GfxLink>);

impl ServerEventSender for Factory {
    fn set_sender(&mut self, sender: UnboundedSender<ServerEvent>) {
        if let Ok(mut events) = self.0.events.lock() {
            *events = Some(sender);
        }
    }
}

impl GfxServerFactory for Factory {
    fn build_gfx_handler(&self) -> Box<dyn GraphicsPipelineHandler> {
        Box::new(Handler(Arc::clone(&self.0)))
    }

    fn build_server_with_handle(&self) -> Option<(GfxDvcBridge, GfxServerHandle)> {
        let server = GraphicsPipelineServer::new(self.build_gfx_handler());
        let handle: GfxServerHandle = Arc::new(Mutex::new(server));
        if let Ok(mut slot) = self.0.handle.lock() {
            *slot = Some(Arc::clone(&handle));
        }
        Some((GfxDvcBridge::new(Arc::clone(&handle)), handle))
    }
}

struct Handler(Arc<GfxLink>);

impl GraphicsPipelineHandler for Handler {
    fn capabilities_advertise(&mut self, pdu: &CapabilitiesAdvertisePdu) {
        let caps: Vec<CapabilitySet> = pdu.0.iter().filter_map(|raw| raw.parsed().ok().flatten()).collect();
        debug!(?caps, "graphics pipeline: client capabilities");
        if let Ok(mut advertised) = self.0.advertised.lock() {
            *advertised = caps;
        }
    }

    fn on_ready(&mut self, negotiated: &CapabilitySet) {
        self.0.ready(negotiated);
    }

    fn on_frame_ack(&mut self, frame_id: u32, queue_depth: u32, _total_frames_decoded: u32) {
        self.0.ack(frame_id, queue_depth);
    }

    fn on_close(&mut self) {
        self.0.closed();
    }
}
