//! NLA logins with `xfreerdp +auth-only`: right password, wrong password, unknown
//! user, and the security layers the server must refuse.

use std::time::Duration;

use crate::audit;
use crate::client::auth_only;
use crate::exclusive;
use crate::server::{Config, Server, PASSWORD};

const LIMIT: Duration = Duration::from_secs(30);

fn server_with(users: &[&str]) -> Server {
    let mut server = Server::new(&Config::default());
    for user in users {
        server.add_user(user, PASSWORD);
    }
    server.start();
    server
}

#[test]
fn nla_login_ok() {
    let _turn = exclusive();
    let mut server = server_with(&["alice"]);
    let attempt = auth_only(server.port, "alice", PASSWORD, "nla", LIMIT);
    assert!(
        attempt.succeeded(),
        "NLA login for alice failed: {}\nserver output:\n{}",
        attempt.summary(),
        server.log_tail()
    );
    server.expect_event("auth_succeeded for alice", |e| {
        e.is("auth_succeeded") && e.user == "alice"
    });
    // The same events through `rampart audit search`, with the client's address.
    server.expect_found("connection_accepted", Some("127.0.0.1"), None);
    server.expect_found("auth_succeeded", Some("127.0.0.1"), Some("alice"));
    server.expect_found("connection_closed", Some("127.0.0.1"), Some("alice"));
    server.stop_and_check();
}

fn refused_with_reason(user: &str, password: &str, reason: &str) {
    let _turn = exclusive();
    let mut server = server_with(&["alice"]);
    let attempt = auth_only(server.port, user, password, "nla", LIMIT);
    assert!(
        attempt.code.is_some() && attempt.code != Some(0) && !attempt.succeeded(),
        "login as {user} with a bad credential was not refused: {}",
        attempt.summary()
    );
    let event = server.expect_event(&format!("auth_failed for {user}"), |e| e.is("auth_failed"));
    assert_eq!(
        event.reason,
        reason,
        "auth_failed has the wrong reason; events:\n{}",
        audit::describe(&server.events())
    );
    assert!(
        !server.events().iter().any(|e| e.is("auth_succeeded")),
        "a bad credential produced auth_succeeded:\n{}",
        audit::describe(&server.events())
    );
    let found = server.expect_found("auth_failed", Some("127.0.0.1"), Some(user));
    assert_eq!(found["reason"], reason);
    assert_eq!(found["windows_event_id"], 4625);
    assert_eq!(server.search_trail(&["--kind", "failed-logon", "--user", user]).len(), 1);
    assert!(
        server.is_running(),
        "server died after a refused login:\n{}",
        server.log_tail()
    );
    server.stop_and_check();
}

#[test]
fn wrong_password_refused() {
    refused_with_reason("alice", "Wrong-Horse-Battery-43?", "wrong password");
}

#[test]
fn unknown_user_refused() {
    refused_with_reason("mallory", PASSWORD, "unknown user");
}

#[test]
fn tls_and_rdp_security_refused() {
    let _turn = exclusive();
    let mut server = server_with(&["alice"]);
    for sec in ["tls", "rdp"] {
        let attempt = auth_only(server.port, "alice", PASSWORD, sec, LIMIT);
        assert!(
            attempt.code.is_some() && attempt.code != Some(0) && !attempt.succeeded(),
            "/sec:{sec} was not refused: {}",
            attempt.summary()
        );
        assert!(
            server.is_running(),
            "server died after /sec:{sec}:\n{}",
            server.log_tail()
        );
    }
    server.expect_event("negotiation_refused", |e| e.is("negotiation_refused"));
    server.expect_found("negotiation_refused", Some("127.0.0.1"), None);
    let attempt = auth_only(server.port, "alice", PASSWORD, "nla", LIMIT);
    assert!(
        attempt.succeeded(),
        "NLA login after the refused /sec:tls and /sec:rdp attempts failed: {}\nserver output:\n{}",
        attempt.summary(),
        server.log_tail()
    );
    server.stop_and_check();
}

/// `rampart user lock` and password expiry reach a running server at the next login:
/// refused like a wrong password (no oracle), with the real reason in the audit trail.
#[test]
fn locked_and_expired_accounts_refused() {
    let _turn = exclusive();
    let mut server = Server::new(&Config {
        // Its own [auth] table, password-only logins included.
        extra_toml: "[auth]\nmfa = \"optional\"\nmax_password_age_days = 30\n".to_owned(),
        mfa_required: true,
        ..Config::default()
    });
    server.add_user("alice", PASSWORD);
    server.add_user("bob", PASSWORD);
    server.start();
    let refused = |user: &str, password: &str, reason: &str| {
        let before = server.events().iter().filter(|e| e.is("auth_failed")).count();
        let attempt = auth_only(server.port, user, password, "nla", LIMIT);
        assert!(!attempt.succeeded(), "{user} logged in: {}", attempt.summary());
        let events = server.events();
        let failed: Vec<_> = events.iter().filter(|e| e.is("auth_failed")).collect();
        assert_eq!(failed.len(), before + 1, "events:\n{}", audit::describe(&events));
        assert_eq!(failed.last().unwrap().reason, reason, "events:\n{}", audit::describe(&events));
        // Wait out the (user, source) back-off the failure started (1 s after one failure).
        std::thread::sleep(Duration::from_secs(2));
    };
    let accepted = |user: &str, password: &str| {
        let attempt = auth_only(server.port, user, password, "nla", LIMIT);
        assert!(attempt.succeeded(), "{user} refused: {}\n{}", attempt.summary(), server.log_tail());
    };

    let (ok, out) = server.cli(&["user", "lock", "alice"], None);
    assert!(ok, "user lock failed: {out}");
    refused("alice", PASSWORD, "account locked");
    let (ok, out) = server.cli(&["user", "unlock", "alice"], None);
    assert!(ok, "user unlock failed: {out}");
    accepted("alice", PASSWORD);

    // Age bob's password past 30 days, as if it had been set 31 days ago.
    let (status, out, err) = crate::process::run_bounded(
        "sqlite3",
        // The server writes events as this runs (the last connection closing): wait for its lock.
        std::process::Command::new("sqlite3").args(["-cmd", ".timeout 10000"]).arg(server.db_path()).arg(
            "UPDATE users SET password_changed = password_changed - 31 * 86400000 WHERE name = 'bob';",
        ),
        Duration::from_secs(10),
    );
    assert!(status.map(|s| s.success()).unwrap_or(false), "sqlite3: {out}{err}");
    refused("bob", PASSWORD, "password expired");
    let renewed = "Fresh-Staple-Orbit-77?";
    let (ok, out) = server.cli(&["user", "passwd", "bob", "--password-stdin"], Some(renewed));
    assert!(ok, "user passwd failed: {out}");
    accepted("bob", renewed);
    server.stop_and_check();
}
