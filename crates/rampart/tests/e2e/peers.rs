//! The other Linux RDP servers, run for real on a free loopback port for as long as a
//! test needs them: xrdp (Debian `xrdp`, its default `/etc/xrdp/xrdp.ini` with only the
//! port changed) and FreeRDP's shadow server (`freerdp2-shadow-x11`, NLA with a SAM file
//! made by `winpr-hash`, sharing a private Xvfb). Each is stopped with its whole process
//! tree (xrdp forks per connection), by PID, when dropped.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::display::Xvfb;
use crate::process::{poll, require_tool, run_bounded, signal, tail, Guarded};
use crate::proctree;
use crate::server::{accepts_connections, free_port};

/// A peer server process; its process tree is killed on drop.
pub struct Peer {
    pub port: u16,
    proc: Guarded,
}

impl Peer {
    pub fn log_text(&self) -> String {
        self.proc.log_text()
    }

    /// Waits (<= 20 s) until the port accepts connections.
    fn wait_listening(mut self, name: &str) -> Peer {
        let up = poll(Duration::from_secs(20), Duration::from_millis(100), || {
            if accepts_connections(self.port) {
                Some(true)
            } else if !self.proc.is_running() {
                Some(false)
            } else {
                None
            }
        });
        assert!(
            up == Some(true),
            "{name} did not listen on 127.0.0.1:{} within 20 s ({:?}); its output:\n{}",
            self.port,
            self.proc.exited(),
            tail(&self.proc.log_text(), 30)
        );
        self
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // Children first (xrdp's per-connection forks), then the server itself.
        let family = proctree::tree(self.proc.pid());
        for &(pid, start) in family.iter().skip(1) {
            if proctree::alive((pid, start)) {
                signal(pid, rustix::process::Signal::KILL);
            }
        }
        self.proc.stop(Duration::from_secs(3));
    }
}

/// xrdp 0.9 in the foreground (`--nodaemon`), with a copy of the packaged xrdp.ini
/// whose only change is `port=` (bound to 127.0.0.1 and a free port).
pub fn xrdp(dir: &Path) -> Peer {
    require_tool("xrdp", "xrdp");
    // xrdp refuses to start while this file exists (a daemonised xrdp writes it; ours,
    // in the foreground, does not). The tests stop only what they started.
    let pid_file = Path::new("/var/run/xrdp/xrdp.pid");
    if let Ok(pid) = std::fs::read_to_string(pid_file) {
        panic!(
            "{} exists (pid {}): a system xrdp is running (or died and left the file), and \
             xrdp will not start next to it; stop it (systemctl stop xrdp) or remove the stale \
             file. .ci/run installs xrdp without starting its service.",
            pid_file.display(),
            pid.trim()
        );
    }
    let packaged = std::fs::read_to_string("/etc/xrdp/xrdp.ini")
        .expect("/etc/xrdp/xrdp.ini (apt-get install xrdp)");
    let port = free_port();
    let mut replaced = 0;
    let ini: String = packaged
        .lines()
        .map(|line| {
            if line.starts_with("port=") && replaced == 0 {
                replaced += 1;
                format!("port=tcp://127.0.0.1:{port}")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        replaced, 1,
        "no port= line in /etc/xrdp/xrdp.ini:\n{packaged}"
    );
    let ini_path = dir.join("xrdp.ini");
    std::fs::write(&ini_path, ini + "\n").expect("write xrdp.ini");
    let mut cmd = Command::new("xrdp");
    cmd.arg("--nodaemon").arg("--config").arg(&ini_path);
    let proc = Guarded::spawn("xrdp", &mut cmd, &dir.join("xrdp.out"));
    Peer { port, proc }.wait_listening("xrdp")
}

/// freerdp-shadow-cli sharing `display`, NLA only, one SAM account.
pub fn freerdp_shadow(display: &Xvfb, user: &str, password: &str) -> Peer {
    require_tool("freerdp-shadow-cli", "freerdp2-shadow-x11");
    require_tool("winpr-hash", "winpr-utils");
    let dir = display.dir();
    let (status, hash, err) = run_bounded(
        "winpr-hash",
        Command::new("winpr-hash").args(["-u", user, "-p", password]),
        Duration::from_secs(10),
    );
    let hash = hash.trim().to_owned();
    assert!(
        status.is_some_and(|s| s.success()) && hash.len() == 32,
        "winpr-hash failed ({status:?}): {hash}{err}"
    );
    let sam = dir.join("sam");
    std::fs::write(&sam, format!("{user}:::{hash}:::\n")).expect("write SAM file");
    // Its own HOME: the shadow server keeps its generated certificate there.
    let home = dir.join("shadow-home");
    std::fs::create_dir_all(&home).expect("shadow home");
    let port = free_port();
    let mut cmd = display.command("freerdp-shadow-cli");
    cmd.env("HOME", &home)
        .arg("/bind-address:127.0.0.1")
        .arg(format!("/port:{port}"))
        .arg("/sec:nla")
        .arg("+auth")
        .arg(format!("/sam-file:{}", sam.display()));
    let proc = Guarded::spawn("freerdp-shadow-cli", &mut cmd, &dir.join("shadow.log"));
    Peer { port, proc }.wait_listening("freerdp-shadow-cli")
}
