//! The tamper-evident audit trail against the real server: a `kill -9` in the middle of a
//! burst of failed logins loses no failure a client was told about (and the chain still
//! verifies, and each was forwarded to syslog); a failed audit write refuses or ends the
//! connection it records; and every event kind is looked for with `rampart audit search` in
//! some scenario of this suite or of the CLI tests.

use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::client::{auth_only, auth_only_on, AuthAttempt};
use crate::display::Xvfb;
use crate::exclusive;
use crate::process::{require_tool, run_bounded};
use crate::server::{Config, Server, PASSWORD};

/// Attempts in the burst, and how many run at once.
const BURST: usize = 20;
const PARALLEL: usize = 4;
/// The kill comes once this many failures were answered.
const KILL_AFTER: usize = 10;
const LIMIT: Duration = Duration::from_secs(30);

/// FreeRDP's name for the CredSSP logon failure the server answers a bad credential with.
fn told_logon_failure(a: &AuthAttempt) -> bool {
    a.code.is_some() && !a.succeeded() && a.log.contains("LOGON_FAILURE")
}

fn sqlite3(server: &Server, sql: &str) {
    require_tool("sqlite3", "sqlite3");
    let (status, out, err) = run_bounded(
        "sqlite3",
        std::process::Command::new("sqlite3")
            .args(["-cmd", ".timeout 10000"])
            .arg(server.db_path())
            .arg(sql),
        Duration::from_secs(20),
    );
    assert!(status.map(|s| s.success()).unwrap_or(false), "sqlite3 {sql}: {out}{err}");
}

fn verify(server: &Server) -> String {
    let (ok, out) = server.cli(&["audit", "verify"], None);
    assert!(ok, "`rampart audit verify` failed:\n{out}");
    out
}

#[test]
fn kill_9_during_a_failed_login_burst_loses_no_answered_failure() {
    let _turn = exclusive();
    // Forwarding goes to a datagram socket of our own, as it would to /dev/log.
    let sock_dir = tempfile::tempdir().unwrap();
    let sock_path = sock_dir.path().join("log.sock");
    let syslog = UnixDatagram::bind(&sock_path).unwrap();
    syslog.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    // Read as a syslog daemon does, all along (a datagram queue holds only a few).
    let datagrams: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let reading = AtomicBool::new(true);
    let mut server = Server::new(&Config {
        max_pending_per_ip: 8,
        // No ban in the way of the burst; forwarding on.
        extra_toml: format!(
            "[guard]\nmax_failures = 1000\n\n[audit]\nsyslog = true\nsyslog_socket = \"{}\"\n",
            sock_path.display()
        ),
        ..Config::default()
    });
    server.add_user("alice", PASSWORD);
    server.start();
    let port = server.port;

    // The burst: unknown users ghost00..ghost19 (distinct names: no per-user back-off).
    let x = Xvfb::start(640, 480);
    let next = AtomicUsize::new(0);
    let answered = AtomicUsize::new(0);
    let killed = AtomicBool::new(false);
    let results: Mutex<Vec<(String, AuthAttempt)>> = Mutex::new(Vec::new());
    let t0 = Instant::now();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut buf = vec![0u8; 8192];
            // Bounded by the burst: `reading` is cleared right after the kill.
            while reading.load(Ordering::SeqCst) {
                if let Ok(n) = syslog.recv(&mut buf) {
                    datagrams.lock().unwrap().push(String::from_utf8_lossy(&buf[..n]).into_owned());
                }
            }
        });
        for _ in 0..PARALLEL {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= BURST || killed.load(Ordering::SeqCst) {
                    break;
                }
                let user = format!("ghost{i:02}");
                let attempt = auth_only_on(&x, port, &user, PASSWORD, "nla", LIMIT);
                if told_logon_failure(&attempt) {
                    answered.fetch_add(1, Ordering::SeqCst);
                }
                results.lock().unwrap().push((user, attempt));
            });
        }
        // Bounded: every attempt is bounded by LIMIT, and so is this wait.
        let waited = crate::process::poll(Duration::from_secs(120), Duration::from_millis(20), || {
            (answered.load(Ordering::SeqCst) >= KILL_AFTER).then_some(())
        });
        assert!(waited.is_some(), "fewer than {KILL_AFTER} failures answered in 120 s:\n{}", server.log_tail());
        server.kill_9();
        killed.store(true, Ordering::SeqCst);
        reading.store(false, Ordering::SeqCst);
    });
    let results = results.into_inner().unwrap();
    let told: Vec<&String> = results.iter().filter(|(_, a)| told_logon_failure(a)).map(|(u, _)| u).collect();
    eprintln!(
        "burst: {} attempts in {:.1?}, {} answered with a logon failure; the rest ended by the kill",
        results.len(),
        t0.elapsed(),
        told.len()
    );
    assert!(told.len() >= KILL_AFTER, "{told:?}");

    // Forwarded as they were stored: one RFC 5424 datagram each.
    let datagrams = datagrams.into_inner().unwrap();

    // Restart on the same store: the trail is whole and every answered failure is in it.
    server.start();
    let out = verify(&server);
    assert!(out.starts_with("intact, "), "{out}");
    let failed = server.search_trail(&["--kind", "failed-logon", "--source", "127.0.0.1"]);
    for user in &told {
        let found = failed.iter().find(|e| e["user"] == user.as_str());
        let found = found.unwrap_or_else(|| {
            panic!(
                "{user} was told its logon failed before the kill, but the trail has no auth_failed for it:\n{}",
                crate::audit::describe(&server.events())
            )
        });
        assert_eq!(found["reason"], "unknown user");
        assert_eq!(found["peer_ip"], "127.0.0.1");
        let sent = datagrams.iter().find(|d| d.contains(&format!("user=\"{user}\"")));
        let sent = sent.unwrap_or_else(|| panic!("no syslog datagram for {user}; got:\n{}", datagrams.join("\n")));
        // <authpriv.warning>, version 1, structured data under the documentation PEN.
        assert!(sent.starts_with("<84>1 "), "{sent}");
        for part in ["rampart", "[rampart@32473 kind=\"auth_failed\" outcome=\"failure\"", "peer_ip=\"127.0.0.1\"", "windows_event_id=\"4625\""] {
            assert!(sent.contains(part), "{part} missing in {sent}");
        }
    }
    // The summary an admin reads after such a night.
    let (ok, report) = server.cli(&["audit", "report", "--since", "1h"], None);
    assert!(ok, "{report}");
    eprintln!("{report}");
    assert!(report.contains("Top failing sources:\n"), "{report}");
    let line = report
        .lines()
        .find(|l| l.trim_end().ends_with(" 127.0.0.1"))
        .unwrap_or_else(|| panic!("127.0.0.1 is not among the failing sources:\n{report}"));
    let count: usize = line.split_whitespace().next().unwrap().parse().unwrap();
    assert!(count >= told.len(), "{line}");
    server.stop_and_check();
}

