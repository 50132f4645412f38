use crate::negotiate::ProtocolConfig;
use crate::{NegotiatedProtocol, Ntlm, Result};

#[derive(Debug, Clone, Default)]
pub struct NtlmConfig {
    /// Computer name, or "workstation name", of the client machine performing the authentication attempt
    ///
    /// This is also referred to as the "Source Workstation".
    pub client_computer_name: Option<String>,
    /// Rampart patch: as a server, take the challenge from this hook and let it verify the
    /// client's NTLMv2 proof (no credential in this process). See `ntlm::rampart`.
    pub rampart_server_hook: Option<std::sync::Arc<dyn crate::ntlm::rampart::ServerHook>>,
}

impl NtlmConfig {
    pub fn new(client_machine_name: String) -> Self {
        Self {
            client_computer_name: Some(client_machine_name),
            rampart_server_hook: None,
        }
    }

    /// Rampart patch: see [`NtlmConfig::rampart_server_hook`].
    pub fn with_rampart_server_hook(mut self, hook: std::sync::Arc<dyn crate::ntlm::rampart::ServerHook>) -> Self {
        self.rampart_server_hook = Some(hook);
        self
    }
}

impl ProtocolConfig for NtlmConfig {
    fn new_instance(&self) -> Result<NegotiatedProtocol> {
        Ok(NegotiatedProtocol::Ntlm(Ntlm::with_config(Clone::clone(self))))
    }

    fn box_clone(&self) -> Box<dyn ProtocolConfig> {
        Box::new(Clone::clone(self))
    }
}
