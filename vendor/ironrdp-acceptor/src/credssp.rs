use ironrdp_async::NetworkClient;
use ironrdp_connector::sspi::credssp::{
    CredSspServer, CredentialsProxy, ServerError, ServerMode, ServerState, TsRequest,
};
use ironrdp_connector::sspi::generator::{Generator, GeneratorState};
use ironrdp_connector::sspi::{self, AuthIdentity, KerberosServerConfig, NegotiateConfig, NetworkRequest, Username};
use ironrdp_connector::{
    ConnectorError, ConnectorErrorKind, ConnectorResult, ServerName, Written, custom_err, general_err,
};
use ironrdp_core::{WriteBuf, other_err};
use ironrdp_pdu::PduHint;
use tracing::debug;

#[derive(Debug)]
pub(crate) enum CredsspState {
    Ongoing,
    Finished,
    ServerError(sspi::Error),
}

#[derive(Clone, Copy, Debug)]
struct CredsspTsRequestHint;

const CREDSSP_TS_REQUEST_HINT: CredsspTsRequestHint = CredsspTsRequestHint;

impl PduHint for CredsspTsRequestHint {
    fn find_size(&self, bytes: &[u8]) -> ironrdp_core::DecodeResult<Option<(bool, usize)>> {
        match TsRequest::read_length(bytes) {
            Ok(length) => Ok(Some((true, length))),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(other_err!("CredsspTsRequestHint", source: e)),
        }
    }
}

pub type CredsspProcessGenerator<'a> =
    Generator<'a, NetworkRequest, sspi::Result<Vec<u8>>, Result<ServerState, ServerError>>;

#[derive(Debug)]
pub struct CredsspSequence<'a> {
    server: CredSspServer<CredentialsProxyImpl<'a>>,
    state: CredsspState,
    // Rampart patch: the per-user store, when there is one.
    store: Option<std::sync::Arc<dyn CredentialStore>>,
}

// --- Rampart patch (see vendor/PATCHES.md): credentials checked elsewhere. ---

pub use ironrdp_connector::sspi::ntlm::rampart::{AuthenticateClaim, ServerChallenge};

/// Where the CredSSP server's NTLM credentials live, and the sink for the outcome of every
/// attempt.
///
/// Upstream checks CredSSP against one fixed identity held in this process and reports
/// failures without the user name. With a store, this process holds no credential: the
/// store issues the NTLM server challenge and verifies the client's NTLMv2 proof (the way
/// Netlogon pass-through works), returning only the session key; each attempt is reported
/// exactly once.
pub trait CredentialStore: Send + Sync + core::fmt::Debug {
    /// The server challenge (and its MsvAvTimestamp) for this connection's NTLM exchange.
    fn ntlm_challenge(&self) -> sspi::Result<ServerChallenge>;

    /// Verifies the client's NTLMv2 response to that challenge; the ExportedSessionKey if it
    /// proves the password, else an error of kind `LogonDenied`. An unknown user must fail
    /// the same way, in the same time, as a wrong password.
    fn verify_ntlm_v2(&self, claim: &AuthenticateClaim<'_>) -> sspi::Result<[u8; 16]>;

    /// Called once per CredSSP exchange that ends, successfully or not.
    fn on_attempt(&self, attempt: CredsspAttempt);

    /// Called just before a failure is sent to the client, so that the store can pad the
    /// answer to a constant time (no timing oracle between outcomes) and record the attempt
    /// before the client hears of it. `logon_failure`: the proof did not verify (as opposed
    /// to a malformed exchange). Blocking is fine: the caller serves one connection.
    fn before_failure_reply(&self, _logon_failure: bool) {}
}

/// How a CredSSP exchange ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredsspOutcome {
    /// The store verified the proof, and the MIC and the public-key binding verified here.
    Success,
    /// The store refused the proof (wrong password, unknown user: it alone knows which), or
    /// the MIC did not verify with the key it returned.
    LogonFailure,
    /// The exchange failed before a user was named (malformed or truncated messages,
    /// transport errors), or after it for a reason other than the proof.
    Failed(String),
}

/// One CredSSP attempt, as reported to [`CredentialStore::on_attempt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredsspAttempt {
    /// The account name the client sent in its NTLM AUTHENTICATE message, if it got that far.
    pub user: Option<String>,
    /// The domain the client sent, if any.
    pub domain: Option<String>,
    pub outcome: CredsspOutcome,
}

