//! Screen capture: XDamage tells what changed, MIT-SHM (or plain `GetImage`)
//! fetches it, XFixes reports cursor shape changes.
//!
//! Pixels are 32 bits per pixel, little endian, in the X server's ZPixmap layout
//! for depth 24/32 visuals: bytes B, G, R, X.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::damage::{self, ConnectionExt as _};
use x11rb::protocol::shm::{self, ConnectionExt as _};
use x11rb::protocol::xfixes::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{self, ConnectionExt as _, ImageFormat, ImageOrder};
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;

use crate::region::{coalesce, Rect};
use crate::shm::ShmBuffer;
use crate::{connection, readiness, DesktopError, X11Target};

const BYTES_PER_PIXEL: usize = 4;
/// How long a resize waits for the X server to report the new size.
const RESIZE_SETTLE: Duration = Duration::from_secs(2);

/// A rectangle of screen pixels, BGRX 32 bpp little endian.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    pub x: u16,
    pub y: u16,
    pub width: u16,
    pub height: u16,
    /// Bytes from one row to the next (`width * 4` for frames made here).
    pub stride: usize,
    pub data: Vec<u8>,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("x", &self.x)
            .field("y", &self.y)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("stride", &self.stride)
            .field("data_len", &self.data.len())
            .finish()
    }
}

impl Frame {
    /// The pixel at (`x`, `y`) relative to the frame, as `[b, g, r, x]`.
    pub fn pixel(&self, x: u16, y: u16) -> Option<[u8; 4]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let off = usize::from(y)
            .checked_mul(self.stride)?
            .checked_add(usize::from(x).checked_mul(BYTES_PER_PIXEL)?)?;
        let px = self.data.get(off..off.checked_add(BYTES_PER_PIXEL)?)?;
        px.try_into().ok()
    }
}

/// The current cursor shape.
#[derive(Clone, PartialEq, Eq)]
pub struct CursorImage {
    pub width: u16,
    pub height: u16,
    pub hot_x: u16,
    pub hot_y: u16,
    /// `width * height` pixels, bytes R, G, B, A, with straight (not
    /// premultiplied) alpha. XFixes hands out premultiplied ARGB; we divide it out.
    pub rgba: Vec<u8>,
    /// XFixes cursor serial: equal serials mean equal images.
    pub serial: u32,
}

impl std::fmt::Debug for CursorImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CursorImage")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("hot_x", &self.hot_x)
            .field("hot_y", &self.hot_y)
            .field("serial", &self.serial)
            .finish()
    }
}

/// What [`Capture::next_event`] reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaptureEvent {
    /// Changed regions of the screen.
    Frames(Vec<Frame>),
    /// The cursor shape changed (also sent once at the start).
    Cursor(CursorImage),
    /// The screen changed size; a `Frames` event with the whole screen follows.
    Resized { width: u16, height: u16 },
}

struct ShmSegment {
    seg: shm::Seg,
    buf: ShmBuffer,
}

/// Knobs for [`Capture::connect_with`].
#[derive(Clone, Copy, Debug)]
pub struct CaptureOptions {
    /// Try MIT-SHM (fd passing). When false, always use plain `GetImage`.
    pub shm: bool,
}

impl Default for CaptureOptions {
    fn default() -> Self {
        Self { shm: true }
    }
}

/// A capturing connection to one X screen. `Send`; not `Sync`.
pub struct Capture {
    conn: RustConnection,
    root: xproto::Window,
    width: u16,
    height: u16,
    damage: damage::Damage,
    scratch_region: xfixes::Region,
    shm: Option<ShmSegment>,
    use_shm: bool,
    cursor_enabled: bool,
    cursor_dirty: bool,
    last_cursor_serial: Option<u32>,
    pending: VecDeque<CaptureEvent>,
}

fn x11<E: std::fmt::Display>(e: E) -> DesktopError {
    DesktopError::x11(e)
}

fn has_extension(conn: &RustConnection, name: &'static str) -> Result<bool, DesktopError> {
    Ok(conn.extension_information(name).map_err(x11)?.is_some())
}

