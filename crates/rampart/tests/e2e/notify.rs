//! The `Type=notify` contract of the unit, on the host: with `NOTIFY_SOCKET` set, `rampart
//! serve` sends `READY=1` with its listening address once it accepts connections, and
//! `STOPPING=1` when SIGTERM starts its shutdown. (The package test shows systemd itself
//! taking the READY; this one also sees STOPPING and the abstract-socket form.)

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::process::Command;
use std::time::Duration;

use crate::process::{tail, Guarded};
use crate::server::{free_port, BIN};

fn next_notice(socket: &UnixDatagram) -> String {
    let mut buf = [0u8; 1024];
    match socket.recv(&mut buf) {
        Ok(n) => String::from_utf8_lossy(&buf[..n]).into_owned(),
        Err(e) => format!("<no notice: {e}>"),
    }
}

#[test]
fn serve_notifies_ready_with_its_address_and_stopping_on_sigterm() {
    let _turn = crate::exclusive();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("rampart.toml"), "[server]\n").expect("config");
    // An abstract socket, as systemd uses: "@name".
    let name = format!("rampart-e2e-notify-{}", std::process::id());
    let socket = UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes()).expect("name"))
        .expect("bind the notify socket");
    socket.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");

    let port = free_port();
    let log = dir.path().join("server.log");
    let mut server = Guarded::spawn(
        "rampart serve",
        Command::new(BIN)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--config"])
            .arg(dir.path().join("rampart.toml"))
            .arg("--state-dir")
            .arg(dir.path().join("state"))
            .env("NOTIFY_SOCKET", format!("@{name}")),
        &log,
    );
    let ready = next_notice(&socket);
    assert_eq!(
        ready,
        format!("READY=1\nSTATUS=listening on 127.0.0.1:{port}\n"),
        "server output:\n{}",
        tail(&server.log_text(), 20)
    );
    assert!(crate::server::accepts_connections(port), "READY before listening");

    assert!(server.stop(Duration::from_secs(10)), "serve did not exit on SIGTERM");
    let stopping = next_notice(&socket);
    assert_eq!(stopping, "STOPPING=1\nSTATUS=shutting down\n", "{}", tail(&server.log_text(), 20));
}
