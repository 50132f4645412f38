//! Full sessions: the remote desktop shows up in the client window, keys typed in
//! the client arrive in the session, two users at once.

use std::time::{Duration, Instant};

use crate::account::shared_tempdir;
use crate::client::Session;
use crate::exclusive;
use crate::process::require_tool;
use crate::screen::{hex, near, rgb, Image, Rgb};
use crate::server::{Config, Server, PASSWORD};

const SIZE: (u32, u32) = (1024, 768);
const BACKGROUND: &str = "#3366cc";
/// RemoteFX is lossy.
const TOLERANCE: u8 = 12;
/// Points of the root window that no test window covers.
const BACKGROUND_POINTS: [(usize, usize); 5] =
    [(20, 20), (1000, 20), (512, 300), (20, 740), (1000, 740)];

fn session_tools() {
    require_tool("xsetroot", "x11-xserver-utils");
    require_tool("xterm", "xterm");
}

/// A server whose sessions run `default_command`, with `users` enrolled, started.
fn desktop_server(default_command: String, users: &[&str]) -> Server {
    let mut server = Server::new(&Config {
        default_command,
        ..Config::default()
    });
    for user in users {
        server.add_user(user, PASSWORD);
    }
    server.start();
    server
}

/// A real xfreerdp session of `user` at `SIZE`.
fn open_session(server: &Server, user: &str) -> Session {
    Session::start(server.port, user, PASSWORD, SIZE, Duration::from_secs(30))
}

fn background_shown(img: &Image) -> bool {
    BACKGROUND_POINTS.iter().all(|&(x, y)| {
        x < img.width && y < img.height && near(img.pixel(x, y), rgb(BACKGROUND), TOLERANCE)
    })
}

