//! A QR code drawn with half blocks, two modules per character cell, so that a phone can
//! scan it off the terminal at enrollment.
//!
//! Scanners need dark modules on a light background and a light margin (the quiet zone,
//! four modules). A terminal's colours are unknown, so on a terminal the code is drawn in
//! explicit black on white. Without colours (output not a terminal, or `NO_COLOR` set) the
//! glyphs are drawn for the common light-text-on-dark-background terminal: a block is a
//! light module, a blank a dark one, as `qrencode -t UTF8` does.

use anyhow::Context;
use qrcode::{Color, EcLevel, QrCode};

/// Light modules around the code: the minimum the QR standard asks for.
const QUIET_ZONE: usize = 4;

/// How the glyphs map to colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    /// ANSI black on white: dark-on-light whatever the terminal's theme.
    Ansi,
    /// No escape codes; blocks are light modules (for light-on-dark terminals).
    Plain,
}

impl Style {
    /// ANSI on a terminal unless `NO_COLOR` is set; plain otherwise.
    pub(super) fn for_stdout() -> Self {
        use std::io::IsTerminal;
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        if std::io::stdout().is_terminal() && !no_color {
            Self::Ansi
        } else {
            Self::Plain
        }
    }
}

/// The QR code of `data` (error correction level M), one string per terminal line.
pub(super) fn render(data: &str, style: Style) -> anyhow::Result<Vec<String>> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
        .context("the enrollment URI does not fit in a QR code")?;
    let grid = Grid::with_quiet_zone(&code);
    let mut lines = Vec::with_capacity(grid.size.div_ceil(2));
    for y in (0..grid.size).step_by(2) {
        let mut line = String::with_capacity(grid.size * 3 + 16);
        if style == Style::Ansi {
            line.push_str("\x1b[30;107m");
        }
        for x in 0..grid.size {
            let (top, bottom) = (grid.dark(x, y), grid.dark(x, y + 1));
            // Which of the two halves get the foreground colour.
            let (top_fg, bottom_fg) = match style {
                Style::Ansi => (top, bottom),
                Style::Plain => (!top, !bottom),
            };
            line.push(match (top_fg, bottom_fg) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        if style == Style::Ansi {
            line.push_str("\x1b[0m");
        }
        lines.push(line);
    }
    Ok(lines)
}

/// The code's modules with the quiet zone around them.
struct Grid {
    size: usize,
    dark: Vec<bool>,
}

impl Grid {
    fn with_quiet_zone(code: &QrCode) -> Self {
        let width = code.width();
        let size = width + 2 * QUIET_ZONE;
        let mut dark = vec![false; size * size];
        for (i, color) in code.to_colors().into_iter().enumerate() {
            let (x, y) = (i % width + QUIET_ZONE, i / width + QUIET_ZONE);
            if let Some(cell) = dark.get_mut(y * size + x) {
                *cell = color == Color::Dark;
            }
        }
        Self { size, dark }
    }

    /// Outside the grid (the half row below an odd height) is light, like the quiet zone.
    fn dark(&self, x: usize, y: usize) -> bool {
        x < self.size && y < self.size && self.dark.get(y * self.size + x).copied().unwrap_or(false)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    const URI: &str = "otpauth://totp/Rampart:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Rampart&algorithm=SHA1&digits=6&period=30";

    /// Turns rendered lines back into pixels (true: dark), `scale` pixels per module.
    fn pixels(lines: &[String], style: Style, scale: usize) -> (usize, usize, Vec<bool>) {
        let rows: Vec<Vec<char>> = lines
            .iter()
            .map(|l| l.replace("\x1b[30;107m", "").replace("\x1b[0m", "").chars().collect())
            .collect();
        let w = rows[0].len();
        assert!(rows.iter().all(|r| r.len() == w), "ragged rows");
        let h = rows.len() * 2;
        let mut modules = vec![false; w * h];
        for (cy, row) in rows.iter().enumerate() {
            for (x, c) in row.iter().enumerate() {
                let (top_fg, bottom_fg) = match c {
                    '█' => (true, true),
                    '▀' => (true, false),
                    '▄' => (false, true),
                    ' ' => (false, false),
                    other => panic!("unexpected glyph {other:?}"),
                };
                let invert = style == Style::Plain;
                modules[(2 * cy) * w + x] = top_fg != invert;
                modules[(2 * cy + 1) * w + x] = bottom_fg != invert;
            }
        }
        let (pw, ph) = (w * scale, h * scale);
        let px = (0..pw * ph).map(|i| modules[(i / pw / scale) * w + (i % pw) / scale]).collect();
        (pw, ph, px)
    }

    fn decode(lines: &[String], style: Style) -> String {
        let (w, h, px) = pixels(lines, style, 4);
        let mut img = rqrr::PreparedImage::prepare_from_bitmap(w, h, |x, y| px[y * w + x]);
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code is found");
        grids[0].decode().unwrap().1
    }

    #[test]
    fn both_styles_decode_to_the_uri() {
        for style in [Style::Ansi, Style::Plain] {
            let lines = render(URI, style).unwrap();
            assert_eq!(decode(&lines, style), URI, "{style:?}");
        }
    }

    #[test]
    fn quiet_zone_is_light_and_colours_are_explicit() {
        let lines = render(URI, Style::Ansi).unwrap();
        assert!(lines.iter().all(|l| l.starts_with("\x1b[30;107m") && l.ends_with("\x1b[0m")));
        let plain = render(URI, Style::Plain).unwrap();
        // Light is a full block in plain style: the first two lines (four module rows) and
        // the first and last four columns of every line are all light.
        assert!(plain[..2].iter().all(|l| l.chars().all(|c| c == '█')));
        for line in &plain {
            let chars: Vec<char> = line.chars().collect();
            assert!(chars[..QUIET_ZONE].iter().all(|&c| c == '█'), "{line}");
            assert!(chars[chars.len() - QUIET_ZONE..].iter().all(|&c| c == '█'), "{line}");
        }
        // The height is odd: the last line's lower half is padding, light like the zone.
        assert!(plain[plain.len() - 2..].iter().all(|l| l.chars().all(|c| c == '█')));
    }
}
