//! The monitor loop: one worker's requests, each checked against the connection's stage
//! (`rampart_policy::Monitor`, pure) before the supervisor acts on it — signing the
//! handshake, issuing and verifying the NTLM exchange, checking codes, opening the session
//! and its display connections — with the deadlines that end a worker, and the audit of
//! how the connection ended. Privileged I/O around pure rules: the rules themselves are
//! `rampart_policy::Monitor` and `logon.rs`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use rampart_audit::{Event, EventKind, Outcome, UnixMillis};
use rampart_auth::ntlm::IssuedChallenge;
use rampart_desktop::{DesktopError, UnixAccount};
use rampart_policy::{Decided, GuardAction, Monitor, Request, Stage, Violation};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tracing::{error, info, warn};

use super::admission_slot::AdmissionSlot;
use super::logon::{LogonDecision, LogonFacts};
use super::metrics::ConnectionProgress;
use super::roster::ReportTiming;
use super::{guard_memory, logon, now_millis, Supervisor};
use crate::clipboard::{ClipboardGrant, ClipboardTally};
use crate::ipc::{
    self, CloseFault, CodeVerdict, HexBytes, NtlmClaim, NtlmVerdict, SessionGrant, SessionKeyHex,
    ToSupervisor, ToWorker, TypedCode,
};
use crate::worker::prompt::NOT_ENROLLED;

/// Session sizes honoured from a client (memory per session grows with the area).
const MIN_DIM: u16 = 200;
const MAX_DIM: u16 = 4096;

/// The supervisor's record of one connection.
pub(super) struct Connection {
    sup: Arc<Supervisor>,
    connection: u64,
    peer: SocketAddr,
    /// This connection's admission slots, given back when the connection is dropped.
    slot: AdmissionSlot,
    /// Which request the worker may make now, and how often: the monitor's rules
    /// (`rampart_policy::Monitor`). Only this supervisor's decisions move it on.
    monitor: Monitor,
    /// The NTLM challenge handed out (once per connection).
    challenge: Option<IssuedChallenge>,
    /// (canonical name, unix user), set only when this supervisor verified the user's proof.
    user: Option<(String, String)>,
    /// The user has a TOTP secret (when a second factor is due).
    enrolled: bool,
    /// Notified when the store says the authenticated user was locked or deleted.
    pub(super) kick: Arc<tokio::sync::Notify>,
    /// The display granted to this connection (`:N`), once there is one.
    granted_display: Option<String>,
    /// The clipboard the session was granted, and what the worker reported moving.
    clipboard: ClipboardGrant,
    clipboard_use: ClipboardTally,
}

/// Stands in for "no deadline" in the connection loop.
const NO_DEADLINE: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// Slack on top of the prompt timeout before the supervisor kills a worker that did not
/// close its own prompt.
const PROMPT_DEADLINE_SLACK: Duration = Duration::from_secs(5);

pub(super) enum Step {
    Continue,
    Stop,
    /// The worker asked for something out of turn: end it now.
    Kill,
}

impl Connection {
    pub(super) fn new(sup: Arc<Supervisor>, connection: u64, peer: SocketAddr, slot: AdmissionSlot) -> Self {
        Self {
            sup,
            connection,
            peer,
            slot,
            monitor: Monitor::new(),
            challenge: None,
            user: None,
            enrolled: false,
            kick: Arc::new(tokio::sync::Notify::new()),
            granted_display: None,
            clipboard: ClipboardGrant::default(),
            clipboard_use: ClipboardTally::default(),
        }
    }

    fn event(&self, kind: EventKind, outcome: Outcome) -> Event {
        let mut ev = Event::new(now_millis(), kind, outcome)
            .with_peer(self.peer)
            .with_connection(self.connection);
        if let Some((name, _)) = &self.user {
            ev = ev.with_user(name.clone());
        }
        ev
    }

