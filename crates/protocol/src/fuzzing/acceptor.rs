//! The IronRDP acceptor (as patched in `vendor/`) driven through its real async entry
//! points over the real framing, with the TLS handshake skipped: the X.224 negotiation,
//! the CredSSP/NTLM exchange against a Rampart-style credential store, and the connection
//! sequence after the security layer.

use std::sync::{Arc, Mutex};

use ironrdp_acceptor::credssp::{AuthenticateClaim, CredentialStore, CredsspAttempt, CredsspOutcome, ServerChallenge};
use rampart_auth::ntlm::{account_name, verify, AuthenticateFields, IssuedChallenge};
use ironrdp_acceptor::{Acceptor, BeginResult, DesktopSize};
use ironrdp_connector::sspi::credssp::TsRequest;
use ironrdp_pdu::nego::SecurityProtocol;
use ironrdp_pdu::Action;
use ironrdp_tokio::TokioFramed;

use super::peer::{block_on, Peer};
use super::{Reached, Violation};

/// A client X.224 Connection Request offering SSL | HYBRID | HYBRID_EX, as xfreerdp sends it
/// (without a cookie). The targets after the negotiation start from it.
pub const X224_CONNECTION_REQUEST: &[u8] = &[
    0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x08, 0x00, 0x0b, 0x00, 0x00, 0x00,
];

/// What Rampart's server offers (`RdpServer::with_hybrid`): NLA only.
const OFFERED: SecurityProtocol = SecurityProtocol::HYBRID.union(SecurityProtocol::HYBRID_EX);

/// The server's public key as CredSSP binds it (any bytes do: the exchange never gets past
/// the NTLM proof without the password).
pub(crate) const PUBLIC_KEY: &[u8] = &[0x30, 0x0a, 0x02, 0x03, 0x01, 0x00, 0x01, 0x02, 0x03, 0x01, 0x00, 0x01];

/// The one account the fuzz credential store knows, and its password (the seed generator
/// logs in with it; the fuzzer never learns it, so no exchange may succeed).
pub(crate) const USER: &str = "alice";
pub(crate) const PASSWORD: &str = "fuzzing is not a password";

/// The worker's CredSSP hook and the supervisor's NTLM check in one, without the process
/// boundary: a fresh random challenge per exchange, NTLMv2 verified with
/// `rampart_auth::ntlm::verify` (a random hash for any other user, as the supervisor does),
/// one known user, every attempt recorded so the target can check that each exchange
/// reports exactly one.
#[derive(Debug)]
pub(crate) struct FuzzStore {
    hash: [u8; 16],
    issued: Mutex<Option<IssuedChallenge>>,
    attempts: Mutex<Vec<CredsspAttempt>>,
}

impl FuzzStore {
    pub(crate) fn new() -> Self {
        let password = rampart_auth::Password::new(PASSWORD.to_owned());
        Self {
            hash: *rampart_auth::NtHash::from_password(&password).as_bytes(),
            issued: Mutex::new(None),
            attempts: Mutex::new(Vec::new()),
        }
    }

    fn attempts(&self) -> Vec<CredsspAttempt> {
        self.attempts.lock().map(|a| a.clone()).unwrap_or_default()
    }
}

fn denied(why: impl std::fmt::Display) -> sspi::Error {
    sspi::Error::new(sspi::ErrorKind::LogonDenied, why.to_string())
}

impl CredentialStore for FuzzStore {
    fn ntlm_challenge(&self) -> sspi::Result<ServerChallenge> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let issued = IssuedChallenge::random(now);
        if let Ok(mut slot) = self.issued.lock() {
            *slot = Some(issued);
        }
        Ok(ServerChallenge {
            challenge: issued.server_challenge,
            timestamp: issued.timestamp,
        })
    }

    fn verify_ntlm_v2(&self, claim: &AuthenticateClaim<'_>) -> sspi::Result<[u8; 16]> {
        let issued = self
            .issued
            .lock()
            .ok()
            .and_then(|slot| *slot)
            .ok_or_else(|| denied("no challenge issued"))?;
        let fields = AuthenticateFields {
            user: &claim.user,
            domain: &claim.domain,
            nt_response: claim.nt_challenge_response,
            encrypted_random_session_key: claim.encrypted_random_session_key.as_ref().map(|k| k.as_slice()),
            negotiate_flags: claim.negotiate_flags,
        };
        let hash = match account_name(&claim.user, &claim.domain) {
            Some(name) if name.eq_ignore_ascii_case(USER) => rampart_auth::NtHash::from_bytes(self.hash),
            _ => rampart_auth::random_nt_hash(),
        };
        verify(&hash, &issued, &fields).map(|key| *key.as_bytes()).map_err(denied)
    }

    fn on_attempt(&self, attempt: CredsspAttempt) {
        if let Ok(mut attempts) = self.attempts.lock() {
            attempts.push(attempt);
        }
    }
}

