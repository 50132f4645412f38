//! NTLMv2 verification where the NT hashes are: the supervisor checks a client's proof the way
//! a domain controller checks a pass-through logon (Netlogon), from the bounded fields of the
//! client's AUTHENTICATE message and the challenge it issued itself, and hands back only the
//! session key. The worker that parsed the messages never sees a hash.
//!
//! MS-NLMP: NTOWFv2 and the NTLMv2 response (3.3.2), the NTLMv2_CLIENT_CHALLENGE blob
//! (2.2.2.7), the server's checks (3.2.5.1.2), KXKEY and the key exchange (3.4.5.1).
//! Test vectors: MS-NLMP 4.2.4. Pure: no I/O, no clock (the caller passes the time).

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use md5::Md5;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::NtHash;

type HmacMd5 = Hmac<Md5>;

/// Length of the server challenge.
pub const CHALLENGE_LEN: usize = 8;
/// Longest user or domain name accepted, in UTF-16 code units (Windows allows 256).
pub const MAX_NAME_UNITS: usize = 256;
/// Longest NtChallengeResponse accepted. Real ones are 300-600 bytes (NTProofStr, the blob
/// header and the server's target info with the client's additions).
pub const MAX_NT_RESPONSE_LEN: usize = 2048;
/// NTProofStr (16) + the blob header (28) + MsvAvEOL (4).
pub const MIN_NT_RESPONSE_LEN: usize = 48;
/// Length of the EncryptedRandomSessionKey field when a key is exchanged.
pub const SESSION_KEY_LEN: usize = 16;
/// NTLMSSP_NEGOTIATE_KEY_EXCH: the client chose the session key and sent it encrypted.
pub const NEGOTIATE_KEY_EXCH: u32 = 0x4000_0000;

const PROOF_LEN: usize = 16;
/// RespType, HiRespType, Reserved1, Reserved2, TimeStamp, ChallengeFromClient, Reserved3.
const BLOB_HEADER_LEN: usize = 28;
const AV_EOL: u16 = 0;
const AV_TIMESTAMP: u16 = 7;
/// 100-ns intervals between 1601-01-01 and 1970-01-01.
const FILETIME_UNIX_EPOCH: u64 = 116_444_736_000_000_000;

/// What the server sent in its CHALLENGE: the 8 random bytes and the time (MsvAvTimestamp).
/// Made by the supervisor, once per connection, so a worker cannot pick an old challenge to
/// replay a recorded exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssuedChallenge {
    pub server_challenge: [u8; CHALLENGE_LEN],
    /// FILETIME (100-ns intervals since 1601-01-01 UTC).
    pub timestamp: u64,
}

impl IssuedChallenge {
    /// A fresh challenge from the OS random generator, stamped `now_unix_millis`.
    pub fn random(now_unix_millis: i64) -> Self {
        Self {
            server_challenge: rand::random(),
            timestamp: filetime_from_unix_millis(now_unix_millis),
        }
    }
}

/// Unix milliseconds as a FILETIME; times before 1970 are clamped to 1970.
pub fn filetime_from_unix_millis(ms: i64) -> u64 {
    u64::try_from(ms)
        .unwrap_or(0)
        .saturating_mul(10_000)
        .saturating_add(FILETIME_UNIX_EPOCH)
}

/// The fields of a client's AUTHENTICATE message that verification needs, as the worker
/// read them. Every one is bounded ([`AuthenticateFields::check_bounds`]).
#[derive(Clone, Copy)]
pub struct AuthenticateFields<'a> {
    /// UserName as sent (UTF-16 on the wire).
    pub user: &'a str,
    /// DomainName as sent (may be empty).
    pub domain: &'a str,
    /// NtChallengeResponse: NTProofStr followed by the NTLMv2_CLIENT_CHALLENGE blob.
    pub nt_response: &'a [u8],
    /// EncryptedRandomSessionKey, if the message carried one.
    pub encrypted_random_session_key: Option<&'a [u8]>,
    /// NegotiateFlags of the AUTHENTICATE message.
    pub negotiate_flags: u32,
}

