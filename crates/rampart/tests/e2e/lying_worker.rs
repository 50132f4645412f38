//! A compromised worker gains nothing (issue 9): the real supervisor, with a lying worker in
//! place of `rampart worker` (`lying_worker.py`, started through the debug-build-only
//! `RAMPART_TEST_WORKER_PROGRAM`), is asked for sessions without a logon, second guesses, a
//! reset two-step prompt, a skipped prompt, oversized reasons and lines, unknown requests.
//! Each time: no session, the attempt is in the audit trail, and the worker is killed (its
//! process gone, the connection closed) before the scenario's last step. The control — the
//! same program following the rules with the right password — gets its session, so the
//! refusals are the rules at work, not a broken fake.
//!
//! The server runs with `[auth] mfa = "optional"`: the case where, before the monitor, a
//! forged success got a desktop without any password.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::exclusive;
use crate::process::poll;
use crate::server::{Config, Server, PASSWORD};

/// How long one scenario may take (the honest one starts a real session).
const LIMIT: Duration = Duration::from_secs(40);

fn lying_worker() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/lying_worker.py")
}

/// What the fake worker told its "client": the supervisor's answers, whether it reached its
/// last step, and whether the connection was closed (the worker gone) afterwards.
struct Outcome {
    replies: Vec<serde_json::Value>,
    reached_end: bool,
    closed: bool,
    log: Vec<String>,
}

impl Outcome {
    fn replied(&self, t: &str) -> Option<&serde_json::Value> {
        self.replies.iter().find(|r| r["t"] == t)
    }
}

/// One connection: sends the scenario, reads lines until the end or EOF (<= `LIMIT`).
fn run(server: &Server, scenario: &str, user: &str) -> Outcome {
    // Killed workers end fast: keep under the default 10 new connections a second per source.
    std::thread::sleep(Duration::from_millis(250));
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let order = serde_json::json!({"scenario": scenario, "user": user, "password": PASSWORD});
    stream.write_all(format!("{order}\n").as_bytes()).expect("send scenario");
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = Outcome {
        replies: Vec::new(),
        reached_end: false,
        closed: false,
        log: Vec::new(),
    };
    let start = Instant::now();
    while start.elapsed() < LIMIT {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) => {
                out.closed = true;
                break;
            }
            Ok(_) => {
                let line = line.trim_end().to_owned();
                if let Some(json) = line.strip_prefix("reply ") {
                    out.replies.push(serde_json::from_str(json).expect("reply is json"));
                } else if line == "end" {
                    out.reached_end = true;
                    // Hang up: the worker exits, the supervisor records the close.
                    break;
                }
                out.log.push(line);
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => continue,
            Err(e) => {
                // Reset by the kill.
                out.log.push(format!("read error: {e}"));
                out.closed = true;
                break;
            }
        }
    }
    out
}

/// The scenario ended with the worker killed: it never reached its last step, the connection
/// closed, the trail says why.
fn expect_killed(server: &Server, scenario: &str, out: &Outcome, why: &str) {
    assert!(
        !out.reached_end && out.closed,
        "{scenario}: the worker was not killed (reached end: {}, closed: {}); it saw {:?}\n{}",
        out.reached_end,
        out.closed,
        out.log,
        server.log_tail()
    );
    assert!(
        out.replied("session").is_none(),
        "{scenario}: the supervisor granted a session: {:?}",
        out.replies
    );
    server.expect_event(&format!("{scenario}: worker killed ({why})"), |e| {
        e.is("connection_closed") && e.outcome == "failure" && e.reason.starts_with("worker killed") && e.reason.contains(why)
    });
}

fn no_session_for(server: &Server, user: &str) {
    let events = server.events();
    assert!(
        !events
            .iter()
            .any(|e| (e.is("session_started") || e.is("session_resumed")) && e.user == user),
        "{user} got a session from a lying worker: {:?}",
        events.iter().filter(|e| e.user == user).collect::<Vec<_>>()
    );
}

/// No process of the fake worker is left under the server.
fn no_worker_left(server: &Server) {
    let gone = poll(Duration::from_secs(10), Duration::from_millis(100), || {
        let left: Vec<_> = crate::proctree::tree(server.pid())
            .into_iter()
            .filter(|(pid, _)| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .map(|c| String::from_utf8_lossy(&c).contains("lying_worker"))
                    .unwrap_or(false)
            })
            .collect();
        left.is_empty().then_some(())
    });
    assert!(gone.is_some(), "a lying worker outlived its connection");
}

