//! The `rampart` binary driven as an administrator would: user enrollment and config errors.

// A test reports failure by panicking; the workspace's no-panic lints are for the
// binary's code, which these helpers are not.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use rampart_audit::EventKind;
use rampart_store::{EventFilter, Store};

const GOOD: &str = "correct horse battery staple 42!";
const GOOD2: &str = "violet tractor hums at midnight 7";

/// A temp dir with an empty config file and a not-yet-created state dir.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("rampart.toml"), "").unwrap();
        Self { dir }
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("rampart.toml")
    }

    /// Runs `rampart ARGS --config <empty> --state-dir <temp>` with `stdin`.
    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rampart"));
        cmd.args(args)
            .arg("--config")
            .arg(self.config())
            .arg("--state-dir")
            .arg(self.state_dir());
        run_with_stdin(cmd, stdin)
    }

    fn add(&self, name: &str, password: &str) -> Output {
        self.run(
            &["user", "add", name, "--unix-user", "root", "--password-stdin"],
            Some(&format!("{password}\n")),
        )
    }

    fn store(&self) -> Store {
        Store::open(&self.state_dir().join("rampart.db")).unwrap()
    }
}

fn run_with_stdin(mut cmd: Command, stdin: Option<&str>) -> Output {
    cmd.env("RUST_LOG", "warn")
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[track_caller]
fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
}

/// Exit code 1 and the last stderr line is exactly `expected`.
#[track_caller]
fn assert_error(out: &Output, expected: &str) {
    assert_eq!(out.status.code(), Some(1), "stdout: {}\nstderr: {}", stdout(out), stderr(out));
    let err = stderr(out);
    assert_eq!(err.lines().last().unwrap_or(""), expected, "full stderr: {err}");
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn add_user_with_password_from_stdin() {
    let env = Env::new();
    let out = env.add("alice", GOOD);
    assert_ok(&out);
    let text = stdout(&out);
    assert!(text.contains("added user \"alice\""), "{text}");
    assert!(text.contains("/u:alice /sec:nla"), "{text}");
    assert!(stderr(&out).contains("warning:"), "root mapping is warned about");

    assert_eq!(mode(&env.state_dir()), 0o700);
    assert_eq!(mode(&env.state_dir().join("rampart.db")), 0o600);

    let store = env.store();
    let user = store.get_user("alice").unwrap().unwrap();
    assert_eq!(user.unix_user, "root");
    let expected = rampart_auth::NtHash::from_password(&rampart_auth::Password::new(GOOD.into()));
    assert_eq!(user.nt_hash.as_bytes(), expected.as_bytes());
    let events = store.events(&EventFilter::default()).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::UserAdded);
    assert_eq!(events[0].user.as_deref(), Some("alice"));
}

#[test]
fn weak_passwords_are_rejected_with_the_reason() {
    let env = Env::new();
    assert_error(
        &env.add("alice", "Xk3#pq9Lz"),
        "error: password is too short: 9 characters, at least 14 required",
    );
    assert_error(&env.add("alice", "xq7#Alice-river-moon"), "error: password contains the user name");
    let out = env.add("alice", "passwordpassword");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("error: password is too weak"), "{}", stderr(&out));
    assert!(env.store().get_user("alice").unwrap().is_none());
    assert!(env.store().events(&EventFilter::default()).unwrap().is_empty());
}

#[test]
fn only_the_first_line_of_stdin_is_the_password() {
    let env = Env::new();
    let out = env.run(
        &["user", "add", "alice", "--unix-user", "root", "--password-stdin"],
        Some(&format!("{GOOD}\r\nsomething else\n")),
    );
    assert_ok(&out);
    let expected = rampart_auth::NtHash::from_password(&rampart_auth::Password::new(GOOD.into()));
    assert_eq!(env.store().get_user("alice").unwrap().unwrap().nt_hash.as_bytes(), expected.as_bytes());
}

#[test]
fn duplicate_user_is_rejected() {
    let env = Env::new();
    assert_ok(&env.add("alice", GOOD));
    assert_error(&env.add("alice", GOOD2), "error: user \"alice\" already exists");
}

#[test]
fn bad_names_and_missing_unix_users_are_rejected() {
    let env = Env::new();
    assert_error(
        &env.add("Alice", GOOD),
        "error: user name contains 'A': only lowercase letters, digits, '.', '_' and '-' are allowed",
    );
    let out = env.run(
        &["user", "add", "no-such-unix-user-xyz", "--password-stdin"],
        Some(&format!("{GOOD}\n")),
    );
    assert_error(
        &out,
        "error: unix user \"no-such-unix-user-xyz\" does not exist; create it first or pass --unix-user",
    );
}