/// NTLM needs no network; Kerberos (which would) is not configured.
pub(crate) struct NoNetwork;

impl ironrdp_tokio::NetworkClient for NoNetwork {
    async fn send(
        &mut self,
        _request: &ironrdp_connector::sspi::NetworkRequest,
    ) -> ironrdp_connector::ConnectorResult<Vec<u8>> {
        Err(ironrdp_connector::general_err!("no network while fuzzing"))
    }
}

/// An acceptor set up as `RdpServer` sets up Rampart's: NLA only, the client's desktop
/// size honoured, a per-user credential store.
pub(crate) fn new_acceptor(store: Arc<FuzzStore>) -> Acceptor {
    let mut acceptor = Acceptor::new(
        OFFERED,
        DesktopSize {
            width: 1024,
            height: 768,
        },
        Vec::new(),
        None,
    );
    acceptor.set_honor_client_desktop_size(true);
    acceptor.set_credential_store(Some(store as Arc<dyn CredentialStore>));
    acceptor
}

/// Negotiates with [`X224_CONNECTION_REQUEST`] and skips TLS: the acceptor then waits for
/// CredSSP.
pub(crate) fn negotiated(target: &'static str, store: Arc<FuzzStore>) -> Result<Acceptor, Violation> {
    let mut acceptor = new_acceptor(store);
    let framed = TokioFramed::new(Peer::new(X224_CONNECTION_REQUEST));
    match block_on(target, ironrdp_acceptor::accept_begin(framed, &mut acceptor))? {
        Ok(BeginResult::ShouldUpgrade(_)) => {}
        Ok(BeginResult::Continue(_)) => return Err(Violation::new(target, "valid request: no security upgrade")),
        Err(e) => return Err(Violation::new(target, format!("valid request refused: {e}"))),
    }
    acceptor.mark_security_upgrade_as_done();
    if !acceptor.should_perform_credssp() {
        return Err(Violation::new(target, "valid request: no CredSSP after the upgrade"));
    }
    Ok(acceptor)
}

/// `acceptor_x224`: the first bytes of a connection. Invariants: no path leads past the
/// negotiation without a security upgrade, nor past the upgrade without CredSSP. (Bytes
/// pipelined ahead of the upgrade hit a debug assertion before a vendored patch; the fuzz
/// build has debug assertions on, so that would show as a panic.)
pub(super) fn x224(data: &[u8]) -> Result<Reached, Violation> {
    const T: &str = "acceptor_x224";
    let mut acceptor = new_acceptor(Arc::new(FuzzStore::new()));
    let framed = TokioFramed::new(Peer::new(data));
    match block_on(T, ironrdp_acceptor::accept_begin(framed, &mut acceptor))? {
        Ok(BeginResult::ShouldUpgrade(_)) => {
            acceptor.mark_security_upgrade_as_done();
            if !acceptor.should_perform_credssp() {
                return Err(Violation::new(T, "security upgrade without CredSSP"));
            }
            Ok("security upgrade")
        }
        Ok(BeginResult::Continue(_)) => Err(Violation::new(T, "went on without a security layer")),
        Err(_) => Ok("refused"),
    }
}

/// `acceptor_mcs`: everything the client sends after CredSSP until the connection is
/// accepted. Invariant: the input frames the acceptor hands to the server for later
/// (`AcceptorResult::input_events`) are what `RdpServer` expects of them (it indexes their
/// first byte and treats an unknown action as unreachable).
pub(super) fn mcs(data: &[u8]) -> Result<Reached, Violation> {
    const T: &str = "acceptor_mcs";
    let mut acceptor = negotiated(T, Arc::new(FuzzStore::new()))?;
    acceptor.mark_credssp_as_done();
    let framed = TokioFramed::new(Peer::new(data));
    match block_on(T, ironrdp_acceptor::accept_finalize(framed, &mut acceptor))? {
        Ok((_, result)) => {
            for frame in &result.input_events {
                let first = frame
                    .first()
                    .ok_or_else(|| Violation::new(T, "empty input frame kept for the server"))?;
                if Action::from_fp_output_header(*first).is_err() {
                    return Err(Violation::new(
                        T,
                        format!("input frame with no valid action: {first:#04x}"),
                    ));
                }
            }
            Ok("accepted")
        }
        Err(_) => Ok("refused"),
    }
}

