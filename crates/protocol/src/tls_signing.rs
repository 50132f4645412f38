//! The TLS handshake signature across the process boundary: the worker runs TLS with a
//! signing key that holds no key and asks the supervisor for the one signature a handshake
//! needs; the supervisor signs only what is shaped like that signature's input.
//!
//! What a TLS server signs (and so what the supervisor accepts):
//! - TLS 1.3 CertificateVerify (RFC 8446 4.4.3): 64 spaces, "TLS 1.3, server
//!   CertificateVerify", a zero byte and the transcript hash (32 or 48 bytes).
//! - TLS 1.2 ServerKeyExchange (RFC 8422 5.4): client random (32), server random (32) and
//!   the ECDHE parameters: named curve (x25519, P-256, P-384, P-521) and a point of that
//!   curve's length.
//!
//! Anything else is refused, so a worker cannot use the server's key as a general-purpose
//! signing oracle; how often it may ask (once, before authentication) is the supervisor's
//! rule. The check is pure; tests feed it the inputs real rustls handshakes produce.

use std::fmt;
use std::sync::Arc;

use rustls::pki_types::PrivateKeyDer;
use rustls::sign::{Signer, SigningKey};
use rustls::{SignatureAlgorithm, SignatureScheme};

const TLS13_SERVER_CONTEXT: &[u8] = b"TLS 1.3, server CertificateVerify\x00";
const TLS13_PADDING: usize = 64;
const RANDOMS_LEN: usize = 64;
/// ECCurveType named_curve (RFC 8422 5.4).
const NAMED_CURVE: u8 = 3;

/// Every scheme the supervisor may sign with, in its order of preference (what rustls's own
/// keys prefer). A key supports the subset its type allows.
const CANDIDATE_SCHEMES: &[SignatureScheme] = &[
    SignatureScheme::RSA_PSS_SHA512,
    SignatureScheme::RSA_PSS_SHA384,
    SignatureScheme::RSA_PSS_SHA256,
    SignatureScheme::RSA_PKCS1_SHA512,
    SignatureScheme::RSA_PKCS1_SHA384,
    SignatureScheme::RSA_PKCS1_SHA256,
    SignatureScheme::ECDSA_NISTP256_SHA256,
    SignatureScheme::ECDSA_NISTP384_SHA384,
    SignatureScheme::ECDSA_NISTP521_SHA512,
    SignatureScheme::ED25519,
];

/// What a message to be signed was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureInput {
    /// TLS 1.3 server CertificateVerify over a transcript hash of this many bytes.
    Tls13CertificateVerify { hash_len: usize },
    /// TLS 1.2 ServerKeyExchange with ECDHE on this named group.
    Tls12ServerKeyExchange { group: u16 },
}

/// Why the supervisor will not sign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignRefusal {
    #[error("not a tls handshake signature input: {0}")]
    NotHandshakeInput(&'static str),
    #[error("signature scheme {0:?} not offered by the server key")]
    UnsupportedScheme(SignatureScheme),
    #[error("signature scheme {0:?} is not allowed in tls 1.3")]
    NotInTls13(SignatureScheme),
    #[error("signing failed: {0}")]
    Failed(String),
}

