//! The two-step verification prompt shown between NLA and the desktop session.
//!
//! After CredSSP has proved the password, the worker asks for a TOTP (or recovery) code
//! before any desktop exists: it paints this prompt into the RDP framebuffer itself and feeds
//! the client's keyboard events to [`CodeEntry`]. Nothing here does I/O, reads a clock or
//! spawns anything: [`render`] turns a [`PromptView`] into a BGRX frame and [`CodeEntry`]
//! turns key presses into edits, so both are tested without a connection.
//!
//! What the user types is secret: the frame shows one dot per character, never the
//! characters, the buffer is zeroized, and `Debug` prints only its length.

use std::fmt;

use ironrdp_server::KeyboardEvent;
use noto_sans_mono_bitmap::{get_raster, get_raster_width, FontWeight, RasterHeight};
use zeroize::{Zeroize, Zeroizing};

// ---------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------

/// The screen colour behind the panel (RGB), distinctive so tests can recognise the prompt.
pub(crate) const PROMPT_BACKGROUND: [u8; 3] = [0x15, 0x20, 0x2b];
const PANEL: [u8; 3] = [0xf4, 0xf6, 0xf8];
const ACCENT: [u8; 3] = [0x1d, 0x9b, 0xf0];
const TEXT: [u8; 3] = [0x0f, 0x14, 0x19];
const MUTED: [u8; 3] = [0x2f, 0x3b, 0x45];
const FIELD_BG: [u8; 3] = [0xff, 0xff, 0xff];
const FIELD_BORDER: [u8; 3] = [0x53, 0x64, 0x71];
/// A deep red: every channel stays dark, so OCR that thresholds channels separately
/// (tesseract does) still sees ink; a brighter red's red channel drowns in the panel.
const WARNING: [u8; 3] = [0x6b, 0x07, 0x10];

const TITLE: &str = "Rampart - two-step verification";
/// The notice for a user who must pass a second factor but has none enrolled.
pub(crate) const NOT_ENROLLED: &str = "Two-step verification is not set up for this account. Ask your administrator.";
const INSTRUCTION_1: &str = "Enter the 6-digit code from your authenticator app,";
const INSTRUCTION_2: &str = "or a recovery code, then press Enter.";
/// The user name is drawn with at most this many characters (then "...").
const USER_MAX_CHARS: usize = 40;
/// A notice longer than this is cut (it is wrapped over several lines before that).
const NOTICE_MAX_CHARS: usize = 240;
/// The panel is this many body characters wide when the screen allows it.
const PANEL_COLUMNS: usize = 52;

/// What the prompt shows; the worker builds one per redraw.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PromptView<'a> {
    /// The authenticated user name (sanitised to printable ASCII and truncated when drawn).
    pub user: &'a str,
    /// How many characters are typed: drawn as dots, never as the characters.
    pub typed: usize,
    pub attempts_left: u8,
    /// Drawn in a warning colour, e.g. "Wrong code. Try again.".
    pub notice: Option<&'a str>,
    /// Time until the prompt closes.
    pub seconds_left: u32,
}

/// A full-screen frame: 32 bpp BGRX (bytes B, G, R, X), top-down, `stride` bytes a row.
pub(crate) struct PromptFrame {
    pub width: u16,
    pub height: u16,
    pub stride: usize,
    pub data: Vec<u8>,
}

impl fmt::Debug for PromptFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PromptFrame")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("stride", &self.stride)
            .field("bytes", &self.data.len())
            .finish()
    }
}

/// Draws the prompt for a `width` x `height` screen. Never panics: text that does not fit
/// is wrapped, then clipped; fonts shrink on small screens and are scaled up on large ones.
pub(crate) fn render(view: &PromptView<'_>, width: u16, height: u16) -> PromptFrame {
    let w = usize::from(width);
    let h = usize::from(height);
    let stride = w.saturating_mul(4);
    let mut data = vec![0; stride.saturating_mul(h)];
    let [r, g, b] = PROMPT_BACKGROUND;
    for px in data.chunks_exact_mut(4) {
        px.copy_from_slice(&[b, g, r, 0xff]);
    }
    let mut frame = PromptFrame {
        width,
        height,
        stride,
        data,
    };
    let layout = layout(view, w, h);
    draw(&mut frame, &layout);
    frame
}

#[derive(Debug, Clone, Copy)]
struct Font {
    weight: FontWeight,
    size: RasterHeight,
}

impl Font {
    const fn new(weight: FontWeight, size: RasterHeight) -> Self {
        Self { weight, size }
    }

    fn width(self) -> usize {
        get_raster_width(self.weight, self.size)
    }

    fn height(self) -> usize {
        self.size.val()
    }
}

/// One size step: the title and body fonts, drawn `scale` times their native size.
#[derive(Debug, Clone, Copy)]
struct Style {
    title: Font,
    body: Font,
    scale: f32,
}

const fn style(title: RasterHeight, body: RasterHeight) -> Style {
    Style {
        title: Font::new(FontWeight::Bold, title),
        body: Font::new(FontWeight::Regular, body),
        scale: 1.0,
    }
}

