//! The I/O edge: TCP connections to the one target, each paced and counted by the
//! [`Pacer`], with a timeout on every connect, read and write and a deadline on the whole
//! scan. Everything it learns goes into [`Observations`]; nothing here judges.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme, StreamOwned};
use thiserror::Error;

use crate::certificate;
use crate::mcs;
use crate::ntlm;
use crate::observations::{
    AcceptedSuite, LoginAttempt, LoginOutcome, Negotiation, Observations, Probe, RdpSecurityProbe, TlsObservations,
    TlsVersionAnswer, TlsVersionProbe,
};
use crate::pacer::Pacer;
use crate::target::{Host, Target};
use crate::tls_hello::{self, HelloAnswer};
use crate::tlv;
use crate::tsrequest;
use crate::x224::{self, Answer, Request};

/// The most failed logins a scan may try (`--try-logins`).
pub const MAX_LOGIN_ATTEMPTS: u32 = 20;
/// The fastest a scan may open connections (`--rate`).
pub const MAX_PER_SECOND: u32 = 20;
/// All connections of one scan, whatever the options.
pub const MAX_CONNECTIONS: u32 = 64;
/// Rounds of the weak-suite enumeration (one connection each).
const MAX_SUITE_ROUNDS: usize = 12;
/// The largest X.224/MCS answer read.
const MAX_TPKT: usize = 16 * 1024;
/// Handshake flights before a TLS handshake counts as stuck.
const MAX_TLS_ROUNDS: usize = 32;
/// One connection may last this many step timeouts in all, however the server drips.
const CONNECTION_TIMEOUTS: u32 = 3;

/// How hard the scan may push.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Failed logins to try (0: off; at most [`MAX_LOGIN_ATTEMPTS`]).
    pub login_attempts: u32,
    /// Connection starts per second (at most [`MAX_PER_SECOND`]).
    pub per_second: u32,
    /// Each connect, read and write.
    pub step_timeout: Duration,
    /// The whole scan.
    pub deadline: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            login_attempts: 0,
            per_second: 5,
            step_timeout: Duration::from_secs(5),
            deadline: Duration::from_secs(180),
        }
    }
}

#[derive(Debug, Error)]
enum ProbeError {
    #[error("connection budget used up ({0} connections)")]
    Budget(u32),
    #[error("the scan's deadline has passed")]
    Deadline,
    #[error("cannot connect: {0}")]
    Connect(io::Error),
    #[error("the server closed the connection")]
    Closed,
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("{0}")]
    Io(io::Error),
    #[error("{0}")]
    Protocol(String),
    #[error("tls: {0}")]
    Tls(rustls::Error),
}

impl<T> From<ProbeError> for Probe<T> {
    fn from(err: ProbeError) -> Self {
        match err {
            ProbeError::Closed => Probe::Closed,
            other => Probe::failed(other),
        }
    }
}

/// Runs every probe against `addr` and returns what was seen.
pub fn scan(target: &Target, addr: SocketAddr, settings: &Settings) -> Observations {
    let mut edge = Edge::new(target, addr, settings);
    let negotiation: Vec<Negotiation> = Request::ALL
        .iter()
        .map(|&request| Negotiation {
            request,
            requested_protocols: request.flags(),
            answer: match edge.negotiate(request.flags()) {
                Ok((_, answer)) => Probe::Done { result: answer },
                Err(err) => err.into(),
            },
        })
        .collect();
    let mut obs = Observations {
        negotiation,
        rdp_security: Vec::new(),
        tls: Probe::not_run("the server selected no TLS-based protocol"),
        ntlm: Probe::not_run("the server does not offer CredSSP"),
        logins: Probe::not_run("opt-in: --try-logins N"),
        connections: 0,
    };
    if Request::ALL.iter().any(|&r| obs.selected(r) == Some(x224::PROTOCOL_RDP)) {
        obs.rdp_security = mcs::METHODS
            .iter()
            .map(|&offered| RdpSecurityProbe { offered, answer: edge.rdp_security(offered) })
            .collect();
    }
    let hybrid = obs.selected(Request::Hybrid).filter(|p| p & x224::PROTOCOL_HYBRID != 0).is_some();
    let tls_over = if hybrid {
        Some(Request::Hybrid)
    } else if obs.selected(Request::Ssl) == Some(x224::PROTOCOL_SSL) {
        Some(Request::Ssl)
    } else {
        None
    };
    let mut public_key = None;
    if let Some(over) = tls_over {
        let (tls, key) = edge.tls(over);
        obs.tls = Probe::Done { result: tls };
        public_key = key;
    }
    if hybrid {
        obs.ntlm = edge.ntlm_challenge();
        if settings.login_attempts > 0 {
            obs.logins = match public_key {
                Some(key) => edge.logins(settings.login_attempts.min(MAX_LOGIN_ATTEMPTS), &key),
                None => Probe::not_run("no server public key (no TLS handshake completed)"),
            };
        }
    } else if settings.login_attempts > 0 {
        obs.logins = Probe::not_run(
            "the server offers no NLA, so credentials would only be checked after a session starts; not tried",
        );
    }
    obs.connections = edge.pacer.used();
    obs
}

