//! Pre-authentication garbage must not slow down or starve a legitimate login,
//! must be cut off by the server's handshake deadline and byte budget, and must not
//! grow the server's memory.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::audit;
use crate::client::auth_only;
use crate::exclusive;
use crate::garbage::{self, Garbage};
use crate::proctree;
use crate::server::{accepts_connections, Config, Server, PASSWORD};

const HANDSHAKE_TIMEOUT_SECS: u32 = 5;
/// How long each garbage peer keeps going if the server does not cut it off.
const HOLD: Duration = Duration::from_secs(12);
const RSS_LIMIT_KIB: u64 = 300 * 1024;
/// Garbage comes from these sources (5 peers each: at the per-IP pending cap of 5);
/// the legitimate client connects from 127.0.0.1.
const GARBAGE_SOURCES: [Ipv4Addr; 3] = [
    Ipv4Addr::new(127, 0, 0, 2),
    Ipv4Addr::new(127, 0, 0, 3),
    Ipv4Addr::new(127, 0, 0, 4),
];
const KINDS: [Garbage; 5] = [
    Garbage::RandomBytes,
    Garbage::TruncatedConnectionRequest,
    Garbage::HybridThenStream,
    Garbage::HalfOpen,
    Garbage::TlsThenEndlessTsRequest,
];

#[test]
fn garbage_peers_do_not_stall_login() {
    let _turn = exclusive();
    let mut server = Server::new(&Config {
        handshake_timeout_secs: HANDSHAKE_TIMEOUT_SECS,
        max_pending_per_ip: 5,
        max_preauth_bytes: 65536,
        ..Config::default()
    });
    server.add_user("alice", PASSWORD);
    server.start();
    let limit = Duration::from_secs(30);

    // Baseline: the slower of two undisturbed logins.
    let mut baseline = Duration::ZERO;
    for _ in 0..2 {
        let a = auth_only(server.port, "alice", PASSWORD, "nla", limit);
        assert!(
            a.succeeded(),
            "baseline login failed: {}\nserver output:\n{}",
            a.summary(),
            server.log_tail()
        );
        baseline = baseline.max(a.elapsed);
    }

    // Memory of the server's process tree, sampled during the flood.
    let pid = server.pid();
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (stop, peak) = (stop.clone(), peak.clone());
        std::thread::spawn(move || {
            for _ in 0..400 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                peak.fetch_max(proctree::tree_rss_kib(pid).0, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };

    let target = SocketAddr::from(([127, 0, 0, 1], server.port));
    let mut peers = Vec::new();
    for (i, &source) in GARBAGE_SOURCES.iter().enumerate() {
        for (j, &kind) in KINDS.iter().enumerate() {
            let seed = 0x9E37_79B9_7F4A_7C15u64.wrapping_mul((i * KINDS.len() + j + 1) as u64);
            peers.push(std::thread::spawn(move || {
                (source, garbage::run(kind, source, target, HOLD, seed))
            }));
        }
    }
    std::thread::sleep(Duration::from_secs(1));
    let during = auth_only(server.port, "alice", PASSWORD, "nla", limit);
    let reports: Vec<_> = peers
        .into_iter()
        .map(|p| p.join().expect("garbage peer thread"))
        .collect();
    stop.store(true, Ordering::Relaxed);
    sampler.join().expect("rss sampler");

    let peers_text = reports
        .iter()
        .map(|(src, r)| format!("  {src} {}: {r:?}", r.kind))
        .collect::<Vec<_>>()
        .join("\n");
    eprintln!(
        "flood: baseline {baseline:?}, login during flood {:?}, server tree RSS peak {} KiB\npeers:\n{peers_text}",
        during.elapsed,
        peak.load(Ordering::Relaxed)
    );
    assert!(
        during.succeeded(),
        "legitimate login during the garbage flood failed: {}\npeers:\n{peers_text}\nserver output:\n{}",
        during.summary(),
        server.log_tail()
    );
    assert!(
        during.elapsed <= baseline + Duration::from_secs(1),
        "legitimate login took {:?} during the flood, baseline {:?} (+1 s allowed)\npeers:\n{peers_text}",
        during.elapsed,
        baseline
    );
    assert!(
        server.is_running(),
        "server died during the flood:\n{}",
        server.log_tail()
    );
    assert!(
        accepts_connections(server.port),
        "server stopped accepting connections after the flood"
    );
    let after = auth_only(server.port, "alice", PASSWORD, "nla", limit);
    assert!(
        after.succeeded(),
        "login after the flood failed: {}",
        after.summary()
    );

    let peak_kib = peak.load(Ordering::Relaxed);
    assert!(
        peak_kib > 0,
        "could not read the server's memory from /proc"
    );
    assert!(
        peak_kib < RSS_LIMIT_KIB,
        "server process tree RSS peaked at {} MiB during the flood (limit {} MiB)",
        peak_kib / 1024,
        RSS_LIMIT_KIB / 1024
    );

    // Every garbage peer was cut off by the server (deadline, byte budget or parse error).
    let not_closed: Vec<_> = reports
        .iter()
        .filter(|(_, r)| r.connected && r.closed_by_server_after.is_none())
        .collect();
    assert!(
        not_closed.is_empty(),
        "the server left garbage peers open for {HOLD:?} (handshake_timeout_secs = {HANDSHAKE_TIMEOUT_SECS}):\n{not_closed:#?}"
    );
    // The endless TSRequest is cut by the byte budget (64 KiB at ~4 MB/s), long
    // before the handshake deadline.
    let budget_limit = Duration::from_secs(u64::from(HANDSHAKE_TIMEOUT_SECS)) / 2;
    let slow: Vec<_> = reports
        .iter()
        .filter(|(_, r)| r.kind == "tls-then-endless-tsrequest")
        .filter(|(_, r)| r.closed_by_server_after.is_none_or(|t| t >= budget_limit))
        .collect();
    assert!(
        slow.is_empty(),
        "an endless pre-auth TSRequest was not cut off by max_preauth_bytes within {budget_limit:?}:\n{slow:#?}"
    );
    let connected = reports.iter().filter(|(_, r)| r.connected).count();
    assert!(
        connected > 0,
        "no garbage peer could connect:\n{peers_text}"
    );

    // The audit trail names them: one handshake_aborted / connection_closed per peer.
    let garbage_ips: Vec<String> = GARBAGE_SOURCES.iter().map(|ip| ip.to_string()).collect();
    let is_garbage_end = |e: &audit::Event| {
        (e.is("handshake_aborted") || e.is("connection_closed"))
            && garbage_ips.iter().any(|ip| ip == e.peer_ip())
    };
    let count_peers = |events: &[audit::Event]| {
        // One connection = one server connection id (or one peer ip:port).
        let mut peers: Vec<&str> = events
            .iter()
            .filter(|e| is_garbage_end(e))
            .map(|e| {
                if e.connection.is_empty() {
                    e.peer.as_str()
                } else {
                    e.connection.as_str()
                }
            })
            .collect();
        peers.sort_unstable();
        peers.dedup();
        peers.len()
    };
    let enough = crate::process::poll(Duration::from_secs(15), Duration::from_millis(250), || {
        (count_peers(&server.events()) >= connected).then_some(())
    });
    assert!(
        enough.is_some(),
        "expected handshake_aborted/connection_closed events for {connected} garbage peers, found {}; events:\n{}",
        count_peers(&server.events()),
        audit::describe(&server.events())
    );
    server.stop_and_check();
}
