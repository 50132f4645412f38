//! Child processes owned by a test: spawned with their output in files, stopped by
//! PID (SIGTERM, then SIGKILL) when the guard is dropped, waited for with deadlines.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use rustix::process::{kill_process, Pid, Signal};

/// Fails the test (never skips it) when a tool the suite drives is missing.
pub fn require_tool(bin: &str, apt_package: &str) {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(bin).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "`{bin}` is not installed: the end-to-end tests need it (apt-get install {apt_package}, or run .ci/run)"
    );
}

/// A child process that is stopped by PID when dropped.
pub struct Guarded {
    name: String,
    child: Child,
    status: Option<ExitStatus>,
    log: PathBuf,
}

impl Guarded {
    /// Spawns `cmd` with stdin closed and stdout+stderr appended to `log`.
    pub fn spawn(name: &str, cmd: &mut Command, log: &Path) -> Guarded {
        let out = File::create(log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
        let err = out.try_clone().expect("dup log file");
        Self::spawn_with(name, cmd.stdout(out).stderr(err), log)
    }

    /// Spawns `cmd` whose stdout/stderr the caller already set up; `log` is what
    /// [`Guarded::log_text`] reads.
    pub fn spawn_with(name: &str, cmd: &mut Command, log: &Path) -> Guarded {
        let child = cmd
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
        Guarded {
            name: name.to_owned(),
            child,
            status: None,
            log: log.to_owned(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    /// The exit status if the process has ended (reaps it).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    pub fn is_running(&mut self) -> bool {
        self.exited().is_none()
    }

    /// Waits at most `limit` for the process to end.
    pub fn wait_for_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, up to `grace` to exit, then SIGKILL. Returns true if it ended on SIGTERM.
    pub fn stop(&mut self, grace: Duration) -> bool {
        if self.exited().is_some() {
            return true;
        }
        signal(self.pid(), Signal::TERM);
        if self.wait_for_exit(grace).is_some() {
            return true;
        }
        signal(self.pid(), Signal::KILL);
        if self.wait_for_exit(Duration::from_secs(5)).is_none() {
            eprintln!(
                "warning: {} (pid {}) survived SIGKILL for 5 s",
                self.name,
                self.pid()
            );
        }
        false
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(3));
    }
}

/// Sends `sig` to one PID; errors (already gone) are ignored.
pub fn signal(pid: u32, sig: Signal) {
    if let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
        let _ = kill_process(pid, sig);
    }
}

/// Runs a short-lived command to completion within `limit` (killed after that);
/// returns (exit status or None on timeout, stdout, stderr).
pub fn run_bounded(
    name: &str,
    cmd: &mut Command,
    limit: Duration,
) -> (Option<ExitStatus>, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_path = dir.path().join("stdout");
    let err_path = dir.path().join("stderr");
    let out = File::create(&out_path).expect("stdout file");
    let err = File::create(&err_path).expect("stderr file");
    let mut child = Guarded::spawn_with(name, cmd.stdout(out).stderr(err), &out_path);
    let status = child.wait_for_exit(limit);
    if status.is_none() {
        child.stop(Duration::from_secs(1));
    }
    let read =
        |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
    (status, read(&out_path), read(&err_path))
}

/// Polls `check` every `every` until it returns Some or `limit` has passed.
pub fn poll<T>(
    limit: Duration,
    every: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        sleep(every);
    }
}

/// Last `n` non-empty lines of `text`, for failure messages.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
