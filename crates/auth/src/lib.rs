//! Password policy, NT hashes and secret newtypes.
//!
//! Pure: no I/O, no clock. Everything secret here is a newtype whose `Debug` prints
//! `<redacted>` and whose memory is zeroized on drop.
//!
//! NLA (CredSSP over NTLM) needs the NT hash of a user's password on the server side, so
//! the stored credential material ([`NtHash`]) is password-equivalent: whoever holds it can
//! authenticate as the user. Treat it like the password itself.

use std::fmt;

use md4::{Digest, Md4};

pub mod ntlm;
pub mod recovery;
pub mod sealed;
pub mod totp;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// A clear-text password, as typed at enrollment. Zeroized on drop, never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Password(String);

impl Password {
    pub fn new(password: String) -> Self {
        Self(password)
    }

    /// The clear text; call only where the password is consumed (hashing, policy check).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// The NT hash (MD4 of the UTF-16LE password): what NTLM proves knowledge of.
///
/// Password-equivalent. Zeroized on drop, never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct NtHash([u8; 16]);

impl NtHash {
    pub fn from_password(password: &Password) -> Self {
        let utf16: Zeroizing<Vec<u8>> = Zeroizing::new(
            password
                .expose()
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect(),
        );
        let mut hasher = Md4::new();
        hasher.update(utf16.as_slice());
        let mut digest = hasher.finalize();
        let mut out = [0u8; 16];
        out.copy_from_slice(digest.as_slice());
        digest.as_mut_slice().zeroize();
        Self(out)
    }

    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Lowercase hex, 32 characters (the form sspi takes as `$NTLM$:<hex>`).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for NtHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NtHash(<redacted>)")
    }
}

/// A random hash, used for unknown users so that a failed lookup takes the same path (and
/// time) as a wrong password.
pub fn random_nt_hash() -> NtHash {
    NtHash(rand::random())
}

/// Enrollment password policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Minimum length in characters (Unicode scalar values).
    pub min_length: usize,
    /// Minimum zxcvbn score, 0..=4.
    pub min_zxcvbn_score: u8,
}

impl Default for PasswordPolicy {
    /// 14 characters (CIS guidance for RDP hosts) and zxcvbn score 3 ("safely
    /// unguessable: moderate protection from offline slow-hash scenario").
    fn default() -> Self {
        Self {
            min_length: 14,
            min_zxcvbn_score: 3,
        }
    }
}

/// Why a password was refused. The `Display` text is one sentence meant for the admin.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum PolicyViolation {
    #[error("password is empty")]
    Empty,
    #[error("password is too short: {actual} characters, at least {min} required")]
    TooShort { min: usize, actual: usize },
    #[error("password contains the user name")]
    ContainsUserName,
    #[error("password contains control characters")]
    ControlCharacters,
    #[error("password is too weak (strength {score} of 4, at least {min} required){}", feedback_suffix(.feedback))]
    TooWeak {
        score: u8,
        min: u8,
        feedback: String,
    },
}

fn feedback_suffix(feedback: &str) -> String {
    if feedback.is_empty() {
        String::new()
    } else {
        format!(": {feedback}")
    }
}

impl PasswordPolicy {
    /// Checks `password` for `user_name`. Order: emptiness, control characters, length,
    /// user name (case-insensitive), then strength (zxcvbn, with the user name as context).
    pub fn check(&self, user_name: &str, password: &Password) -> Result<(), PolicyViolation> {
        let pw = password.expose();
        if pw.is_empty() {
            return Err(PolicyViolation::Empty);
        }
        if pw.chars().any(char::is_control) {
            return Err(PolicyViolation::ControlCharacters);
        }
        let actual = pw.chars().count();
        if actual < self.min_length {
            return Err(PolicyViolation::TooShort {
                min: self.min_length,
                actual,
            });
        }
        let name = user_name.trim();
        if !name.is_empty() {
            let lower_pw = Zeroizing::new(pw.to_lowercase());
            if lower_pw.contains(&name.to_lowercase()) {
                return Err(PolicyViolation::ContainsUserName);
            }
        }
        let entropy = zxcvbn::zxcvbn(pw, &[name]);
        let score = u8::from(entropy.score());
        if score < self.min_zxcvbn_score {
            let feedback = entropy
                .feedback()
                .map(|fb| {
                    let mut parts: Vec<String> = Vec::new();
                    if let Some(warning) = fb.warning() {
                        parts.push(lowercase_sentence(&warning.to_string()));
                    }
                    parts.extend(fb.suggestions().iter().map(|s| lowercase_sentence(&s.to_string())));
                    parts.join("; ")
                })
                .unwrap_or_default();
            return Err(PolicyViolation::TooWeak {
                score,
                min: self.min_zxcvbn_score,
                feedback,
            });
        }
        Ok(())
    }
}

/// zxcvbn's feedback is written as capitalised sentences; ours are lowercase fragments.
fn lowercase_sentence(s: &str) -> String {
    let trimmed = s.trim().trim_end_matches('.').replace(". ", "; ");
    let mut chars = trimmed.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Maximum length of a Rampart user name.
pub const MAX_USER_NAME_LEN: usize = 64;

/// Why a user name was refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum NameError {
    #[error("user name is empty")]
    Empty,
    #[error("user name is too long: {actual} characters, at most {max} allowed")]
    TooLong { max: usize, actual: usize },
    #[error("user name must start with a letter or digit")]
    BadStart,
    #[error("user name contains {0:?}: only lowercase letters, digits, '.', '_' and '-' are allowed")]
    BadCharacter(char),
}

