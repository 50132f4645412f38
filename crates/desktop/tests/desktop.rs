//! End-to-end tests against real Xvfb servers (no mocks).
//!
//! Each test starts what it needs, kills it by PID when done (also on panic, via
//! Drop), and bounds every wait.

// Test helpers outside #[test] functions are not covered by clippy.toml's
// allow-*-in-tests; a failed setup step should fail the test loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rampart_desktop::session::{LeaderCommand, SessionConfig, SessionManager, UnixAccount};
use rampart_desktop::{Capture, CaptureEvent, Frame, Input, MouseButton, X11Target};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{self, ConnectionExt as _};
use x11rb::protocol::Event;
use x11rb::rust_connection::{DefaultStream, RustConnection};

const WAIT: Duration = Duration::from_secs(10);

/// An Xvfb on a free display, with a cookie we generated; killed on drop.
struct TestDisplay {
    child: Child,
    display: u32,
    cookie: Vec<u8>,
    _dir: tempfile::TempDir,
}

impl TestDisplay {
    fn start(width: u16, height: u16) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let cookie: Vec<u8> = (0..16).map(|_| rand::random::<u8>()).collect();
        // One FamilyWild MIT-MAGIC-COOKIE-1 entry (libXau format).
        let mut auth = vec![0xFF, 0xFF, 0, 0, 0, 0, 0, 18];
        auth.extend_from_slice(b"MIT-MAGIC-COOKIE-1");
        auth.extend_from_slice(&[0, 16]);
        auth.extend_from_slice(&cookie);
        let auth_path = dir.path().join("auth");
        std::fs::write(&auth_path, auth).unwrap();
        let mut child = Command::new("Xvfb")
            .args(["-displayfd", "1", "-nolisten", "tcp", "-screen", "0"])
            .arg(format!("{width}x{height}x24"))
            .arg("-auth")
            .arg(&auth_path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb must be installed (apt-get install xvfb)");
        let mut stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut s = String::new();
            let mut buf = [0u8; 1];
            while stdout.read(&mut buf).map(|n| n == 1).unwrap_or(false) {
                if buf[0] == b'\n' {
                    break;
                }
                s.push(char::from(buf[0]));
            }
            let _ = tx.send(s);
        });
        let display = match rx.recv_timeout(WAIT) {
            Ok(s) if !s.is_empty() => s.trim().parse().unwrap(),
            other => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("Xvfb did not report a display: {other:?}");
            }
        };
        Self {
            child,
            display,
            cookie,
            _dir: dir,
        }
    }

    fn target(&self) -> X11Target {
        X11Target::local(self.display, self.cookie.clone())
    }

    /// A plain x11rb connection for drawing and observing.
    fn connect(&self) -> RustConnection {
        let stream = UnixStream::connect(format!("/tmp/.X11-unix/X{}", self.display)).unwrap();
        let (stream, _) = DefaultStream::from_unix_stream(stream).unwrap();
        RustConnection::connect_to_stream_with_auth_info(
            stream,
            0,
            b"MIT-MAGIC-COOKIE-1".to_vec(),
            self.cookie.clone(),
        )
        .unwrap()
    }
}

impl Drop for TestDisplay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fill(conn: &RustConnection, drawable: u32, pixel: u32, x: i16, y: i16, w: u16, h: u16) {
    let gc = conn.generate_id().unwrap();
    conn.create_gc(gc, drawable, &xproto::CreateGCAux::new().foreground(pixel))
        .unwrap();
    conn.poly_fill_rectangle(
        drawable,
        gc,
        &[xproto::Rectangle {
            x,
            y,
            width: w,
            height: h,
        }],
    )
    .unwrap();
    conn.free_gc(gc).unwrap();
    conn.get_input_focus().unwrap().reply().unwrap(); // round trip: drawn
}

/// BGRX bytes of an 0xRRGGBB pixel.
fn bgr(pixel: u32) -> [u8; 3] {
    [pixel as u8, (pixel >> 8) as u8, (pixel >> 16) as u8]
}

fn pixel_at(frames: &[Frame], x: u16, y: u16) -> Option<[u8; 3]> {
    frames.iter().find_map(|f| {
        if x >= f.x && y >= f.y && x < f.x + f.width && y < f.y + f.height {
            f.pixel(x - f.x, y - f.y).map(|p| [p[0], p[1], p[2]])
        } else {
            None
        }
    })
}

/// Collects events until a `Frames` covering (x, y) arrives.
fn frames_covering(cap: &mut Capture, x: u16, y: u16, cursor: &mut bool) -> Vec<Frame> {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        match cap.next_event(Duration::from_millis(500)).unwrap() {
            Some(CaptureEvent::Frames(frames)) if pixel_at(&frames, x, y).is_some() => {
                return frames
            }
            Some(CaptureEvent::Cursor(c)) => {
                assert!(c.width > 0 && c.height > 0);
                assert_eq!(
                    c.rgba.len(),
                    usize::from(c.width) * usize::from(c.height) * 4
                );
                *cursor = true;
            }
            _ => {}
        }
    }
    panic!("no damage covering ({x}, {y}) within {WAIT:?}");
}

