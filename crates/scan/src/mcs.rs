//! The Standard RDP Security probe's PDUs (MS-RDPBCGR 2.2.1.3 and 2.2.1.4): the client's
//! MCS Connect-Initial offering some encryption methods (encoded with ironrdp-pdu), and the
//! server's MCS Connect-Response read just far enough to find the Server Security Data
//! (encryptionMethod, encryptionLevel) and the Server Core Data's RDP version.
//!
//! The response is walked by hand, not decoded whole: a server's certificate blob may be
//! larger than a full decoder accepts, and only eight bytes of it matter here.

use serde::Serialize;
use thiserror::Error;

use ironrdp_pdu::gcc::{
    ClientCoreData, ClientCoreOptionalData, ClientEarlyCapabilityFlags, ClientGccBlocks, ClientNetworkData,
    ClientSecurityData, ColorDepth, ConnectionType, EncryptionMethod, HighColorDepth, KeyboardType, RdpVersion,
    SecureAccessSequence, SupportedColorDepths,
};
use ironrdp_pdu::mcs::ConnectInitial;
use ironrdp_pdu::nego::SecurityProtocol;
use ironrdp_pdu::x224::{X224Data, X224};

use crate::tlv::{Reader, TlvError};

/// encryptionMethod flags (TS_UD_CS_SEC / TS_UD_SC_SEC1).
pub const ENCRYPTION_40BIT: u32 = 0x01;
pub const ENCRYPTION_128BIT: u32 = 0x02;
pub const ENCRYPTION_56BIT: u32 = 0x08;
pub const ENCRYPTION_FIPS: u32 = 0x10;

/// Each method on its own, in the order the probes offer them.
pub const METHODS: [u32; 4] = [ENCRYPTION_40BIT, ENCRYPTION_56BIT, ENCRYPTION_128BIT, ENCRYPTION_FIPS];

const SC_CORE: u16 = 0x0C01;
const SC_SECURITY: u16 = 0x0C02;
/// Bounds on a server's answer: blocks walked, bytes searched for the GCC key.
const MAX_BLOCKS: usize = 16;