/// Checks a Rampart (RDP) user name: 1..=64 characters from `[a-z0-9._-]`, starting with a
/// letter or digit. This rules out whitespace, control characters, `@` and `\` (which RDP
/// clients use for UPN and domain forms), and upper case (lookups are case-insensitive, the
/// stored name is canonical lowercase).
pub fn validate_user_name(name: &str) -> Result<(), NameError> {
    let len = name.chars().count();
    if len == 0 {
        return Err(NameError::Empty);
    }
    if len > MAX_USER_NAME_LEN {
        return Err(NameError::TooLong {
            max: MAX_USER_NAME_LEN,
            actual: len,
        });
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')))
    {
        return Err(NameError::BadCharacter(bad));
    }
    if !name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        return Err(NameError::BadStart);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Password {
        Password::new(s.to_owned())
    }

    #[test]
    fn nt_hash_known_values() {
        assert_eq!(
            NtHash::from_password(&pw("Password")).to_hex(),
            "a4f49c406510bdcab6824ee7c30fd852"
        );
        assert_eq!(
            NtHash::from_password(&pw("")).to_hex(),
            "31d6cfe0d16ae931b73c59d7e0c089c0"
        );
    }

    #[test]
    fn nt_hash_bytes_round_trip() {
        let h = NtHash::from_password(&pw("Password"));
        let again = NtHash::from_bytes(*h.as_bytes());
        assert_eq!(again.as_bytes(), h.as_bytes());
        assert_eq!(h.clone().to_hex(), h.to_hex());
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        assert_eq!(format!("{:?}", pw("hunter2")), "Password(<redacted>)");
        let h = NtHash::from_password(&pw("hunter2"));
        let dbg = format!("{h:?}");
        assert_eq!(dbg, "NtHash(<redacted>)");
        assert!(!dbg.contains(&h.to_hex()));
    }

    #[test]
    fn random_hashes_differ() {
        assert_ne!(random_nt_hash().as_bytes(), random_nt_hash().as_bytes());
    }

    #[test]
    fn policy_accepts_strong_password() {
        let policy = PasswordPolicy::default();
        assert_eq!(policy.check("alice", &pw("correct horse battery staple 42!")), Ok(()));
    }

    #[test]
    fn policy_too_short_says_why() {
        let err = PasswordPolicy::default().check("alice", &pw("Xk3#pq9Lz")).unwrap_err();
        assert_eq!(err, PolicyViolation::TooShort { min: 14, actual: 9 });
        assert_eq!(
            err.to_string(),
            "password is too short: 9 characters, at least 14 required"
        );
    }

    #[test]
    fn policy_counts_characters_not_bytes() {
        // 13 characters, more than 14 bytes.
        let err = PasswordPolicy::default().check("alice", &pw("ééééééééééééé")).unwrap_err();
        assert_eq!(err, PolicyViolation::TooShort { min: 14, actual: 13 });
    }

    #[test]
    fn policy_rejects_user_name_case_insensitively() {
        let err = PasswordPolicy::default()
            .check("alice", &pw("xq7#ALICE-river-moon"))
            .unwrap_err();
        assert_eq!(err, PolicyViolation::ContainsUserName);
        assert_eq!(err.to_string(), "password contains the user name");
    }

    #[test]
    fn policy_rejects_weak_long_password() {
        let err = PasswordPolicy::default()
            .check("alice", &pw("passwordpassword"))
            .unwrap_err();
        match &err {
            PolicyViolation::TooWeak { score, min, .. } => {
                assert!(*score < 3);
                assert_eq!(*min, 3);
            }
            other => panic!("expected TooWeak, got {other:?}"),
        }
        let msg = err.to_string();
        assert!(msg.starts_with("password is too weak"), "{msg}");
        assert!(!msg.ends_with('.'), "{msg}");
    }

    #[test]
    fn policy_rejects_empty_and_control_characters() {
        let policy = PasswordPolicy::default();
        assert_eq!(policy.check("alice", &pw("")), Err(PolicyViolation::Empty));
        assert_eq!(
            policy.check("alice", &pw("correct horse\tbattery staple")),
            Err(PolicyViolation::ControlCharacters)
        );
    }

    #[test]
    fn policy_thresholds_are_configurable() {
        let lax = PasswordPolicy {
            min_length: 4,
            min_zxcvbn_score: 0,
        };
        assert_eq!(lax.check("bob", &pw("abcd")), Ok(()));
    }

    #[test]
    fn user_names() {
        for ok in ["alice", "a", "0day", "j.doe", "svc_backup-2", &"a".repeat(64)] {
            assert_eq!(validate_user_name(ok), Ok(()), "{ok}");
        }
        assert_eq!(validate_user_name(""), Err(NameError::Empty));
        assert_eq!(
            validate_user_name(&"a".repeat(65)),
            Err(NameError::TooLong { max: 64, actual: 65 })
        );
        assert_eq!(validate_user_name(".alice"), Err(NameError::BadStart));
        assert_eq!(validate_user_name("-alice"), Err(NameError::BadStart));
        assert_eq!(validate_user_name("Alice"), Err(NameError::BadCharacter('A')));
        assert_eq!(validate_user_name("al ice"), Err(NameError::BadCharacter(' ')));
        assert_eq!(validate_user_name("alice@corp"), Err(NameError::BadCharacter('@')));
        assert_eq!(validate_user_name("corp\\alice"), Err(NameError::BadCharacter('\\')));
        assert_eq!(validate_user_name("al\nice"), Err(NameError::BadCharacter('\n')));
        assert_eq!(validate_user_name("al\u{0}ice"), Err(NameError::BadCharacter('\0')));
    }
}