/// Recognises a TLS handshake signature input, or says why `message` is not one.
pub fn classify(message: &[u8]) -> Result<SignatureInput, SignRefusal> {
    if let Some(hash) = message
        .strip_prefix(&[b' '; TLS13_PADDING][..])
        .and_then(|rest| rest.strip_prefix(TLS13_SERVER_CONTEXT))
    {
        return match hash.len() {
            32 | 48 => Ok(SignatureInput::Tls13CertificateVerify { hash_len: hash.len() }),
            _ => Err(SignRefusal::NotHandshakeInput("tls 1.3 transcript hash of an odd length")),
        };
    }
    let params = message
        .get(RANDOMS_LEN..)
        .ok_or(SignRefusal::NotHandshakeInput("too short"))?;
    let (header, point) = params
        .split_first_chunk::<4>()
        .ok_or(SignRefusal::NotHandshakeInput("too short"))?;
    let [curve_type, group_hi, group_lo, point_len] = *header;
    if curve_type != NAMED_CURVE {
        return Err(SignRefusal::NotHandshakeInput("not ecdhe on a named curve"));
    }
    let group = u16::from_be_bytes([group_hi, group_lo]);
    let (expected_len, uncompressed) = match group {
        0x001d => (32, false), // x25519
        0x0017 => (65, true),  // secp256r1
        0x0018 => (97, true),  // secp384r1
        0x0019 => (133, true), // secp521r1
        _ => return Err(SignRefusal::NotHandshakeInput("unknown key exchange group")),
    };
    if usize::from(point_len) != expected_len || point.len() != expected_len {
        return Err(SignRefusal::NotHandshakeInput("key share of the wrong length"));
    }
    if uncompressed && point.first() != Some(&0x04) {
        return Err(SignRefusal::NotHandshakeInput("not an uncompressed point"));
    }
    Ok(SignatureInput::Tls12ServerKeyExchange { group })
}

/// The server's private key, in the supervisor only.
pub struct HandshakeKey {
    key: Arc<dyn SigningKey>,
    schemes: Vec<SignatureScheme>,
}

impl fmt::Debug for HandshakeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandshakeKey")
            .field("algorithm", &self.key.algorithm())
            .field("schemes", &self.schemes)
            .finish_non_exhaustive()
    }
}

impl HandshakeKey {
    pub fn new(der: &PrivateKeyDer<'_>) -> Result<Self, rustls::Error> {
        let key = rustls::crypto::aws_lc_rs::sign::any_supported_type(der)?;
        let schemes = CANDIDATE_SCHEMES
            .iter()
            .copied()
            .filter(|s| key.choose_scheme(&[*s]).is_some())
            .collect();
        Ok(Self { key, schemes })
    }

    /// The schemes this key signs with, in order of preference: what the worker offers TLS.
    pub fn schemes(&self) -> &[SignatureScheme] {
        &self.schemes
    }

    /// Signs `message` with `scheme` if it is a handshake signature input and the scheme
    /// fits both the key and the TLS version the input belongs to.
    pub fn sign(&self, scheme: SignatureScheme, message: &[u8]) -> Result<(SignatureInput, Vec<u8>), SignRefusal> {
        let input = classify(message)?;
        if !self.schemes.contains(&scheme) {
            return Err(SignRefusal::UnsupportedScheme(scheme));
        }
        if matches!(input, SignatureInput::Tls13CertificateVerify { .. }) && is_pkcs1(scheme) {
            return Err(SignRefusal::NotInTls13(scheme));
        }
        let signer = self
            .key
            .choose_scheme(&[scheme])
            .ok_or(SignRefusal::UnsupportedScheme(scheme))?;
        let signature = signer.sign(message).map_err(|e| SignRefusal::Failed(e.to_string()))?;
        Ok((input, signature))
    }
}

fn is_pkcs1(scheme: SignatureScheme) -> bool {
    matches!(
        scheme,
        SignatureScheme::RSA_PKCS1_SHA256 | SignatureScheme::RSA_PKCS1_SHA384 | SignatureScheme::RSA_PKCS1_SHA512
    )
}

/// The kind of key behind `schemes` (what rustls needs to pick TLS 1.2 cipher suites).
pub fn algorithm_of(schemes: &[SignatureScheme]) -> Option<SignatureAlgorithm> {
    let first = schemes.first()?;
    let of = |s: &SignatureScheme| match s {
        SignatureScheme::RSA_PSS_SHA512
        | SignatureScheme::RSA_PSS_SHA384
        | SignatureScheme::RSA_PSS_SHA256
        | SignatureScheme::RSA_PKCS1_SHA512
        | SignatureScheme::RSA_PKCS1_SHA384
        | SignatureScheme::RSA_PKCS1_SHA256 => Some(SignatureAlgorithm::RSA),
        SignatureScheme::ECDSA_NISTP256_SHA256
        | SignatureScheme::ECDSA_NISTP384_SHA384
        | SignatureScheme::ECDSA_NISTP521_SHA512 => Some(SignatureAlgorithm::ECDSA),
        SignatureScheme::ED25519 => Some(SignatureAlgorithm::ED25519),
        _ => None,
    };
    let algorithm = of(first)?;
    schemes.iter().all(|s| of(s) == Some(algorithm)).then_some(algorithm)
}

