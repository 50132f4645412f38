//! Starting the real `rampart` binary: a private state dir and config per test, a
//! free loopback port, users enrolled through `rampart user add`, and a stop that
//! checks the server took its workers and sessions down with it.

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::account::ensure_unix_user;
use crate::audit::{self, Event};
use crate::process::{poll, tail, Guarded};
use crate::proctree;

pub const BIN: &str = env!("CARGO_BIN_EXE_rampart");

/// A password that passes the enrollment policy (length, strength, no user name).
pub const PASSWORD: &str = "Correct-Horse-Battery-42!";

/// The parts of the config file the tests vary.
#[derive(Clone, Debug)]
pub struct Config {
    pub default_command: String,
    pub handshake_timeout_secs: u32,
    pub max_pending_per_ip: u32,
    pub max_preauth_bytes: u32,
    /// Appended verbatim to the generated config (whole extra sections).
    pub extra_toml: String,
    /// More `[session]` keys, one per line (that table is written here).
    pub session_toml: String,
    /// Keep Rampart's default `[auth] mfa = "required"` (or write an own `[auth]` table in
    /// `extra_toml`). Off by default here: most tests are about other things, enroll users
    /// with `--no-mfa` and log in with the password alone.
    pub mfa_required: bool,
    /// Serve `[metrics]` on a loopback port the kernel picks ([`Server::metrics_addr`]).
    /// Off by default here: Rampart's default port 9393 would be one port for every test
    /// server on the machine.
    pub metrics: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            default_command: "exec sleep 300".to_owned(),
            handshake_timeout_secs: 10,
            max_pending_per_ip: 5,
            max_preauth_bytes: 65536,
            extra_toml: String::new(),
            session_toml: String::new(),
            mfa_required: false,
            metrics: false,
        }
    }
}

impl Config {
    /// The session command is prefixed with `export MARK` so that every process of
    /// a session can be found (and must be gone) when the server stops. Each server has
    /// its own runtime directory (session files, the workers' jail, the control socket):
    /// servers of tests that run at the same time on one machine must not meet there.
    fn to_toml(&self, mark: &str, runtime_dir: &std::path::Path) -> String {
        format!(
            "[server]\n\n\
             [limits]\nhandshake_timeout_secs = {}\nmax_pending_per_ip = {}\nmax_preauth_bytes = {}\n\n\
             [session]\ndefault_command = {}\nuse_xsession = false\nruntime_dir = {}\n{}\n\
             [metrics]\nlisten = \"{}\"\n\n{}{}",
            self.handshake_timeout_secs,
            self.max_pending_per_ip,
            self.max_preauth_bytes,
            toml_string(&format!("export {mark}; {}", self.default_command)),
            toml_string(&runtime_dir.display().to_string()),
            self.session_toml,
            if self.metrics { "127.0.0.1:0" } else { "" },
            if self.mfa_required { "" } else { "[auth]\nmfa = \"optional\"\n\n" },
            self.extra_toml,
        )
    }
}

/// A TOML basic string with the escapes TOML requires.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub struct Server {
    dir: tempfile::TempDir,
    /// `RAMPART_E2E_MARK=<unique>`, inherited by every session process.
    mark: String,
    pub port: u16,
    proc: Option<Guarded>,
    /// Extra environment for `rampart serve` (e.g. `RUST_LOG`), set before starting.
    env: Vec<(String, String)>,
}

