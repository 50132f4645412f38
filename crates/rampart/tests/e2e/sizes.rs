//! Issue 8: the desktop at the sizes people use, with the defaults they get (two-step
//! verification on): at every size the prompt fills the client window, a code opens the
//! desktop, and typed text arrives, on a first connection and on a resume, on every codec
//! path a client can ask for. Then the session follows the client: a reconnect at another
//! size, a resized client window, a multi-monitor client, a minimised client restored.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::account::shared_tempdir;
use crate::client::Session;
use crate::exclusive;
use crate::mfa::{desktop_shown, expect_screen, open_at_prompt_as, prompt_shown, submit_as, DESKTOP};
use crate::process::{poll, require_tool, run_bounded};
use crate::screen::{near, rgb, Image};
use crate::server::{Config, Enrollment, Server, PASSWORD};

/// What users' screens are, and an odd one.
const SIZES: [(u32, u32); 7] = [
    (800, 600),
    (1024, 768),
    (1280, 800),
    (1366, 768),
    (1920, 1080),
    (2560, 1440),
    (1001, 703),
];

/// How the client asks for the picture.
#[derive(Clone, Copy, Debug)]
pub(crate) enum CodecPath {
    /// No codec offered (FreeRDP's modem profile): compressed plain bitmaps.
    Bitmap,
    /// RemoteFX over surface commands (the graphics pipeline refused).
    RemoteFx,
    /// The graphics pipeline with H.264 (AVC420), refined losslessly once still.
    Graphics,
}

impl CodecPath {
    fn client_args(self) -> &'static [&'static str] {
        match self {
            CodecPath::Bitmap => &["/network:modem"],
            CodecPath::RemoteFx => &["/rfx", "-gfx"],
            CodecPath::Graphics => &["/gfx:avc420"],
        }
    }

    /// Whether a server log line says this path was set up: the classic encoder's
    /// "update encoder ready" with its codec, or the graphics pipeline's choice of AVC420.
    fn logged_in(self, line: &str) -> bool {
        match self {
            CodecPath::Bitmap => line.contains("update encoder ready") && line.contains("\"bitmap\""),
            CodecPath::RemoteFx => line.contains("update encoder ready") && line.contains("\"remotefx\""),
            // The pipeline was chosen, and the desktop went out as H.264.
            CodecPath::Graphics => line.contains("first H.264 frame sent"),
        }
    }
}

/// Sessions write what they are to `dir`: `env-<display>` (DISPLAY and XAUTHORITY) and
/// `typed-<display>` (what an xterm reads from the keyboard).
fn session_command(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "n=$(echo $DISPLAY | tr -d :); echo \"$DISPLAY $XAUTHORITY\" > {d}/env-$n; \
         xsetroot -solid '{DESKTOP}'; \
         exec xterm -bg white -fg black -geometry 30x4+40+60 -e sh -c \"cat >> {d}/typed-$n\""
    )
}

pub(crate) fn server_for(shared: &Path, extra_toml: &str) -> Server {
    require_tool("xsetroot", "x11-xserver-utils");
    require_tool("xterm", "xterm");
    Server::new(&Config {
        default_command: session_command(shared),
        mfa_required: true,
        extra_toml: extra_toml.to_owned(),
        ..Config::default()
    })
}

/// The display number of `user`'s session, from the server's audit record.
pub(crate) fn display_of(server: &Server, user: &str) -> u32 {
    let is_session = |e: &crate::audit::Event| (e.is("session_started") || e.is("session_resumed")) && e.user == user;
    server.expect_event(&format!("session started or resumed for {user}"), is_session);
    // The latest one: a restarted server may have put the user on another display.
    let ev = server.events().into_iter().rev().find(is_session).expect("the event just seen");
    ev.reason
        .split_whitespace()
        .find_map(|w| w.strip_prefix(':').and_then(|n| n.parse().ok()))
        .unwrap_or_else(|| panic!("no display number in {:?}", ev.reason))
}

/// Lines of the server log that say an update encoder for `path` was set up.
fn encoders(server: &Server, path: CodecPath) -> usize {
    server
        .log_text()
        .lines()
        .filter(|l| path.logged_in(l))
        .count()
}

