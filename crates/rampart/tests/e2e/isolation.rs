//! Issue 9: what another local account can reach. A session display admits only clients
//! that hold its cookie, with the default layout (root-only state directory, session files
//! under the runtime directory), checked from `nobody` and from a second ordinary account.

use std::process::Command;
use std::time::Duration;

use crate::account::{ensure_other_user, shared_tempdir, UNIX_USER};
use crate::exclusive;
use crate::mfa::{desktop_shown, expect_screen, open_at_prompt_as, submit_as, DESKTOP};
use crate::process::{poll, require_tool, run_bounded};
use crate::server::{Config, Server, PASSWORD};

/// Runs `sh -c script` as `user` (via runuser, bounded); returns (success, output).
fn run_as(user: &str, script: &str) -> (bool, String) {
    let (status, out, err) = run_bounded(
        "runuser",
        Command::new("runuser").args(["-u", user, "--", "/bin/sh", "-c", script]),
        Duration::from_secs(20),
    );
    (status.map(|s| s.success()).unwrap_or(false), format!("{out}{err}"))
}

/// The display number of the session the server started for `user` (from its audit record).
fn session_display(server: &Server, user: &str) -> u32 {
    let ev = server.expect_event(&format!("session_started for {user}"), |e| {
        e.is("session_started") && e.user == user
    });
    ev.reason
        .split_whitespace()
        .find_map(|w| w.strip_prefix(':').and_then(|n| n.parse().ok()))
        .unwrap_or_else(|| panic!("no display number in {:?}", ev.reason))
}

#[test]
fn session_display_admits_only_its_owner() {
    let _turn = exclusive();
    require_tool("xdpyinfo", "x11-utils");
    require_tool("runuser", "util-linux");
    let other = ensure_other_user();
    let shared = shared_tempdir();
    let own = shared.path().join("own-xdpyinfo.txt");
    // Defaults a user gets: two-step verification on, the state directory root-only.
    let mut server = Server::new(&Config {
        default_command: format!(
            "xsetroot -solid '{DESKTOP}'; xdpyinfo > {} 2>&1; exec sleep 600",
            own.display()
        ),
        mfa_required: true,
        ..Config::default()
    });
    let enrollment = server.add_user_with_mfa("alice", PASSWORD);
    server.start();
    let state = std::fs::metadata(server.state_dir()).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&state.permissions()) & 0o777,
        0o700,
        "the test must run with the real root-only state directory"
    );

    let (mut session, _) = open_at_prompt_as(&server, "alice", (1920, 1080), &[], "prompt at 1920x1080");
    submit_as(&session, &server, "alice", &enrollment.oathtool_code());
    expect_screen(&mut session, &server, 30, "desktop at 1920x1080", desktop_shown);
    let display = session_display(&server, "alice");

    // The session's own programs reach their display with the cookie they were given.
    let own_text = poll(Duration::from_secs(15), Duration::from_millis(200), || {
        std::fs::read_to_string(&own).ok().filter(|t| t.contains("dimensions:"))
    });
    assert!(
        own_text.is_some(),
        "the session's own xdpyinfo did not reach its display: {:?}",
        std::fs::read_to_string(&own)
    );

    // Nobody else does: no cookie, no connection, from any account, root included.
    let probe = format!("XAUTHORITY=/dev/null DISPLAY=:{display} xdpyinfo");
    for user in ["nobody", other, "root"] {
        let (ok, out) = run_as(user, &probe);
        assert!(
            !ok && out.contains("unable to open display"),
            "{user} reached alice's display :{display} without its cookie:\n{out}"
        );
    }
    // And no one else can find or read the cookie.
    let sessions = server.runtime_dir().join("sessions");
    for user in ["nobody", other] {
        let (ok, out) = run_as(user, &format!("ls {}", sessions.display()));
        assert!(!ok, "{user} can list the session directories:\n{out}");
        let (ok, out) = run_as(user, &format!("cat {}/*/Xauthority", sessions.display()));
        assert!(!ok, "{user} can read a session cookie:\n{out}");
    }
    // The session user is the owner of its files, not a bystander.
    let (ok, out) = run_as(UNIX_USER, &format!("DISPLAY=:{display} xdpyinfo >/dev/null 2>&1; echo $?"));
    assert!(ok && out.trim() == "1", "the session user without XAUTHORITY got in: {out}");

    drop(session);
    server.stop_and_check();
}

#[test]
fn serve_refuses_a_runtime_dir_its_users_cannot_reach() {
    let _turn = exclusive();
    let root_only = tempfile::tempdir().unwrap();
    std::fs::set_permissions(root_only.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let runtime = root_only.path().join("run");
    let server = Server::new(&Config {
        extra_toml: String::new(),
        ..Config::default()
    });
    let own = format!("runtime_dir = \"{}\"\n", server.runtime_dir().display());
    let config = std::fs::read_to_string(server.config_path()).unwrap();
    assert!(config.contains(&own), "{config}");
    let config = config.replace(&own, &format!("runtime_dir = \"{}\"\n", runtime.display()));
    std::fs::write(server.config_path(), config).unwrap();
    let (ok, out) = server.cli(&["serve", "--listen", "127.0.0.1:0"], None);
    assert!(!ok, "serve started with session files below a root-only directory:\n{out}");
    assert!(
        out.contains("not be private") && out.contains(&root_only.path().display().to_string()),
        "serve's refusal does not say why or where:\n{out}"
    );
}

/// The worker processes (`rampart worker`) the server started.
fn workers_of(server: &Server) -> Vec<u32> {
    crate::proctree::tree(server.pid())
        .into_iter()
        .map(|(pid, _)| pid)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| c.split(|b| *b == 0).any(|arg| arg == b"worker"))
                .unwrap_or(false)
        })
        .collect()
}

