//! One connection, in its own process.
//!
//! The supervisor starts `rampart worker` per accepted TCP connection with the socket on
//! fd 0 and its IPC channel on fd 1, as an unprivileged user. Everything that parses
//! bytes from the peer (X.224, TLS, CredSSP/NTLM, MCS, RDP) runs here, so a peer that
//! crashes, hangs or bloats a worker takes down only its own connection; the supervisor
//! enforces the handshake deadline by killing the process.

use std::os::fd::AsFd;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use ironrdp_acceptor::credssp::{CredentialStore, CredsspAttempt, CredsspOutcome};
use ironrdp_server::RdpServer;
use tracing::{debug, info, warn};

use crate::budget::{AuthGate, BudgetedStream};
use crate::display::{DesktopLink, WorkerDisplay, WorkerInput};
use crate::ipc::{
    AttemptOutcome, AttemptReport, CloseFault, SecondFactorPlan, ToSupervisor, ToWorker, WorkerChannel, WorkerInit,
};
use crate::tls::TlsIdentity;

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

    // Still single-threaded here, so the per-thread set*id calls cover the whole process.
    if let Some((uid, gid)) = init.run_as {
        drop_privileges(uid, gid)?;
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
        let _ = ch.send(&ToSupervisor::Closed { reason, fault });
    }
    Ok(())
}

/// Become `uid`/`gid` for good: no supplementary groups, no way back, no new privileges.
fn drop_privileges(uid: u32, gid: u32) -> anyhow::Result<()> {
    use rustix::process::{Gid, Uid};
    use rustix::thread;
    thread::set_no_new_privs(true).context("worker: no_new_privs")?;
    thread::set_thread_groups(&[]).context("worker: clear supplementary groups")?;
    let gid = Gid::from_raw(gid);
    let uid = Uid::from_raw(uid);
    thread::set_thread_res_gid(gid, gid, gid).context("worker: setresgid")?;
    thread::set_thread_res_uid(uid, uid, uid).context("worker: setresuid")?;
    if rustix::process::geteuid() != uid || thread::set_thread_res_uid(Uid::ROOT, Uid::ROOT, Uid::ROOT).is_ok() {
        anyhow::bail!("worker: privileges were not dropped");
    }
    Ok(())
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

    let identity = TlsIdentity {
        cert_pem: init.cert_pem.clone(),
        key_pem: init.key_pem.clone(),
    };
    let tls = identity.server_config().map_err(Failure::internal)?;
    let public_key = identity.public_key().map_err(Failure::internal)?;

    let gate = AuthGate::default();
    let hook = Arc::new(NlaHook {
        channel: Arc::clone(&channel),
        gate: gate.clone(),
        authenticated: Mutex::new(None),
        plan: Mutex::new(None),
        failed: std::sync::atomic::AtomicBool::new(false),
        named_at: Mutex::new(None),
    });
    let link = Arc::new(DesktopLink::new(Arc::clone(&channel), init));
    let display = WorkerDisplay::new(Arc::clone(&link), Arc::clone(&hook) as Arc<dyn AuthenticatedUser>);
    let input = WorkerInput::new(Arc::clone(&link));

    let mut server = RdpServer::builder()
        .with_addr(([0, 0, 0, 0], 0))
        .with_hybrid(tokio_rustls::TlsAcceptor::from(tls), public_key)
        .with_input_handler(input)
        .with_display_handler(display)
        .with_honor_client_desktop_size(true)
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

/// The CredSSP hook: asks the supervisor for each user's NT hash and reports each attempt.
#[derive(Debug)]
struct NlaHook {
    channel: SharedChannel,
    gate: AuthGate,
    authenticated: Mutex<Option<String>>,
    /// The second factor due for the looked-up user, from the supervisor's lookup answer.
    plan: Mutex<Option<SecondFactorPlan>>,
    failed: std::sync::atomic::AtomicBool,
    /// When the client named its user: failures are answered `FAILURE_ANSWER_DELAY` after it.
    named_at: Mutex<Option<std::time::Instant>>,
}

/// A failed NLA attempt is answered this long after the client named its user, whatever the
/// reason (unknown user, wrong password, back-off): no timing oracle, and a slower guesser.
const FAILURE_ANSWER_DELAY: std::time::Duration = std::time::Duration::from_millis(1000);

impl NlaHook {
    fn failed_attempt(&self) -> bool {
        self.failed.load(std::sync::atomic::Ordering::SeqCst)
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
    fn nt_hash(&self, user: &str, domain: Option<&str>) -> Option<[u8; 16]> {
        if let Ok(mut at) = self.named_at.lock() {
            *at = Some(std::time::Instant::now());
        }
        let request = ToSupervisor::LookupUser {
            user: user.to_owned(),
            domain: domain.map(str::to_owned),
        };
        let reply = self.channel.lock().ok()?.request(&request);
        match reply {
            Ok(ToWorker::UserHash {
                nt_hash_hex,
                second_factor,
            }) => {
                if let Ok(mut plan) = self.plan.lock() {
                    *plan = second_factor;
                }
                let mut out = [0u8; 16];
                hex::decode_to_slice(nt_hash_hex?.0.trim(), &mut out).ok()?;
                Some(out)
            }
            Ok(other) => {
                warn!(?other, "unexpected reply to user lookup");
                None
            }
            Err(err) => {
                warn!(%err, "user lookup failed");
                None
            }
        }
    }

    fn before_failure_reply(&self) {
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
        let outcome = match attempt.outcome {
            CredsspOutcome::Success => AttemptOutcome::Success,
            CredsspOutcome::UnknownUser => AttemptOutcome::UnknownUser,
            CredsspOutcome::WrongPassword => AttemptOutcome::WrongPassword,
            CredsspOutcome::Failed(reason) => AttemptOutcome::Failed {
                reason: reason.chars().filter(|c| !c.is_control()).take(200).collect(),
            },
        };
        if outcome != AttemptOutcome::Success {
            self.failed.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        if outcome == AttemptOutcome::Success {
            if let Some(user) = &attempt.user {
                if let Ok(mut slot) = self.authenticated.lock() {
                    *slot = Some(user.clone());
                }
                self.gate.open();
                info!(user = %user, "nla succeeded");
            }
        }
        let report = ToSupervisor::Attempt(AttemptReport {
            user: attempt.user,
            domain: attempt.domain,
            outcome,
        });
        if let Ok(mut ch) = self.channel.lock() {
            if let Err(err) = ch.send(&report) {
                warn!(%err, "cannot report attempt");
            }
        }
    }
}
