//! A flood of refused connections from thousands of loopback sources, each a new address
//! (so each is audited: the refusal audit is rate-limited per source only), while a real
//! client logs in. The server's one audit writer batches the refusals, so the login's own
//! events are not queued behind one fsync per refusal: the login goes through, every
//! refusal the server accepted is in the trail exactly once, and the chain verifies.
//! Nothing here is timed; the flood is bounded in count and every wait is bounded.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use socket2::{Domain, Socket, Type};

use crate::client::auth_only_on;
use crate::display::Xvfb;
use crate::exclusive;
use crate::process::poll;
use crate::server::{Config, Server, PASSWORD};

/// Flood sources: 127.3.(i / 250).(i % 250 + 1), each used once.
const MAX_SOURCES: usize = 20_000;
const THREADS: usize = 4;
/// Refusals confirmed before the login starts (so it starts in the middle of the flood).
const HEAD_START: usize = 200;

fn source(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 3, (i / 250) as u8, (i % 250 + 1) as u8)
}

/// Connects from `from` and waits (<= 3 s) for the server to close the connection: true
/// once it did, which proves it accepted (and refused) it.
fn knock(from: Ipv4Addr, server: SocketAddr) -> bool {
    let attempt = || -> std::io::Result<bool> {
        let s = Socket::new(Domain::IPV4, Type::STREAM, None)?;
        s.bind(&SocketAddr::from((from, 0)).into())?;
        s.connect_timeout(&server.into(), Duration::from_secs(3))?;
        let mut s: TcpStream = s.into();
        s.set_read_timeout(Some(Duration::from_secs(3)))?;
        let mut buf = [0u8; 64];
        Ok(match s.read(&mut buf) {
            Ok(0) => true,
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
            Ok(_) => false,
        })
    };
    attempt().unwrap_or(false)
}

/// The `connection_refused` events per flood source address.
fn refusals(server: &Server) -> HashMap<String, usize> {
    let conn = rusqlite::Connection::open_with_flags(
        server.db_path(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .expect("open the store read-only");
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    let mut stmt = conn
        .prepare("SELECT peer FROM events WHERE kind = 'connection_refused' AND peer LIKE '127.3.%'")
        .unwrap();
    let mut counts = HashMap::new();
    for peer in stmt.query_map([], |r| r.get::<_, String>(0)).unwrap() {
        let peer = peer.unwrap();
        let ip = peer.rsplit_once(':').map_or(peer.as_str(), |(ip, _)| ip).to_owned();
        *counts.entry(ip).or_insert(0) += 1;
    }
    counts
}

#[test]
fn a_flood_of_refused_sources_is_all_on_record_while_a_login_succeeds() {
    let _turn = exclusive();
    let mut server = Server::new(&Config {
        // Only 127.0.0.1 may connect: the flood's sources are refused at accept.
        extra_toml: "[guard]\nallow = [\"127.0.0.1/32\"]\n".to_owned(),
        ..Config::default()
    });
    server.add_user("alice", PASSWORD);
    server.start();
    let target = SocketAddr::from(([127, 0, 0, 1], server.port));
    let x = Xvfb::start(640, 480);

    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let confirmed: Mutex<HashSet<String>> = Mutex::new(HashSet::new());
    let (login, during) = std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= MAX_SOURCES || stop.load(Ordering::SeqCst) {
                    break;
                }
                if knock(source(i), target) {
                    confirmed.lock().unwrap().insert(source(i).to_string());
                }
            });
        }
        let started = poll(Duration::from_secs(60), Duration::from_millis(20), || {
            let n = confirmed.lock().unwrap().len();
            (n >= HEAD_START).then_some(n)
        });
        let Some(before) = started else {
            stop.store(true, Ordering::SeqCst);
            panic!("the flood got fewer than {HEAD_START} connections refused in 60 s:\n{}", server.log_tail());
        };
        let login = auth_only_on(&x, server.port, "alice", PASSWORD, "nla", Duration::from_secs(30));
        let after = confirmed.lock().unwrap().len();
        stop.store(true, Ordering::SeqCst);
        (login, (before, after))
    });
    let confirmed = confirmed.into_inner().unwrap();
    eprintln!(
        "flood: {} sources refused in all, {} of them while the login ran; login: {}",
        confirmed.len(),
        during.1 - during.0,
        login.summary()
    );
    assert!(
        login.succeeded(),
        "alice's login from 127.0.0.1 failed during the flood: {}\nserver output:\n{}",
        login.summary(),
        server.log_tail()
    );
    assert!(during.1 > during.0, "the flood made no progress while the login ran: {during:?}");
    server.expect_found("auth_succeeded", Some("127.0.0.1"), Some("alice"));

    // Every refusal the server was seen to make is on record, each exactly once.
    let on_record = poll(Duration::from_secs(120), Duration::from_millis(500), || {
        let counts = refusals(&server);
        confirmed.iter().all(|ip| counts.contains_key(ip)).then_some(counts)
    });
    let counts = on_record.unwrap_or_else(|| {
        let counts = refusals(&server);
        let missing: Vec<&String> = confirmed.iter().filter(|ip| !counts.contains_key(*ip)).take(10).collect();
        panic!(
            "{} refused sources are not in the trail after 120 s (e.g. {missing:?}); server output:\n{}",
            confirmed.iter().filter(|ip| !counts.contains_key(*ip)).count(),
            server.log_tail()
        )
    });
    let twice: Vec<(&String, &usize)> = counts.iter().filter(|(_, &n)| n != 1).take(10).collect();
    assert!(twice.is_empty(), "sources refused once but recorded more than once: {twice:?}");
    let used: HashSet<String> = (0..next.load(Ordering::SeqCst).min(MAX_SOURCES)).map(|i| source(i).to_string()).collect();
    let strangers: Vec<&String> = counts.keys().filter(|ip| !used.contains(*ip)).take(10).collect();
    assert!(strangers.is_empty(), "refusals recorded for sources the flood never used: {strangers:?}");

    server.stop_and_check();
    let (ok, out) = server.cli(&["audit", "verify"], None);
    assert!(ok && out.starts_with("intact, "), "`rampart audit verify`: {out}");
    let events: usize = out
        .trim_start_matches("intact, ")
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(events >= counts.len() + 3, "the verified chain holds {events} events, fewer than the {} refusals and the login: {out}", counts.len());
}
