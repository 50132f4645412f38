//! Forwarding stored audit events to a local datagram socket (`[audit] syslog`): syslog's
//! `/dev/log` (RFC 5424 with structured data) or journald's native socket. Formatting is in
//! `rampart_audit::export`; this is only the send. The store is the trail: a forward that
//! fails is logged and never holds anything up (the socket is non-blocking).

use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicU64, Ordering};

use rampart_audit::chain::{hex_lower, Hash};
use rampart_audit::export::{self, Sequenced};
use rampart_audit::Event;
use tracing::warn;

use crate::options::{AuditForward, ForwardFormat};

pub(crate) struct Forwarder {
    target: AuditForward,
    socket: UnixDatagram,
    hostname: String,
    pid: u32,
    failures: AtomicU64,
}

impl Forwarder {
    pub(crate) fn new(target: AuditForward) -> std::io::Result<Self> {
        let socket = UnixDatagram::unbound()?;
        socket.set_nonblocking(true)?;
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_default();
        Ok(Self {
            target,
            socket,
            hostname,
            pid: std::process::id(),
            failures: AtomicU64::new(0),
        })
    }

    /// Sends one stored event; failures are counted and logged (the 1st, 2nd, 4th, 8th...).
    pub(crate) fn send(&self, seq: i64, event: &Event, hash: &Hash) {
        let hash = hex_lower(hash);
        let s = Sequenced {
            seq,
            event,
            hash: Some(&hash),
        };
        let message = match self.target.format {
            ForwardFormat::Rfc5424 => export::rfc5424(&s, &self.hostname, self.pid),
            ForwardFormat::Journald => export::journald(&s),
        };
        if let Err(err) = self.socket.send_to(message.as_bytes(), &self.target.socket) {
            let n = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                warn!(socket = %self.target.socket.display(), %err, failures = n, "audit event not forwarded (it is stored)");
            }
        }
    }
}
