//! One connection, in its own process.
//!
//! The supervisor starts `rampart worker` per accepted TCP connection with the socket on
//! fd 0 and its IPC channel on fd 1, as an unprivileged user. Everything that parses
//! bytes from the peer (X.224, TLS, CredSSP/NTLM, MCS, RDP) runs here, so a peer that
//! crashes, hangs or bloats a worker takes down only its own connection; the supervisor
//! enforces the handshake deadline by killing the process.
//!
//! A worker holds no secret that is not its own connection's: TLS runs with a keyless
//! signing key (the supervisor signs the one handshake signature), and NTLM with a server
//! challenge the supervisor issued and a proof the supervisor verifies, getting back only the
//! session key. Nothing here logs CredSSP or NTLM messages, whatever `RUST_LOG` says
//! ([`FORBIDDEN_LOG_TARGETS`]).

pub(crate) mod activity;
pub(crate) mod budget;
pub(crate) mod clipboard;
pub mod confine;
pub(crate) mod display;
pub(crate) mod gfx;
pub(crate) mod prompt;

use std::os::fd::AsFd;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use ironrdp_acceptor::credssp::{
    AuthenticateClaim, CredentialStore, CredsspAttempt, CredsspOutcome, ServerChallenge,
};
use ironrdp_server::RdpServer;
use tracing::{debug, info, warn};

use budget::{AuthGate, BudgetedStream};
use clipboard::{ClipboardFactory, ClipboardLink};
use display::{DesktopLink, WorkerDisplay, WorkerInput};
use crate::ipc::{
    self,
    CloseFault, HexBytes, NtlmClaim, SecondFactorPlan, ToSupervisor, ToWorker, WorkerChannel, WorkerInit,
};
use crate::tls_signing::RemoteSigner;

/// Log targets a worker never emits, whatever `RUST_LOG` asks for: they print whole
/// TsRequests and NTLM messages (sspi's NTLM traces its input buffers, the acceptor's
/// CredSSP sequence logs each TsRequest at debug), and an NTLM AUTHENTICATE is crackable
/// offline (NetNTLMv2). Matched as the target or a `target::` prefix.
pub const FORBIDDEN_LOG_TARGETS: &[&str] = &["sspi", "ironrdp_acceptor::credssp", "ironrdp_connector::credssp"];

/// Whether events and spans of `target` may be logged in a worker.
pub fn log_target_allowed(target: &str) -> bool {
    !FORBIDDEN_LOG_TARGETS.iter().any(|forbidden| {
        target
            .strip_prefix(forbidden)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    })
}

/// The worker's IPC channel, shared by the credential hook and the display adapter.
pub(crate) type SharedChannel = Arc<Mutex<WorkerChannel>>;

/// Entry point of `rampart worker`.
pub fn worker_main() -> anyhow::Result<()> {
    // fd 0 is the peer's socket and fd 1 the IPC channel. Take both, then point fd 1 at
    // /dev/null so that no stray print can corrupt the channel.
    let tcp = std::io::stdin().as_fd().try_clone_to_owned().context("worker: no socket on fd 0")?;
    let ipc = std::io::stdout().as_fd().try_clone_to_owned().context("worker: no channel on fd 1")?;
    let devnull = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null")?;
    rustix::stdio::dup2_stdout(&devnull).context("worker: redirect stdout")?;
    rustix::stdio::dup2_stdin(&devnull).context("worker: redirect stdin")?;

    let tcp = std::net::TcpStream::from(tcp);
    let channel = WorkerChannel::new(std::os::unix::net::UnixStream::from(ipc))?;
    let channel: SharedChannel = Arc::new(Mutex::new(channel));

    let init = match lock(&channel)?.recv()? {
        ToWorker::Init(init) => init,
        other => anyhow::bail!("worker: expected init, got {other:?}"),
    };

    // Still single-threaded and before the first peer byte: the per-thread set*id calls
    // and the seccomp filter cover every thread the process will have.
    match &init.confinement {
        Some(confinement) => confine::confine(confinement).context("worker: confinement")?,
        None => warn!("worker runs unconfined (insecure_no_privsep)"),
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        // IronRDP hands some input and layout events to the blocking pool; keep that bounded.
        .max_blocking_threads(4)
        .build()
        .context("worker: tokio runtime")?;
    let local = tokio::task::LocalSet::new();
    let (reason, fault) = local.block_on(&runtime, serve_connection(tcp, &init, Arc::clone(&channel)));
    debug!(connection = init.connection, %reason, "connection over");
    if let Ok(mut ch) = channel.lock() {
        let reason = report_reason(&reason);
        let _ = ch.send(&ToSupervisor::Closed { reason, fault });
    }
    Ok(())
}

/// The close reason as the supervisor takes it: one line of at most `MAX_REASON_LEN`
/// characters (error chains can be longer; the supervisor ends a worker that sends more).
fn report_reason(reason: &str) -> String {
    let one_line: String = reason.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if one_line.chars().count() <= ipc::MAX_REASON_LEN {
        return one_line;
    }
    let mut short: String = one_line.chars().take(ipc::MAX_REASON_LEN - 1).collect();
    short.push('…');
    short
}

fn lock(channel: &SharedChannel) -> anyhow::Result<std::sync::MutexGuard<'_, WorkerChannel>> {
    channel.lock().map_err(|_| anyhow::anyhow!("worker: ipc channel poisoned"))
}