    pub(super) async fn drive(&mut self, mut child: tokio::process::Child, channel: tokio::net::UnixStream) {
        let (read, mut write) = channel.into_split();
        let mut reader = BufReader::new(read);
        let handshake_deadline = tokio::time::Instant::now() + self.sup.opts.limits.handshake_timeout;
        let mut closed_reported = false;
        loop {
            let deadline = match self.monitor.stage() {
                Stage::Handshake => Some((handshake_deadline, EventKind::HandshakeAborted, "handshake deadline")),
                Stage::SecondFactor { deadline, .. } => {
                    let left = Duration::from_millis(u64::try_from(deadline.0.saturating_sub(now_millis().0)).unwrap_or(0));
                    Some((tokio::time::Instant::now() + left, EventKind::MfaFailed, "two-step prompt timed out"))
                }
                Stage::Authenticated { .. } | Stage::Session { .. } | Stage::Finished => None,
            };
            // No deadline once every factor passed: a year stands in for "never".
            let (until, kind, why) =
                deadline.unwrap_or((tokio::time::Instant::now() + NO_DEADLINE, EventKind::ConnectionClosed, ""));
            let kick = Arc::clone(&self.kick);
            let line = tokio::select! {
                () = kick.notified() => {
                    // Losing a partly read line does not matter: the worker is going.
                    let _ = child.start_kill();
                    // Told to go by a session limit or an administrator, or (no reason) the
                    // store says the account was locked or deleted.
                    let why = self
                        .sup
                        .roster
                        .leaving_reason(self.connection)
                        .unwrap_or_else(|| "account locked or deleted by an administrator".to_owned());
                    warn!(peer = %self.peer, %why, "connection ended");
                    let ev = self.event(EventKind::ConnectionClosed, Outcome::Info).with_reason(why);
                    let _ = self.sup.audit(ev).await;
                    closed_reported = true;
                    break;
                }
                read = tokio::time::timeout_at(until, read_line(&mut reader)) => match read {
                    Ok(line) => line,
                    Err(_) => {
                        let _ = child.start_kill();
                        warn!(peer = %self.peer, why, "deadline passed; worker killed");
                        let ev = self.event(kind, Outcome::Failure).with_reason(why);
                        let _ = self.sup.audit(ev).await;
                        closed_reported = true;
                        break;
                    }
                },
            };
            let msg = match line {
                Ok(Some(line)) => match serde_json::from_slice::<ToSupervisor>(&line) {
                    Ok(msg) => msg,
                    Err(err) => {
                        // Not a message a worker of ours sends: audited like any other breach.
                        let _ = child.start_kill();
                        self.kill_worker(&format!("malformed message ({err})")).await;
                        closed_reported = true;
                        break;
                    }
                },
                Ok(None) => break,
                Err(err) if err.kind() == std::io::ErrorKind::InvalidData => {
                    let _ = child.start_kill();
                    self.kill_worker(&err.to_string()).await;
                    closed_reported = true;
                    break;
                }
                Err(err) => {
                    warn!(%err, "worker channel failed; killing it");
                    let _ = child.start_kill();
                    break;
                }
            };
            match self.handle(msg, &mut write).await {
                Step::Continue => {}
                Step::Stop => {
                    closed_reported = true;
                    break;
                }
                Step::Kill => {
                    let _ = child.start_kill();
                    closed_reported = true;
                    break;
                }
            }
        }
        let status = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
        if !closed_reported {
            let reason = match status {
                Ok(Ok(s)) => format!("worker exited without a report: {s}"),
                _ => "worker did not exit".to_owned(),
            };
            let _ = child.start_kill();
            let ev = self.event(EventKind::ConnectionClosed, Outcome::Failure).with_reason(reason);
            let _ = self.sup.audit(ev).await;
        }
        // Clipboard use, once per connection: counts and sizes, never the content.
        for reason in self.clipboard_use.audit_reasons() {
            let ev = self.event(EventKind::ClipboardTransfer, Outcome::Info).with_reason(reason);
            // The connection is over either way; a failed write is logged by `audit`.
            let _ = self.sup.audit(ev).await;
        }
        if self.granted_display.is_some() {
            let mut ev = self.event(EventKind::SessionDisconnected, Outcome::Info);
            if let Some(why) = self.sup.roster.leaving_reason(self.connection) {
                ev = ev.with_reason(why);
            }
            let _ = self.sup.audit(ev).await;
        }
        self.sup.metrics.closed(self.progress());
    }