impl Server {
    /// Writes the config into a fresh temp dir; enroll users, then [`Server::start`].
    pub fn new(config: &Config) -> Server {
        ensure_unix_user();
        let dir = tempfile::Builder::new()
            .prefix("rampart-e2e-server.")
            .tempdir()
            .expect("tempdir");
        std::fs::create_dir(dir.path().join("state")).expect("state dir");
        let unique = dir
            .path()
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("x")
            .replace(['.', '-'], "_");
        let mark = format!("RAMPART_E2E_MARK={unique}");
        // Session users walk through it to their session files (they may not list it).
        std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o711))
            .expect("chmod the server dir");
        let runtime_dir = dir.path().join("run");
        std::fs::write(dir.path().join("rampart.toml"), config.to_toml(&mark, &runtime_dir))
            .expect("write config");
        Server {
            dir,
            mark,
            port: 0,
            proc: None,
            env: Vec::new(),
        }
    }

    /// Sets an environment variable for `rampart serve` (call before starting).
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.push((key.to_owned(), value.to_owned()));
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("rampart.toml")
    }

    /// `[session] runtime_dir`: session files below `sessions/`, the control socket.
    pub fn runtime_dir(&self) -> PathBuf {
        self.dir.path().join("run")
    }

    /// Where the metrics endpoint listens (`Config::metrics`), from the server's start-up line.
    pub fn metrics_addr(&self) -> std::net::SocketAddr {
        let log = self.log_text();
        log.lines()
            .find_map(|l| l.strip_prefix("rampart: metrics on http://"))
            .and_then(|rest| rest.strip_suffix("/metrics"))
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("no `rampart: metrics on` line in the server output:\n{}", tail(&log, 30)))
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// Runs `rampart user add --no-mfa` (password on stdin); returns (success, output).
    pub fn try_add_user(&self, name: &str, password: &str) -> (bool, String) {
        self.run_user_add(name, password, &["--no-mfa"])
    }

    /// `rampart user add --no-mfa` of `name` mapped to the Unix account `unix_user`.
    pub fn add_user_as(&self, name: &str, password: &str, unix_user: &str) {
        let args = ["user", "add", name, "--unix-user", unix_user, "--password-stdin", "--no-mfa"];
        let (ok, out) = self.cli(&args, Some(password));
        assert!(ok, "`rampart user add {name} --unix-user {unix_user}` failed:\n{out}");
    }

    /// Runs `rampart user add` with its default TOTP enrollment; returns what it printed.
    pub fn add_user_with_mfa(&self, name: &str, password: &str) -> Enrollment {
        let (ok, out) = self.run_user_add(name, password, &["--no-qr"]);
        assert!(ok, "`rampart user add {name}` failed:\n{out}");
        Enrollment::parse(&out)
    }

    fn run_user_add(&self, name: &str, password: &str, extra: &[&str]) -> (bool, String) {
        let mut args = vec!["user", "add", name, "--unix-user", ensure_unix_user(), "--password-stdin"];
        args.extend_from_slice(extra);
        self.cli(&args, Some(password))
    }

    /// Runs `rampart ARGS --state-dir .. --config ..` (<= 60 s), with `stdin` as its first
    /// input line if given; returns (success, stdout and stderr).
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> (bool, String) {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .arg("--state-dir")
            .arg(self.state_dir())
            .arg("--config")
            .arg(self.config_path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"));
        if let Some(mut pipe) = child.stdin.take() {
            if let Some(line) = stdin {
                let _ = writeln!(pipe, "{line}");
            }
        }
        // Reads stdout/stderr to the end; bounded by the killer thread below.
        let pid = child.id();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let killer = std::thread::spawn(move || {
            if rx.recv_timeout(Duration::from_secs(60)).is_err() {
                crate::process::signal(pid, rustix::process::Signal::KILL);
            }
        });
        let out = child.wait_with_output().expect("wait for rampart");
        let _ = tx.send(());
        let _ = killer.join();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    pub fn add_user(&self, name: &str, password: &str) {
        let (ok, out) = self.try_add_user(name, password);
        assert!(ok, "`rampart user add {name}` failed:\n{out}");
    }

    /// Starts `rampart serve` on a free 127.0.0.1 port and waits (<= 60 s) for
    /// `rampart: listening on 127.0.0.1:PORT` (or, when an access schedule keeps the
    /// port closed, for the line saying so).
    pub fn start(&mut self) {
        self.start_on("127.0.0.1");
    }

    /// Like [`Server::start`], listening on `host` (e.g. `0.0.0.0`, so that a network
    /// namespace can reach it; the config's allowlist still decides who may connect).
    pub fn start_on(&mut self, host: &str) {
        assert!(self.proc.is_none(), "server already started");
        let mut last_log = String::new();
        for _attempt in 0..3 {
            let port = free_port();
            let mut cmd = Command::new(BIN);
            cmd.arg("serve")
                .arg("--listen")
                .arg(format!("{host}:{port}"))
                .arg("--state-dir")
                .arg(self.state_dir())
                .arg("--config")
                .arg(self.config_path())
                .env("RUST_BACKTRACE", "1")
                .envs(self.env.iter().map(|(k, v)| (k, v)));
            let mut proc = Guarded::spawn("rampart serve", &mut cmd, &self.log_path());
            let ready = format!("rampart: listening on {host}:{port}");
            let ready_closed = format!("port {host}:{port} closed");
            let up = poll(Duration::from_secs(60), Duration::from_millis(50), || {
                let log = proc.log_text();
                if log.contains(&ready) || log.contains(&ready_closed) {
                    Some(true)
                } else if !proc.is_running() {
                    Some(false)
                } else {
                    None
                }
            });
            last_log = proc.log_text();
            match up {
                Some(true) => {
                    self.port = port;
                    self.proc = Some(proc);
                    return;
                }
                // Someone else took the port between our probe and the bind: retry.
                Some(false) if last_log.to_lowercase().contains("in use") => continue,
                Some(false) => panic!(
                    "rampart serve exited before listening ({:?}); its output:\n{}",
                    proc.exited(),
                    tail(&last_log, 40)
                ),
                None => panic!(
                    "rampart serve did not print `{ready}` within 60 s; its output:\n{}",
                    tail(&last_log, 40)
                ),
            }
        }
        panic!(
            "rampart serve could not bind a free port in 3 tries:\n{}",
            tail(&last_log, 40)
        );
    }

    pub fn pid(&self) -> u32 {
        self.proc.as_ref().expect("server not started").pid()
    }

    pub fn is_running(&mut self) -> bool {
        self.proc.as_mut().map(|p| p.is_running()).unwrap_or(false)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The server's output, shortened for assertion messages.
    pub fn log_tail(&self) -> String {
        tail(&self.log_text(), 30)
    }

    pub fn events(&self) -> Vec<Event> {
        audit::read(&self.db_path())
    }

    pub fn db_path(&self) -> PathBuf {
        self.state_dir().join("rampart.db")
    }

    /// Waits (bounded) for an audit event matching `pred`.
    pub fn wait_event(&self, limit: Duration, pred: impl Fn(&Event) -> bool) -> Option<Event> {
        poll(limit, Duration::from_millis(200), || {
            self.events().into_iter().find(|e| pred(e))
        })
    }

    /// Asserts an audit event matching `pred` shows up within 10 s.
    pub fn expect_event(&self, what: &str, pred: impl Fn(&Event) -> bool) -> Event {
        match self.wait_event(Duration::from_secs(10), pred) {
            Some(e) => e,
            None => panic!(
                "no audit event {what} in {} within 10 s; events:\n{}\nserver output:\n{}",
                self.db_path().display(),
                audit::describe(&self.events()),
                self.log_tail()
            ),
        }
    }

    /// `rampart audit search ARGS --format jsonl`, parsed (one object per event).
    pub fn search_trail(&self, args: &[&str]) -> Vec<serde_json::Value> {
        let mut full = vec!["audit", "search", "--format", "jsonl"];
        full.extend_from_slice(args);
        let (ok, out) = self.cli(&full, None);
        assert!(ok, "`rampart {}` failed:\n{out}", full.join(" "));
        out.lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("audit search printed {l:?}: {e}")))
            .collect()
    }

    /// Asserts that `rampart audit search --kind KIND [--source SOURCE] [--user USER]` finds
    /// an event of that kind from that source address (and user) within 10 s; returns it.
    pub fn expect_found(&self, kind: &str, source: Option<&str>, user: Option<&str>) -> serde_json::Value {
        let mut args = vec!["--kind", kind];
        if let Some(source) = source {
            args.extend_from_slice(&["--source", source]);
        }
        if let Some(user) = user {
            args.extend_from_slice(&["--user", user]);
        }
        let found = poll(Duration::from_secs(10), Duration::from_millis(300), || {
            self.search_trail(&args).into_iter().find(|e| {
                e["kind"] == kind
                    && source.is_none_or(|s| e["peer_ip"] == s)
                    && user.is_none_or(|u| e["user"].as_str().is_some_and(|v| v.eq_ignore_ascii_case(u)))
            })
        });
        found.unwrap_or_else(|| {
            panic!(
                "`rampart audit search {}` found no {kind} event within 10 s; events:\n{}\nserver output:\n{}",
                args.join(" "),
                audit::describe(&self.events()),
                self.log_tail()
            )
        })
    }

    /// SIGKILL the server (no shutdown of any kind), then end what it left behind (its
    /// workers and sessions), by PID. A later [`Server::start`] starts it again.
    pub fn kill_9(&mut self) {
        let Some(mut proc) = self.proc.take() else { return };
        let family = proctree::tree(proc.pid());
        crate::process::signal(proc.pid(), rustix::process::Signal::KILL);
        assert!(
            proc.wait_for_exit(Duration::from_secs(10)).is_some(),
            "rampart serve survived SIGKILL for 10 s"
        );
        let mut left: Vec<_> = family.into_iter().filter(|&id| proctree::alive(id)).collect();
        left.extend(self.session_processes());
        kill_all(&left);
    }

    /// Processes of this server's sessions (found by the marker in their environment).
    pub fn session_processes(&self) -> Vec<proctree::ProcId> {
        proctree::with_env(&self.mark)
    }

    /// SIGTERM the server and check that it and every process it started (workers,
    /// session X servers, session programs, even re-parented ones) are gone within
    /// 10 s: the server kills its own workers and sessions.
    pub fn stop_and_check(&mut self) {
        let Some(proc) = self.proc.take() else { return };
        let (exited, leftovers) = self.stop_family(proc, Duration::from_secs(10));
        assert!(
            exited,
            "rampart serve did not exit within 10 s of SIGTERM; output:\n{}",
            self.log_tail()
        );
        assert!(
            leftovers.is_empty(),
            "processes started by the server outlived it by 10 s (killed now): {}",
            proctree::describe(&leftovers)
        );
    }

    /// Stops the server, waits up to `grace` for its process tree and session
    /// processes to go, SIGKILLs what is left. Returns (exited on SIGTERM, leftovers).
    fn stop_family(&self, mut proc: Guarded, grace: Duration) -> (bool, Vec<proctree::ProcId>) {
        let family = proctree::tree(proc.pid());
        let exited = proc.stop(grace);
        let remaining = || {
            let mut alive: Vec<_> = family
                .iter()
                .copied()
                .filter(|&id| proctree::alive(id))
                .collect();
            alive.extend(self.session_processes());
            alive.sort_unstable();
            alive.dedup();
            alive
        };
        let _ = poll(grace, Duration::from_millis(100), || {
            remaining().is_empty().then_some(())
        });
        let leftovers = remaining();
        kill_all(&leftovers);
        (exited, leftovers)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Safety net after a failed test: nothing the server started may stay.
        if let Some(proc) = self.proc.take() {
            let _ = self.stop_family(proc, Duration::from_secs(5));
        }
        if std::env::var_os("RAMPART_E2E_KEEP").is_some() {
            let kept = self.dir.path().to_owned();
            eprintln!("RAMPART_E2E_KEEP: server dir kept at {}", kept.display());
            let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("tempdir"));
            let _ = dir.keep();
        }
    }
}

