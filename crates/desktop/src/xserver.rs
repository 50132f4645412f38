//! Which X server a session runs, and how it is started.
//!
//! The default is Xorg with the `dummy` video driver: its RandR output takes any mode, so
//! a running session can grow past the size it started at (a reconnect from a larger
//! screen, a client window resized with the Display Control channel). Xvfb's screen can
//! shrink but never grow past its start size; it remains available for hosts without
//! Xorg. Both run as the session's user, listen on no TCP port, take the session's cookie
//! with `-auth` and report their display number on `-displayfd`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The X server program for sessions.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum XServer {
    /// Xorg (the binary itself, not the setuid wrapper) with the dummy driver.
    XorgDummy { xorg: PathBuf },
    /// Xvfb: cannot grow past its start size.
    Xvfb { xvfb: PathBuf },
}

impl Default for XServer {
    fn default() -> Self {
        Self::XorgDummy {
            xorg: PathBuf::from("/usr/lib/xorg/Xorg"),
        }
    }
}

/// Highest side the dummy screen may take (RandR modes beyond it are refused by Xorg).
pub const XORG_MAX_SIDE: u32 = 8192;

impl XServer {
    /// Whether a running server's screen can be made larger than it started.
    pub fn can_grow(&self) -> bool {
        matches!(self, Self::XorgDummy { .. })
    }

    /// The size the server actually starts at for a requested `width`x`height` (Xorg's
    /// dummy driver has a minimum; the session is then resized like any other mismatch).
    pub fn start_size(&self, width: u16, height: u16) -> (u16, u16) {
        match self {
            Self::XorgDummy { .. } => (width.max(XORG_MIN_WIDTH), height.max(XORG_MIN_HEIGHT)),
            Self::Xvfb { .. } => (width, height),
        }
    }

    /// The files this server needs in the session directory `dir`, as (name, contents);
    /// written by the caller, owned by the session's user.
    pub fn files(&self, width: u16, height: u16, depth: u8) -> Vec<(&'static str, String)> {
        match self {
            Self::XorgDummy { .. } => vec![("xorg.conf", dummy_config(width, height, depth))],
            Self::Xvfb { .. } => Vec::new(),
        }
    }

    /// The command line (without environment and credentials, which the caller sets).
    pub fn command(&self, dir: &Path, auth: &Path, width: u16, height: u16, depth: u8) -> Command {
        let mut cmd = match self {
            Self::XorgDummy { xorg } => {
                let mut cmd = Command::new(xorg);
                // No input devices are added (see the config), no VT is touched: run as
                // an ordinary user, Xorg is a headless server for that user alone.
                cmd.arg("-config")
                    .arg(dir.join("xorg.conf"))
                    .arg("-logfile")
                    .arg(dir.join("xorg.log"))
                    .arg("-dpi")
                    .arg("96");
                cmd
            }
            Self::Xvfb { xvfb } => {
                let mut cmd = Command::new(xvfb);
                cmd.arg("-screen")
                    .arg("0")
                    .arg(format!("{width}x{height}x{depth}"));
                cmd
            }
        };
        cmd.arg("-displayfd")
            .arg("1")
            .arg("-auth")
            .arg(auth)
            .arg("-nolisten")
            .arg("tcp")
            // Without it the server resets whenever its last client disconnects: a session
            // command that sets the background and exits before anything else connects (and
            // every reconnect gap) would lose the desktop's state.
            .arg("-noreset");
        cmd
    }
}

/// An Xorg configuration for one headless screen of `width`x`height` on the dummy driver.
/// The mode's timings only have to be self-consistent: nothing scans them out.
pub fn dummy_config(width: u16, height: u16, depth: u8) -> String {
    let mode = modeline(width, height);
    format!(
        r#"# Written by rampart for one session; Xorg runs as the session's user.
Section "ServerFlags"
    Option "AutoAddDevices" "false"
    Option "AutoEnableDevices" "false"
    Option "AutoAddGPU" "false"
    Option "DontVTSwitch" "true"
    Option "DontZap" "true"
EndSection

Section "Device"
    Identifier "rampart-dummy"
    Driver "dummy"
    # KiB of video memory: enough for an {max}x{max} screen; allocated lazily.
    VideoRam {video_ram}
    # Highest pixel clock (MHz) the driver accepts; nothing is scanned out, and a large
    # screen at 60 Hz needs more than the driver's 300 MHz default.
    DacSpeed 10000
EndSection

Section "Monitor"
    Identifier "rampart-monitor"
    HorizSync 1.0 - 2000.0
    VertRefresh 1.0 - 200.0
    {mode}
EndSection

Section "Screen"
    Identifier "rampart-screen"
    Device "rampart-dummy"
    Monitor "rampart-monitor"
    DefaultDepth {depth}
    SubSection "Display"
        Depth {depth}
        Virtual {width} {height}
        Modes "{width}x{height}"
    EndSubSection
EndSection
"#,
        max = XORG_MAX_SIDE,
        video_ram = XORG_MAX_SIDE * XORG_MAX_SIDE * 4 / 1024,
    )
}

