//! A private X server (Xvfb) for the RDP client; the X server picks a free display
//! number itself (`-displayfd`), so parallel tests never collide.

use std::fs::File;
use std::process::Command;
use std::time::Duration;

use crate::process::{poll, require_tool, tail, Guarded};

pub struct Xvfb {
    // Dropped first: the X server goes before its directory.
    _server: Guarded,
    pub display: String,
    dir: tempfile::TempDir,
}

impl Xvfb {
    /// Starts `Xvfb -displayfd 1` with a `width`x`height`x24 screen.
    pub fn start(width: u32, height: u32) -> Xvfb {
        require_tool("Xvfb", "xvfb");
        let mut last = String::new();
        for _ in 0..3 {
            let dir = tempfile::Builder::new()
                .prefix("rampart-e2e-xvfb.")
                .tempdir()
                .expect("tempdir");
            let fd_path = dir.path().join("displayfd");
            let log_path = dir.path().join("xvfb.log");
            let fd_out = File::create(&fd_path).expect("displayfd file");
            let log = File::create(&log_path).expect("xvfb log");
            let mut cmd = Command::new("Xvfb");
            // -displayfd 1: the chosen display number is written to stdout.
            cmd.args(["-displayfd", "1", "-nolisten", "tcp", "-noreset", "-screen", "0"])
                .arg(format!("{width}x{height}x24"))
                .stdout(fd_out)
                .stderr(log);
            let mut proc = Guarded::spawn_with("Xvfb", &mut cmd, &log_path);
            let number = poll(Duration::from_secs(10), Duration::from_millis(25), || {
                let text = std::fs::read_to_string(&fd_path).unwrap_or_default();
                if text.ends_with('\n') {
                    let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
                    (!digits.is_empty()).then_some(Some(digits))
                } else if !proc.is_running() {
                    Some(None)
                } else {
                    None
                }
            })
            .flatten();
            if let Some(n) = number {
                return Xvfb {
                    _server: proc,
                    display: format!(":{n}"),
                    dir,
                };
            }
            last = proc.log_text();
        }
        panic!(
            "Xvfb did not start in 3 tries; its log:\n{}",
            tail(&last, 20)
        );
    }

    /// A scratch directory that lives as long as this display.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// A client display with two `width`x`height` monitors side by side, as RandR 1.5
    /// monitors (what `xfreerdp /multimon` enumerates). Xvfb cannot define monitors, so
    /// this one is Xorg with the dummy driver (packages xserver-xorg-core,
    /// xserver-xorg-video-dummy), run as root for the client side only.
    pub fn start_two_monitors(width: u32, height: u32) -> Xvfb {
        let xorg = "/usr/lib/xorg/Xorg";
        assert!(
            std::path::Path::new(xorg).is_file(),
            "{xorg} is not installed (apt-get install xserver-xorg-core xserver-xorg-video-dummy)"
        );
        let dir = tempfile::Builder::new().prefix("rampart-e2e-xorg.").tempdir().expect("tempdir");
        // The output shows the left monitor's mode; the screen and a second RandR monitor
        // beside it make the right one.
        let (w, h) = (width, height);
        let clock_khz = (u64::from(w) + 3) * (u64::from(h) + 3) * 60 / 1000;
        let conf = format!(
            "Section \"ServerFlags\"\n Option \"AutoAddDevices\" \"false\"\n Option \"AutoEnableDevices\" \"false\"\nEndSection\n\
             Section \"Device\"\n Identifier \"d\"\n Driver \"dummy\"\n VideoRam 65536\n DacSpeed 10000\nEndSection\n\
             Section \"Monitor\"\n Identifier \"m\"\n HorizSync 1.0 - 2000.0\n VertRefresh 1.0 - 200.0\n \
             Modeline \"{w}x{h}\" {}.{:03} {w} {} {} {} {h} {} {} {}\nEndSection\n\
             Section \"Screen\"\n Identifier \"s\"\n Device \"d\"\n Monitor \"m\"\n DefaultDepth 24\n \
             SubSection \"Display\"\n  Depth 24\n  Virtual {w} {h}\n  Modes \"{w}x{h}\"\n EndSubSection\nEndSection\n",
            clock_khz / 1000,
            clock_khz % 1000,
            w + 1,
            w + 2,
            w + 3,
            h + 1,
            h + 2,
            h + 3
        );
        let conf_path = dir.path().join("xorg.conf");
        std::fs::write(&conf_path, conf).expect("xorg.conf");
        let fd_path = dir.path().join("displayfd");
        let log_path = dir.path().join("xorg.out");
        let mut cmd = Command::new(xorg);
        cmd.arg("-config")
            .arg(&conf_path)
            .arg("-logfile")
            .arg(dir.path().join("xorg.log"))
            .args(["-displayfd", "1", "-nolisten", "tcp", "-noreset"])
            .stdout(File::create(&fd_path).expect("displayfd file"))
            .stderr(File::create(&log_path).expect("xorg log"));
        let mut proc = Guarded::spawn_with("Xorg", &mut cmd, &log_path);
        let number = poll(Duration::from_secs(15), Duration::from_millis(25), || {
            let text = std::fs::read_to_string(&fd_path).unwrap_or_default();
            if text.ends_with('\n') {
                Some(Some(text.trim().to_owned()))
            } else if !proc.is_running() {
                Some(None)
            } else {
                None
            }
        })
        .flatten()
        .unwrap_or_else(|| panic!("Xorg (dummy) did not start; its log:\n{}", tail(&proc.log_text(), 20)));
        let display = Xvfb {
            _server: proc,
            display: format!(":{number}"),
            dir,
        };
        let mm = |px: u32| px * 254 / 960;
        let xrandr = |args: &[&str]| {
            let (status, out, err) = crate::process::run_bounded(
                "xrandr",
                display.command("xrandr").args(args),
                Duration::from_secs(10),
            );
            assert!(status.map(|s| s.success()).unwrap_or(false), "xrandr {args:?}: {out}{err}");
        };
        xrandr(&["--fb", &format!("{}x{height}", width * 2)]);
        let right = format!("{width}/{}x{height}/{}+{width}+0", mm(width), mm(height));
        xrandr(&["--setmonitor", "right", &right, "none"]);
        display
    }

    /// A command with DISPLAY set to this X server.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("DISPLAY", &self.display)
            .env_remove("XAUTHORITY")
            .env_remove("WAYLAND_DISPLAY");
        cmd
    }
}