async fn serve_connection(tcp: std::net::TcpStream, init: &WorkerInit, channel: SharedChannel) -> (String, CloseFault) {
    match run(tcp, init, channel).await {
        Ok(()) => ("client disconnected".to_owned(), CloseFault::None),
        Err(Failure { reason, fault }) => (reason, fault),
    }
}

struct Failure {
    reason: String,
    fault: CloseFault,
}

impl Failure {
    fn internal(err: impl std::fmt::Display) -> Self {
        Self {
            reason: format!("internal error: {err}"),
            fault: CloseFault::Internal,
        }
    }
}

async fn run(tcp: std::net::TcpStream, init: &WorkerInit, channel: SharedChannel) -> Result<(), Failure> {
    tcp.set_nonblocking(true).map_err(Failure::internal)?;
    let _ = tcp.set_nodelay(true);
    let tcp = tokio::net::TcpStream::from_std(tcp).map_err(Failure::internal)?;

    let schemes = init
        .signature_schemes
        .iter()
        .map(|s| rustls::SignatureScheme::from(*s))
        .collect();
    let signer = Arc::new(IpcSigner {
        channel: Arc::clone(&channel),
    });
    let tls = crate::tls::keyless_server_config(&init.cert_pem, schemes, signer).map_err(Failure::internal)?;
    let public_key = crate::tls::public_key_from_pem(&init.cert_pem).map_err(Failure::internal)?;

    let gate = AuthGate::default();
    let hook = Arc::new(NlaHook {
        channel: Arc::clone(&channel),
        gate: gate.clone(),
        verified: Mutex::new(None),
        authenticated: Mutex::new(None),
        plan: Mutex::new(None),
        failed: std::sync::atomic::AtomicBool::new(false),
        named_at: Mutex::new(None),
    });
    let clipboard = Arc::new(ClipboardLink::default());
    let link = Arc::new(DesktopLink::new(Arc::clone(&channel), init, Arc::clone(&clipboard)));
    let display = WorkerDisplay::new(Arc::clone(&link), Arc::clone(&hook) as Arc<dyn AuthenticatedUser>);
    let input = WorkerInput::new(Arc::clone(&link));

    let mut server = RdpServer::builder()
        .with_addr(([0, 0, 0, 0], 0))
        .with_hybrid(tokio_rustls::TlsAcceptor::from(tls), public_key)
        .with_input_handler(input)
        .with_display_handler(display)
        .with_honor_client_desktop_size(true)
        // No channel at all when no user may use the clipboard: no clipboard PDU is parsed.
        .with_cliprdr_factory(
            init.clipboard
                .then(|| Box::new(ClipboardFactory::new(clipboard)) as Box<dyn ironrdp_server::CliprdrServerFactory>),
        )
        .with_gfx_factory(init.h264.then(|| link.gfx().factory()))
        .build();
    server.set_credential_store(Some(Arc::clone(&hook) as Arc<dyn CredentialStore>));

    let (stream, trip) = BudgetedStream::new(tcp, init.max_preauth_bytes, gate.clone());
    let result = server.run_connection(stream).await;
    link.release_input();
    if let Some(reason) = link.close_reason() {
        return Err(Failure {
            reason,
            fault: CloseFault::Peer,
        });
    }
    match result {
        Ok(()) if gate.is_open() => Ok(()),
        Ok(()) => Err(Failure {
            // IronRDP returns Ok after a failed TLS handshake or a refused negotiation.
            reason: "closed before authentication".to_owned(),
            fault: CloseFault::Peer,
        }),
        Err(_) if trip.tripped() => Err(Failure {
            reason: "pre-authentication byte budget exhausted".to_owned(),
            fault: CloseFault::Budget,
        }),
        // The attempt itself is already on record with its reason; the connection just ends.
        Err(_) if !gate.is_open() && hook.failed_attempt() => Err(Failure {
            reason: "authentication failed".to_owned(),
            fault: CloseFault::Peer,
        }),
        Err(err) => {
            let text = format!("{err:#}");
            let fault = classify(&text, gate.is_open());
            warn!(connection = init.connection, peer = %init.peer, error = %text, "connection failed");
            Err(Failure {
                reason: short_reason(&text, fault),
                fault,
            })
        }
    }
}