#[test]
fn prompting_needs_a_terminal() {
    let env = Env::new();
    let out = env.run(&["user", "add", "alice", "--unix-user", "root"], None);
    assert_error(
        &out,
        "error: standard input is not a terminal: pass --password-stdin to read the password from it",
    );
}

#[test]
fn list_shows_users_without_secrets() {
    let env = Env::new();
    let out = env.run(&["user", "list"], None);
    assert_ok(&out);
    assert!(stdout(&out).starts_with("no users"), "{}", stdout(&out));

    assert_ok(&env.add("bob", GOOD));
    assert_ok(&env.add("alice", GOOD2));
    let out = env.run(&["user", "list"], None);
    assert_ok(&out);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("NAME"), "{text}");
    assert!(lines[1].starts_with("alice ") && lines[1].contains(" root "), "{text}");
    assert!(lines[2].starts_with("bob "), "{text}");
    let hash = env.store().get_user("bob").unwrap().unwrap().nt_hash.to_hex();
    assert!(!text.contains(&hash));
}

#[test]
fn passwd_changes_the_hash() {
    let env = Env::new();
    assert_ok(&env.add("alice", GOOD));
    let before = env.store().get_user("alice").unwrap().unwrap();

    let out = env.run(&["user", "passwd", "ALICE", "--password-stdin"], Some(&format!("{GOOD2}\n")));
    assert_ok(&out);
    let after = env.store().get_user("alice").unwrap().unwrap();
    assert_ne!(before.nt_hash.as_bytes(), after.nt_hash.as_bytes());
    assert!(after.password_changed >= before.password_changed);

    let out = env.run(&["user", "passwd", "alice", "--password-stdin"], Some(&format!("{GOOD2}\n")));
    assert_error(&out, "error: the new password is the same as the current one");
    let out = env.run(&["user", "passwd", "alice", "--password-stdin"], Some("short\n"));
    assert_error(&out, "error: password is too short: 5 characters, at least 14 required");
    let out = env.run(&["user", "passwd", "bob", "--password-stdin"], Some(&format!("{GOOD2}\n")));
    assert_error(&out, "error: no such user \"bob\"");

    let kinds: Vec<EventKind> = env
        .store()
        .events(&EventFilter::default())
        .unwrap()
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, [EventKind::UserAdded, EventKind::PasswordChanged]);
}

#[test]
fn del_removes_the_user() {
    let env = Env::new();
    assert_ok(&env.add("alice", GOOD));
    assert_ok(&env.run(&["user", "del", "alice"], None));
    assert!(env.store().get_user("alice").unwrap().is_none());
    assert_error(&env.run(&["user", "del", "alice"], None), "error: no such user \"alice\"");
    let last = env.store().events(&EventFilter::default()).unwrap().pop().unwrap();
    assert_eq!(last.kind, EventKind::UserDeleted);
    assert_eq!(last.user.as_deref(), Some("alice"));
}

#[test]
fn unknown_config_key_names_file_line_and_key() {
    let env = Env::new();
    let config = env.dir.path().join("bad.toml");
    std::fs::write(&config, "[server]\nlisten = \"0.0.0.0:3389\"\nlistne = \"x\"\n").unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rampart"));
    cmd.args(["user", "list", "--config"]).arg(&config);
    let out = run_with_stdin(cmd, None);
    assert_error(
        &out,
        &format!("error: {}:3: unknown key \"listne\" in [server]", config.display()),
    );
}

#[test]
fn bad_config_value_names_line() {
    let env = Env::new();
    let config = env.dir.path().join("bad.toml");
    std::fs::write(&config, "[limits]\n\nmax_pending_per_ip = \"five\"\n").unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rampart"));
    cmd.args(["serve", "--config"]).arg(&config);
    let out = run_with_stdin(cmd, None);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let expected = format!("error: {}:3: bad value for \"max_pending_per_ip\" in [limits]", config.display());
    assert!(err.contains(&expected), "{err}");
}

#[test]
fn missing_explicit_config_is_an_error() {
    let env = Env::new();
    let missing = env.dir.path().join("missing.toml");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rampart"));
    cmd.args(["user", "list", "--config"]).arg(&missing);
    let out = run_with_stdin(cmd, None);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.starts_with(&format!("error: cannot read config file {}", missing.display())), "{err}");
}

#[test]
fn version_and_help() {
    let out = run_with_stdin(
        {
            let mut c = Command::new(env!("CARGO_BIN_EXE_rampart"));
            c.arg("--version");
            c
        },
        None,
    );
    assert_ok(&out);
    assert_eq!(stdout(&out).trim(), format!("rampart {}", env!("CARGO_PKG_VERSION")));

    let out = run_with_stdin(
        {
            let mut c = Command::new(env!("CARGO_BIN_EXE_rampart"));
            c.arg("--help");
            c
        },
        None,
    );
    assert_ok(&out);
    let help = stdout(&out);
    assert!(help.contains("serve") && help.contains("user"), "{help}");
    assert!(!help.contains("worker"), "the worker subcommand is hidden: {help}");
}