    async fn handle(&mut self, msg: ToSupervisor, write: &mut tokio::net::unix::OwnedWriteHalf) -> Step {
        // Every request passes the monitor first: out of place or too often ends the worker.
        let request = match &msg {
            ToSupervisor::SignHandshake { .. } => Request::SignHandshake,
            ToSupervisor::NtlmChallenge => Request::NtlmChallenge,
            ToSupervisor::NtlmVerify(_) => Request::NtlmVerify,
            ToSupervisor::VerifyCode { .. } => Request::VerifyCode,
            ToSupervisor::OpenSession { .. } => Request::OpenSession,
            ToSupervisor::OpenDisplay => Request::OpenDisplay,
            ToSupervisor::ClipboardTransfer { .. } | ToSupervisor::Activity { .. } => Request::Report,
            ToSupervisor::Closed { .. } => Request::Closed,
        };
        if let Err(violation) = self.monitor.allow(request, now_millis()) {
            if violation == Violation::PromptExpired {
                let ev = self.event(EventKind::MfaFailed, Outcome::Failure).with_reason("two-step prompt timed out");
                let _ = self.sup.audit(ev).await;
            }
            return self.kill_worker(&violation.to_string()).await;
        }
        match msg {
            ToSupervisor::SignHandshake { scheme, message } => {
                if message.0.len() > ipc::MAX_SIGN_INPUT {
                    return self.kill_worker("asked to sign an over-long message").await;
                }
                let sup = Arc::clone(&self.sup);
                let scheme = rustls::SignatureScheme::from(scheme);
                let signed =
                    tokio::task::spawn_blocking(move || sup.handshake_key.sign(scheme, &message.0)).await;
                match signed {
                    Ok(Ok((_, signature))) => {
                        self.reply(write, &ToWorker::HandshakeSignature {
                            signature: HexBytes(signature),
                        })
                        .await
                    }
                    Ok(Err(refusal)) => self.kill_worker(&format!("signature refused: {refusal}")).await,
                    Err(err) => self.kill_worker(&format!("signature task failed: {err}")).await,
                }
            }
            ToSupervisor::NtlmChallenge => {
                // Made here, once: a worker cannot pick an old challenge to replay a
                // recorded exchange.
                let issued = IssuedChallenge::random(now_millis().0);
                self.challenge = Some(issued);
                let reply = ToWorker::NtlmChallenge {
                    challenge: HexBytes(issued.server_challenge.to_vec()),
                    timestamp: issued.timestamp,
                };
                self.reply(write, &reply).await
            }
            ToSupervisor::NtlmVerify(claim) => self.verify_ntlm(claim, write).await,
            ToSupervisor::VerifyCode { code } => self.verify_code(code, write).await,
            ToSupervisor::OpenSession { width, height } => {
                let reply = match self.open_session(width, height).await {
                    Ok(grant) => ToWorker::Session(grant),
                    Err(err) => {
                        let reason = refusal_reason(&err);
                        warn!(peer = %self.peer, %reason, "no desktop for this connection");
                        let ev = self.event(EventKind::SessionRefused, Outcome::Failure).with_reason(reason.clone());
                        // Refused either way: a failed write changes nothing for this connection.
                        let _ = self.sup.audit(ev).await;
                        ToWorker::SessionRefused { reason }
                    }
                };
                self.reply(write, &reply).await
            }
            ToSupervisor::OpenDisplay => self.open_display(write).await,
            ToSupervisor::ClipboardTransfer {
                direction,
                bytes,
                outcome,
            } => {
                // A claim like any other: only inside a granted session, only the way the
                // grant allows. Anything else means the worker is not ours any more.
                if !self.clipboard.policy.allows(direction) {
                    warn!(peer = %self.peer, direction = direction.code(), policy = %self.clipboard.policy, "worker reported a clipboard transfer its session was not granted; killing it");
                    let ev = self.event(EventKind::ConnectionClosed, Outcome::Failure).with_reason(format!(
                        "worker reported a {} clipboard transfer outside its grant ({})",
                        direction.code(),
                        self.clipboard.policy
                    ));
                    // The worker is ended either way.
                    let _ = self.sup.audit(ev).await;
                    return Step::Stop;
                }
                self.clipboard_use.record(direction, bytes, outcome);
                Step::Continue
            }
            ToSupervisor::Activity {
                input,
                bytes,
                frames,
                encode_micros,
            } => self.activity(input, bytes, frames, encode_micros).await,
            ToSupervisor::Closed { reason, fault } => {
                // The reason goes into the audit trail: short, printable, or the worker is lying.
                if reason.chars().count() > ipc::MAX_REASON_LEN {
                    return self.kill_worker("reported an over-long close reason").await;
                }
                if reason.chars().any(char::is_control) {
                    return self.kill_worker("reported a close reason with control characters").await;
                }
                let (kind, outcome) = match fault {
                    CloseFault::None => (EventKind::ConnectionClosed, Outcome::Info),
                    CloseFault::Negotiation => (EventKind::NegotiationRefused, Outcome::Failure),
                    CloseFault::Budget => (EventKind::HandshakeAborted, Outcome::Failure),
                    CloseFault::Peer | CloseFault::Internal => (EventKind::ConnectionClosed, Outcome::Failure),
                };
                info!(peer = %self.peer, %reason, "connection closed");
                let ev = self.event(kind, outcome).with_reason(reason);
                let _ = self.sup.audit(ev).await;
                Step::Stop
            }
        }
    }

