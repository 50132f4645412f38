//! Two-step verification, end to end with real `xfreerdp`: after NLA the client sees
//! Rampart's prompt (checked by pixels and by OCR with `tesseract`), not the desktop; a
//! code computed by `oathtool` opens the desktop; three wrong codes close the connection
//! and count toward the source's ban; a recovery code works once; wrong codes count for the
//! user across connections, not per connection.

use std::time::Duration;

use crate::client::Session;
use crate::exclusive;
use crate::process::{poll, require_tool, run_bounded};
use crate::screen::{near, rgb, Image, Rgb};
use crate::server::{Config, Enrollment, Server, PASSWORD};

const SIZE: (u32, u32) = (1024, 768);
pub(crate) const DESKTOP: &str = "#3366cc";
/// The prompt's background (`rampart_protocol::worker::prompt::PROMPT_BACKGROUND`).
const PROMPT: Rgb = [0x15, 0x20, 0x2b];
const TOLERANCE: u8 = 12;

fn mfa_server(extra_toml: &str) -> (Server, Enrollment) {
    require_tool("xsetroot", "x11-xserver-utils");
    let mut server = Server::new(&Config {
        default_command: format!("xsetroot -solid '{DESKTOP}'; exec sleep 600"),
        mfa_required: true,
        extra_toml: extra_toml.to_owned(),
        ..Config::default()
    });
    let enrollment = server.add_user_with_mfa("alice", PASSWORD);
    server.start();
    (server, enrollment)
}

/// Logs alice in with her password and waits for the two-step prompt (`what` names the
/// moment in a failure); returns the session and the prompt's screenshot.
fn open_at_prompt(server: &Server, what: &str) -> (Session, Image) {
    open_at_prompt_as(server, "alice", SIZE, &[], what)
}

/// Logs `user` in at `size` (with extra xfreerdp arguments) and waits for the prompt.
pub(crate) fn open_at_prompt_as(
    server: &Server,
    user: &str,
    size: (u32, u32),
    client_args: &[&str],
    what: &str,
) -> (Session, Image) {
    let mut session = Session::start_with(server.port, user, PASSWORD, size, client_args, Duration::from_secs(30));
    let img = expect_screen(&mut session, server, 20, what, prompt_shown);
    (session, img)
}

fn whole(img: &Image) -> (usize, usize, usize, usize) {
    (0, 0, img.width, img.height)
}

/// The prompt's dark background in the corners and over a good part of the window (the
/// light panel in the middle covers the rest).
pub(crate) fn prompt_shown(img: &Image) -> bool {
    let (r, b) = (img.width.saturating_sub(5), img.height.saturating_sub(5));
    let corners = [(5, 5), (r, 5), (5, b), (r, b)];
    img.width > 10
        && img.height > 10
        && corners.iter().all(|&(x, y)| near(img.pixel(x, y), PROMPT, TOLERANCE))
        && img.fraction_near(whole(img), PROMPT, TOLERANCE) > 0.3
}

/// The desktop's colour near the four corners and in the middle of the window, whatever
/// its size (the tests' sessions draw nothing else there).
pub(crate) fn desktop_shown(img: &Image) -> bool {
    let (w, h) = (img.width, img.height);
    w > 40
        && h > 40
        && [(20, 20), (w - 20, 20), (w / 2, h / 2), (20, h - 20), (w - 20, h - 20)]
            .iter()
            .all(|&(x, y)| near(img.pixel(x, y), rgb(DESKTOP), TOLERANCE))
}

/// Waits <= `secs` for `check`; panics with a saved screenshot and both logs otherwise.
pub(crate) fn expect_screen(
    session: &mut Session,
    server: &Server,
    secs: u64,
    what: &str,
    check: fn(&Image) -> bool,
) -> Image {
    let (img, ok) = session.wait_for_screen(Duration::from_secs(secs), check);
    if !ok {
        let saved = img.as_ref().map(|i| i.save(&what.replace(' ', "_")));
        panic!(
            "{what}: not on screen within {secs} s; screenshot {saved:?}; client log:\n{}\nserver output:\n{}",
            crate::process::tail(&session.log_text(), 20),
            server.log_tail()
        );
    }
    img.unwrap()
}

