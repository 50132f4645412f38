//! The encoder thread: captured frames and acknowledgements in, graphics-pipeline PDUs out.
//!
//! It runs beside the connection's I/O task, so encoding never delays input handling. Each
//! turn it takes every queued input (frames are copied into the surface picture, their
//! rectangles marked dirty), asks the plan what to send, and sends it:
//! - H.264: the whole picture is encoded (unchanged macroblocks cost next to nothing) and
//!   one RDPGFX_WIRE_TO_SURFACE_PDU_1 with an RFX_AVC420_BITMAP_STREAM paints only the
//!   dirty rectangles from it (MS-RDPEGFX 2.2.4.4);
//! - lossless: one WireToSurface1 per rectangle with the planar codec.
//!
//! Each frame is bracketed by StartFrame/EndFrame, which the client acknowledges.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ironrdp_core::{Encode, EncodeResult, WriteCursor};
use ironrdp_dvc::{DvcEncode, DvcMessage};
use ironrdp_egfx::pdu::{
    Avc420BitmapStream, Codec1Type, EndFramePdu, GfxPdu, PixelFormat, QuantQuality, StartFramePdu, Timestamp,
    WireToSurface1Pdu,
};
use ironrdp_pdu::geometry::{ExclusiveRectangle, InclusiveRectangle};
use ironrdp_server::{EgfxServerMessage, GfxServerHandle, ServerEvent};
use rampart_desktop::Frame;
use tokio::sync::mpsc::UnboundedSender;
use tracing::{debug, info, warn};

use super::h264::{Rate, H264};
use super::GfxLink;
use super::picture::Picture;
use super::plan::{MotionGauge, Plan, PlanConfig, Rect, Step};

/// Inputs taken per turn before the plan is asked again.
const MAX_INPUTS_PER_TURN: usize = 64;

/// What the encoder thread is told.
pub(crate) enum Input {
    /// The screen is (now) this size; a whole-screen frame follows.
    Size { width: u16, height: u16 },
    Frame(Frame),
    /// The client asked to have its picture redrawn (Refresh Rect, or output resumed):
    /// the whole surface is sent again, whatever the server believes it shows.
    Repaint,
    Ack { frame_id: u32, queue_depth: u32 },
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Settings {
    pub(crate) plan: PlanConfig,
}

/// Where PDUs go: the egfx server (surface bookkeeping, channel id) and the server's event
/// channel, which writes them on the connection.
pub(crate) struct Output {
    handle: GfxServerHandle,
    events: UnboundedSender<ServerEvent>,
    link: Arc<GfxLink>,
    started: Instant,
}

/// Time for the last update already taken by the classic path (RemoteFX) to be encoded and
/// written before the first ResetGraphics resets the client's RemoteFX decoder.
const CLASSIC_DRAIN: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
enum SendError {
    #[error("graphics pipeline state poisoned")]
    Poisoned,
    #[error("graphics channel is not open")]
    NoChannel,
    #[error("cannot create the surface")]
    NoSurface,
    #[error("encoding a pdu: {0}")]
    Encode(String),
    #[error("connection gone")]
    Gone,
}

impl Output {
    pub(crate) fn new(handle: GfxServerHandle, events: UnboundedSender<ServerEvent>, link: Arc<GfxLink>) -> Self {
        Self {
            handle,
            events,
            link,
            started: Instant::now(),
        }
    }

    /// (Re)creates the one surface at `width` x `height`, mapped at the output's origin.
    fn surface(&self, width: u16, height: u16, old: Option<u16>) -> Result<u16, SendError> {
        if old.is_none() {
            // The classic path was idle when frames switched over, but its last update may
            // still be on its way out.
            std::thread::sleep(CLASSIC_DRAIN);
        }
        let mut server = self.handle.lock().map_err(|_| SendError::Poisoned)?;
        if old.is_some() {
            // ResetGraphics at the new size; deletes the old surface.
            server.resize(width, height);
        } else {
            server.set_output_dimensions(width, height);
        }
        let id = server.create_surface(width, height).ok_or(SendError::NoSurface)?;
        if !server.map_surface_to_output(id, 0, 0) {
            return Err(SendError::NoSurface);
        }
        let messages = server.drain_output();
        let channel = server.channel_id().ok_or(SendError::NoChannel)?;
        drop(server);
        self.link.set_reset_sent();
        self.write(channel, messages)?;
        Ok(id)
    }

