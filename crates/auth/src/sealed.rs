//! Secrets at rest: the host key and the AEAD that seals stored credential material.
//!
//! The store keeps NT hashes and TOTP secrets only sealed with XChaCha20-Poly1305
//! (RustCrypto `chacha20poly1305`) under a key derived from the [`HostKey`], which lives in
//! its own 0600 file, not in the database. Every sealed value is bound to what it is and
//! whose it is through the associated data ([`Purpose`] and the user name), so a value
//! copied into another row or column does not open.
//!
//! Sealed format, version 1: `0x01 || nonce (24 bytes) || ciphertext || tag (16 bytes)`.
//! Nonces are random (XChaCha's 192-bit nonce makes collisions negligible).
//!
//! Recovery codes are not sealed but hashed: HMAC-SHA-256 under a second key derived from
//! the host key, so the database alone does not allow an offline search of the codes.

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit as _, Mac};
use rand::RngCore;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Bytes in a host key.
pub const HOST_KEY_LEN: usize = 32;
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// The host key: 256 random bits, the root of every at-rest key. Debug redacts it; the
/// memory is zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct HostKey([u8; HOST_KEY_LEN]);

impl fmt::Debug for HostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HostKey(<redacted>)")
    }
}

impl HostKey {
    pub fn generate() -> Self {
        let mut bytes = [0u8; HOST_KEY_LEN];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    pub fn from_bytes(bytes: [u8; HOST_KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// The raw key, for writing its file.
    pub fn expose(&self) -> &[u8; HOST_KEY_LEN] {
        &self.0
    }

    /// A subkey for one use, by HKDF-SHA-256 with a fixed label.
    fn derive(&self, label: &[u8]) -> Zeroizing<[u8; 32]> {
        let hk = Hkdf::<Sha256>::new(Some(b"rampart host key v1"), &self.0);
        let mut out = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA-256's 8160-byte limit: this cannot fail.
        if hk.expand(label, out.as_mut_slice()).is_err() {
            out.zeroize();
        }
        out
    }

    /// The sealing cipher.
    pub fn sealer(&self) -> Sealer {
        let key = self.derive(b"seal");
        Sealer {
            cipher: XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(key.as_slice())),
        }
    }

    /// The key of the audit trail's hash chain (HMAC-SHA-256 links): the database alone
    /// cannot be rewritten into a chain that verifies.
    pub fn audit_chain_key(&self) -> Zeroizing<[u8; 32]> {
        self.derive(b"audit chain")
    }

    /// The keyed hash for recovery codes.
    pub fn code_hasher(&self) -> CodeHasher {
        CodeHasher {
            key: self.derive(b"recovery codes"),
        }
    }
}

/// What a sealed value is; part of the associated data, so values cannot trade places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A user's NT hash.
    NtHash,
    /// A user's TOTP secret.
    TotpSecret,
    /// The store's check value: proves the host key is the one the store was sealed with.
    KeyCheck,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Self::NtHash => b"nt-hash",
            Self::TotpSecret => b"totp-secret",
            Self::KeyCheck => b"key-check",
        }
    }
}

/// Why a sealed value did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("sealed value is malformed or of an unknown version")]
    Malformed,
    /// Wrong key, or the value was altered or moved to another row.
    #[error("sealed value does not open with this host key (wrong key, or the value was altered)")]
    Unauthentic,
}

/// Seals and opens values with the host key's sealing subkey.
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer(<redacted>)")
    }
}

fn aad(purpose: Purpose, owner: &str) -> Vec<u8> {
    // Owner names are case-insensitive in the store: bind the canonical lowercase form.
    let owner = owner.to_lowercase();
    let mut out = Vec::with_capacity(16 + owner.len());
    out.extend_from_slice(b"rampart/v1/");
    out.extend_from_slice(purpose.label());
    out.push(0);
    out.extend_from_slice(owner.as_bytes());
    out
}

