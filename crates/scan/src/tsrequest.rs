//! The CredSSP TSRequest (MS-CSSP 2.2.1), the DER envelope NTLM travels in:
//!
//! ```text
//! TSRequest ::= SEQUENCE {
//!     version    [0] INTEGER,
//!     negoTokens [1] SEQUENCE OF SEQUENCE { negoToken [0] OCTET STRING } OPTIONAL,
//!     authInfo   [2] OCTET STRING OPTIONAL,
//!     pubKeyAuth [3] OCTET STRING OPTIONAL,
//!     errorCode  [4] INTEGER OPTIONAL,
//!     clientNonce [5] OCTET STRING OPTIONAL }
//! ```
//!
//! Only what the scan needs: build one with a single token, and read a server's.

use serde::Serialize;

use crate::tlv::{self, Reader, TlvError};

/// The largest TSRequest the scan reads from a server; a CHALLENGE answer is a few hundred
/// bytes, an error a few dozen.
pub const MAX_TS_REQUEST: usize = 16 * 1024;

/// The TSRequest version the scan speaks (6: with the client nonce, as FreeRDP 2.11).
pub const VERSION: u8 = 6;

/// A TSRequest carrying one NTLM (or SPNEGO) token.
pub fn with_token(token: &[u8]) -> Vec<u8> {
    let version = tlv::wrap(0xA0, &tlv::wrap(0x02, &[VERSION]));
    let token = tlv::wrap(0xA0, &tlv::wrap(0x04, token));
    let nego_data = tlv::wrap(0x30, &tlv::wrap(0x30, &token));
    let mut fields = version;
    fields.extend_from_slice(&tlv::wrap(0xA1, &nego_data));
    tlv::wrap(0x30, &fields)
}

/// What a server's TSRequest holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServerTsRequest {
    pub version: u32,
    /// The first negoToken, if any.
    #[serde(skip)]
    pub token: Option<Vec<u8>>,
    /// Whether pubKeyAuth was sent (the server accepted the NTLM exchange).
    pub pub_key_auth: bool,
    /// The errorCode (an NTSTATUS), if any.
    pub error_code: Option<u32>,
}

/// Parses a whole TSRequest.
pub fn parse(bytes: &[u8]) -> Result<ServerTsRequest, TlvError> {
    let fields = Reader::new(bytes).expect(0x30)?;
    let mut fields = Reader::new(fields);
    let mut out = ServerTsRequest::default();
    while !fields.is_empty() {
        let field = fields.next_tlv()?;
        let inner = || Reader::new(field.value);
        match field.tag {
            0xA0 => out.version = tlv::integer_u32(inner().expect(0x02)?)?,
            0xA1 => {
                let list = inner().expect(0x30)?;
                let mut list = Reader::new(list);
                if !list.is_empty() {
                    let item = list.expect(0x30)?;
                    let token = Reader::new(item).expect(0xA0)?;
                    out.token = Some(Reader::new(token).expect(0x04)?.to_vec());
                }
            }
            0xA3 => out.pub_key_auth = true,
            0xA4 => out.error_code = Some(tlv::integer_u32(inner().expect(0x02)?)?),
            // authInfo, clientNonce and anything newer: not needed.
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trip() {
        let token = crate::ntlm::negotiate_message();
        let bytes = with_token(&token);
        assert_eq!(tlv::element_size(&bytes).unwrap(), Some(bytes.len()));
        let parsed = parse(&bytes).unwrap();
        assert_eq!(parsed.version, u32::from(VERSION));
        assert_eq!(parsed.token.as_deref(), Some(token.as_slice()));
        assert!(!parsed.pub_key_auth);
        assert_eq!(parsed.error_code, None);
    }

    #[test]
    fn error_code_and_pub_key_auth() {
        // version 6, errorCode 0xC000006D (STATUS_LOGON_FAILURE) as a positive integer.
        let mut fields = tlv::wrap(0xA0, &tlv::wrap(0x02, &[6]));
        fields.extend(tlv::wrap(0xA4, &tlv::wrap(0x02, &[0x00, 0xC0, 0x00, 0x00, 0x6D])));
        let parsed = parse(&tlv::wrap(0x30, &fields)).unwrap();
        assert_eq!(parsed.error_code, Some(0xC000_006D));
        let mut fields = tlv::wrap(0xA0, &tlv::wrap(0x02, &[6]));
        fields.extend(tlv::wrap(0xA3, &tlv::wrap(0x04, &[1, 2, 3])));
        assert!(parse(&tlv::wrap(0x30, &fields)).unwrap().pub_key_auth);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse(&[]).is_err());
        assert!(parse(&[0x04, 0x01, 0x00]).is_err());
        let bytes = with_token(b"NTLMSSP\0");
        for cut in 0..bytes.len() {
            assert!(parse(&bytes[..cut]).is_err(), "cut {cut}");
        }
        // negoTokens holding something other than a SEQUENCE.
        let mut fields = tlv::wrap(0xA0, &tlv::wrap(0x02, &[6]));
        fields.extend(tlv::wrap(0xA1, &tlv::wrap(0x04, &[0])));
        assert!(parse(&tlv::wrap(0x30, &fields)).is_err());
    }
}
