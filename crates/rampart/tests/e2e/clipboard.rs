//! The clipboard, for real: `xclip` copies and pastes on the client's X display (where
//! xfreerdp runs with `+clipboard`) and inside the session (as root, with the session's
//! DISPLAY and XAUTHORITY). Text both ways with non-ASCII characters, the size cap, the
//! per-user policies that block one direction or both, the audit record (counts and
//! sizes, never the content), and no clipboard before the second factor (what the client
//! copied at the prompt reaches the session only once the code passed).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::account::shared_tempdir;
use crate::audit::Event;
use crate::client::Session;
use crate::exclusive;
use crate::process::{poll, require_tool, run_bounded, tail, Guarded};
use crate::server::{Config, Server, PASSWORD};

const SIZE: (u32, u32) = (800, 600);
/// How long an allowed transfer may take (copy on one side, paste on the other).
const ARRIVES_WITHIN: Duration = Duration::from_secs(15);
/// How long a blocked transfer is watched for before it counts as blocked; allowed ones
/// arrive in well under a second here.
const BLOCKED_FOR: Duration = Duration::from_secs(4);
/// The size cap the servers here run with.
const CAP: usize = 16 * 1024;

const TO_SERVER_TEXT: &str = "Grüße — 日本語 ✓ from the client\nsecond line";
const TO_CLIENT_TEXT: &str = "Ωμέγα 😀 ✓ from the session\nzweite Zeile";

/// A server whose sessions append "DISPLAY XAUTHORITY" to `<shared>/sessions` and wait.
fn clipboard_server(shared: &Path, extra_toml: &str, users: &[&str]) -> Server {
    let sessions = shared.join("sessions");
    let mut server = Server::new(&Config {
        default_command: format!(
            "printf '%s %s\\n' \"$DISPLAY\" \"$XAUTHORITY\" >> '{}'; exec sleep 600",
            sessions.display()
        ),
        session_toml: format!("clipboard_max_bytes = {CAP}\n"),
        extra_toml: extra_toml.to_owned(),
        ..Config::default()
    });
    for user in users {
        server.add_user(user, PASSWORD);
    }
    server.start();
    server
}

/// One session as seen from both sides.
struct Sides {
    client: Session,
    /// The session's display and its Xauthority file.
    display: String,
    xauthority: String,
    /// `xclip -i` processes holding a selection (stopped on drop).
    owners: Vec<Guarded>,
    scratch: tempfile::TempDir,
}

/// Opens `user`'s session with `xfreerdp +clipboard` and learns its display from the line
/// its session command wrote.
fn open(server: &Server, shared: &Path, user: &str) -> Sides {
    let sessions = shared.join("sessions");
    let before = std::fs::read_to_string(&sessions).unwrap_or_default().lines().count();
    let client = Session::start_with(server.port, user, PASSWORD, SIZE, &["+clipboard"], Duration::from_secs(30));
    let line = poll(Duration::from_secs(20), Duration::from_millis(100), || {
        let text = std::fs::read_to_string(&sessions).unwrap_or_default();
        text.lines().nth(before).map(str::to_owned)
    })
    .unwrap_or_else(|| panic!("{user}'s session never reported its display; server output:\n{}", server.log_tail()));
    let (display, xauthority) = line.split_once(' ').expect("DISPLAY XAUTHORITY");
    Sides {
        client,
        display: display.to_owned(),
        xauthority: xauthority.to_owned(),
        owners: Vec::new(),
        scratch: tempfile::tempdir().expect("tempdir"),
    }
}

impl Sides {
    fn session_xclip(&self) -> Command {
        let mut cmd = Command::new("xclip");
        cmd.env("DISPLAY", &self.display).env("XAUTHORITY", &self.xauthority);
        cmd
    }

    fn client_xclip(&self) -> Command {
        self.client.x.command("xclip")
    }

