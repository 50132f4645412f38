//! A hand-made TLS ClientHello and a parser for the first record the server answers with
//! (ServerHello or alert). rustls rightly cannot speak TLS 1.0/1.1 or offer weak cipher
//! suites, so this is how the scan asks whether a server still accepts them: it only
//! reads which version and suite the server picks and never completes the handshake.

use serde::Serialize;
use thiserror::Error;

pub const TLS1_0: u16 = 0x0301;
pub const TLS1_1: u16 = 0x0302;
pub const TLS1_2: u16 = 0x0303;

const RECORD_HANDSHAKE: u8 = 22;
const RECORD_ALERT: u8 = 21;
const HANDSHAKE_CLIENT_HELLO: u8 = 1;
const HANDSHAKE_SERVER_HELLO: u8 = 2;
/// A record may hold at most 2^14 bytes of plaintext (RFC 5246 6.2.1), plus slack for
/// servers that pad; anything larger is not a TLS server.
pub const MAX_RECORD: usize = 16384 + 2048;
pub const RECORD_HEADER: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HelloError {
    #[error("not a TLS record (type {0})")]
    NotTls(u8),
    #[error("TLS record length {0} out of range")]
    BadLength(usize),
    #[error("truncated {0}")]
    Truncated(&'static str),
    #[error("first handshake message is type {0}, not ServerHello")]
    NotServerHello(u8),
}

/// Why a suite is weak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Weakness {
    /// No encryption at all.
    Null,
    /// 40/56-bit export-grade keys.
    Export,
    /// Anonymous key exchange: no server authentication.
    Anonymous,
    /// RC4 (RFC 7465 forbids it).
    Rc4,
    /// Single DES.
    Des,
    /// 3DES: 64-bit blocks (Sweet32).
    TripleDes,
    /// RSA key exchange: recorded traffic can be decrypted later with the server's key.
    NoForwardSecrecy,
}

impl Weakness {
    /// Broken outright (not merely dated).
    pub fn is_broken(self) -> bool {
        !matches!(self, Weakness::TripleDes | Weakness::NoForwardSecrecy)
    }
}