#[test]
fn options_are_accepted_before_the_user_subcommand_too() {
    let env = Env::new();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rampart"));
    cmd.args(["user", "--state-dir"])
        .arg(env.state_dir())
        .arg("--config")
        .arg(env.config())
        .arg("list");
    assert_ok(&run_with_stdin(cmd, None));
}

#[test]
fn ban_add_list_del() {
    let env = Env::new();
    let out = env.run(&["ban", "list"], None);
    assert_ok(&out);
    assert_eq!(stdout(&out).trim(), "no bans");

    let out = env.run(&["ban", "add", "203.0.113.7", "--for", "2h", "--reason", "scanner"], None);
    assert_ok(&out);
    assert!(stdout(&out).starts_with("banned 203.0.113.7/32 until "), "{}", stdout(&out));
    // Default 24 h.
    assert_ok(&env.run(&["ban", "add", "2001:db8::/48"], None));

    let store = env.store();
    let bans = store.bans().unwrap();
    assert_eq!(bans.len(), 2);
    let first = &bans[0];
    assert_eq!(first.net, "203.0.113.7/32");
    assert_eq!(first.repeat, 0);
    assert!(first.reason.starts_with("manual: scanner (cli uid "), "{}", first.reason);
    let hours = |b: &rampart_store::BanRecord| (b.until.0 - b.created.0) / 3_600_000;
    assert_eq!(hours(first), 2);
    assert_eq!(bans[1].net, "2001:db8::/48");
    assert_eq!(hours(&bans[1]), 24);

    let out = env.run(&["ban", "list"], None);
    assert_ok(&out);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("203.0.113.7/32  until 20"), "{text}");
    assert!(lines[0].contains(" UTC  manual: scanner (cli uid "), "{text}");
    assert!(lines[1].starts_with("2001:db8::/48   until 20"), "{text}");

    // Deleting takes the same spelling as adding.
    let out = env.run(&["ban", "del", "::ffff:203.0.113.7"], None);
    assert_ok(&out);
    assert_eq!(stdout(&out).trim(), "lifted the ban on 203.0.113.7/32");
    assert_error(
        &env.run(&["ban", "del", "203.0.113.7"], None),
        "error: no ban on 203.0.113.7/32; `rampart ban list` shows the banned networks",
    );
    assert_eq!(env.store().bans().unwrap().len(), 1);

    let kinds: Vec<EventKind> = env
        .store()
        .events(&EventFilter::default())
        .unwrap()
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, [EventKind::BanAdded, EventKind::BanAdded, EventKind::BanRemoved]);
    let events = env.store().events(&EventFilter::default()).unwrap();
    assert!(
        events[0].reason.as_deref().unwrap().starts_with("203.0.113.7/32 until "),
        "{:?}",
        events[0].reason
    );
}

#[test]
fn ban_rejects_bad_addresses_and_durations() {
    let env = Env::new();
    assert_error(
        &env.run(&["ban", "add", "10.0.0.1/8"], None),
        "error: \"10.0.0.1/8\": host bits are set; did you mean \"10.0.0.0/8\"?",
    );
    assert_error(
        &env.run(&["ban", "add", "example.com"], None),
        "error: \"example.com\" is not an IP address or network such as \"10.0.0.0/8\"",
    );
    let out = env.run(&["ban", "add", "10.0.0.1", "--for", "1w"], None);
    assert_eq!(out.status.code(), Some(2), "clap usage error");
    assert!(stderr(&out).contains("not a duration such as 30m, 2h or 1d"), "{}", stderr(&out));
    assert!(env.store().bans().unwrap().is_empty());
}

#[test]
fn bad_guard_config_names_file_line_and_key() {
    let env = Env::new();
    std::fs::write(env.config(), "[guard]\nallow = [\n  \"10.0.0.0/8\",\n  \"fc00::1/7\",\n]\n").unwrap();
    let out = env.run(&["ban", "list"], None);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{}:4: bad value for \"allow\" in [guard]: \"fc00::1/7\": host bits are set",
            env.config().display()
        )),
        "{err}"
    );
}

/// A config whose only access window is two days from today, so the port is closed now.
fn closed_now_config(env: &Env) {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 86_400;
    // 1970-01-01 was a Thursday (3 with Monday as 0).
    let day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][usize::try_from((days + 3 + 2) % 7).unwrap()];
    std::fs::write(
        env.config(),
        format!("[access]\nwindows = [\"{day} 10:00-11:00\"]\ntimezone = \"UTC\"\n\n[access.users]\nalice = [\"{day} 10:00-10:30\"]\n"),
    )
    .unwrap();
}

