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
    for user in ["nobody", other] {
        let (ok, out) = run_as(user, "ls /run/rampart/sessions");
        assert!(!ok, "{user} can list the session directories:\n{out}");
        let (ok, out) = run_as(user, "cat /run/rampart/sessions/*/Xauthority");
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
    let config = std::fs::read_to_string(server.config_path()).unwrap().replace(
        "[session]\n",
        &format!("[session]\nruntime_dir = \"{}\"\n", runtime.display()),
    );
    assert!(config.contains("runtime_dir"), "{config}");
    std::fs::write(server.config_path(), config).unwrap();
    let (ok, out) = server.cli(&["serve", "--listen", "127.0.0.1:0"], None);
    assert!(!ok, "serve started with session files below a root-only directory:\n{out}");
    assert!(
        out.contains("not be private") && out.contains(&root_only.path().display().to_string()),
        "serve's refusal does not say why or where:\n{out}"
    );
}