    /// The worker asked for something out of turn (a second exchange, a signature after the
    /// handshake, fields no client sends): audited, and the worker is ended.
    async fn kill_worker(&self, why: &str) -> Step {
        warn!(peer = %self.peer, why, "worker broke the supervisor protocol; killing it");
        let ev = self
            .event(EventKind::ConnectionClosed, Outcome::Failure)
            .with_reason(format!("worker killed: {why}"));
        // Killed either way; a failed write is logged by `audit`.
        let _ = self.sup.audit(ev).await;
        Step::Kill
    }

    /// The one NLA logon of this connection: check the client's NTLMv2 proof against the
    /// challenge handed out and the store (a random hash when the account is unknown or
    /// may not log in now), decide, audit, and answer the worker with the session key or
    /// nothing.
    async fn verify_ntlm(&mut self, claim: NtlmClaim, write: &mut tokio::net::unix::OwnedWriteHalf) -> Step {
        let Some(issued) = self.challenge else {
            return self.kill_worker("asked to verify ntlm without a challenge").await;
        };
        if let Err(err) = claim.fields().check_bounds() {
            return self.kill_worker(&err.to_string()).await;
        }
        let now = now_millis();
        let named = rampart_auth::ntlm::account_name(&claim.user, &claim.domain)
            .unwrap_or(&claim.user)
            .to_owned();
        let backoff = self
            .sup
            .guard
            .lock()
            .ok()
            .and_then(|g| g.backoff(self.peer.ip(), &named, now));
        let user_schedule = self.sup.opts.access.users.get(&named.to_ascii_lowercase());
        let outside_user_window = !rampart_policy::user_allowed(user_schedule, now);
        let (account, code_failures) = if backoff.is_none() && !outside_user_window {
            self.lookup(&named).await.map_or((None, 0), |(a, n)| (Some(a), n))
        } else {
            (None, 0)
        };
        let auth = &self.sup.opts.auth;
        let hash = match &account {
            Some(a) if logon::hash_is_checked(Some(a), auth, now) => a.nt_hash.clone(),
            _ => rampart_auth::random_nt_hash(),
        };
        let proof = rampart_auth::ntlm::verify(&hash, &issued, &claim.fields());
        let facts = LogonFacts {
            named: &named,
            account: account.as_ref(),
            outside_user_window,
            backoff,
            code_failures,
            proof,
        };
        let domain = (!claim.domain.is_empty()).then(|| claim.domain.clone());
        let decision = logon::decide(facts, auth, now);
        self.sup.handshake_decided(self.connection);
        match decision {
            LogonDecision::Granted {
                user,
                unix_user,
                session_key,
                second_factor,
            } => {
                // On disk before anything follows from it: a success that cannot be
                // recorded is not granted (the client is never told it logged in).
                let mut ev = self
                    .event(EventKind::AuthSucceeded, Outcome::Success)
                    .with_domain(domain)
                    .with_user(user.clone());
                if second_factor.is_some() {
                    ev = ev.with_reason("password verified; second factor pending");
                }
                if self.sup.audit(ev).await.is_err() {
                    self.monitor.decided(Decided::AuthenticationFailed);
                    return Step::Stop;
                }
                self.monitor.decided(Decided::Authenticated {
                    user: user.clone(),
                    second_factor_deadline: second_factor.as_ref().map(|plan| {
                        let ms = (u64::from(plan.timeout_secs) * 1000).saturating_add(
                            u64::try_from(PROMPT_DEADLINE_SLACK.as_millis()).unwrap_or(u64::MAX),
                        );
                        UnixMillis(now_millis().0.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX)))
                    }),
                    code_attempts: second_factor.as_ref().map_or(0, |plan| plan.attempts),
                });
                self.user = Some((user.clone(), unix_user));
                if let Ok(mut live) = self.sup.live.lock() {
                    live.insert(self.connection, (user.to_lowercase(), Arc::clone(&self.kick)));
                }
                self.sup.roster.authenticated(self.connection, &user);
                info!(peer = %self.peer, user = %user, "nla succeeded");
                match &second_factor {
                    Some(plan) => self.enrolled = plan.enrolled,
                    None => self.fully_authenticated(&user).await,
                }
                let verdict = NtlmVerdict {
                    session_key: Some(SessionKeyHex(*session_key.as_bytes())),
                    user: Some(user),
                    second_factor,
                };
                self.reply(write, &ToWorker::NtlmVerdict(verdict)).await
            }
            LogonDecision::Refused {
                user,
                reason,
                counts_as_failure,
            } => {
                self.monitor.decided(Decided::AuthenticationFailed);
                warn!(peer = %self.peer, user = %user, %reason, "nla failed");
                let ev = self
                    .event(EventKind::AuthFailed, Outcome::Failure)
                    .with_domain(domain)
                    .with_user(user.clone())
                    .with_reason(reason);
                let recorded = self.sup.audit(ev).await;
                if counts_as_failure {
                    self.punish(Some(&user)).await;
                }
                if recorded.is_err() {
                    // An outcome off the record is never answered: the connection just ends.
                    return Step::Stop;
                }
                let verdict = NtlmVerdict {
                    session_key: None,
                    user: None,
                    second_factor: None,
                };
                self.reply(write, &ToWorker::NtlmVerdict(verdict)).await
            }
        }
    }

    /// Every factor passed: the connection no longer counts as pending, and its source is
    /// known-good for the user (in the store too, so a restart keeps it).
    async fn fully_authenticated(&mut self, user: &str) {
        self.slot.authenticated();
        let now = now_millis();
        let ip = rampart_policy::canonical(self.peer.ip());
        if let Ok(mut guard) = self.sup.guard.lock() {
            guard.record_success(ip, user, now);
        }
        let key = user.to_lowercase();
        let written = self
            .sup
            .with_store(move |store| Ok(store.put_known_good(&key, &ip.to_string(), now)?))
            .await;
        if let Err(err) = written {
            error!(error = %format!("{err:#}"), "known-good source not stored; it holds until the server restarts");
        }
    }

    /// One code typed at the prompt: check it in the store, audit it, count a failure
    /// toward the source's ban, and close the connection when no attempts are left.
    async fn verify_code(&mut self, code: TypedCode, write: &mut tokio::net::unix::OwnedWriteHalf) -> Step {
        let Some((user, _)) = self.user.clone() else {
            return self.kill_worker("submitted a code before nla").await;
        };
        let Stage::SecondFactor { attempts_left, .. } = *self.monitor.stage() else {
            return self.kill_worker("submitted a code with no prompt up").await;
        };
        if !self.enrolled {
            // Nothing typed can pass; the tries still count down (the monitor ends the
            // worker when they run out) so the prompt is not a free oracle.
            self.monitor.decided(Decided::CodeRefused { attempts_left });
            let ev = self
                .event(EventKind::MfaFailed, Outcome::Failure)
                .with_reason("no second factor enrolled");
            if self.sup.audit(ev).await.is_err() {
                return Step::Stop;
            }
            let verdict = CodeVerdict {
                accepted: false,
                attempts_left: 0,
                notice: NOT_ENROLLED.to_owned(),
            };
            return self.reply(write, &ToWorker::CodeResult(verdict)).await;
        }
        if code.0.chars().count() > ipc::MAX_CODE_LEN {
            return self.kill_worker("submitted an over-long code").await;
        }
        let now = now_millis();
        let name = user.clone();
        let since = self.code_failures_since(now);
        let checked = self
            .sup
            .with_store(move |store| Ok(store.check_second_factor_counted(&name, &code.0, now, since)?))
            .await;
        // The user's wrong codes are counted in the store (across connections); a failed
        // check counts as one more here too.
        let (check, failures) = match checked {
            Ok(checked) => checked,
            Err(err) => {
                error!(error = %format!("{err:#}"), "second factor check failed");
                (rampart_store::CodeCheck::Wrong, u32::from(attempts_left).saturating_add(1))
            }
        };
        let (reason, notice) = match check {
            rampart_store::CodeCheck::Totp => ("totp code accepted".to_owned(), String::new()),
            rampart_store::CodeCheck::Recovery { left } => (
                format!("recovery code accepted; {left} left"),
                format!("Recovery code used; {left} left."),
            ),
            rampart_store::CodeCheck::Replayed => ("code already used".to_owned(), "That code was already used.".to_owned()),
            rampart_store::CodeCheck::Wrong => ("wrong code".to_owned(), "Wrong code.".to_owned()),
            rampart_store::CodeCheck::NotEnrolled => ("no second factor enrolled".to_owned(), NOT_ENROLLED.to_owned()),
        };
        if check.accepted() {
            let ev = self.event(EventKind::MfaSucceeded, Outcome::Success).with_reason(reason);
            if self.sup.audit(ev).await.is_err() {
                return Step::Stop;
            }
            info!(peer = %self.peer, user = %user, "second factor passed");
            self.monitor.decided(Decided::CodeAccepted);
            self.fully_authenticated(&user).await;
            let verdict = CodeVerdict {
                accepted: true,
                attempts_left,
                notice,
            };
            return self.reply(write, &ToWorker::CodeResult(verdict)).await;
        }
        let max = self.sup.opts.auth.mfa_max_attempts;
        let attempts_left = max
            .saturating_sub(u8::try_from(failures).unwrap_or(u8::MAX))
            .min(attempts_left.saturating_sub(1));
        self.monitor.decided(Decided::CodeRefused { attempts_left });
        warn!(peer = %self.peer, user = %user, %reason, attempts_left, "second factor failed");
        let ev = self
            .event(EventKind::MfaFailed, Outcome::Failure)
            .with_reason(format!("{reason}; {attempts_left} attempts left"));
        let recorded = self.sup.audit(ev).await;
        self.punish(Some(&user)).await;
        if recorded.is_err() {
            return Step::Stop;
        }
        let verdict = CodeVerdict {
            accepted: false,
            attempts_left,
            notice,
        };
        let step = self.reply(write, &ToWorker::CodeResult(verdict)).await;
        if attempts_left == 0 {
            // The worker closes the connection on its own; the supervisor does not wait
            // for it: no more codes are accepted and the worker is ended.
            let ev = self
                .event(EventKind::ConnectionClosed, Outcome::Failure)
                .with_reason("too many wrong codes");
            let _ = self.sup.audit(ev).await;
            return Step::Stop;
        }
        step
    }

    /// Count a failed authentication against the source; ban it when the policy says so.
    async fn punish(&self, user: Option<&str>) {
        let now = now_millis();
        let ip = self.peer.ip();
        if let Some(file) = &self.sup.fail2ban {
            let line = rampart_policy::fail2ban_line(now, std::process::id(), user, ip);
            if let Ok(mut f) = file.lock() {
                let _ = std::io::Write::write_all(&mut *f, format!("{line}\n").as_bytes());
            }
        }
        let (actions, counts) = match self.sup.guard.lock() {
            Ok(mut guard) => (guard.record_failure(ip, user, now), guard.failure_counts(ip, user)),
            Err(_) => return,
        };
        // On disk before the client is answered: a restart does not reset the count.
        let records = guard_memory::records(&counts);
        let written = self.sup.with_store(move |store| Ok(store.put_guard_failures(&records)?)).await;
        if let Err(err) = written {
            error!(error = %format!("{err:#}"), "failure count not stored; it holds until the server restarts");
        }
        for action in actions {
            match action {
                GuardAction::Banned { net, until, repeat } => {
                    let minutes = (until.0 - now.0) / 60_000;
                    warn!(%net, minutes, repeat, "source banned after repeated authentication failures");
                    let net_text = net.to_string();
                    let stored = self
                        .sup
                        .with_store(move |store| {
                            Ok(store.put_ban(&net_text, until, repeat, "repeated authentication failures", now)?)
                        })
                        .await;
                    match stored {
                        Ok(()) => {
                            // From now on, its absence from the store means `rampart ban del`.
                            if let Ok(mut guard) = self.sup.guard.lock() {
                                guard.ban_written(net, until);
                            }
                        }
                        Err(err) => {
                            error!(%net, error = %format!("{err:#}"), "ban not stored; it holds until it ends or the server restarts");
                        }
                    }
                    let ev = self
                        .event(EventKind::SourceBanned, Outcome::Failure)
                        .with_reason(format!("{net} banned for {minutes} min (ban #{repeat})"));
                    let _ = self.sup.audit(ev).await;
                }
                GuardAction::AccountLocked { user, until } => {
                    let minutes = (until.0 - now.0) / 60_000;
                    warn!(%user, minutes, "account locked for sources that never logged in as it");
                }
            }
        }
    }

    /// Connect to the display granted to this connection and hand the connection to the
    /// worker, which cannot reach the display's socket from its confinement.
    async fn open_display(&mut self, write: &mut tokio::net::unix::OwnedWriteHalf) -> Step {
        let Some(granted) = self.granted_display.clone() else {
            warn!(peer = %self.peer, "display asked for before a session was granted; killing the worker");
            return Step::Stop;
        };
        let connected = rampart_desktop::connection::socket_path(&granted)
            .ok_or_else(|| std::io::Error::other(format!("not a local display: {granted}")))
            .and_then(std::os::unix::net::UnixStream::connect);
        let x = match connected {
            Ok(x) => x,
            Err(err) => {
                warn!(display = %granted, %err, "cannot connect to the session display");
                let reply = ToWorker::DisplayRefused {
                    reason: format!("cannot connect to {granted}: {err}"),
                };
                return self.reply(write, &reply).await;
            }
        };
        let line = match ipc::encode(&ToWorker::Display) {
            Ok(line) => line,
            Err(err) => {
                error!(%err, "cannot encode reply");
                return Step::Stop;
            }
        };
        let stream: &tokio::net::UnixStream = write.as_ref();
        loop {
            if let Err(err) = stream.writable().await {
                warn!(%err, "worker went away");
                return Step::Stop;
            }
            let sent = stream.try_io(tokio::io::Interest::WRITABLE, || {
                ipc::send_with_fd(stream, &line, std::os::fd::AsFd::as_fd(&x))
            });
            match sent {
                Ok(n) if n == line.len() => return Step::Continue,
                Ok(_) => {
                    // A short write of a line this small means the channel is broken.
                    warn!("short write of a display reply; killing the worker");
                    return Step::Stop;
                }
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(err) => {
                    warn!(%err, "worker went away");
                    return Step::Stop;
                }
            }
        }
    }

    async fn reply(&self, write: &mut tokio::net::unix::OwnedWriteHalf, msg: &ToWorker) -> Step {
        let line = match ipc::encode(msg) {
            Ok(line) => line,
            Err(err) => {
                error!(%err, "cannot encode reply");
                return Step::Stop;
            }
        };
        match write.write_all(&line).await {
            Ok(()) => Step::Continue,
            Err(err) => {
                warn!(%err, "worker went away");
                Step::Stop
            }
        }
    }

    /// An existing user, with the NT hash opened, and the wrong second-factor codes on
    /// record for them (within the guard's failure window).
    async fn lookup(&self, user: &str) -> Option<(rampart_store::UserRecord, u32)> {
        let user = user.to_owned();
        let since = self.code_failures_since(now_millis());
        let found = self
            .sup
            .with_store(move |store| {
                let Some(record) = store.get_user(&user)? else {
                    return Ok(None);
                };
                let failures = store.code_failures(&record.name, since)?;
                Ok(Some((record, failures)))
            })
            .await;
        found.unwrap_or_else(|err| {
            error!(error = %format!("{err:#}"), "user lookup failed");
            None
        })
    }

    /// Wrong codes count toward the user's attempts for the guard's failure window after
    /// the last one (a good code clears them at once).
    fn code_failures_since(&self, now: UnixMillis) -> UnixMillis {
        let window = i64::try_from(self.sup.opts.guard.policy.window.as_millis()).unwrap_or(i64::MAX);
        UnixMillis(now.0.saturating_sub(window))
    }

    async fn open_session(&mut self, width: u16, height: u16) -> anyhow::Result<SessionGrant> {
        let (user, unix_user) = self.user.clone().context("no authenticated user on this connection")?;
        // The monitor allowed the request; this is the same rule stated where it matters.
        if !matches!(self.monitor.stage(), Stage::Authenticated { .. }) {
            anyhow::bail!("not every factor has passed on this connection");
        }
        if let Some(shadow) = &self.sup.shadow {
            // Only the display's owner and the listed users watch it; the account must be
            // one that may log in now, as for a session of its own.
            let allow_root = self.sup.opts.allow_root;
            let rdp_user = user.clone();
            let account = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                let account = UnixAccount::lookup(&unix_user)
                    .with_context(|| format!("unix account {unix_user:?} of user {rdp_user:?}"))?;
                rampart_desktop::login::account::check(&account, allow_root, SystemTime::now())?;
                Ok(account)
            })
            .await
            .context("account check task")??;
            if !shadow.admits(&user, account.uid) {
                anyhow::bail!(
                    "shadow mode: {user} (unix account {}) is not the owner of display {} and not in [shadow] users",
                    account.name,
                    shadow.target.display
                );
            }
            let shadow = &shadow.target;
            // The shared display's cookie reaches a worker only now, after every factor.
            self.clipboard = self.sup.opts.clipboard.grant_for(&user, shadow.view_only);
            let ev = self.event(EventKind::SessionStarted, Outcome::Success).with_reason(format!(
                "shadowing {} (view only: {}); clipboard {}",
                shadow.display, shadow.view_only, self.clipboard.policy
            ));
            self.sup.audit(ev).await.context("no session without its audit event")?;
            self.granted_display = Some(shadow.display.clone());
            self.monitor.decided(Decided::SessionGranted);
            self.sup.desktop_granted(self.connection, &shadow.display);
            return Ok(SessionGrant {
                display: shadow.display.clone(),
                cookie_hex: shadow.cookie_hex.clone(),
                width,
                height,
                resumed: true,
                view_only: shadow.view_only,
                // Someone else's console: never resized from here.
                resizable: false,
                clipboard: self.clipboard,
            });
        }
        let width = width.clamp(MIN_DIM, MAX_DIM);
        let height = height.clamp(MIN_DIM, MAX_DIM);
        let sup = Arc::clone(&self.sup);
        let rdp_user = user.clone();
        let remote = Some(self.peer.ip());
        let info = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let account = UnixAccount::lookup(&unix_user)
                .with_context(|| format!("unix account {unix_user:?} of user {rdp_user:?}"))?;
            let sessions = sup.sessions.as_ref().context("no session manager (shadow mode)")?;
            let mut sessions = sessions.lock().map_err(|_| anyhow::anyhow!("session table poisoned"))?;
            Ok(sessions.ensure(&rdp_user, &account, width, height, remote)?)
        })
        .await
        .context("session task")??;
        self.clipboard = self.sup.opts.clipboard.grant_for(&user, false);
        let kind = if info.resumed {
            EventKind::SessionResumed
        } else {
            EventKind::SessionStarted
        };
        let ev = self
            .event(kind, Outcome::Success)
            .with_reason(format!(
                "display :{} {}x{}; clipboard {}",
                info.display, info.width, info.height, self.clipboard.policy
            ));
        self.sup.audit(ev).await.context("no session without its audit event")?;
        self.granted_display = Some(format!(":{}", info.display));
        self.monitor.decided(Decided::SessionGranted);
        self.sup.desktop_granted(self.connection, &format!(":{}", info.display));
        Ok(SessionGrant {
            display: format!(":{}", info.display),
            cookie_hex: Some(hex::encode(&info.cookie)),
            width: info.width,
            height: info.height,
            resumed: info.resumed,
            view_only: false,
            resizable: true,
            clipboard: self.clipboard,
        })
    }
}