impl Sealer {
    pub fn seal(&self, purpose: Purpose, owner: &str, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = aad(purpose, owner);
        let payload = Payload { msg: plaintext, aad: &aad };
        // Encryption fails only for messages over 256 GiB; credential material is tiny.
        let ciphertext = self.cipher.encrypt(XNonce::from_slice(&nonce), payload).unwrap_or_default();
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    pub fn open(&self, purpose: Purpose, owner: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let (&version, rest) = sealed.split_first().ok_or(SealError::Malformed)?;
        if version != VERSION || rest.len() < NONCE_LEN + TAG_LEN {
            return Err(SealError::Malformed);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let aad = aad(purpose, owner);
        self.cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
            .map(Zeroizing::new)
            .map_err(|_| SealError::Unauthentic)
    }
}

/// HMAC-SHA-256 of recovery codes, keyed from the host key.
pub struct CodeHasher {
    key: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for CodeHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeHasher(<redacted>)")
    }
}

impl CodeHasher {
    /// The digest stored for `code` (already normalised) of `user`.
    pub fn digest(&self, user: &str, code: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        // HMAC takes keys of any length: `new_from_slice` cannot fail here.
        if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(self.key.as_slice()) {
            mac.update(user.to_lowercase().as_bytes());
            mac.update(&[0]);
            mac.update(code.as_bytes());
            out.copy_from_slice(&mac.finalize().into_bytes());
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let key = HostKey::generate();
        let sealer = key.sealer();
        let sealed = sealer.seal(Purpose::NtHash, "alice", b"0123456789abcdef");
        assert_eq!(sealed.len(), 1 + NONCE_LEN + 16 + TAG_LEN);
        assert!(!sealed.windows(16).any(|w| w == b"0123456789abcdef"));
        let opened = sealer.open(Purpose::NtHash, "alice", &sealed).unwrap();
        assert_eq!(opened.as_slice(), b"0123456789abcdef");
        // The owner binds case-insensitively, like the store's names.
        assert!(sealer.open(Purpose::NtHash, "ALICE", &sealed).is_ok());
    }

    #[test]
    fn same_plaintext_seals_differently() {
        let sealer = HostKey::generate().sealer();
        let a = sealer.seal(Purpose::NtHash, "alice", b"x");
        let b = sealer.seal(Purpose::NtHash, "alice", b"x");
        assert_ne!(a, b);
    }

    #[test]
    fn wrong_host_key_is_refused() {
        let sealed = HostKey::generate().sealer().seal(Purpose::TotpSecret, "alice", b"secret");
        let other = HostKey::generate().sealer();
        assert_eq!(other.open(Purpose::TotpSecret, "alice", &sealed), Err(SealError::Unauthentic));
    }

    #[test]
    fn values_cannot_change_row_or_column() {
        let sealer = HostKey::generate().sealer();
        let sealed = sealer.seal(Purpose::NtHash, "alice", b"hash");
        assert_eq!(sealer.open(Purpose::NtHash, "bob", &sealed), Err(SealError::Unauthentic));
        assert_eq!(sealer.open(Purpose::TotpSecret, "alice", &sealed), Err(SealError::Unauthentic));
    }

    #[test]
    fn tampering_is_detected() {
        let sealer = HostKey::generate().sealer();
        let sealed = sealer.seal(Purpose::NtHash, "alice", b"hash");
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(sealer.open(Purpose::NtHash, "alice", &bad).is_err(), "flip at byte {i} went unnoticed");
        }
        assert_eq!(sealer.open(Purpose::NtHash, "alice", &sealed[..20]), Err(SealError::Malformed));
        assert_eq!(sealer.open(Purpose::NtHash, "alice", &[]), Err(SealError::Malformed));
    }

    #[test]
    fn code_digests_depend_on_key_user_and_code() {
        let key = HostKey::from_bytes([7; 32]);
        let h = key.code_hasher();
        let d = h.digest("alice", "abcde23456");
        assert_eq!(d, key.code_hasher().digest("Alice", "abcde23456"));
        assert_ne!(d, h.digest("bob", "abcde23456"));
        assert_ne!(d, h.digest("alice", "abcde23457"));
        assert_ne!(d, HostKey::from_bytes([8; 32]).code_hasher().digest("alice", "abcde23456"));
    }

    #[test]
    fn debug_redacts() {
        let key = HostKey::from_bytes([0xAB; 32]);
        let text = format!("{key:?} {:?} {:?}", key.sealer(), key.code_hasher());
        assert!(!text.to_lowercase().contains("ab, ab") && !text.contains("171"));
        assert!(text.contains("redacted"));
    }
}
