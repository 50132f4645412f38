//! The brute-force guard against a real attacker: THC hydra's `rdp` module
//! (hydra 9.4) guesses alice's password from its own network namespace while a
//! legitimate user logs in from loopback. The attacker's source must be banned
//! after exactly the configured number of failures, the right password (last in the
//! wordlist) must then be refused from it, and the legitimate login must not notice.
//!
//! Why hydra and not the `xfreerdp` fallback the issue allows: hydra's rdp module
//! (FreeRDP 2 underneath) drives this server reliably. Each guess is its own TCP
//! connection and NLA exchange, it reports a wrong password as such, and it finds a
//! right password when it is allowed through (checked by hand against this server).
//!
//! Why a network namespace: the guard bans per source address, so the attacker needs
//! an address of its own that the server sees as distinct from the legitimate
//! 127.0.0.1, over a real routed path. The namespace (`rampart-e2e-<pid>`) gets one
//! end of a veth pair, 10.231.N.2/30; the root namespace keeps 10.231.N.1/30. All
//! traffic stays on this machine, between namespaces this test creates and deletes.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::audit::{self, Event};
use crate::client::auth_only;
use crate::exclusive;
use crate::garbage::connection_request;
use crate::process::{poll, require_tool, run_bounded, signal, tail, Guarded};
use crate::server::{Config, Server, BIN, PASSWORD};

/// `[guard] max_failures`, written into the server's config (also the default).
const MAX_FAILURES: usize = 5;
/// Wrong guesses before the right password, which is the last line of the wordlist.
const WRONG_GUESSES: usize = 10;
/// Hard bound on the whole hydra run (`timeout`); it normally takes ~22 s.
const HYDRA_LIMIT: Duration = Duration::from_secs(120);
/// `rdp://` target user.
const USER: &str = "alice";