fn kill_all(ids: &[proctree::ProcId]) {
    for &id in ids {
        if proctree::alive(id) {
            crate::process::signal(id.0, rustix::process::Signal::KILL);
        }
    }
}

/// A port the kernel just handed out on 127.0.0.1 (released before return).
/// What `rampart user add` printed for TOTP: the base32 secret (from the `otpauth://`
/// URI) and the recovery codes.
#[derive(Debug, Clone)]
pub struct Enrollment {
    pub secret: String,
    pub recovery_codes: Vec<String>,
}

impl Enrollment {
    fn parse(out: &str) -> Enrollment {
        let uri = out
            .split_whitespace()
            .find(|w| w.starts_with("otpauth://totp/"))
            .unwrap_or_else(|| panic!("no otpauth:// URI in the enrollment output:\n{out}"));
        let secret = uri
            .split(['?', '&'])
            .find_map(|kv| kv.strip_prefix("secret="))
            .unwrap_or_else(|| panic!("no secret in {uri}"))
            .to_owned();
        let is_code = |w: &str| {
            let b = w.as_bytes();
            b.len() == 11
                && b[5] == b'-'
                && w.chars()
                    .enumerate()
                    .all(|(i, c)| i == 5 || matches!(c, '2'..='9' | 'a'..='z'))
        };
        let recovery_codes: Vec<String> = out
            .split(|c: char| c.is_whitespace() || c == ',' || c == '.' || c == ')')
            .filter(|w| is_code(w))
            .map(str::to_owned)
            .collect();
        assert_eq!(recovery_codes.len(), 10, "expected 10 recovery codes in:\n{out}");
        Enrollment { secret, recovery_codes }
    }

    /// The current code, from `oathtool` (the reference implementation, not ours).
    pub fn oathtool_code(&self) -> String {
        crate::process::require_tool("oathtool", "oathtool");
        let (status, out, err) = crate::process::run_bounded(
            "oathtool",
            Command::new("oathtool").args(["--totp", "-b", &self.secret]),
            Duration::from_secs(10),
        );
        assert!(status.map(|s| s.success()).unwrap_or(false), "oathtool failed: {out}{err}");
        let code = out.trim().to_owned();
        assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()), "oathtool printed {out:?}");
        code
    }
}

pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// Whether `port` on 127.0.0.1 accepts a TCP connection (3 s connect timeout).
pub fn accepts_connections(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(3))
        .is_ok()
}