/// Sort an IronRDP error into who is at fault, from its text (the crates' errors are
/// stringly typed at this level).
fn classify(text: &str, authenticated: bool) -> CloseFault {
    let lower = text.to_ascii_lowercase();
    if lower.contains("security protocol") || lower.contains("negotiation") || lower.contains("hybrid_required") {
        CloseFault::Negotiation
    } else if lower.contains("connection reset") || lower.contains("broken pipe") || lower.contains("eof") {
        if authenticated {
            CloseFault::None
        } else {
            CloseFault::Peer
        }
    } else if lower.contains("display") || lower.contains("session") {
        CloseFault::Internal
    } else {
        CloseFault::Peer
    }
}

fn short_reason(text: &str, fault: CloseFault) -> String {
    let prefix = match fault {
        CloseFault::Negotiation => "security layer refused",
        CloseFault::Peer => "protocol error",
        CloseFault::Internal => "internal error",
        CloseFault::None => "client disconnected",
        CloseFault::Budget => "pre-authentication byte budget exhausted",
    };
    let mut detail: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    if detail.is_empty() {
        detail = "no detail".to_owned();
    }
    format!("{prefix}: {detail}")
}

/// Who passed NLA on this connection. Only the CredSSP hook can set it, and only on a
/// verified exchange; the display asks it, never the later client-info PDU.
pub(crate) trait AuthenticatedUser: Send + Sync {
    fn user(&self) -> Option<String>;
    /// The two-step prompt the supervisor asked for after NLA, if any.
    fn second_factor(&self) -> Option<SecondFactorPlan>;
}

/// The TLS handshake signature, made by the supervisor: one blocking round trip (this
/// process serves one connection, so blocking the runtime delays no one else).
#[derive(Debug)]
struct IpcSigner {
    channel: SharedChannel,
}

impl RemoteSigner for IpcSigner {
    fn sign(&self, scheme: rustls::SignatureScheme, message: &[u8]) -> Result<Vec<u8>, String> {
        let request = ToSupervisor::SignHandshake {
            scheme: u16::from(scheme),
            message: HexBytes(message.to_vec()),
        };
        let reply = self
            .channel
            .lock()
            .map_err(|_| "ipc channel poisoned".to_owned())?
            .request(&request)
            .map_err(|e| e.to_string())?;
        match reply {
            ToWorker::HandshakeSignature { signature } => Ok(signature.0),
            other => Err(format!("unexpected reply to a signature request: {other:?}")),
        }
    }
}

/// The CredSSP hook: the supervisor issues the NTLM challenge and verifies the client's
/// proof; this side records the outcome for the display and the byte budget.
#[derive(Debug)]
struct NlaHook {
    channel: SharedChannel,
    gate: AuthGate,
    /// The account the supervisor verified, until the exchange ends well here too (MIC and
    /// public-key binding).
    verified: Mutex<Option<String>>,
    authenticated: Mutex<Option<String>>,
    /// The second factor due for the verified user, from the supervisor's verdict.
    plan: Mutex<Option<SecondFactorPlan>>,
    failed: std::sync::atomic::AtomicBool,
    /// When the client's proof arrived: failures are answered `FAILURE_ANSWER_DELAY` after it.
    named_at: Mutex<Option<std::time::Instant>>,
}

/// A failed NLA attempt is answered this long after the client's proof arrived, whatever the
/// reason (unknown user, wrong password, back-off): no timing oracle, and a slower guesser.
const FAILURE_ANSWER_DELAY: std::time::Duration = std::time::Duration::from_millis(1000);

impl NlaHook {
    fn failed_attempt(&self) -> bool {
        self.failed.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn request(&self, msg: &ToSupervisor) -> sspi::Result<ToWorker> {
        let mut channel = self
            .channel
            .lock()
            .map_err(|_| sspi::Error::new(sspi::ErrorKind::InternalError, "ipc channel poisoned"))?;
        channel
            .request(msg)
            .map_err(|e| sspi::Error::new(sspi::ErrorKind::InternalError, format!("supervisor: {e}")))
    }
}

impl AuthenticatedUser for NlaHook {
    fn user(&self) -> Option<String> {
        self.authenticated.lock().ok().and_then(|u| u.clone())
    }