/// The dummy driver's smallest screen (its mode validation refuses narrower or lower).
pub const XORG_MIN_WIDTH: u16 = 256;
pub const XORG_MIN_HEIGHT: u16 = 128;
/// The dummy driver refuses modes whose pixel clock is below 11 MHz.
const MIN_CLOCK_KHZ: u64 = 11_500;


/// The timings of a mode, as a `Modeline` and RandR's `ModeInfo` both state them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModeTiming {
    /// Pixel clock in kHz.
    pub clock_khz: u32,
    pub width: u16,
    pub hsync_start: u16,
    pub hsync_end: u16,
    pub htotal: u16,
    pub height: u16,
    pub vsync_start: u16,
    pub vsync_end: u16,
    pub vtotal: u16,
}

impl ModeTiming {
    /// A `width`x`height` mode refreshing at about 60 Hz. Blanking is minimal, except that
    /// small modes get a wider line so the pixel clock stays above the driver's minimum
    /// (the maximum is lifted with `DacSpeed` in the config).
    pub fn new(width: u16, height: u16) -> Self {
        let vtotal = u32::from(height) + 3;
        let min_htotal = u32::try_from(MIN_CLOCK_KHZ * 1000 / (u64::from(vtotal) * 60) + 1).unwrap_or(u32::MAX);
        let htotal = (u32::from(width) + 3).max(min_htotal);
        let clock_khz = (u64::from(htotal) * u64::from(vtotal) * 60).div_ceil(1000);
        let sat = |v: u32| u16::try_from(v).unwrap_or(u16::MAX);
        Self {
            clock_khz: u32::try_from(clock_khz).unwrap_or(u32::MAX),
            width,
            hsync_start: sat(u32::from(width) + 1),
            hsync_end: sat(u32::from(width) + 2),
            htotal: sat(htotal),
            height,
            vsync_start: sat(u32::from(height) + 1),
            vsync_end: sat(u32::from(height) + 2),
            vtotal: sat(vtotal),
        }
    }

    /// The `Modeline` of an Xorg config, named `WxH`.
    pub fn modeline(&self) -> String {
        format!(
            "Modeline \"{}x{}\" {}.{:03} {} {} {} {} {} {} {} {}",
            self.width,
            self.height,
            self.clock_khz / 1000,
            self.clock_khz % 1000,
            self.width,
            self.hsync_start,
            self.hsync_end,
            self.htotal,
            self.height,
            self.vsync_start,
            self.vsync_end,
            self.vtotal,
        )
    }
}

/// The `Modeline` for a `width`x`height` screen (see [`ModeTiming::new`]).
pub fn modeline(width: u16, height: u16) -> String {
    ModeTiming::new(width, height).modeline()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modelines_refresh_near_60_hz() {
        for (w, h) in [(256u16, 128u16), (320, 240), (800, 600), (1001, 703), (1920, 1080), (4096, 2160), (8192, 8192)] {
            let line = modeline(w, h);
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(fields[1], format!("\"{w}x{h}\""));
            let clock_mhz: f64 = fields[2].parse().unwrap();
            assert!((11.0..10_000.0).contains(&clock_mhz), "{line}: clock {clock_mhz} MHz outside the driver's range");
            let htotal: f64 = fields[6].parse().unwrap();
            let vtotal: f64 = fields[10].parse().unwrap();
            let hz = clock_mhz * 1e6 / (htotal * vtotal);
            assert!((59.9..60.2).contains(&hz), "{line}: {hz} Hz");
            // Within the monitor's HorizSync range (kHz).
            let hsync_khz = clock_mhz * 1e3 / htotal;
            assert!((1.0..2000.0).contains(&hsync_khz), "{line}: {hsync_khz} kHz");
            // Each timing is strictly increasing, as Xorg requires.
            let h: Vec<u32> = fields[3..7].iter().map(|f| f.parse().unwrap()).collect();
            let v: Vec<u32> = fields[7..11].iter().map(|f| f.parse().unwrap()).collect();
            assert!(h.windows(2).all(|p| p[0] < p[1]) && v.windows(2).all(|p| p[0] < p[1]), "{line}");
        }
    }

    #[test]
    fn dummy_config_names_the_start_mode() {
        let conf = dummy_config(1366, 768, 24);
        assert!(conf.contains("Modes \"1366x768\""));
        assert!(conf.contains("Virtual 1366 768"));
        assert!(conf.contains("Driver \"dummy\""));
        assert!(conf.contains("DefaultDepth 24"));
        assert!(conf.contains("AutoAddDevices\" \"false\""));
    }

    #[test]
    fn only_xorg_grows() {
        assert!(XServer::default().can_grow());
        assert!(!XServer::Xvfb { xvfb: "Xvfb".into() }.can_grow());
    }
}