/// From the largest to the smallest; the last is drawn, clipped, when none fits.
const TIERS: [Style; 4] = [
    style(RasterHeight::Size32, RasterHeight::Size32),
    style(RasterHeight::Size24, RasterHeight::Size24),
    style(RasterHeight::Size20, RasterHeight::Size20),
    style(RasterHeight::Size16, RasterHeight::Size16),
];

/// The screen the largest tier is drawn at native size for; larger screens scale it up so
/// the panel keeps its proportions (and stays easy to read, for people and OCR alike).
const REFERENCE_SCREEN: (f32, f32) = (1024.0, 768.0);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rect {
    x: i64,
    y: i64,
    w: i64,
    h: i64,
}

impl Rect {
    fn right(self) -> i64 {
        self.x.saturating_add(self.w)
    }

    fn bottom(self) -> i64 {
        self.y.saturating_add(self.h)
    }

    fn offset(self, dx: i64, dy: i64) -> Self {
        Self {
            x: self.x.saturating_add(dx),
            y: self.y.saturating_add(dy),
            ..self
        }
    }
}

#[derive(Debug)]
struct TextLine {
    x: i64,
    y: i64,
    text: String,
    font: Font,
    color: [u8; 3],
}

#[derive(Debug)]
struct Layout {
    scale: f32,
    panel: Rect,
    accent: Rect,
    /// The panel less its side padding: text is clipped to it.
    content: Rect,
    field: Rect,
    dot_radius: f32,
    /// Dot centres, already limited to those that fit in the field.
    dots: Vec<(f32, f32)>,
    caret: Rect,
    lines: Vec<TextLine>,
    /// True if the panel fits the screen and only the user name or notice had to wrap.
    fits: bool,
}

fn to_i64(v: usize) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A length of `v` native pixels at `scale`, in screen pixels.
fn scaled(v: usize, scale: f32) -> usize {
    // `as` saturates (and maps NaN to 0): no overflow whatever the inputs.
    (v as f32 * scale).round() as usize
}

/// Picks the largest style whose layout fits the screen, falling back to the smallest.
fn layout(view: &PromptView<'_>, width: usize, height: usize) -> Layout {
    let grow = (width as f32 / REFERENCE_SCREEN.0).min(height as f32 / REFERENCE_SCREEN.1);
    let mut candidates = Vec::with_capacity(TIERS.len() + 1);
    if let Some(&largest) = TIERS.first() {
        if grow > 1.0 {
            candidates.push(Style {
                scale: grow,
                ..largest
            });
        }
    }
    candidates.extend_from_slice(&TIERS);
    let mut last = None;
    for style in candidates {
        let l = layout_with(view, width, height, style);
        if l.fits {
            return l;
        }
        last = Some(l);
    }
    // Screens too small for every style get the smallest one, clipped.
    last.unwrap_or_else(|| {
        layout_with(
            view,
            width,
            height,
            style(RasterHeight::Size16, RasterHeight::Size16),
        )
    })
}