#[test]
fn hydra_gets_banned_while_another_source_logs_in() {
    let _turn = exclusive();
    let t0 = Instant::now();
    assert!(
        rustix::process::geteuid().is_root(),
        "this test must run as root: it creates a network namespace and a veth pair \
         (ip netns / ip link) for the attacker, and the Unix account for the sessions \
         (run `sudo scripts/test.sh`)"
    );
    require_tool("ip", "iproute2");
    require_tool("hydra", "hydra");
    require_tool("timeout", "coreutils");

    // Field order: the namespace is deleted last (after hydra and the server).
    let ns = NetNs::create();
    let mut server = Server::new(&Config::default());
    // The guard section: the thresholds under test, and only the two sources used
    // here may connect (the server listens on every interface for this test).
    let guard = format!(
        "\n[guard]\nmax_failures = {MAX_FAILURES}\nfailure_window_secs = 600\nban_secs = 900\n\
         allow = [\"127.0.0.0/8\", \"{}\"]\n",
        ns.subnet()
    );
    append(&server.config_path(), &guard);
    server.add_user(USER, PASSWORD);
    server.start_on("0.0.0.0");
    let port = server.port;
    let target = SocketAddr::from((ns.host_ip, port));
    let attacker = ns.ns_ip.to_string();

    // Before the attack the namespace reaches the server and gets an X.224 answer:
    // the later drop is the ban, not a broken path.
    let before = probe_from(&ns, target);
    assert!(
        matches!(&before, Probe::Reply(bytes) if bytes.first() == Some(&3)),
        "from {attacker} (namespace {}), before any attack, an X.224 Connection Request to \
         {target} got {before:?}, expected an X.224 Connection Confirm; server output:\n{}",
        ns.name,
        server.log_tail()
    );

    // The attack: hydra inside the namespace, one task, one guess every ~2 s (-c 1;
    // hydra's -W does not apply to the rdp module, which connects through FreeRDP).
    let work = tempfile::Builder::new()
        .prefix("rampart-e2e-hydra.")
        .tempdir()
        .expect("tempdir");
    let wordlist = work.path().join("passwords.txt");
    let mut words: Vec<String> = (1..=WRONG_GUESSES)
        .map(|i| format!("Wrong-Guess-{i}!"))
        .collect();
    words.push(PASSWORD.to_owned());
    std::fs::write(&wordlist, words.join("\n") + "\n").expect("write wordlist");
    let found = work.path().join("found.txt");
    let mut cmd = ns.command("timeout");
    cmd.args(["--kill-after=5"])
        .arg(HYDRA_LIMIT.as_secs().to_string())
        .args(["hydra", "-l", USER, "-P"])
        .arg(&wordlist)
        .args(["-t", "1", "-c", "1", "-w", "10", "-I", "-V", "-o"])
        .arg(&found)
        .arg(format!("rdp://{}:{port}", ns.host_ip))
        // hydra may write hydra.restore into its working directory.
        .current_dir(work.path());
    let attack_start = Instant::now();
    let mut hydra = Guarded::spawn("hydra", &mut cmd, &work.path().join("hydra.log"));

    let is_attacker = |e: &Event| e.peer_ip() == attacker;
    let ban = server.wait_event(Duration::from_secs(60), |e| {
        e.is("source_banned") && is_attacker(e)
    });
    let ban_after = attack_start.elapsed();
    let Some(ban) = ban else {
        panic!(
            "no source_banned for {attacker} within 60 s of starting hydra; hydra ({:?}):\n{}\n\
             events:\n{}\nserver output:\n{}",
            hydra.exited(),
            tail(&hydra.log_text(), 20),
            audit::describe(&server.events()),
            server.log_tail()
        );
    };

    // During the attack, from another source: the legitimate login goes through.
    let hydra_running_at_login = hydra.is_running();
    let legit = auth_only(port, USER, PASSWORD, "nla", Duration::from_secs(30));
    let hydra_running_after_login = hydra.is_running();
    assert!(
        legit.succeeded(),
        "legitimate NLA login from 127.0.0.1 during the attack failed: {}\nevents:\n{}\n\
         server output:\n{}",
        legit.summary(),
        audit::describe(&server.events()),
        server.log_tail()
    );
    assert!(
        hydra_running_at_login,
        "hydra had already finished when the ban was seen ({:.1?} after it started), so the \
         legitimate login did not overlap the attack; hydra:\n{}",
        ban_after,
        tail(&hydra.log_text(), 20)
    );
    server.expect_event("auth_succeeded for alice from 127.0.0.1", |e| {
        e.is("auth_succeeded") && e.user == USER && e.peer_ip() == "127.0.0.1"
    });

    // hydra runs through the rest of the list, the right password last, and finds nothing.
    let limit = HYDRA_LIMIT + Duration::from_secs(10);
    let status = hydra.wait_for_exit(limit);
    let attack_took = attack_start.elapsed();
    let hydra_log = hydra.log_text();
    assert!(
        status.is_some(),
        "hydra did not end within {limit:?}:\n{}",
        tail(&hydra_log, 20)
    );
    assert_ne!(
        status.and_then(|s| s.code()),
        Some(124),
        "hydra was stopped by `timeout` after {HYDRA_LIMIT:?}:\n{}",
        tail(&hydra_log, 20)
    );
    let attempts = hydra_log
        .lines()
        .filter(|l| l.starts_with("[ATTEMPT]"))
        .count();
    let right_tried = hydra_log
        .lines()
        .any(|l| l.starts_with("[ATTEMPT]") && l.contains(&format!("pass \"{PASSWORD}\"")));
    assert!(
        attempts == words.len() && right_tried,
        "hydra made {attempts} attempts (expected {}, the right password last):\n{}",
        words.len(),
        tail(&hydra_log, 30)
    );
    let found_text = std::fs::read_to_string(&found).unwrap_or_default();
    assert!(
        hydra_log.contains(", 0 valid password found")
            && !found_text.contains("login:")
            && !found_text.contains(PASSWORD),
        "hydra found the password from the banned source {attacker}; its -o file:\n{found_text}\n\
         its output:\n{}",
        tail(&hydra_log, 30)
    );

    // The audit trail: exactly MAX_FAILURES failures from the attacker, then the ban,
    // then nothing from it gets past accept.
    let events = server.events();
    let ban_at = events
        .iter()
        .position(|e| e.is("source_banned") && is_attacker(e))
        .expect("source_banned seen above");
    let failures_before_ban = events[..ban_at]
        .iter()
        .filter(|e| e.is("auth_failed") && is_attacker(e))
        .count();
    let past_accept_after_ban: Vec<&Event> = events[ban_at + 1..]
        .iter()
        .filter(|e| {
            is_attacker(e)
                && (e.is("connection_accepted") || e.is("auth_failed") || e.is("auth_succeeded"))
        })
        .collect();
    let refused = events[ban_at + 1..]
        .iter()
        .filter(|e| e.is("connection_refused") && is_attacker(e) && e.reason.contains("banned"))
        .count();
    server.expect_found("source_banned", Some(&attacker), None);
    server.expect_found("connection_refused", Some(&attacker), None);
    server.expect_found("auth_failed", Some(&attacker), Some(USER));
    eprintln!(
        "guard: {failures_before_ban} auth_failed from {attacker} before source_banned \
         (configured max_failures = {MAX_FAILURES}); ban {:.1?} into the attack; hydra: \
         {attempts} attempts in {attack_took:.1?}; legitimate login took {:.1?} \
         (hydra running before/after it: {hydra_running_at_login}/{hydra_running_after_login}); \
         {refused} connection_refused records after the ban\nattacker events:\n{}",
        ban_after,
        legit.elapsed,
        audit::describe(
            &events
                .iter()
                .filter(|e| is_attacker(e))
                .cloned()
                .collect::<Vec<_>>()
        )
    );
    assert_eq!(
        failures_before_ban,
        MAX_FAILURES,
        "auth_failed events from {attacker} before its ban; events:\n{}",
        audit::describe(&events)
    );
    assert!(
        ban.reason.contains(&format!("{attacker}/32")),
        "source_banned does not name {attacker}/32: {ban:?}"
    );
    assert!(
        past_accept_after_ban.is_empty(),
        "after the ban, connections from {attacker} still got past accept:\n{}",
        audit::describe(
            &past_accept_after_ban
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()
        )
    );
    assert!(
        refused >= 1,
        "no connection_refused (banned) from {attacker} after the ban, though hydra kept \
         trying; events:\n{}",
        audit::describe(&events)
    );
    assert!(
        !events
            .iter()
            .any(|e| e.is("auth_succeeded") && is_attacker(e)),
        "{attacker} authenticated:\n{}",
        audit::describe(&events)
    );

    // The ban is in the store and `rampart ban list` shows it.
    let stored = stored_ban(&server.db_path(), &format!("{attacker}/32"));
    assert!(
        stored.is_some_and(|until| until > ban.time_ms + 14 * 60 * 1000),
        "bans table has no ~15 min ban for {attacker}/32 (until_ms {stored:?}, banned at {})",
        ban.time_ms
    );
    let (status, out, err) = run_bounded(
        "rampart ban list",
        Command::new(BIN)
            .args(["ban", "list", "--state-dir"])
            .arg(server.state_dir())
            .arg("--config")
            .arg(server.config_path()),
        Duration::from_secs(30),
    );
    assert!(
        status.is_some_and(|s| s.success()) && out.contains(&format!("{attacker}/32")),
        "`rampart ban list` ({status:?}) does not show {attacker}/32:\n{out}{err}"
    );

    // From the banned source: TCP is accepted, then closed before any RDP/TLS answer.
    let after = probe_from(&ns, target);
    assert!(
        matches!(after, Probe::Dropped { .. }),
        "from the banned {attacker}, an X.224 Connection Request to {target} got {after:?}, \
         expected the connection dropped without an answer"
    );
    eprintln!("guard: from the banned source, a raw X.224 Connection Request got {after:?}");
    // The legitimate source is unaffected after the attack as well.
    let again = auth_only(port, USER, PASSWORD, "nla", Duration::from_secs(30));
    assert!(
        again.succeeded(),
        "login from 127.0.0.1 after the attack failed: {}",
        again.summary()
    );

    // Nothing of hydra is left in the namespace; the server stops cleanly.
    let leftovers = ns.pids();
    assert!(
        leftovers.is_empty(),
        "processes left in namespace {} after hydra ended: {leftovers:?}",
        ns.name
    );
    server.stop_and_check();
    assert!(
        server.session_processes().is_empty(),
        "session processes outlived the server"
    );
    eprintln!("guard: test took {:.1?}", t0.elapsed());
}