    fn second_factor(&self) -> Option<SecondFactorPlan> {
        self.user()?;
        self.plan.lock().ok().and_then(|p| p.clone())
    }
}

impl CredentialStore for NlaHook {
    fn ntlm_challenge(&self) -> sspi::Result<ServerChallenge> {
        match self.request(&ToSupervisor::NtlmChallenge)? {
            ToWorker::NtlmChallenge { challenge, timestamp } => {
                let challenge = challenge.0.try_into().map_err(|_| {
                    sspi::Error::new(sspi::ErrorKind::InternalError, "supervisor sent a malformed challenge")
                })?;
                Ok(ServerChallenge { challenge, timestamp })
            }
            other => Err(sspi::Error::new(
                sspi::ErrorKind::InternalError,
                format!("unexpected reply to a challenge request: {other:?}"),
            )),
        }
    }

    fn verify_ntlm_v2(&self, claim: &AuthenticateClaim<'_>) -> sspi::Result<[u8; 16]> {
        if let Ok(mut at) = self.named_at.lock() {
            *at = Some(std::time::Instant::now());
        }
        let claim = NtlmClaim {
            user: claim.user.clone(),
            domain: claim.domain.clone(),
            nt_response: HexBytes(claim.nt_challenge_response.to_vec()),
            encrypted_session_key: claim.encrypted_random_session_key.map(|k| HexBytes(k.to_vec())),
            flags: claim.negotiate_flags,
        };
        // Out-of-bounds fields are the client's doing: refused here, never sent on.
        claim
            .fields()
            .check_bounds()
            .map_err(|e| sspi::Error::new(sspi::ErrorKind::InvalidToken, e.to_string()))?;
        match self.request(&ToSupervisor::NtlmVerify(claim))? {
            ToWorker::NtlmVerdict(verdict) => match (verdict.session_key, verdict.user) {
                (Some(key), Some(user)) => {
                    if let Ok(mut plan) = self.plan.lock() {
                        *plan = verdict.second_factor;
                    }
                    if let Ok(mut slot) = self.verified.lock() {
                        *slot = Some(user);
                    }
                    Ok(key.0)
                }
                _ => Err(sspi::Error::new(sspi::ErrorKind::LogonDenied, "logon refused")),
            },
            other => Err(sspi::Error::new(
                sspi::ErrorKind::InternalError,
                format!("unexpected reply to a verification request: {other:?}"),
            )),
        }
    }

    fn before_failure_reply(&self, _logon_failure: bool) {
        let named_at = self.named_at.lock().ok().and_then(|at| *at);
        if let Some(at) = named_at {
            let elapsed = at.elapsed();
            if elapsed < FAILURE_ANSWER_DELAY {
                // This process serves one connection: blocking here delays no one else.
                std::thread::sleep(FAILURE_ANSWER_DELAY - elapsed);
            }
        }
    }

    fn on_attempt(&self, attempt: CredsspAttempt) {
        // The supervisor audited the attempt when it verified the proof; this only tells the
        // rest of the worker how the exchange ended.
        let verified = self.verified.lock().ok().and_then(|v| v.clone());
        match (attempt.outcome, verified) {
            (CredsspOutcome::Success, Some(user)) => {
                info!(user = %user, "nla succeeded");
                if let Ok(mut slot) = self.authenticated.lock() {
                    *slot = Some(user);
                }
                self.gate.open();
            }
            (outcome, _) => {
                debug!(?outcome, "nla failed");
                self.failed.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credssp_and_ntlm_targets_are_never_logged() {
        for target in [
            "sspi",
            "sspi::ntlm",
            "sspi::ntlm::messages::server",
            "sspi::credssp",
            "ironrdp_acceptor::credssp",
            "ironrdp_connector::credssp",
        ] {
            assert!(!log_target_allowed(target), "{target} must be off");
        }
        for target in [
            "rampart_protocol::worker",
            "ironrdp_acceptor",
            "ironrdp_acceptor::connection",
            "ironrdp_server::server",
            "sspix",
            "ironrdp_acceptor::credssp_other",
        ] {
            assert!(log_target_allowed(target), "{target} should stay on");
        }
    }

    #[test]
    fn close_reasons_fit_what_the_supervisor_takes() {
        assert_eq!(report_reason("client disconnected"), "client disconnected");
        let long = report_reason(&format!("tls: {}\ncaused by: eof", "é".repeat(400)));
        assert_eq!(long.chars().count(), ipc::MAX_REASON_LEN);
        assert!(!long.chars().any(char::is_control), "{long:?}");
        assert!(long.ends_with('…'));
        assert_eq!(report_reason("a\nb\tc"), "a b c");
    }
}