impl Capture {
    /// Connects to the display, checks that its pixel format is 32 bpp little
    /// endian, and subscribes to damage, cursor and size changes. MIT-SHM is used
    /// when the server offers version 1.2 (fd passing); otherwise plain `GetImage`.
    pub fn connect(target: &X11Target) -> Result<Self, DesktopError> {
        Self::connect_with(target, CaptureOptions::default())
    }

    /// [`Capture::connect`] with options.
    pub fn connect_with(target: &X11Target, options: CaptureOptions) -> Result<Self, DesktopError> {
        let (conn, screen_num) = connection::connect(target)?;
        Self::on_connection(conn, screen_num, options)
    }

    /// [`Capture::connect`] over an already open connection to the target's X server.
    pub fn connect_stream(stream: std::os::unix::net::UnixStream, target: &X11Target) -> Result<Self, DesktopError> {
        let (conn, screen_num) = connection::connect_stream(stream, target)?;
        Self::on_connection(conn, screen_num, CaptureOptions::default())
    }

    fn on_connection(conn: RustConnection, screen_num: usize, options: CaptureOptions) -> Result<Self, DesktopError> {
        let setup = conn.setup();
        let screen = setup
            .roots
            .get(screen_num)
            .ok_or_else(|| DesktopError::X11(format!("no screen {screen_num}")))?;
        let root = screen.root;
        let (width, height, depth) = (
            screen.width_in_pixels,
            screen.height_in_pixels,
            screen.root_depth,
        );
        let bpp = setup
            .pixmap_formats
            .iter()
            .find(|f| f.depth == depth)
            .map(|f| f.bits_per_pixel);
        if bpp != Some(32)
            || setup.image_byte_order != ImageOrder::LSB_FIRST
            || !(depth == 24 || depth == 32)
        {
            return Err(DesktopError::Unsupported(format!(
                "root depth {depth} at {bpp:?} bpp ({:?}); need depth 24/32 at 32 bpp little endian",
                setup.image_byte_order
            )));
        }

        if !has_extension(&conn, damage::X11_EXTENSION_NAME)? {
            return Err(DesktopError::Unsupported("DAMAGE".into()));
        }
        if !has_extension(&conn, xfixes::X11_EXTENSION_NAME)? {
            return Err(DesktopError::Unsupported("XFIXES".into()));
        }
        let xfixes_version = conn
            .xfixes_query_version(5, 0)
            .map_err(x11)?
            .reply()
            .map_err(x11)?;
        if xfixes_version.major_version < 2 {
            return Err(DesktopError::Unsupported("XFIXES 2 (regions)".into()));
        }
        conn.damage_query_version(1, 1)
            .map_err(x11)?
            .reply()
            .map_err(x11)?;

        let damage = conn.generate_id().map_err(x11)?;
        conn.damage_create(damage, root, damage::ReportLevel::NON_EMPTY)
            .map_err(x11)?
            .check()
            .map_err(x11)?;
        // The server reports a new damage object's whole window as damaged; the
        // caller starts with `full_frame` anyway, so start from a clean slate.
        conn.damage_subtract(damage, x11rb::NONE, x11rb::NONE)
            .map_err(x11)?;
        let scratch_region = conn.generate_id().map_err(x11)?;
        conn.xfixes_create_region(scratch_region, &[])
            .map_err(x11)?;
        conn.xfixes_select_cursor_input(root, xfixes::CursorNotifyMask::DISPLAY_CURSOR)
            .map_err(x11)?;
        // Root ConfigureNotify tells us about RandR size changes without needing RandR.
        conn.change_window_attributes(
            root,
            &xproto::ChangeWindowAttributesAux::new()
                .event_mask(xproto::EventMask::STRUCTURE_NOTIFY),
        )
        .map_err(x11)?
        .check()
        .map_err(x11)?;

        let mut capture = Self {
            conn,
            root,
            width,
            height,
            damage,
            scratch_region,
            shm: None,
            use_shm: true,
            cursor_enabled: true,
            cursor_dirty: true,
            last_cursor_serial: None,
            pending: VecDeque::new(),
        };
        capture.use_shm = options.shm;
        capture.shm = capture.attach_shm();
        Ok(capture)
    }