fn layout_with(view: &PromptView<'_>, width: usize, height: usize, style: Style) -> Layout {
    let s = style.scale;
    let body_advance = (style.body.width() as f32 * s).max(1.0);
    let title_advance = (style.title.width() as f32 * s).max(1.0);
    let body_h = scaled(style.body.height(), s).max(1);
    let pad = body_h * 3 / 2;
    let margin = body_h / 2;
    let gap = body_h * 3 / 4;
    let line_gap = body_h / 6;

    let wanted_inner = (PANEL_COLUMNS as f32 * body_advance)
        .max(TITLE.len() as f32 * title_advance)
        .ceil() as usize;
    let room = width.saturating_sub(2 * margin + 2 * pad);
    let inner_w = wanted_inner.min(room).max(body_advance.ceil() as usize);
    // The small bias keeps float rounding from losing a column that does fit.
    let columns = |advance: f32| ((inner_w as f32 + 0.01) / advance).floor().max(1.0) as usize;
    let body_cols = columns(body_advance);
    let title_cols = columns(title_advance);
    let mut fits = wanted_inner <= room;

    let mut lines = Vec::new();
    let accent_h = scaled(6, s).max(1);
    let mut y = accent_h + pad;
    let mut push = |y: &mut usize, text: &str, cols: usize, font: Font, color: [u8; 3]| {
        let wrapped = wrap(text, cols);
        let n = wrapped.len();
        for part in wrapped {
            lines.push(TextLine {
                x: to_i64(pad),
                y: to_i64(*y),
                text: part,
                font,
                color,
            });
            *y = y.saturating_add(scaled(font.height(), s) + line_gap);
        }
        n
    };

    fits &= push(&mut y, TITLE, title_cols, style.title, TEXT) == 1;
    y += gap;
    let signed_in = format!("Signed in as {}", sanitize(view.user, USER_MAX_CHARS));
    push(&mut y, &signed_in, body_cols, style.body, TEXT);
    y += gap;
    fits &= push(&mut y, INSTRUCTION_1, body_cols, style.body, TEXT) == 1;
    fits &= push(&mut y, INSTRUCTION_2, body_cols, style.body, TEXT) == 1;
    y += gap;

    let field_pad = body_h / 2;
    let field = Rect {
        x: to_i64(pad),
        y: to_i64(y),
        w: to_i64(inner_w),
        h: to_i64(body_h + 2 * field_pad),
    };
    y += body_h + 2 * field_pad + gap;
    // The notice goes right under the field it is about, above the counters.
    if let Some(notice) = view.notice {
        push(
            &mut y,
            &sanitize(notice, NOTICE_MAX_CHARS),
            body_cols,
            style.body,
            WARNING,
        );
        y += gap;
    }

    let attempts = if view.attempts_left == 1 {
        "1 attempt left".to_owned()
    } else {
        format!("{} attempts left", view.attempts_left)
    };
    push(&mut y, &attempts, body_cols, style.body, MUTED);
    let closes = format!("This screen closes in {} s", view.seconds_left);
    push(&mut y, &closes, body_cols, style.body, MUTED);
    let panel_w = inner_w + 2 * pad;
    let panel_h = y.saturating_sub(line_gap) + pad;
    fits &= panel_w + 2 * margin <= width && panel_h + 2 * margin <= height;

    // The panel covers most of the screen (the dark background is a frame around it, which
    // keeps OCR binarisation stable), with the content box centred in it. On a screen too
    // small for the content, both pin to the top left and are clipped.
    let card_w = panel_w.max(width * 3 / 4);
    let card_h = panel_h.max(height * 3 / 4);
    let px = to_i64(width.saturating_sub(card_w) / 2);
    let py = to_i64(height.saturating_sub(card_h) / 2);
    let panel = Rect {
        x: px,
        y: py,
        w: to_i64(card_w),
        h: to_i64(card_h),
    };
    let accent = Rect {
        h: to_i64(accent_h),
        ..panel
    };
    let cx = px.saturating_add(to_i64(card_w.saturating_sub(panel_w) / 2));
    let cy = py.saturating_add(to_i64(card_h.saturating_sub(panel_h) / 2));
    let content = Rect {
        x: cx.saturating_add(to_i64(pad)),
        y: cy,
        w: to_i64(inner_w),
        h: to_i64(panel_h),
    };
    for line in &mut lines {
        line.x = line.x.saturating_add(cx);
        line.y = line.y.saturating_add(cy);
    }
    let field = field.offset(cx, cy);

    // Dots: one per typed character, as many as fit in the field.
    let dot_radius = body_h as f32 * 0.24;
    let spacing = (body_h as f32 * 0.8).max(1.0);
    let first_x = field.x as f32 + field_pad as f32 + dot_radius;
    let cy = field.y as f32 + field.h as f32 / 2.0;
    let limit = field.right() as f32 - field_pad as f32;
    let mut dots = Vec::new();
    for i in 0..view.typed {
        let cx = first_x + i as f32 * spacing;
        if cx + dot_radius > limit {
            break;
        }
        dots.push((cx, cy));
    }
    let caret_x = match dots.last() {
        Some(&(cx, _)) => cx + spacing - dot_radius,
        None => field.x as f32 + field_pad as f32,
    };
    let caret_h = to_i64(body_h * 3 / 4);
    let caret = Rect {
        x: (caret_x as i64).min(field.right().saturating_sub(to_i64(field_pad))),
        y: field.y.saturating_add(field.h.saturating_sub(caret_h) / 2),
        w: to_i64(scaled(2, s).max(1)),
        h: caret_h,
    };

    Layout {
        scale: s,
        panel,
        accent,
        content,
        field,
        dot_radius,
        dots,
        caret,
        lines,
        fits,
    }
}

/// Printable ASCII only (anything else becomes '?'), at most `max` characters then "...".
fn sanitize(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .collect();
    if text.chars().nth(max).is_some() {
        out.push_str("...");
    }
    out
}

/// Greedy word wrap to `cols` characters; a word longer than a line is split.
fn wrap(text: &str, cols: usize) -> Vec<String> {
    let cols = cols.max(1);
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let used = current.chars().count();
            let needed = if used == 0 {
                word.len()
            } else {
                used + 1 + word.len()
            };
            if needed <= cols {
                if used > 0 {
                    current.push(' ');
                }
                current.extend(word.iter());
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut current));
                continue;
            }
            // An empty line and a word still too long: split it.
            let rest = word.split_off(cols.min(word.len()));
            lines.push(word.iter().collect());
            word = rest;
            if word.is_empty() {
                break;
            }
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

fn draw(frame: &mut PromptFrame, layout: &Layout) {
    let screen = Rect {
        x: 0,
        y: 0,
        w: i64::from(frame.width),
        h: i64::from(frame.height),
    };
    fill(frame, layout.panel, screen, PANEL);
    fill(frame, layout.accent, screen, ACCENT);

    let field = layout.field;
    let border = to_i64(scaled(2, layout.scale).max(1));
    fill(frame, field, layout.panel, FIELD_BORDER);
    let inside = Rect {
        x: field.x.saturating_add(border),
        y: field.y.saturating_add(border),
        w: field.w.saturating_sub(2 * border),
        h: field.h.saturating_sub(2 * border),
    };
    fill(frame, inside, layout.panel, FIELD_BG);
    for &(cx, cy) in &layout.dots {
        disc(frame, cx, cy, layout.dot_radius, inside, TEXT);
    }
    fill(frame, layout.caret, inside, TEXT);

    for line in &layout.lines {
        text(frame, line, layout.scale, layout.content);
    }
}

