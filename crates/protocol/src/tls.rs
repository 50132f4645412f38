//! The server's TLS identity: load the admin's PEM files, or make (once) and reuse an RSA
//! key and self-signed certificate in the state directory. The key stays in the supervisor;
//! workers get the certificate and build a rustls config whose signing key is keyless
//! (`tls_signing`), with an explicit crypto provider and without key logging.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use x509_cert::der::Decode;

use crate::tls_signing::{KeylessKey, RemoteSigner};

/// Subdirectory of the state directory holding the generated identity.
const GENERATED_DIR: &str = "tls";

/// Where the generated certificate and key live: `state_dir/tls/{cert,key}.pem`.
pub fn generated_identity_paths(state_dir: &Path) -> (PathBuf, PathBuf) {
    let dir = state_dir.join(GENERATED_DIR);
    (dir.join("cert.pem"), dir.join("key.pem"))
}

/// Certificate chain and key in PEM, held by the supervisor (workers get the certificate).
#[derive(Clone)]
pub struct TlsIdentity {
    pub cert_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity").field("key_pem", &"<redacted>").finish_non_exhaustive()
    }
}

/// Where the identity came from, for the start-up message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentitySource {
    Generated(PathBuf),
    Existing(PathBuf),
    Admin(PathBuf),
}

impl TlsIdentity {
    /// Admin files if both are given; otherwise `state_dir/tls/{cert,key}.pem`, generated on
    /// first start.
    pub fn load_or_generate(
        state_dir: &Path,
        cert: Option<&Path>,
        key: Option<&Path>,
    ) -> anyhow::Result<(Self, IdentitySource)> {
        match (cert, key) {
            (Some(cert), Some(key)) => {
                let identity = Self {
                    cert_pem: fs::read_to_string(cert)
                        .with_context(|| format!("cannot read certificate {}", cert.display()))?,
                    key_pem: fs::read_to_string(key)
                        .with_context(|| format!("cannot read private key {}", key.display()))?,
                };
                identity.validate()?;
                Ok((identity, IdentitySource::Admin(cert.to_path_buf())))
            }
            (Some(_), None) | (None, Some(_)) => {
                bail!("tls.certificate and tls.private_key must be set together")
            }
            (None, None) => {
                let (cert_path, key_path) = generated_identity_paths(state_dir);
                let dir = state_dir.join(GENERATED_DIR);
                if cert_path.exists() && key_path.exists() {
                    let identity = Self {
                        cert_pem: fs::read_to_string(&cert_path)
                            .with_context(|| format!("cannot read {}", cert_path.display()))?,
                        key_pem: fs::read_to_string(&key_path)
                            .with_context(|| format!("cannot read {}", key_path.display()))?,
                    };
                    identity.validate()?;
                    return Ok((identity, IdentitySource::Existing(cert_path)));
                }
                let identity = Self::generate()?;
                fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
                write_private(&key_path, identity.key_pem.as_bytes(), 0o600)?;
                write_private(&cert_path, identity.cert_pem.as_bytes(), 0o644)?;
                Ok((identity, IdentitySource::Generated(cert_path)))
            }
        }
    }

    /// A new RSA-2048 key and a self-signed certificate (RSA: Windows clients and rdesktop
    /// refuse ECDSA server certificates).
    pub fn generate() -> anyhow::Result<Self> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).context("cannot generate rsa key")?;
        let mut params = rcgen::CertificateParams::new(vec!["rampart".to_owned()]).context("certificate params")?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, rcgen::DnValue::Utf8String("rampart".to_owned()));
        let now = std::time::SystemTime::now();
        params.not_before = now.into();
        params.not_after = (now + std::time::Duration::from_secs(10 * 365 * 24 * 3600)).into();
        let cert = params.self_signed(&key).context("cannot self-sign certificate")?;
        Ok(Self {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// Both files parse, and the key is the certificate's.
    fn validate(&self) -> anyhow::Result<()> {
        self.certificates()?;
        self.private_key()?;
        self.server_config()?;
        Ok(())
    }

    pub fn certificates(&self) -> anyhow::Result<Vec<CertificateDer<'static>>> {
        certificates_from_pem(&self.cert_pem)
    }

    /// The private key, for the supervisor's [`crate::tls_signing::HandshakeKey`].
    pub fn private_key(&self) -> anyhow::Result<PrivateKeyDer<'static>> {
        rustls_pemfile::private_key(&mut self.key_pem.as_bytes())
            .context("private key file is not valid pem")?
            .context("private key file holds no private key")
    }

    /// SHA-256 of the leaf certificate, as `AB:CD:...` (what clients show).
    pub fn fingerprint(&self) -> anyhow::Result<String> {
        let certs = self.certificates()?;
        let leaf = certs.first().context("no certificate")?;
        let digest = Sha256::digest(leaf.as_ref());
        Ok(digest.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":"))
    }

    /// See [`public_key_from_pem`].
    pub fn public_key(&self) -> anyhow::Result<Vec<u8>> {
        public_key_from_pem(&self.cert_pem)
    }

    /// rustls server config with the key in this process: only to check at start-up that
    /// key and certificate belong together (workers use [`keyless_server_config`]).
    pub fn server_config(&self) -> anyhow::Result<Arc<rustls::ServerConfig>> {
        let config = server_config_builder()?
            .with_single_cert(self.certificates()?, self.private_key()?)
            .context("certificate and private key do not match")?;
        Ok(Arc::new(config))
    }
}

