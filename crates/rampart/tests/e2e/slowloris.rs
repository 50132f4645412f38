//! A slow-connection flood from one address (issue 3): hundreds of connections that send
//! the first bytes of an X.224 request and stall. The per-source caps must keep all but a
//! handful out at accept, the handshake deadline must close the admitted ones, and a
//! legitimate login from another address must not notice.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::client::auth_only;
use crate::exclusive;
use crate::garbage::{self, Garbage};
use crate::server::{Config, Server, PASSWORD};

/// Stalled connections opened by the flood (bounded; each holds at most `HOLD`).
const FLOOD: usize = 300;
const HOLD: Duration = Duration::from_secs(9);
const HANDSHAKE_TIMEOUT_SECS: u32 = 4;
const SOURCE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 5);

#[test]
fn slow_connection_flood_does_not_stop_a_login_from_elsewhere() {
    let _turn = exclusive();
    let mut server = Server::new(&Config {
        handshake_timeout_secs: HANDSHAKE_TIMEOUT_SECS,
        ..Config::default()
    });
    server.add_user("alice", PASSWORD);
    server.start();
    let limit = Duration::from_secs(30);
    let baseline = auth_only(server.port, "alice", PASSWORD, "nla", limit);
    assert!(baseline.succeeded(), "baseline login failed: {}", baseline.summary());

    let target = SocketAddr::from(([127, 0, 0, 1], server.port));
    let peers: Vec<_> = (0..FLOOD)
        .map(|i| {
            std::thread::spawn(move || {
                garbage::run(Garbage::TruncatedConnectionRequest, SOURCE, target, HOLD, i as u64 + 1)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    let during = auth_only(server.port, "alice", PASSWORD, "nla", limit);
    let reports: Vec<_> = peers.into_iter().map(|p| p.join().expect("flood thread")).collect();

    let connected = reports.iter().filter(|r| r.connected).count();
    let cut_at_once = reports
        .iter()
        .filter(|r| r.closed_by_server_after.is_some_and(|d| d < Duration::from_secs(1)))
        .count();
    let never_closed = reports.iter().filter(|r| r.connected && r.closed_by_server_after.is_none()).count();
    eprintln!(
        "slowloris: {connected}/{FLOOD} connected, {cut_at_once} closed at once, {never_closed} held past {HOLD:?}; \
         login baseline {:?}, during flood {:?}",
        baseline.elapsed, during.elapsed
    );
    assert!(
        during.succeeded(),
        "legitimate login during the slow-connection flood failed: {}\nserver output:\n{}",
        during.summary(),
        server.log_tail()
    );
    assert!(
        during.elapsed <= baseline.elapsed + Duration::from_secs(1),
        "login took {:?} during the flood, {:?} before (+1 s allowed)",
        during.elapsed,
        baseline.elapsed
    );
    assert!(connected >= FLOOD / 2, "the flood itself did not connect ({connected}/{FLOOD})");
    assert!(
        cut_at_once + 10 >= connected,
        "expected all but a handful of the flood to be dropped at accept: {cut_at_once} of {connected}"
    );
    assert_eq!(never_closed, 0, "the server left stalled connections open past the handshake deadline");

    let events = server.events();
    let from_source = |kind: &str| {
        events
            .iter()
            .filter(|e| e.is(kind) && e.peer_ip() == SOURCE.to_string())
            .count()
    };
    let admitted = from_source("connection_accepted");
    assert!(
        (1..=10).contains(&admitted),
        "expected the per-source caps to admit between 1 and 10 of the flood, admitted {admitted}"
    );
    assert!(from_source("connection_refused") >= 1, "no refusal of the flood was audited");
    assert!(
        from_source("handshake_aborted") >= 1,
        "no admitted stalled connection was aborted at the handshake deadline"
    );
    let source = SOURCE.to_string();
    server.expect_found("handshake_aborted", Some(&source), None);
    server.expect_found("connection_refused", Some(&source), None);
    server.stop_and_check();
}
