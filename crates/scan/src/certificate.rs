//! Facts about the server's TLS certificate (subject, issuer, validity, key, signature
//! algorithm, SHA-256 fingerprint, names), read from its DER with x509-cert. Judging
//! them (expired? weak key?) is `judge`'s job, with the time passed in.

use serde::Serialize;
use sha2::{Digest, Sha256};
use thiserror::Error;
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::Certificate;

use crate::tlv::Reader;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("the server's certificate is not valid der: {0}")]
pub struct CertificateError(String);

/// What the certificate says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateFacts {
    pub subject: String,
    pub issuer: String,
    /// Subject and issuer are the same name.
    pub self_signed: bool,
    /// Validity, Unix seconds and RFC 3339.
    pub not_before: u64,
    pub not_after: u64,
    pub not_before_text: String,
    pub not_after_text: String,
    pub key: PublicKey,
    pub signature_algorithm: String,
    /// SHA-256 of the DER, `AB:CD:...` (what clients show for pinning).
    pub sha256: String,
    /// Common names and DNS subject alternative names.
    pub names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum PublicKey {
    Rsa { bits: u32 },
    Ec { curve: String },
    Ed25519,
    Other { oid: String },
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PublicKey::Rsa { bits } => write!(f, "RSA {bits} bits"),
            PublicKey::Ec { curve } => write!(f, "EC {curve}"),
            PublicKey::Ed25519 => write!(f, "Ed25519"),
            PublicKey::Other { oid } => write!(f, "key algorithm {oid}"),
        }
    }
}

const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const ED25519: &str = "1.3.101.112";
const COMMON_NAME: &str = "2.5.4.3";

/// Reads the facts from a DER certificate.
pub fn facts(der: &[u8]) -> Result<CertificateFacts, CertificateError> {
    let cert = Certificate::from_der(der).map_err(|e| CertificateError(e.to_string()))?;
    let tbs = &cert.tbs_certificate;
    let self_signed = tbs.subject.to_der().ok() == tbs.issuer.to_der().ok();
    let validity = &tbs.validity;
    let spki = &tbs.subject_public_key_info;
    let key = match spki.algorithm.oid.to_string().as_str() {
        RSA_ENCRYPTION => PublicKey::Rsa { bits: rsa_bits(spki.subject_public_key.raw_bytes()).unwrap_or(0) },
        EC_PUBLIC_KEY => PublicKey::Ec {
            curve: spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                .map(|oid| curve_name(&oid.to_string()))
                .unwrap_or_else(|| "unknown curve".to_owned()),
        },
        ED25519 => PublicKey::Ed25519,
        other => PublicKey::Other { oid: other.to_owned() },
    };
    let mut names: Vec<String> = tbs
        .subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|atv| atv.oid.to_string() == COMMON_NAME)
        .filter_map(|atv| directory_string(atv.value.value()))
        .collect();
    if let Ok(Some((_, san))) = tbs.get::<SubjectAltName>() {
        names.extend(san.0.iter().filter_map(|name| match name {
            GeneralName::DnsName(dns) => Some(dns.to_string()),
            _ => None,
        }));
    }
    names.dedup();
    Ok(CertificateFacts {
        subject: tbs.subject.to_string(),
        issuer: tbs.issuer.to_string(),
        self_signed,
        not_before: validity.not_before.to_unix_duration().as_secs(),
        not_after: validity.not_after.to_unix_duration().as_secs(),
        not_before_text: validity.not_before.to_string(),
        not_after_text: validity.not_after.to_string(),
        key,
        signature_algorithm: signature_name(&cert.signature_algorithm.oid.to_string()),
        sha256: fingerprint(der),
        names,
    })
}

/// SHA-256 of `der` as colon-separated upper-case hex.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der).iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// The modulus size of a PKCS#1 RSAPublicKey (SEQUENCE { INTEGER n, INTEGER e }).
fn rsa_bits(key: &[u8]) -> Option<u32> {
    let seq = Reader::new(key).expect(0x30).ok()?;
    let modulus = Reader::new(seq).expect(0x02).ok()?;
    let significant: Vec<u8> = modulus.iter().copied().skip_while(|&b| b == 0).collect();
    let first = significant.first()?;
    let bytes = u32::try_from(significant.len()).ok()?;
    Some((bytes - 1) * 8 + (8 - first.leading_zeros()))
}

/// A directory string's text (UTF8String, PrintableString, IA5String, T61 as Latin-1-ish).
fn directory_string(bytes: &[u8]) -> Option<String> {
    std::str::from_utf8(bytes).ok().map(str::to_owned)
}