impl fmt::Debug for AuthenticateFields<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The response is crackable offline (NetNTLMv2): its length only.
        f.debug_struct("AuthenticateFields")
            .field("user", &self.user)
            .field("domain", &self.domain)
            .field("nt_response_len", &self.nt_response.len())
            .field("negotiate_flags", &format_args!("{:#010x}", self.negotiate_flags))
            .finish_non_exhaustive()
    }
}

/// Why a response was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NtlmRefusal {
    /// A field is longer (or shorter) than any real client sends: the sender is not following
    /// the protocol, whoever it is.
    #[error("ntlm field out of bounds: {0}")]
    OutOfBounds(&'static str),
    /// The NTLMv2 blob is not well formed.
    #[error("ntlmv2 response malformed: {0}")]
    Malformed(&'static str),
    /// The blob does not carry the time this server sent (MS-NLMP 3.1.5.1.2: the client uses
    /// the server's MsvAvTimestamp): made for another challenge, or by a client that ignores it.
    #[error("ntlmv2 response not made for the time this server sent")]
    WrongTimestamp,
    /// NTProofStr does not verify: wrong password, or no such user.
    #[error("ntlmv2 proof does not verify")]
    WrongProof,
}

/// The ExportedSessionKey of a verified exchange: what the worker needs to finish NTLM (the
/// MIC, signing and sealing keys). Zeroized on drop, never printed.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SessionKey([u8; SESSION_KEY_LEN]);

impl SessionKey {
    pub fn from_bytes(bytes: [u8; SESSION_KEY_LEN]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; SESSION_KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionKey(<redacted>)")
    }
}

impl AuthenticateFields<'_> {
    /// Refuses fields no real client sends: over-long names, an NtChallengeResponse outside
    /// [`MIN_NT_RESPONSE_LEN`]..=[`MAX_NT_RESPONSE_LEN`], a session key that is not 16 bytes.
    pub fn check_bounds(&self) -> Result<(), NtlmRefusal> {
        if self.user.encode_utf16().count() > MAX_NAME_UNITS {
            return Err(NtlmRefusal::OutOfBounds("user name"));
        }
        if self.domain.encode_utf16().count() > MAX_NAME_UNITS {
            return Err(NtlmRefusal::OutOfBounds("domain name"));
        }
        if !(MIN_NT_RESPONSE_LEN..=MAX_NT_RESPONSE_LEN).contains(&self.nt_response.len()) {
            return Err(NtlmRefusal::OutOfBounds("nt challenge response"));
        }
        if self.encrypted_random_session_key.is_some_and(|k| k.len() != SESSION_KEY_LEN) {
            return Err(NtlmRefusal::OutOfBounds("encrypted random session key"));
        }
        Ok(())
    }
}

/// NTOWFv2: HMAC_MD5(NT hash, UTF-16LE(Uppercase(User) ‖ UserDom)).
pub fn ntowf_v2(nt_hash: &NtHash, user: &str, domain: &str) -> Zeroizing<[u8; 16]> {
    let mut input: Zeroizing<Vec<u8>> = Zeroizing::new(Vec::with_capacity(2 * (user.len() + domain.len())));
    let upper = Zeroizing::new(user.to_uppercase());
    input.extend(upper.encode_utf16().flat_map(u16::to_le_bytes));
    input.extend(domain.encode_utf16().flat_map(u16::to_le_bytes));
    Zeroizing::new(hmac_md5(nt_hash.as_bytes(), &[&input]))
}

