//! Capture cost on a real Xvfb: full frames (MIT-SHM and plain GetImage) and a small
//! damaged region, per grab. A measurement, not a test: `cargo run --release -p
//! rampart-desktop --example capture_cost -- [WIDTHxHEIGHT] [ROUNDS]` (starts its own
//! Xvfb, kills it by PID at the end).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rampart_desktop::{Capture, CaptureOptions, X11Target};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let size = args.next().unwrap_or_else(|| "1920x1080".to_owned());
    let rounds: u32 = args.next().and_then(|r| r.parse().ok()).unwrap_or(50);
    let display = 97;
    let mut xvfb = Command::new("Xvfb")
        .args([format!(":{display}"), "-screen".into(), "0".into(), format!("{size}x24"), "-nolisten".into(), "tcp".into()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let target = X11Target { display: format!(":{display}"), cookie: None };
    let started = Instant::now();
    let mut shm = loop {
        match Capture::connect(&target) {
            Ok(c) => break c,
            Err(_) if started.elapsed() < Duration::from_secs(10) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => {
                let _ = xvfb.kill();
                return Err(e.into());
            }
        }
    };
    let mut plain = Capture::connect_with(&target, CaptureOptions { shm: false })?;
    let per = |c: &mut Capture| -> Result<f64, Box<dyn std::error::Error>> {
        let t = Instant::now();
        for _ in 0..rounds {
            c.full_frame()?;
        }
        Ok(t.elapsed().as_secs_f64() * 1000.0 / f64::from(rounds))
    };
    let shm_ms = per(&mut shm)?;
    let plain_ms = per(&mut plain)?;
    println!("size={size} rounds={rounds} uses_shm={}", shm.uses_shm());
    println!("full_frame_shm_ms={shm_ms:.2}");
    println!("full_frame_getimage_ms={plain_ms:.2}");
    println!("shm_speedup={:.1}", plain_ms / shm_ms);
    let _ = xvfb.kill();
    let _ = xvfb.wait();
    Ok(())
}