/// The certificates of a PEM chain, leaf first.
pub fn certificates_from_pem(cert_pem: &str) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = rustls_pemfile::certs(&mut cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .context("certificate file is not valid pem")?;
    if certs.is_empty() {
        bail!("certificate file holds no certificate");
    }
    Ok(certs)
}

/// The leaf certificate's SubjectPublicKey bit-string contents: what CredSSP binds the
/// NLA exchange to (MS-CSSP pubKeyAuth).
pub fn public_key_from_pem(cert_pem: &str) -> anyhow::Result<Vec<u8>> {
    let certs = certificates_from_pem(cert_pem)?;
    let leaf = certs.first().context("no certificate")?;
    let cert = x509_cert::Certificate::from_der(leaf.as_ref()).context("certificate is not valid der")?;
    Ok(cert
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes()
        .to_vec())
}

/// The worker's rustls server config: the certificate, and a signing key without a key that
/// has `remote` (the supervisor) make the handshake signature with one of `schemes`.
/// aws-lc-rs provider, TLS 1.2 and 1.3 only, no client certificates, no key log.
pub fn keyless_server_config(
    cert_pem: &str,
    schemes: Vec<rustls::SignatureScheme>,
    remote: Arc<dyn RemoteSigner>,
) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let key = KeylessKey::new(schemes, remote).context("the server key offers no usable signature scheme")?;
    let certified = rustls::sign::CertifiedKey::new(certificates_from_pem(cert_pem)?, Arc::new(key));
    let config = server_config_builder()?.with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
    Ok(Arc::new(config))
}

fn server_config_builder(
) -> anyhow::Result<rustls::ConfigBuilder<rustls::ServerConfig, rustls::server::WantsServerCert>> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    // `key_log` stays the default no-op: SSLKEYLOGFILE is never honoured.
    Ok(rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .context("tls protocol versions")?
        .with_no_client_auth())
}

fn write_private(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes).with_context(|| format!("cannot write {}", path.display()))?;
    file.sync_all().with_context(|| format!("cannot sync {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_identity_is_rsa_reused_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let (first, src) = TlsIdentity::load_or_generate(dir.path(), None, None).unwrap();
        assert!(matches!(src, IdentitySource::Generated(_)));
        assert!(first.key_pem.contains("PRIVATE KEY"));
        let (second, src) = TlsIdentity::load_or_generate(dir.path(), None, None).unwrap();
        assert!(matches!(src, IdentitySource::Existing(_)));
        assert_eq!(first.fingerprint().unwrap(), second.fingerprint().unwrap());
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dir.path().join("tls/key.pem")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // RSA SubjectPublicKey is a DER SEQUENCE of modulus and exponent.
        let pk = first.public_key().unwrap();
        assert_eq!(pk.first(), Some(&0x30));
        assert!(pk.len() > 256, "2048-bit modulus expected, got {} bytes", pk.len());
        first.server_config().unwrap();
        assert_eq!(first.fingerprint().unwrap().len(), 32 * 3 - 1);
    }

    #[test]
    fn mismatched_admin_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = TlsIdentity::generate().unwrap();
        let cert = dir.path().join("c.pem");
        fs::write(&cert, &a.cert_pem).unwrap();
        let err = TlsIdentity::load_or_generate(dir.path(), Some(&cert), None).unwrap_err();
        assert!(err.to_string().contains("together"));
        let key = dir.path().join("k.pem");
        fs::write(&key, "not a key").unwrap();
        let err = TlsIdentity::load_or_generate(dir.path(), Some(&cert), Some(&key)).unwrap_err();
        assert!(format!("{err:#}").contains("private key"), "{err:#}");
    }
}