/// The audit reason for a refused `OpenSession`: a login refusal says only what it is
/// ("unix account expired"); anything else keeps its whole chain of causes.
fn refusal_reason(err: &anyhow::Error) -> String {
    match err.downcast_ref::<DesktopError>() {
        Some(DesktopError::LoginRefused(refusal)) => refusal.to_string(),
        _ => format!("{err:#}"),
    }
}

impl Connection {
    /// How far this connection got, for the metrics.
    pub(super) fn progress(&self) -> ConnectionProgress {
        ConnectionProgress {
            nla_attempted: self.monitor.verification_asked(),
            nla_passed: self.user.is_some(),
            all_factors: self.monitor.user().is_some(),
            desktop: self.granted_display.is_some(),
        }
    }

    /// A worker's activity report: a claim, taken only inside a granted desktop and at the
    /// report interval; a worker that floods reports is ended.
    pub(super) async fn activity(&mut self, input: bool, bytes: u64, frames: u64, encode_micros: u64) -> Step {
        if self.granted_display.is_none() {
            return self.kill_worker("reported desktop activity without a desktop").await;
        }
        match self.sup.roster.report(self.connection, input, now_millis()) {
            ReportTiming::Due => {
                self.sup
                    .metrics
                    .worker_report(bytes, frames, Duration::from_micros(encode_micros));
                Step::Continue
            }
            ReportTiming::Early => Step::Continue,
            ReportTiming::Flooding => self.kill_worker("sent activity reports far too often").await,
        }
    }
}

/// One line from a worker, at most `ipc::MAX_LINE` bytes; `None` at EOF. Generic over the
/// reader so the fuzz target drives this very function.
pub(crate) async fn read_line<R: tokio::io::AsyncBufRead + Unpin>(reader: &mut R) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(None);
        }
        let (chunk, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(pos) => (buf.get(..pos).unwrap_or_default(), Some(pos + 1)),
            None => (buf, None),
        };
        if line.len() + chunk.len() > ipc::MAX_LINE {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("ipc line longer than {} bytes", ipc::MAX_LINE),
            ));
        }
        line.extend_from_slice(chunk);
        let consumed = done.unwrap_or(buf.len());
        reader.consume(consumed);
        if done.is_some() {
            return Ok(Some(line));
        }
    }
}