#[test]
fn capture_reports_colours_and_small_damage() {
    let xvfb = TestDisplay::start(320, 240);
    let draw = xvfb.connect();
    let root = draw.setup().roots[0].root;
    fill(&draw, root, 0xFF0000, 0, 0, 320, 240);

    let mut cap = Capture::connect(&xvfb.target()).unwrap();
    assert_eq!(cap.size(), (320, 240));
    assert!(
        cap.uses_shm(),
        "mit-shm with fd passing should work on Xvfb"
    );
    let full = cap.full_frame().unwrap();
    assert_eq!((full.x, full.y, full.width, full.height), (0, 0, 320, 240));
    assert_eq!(full.stride, 320 * 4);
    assert_eq!(full.data.len(), 320 * 240 * 4);
    for (x, y) in [(0, 0), (319, 239), (160, 120)] {
        assert_eq!(
            full.pixel(x, y).map(|p| [p[0], p[1], p[2]]),
            Some(bgr(0xFF0000)),
            "({x},{y})"
        );
    }

    // a small change gives a small rectangle with the new colour
    fill(&draw, root, 0x00FF00, 100, 50, 10, 8);
    let mut cursor = false;
    let frames = frames_covering(&mut cap, 105, 54, &mut cursor);
    assert_eq!(pixel_at(&frames, 105, 54), Some(bgr(0x00FF00)));
    let area: usize = frames
        .iter()
        .map(|f| usize::from(f.width) * usize::from(f.height))
        .sum();
    assert!(area < 320 * 240 / 4, "damage too large: {frames:?}");
    assert!(frames
        .iter()
        .all(|f| f.data.len() == f.stride * usize::from(f.height)));

    // a change in another corner, drawn into a window this time
    let win = draw.generate_id().unwrap();
    draw.create_window(
        x11rb::COPY_DEPTH_FROM_PARENT,
        win,
        root,
        300,
        220,
        20,
        20,
        0,
        xproto::WindowClass::INPUT_OUTPUT,
        x11rb::COPY_FROM_PARENT,
        &xproto::CreateWindowAux::new()
            .background_pixel(0x0000FF)
            .override_redirect(1),
    )
    .unwrap();
    draw.map_window(win).unwrap();
    draw.get_input_focus().unwrap().reply().unwrap();
    let frames = frames_covering(&mut cap, 310, 230, &mut cursor);
    assert_eq!(pixel_at(&frames, 310, 230), Some(bgr(0x0000FF)));
    let area: usize = frames
        .iter()
        .map(|f| usize::from(f.width) * usize::from(f.height))
        .sum();
    assert!(area < 320 * 240 / 4, "damage too large: {frames:?}");
    assert!(cursor, "the initial cursor image should have been reported");

    // nothing changes: timeout gives None quickly
    let t = Instant::now();
    let mut quiet = false;
    for _ in 0..5 {
        if cap
            .next_event(Duration::from_millis(200))
            .unwrap()
            .is_none()
        {
            quiet = true;
            break;
        }
    }
    assert!(quiet);
    assert!(t.elapsed() < Duration::from_secs(3));
}

/// A window of our own that receives keys and buttons, with focus.
fn input_window(conn: &RustConnection) -> u32 {
    let screen = &conn.setup().roots[0];
    let win = conn.generate_id().unwrap();
    conn.create_window(
        x11rb::COPY_DEPTH_FROM_PARENT,
        win,
        screen.root,
        0,
        0,
        screen.width_in_pixels,
        screen.height_in_pixels,
        0,
        xproto::WindowClass::INPUT_OUTPUT,
        x11rb::COPY_FROM_PARENT,
        &xproto::CreateWindowAux::new()
            .override_redirect(1)
            .event_mask(
                xproto::EventMask::KEY_PRESS
                    | xproto::EventMask::BUTTON_PRESS
                    | xproto::EventMask::BUTTON_RELEASE,
            ),
    )
    .unwrap();
    conn.map_window(win).unwrap();
    conn.get_input_focus().unwrap().reply().unwrap();
    conn.set_input_focus(xproto::InputFocus::PARENT, win, x11rb::CURRENT_TIME)
        .unwrap();
    conn.get_input_focus().unwrap().reply().unwrap();
    win
}

/// The Latin-1 character a KeyPress types, from the current core mapping.
fn typed_char(conn: &RustConnection, ev: &xproto::KeyPressEvent) -> Option<char> {
    let setup = conn.setup();
    let reply = conn
        .get_keyboard_mapping(ev.detail, 1)
        .unwrap()
        .reply()
        .unwrap();
    let _ = setup;
    let shifted = u16::from(ev.state) & u16::from(xproto::KeyButMask::SHIFT) != 0;
    let sym = *reply.keysyms.get(usize::from(shifted))?;
    let sym = if sym == 0 {
        *reply.keysyms.first()?
    } else {
        sym
    };
    match sym {
        0x20..=0x7E | 0xA0..=0xFF => char::from_u32(sym),
        s if s & 0xFF00_0000 == 0x0100_0000 => char::from_u32(s & 0x00FF_FFFF),
        _ => None,
    }
}