struct Edge {
    addr: SocketAddr,
    server_name: ServerName<'static>,
    spn_host: String,
    timeout: Duration,
    deadline: Instant,
    pacer: Pacer,
    provider: Arc<CryptoProvider>,
}

impl Edge {
    fn new(target: &Target, addr: SocketAddr, settings: &Settings) -> Self {
        let server_name = match &target.host {
            Host::Name(name) => ServerName::try_from(name.clone()).unwrap_or(ServerName::IpAddress(addr.ip().into())),
            Host::Ip(ip) => ServerName::IpAddress((*ip).into()),
        };
        Edge {
            addr,
            server_name,
            spn_host: target.name().map(str::to_owned).unwrap_or_else(|| addr.ip().to_string()),
            timeout: settings.step_timeout,
            deadline: Instant::now() + settings.deadline,
            pacer: Pacer::new(settings.per_second.min(MAX_PER_SECOND), MAX_CONNECTIONS),
            provider: Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
        }
    }

    /// A new paced TCP connection, bounded in time per operation and in all.
    fn connect(&mut self) -> Result<Timed, ProbeError> {
        let now = Instant::now();
        let wait = self.pacer.admit(now).map_err(|e| ProbeError::Budget(e.max))?;
        if now + wait >= self.deadline {
            return Err(ProbeError::Deadline);
        }
        std::thread::sleep(wait);
        let tcp = TcpStream::connect_timeout(&self.addr, self.timeout).map_err(ProbeError::Connect)?;
        tcp.set_nodelay(true).map_err(ProbeError::Io)?;
        let until = (Instant::now() + self.timeout * CONNECTION_TIMEOUTS).min(self.deadline);
        Ok(Timed { tcp, until, step: self.timeout })
    }