/// The weak TLS 1.2-and-older suites the scan offers, with their IANA names.
pub const WEAK_SUITES: [(u16, &str, Weakness); 27] = [
    (0x0001, "TLS_RSA_WITH_NULL_MD5", Weakness::Null),
    (0x0002, "TLS_RSA_WITH_NULL_SHA", Weakness::Null),
    (0x003B, "TLS_RSA_WITH_NULL_SHA256", Weakness::Null),
    (0xC010, "TLS_ECDHE_RSA_WITH_NULL_SHA", Weakness::Null),
    (0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5", Weakness::Export),
    (0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", Weakness::Export),
    (0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA", Weakness::Export),
    (0x0018, "TLS_DH_anon_WITH_RC4_128_MD5", Weakness::Anonymous),
    (0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA", Weakness::Anonymous),
    (0xC018, "TLS_ECDH_anon_WITH_AES_128_CBC_SHA", Weakness::Anonymous),
    (0x0004, "TLS_RSA_WITH_RC4_128_MD5", Weakness::Rc4),
    (0x0005, "TLS_RSA_WITH_RC4_128_SHA", Weakness::Rc4),
    (0xC011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA", Weakness::Rc4),
    (0xC007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", Weakness::Rc4),
    (0x0009, "TLS_RSA_WITH_DES_CBC_SHA", Weakness::Des),
    (0x0015, "TLS_DHE_RSA_WITH_DES_CBC_SHA", Weakness::Des),
    (0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", Weakness::TripleDes),
    (0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", Weakness::TripleDes),
    (0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", Weakness::TripleDes),
    (0xC008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA", Weakness::TripleDes),
    (0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", Weakness::NoForwardSecrecy),
    (0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", Weakness::NoForwardSecrecy),
    (0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", Weakness::NoForwardSecrecy),
    (0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256", Weakness::NoForwardSecrecy),
    (0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", Weakness::NoForwardSecrecy),
    (0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", Weakness::NoForwardSecrecy),
    (0x0041, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA", Weakness::NoForwardSecrecy),
];

/// Suites a TLS 1.0/1.1 server of the last decade will pick one of (forward-secret first),
/// for the version probes: the question there is the version, not the suite.
pub const LEGACY_VERSION_SUITES: [u16; 10] =
    [0xC014, 0xC013, 0xC00A, 0xC009, 0x0039, 0x0033, 0x0035, 0x002F, 0x000A, 0x0005];

/// The name and weakness of a suite from [`WEAK_SUITES`].
pub fn weak_suite(code: u16) -> Option<(&'static str, Weakness)> {
    WEAK_SUITES.iter().find(|(c, _, _)| *c == code).map(|&(_, name, weakness)| (name, weakness))
}

/// The server's answer to a ClientHello.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "answer")]
pub enum HelloAnswer {
    ServerHello { version: u16, cipher_suite: u16 },
    Alert { level: u8, description: u8 },
}

/// A ClientHello record offering `version` (record and client_version) and `suites`.
/// No supported_versions extension, so a TLS 1.3 server negotiates at most `version`.
/// `random` is the 32-byte client random (the caller's entropy, so this stays pure).
pub fn client_hello(version: u16, suites: &[u16], random: [u8; 32]) -> Vec<u8> {
    let mut body = Vec::with_capacity(256);
    body.extend_from_slice(&version.to_be_bytes());
    body.extend_from_slice(&random);
    body.push(0); // empty session id
    let suite_bytes: Vec<u8> = suites
        .iter()
        .chain(std::iter::once(&0x00FF)) // TLS_EMPTY_RENEGOTIATION_INFO_SCSV
        .flat_map(|s| s.to_be_bytes())
        .collect();
    push_u16_prefixed(&mut body, &suite_bytes);
    body.extend_from_slice(&[1, 0]); // compression: null only

    let mut extensions = Vec::new();
    // supported_groups: x25519, secp256r1, secp384r1, secp521r1, ffdhe2048.
    extension(&mut extensions, 0x000a, &u16_list(&[0x001d, 0x0017, 0x0018, 0x0019, 0x0100]));
    // ec_point_formats: uncompressed.
    extension(&mut extensions, 0x000b, &[1, 0]);
    // signature_algorithms (TLS 1.2 only reads it): RSA-PSS, PKCS#1, ECDSA, then SHA-1 ones.
    extension(
        &mut extensions,
        0x000d,
        &u16_list(&[0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0403, 0x0503, 0x0603, 0x0201, 0x0203]),
    );
    // extended_master_secret.
    extension(&mut extensions, 0x0017, &[]);
    push_u16_prefixed(&mut body, &extensions);

    let mut handshake = vec![HANDSHAKE_CLIENT_HELLO];
    handshake.extend_from_slice(&u24(body.len()));
    handshake.extend_from_slice(&body);

    // The record layer says TLS 1.0 for any hello, as browsers do, so that old servers
    // that check the record version do not drop it before reading client_version.
    let mut record = vec![RECORD_HANDSHAKE];
    record.extend_from_slice(&TLS1_0.to_be_bytes());
    push_u16_prefixed(&mut record, &handshake);
    record
}

fn u16_list(values: &[u16]) -> Vec<u8> {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_be_bytes()).collect();
    let mut out = Vec::with_capacity(bytes.len() + 2);
    push_u16_prefixed(&mut out, &bytes);
    out
}

fn extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    push_u16_prefixed(out, data);
}

fn push_u16_prefixed(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

fn u24(len: usize) -> [u8; 3] {
    let [_, a, b, c] = (len as u32).to_be_bytes();
    [a, b, c]
}

/// The content type and body length a record header announces.
pub fn record_header(header: [u8; RECORD_HEADER]) -> Result<(u8, usize), HelloError> {
    let [kind, major, _minor, hi, lo] = header;
    if !(20..=23).contains(&kind) || major != 3 {
        return Err(HelloError::NotTls(kind));
    }
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    if len == 0 || len > MAX_RECORD {
        return Err(HelloError::BadLength(len));
    }
    Ok((kind, len))
}

/// Parses the first record of the server's answer: its content type and body.
pub fn parse_answer(kind: u8, body: &[u8]) -> Result<HelloAnswer, HelloError> {
    match kind {
        RECORD_ALERT => match body {
            [level, description, ..] => Ok(HelloAnswer::Alert { level: *level, description: *description }),
            _ => Err(HelloError::Truncated("alert")),
        },
        RECORD_HANDSHAKE => {
            let (&msg_type, rest) = body.split_first().ok_or(HelloError::Truncated("handshake header"))?;
            if msg_type != HANDSHAKE_SERVER_HELLO {
                return Err(HelloError::NotServerHello(msg_type));
            }
            // length (3), server_version (2), random (32), session_id (1 + n), suite (2).
            let hello = rest.get(3..).ok_or(HelloError::Truncated("handshake length"))?;
            let version = be16(hello, 0).ok_or(HelloError::Truncated("server version"))?;
            let sid_len = usize::from(*hello.get(34).ok_or(HelloError::Truncated("session id"))?);
            let cipher_suite = be16(hello, 35 + sid_len).ok_or(HelloError::Truncated("cipher suite"))?;
            Ok(HelloAnswer::ServerHello { version, cipher_suite })
        }
        other => Err(HelloError::NotTls(other)),
    }
}

fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]))
}

/// A TLS version number in words.
pub fn version_name(version: u16) -> String {
    match version {
        0x0300 => "SSL 3.0".to_owned(),
        TLS1_0 => "TLS 1.0".to_owned(),
        TLS1_1 => "TLS 1.1".to_owned(),
        TLS1_2 => "TLS 1.2".to_owned(),
        0x0304 => "TLS 1.3".to_owned(),
        other => format!("{other:#06x}"),
    }
}

/// An alert description in words (RFC 8446 6.2, the ones servers send to a hello).
pub fn alert_name(description: u8) -> String {
    match description {
        10 => "unexpected_message".to_owned(),
        40 => "handshake_failure".to_owned(),
        47 => "illegal_parameter".to_owned(),
        50 => "decode_error".to_owned(),
        70 => "protocol_version".to_owned(),
        71 => "insufficient_security".to_owned(),
        80 => "internal_error".to_owned(),
        86 => "inappropriate_fallback".to_owned(),
        other => format!("alert {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::captured;

    #[test]
    fn client_hello_is_well_formed() {
        let hello = client_hello(TLS1_1, &[0xC013, 0x002F], [7; 32]);
        let (kind, len) = record_header(hello[..5].try_into().unwrap()).unwrap();
        assert_eq!(kind, RECORD_HANDSHAKE);
        assert_eq!(len, hello.len() - 5);
        let hs = &hello[5..];
        assert_eq!(hs[0], HANDSHAKE_CLIENT_HELLO);
        assert_eq!(usize::from(hs[1]) << 16 | usize::from(hs[2]) << 8 | usize::from(hs[3]), hs.len() - 4);
        assert_eq!(&hs[4..6], &[3, 2], "client_version");
        assert_eq!(&hs[6..38], &[7; 32]);
        assert_eq!(hs[38], 0, "empty session id");
        assert_eq!(&hs[39..41], &[0, 6], "three suites with the SCSV");
        assert_eq!(&hs[41..47], &[0xC0, 0x13, 0x00, 0x2F, 0x00, 0xFF]);
        assert_eq!(&hs[47..49], &[1, 0], "null compression");
        let ext_len = usize::from(u16::from_be_bytes([hs[49], hs[50]]));
        assert_eq!(ext_len, hs.len() - 51, "extensions fill the rest");
    }

    #[test]
    fn parses_alert_and_server_hello() {
        let (kind, len) = record_header(captured::OPENSSL_REFUSES_TLS10[..5].try_into().unwrap()).unwrap();
        assert_eq!(
            parse_answer(kind, &captured::OPENSSL_REFUSES_TLS10[5..5 + len]),
            Ok(HelloAnswer::Alert { level: 2, description: 70 })
        );
        assert_eq!(alert_name(70), "protocol_version");
        // A ServerHello picking TLS 1.2 and TLS_RSA_WITH_AES_128_CBC_SHA, session id of 32.
        let mut hello = vec![2, 0, 0, 70, 3, 3];
        hello.extend_from_slice(&[0x11; 32]);
        hello.push(32);
        hello.extend_from_slice(&[0x22; 32]);
        hello.extend_from_slice(&[0x00, 0x2F, 0x00]);
        assert_eq!(
            parse_answer(RECORD_HANDSHAKE, &hello),
            Ok(HelloAnswer::ServerHello { version: TLS1_2, cipher_suite: 0x002F })
        );
        for cut in 0..hello.len() - 1 {
            assert!(parse_answer(RECORD_HANDSHAKE, &hello[..cut]).is_err(), "cut {cut}");
        }
    }

    #[test]
    fn non_tls_answers_are_errors() {
        assert_eq!(record_header([3, 0, 0, 19, 0]), Err(HelloError::NotTls(3)));
        assert_eq!(record_header([22, 3, 3, 0xff, 0xff]), Err(HelloError::BadLength(0xffff)));
        assert_eq!(parse_answer(RECORD_HANDSHAKE, &[11, 0, 0, 0]), Err(HelloError::NotServerHello(11)));
        assert_eq!(parse_answer(RECORD_ALERT, &[2]), Err(HelloError::Truncated("alert")));
    }

    #[test]
    fn weak_suite_table_is_consistent() {
        let mut codes: Vec<u16> = WEAK_SUITES.iter().map(|s| s.0).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), WEAK_SUITES.len(), "duplicate suite codes");
        assert_eq!(weak_suite(0x0005), Some(("TLS_RSA_WITH_RC4_128_SHA", Weakness::Rc4)));
        assert!(Weakness::Rc4.is_broken() && !Weakness::NoForwardSecrecy.is_broken());
        assert_eq!(weak_suite(0x1301), None);
    }
}