fn describe_points(img: &Image, points: &[(usize, usize)]) -> String {
    points
        .iter()
        .map(|&(x, y)| {
            let got: Rgb = if x < img.width && y < img.height {
                img.pixel(x, y)
            } else {
                [0, 0, 0]
            };
            format!("({x},{y})={}", hex(got))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Waits <= 20 s for the blue background in `session`'s window; fails with the
/// pixels seen (and a saved screenshot) otherwise.
fn expect_background(session: &mut Session, server: &Server, name: &str) -> Image {
    let (img, ok) = session.wait_for_screen(Duration::from_secs(20), background_shown);
    let Some(img) = img else {
        panic!(
            "{name}: no screenshot of the client window could be taken; client log:\n{}\nserver output:\n{}",
            crate::process::tail(&session.log_text(), 20),
            server.log_tail()
        )
    };
    if !ok {
        let saved = img.save(name);
        panic!(
            "{name}: the session background {BACKGROUND} did not appear within 20 s (±{TOLERANCE} per channel); \
             window {}x{}, pixels {}; screenshot {}; client log:\n{}\nserver output:\n{}",
            img.width,
            img.height,
            describe_points(&img, &BACKGROUND_POINTS),
            saved.display(),
            crate::process::tail(&session.log_text(), 20),
            server.log_tail()
        );
    }
    img
}

#[test]
fn desktop_visible() {
    let _turn = exclusive();
    session_tools();
    let mut server = desktop_server(
        format!("xsetroot -solid '{BACKGROUND}'; xterm -bg white -fg black -geometry 40x8+600+400 & exec sleep 600"),
        &["alice"],
    );
    let mut session = open_session(&server, "alice");
    let img = expect_background(&mut session, &server, "desktop_visible");
    assert_eq!(
        (img.width, img.height),
        (1024, 768),
        "client window size differs from /size:1024x768"
    );
    // The xterm (white, at 600,400) is drawn too: wait for it, bounded.
    let xterm_area = (620, 430, 780, 490);
    let (img, ok) = session.wait_for_screen(Duration::from_secs(15), |img| {
        img.fraction_near(xterm_area, [255, 255, 255], TOLERANCE) > 0.6
    });
    if !ok {
        let path = img.as_ref().map(|i| i.save("desktop_visible_xterm"));
        panic!("the session's xterm (white at 600,400) never showed in the client window; screenshot {path:?}");
    }
    server.expect_event("session_started for alice", |e| {
        e.is("session_started") && e.user == "alice"
    });
    drop(session);
    server.stop_and_check();
}

#[test]
fn typing_arrives() {
    let _turn = exclusive();
    session_tools();
    let shared = shared_tempdir();
    let typed = shared.path().join("typed.txt");
    let mut server = desktop_server(
        format!(
            "xsetroot -solid '{BACKGROUND}'; exec xterm -bg white -fg black -geometry 80x24+0+0 -e sh -c 'cat > {}'",
            typed.display()
        ),
        &["alice"],
    );
    let mut session = open_session(&server, "alice");
    // Wait until the xterm is up (white where it is). The background is
    // desktop_visible's business: this test is about keys.
    let xterm_ready = |img: &Image| {
        img.width >= 1000
            && img.fraction_near((100, 100, 300, 200), [255, 255, 255], TOLERANCE) > 0.9
    };
    let (img, ok) = session.wait_for_screen(Duration::from_secs(20), xterm_ready);
    if !ok {
        let path = img.as_ref().map(|i| i.save("typing_arrives"));
        panic!(
            "the session's xterm never showed (screenshot {path:?}); client log:\n{}\nserver output:\n{}",
            crate::process::tail(&session.log_text(), 20),
            server.log_tail()
        );
    }
    // xterm opened the file once `cat` runs; give it the pointer (focus follows it).
    let _ = crate::process::poll(Duration::from_secs(10), Duration::from_millis(100), || {
        typed.exists().then_some(())
    });
    session.point_at(200, 150);
    let text = "Hello, World! 123 @#";
    session.type_text(text);
    session.key("Return");
    let want = format!("{text}\n");
    let t0 = Instant::now();
    let got = crate::process::poll(Duration::from_secs(15), Duration::from_millis(200), || {
        let got = std::fs::read_to_string(&typed).unwrap_or_default();
        (got == want).then_some(got)
    });
    if got.is_none() {
        let seen = std::fs::read_to_string(&typed);
        let path = session
            .screenshot()
            .ok()
            .map(|i| i.save("typing_arrives_after"));
        panic!(
            "typed line did not arrive within {:?}: want {want:?}, file has {seen:?}; screenshot {path:?}\nserver output:\n{}",
            t0.elapsed(),
            server.log_tail()
        );
    }
    // End of input: `cat` exits, so does the xterm, and with it the session. A session
    // outlives connections, so its end has a user but no source address.
    session.key("ctrl+d");
    server.expect_found("session_ended", None, Some("alice"));
    drop(session);
    server.stop_and_check();
}

#[test]
fn two_clients_at_once() {
    let _turn = exclusive();
    session_tools();
    let mut server = desktop_server(format!("xsetroot -solid '{BACKGROUND}'; exec sleep 600"), &["bob", "carol"]);
    let mut bob = open_session(&server, "bob");
    let mut carol = open_session(&server, "carol");
    expect_background(&mut bob, &server, "two_clients_bob");
    expect_background(&mut carol, &server, "two_clients_carol");
    // Both still connected and still drawn after the other one arrived.
    assert!(
        bob.is_running(),
        "bob's client exited once carol connected:\n{}",
        bob.log_text()
    );
    expect_background(&mut bob, &server, "two_clients_bob_again");
    for user in ["bob", "carol"] {
        server.expect_event(&format!("session_started for {user}"), |e| {
            e.is("session_started") && e.user == user
        });
    }
    drop(bob);
    drop(carol);
    server.stop_and_check();
}

#[test]
fn locking_a_user_ends_their_connection() {
    let _turn = exclusive();
    session_tools();
    let mut server = desktop_server(format!("xsetroot -solid '{BACKGROUND}'; exec sleep 600"), &["alice"]);
    let mut session = open_session(&server, "alice");
    expect_background(&mut session, &server, "locking_a_user_ends_their_connection");
    let (ok, out) = server.cli(&["user", "lock", "alice"], None);
    assert!(ok, "user lock failed: {out}");
    // The server reads the store every 2 s.
    let gone = session.exits_within(Duration::from_secs(15));
    assert!(
        gone,
        "alice's client is still connected 15 s after `rampart user lock alice`; server output:\n{}",
        server.log_tail()
    );
    server.expect_event("connection closed for the lock", |e| {
        e.is("connection_closed") && e.user == "alice" && e.reason.contains("account locked")
    });
    server.expect_found("session_disconnected", Some("127.0.0.1"), Some("alice"));
    drop(session);
    server.stop_and_check();
}