/// Pixels that were the field's white in `before` and are dark ink in `after`.
fn dots_drawn(before: &Image, after: &Image) -> usize {
    if (before.width, before.height) != (after.width, after.height) {
        return 0;
    }
    let mut n = 0;
    for y in 0..after.height {
        for x in 0..after.width {
            let dark = after.pixel(x, y).iter().all(|&c| c < 100);
            if dark && near(before.pixel(x, y), [255, 255, 255], 6) {
                n += 1;
            }
        }
    }
    n
}

/// The text tesseract reads in `img`, lowercased.
fn ocr(img: &Image, name: &str) -> String {
    require_tool("tesseract", "tesseract-ocr");
    let path = img.save(name);
    let (status, out, err) = run_bounded(
        "tesseract",
        std::process::Command::new("tesseract").arg(&path).arg("-"),
        Duration::from_secs(60),
    );
    assert!(status.map(|s| s.success()).unwrap_or(false), "tesseract failed on {}: {err}", path.display());
    out.to_lowercase()
}

/// No desktop session was started or resumed; `what` says why one must not have been.
fn assert_no_session(server: &Server, what: &str) {
    let events = server.events();
    assert!(
        !events.iter().any(|e| e.is("session_started") || e.is("session_resumed")),
        "{what}:\n{}",
        crate::audit::describe(&events)
    );
}

fn count(server: &Server, kind: &str) -> usize {
    count_for(server, kind, "alice")
}

fn count_for(server: &Server, kind: &str, user: &str) -> usize {
    server.events().iter().filter(|e| e.is(kind) && e.user == user).count()
}

/// Types `code` and Enter into the client, then waits (<= 10 s) until the server has
/// audited one more check of a code.
fn submit(session: &Session, server: &Server, code: &str) {
    submit_as(session, server, "alice", code)
}

/// [`submit`] for `user`.
pub(crate) fn submit_as(session: &Session, server: &Server, user: &str, code: &str) {
    let before = count_for(server, "mfa_failed", user) + count_for(server, "mfa_succeeded", user);
    session.point_at(10, 10);
    session.type_text(code);
    session.key("Return");
    let checked = poll(Duration::from_secs(10), Duration::from_millis(100), || {
        (count_for(server, "mfa_failed", user) + count_for(server, "mfa_succeeded", user) > before).then_some(())
    });
    assert!(
        checked.is_some(),
        "no mfa_failed/mfa_succeeded event within 10 s of typing a code; events:\n{}",
        crate::audit::describe(&server.events())
    );
}

#[test]
fn prompt_then_desktop_with_an_oathtool_code() {
    let _turn = exclusive();
    let (mut server, enrollment) = mfa_server("");
    let (mut session, img) = open_at_prompt(&server, "two-step prompt");
    assert!(!desktop_shown(&img), "the desktop shows through the prompt");
    let text = ocr(&img, "mfa_prompt");
    for words in ["two-step verification", "alice", "attempts left", "code"] {
        assert!(text.contains(words), "OCR of the prompt lacks {words:?}; it read:\n{text}");
    }
    server.expect_event("auth_succeeded for alice, second factor pending", |e| {
        e.is("auth_succeeded") && e.user == "alice" && e.reason.contains("second factor pending")
    });
    assert_no_session(&server, "a session exists before the second factor");

    // Typed characters show as dots in the (white) field, never as themselves.
    session.point_at(512, 600);
    session.type_text("123");
    let (typed, ok) = session.wait_for_screen(Duration::from_secs(10), |now| dots_drawn(&img, now) > 200);
    if !ok {
        let saved = typed.as_ref().map(|i| i.save("mfa_prompt_dots"));
        panic!("no dots appeared in the field after typing 3 digits; screenshot {saved:?}");
    }
    let text = ocr(&typed.unwrap(), "mfa_prompt_dots");
    assert!(!text.contains("123"), "the typed digits are readable on screen:\n{text}");
    // Escape clears the field; then the real code.
    session.key("Escape");
    submit(&session, &server, &enrollment.oathtool_code());
    expect_screen(&mut session, &server, 30, "desktop after the code", desktop_shown);
    server.expect_event("mfa_succeeded (totp)", |e| {
        e.is("mfa_succeeded") && e.user == "alice" && e.reason.contains("totp")
    });
    server.expect_event("session_started for alice", |e| e.is("session_started") && e.user == "alice");
    server.expect_found("mfa_succeeded", Some("127.0.0.1"), Some("alice"));
    server.expect_found("session_started", Some("127.0.0.1"), Some("alice"));
    drop(session);
    server.stop_and_check();
}