    /// Whether images travel through MIT-SHM (false: plain `GetImage`).
    pub fn uses_shm(&self) -> bool {
        self.shm.is_some()
    }

    /// Screen size in pixels.
    pub fn size(&self) -> (u16, u16) {
        (self.width, self.height)
    }

    fn attach_shm(&mut self) -> Option<ShmSegment> {
        match self.try_attach_shm() {
            Ok(seg) => seg,
            Err(e) => {
                tracing::warn!(error = %e, "mit-shm unavailable, falling back to GetImage");
                None
            }
        }
    }

    fn try_attach_shm(&mut self) -> Result<Option<ShmSegment>, DesktopError> {
        if !self.use_shm {
            return Ok(None);
        }
        if !has_extension(&self.conn, shm::X11_EXTENSION_NAME)? {
            return Ok(None);
        }
        let v = self
            .conn
            .shm_query_version()
            .map_err(x11)?
            .reply()
            .map_err(x11)?;
        if (v.major_version, v.minor_version) < (1, 2) {
            return Ok(None);
        }
        let len = usize::from(self.width)
            .checked_mul(usize::from(self.height))
            .and_then(|n| n.checked_mul(BYTES_PER_PIXEL))
            .filter(|n| *n > 0)
            .ok_or_else(|| DesktopError::X11("bad screen size".into()))?;
        let (buf, server_fd) =
            ShmBuffer::create(len).map_err(|e| DesktopError::io("creating shm memfd", e))?;
        let seg = self.conn.generate_id().map_err(x11)?;
        self.conn
            .shm_attach_fd(seg, server_fd, false)
            .map_err(x11)?
            .check()
            .map_err(x11)?;
        Ok(Some(ShmSegment { seg, buf }))
    }

    fn detach_shm(&mut self) {
        if let Some(old) = self.shm.take() {
            // Best effort: the segment dies with the connection anyway.
            let _ = self.conn.shm_detach(old.seg);
        }
    }

    /// Resizes the screen to `width`x`height` with RandR (the session's own display only:
    /// never a shadowed console) and follows it here at once: the next frames have the
    /// new size, and the server's later size notification is not reported again. Fails,
    /// leaving the screen as it was, when the X server cannot take the size.
    pub fn resize(&mut self, width: u16, height: u16) -> Result<(), DesktopError> {
        if (width, height) == (self.width, self.height) {
            return Ok(());
        }
        crate::randr::set_screen_size(&self.conn, self.root, (self.width, self.height), width, height)?;
        self.absorb_own_resize(width, height)?;
        let geometry = self
            .conn
            .get_geometry(self.root)
            .map_err(x11)?
            .reply()
            .map_err(x11)?;
        self.width = geometry.width;
        self.height = geometry.height;
        self.detach_shm();
        self.shm = self.attach_shm();
        self.take_damage()?;
        if (self.width, self.height) != (width, height) {
            return Err(DesktopError::X11(format!(
                "asked for {width}x{height}, the screen is {}x{}",
                self.width, self.height
            )));
        }
        Ok(())
    }

    /// Takes the root size notifications our own resize caused off the queue (the steps
    /// of a resize may each send one), up to the one with the final size, so that none is
    /// reported later as a resize by someone else. Bounded by [`RESIZE_SETTLE`].
    fn absorb_own_resize(&mut self, width: u16, height: u16) -> Result<(), DesktopError> {
        let deadline = Instant::now() + RESIZE_SETTLE;
        loop {
            while let Some(event) = self.conn.poll_for_event().map_err(x11)? {
                match event {
                    Event::ConfigureNotify(ev)
                        if ev.window == self.root && (ev.width, ev.height) == (width, height) =>
                    {
                        return Ok(());
                    }
                    Event::XfixesCursorNotify(_) => self.cursor_dirty = true,
                    // Damage is dropped: the caller sends the whole new screen anyway.
                    _ => {}
                }
            }
            let now = Instant::now();
            if now >= deadline {
                tracing::debug!(width, height, "no size notification after a resize");
                return Ok(());
            }
            readiness::wait_readable(self.conn.stream(), deadline - now)
                .map_err(|e| DesktopError::io("waiting for x events", e))?;
        }
    }

