//! The `rampart` binary driven as an administrator would: user and two-step enrollment,
//! account changes, bans, access grants and config errors.

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
        Store::open(&self.state_dir().join("rampart.db"), &self.state_dir().join("host.key")).unwrap()
    }
}

fn run_with_stdin(mut cmd: Command, stdin: Option<&str>) -> Output {
    cmd.env("RUST_LOG", "warn")
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        // A command that refuses before reading its input (an unknown or duplicate user)
        // may exit first: its exit status and output are what the test checks.
        match child.stdin.take().unwrap().write_all(input.as_bytes()) {
            Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other.unwrap(),
        }
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
    assert_eq!(mode(&env.state_dir().join("host.key")), 0o600);

    let store = env.store();
    let user = store.get_user("alice").unwrap().unwrap();
    assert_eq!(user.unix_user, "root");
    let expected = rampart_auth::NtHash::from_password(&rampart_auth::Password::new(GOOD.into()));
    assert_eq!(user.nt_hash.as_bytes(), expected.as_bytes());
    let events = store.events(&EventFilter::default()).unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].kind, EventKind::UserAdded);
    assert_eq!(events[0].user.as_deref(), Some("alice"));
    // Two-step enrollment is the default.
    assert_eq!(events[1].kind, EventKind::MfaEnrolled);
    assert_eq!(events[1].user.as_deref(), Some("alice"));
    assert!(user.mfa_enrolled);
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

    assert_eq!(kinds(&env), [EventKind::UserAdded, EventKind::MfaEnrolled, EventKind::PasswordChanged]);
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

    assert_eq!(kinds(&env), [EventKind::BanAdded, EventKind::BanAdded, EventKind::BanRemoved]);
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

// ---- two-step verification (TOTP), locking, listing ----

fn now_millis() -> rampart_audit::UnixMillis {
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    rampart_audit::UnixMillis(i64::try_from(ms).unwrap())
}

/// What an enrollment printed.
struct Enrolled {
    uri: String,
    /// From the URI's `secret=`.
    secret: String,
    /// The `secret:` line, spaces kept.
    grouped: String,
    codes: Vec<String>,
    /// Lines of the QR code.
    qr_lines: usize,
}

fn is_recovery_code(s: &str) -> bool {
    // ^[a-z2-9]{5}-[a-z2-9]{5}$
    let ok = |part: &str| part.len() == 5 && part.bytes().all(|b| b.is_ascii_lowercase() || (b'2'..=b'9').contains(&b));
    matches!(s.split_once('-'), Some((a, b)) if ok(a) && ok(b))
}

fn parse_enrollment(text: &str) -> Enrolled {
    let uri = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("URI:"))
        .unwrap_or_else(|| panic!("no URI line: {text}"))
        .trim()
        .to_owned();
    let secret = uri
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("secret="))
        .unwrap_or_else(|| panic!("no secret in {uri}"))
        .to_owned();
    let grouped = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("secret:"))
        .unwrap_or_else(|| panic!("no secret line: {text}"))
        .trim()
        .split("   ")
        .next()
        .unwrap()
        .to_owned();
    let codes = text
        .lines()
        .map(str::trim)
        .filter(|l| is_recovery_code(l))
        .map(str::to_owned)
        .collect();
    let qr_lines = text
        .lines()
        .filter(|l| {
            let l = l.trim_start_matches(' ');
            l.chars().count() >= 21 && l.chars().all(|c| matches!(c, '█' | '▀' | '▄' | ' '))
        })
        .count();
    Enrolled {
        uri,
        secret,
        grouped,
        codes,
        qr_lines,
    }
}

/// RFC 4648 base32 without padding.
fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0u32);
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c).unwrap_or_else(|| panic!("not base32: {text}"));
        acc = (acc << 5) | u32::try_from(v).unwrap();
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).unwrap());
        }
    }
    out
}

/// The current code for `secret` as an authenticator app computes it: `oathtool` (CI
/// installs it), else the crate's own RFC 6238 code.
fn current_code(secret: &str) -> String {
    match Command::new("oathtool").args(["--totp", "-b", secret]).output() {
        Ok(out) if out.status.success() => String::from_utf8(out.stdout).unwrap().trim().to_owned(),
        _ => {
            let secret = rampart_auth::totp::TotpSecret::from_bytes(base32_decode(secret));
            let secs = u64::try_from(now_millis().0 / 1000).unwrap();
            rampart_auth::totp::code_at(&secret, secs)
        }
    }
}

fn add_without_mfa(env: &Env, name: &str) {
    let out = env.run(
        &["user", "add", name, "--unix-user", "root", "--password-stdin", "--no-mfa"],
        Some(&format!("{GOOD}\n")),
    );
    assert_ok(&out);
}

