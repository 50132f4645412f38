//! The graphics pipeline with H.264: `xfreerdp /gfx:avc420` gets the desktop as AVC420, and
//! once nothing moves its window holds exactly the session's pixels (lossless refinement of
//! what H.264 only approximated).

use std::time::Duration;

use crate::account::shared_tempdir;
use crate::client::Session;
use crate::exclusive;
use crate::process::{poll, require_tool};
use crate::screen::{hex, Image};
use crate::server::{Config, Server, PASSWORD};

const SIZE: (u32, u32) = (1024, 768);

/// Pixels of `a` and `b` (same size) that differ, with the first few for the message.
fn differences(a: &Image, b: &Image) -> (usize, String) {
    let mut count = 0;
    let mut first = Vec::new();
    for y in 0..a.height.min(b.height) {
        for x in 0..a.width.min(b.width) {
            let (pa, pb) = (a.pixel(x, y), b.pixel(x, y));
            if pa != pb {
                count += 1;
                if first.len() < 5 {
                    first.push(format!("({x},{y}) client {} session {}", hex(pa), hex(pb)));
                }
            }
        }
    }
    (count, first.join(", "))
}

#[test]
fn avc420_session_ends_pixel_exact() {
    let _turn = exclusive();
    require_tool("xterm", "xterm");
    require_tool("convert", "imagemagick");
    require_tool("display", "imagemagick");
    let shared = shared_tempdir();
    let dir = shared.path().display().to_string();
    // Full-screen motion first (two gradients in turn, so the encoder switches to its
    // full-screen set-up), then a colour gradient (which 4:2:0 H.264 cannot carry exactly)
    // with text on top; then, when the test asks, the session's own screenshot of its root
    // window.
    let command = format!(
        "convert -size 1024x768 gradient:'#ff2000'-'#0030ff' {dir}/bg.png && \
         convert -size 1024x768 gradient:'#00ff40'-'#400080' {dir}/bg2.png && \
         for i in 1 2 3 4 5 6; do display -window root {dir}/bg2.png; display -window root {dir}/bg.png; done; \
         xterm -bg white -fg black -geometry 60x12+100+100 -e sh -c 'ls -l /; exec sleep 600' & \
         while [ ! -e {dir}/shoot ]; do sleep 0.2; done; \
         import -window root -depth 8 ppm:{dir}/session.tmp && mv {dir}/session.tmp {dir}/session.ppm; \
         exec sleep 600"
    );
    let mut server = Server::new(&Config {
        default_command: command,
        ..Config::default()
    });
    server.add_user("alice", PASSWORD);
    server.start();
    let mut session = Session::start_with(
        server.port,
        "alice",
        PASSWORD,
        SIZE,
        &["/gfx:avc420", "/bpp:32"],
        Duration::from_secs(30),
    );

    // The server says it chose AVC420 and painted with it.
    let used = poll(Duration::from_secs(20), Duration::from_millis(200), || {
        let log = server.log_text();
        (log.contains("graphics pipeline: AVC420") && log.contains("first H.264 frame")).then_some(())
    });
    assert!(
        used.is_some(),
        "the server never sent H.264 to a /gfx:avc420 client; server output:\n{}\nclient log:\n{}",
        server.log_tail(),
        crate::process::tail(&session.log_text(), 20)
    );

    // The full-screen motion switched the encoder to its full-screen set-up.
    let switched = poll(Duration::from_secs(20), Duration::from_millis(200), || {
        server.log_text().contains("H.264 encoder follows the motion motion=FullScreen").then_some(())
    });
    assert!(
        switched.is_some(),
        "full-screen motion did not switch the encoder; server output:\n{}",
        server.log_tail()
    );

    // Let the session settle (xterm drawn), then take its own screenshot.
    let settled = session.wait_for_screen(Duration::from_secs(20), |img| {
        img.width == 1024 && img.fraction_near((120, 120, 400, 250), [255, 255, 255], 12) > 0.5
    });
    if !settled.1 {
        let path = settled.0.as_ref().map(|i| i.save("gfx_settle"));
        panic!(
            "the session's xterm never showed over the graphics pipeline; screenshot {path:?}\nserver output:\n{}",
            server.log_tail()
        );
    }
    std::thread::sleep(Duration::from_secs(1));
    std::fs::write(shared.path().join("shoot"), b"").expect("ask for the session screenshot");
    let ppm = shared.path().join("session.ppm");
    let data = poll(Duration::from_secs(15), Duration::from_millis(200), || std::fs::read(&ppm).ok())
        .expect("the session wrote no screenshot of itself");
    let truth = Image::from_ppm(&data).expect("session screenshot");
    assert_eq!((truth.width, truth.height), (1024, 768), "session screen size");

    // Motion has stopped: within a few seconds the client shows exactly those pixels.
    let (img, exact) = session.wait_for_screen(Duration::from_secs(15), |img| {
        img.width == truth.width && img.height == truth.height && differences(img, &truth).0 == 0
    });
    if !exact {
        let img = img.expect("no screenshot of the client window");
        let (count, first) = differences(&img, &truth);
        let a = img.save("gfx_client");
        let b = truth.save("gfx_session");
        panic!(
            "client window differs from the session in {count} pixels after motion stopped: {first}; \
             screenshots {} and {}\nserver output:\n{}",
            a.display(),
            b.display(),
            server.log_tail()
        );
    }
    assert!(
        server.log_text().contains("lossless refinement of H.264 areas started"),
        "the picture was exact without any refinement: the test did not exercise H.264's loss"
    );
    drop(session);
    server.stop_and_check();
}

#[test]
fn h264_off_serves_the_same_client_remotefx() {
    let _turn = exclusive();
    let mut server = Server::new(&Config {
        default_command: "xsetroot -solid '#3366cc'; exec sleep 600".to_owned(),
        extra_toml: "[display]\nh264 = false\n".to_owned(),
        ..Config::default()
    });
    server.add_user("alice", PASSWORD);
    server.start();
    let mut session = Session::start_with(
        server.port,
        "alice",
        PASSWORD,
        SIZE,
        &["/gfx:avc420"],
        Duration::from_secs(30),
    );
    let blue = crate::screen::rgb("#3366cc");
    let (img, shown) = session.wait_for_screen(Duration::from_secs(20), |img| {
        img.fraction_near((0, 0, 1024, 768), blue, 12) > 0.95
    });
    if !shown {
        let path = img.as_ref().map(|i| i.save("gfx_off"));
        panic!(
            "with [display] h264 = false the desktop never showed; screenshot {path:?}\nserver output:\n{}",
            server.log_tail()
        );
    }
    let log = server.log_text();
    assert!(
        !log.contains("graphics pipeline"),
        "the graphics pipeline was offered although [display] h264 = false:\n{}",
        server.log_tail()
    );
    drop(session);
    server.stop_and_check();
}
