//! Issue 10, parts 3 and 4: the Prometheus endpoint (scraped with Python's urllib and parsed
//! with the official Prometheus client's parser, python3-prometheus-client), `rampart
//! status`, `rampart session list|end`, the idle and disconnected-session limits and
//! `rampart user lock --end-session`, all against the real server with real xfreerdp
//! clients. Two servers in all; every wait is bounded.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::client::{auth_only, Session};
use crate::exclusive;
use crate::process::{poll, run_bounded};
use crate::server::{Config, Server, PASSWORD};

/// The Debian Python (not a pyenv or venv one that lacks the package).
const PYTHON: &str = "/usr/bin/python3";

/// Fetches the endpoint with urllib (a real HTTP client) and parses it with
/// `prometheus_client.parser` (the reference parser of the text format); prints JSON.
const SCRAPE: &str = r#"
import json, sys, urllib.request
from prometheus_client.parser import text_string_to_metric_families
with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
    status, ctype, text = r.status, r.headers.get("Content-Type"), r.read().decode("utf-8")
families, samples = {}, []
for family in text_string_to_metric_families(text):
    families[family.name] = family.type
    for s in family.samples:
        samples.append([s.name, s.labels, s.value])
print(json.dumps({"status": status, "content_type": ctype, "families": families, "samples": samples}))
"#;

/// Connects from `source` (another loopback address) and reports whether the server
/// closed the connection without a byte (a refusal at accept).
const CONNECT_FROM: &str = r#"
import socket, sys
s = socket.socket()
s.settimeout(10)
s.bind((sys.argv[1], 0))
s.connect(("127.0.0.1", int(sys.argv[2])))
try:
    data = s.recv(1)
except ConnectionResetError:
    data = b""
print("closed" if data == b"" else "open")
"#;

fn python(label: &str, script: &str, args: &[&str]) -> String {
    assert!(
        std::path::Path::new(PYTHON).exists(),
        "{PYTHON} is missing: install the Debian packages python3 and python3-prometheus-client (.ci/run)"
    );
    let (status, out, err) = run_bounded(
        label,
        Command::new(PYTHON).arg("-c").arg(script).args(args),
        Duration::from_secs(30),
    );
    assert!(
        status.map(|s| s.success()).unwrap_or(false),
        "{label} failed ({status:?}); is python3-prometheus-client installed (.ci/run)?\n{out}{err}"
    );
    out
}

/// One scrape, parsed.
struct Scrape {
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
    families: BTreeMap<String, String>,
}