/// The worker's way to the supervisor's key: one blocking request per signature.
pub trait RemoteSigner: Send + Sync + fmt::Debug {
    fn sign(&self, scheme: SignatureScheme, message: &[u8]) -> Result<Vec<u8>, String>;
}

/// A rustls signing key with no key in it: it offers the supervisor key's schemes and has
/// each signature made there.
#[derive(Debug)]
pub struct KeylessKey {
    schemes: Vec<SignatureScheme>,
    algorithm: SignatureAlgorithm,
    remote: Arc<dyn RemoteSigner>,
}

impl KeylessKey {
    /// `None` if `schemes` is empty or mixes key types.
    pub fn new(schemes: Vec<SignatureScheme>, remote: Arc<dyn RemoteSigner>) -> Option<Self> {
        let algorithm = algorithm_of(&schemes)?;
        Some(Self {
            schemes,
            algorithm,
            remote,
        })
    }
}

impl SigningKey for KeylessKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        let scheme = self.schemes.iter().copied().find(|s| offered.contains(s))?;
        Some(Box::new(KeylessSigner {
            scheme,
            remote: Arc::clone(&self.remote),
        }))
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }
}

#[derive(Debug)]
struct KeylessSigner {
    scheme: SignatureScheme,
    remote: Arc<dyn RemoteSigner>,
}

