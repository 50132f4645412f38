//! Resizing a session's screen with RandR 1.2, the way `xrandr --output O --mode WxH`
//! does: find or create a mode of the wanted size, then change the screen size and the
//! CRTC in the order that keeps the CRTC inside the screen at every step.
//!
//! The order is decided by [`plan`] (pure); [`set_screen_size`] is the X11 edge.

use x11rb::connection::Connection;
use x11rb::protocol::randr::{self, ConnectionExt as _};
use x11rb::protocol::xproto;

use crate::{xserver, DesktopError};

/// One step of a resize.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Set the screen (root window) size.
    Screen { width: u16, height: u16 },
    /// Show the new mode on the CRTC.
    Crtc,
}

/// The steps from a screen of `from` to one of `to`: the screen must always contain the
/// CRTC, so it grows before the CRTC changes and shrinks after.
pub fn plan(from: (u16, u16), to: (u16, u16)) -> Vec<Step> {
    if from == to {
        return Vec::new();
    }
    let bounding = (from.0.max(to.0), from.1.max(to.1));
    let mut steps = Vec::with_capacity(3);
    if bounding != from {
        steps.push(Step::Screen {
            width: bounding.0,
            height: bounding.1,
        });
    }
    steps.push(Step::Crtc);
    if bounding != to {
        steps.push(Step::Screen {
            width: to.0,
            height: to.1,
        });
    }
    steps
}

fn x11<E: std::fmt::Display>(e: E) -> DesktopError {
    DesktopError::x11(e)
}

/// Millimetres of `px` pixels at 96 DPI (what the session's X server reports).
fn millimetres(px: u16) -> u32 {
    (u32::from(px) * 254).div_ceil(960)
}

/// Makes the screen of `root` exactly `width`x`height`: the first connected output gets
/// a mode of that size (created if the server has none) and the screen follows. Fails
/// when the server cannot take the size (Xvfb beyond its start size).
pub fn set_screen_size(
    conn: &impl Connection,
    root: xproto::Window,
    current: (u16, u16),
    width: u16,
    height: u16,
) -> Result<(), DesktopError> {
    let version = conn.randr_query_version(1, 3).map_err(x11)?.reply().map_err(x11)?;
    if (version.major_version, version.minor_version) < (1, 2) {
        return Err(DesktopError::Unsupported("RandR 1.2".into()));
    }
    let range = conn.randr_get_screen_size_range(root).map_err(x11)?.reply().map_err(x11)?;
    if width > range.max_width || height > range.max_height || width < range.min_width || height < range.min_height {
        return Err(DesktopError::Invalid {
            what: "screen size",
            detail: format!(
                "{width}x{height} is outside what this X server can show ({}x{} to {}x{})",
                range.min_width, range.min_height, range.max_width, range.max_height
            ),
        });
    }
    let resources = conn
        .randr_get_screen_resources_current(root)
        .map_err(x11)?
        .reply()
        .map_err(x11)?;
    // The output to drive: the first connected one that has a CRTC (one per session).
    let mut target = None;
    for &output in &resources.outputs {
        let info = conn
            .randr_get_output_info(output, resources.config_timestamp)
            .map_err(x11)?
            .reply()
            .map_err(x11)?;
        if info.connection == randr::Connection::CONNECTED {
            let crtc = if info.crtc != x11rb::NONE {
                Some(info.crtc)
            } else {
                info.crtcs.first().copied()
            };
            if let Some(crtc) = crtc {
                target = Some((output, crtc, info.modes));
                break;
            }
        }
    }
    let (output, crtc, output_modes) =
        target.ok_or_else(|| DesktopError::Unsupported("a connected RandR output".into()))?;

    let existing = resources
        .modes
        .iter()
        .find(|m| m.width == width && m.height == height)
        .map(|m| m.id);
    let mode = match existing {
        Some(id) => id,
        None => {
            let name = format!("{width}x{height}");
            let timing = xserver::ModeTiming::new(width, height);
            let info = randr::ModeInfo {
                id: 0,
                width,
                height,
                dot_clock: timing.clock_khz.saturating_mul(1000),
                hsync_start: timing.hsync_start,
                hsync_end: timing.hsync_end,
                htotal: timing.htotal,
                hskew: 0,
                vsync_start: timing.vsync_start,
                vsync_end: timing.vsync_end,
                vtotal: timing.vtotal,
                name_len: u16::try_from(name.len()).map_err(x11)?,
                mode_flags: randr::ModeFlag::default(),
            };
            conn.randr_create_mode(root, info, name.as_bytes())
                .map_err(x11)?
                .reply()
                .map_err(x11)?
                .mode
        }
    };
    if !output_modes.contains(&mode) {
        conn.randr_add_output_mode(output, mode)
            .map_err(x11)?
            .check()
            .map_err(x11)?;
    }
    for step in plan(current, (width, height)) {
        match step {
            Step::Screen { width, height } => {
                conn.randr_set_screen_size(root, width, height, millimetres(width), millimetres(height))
                    .map_err(x11)?
                    .check()
                    .map_err(x11)?;
            }
            Step::Crtc => {
                let reply = conn
                    .randr_set_crtc_config(
                        crtc,
                        x11rb::CURRENT_TIME,
                        resources.config_timestamp,
                        0,
                        0,
                        mode,
                        randr::Rotation::ROTATE0,
                        &[output],
                    )
                    .map_err(x11)?
                    .reply()
                    .map_err(x11)?;
                if reply.status != randr::SetConfig::SUCCESS {
                    return Err(DesktopError::X11(format!("RandR refused the mode: {:?}", reply.status)));
                }
            }
        }
    }
    conn.flush().map_err(x11)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grow_sets_the_screen_first() {
        assert_eq!(
            plan((1024, 768), (1920, 1080)),
            vec![Step::Screen { width: 1920, height: 1080 }, Step::Crtc]
        );
    }

    #[test]
    fn shrink_sets_the_crtc_first() {
        assert_eq!(
            plan((1920, 1080), (800, 600)),
            vec![Step::Crtc, Step::Screen { width: 800, height: 600 }]
        );
    }

    #[test]
    fn wider_but_lower_goes_through_the_bounding_box() {
        assert_eq!(
            plan((1024, 768), (1280, 720)),
            vec![
                Step::Screen { width: 1280, height: 768 },
                Step::Crtc,
                Step::Screen { width: 1280, height: 720 }
            ]
        );
        assert!(plan((800, 600), (800, 600)).is_empty());
    }

    #[test]
    fn physical_size_at_96_dpi() {
        assert_eq!(millimetres(96), 26);
        assert_eq!(millimetres(1920), 508);
    }
}
