//! Issue 9: a desktop session is a real login of its Unix account, as sshd or a display
//! manager makes one. Inside a session: a session id of its own, the account's
//! supplementary groups, a PAM limit from `limits.d`, and a wtmp record that `last` shows
//! (and closes when the session ends). An expired account, a locked one and a mapping to
//! root get no desktop, audited with the reason. Shadow mode is for the display's owner.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::account::{admin, ensure_account, ensure_other_user, id_of, shared_tempdir, UNIX_USER};
use crate::client::{refused_session, Session};
use crate::exclusive;
use crate::process::{poll, require_tool, run_bounded, tail, Guarded};
use crate::server::{Config, Server, PASSWORD};

/// The account the login test maps to: its own, so the group and limit set here touch no
/// other test.
const LOGIN_USER: &str = "rampart-e2e-login";
/// A supplementary group of [`LOGIN_USER`], made here.
const GROUP: &str = "rampart-e2e-grp";
/// An account whose expiry date has passed (`chage -E 0`).
const EXPIRED_USER: &str = "rampart-e2e-expired";
/// An account locked with `usermod -L` (its password field `*` becomes `!*`).
const LOCKED_USER: &str = "rampart-e2e-locked";
const LIMITS_FILE: &str = "/etc/security/limits.d/rampart-e2e.conf";
/// An open-files limit no default has.
const NOFILE: &str = "4321";
const SIZE: (u32, u32) = (800, 600);

/// A file the test writes outside its own directories, removed when the test ends.
struct Written(PathBuf);

impl Written {
    fn new(path: &str, text: &str) -> Written {
        std::fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {path}: {e}"));
        Written(PathBuf::from(path))
    }
}

impl Drop for Written {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// One utmp/wtmp record as `utmpdump` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    kind: u32,
    pid: u32,
    user: String,
    line: String,
    host: String,
}

/// Every record in /var/log/wtmp, oldest first.
fn wtmp() -> Vec<Record> {
    require_tool("utmpdump", "util-linux");
    let (status, out, err) = run_bounded(
        "utmpdump",
        Command::new("utmpdump").arg("/var/log/wtmp"),
        Duration::from_secs(20),
    );
    assert!(status.map(|s| s.success()).unwrap_or(false), "utmpdump /var/log/wtmp: {err}");
    out.lines()
        .filter_map(|line| {
            // [7] [18399] [:2  ] [user] [:2    ] [127.0.0.1   ] [127.0.0.1 ] [time]
            let fields: Vec<&str> = line
                .trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split("] [")
                .map(str::trim)
                .collect();
            (fields.len() == 8).then(|| Record {
                kind: fields[0].parse().unwrap_or(0),
                pid: fields[1].parse().unwrap_or(0),
                user: fields[3].to_owned(),
                line: fields[4].to_owned(),
                host: fields[5].to_owned(),
            })
        })
        .collect()
}

/// The display number of `user`'s session, from its `session_started` audit record.
fn session_display(server: &Server, user: &str) -> String {
    let ev = server.expect_event(&format!("session_started for {user}"), |e| {
        e.is("session_started") && e.user == user
    });
    ev.reason
        .split_whitespace()
        .find(|w| w.starts_with(':'))
        .unwrap_or_else(|| panic!("no display in {:?}", ev.reason))
        .to_owned()
}

/// The session id of process `pid` (field 6 of /proc/PID/stat).
fn session_id(pid: u32) -> String {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    stat.rsplit(')').next().unwrap().split_whitespace().nth(3).unwrap().to_owned()
}

