//! The Xauthority file format (libXau), for the one entry we need. Pure.
//!
//! Each entry is: family (u16 BE), then address, display number, auth name and
//! auth data, each as a u16 BE length followed by the bytes.
//!
//! We write a single `FamilyWild` entry with an empty address and an empty
//! display number: libXau matches it for any local display, and the X server's
//! `-auth` loader ignores address and number. So the same file serves as Xvfb's
//! `-auth` file and as the session's `XAUTHORITY`, and it can be written before
//! Xvfb has picked its display number.

use crate::MIT_MAGIC_COOKIE;

/// `FamilyWild` from `X11/Xauth.h`.
const FAMILY_WILD: u16 = 0xFFFF;

/// Length of the cookies we generate.
pub const COOKIE_LEN: usize = 16;

/// Encodes one wildcard MIT-MAGIC-COOKIE-1 entry.
pub fn encode_wild_cookie(cookie: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(32 + cookie.len());
    out.extend_from_slice(&FAMILY_WILD.to_be_bytes());
    for field in [&b""[..], &b""[..], MIT_MAGIC_COOKIE.as_bytes(), cookie] {
        let len = u16::try_from(field.len()).ok()?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(field);
    }
    Some(out)
}

/// A fresh random cookie.
pub fn random_cookie() -> Vec<u8> {
    use rand::RngCore;
    let mut cookie = vec![0u8; COOKIE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut cookie);
    cookie
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let e = encode_wild_cookie(&[1, 2, 3]).unwrap();
        let mut want = vec![0xFF, 0xFF, 0, 0, 0, 0, 0, 18];
        want.extend_from_slice(b"MIT-MAGIC-COOKIE-1");
        want.extend_from_slice(&[0, 3, 1, 2, 3]);
        assert_eq!(e, want);
    }

    #[test]
    fn cookies_are_random() {
        let a = random_cookie();
        assert_eq!(a.len(), COOKIE_LEN);
        assert_ne!(a, random_cookie());
    }
}
