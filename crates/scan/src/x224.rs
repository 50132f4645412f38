//! TPKT and X.224 negotiation (MS-RDPBCGR 2.2.1.1 and 2.2.1.2): the Connection Request
//! with an RDP_NEG_REQ, and the server's Connection Confirm (RDP_NEG_RSP or
//! RDP_NEG_FAILURE, or none at all from a server that only speaks Standard RDP Security).

use serde::Serialize;
use thiserror::Error;

/// A TPKT's own header: version 3, reserved, big-endian length including the header.
pub const TPKT_HEADER: usize = 4;

/// requestedProtocols / selectedProtocol flags.
pub const PROTOCOL_RDP: u32 = 0;
pub const PROTOCOL_SSL: u32 = 0x1;
pub const PROTOCOL_HYBRID: u32 = 0x2;
pub const PROTOCOL_RDSTLS: u32 = 0x4;
pub const PROTOCOL_HYBRID_EX: u32 = 0x8;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum X224Error {
    #[error("not a TPKT (version byte {0:#04x})")]
    NotTpkt(u8),
    #[error("TPKT length {0} is out of range")]
    BadTpktLength(usize),
    #[error("truncated X.224 {0}")]
    Truncated(&'static str),
    #[error("not an X.224 Connection Confirm (code {0:#04x})")]
    NotConfirm(u8),
    #[error("not an X.224 Data TPDU (code {0:#04x})")]
    NotData(u8),
    #[error("unknown negotiation answer type {0}")]
    UnknownNegotiationType(u8),
}

/// What a client asks for, as the probes ask it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    /// Standard RDP Security only (RC4, no TLS).
    Rdp,
    /// TLS without NLA.
    Ssl,
    /// CredSSP (NLA), with TLS allowed, as clients send it.
    Hybrid,
    /// CredSSP with the Early User Authorization Result, as mstsc sends it.
    HybridEx,
    /// RDSTLS (server redirection with a cookie).
    Rdstls,
}

impl Request {
    pub const ALL: [Request; 5] = [Request::Rdp, Request::Ssl, Request::Hybrid, Request::HybridEx, Request::Rdstls];

    /// The requestedProtocols value sent. HYBRID also sets SSL: MS-RDPBCGR says TLS is a
    /// subset of CredSSP and clients send both, so a server that picks SSL from this
    /// request downgrades a client that asked for NLA.
    pub fn flags(self) -> u32 {
        match self {
            Request::Rdp => PROTOCOL_RDP,
            Request::Ssl => PROTOCOL_SSL,
            Request::Hybrid => PROTOCOL_SSL | PROTOCOL_HYBRID,
            Request::HybridEx => PROTOCOL_SSL | PROTOCOL_HYBRID | PROTOCOL_HYBRID_EX,
            Request::Rdstls => PROTOCOL_RDSTLS,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Request::Rdp => "RDP",
            Request::Ssl => "SSL",
            Request::Hybrid => "HYBRID",
            Request::HybridEx => "HYBRID_EX",
            Request::Rdstls => "RDSTLS",
        }
    }
}

/// The server's answer to one Connection Request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "answer")]
pub enum Answer {
    /// RDP_NEG_RSP: the protocol the server selected.
    Selected { protocol: u32 },
    /// RDP_NEG_FAILURE with its code.
    Failure { code: u32 },
    /// A Connection Confirm without negotiation data: a server that only knows Standard
    /// RDP Security (pre-RDP 5.2), which is what it will run.
    NoNegotiation,
}

/// The Connection Request for `requested` (no cookie, no routing token).
pub fn connection_request(requested: u32) -> Vec<u8> {
    // X.224 CR TPDU: length indicator, CR code, dst-ref, src-ref, class 0; then RDP_NEG_REQ.
    let mut tpdu = vec![0u8, 0xE0, 0, 0, 0, 0, 0];
    tpdu.extend_from_slice(&[0x01, 0x00, 0x08, 0x00]);
    tpdu.extend_from_slice(&requested.to_le_bytes());
    let li = (tpdu.len() - 1) as u8;
    if let Some(first) = tpdu.first_mut() {
        *first = li;
    }
    tpkt(&tpdu)
}

/// Wraps `payload` in a TPKT header.
pub fn tpkt(payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() + TPKT_HEADER) as u16;
    let mut out = vec![3, 0];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// The total length a TPKT header announces, checked against `max`.
pub fn tpkt_length(header: [u8; TPKT_HEADER], max: usize) -> Result<usize, X224Error> {
    let [version, _, hi, lo] = header;
    if version != 3 {
        return Err(X224Error::NotTpkt(version));
    }
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    if len < TPKT_HEADER + 3 || len > max {
        return Err(X224Error::BadTpktLength(len));
    }
    Ok(len)
}