fn kinds(env: &Env) -> Vec<EventKind> {
    env.store().events(&EventFilter::default()).unwrap().iter().map(|e| e.kind).collect()
}

#[test]
fn mfa_enroll_prints_a_secret_that_works_a_qr_code_and_recovery_codes() {
    use rampart_store::CodeCheck;
    let env = Env::new();
    add_without_mfa(&env, "alice");
    let out = env.run(&["mfa", "enroll", "alice"], None);
    assert_ok(&out);
    let text = stdout(&out);
    let e = parse_enrollment(&text);

    assert!(e.uri.starts_with("otpauth://totp/Rampart:alice?secret="), "{text}");
    assert!(e.uri.contains("&issuer=Rampart"), "{text}");
    assert_eq!(e.secret.len(), 32, "160 bits in base32: {text}");
    assert_eq!(e.grouped.replace(' ', ""), e.secret, "{text}");
    assert!(e.grouped.split(' ').all(|g| g.len() == 4), "groups of four: {text}");
    assert!(e.qr_lines >= 20, "a QR block: {text}");
    assert_eq!(e.codes.len(), 10, "{text}");
    assert!(text.contains("shown once"), "{text}");
    assert!(text.contains("each works once"), "{text}");
    assert!(
        text.contains(
            "\nScan the QR code with an authenticator app (Google Authenticator, Aegis, FreeOTP, \
             1Password...), then log in: after the password, type the 6-digit code.\n"
        ),
        "{text}"
    );

    // The secret is what an authenticator app would use: its current code logs in, once.
    let mut store = env.store();
    let code = current_code(&e.secret);
    assert_eq!(code.len(), 6);
    assert_eq!(store.check_second_factor("alice", &code, now_millis()).unwrap(), CodeCheck::Totp);
    assert_eq!(store.check_second_factor("alice", &code, now_millis()).unwrap(), CodeCheck::Replayed);
    // A recovery code works once, with or without the dash.
    assert_eq!(
        store.check_second_factor("alice", &e.codes[3], now_millis()).unwrap(),
        CodeCheck::Recovery { left: 9 }
    );
    assert_eq!(store.check_second_factor("alice", &e.codes[3], now_millis()).unwrap(), CodeCheck::Replayed);
    assert_eq!(
        store.check_second_factor("alice", &e.codes[4].replace('-', ""), now_millis()).unwrap(),
        CodeCheck::Recovery { left: 8 }
    );
    assert_eq!(kinds(&env), [EventKind::UserAdded, EventKind::MfaEnrolled]);

    // The secret is sealed: neither its base32 text nor its raw bytes are in the store file.
    assert_eq!(mode(&env.state_dir().join("rampart.db")), 0o600);
    assert_eq!(mode(&env.state_dir().join("host.key")), 0o600);
    drop(store);
    let raw = base32_decode(&e.secret);
    for file in ["rampart.db", "rampart.db-wal"] {
        let Ok(bytes) = std::fs::read(env.state_dir().join(file)) else { continue };
        assert!(!bytes.windows(raw.len()).any(|w| w == raw.as_slice()), "raw secret in {file}");
        assert!(!bytes.windows(e.secret.len()).any(|w| w == e.secret.as_bytes()), "base32 secret in {file}");
    }

    // A second enrollment is refused: it would silently break the app already set up.
    assert_error(
        &env.run(&["mfa", "enroll", "alice"], None),
        "error: user \"alice\" is already enrolled; use `rampart mfa reset alice` to replace the secret",
    );
    assert_error(&env.run(&["mfa", "enroll", "bob"], None), "error: no such user \"bob\"");
}

#[test]
fn mfa_issuer_comes_from_the_config_and_no_qr_skips_the_code() {
    let env = Env::new();
    std::fs::write(env.config(), "[auth]\nmfa_issuer = \"Acme RDP\"\n").unwrap();
    add_without_mfa(&env, "alice");
    let out = env.run(&["mfa", "enroll", "ALICE", "--no-qr"], None);
    assert_ok(&out);
    let e = parse_enrollment(&stdout(&out));
    assert!(e.uri.starts_with("otpauth://totp/Acme%20RDP:alice?secret="), "{}", e.uri);
    assert!(e.uri.contains("&issuer=Acme%20RDP"), "{}", e.uri);
    assert_eq!(e.qr_lines, 0, "{}", stdout(&out));
    assert_eq!(e.codes.len(), 10);
}