/// Paints the part of `rect` inside both `clip` and the frame.
fn fill(frame: &mut PromptFrame, rect: Rect, clip: Rect, color: [u8; 3]) {
    let x0 = rect.x.max(clip.x).max(0);
    let y0 = rect.y.max(clip.y).max(0);
    let x1 = rect.right().min(clip.right()).min(i64::from(frame.width));
    let y1 = rect
        .bottom()
        .min(clip.bottom())
        .min(i64::from(frame.height));
    if x0 >= x1 || y0 >= y1 || frame.stride == 0 {
        return;
    }
    // All four are within 0..=u16::MAX here.
    let (Ok(x0), Ok(x1), Ok(y0), Ok(y1)) = (
        usize::try_from(x0),
        usize::try_from(x1),
        usize::try_from(y0),
        usize::try_from(y1),
    ) else {
        return;
    };
    let [r, g, b] = color;
    let stride = frame.stride;
    for row in frame.data.chunks_exact_mut(stride).skip(y0).take(y1 - y0) {
        if let Some(span) = row.get_mut(x0 * 4..x1 * 4) {
            for px in span.chunks_exact_mut(4) {
                px.copy_from_slice(&[b, g, r, 0xff]);
            }
        }
    }
}

/// Blends `color` at `alpha` over one pixel, if it is inside both `clip` and the frame.
fn blend(frame: &mut PromptFrame, x: i64, y: i64, clip: Rect, color: [u8; 3], alpha: u8) {
    if x < clip.x || x >= clip.right() || y < clip.y || y >= clip.bottom() {
        return;
    }
    let (Ok(x), Ok(y)) = (usize::try_from(x), usize::try_from(y)) else {
        return;
    };
    if x >= usize::from(frame.width) || y >= usize::from(frame.height) {
        return;
    }
    let at = y.saturating_mul(frame.stride).saturating_add(x * 4);
    let [r, g, b] = color;
    if let Some(px) = frame.data.get_mut(at..at.saturating_add(3)) {
        for (channel, value) in px.iter_mut().zip([b, g, r]) {
            *channel = mix(*channel, value, alpha);
        }
    }
}

fn mix(under: u8, over: u8, alpha: u8) -> u8 {
    let a = u32::from(alpha);
    let v = (u32::from(under) * (255 - a) + u32::from(over) * a + 127) / 255;
    u8::try_from(v).unwrap_or(u8::MAX)
}

/// One glyph intensity, 0 outside the raster.
fn glyph_at(raster: &[&[u8]], x: i64, y: i64) -> f32 {
    let (Ok(x), Ok(y)) = (usize::try_from(x), usize::try_from(y)) else {
        return 0.0;
    };
    raster
        .get(y)
        .and_then(|row| row.get(x))
        .map_or(0.0, |&v| f32::from(v))
}

/// Bilinear sample of a glyph at a fractional position (exact at integer positions).
fn sample(raster: &[&[u8]], sx: f32, sy: f32) -> u8 {
    let (fx0, fy0) = (sx.floor(), sy.floor());
    let (fx, fy) = (sx - fx0, sy - fy0);
    let (x0, y0) = (fx0 as i64, fy0 as i64);
    let top = glyph_at(raster, x0, y0) * (1.0 - fx) + glyph_at(raster, x0 + 1, y0) * fx;
    let bottom = glyph_at(raster, x0, y0 + 1) * (1.0 - fx) + glyph_at(raster, x0 + 1, y0 + 1) * fx;
    (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8
}

/// Draws one line of text, blending each glyph's anti-aliased intensities over the frame;
/// above native size the glyphs are resampled bilinearly.
fn text(frame: &mut PromptFrame, line: &TextLine, scale: f32, clip: Rect) {
    let font = line.font;
    let advance = font.width() as f32 * scale;
    let oy = line.y as f32;
    for (i, c) in line.text.chars().enumerate() {
        let ox = line.x as f32 + i as f32 * advance;
        if ox >= clip.right() as f32 {
            break;
        }
        let Some(glyph) = get_raster(c, font.weight, font.size)
            .or_else(|| get_raster('?', font.weight, font.size))
        else {
            continue;
        };
        let raster = glyph.raster();
        let x0 = ox.floor() as i64;
        let x1 = (ox + glyph.width() as f32 * scale).ceil() as i64;
        let y0 = oy.floor() as i64;
        let y1 = (oy + glyph.height() as f32 * scale).ceil() as i64;
        for py in y0.max(clip.y)..y1.min(clip.bottom()) {
            let sy = (py as f32 + 0.5 - oy) / scale - 0.5;
            for px in x0.max(clip.x)..x1.min(clip.right()) {
                let sx = (px as f32 + 0.5 - ox) / scale - 0.5;
                let alpha = sample(raster, sx, sy);
                if alpha > 0 {
                    blend(frame, px, py, clip, line.color, alpha);
                }
            }
        }
    }
}

/// An anti-aliased filled circle.
fn disc(frame: &mut PromptFrame, cx: f32, cy: f32, radius: f32, clip: Rect, color: [u8; 3]) {
    let x0 = (cx - radius - 1.0).floor() as i64;
    let x1 = (cx + radius + 1.0).ceil() as i64;
    let y0 = (cy - radius - 1.0).floor() as i64;
    let y1 = (cy + radius + 1.0).ceil() as i64;
    for py in y0.max(clip.y)..y1.min(clip.bottom()) {
        for px in x0.max(clip.x)..x1.min(clip.right()) {
            let dx = px as f32 + 0.5 - cx;
            let dy = py as f32 + 0.5 - cy;
            let coverage = (radius + 0.5 - (dx * dx + dy * dy).sqrt()).clamp(0.0, 1.0);
            if coverage > 0.0 {
                blend(frame, px, py, clip, color, (coverage * 255.0).round() as u8);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Code entry
// ---------------------------------------------------------------------------------------

/// The most characters kept: a TOTP code is 6 and a recovery code well under this.
const MAX_CODE_CHARS: usize = 32;

/// The code being typed. `Debug` shows only its length.
pub(crate) struct CodeEntry {
    /// Allocated once at full size so pushes never reallocate (which would leave an
    /// unzeroized copy behind); ASCII only, so its length in bytes is its length in chars.
    typed: Zeroizing<String>,
}

/// What a key did to the entry.
pub(crate) enum EntryEvent {
    /// Nothing to redraw.
    Unchanged,
    /// The number of typed characters changed: redraw.
    Changed,
    /// Enter with something typed: the code (lowercase letters and digits, no dashes or
    /// spaces). The entry is empty again afterwards.
    Submit(Zeroizing<String>),
}

impl fmt::Debug for CodeEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodeEntry")
            .field("len", &self.len())
            .finish()
    }
}

impl fmt::Debug for EntryEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unchanged => f.write_str("Unchanged"),
            Self::Changed => f.write_str("Changed"),
            Self::Submit(code) => write!(f, "Submit(<{} chars>)", code.len()),
        }
    }
}