/// The size the session's X server reports (xdpyinfo as the session sees it).
fn session_dimensions(shared: &Path, display: u32) -> Option<(u32, u32)> {
    let env = std::fs::read_to_string(shared.join(format!("env-{display}"))).ok()?;
    let (disp, auth) = env.trim().split_once(' ')?;
    let (status, out, _) = run_bounded(
        "xdpyinfo",
        Command::new("xdpyinfo").env("DISPLAY", disp).env("XAUTHORITY", auth),
        Duration::from_secs(10),
    );
    if !status.map(|s| s.success()).unwrap_or(false) {
        return None;
    }
    let dims = out.lines().find_map(|l| l.trim().strip_prefix("dimensions:"))?;
    let (w, h) = dims.split_whitespace().next()?.split_once('x')?;
    Some((w.parse().ok()?, h.parse().ok()?))
}

/// Waits (<= 15 s) for the session of `display` to report `want`.
fn expect_session_size(server: &Server, shared: &Path, display: u32, want: (u32, u32), what: &str) {
    let seen = poll(Duration::from_secs(15), Duration::from_millis(250), || {
        session_dimensions(shared, display).filter(|d| *d == want)
    });
    assert!(
        seen.is_some(),
        "{what}: the session's xdpyinfo reports {:?}, not {want:?}; server output:\n{}",
        session_dimensions(shared, display),
        server.log_tail()
    );
}

/// One login at `size` over `path` with a recovery code: the prompt fills the window, the
/// code opens the desktop, typed text reaches the session. Returns the session.
pub(crate) fn log_in_and_type(
    server: &Server,
    shared: &Path,
    user: &str,
    code: &str,
    size: (u32, u32),
    path: CodecPath,
    what: &str,
) -> Session {
    let before = encoders(server, path);
    let (mut session, prompt) = open_at_prompt_as(server, user, size, path.client_args(), &format!("{what}: prompt"));
    assert_eq!(
        (prompt.width as u32, prompt.height as u32),
        size,
        "{what}: the client window is not the size asked for"
    );
    assert!(prompt_shown(&prompt), "{what}: prompt check");
    submit_as(&session, server, user, code);
    expect_screen(&mut session, server, 30, &format!("{what}: desktop"), desktop_shown);
    let taken = poll(Duration::from_secs(10), Duration::from_millis(200), || {
        (encoders(server, path) > before).then_some(())
    });
    assert!(
        taken.is_some(),
        "{what}: the server did not take the {path:?} path; server output:\n{}",
        server.log_tail()
    );
    type_into_session(server, shared, &session, display_of(server, user), what);
    session
}

/// Types a line naming `what` into the xterm of the session on `display` and waits
/// (<= 15 s) for it to arrive in the session's `typed-<display>` file.
pub(crate) fn type_into_session(server: &Server, shared: &Path, session: &Session, display: u32, what: &str) {
    let typed = shared.join(format!("typed-{display}"));
    let before = std::fs::read_to_string(&typed).unwrap_or_default();
    let line = format!("{what} ok");
    // The xterm sits at (40, 60); focus follows the pointer.
    session.point_at(80, 80);
    session.type_text(&line);
    session.key("Return");
    let arrived = poll(Duration::from_secs(15), Duration::from_millis(200), || {
        let now = std::fs::read_to_string(&typed).unwrap_or_default();
        now.strip_prefix(before.as_str()).filter(|new| new.contains(&line)).map(str::to_owned)
    });
    if arrived.is_none() {
        let shot = session.screenshot().ok().map(|i| i.save(&what.replace([' ', ','], "_")));
        panic!(
            "{what}: typed text did not arrive; file has {:?}; screenshot {shot:?}; server output:\n{}",
            std::fs::read_to_string(&typed),
            server.log_tail()
        );
    }
}

/// One user of the matrix: (name, size, first path, resume path, enrollment).
type Case = (String, (u32, u32), CodecPath, CodecPath, Enrollment);