#[test]
fn mfa_reset_replaces_and_remove_removes() {
    use rampart_store::CodeCheck;
    let env = Env::new();
    let first = parse_enrollment(&stdout(&env.add("alice", GOOD)));
    assert_eq!(first.codes.len(), 10);

    let out = env.run(&["mfa", "reset", "alice"], None);
    assert_ok(&out);
    let text = stdout(&out);
    assert!(text.starts_with("replaced the two-step secret and recovery codes of \"alice\""), "{text}");
    let second = parse_enrollment(&text);
    assert_ne!(first.secret, second.secret);
    let mut store = env.store();
    // The old recovery codes and secret are gone, the new ones work.
    assert_eq!(store.check_second_factor("alice", &first.codes[0], now_millis()).unwrap(), CodeCheck::Wrong);
    let old_code = current_code(&first.secret);
    let new_code = current_code(&second.secret);
    if old_code != new_code {
        assert_eq!(store.check_second_factor("alice", &old_code, now_millis()).unwrap(), CodeCheck::Wrong);
    }
    assert_eq!(store.check_second_factor("alice", &new_code, now_millis()).unwrap(), CodeCheck::Totp);
    assert_eq!(
        store.check_second_factor("alice", &second.codes[0], now_millis()).unwrap(),
        CodeCheck::Recovery { left: 9 }
    );
    drop(store);

    let out = env.run(&["mfa", "remove", "alice"], None);
    assert_ok(&out);
    assert_eq!(stdout(&out).trim(), "removed the TOTP secret and recovery codes of \"alice\"");
    assert!(
        stderr(&out).contains("alice can no longer log in until enrolled again"),
        "MFA is required by default: {}",
        stderr(&out)
    );
    let mut store = env.store();
    assert!(!store.get_user("alice").unwrap().unwrap().mfa_enrolled);
    assert_eq!(
        store.check_second_factor("alice", &second.codes[1], now_millis()).unwrap(),
        CodeCheck::NotEnrolled
    );
    drop(store);
    let out = env.run(&["mfa", "remove", "alice"], None);
    assert_ok(&out);
    assert_eq!(stdout(&out).trim(), "\"alice\" has no second factor enrolled; nothing to remove");

    // Reset also enrolls a user who has none.
    let out = env.run(&["mfa", "reset", "alice", "--no-qr"], None);
    assert_ok(&out);
    assert!(stdout(&out).starts_with("two-step verification for \"alice\":"), "{}", stdout(&out));
    assert!(env.store().get_user("alice").unwrap().unwrap().mfa_enrolled);
    assert_error(&env.run(&["mfa", "reset", "bob"], None), "error: no such user \"bob\"");
    assert_error(&env.run(&["mfa", "remove", "bob"], None), "error: no such user \"bob\"");

    assert_eq!(
        kinds(&env),
        [
            EventKind::UserAdded,
            EventKind::MfaEnrolled,
            EventKind::MfaEnrolled,
            EventKind::MfaRemoved,
            EventKind::MfaEnrolled
        ]
    );
    let events = env.store().events(&EventFilter::default()).unwrap();
    assert!(events[2].reason.as_deref().unwrap().starts_with("totp secret and recovery codes replaced; cli uid "));
    assert_eq!(events[3].user.as_deref(), Some("alice"));
}

#[test]
fn mfa_remove_warns_only_when_the_config_requires_mfa() {
    let env = Env::new();
    std::fs::write(env.config(), "[auth]\nmfa = \"optional\"\n\n[auth.users.bob]\nmfa = \"required\"\n").unwrap();
    assert_ok(&env.add("alice", GOOD));
    assert_ok(&env.add("bob", GOOD2));
    let out = env.run(&["mfa", "remove", "alice"], None);
    assert_ok(&out);
    assert!(!stderr(&out).contains("can no longer log in"), "{}", stderr(&out));
    let out = env.run(&["mfa", "remove", "bob"], None);
    assert_ok(&out);
    assert!(stderr(&out).contains("bob can no longer log in until enrolled again"), "{}", stderr(&out));
}

