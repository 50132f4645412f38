//! RFC 6238 time-based one-time passwords (HMAC-SHA1, 6 digits, 30 s: what authenticator
//! apps expect), with a drift window and replay refusal. Pure: the caller passes the time
//! and the last step it accepted, and stores the step this returns.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Seconds per TOTP step.
pub const STEP_SECS: u64 = 30;
/// Digits in a code.
pub const DIGITS: u32 = 6;
/// Steps of clock drift accepted on either side of now.
pub const DRIFT_STEPS: u64 = 1;

/// A TOTP shared secret (160 bits, the RFC 4226 recommendation). Debug redacts it.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct TotpSecret(Vec<u8>);

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

impl TotpSecret {
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; 20];
        rand::thread_rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// RFC 4648 base32 without padding, as authenticator apps take it.
    pub fn to_base32(&self) -> String {
        base32(&self.0)
    }

    /// The `otpauth://` URI that authenticator apps scan (as a QR code) or take pasted.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let issuer_enc = percent_encode(issuer);
        format!(
            "otpauth://totp/{issuer_enc}:{}?secret={}&issuer={issuer_enc}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
            percent_encode(account),
            self.to_base32()
        )
    }
}

/// Why a code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    #[error("the code must be {DIGITS} digits")]
    Malformed,
    #[error("the code is wrong or expired")]
    Wrong,
    #[error("the code was already used")]
    Replayed,
}

/// The HOTP value (RFC 4226) of `secret` at `counter`, truncated to `digits` digits.
pub fn hotp(secret: &TotpSecret, counter: u64, digits: u32) -> u32 {
    let Ok(mut mac) = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(secret.as_bytes()) else {
        // HMAC takes keys of any length; unreachable in practice.
        return u32::MAX;
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest.get(19).copied().unwrap_or(0) & 0x0f);
    // Dynamic truncation: four bytes at `offset` (at most 15, so within the 20-byte digest),
    // top bit cleared.
    let word = digest
        .get(offset..offset + 4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(|b| u32::from_be_bytes(b) & 0x7fff_ffff)
        .unwrap_or(0);
    word % 10u32.pow(digits.min(9))
}

/// The step (time counter) containing `unix_secs`.
pub fn step_at(unix_secs: u64) -> u64 {
    unix_secs / STEP_SECS
}

/// The current code, e.g. for a test or an enrolment check.
pub fn code_at(secret: &TotpSecret, unix_secs: u64) -> String {
    format!("{:0width$}", hotp(secret, step_at(unix_secs), DIGITS), width = DIGITS as usize)
}

/// Check `code` at `unix_secs`, allowing `DRIFT_STEPS` of clock drift, and refusing any
/// step at or before `last_used_step` (a code is good once). Returns the matched step,
/// which the caller must store as the new `last_used_step`.
pub fn verify(
    secret: &TotpSecret,
    code: &str,
    unix_secs: u64,
    last_used_step: Option<u64>,
) -> Result<u64, TotpError> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TotpError::Malformed);
    }
    let wanted: u32 = code.parse().map_err(|_| TotpError::Malformed)?;
    let now = step_at(unix_secs);
    let mut replayed = false;
    for step in now.saturating_sub(DRIFT_STEPS)..=now.saturating_add(DRIFT_STEPS) {
        if hotp(secret, step, DIGITS) == wanted {
            if last_used_step.is_some_and(|last| step <= last) {
                replayed = true;
                continue;
            }
            return Ok(step);
        }
    }
    Err(if replayed { TotpError::Replayed } else { TotpError::Wrong })
}

fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0u32;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            let idx = ((buffer >> bits) & 0x1f) as usize;
            out.push(char::from(ALPHABET.get(idx).copied().unwrap_or(b'A')));
        }
    }
    if bits > 0 {
        let idx = ((buffer << (5 - bits)) & 0x1f) as usize;
        out.push(char::from(ALPHABET.get(idx).copied().unwrap_or(b'A')));
    }
    out
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890".to_vec())
    }

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 Appendix B, SHA1 column (8 digits).
        for (t, want) in [
            (59u64, 94287082u32),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ] {
            assert_eq!(hotp(&rfc_secret(), step_at(t), 8), want, "t = {t}");
        }
    }

    #[test]
    fn six_digit_codes_and_drift_window() {
        let s = rfc_secret();
        let t = 1_234_567_890;
        let code = code_at(&s, t);
        assert_eq!(code.len(), 6);
        assert_eq!(verify(&s, &code, t, None), Ok(step_at(t)));
        // One step of drift either way is accepted, two are not.
        assert!(verify(&s, &code, t + STEP_SECS, None).is_ok());
        assert!(verify(&s, &code, t - STEP_SECS, None).is_ok());
        assert_eq!(verify(&s, &code, t + 2 * STEP_SECS + 1, None), Err(TotpError::Wrong));
    }

    #[test]
    fn a_code_is_good_once() {
        let s = rfc_secret();
        let t = 1_700_000_000;
        let code = code_at(&s, t);
        let used = verify(&s, &code, t, None).unwrap();
        assert_eq!(verify(&s, &code, t + 5, Some(used)), Err(TotpError::Replayed));
        let next = code_at(&s, t + STEP_SECS);
        assert!(verify(&s, &next, t + STEP_SECS, Some(used)).is_ok());
    }

    #[test]
    fn malformed_codes() {
        let s = rfc_secret();
        for bad in ["", "12345", "1234567", "12a456", "١٢٣٤٥٦"] {
            assert_eq!(verify(&s, bad, 0, None), Err(TotpError::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn base32_and_uri() {
        // RFC 4648 test vectors (without padding).
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"f"), "MY");
        let s = rfc_secret();
        assert_eq!(s.to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let uri = s.otpauth_uri("Rampart host", "alice@example");
        assert!(uri.starts_with("otpauth://totp/Rampart%20host:alice%40example?secret=GEZDGNBVGY3TQOJQ"), "{uri}");
        assert!(format!("{s:?}").contains("redacted"));
        assert_eq!(TotpSecret::generate().as_bytes().len(), 20);
    }
}
