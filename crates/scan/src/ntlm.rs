//! NTLM (MS-NLMP 2.2.1): the NEGOTIATE message the scan sends, and the server's CHALLENGE
//! read for what it tells anyone before authentication: the target name, the target info
//! AV pairs (NetBIOS and DNS computer, domain and forest names) and the Version field
//! (OS major, minor, build).

use serde::Serialize;
use thiserror::Error;

const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";
const NEGOTIATE: u32 = 1;
const CHALLENGE: u32 = 2;

const NEGOTIATE_UNICODE: u32 = 0x0000_0001;
const REQUEST_TARGET: u32 = 0x0000_0004;
const NEGOTIATE_SIGN: u32 = 0x0000_0010;
const NEGOTIATE_SEAL: u32 = 0x0000_0020;
const NEGOTIATE_NTLM: u32 = 0x0000_0200;
const NEGOTIATE_ALWAYS_SIGN: u32 = 0x0000_8000;
const EXTENDED_SESSION_SECURITY: u32 = 0x0008_0000;
const NEGOTIATE_VERSION: u32 = 0x0200_0000;
const NEGOTIATE_128: u32 = 0x2000_0000;
const NEGOTIATE_KEY_EXCH: u32 = 0x4000_0000;
const NEGOTIATE_56: u32 = 0x8000_0000;

/// At most this many AV pairs are read (a real list has about seven).
const MAX_AV_PAIRS: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NtlmError {
    #[error("not an NTLM message (no NTLMSSP signature)")]
    NoSignature,
    #[error("NTLM message type {0}, expected CHALLENGE (2)")]
    NotChallenge(u32),
    #[error("truncated NTLM challenge: {0}")]
    Truncated(&'static str),
}

/// The NEGOTIATE message: what FreeRDP and mstsc ask for, with NEGOTIATE_VERSION so that
/// the server includes its Version field.
pub fn negotiate_message() -> Vec<u8> {
    let flags = NEGOTIATE_56
        | NEGOTIATE_KEY_EXCH
        | NEGOTIATE_128
        | NEGOTIATE_VERSION
        | EXTENDED_SESSION_SECURITY
        | NEGOTIATE_ALWAYS_SIGN
        | NEGOTIATE_NTLM
        | NEGOTIATE_SEAL
        | NEGOTIATE_SIGN
        | REQUEST_TARGET
        | NEGOTIATE_UNICODE;
    let mut out = Vec::with_capacity(40);
    out.extend_from_slice(SIGNATURE);
    out.extend_from_slice(&NEGOTIATE.to_le_bytes());
    out.extend_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(&[0; 8]); // DomainNameFields: empty
    out.extend_from_slice(&[0; 8]); // WorkstationFields: empty
                                    // Version: 10.0 build 0, NTLMSSP revision 15 (the value is not checked by servers).
    out.extend_from_slice(&[10, 0, 0, 0, 0, 0, 0, 15]);
    out
}

/// The OS version a CHALLENGE claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OsVersion {
    pub major: u8,
    pub minor: u8,
    pub build: u16,
}

impl std::fmt::Display for OsVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{} build {}", self.major, self.minor, self.build)
    }
}

/// What a CHALLENGE discloses. Empty names are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChallengeFacts {
    pub target_name: Option<String>,
    pub nb_computer_name: Option<String>,
    pub nb_domain_name: Option<String>,
    pub dns_computer_name: Option<String>,
    pub dns_domain_name: Option<String>,
    pub dns_tree_name: Option<String>,
    pub version: Option<OsVersion>,
    /// The server's clock (MsvAvTimestamp), as Unix seconds.
    pub timestamp: Option<u64>,
}

impl ChallengeFacts {
    /// Every (field, name) pair the server disclosed, in a fixed order.
    pub fn names(&self) -> Vec<(&'static str, &str)> {
        [
            ("target name", &self.target_name),
            ("NetBIOS computer name", &self.nb_computer_name),
            ("NetBIOS domain name", &self.nb_domain_name),
            ("DNS computer name", &self.dns_computer_name),
            ("DNS domain name", &self.dns_domain_name),
            ("DNS tree name", &self.dns_tree_name),
        ]
        .into_iter()
        .filter_map(|(field, value)| value.as_deref().map(|v| (field, v)))
        .collect()
    }
}

/// Parses a CHALLENGE message.
pub fn parse_challenge(msg: &[u8]) -> Result<ChallengeFacts, NtlmError> {
    if msg.get(..8) != Some(SIGNATURE.as_slice()) {
        return Err(NtlmError::NoSignature);
    }
    let kind = le32(msg, 8).ok_or(NtlmError::Truncated("message type"))?;
    if kind != CHALLENGE {
        return Err(NtlmError::NotChallenge(kind));
    }
    let flags = le32(msg, 20).ok_or(NtlmError::Truncated("flags"))?;
    let unicode = flags & NEGOTIATE_UNICODE != 0;
    let target_name = field(msg, 12)?.and_then(|bytes| text(bytes, unicode));
    let mut facts = ChallengeFacts { target_name, ..ChallengeFacts::default() };
    if let Some(info) = field(msg, 40)? {
        read_av_pairs(info, &mut facts)?;
    }
    if flags & NEGOTIATE_VERSION != 0 {
        if let (Some(&major), Some(&minor), Some(build)) = (msg.get(48), msg.get(49), le16(msg, 50)) {
            facts.version = Some(OsVersion { major, minor, build });
        }
    }
    Ok(facts)
}