/// Checks a client's NTLMv2 response against `nt_hash` and the challenge this server issued,
/// and derives the ExportedSessionKey.
///
/// In order: the bounds, the blob's structure and time (independent of the user, so an
/// unknown user costs the same as a known one), then NTProofStr in constant time. The caller
/// passes a random hash for an unknown user: the same path, the same work, `WrongProof`.
pub fn verify(
    nt_hash: &NtHash,
    issued: &IssuedChallenge,
    fields: &AuthenticateFields<'_>,
) -> Result<SessionKey, NtlmRefusal> {
    fields.check_bounds()?;
    let (proof, blob) = fields
        .nt_response
        .split_first_chunk::<PROOF_LEN>()
        .ok_or(NtlmRefusal::OutOfBounds("nt challenge response"))?;
    let timestamps = blob_timestamps(blob)?;
    if timestamps.header != issued.timestamp || timestamps.av_pair.is_some_and(|t| t != issued.timestamp) {
        return Err(NtlmRefusal::WrongTimestamp);
    }
    let key_exchange = fields.negotiate_flags & NEGOTIATE_KEY_EXCH != 0;
    let encrypted_key: Option<[u8; SESSION_KEY_LEN]> = match (key_exchange, fields.encrypted_random_session_key) {
        (true, Some(key)) => Some(
            key.try_into()
                .map_err(|_| NtlmRefusal::OutOfBounds("encrypted random session key"))?,
        ),
        (true, None) => return Err(NtlmRefusal::Malformed("key exchange without an encrypted session key")),
        (false, Some(_)) => return Err(NtlmRefusal::Malformed("encrypted session key without key exchange")),
        (false, None) => None,
    };

    let response_key = ntowf_v2(nt_hash, fields.user, fields.domain);
    let mut mac = hmac_md5_keyed(&response_key);
    mac.update(&issued.server_challenge);
    mac.update(blob);
    mac.verify_slice(proof).map_err(|_| NtlmRefusal::WrongProof)?;

    // NTLMv2: KeyExchangeKey = SessionBaseKey = HMAC_MD5(ResponseKeyNT, NTProofStr).
    let key_exchange_key = Zeroizing::new(hmac_md5(&response_key, &[proof]));
    let exported = match encrypted_key {
        Some(mut encrypted) => {
            rc4(key_exchange_key.as_slice(), &mut encrypted);
            encrypted
        }
        None => *key_exchange_key,
    };
    Ok(SessionKey(exported))
}

/// The account an AUTHENTICATE message names, the way the NTLM server reads its UserName and
/// DomainName: with a domain, the user name as is (no `\` or `@` allowed in it); without one,
/// `DOMAIN\account` or `account@suffix` give `account`. `None` when the name is malformed.
pub fn account_name<'a>(user: &'a str, domain: &str) -> Option<&'a str> {
    let account = if !domain.is_empty() {
        (!user.contains(['\\', '@'])).then_some(user)?
    } else if let Some((netbios, account)) = user.split_once('\\') {
        if account.contains(['\\', '@']) || netbios.contains('@') {
            return None;
        }
        account
    } else if let Some((account, suffix)) = user.rsplit_once('@') {
        if account.contains('\\') || suffix.contains(['\\', '@']) {
            return None;
        }
        account
    } else {
        user
    };
    (!account.is_empty()).then_some(account)
}

struct BlobTimes {
    header: u64,
    av_pair: Option<u64>,
}

/// The NTLMv2_CLIENT_CHALLENGE blob (2.2.2.7): RespType 1, HiRespType 1, the time stamp,
/// the client challenge, then AV pairs up to MsvAvEOL (anything after it, usually Z(4), is
/// covered by the proof and ignored).
fn blob_timestamps(blob: &[u8]) -> Result<BlobTimes, NtlmRefusal> {
    let (header, mut av) = blob
        .split_first_chunk::<BLOB_HEADER_LEN>()
        .ok_or(NtlmRefusal::Malformed("blob shorter than its header"))?;
    let [resp_type, hi_resp_type, ..] = *header;
    if resp_type != 1 || hi_resp_type != 1 {
        return Err(NtlmRefusal::Malformed("not an ntlmv2 response (resp type)"));
    }
    let (_, rest) = header.split_at(8);
    let (stamp, _) = rest
        .split_first_chunk::<8>()
        .ok_or(NtlmRefusal::Malformed("blob shorter than its header"))?;
    let mut times = BlobTimes {
        header: u64::from_le_bytes(*stamp),
        av_pair: None,
    };
    loop {
        let (pair, rest) = av
            .split_first_chunk::<4>()
            .ok_or(NtlmRefusal::Malformed("av pairs not terminated"))?;
        let [id0, id1, len0, len1] = *pair;
        let id = u16::from_le_bytes([id0, id1]);
        let len = usize::from(u16::from_le_bytes([len0, len1]));
        if id == AV_EOL {
            return Ok(times);
        }
        if rest.len() < len {
            return Err(NtlmRefusal::Malformed("av pair longer than the blob"));
        }
        let (value, rest) = rest.split_at(len);
        if id == AV_TIMESTAMP {
            let stamp: [u8; 8] = value
                .try_into()
                .map_err(|_| NtlmRefusal::Malformed("timestamp av pair is not 8 bytes"))?;
            if times.av_pair.replace(u64::from_le_bytes(stamp)).is_some() {
                return Err(NtlmRefusal::Malformed("two timestamp av pairs"));
            }
        }
        av = rest;
    }
}