    fn io_error(&self, err: io::Error) -> ProbeError {
        match err.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ProbeError::Timeout(self.timeout),
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => ProbeError::Closed,
            _ => match err.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
                Some(tls) => ProbeError::Tls(tls.clone()),
                None => ProbeError::Io(err),
            },
        }
    }

    /// Reads one TPKT (header included) of at most `max` bytes.
    fn read_tpkt(&self, stream: &mut impl Read, max: usize) -> Result<Vec<u8>, ProbeError> {
        let mut header = [0u8; x224::TPKT_HEADER];
        stream.read_exact(&mut header).map_err(|e| self.io_error(e))?;
        let len = x224::tpkt_length(header, max).map_err(|e| ProbeError::Protocol(e.to_string()))?;
        let mut body = vec![0u8; len - x224::TPKT_HEADER];
        stream.read_exact(&mut body).map_err(|e| self.io_error(e))?;
        Ok(body)
    }

    /// A Connection Request for `flags` and the server's answer, on a new connection.
    fn negotiate(&mut self, flags: u32) -> Result<(Timed, Answer), ProbeError> {
        let mut stream = self.connect()?;
        stream.write_all(&x224::connection_request(flags)).map_err(|e| self.io_error(e))?;
        let tpdu = self.read_tpkt(&mut stream, 512)?;
        let answer = x224::parse_confirm(&tpdu).map_err(|e| ProbeError::Protocol(e.to_string()))?;
        Ok((stream, answer))
    }

    /// Standard RDP Security: which encryption the server settles on when offered `methods`.
    fn rdp_security(&mut self, methods: u32) -> Probe<mcs::ServerSecurity> {
        let result = (|| {
            let (mut stream, answer) = self.negotiate(x224::PROTOCOL_RDP)?;
            if !matches!(answer, Answer::Selected { protocol: 0 } | Answer::NoNegotiation) {
                return Err(ProbeError::Protocol(format!("Standard RDP Security not selected this time: {answer:?}")));
            }
            let initial = mcs::connect_initial(methods).map_err(|e| ProbeError::Protocol(e.to_string()))?;
            stream.write_all(&initial).map_err(|e| self.io_error(e))?;
            let tpdu = self.read_tpkt(&mut stream, MAX_TPKT)?;
            let data = x224::data_payload(&tpdu).map_err(|e| ProbeError::Protocol(e.to_string()))?;
            mcs::parse_connect_response(data).map_err(|e| ProbeError::Protocol(e.to_string()))
        })();
        match result {
            Ok(security) => Probe::Done { result: security },
            Err(err) => err.into(),
        }
    }

    fn client_config(
        &self,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Result<Arc<ClientConfig>, ProbeError> {
        let config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(versions)
            .map_err(ProbeError::Tls)?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ReportOnly(self.provider.clone())))
            .with_no_client_auth();
        Ok(Arc::new(config))
    }

    /// X.224 for `over`, then a rustls handshake limited to `versions`.
    fn tls_session(
        &mut self,
        over: Request,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Result<StreamOwned<ClientConnection, Timed>, ProbeError> {
        let config = self.client_config(versions)?;
        let (mut tcp, answer) = self.negotiate(over.flags())?;
        if !matches!(answer, Answer::Selected { protocol } if protocol != x224::PROTOCOL_RDP) {
            return Err(ProbeError::Protocol(format!("no TLS-based protocol selected this time: {answer:?}")));
        }
        let mut conn = ClientConnection::new(config, self.server_name.clone()).map_err(ProbeError::Tls)?;
        let mut rounds = 0;
        while conn.is_handshaking() {
            rounds += 1;
            if rounds > MAX_TLS_ROUNDS || Instant::now() >= self.deadline {
                return Err(ProbeError::Protocol("tls handshake did not finish".to_owned()));
            }
            conn.complete_io(&mut tcp).map_err(|e| self.io_error(e))?;
        }
        Ok(StreamOwned::new(conn, tcp))
    }

    /// TLS versions, weak suites and the certificate; also the certificate's public key
    /// (what CredSSP binds to) for the login attempts.
    fn tls(&mut self, over: Request) -> (TlsObservations, Option<Vec<u8>>) {
        let mut versions = Vec::new();
        for version in [tls_hello::TLS1_0, tls_hello::TLS1_1] {
            versions.push(TlsVersionProbe {
                version,
                name: tls_hello::version_name(version),
                answer: self.legacy_version(over, version),
            });
        }
        let mut cert_der: Option<Vec<u8>> = None;
        for (version, rustls_version) in
            [(tls_hello::TLS1_2, &rustls::version::TLS12), (0x0304, &rustls::version::TLS13)]
        {
            let answer = match self.tls_session(over, &[rustls_version]) {
                Ok(session) => {
                    if cert_der.is_none() {
                        cert_der = session.conn.peer_certificates().and_then(|c| c.first()).map(|c| c.to_vec());
                    }
                    let cipher_suite =
                        session.conn.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite())).unwrap_or_default();
                    Probe::Done { result: TlsVersionAnswer::Accepted { cipher_suite } }
                }
                Err(ProbeError::Tls(err)) => {
                    Probe::Done { result: TlsVersionAnswer::Refused { reason: err.to_string() } }
                }
                Err(ProbeError::Closed) => {
                    Probe::Done { result: TlsVersionAnswer::Refused { reason: "connection closed".to_owned() } }
                }
                Err(err) => err.into(),
            };
            versions.push(TlsVersionProbe { version, name: tls_hello::version_name(version), answer });
        }
        let any_accepted =
            versions.iter().any(|v| matches!(v.answer, Probe::Done { result: TlsVersionAnswer::Accepted { .. } }));
        let weak_suites = if any_accepted { self.weak_suites(over) } else { Probe::not_run("no TLS version accepted") };
        let (certificate, public_key) = match &cert_der {
            Some(der) => (
                certificate::facts(der).map_or_else(Probe::failed, |facts| Probe::Done { result: facts }),
                certificate::subject_public_key(der).ok(),
            ),
            None => (Probe::not_run("no TLS 1.2/1.3 handshake completed"), None),
        };
        let tls = TlsObservations {
            over,
            versions,
            weak_suites,
            weak_suites_offered: tls_hello::WEAK_SUITES.len(),
            certificate,
        };
        (tls, public_key)
    }

    /// X.224 for `over`, a hand-made ClientHello, and the first record of the answer.
    fn hello(&mut self, over: Request, version: u16, suites: &[u16]) -> Result<HelloAnswer, ProbeError> {
        let (mut tcp, answer) = self.negotiate(over.flags())?;
        if !matches!(answer, Answer::Selected { protocol } if protocol != x224::PROTOCOL_RDP) {
            return Err(ProbeError::Protocol(format!("no TLS-based protocol selected this time: {answer:?}")));
        }
        tcp.write_all(&tls_hello::client_hello(version, suites, rand::random())).map_err(|e| self.io_error(e))?;
        let mut header = [0u8; tls_hello::RECORD_HEADER];
        tcp.read_exact(&mut header).map_err(|e| self.io_error(e))?;
        let (kind, len) = tls_hello::record_header(header).map_err(|e| ProbeError::Protocol(e.to_string()))?;
        let mut body = vec![0u8; len];
        tcp.read_exact(&mut body).map_err(|e| self.io_error(e))?;
        tls_hello::parse_answer(kind, &body).map_err(|e| ProbeError::Protocol(e.to_string()))
    }

    fn legacy_version(&mut self, over: Request, version: u16) -> Probe<TlsVersionAnswer> {
        let refused = |reason: String| Probe::Done { result: TlsVersionAnswer::Refused { reason } };
        match self.hello(over, version, &tls_hello::LEGACY_VERSION_SUITES) {
            Ok(HelloAnswer::ServerHello { version: v, cipher_suite }) if v == version => {
                Probe::Done { result: TlsVersionAnswer::Accepted { cipher_suite: format!("{cipher_suite:#06x}") } }
            }
            Ok(HelloAnswer::ServerHello { version: v, .. }) => {
                refused(format!("server answered with {}", tls_hello::version_name(v)))
            }
            Ok(HelloAnswer::Alert { description, .. }) => refused(tls_hello::alert_name(description)),
            Err(ProbeError::Closed) => refused("connection closed".to_owned()),
            Err(err) => err.into(),
        }
    }

    /// Offers the weak suites in TLS 1.2, removing each one the server picks, until it
    /// refuses the rest.
    fn weak_suites(&mut self, over: Request) -> Probe<Vec<AcceptedSuite>> {
        let mut offered: Vec<u16> = tls_hello::WEAK_SUITES.iter().map(|s| s.0).collect();
        let mut accepted = Vec::new();
        for _ in 0..MAX_SUITE_ROUNDS {
            match self.hello(over, tls_hello::TLS1_2, &offered) {
                Ok(HelloAnswer::ServerHello { cipher_suite, .. }) => {
                    let Some((name, weakness)) =
                        tls_hello::weak_suite(cipher_suite).filter(|_| offered.contains(&cipher_suite))
                    else {
                        return Probe::failed(format!(
                            "the server picked suite {cipher_suite:#06x}, which was not offered"
                        ));
                    };
                    offered.retain(|&s| s != cipher_suite);
                    accepted.push(AcceptedSuite { code: cipher_suite, name: name.to_owned(), weakness });
                    if offered.is_empty() {
                        break;
                    }
                }
                Ok(HelloAnswer::Alert { .. }) | Err(ProbeError::Closed) => break,
                Err(err) if accepted.is_empty() => return err.into(),
                // Ran out of budget or time midway: report what was found.
                Err(_) => break,
            }
        }
        Probe::Done { result: accepted }
    }

    /// CredSSP with an NTLM NEGOTIATE; the CHALLENGE's disclosures.
    fn ntlm_challenge(&mut self) -> Probe<ntlm::ChallengeFacts> {
        let result = (|| {
            let mut session = self.tls_session(Request::Hybrid, rustls::ALL_VERSIONS)?;
            session.write_all(&tsrequest::with_token(&ntlm::negotiate_message())).map_err(|e| self.io_error(e))?;
            let answer = self.read_ts_request(&mut session)?;
            let parsed = tsrequest::parse(&answer).map_err(|e| ProbeError::Protocol(e.to_string()))?;
            let token = parsed.token.ok_or_else(|| {
                ProbeError::Protocol(match parsed.error_code {
                    Some(code) => format!("the server answered with error {code:#010x} and no token"),
                    None => "the server's TSRequest holds no token".to_owned(),
                })
            })?;
            ntlm::parse_challenge(&token).map_err(|e| ProbeError::Protocol(e.to_string()))
        })();
        match result {
            Ok(facts) => Probe::Done { result: facts },
            Err(err) => err.into(),
        }
    }

    /// One DER TSRequest, at most [`tsrequest::MAX_TS_REQUEST`] bytes.
    fn read_ts_request(&self, stream: &mut impl Read) -> Result<Vec<u8>, ProbeError> {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 2048];
        loop {
            if let Some(size) = tlv::element_size(&buf).map_err(|e| ProbeError::Protocol(e.to_string()))? {
                if size > tsrequest::MAX_TS_REQUEST {
                    return Err(ProbeError::Protocol(format!("TSRequest of {size} bytes is too large")));
                }
                if buf.len() >= size {
                    buf.truncate(size);
                    return Ok(buf);
                }
            }
            if buf.len() >= tsrequest::MAX_TS_REQUEST {
                return Err(ProbeError::Protocol("TSRequest too large".to_owned()));
            }
            match stream.read(&mut chunk) {
                Ok(0) => return Err(ProbeError::Closed),
                Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_error(e)),
            }
        }
    }

    /// `count` logins as a random user with a random password, each on its own connection;
    /// stops at the first refusal or silence.
    fn logins(&mut self, count: u32, public_key: &[u8]) -> Probe<Vec<LoginAttempt>> {
        let mut attempts = Vec::new();
        for _ in 0..count {
            // Out of connections or time: report the attempts made so far.
            let Some(attempt) = self.login(public_key) else { break };
            let stop = matches!(
                attempt.outcome,
                LoginOutcome::Refused { .. } | LoginOutcome::NoAnswer | LoginOutcome::Accepted
            );
            attempts.push(attempt);
            if stop {
                break;
            }
        }
        Probe::Done { result: attempts }
    }

    /// One login; `None` when the scan's connection budget or deadline is used up.
    fn login(&mut self, public_key: &[u8]) -> Option<LoginAttempt> {
        let started = Instant::now();
        let ms = |since: Instant| u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX);
        let refused = |stage: &str| {
            Some(LoginAttempt { outcome: LoginOutcome::Refused { stage: stage.to_owned() }, elapsed_ms: ms(started) })
        };
        // Before the credentials: a refusal (or silence) here is the server blocking this address.
        let mut session = match self.tls_session(Request::Hybrid, rustls::ALL_VERSIONS) {
            Ok(session) => session,
            Err(ProbeError::Budget(_) | ProbeError::Deadline) => return None,
            Err(ProbeError::Closed) => return refused("connection set-up"),
            Err(ProbeError::Timeout(_)) => return refused("connection set-up (no answer)"),
            Err(ProbeError::Connect(e)) if e.kind() == io::ErrorKind::ConnectionRefused => {
                return refused("tcp connect")
            }
            Err(err) => {
                return Some(LoginAttempt {
                    outcome: LoginOutcome::Failed { error: err.to_string() },
                    elapsed_ms: ms(started),
                })
            }
        };
        let mut sent_at = Instant::now();
        let mut credentials_sent = false;
        let result = (|| {
            let mut client = credssp_client(public_key, &self.spn_host)?;
            let mut request = sspi::credssp::TsRequest::default();
            // NEGOTIATE out, CHALLENGE in, AUTHENTICATE out, verdict in.
            for round in 0..2 {
                // sspi reads the server's CHALLENGE; were it ever to panic on a hostile one,
                // that is this attempt's failure, not the scan's end.
                let state = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    client.process(request).resolve_to_result()
                }))
                .map_err(|_| {
                    ProbeError::Protocol("credssp: the NTLM client panicked on the server's answer".to_owned())
                })?
                .map_err(|e| ProbeError::Protocol(format!("credssp: {e}")))?;
                let reply = match state {
                    sspi::credssp::ClientState::ReplyNeeded(r) | sspi::credssp::ClientState::FinalMessage(r) => r,
                };
                let mut bytes = Vec::new();
                reply.encode_ts_request(&mut bytes).map_err(ProbeError::Io)?;
                session.write_all(&bytes).map_err(|e| self.io_error(e))?;
                sent_at = Instant::now();
                credentials_sent = round == 1;
                let answer = self.read_ts_request(&mut session)?;
                let parsed = tsrequest::parse(&answer).map_err(|e| ProbeError::Protocol(e.to_string()))?;
                if round == 1 {
                    return Ok(parsed);
                }
                if let Some(code) = parsed.error_code {
                    return Err(ProbeError::Protocol(format!(
                        "the server answered the NTLM NEGOTIATE with error {code:#010x}"
                    )));
                }
                // Checked by our own bounded parsers before sspi sees it.
                let token = parsed.token.ok_or_else(|| ProbeError::Protocol("no NTLM challenge".to_owned()))?;
                ntlm::parse_challenge(&token).map_err(|e| ProbeError::Protocol(e.to_string()))?;
                request = sspi::credssp::TsRequest::from_buffer(&answer)
                    .map_err(|e| ProbeError::Protocol(format!("credssp: {e}")))?;
            }
            Err(ProbeError::Protocol("credssp did not finish".to_owned()))
        })();
        let outcome = match result {
            Ok(answer) if answer.pub_key_auth && answer.error_code.is_none() => LoginOutcome::Accepted,
            Ok(answer) => LoginOutcome::Rejected { error_code: answer.error_code },
            // FreeRDP-based servers hang up instead of sending an errorCode.
            Err(ProbeError::Closed) if credentials_sent => LoginOutcome::Rejected { error_code: None },
            Err(ProbeError::Timeout(_)) if credentials_sent => LoginOutcome::NoAnswer,
            Err(ProbeError::Closed) => {
                LoginOutcome::Failed { error: "the server hung up before its NTLM challenge".to_owned() }
            }
            Err(err) => LoginOutcome::Failed { error: err.to_string() },
        };
        Some(LoginAttempt { outcome, elapsed_ms: ms(sent_at) })
    }
}