#[test]
fn every_size_and_codec_path_shows_prompt_and_desktop_and_takes_keys() {
    let _turn = exclusive();
    let shared = shared_tempdir();
    let mut server = server_for(shared.path(), "");
    // One user per (size, first path): every first connection makes a new session.
    let mut plan: Vec<Case> = Vec::new();
    for (i, &size) in SIZES.iter().enumerate() {
        // Each path once on a first connection and once on a resume.
        for (j, (first, then)) in [
            (CodecPath::Bitmap, CodecPath::RemoteFx),
            (CodecPath::RemoteFx, CodecPath::Graphics),
            (CodecPath::Graphics, CodecPath::Bitmap),
        ]
        .into_iter()
        .enumerate()
        {
            let user = format!("size{i}path{j}");
            let enrollment = server.add_user_with_mfa(&user, PASSWORD);
            plan.push((user, size, first, then, enrollment));
        }
    }
    server.start();
    for (user, size, first, then, enrollment) in &plan {
        let label = format!("{}x{} {first:?}", size.0, size.1);
        let session = log_in_and_type(&server, shared.path(), user, &enrollment.recovery_codes[0], *size, *first, &label);
        drop(session);
        server.expect_event(&format!("{label}: session started"), |e| e.is("session_started") && &e.user == user);
        let label = format!("{}x{} {then:?} resumed", size.0, size.1);
        let session = log_in_and_type(&server, shared.path(), user, &enrollment.recovery_codes[1], *size, *then, &label);
        server.expect_event(&format!("{label}: session resumed"), |e| e.is("session_resumed") && &e.user == user);
        let display = display_of(&server, user);
        expect_session_size(&server, shared.path(), display, *size, &label);
        drop(session);
    }
    server.stop_and_check();
}

#[test]
fn the_session_follows_the_client() {
    let _turn = exclusive();
    let shared = shared_tempdir();
    let mut server = server_for(shared.path(), "");
    let alice = server.add_user_with_mfa("alice", PASSWORD);
    server.start();

    // A session made at 1024x768 ...
    let session = log_in_and_type(&server, shared.path(), "alice", &alice.recovery_codes[0], (1024, 768), CodecPath::RemoteFx, "first at 1024x768");
    let display = display_of(&server, "alice");
    expect_session_size(&server, shared.path(), display, (1024, 768), "new session");
    drop(session);
    // ... is resized to a client that comes back at 1920x1080, and again at an odd size.
    for (n, size) in [(1, (1920, 1080)), (2, (1001, 703))] {
        let label = format!("reconnect at {}x{}", size.0, size.1);
        let session = log_in_and_type(&server, shared.path(), "alice", &alice.recovery_codes[n], size, CodecPath::RemoteFx, &label);
        expect_session_size(&server, shared.path(), display, size, &label);
        drop(session);
    }

    // Live: resizing the client window resizes the session (Display Control channel).
    let (mut session, _) = open_at_prompt_as(&server, "alice", (1280, 800), &["/dynamic-resolution"], "dynamic resolution: prompt");
    submit_as(&session, &server, "alice", &alice.recovery_codes[3]);
    expect_screen(&mut session, &server, 30, "dynamic resolution: desktop", desktop_shown);
    expect_session_size(&server, shared.path(), display, (1280, 800), "dynamic resolution before the resize");
    session.resize_window(1100, 700);
    expect_session_size(&server, shared.path(), display, (1100, 700), "after resizing the client window");
    let (img, ok) = session.wait_for_screen(Duration::from_secs(15), |img| {
        img.width == 1100 && img.height == 700 && desktop_shown(img)
    });
    if !ok {
        let saved = img.as_ref().map(|i| i.save("dynamic_resolution_after"));
        panic!("the client window does not show the resized desktop; screenshot {saved:?}");
    }
    drop(session);
    server.stop_and_check();
}

#[test]
fn a_multi_monitor_client_gets_one_desktop_spanning_its_monitors() {
    let _turn = exclusive();
    let shared = shared_tempdir();
    let mut server = server_for(shared.path(), "");
    let alice = server.add_user_with_mfa("alice", PASSWORD);
    server.start();
    // The client's X server has two 1024x768 monitors side by side (RandR monitors).
    let session = Session::start_multimon(server.port, "alice", PASSWORD, (1024, 768), Duration::from_secs(30));
    let mut session = session;
    expect_screen(&mut session, &server, 20, "multimon: prompt", prompt_shown);
    submit_as(&session, &server, "alice", &alice.recovery_codes[0]);
    expect_screen(&mut session, &server, 30, "multimon: desktop", desktop_shown);
    let display = display_of(&server, "alice");
    expect_session_size(&server, shared.path(), display, (2048, 768), "one desktop over two monitors");
    drop(session);
    server.stop_and_check();
}