/// Appends `text` to a file.
fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    f.write_all(text.as_bytes())
        .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// `until_ms` of the ban on `net` in the store's `bans` table.
fn stored_ban(db: &Path, net: &str) -> Option<i64> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap_or_else(|e| panic!("open {}: {e}", db.display()));
    let _ = conn.busy_timeout(Duration::from_secs(5));
    conn.query_row("SELECT until_ms FROM bans WHERE net = ?1", [net], |r| {
        r.get(0)
    })
    .ok()
}


/// A network namespace with a veth pair to the root namespace; deleted on drop
/// (after killing, by PID, whatever still runs inside it).
struct NetNs {
    name: String,
    host_if: String,
    host_ip: Ipv4Addr,
    ns_ip: Ipv4Addr,
}

impl NetNs {
    fn create() -> NetNs {
        let pid = std::process::id();
        let name = format!("rampart-e2e-{pid}");
        let host_if = format!("rge{pid}h");
        let peer_if = format!("rge{pid}n");
        // Leftovers of a crashed run whose PID we now have (no live process owns them).
        let _ = ip(&["netns", "del", &name]);
        let _ = ip(&["link", "del", &host_if]);
        // A 10.231.N.0/30 no interface of this machine uses yet.
        let (_, addrs) = ip(&["-o", "-4", "addr", "show"]);
        let start = pid % 256;
        let n = (0..256u32)
            .map(|i| ((start + i) % 256) as u8)
            .find(|n| !addrs.contains(&format!("10.231.{n}.")))
            .expect("a free 10.231.N.0/30 subnet");
        let ns = NetNs {
            name,
            host_if,
            host_ip: Ipv4Addr::new(10, 231, n, 1),
            ns_ip: Ipv4Addr::new(10, 231, n, 2),
        };
        let host_cidr = format!("{}/30", ns.host_ip);
        let ns_cidr = format!("{}/30", ns.ns_ip);
        let steps: [&[&str]; 7] = [
            &["netns", "add", &ns.name],
            &[
                "link",
                "add",
                &ns.host_if,
                "type",
                "veth",
                "peer",
                "name",
                &peer_if,
                "netns",
                &ns.name,
            ],
            &["addr", "add", &host_cidr, "dev", &ns.host_if],
            &["link", "set", &ns.host_if, "up"],
            &["-n", &ns.name, "addr", "add", &ns_cidr, "dev", &peer_if],
            &["-n", &ns.name, "link", "set", &peer_if, "up"],
            &["-n", &ns.name, "link", "set", "lo", "up"],
        ];
        for step in steps {
            let (ok, out) = ip(step);
            assert!(ok, "`ip {}` failed:\n{out}", step.join(" "));
        }
        ns
    }