#[derive(Debug, Error)]
pub enum McsError {
    #[error("cannot encode the connect-initial: {0}")]
    Encode(String),
    #[error("not an MCS Connect-Response (starts {0:02x?})")]
    NotConnectResponse(Vec<u8>),
    #[error("malformed MCS Connect-Response: {0}")]
    Der(#[from] TlvError),
    #[error("malformed GCC user data: {0}")]
    Gcc(&'static str),
}

/// What the server answered to a Connect-Initial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerSecurity {
    /// The MCS result (0 is rt-successful).
    pub result: u32,
    /// The encryptionMethod the server chose (0: none).
    pub encryption_method: u32,
    /// The encryptionLevel: 0 none, 1 low, 2 client compatible, 3 high, 4 FIPS.
    pub encryption_level: u32,
    /// The Server Core Data's version field, if the block was there.
    pub rdp_version: Option<u32>,
}

/// X.224 Data carrying an MCS Connect-Initial whose Client Security Data offers `methods`,
/// for a connection on which the server selected Standard RDP Security.
pub fn connect_initial(methods: u32) -> Result<Vec<u8>, McsError> {
    let blocks = ClientGccBlocks {
        core: ClientCoreData {
            version: RdpVersion::V5_PLUS,
            desktop_width: 1024,
            desktop_height: 768,
            color_depth: ColorDepth::Bpp8,
            sec_access_sequence: SecureAccessSequence::Del,
            keyboard_layout: 0x409,
            client_build: 2600,
            client_name: "rampart-scan".to_owned(),
            keyboard_type: KeyboardType::IbmEnhanced,
            keyboard_subtype: 0,
            keyboard_functional_keys_count: 12,
            ime_file_name: String::new(),
            optional_data: ClientCoreOptionalData {
                post_beta2_color_depth: Some(ColorDepth::Bpp8),
                client_product_id: Some(1),
                serial_number: Some(0),
                high_color_depth: Some(HighColorDepth::Bpp24),
                supported_color_depths: Some(SupportedColorDepths::BPP24 | SupportedColorDepths::BPP16),
                early_capability_flags: Some(ClientEarlyCapabilityFlags::SUPPORT_ERR_INFO_PDU),
                dig_product_id: Some(String::new()),
                connection_type: Some(ConnectionType::Lan),
                server_selected_protocol: Some(SecurityProtocol::empty()),
                ..ClientCoreOptionalData::default()
            },
        },
        security: ClientSecurityData {
            encryption_methods: EncryptionMethod::from_bits_truncate(methods),
            ext_encryption_methods: 0,
        },
        network: Some(ClientNetworkData { channels: Vec::new() }),
        cluster: None,
        monitor: None,
        message_channel: None,
        multi_transport_channel: None,
        monitor_extended: None,
    };
    let initial = ConnectInitial::with_gcc_blocks(blocks).map_err(|e| McsError::Encode(e.to_string()))?;
    let mcs = ironrdp_pdu::encode_vec(&initial).map_err(|e| McsError::Encode(e.to_string()))?;
    ironrdp_pdu::encode_vec(&X224(X224Data { data: mcs.into() })).map_err(|e| McsError::Encode(e.to_string()))
}

/// Reads a Connect-Response (the X.224 Data user data) down to the server's security data.
pub fn parse_connect_response(bytes: &[u8]) -> Result<ServerSecurity, McsError> {
    // [APPLICATION 102] is a two-byte BER tag (7F 66); the rest is ordinary TLVs.
    let body = match bytes {
        [0x7f, 0x66, rest @ ..] => {
            let (len, header) = crate::tlv::length(rest)?;
            rest.get(header..header + len).ok_or(TlvError::Truncated("connect-response"))?
        }
        _ => return Err(McsError::NotConnectResponse(bytes.iter().take(4).copied().collect())),
    };
    let mut fields = Reader::new(body);
    let result = crate::tlv::integer_u32(fields.expect(0x0a)?)?;
    let _called_connect_id = fields.expect(0x02)?;
    let _domain_parameters = fields.expect(0x30)?;
    if result != 0 {
        return Ok(ServerSecurity { result, encryption_method: 0, encryption_level: 0, rdp_version: None });
    }
    let user_data = fields.expect(0x04)?;
    let mut answer = ServerSecurity { result, encryption_method: 0, encryption_level: 0, rdp_version: None };
    let mut found_security = false;
    for (kind, data) in gcc_blocks(user_data)? {
        match kind {
            SC_CORE => answer.rdp_version = read_u32(data, 0),
            SC_SECURITY => {
                answer.encryption_method = read_u32(data, 0).ok_or(McsError::Gcc("short security data"))?;
                answer.encryption_level = read_u32(data, 4).ok_or(McsError::Gcc("short security data"))?;
                found_security = true;
            }
            _ => {}
        }
    }
    if found_security {
        Ok(answer)
    } else {
        Err(McsError::Gcc("no server security data"))
    }
}

/// The (type, data) of each server data block in GCC Conference Create Response user data.
fn gcc_blocks(user_data: &[u8]) -> Result<Vec<(u16, &[u8])>, McsError> {
    // The blocks follow the H.221 key "McDn" and a PER length.
    let key = user_data.windows(4).position(|w| w == b"McDn").ok_or(McsError::Gcc("no McDn key"))?;
    let after_key = user_data.get(key + 4..).ok_or(McsError::Gcc("truncated after key"))?;
    let (len, per) = match after_key {
        [b, rest @ ..] if b & 0x80 == 0 => (usize::from(*b), rest),
        [hi, lo, rest @ ..] => ((usize::from(hi & 0x7f) << 8) | usize::from(*lo), rest),
        _ => return Err(McsError::Gcc("truncated length")),
    };
    let mut rest = per.get(..len).ok_or(McsError::Gcc("blocks shorter than their length"))?;
    let mut blocks = Vec::new();
    while !rest.is_empty() && blocks.len() < MAX_BLOCKS {
        let kind = read_u16(rest, 0).ok_or(McsError::Gcc("truncated block header"))?;
        let block_len = usize::from(read_u16(rest, 2).ok_or(McsError::Gcc("truncated block header"))?);
        if block_len < 4 {
            return Err(McsError::Gcc("block shorter than its header"));
        }
        let data = rest.get(4..block_len).ok_or(McsError::Gcc("truncated block"))?;
        blocks.push((kind, data));
        rest = rest.get(block_len..).ok_or(McsError::Gcc("truncated block"))?;
    }
    Ok(blocks)
}

fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at + 2)?;
    Some(u16::from_le_bytes([*b.first()?, *b.get(1)?]))
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_le_bytes([*b.first()?, *b.get(1)?, *b.get(2)?, *b.get(3)?]))
}