    /// Sends `commands` as one frame.
    fn frame(&self, frame_id: u32, commands: Vec<WireToSurface1Pdu>) -> Result<usize, SendError> {
        let timestamp = self.timestamp();
        let mut pdus = Vec::with_capacity(commands.len() + 2);
        pdus.push(GfxPdu::StartFrame(StartFramePdu { timestamp, frame_id }));
        pdus.extend(commands.into_iter().map(GfxPdu::WireToSurface1));
        pdus.push(GfxPdu::EndFrame(EndFramePdu { frame_id }));
        let mut bytes = 0;
        let mut messages: Vec<DvcMessage> = Vec::with_capacity(pdus.len());
        for pdu in &pdus {
            let encoded = ironrdp_core::encode_vec(pdu).map_err(|e| SendError::Encode(e.to_string()))?;
            bytes += encoded.len();
            // RDP_SEGMENTED_DATA, uncompressed (MS-RDPEGFX 2.2.5; ZGFX would gain nothing on
            // H.264 and costs CPU on the rest).
            messages.push(Box::new(Segmented(ironrdp_graphics::zgfx::wrap_uncompressed(&encoded))));
        }
        let (channel, pending) = {
            let mut server = self.handle.lock().map_err(|_| SendError::Poisoned)?;
            (server.channel_id().ok_or(SendError::NoChannel)?, server.drain_output())
        };
        let mut all = pending;
        all.extend(messages);
        self.write(channel, all)?;
        Ok(bytes)
    }

    fn write(&self, channel: u32, messages: Vec<DvcMessage>) -> Result<(), SendError> {
        if messages.is_empty() {
            return Ok(());
        }
        let messages = ironrdp_dvc::encode_dvc_messages(channel, messages, ironrdp_svc::ChannelFlags::SHOW_PROTOCOL)
            .map_err(|e| SendError::Encode(e.to_string()))?;
        self.events
            .send(ServerEvent::Egfx(EgfxServerMessage::SendMessages { messages }))
            .map_err(|_| SendError::Gone)
    }

    fn timestamp(&self) -> Timestamp {
        let ms = self.started.elapsed().as_millis();
        let part = |v: u128| u16::try_from(v).unwrap_or(0);
        Timestamp {
            milliseconds: part(ms % 1000),
            seconds: u8::try_from(ms / 1000 % 60).unwrap_or(0),
            minutes: u8::try_from(ms / 60_000 % 60).unwrap_or(0),
            hours: part(ms / 3_600_000 % 24),
        }
    }
}

/// A PDU already wrapped for the channel.
struct Segmented(Vec<u8>);

impl Encode for Segmented {
    fn encode(&self, dst: &mut WriteCursor<'_>) -> EncodeResult<()> {
        ironrdp_core::ensure_size!(in: dst, size: self.0.len());
        dst.write_slice(&self.0);
        Ok(())
    }

    fn name(&self) -> &'static str {
        "RDP_SEGMENTED_DATA"
    }

    fn size(&self) -> usize {
        self.0.len()
    }
}

impl DvcEncode for Segmented {}

struct Surface {
    id: u16,
    picture: Picture,
    plan: Plan,
    /// Said once in the log: the first H.264 frame, the first refinement.
    told_h264: bool,
    told_refined: bool,
}