    /// The namespace's /30, as the server's allowlist entry.
    fn subnet(&self) -> String {
        let [a, b, c, _] = self.host_ip.octets();
        format!("{a}.{b}.{c}.0/30")
    }

    /// `ip netns exec NAME program` (ip execs the program: its PID is the child's).
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name, program]);
        cmd
    }

    /// PIDs of the processes running in the namespace.
    fn pids(&self) -> Vec<u32> {
        let (_, out) = ip(&["netns", "pids", &self.name]);
        out.split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect()
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        for pid in self.pids() {
            signal(pid, rustix::process::Signal::KILL);
        }
        let _ = poll(Duration::from_secs(5), Duration::from_millis(50), || {
            self.pids().is_empty().then_some(())
        });
        let (ok, out) = ip(&["netns", "del", &self.name]);
        if !ok {
            eprintln!("warning: `ip netns del {}` failed: {out}", self.name);
        }
        // Deleting the namespace deletes the peer and with it this end; this is for
        // the case where the peer never made it into the namespace.
        let _ = ip(&["link", "del", &self.host_if]);
    }
}

/// Runs `ip ARGS` (bounded); returns (success, stdout+stderr).
fn ip(args: &[&str]) -> (bool, String) {
    let (status, out, err) =
        run_bounded("ip", Command::new("ip").args(args), Duration::from_secs(20));
    (status.is_some_and(|s| s.success()), format!("{out}{err}"))
}

/// What a raw X.224 Connection Request from inside the namespace got back.
// The fields are read through Debug, in the assertion messages and the report.
#[allow(dead_code)]
#[derive(Debug)]
enum Probe {
    ConnectFailed(String),
    /// The server answered (the first bytes).
    Reply(Vec<u8>),
    /// TCP was accepted, then closed (EOF or reset) without a byte.
    Dropped {
        after: Duration,
        how: String,
    },
    /// Accepted, no answer and no close within 5 s.
    Silent,
}

/// Connects from inside `ns` to `target` (this thread only joins the namespace),
/// sends an X.224 Connection Request for TLS|HYBRID and reads the answer.
fn probe_from(ns: &NetNs, target: SocketAddr) -> Probe {
    let path = PathBuf::from("/run/netns").join(&ns.name);
    std::thread::spawn(move || {
        let handle =
            std::fs::File::open(&path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
        rustix::thread::move_into_link_name_space(
            handle.as_fd(),
            Some(rustix::thread::LinkNameSpaceType::Network),
        )
        .unwrap_or_else(|e| panic!("setns({}): {e}", path.display()));
        let mut s = match TcpStream::connect_timeout(&target, Duration::from_secs(3)) {
            Ok(s) => s,
            Err(e) => return Probe::ConnectFailed(e.to_string()),
        };
        let t0 = Instant::now();
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        // A write to an already closed socket may fail; the read below tells.
        let _ = s.write_all(&connection_request(0x3));
        let mut buf = [0u8; 64];
        match s.read(&mut buf) {
            Ok(0) => Probe::Dropped {
                after: t0.elapsed(),
                how: "EOF".to_owned(),
            },
            Ok(n) => Probe::Reply(buf[..n].to_vec()),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Probe::Silent
            }
            Err(e) => Probe::Dropped {
                after: t0.elapsed(),
                how: e.to_string(),
            },
        }
    })
    .join()
    .expect("namespace probe thread")
}