    /// `xclip -i` of `text` on one side; it holds the selection until stopped.
    fn copy(&mut self, on_client: bool, text: &str) {
        let n = self.owners.len();
        let file: PathBuf = self.scratch.path().join(format!("copy{n}.txt"));
        std::fs::write(&file, text).expect("write copy file");
        let mut cmd = if on_client { self.client_xclip() } else { self.session_xclip() };
        cmd.args(["-selection", "clipboard", "-quiet", "-i"]).arg(&file);
        let log = self.scratch.path().join(format!("copy{n}.log"));
        self.owners.push(Guarded::spawn("xclip -i", &mut cmd, &log));
    }

    /// One `xclip -o` on one side: what a paste there gets (None: nothing, or refused).
    fn paste(&self, on_client: bool) -> Option<String> {
        let mut cmd = if on_client { self.client_xclip() } else { self.session_xclip() };
        cmd.args(["-selection", "clipboard", "-o"]);
        let (status, out, _) = run_bounded("xclip -o", &mut cmd, Duration::from_secs(10));
        status.filter(|s| s.success()).map(|_| out)
    }

    /// Pastes on one side until `want` arrives (bounded).
    fn arrives(&self, on_client: bool, want: &str, limit: Duration) -> Result<(), Option<String>> {
        let mut last = None;
        let got = poll(limit, Duration::from_millis(300), || {
            let got = self.paste(on_client);
            let hit = got.as_deref() == Some(want);
            last = got;
            hit.then_some(())
        });
        got.ok_or(last)
    }

    fn expect_arrives(&self, server: &Server, to_client: bool, want: &str) {
        if let Err(last) = self.arrives(to_client, want, ARRIVES_WITHIN) {
            panic!(
                "{} paste never got {want:?} within {ARRIVES_WITHIN:?} (last: {last:?}); client log:\n{}\nserver output:\n{}",
                if to_client { "the client's" } else { "the session's" },
                tail(&self.client.log_text(), 15),
                server.log_tail()
            );
        }
    }

    fn expect_blocked(&self, server: &Server, to_client: bool, text: &str, why: &str) {
        if self.arrives(to_client, text, BLOCKED_FOR).is_ok() {
            panic!(
                "{why}: {text:?} reached the {} anyway; server output:\n{}",
                if to_client { "client" } else { "session" },
                server.log_tail()
            );
        }
    }
}

/// The `clipboard_transfer` record of `user` for `direction`, parsed into
/// (transfers, bytes, refused).
fn transfer_record(events: &[Event], user: &str, direction: &str) -> Option<(u64, u64, u64)> {
    let event = events
        .iter()
        .find(|e| e.is("clipboard_transfer") && e.user == user && e.reason.contains(&format!("direction={direction} ")))?;
    let field = |key: &str| -> u64 {
        event
            .reason
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {key}= in {:?}", event.reason))
    };
    Some((field("transfers"), field("bytes"), field("refused")))
}

fn clipboard_tools() {
    require_tool("xclip", "xclip");
}

