//! Rampart patch (see Rampart's `vendor/PATCHES.md`): an NTLM server that holds no
//! credential. Its server challenge comes from, and the client's NTLMv2 proof is checked by,
//! a [`ServerHook`]: in Rampart, the privileged process that holds the NT hashes, which
//! answers with the ExportedSessionKey only when the proof verifies (the way Netlogon
//! pass-through authentication works). This side then checks the MIC and derives the
//! signing and sealing keys from that key, as before.

use std::fmt;

/// The server challenge to send in CHALLENGE, with the time to send as MsvAvTimestamp.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ServerChallenge {
    pub challenge: [u8; 8],
    /// FILETIME (100-ns intervals since 1601-01-01 UTC).
    pub timestamp: u64,
}

impl fmt::Debug for ServerChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerChallenge").field("timestamp", &self.timestamp).finish_non_exhaustive()
    }
}

/// What the client's AUTHENTICATE message claims, as needed to verify it.
pub struct AuthenticateClaim<'a> {
    /// UserName as sent.
    pub user: String,
    /// DomainName as sent (empty if none).
    pub domain: String,
    /// NtChallengeResponse (NTProofStr and the NTLMv2 blob).
    pub nt_challenge_response: &'a [u8],
    /// EncryptedRandomSessionKey, if sent.
    pub encrypted_random_session_key: Option<[u8; 16]>,
    /// NegotiateFlags of the AUTHENTICATE message.
    pub negotiate_flags: u32,
}

impl fmt::Debug for AuthenticateClaim<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The response is crackable offline (NetNTLMv2): never printed.
        f.debug_struct("AuthenticateClaim")
            .field("user", &self.user)
            .field("domain", &self.domain)
            .field("nt_challenge_response_len", &self.nt_challenge_response.len())
            .finish_non_exhaustive()
    }
}

/// The credential side of an NTLM server, kept out of this process.
pub trait ServerHook: Send + Sync + fmt::Debug {
    /// The challenge for this exchange. Called once, when the NEGOTIATE message arrives.
    fn server_challenge(&self) -> crate::Result<ServerChallenge>;

    /// Checks the client's NTLMv2 response against the challenge handed out; returns the
    /// ExportedSessionKey if it proves the password. A proof that does not verify is an error
    /// of kind [`crate::ErrorKind::LogonDenied`].
    fn verify_ntlm_v2(&self, claim: &AuthenticateClaim<'_>) -> crate::Result<[u8; 16]>;
}