impl Scrape {
    fn take(server: &Server) -> Scrape {
        let url = format!("http://{}/metrics", server.metrics_addr());
        let out = python("scrape", SCRAPE, &[&url]);
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
        assert_eq!(v["status"], 200, "{out}");
        assert!(
            v["content_type"].as_str().is_some_and(|c| c.starts_with("text/plain; version=0.0.4")),
            "not the Prometheus text format: {out}"
        );
        let families = v["families"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, t)| (k.clone(), t.as_str().unwrap().to_owned()))
            .collect();
        let samples = v["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let labels = s[1]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                    .collect();
                (s[0].as_str().unwrap().to_owned(), labels, s[2].as_f64().unwrap())
            })
            .collect();
        Scrape { samples, families }
    }

    /// The value of the sample `name{labels}`; panics if there is none.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let want: BTreeMap<String, String> = labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        self.samples
            .iter()
            .find(|(n, l, _)| n == name && *l == want)
            .map(|(_, _, v)| *v)
            .unwrap_or_else(|| panic!("no sample {name}{want:?} among:\n{}", self.describe()))
    }

    fn describe(&self) -> String {
        self.samples
            .iter()
            .map(|(n, l, v)| format!("{n}{l:?} {v}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Scrapes until `check` holds (<= `limit`); returns the last scrape.
fn scrape_until(server: &Server, limit: Duration, what: &str, check: impl Fn(&Scrape) -> bool) -> Scrape {
    let started = Instant::now();
    loop {
        let scrape = Scrape::take(server);
        if check(&scrape) {
            return scrape;
        }
        assert!(
            started.elapsed() < limit,
            "metrics never showed {what} within {limit:?}:\n{}\nserver output:\n{}",
            scrape.describe(),
            server.log_tail()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// `rampart status --json`, parsed.
fn status_json(server: &Server) -> serde_json::Value {
    let (ok, out) = server.cli(&["status", "--json"], None);
    assert!(ok, "rampart status --json failed:\n{out}");
    let line = out.lines().find(|l| l.starts_with('{')).unwrap_or_else(|| panic!("no JSON in:\n{out}"));
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

fn display_of(event_reason: &str) -> String {
    event_reason
        .split_whitespace()
        .find(|w| w.starts_with(':'))
        .unwrap_or_else(|| panic!("no display in {event_reason:?}"))
        .trim_end_matches(';')
        .to_owned()
}

#[test]
fn metrics_match_a_scenario_and_status_shows_the_session_that_session_end_ends() {
    let _turn = exclusive();
    let mut server = Server::new(&Config {
        metrics: true,
        extra_toml: "[guard]\ndeny = [\"127.0.0.2\"]\n".to_owned(),
        ..Config::default()
    });
    server.add_user("alice", PASSWORD);
    server.start();

    // Before anything: every series is there, at zero, and typed.
    let zero = Scrape::take(&server);
    assert_eq!(zero.get("rampart_connections_accepted_total", &[]), 0.0);
    assert_eq!(zero.get("rampart_connections_refused_total", &[("reason", "denylist")]), 0.0);
    for (family, kind) in [
        ("rampart_connections_accepted", "counter"),
        ("rampart_nla", "counter"),
        ("rampart_handshake_seconds", "histogram"),
        ("rampart_login_seconds", "histogram"),
        ("rampart_sessions_active", "gauge"),
        ("rampart_bans_active", "gauge"),
        ("rampart_handshakes_pending", "gauge"),
        ("rampart_sent_bytes", "counter"),
        ("rampart_encode_seconds", "counter"),
    ] {
        assert_eq!(zero.families.get(family).map(String::as_str), Some(kind), "family {family}:\n{:?}", zero.families);
    }

    // The scenario: a wrong password, a right one (NLA only), a denied source, a ban made
    // with the CLI, then a real desktop.
    let limit = Duration::from_secs(30);
    let wrong = auth_only(server.port, "alice", "Wrong-Horse-Battery-43?", "nla", limit);
    assert!(!wrong.succeeded(), "a wrong password logged in: {}", wrong.summary());
    let right = auth_only(server.port, "alice", PASSWORD, "nla", limit);
    assert!(right.succeeded(), "NLA login failed: {}", right.summary());
    let port = server.port.to_string();
    let refused = python("connect from 127.0.0.2", CONNECT_FROM, &["127.0.0.2", &port]);
    assert_eq!(refused.trim(), "closed", "the denied source was not turned away");
    let (ok, out) = server.cli(&["ban", "add", "198.51.100.7", "--for", "1h"], None);
    assert!(ok, "ban add failed: {out}");
    let mut session = Session::start(server.port, "alice", PASSWORD, (800, 600), Duration::from_secs(60));
    // Workers report every 2 s: bytes and frames arrive after the first report.
    let s = scrape_until(&server, Duration::from_secs(20), "the desktop's bytes, frames and the ban", |s| {
        s.get("rampart_sent_bytes_total", &[]) > 0.0
            && s.get("rampart_sent_frames_total", &[]) > 0.0
            && s.get("rampart_bans_active", &[]) == 1.0
    });
    eprintln!("metrics after the scenario:\n{}", s.describe());
    for (name, labels, want) in [
        ("rampart_connections_accepted_total", vec![], 3.0),
        ("rampart_connections_refused_total", vec![("reason", "denylist")], 1.0),
        ("rampart_connections_refused_total", vec![("reason", "banned")], 0.0),
        ("rampart_connections_refused_total", vec![("reason", "not_allowlisted")], 0.0),
        ("rampart_nla_total", vec![("result", "success")], 2.0),
        ("rampart_nla_total", vec![("result", "failure")], 1.0),
        ("rampart_second_factor_total", vec![("result", "failure")], 0.0),
        ("rampart_connections_closed_total", vec![("outcome", "nla_failed")], 1.0),
        ("rampart_connections_closed_total", vec![("outcome", "unauthenticated")], 0.0),
        ("rampart_connections_closed_total", vec![("outcome", "second_factor_unmet")], 0.0),
        ("rampart_handshake_seconds_count", vec![], 3.0),
        ("rampart_sessions_active", vec![], 1.0),
        ("rampart_sessions_disconnected", vec![], 0.0),
        ("rampart_connections_active", vec![], 1.0),
        ("rampart_handshakes_pending", vec![], 0.0),
        ("rampart_bans_active", vec![], 1.0),
    ] {
        assert_eq!(s.get(name, &labels), want, "{name}{labels:?}:\n{}", s.describe());
    }
    // The NLA-only login ended either right after NLA ("authenticated") or, when the
    // client's connection sequence got as far as asking for the desktop size, with the
    // desktop granted (and the session started) before it hung up: one of the two.
    let authenticated = s.get("rampart_connections_closed_total", &[("outcome", "authenticated")]);
    let nla_only_desktop = s.get("rampart_connections_closed_total", &[("outcome", "desktop")]);
    assert_eq!(authenticated + nla_only_desktop, 1.0, "{}", s.describe());
    assert_eq!(s.get("rampart_login_seconds_count", &[]), 1.0 + nla_only_desktop, "{}", s.describe());
    // Histograms are cumulative and end with +Inf = count.
    assert_eq!(s.get("rampart_handshake_seconds_bucket", &[("le", "+Inf")]), 3.0);
    assert!(s.get("rampart_handshake_seconds_sum", &[]) > 0.0);
    assert!(s.get("rampart_encode_seconds_total", &[]) > 0.0, "{}", s.describe());

    // `rampart status` shows the listener, the desktop connection, the session and the ban.
    let status = status_json(&server);
    assert_eq!(status["listener"]["state"], "open", "{status}");
    assert_eq!(status["listener"]["address"], format!("127.0.0.1:{}", server.port));
    let sessions = status["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{status}");
    assert_eq!(sessions[0]["user"], "alice");
    assert_eq!(sessions[0]["connected"], true);
    let display = sessions[0]["display"].as_str().unwrap().to_owned();
    let desktop: Vec<_> = status["connections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["stage"] == "desktop")
        .collect();
    assert_eq!(desktop.len(), 1, "{status}");
    assert_eq!(desktop[0]["user"], "alice");
    assert_eq!(desktop[0]["display"], display.as_str());
    assert_eq!(status["bans"][0]["net"], "198.51.100.7/32", "{status}");
    assert_eq!(status["idle_disconnect_secs"], 900);
    assert_eq!(status["disconnected_end_secs"], 28800);
    let (ok, text) = server.cli(&["status"], None);
    assert!(ok, "rampart status failed:\n{text}");
    eprintln!("rampart status:\n{text}");
    for expected in ["running, pid", "listener:", "open", "connected (connection", "alice", &display, "198.51.100.7/32"] {
        assert!(text.contains(expected), "no {expected:?} in `rampart status`:\n{text}");
    }
    let (ok, list) = server.cli(&["session", "list"], None);
    assert!(ok && list.contains("alice") && list.contains(&display), "session list:\n{list}");

    // `rampart session end alice`: the client is cut off, the session's processes go, and the
    // trail says who asked.
    assert!(!server.session_processes().is_empty(), "no session processes to end");
    let (ok, out) = server.cli(&["session", "end", "alice"], None);
    assert!(ok && out.contains("ended session 1 of \"alice\""), "session end failed:\n{out}");
    assert!(session.exits_within(Duration::from_secs(15)), "the client stayed connected after session end");
    let left = poll(Duration::from_secs(10), Duration::from_millis(200), || {
        server.session_processes().is_empty().then_some(())
    });
    assert!(left.is_some(), "session processes outlived `session end`: {:?}", server.session_processes());
    let ended = server.expect_event("session_ended for alice", |e| e.is("session_ended") && e.user == "alice");
    assert!(
        ended.reason.starts_with("ended by uid 0 (pid ") && ended.reason.ends_with("): rampart session end"),
        "{ended:?}"
    );
    server.expect_event("session_disconnected with the reason", |e| {
        e.is("session_disconnected") && e.user == "alice" && e.reason == ended.reason
    });
    let status = status_json(&server);
    assert_eq!(status["sessions"].as_array().map(Vec::len), Some(0), "{status}");
    let s = scrape_until(&server, Duration::from_secs(10), "the ended desktop", |s| {
        s.get("rampart_sessions_active", &[]) == 0.0
    });
    assert_eq!(s.get("rampart_connections_closed_total", &[("outcome", "desktop")]), 1.0 + nla_only_desktop);
    // Nothing left to end is an error that says so.
    let (ok, out) = server.cli(&["session", "end", "alice"], None);
    assert!(!ok && out.contains("no session of user \"alice\""), "{out}");
    server.stop_and_check();
    // A stopped server removes its socket: status says it is not running (exit 3).
    let mut cmd = Command::new(crate::server::BIN);
    cmd.args(["status", "--config"]).arg(server.config_path());
    let (code, out, err) = run_bounded("rampart status (stopped)", &mut cmd, Duration::from_secs(30));
    assert_eq!(code.and_then(|c| c.code()), Some(3), "{out}{err}");
    assert!(out.contains("not running"), "{out}");
}

#[test]
fn idle_connections_are_disconnected_detached_desktops_ended_and_lock_ends_the_desktop() {
    let _turn = exclusive();
    let mut server = Server::new(&Config {
        session_toml: "idle_disconnect_secs = 6\ndisconnected_end_secs = 15\n".to_owned(),
        ..Config::default()
    });
    server.add_user("alice", PASSWORD);
    server.add_user("bob", PASSWORD);
    server.start();
    let size = (800, 600);
    let limit = Duration::from_secs(60);

    // 1. Input keeps a connection: keys for longer than the idle limit.
    let mut alice = Session::start(server.port, "alice", PASSWORD, size, limit);
    let started = server.expect_event("session_started for alice", |e| e.is("session_started") && e.user == "alice");
    let display = display_of(&started.reason);
    alice.point_at(100, 100);
    let typing = Instant::now();
    while typing.elapsed() < Duration::from_secs(10) {
        alice.key("shift");
        std::thread::sleep(Duration::from_millis(1500));
    }
    assert!(alice.is_running(), "alice was disconnected while typing:\n{}", server.log_tail());
    assert!(
        !server.events().iter().any(|e| e.is("session_disconnected")),
        "disconnected while typing"
    );

    // 2. No input for the limit: disconnected, audited with the reason, the desktop kept.
    let quiet = Instant::now();
    assert!(alice.exits_within(Duration::from_secs(20)), "alice was never disconnected for being idle");
    let after = quiet.elapsed();
    assert!(after >= Duration::from_secs(4), "disconnected {after:?} after the last key: too soon");
    let idle = server.expect_event("session_disconnected for being idle", |e| {
        e.is("session_disconnected") && e.user == "alice"
    });
    assert!(
        idle.reason.starts_with("idle for ") && idle.reason.ends_with(" s"),
        "session_disconnected reason: {idle:?}"
    );
    server.expect_found("session_disconnected", Some("127.0.0.1"), Some("alice"));
    let status = status_json(&server);
    let listed = &status["sessions"][0];
    assert_eq!((listed["user"].as_str(), listed["connected"].as_bool()), (Some("alice"), Some(false)), "{status}");
    drop(alice);

    // 3. The next login resumes it.
    let mut alice = Session::start(server.port, "alice", PASSWORD, size, limit);
    let resumed = server.expect_event("session_resumed for alice", |e| e.is("session_resumed") && e.user == "alice");
    assert_eq!(display_of(&resumed.reason), display, "a new desktop instead of the idle one");
    alice.point_at(120, 120);
    alice.key("shift");
    // Nothing is disconnected now, so nothing is ended.
    let (ok, out) = server.cli(&["session", "end", "--all-disconnected"], None);
    assert!(ok && out.contains("no disconnected session to end"), "{out}");
    assert!(alice.is_running());

    // 4. `user lock --end-session`: the account is locked, the client cut off, the desktop
    // ended, on record with who asked.
    let (ok, out) = server.cli(&["user", "lock", "alice", "--end-session"], None);
    assert!(ok && out.contains("ended session 1 of \"alice\""), "user lock --end-session:\n{out}");
    assert!(alice.exits_within(Duration::from_secs(15)), "alice stayed connected after lock --end-session");
    let gone = poll(Duration::from_secs(10), Duration::from_millis(200), || {
        server.session_processes().is_empty().then_some(())
    });
    assert!(gone.is_some(), "alice's session processes outlived the lock: {:?}", server.session_processes());
    let ended = server.expect_event("session_ended for the lock", |e| e.is("session_ended") && e.user == "alice");
    assert!(
        ended.reason.starts_with("ended by uid 0 (pid ") && ended.reason.contains("account locked"),
        "{ended:?}"
    );
    server.expect_event("user_locked", |e| e.is("user_locked") && e.user == "alice");
    drop(alice);

    // 5. A desktop nobody comes back to is ended after the disconnected limit.
    let bob = Session::start(server.port, "bob", PASSWORD, size, limit);
    server.expect_event("session_started for bob", |e| e.is("session_started") && e.user == "bob");
    drop(bob);
    let left = Instant::now();
    server.expect_event("session_disconnected for bob", |e| e.is("session_disconnected") && e.user == "bob");
    let ended = server
        .wait_event(Duration::from_secs(30), |e| e.is("session_ended") && e.user == "bob")
        .unwrap_or_else(|| panic!("bob's desktop was not ended within 30 s:\n{}", server.log_tail()));
    let waited = left.elapsed();
    assert!(waited >= Duration::from_secs(14), "ended {waited:?} after the client left: before the limit");
    assert!(
        ended.reason.starts_with("disconnected for ") && ended.reason.ends_with(" s"),
        "session_ended reason: {ended:?}"
    );
    let gone = poll(Duration::from_secs(10), Duration::from_millis(200), || {
        server.session_processes().is_empty().then_some(())
    });
    assert!(gone.is_some(), "bob's session processes outlived the limit: {:?}", server.session_processes());
    server.stop_and_check();
}
