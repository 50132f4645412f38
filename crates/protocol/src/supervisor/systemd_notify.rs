//! Readiness and shutdown notices for systemd (`Type=notify`), without libsystemd: one
//! datagram per notice to the socket named by `$NOTIFY_SOCKET` (sd_notify(3)). A name
//! starting with `@` is a Linux abstract socket.
//!
//! [`take_from_env`] runs once at start-up, while the process is still single-threaded: it
//! reads the variable and removes it from the environment, so no worker, Xvfb or user
//! session inherits a channel to the service manager. Without the variable (not started by
//! systemd) every notice is a no-op.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::sync::OnceLock;

/// The notify socket, if systemd gave one; set once by [`take_from_env`].
static SOCKET: OnceLock<Option<OsString>> = OnceLock::new();

/// The variable systemd sets for `Type=notify` services.
pub const NOTIFY_SOCKET_VAR: &str = "NOTIFY_SOCKET";

/// Reads `$NOTIFY_SOCKET` and unsets it. Call before any thread or child process exists
/// (`rampart serve` does, first thing); later calls keep the first answer.
pub fn take_from_env() {
    let socket = std::env::var_os(NOTIFY_SOCKET_VAR).filter(|s| !s.is_empty());
    if socket.is_some() {
        // Single-threaded here (see above), so changing the environment races with nothing.
        std::env::remove_var(NOTIFY_SOCKET_VAR);
    }
    let _ = SOCKET.set(socket);
}

/// `READY=1` once the accept loop has decided whether the port is open: `local` is the
/// listening address, `None` when the access windows keep the port closed for now. Either
/// way the server is up and `systemctl start` may return.
pub fn ready(local: Option<std::net::SocketAddr>) {
    send(&format!("READY=1\nSTATUS={}\n", one_line(&ready_status(local))));
}

/// `STOPPING=1`: shutdown has begun (sessions are being ended).
pub fn stopping() {
    send("STOPPING=1\nSTATUS=shutting down\n");
}

/// The status `systemctl status` shows after [`ready`].
pub fn ready_status(local: Option<std::net::SocketAddr>) -> String {
    match local {
        Some(addr) => format!("listening on {addr}"),
        None => "outside every access window; port closed".to_owned(),
    }
}

fn send(message: &str) {
    let Some(Some(socket)) = SOCKET.get() else {
        return;
    };
    // A lost notice costs a start-up timeout, never the server: log and go on.
    if let Err(err) = notify_to(socket, message) {
        tracing::warn!(%err, socket = ?socket, "cannot notify systemd");
    }
}

/// Sends `message` as one datagram to the socket `name` (a path, or `@abstract`).
pub fn notify_to(name: &OsStr, message: &str) -> io::Result<()> {
    let addr = socket_addr(name)?;
    let socket = UnixDatagram::unbound()?;
    let sent = socket.send_to_addr(message.as_bytes(), &addr)?;
    if sent != message.len() {
        return Err(io::Error::new(io::ErrorKind::WriteZero, "notice truncated"));
    }
    Ok(())
}

fn socket_addr(name: &OsStr) -> io::Result<SocketAddr> {
    let bytes = name.as_bytes();
    match bytes.split_first() {
        Some((b'@', abstract_name)) => {
            use std::os::linux::net::SocketAddrExt;
            SocketAddr::from_abstract_name(abstract_name)
        }
        Some((b'/', _)) => SocketAddr::from_pathname(name),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "NOTIFY_SOCKET is neither an absolute path nor an abstract name",
        )),
    }
}

/// Status text on one line: a newline would start a new assignment in the datagram.
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn receive(socket: &UnixDatagram) -> String {
        socket.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 512];
        let n = socket.recv(&mut buf).unwrap();
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn path_socket_receives_the_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let listener = UnixDatagram::bind(&path).unwrap();
        notify_to(path.as_os_str(), "READY=1\nSTATUS=x\n").unwrap();
        assert_eq!(receive(&listener), "READY=1\nSTATUS=x\n");
    }

    #[test]
    fn abstract_socket_receives_the_message() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("rampart-notify-test-{}", std::process::id());
        let listener = UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes()).unwrap()).unwrap();
        notify_to(OsStr::new(&format!("@{name}")), "STOPPING=1\n").unwrap();
        assert_eq!(receive(&listener), "STOPPING=1\n");
    }

    #[test]
    fn relative_or_empty_names_are_refused() {
        assert!(notify_to(OsStr::new("relative/path"), "READY=1").is_err());
        assert!(notify_to(OsStr::new(""), "READY=1").is_err());
        // Nobody listens there: an error, not a hang or a panic.
        assert!(notify_to(OsStr::new("/nonexistent/rampart/notify"), "READY=1").is_err());
    }

    #[test]
    fn status_is_one_line() {
        assert_eq!(one_line("a\nSTOPPING=1"), "a STOPPING=1");
        assert_eq!(ready_status(Some("127.0.0.1:3389".parse().unwrap())), "listening on 127.0.0.1:3389");
        assert_eq!(ready_status(None), "outside every access window; port closed");
    }
}
