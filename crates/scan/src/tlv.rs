//! A bounded DER tag-length-value reader: just enough ASN.1 for the TSRequest (MS-CSSP)
//! and an RSA public key. Every read checks the remaining length first; lengths over
//! four bytes, indefinite lengths and lengths past the end of the input are errors.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TlvError {
    #[error("truncated der: {0}")]
    Truncated(&'static str),
    #[error("unsupported der length encoding")]
    BadLength,
    #[error("expected der tag {expected:#04x}, found {found:#04x}")]
    UnexpectedTag { expected: u8, found: u8 },
    #[error("der integer does not fit in 32 bits")]
    IntegerTooLarge,
}

/// One element: its (single-byte) tag and its contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub value: &'a [u8],
}

/// A cursor over a sequence of DER elements.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next element, whatever its tag.
    pub fn next_tlv(&mut self) -> Result<Tlv<'a>, TlvError> {
        let (&tag, after_tag) = self.rest.split_first().ok_or(TlvError::Truncated("tag"))?;
        let (len, header) = length(after_tag)?;
        let after_len = after_tag.get(header..).ok_or(TlvError::Truncated("length"))?;
        let value = after_len.get(..len).ok_or(TlvError::Truncated("value"))?;
        self.rest = after_len.get(len..).ok_or(TlvError::Truncated("value"))?;
        Ok(Tlv { tag, value })
    }

    /// The next element, which must carry `tag`.
    pub fn expect(&mut self, tag: u8) -> Result<&'a [u8], TlvError> {
        let tlv = self.next_tlv()?;
        if tlv.tag == tag {
            Ok(tlv.value)
        } else {
            Err(TlvError::UnexpectedTag { expected: tag, found: tlv.tag })
        }
    }
}

/// Decodes a DER length at the start of `bytes`: (length, bytes the length took).
pub fn length(bytes: &[u8]) -> Result<(usize, usize), TlvError> {
    let (&first, rest) = bytes.split_first().ok_or(TlvError::Truncated("length"))?;
    if first < 0x80 {
        return Ok((usize::from(first), 1));
    }
    let count = usize::from(first & 0x7f);
    if count == 0 || count > 4 {
        return Err(TlvError::BadLength);
    }
    let digits = rest.get(..count).ok_or(TlvError::Truncated("length"))?;
    let len = digits.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    Ok((len, 1 + count))
}

/// The total size of the DER element that starts `bytes` (header plus contents), once
/// enough of its header has arrived: `Ok(None)` means "read more first".
pub fn element_size(bytes: &[u8]) -> Result<Option<usize>, TlvError> {
    let Some(after_tag) = bytes.get(1..) else {
        return Ok(None);
    };
    match length(after_tag) {
        Ok((len, header)) => Ok(Some(1 + header + len)),
        Err(TlvError::Truncated(_)) => Ok(None),
        Err(err) => Err(err),
    }
}

/// A DER INTEGER's contents read as the 32-bit pattern it encodes (NTSTATUS codes are sent
/// both as positive five-byte and as negative four-byte integers).
pub fn integer_u32(value: &[u8]) -> Result<u32, TlvError> {
    let significant = match value {
        [] => return Err(TlvError::Truncated("integer")),
        [0, rest @ ..] if !rest.is_empty() => rest,
        all => all,
    };
    if significant.len() > 4 {
        return Err(TlvError::IntegerTooLarge);
    }
    let negative = value.first().is_some_and(|b| b & 0x80 != 0);
    let fill = if negative { u32::MAX } else { 0 };
    Ok(significant.iter().fold(fill, |acc, &b| (acc << 8) | u32::from(b)))
}

/// Appends a DER element with `tag` and `value` to `out`.
pub fn write(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
    out.push(tag);
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let digits: Vec<u8> = len.to_be_bytes().iter().copied().skip_while(|&b| b == 0).collect();
        out.push(0x80 | digits.len() as u8);
        out.extend_from_slice(&digits);
    }
    out.extend_from_slice(value);
}

/// A DER element with `tag` around `value`, as a new vector.
pub fn wrap(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    write(&mut out, tag, value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_lengths_round_trip() {
        for len in [0usize, 1, 0x7f, 0x80, 0xff, 0x100, 70_000] {
            let value = vec![0xAB; len];
            let bytes = wrap(0x04, &value);
            assert_eq!(element_size(&bytes).unwrap(), Some(bytes.len()), "len {len}");
            let mut r = Reader::new(&bytes);
            assert_eq!(r.expect(0x04).unwrap(), value.as_slice());
            assert!(r.is_empty());
        }
    }

    #[test]
    fn truncated_and_oversized_inputs_are_errors_not_panics() {
        let bytes = wrap(0x30, &[1, 2, 3, 4]);
        for cut in 0..bytes.len() {
            let mut r = Reader::new(&bytes[..cut]);
            assert!(r.next_tlv().is_err(), "cut at {cut}");
        }
        // Indefinite length and a five-byte length are refused.
        assert_eq!(Reader::new(&[0x30, 0x80, 0, 0]).next_tlv(), Err(TlvError::BadLength));
        assert_eq!(Reader::new(&[0x30, 0x85, 1, 1, 1, 1, 1]).next_tlv(), Err(TlvError::BadLength));
        // A length far past the input.
        assert!(Reader::new(&[0x04, 0x84, 0xff, 0xff, 0xff, 0xff, 0]).next_tlv().is_err());
        assert_eq!(element_size(&[0x30]).unwrap(), None);
        assert_eq!(element_size(&[0x30, 0x82, 0x01]).unwrap(), None);
        assert_eq!(element_size(&[0x30, 0x82, 0x01, 0x00]).unwrap(), Some(4 + 256));
    }

    #[test]
    fn ntstatus_integers_in_both_encodings() {
        assert_eq!(integer_u32(&[0x00, 0xC0, 0x00, 0x00, 0x6D]), Ok(0xC000_006D));
        assert_eq!(integer_u32(&[0xC0, 0x00, 0x00, 0x6D]), Ok(0xC000_006D));
        assert_eq!(integer_u32(&[0x06]), Ok(6));
        assert_eq!(integer_u32(&[0xff]), Ok(u32::MAX));
        assert_eq!(integer_u32(&[]), Err(TlvError::Truncated("integer")));
        assert_eq!(integer_u32(&[1, 2, 3, 4, 5]), Err(TlvError::IntegerTooLarge));
    }

    #[test]
    fn unexpected_tag_is_named() {
        let bytes = wrap(0x02, &[1]);
        assert_eq!(Reader::new(&bytes).expect(0x04), Err(TlvError::UnexpectedTag { expected: 0x04, found: 0x02 }));
    }
}