#[test]
fn a_lying_worker_gets_no_session_is_audited_and_killed() {
    let _turn = exclusive();
    let mut server = Server::new(&Config {
        // Many refusals from 127.0.0.1 here: no ban may get in the way of the next scenario.
        extra_toml: "[guard]\nmax_failures = 1000\naccount_max_failures = 0\n".to_owned(),
        ..Config::default()
    });
    // One user per scenario: no back-off of one scenario slows the next.
    let scenarios_without_mfa = [
        ("session_without_logon", "OpenSession is not allowed"),
        ("session_after_wrong_password", "OpenSession is not allowed"),
        ("second_guess", "NtlmVerify is not allowed"),
        ("verify_without_challenge", "NtlmVerify is not allowed"),
        ("second_challenge", "NtlmChallenge asked more than 1"),
        ("code_before_logon", "VerifyCode is not allowed"),
        ("oversized_reason", "over-long close reason"),
        ("overlong_line", "longer than"),
        ("unknown_request", "malformed"),
    ];
    for (i, _) in scenarios_without_mfa.iter().enumerate() {
        server.add_user(&format!("liar{i}"), PASSWORD);
    }
    server.add_user("honest", PASSWORD);
    let _skip = server.add_user_with_mfa("skipper", PASSWORD);
    let _reset = server.add_user_with_mfa("resetter", PASSWORD);
    server.set_env("RAMPART_TEST_WORKER_PROGRAM", lying_worker().to_str().unwrap());
    server.start();

    let mut outcomes = std::collections::HashMap::new();
    for (i, (scenario, why)) in scenarios_without_mfa.iter().enumerate() {
        let user = format!("liar{i}");
        let out = run(&server, scenario, &user);
        expect_killed(&server, scenario, &out, why);
        no_session_for(&server, &user);
        no_worker_left(&server);
        outcomes.insert(*scenario, out);
    }

    // A wrong password never yields a session key, and the right one after it is not looked at.
    let out = &outcomes["second_guess"];
    let verdict = out.replied("ntlm_verdict").expect("a verdict for the first guess");
    assert!(verdict["session_key"].is_null(), "a key for a wrong password: {verdict}");
    assert_eq!(
        out.replies.iter().filter(|r| r["t"] == "ntlm_verdict").count(),
        1,
        "the second guess was answered: {:?}",
        out.replies
    );
    assert!(
        !server.events().iter().any(|e| e.is("auth_succeeded") && e.user == "liar2"),
        "the second guess was verified"
    );

    // The oversized reason is not in the trail.
    assert!(
        !server.events().iter().any(|e| e.reason.contains(&"x".repeat(300))),
        "a 20 000-character reason reached the trail"
    );

    // The right password but no code: the prompt cannot be skipped ...
    let out = run(&server, "skip_the_prompt", "skipper");
    let verdict = out.replied("ntlm_verdict").expect("a verdict");
    assert!(
        !verdict["session_key"].is_null() && !verdict["second_factor"].is_null(),
        "the right password for an enrolled user: a key and a prompt due, not {verdict}"
    );
    expect_killed(&server, "skip_the_prompt", &out, "OpenSession is not allowed");
    no_session_for(&server, "skipper");

    // ... nor reset by a second exchange after a wrong code.
    let out = run(&server, "reset_the_prompt", "resetter");
    let code = out
        .replied("code_result")
        .unwrap_or_else(|| panic!("no answer to the wrong code: {:?}\n{}", out.log, server.log_tail()));
    assert_eq!(code["accepted"], false, "{code}");
    expect_killed(&server, "reset_the_prompt", &out, "NtlmChallenge is not allowed");
    assert_eq!(
        out.replies.iter().filter(|r| r["t"] == "ntlm_challenge").count(),
        1,
        "a second challenge was handed out: {:?}",
        out.replies
    );
    server.expect_event("reset_the_prompt: the wrong code audited", |e| {
        e.is("mfa_failed") && e.user == "resetter"
    });
    no_session_for(&server, "resetter");
    no_worker_left(&server);

    // The control: the same program, following the rules, gets its session.
    let out = run(&server, "honest", "honest");
    assert!(
        out.reached_end,
        "the honest run did not finish: {:?}\n{}",
        out.log,
        server.log_tail()
    );
    let grant = out.replied("session").unwrap_or_else(|| panic!("no session for the honest run: {:?}", out.replies));
    assert!(grant["display"].as_str().is_some_and(|d| d.starts_with(':')), "{grant}");
    server.expect_event("honest: session started", |e| e.is("session_started") && e.user == "honest");

    server.stop_and_check();
}