/// Makes every write of `kind` events fail (a trigger, through the real sqlite3 CLI): the
/// server's insert is rolled back as it would be on a full disk or an I/O error.
fn fail_on(server: &Server, kind: &str) {
    sqlite3(
        server,
        &format!(
            "DROP TRIGGER IF EXISTS fail_writes; \
             CREATE TRIGGER fail_writes BEFORE INSERT ON events WHEN NEW.kind = '{kind}' \
             BEGIN SELECT RAISE(ABORT, 'injected audit write failure'); END;"
        ),
    )
}

#[test]
fn a_failed_audit_write_refuses_or_ends_the_connection() {
    let _turn = exclusive();
    let mut server = Server::new(&Config::default());
    server.add_user("alice", PASSWORD);
    server.start();

    // The connection cannot be put on record: refused before any TLS.
    fail_on(&server, "connection_accepted");
    let attempt = auth_only(server.port, "alice", PASSWORD, "nla", LIMIT);
    assert!(!attempt.succeeded(), "alice logged in with her connection off the record: {}", attempt.summary());
    assert!(server.log_text().contains("audit event not stored"), "{}", server.log_tail());
    assert!(!server.events().iter().any(|e| e.is("auth_succeeded") || e.is("connection_accepted")));

    // A failed logon cannot be put on record: the client is never answered.
    fail_on(&server, "auth_failed");
    let attempt = auth_only(server.port, "alice", "Wrong-Horse-Battery-43?", "nla", LIMIT);
    assert!(!attempt.succeeded());
    assert!(
        !attempt.log.contains("LOGON_FAILURE"),
        "the client was told of a failure that is not in the trail: {}",
        attempt.summary()
    );
    assert!(!server.events().iter().any(|e| e.is("auth_failed")));
    assert!(server.is_running(), "{}", server.log_tail());

    // A successful logon cannot be put on record: the worker waits for the record before it
    // goes on, so the connection ends and the client is not told it logged in.
    fail_on(&server, "auth_succeeded");
    let attempt = auth_only(server.port, "alice", PASSWORD, "nla", LIMIT);
    assert!(
        !attempt.succeeded(),
        "the client was told it logged in, but its auth_succeeded is not in the trail: {}",
        attempt.summary()
    );
    assert!(!server.events().iter().any(|e| e.is("auth_succeeded") || e.is("session_started")));

    // Writes work again: so do logins, and the trail is whole (failed writes left nothing).
    sqlite3(&server, "DROP TRIGGER fail_writes;");
    let attempt = auth_only(server.port, "alice", PASSWORD, "nla", LIMIT);
    assert!(attempt.succeeded(), "{}\n{}", attempt.summary(), server.log_tail());
    server.expect_found("auth_succeeded", Some("127.0.0.1"), Some("alice"));
    let out = verify(&server);
    assert!(out.starts_with("intact, "), "{out}");
    server.stop_and_check();
}

/// Each kind must be searched for (`expect_found("kind"`) in this suite, or in the CLI
/// tests (admin changes and retention have no server scenario): a new kind without a
/// scenario fails here.
#[test]
fn every_event_kind_is_searched_for_somewhere() {
    let e2e = [
        include_str!("login.rs"),
        include_str!("guard.rs"),
        include_str!("mfa.rs"),
        include_str!("desktop.rs"),
        include_str!("slowloris.rs"),
        include_str!("trail.rs"),
        include_str!("unix_login.rs"),
        include_str!("clipboard.rs"),
    ]
    .concat();
    let cli = include_str!("../cli.rs");
    let missing: Vec<&str> = rampart_audit::ALL_KINDS
        .iter()
        .map(|k| k.code())
        .filter(|code| {
            !e2e.contains(&format!("expect_found(\"{code}\""))
                && !cli.contains(&format!("(\"{code}\", "))
                && !cli.contains(&format!("\"--kind\", \"{code}\""))
        })
        .collect();
    assert!(missing.is_empty(), "event kinds no scenario searches for: {missing:?}");
}