#[test]
fn three_wrong_codes_close_the_connection_and_count_toward_a_ban() {
    let _turn = exclusive();
    // Three failures ban the source, so the three wrong codes alone must do it.
    let (mut server, enrollment) = mfa_server("[guard]\nmax_failures = 3\n");
    let (mut session, _) = open_at_prompt(&server, "two-step prompt");
    let good: u32 = enrollment.oathtool_code().parse().unwrap();
    for i in 1..=3u32 {
        let wrong = format!("{:06}", (good + 111_111 * i) % 1_000_000);
        submit(&session, &server, &wrong);
    }
    let exited = session.exits_within(Duration::from_secs(20));
    let events = server.events();
    assert!(
        exited,
        "xfreerdp still connected 20 s after the third wrong code; events:\n{}",
        crate::audit::describe(&events)
    );
    assert_eq!(count(&server, "mfa_failed"), 3, "events:\n{}", crate::audit::describe(&events));
    assert_eq!(count(&server, "mfa_succeeded"), 0);
    server.expect_event("connection closed after too many wrong codes", |e| {
        e.reason.contains("too many wrong codes")
    });
    server.expect_event("source banned after three wrong codes", |e| {
        e.is("source_banned") && e.peer_ip() == "127.0.0.1"
    });
    server.expect_found("mfa_failed", Some("127.0.0.1"), Some("alice"));
    server.expect_found("source_banned", Some("127.0.0.1"), None);
    assert_no_session(&server, "a session was started without a good code");
    drop(session);
    server.stop_and_check();
}

#[test]
fn a_recovery_code_works_once() {
    let _turn = exclusive();
    let (mut server, enrollment) = mfa_server("");
    let first = &enrollment.recovery_codes[0];

    let (mut session, _) = open_at_prompt(&server, "two-step prompt");
    submit(&session, &server, first);
    expect_screen(&mut session, &server, 30, "desktop after a recovery code", desktop_shown);
    server.expect_event("mfa_succeeded with a recovery code", |e| {
        e.is("mfa_succeeded") && e.reason.contains("recovery code accepted; 9 left")
    });
    drop(session);

    // A wrong code, then the client goes away: the attempt stays counted for alice.
    let (session, _) = open_at_prompt(&server, "two-step prompt, second connection");
    submit(&session, &server, "12345");
    server.expect_event("a wrong code, 2 attempts left", |e| {
        e.is("mfa_failed") && e.reason == "wrong code; 2 attempts left"
    });
    drop(session);
    // Wait out the (user, source) back-off the failure started.
    std::thread::sleep(Duration::from_secs(2));

    // The used code again, on a new connection: refused with the attempts alice has left
    // (not a fresh three), the prompt stays; another code still works.
    let (mut session, _) = open_at_prompt(&server, "two-step prompt again");
    submit(&session, &server, first);
    server.expect_event("the used recovery code is refused, 1 attempt left", |e| {
        e.is("mfa_failed") && e.reason == "code already used; 1 attempts left"
    });
    let img = session.screenshot().unwrap();
    assert!(prompt_shown(&img), "the prompt went away after a used recovery code");
    submit(&session, &server, &enrollment.recovery_codes[1]);
    expect_screen(&mut session, &server, 30, "desktop after a second recovery code", desktop_shown);
    // The first connection's session is still there: this one resumed it.
    server.expect_found("session_resumed", Some("127.0.0.1"), Some("alice"));
    drop(session);
    server.stop_and_check();
}

#[test]
fn an_idle_prompt_closes_at_its_deadline() {
    let _turn = exclusive();
    let (mut server, _enrollment) = mfa_server("[auth]\nmfa_prompt_timeout_secs = 10\n");
    let (mut session, _) = open_at_prompt(&server, "two-step prompt");
    let exited = session.exits_within(Duration::from_secs(25));
    let events = server.events();
    assert!(
        exited,
        "xfreerdp still connected 25 s into a 10 s prompt; events:\n{}",
        crate::audit::describe(&events)
    );
    server.expect_event("connection closed: prompt timed out", |e| {
        e.user == "alice" && e.reason.contains("two-step prompt timed out")
    });
    assert_no_session(&server, "a session was started without a code");
    drop(session);
    server.stop_and_check();
}