fn next_event(conn: &RustConnection, deadline: Instant) -> Option<Event> {
    while Instant::now() < deadline {
        if let Some(ev) = conn.poll_for_event().unwrap() {
            return Some(ev);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

fn typed_text(conn: &RustConnection, want_chars: usize) -> String {
    let deadline = Instant::now() + WAIT;
    let mut text = String::new();
    while text.chars().count() < want_chars {
        match next_event(conn, deadline) {
            Some(Event::KeyPress(ev)) => {
                if let Some(c) = typed_char(conn, &ev) {
                    text.push(c);
                }
            }
            Some(_) => {}
            None => break,
        }
    }
    text
}

fn button_presses(conn: &RustConnection, want: usize) -> Vec<(u8, i16, i16)> {
    let deadline = Instant::now() + WAIT;
    let mut out = Vec::new();
    while out.len() < want {
        match next_event(conn, deadline) {
            Some(Event::ButtonPress(ev)) => out.push((ev.detail, ev.event_x, ev.event_y)),
            Some(_) => {}
            None => break,
        }
    }
    out
}

#[test]
fn input_types_keys_unicode_and_drives_the_mouse() {
    let xvfb = TestDisplay::start(320, 240);
    let obs = xvfb.connect();
    let _win = input_window(&obs);
    let mut input = Input::connect(&xvfb.target()).unwrap();

    // 'a', shift+'1' = '!', and a character the US layout lacks
    input.key_scancode(0x1E, false, true).unwrap();
    input.key_scancode(0x1E, false, false).unwrap();
    input.key_scancode(0x2A, false, true).unwrap();
    input.key_scancode(0x02, false, true).unwrap();
    input.key_scancode(0x02, false, false).unwrap();
    input.key_scancode(0x2A, false, false).unwrap();
    input.key_unicode(0x00E9, true).unwrap();
    input.key_unicode(0x00E9, false).unwrap();
    // an existing shifted symbol typed as unicode ('#' is shift+3)
    input.key_unicode(u16::from(b'#'), true).unwrap();
    input.key_unicode(u16::from(b'#'), false).unwrap();
    // unknown scancodes are ignored
    input.key_scancode(0x55, false, true).unwrap();
    input.sync().unwrap();
    assert_eq!(typed_text(&obs, 4), "a!é#");

    // pointer motion and a click
    input.mouse_move(50, 60).unwrap();
    input.sync().unwrap();
    let root = obs.setup().roots[0].root;
    let p = obs.query_pointer(root).unwrap().reply().unwrap();
    assert_eq!((p.root_x, p.root_y), (50, 60));
    input.mouse_button(MouseButton::Left, true).unwrap();
    input.mouse_button(MouseButton::Left, false).unwrap();
    input.mouse_button(MouseButton::Right, true).unwrap();
    input.mouse_button(MouseButton::Right, false).unwrap();
    assert_eq!(button_presses(&obs, 2), vec![(1, 50, 60), (3, 50, 60)]);

    // wheel: up, down, left, right x2 (240 = two notches), and a tiny delta still clicks
    input.wheel(120, 0).unwrap();
    input.wheel(-120, 0).unwrap();
    input.wheel(0, -120).unwrap();
    input.wheel(0, 240).unwrap();
    input.wheel(-3, 0).unwrap();
    let buttons: Vec<u8> = button_presses(&obs, 6).into_iter().map(|b| b.0).collect();
    assert_eq!(buttons, vec![4, 5, 6, 7, 7, 5]);

    // lock keys follow the client
    input.sync_locks(true, false, false).unwrap();
    input.sync().unwrap();
    assert!(input.lock_state().unwrap().0, "caps lock should be on");
    input.sync_locks(false, true, false).unwrap();
    input.sync().unwrap();
    let (caps, num, _) = input.lock_state().unwrap();
    assert!(!caps && num, "caps off, num on; got caps={caps} num={num}");

    // release_all releases a held key and button
    input.key_scancode(0x1D, false, true).unwrap();
    input.mouse_button(MouseButton::Middle, true).unwrap();
    input.release_all();
    input.sync().unwrap();
    let keys = obs.query_keymap().unwrap().reply().unwrap().keys;
    assert_eq!(
        keys[usize::from(29u8 + 8) / 8] & (1 << ((29 + 8) % 8)),
        0,
        "left ctrl still down"
    );
    let p = obs.query_pointer(root).unwrap().reply().unwrap();
    assert_eq!(
        u16::from(p.mask) & u16::from(xproto::KeyButMask::BUTTON2),
        0,
        "button 2 still down"
    );
}

// ---------------------------------------------------------------- sessions

const E2E_USER: &str = "rampart-e2e";
const LOOPBACK: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

/// Set in the environment of this test binary when it runs as a session leader.
const LEADER_ENV: &str = "RAMPART_DESKTOP_TEST_LEADER";

/// The session leader for these tests: this test binary itself, running only
/// [`session_leader_entry`], which then runs the real leader code (`rampart session-leader`
/// in the server runs the same function).
fn test_leader() -> LeaderCommand {
    LeaderCommand {
        program: std::env::current_exe().unwrap(),
        args: ["session_leader_entry", "--exact", "--nocapture", "--test-threads=1", "-q"]
            .map(String::from)
            .to_vec(),
        env: vec![(LEADER_ENV.to_owned(), "1".to_owned())],
    }
}

/// The session leader's entry point when [`test_leader`] starts this binary as one; in a
/// normal test run, a check that the leader answers a malformed request with an error
/// and starts nothing.
#[test]
fn session_leader_entry() {
    if std::env::var_os(LEADER_ENV).is_some() {
        let code = match rampart_desktop::login::leader::main() {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("session leader: {e}");
                1
            }
        };
        std::process::exit(code);
    }
    let (ours, theirs) = UnixStream::pair().unwrap();
    (&ours).write_all(b"{\"not\": \"a request\"}\n").unwrap();
    let served = std::thread::spawn(move || rampart_desktop::login::leader::serve(theirs));
    ours.set_read_timeout(Some(WAIT)).unwrap();
    let mut answer = String::new();
    let _ = (&ours).read_to_string(&mut answer);
    assert!(served.join().unwrap().is_err(), "a malformed request was served");
    assert!(
        answer.contains("\"t\":\"failed\"") && answer.contains("session leader request"),
        "answer to a malformed request: {answer:?}"
    );
}

/// The PAM service the session leaders use, as shipped (`packaging/pam.d/rampart`).
fn install_pam_service() {
    let shipped = include_str!("../../../packaging/pam.d/rampart");
    let path = Path::new("/etc/pam.d/rampart");
    if std::fs::read_to_string(path).ok().as_deref() == Some(shipped) {
        return;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, shipped).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Tests that start processes as the e2e account take turns: each judges "processes
/// left behind" (or "nothing started") by that account's process list.
fn account_turn() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn ensure_e2e_account() -> UnixAccount {
    install_pam_service();
    if UnixAccount::lookup(E2E_USER).is_err() {
        let status = Command::new("useradd")
            .args(["--system", "--create-home", "--shell", "/bin/sh", E2E_USER])
            .status()
            .expect("useradd");
        // A concurrent run may have created it meanwhile; the lookup decides.
        let _ = status;
    }
    UnixAccount::lookup(E2E_USER).expect("rampart-e2e account")
}

fn status_uids(pid: u32) -> Option<Vec<u32>> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    Some(
        line.split_whitespace()
            .skip(1)
            .filter_map(|f| f.parse().ok())
            .collect(),
    )
}

/// The parent of `pid` (field 4 of /proc/PID/stat).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next()?.split_whitespace().nth(1)?.parse().ok()
}

/// The session id of `pid` (field 6 of /proc/PID/stat).
fn session_id(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next()?.split_whitespace().nth(3)?.parse().ok()
}

/// Calls `reap` until it names a session or [`WAIT`] passes.
fn reap_within_wait(manager: &mut SessionManager) -> Vec<String> {
    let deadline = Instant::now() + WAIT;
    let mut reaped = Vec::new();
    while reaped.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        reaped = manager.reap();
    }
    reaped
}