/// `key value` lines into a lookup.
fn field<'a>(facts: &'a str, key: &str) -> &'a str {
    facts
        .lines()
        .find_map(|l| l.strip_prefix(key).and_then(|rest| rest.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no {key:?} in the session's facts:\n{facts}"))
        .trim()
}

#[test]
fn a_session_is_a_login_of_its_account() {
    let _turn = exclusive();
    require_tool("last", "util-linux");
    require_tool("ps", "procps");
    require_tool("groupadd", "passwd");
    require_tool("xsetroot", "x11-xserver-utils");
    ensure_account(LOGIN_USER);
    admin("groupadd", &["-f", GROUP]);
    admin("usermod", &["-aG", GROUP, LOGIN_USER]);
    let _limits = Written::new(LIMITS_FILE, &format!("{LOGIN_USER} - nofile {NOFILE}\n"));
    let shared = shared_tempdir();
    let facts_path = shared.path().join("facts.txt");
    let facts_tmp = shared.path().join("facts.tmp");
    let before = wtmp().len();

    // The session writes what a login gives it, then stays.
    let mut server = Server::new(&Config {
        default_command: format!(
            "{{ echo \"pid $$\"; echo \"sid $(ps -o sid= -p $$)\"; echo \"tty $(ps -o tty= -p $$)\"; \
             echo \"groups $(id -G)\"; echo \"nofile $(ulimit -n)\"; }} > {tmp}; mv {tmp} {out}; \
             xsetroot -solid '#3366cc'; exec sleep 600",
            tmp = facts_tmp.display(),
            out = facts_path.display()
        ),
        ..Config::default()
    });
    server.add_user_as("alice", PASSWORD, LOGIN_USER);
    server.start();
    let session = Session::start(server.port, "alice", PASSWORD, SIZE, Duration::from_secs(30));
    let facts = poll(Duration::from_secs(20), Duration::from_millis(200), || {
        std::fs::read_to_string(&facts_path).ok()
    })
    .unwrap_or_else(|| {
        panic!(
            "the session wrote no facts within 20 s; client log:\n{}\nserver output:\n{}",
            tail(&session.log_text(), 15),
            server.log_tail()
        )
    });
    let display = session_display(&server, "alice");

    // Its own session: it leads it, it is not the server's, and there is no terminal.
    let pid = field(&facts, "pid");
    assert_eq!(field(&facts, "sid"), pid, "the session command does not lead its own session:\n{facts}");
    assert_ne!(session_id(server.pid()), pid, "the session shares the server's session");
    assert_eq!(field(&facts, "tty"), "?", "the session has a controlling terminal:\n{facts}");
    // The account's supplementary groups (initgroups), not root's and not none.
    let gid = id_of("group", GROUP).to_string();
    let groups: Vec<&str> = field(&facts, "groups").split_whitespace().collect();
    assert!(groups.contains(&gid.as_str()), "{GROUP} ({gid}) missing from the session's groups:\n{facts}");
    assert!(!groups.contains(&"0"), "the session has root's group:\n{facts}");
    // pam_limits read limits.d for this account.
    assert_eq!(field(&facts, "nofile"), NOFILE, "the limit from {LIMITS_FILE} did not apply:\n{facts}");

    // wtmp: the login, on the display, from the client's address; `last` shows it.
    let logins: Vec<Record> = wtmp()[before..]
        .iter()
        .filter(|r| r.kind == 7 && r.user == LOGIN_USER && r.line == display)
        .cloned()
        .collect();
    assert_eq!(logins.len(), 1, "want one wtmp login record on {display}; new records: {:?}", &wtmp()[before..]);
    let login = &logins[0];
    assert_eq!(login.host, "127.0.0.1", "{login:?}");
    let (status, last, err) = run_bounded(
        "last",
        Command::new("last").args(["-w", LOGIN_USER]),
        Duration::from_secs(20),
    );
    assert!(status.map(|s| s.success()).unwrap_or(false), "last: {err}");
    assert!(
        last.lines().any(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.first() == Some(&LOGIN_USER) && w.get(1) == Some(&display.as_str()) && w.get(2) == Some(&"127.0.0.1") && l.contains("still logged in")
        }),
        "`last -w {LOGIN_USER}` does not show the login on {display} from 127.0.0.1:\n{last}"
    );

    // The end of the session is recorded too: a logout record for the same line and pid.
    drop(session);
    server.stop_and_check();
    let logouts = wtmp()[before..]
        .iter()
        .filter(|r| r.kind == 8 && r.line == display && r.pid == login.pid)
        .count();
    assert_eq!(logouts, 1, "no wtmp logout record for {display}; new records: {:?}", &wtmp()[before..]);
}

#[test]
fn accounts_that_may_not_log_in_get_no_desktop() {
    let _turn = exclusive();
    ensure_account(EXPIRED_USER);
    admin("chage", &["-E", "0", EXPIRED_USER]);
    ensure_account(LOCKED_USER);
    admin("usermod", &["-p", "*", LOCKED_USER]);
    admin("usermod", &["-L", LOCKED_USER]);
    let before = wtmp().len();
    let mut server = Server::new(&Config::default());
    server.add_user_as("eve", PASSWORD, EXPIRED_USER);
    server.add_user_as("lou", PASSWORD, LOCKED_USER);
    server.add_user_as("rooty", PASSWORD, "root");
    server.start();
    for (user, reason) in [
        ("eve", "unix account expired"),
        ("lou", "unix account locked"),
        ("rooty", "unix account is root (uid 0) and [session] allow_root is off"),
    ] {
        let attempt = refused_session(server.port, user, PASSWORD, Duration::from_secs(30));
        assert!(
            attempt.exited,
            "{user}'s client was not disconnected within 30 s; client log:\n{}\nserver output:\n{}",
            tail(&attempt.log, 15),
            server.log_tail()
        );
        let ev = server.expect_event(&format!("session_refused for {user}"), |e| {
            e.is("session_refused") && e.user == user
        });
        assert_eq!(ev.reason, reason, "{user}'s refusal");
        assert_eq!(ev.outcome, "failure");
        // NLA itself succeeded: the refusal is about the Unix account, not the password.
        server.expect_event(&format!("auth_succeeded for {user}"), |e| {
            e.is("auth_succeeded") && e.user == user
        });
    }
    let events = server.events();
    assert!(
        !events.iter().any(|e| e.is("session_started") || e.is("session_resumed")),
        "a refused account got a desktop:\n{}",
        crate::audit::describe(&events)
    );
    // Nothing ran as the refused accounts, and they left no login record.
    for account in [EXPIRED_USER, LOCKED_USER] {
        let uid = id_of("passwd", account);
        let ran: Vec<u32> = std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| std::fs::metadata(format!("/proc/{pid}")).map(|m| std::os::unix::fs::MetadataExt::uid(&m) == uid).unwrap_or(false))
            .collect();
        assert!(ran.is_empty(), "processes run as {account}: {ran:?}");
    }
    assert!(
        !wtmp()[before..].iter().any(|r| [EXPIRED_USER, LOCKED_USER, "root"].contains(&r.user.as_str())),
        "a refused login was recorded in wtmp: {:?}",
        &wtmp()[before..]
    );
    server.stop_and_check();
}