/// One field of /proc/PID/status.
fn status_field(pid: u32, field: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_owned())
        .unwrap_or_default()
}

fn session_id(pid: u32) -> String {
    // Field 6 of /proc/PID/stat, after the command name in parentheses.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(3).map(str::to_owned))
        .unwrap_or_default()
}

/// Two live connections have two workers, each confined before it read a byte: its own
/// uid (not root, not an account), no groups, no_new_privs, seccomp, not dumpable, its own
/// session, an empty root, low limits; neither can signal the other.
#[test]
fn each_worker_is_confined_apart() {
    let _turn = exclusive();
    require_tool("setpriv", "util-linux");
    let mut server = Server::new(&Config {
        default_command: format!("xsetroot -solid '{DESKTOP}'; exec sleep 600"),
        ..Config::default()
    });
    server.add_user("alice", PASSWORD);
    server.add_user("bob", PASSWORD);
    server.start();
    let alice = crate::client::Session::start(server.port, "alice", PASSWORD, (800, 600), Duration::from_secs(30));
    let bob = crate::client::Session::start(server.port, "bob", PASSWORD, (800, 600), Duration::from_secs(30));
    let workers = poll(Duration::from_secs(15), Duration::from_millis(200), || {
        let w = workers_of(&server);
        (w.len() == 2).then_some(w)
    })
    .unwrap_or_else(|| panic!("not two workers: {:?}", workers_of(&server)));
    let supervisor_sid = session_id(server.pid());
    let mut uids = Vec::new();
    for &pid in &workers {
        let uid: Vec<u32> = status_field(pid, "Uid").split_whitespace().filter_map(|v| v.parse().ok()).collect();
        assert!(uid.len() == 4 && uid.iter().all(|u| *u == uid[0]), "worker {pid} uids {uid:?}");
        assert!(uid[0] >= 2_000_000_000, "worker {pid} runs as uid {}, not from the worker range", uid[0]);
        let gid: Vec<u32> = status_field(pid, "Gid").split_whitespace().filter_map(|v| v.parse().ok()).collect();
        assert_eq!(gid, vec![uid[0]; 4], "worker {pid} gids");
        assert_eq!(status_field(pid, "Groups"), "", "worker {pid} has supplementary groups");
        assert_eq!(status_field(pid, "Seccomp"), "2", "worker {pid} has no seccomp filter");
        assert_eq!(status_field(pid, "NoNewPrivs"), "1", "worker {pid} may gain privileges");
        // Not dumpable: the kernel hands its /proc files to root.
        let environ = std::fs::metadata(format!("/proc/{pid}/environ")).unwrap();
        assert_eq!(std::os::unix::fs::MetadataExt::uid(&environ), 0, "worker {pid} is dumpable");
        assert_ne!(session_id(pid), supervisor_sid, "worker {pid} shares the supervisor's session");
        assert_eq!(session_id(pid), pid.to_string(), "worker {pid} does not lead its own session");
        let root = std::fs::read_link(format!("/proc/{pid}/root")).unwrap();
        assert!(root.ends_with("jail"), "worker {pid} is not chrooted: root {}", root.display());
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0, "the workers' root is not empty");
        let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
        let limit = |name: &str| {
            limits
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l[name.len()..].split_whitespace().next().map(str::to_owned))
                .unwrap_or_default()
        };
        assert_eq!(limit("Max core file size"), "0", "{limits}");
        assert_eq!(limit("Max open files"), "64", "{limits}");
        assert_eq!(limit("Max processes"), "48", "{limits}");
        uids.push(uid[0]);
    }
    assert_ne!(uids[0], uids[1], "two connections share one worker uid");
    // A compromised worker is code running as its uid: it cannot signal the other worker,
    // though it can signal itself (the control that shows the probe works).
    let as_worker = |uid: u32, target: u32| {
        let (status, out, err) = run_bounded(
            "setpriv",
            Command::new("setpriv")
                .args([&format!("--reuid={uid}"), &format!("--regid={uid}"), "--clear-groups", "kill", "-0"])
                .arg(target.to_string()),
            Duration::from_secs(10),
        );
        (status.map(|s| s.success()).unwrap_or(false), format!("{out}{err}"))
    };
    let (ok, out) = as_worker(uids[0], workers[1]);
    assert!(!ok && out.contains("not permitted"), "worker uid {} signalled the other worker: {out}", uids[0]);
    let (ok, out) = as_worker(uids[0], workers[0]);
    assert!(ok, "the control failed: uid {} cannot signal its own worker: {out}", uids[0]);
    drop(alice);
    drop(bob);
    server.stop_and_check();
}