#[test]
fn clipboard_both_ways_with_a_size_cap() {
    let _turn = exclusive();
    clipboard_tools();
    let shared = shared_tempdir();
    let mut server = clipboard_server(shared.path(), "", &["alice"]);
    let mut sides = open(&server, shared.path(), "alice");

    // Client to session: copied in the client's X display, pasted inside the session.
    sides.copy(true, TO_SERVER_TEXT);
    sides.expect_arrives(&server, false, TO_SERVER_TEXT);
    // Session to client.
    sides.copy(false, TO_CLIENT_TEXT);
    sides.expect_arrives(&server, true, TO_CLIENT_TEXT);

    // Over the cap, either way: the other side does not get it.
    let big_from_session = "s".repeat(CAP + 1);
    sides.copy(false, &big_from_session);
    sides.expect_blocked(&server, true, &big_from_session, "text over clipboard_max_bytes");
    let big_from_client = "c".repeat(CAP + 1);
    sides.copy(true, &big_from_client);
    sides.expect_blocked(&server, false, &big_from_client, "text over clipboard_max_bytes");
    // Right at the cap is fine (the cap counts the text's UTF-8 bytes).
    let at_cap = format!("{}é", "k".repeat(CAP - 2));
    assert_eq!(at_cap.len(), CAP);
    sides.copy(false, &at_cap);
    sides.expect_arrives(&server, true, &at_cap);

    let started = server.expect_event("session_started for alice", |e| e.is("session_started") && e.user == "alice");
    assert!(started.reason.contains("clipboard both"), "the grant is on record: {:?}", started.reason);

    // The audit trail, written when the connection ends: counts and sizes, not the text.
    let (display, xauthority) = (sides.display.clone(), sides.xauthority.clone());
    drop(sides);
    server.expect_event("clipboard_transfer for alice", |e| e.is("clipboard_transfer") && e.user == "alice");
    server.expect_found("clipboard_transfer", Some("127.0.0.1"), Some("alice"));
    let events = server.events();
    let (n, bytes, refused) = transfer_record(&events, "alice", "to-server")
        .unwrap_or_else(|| panic!("no to-server record: {}", crate::audit::describe(&events)));
    // A paste may be answered more than once (each counted); each carried the whole text.
    assert!(n >= 1 && bytes % TO_SERVER_TEXT.len() as u64 == 0 && bytes >= TO_SERVER_TEXT.len() as u64, "to-server: {n} transfers, {bytes} bytes");
    assert!(refused >= 1, "the over-cap copy from the client is counted as refused");
    let (n, bytes, refused) = transfer_record(&events, "alice", "to-client")
        .unwrap_or_else(|| panic!("no to-client record: {}", crate::audit::describe(&events)));
    assert!(n >= 2, "to-client: {n} transfers");
    assert!(bytes >= (TO_CLIENT_TEXT.len() + CAP) as u64, "to-client bytes {bytes}");
    assert!(refused >= 1, "the over-cap copy in the session is counted as refused");
    for e in events.iter().filter(|e| e.is("clipboard_transfer")) {
        for secret in ["Grüße", "Ωμέγα", "from the"] {
            assert!(!e.reason.contains(secret), "clipboard content in the audit trail: {:?}", e.reason);
        }
    }

    // Copied in the session while no client was connected: a client that comes back is
    // told once its clipboard channel is up, and can paste it.
    let client = Session::start_with(server.port, "alice", PASSWORD, SIZE, &["+clipboard"], Duration::from_secs(30));
    let mut sides = Sides {
        client,
        display,
        xauthority,
        owners: Vec::new(),
        scratch: tempfile::tempdir().expect("tempdir"),
    };
    sides.copy(false, TO_CLIENT_TEXT);
    std::thread::sleep(Duration::from_millis(500));
    drop(sides.client);
    let client = Session::start_with(server.port, "alice", PASSWORD, SIZE, &["+clipboard"], Duration::from_secs(30));
    let sides = Sides { client, ..sides };
    sides.expect_arrives(&server, true, TO_CLIENT_TEXT);
    drop(sides);
    server.stop_and_check();
}