/// An X display the account `owner` runs (as a console login would), with a cookie in
/// `dir/Xauthority` (a wildcard entry, which libXau and x11rb match for any local display).
fn display_of(owner: &str, dir: &Path) -> (Guarded, String, PathBuf) {
    require_tool("Xvfb", "xvfb");
    require_tool("setpriv", "util-linux");
    let (uid, gid) = (id_of("passwd", owner), id_of("group", owner));
    let auth = dir.join("Xauthority");
    let mut entry = vec![0xFF, 0xFF, 0, 0, 0, 0, 0, 18];
    entry.extend_from_slice(b"MIT-MAGIC-COOKIE-1");
    entry.extend_from_slice(&[0, 16]);
    entry.extend_from_slice(&rand_cookie());
    std::fs::write(&auth, entry).unwrap();
    std::os::unix::fs::chown(&auth, Some(uid), Some(gid)).unwrap();
    std::fs::set_permissions(&auth, std::fs::Permissions::from_mode(0o600)).unwrap();
    let number_file = dir.join("displayfd");
    let mut cmd = Command::new("setpriv");
    cmd.args([
        &format!("--reuid={uid}"),
        &format!("--regid={gid}"),
        "--clear-groups",
        "--",
        "Xvfb",
        "-displayfd",
        "1",
        "-nolisten",
        "tcp",
        "-noreset",
        "-screen",
        "0",
        "800x600x24",
        "-auth",
    ])
    .arg(&auth)
    .stdout(std::fs::File::create(&number_file).unwrap())
    .stderr(std::fs::File::create(dir.join("xvfb.log")).unwrap());
    let mut xvfb = Guarded::spawn_with("Xvfb (shadowed)", &mut cmd, &dir.join("xvfb.log"));
    let number = poll(Duration::from_secs(10), Duration::from_millis(50), || {
        let text = std::fs::read_to_string(&number_file).unwrap_or_default();
        (text.ends_with('\n') || !xvfb.is_running()).then(|| text.trim().to_owned())
    })
    .filter(|n| !n.is_empty())
    .unwrap_or_else(|| panic!("the shadowed Xvfb did not start:\n{}", xvfb.log_text()));
    (xvfb, format!(":{number}"), auth)
}

/// 16 unpredictable bytes: the hex digits of a kernel-made random UUID.
fn rand_cookie() -> [u8; 16] {
    let mut cookie = [0u8; 16];
    let bytes = std::fs::read("/proc/sys/kernel/random/uuid").unwrap();
    for (c, b) in cookie.iter_mut().zip(bytes.iter().filter(|b| b.is_ascii_hexdigit())) {
        *c = *b;
    }
    cookie
}

#[test]
fn shadow_mode_is_for_the_displays_owner() {
    let _turn = exclusive();
    let other = ensure_other_user();
    let owner = crate::account::ensure_unix_user();
    let dir = shared_tempdir();
    let (_xvfb, display, auth) = display_of(owner, dir.path());
    let mut server = Server::new(&Config {
        extra_toml: format!("[shadow]\ndisplay = \"{display}\"\n"),
        ..Config::default()
    });
    server.set_env("XAUTHORITY", &auth.display().to_string());
    server.add_user_as("alice", PASSWORD, UNIX_USER);
    server.add_user_as("bob", PASSWORD, other);
    server.start();

    // The owner's user watches it.
    let alice = Session::start(server.port, "alice", PASSWORD, SIZE, Duration::from_secs(30));
    let ev = server.expect_event("session_started for alice", |e| e.is("session_started") && e.user == "alice");
    assert!(ev.reason.contains(&format!("shadowing {display}")), "{ev:?}");
    drop(alice);

    // Another account's user does not get the display (nor its cookie).
    let attempt = refused_session(server.port, "bob", PASSWORD, Duration::from_secs(30));
    assert!(attempt.exited, "bob was not disconnected:\n{}", tail(&attempt.log, 15));
    let ev = server.expect_event("session_refused for bob", |e| e.is("session_refused") && e.user == "bob");
    server.expect_found("session_refused", Some("127.0.0.1"), Some("bob"));
    assert!(
        ev.reason.contains(&format!("is not the owner of display {display}")) && ev.reason.contains("[shadow] users"),
        "{ev:?}"
    );
    assert!(
        !server.events().iter().any(|e| e.is("session_started") && e.user == "bob"),
        "bob got the shared display"
    );
    server.stop_and_check();
}