#[test]
fn mfa_status_shows_enrollment_codes_left_and_mode() {
    use rampart_store::CodeCheck;
    let env = Env::new();
    std::fs::write(env.config(), "[auth.users.bob]\nmfa = \"optional\"\n").unwrap();
    let alice = parse_enrollment(&stdout(&env.add("alice", GOOD)));
    add_without_mfa(&env, "bob");
    add_without_mfa(&env, "carol");
    assert_eq!(
        env.store().check_second_factor("alice", &alice.codes[0], now_millis()).unwrap(),
        CodeCheck::Recovery { left: 9 }
    );

    let out = env.run(&["mfa", "status"], None);
    assert_ok(&out);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].starts_with("NAME ") && lines[0].contains("MODE"), "{text}");
    assert!(lines[1].starts_with("alice  enrolled 20"), "{text}");
    assert!(lines[1].contains(" UTC  9 "), "{text}");
    assert!(lines[1].ends_with("  required ([auth])"), "{text}");
    assert!(lines[2].starts_with("bob    not enrolled"), "{text}");
    assert!(lines[2].ends_with("  optional ([auth.users]): password only"), "{text}");
    assert!(lines[3].starts_with("carol  not enrolled"), "{text}");
    assert!(
        lines[3].ends_with("  required ([auth]): cannot log in until `rampart mfa enroll carol`"),
        "{text}"
    );

    let out = env.run(&["mfa", "status", "Bob"], None);
    assert_ok(&out);
    assert_eq!(stdout(&out).lines().count(), 2, "{}", stdout(&out));
    assert_error(&env.run(&["mfa", "status", "dave"], None), "error: no such user \"dave\"");
}

#[test]
fn user_add_enrolls_mfa_unless_told_not_to() {
    let env = Env::new();
    let out = env.add("alice", GOOD);
    assert_ok(&out);
    let e = parse_enrollment(&stdout(&out));
    assert!(e.uri.starts_with("otpauth://totp/Rampart:alice?"), "{}", stdout(&out));
    assert!(e.qr_lines >= 20);
    assert_eq!(e.codes.len(), 10);
    assert!(stdout(&out).contains("/u:alice /sec:nla"));
    assert!(env.store().get_user("alice").unwrap().unwrap().mfa_enrolled);

    let out = env.run(
        &["user", "add", "bob", "--unix-user", "root", "--password-stdin", "--no-mfa"],
        Some(&format!("{GOOD2}\n")),
    );
    assert_ok(&out);
    let text = stdout(&out);
    assert!(!text.contains("otpauth://"), "{text}");
    assert!(
        text.contains("with [auth] mfa = \"required\" bob cannot log in until `rampart mfa enroll bob`"),
        "{text}"
    );
    assert!(!env.store().get_user("bob").unwrap().unwrap().mfa_enrolled);

    let out = env.run(
        &["user", "add", "carol", "--unix-user", "root", "--password-stdin", "--no-qr"],
        Some(&format!("{GOOD2}\n")),
    );
    assert_ok(&out);
    let e = parse_enrollment(&stdout(&out));
    assert_eq!(e.qr_lines, 0);
    assert_eq!(e.codes.len(), 10);
    assert_eq!(
        kinds(&env),
        [
            EventKind::UserAdded,
            EventKind::MfaEnrolled,
            EventKind::UserAdded,
            EventKind::UserAdded,
            EventKind::MfaEnrolled
        ]
    );
}