fn processes_of(uid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Some(uids) = status_uids(pid) {
            let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map(|s| {
                    s.rsplit(')')
                        .next()
                        .map(|r| r.trim_start().starts_with('Z'))
                        .unwrap_or(false)
                })
                .unwrap_or(false);
            if uids.first() == Some(&uid) && !zombie {
                out.push(pid);
            }
        }
    }
    out
}

fn wait_for_file(path: &Path) -> String {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if let Ok(s) = std::fs::read_to_string(path) {
            if s.ends_with('\n') {
                return s;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{} was not written within {WAIT:?}", path.display());
}

#[test]
fn session_runs_as_the_user_resumes_and_shuts_down() {
    assert!(
        rustix::process::geteuid().is_root(),
        "the session test must run as root: it starts Xvfb and the session as the user {E2E_USER} \
         (run `cargo test` as root, as CI does)"
    );
    let _turn = account_turn();
    let account = ensure_e2e_account();
    // Processes of the account from elsewhere (another suite) are not ours to judge.
    let before = processes_of(account.uid);
    let ours_left = |uid: u32| -> Vec<u32> {
        processes_of(uid)
            .into_iter()
            .filter(|p| !before.contains(p))
            .collect()
    };

    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let out_dir = tmp.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    std::fs::set_permissions(&out_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out_file = out_dir.join("session.txt");
    let config = SessionConfig {
        runtime_dir: tmp.path().join("run"),
        server: rampart_desktop::XServer::default(),
        default_command: format!(
            "sleep 600 & echo \"$(id -u) $DISPLAY $HOME $USER $PATH $(pwd) $$ $(cut -d' ' -f6 /proc/$$/stat) \
             $(awk '/^SigBlk/ {{print $2}}' /proc/$$/status)\" > {}; wait",
            out_file.display()
        ),
        use_xsession: false,
        depth: 24,
        allow_root: false,
        leader: test_leader(),
        pam_service: rampart_desktop::login::PAM_SERVICE.into(),
    };
    let mut manager = SessionManager::new(config);

    let info = manager.ensure("alice@rdp", &account, 640, 480, Some(LOOPBACK)).unwrap();
    assert!(!info.resumed);
    assert_eq!((info.width, info.height), (640, 480));
    assert_eq!(info.cookie.len(), 16);
    let (xvfb_pid, cmd_pid) = manager.pids("alice@rdp").unwrap();
    let uid = account.uid;
    assert_eq!(status_uids(xvfb_pid).unwrap(), vec![uid; 4], "xvfb uid");
    assert_eq!(
        status_uids(cmd_pid).unwrap(),
        vec![uid; 4],
        "session command uid"
    );

    let line = wait_for_file(&out_file);
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        fields.first().copied(),
        Some(uid.to_string().as_str()),
        "{line}"
    );
    assert_eq!(
        fields.get(1).copied(),
        Some(format!(":{}", info.display).as_str()),
        "{line}"
    );
    assert_eq!(fields.get(3).copied(), Some(E2E_USER), "{line}");
    assert_eq!(
        fields.get(4).copied(),
        Some("/usr/local/bin:/usr/bin:/bin"),
        "{line}"
    );
    let home = account.home.display().to_string();
    assert_eq!(fields.get(2).copied(), Some(home.as_str()), "{line}");
    if account.home.is_dir() {
        assert_eq!(fields.get(5).copied(), Some(home.as_str()), "cwd: {line}");
    }
    // A login: the session command leads a session of its own (no terminal, no signal
    // for the server's process group reaches it), and starts with no signal blocked.
    let own = cmd_pid.to_string();
    assert_eq!(fields.get(6).copied(), Some(own.as_str()), "the command's pid: {line}");
    assert_eq!(fields.get(7).copied(), Some(own.as_str()), "the command's session id: {line}");
    // (read from /proc: under some CI runners the test itself is in session 0, which
    // rustix's getsid refuses to represent)
    assert_ne!(session_id(std::process::id()), Some(cmd_pid), "not the test's own session");
    assert_eq!(fields.get(8).copied(), Some("0000000000000000"), "blocked signals: {line}");
    assert_eq!(session_id(xvfb_pid), Some(xvfb_pid), "xvfb leads its own session");

    // the display takes our cookie; capture works across uids with MIT-SHM fd passing
    let mut cap = Capture::connect(&info.target()).unwrap();
    assert_eq!(cap.size(), (640, 480));
    assert!(cap.uses_shm());
    let frame = cap.full_frame().unwrap();
    assert_eq!(frame.data.len(), 640 * 480 * 4);
    drop(cap);
    // and a wrong cookie is refused
    let wrong = X11Target::local(info.display, vec![0; 16]);
    assert!(Capture::connect(&wrong).is_err());

    // resume
    let again = manager.ensure("alice@rdp", &account, 800, 600, Some(LOOPBACK)).unwrap();
    assert!(again.resumed);
    assert_eq!(again.display, info.display);
    assert_eq!(again.cookie, info.cookie);
    assert_eq!((again.width, again.height), (640, 480));
    assert!(manager.reap().is_empty());

    // a second user gets another display
    let other = manager.ensure("bob@rdp", &account, 320, 240, None).unwrap();
    assert_ne!(other.display, info.display);
    assert!(!other.resumed);

    // when the session command ends, reap ends Xvfb too
    let (bob_xvfb, bob_cmd) = manager.pids("bob@rdp").unwrap();
    rustix::process::kill_process_group(
        rustix::process::Pid::from_raw(bob_cmd as i32).unwrap(),
        rustix::process::Signal::KILL,
    )
    .unwrap();
    let reaped = reap_within_wait(&mut manager);
    assert_eq!(reaped, vec!["bob@rdp".to_owned()]);
    assert!(status_uids(bob_xvfb).is_none(), "bob's xvfb still running");

    // A session leader killed outright cannot end its session: reap ends its children.
    manager.ensure("dave@rdp", &account, 320, 240, None).unwrap();
    let (dave_xvfb, dave_cmd) = manager.pids("dave@rdp").unwrap();
    let leader = parent_of(dave_cmd).unwrap();
    assert_eq!(parent_of(dave_xvfb), Some(leader), "xvfb and the command share their leader");
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(leader as i32).unwrap(),
        rustix::process::Signal::KILL,
    )
    .unwrap();
    let reaped = reap_within_wait(&mut manager);
    assert_eq!(reaped, vec!["dave@rdp".to_owned()]);
    let gone = |pid: u32| !processes_of(uid).contains(&pid);
    let deadline = Instant::now() + WAIT;
    while !(gone(dave_xvfb) && gone(dave_cmd)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(gone(dave_xvfb) && gone(dave_cmd), "a killed leader's children outlived it");

    manager.shutdown_all();
    assert!(manager.is_empty());
    let left = ours_left(uid);
    assert!(left.is_empty(), "processes left behind: {left:?} {:?}", left.iter().map(|p| std::fs::read_to_string(format!("/proc/{p}/status")).unwrap_or_default().lines().take(3).collect::<Vec<_>>().join(" ")).collect::<Vec<_>>());
    assert!(
        std::fs::read_dir(tmp.path().join("run"))
            .unwrap()
            .next()
            .is_none(),
        "session dirs left"
    );
    drop(manager);

    // ~/.xsession is honoured when enabled (executable: run directly)
    let xsession = account.home.join(".xsession");
    let marker = out_dir.join("xsession.txt");
    std::fs::write(
        &xsession,
        format!(
            "#!/bin/sh\necho \"xsession $(id -u) $DISPLAY\" > {}\nexec sleep 600\n",
            marker.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&xsession, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::chown(&xsession, Some(account.uid), Some(account.gid)).unwrap();
    let mut manager = SessionManager::new(SessionConfig {
        runtime_dir: tmp.path().join("run"),
        server: rampart_desktop::XServer::default(),
        default_command: "exec sleep 600".into(),
        use_xsession: true,
        depth: 24,
        allow_root: false,
        leader: test_leader(),
        pam_service: rampart_desktop::login::PAM_SERVICE.into(),
    });
    let result = manager.ensure("carol@rdp", &account, 320, 240, None);
    let line = result.as_ref().ok().map(|_| wait_for_file(&marker));
    manager.shutdown_all();
    let _ = std::fs::remove_file(&xsession);
    let info = result.unwrap();
    assert_eq!(
        line.unwrap().trim(),
        format!("xsession {uid} :{}", info.display)
    );
    assert!(
        ours_left(uid).is_empty(),
        "processes left behind after xsession run"
    );
}

/// PAM's account step has the last word: a service whose account stack refuses gets
/// `LoginRefused` with PAM's reason from the leader, and nothing runs as the user.
#[test]
fn a_pam_account_refusal_starts_nothing() {
    assert!(rustix::process::geteuid().is_root(), "run as root (sessions run as {E2E_USER})");
    let _turn = account_turn();
    let account = ensure_e2e_account();
    let before = processes_of(account.uid);
    struct Service(&'static str);
    impl Drop for Service {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(self.0);
        }
    }
    let service = Service("/etc/pam.d/rampart-test-deny");
    std::fs::write(service.0, "account required pam_deny.so\nsession required pam_permit.so\n").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let mut manager = SessionManager::new(SessionConfig {
        runtime_dir: tmp.path().join("run"),
        server: rampart_desktop::XServer::default(),
        default_command: "exec sleep 600".into(),
        use_xsession: false,
        depth: 24,
        allow_root: false,
        leader: test_leader(),
        pam_service: "rampart-test-deny".into(),
    });
    let err = manager.ensure("erin@rdp", &account, 320, 240, Some(LOOPBACK)).unwrap_err();
    assert!(
        matches!(&err, rampart_desktop::DesktopError::LoginRefused(rampart_desktop::LoginRefusal::PamAccount { detail }) if !detail.is_empty()),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("pam account check refused: "), "{err}");
    assert!(manager.is_empty());
    let started: Vec<u32> = processes_of(account.uid).into_iter().filter(|p| !before.contains(p)).collect();
    assert!(started.is_empty(), "processes started for a refused login: {started:?}");
    assert!(
        std::fs::read_dir(tmp.path().join("run")).unwrap().next().is_none(),
        "a refused login left its session directory"
    );
    drop(service);
}

#[test]
fn capture_without_shm_and_cursor_changes() {
    let xvfb = TestDisplay::start(320, 240);
    let draw = xvfb.connect();
    let root = draw.setup().roots[0].root;
    fill(&draw, root, 0x123456, 0, 0, 320, 240);

    let mut cap = Capture::connect_with(
        &xvfb.target(),
        rampart_desktop::CaptureOptions { shm: false },
    )
    .unwrap();
    assert!(!cap.uses_shm());
    let full = cap.full_frame().unwrap();
    assert_eq!(
        full.pixel(7, 7).map(|p| [p[0], p[1], p[2]]),
        Some(bgr(0x123456))
    );
    fill(&draw, root, 0xABCDEF, 10, 10, 4, 4);
    let mut cursor = false;
    let frames = frames_covering(&mut cap, 11, 11, &mut cursor);
    assert_eq!(pixel_at(&frames, 11, 11), Some(bgr(0xABCDEF)));
    assert!(cursor);

    // a window with another cursor under the pointer changes the cursor image
    let font = draw.generate_id().unwrap();
    draw.open_font(font, b"cursor").unwrap();
    let xcursor = draw.generate_id().unwrap();
    // glyph 34 is "crosshair", 35 its mask
    draw.create_glyph_cursor(xcursor, font, font, 34, 35, 0, 0, 0, 0xFFFF, 0xFFFF, 0xFFFF)
        .unwrap();
    let win = draw.generate_id().unwrap();
    draw.create_window(
        x11rb::COPY_DEPTH_FROM_PARENT,
        win,
        root,
        0,
        0,
        320,
        240,
        0,
        xproto::WindowClass::INPUT_OUTPUT,
        x11rb::COPY_FROM_PARENT,
        &xproto::CreateWindowAux::new()
            .override_redirect(1)
            .cursor(xcursor),
    )
    .unwrap();
    draw.map_window(win).unwrap();
    draw.warp_pointer(x11rb::NONE, root, 0, 0, 0, 0, 100, 100)
        .unwrap();
    draw.get_input_focus().unwrap().reply().unwrap();
    let deadline = Instant::now() + WAIT;
    let mut crosshair = None;
    while crosshair.is_none() && Instant::now() < deadline {
        if let Some(CaptureEvent::Cursor(c)) = cap.next_event(Duration::from_millis(300)).unwrap() {
            crosshair = Some(c);
        }
    }
    let c = crosshair.expect("cursor change reported");
    assert!(c.width > 0 && c.hot_x < c.width && c.hot_y < c.height);
    assert!(c.rgba.chunks(4).any(|p| p[3] == 0xFF), "an opaque pixel");
}

/// The failure that left session displays open to every local account: an X server whose
/// auth file it cannot read starts anyway and admits clients without a cookie. The probe
/// must see exactly that, and must see a healthy server refuse.
#[test]
fn cookieless_probe_tells_an_open_display_from_a_private_one() {
    assert!(rustix::process::geteuid().is_root(), "run as root (it starts Xvfb as {E2E_USER})");
    let _turn = account_turn();
    let account = ensure_e2e_account();
    // A root-only directory the account cannot enter holds the auth file.
    let hidden = tempfile::tempdir().unwrap();
    std::fs::set_permissions(hidden.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let auth = hidden.path().join("Xauthority");
    std::fs::write(&auth, b"").unwrap();
    let mut child = Command::new("Xvfb")
        .args(["-displayfd", "1", "-nolisten", "tcp", "-screen", "0", "64x64x24", "-auth"])
        .arg(&auth)
        .uid(account.uid)
        .gid(account.gid)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb must be installed (apt-get install xvfb)");
    let mut line = String::new();
    let mut out = child.stdout.take().unwrap();
    let mut byte = [0u8; 1];
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline && out.read(&mut byte).map(|n| n == 1).unwrap_or(false) && byte[0] != b'\n' {
        line.push(char::from(byte[0]));
    }
    let display: u32 = line.trim().parse().unwrap_or_else(|_| {
        let _ = child.kill();
        panic!("Xvfb reported no display: {line:?}")
    });
    let open = rampart_desktop::privacy::admits_without_cookie(display);
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        open.unwrap(),
        "an X server that could not read its cookie refused a cookieless client: the probe would miss the open-display failure"
    );

    let private = TestDisplay::start(64, 64);
    assert!(
        !rampart_desktop::privacy::admits_without_cookie(private.display).unwrap(),
        "an X server with a cookie admitted a client without it"
    );
}

/// A runtime directory below a root-only directory is refused before any X server starts,
/// with a message that names the directory; a traversable layout passes the self-test.
#[test]
fn session_files_must_be_reachable_by_their_owner() {
    assert!(rustix::process::geteuid().is_root(), "run as root (sessions run as {E2E_USER})");
    let _turn = account_turn();
    let account = ensure_e2e_account();
    let before = processes_of(account.uid);

    let root_only = tempfile::tempdir().unwrap();
    std::fs::set_permissions(root_only.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let config = |runtime_dir: std::path::PathBuf| SessionConfig {
        runtime_dir,
        server: rampart_desktop::XServer::default(),
        default_command: "exec sleep 600".into(),
        use_xsession: false,
        depth: 24,
        allow_root: false,
        leader: test_leader(),
        pam_service: rampart_desktop::login::PAM_SERVICE.into(),
    };
    let mut manager = SessionManager::new(config(root_only.path().join("run")));
    let err = manager.ensure("alice@rdp", &account, 320, 240, None).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, rampart_desktop::DesktopError::Unreachable { .. })
            && text.contains(&root_only.path().display().to_string()),
        "{text}"
    );
    assert!(manager.self_test(&account).is_err(), "self-test passed in a root-only layout");
    assert!(manager.is_empty());
    let started: Vec<u32> = processes_of(account.uid).into_iter().filter(|p| !before.contains(p)).collect();
    assert!(started.is_empty(), "processes started for a refused session: {started:?}");

    let open = tempfile::tempdir().unwrap();
    std::fs::set_permissions(open.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let manager = SessionManager::new(config(open.path().join("run")));
    manager.self_test(&account).unwrap();
    assert!(
        std::fs::read_dir(open.path().join("run")).unwrap().next().is_none(),
        "the self-test left files behind"
    );
}

/// The default X server (Xorg with the dummy driver) follows the client: a running session
/// grows past its start size and shrinks to odd sizes; the capture follows at once.
/// Xvfb can shrink but never grow past its start, and says so.
#[test]
fn sessions_resize_with_randr() {
    assert!(rustix::process::geteuid().is_root(), "run as root (sessions run as {E2E_USER})");
    let _turn = account_turn();
    let account = ensure_e2e_account();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let config = |server| SessionConfig {
        runtime_dir: tmp.path().join("run"),
        server,
        default_command: "exec sleep 600".into(),
        use_xsession: false,
        depth: 24,
        allow_root: false,
        leader: test_leader(),
        pam_service: rampart_desktop::login::PAM_SERVICE.into(),
    };
    let mut manager = SessionManager::new(config(rampart_desktop::XServer::default()));
    let info = manager.ensure("alice@rdp", &account, 800, 600, None).unwrap();
    let mut cap = Capture::connect(&info.target()).unwrap();
    for (w, h) in [(1920u16, 1080u16), (2560, 1440), (1001, 703), (1366, 768)] {
        cap.resize(w, h).unwrap_or_else(|e| panic!("resize to {w}x{h}: {e}"));
        assert_eq!(cap.size(), (w, h));
        let frame = cap.full_frame().unwrap();
        assert_eq!((frame.width, frame.height), (w, h));
        // A second connection sees the new size too.
        let other = Capture::connect(&info.target()).unwrap();
        assert_eq!(other.size(), (w, h), "a new connection sees the old size");
        // No stale resize is reported for the size we set ourselves.
        if let Some(CaptureEvent::Resized { width, height }) = cap.next_event(Duration::from_millis(300)).unwrap() {
            panic!("own resize reported back as {width}x{height}");
        }
    }
    drop(cap);
    manager.shutdown_all();

    let mut manager = SessionManager::new(config(rampart_desktop::XServer::Xvfb { xvfb: "Xvfb".into() }));
    let info = manager.ensure("bob@rdp", &account, 800, 600, None).unwrap();
    let mut cap = Capture::connect(&info.target()).unwrap();
    cap.resize(640, 480).unwrap();
    assert_eq!(cap.size(), (640, 480));
    let err = cap.resize(1920, 1080).unwrap_err();
    assert!(err.to_string().contains("outside what this X server can show"), "{err}");
    assert_eq!(cap.size(), (640, 480), "a refused resize changed the size");
    drop(cap);
    manager.shutdown_all();
}

// --- The CLIPBOARD selection, against the real xclip ---

impl TestDisplay {
    /// `xclip -selection clipboard ARGS` on this display (with its cookie).
    fn xclip(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("xclip");
        cmd.args(["-selection", "clipboard"])
            .args(args)
            .env("DISPLAY", format!(":{}", self.display))
            .env("XAUTHORITY", self._dir.path().join("auth"));
        cmd
    }
}

fn require_xclip() {
    let found = Command::new("xclip")
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(found, "xclip is missing: apt-get install xclip");
}

/// Runs `cmd` (stdout captured) while `clip` answers X events, bounded by `WAIT`; returns
/// what it printed. `on_wanted` provides the text when the session asks for it.
fn run_while_serving(
    clip: &mut rampart_desktop::Clipboard,
    cmd: &mut Command,
    mut on_wanted: impl FnMut(&mut rampart_desktop::Clipboard),
) -> (bool, Vec<u8>, usize) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    let deadline = Instant::now() + WAIT;
    let mut wanted = 0;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        if let Some(rampart_desktop::ClipboardEvent::TextWanted) =
            clip.next_event(Duration::from_millis(20)).unwrap()
        {
            wanted += 1;
            on_wanted(clip);
        }
    };
    let out = reader.join().unwrap();
    (status.is_some_and(|s| s.success()), out, wanted)
}

const CLIP_TEXT: &str = "Grüße — 日本語 ✓\nline two";

#[test]
fn clipboard_offers_text_to_session_apps() {
    require_xclip();
    let display = TestDisplay::start(320, 240);
    let mut clip = rampart_desktop::Clipboard::connect(&display.target(), 1 << 20).unwrap();
    assert_eq!(
        clip.next_event(Duration::from_millis(200)).unwrap(),
        None,
        "an empty clipboard reports nothing"
    );
    clip.offer().unwrap();
    assert!(clip.offering());

    // TARGETS is answered before the text is known.
    let (ok, out, wanted) = run_while_serving(
        &mut clip,
        &mut display.xclip(&["-o", "-t", "TARGETS"]),
        |_| {},
    );
    let targets = String::from_utf8_lossy(&out);
    assert!(
        ok && wanted == 0,
        "xclip -t TARGETS failed or asked for text: {targets}"
    );
    for t in ["UTF8_STRING", "STRING", "text/plain;charset=utf-8"] {
        assert!(
            targets.lines().any(|l| l == t),
            "{t} missing from TARGETS: {targets}"
        );
    }

    // The first paste asks for the text (delayed rendering); it arrives intact.
    let (ok, out, wanted) = run_while_serving(
        &mut clip,
        &mut display.xclip(&["-o", "-t", "UTF8_STRING"]),
        |c| c.provide(Some(CLIP_TEXT.to_owned())).unwrap(),
    );
    assert!(ok, "xclip -o failed");
    assert_eq!(wanted, 1);
    assert_eq!(String::from_utf8(out).unwrap(), CLIP_TEXT);

    // Later pastes of the same offer are answered at once, in Latin-1 for STRING.
    let (ok, out, wanted) = run_while_serving(
        &mut clip,
        &mut display.xclip(&["-o", "-t", "STRING"]),
        |_| {},
    );
    assert!(ok && wanted == 0);
    assert_eq!(out, rampart_desktop::clipboard::to_latin1(CLIP_TEXT));

    // A new offer forgets the old text; when it cannot be had, the paste is refused, not hung.
    clip.offer().unwrap();
    let (ok, out, wanted) = run_while_serving(
        &mut clip,
        &mut display.xclip(&["-o", "-t", "UTF8_STRING"]),
        |c| c.provide(None).unwrap(),
    );
    // xclip asks again for STRING after UTF8_STRING is refused: each ask is refused.
    assert!(wanted >= 1);
    assert!(
        !ok && out.is_empty(),
        "a refused paste must fail in xclip, got {out:?}"
    );

    // A session app that copies takes the selection from us, and we hear of it.
    let mut copier = display
        .xclip(&["-i", "-quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = copier.stdin.take().unwrap();
        stdin.write_all(b"from the session").unwrap();
    }
    let deadline = Instant::now() + WAIT;
    let mut seen = None;
    while seen.is_none() && Instant::now() < deadline {
        seen = clip.next_event(Duration::from_millis(100)).unwrap();
    }
    let _ = copier.kill();
    let _ = copier.wait();
    assert_eq!(seen, Some(rampart_desktop::ClipboardEvent::SessionCopied));
    assert!(!clip.offering());
}

/// Starts `xclip -i -quiet` with `text` as what a session application copied.
fn session_copies(display: &TestDisplay, text: &[u8]) -> Child {
    use std::io::Write;
    let mut child = display
        .xclip(&["-i", "-quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(text).unwrap();
    drop(stdin);
    child
}

fn wait_copied(clip: &mut rampart_desktop::Clipboard) {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if clip.next_event(Duration::from_millis(100)).unwrap()
            == Some(rampart_desktop::ClipboardEvent::SessionCopied)
        {
            return;
        }
    }
    panic!("no SessionCopied within {WAIT:?}");
}

#[test]
fn clipboard_reads_what_session_apps_copy_within_the_cap() {
    use rampart_desktop::SessionText;
    require_xclip();
    let display = TestDisplay::start(320, 240);
    let mut clip = rampart_desktop::Clipboard::connect(&display.target(), 64 * 1024).unwrap();

    let mut copier = session_copies(&display, CLIP_TEXT.as_bytes());
    wait_copied(&mut clip);
    assert_eq!(
        clip.read_text(WAIT).unwrap(),
        SessionText::Text(CLIP_TEXT.to_owned())
    );
    let _ = copier.kill();
    let _ = copier.wait();
    // Its owner gone, the clipboard is empty.
    let deadline = Instant::now() + WAIT;
    let mut seen = None;
    while seen != Some(rampart_desktop::ClipboardEvent::SessionCleared) && Instant::now() < deadline
    {
        seen = clip.next_event(Duration::from_millis(100)).unwrap();
    }
    assert_eq!(seen, Some(rampart_desktop::ClipboardEvent::SessionCleared));
    assert_eq!(
        clip.read_text(Duration::from_secs(2)).unwrap(),
        SessionText::Empty
    );

    // Over the cap in one property: refused, nothing kept.
    let big = "x".repeat(100 * 1024);
    let mut copier = session_copies(&display, big.as_bytes());
    wait_copied(&mut clip);
    assert_eq!(clip.read_text(WAIT).unwrap(), SessionText::TooLarge);
    let _ = copier.kill();
    let _ = copier.wait();
}

#[test]
fn clipboard_reads_incremental_transfers_up_to_the_cap() {
    use rampart_desktop::SessionText;
    require_xclip();
    let display = TestDisplay::start(320, 240);
    // xclip sends anything over about a quarter of the maximum request size with INCR.
    let big: String = "ünïcödé 0123456789\n".repeat(100_000);
    assert!(big.len() > 2_000_000);

    let mut clip = rampart_desktop::Clipboard::connect(&display.target(), 4 << 20).unwrap();
    let mut copier = session_copies(&display, big.as_bytes());
    wait_copied(&mut clip);
    match clip.read_text(WAIT).unwrap() {
        SessionText::Text(text) => assert!(
            text == big,
            "INCR text differs: {} bytes of {}",
            text.len(),
            big.len()
        ),
        other => panic!("INCR read: {other:?}"),
    }
    drop(clip);

    let mut clip = rampart_desktop::Clipboard::connect(&display.target(), 1 << 20).unwrap();
    wait_copied(&mut clip);
    assert_eq!(clip.read_text(WAIT).unwrap(), SessionText::TooLarge);
    let _ = copier.kill();
    let _ = copier.wait();
}