    /// The whole screen.
    pub fn full_frame(&mut self) -> Result<Frame, DesktopError> {
        self.grab(Rect::new(0, 0, self.width, self.height))
    }

    fn grab(&mut self, r: Rect) -> Result<Frame, DesktopError> {
        let row = usize::from(r.width) * BYTES_PER_PIXEL;
        let len = row * usize::from(r.height);
        let x = i16::try_from(r.x).map_err(x11)?;
        let y = i16::try_from(r.y).map_err(x11)?;
        let data = match &self.shm {
            Some(seg) if len <= seg.buf.len() => {
                let reply = self
                    .conn
                    .shm_get_image(
                        self.root,
                        x,
                        y,
                        r.width,
                        r.height,
                        !0,
                        ImageFormat::Z_PIXMAP.into(),
                        seg.seg,
                        0,
                    )
                    .map_err(x11)?
                    .reply()
                    .map_err(x11)?;
                let size = usize::try_from(reply.size).map_err(x11)?;
                if size < len {
                    return Err(DesktopError::X11(format!(
                        "shm image of {size} bytes, expected {len}"
                    )));
                }
                seg.buf
                    .bytes()
                    .get(..len)
                    .ok_or_else(|| DesktopError::X11("shm image larger than segment".into()))?
                    .to_vec()
            }
            _ => {
                let reply = self
                    .conn
                    .get_image(
                        ImageFormat::Z_PIXMAP,
                        self.root,
                        x,
                        y,
                        r.width,
                        r.height,
                        !0,
                    )
                    .map_err(x11)?
                    .reply()
                    .map_err(x11)?;
                let mut data = reply.data;
                if data.len() < len {
                    return Err(DesktopError::X11(format!(
                        "image of {} bytes, expected {len}",
                        data.len()
                    )));
                }
                data.truncate(len);
                data
            }
        };
        Ok(Frame {
            x: r.x,
            y: r.y,
            width: r.width,
            height: r.height,
            stride: row,
            data,
        })
    }

    /// The current cursor image, if XFixes can give one.
    pub fn cursor_image(&mut self) -> Result<CursorImage, DesktopError> {
        let reply = self
            .conn
            .xfixes_get_cursor_image()
            .map_err(x11)?
            .reply()
            .map_err(x11)?;
        let count = usize::from(reply.width) * usize::from(reply.height);
        let argb = reply
            .cursor_image
            .get(..count)
            .ok_or_else(|| DesktopError::X11("short cursor image".into()))?;
        let mut rgba = Vec::with_capacity(count * 4);
        for &p in argb {
            rgba.extend_from_slice(&unpremultiply(p));
        }
        Ok(CursorImage {
            width: reply.width,
            height: reply.height,
            hot_x: reply.xhot,
            hot_y: reply.yhot,
            rgba,
            serial: reply.cursor_serial,
        })
    }