/// A TCP stream whose every read and write waits at most `step`, and not past `until`:
/// a server that drips one byte at a time cannot stretch a probe beyond its budget.
struct Timed {
    tcp: TcpStream,
    until: Instant,
    step: Duration,
}

impl Timed {
    fn left(&self) -> io::Result<Duration> {
        let left = self.until.saturating_duration_since(Instant::now()).min(self.step);
        if left.is_zero() {
            Err(io::Error::new(io::ErrorKind::TimedOut, "connection time budget used up"))
        } else {
            Ok(left)
        }
    }
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.tcp.set_read_timeout(Some(self.left()?))?;
        self.tcp.read(buf)
    }
}

impl Write for Timed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tcp.set_write_timeout(Some(self.left()?))?;
        self.tcp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

/// A CredSSP/NTLM client for a random user and password that no server has.
fn credssp_client(public_key: &[u8], host: &str) -> Result<sspi::credssp::CredSspClient, ProbeError> {
    let user = format!("rampart-scan-{:08x}", rand::random::<u32>());
    let password = format!("{:032x}", rand::random::<u128>());
    let username = sspi::Username::parse(&user).map_err(|e| ProbeError::Protocol(format!("user name: {e}")))?;
    let identity = sspi::AuthIdentity { username, password: password.into() };
    sspi::credssp::CredSspClient::new(
        public_key.to_vec(),
        sspi::Credentials::AuthIdentity(identity),
        sspi::credssp::CredSspMode::WithCredentials,
        sspi::credssp::ClientMode::Ntlm(sspi::ntlm::NtlmConfig::default()),
        format!("TERMSRV/{host}"),
    )
    .map_err(|e| ProbeError::Protocol(format!("credssp: {e}")))
}

