//! Single-use recovery codes: what a user types at the two-step prompt when the
//! authenticator is lost.
//!
//! A code is ten characters from a 31-symbol alphabet without look-alikes (no `0 o 1 l i`),
//! shown as `abcde-23456`: about 49.5 bits, typed on any keyboard layout's letter and digit
//! keys. The store keeps only keyed hashes ([`crate::sealed::CodeHasher`]) and marks a code
//! used when it is accepted.

use std::fmt;

use rand::Rng;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Codes printed at enrollment.
pub const CODES_PER_USER: usize = 10;
/// Characters in a code (without the dash).
pub const CODE_LEN: usize = 10;
const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";

/// One recovery code, normalised (lowercase, no dash). Debug redacts it.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct RecoveryCode(String);

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCode(<redacted>)")
    }
}

impl RecoveryCode {
    pub fn generate() -> Self {
        let mut rng = rand::rngs::OsRng;
        let code = (0..CODE_LEN)
            .map(|_| {
                let i = rng.gen_range(0..ALPHABET.len());
                char::from(ALPHABET.get(i).copied().unwrap_or(b'a'))
            })
            .collect();
        Self(code)
    }

    /// The normalised form, as hashed.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// As printed for the user: `abcde-23456`.
    pub fn display(&self) -> Zeroizing<String> {
        let (a, b) = self.0.split_at(self.0.len() / 2);
        Zeroizing::new(format!("{a}-{b}"))
    }
}

/// A fresh set of codes.
pub fn generate_codes() -> Vec<RecoveryCode> {
    (0..CODES_PER_USER).map(|_| RecoveryCode::generate()).collect()
}

/// What the user typed at the prompt, sorted out.
#[derive(Debug, PartialEq, Eq)]
pub enum Entered {
    /// Six digits: a TOTP code.
    Totp(Zeroizing<String>),
    /// Looks like a recovery code (dashes and spaces dropped, lowercased).
    Recovery(RecoveryCode),
    /// Neither; still a failed attempt.
    Malformed,
}

/// Sort typed input into a TOTP code, a recovery code or neither.
pub fn classify(input: &str) -> Entered {
    let cleaned: Zeroizing<String> = Zeroizing::new(
        input
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .flat_map(char::to_lowercase)
            .collect(),
    );
    if cleaned.len() == crate::totp::DIGITS as usize && cleaned.bytes().all(|b| b.is_ascii_digit()) {
        return Entered::Totp(cleaned);
    }
    if cleaned.len() == CODE_LEN && cleaned.bytes().all(|b| ALPHABET.contains(&b)) {
        return Entered::Recovery(RecoveryCode(cleaned.to_string()));
    }
    Entered::Malformed
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_well_formed_and_distinct() {
        let codes = generate_codes();
        assert_eq!(codes.len(), CODES_PER_USER);
        for code in &codes {
            assert_eq!(code.expose().len(), CODE_LEN);
            assert!(code.expose().bytes().all(|b| ALPHABET.contains(&b)));
            let shown = code.display();
            assert_eq!(shown.len(), CODE_LEN + 1);
            assert_eq!(&shown[5..6], "-");
        }
        let mut unique: Vec<_> = codes.iter().map(|c| c.expose().to_owned()).collect();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), CODES_PER_USER);
    }

    #[test]
    fn classify_sorts_input() {
        assert_eq!(classify("123456"), Entered::Totp(Zeroizing::new("123456".into())));
        assert_eq!(classify(" 123 456 "), Entered::Totp(Zeroizing::new("123456".into())));
        let code = RecoveryCode::generate();
        assert_eq!(classify(&code.display()), Entered::Recovery(code.clone()));
        assert_eq!(classify(&code.display().to_uppercase()), Entered::Recovery(code.clone()));
        assert_eq!(classify(code.expose()), Entered::Recovery(code));
        assert_eq!(classify("12345"), Entered::Malformed);
        assert_eq!(classify("1234567"), Entered::Malformed);
        assert_eq!(classify("abcde-0o1li"), Entered::Malformed);
        assert_eq!(classify(""), Entered::Malformed);
    }

    #[test]
    fn debug_redacts() {
        let code = RecoveryCode::generate();
        assert!(!format!("{code:?}").contains(code.expose()));
    }
}
