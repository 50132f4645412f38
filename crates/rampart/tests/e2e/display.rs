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
            cmd.args([
                "-displayfd",
                "1",
                "-nolisten",
                "tcp",
                "-noreset",
                "-screen",
                "0",
            ])
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

    /// A command with DISPLAY set to this X server.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("DISPLAY", &self.display)
            .env_remove("XAUTHORITY")
            .env_remove("WAYLAND_DISPLAY");
        cmd
    }
}