#[test]
fn access_status_without_windows_is_open() {
    let env = Env::new();
    let out = env.run(&["access", "status"], None);
    assert_ok(&out);
    let text = stdout(&out);
    assert!(text.starts_with("port: open (no access windows configured)\n"), "{text}");
    assert!(text.contains("windows: none (always open)\ngrants: none\nnext change: none\n"), "{text}");
}

#[test]
fn access_open_close_status() {
    let env = Env::new();
    closed_now_config(&env);
    let out = env.run(&["access", "status", "--user", "Alice"], None);
    assert_ok(&out);
    let text = stdout(&out);
    assert!(text.starts_with("port: closed until 20"), "{text}");
    assert!(text.contains(" 10:00:00 UTC\n"), "{text}");
    assert!(text.contains("\nwindows: "), "{text}");
    assert!(text.contains(" 10:00-11:00 (UTC)\n"), "{text}");
    assert!(text.contains("\ngrants: none\n"), "{text}");
    assert!(text.contains("\nnext change: 20"), "{text}");
    assert!(text.contains("UTC, then open\n"), "{text}");
    assert!(text.contains("\nuser Alice: may not log in now (windows: "), "{text}");

    let out = env.run(&["access", "open", "--for", "2h", "--from", "192.0.2.0/24", "--reason", "vendor"], None);
    assert_ok(&out);
    assert!(stdout(&out).starts_with("opened access for 192.0.2.0/24 until "), "{}", stdout(&out));
    assert!(stderr(&out).contains("not inside the source allowlist"), "{}", stderr(&out));
    let text = stdout(&env.run(&["access", "status"], None));
    assert!(text.starts_with("port: open for 192.0.2.0/24 only (access grant)\n"), "{text}");
    assert!(text.contains("\n  192.0.2.0/24  until 20"), "{text}");
    assert!(text.contains(" UTC  manual: vendor (cli uid "), "{text}");

    let out = env.run(&["access", "open", "--for", "30m"], None);
    assert_ok(&out);
    assert!(stdout(&out).starts_with("opened access for every allowed source until "), "{}", stdout(&out));
    let text = stdout(&env.run(&["access", "status"], None));
    assert!(text.starts_with("port: open (access grant)\n"), "{text}");
    assert!(text.contains("\n  any           until 20"), "{text}");
    assert!(text.contains("UTC, then open for 192.0.2.0/24 only\n"), "{text}");
    let grants = env.store().access_grants(rampart_audit::UnixMillis(0)).unwrap();
    assert_eq!(grants.len(), 2);
    assert_eq!(grants[0].net, None);
    assert_eq!((grants[0].until.0 - grants[0].created.0) / 60_000, 30);
    assert_eq!(grants[1].net.as_deref(), Some("192.0.2.0/24"));
    assert_eq!((grants[1].until.0 - grants[1].created.0) / 60_000, 120);

    let out = env.run(&["access", "close"], None);
    assert_ok(&out);
    assert!(
        stdout(&out).starts_with("withdrew 2 access grants; the port is now closed until 20"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&env.run(&["access", "status"], None)).starts_with("port: closed until "));
    let out = env.run(&["access", "close"], None);
    assert!(stdout(&out).starts_with("no access grants were in force; "), "{}", stdout(&out));

    let events = env.store().events(&EventFilter::default()).unwrap();
    let kinds: Vec<EventKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [EventKind::AccessOpened, EventKind::AccessOpened, EventKind::AccessClosed, EventKind::AccessClosed]
    );
    assert!(
        events[0].reason.as_deref().unwrap().starts_with("192.0.2.0/24 until "),
        "{:?}",
        events[0].reason
    );
    assert!(events[2].reason.as_deref().unwrap().starts_with("2 grant(s) withdrawn; cli uid "));
}

#[test]
fn access_rejects_bad_sources_durations_and_windows() {
    let env = Env::new();
    assert_error(
        &env.run(&["access", "open", "--for", "2h", "--from", "10.0.0.1/8"], None),
        "error: \"10.0.0.1/8\": host bits are set; did you mean \"10.0.0.0/8\"?",
    );
    let out = env.run(&["access", "open", "--for", "8d"], None);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("the duration must be at most 7d"), "{}", stderr(&out));
    let out = env.run(&["access", "open"], None);
    assert!(!out.status.success(), "--for is required");
    assert!(env.store().access_grants(rampart_audit::UnixMillis(0)).unwrap().is_empty());

    std::fs::write(env.config(), "[access]\nwindows = [\"Mon-Fri 8-18\"]\n").unwrap();
    let out = env.run(&["access", "status"], None);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("rampart.toml:2: bad value for \"windows\" in [access]: \"8-18\" is not a time range"),
        "{}",
        stderr(&out)
    );
}