/// HMAC-MD5 keyed with a 16-byte key (every NTLMv2 key is one: an NT hash or an NTOWFv2),
/// zero-padded to the 64-byte block as RFC 2104 does for short keys.
fn hmac_md5_keyed(key: &[u8; 16]) -> HmacMd5 {
    let mut block = Zeroizing::new([0u8; 64]);
    for (b, k) in block.iter_mut().zip(key) {
        *b = *k;
    }
    HmacMd5::new(&(*block).into())
}

fn hmac_md5(key: &[u8; 16], parts: &[&[u8]]) -> [u8; 16] {
    let mut mac = hmac_md5_keyed(key);
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// RC4 (MS-NLMP 3.4.5.1 RC4K), used only to open the client's EncryptedRandomSessionKey.
fn rc4(key: &[u8], data: &mut [u8]) {
    if key.is_empty() {
        return;
    }
    let mut state = [0u8; 256];
    for (i, s) in (0u8..=255).zip(state.iter_mut()) {
        *s = i;
    }
    let mut j = 0u8;
    for (i, k) in (0..256usize).zip(key.iter().cycle()) {
        let si = state.get(i).copied().unwrap_or(0);
        j = j.wrapping_add(si).wrapping_add(*k);
        state.swap(i, usize::from(j));
    }
    let (mut i, mut j) = (0u8, 0u8);
    for byte in data {
        i = i.wrapping_add(1);
        let si = state.get(usize::from(i)).copied().unwrap_or(0);
        j = j.wrapping_add(si);
        state.swap(usize::from(i), usize::from(j));
        let si = state.get(usize::from(i)).copied().unwrap_or(0);
        let sj = state.get(usize::from(j)).copied().unwrap_or(0);
        *byte ^= state.get(usize::from(si.wrapping_add(sj))).copied().unwrap_or(0);
    }
    state.zeroize();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Password;

    // MS-NLMP 4.2.1 and 4.2.4: User "User", UserDom "Domain", Passwd "Password",
    // ServerChallenge 0123456789abcdef, ClientChallenge aa*8, Time 0, RandomSessionKey 55*16,
    // ServerName = MsvAvNbDomainName "Domain", MsvAvNbComputerName "Server", MsvAvEOL.
    const SERVER_CHALLENGE: [u8; 8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
    const NTOWFV2: &str = "0c868a403bfd7a93a3001ef22ef02e3f";
    const NT_PROOF_STR: &str = "68cd0ab851e51c96aabc927bebef6a1c";
    const SESSION_BASE_KEY: &str = "8de40ccadbc14a82f15cb0ad0de95ca3";
    const ENCRYPTED_SESSION_KEY: &str = "c5dad2544fc9799094ce1ce90bc9d03e";
    /// The 4.2.4 Challenge Flags (33 82 8a e2), which include NTLMSSP_NEGOTIATE_KEY_EXCH.
    const FLAGS: u32 = 0xe28a_8233;

    fn password_hash() -> NtHash {
        NtHash::from_password(&Password::new("Password".into()))
    }

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn av(id: u16, value: &[u8]) -> Vec<u8> {
        let mut out = id.to_le_bytes().to_vec();
        out.extend((value.len() as u16).to_le_bytes());
        out.extend_from_slice(value);
        out
    }

    /// temp (3.3.2): header, time, client challenge, Z(4), ServerName, Z(4).
    fn blob(time: u64, target_info: &[u8]) -> Vec<u8> {
        let mut out = vec![1, 1, 0, 0, 0, 0, 0, 0];
        out.extend(time.to_le_bytes());
        out.extend([0xaa; 8]);
        out.extend([0; 4]);
        out.extend_from_slice(target_info);
        out.extend([0; 4]);
        out
    }

    fn spec_target_info() -> Vec<u8> {
        let mut ti = av(2, &utf16("Domain"));
        ti.extend(av(1, &utf16("Server")));
        ti.extend(av(0, &[]));
        ti
    }

    /// What a client holding `hash` would send for `blob` (computed with the code under test
    /// only for the NTOWFv2 and HMAC parts, which the vector tests pin separately).
    fn response(hash: &NtHash, user: &str, domain: &str, challenge: &[u8; 8], blob: &[u8]) -> Vec<u8> {
        let key = ntowf_v2(hash, user, domain);
        let mut out = hmac_md5(&key, &[challenge, blob]).to_vec();
        out.extend_from_slice(blob);
        out
    }

    fn spec_fields<'a>(nt_response: &'a [u8], encrypted: &'a [u8]) -> AuthenticateFields<'a> {
        AuthenticateFields {
            user: "User",
            domain: "Domain",
            nt_response,
            encrypted_random_session_key: Some(encrypted),
            negotiate_flags: FLAGS,
        }
    }

    #[test]
    fn ms_nlmp_4_2_4_ntowfv2() {
        assert_eq!(hex::encode(ntowf_v2(&password_hash(), "User", "Domain").as_slice()), NTOWFV2);
        // Uppercase(User), not Uppercase(UserDom): the user's case does not matter.
        assert_eq!(hex::encode(ntowf_v2(&password_hash(), "uSeR", "Domain").as_slice()), NTOWFV2);
        assert_ne!(hex::encode(ntowf_v2(&password_hash(), "User", "DOMAIN").as_slice()), NTOWFV2);
    }

    #[test]
    fn ms_nlmp_4_2_4_proof_session_key_and_key_exchange() {
        let blob = blob(0, &spec_target_info());
        let nt_response = response(&password_hash(), "User", "Domain", &SERVER_CHALLENGE, &blob);
        assert_eq!(hex::encode(&nt_response[..16]), NT_PROOF_STR);
        let key = ntowf_v2(&password_hash(), "User", "Domain");
        assert_eq!(hex::encode(hmac_md5(&key, &[&nt_response[..16]])), SESSION_BASE_KEY);

        // The spec's time is 0, and so is the time this "server" sent.
        let issued = IssuedChallenge {
            server_challenge: SERVER_CHALLENGE,
            timestamp: 0,
        };
        let encrypted = hex::decode(ENCRYPTED_SESSION_KEY).unwrap();
        let exported = verify(&password_hash(), &issued, &spec_fields(&nt_response, &encrypted)).unwrap();
        assert_eq!(exported.as_bytes(), &[0x55; 16], "RC4(KeyExchangeKey, EncryptedRandomSessionKey)");

        // Without key exchange the exported key is the key-exchange key itself.
        let fields = AuthenticateFields {
            encrypted_random_session_key: None,
            negotiate_flags: FLAGS & !NEGOTIATE_KEY_EXCH,
            ..spec_fields(&nt_response, &encrypted)
        };
        let exported = verify(&password_hash(), &issued, &fields).unwrap();
        assert_eq!(hex::encode(exported.as_bytes()), SESSION_BASE_KEY);
    }

    #[test]
    fn rc4_matches_the_spec_key_exchange() {
        let mut data = [0x55u8; 16];
        rc4(&hex::decode(SESSION_BASE_KEY).unwrap(), &mut data);
        assert_eq!(hex::encode(data), ENCRYPTED_SESSION_KEY);
        // RFC 6229-style sanity: RC4 with key "Key" over "Plaintext".
        let mut text = *b"Plaintext";
        rc4(b"Key", &mut text);
        assert_eq!(hex::encode(text), "bbf316e8d940af0ad3");
    }

    fn live_exchange(now_ms: i64) -> (IssuedChallenge, Vec<u8>) {
        let issued = IssuedChallenge::random(now_ms);
        let mut ti = av(2, &[]);
        ti.extend(av(1, &[]));
        ti.extend(av(7, &issued.timestamp.to_le_bytes()));
        ti.extend(av(6, &2u32.to_le_bytes()));
        ti.extend(av(0, &[]));
        let blob = blob(issued.timestamp, &ti);
        let nt_response = response(&password_hash(), "alice", "", &issued.server_challenge, &blob);
        (issued, nt_response)
    }

    fn plain<'a>(user: &'a str, nt_response: &'a [u8]) -> AuthenticateFields<'a> {
        AuthenticateFields {
            user,
            domain: "",
            nt_response,
            encrypted_random_session_key: None,
            negotiate_flags: 0xe288_8235 & !NEGOTIATE_KEY_EXCH,
        }
    }

    #[test]
    fn right_password_wrong_password_unknown_user() {
        let (issued, nt_response) = live_exchange(1_700_000_000_000);
        assert!(verify(&password_hash(), &issued, &plain("alice", &nt_response)).is_ok());
        // The user's case is folded by NTOWFv2, so ALICE proves the same.
        assert!(verify(&password_hash(), &issued, &plain("ALICE", &nt_response)).is_ok());
        let other = NtHash::from_password(&Password::new("Passw0rd".into()));
        assert_eq!(
            verify(&other, &issued, &plain("alice", &nt_response)).unwrap_err(),
            NtlmRefusal::WrongProof
        );
        // An unknown user is checked against a random hash: the same refusal.
        assert_eq!(
            verify(&crate::random_nt_hash(), &issued, &plain("mallory", &nt_response)).unwrap_err(),
            NtlmRefusal::WrongProof
        );
        // The proof covers the user name: the same response for another name fails.
        assert_eq!(
            verify(&password_hash(), &issued, &plain("bob", &nt_response)).unwrap_err(),
            NtlmRefusal::WrongProof
        );
    }

    #[test]
    fn a_replayed_response_fails_against_a_new_challenge() {
        let (issued, nt_response) = live_exchange(1_700_000_000_000);
        let mut later = IssuedChallenge::random(1_700_000_000_000);
        later.timestamp = issued.timestamp;
        assert_eq!(
            verify(&password_hash(), &later, &plain("alice", &nt_response)).unwrap_err(),
            NtlmRefusal::WrongProof
        );
        // Same challenge bytes but another time: refused before the proof.
        let mut other_time = issued;
        other_time.timestamp += 1;
        assert_eq!(
            verify(&password_hash(), &other_time, &plain("alice", &nt_response)).unwrap_err(),
            NtlmRefusal::WrongTimestamp
        );
    }

    #[test]
    fn the_client_must_use_the_servers_time() {
        let issued = IssuedChallenge::random(1_700_000_000_000);
        let mut ti = av(7, &issued.timestamp.to_le_bytes());
        ti.extend(av(0, &[]));
        // The client's own clock in the header, though the server sent its time.
        let own_clock = blob(issued.timestamp + 10_000_000, &ti);
        let nt_response = response(&password_hash(), "alice", "", &issued.server_challenge, &own_clock);
        assert_eq!(
            verify(&password_hash(), &issued, &plain("alice", &nt_response)).unwrap_err(),
            NtlmRefusal::WrongTimestamp
        );
        // An MsvAvTimestamp that is not the server's.
        let mut ti = av(7, &(issued.timestamp - 1).to_le_bytes());
        ti.extend(av(0, &[]));
        let other_av = blob(issued.timestamp, &ti);
        let nt_response = response(&password_hash(), "alice", "", &issued.server_challenge, &other_av);
        assert_eq!(
            verify(&password_hash(), &issued, &plain("alice", &nt_response)).unwrap_err(),
            NtlmRefusal::WrongTimestamp
        );
    }

    #[test]
    fn malformed_and_out_of_bounds_fields_are_refused() {
        let (issued, good) = live_exchange(1_700_000_000_000);
        let refusal = |nt: &[u8]| verify(&password_hash(), &issued, &plain("alice", nt)).unwrap_err();
        assert!(matches!(refusal(&good[..40]), NtlmRefusal::OutOfBounds(_)));
        assert!(matches!(refusal(&vec![0u8; MAX_NT_RESPONSE_LEN + 1]), NtlmRefusal::OutOfBounds(_)));
        // Not RespType 1 (an NTLMv1 or LMv2 response).
        let mut v1 = good.clone();
        v1[16] = 2;
        assert!(matches!(refusal(&v1), NtlmRefusal::Malformed(_)));
        // AV pairs without MsvAvEOL, and an AV pair running past the end.
        let mut cut = good[..16 + 28].to_vec();
        cut.extend(av(2, &[]));
        cut.extend(av(1, &[0; 4]));
        assert!(matches!(refusal(&cut), NtlmRefusal::Malformed(_)));
        let mut long = good[..16 + 28].to_vec();
        long.extend([9, 0, 0xff, 0xff, 0, 0, 0, 0]);
        assert!(matches!(refusal(&long), NtlmRefusal::Malformed(_)));
        // Key exchange flag and key must come together.
        let fields = AuthenticateFields {
            negotiate_flags: NEGOTIATE_KEY_EXCH,
            ..plain("alice", &good)
        };
        assert!(matches!(
            verify(&password_hash(), &issued, &fields).unwrap_err(),
            NtlmRefusal::Malformed(_)
        ));
        let key = [0u8; 15];
        let fields = AuthenticateFields {
            negotiate_flags: NEGOTIATE_KEY_EXCH,
            encrypted_random_session_key: Some(&key),
            ..plain("alice", &good)
        };
        assert!(matches!(
            verify(&password_hash(), &issued, &fields).unwrap_err(),
            NtlmRefusal::OutOfBounds(_)
        ));
        let long_name = "a".repeat(MAX_NAME_UNITS + 1);
        assert!(matches!(
            verify(&password_hash(), &issued, &plain(&long_name, &good)).unwrap_err(),
            NtlmRefusal::OutOfBounds(_)
        ));
    }

    #[test]
    fn account_names_as_the_ntlm_server_reads_them() {
        assert_eq!(account_name("alice", ""), Some("alice"));
        assert_eq!(account_name("alice", "WORKGROUP"), Some("alice"));
        assert_eq!(account_name("EXAMPLE\\alice", ""), Some("alice"));
        assert_eq!(account_name("alice@example.org", ""), Some("alice"));
        assert_eq!(account_name("a@b@example.org", ""), Some("a@b"));
        assert_eq!(account_name("alice@example.org", "EXAMPLE"), None);
        assert_eq!(account_name("EX\\alice@x", ""), None);
        assert_eq!(account_name("", ""), None);
        assert_eq!(account_name("EXAMPLE\\", ""), None);
    }

    #[test]
    fn filetime_conversion() {
        assert_eq!(filetime_from_unix_millis(0), FILETIME_UNIX_EPOCH);
        assert_eq!(filetime_from_unix_millis(1), FILETIME_UNIX_EPOCH + 10_000);
        assert_eq!(filetime_from_unix_millis(-5), FILETIME_UNIX_EPOCH);
    }

    #[test]
    fn secrets_and_responses_are_not_printed() {
        let key = SessionKey::from_bytes([0xab; 16]);
        assert!(!format!("{key:?}").contains("ab"));
        let (_, nt_response) = live_exchange(1);
        let text = format!("{:?}", plain("alice", &nt_response));
        assert!(text.contains("alice") && !text.contains(&hex::encode(&nt_response[..16])), "{text}");
    }
}