    /// Waits up to `timeout` for something to change and returns it: damaged
    /// regions (coalesced), a new cursor shape, or a new screen size. `Ok(None)`
    /// when nothing changed in time.
    pub fn next_event(&mut self, timeout: Duration) -> Result<Option<CaptureEvent>, DesktopError> {
        if let Some(ev) = self.pending.pop_front() {
            return Ok(Some(ev));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let mut damaged = false;
            let mut new_size = None;
            while let Some(event) = self.conn.poll_for_event().map_err(x11)? {
                match event {
                    Event::DamageNotify(_) => damaged = true,
                    Event::XfixesCursorNotify(_) => self.cursor_dirty = true,
                    Event::ConfigureNotify(ev)
                        if ev.window == self.root
                            && (ev.width, ev.height) != (self.width, self.height) =>
                    {
                        new_size = Some((ev.width, ev.height));
                    }
                    Event::Error(e) => {
                        tracing::debug!(error = ?e, "x error on capture connection");
                    }
                    _ => {}
                }
            }

            if let Some((width, height)) = new_size {
                self.width = width;
                self.height = height;
                self.detach_shm();
                self.shm = self.attach_shm();
                // Everything is new: drop the accumulated damage and send it all.
                self.take_damage()?;
                self.pending
                    .push_back(CaptureEvent::Resized { width, height });
                let full = self.full_frame()?;
                self.pending.push_back(CaptureEvent::Frames(vec![full]));
            } else if damaged {
                let rects = self.take_damage()?;
                let mut frames = Vec::with_capacity(rects.len());
                for r in rects {
                    frames.push(self.grab(r)?);
                }
                if !frames.is_empty() {
                    self.pending.push_back(CaptureEvent::Frames(frames));
                }
            }
            if self.cursor_dirty && self.cursor_enabled {
                self.cursor_dirty = false;
                match self.cursor_image() {
                    Ok(img) => {
                        if self.last_cursor_serial != Some(img.serial) {
                            self.last_cursor_serial = Some(img.serial);
                            self.pending.push_front(CaptureEvent::Cursor(img));
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read cursor image, cursor updates off");
                        self.cursor_enabled = false;
                    }
                }
            }
            if let Some(ev) = self.pending.pop_front() {
                return Ok(Some(ev));
            }

            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            self.conn.flush().map_err(x11)?;
            let readable = readiness::wait_readable(self.conn.stream(), deadline - now)
                .map_err(|e| DesktopError::io("waiting for x events", e))?;
            if !readable {
                // One more drain happens only if data arrived; none did.
                return Ok(None);
            }
        }
    }

    /// Fetches and clears the accumulated damage, clipped and coalesced.
    fn take_damage(&mut self) -> Result<Vec<Rect>, DesktopError> {
        self.conn
            .damage_subtract(self.damage, x11rb::NONE, self.scratch_region)
            .map_err(x11)?;
        let reply = self
            .conn
            .xfixes_fetch_region(self.scratch_region)
            .map_err(x11)?
            .reply()
            .map_err(x11)?;
        let clipped: Vec<Rect> = reply
            .rectangles
            .iter()
            .filter_map(|r| {
                Rect::clipped(
                    i32::from(r.x),
                    i32::from(r.y),
                    u32::from(r.width),
                    u32::from(r.height),
                    self.width,
                    self.height,
                )
            })
            .collect();
        Ok(coalesce(&clipped))
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        // Best effort; the server frees everything when the connection closes.
        let _ = self.conn.damage_destroy(self.damage);
        let _ = self.conn.xfixes_destroy_region(self.scratch_region);
        self.detach_shm();
        let _ = self.conn.flush();
    }
}

/// Premultiplied ARGB (XFixes) to straight RGBA bytes.
fn unpremultiply(argb: u32) -> [u8; 4] {
    let [b, g, r, a] = argb.to_le_bytes();
    if a == 0 {
        return [0, 0, 0, 0];
    }
    let un = |c: u8| -> u8 {
        let v = (u32::from(c) * 255 + u32::from(a) / 2) / u32::from(a);
        u8::try_from(v.min(255)).unwrap_or(u8::MAX)
    };
    [un(r), un(g), un(b), a]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpremultiply_values() {
        assert_eq!(unpremultiply(0xFF10_2030), [0x10, 0x20, 0x30, 0xFF]);
        assert_eq!(unpremultiply(0x0000_0000), [0, 0, 0, 0]);
        assert_eq!(unpremultiply(0x8080_0000), [255, 0, 0, 0x80]);
        // garbage above alpha saturates instead of overflowing
        assert_eq!(unpremultiply(0x10FF_FFFF), [255, 255, 255, 0x10]);
    }

    #[test]
    fn frame_pixel_bounds() {
        let f = Frame {
            x: 0,
            y: 0,
            width: 2,
            height: 1,
            stride: 8,
            data: vec![1, 2, 3, 4, 5, 6, 7, 8],
        };
        assert_eq!(f.pixel(1, 0), Some([5, 6, 7, 8]));
        assert_eq!(f.pixel(2, 0), None);
        assert_eq!(f.pixel(0, 1), None);
    }

    fn assert_send<T: Send>() {}

    #[test]
    fn capture_is_send() {
        assert_send::<Capture>();
    }
}