/// Accepts any certificate: the scan reports the certificate, it does not trust it (RDP
/// servers are mostly self-signed, and the point is to look at them). Handshake
/// signatures are still verified, so a completed handshake is a real one.
#[derive(Debug)]
struct ReportOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for ReportOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::thread;

    use super::*;

    /// A one-connection-at-a-time loopback server running `serve` on each accepted stream,
    /// for `connections` connections.
    fn fake_server(connections: usize, serve: fn(TcpStream)) -> (SocketAddr, thread::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = thread::spawn(move || {
            for stream in listener.incoming().take(connections) {
                serve(stream.unwrap());
            }
        });
        (addr, handle)
    }

    fn test_edge(addr: SocketAddr, step: Duration) -> Edge {
        let target = Target::parse(&addr.to_string()).unwrap();
        let settings = Settings { per_second: 20, step_timeout: step, ..Settings::default() };
        Edge::new(&target, addr, &settings)
    }

    fn read_request(stream: &mut TcpStream) {
        let mut request = [0u8; 19];
        let _ = stream.read_exact(&mut request);
    }

    #[test]
    fn a_dripping_server_cannot_stretch_a_probe() {
        // Announces a 500-byte TPKT and sends one byte every 100 ms (50 s in all).
        let (addr, server) = fake_server(1, |mut s| {
            read_request(&mut s);
            let _ = s.write_all(&[3, 0, 0x01, 0xf4]);
            for _ in 0..500 {
                if s.write_all(&[0]).is_err() {
                    return;
                }
                thread::sleep(Duration::from_millis(100));
            }
        });
        let mut edge = test_edge(addr, Duration::from_millis(300));
        match edge.negotiate(x224::PROTOCOL_HYBRID) {
            Err(ProbeError::Timeout(_)) => {}
            other => panic!("expected a timeout from the connection's budget, got {:?}", other.map(|(_, a)| a)),
        }
        drop(edge);
        server.join().unwrap();
    }

    #[test]
    fn garbage_and_hang_ups_are_reported_not_fatal() {
        let (addr, server) = fake_server(2, |mut s| {
            read_request(&mut s);
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
        });
        let mut edge = test_edge(addr, Duration::from_secs(2));
        let err = edge.negotiate(0).map(|(_, a)| a).unwrap_err();
        assert!(err.to_string().contains("not a TPKT"), "{err}");
        let err = edge.negotiate(0).map(|(_, a)| a).unwrap_err();
        assert!(err.to_string().contains("not a TPKT"), "{err}");
        server.join().unwrap();

        let (addr, server) = fake_server(1, |mut s| read_request(&mut s));
        let mut edge = test_edge(addr, Duration::from_secs(2));
        assert!(matches!(edge.negotiate(0), Err(ProbeError::Closed)));
        server.join().unwrap();
    }

    #[test]
    fn the_connection_budget_is_enforced() {
        let (addr, server) = fake_server(usize::try_from(MAX_CONNECTIONS).unwrap(), |mut s| read_request(&mut s));
        let mut edge = test_edge(addr, Duration::from_secs(2));
        edge.pacer = Pacer::new(1000, MAX_CONNECTIONS);
        for _ in 0..MAX_CONNECTIONS {
            assert!(matches!(edge.negotiate(0), Err(ProbeError::Closed)));
        }
        assert!(matches!(edge.negotiate(0), Err(ProbeError::Budget(MAX_CONNECTIONS))));
        server.join().unwrap();
    }

    #[test]
    fn nothing_listening_means_could_not_scan() {
        // A port that was free a moment ago: connections are refused.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let target = Target::parse(&format!("127.0.0.1:{port}")).unwrap();
        let settings = Settings { per_second: 20, ..Settings::default() };
        let report = crate::scan(&target, &settings, &crate::Environment::default());
        assert_eq!(report.exit_status, crate::exit::COULD_NOT_SCAN);
        let why = report.could_not_scan.unwrap();
        assert!(why.contains("cannot connect"), "{why}");
        assert!(report.findings.is_empty());
        assert_eq!(report.observations.connections, 5, "one connection request per protocol, nothing more");
    }
}