/// An encryptionMethod value in words.
pub fn method_name(method: u32) -> String {
    let names: Vec<&str> = [
        (ENCRYPTION_40BIT, "40-bit RC4"),
        (ENCRYPTION_56BIT, "56-bit RC4"),
        (ENCRYPTION_128BIT, "128-bit RC4"),
        (ENCRYPTION_FIPS, "FIPS 3DES"),
    ]
    .iter()
    .filter(|(flag, _)| method & flag != 0)
    .map(|&(_, name)| name)
    .collect();
    if method == 0 {
        "none".to_owned()
    } else if names.is_empty() {
        format!("{method:#x}")
    } else {
        names.join(", ")
    }
}

/// An encryptionLevel value in words.
pub fn level_name(level: u32) -> &'static str {
    match level {
        0 => "none",
        1 => "low",
        2 => "client compatible",
        3 => "high",
        4 => "FIPS",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::captured;

    #[test]
    fn reads_xrdp_security_data() {
        let tpdu = hex::decode(captured::XRDP_CONNECT_RESPONSE).unwrap();
        let data = crate::x224::data_payload(&tpdu).unwrap();
        let security = parse_connect_response(data).unwrap();
        assert_eq!(
            security,
            ServerSecurity {
                result: 0,
                encryption_method: ENCRYPTION_128BIT,
                encryption_level: 3,
                rdp_version: Some(0x0008_0004)
            }
        );
        assert_eq!(method_name(security.encryption_method), "128-bit RC4");
        assert_eq!(level_name(security.encryption_level), "high");
    }

    #[test]
    fn malformed_responses_are_errors_not_panics() {
        let tpdu = hex::decode(captured::XRDP_CONNECT_RESPONSE).unwrap();
        let data = crate::x224::data_payload(&tpdu).unwrap();
        for cut in 0..data.len() {
            assert!(parse_connect_response(&data[..cut]).is_err(), "cut {cut}");
        }
        assert!(matches!(parse_connect_response(&[0x30, 0x00]), Err(McsError::NotConnectResponse(_))));
        // A block claiming to be longer than the user data.
        let mut bad = data.to_vec();
        let key = bad.windows(4).position(|w| w == b"McDn").unwrap();
        bad[key + 2 + 4 + 2] = 0xff;
        assert!(parse_connect_response(&bad).is_err());
    }

    #[test]
    fn connect_initial_offers_the_methods() {
        let pdu = connect_initial(ENCRYPTION_40BIT | ENCRYPTION_FIPS).unwrap();
        assert_eq!(&pdu[..2], &[3, 0], "tpkt");
        assert_eq!(usize::from(u16::from_be_bytes([pdu[2], pdu[3]])), pdu.len());
        assert_eq!(&pdu[4..7], &[2, 0xf0, 0x80], "x.224 data");
        assert_eq!(&pdu[7..9], &[0x7f, 0x65], "mcs connect-initial");
        // Client Security Data: type 0xC002, length 12, methods 0x11.
        let at = pdu.windows(4).position(|w| w == [0x02, 0xc0, 0x0c, 0x00]).unwrap();
        assert_eq!(&pdu[at + 4..at + 8], &0x11u32.to_le_bytes());
    }

    #[test]
    fn names() {
        assert_eq!(method_name(0), "none");
        assert_eq!(method_name(ENCRYPTION_40BIT | ENCRYPTION_56BIT), "40-bit RC4, 56-bit RC4");
        assert_eq!(level_name(9), "unknown");
    }
}
