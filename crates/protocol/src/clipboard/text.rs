//! CF_UNICODETEXT, as Windows clients put it on the wire: UTF-16LE with CRLF line ends and
//! a terminating NUL (MS-RDPECLIP 2.2.5.2.1 and the Windows standard clipboard formats).
//! Unix applications use LF; these conversions are the only place line ends change.

/// Unix text as CF_UNICODETEXT: LF becomes CRLF (a CRLF stays one), then UTF-16LE, then NUL.
pub fn to_unicode_text(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len().saturating_mul(2).saturating_add(2));
    let mut units = [0u16; 2];
    let mut previous_cr = false;
    for c in text.chars() {
        if c == '\n' && !previous_cr {
            out.extend_from_slice(&u16::from(b'\r').to_le_bytes());
        }
        previous_cr = c == '\r';
        for unit in c.encode_utf16(&mut units) {
            out.extend_from_slice(&unit.to_le_bytes());
        }
    }
    out.extend_from_slice(&[0, 0]);
    out
}

/// CF_UNICODETEXT as Unix text: up to the first NUL (or the end; an odd last byte is
/// dropped), CRLF becomes LF, unpaired surrogates become U+FFFD.
pub fn from_unicode_text(bytes: &[u8]) -> String {
    let units = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair.first().copied().unwrap_or(0), pair.get(1).copied().unwrap_or(0)]))
        .take_while(|&unit| unit != 0);
    let text: String = char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    text.replace("\r\n", "\n")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn unix_text_becomes_crlf_utf16_with_a_nul() {
        let text = "Grüße — 日本語 ✓\nzwei\r\ndrei 😀";
        let mut want = utf16("Grüße — 日本語 ✓\r\nzwei\r\ndrei 😀");
        want.extend_from_slice(&[0, 0]);
        assert_eq!(to_unicode_text(text), want);
        assert_eq!(to_unicode_text(""), vec![0, 0]);
    }

    #[test]
    fn client_text_loses_crlf_and_stops_at_the_nul() {
        let mut wire = utf16("a\r\nb 😀\r\n");
        wire.extend_from_slice(&[0, 0]);
        wire.extend_from_slice(&utf16("garbage after the NUL"));
        assert_eq!(from_unicode_text(&wire), "a\nb 😀\n");
        // No NUL, odd length, lone surrogate: still text, nothing panics.
        assert_eq!(from_unicode_text(&[b'h', 0, b'i', 0, b'!']), "hi");
        assert_eq!(from_unicode_text(&[0x3d, 0xd8, b'x', 0]), "\u{FFFD}x");
        assert_eq!(from_unicode_text(&[]), "");
    }

    #[test]
    fn round_trips() {
        for text in ["", "plain", "Grüße — 日本語 ✓", "lines\nand\n\nmore\n", "𝄞 and 😀"] {
            assert_eq!(from_unicode_text(&to_unicode_text(text)), text);
        }
    }
}