impl Signer for KeylessSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        self.remote
            .sign(self.scheme, message)
            .map_err(|e| rustls::Error::General(format!("handshake signature: {e}")))
    }

    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, ServerConnection};

    use super::*;
    use crate::tls::{self, TlsIdentity};

    /// Stands in for the IPC round trip: the supervisor's key behind the supervisor's check,
    /// recording what it was asked to sign.
    #[derive(Debug)]
    struct Supervisor {
        key: HandshakeKey,
        seen: Mutex<Vec<(SignatureScheme, SignatureInput)>>,
    }

    impl RemoteSigner for Supervisor {
        fn sign(&self, scheme: SignatureScheme, message: &[u8]) -> Result<Vec<u8>, String> {
            let (input, signature) = self.key.sign(scheme, message).map_err(|e| e.to_string())?;
            self.seen.lock().unwrap().push((scheme, input));
            Ok(signature)
        }
    }

    /// Accepts the test certificate but checks every handshake signature for real.
    #[derive(Debug)]
    struct CheckSignatures(rustls::crypto::WebPkiSupportedAlgorithms);

    impl ServerCertVerifier for CheckSignatures {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.supported_schemes()
        }
    }

    fn identity(alg: &'static rcgen::SignatureAlgorithm) -> TlsIdentity {
        let key = rcgen::KeyPair::generate_for(alg).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["rampart".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        TlsIdentity {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// A full in-memory handshake between a real rustls client (`versions`, `groups`) and
    /// the keyless server; returns what the supervisor signed.
    fn handshake(
        identity: &TlsIdentity,
        versions: &[&'static rustls::SupportedProtocolVersion],
        groups: &[&'static dyn rustls::crypto::SupportedKxGroup],
    ) -> Vec<(SignatureScheme, SignatureInput)> {
        let key = HandshakeKey::new(&identity.private_key().unwrap()).unwrap();
        let schemes = key.schemes().to_vec();
        let supervisor = Arc::new(Supervisor {
            key,
            seen: Mutex::new(Vec::new()),
        });
        let server_config =
            tls::keyless_server_config(&identity.cert_pem, schemes, Arc::clone(&supervisor) as Arc<dyn RemoteSigner>)
                .unwrap();
        let mut provider = rustls::crypto::aws_lc_rs::default_provider();
        provider.kx_groups = groups.to_vec();
        let algorithms = provider.signature_verification_algorithms;
        let client_config = ClientConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(versions)
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(CheckSignatures(algorithms)))
            .with_no_client_auth();
        let mut client = ClientConnection::new(Arc::new(client_config), "rampart".try_into().unwrap()).unwrap();
        let mut server = ServerConnection::new(server_config).unwrap();
        for _ in 0..20 {
            if !client.is_handshaking() && !server.is_handshaking() {
                break;
            }
            let mut buf = Vec::new();
            client.write_tls(&mut buf).unwrap();
            server.read_tls(&mut &buf[..]).unwrap();
            server.process_new_packets().unwrap();
            buf.clear();
            server.write_tls(&mut buf).unwrap();
            client.read_tls(&mut &buf[..]).unwrap();
            client.process_new_packets().unwrap();
        }
        assert!(!client.is_handshaking() && !server.is_handshaking(), "handshake did not finish");
        let seen = supervisor.seen.lock().unwrap().clone();
        seen
    }

    use rustls::crypto::aws_lc_rs::kx_group::{SECP256R1, SECP384R1, X25519, X25519MLKEM768};

    #[test]
    fn real_rsa_handshakes_are_signed_remotely() {
        let id = identity(&rcgen::PKCS_RSA_SHA256);
        let tls13 = handshake(&id, &[&rustls::version::TLS13], &[X25519MLKEM768, X25519]);
        assert_eq!(tls13.len(), 1, "one signature per handshake: {tls13:?}");
        assert!(matches!(tls13[0], (SignatureScheme::RSA_PSS_SHA512, SignatureInput::Tls13CertificateVerify { hash_len: 32 | 48 })), "{tls13:?}");
        for group in [X25519, SECP256R1, SECP384R1] {
            let tls12 = handshake(&id, &[&rustls::version::TLS12], &[group]);
            assert_eq!(
                tls12,
                vec![(
                    SignatureScheme::RSA_PSS_SHA512,
                    SignatureInput::Tls12ServerKeyExchange {
                        group: u16::from(group.name())
                    }
                )]
            );
        }
    }

    #[test]
    fn real_ecdsa_handshakes_are_signed_remotely() {
        let id = identity(&rcgen::PKCS_ECDSA_P256_SHA256);
        let tls13 = handshake(&id, &[&rustls::version::TLS13], &[X25519]);
        assert!(matches!(tls13[..], [(SignatureScheme::ECDSA_NISTP256_SHA256, SignatureInput::Tls13CertificateVerify { .. })]), "{tls13:?}");
        let tls12 = handshake(&id, &[&rustls::version::TLS12], &[SECP384R1]);
        assert!(matches!(tls12[..], [(SignatureScheme::ECDSA_NISTP256_SHA256, SignatureInput::Tls12ServerKeyExchange { group: 0x0018 })]), "{tls12:?}");
    }

    fn tls13_input(hash_len: usize) -> Vec<u8> {
        let mut m = vec![b' '; 64];
        m.extend_from_slice(TLS13_SERVER_CONTEXT);
        m.extend(std::iter::repeat_n(0x5a, hash_len));
        m
    }

    fn tls12_input(group: u16, point: &[u8]) -> Vec<u8> {
        let mut m = vec![0x11; 64];
        m.push(NAMED_CURVE);
        m.extend(group.to_be_bytes());
        m.push(point.len() as u8);
        m.extend_from_slice(point);
        m
    }

    #[test]
    fn only_handshake_inputs_are_signed() {
        let id = identity(&rcgen::PKCS_RSA_SHA256);
        let key = HandshakeKey::new(&id.private_key().unwrap()).unwrap();
        let pss = SignatureScheme::RSA_PSS_SHA256;
        assert!(key.sign(pss, &tls13_input(32)).is_ok());
        assert!(key.sign(pss, &tls13_input(48)).is_ok());
        let mut p256 = vec![0x04];
        p256.extend([7; 64]);
        assert!(key.sign(SignatureScheme::RSA_PKCS1_SHA256, &tls12_input(0x0017, &p256)).is_ok());

        let refused = |scheme, message: &[u8]| key.sign(scheme, message).unwrap_err();
        // Arbitrary data, a certificate request, a JWT-ish blob: no.
        assert!(matches!(refused(pss, b"please sign this"), SignRefusal::NotHandshakeInput(_)));
        assert!(matches!(refused(pss, &[0u8; 300]), SignRefusal::NotHandshakeInput(_)));
        // TLS 1.3 shapes: the client's context string, an odd hash length, trailing bytes.
        let mut client = vec![b' '; 64];
        client.extend_from_slice(b"TLS 1.3, client CertificateVerify\x00");
        client.extend([0; 32]);
        assert!(matches!(refused(pss, &client), SignRefusal::NotHandshakeInput(_)));
        assert!(matches!(refused(pss, &tls13_input(20)), SignRefusal::NotHandshakeInput(_)));
        assert!(matches!(refused(pss, &tls13_input(64)), SignRefusal::NotHandshakeInput(_)));
        // TLS 1.2 shapes: unknown group, wrong point length, compressed point, explicit curve.
        assert!(matches!(refused(pss, &tls12_input(0x0100, &[1; 32])), SignRefusal::NotHandshakeInput(_)));
        assert!(matches!(refused(pss, &tls12_input(0x001d, &[1; 33])), SignRefusal::NotHandshakeInput(_)));
        let mut long = tls12_input(0x001d, &[1; 32]);
        long.push(0);
        assert!(matches!(refused(pss, &long), SignRefusal::NotHandshakeInput(_)));
        let mut compressed = vec![0x02];
        compressed.extend([7; 64]);
        assert!(matches!(refused(pss, &tls12_input(0x0017, &compressed)), SignRefusal::NotHandshakeInput(_)));
        let mut explicit = tls12_input(0x001d, &[1; 32]);
        explicit[64] = 1;
        assert!(matches!(refused(pss, &explicit), SignRefusal::NotHandshakeInput(_)));
        // Schemes: PKCS#1 is not for TLS 1.3; ECDSA is not this key's.
        assert_eq!(
            refused(SignatureScheme::RSA_PKCS1_SHA256, &tls13_input(32)),
            SignRefusal::NotInTls13(SignatureScheme::RSA_PKCS1_SHA256)
        );
        assert_eq!(
            refused(SignatureScheme::ECDSA_NISTP256_SHA256, &tls13_input(32)),
            SignRefusal::UnsupportedScheme(SignatureScheme::ECDSA_NISTP256_SHA256)
        );
    }

    #[test]
    fn key_kinds() {
        let rsa = HandshakeKey::new(&identity(&rcgen::PKCS_RSA_SHA256).private_key().unwrap()).unwrap();
        assert_eq!(rsa.schemes().len(), 6);
        assert_eq!(algorithm_of(rsa.schemes()), Some(SignatureAlgorithm::RSA));
        let ec = HandshakeKey::new(&identity(&rcgen::PKCS_ECDSA_P384_SHA384).private_key().unwrap()).unwrap();
        assert_eq!(ec.schemes(), &[SignatureScheme::ECDSA_NISTP384_SHA384]);
        assert_eq!(algorithm_of(ec.schemes()), Some(SignatureAlgorithm::ECDSA));
        assert_eq!(algorithm_of(&[]), None);
        assert_eq!(
            algorithm_of(&[SignatureScheme::RSA_PSS_SHA256, SignatureScheme::ED25519]),
            None
        );
        assert!(!format!("{rsa:?}").contains("PRIVATE"));
    }
}