#[test]
fn a_minimised_then_restored_client_is_repainted() {
    let _turn = exclusive();
    let shared = shared_tempdir();
    let mut server = server_for(shared.path(), "");
    let alice = server.add_user_with_mfa("alice", PASSWORD);
    server.start();
    let mut session = log_in_and_type(&server, shared.path(), "alice", &alice.recovery_codes[0], (1024, 768), CodecPath::RemoteFx, "before minimising");
    let display = display_of(&server, "alice");
    // Unmapping the window is what minimising does to an X client: FreeRDP sends
    // Suppress Output, and on the way back Suppress Output off and Refresh Rect.
    session.unmap_window();
    let suppressed = poll(Duration::from_secs(10), Duration::from_millis(200), || {
        server.log_text().contains("client output suppression").then_some(())
    });
    assert!(suppressed.is_some(), "the server never heard of the suppressed output:\n{}", server.log_tail());
    // The desktop changes while nobody looks: a screenful of noise (megabytes in any
    // codec), then a plain colour. None of it may be sent until the client asks again.
    let env = std::fs::read_to_string(shared.path().join(format!("env-{display}"))).unwrap();
    let (disp, auth) = env.trim().split_once(' ').unwrap();
    let in_session = |program: &str, args: &[&str]| {
        let (status, out, err) = run_bounded(
            program,
            Command::new(program).args(args).env("DISPLAY", disp).env("XAUTHORITY", auth),
            Duration::from_secs(30),
        );
        assert!(status.map(|s| s.success()).unwrap_or(false), "{program} {args:?}: {out}{err}");
    };
    require_tool("convert", "imagemagick");
    let noise = shared.path().join("noise.png");
    let (status, out, err) = run_bounded(
        "convert",
        Command::new("convert").args(["-size", "1024x768", "xc:", "+noise", "Random"]).arg(&noise),
        Duration::from_secs(30),
    );
    assert!(status.map(|s| s.success()).unwrap_or(false), "convert: {out}{err}");
    let before = Session::bytes_received(server.port);
    // ImageMagick's `display -window root` sets the background and exits 1; what counts is
    // that the session's screen is noise now.
    let _ = run_bounded(
        "display",
        Command::new("display").args(["-window", "root"]).arg(&noise).env("DISPLAY", disp).env("XAUTHORITY", auth),
        Duration::from_secs(30),
    );
    let shot = shared.path().join("session-root.png");
    in_session("import", &["-window", "root", &shot.display().to_string()]);
    let (status, colours, err) = run_bounded(
        "identify",
        Command::new("identify").args(["-format", "%k"]).arg(&shot),
        Duration::from_secs(30),
    );
    let colours: u64 = colours.trim().parse().unwrap_or(0);
    assert!(status.map(|s| s.success()).unwrap_or(false) && colours > 100_000, "no noise on the session's screen ({colours} colours): {err}");
    std::thread::sleep(Duration::from_secs(1));
    let changed = "#cc3366";
    in_session("xsetroot", &["-solid", changed]);
    std::thread::sleep(Duration::from_secs(1));
    let sent = Session::bytes_received(server.port).saturating_sub(before);
    assert!(
        sent < 64 * 1024,
        "{sent} bytes reached the client while it had asked for no output (a screen of noise is megabytes)"
    );
    session.map_window();
    let corner = |img: &Image| {
        [(20, 20), (img.width - 20, img.height - 20), (img.width / 2, img.height / 2)]
            .iter()
            .all(|&(x, y)| near(img.pixel(x, y), rgb(changed), 12))
    };
    let (img, ok) = session.wait_for_screen(Duration::from_secs(15), corner);
    if !ok {
        let saved = img.as_ref().map(|i| i.save("restored_not_repainted"));
        panic!("the restored client still shows the old desktop; screenshot {saved:?}; server output:\n{}", server.log_tail());
    }
    drop(session);
    server.stop_and_check();
}