fn curve_name(oid: &str) -> String {
    match oid {
        "1.2.840.10045.3.1.7" => "P-256".to_owned(),
        "1.3.132.0.34" => "P-384".to_owned(),
        "1.3.132.0.35" => "P-521".to_owned(),
        other => other.to_owned(),
    }
}

fn signature_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        ED25519 => "Ed25519",
        other => return other.to_owned(),
    }
    .to_owned()
}

/// Whether a signature algorithm name uses a broken hash (MD5, SHA-1).
pub fn weak_signature(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.contains("md5") || lower.contains("sha1")
}

/// The SubjectPublicKey bit-string contents: what CredSSP binds the NTLM exchange to
/// (MS-CSSP pubKeyAuth).
pub fn subject_public_key(der: &[u8]) -> Result<Vec<u8>, CertificateError> {
    let cert = Certificate::from_der(der).map_err(|e| CertificateError(e.to_string()))?;
    Ok(cert.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use super::*;

    const DAY: u64 = 24 * 3600;

    fn make(alg: &'static rcgen::SignatureAlgorithm, cn: &str, sans: &[&str], issued: u64, days: u64) -> Vec<u8> {
        let key = rcgen::KeyPair::generate_for(alg).unwrap();
        let mut params = rcgen::CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, cn);
        params.not_before = (UNIX_EPOCH + Duration::from_secs(issued)).into();
        params.not_after = (UNIX_EPOCH + Duration::from_secs(issued + days * DAY)).into();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn rsa_certificate_facts() {
        let issued = 1_800_000_000;
        let der = make(&rcgen::PKCS_RSA_SHA256, "rampart", &["rampart"], issued, 3650);
        let facts = facts(&der).unwrap();
        assert_eq!(facts.subject, "CN=rampart");
        assert_eq!(facts.issuer, "CN=rampart");
        assert!(facts.self_signed);
        assert_eq!(facts.key, PublicKey::Rsa { bits: 2048 });
        assert_eq!(facts.signature_algorithm, "sha256WithRSAEncryption");
        assert_eq!(facts.not_before, issued);
        assert_eq!(facts.not_after, issued + 3650 * DAY);
        assert!(facts.not_before_text.starts_with("2027-01-15T"), "{}", facts.not_before_text);
        assert_eq!(facts.names, vec!["rampart".to_owned()]);
        assert_eq!(facts.sha256.len(), 32 * 3 - 1);
        assert_eq!(facts.sha256, fingerprint(&der));
        // The CredSSP public key is the RSAPublicKey SEQUENCE.
        let spk = subject_public_key(&der).unwrap();
        assert_eq!(spk.first(), Some(&0x30));
        assert_eq!(rsa_bits(&spk), Some(2048));
    }

    #[test]
    fn ecdsa_certificate_facts() {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let der = make(&rcgen::PKCS_ECDSA_P256_SHA256, "host.example", &["host.example", "alt.example"], now, 30);
        let facts = facts(&der).unwrap();
        assert_eq!(facts.key, PublicKey::Ec { curve: "P-256".to_owned() });
        assert_eq!(facts.key.to_string(), "EC P-256");
        assert_eq!(facts.signature_algorithm, "ecdsa-with-SHA256");
        assert_eq!(facts.names, vec!["host.example".to_owned(), "alt.example".to_owned()]);
    }

    #[test]
    fn key_sizes_and_weak_signatures() {
        // 1024-bit modulus with a leading zero byte, exponent 65537.
        let mut modulus = vec![0x00, 0xC1];
        modulus.extend(vec![0x55; 127]);
        let mut seq = crate::tlv::wrap(0x02, &modulus);
        seq.extend(crate::tlv::wrap(0x02, &[1, 0, 1]));
        assert_eq!(rsa_bits(&crate::tlv::wrap(0x30, &seq)), Some(1024));
        assert_eq!(rsa_bits(&[0x30, 0x00]), None);
        assert!(weak_signature("sha1WithRSAEncryption"));
        assert!(weak_signature("md5WithRSAEncryption"));
        assert!(weak_signature("ecdsa-with-SHA1"));
        assert!(!weak_signature("sha256WithRSAEncryption"));
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(facts(&[0x30, 0x03, 0x02, 0x01, 0x00]).is_err());
        assert!(facts(&[]).is_err());
        assert!(subject_public_key(b"not a certificate").is_err());
    }
}