/// The server's CredSSP step as the fuzz targets and the seed recorder run it: no
/// network for Kerberos, the fixed public key.
pub(crate) async fn server_credssp<S>(
    framed: &mut ironrdp_tokio::Framed<S>,
    acceptor: &mut Acceptor,
) -> ironrdp_connector::ConnectorResult<()>
where
    S: ironrdp_tokio::FramedRead + ironrdp_tokio::FramedWrite,
{
    ironrdp_acceptor::accept_credssp(framed, acceptor, &mut NoNetwork, "fuzz".to_owned().into(), PUBLIC_KEY.to_vec(), None)
        .await
}

/// Runs one CredSSP exchange over `stream` and checks what Rampart relies on: the store
/// hears of exactly one attempt, and no attempt succeeds without the password.
fn credssp_exchange(target: &'static str, stream: &[u8]) -> Result<Reached, Violation> {
    let store = Arc::new(FuzzStore::new());
    let mut acceptor = negotiated(target, Arc::clone(&store))?;
    let mut framed = TokioFramed::new(Peer::new(stream));
    let result = block_on(
        target,
        server_credssp(&mut framed, &mut acceptor),
    )?;
    if result.is_ok() {
        return Err(Violation::new(target, "CredSSP succeeded without the password"));
    }
    let attempts = store.attempts();
    let [attempt] = attempts.as_slice() else {
        return Err(Violation::new(
            target,
            format!("{} attempts reported for one exchange", attempts.len()),
        ));
    };
    Ok(match &attempt.outcome {
        CredsspOutcome::Success => return Err(Violation::new(target, "attempt reported as a success")),
        CredsspOutcome::LogonFailure => "logon failure",
        CredsspOutcome::Failed(_) if attempt.user.is_some() => "user named",
        CredsspOutcome::Failed(_) => "failed",
    })
}

/// Inputs above this are not round-tripped: sspi encodes lengths as `u16`.
const ROUND_TRIP_MAX: usize = 16 * 1024;

/// `credssp`: the client's TsRequest stream. Invariant: a TsRequest that decodes encodes
/// back to one that decodes to the same fields.
pub(super) fn credssp(data: &[u8]) -> Result<Reached, Violation> {
    const T: &str = "credssp";
    if data.len() <= ROUND_TRIP_MAX {
        if let Ok(request) = TsRequest::from_buffer(data) {
            let mut encoded = Vec::new();
            request
                .encode_ts_request(&mut encoded)
                .map_err(|e| Violation::new(T, format!("decoded request does not encode: {e}")))?;
            let again = TsRequest::from_buffer(&encoded)
                .map_err(|e| Violation::new(T, format!("re-encoded request does not decode: {e}")))?;
            if format!("{request:?}") != format!("{again:?}") {
                return Err(Violation::new(
                    T,
                    format!("round trip changed {request:?} into {again:?}"),
                ));
            }
        }
    }
    credssp_exchange(T, data)
}

/// Splits fuzz input into NTLM tokens: each is a little-endian `u16` length and that many
/// bytes (the last one takes what is left).
pub fn split_tokens(data: &[u8]) -> Vec<&[u8]> {
    let mut tokens = Vec::new();
    let mut rest = data;
    while tokens.len() < 4 {
        let (Some(&lo), Some(&hi)) = (rest.first(), rest.get(1)) else {
            break;
        };
        let len = usize::from(u16::from_le_bytes([lo, hi]));
        let body = rest.get(2..).unwrap_or_default();
        let token = body.get(..len).unwrap_or(body);
        tokens.push(token);
        rest = body.get(token.len()..).unwrap_or_default();
    }
    tokens
}

/// The inverse of [`split_tokens`], for the seeds.
pub fn join_tokens(tokens: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for token in tokens {
        let len = u16::try_from(token.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(token.get(..usize::from(len)).unwrap_or_default());
    }
    out
}

/// `ntlm`: NTLM messages as a client sends them, each in a TsRequest (the later ones with
/// a public-key proof and a nonce, as after a real challenge), through the CredSSP server.
pub(super) fn ntlm(data: &[u8]) -> Result<Reached, Violation> {
    const T: &str = "ntlm";
    let mut stream = Vec::new();
    for (i, token) in split_tokens(data).into_iter().enumerate() {
        let later = i > 0;
        let request = TsRequest {
            version: 6,
            nego_tokens: Some(token.to_vec()),
            pub_key_auth: later.then(|| vec![0x5a; 32]),
            client_nonce: later.then_some([0x42; 32]),
            ..TsRequest::default()
        };
        request
            .encode_ts_request(&mut stream)
            .map_err(|e| Violation::new(T, format!("cannot encode a request: {e}")))?;
    }
    credssp_exchange(T, &stream)
}
