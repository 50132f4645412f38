//! Faults (issue 9): `kill -9` of one connection's worker in the middle of a session takes
//! that connection only — its desktop session lives on and is resumed by the next login,
//! another user's connection keeps working throughout — and `kill -9` of the supervisor
//! leaves nothing behind: workers die with it (parent-death signal), session leaders end
//! their sessions when its channel closes, and a restarted server serves a new login.
//!
//! With the defaults a user gets: two-step verification on (recovery codes at the prompt).

use std::time::Duration;

use crate::account::shared_tempdir;
use crate::exclusive;
use crate::process::{poll, signal};
use crate::proctree::{self, ProcId};
use crate::server::PASSWORD;
use crate::sizes::{display_of, log_in_and_type, server_for, type_into_session, CodecPath};

const SIZE: (u32, u32) = (1280, 800);

/// `rampart worker` processes under the server, oldest first.
fn workers(server_pid: u32) -> Vec<ProcId> {
    let mut found: Vec<ProcId> = proctree::tree(server_pid)
        .into_iter()
        .filter(|(pid, _)| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| c.split(|&b| b == 0).nth(1) == Some(b"worker"))
                .unwrap_or(false)
        })
        .collect();
    found.sort_by_key(|&(_, start)| start);
    found
}

/// Waits (<= 10 s) for exactly `n` workers and returns them.
fn expect_workers(server_pid: u32, n: usize, what: &str) -> Vec<ProcId> {
    poll(Duration::from_secs(10), Duration::from_millis(100), || {
        let w = workers(server_pid);
        (w.len() == n).then_some(w)
    })
    .unwrap_or_else(|| panic!("{what}: expected {n} workers, found {:?}", workers(server_pid)))
}

#[test]
fn kill_9_of_a_worker_or_of_the_supervisor() {
    let _turn = exclusive();
    let shared = shared_tempdir();
    let mut server = server_for(shared.path(), "");
    let alice = server.add_user_with_mfa("alice", PASSWORD);
    let bob = server.add_user_with_mfa("bob", PASSWORD);
    server.start();

    // Two users, two sessions, two workers.
    let mut alice_client = log_in_and_type(&server, shared.path(), "alice", &alice.recovery_codes[0], SIZE, CodecPath::RemoteFx, "alice before the kill");
    let alice_worker = expect_workers(server.pid(), 1, "alice logged in")[0];
    let alice_display = display_of(&server, "alice");
    let bob_client = log_in_and_type(&server, shared.path(), "bob", &bob.recovery_codes[0], SIZE, CodecPath::RemoteFx, "bob before the kill");
    let bob_worker = *expect_workers(server.pid(), 2, "bob logged in")
        .iter()
        .find(|w| **w != alice_worker)
        .unwrap();
    let bob_display = display_of(&server, "bob");
    let sessions_before = server.session_processes();
    assert!(!sessions_before.is_empty(), "no session processes found");

    // kill -9 alice's worker.
    signal(alice_worker.0, rustix::process::Signal::KILL);
    assert!(
        poll(Duration::from_secs(10), Duration::from_millis(100), || (!proctree::alive(alice_worker)).then_some(())).is_some(),
        "alice's worker survived SIGKILL"
    );
    // Her client loses its connection; the supervisor records how it ended.
    assert!(alice_client.exits_within(Duration::from_secs(30)), "alice's client still runs without its worker");
    server.expect_event("alice's connection closed after the kill", |e| {
        e.is("connection_closed") && e.user == "alice" && e.outcome == "failure" && e.reason.contains("worker exited without a report")
    });
    server.expect_event("alice's session disconnected, not ended", |e| e.is("session_disconnected") && e.user == "alice");
    // Bob's connection is untouched: his worker lives and his keys still arrive.
    assert!(proctree::alive(bob_worker), "bob's worker died with alice's");
    type_into_session(&server, shared.path(), &bob_client, bob_display, "bob after alice's worker was killed");
    // Alice's session lives on (every process of it), and her next login resumes it.
    let dead: Vec<_> = sessions_before.iter().filter(|p| !proctree::alive(**p)).collect();
    assert!(dead.is_empty(), "session processes died with the worker: {dead:?}");
    let alice_again = log_in_and_type(&server, shared.path(), "alice", &alice.recovery_codes[1], (1024, 768), CodecPath::RemoteFx, "alice after the kill");
    server.expect_event("alice's session resumed", |e| e.is("session_resumed") && e.user == "alice");
    assert_eq!(display_of(&server, "alice"), alice_display, "alice's resumed session is on another display");

    // kill -9 of the supervisor: everything it started goes by itself.
    let family: Vec<ProcId> = proctree::tree(server.pid())
        .into_iter()
        .chain(server.session_processes())
        .filter(|p| p.0 != server.pid())
        .collect();
    let live_workers = workers(server.pid());
    assert_eq!(live_workers.len(), 2, "{live_workers:?}");
    signal(server.pid(), rustix::process::Signal::KILL);
    let workers_gone = poll(Duration::from_secs(5), Duration::from_millis(50), || {
        live_workers.iter().all(|w| !proctree::alive(*w)).then_some(())
    });
    assert!(workers_gone.is_some(), "workers outlived the supervisor by 5 s: {live_workers:?}");
    let all_gone = poll(Duration::from_secs(20), Duration::from_millis(200), || {
        family.iter().all(|p| !proctree::alive(*p)).then_some(())
    });
    if all_gone.is_none() {
        let left: Vec<_> = family.iter().filter(|p| proctree::alive(**p)).copied().collect();
        panic!("left behind 20 s after the supervisor died:\n{}", proctree::describe(&left));
    }
    drop(alice_again);
    drop(bob_client);
    // Reap it (nothing is left to end), start again on the same store and port.
    let started = |server: &crate::server::Server| {
        server.events().iter().filter(|e| e.is("session_started") && e.user == "alice").count()
    };
    let started_before = started(&server);
    server.kill_9();
    server.start();
    let after = log_in_and_type(&server, shared.path(), "alice", &alice.recovery_codes[2], SIZE, CodecPath::RemoteFx, "alice after the restart");
    assert_eq!(started(&server), started_before + 1, "no new session after the restart");
    drop(after);
    server.stop_and_check();
}