fn fresh_buffer() -> Zeroizing<String> {
    Zeroizing::new(String::with_capacity(MAX_CODE_CHARS))
}

/// PC/AT set-1 scancodes (non-extended) of a US layout to the character they type.
fn scancode_char(code: u8) -> Option<char> {
    const ROW_Q: &[u8] = b"qwertyuiop"; // 0x10..=0x19
    const ROW_A: &[u8] = b"asdfghjkl"; // 0x1E..=0x26
    const ROW_Z: &[u8] = b"zxcvbnm"; // 0x2C..=0x32
    let byte = match code {
        0x02..=0x0A => Some(b'1' + (code - 0x02)),
        0x0B => Some(b'0'),
        0x10..=0x19 => ROW_Q.get(usize::from(code - 0x10)).copied(),
        0x1E..=0x26 => ROW_A.get(usize::from(code - 0x1E)).copied(),
        0x2C..=0x32 => ROW_Z.get(usize::from(code - 0x2C)).copied(),
        // Numeric keypad (its extended twins are the arrow and navigation keys).
        0x47 => Some(b'7'),
        0x48 => Some(b'8'),
        0x49 => Some(b'9'),
        0x4B => Some(b'4'),
        0x4C => Some(b'5'),
        0x4D => Some(b'6'),
        0x4F => Some(b'1'),
        0x50 => Some(b'2'),
        0x51 => Some(b'3'),
        0x52 => Some(b'0'),
        _ => None,
    };
    byte.map(char::from)
}

impl CodeEntry {
    pub(crate) fn new() -> Self {
        Self {
            typed: fresh_buffer(),
        }
    }

    /// How many characters are typed (what the prompt shows as dots).
    pub(crate) fn len(&self) -> usize {
        self.typed.len()
    }

    /// Applies one keyboard event. Only presses count; releases and sync are ignored.
    pub(crate) fn key(&mut self, event: &KeyboardEvent) -> EntryEvent {
        match event {
            KeyboardEvent::Pressed { code, extended } => self.scancode(*code, *extended),
            KeyboardEvent::UnicodePressed(unit) => self.unicode(*unit),
            KeyboardEvent::Released { .. }
            | KeyboardEvent::UnicodeReleased(_)
            | KeyboardEvent::Synchronize(_) => EntryEvent::Unchanged,
        }
    }

    fn scancode(&mut self, code: u8, extended: bool) -> EntryEvent {
        match (code, extended) {
            // Enter, main or keypad (extended).
            (0x1C, _) => self.submit(),
            // Every other extended key (arrows, media keys, keypad '/', ...) types nothing.
            (_, true) => EntryEvent::Unchanged,
            (0x0E, false) => self.backspace(),
            (0x01, false) => self.clear(),
            (code, false) => scancode_char(code).map_or(EntryEvent::Unchanged, |c| self.push(c)),
        }
    }

    fn unicode(&mut self, unit: u16) -> EntryEvent {
        match char::from_u32(u32::from(unit)) {
            Some('\r' | '\n') => self.submit(),
            Some('\u{8}') => self.backspace(),
            Some(c) if c.is_ascii_alphanumeric() => self.push(c.to_ascii_lowercase()),
            _ => EntryEvent::Unchanged,
        }
    }

    fn push(&mut self, c: char) -> EntryEvent {
        if self.typed.len() >= MAX_CODE_CHARS {
            return EntryEvent::Unchanged;
        }
        self.typed.push(c);
        EntryEvent::Changed
    }