/// What the proxy saw of the user named in the exchange.
#[derive(Debug, Clone, Default)]
pub(crate) struct LookupRecord {
    pub(crate) user: Option<String>,
    pub(crate) domain: Option<String>,
}

#[derive(Debug)]
enum CredentialsProxyImpl<'a> {
    Fixed(&'a AuthIdentity),
    /// Records who the client named; holds no credential (the store verifies).
    Store {
        record: std::sync::Arc<std::sync::Mutex<LookupRecord>>,
    },
}

impl<'a> CredentialsProxyImpl<'a> {
    fn new(credentials: &'a AuthIdentity) -> Self {
        Self::Fixed(credentials)
    }
}

/// Hands sspi's NTLM server the store's challenge and verification.
#[derive(Debug)]
struct StoreHook(std::sync::Arc<dyn CredentialStore>);

impl sspi::ntlm::rampart::ServerHook for StoreHook {
    fn server_challenge(&self) -> sspi::Result<ServerChallenge> {
        self.0.ntlm_challenge()
    }

    fn verify_ntlm_v2(&self, claim: &AuthenticateClaim<'_>) -> sspi::Result<[u8; 16]> {
        self.0.verify_ntlm_v2(claim)
    }
}

impl CredentialsProxy for CredentialsProxyImpl<'_> {
    type AuthenticationData = AuthIdentity;

    fn auth_data_by_user(&mut self, username: &Username) -> std::io::Result<Self::AuthenticationData> {
        match self {
            Self::Fixed(credentials) => {
                if username.account_name() != credentials.username.account_name() {
                    return Err(std::io::Error::other("invalid username"));
                }

                let mut data = (*credentials).clone();
                // keep the original user/domain
                data.username = username.clone();
                Ok(data)
            }
            Self::Store { record } => {
                let user = username.account_name().to_owned();
                // Only recorded for the worker's own record, where UPN suffix vs NetBIOS domain does not matter.
                #[allow(deprecated)]
                let domain = username.domain_name().map(str::to_owned);
                if let Ok(mut rec) = record.lock() {
                    *rec = LookupRecord { user: Some(user), domain };
                }
                // No password: sspi's NTLM server asks the store's hook instead.
                Ok(AuthIdentity {
                    username: username.clone(),
                    password: String::new().into(),
                })
            }
        }
    }

    fn auth_data(&mut self) -> Result<Vec<Self::AuthenticationData>, std::io::Error> {
        match self {
            Self::Fixed(credentials) => Ok(vec![(*credentials).clone()]),
            // Enumerating every account is never needed for NTLM and would hand out all hashes.
            Self::Store { .. } => Ok(Vec::new()),
        }
    }
}
// --- end Rampart patch ---

pub(crate) async fn resolve_generator(
    generator: &mut CredsspProcessGenerator<'_>,
    network_client: &mut impl NetworkClient,
) -> Result<ServerState, ServerError> {
    let mut state = generator.start();

    loop {
        match state {
            GeneratorState::Suspended(request) => {
                let response = network_client.send(&request).await.map_err(|err| ServerError {
                    ts_request: None,
                    error: sspi::Error::new(sspi::ErrorKind::InternalError, err),
                })?;
                state = generator.resume(Ok(response));
            }
            GeneratorState::Completed(client_state) => break client_state,
        }
    }
}

impl<'a> CredsspSequence<'a> {
    pub fn next_pdu_hint(&self) -> ConnectorResult<Option<&dyn PduHint>> {
        match &self.state {
            CredsspState::Ongoing => Ok(Some(&CREDSSP_TS_REQUEST_HINT)),
            CredsspState::Finished => Ok(None),
            CredsspState::ServerError(err) => Err(custom_err!("Credssp server error", err.clone())),
        }
    }

    pub fn init(
        creds: &'a AuthIdentity,
        client_computer_name: ServerName,
        public_key: Vec<u8>,
        krb_config: Option<KerberosServerConfig>,
    ) -> ConnectorResult<Self> {
        let client_computer_name = client_computer_name.into_inner();
        let credentials = CredentialsProxyImpl::new(creds);
        Self::init_with_proxy(credentials, client_computer_name, public_key, krb_config)
    }