#[test]
fn lock_and_unlock_are_audited() {
    let env = Env::new();
    add_without_mfa(&env, "alice");
    let out = env.run(&["user", "lock", "ALICE"], None);
    assert_ok(&out);
    assert!(stdout(&out).starts_with("locked \"alice\""), "{}", stdout(&out));
    assert!(env.store().get_user("alice").unwrap().unwrap().locked);
    let out = env.run(&["user", "lock", "alice"], None);
    assert_ok(&out);
    assert_eq!(stdout(&out).trim(), "\"alice\" is already locked");

    let list = stdout(&env.run(&["user", "list"], None));
    let row = list.lines().nth(1).unwrap();
    assert!(row.contains("  yes  "), "{list}");

    let out = env.run(&["user", "unlock", "alice"], None);
    assert_ok(&out);
    assert_eq!(stdout(&out).trim(), "unlocked \"alice\"");
    assert!(!env.store().get_user("alice").unwrap().unwrap().locked);
    let out = env.run(&["user", "unlock", "alice"], None);
    assert_eq!(stdout(&out).trim(), "\"alice\" is already unlocked");
    assert_error(&env.run(&["user", "lock", "bob"], None), "error: no such user \"bob\"");

    let store = env.store();
    let locked = store
        .events(&EventFilter {
            kind: Some(EventKind::UserLocked),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(locked.len(), 1, "locking twice is one change");
    assert_eq!(locked[0].user.as_deref(), Some("alice"));
    assert!(locked[0].reason.as_deref().unwrap().starts_with("cli uid "));
    let unlocked = store
        .events(&EventFilter {
            kind: Some(EventKind::UserUnlocked),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(unlocked.len(), 1);
    assert_eq!(unlocked[0].user.as_deref(), Some("alice"));
}

#[test]
fn passwd_enforces_the_password_policy() {
    let env = Env::new();
    add_without_mfa(&env, "alice");
    let before = env.store().get_user("alice").unwrap().unwrap();
    let passwd = |pw: &str| env.run(&["user", "passwd", "alice", "--password-stdin"], Some(&format!("{pw}\n")));
    assert_error(&passwd("Xk3#pq9Lz"), "error: password is too short: 9 characters, at least 14 required");
    assert_error(&passwd("xq7#Alice-river-moon"), "error: password contains the user name");
    let out = passwd("passwordpassword");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("error: password is too weak"), "{}", stderr(&out));
    let after = env.store().get_user("alice").unwrap().unwrap();
    assert_eq!(before.nt_hash.as_bytes(), after.nt_hash.as_bytes());
    assert_eq!(before.password_changed, after.password_changed);
    assert_eq!(kinds(&env), [EventKind::UserAdded]);
    // A good one still goes through.
    assert_ok(&passwd(GOOD2));
    assert_eq!(kinds(&env), [EventKind::UserAdded, EventKind::PasswordChanged]);
}

#[test]
fn list_shows_lock_mfa_and_password_age() {
    let env = Env::new();
    std::fs::write(env.config(), "[auth]\nmax_password_age_days = 90\n").unwrap();
    assert_ok(&env.add("alice", GOOD));
    add_without_mfa(&env, "bob");
    assert_ok(&env.run(&["user", "lock", "bob"], None));
    // Age bob's password by 100 days, alice's by 30.
    let db = rusqlite::Connection::open(env.state_dir().join("rampart.db")).unwrap();
    let day = 86_400_000i64;
    db.execute(
        "UPDATE users SET password_changed = password_changed - ?1 * ?2 WHERE name = ?3",
        rusqlite::params![100, day, "bob"],
    )
    .unwrap();
    db.execute(
        "UPDATE users SET password_changed = password_changed - ?1 * ?2 WHERE name = ?3",
        rusqlite::params![30, day, "alice"],
    )
    .unwrap();
    drop(db);

    let out = env.run(&["user", "list"], None);
    assert_ok(&out);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>().join(" "),
        "NAME UNIX USER CREATED PASSWORD CHANGED PASSWORD AGE LOCKED MFA",
        "{text}"
    );
    assert!(lines[1].starts_with("alice "), "{text}");
    assert!(lines[1].contains("  30d  "), "{text}");
    assert!(!lines[1].contains("expired"), "{text}");
    assert!(lines[1].contains("  no  "), "{text}");
    assert!(lines[1].ends_with("  enrolled, 10 recovery codes left"), "{text}");
    assert!(lines[2].starts_with("bob "), "{text}");
    assert!(lines[2].contains("  100d expired  "), "{text}");
    assert!(lines[2].contains("  yes  "), "{text}");
    assert!(lines[2].ends_with("  none"), "{text}");
    // The columns line up under their headers.
    let col = |line: &str, text: &str| line.find(text).unwrap();
    assert_eq!(col(lines[0], "LOCKED"), col(lines[2], "yes"));
    assert_eq!(col(lines[0], "MFA"), col(lines[2], "none"));
}

/// `rampart scan` with a bad target or options, and against a port where nothing
/// listens (connection refused on 127.0.0.1: no traffic leaves the machine).
#[test]
fn scan_refuses_bad_targets_and_reports_unreachable_ones() {
    // The scan reads no config and no state: no --config/--state-dir here.
    let scan = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rampart"));
        cmd.arg("scan").args(args);
        run_with_stdin(cmd, None)
    };
    let code = |out: &Output| out.status.code();
    for bad in ["10.0.0.0/24", "10.0.0.1-20", "host:0", "[nope]:1"] {
        let out = scan(&[bad]);
        assert_eq!(code(&out), Some(3), "{bad}: {}", stderr(&out));
        assert!(stderr(&out).contains("cannot scan"), "{bad}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "{bad}: {}", stdout(&out));
    }
    let out = scan(&["127.0.0.1", "--try-logins", "21"]);
    assert_eq!(code(&out), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--try-logins"), "{}", stderr(&out));

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let target = format!("127.0.0.1:{port}");
    let out = scan(&[&target]);
    assert_eq!(code(&out), Some(3), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("could not scan: no RDP answer"), "{}", stdout(&out));
    let out = scan(&[&target, "--json"]);
    assert_eq!(code(&out), Some(3));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["exit_status"], 3);
    assert_eq!(report["target"], target.as_str());
    assert!(report["could_not_scan"].as_str().unwrap().contains("cannot connect"), "{report}");
}

// The audit trail: `rampart audit ...` over what the other commands wrote.

/// `rampart audit search ARGS --format jsonl`, parsed.
fn search(env: &Env, args: &[&str]) -> Vec<serde_json::Value> {
    let mut full = vec!["audit", "search", "--format", "jsonl"];
    full.extend_from_slice(args);
    let out = env.run(&full, None);
    assert_ok(&out);
    stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Runs sqlite3 (the real CLI) on the store file.
fn sqlite3(db: &Path, sql: &str) {
    let out = Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .unwrap_or_else(|e| panic!("cannot run sqlite3 (apt package sqlite3): {e}"));
    assert!(out.status.success(), "sqlite3 {sql}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn every_admin_change_is_found_by_audit_search() {
    let env = Env::new();
    // user_added and mfa_enrolled (the default enrollment).
    assert_ok(&env.run(&["user", "add", "alice", "--unix-user", "root", "--password-stdin", "--no-qr"], Some(&format!("{GOOD}\n"))));
    add_without_mfa(&env, "carol");
    assert_ok(&env.run(&["user", "passwd", "alice", "--password-stdin"], Some(&format!("{GOOD2}\n"))));
    assert_ok(&env.run(&["user", "lock", "alice"], None));
    assert_ok(&env.run(&["user", "unlock", "alice"], None));
    assert_ok(&env.run(&["mfa", "remove", "alice"], None));
    assert_ok(&env.run(&["ban", "add", "203.0.113.0/24", "--for", "1h"], None));
    assert_ok(&env.run(&["ban", "del", "203.0.113.0/24"], None));
    assert_ok(&env.run(&["access", "open", "--for", "30m", "--from", "192.0.2.0/24"], None));
    assert_ok(&env.run(&["access", "close"], None));
    assert_ok(&env.run(&["user", "del", "carol"], None));

    let admin_kinds = [
        ("user_added", Some("alice")),
        ("mfa_enrolled", Some("alice")),
        ("password_changed", Some("alice")),
        ("user_locked", Some("alice")),
        ("user_unlocked", Some("alice")),
        ("mfa_removed", Some("alice")),
        ("ban_added", None),
        ("ban_removed", None),
        ("access_opened", None),
        ("access_closed", None),
        ("user_deleted", Some("carol")),
    ];
    for (kind, user) in admin_kinds {
        let mut args = vec!["--kind", kind];
        if let Some(user) = user {
            args.extend_from_slice(&["--user", user]);
        }
        let found = search(&env, &args);
        assert_eq!(found.len(), 1, "{kind}: {found:?}");
        let e = &found[0];
        assert_eq!(e["kind"], kind);
        assert_eq!(e["outcome"], "success");
        assert!(e["reason"].as_str().unwrap().contains("cli uid 0"), "{kind}: the actor is named: {e}");
        assert!(e["hash"].as_str().unwrap().len() == 64 && e["seq"].as_i64().unwrap() > 0, "{e}");
        if let Some(user) = user {
            assert_eq!(e["user"], user, "{kind}");
        }
    }
    assert!(search(&env, &["--kind", "ban_added"])[0]["reason"].as_str().unwrap().starts_with("203.0.113.0/24 until "));
    // The alias finds them all; filters combine.
    assert_eq!(search(&env, &["--kind", "admin"]).len(), 12, "carol's user_added too");
    let alice = search(&env, &["--kind", "admin", "--user", "ALICE"]);
    assert_eq!(alice.len(), 6);
    assert!(search(&env, &["--kind", "admin", "--until", "1h"]).is_empty());
    assert_eq!(search(&env, &["--kind", "user_added,user_deleted", "--since", "1h", "--limit", "2"]).len(), 2);
    assert!(search(&env, &["--source", "192.0.2.1"]).is_empty(), "admin changes have no source address");
    let out = env.run(&["audit", "verify"], None);
    assert_ok(&out);
    assert_eq!(stdout(&out), "intact, 12 events\n");
    // Bad arguments are clear errors.
    assert_error(
        &env.run(&["audit", "search", "--since", "yesterday"], None),
        "error: --since: \"yesterday\" is not a time: use RFC 3339 (2026-01-31T08:00:00Z), a date (2026-01-31) or an age (30m, 24h, 7d)",
    );
    let out = env.run(&["audit", "search", "--kind", "failed-logins"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--kind \"failed-logins\": not an event kind, alias or Windows event ID (aliases: failed-logon,"), "{}", stderr(&out));
}

/// A trail of 10 events written by the CLI, and a copy of its state dir per tampering.
fn tampered(env: &Env, name: &str, sql: &str) -> (Output, Env) {
    let copy = Env::new();
    let status = Command::new("cp").arg("-a").arg(env.state_dir()).arg(copy.state_dir()).status().unwrap();
    assert!(status.success());
    std::fs::write(copy.config(), std::fs::read(env.config()).unwrap()).unwrap();
    if !sql.is_empty() {
        sqlite3(&copy.state_dir().join("rampart.db"), sql);
    }
    let out = copy.run(&["audit", "verify"], None);
    eprintln!("{name}: {}", stdout(&out).trim());
    (out, copy)
}

#[test]
fn audit_verify_names_the_tampered_record() {
    let env = Env::new();
    for i in 0..5 {
        let net = format!("198.51.100.{i}");
        assert_ok(&env.run(&["ban", "add", &net, "--for", "1h"], None));
        assert_ok(&env.run(&["ban", "del", &net], None));
    }
    let (out, _) = tampered(&env, "untouched", "");
    assert_ok(&out);
    assert_eq!(stdout(&out), "intact, 10 events\n");

    let broken = |name: &str, sql: &str, want: &str| {
        let (out, _) = tampered(&env, name, sql);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stdout(&out));
        assert_eq!(stdout(&out), format!("{want}\n"), "{name}");
        assert_eq!(stderr(&out).lines().last(), Some("error: the audit trail does not verify"));
    };
    broken(
        "edit",
        "UPDATE events SET reason = replace(reason, '198.51.100.2', '198.51.100.99') WHERE id = 5;",
        "broken at record #5: edited: its contents do not match its hash",
    );
    broken(
        "delete",
        "DELETE FROM events WHERE id = 4;",
        "broken at record #5: records before it were deleted: its predecessor is missing",
    );
    broken(
        "insert",
        "UPDATE events SET id = -id WHERE id > 6; UPDATE events SET id = 1 - id WHERE id < 0;
         INSERT INTO events (id, schema, time, kind, outcome, reason, prev, hash)
            SELECT 7, schema, time, 'ban_removed', 'success', '198.51.100.9/32; cli uid 0', hash, randomblob(32)
            FROM events WHERE id = 6;",
        "broken at record #7: inserted: not part of the chain (the next record follows its predecessor)",
    );
    broken(
        "reorder",
        "UPDATE events SET id = 100 WHERE id = 3; UPDATE events SET id = 3 WHERE id = 2; UPDATE events SET id = 2 WHERE id = 100;",
        "broken at record #2: reordered: genuine, but its predecessor comes later in the trail",
    );
    broken(
        "truncate",
        "DELETE FROM events WHERE id > 8;",
        "broken at record #8: the records after it were deleted: the last one written was #10",
    );
    // Rewriting a whole row, links included, from the file alone: the links are keyed.
    broken(
        "rewrite",
        "UPDATE events SET user = 'mallory', hash = (SELECT hash FROM events WHERE id = 1) WHERE id = 1;",
        "broken at record #1: edited: its contents do not match its hash",
    );
}

#[test]
fn a_pruned_trail_verifies() {
    use rampart_audit::{Event, Outcome, UnixMillis};
    let env = Env::new();
    add_without_mfa(&env, "alice");
    let now = now_millis();
    {
        // Old failures, written through the real store as the server would have.
        let mut store = env.store();
        for days in [90, 60, 45] {
            let ev = Event::new(UnixMillis(now.0 - days * 86_400_000), EventKind::AuthFailed, Outcome::Failure)
                .with_peer("203.0.113.7:50000".parse().unwrap())
                .with_user("alice");
            store.append_event(&ev).unwrap();
        }
    }
    // The first event (user_added) is new, so retention keeps everything: it prunes only a
    // run of old events from the head, never from the middle.
    let out = env.run(&["audit", "prune", "--keep-days", "30"], None);
    assert_ok(&out);
    assert!(stdout(&out).starts_with("pruned 0 events older than "), "{}", stdout(&out));
    // A trail whose head is old: retention prunes it.
    let env2 = Env::new();
    assert_eq!(stdout(&env2.run(&["audit", "verify"], None)), "intact, 0 events\n");
    {
        let mut store = env2.store();
        for days in [90, 60, 45, 1] {
            let ev = Event::new(UnixMillis(now.0 - days * 86_400_000), EventKind::AuthFailed, Outcome::Failure)
                .with_peer("203.0.113.7:50000".parse().unwrap())
                .with_user("alice");
            store.append_event(&ev).unwrap();
        }
    }
    std::fs::write(env2.config(), "[audit]\nkeep_days = 30\n").unwrap();
    let out = env2.run(&["audit", "prune"], None);
    assert_ok(&out);
    assert!(stdout(&out).starts_with("pruned 3 events older than "), "{}", stdout(&out));
    let out = env2.run(&["audit", "verify"], None);
    assert_ok(&out);
    assert_eq!(stdout(&out), "intact, 2 events (after the retention checkpoint at #3)\n");
    let pruned = search(&env2, &["--kind", "audit_pruned"]);
    assert_eq!(pruned.len(), 1);
    assert!(pruned[0]["reason"].as_str().unwrap().contains("; checkpoint #3 "), "{}", pruned[0]);
    assert_eq!(pruned[0]["windows_event_id"], 1102);
    // The untouched one verifies too.
    let out = env.run(&["audit", "verify"], None);
    assert_eq!(stdout(&out), "intact, 4 events\n");
}

#[test]
fn export_report_and_tail() {
    use rampart_audit::{Event, Outcome, UnixMillis};
    let env = Env::new();
    add_without_mfa(&env, "alice");
    let now = now_millis();
    {
        let mut store = env.store();
        let at = |mins: i64| UnixMillis(now.0 - mins * 60_000);
        let failed = |mins, ip: &str, user: &str, kind| {
            Event::new(at(mins), kind, Outcome::Failure)
                .with_peer(format!("{ip}:50000").parse().unwrap())
                .with_user(user)
        };
        for ev in [
            failed(50, "203.0.113.7", "admin", EventKind::AuthFailed),
            failed(49, "203.0.113.7", "root", EventKind::AuthFailed),
            failed(48, "198.51.100.3", "alice", EventKind::MfaFailed),
            Event::new(at(47), EventKind::SourceBanned, Outcome::Failure)
                .with_peer("203.0.113.7:0".parse().unwrap())
                .with_reason("203.0.113.7/32 banned for 15 min (ban #1)"),
            Event::new(at(40), EventKind::SessionStarted, Outcome::Success)
                .with_peer("198.51.100.3:50001".parse().unwrap())
                .with_user("alice")
                .with_connection(7),
            Event::new(at(10), EventKind::SessionDisconnected, Outcome::Info)
                .with_peer("198.51.100.3:50001".parse().unwrap())
                .with_user("alice")
                .with_connection(7),
        ] {
            store.append_event(&ev).unwrap();
        }
    }
    let out = env.run(&["audit", "export", "--format", "cef"], None);
    assert_ok(&out);
    let cef = stdout(&out);
    assert_eq!(cef.lines().count(), 7);
    assert!(cef.lines().all(|l| l.starts_with("CEF:0|Rampart|rampart|")), "{cef}");
    assert!(cef.contains("|auth_failed|auth failed|6|") && cef.contains("src=203.0.113.7 spt=50000 suser=admin"), "{cef}");
    let out = env.run(&["audit", "export", "--format", "jsonl", "--source", "198.51.100.0/24", "--since", "45m"], None);
    assert_ok(&out);
    assert_eq!(stdout(&out).lines().count(), 2, "{}", stdout(&out));
    assert_error(&env.run(&["audit", "export", "--format", "text"], None), "error: export formats are jsonl and cef; `rampart audit search` prints text");

    let out = env.run(&["audit", "report", "--since", "24h"], None);
    assert_ok(&out);
    let report = stdout(&out);
    eprintln!("rampart audit report --since 24h:\n{report}");
    for part in [
        "(7 events)",
        "logons 0, failed logons 3, refused connections 0, admin changes 1",
        "Top failing sources:\n       2  203.0.113.7\n       1  198.51.100.3\n",
        "source_banned 203.0.113.7 (203.0.113.7/32 banned for 15 min (ban #1))",
        "alice            1 connection (1 new), total 30m 00s, longest 30m 00s",
        "Second-factor failures:\n       1  alice",
    ] {
        assert!(report.contains(part), "{part:?} missing in:\n{report}");
    }
    let out = env.run(&["audit", "report", "--since", "5m"], None);
    assert!(stdout(&out).contains("(1 event)\n  logons 0, failed logons 0,"), "only alice's user_added: {}", stdout(&out));

    // tail: the newest lines, then follow a write by another process.
    let out = env.run(&["audit", "tail", "-n", "2"], None);
    assert_ok(&out);
    let lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with("#6 ") && lines[0].contains(" session_started success 198.51.100.3:50001 user=alice conn=7"), "{lines:?}");
    let mut follow = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["audit", "tail", "-f", "-n", "0", "--format", "jsonl", "--config"])
        .arg(env.config())
        .arg("--state-dir")
        .arg(env.state_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = follow.id();
    let stdout_pipe = follow.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout_pipe).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(700));
    assert_ok(&env.run(&["ban", "add", "192.0.2.44"], None));
    let line = rx.recv_timeout(std::time::Duration::from_secs(10));
    // End the follower we started, by its PID, whatever happened.
    let _ = Command::new("kill").arg(pid.to_string()).status();
    let _ = follow.wait();
    let line = line.expect("tail -f printed nothing within 10 s of a new event");
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!((v["kind"].as_str(), v["seq"].as_i64()), (Some("ban_added"), Some(8)), "{line}");
}
