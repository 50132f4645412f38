//! The real FreeRDP 2 client (`xfreerdp`, freerdp2-x11) under its own Xvfb: NLA
//! "authentication only" attempts and full sessions whose window is screenshotted
//! and typed into with xdotool (real X key events through xfreerdp's keyboard path).

use std::time::{Duration, Instant};

use crate::display::Xvfb;
use crate::process::{poll, require_tool, run_bounded, tail, Guarded};
use crate::screen::{self, Image};

const AUTH_ONLY_OK: &str = "Authentication only, exit status 0";

fn base_args(port: u16, user: &str, password: &str, sec: &str) -> Vec<String> {
    vec![
        format!("/v:127.0.0.1:{port}"),
        format!("/u:{user}"),
        format!("/p:{password}"),
        format!("/sec:{sec}"),
        "/cert:ignore".to_owned(),
        "/log-level:INFO".to_owned(),
    ]
}

fn xfreerdp(x: &Xvfb) -> std::process::Command {
    require_tool("xfreerdp", "freerdp2-x11");
    require_tool("stdbuf", "coreutils");
    let home = x.dir().join("home");
    std::fs::create_dir_all(&home).expect("client home");
    // stdbuf: xfreerdp logs through stdio; keep lines flowing into the log file.
    let mut cmd = x.command("stdbuf");
    cmd.args(["-oL", "-eL", "xfreerdp"]).env("HOME", home);
    cmd
}

/// The result of one `xfreerdp +auth-only` attempt.
#[derive(Debug)]
pub struct AuthAttempt {
    /// Exit code, None if killed on timeout.
    pub code: Option<i32>,
    pub elapsed: Duration,
    pub log: String,
}

impl AuthAttempt {
    /// Exit 0 and FreeRDP's own success line.
    pub fn succeeded(&self) -> bool {
        self.code == Some(0) && self.log.contains(AUTH_ONLY_OK)
    }

    pub fn summary(&self) -> String {
        format!(
            "exit code {:?} after {:?}; client log tail:\n{}",
            self.code,
            self.elapsed,
            tail(&self.log, 12)
        )
    }
}

/// `xfreerdp /sec:SEC +auth-only` against 127.0.0.1:port, bounded by `limit`.
/// The client's X server is started before the clock starts.
pub fn auth_only(port: u16, user: &str, password: &str, sec: &str, limit: Duration) -> AuthAttempt {
    let x = Xvfb::start(640, 480);
    let mut cmd = xfreerdp(&x);
    cmd.args(base_args(port, user, password, sec))
        .arg("+auth-only");
    let t0 = Instant::now();
    let (status, out, err) = run_bounded("xfreerdp +auth-only", &mut cmd, limit);
    let elapsed = t0.elapsed();
    AuthAttempt {
        code: status.and_then(|s| s.code()),
        elapsed,
        log: format!("{out}{err}"),
    }
}

/// A running xfreerdp session window.
pub struct Session {
    // Field order = drop order: the client goes before its X server.
    proc: Guarded,
    pub window: String,
    pub x: Xvfb,
}

impl Session {
    /// Starts a full session of `width`x`height` and waits (<= `limit`) for the
    /// client's top-level window.
    pub fn start(
        port: u16,
        user: &str,
        password: &str,
        size: (u32, u32),
        limit: Duration,
    ) -> Session {
        Self::start_with(port, user, password, size, limit, &[])
    }

    /// [`Session::start`] with more xfreerdp options (e.g. `/gfx:avc420`).
    pub fn start_with(
        port: u16,
        user: &str,
        password: &str,
        (width, height): (u32, u32),
        limit: Duration,
        extra: &[&str],
    ) -> Session {
        require_tool("xdotool", "xdotool");
        let x = Xvfb::start(width + 64, height + 64);
        let mut cmd = xfreerdp(&x);
        cmd.args(base_args(port, user, password, "nla"))
            .arg(format!("/size:{width}x{height}"))
            .arg("-grab-keyboard")
            .args(extra);
        let log = x.dir().join("xfreerdp.log");
        let mut proc = Guarded::spawn("xfreerdp", &mut cmd, &log);
        let pid = proc.pid().to_string();
        let window = poll(limit, Duration::from_millis(100), || {
            if !proc.is_running() {
                return Some(None);
            }
            let (_, out, _) = run_bounded(
                "xdotool search",
                x.command("xdotool")
                    .args(["search", "--onlyvisible", "--pid", &pid]),
                Duration::from_secs(5),
            );
            out.lines().next().map(|w| Some(w.trim().to_owned()))
        });
        match window {
            Some(Some(window)) => Session { proc, window, x },
            Some(None) => panic!(
                "xfreerdp session for {user} exited ({:?}) before showing a window; client log:\n{}",
                proc.exited(),
                tail(&proc.log_text(), 25)
            ),
            None => panic!(
                "xfreerdp session for {user} showed no window within {limit:?}; client log:\n{}",
                tail(&proc.log_text(), 25)
            ),
        }
    }

    pub fn is_running(&mut self) -> bool {
        self.proc.is_running()
    }

    /// Waits (<= `limit`) for the client to exit, e.g. after the server hung up on it.
    pub fn exits_within(&mut self, limit: Duration) -> bool {
        self.proc.wait_for_exit(limit).is_some()
    }

    pub fn log_text(&self) -> String {
        self.proc.log_text()
    }

    pub fn screenshot(&self) -> Result<Image, String> {
        screen::capture(&self.x, &self.window)
    }

    /// Polls screenshots (<= `limit`) until `check` accepts one; returns the last
    /// screenshot and whether it was accepted.
    pub fn wait_for_screen(
        &mut self,
        limit: Duration,
        check: impl Fn(&Image) -> bool,
    ) -> (Option<Image>, bool) {
        let deadline = Instant::now() + limit;
        let mut last = None;
        loop {
            if let Ok(img) = self.screenshot() {
                if check(&img) {
                    return (Some(img), true);
                }
                last = Some(img);
            }
            if Instant::now() >= deadline || !self.is_running() {
                return (last, false);
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    fn xdotool(&self, args: &[&str]) {
        let (status, out, err) = run_bounded(
            "xdotool",
            self.x.command("xdotool").args(args),
            Duration::from_secs(60),
        );
        assert!(
            status.map(|s| s.success()).unwrap_or(false),
            "xdotool {args:?} failed ({status:?}): {out}{err}"
        );
    }

    /// Gives the client window keyboard focus and puts the pointer at session
    /// coordinates (x, y) (no window manager in the session: focus follows it).
    pub fn point_at(&self, x: u32, y: u32) {
        // windowfocus --sync can wait forever without a window manager; plain is enough.
        self.xdotool(&["windowfocus", &self.window]);
        self.xdotool(&[
            "mousemove",
            "--window",
            &self.window,
            &x.to_string(),
            &y.to_string(),
        ]);
        std::thread::sleep(Duration::from_millis(300));
    }

    /// Types `text` as real key events on the client display (to the focused window).
    pub fn type_text(&self, text: &str) {
        self.xdotool(&["type", "--delay", "50", "--", text]);
    }

    pub fn key(&self, key: &str) {
        self.xdotool(&["key", key]);
    }
}