    /// Rampart patch: a CredSSP server whose NTLM challenge and proof check are the
    /// store's; the user the client named is written to `record`.
    pub(crate) fn init_with_store(
        store: std::sync::Arc<dyn CredentialStore>,
        record: std::sync::Arc<std::sync::Mutex<LookupRecord>>,
        client_computer_name: ServerName,
        public_key: Vec<u8>,
    ) -> ConnectorResult<Self> {
        let client_computer_name = client_computer_name.into_inner();
        let ntlm = sspi::ntlm::NtlmConfig::new(client_computer_name)
            .with_rampart_server_hook(std::sync::Arc::new(StoreHook(std::sync::Arc::clone(&store))));
        let server = CredSspServer::new(public_key, CredentialsProxyImpl::Store { record }, ServerMode::Ntlm(ntlm))
            .map_err(|e| ConnectorError::new("CredSSP", ConnectorErrorKind::Credssp(e)))?;
        let mut sequence = Self {
            server,
            state: CredsspState::Ongoing,
            store: None,
        };
        sequence.store = Some(store);
        Ok(sequence)
    }

    fn init_with_proxy(
        credentials: CredentialsProxyImpl<'a>,
        client_computer_name: String,
        public_key: Vec<u8>,
        krb_config: Option<KerberosServerConfig>,
    ) -> ConnectorResult<Self> {

        let server_mode = if let Some(krb_config) = krb_config {
            ServerMode::Negotiate(NegotiateConfig {
                protocol_config: Box::new(krb_config),
                package_list: None,
                client_computer_name,
            })
        } else {
            ServerMode::Ntlm(sspi::ntlm::NtlmConfig::new(client_computer_name))
        };

        let server = CredSspServer::new(public_key, credentials, server_mode)
            .map_err(|e| ConnectorError::new("CredSSP", ConnectorErrorKind::Credssp(e)))?;

        let sequence = Self {
            server,
            state: CredsspState::Ongoing,
            store: None,
        };

        Ok(sequence)
    }

    /// Returns Some(ts_request) when a TS request is received from client,
    pub fn decode_client_message(&mut self, input: &[u8]) -> ConnectorResult<Option<TsRequest>> {
        match self.state {
            CredsspState::Ongoing => {
                let message = TsRequest::from_buffer(input).map_err(|e| custom_err!("TsRequest", e))?;
                debug!(?message, "Received");
                Ok(Some(message))
            }
            _ => Err(general_err!(
                "attempted to feed client request to CredSSP sequence in an unexpected state"
            )),
        }
    }

    pub fn process_ts_request(&mut self, request: TsRequest) -> CredsspProcessGenerator<'_> {
        self.server.process(request)
    }

    pub fn handle_process_result(
        &mut self,
        result: Result<ServerState, ServerError>,
        output: &mut WriteBuf,
    ) -> ConnectorResult<Written> {
        let (ts_request, next_state) = match result {
            Ok(ServerState::ReplyNeeded(ts_request)) => (Some(ts_request), CredsspState::Ongoing),
            Ok(ServerState::Finished(_id)) => (None, CredsspState::Finished),
            Err(err) => {
                let mut ts_request = err.ts_request.map(|ts_request| *ts_request);
                if let Some(store) = &self.store {
                    // Rampart patch: a proof that did not verify is a logon failure, which
                    // clients turn into "wrong user name or password"; sspi reports it as
                    // SEC_E_MESSAGE_ALTERED, which they show as a generic error.
                    let logon_failure = matches!(
                        err.error.error_type,
                        sspi::ErrorKind::MessageAltered | sspi::ErrorKind::LogonDenied
                    );
                    if logon_failure {
                        if let Some(req) = ts_request.as_mut() {
                            req.error_code = Some(sspi::credssp::NStatusCode::LOGON_FAILURE);
                        }
                    }
                    store.before_failure_reply(logon_failure);
                }
                (ts_request, CredsspState::ServerError(err.error))
            }
        };

        self.state = next_state;
        if let Some(ts_request) = ts_request {
            debug!(?ts_request, "Send");
            let length = usize::from(ts_request.buffer_len());
            let unfilled_buffer = output.unfilled_to(length);

            ts_request
                .encode_ts_request(unfilled_buffer)
                .map_err(|e| custom_err!("TsRequest", e))?;

            output.advance(length);

            Ok(Written::from_size(length)?)
        } else {
            Ok(Written::Nothing)
        }
    }
}