/// The thread's body; returns when the inputs end or the connection is gone.
pub(crate) fn run(inputs: Receiver<Input>, output: Output, settings: Settings) {
    let mut gauge = MotionGauge::default();
    let mut encoder = match H264::new(Rate::for_motion(gauge.current())) {
        Ok(encoder) => encoder,
        Err(err) => {
            warn!(%err, "H.264 encoder unavailable");
            return;
        }
    };
    let mut surface: Option<Surface> = None;
    let mut wait: Option<Duration> = None;
    let mut stats = Stats::default();
    loop {
        let first = match wait {
            None => inputs.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(after) => inputs.recv_timeout(after),
        };
        let first = match first {
            Ok(input) => Some(input),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let now = Instant::now();
        // Everything queued now (bounded: the capture thread may keep adding), applied as
        // it comes so that no frame is held longer than needed.
        let queued = inputs.try_iter().take(MAX_INPUTS_PER_TURN);
        for input in first.into_iter().chain(queued) {
            if let Err(err) = take(input, &mut surface, &output, &mut encoder, &settings, now) {
                warn!(%err, "graphics pipeline stopped");
                return;
            }
        }
        let Some(s) = surface.as_mut() else {
            wait = None;
            continue;
        };
        wait = loop {
            let step = s.plan.next(Instant::now());
            tracing::trace!(?step, "plan");
            match step {
                Step::Wait(after) => break after,
                Step::H264 { frame_id, rects } => {
                    let started = Instant::now();
                    let (width, height) = s.picture.size();
                    if let Some(motion) = gauge.observe(&rects, width, height) {
                        // A new encoder set up for this motion: it starts with a key frame.
                        match H264::new(Rate::for_motion(motion)) {
                            Ok(next) => {
                                info!(?motion, "H.264 encoder follows the motion");
                                encoder = next;
                            }
                            Err(err) => warn!(%err, "H.264 encoder not renewed; keeping the old one"),
                        }
                    }
                    let sent = send_h264(&output, s, &mut encoder, frame_id, &rects);
                    stats.busy(started.elapsed());
                    match sent {
                        // Skipped by rate control; the plan retries the damage.
                        Ok(0) => {}
                        Ok(bytes) => {
                            crate::worker::activity::COUNTERS.encoded(started.elapsed());
                            if !s.told_h264 {
                                s.told_h264 = true;
                                info!(bytes, rects = rects.len(), "first H.264 frame sent");
                            }
                            stats.h264(bytes);
                        }
                        Err(err) => {
                            warn!(%err, "graphics pipeline stopped");
                            return;
                        }
                    }
                }
                Step::Lossless {
                    frame_id,
                    rects,
                    refinement,
                } => match timed(&mut stats, || send_lossless(&output, s, frame_id, &rects)) {
                    Ok((bytes, spent)) => {
                        crate::worker::activity::COUNTERS.encoded(spent);
                        if refinement && !s.told_refined {
                            s.told_refined = true;
                            info!(bytes, rects = rects.len(), "lossless refinement of H.264 areas started");
                        }
                        stats.lossless(bytes);
                    }
                    Err(err) => {
                        warn!(%err, "graphics pipeline stopped");
                        return;
                    }
                },
            }
        };
        stats.maybe_log(now);
    }
    debug!("graphics pipeline encoder done");
}

fn take(
    input: Input,
    surface: &mut Option<Surface>,
    output: &Output,
    encoder: &mut H264,
    settings: &Settings,
    now: Instant,
) -> Result<(), SendError> {
    match input {
        Input::Size { width, height } => {
            if surface.as_ref().is_some_and(|s| s.picture.size() == (width, height)) {
                return Ok(());
            }
            let id = output.surface(width, height, surface.as_ref().map(|s| s.id))?;
            info!(width, height, surface = id, "graphics pipeline surface");
            if surface.is_some() {
                // A new surface after a resize starts from a key frame.
                encoder.force_keyframe();
            }
            *surface = Some(Surface {
                id,
                picture: Picture::new(width, height),
                plan: Plan::new(settings.plan.clone(), width, height),
                told_h264: false,
                told_refined: false,
            });
        }
        Input::Frame(frame) => {
            if let Some(s) = surface.as_mut() {
                match s.picture.apply(&frame) {
                    Ok(Some(rect)) => s.plan.damage(rect, now),
                    Ok(None) => {}
                    Err(err) => debug!(%err, "frame dropped"),
                }
            }
        }
        Input::Repaint => {
            if let Some(s) = surface.as_mut() {
                let (width, height) = s.picture.size();
                s.plan.damage(
                    Rect {
                        left: 0,
                        top: 0,
                        right: width,
                        bottom: height,
                    },
                    now,
                );
            }
        }
        Input::Ack { frame_id, queue_depth } => {
            if let Some(s) = surface.as_mut() {
                s.plan.ack(frame_id, queue_depth);
            }
        }
    }
    Ok(())
}

fn send_h264(
    output: &Output,
    s: &mut Surface,
    encoder: &mut H264,
    frame_id: u32,
    rects: &[Rect],
) -> Result<usize, SendError> {
    let (cw, ch) = s.picture.coded_size();
    let (planes, strides) = s.picture.i420().map_err(|e| SendError::Encode(e.to_string()))?;
    let encoded = encoder
        .encode(planes, strides, cw, ch)
        .map_err(|e| SendError::Encode(e.to_string()))?;
    if encoded.skipped() {
        s.plan.skipped(frame_id, rects, Instant::now());
        return Ok(0);
    }
    let stream = Avc420BitmapStream {
        // RDPGFX_RECT16 on the wire has exclusive right/bottom edges; egfx 0.3 calls the
        // type inclusive but writes the fields as given.
        rectangles: rects
            .iter()
            .map(|r| InclusiveRectangle {
                left: r.left,
                top: r.top,
                right: r.right,
                bottom: r.bottom,
            })
            .collect(),
        quant_qual_vals: rects
            .iter()
            .map(|_| QuantQuality {
                quantization_parameter: 22,
                progressive: false,
                quality: 100,
            })
            .collect(),
        data: &encoded.annex_b,
    };
    let bitmap_data = ironrdp_core::encode_vec(&stream).map_err(|e| SendError::Encode(e.to_string()))?;
    if encoded.keyframe {
        debug!(frame_id, bytes = encoded.annex_b.len(), "H.264 key frame");
    }
    let bounds = bounding(rects);
    output.frame(
        frame_id,
        vec![WireToSurface1Pdu {
            surface_id: s.id,
            codec_id: Codec1Type::Avc420,
            pixel_format: PixelFormat::XRgb,
            destination_rectangle: bounds,
            bitmap_data,
        }],
    )
}

fn send_lossless(output: &Output, s: &mut Surface, frame_id: u32, rects: &[Rect]) -> Result<usize, SendError> {
    let mut commands = Vec::with_capacity(rects.len());
    for rect in rects {
        let bitmap_data = s.picture.planar(*rect).map_err(|e| SendError::Encode(e.to_string()))?;
        commands.push(WireToSurface1Pdu {
            surface_id: s.id,
            codec_id: Codec1Type::Planar,
            pixel_format: PixelFormat::XRgb,
            destination_rectangle: exclusive(*rect),
            bitmap_data,
        });
    }
    output.frame(frame_id, commands)
}

fn exclusive(r: Rect) -> ExclusiveRectangle {
    ExclusiveRectangle {
        left: r.left,
        top: r.top,
        right: r.right,
        bottom: r.bottom,
    }
}

fn bounding(rects: &[Rect]) -> ExclusiveRectangle {
    let mut it = rects.iter();
    let Some(first) = it.next() else {
        return exclusive(Rect {
            left: 0,
            top: 0,
            right: 0,
            bottom: 0,
        });
    };
    exclusive(it.fold(*first, |a, r| Rect {
        left: a.left.min(r.left),
        top: a.top.min(r.top),
        right: a.right.max(r.right),
        bottom: a.bottom.max(r.bottom),
    }))
}

/// Runs `f`, counting its time as busy; returns its result and the time it took.
fn timed<T, E>(stats: &mut Stats, f: impl FnOnce() -> Result<T, E>) -> Result<(T, Duration), E> {
    let started = Instant::now();
    let out = f();
    let spent = started.elapsed();
    stats.busy(spent);
    out.map(|v| (v, spent))
}

/// Counters logged every few seconds at debug level (frames and bytes by kind, time spent
/// encoding).
#[derive(Default)]
struct Stats {
    busy: Duration,
    h264_frames: u64,
    h264_bytes: u64,
    lossless_frames: u64,
    lossless_bytes: u64,
    since: Option<Instant>,
}

impl Stats {
    fn busy(&mut self, spent: Duration) {
        self.busy += spent;
    }

    fn h264(&mut self, bytes: usize) {
        self.h264_frames += 1;
        self.h264_bytes += u64::try_from(bytes).unwrap_or(u64::MAX);
    }

    fn lossless(&mut self, bytes: usize) {
        self.lossless_frames += 1;
        self.lossless_bytes += u64::try_from(bytes).unwrap_or(u64::MAX);
    }

    fn maybe_log(&mut self, now: Instant) {
        let since = *self.since.get_or_insert(now);
        if now.saturating_duration_since(since) < Duration::from_secs(5) {
            return;
        }
        debug!(
            h264_frames = self.h264_frames,
            h264_bytes = self.h264_bytes,
            lossless_frames = self.lossless_frames,
            lossless_bytes = self.lossless_bytes,
            busy_ms = self.busy.as_millis(),
            "graphics pipeline, last 5 s"
        );
        *self = Self {
            since: Some(now),
            ..Self::default()
        };
    }
}