#[test]
fn clipboard_policies_block_their_directions() {
    let _turn = exclusive();
    clipboard_tools();
    let shared = shared_tempdir();
    let mut server = clipboard_server(
        shared.path(),
        "\n[session.users.bob]\nclipboard = \"off\"\n\n\
         [session.users.carol]\nclipboard = \"to-client\"\n\n\
         [session.users.dave]\nclipboard = \"to-server\"\n",
        &["bob", "carol", "dave"],
    );

    // carol: session to client only. The allowed way works in the same session, so the
    // blocked one is blocked by policy, not by a broken channel.
    let mut sides = open(&server, shared.path(), "carol");
    sides.copy(true, TO_SERVER_TEXT);
    sides.expect_blocked(&server, false, TO_SERVER_TEXT, "clipboard = \"to-client\"");
    sides.copy(false, TO_CLIENT_TEXT);
    sides.expect_arrives(&server, true, TO_CLIENT_TEXT);
    drop(sides);

    // dave: client to session only.
    let mut sides = open(&server, shared.path(), "dave");
    sides.copy(true, TO_SERVER_TEXT);
    sides.expect_arrives(&server, false, TO_SERVER_TEXT);
    sides.copy(false, TO_CLIENT_TEXT);
    sides.expect_blocked(&server, true, TO_CLIENT_TEXT, "clipboard = \"to-server\"");
    drop(sides);

    // bob: off, both ways.
    let mut sides = open(&server, shared.path(), "bob");
    sides.copy(true, TO_SERVER_TEXT);
    sides.expect_blocked(&server, false, TO_SERVER_TEXT, "clipboard = \"off\"");
    sides.copy(false, TO_CLIENT_TEXT);
    sides.expect_blocked(&server, true, TO_CLIENT_TEXT, "clipboard = \"off\"");
    drop(sides);

    for (user, policy) in [("bob", "off"), ("carol", "to-client"), ("dave", "to-server")] {
        let e = server.expect_event(&format!("session_started for {user}"), |e| e.is("session_started") && e.user == user);
        assert!(e.reason.contains(&format!("clipboard {policy}")), "{user}'s grant: {:?}", e.reason);
    }
    server.expect_event("session_disconnected for bob", |e| e.is("session_disconnected") && e.user == "bob");
    let events = server.events();
    assert!(transfer_record(&events, "carol", "to-client").is_some_and(|(n, _, _)| n >= 1));
    assert!(transfer_record(&events, "dave", "to-server").is_some_and(|(n, _, _)| n >= 1));
    for (user, direction) in [("carol", "to-server"), ("dave", "to-client"), ("bob", "to-client"), ("bob", "to-server")] {
        assert_eq!(transfer_record(&events, user, direction), None, "{user} {direction}: {}", crate::audit::describe(&events));
    }
    server.stop_and_check();
}

#[test]
fn clipboard_starts_only_after_the_second_factor() {
    let _turn = exclusive();
    clipboard_tools();
    let shared = shared_tempdir();
    let sessions = shared.path().join("sessions");
    let mut server = Server::new(&Config {
        default_command: format!(
            "printf '%s %s\\n' \"$DISPLAY\" \"$XAUTHORITY\" >> '{}'; exec sleep 600",
            sessions.display()
        ),
        mfa_required: true,
        ..Config::default()
    });
    let enrollment = server.add_user_with_mfa("alice", PASSWORD);
    server.start();

    // At the prompt there is no session, and the client's copy goes nowhere yet.
    let (client, _) = crate::mfa::open_at_prompt_as(&server, "alice", SIZE, &["+clipboard"], "prompt with clipboard");
    let mut sides = Sides {
        client,
        display: String::new(),
        xauthority: String::new(),
        owners: Vec::new(),
        scratch: tempfile::tempdir().expect("tempdir"),
    };
    sides.copy(true, TO_SERVER_TEXT);
    std::thread::sleep(Duration::from_secs(1));
    assert!(!sessions.exists(), "a session started before the second factor");

    // After the code, the session gets what the client had copied at the prompt.
    crate::mfa::submit_as(&sides.client, &server, "alice", &enrollment.oathtool_code());
    let line = poll(Duration::from_secs(30), Duration::from_millis(100), || {
        std::fs::read_to_string(&sessions).ok().and_then(|t| t.lines().next().map(str::to_owned))
    })
    .unwrap_or_else(|| panic!("no session after the code; server output:\n{}", server.log_tail()));
    let (display, xauthority) = line.split_once(' ').expect("DISPLAY XAUTHORITY");
    sides.display = display.to_owned();
    sides.xauthority = xauthority.to_owned();
    sides.expect_arrives(&server, false, TO_SERVER_TEXT);
    sides.copy(false, TO_CLIENT_TEXT);
    sides.expect_arrives(&server, true, TO_CLIENT_TEXT);
    drop(sides);
    server.stop_and_check();
}