/// Parses the TPDU of a Connection Confirm (the TPKT payload).
pub fn parse_confirm(tpdu: &[u8]) -> Result<Answer, X224Error> {
    let (&li, rest) = tpdu.split_first().ok_or(X224Error::Truncated("length indicator"))?;
    let code = *rest.first().ok_or(X224Error::Truncated("code"))?;
    if code & 0xF0 != 0xD0 {
        return Err(X224Error::NotConfirm(code));
    }
    // The variable part (negotiation data) follows the 7-byte fixed part, within LI.
    let header = tpdu.get(..usize::from(li) + 1).ok_or(X224Error::Truncated("header"))?;
    let Some(neg) = header.get(7..).filter(|n| !n.is_empty()) else {
        return Ok(Answer::NoNegotiation);
    };
    let fields = neg.get(..8).ok_or(X224Error::Truncated("negotiation data"))?;
    let value = u32::from_le_bytes([
        *fields.get(4).ok_or(X224Error::Truncated("negotiation value"))?,
        *fields.get(5).ok_or(X224Error::Truncated("negotiation value"))?,
        *fields.get(6).ok_or(X224Error::Truncated("negotiation value"))?,
        *fields.get(7).ok_or(X224Error::Truncated("negotiation value"))?,
    ]);
    match fields.first() {
        Some(2) => Ok(Answer::Selected { protocol: value }),
        Some(3) => Ok(Answer::Failure { code: value }),
        Some(&other) => Err(X224Error::UnknownNegotiationType(other)),
        None => Err(X224Error::Truncated("negotiation type")),
    }
}

/// The user data of an X.224 Data TPDU (the TPKT payload).
pub fn data_payload(tpdu: &[u8]) -> Result<&[u8], X224Error> {
    match tpdu {
        [2, 0xF0, _eot, data @ ..] => Ok(data),
        [_, code, ..] => Err(X224Error::NotData(*code)),
        _ => Err(X224Error::Truncated("data header")),
    }
}

/// The name of an RDP_NEG_FAILURE code.
pub fn failure_name(code: u32) -> &'static str {
    match code {
        1 => "SSL_REQUIRED_BY_SERVER",
        2 => "SSL_NOT_ALLOWED_BY_SERVER",
        3 => "SSL_CERT_NOT_ON_SERVER",
        4 => "INCONSISTENT_FLAGS",
        5 => "HYBRID_REQUIRED_BY_SERVER",
        6 => "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
        _ => "unknown failure code",
    }
}

/// A selectedProtocol value in words ("RDP" for 0).
pub fn protocol_name(protocol: u32) -> String {
    if protocol == PROTOCOL_RDP {
        return "RDP".to_owned();
    }
    let names: Vec<&str> = [
        (PROTOCOL_SSL, "SSL"),
        (PROTOCOL_HYBRID, "HYBRID"),
        (PROTOCOL_RDSTLS, "RDSTLS"),
        (PROTOCOL_HYBRID_EX, "HYBRID_EX"),
    ]
    .iter()
    .filter(|(flag, _)| protocol & flag != 0)
    .map(|&(_, name)| name)
    .collect();
    if names.is_empty() {
        format!("{protocol:#x}")
    } else {
        names.join("+")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::captured;

    #[test]
    fn connection_request_bytes() {
        // What xfreerdp sends for /sec:nla without a cookie: TPKT 19 bytes, LI 14, CR.
        assert_eq!(
            connection_request(0x3),
            [0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0, 0, 0, 0, 0, 0x01, 0x00, 0x08, 0x00, 0x03, 0, 0, 0]
        );
    }

    #[test]
    fn parses_selection_failure_and_legacy() {
        assert_eq!(parse_confirm(&captured::XRDP_SELECTS_SSL), Ok(Answer::Selected { protocol: PROTOCOL_SSL }));
        assert_eq!(parse_confirm(&captured::SHADOW_REFUSES_RDP), Ok(Answer::Failure { code: 5 }));
        assert_eq!(failure_name(5), "HYBRID_REQUIRED_BY_SERVER");
        // A pre-5.2 server: the fixed part only.
        assert_eq!(parse_confirm(&[0x06, 0xd0, 0, 0, 0, 0, 0]), Ok(Answer::NoNegotiation));
    }

    #[test]
    fn malformed_confirms_are_errors_not_panics() {
        for cut in 0..captured::XRDP_SELECTS_SSL.len() {
            let _ = parse_confirm(&captured::XRDP_SELECTS_SSL[..cut]);
        }
        assert_eq!(parse_confirm(&[0x06, 0xe0, 0, 0, 0, 0, 0]), Err(X224Error::NotConfirm(0xe0)));
        // LI claims more than there is.
        assert!(parse_confirm(&[0x20, 0xd0, 0, 0, 0, 0, 0]).is_err());
        let mut odd = captured::XRDP_SELECTS_SSL;
        odd[7] = 9;
        assert_eq!(parse_confirm(&odd), Err(X224Error::UnknownNegotiationType(9)));
    }

    #[test]
    fn tpkt_header_bounds() {
        assert_eq!(tpkt_length([3, 0, 0, 19], 64), Ok(19));
        assert_eq!(tpkt_length([0x16, 3, 1, 0], 64), Err(X224Error::NotTpkt(0x16)));
        assert_eq!(tpkt_length([3, 0, 0, 2], 64), Err(X224Error::BadTpktLength(2)));
        assert_eq!(tpkt_length([3, 0, 0xff, 0xff], 64), Err(X224Error::BadTpktLength(0xffff)));
    }

    #[test]
    fn protocol_names() {
        assert_eq!(protocol_name(0), "RDP");
        assert_eq!(protocol_name(0xB), "SSL+HYBRID+HYBRID_EX");
        assert_eq!(protocol_name(0x100), "0x100");
        assert_eq!(Request::Hybrid.flags(), 3);
    }

    #[test]
    fn data_payload_strips_the_header() {
        assert_eq!(data_payload(&[2, 0xf0, 0x80, 0x7f, 0x66]), Ok(&[0x7f, 0x66][..]));
        assert_eq!(data_payload(&[2, 0xd0, 0x80]), Err(X224Error::NotData(0xd0)));
        assert_eq!(data_payload(&[2]), Err(X224Error::Truncated("data header")));
    }
}
