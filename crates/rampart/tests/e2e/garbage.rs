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
    /// A real X.224 + TLS upgrade, then a CredSSP TSRequest that announces ~2 GiB
    /// and never ends: only the pre-auth byte budget stops it early.
    TlsThenEndlessTsRequest,
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
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
            ) =>
        {
            false
        }
        Err(_) => true,
    }
}

/// Runs one peer from `source` against `server` for at most `hold`.
pub fn run(
    kind: Garbage,
    source: Ipv4Addr,
    server: SocketAddr,
    hold: Duration,
    seed: u64,
) -> PeerReport {
    let name = match kind {
        Garbage::RandomBytes => "random-bytes",
        Garbage::TruncatedConnectionRequest => "truncated-x224-cr",
        Garbage::HybridThenStream => "hybrid-cr-then-stream",
        Garbage::HalfOpen => "half-open",
        Garbage::TlsThenEndlessTsRequest => "tls-then-endless-tsrequest",
    };
    let mut report = PeerReport {
        kind: name,
        connected: false,
        bytes_sent: 0,
        closed_by_server_after: None,
    };
    let Ok(mut s) = connect_from(source, server) else {
        return report;
    };
    report.connected = true;
    let t0 = Instant::now();
    if matches!(kind, Garbage::TlsThenEndlessTsRequest) {
        tls::endless_tsrequest(s, t0, hold, seed, &mut report);
        return report;
    }
    let mut noise = Noise(seed | 1);
    let _ = s.set_write_timeout(Some(Duration::from_millis(200)));
    let poll_every = if matches!(kind, Garbage::HybridThenStream) {
        2
    } else {
        50
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(poll_every)));
    let send = |s: &mut TcpStream, data: &[u8], report: &mut PeerReport| -> bool {
        match s.write(data) {
            Ok(n) => {
                report.bytes_sent += n as u64;
                true
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                true
            }
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
        Garbage::HalfOpen | Garbage::TlsThenEndlessTsRequest => Vec::new(),
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

mod tls {
    //! The TLS peer: accepts any server certificate (it is an attacker, not a client
    //! that needs to trust the server).

    use std::io::{ErrorKind, Read, Write};
    use std::net::TcpStream;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, SignatureScheme};

    use super::{connection_request, Noise, PeerReport};

    #[derive(Debug)]
    struct AnyCertificate;

    impl ServerCertVerifier for AnyCertificate {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            _: &[u8],
            _: &CertificateDer<'_>,
            _: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            Ok(HandshakeSignatureValid::assertion())
        }
        fn verify_tls13_signature(
            &self,
            _: &[u8],
            _: &CertificateDer<'_>,
            _: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            Ok(HandshakeSignatureValid::assertion())
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            rustls::crypto::aws_lc_rs::default_provider()
                .signature_verification_algorithms
                .supported_schemes()
        }
    }

    /// X.224 CR for HYBRID, read the 19-byte Connection Confirm, TLS handshake, then
    /// a TSRequest header announcing 0x7fffffff bytes followed by noise until the
    /// server hangs up or `hold` passes.
    pub fn endless_tsrequest(
        mut tcp: TcpStream,
        t0: Instant,
        hold: Duration,
        seed: u64,
        report: &mut PeerReport,
    ) {
        let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = tcp.set_write_timeout(Some(Duration::from_secs(5)));
        let mut cc = [0u8; 19];
        if tcp.write_all(&connection_request(3)).is_err() || tcp.read_exact(&mut cc).is_err() {
            report.closed_by_server_after = Some(t0.elapsed());
            return;
        }
        report.bytes_sent += 19;
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("tls versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate))
        .with_no_client_auth();
        let name = ServerName::try_from("rampart-garbage-peer").expect("server name");
        let conn = rustls::ClientConnection::new(Arc::new(config), name).expect("tls client");
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        // DER SEQUENCE with a 4-byte length: the start of a ~2 GiB TSRequest.
        let header = [0x30u8, 0x84, 0x7f, 0xff, 0xff, 0xff];
        if tls.write_all(&header).and_then(|()| tls.flush()).is_err() {
            report.closed_by_server_after = Some(t0.elapsed());
            return;
        }
        report.bytes_sent += header.len() as u64;
        let _ = tls.sock.set_read_timeout(Some(Duration::from_millis(2)));
        let mut noise = Noise(seed | 1);
        let mut chunk = [0u8; 4096];
        let mut sink = [0u8; 4096];
        while t0.elapsed() < hold {
            noise.fill(&mut chunk);
            if tls.write_all(&chunk).and_then(|()| tls.flush()).is_err() {
                report.closed_by_server_after = Some(t0.elapsed());
                return;
            }
            report.bytes_sent += chunk.len() as u64;
            match tls.read(&mut sink) {
                Ok(0) => {
                    report.closed_by_server_after = Some(t0.elapsed());
                    return;
                }
                Err(e)
                    if !matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) =>
                {
                    report.closed_by_server_after = Some(t0.elapsed());
                    return;
                }
                _ => {}
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