    fn backspace(&mut self) -> EntryEvent {
        let Some(keep) = self.typed.len().checked_sub(1) else {
            return EntryEvent::Unchanged;
        };
        // `String::pop` would leave the removed byte in the spare capacity: copy what stays
        // into a fresh buffer and let the old one be zeroized as it drops.
        let mut next = fresh_buffer();
        next.push_str(self.typed.get(..keep).unwrap_or_default());
        self.typed = next;
        EntryEvent::Changed
    }

    fn clear(&mut self) -> EntryEvent {
        if self.typed.is_empty() {
            return EntryEvent::Unchanged;
        }
        // Zeroes the contents and the spare capacity, then empties it.
        self.typed.zeroize();
        EntryEvent::Changed
    }

    fn submit(&mut self) -> EntryEvent {
        if self.typed.is_empty() {
            return EntryEvent::Unchanged;
        }
        EntryEvent::Submit(std::mem::replace(&mut self.typed, fresh_buffer()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    fn press(code: u8) -> KeyboardEvent {
        KeyboardEvent::Pressed {
            code,
            extended: false,
        }
    }

    fn press_ext(code: u8) -> KeyboardEvent {
        KeyboardEvent::Pressed {
            code,
            extended: true,
        }
    }

    fn type_all(entry: &mut CodeEntry, codes: &[u8]) {
        for &code in codes {
            assert!(
                matches!(entry.key(&press(code)), EntryEvent::Changed),
                "code {code:#x}"
            );
        }
    }

    fn submit(entry: &mut CodeEntry) -> String {
        match entry.key(&press(0x1C)) {
            EntryEvent::Submit(code) => code.as_str().to_owned(),
            other => panic!("expected Submit, got {other:?}"),
        }
    }

    #[test]
    fn top_row_digits() {
        let mut entry = CodeEntry::new();
        type_all(
            &mut entry,
            &[0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B],
        );
        assert_eq!(entry.len(), 10);
        assert_eq!(submit(&mut entry), "1234567890");
    }

    #[test]
    fn numpad_digits() {
        let mut entry = CodeEntry::new();
        type_all(
            &mut entry,
            &[0x4F, 0x50, 0x51, 0x4B, 0x4C, 0x4D, 0x47, 0x48, 0x49, 0x52],
        );
        assert_eq!(submit(&mut entry), "1234567890");
    }

    #[test]
    fn extended_numpad_keys_are_navigation_and_ignored() {
        let mut entry = CodeEntry::new();
        for code in [
            0x47, 0x48, 0x49, 0x4B, 0x4C, 0x4D, 0x4F, 0x50, 0x51, 0x52, 0x02, 0x10,
        ] {
            assert!(matches!(entry.key(&press_ext(code)), EntryEvent::Unchanged));
        }
        assert_eq!(entry.len(), 0);
    }

    #[test]
    fn letters_are_lowercase_and_dash_and_space_ignored() {
        let mut entry = CodeEntry::new();
        // q w e r t y u i o p / a s d f g h j k l / z x c v b n m
        let letters: Vec<u8> = (0x10..=0x19)
            .chain(0x1E..=0x26)
            .chain(0x2C..=0x32)
            .collect();
        type_all(&mut entry, &letters);
        assert!(matches!(entry.key(&press(0x0C)), EntryEvent::Unchanged)); // '-'
        assert!(matches!(entry.key(&press(0x39)), EntryEvent::Unchanged)); // space
        assert_eq!(submit(&mut entry), "qwertyuiopasdfghjklzxcvbnm");
    }

    #[test]
    fn unicode_events() {
        let mut entry = CodeEntry::new();
        for c in ['A', 'b', '7', '-', ' ', 'é', '!'] {
            entry.key(&KeyboardEvent::UnicodePressed(c as u16));
        }
        assert_eq!(entry.len(), 3);
        assert!(matches!(
            entry.key(&KeyboardEvent::UnicodePressed(0x08)),
            EntryEvent::Changed
        ));
        assert_eq!(entry.len(), 2);
        // A lone surrogate is not a character.
        assert!(matches!(
            entry.key(&KeyboardEvent::UnicodePressed(0xD800)),
            EntryEvent::Unchanged
        ));
        match entry.key(&KeyboardEvent::UnicodePressed(u16::from(b'\r'))) {
            EntryEvent::Submit(code) => assert_eq!(code.as_str(), "ab"),
            other => panic!("{other:?}"),
        }
        entry.key(&KeyboardEvent::UnicodePressed(u16::from(b'9')));
        match entry.key(&KeyboardEvent::UnicodePressed(u16::from(b'\n'))) {
            EntryEvent::Submit(code) => assert_eq!(code.as_str(), "9"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn backspace_and_escape() {
        let mut entry = CodeEntry::new();
        type_all(&mut entry, &[0x02, 0x03, 0x04]);
        assert!(matches!(entry.key(&press(0x0E)), EntryEvent::Changed));
        assert_eq!(entry.len(), 2);
        assert!(matches!(entry.key(&press(0x01)), EntryEvent::Changed));
        assert_eq!(entry.len(), 0);
        assert!(matches!(entry.key(&press(0x0E)), EntryEvent::Unchanged));
        assert!(matches!(entry.key(&press(0x01)), EntryEvent::Unchanged));
        type_all(&mut entry, &[0x05, 0x06]);
        entry.key(&press(0x0E));
        assert_eq!(submit(&mut entry), "4");
    }

    #[test]
    fn enter_submits_and_clears_and_empty_enter_does_not() {
        let mut entry = CodeEntry::new();
        assert!(matches!(entry.key(&press(0x1C)), EntryEvent::Unchanged));
        assert!(matches!(entry.key(&press_ext(0x1C)), EntryEvent::Unchanged));
        type_all(&mut entry, &[0x02, 0x03]);
        // Keypad Enter is extended.
        match entry.key(&press_ext(0x1C)) {
            EntryEvent::Submit(code) => assert_eq!(code.as_str(), "12"),
            other => panic!("{other:?}"),
        }
        assert_eq!(entry.len(), 0);
        assert!(matches!(entry.key(&press(0x1C)), EntryEvent::Unchanged));
    }

    #[test]
    fn capped_at_32() {
        let mut entry = CodeEntry::new();
        for _ in 0..32 {
            assert!(matches!(entry.key(&press(0x02)), EntryEvent::Changed));
        }
        assert!(matches!(entry.key(&press(0x03)), EntryEvent::Unchanged));
        assert!(matches!(
            entry.key(&KeyboardEvent::UnicodePressed(u16::from(b'5'))),
            EntryEvent::Unchanged
        ));
        assert_eq!(entry.len(), 32);
        assert_eq!(submit(&mut entry), "1".repeat(32));
    }

    #[test]
    fn releases_and_sync_ignored() {
        let mut entry = CodeEntry::new();
        let events = [
            KeyboardEvent::Released {
                code: 0x02,
                extended: false,
            },
            KeyboardEvent::Released {
                code: 0x1C,
                extended: false,
            },
            KeyboardEvent::UnicodeReleased(u16::from(b'1')),
            KeyboardEvent::Synchronize(ironrdp_pdu::input::fast_path::SynchronizeFlags::empty()),
        ];
        for event in &events {
            assert!(matches!(entry.key(event), EntryEvent::Unchanged));
        }
        assert_eq!(entry.len(), 0);
    }

    #[test]
    fn debug_never_shows_the_code() {
        let mut entry = CodeEntry::new();
        type_all(&mut entry, &[0x0A, 0x0A, 0x0A, 0x0A]); // "9999"
        let shown = format!("{entry:?}");
        assert!(!shown.contains('9'), "{shown}");
        assert!(shown.contains("len: 4"), "{shown}");
        let submitted = entry.key(&press(0x1C));
        let shown = format!("{submitted:?}");
        assert!(!shown.contains("9999"), "{shown}");
    }

    // ---- rendering ----

    fn view(user: &str, typed: usize) -> PromptView<'_> {
        PromptView {
            user,
            typed,
            attempts_left: 3,
            notice: None,
            seconds_left: 120,
        }
    }

    fn pixel(frame: &PromptFrame, x: usize, y: usize) -> [u8; 3] {
        let i = y * frame.stride + x * 4;
        [frame.data[i + 2], frame.data[i + 1], frame.data[i]]
    }

    #[test]
    fn frame_geometry_and_background() {
        for (w, h) in [(1024u16, 768u16), (800, 600), (1920, 1080), (333, 777)] {
            let frame = render(&view("alice", 0), w, h);
            assert_eq!(frame.width, w);
            assert_eq!(frame.height, h);
            assert_eq!(frame.stride, usize::from(w) * 4);
            assert_eq!(frame.data.len(), usize::from(w) * usize::from(h) * 4);
            let (w, h) = (usize::from(w), usize::from(h));
            for (x, y) in [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)] {
                assert_eq!(
                    pixel(&frame, x, y),
                    PROMPT_BACKGROUND,
                    "corner {x},{y} at {w}x{h}"
                );
            }
        }
        // The background frames the panel: the outer band of the screen is all background,
        // and it is a good share of the whole.
        let frame = render(&view("alice", 0), 1024, 768);
        for y in 0..768 {
            for x in 0..1024 {
                if !(40..1024 - 40).contains(&x) || !(30..768 - 30).contains(&y) {
                    assert_eq!(pixel(&frame, x, y), PROMPT_BACKGROUND, "{x},{y}");
                }
            }
        }
        let bg = frame
            .data
            .chunks_exact(4)
            .filter(|p| [p[2], p[1], p[0]] == PROMPT_BACKGROUND)
            .count();
        // Enough background to recognise the prompt (the end-to-end test wants > 30 %), yet
        // the panel is the majority, which keeps OCR binarisation on the right polarity.
        let share = bg as f64 / (1024.0 * 768.0);
        assert!((0.35..0.5).contains(&share), "background share: {share}");
    }

    #[test]
    fn layout_fits_common_screens_with_large_text() {
        for (w, h) in [(1024, 768), (1280, 720), (1920, 1080)] {
            let l = layout(&view("alice", 0), w, h);
            assert!(l.fits, "{w}x{h}");
            assert_eq!(l.lines.first().unwrap().font.height(), 32);
            assert!(l.scale >= 1.0);
            assert!(l.panel.x >= 0 && l.panel.right() <= to_i64(w));
            assert!(l.panel.y >= 0 && l.panel.bottom() <= to_i64(h));
        }
        let l = layout(&view("alice", 0), 800, 600);
        assert!(l.fits);
        assert!(l.lines.iter().all(|line| line.font.height() >= 20));
        let l = layout(&view("alice", 0), 3840, 2160);
        assert!(l.fits);
        assert!(l.scale > 2.5, "{}", l.scale);
    }

    fn ink_in_field(frame: &PromptFrame, field: Rect) -> usize {
        let mut n = 0;
        for y in field.y + 4..field.bottom() - 4 {
            for x in field.x + 4..field.right() - 4 {
                if pixel(frame, x as usize, y as usize) != FIELD_BG {
                    n += 1;
                }
            }
        }
        n
    }

    #[test]
    fn typed_characters_are_drawn_as_dots() {
        let none = render(&view("alice", 0), 1024, 768);
        let three = render(&view("alice", 3), 1024, 768);
        let six = render(&view("alice", 6), 1024, 768);
        let field = layout(&view("alice", 0), 1024, 768).field;
        let (a, b, c) = (
            ink_in_field(&none, field),
            ink_in_field(&three, field),
            ink_in_field(&six, field),
        );
        assert!(a < b && b < c, "ink: {a} {b} {c}");
        assert_eq!(layout(&view("alice", 3), 1024, 768).dots.len(), 3);
        // More than fit: clipped, no panic.
        assert!(!layout(&view("alice", 10_000), 1024, 768).dots.is_empty());
        render(&view("alice", usize::MAX), 1024, 768);
    }

    #[test]
    fn user_notice_and_counters_change_the_frame() {
        let alice = render(&view("alice", 0), 1024, 768);
        let bob = render(&view("bob", 0), 1024, 768);
        assert!(alice.data != bob.data);
        let mut v = view("alice", 0);
        v.attempts_left = 1;
        assert!(render(&v, 1024, 768).data != alice.data);
        v.notice = Some("Wrong code. Try again.");
        let with_notice = render(&v, 1024, 768);
        // The notice is drawn in the warning colour (pure where a glyph is fully inked).
        assert!(with_notice
            .data
            .chunks_exact(4)
            .any(|p| [p[2], p[1], p[0]] == WARNING));
        assert!(!alice
            .data
            .chunks_exact(4)
            .any(|p| [p[2], p[1], p[0]] == WARNING));
    }

    #[test]
    fn text_lines() {
        let mut v = view("alice", 0);
        v.notice =
            Some("Two-step verification is not set up for this account. Ask your administrator.");
        let l = layout(&v, 1024, 768);
        let texts: Vec<&str> = l.lines.iter().map(|line| line.text.as_str()).collect();
        assert_eq!(texts[0], TITLE);
        assert!(texts.contains(&"Signed in as alice"));
        assert!(texts.contains(&INSTRUCTION_1));
        assert!(texts.contains(&INSTRUCTION_2));
        assert!(texts.contains(&"3 attempts left"));
        assert!(texts.contains(&"This screen closes in 120 s"));
        assert!(texts.iter().filter(|t| t.contains("administrator")).count() == 1);
        assert!(l.fits);
        v.attempts_left = 1;
        let l = layout(&v, 1024, 768);
        assert!(l.lines.iter().any(|line| line.text == "1 attempt left"));
    }

    #[test]
    fn sizes_from_tiny_to_huge_do_not_panic() {
        let mut v = view("alice", 6);
        v.notice =
            Some("Two-step verification is not set up for this account. Ask your administrator.");
        for (w, h) in [
            (200, 200),
            (0, 0),
            (1, 1),
            (0, 500),
            (500, 1),
            (3840, 2160),
            (4096, 4096),
            (640, 480),
        ] {
            let frame = render(&v, w, h);
            assert_eq!(frame.data.len(), usize::from(w) * usize::from(h) * 4);
        }
        let small = render(&v, 200, 200);
        assert_eq!(pixel(&small, 0, 0), PROMPT_BACKGROUND);
    }

    #[test]
    fn hostile_user_names() {
        let long = "x".repeat(10_000);
        for user in [
            "",
            "\u{1b}[31mroot\r\n\t\0",
            "jürgen 名前 🙂",
            long.as_str(),
            "a\u{202e}b",
        ] {
            let frame = render(&view(user, 2), 1024, 768);
            assert_eq!(frame.data.len(), 1024 * 768 * 4);
        }
        assert_eq!(sanitize("a\u{1b}b\né", 40), "a?b??");
        let cut = sanitize(&long, USER_MAX_CHARS);
        assert_eq!(cut.len(), USER_MAX_CHARS + 3);
        assert!(cut.ends_with("..."));
        assert_eq!(
            sanitize(&"y".repeat(USER_MAX_CHARS), USER_MAX_CHARS).len(),
            USER_MAX_CHARS
        );
    }

    #[test]
    fn wrap_splits_words_and_long_runs() {
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(wrap("abcdefgh", 3), vec!["abc", "def", "gh"]);
        assert_eq!(wrap("", 3), vec![""]);
        assert_eq!(wrap("a  b", 0), vec!["a", "b"]);
        assert_eq!(wrap("ab abcdef", 4), vec!["ab", "abcd", "ef"]);
    }
}