/// The payload a (len, maxlen, offset) field at `at` points to; `None` when empty.
fn field(msg: &[u8], at: usize) -> Result<Option<&[u8]>, NtlmError> {
    let len = usize::from(le16(msg, at).ok_or(NtlmError::Truncated("field header"))?);
    let offset = usize::try_from(le32(msg, at + 4).ok_or(NtlmError::Truncated("field header"))?)
        .map_err(|_| NtlmError::Truncated("field offset"))?;
    if len == 0 {
        return Ok(None);
    }
    msg.get(offset..offset.saturating_add(len)).map(Some).ok_or(NtlmError::Truncated("field payload"))
}

fn read_av_pairs(mut info: &[u8], facts: &mut ChallengeFacts) -> Result<(), NtlmError> {
    for _ in 0..MAX_AV_PAIRS {
        let id = le16(info, 0).ok_or(NtlmError::Truncated("av pair"))?;
        let len = usize::from(le16(info, 2).ok_or(NtlmError::Truncated("av pair"))?);
        let value = info.get(4..4 + len).ok_or(NtlmError::Truncated("av pair value"))?;
        let name = || text(value, true);
        match id {
            0 => return Ok(()), // MsvAvEOL
            1 => facts.nb_computer_name = name(),
            2 => facts.nb_domain_name = name(),
            3 => facts.dns_computer_name = name(),
            4 => facts.dns_domain_name = name(),
            5 => facts.dns_tree_name = name(),
            7 => facts.timestamp = le64(value, 0).map(filetime_to_unix),
            _ => {}
        }
        info = info.get(4 + len..).ok_or(NtlmError::Truncated("av pair value"))?;
    }
    // No EOL within the bound: keep what was read.
    Ok(())
}

/// UTF-16LE (or OEM, read as Latin-1) text; empty or all-NUL text is `None`.
fn text(bytes: &[u8], unicode: bool) -> Option<String> {
    let s: String = if unicode {
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .filter_map(|c| match c {
                [lo, hi] => Some(u16::from_le_bytes([*lo, *hi])),
                _ => None,
            })
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        bytes.iter().map(|&b| char::from(b)).collect()
    };
    let trimmed = s.trim_end_matches('\0').to_owned();
    (!trimmed.is_empty()).then_some(trimmed)
}

/// Windows FILETIME (100 ns since 1601) to Unix seconds.
fn filetime_to_unix(filetime: u64) -> u64 {
    (filetime / 10_000_000).saturating_sub(11_644_473_600)
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes([*b.get(at)?, *b.get(at + 1)?, *b.get(at + 2)?, *b.get(at + 3)?]))
}

fn le64(b: &[u8], at: usize) -> Option<u64> {
    let bytes: [u8; 8] = b.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::captured;

    fn challenge(ts_request_hex: &str) -> Vec<u8> {
        let bytes = hex::decode(ts_request_hex).unwrap();
        crate::tsrequest::parse(&bytes).unwrap().token.unwrap()
    }

    #[test]
    fn rampart_discloses_no_names() {
        let facts = parse_challenge(&challenge(captured::RAMPART_TS_REQUEST)).unwrap();
        assert!(facts.names().is_empty(), "{facts:?}");
        assert_eq!(facts.version, Some(OsVersion { major: 10, minor: 0, build: 17763 }));
        assert!(facts.timestamp.is_some_and(|t| t > 1_700_000_000), "{facts:?}");
    }

    #[test]
    fn freerdp_shadow_discloses_the_host_name() {
        let facts = parse_challenge(&challenge(captured::SHADOW_TS_REQUEST)).unwrap();
        assert_eq!(facts.target_name.as_deref(), Some("VM"));
        assert_eq!(facts.nb_computer_name.as_deref(), Some("VM"));
        assert_eq!(facts.nb_domain_name.as_deref(), Some("VM"));
        assert_eq!(facts.dns_computer_name.as_deref(), Some("vm"));
        assert_eq!(facts.dns_domain_name.as_deref(), Some("vm"));
        assert_eq!(facts.dns_tree_name, None);
        assert_eq!(facts.version.map(|v| v.to_string()).as_deref(), Some("6.1 build 7601"));
        assert_eq!(facts.names().len(), 5);
    }

    #[test]
    fn malformed_challenges_are_errors_not_panics() {
        let good = challenge(captured::SHADOW_TS_REQUEST);
        for cut in 0..good.len() {
            let _ = parse_challenge(&good[..cut]);
        }
        assert_eq!(parse_challenge(b"NTLMSSP\0\x01\0\0\0"), Err(NtlmError::NotChallenge(1)));
        assert_eq!(parse_challenge(b"HTTP/1.1"), Err(NtlmError::NoSignature));
        // Target info pointing past the end.
        let mut bad = good.clone();
        bad[44] = 0xff;
        assert_eq!(parse_challenge(&bad), Err(NtlmError::Truncated("field payload")));
        // An AV pair longer than the target info.
        let mut bad = good.clone();
        let info_at = usize::from(u16::from_le_bytes([good[44], good[45]]));
        bad[info_at + 2] = 0xff;
        assert_eq!(parse_challenge(&bad), Err(NtlmError::Truncated("av pair value")));
    }

    #[test]
    fn negotiate_message_asks_for_the_version() {
        let msg = negotiate_message();
        assert_eq!(msg.len(), 40);
        assert_eq!(&msg[..8], SIGNATURE);
        let flags = u32::from_le_bytes(msg[12..16].try_into().unwrap());
        assert_ne!(flags & NEGOTIATE_VERSION, 0);
        assert_ne!(flags & NEGOTIATE_UNICODE, 0);
    }
}
