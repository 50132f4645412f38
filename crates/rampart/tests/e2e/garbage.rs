//! Misbehaving pre-authentication peers, each bounded in time and bytes, bound to
//! a chosen loopback source address (socket2) so they have their own per-IP budget.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};

/// What one garbage peer saw.
#[derive(Debug, Clone)]
pub struct PeerReport {
    pub kind: &'static str,
    pub connected: bool,
    pub bytes_sent: u64,
    /// When the server closed (or reset) the connection, measured from connect.
    pub closed_by_server_after: Option<Duration>,
}

/// The four kinds of garbage peer.
#[derive(Debug, Clone, Copy)]
pub enum Garbage {
    /// 4 KiB of random bytes, then wait.
    RandomBytes,
    /// The first 7 of the 19 bytes of an X.224 Connection Request, then silence.
    TruncatedConnectionRequest,
    /// A complete X.224 CR asking for HYBRID, then an endless byte stream.
    HybridThenStream,
    /// Connects and never sends anything.
    HalfOpen,
}

/// TPKT + X.224 Connection Request with RDP_NEG_REQ for `protocols`.
pub fn connection_request(protocols: u32) -> Vec<u8> {
    let mut v = vec![3, 0, 0, 19, 14, 0xE0, 0, 0, 0, 0, 0, 1, 0, 8, 0];
    v.extend_from_slice(&protocols.to_le_bytes());
    v
}

/// xorshift64: cheap non-cryptographic noise for the peers.
struct Noise(u64);
impl Noise {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            *b = self.0 as u8;
        }
    }
}

fn connect_from(source: Ipv4Addr, server: SocketAddr) -> std::io::Result<TcpStream> {
    let s = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    s.bind(&SocketAddr::from((source, 0)).into())?;
    s.connect_timeout(&server.into(), Duration::from_secs(3))?;
    Ok(s.into())
}

/// Whether the server has closed `s` (EOF or reset); reads and drops any data.
fn closed(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    match s.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => false,
        Err(_) => true,
    }
}

/// Runs one peer from `source` against `server` for at most `hold`.
pub fn run(kind: Garbage, source: Ipv4Addr, server: SocketAddr, hold: Duration, seed: u64) -> PeerReport {
    let name = match kind {
        Garbage::RandomBytes => "random-bytes",
        Garbage::TruncatedConnectionRequest => "truncated-x224-cr",
        Garbage::HybridThenStream => "hybrid-cr-then-stream",
        Garbage::HalfOpen => "half-open",
    };
    let mut report = PeerReport { kind: name, connected: false, bytes_sent: 0, closed_by_server_after: None };
    let Ok(mut s) = connect_from(source, server) else { return report };
    report.connected = true;
    let t0 = Instant::now();
    let mut noise = Noise(seed | 1);
    let _ = s.set_write_timeout(Some(Duration::from_millis(200)));
    let poll_every = if matches!(kind, Garbage::HybridThenStream) { 2 } else { 50 };
    let _ = s.set_read_timeout(Some(Duration::from_millis(poll_every)));
    let send = |s: &mut TcpStream, data: &[u8], report: &mut PeerReport| -> bool {
        match s.write(data) {
            Ok(n) => {
                report.bytes_sent += n as u64;
                true
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => true,
            Err(_) => false,
        }
    };
    let first: Vec<u8> = match kind {
        Garbage::RandomBytes => {
            let mut b = vec![0u8; 4096];
            noise.fill(&mut b);
            b
        }
        Garbage::TruncatedConnectionRequest => connection_request(3)[..7].to_vec(),
        Garbage::HybridThenStream => connection_request(3),
        Garbage::HalfOpen => Vec::new(),
    };
    if !first.is_empty() && !send(&mut s, &first, &mut report) {
        report.closed_by_server_after = Some(t0.elapsed());
        return report;
    }
    let mut chunk = [0u8; 4096];
    while t0.elapsed() < hold {
        if closed(&mut s) {
            report.closed_by_server_after = Some(t0.elapsed());
            break;
        }
        if matches!(kind, Garbage::HybridThenStream) {
            // ~4 MB/s at most: a stream the server must cut off, not a CPU burner.
            noise.fill(&mut chunk);
            if !send(&mut s, &chunk, &mut report) {
                report.closed_by_server_after = Some(t0.elapsed());
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    report
}
