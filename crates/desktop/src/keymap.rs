//! RDP scancodes (PC/AT scancode set 1, US PC layout) to Linux evdev keycodes.
//!
//! Pure lookup, no I/O. The X server's keycode for an evdev code is `evdev + 8`
//! (Xvfb and Xorg use the `evdev` XKB keycodes by default).
//!
//! RDP sends Pause/Break as an `E1`-prefixed sequence (`E1 1D 45`), which a
//! `(code, extended)` pair cannot carry; callers that see the `EXTENDED1` flag
//! should use [`PAUSE`] directly.

/// evdev `KEY_PAUSE`, for the `E1 1D 45` sequence.
pub const PAUSE: u8 = 119;

/// Offset between evdev codes and X11 keycodes.
pub const X_KEYCODE_OFFSET: u8 = 8;

/// Maps a set-1 scancode (with the `E0` "extended" flag) to an evdev keycode.
///
/// Returns `None` for codes with no key on a US PC keyboard and for the fake
/// shifts (`E0 2A`, `E0 36`) that some keyboards send around extended keys.
pub fn scancode_to_evdev(code: u8, extended: bool) -> Option<u8> {
    if extended {
        extended_to_evdev(code)
    } else {
        plain_to_evdev(code)
    }
}

/// Maps a set-1 scancode to an X11 keycode (`evdev + 8`).
pub fn scancode_to_x_keycode(code: u8, extended: bool) -> Option<u8> {
    scancode_to_evdev(code, extended).and_then(|k| k.checked_add(X_KEYCODE_OFFSET))
}

fn plain_to_evdev(code: u8) -> Option<u8> {
    match code {
        // Esc, digits, letters, punctuation, modifiers, F1-F10, locks and the
        // keypad: set 1 and evdev agree one to one on 0x01..=0x53.
        0x01..=0x53 => Some(code),
        0x54 => Some(99),                    // Alt+PrintScreen (SysRq)
        0x56 => Some(86),                    // KEY_102ND (the extra key left of Z on ISO boards)
        0x57 => Some(87),                    // F11
        0x58 => Some(88),                    // F12
        0x59 => Some(117),                   // keypad =
        0x5C => Some(95),                    // keypad , (KEY_KPJPCOMMA)
        0x64..=0x6E => code.checked_add(83), // F13..F23 = 183..193
        0x70 => Some(93),                    // katakana/hiragana
        0x73 => Some(89),                    // KEY_RO
        0x76 => Some(194),                   // F24
        0x79 => Some(92),                    // henkan
        0x7B => Some(94),                    // muhenkan
        0x7D => Some(124),                   // yen
        0x7E => Some(121),                   // keypad , (Brazilian)
        0xF1 => Some(123),                   // hanja
        0xF2 => Some(122),                   // hangeul
        _ => None,
    }
}

fn extended_to_evdev(code: u8) -> Option<u8> {
    match code {
        0x10 => Some(165),   // previous song
        0x19 => Some(163),   // next song
        0x1C => Some(96),    // keypad enter
        0x1D => Some(97),    // right ctrl
        0x20 => Some(113),   // mute
        0x21 => Some(140),   // calculator
        0x22 => Some(164),   // play/pause
        0x24 => Some(166),   // stop cd
        0x2E => Some(114),   // volume down
        0x30 => Some(115),   // volume up
        0x32 => Some(172),   // www home
        0x35 => Some(98),    // keypad /
        0x37 => Some(99),    // print screen (KEY_SYSRQ)
        0x38 => Some(100),   // right alt (AltGr)
        0x46 => Some(PAUSE), // ctrl+break
        0x47 => Some(102),   // home
        0x48 => Some(103),   // up
        0x49 => Some(104),   // page up
        0x4B => Some(105),   // left
        0x4D => Some(106),   // right
        0x4F => Some(107),   // end
        0x50 => Some(108),   // down
        0x51 => Some(109),   // page down
        0x52 => Some(110),   // insert
        0x53 => Some(111),   // delete
        0x5B => Some(125),   // left windows (KEY_LEFTMETA)
        0x5C => Some(126),   // right windows
        0x5D => Some(127),   // menu (KEY_COMPOSE)
        0x5E => Some(116),   // power
        0x5F => Some(142),   // sleep
        0x63 => Some(143),   // wake up
        0x65 => Some(217),   // search
        0x66 => Some(156),   // bookmarks
        0x67 => Some(173),   // refresh
        0x68 => Some(128),   // stop
        0x69 => Some(159),   // forward
        0x6A => Some(158),   // back
        0x6B => Some(157),   // my computer
        0x6C => Some(155),   // mail
        0x6D => Some(226),   // media select
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // evdev codes from linux/input-event-codes.h
    const KEY_ESC: u8 = 1;
    const KEY_1: u8 = 2;
    const KEY_0: u8 = 11;
    const KEY_BACKSPACE: u8 = 14;
    const KEY_Q: u8 = 16;
    const KEY_ENTER: u8 = 28;
    const KEY_LEFTCTRL: u8 = 29;
    const KEY_A: u8 = 30;
    const KEY_LEFTSHIFT: u8 = 42;
    const KEY_Z: u8 = 44;
    const KEY_RIGHTSHIFT: u8 = 54;
    const KEY_LEFTALT: u8 = 56;
    const KEY_SPACE: u8 = 57;
    const KEY_CAPSLOCK: u8 = 58;
    const KEY_F1: u8 = 59;
    const KEY_F10: u8 = 68;
    const KEY_NUMLOCK: u8 = 69;
    const KEY_SCROLLLOCK: u8 = 70;
    const KEY_KP7: u8 = 71;
    const KEY_KPDOT: u8 = 83;
    const KEY_F11: u8 = 87;
    const KEY_F12: u8 = 88;
    const KEY_KPENTER: u8 = 96;
    const KEY_RIGHTCTRL: u8 = 97;
    const KEY_KPSLASH: u8 = 98;
    const KEY_SYSRQ: u8 = 99;
    const KEY_RIGHTALT: u8 = 100;
    const KEY_HOME: u8 = 102;
    const KEY_UP: u8 = 103;
    const KEY_PAGEUP: u8 = 104;
    const KEY_LEFT: u8 = 105;
    const KEY_RIGHT: u8 = 106;
    const KEY_END: u8 = 107;
    const KEY_DOWN: u8 = 108;
    const KEY_PAGEDOWN: u8 = 109;
    const KEY_INSERT: u8 = 110;
    const KEY_DELETE: u8 = 111;
    const KEY_LEFTMETA: u8 = 125;
    const KEY_RIGHTMETA: u8 = 126;
    const KEY_COMPOSE: u8 = 127;
    const KEY_F13: u8 = 183;
    const KEY_F23: u8 = 193;
    const KEY_F24: u8 = 194;

    #[test]
    fn main_block() {
        let cases = [
            (0x01, KEY_ESC),
            (0x02, KEY_1),
            (0x0B, KEY_0),
            (0x0E, KEY_BACKSPACE),
            (0x10, KEY_Q),
            (0x1C, KEY_ENTER),
            (0x1D, KEY_LEFTCTRL),
            (0x1E, KEY_A),
            (0x2A, KEY_LEFTSHIFT),
            (0x2C, KEY_Z),
            (0x36, KEY_RIGHTSHIFT),
            (0x38, KEY_LEFTALT),
            (0x39, KEY_SPACE),
            (0x3A, KEY_CAPSLOCK),
            (0x3B, KEY_F1),
            (0x44, KEY_F10),
            (0x45, KEY_NUMLOCK),
            (0x46, KEY_SCROLLLOCK),
            (0x47, KEY_KP7),
            (0x53, KEY_KPDOT),
            (0x57, KEY_F11),
            (0x58, KEY_F12),
            (0x54, KEY_SYSRQ),
            (0x64, KEY_F13),
            (0x6E, KEY_F23),
            (0x76, KEY_F24),
        ];
        for (sc, ev) in cases {
            assert_eq!(scancode_to_evdev(sc, false), Some(ev), "scancode {sc:#04x}");
        }
    }

    #[test]
    fn extended_keys() {
        let cases = [
            (0x1C, KEY_KPENTER),
            (0x1D, KEY_RIGHTCTRL),
            (0x35, KEY_KPSLASH),
            (0x37, KEY_SYSRQ),
            (0x38, KEY_RIGHTALT),
            (0x47, KEY_HOME),
            (0x48, KEY_UP),
            (0x49, KEY_PAGEUP),
            (0x4B, KEY_LEFT),
            (0x4D, KEY_RIGHT),
            (0x4F, KEY_END),
            (0x50, KEY_DOWN),
            (0x51, KEY_PAGEDOWN),
            (0x52, KEY_INSERT),
            (0x53, KEY_DELETE),
            (0x5B, KEY_LEFTMETA),
            (0x5C, KEY_RIGHTMETA),
            (0x5D, KEY_COMPOSE),
        ];
        for (sc, ev) in cases {
            assert_eq!(
                scancode_to_evdev(sc, true),
                Some(ev),
                "extended scancode {sc:#04x}"
            );
        }
    }

    #[test]
    fn extended_differs_from_plain_where_it_must() {
        // keypad keys without E0 are the navigation keys' numeric twins
        assert_eq!(scancode_to_evdev(0x48, false), Some(72)); // KP8
        assert_eq!(scancode_to_evdev(0x48, true), Some(KEY_UP));
        assert_eq!(scancode_to_evdev(0x1C, false), Some(KEY_ENTER));
        assert_eq!(scancode_to_evdev(0x1C, true), Some(KEY_KPENTER));
    }

    #[test]
    fn fake_shifts_and_gaps_are_ignored() {
        assert_eq!(scancode_to_evdev(0x2A, true), None);
        assert_eq!(scancode_to_evdev(0x36, true), None);
        assert_eq!(scancode_to_evdev(0x00, false), None);
        assert_eq!(scancode_to_evdev(0x55, false), None);
        assert_eq!(scancode_to_evdev(0xFF, false), None);
        assert_eq!(scancode_to_evdev(0x00, true), None);
    }

    #[test]
    fn every_code_maps_to_a_valid_x_keycode_and_is_injective() {
        let mut seen = std::collections::HashMap::new();
        for ext in [false, true] {
            for sc in 0..=u8::MAX {
                if let Some(ev) = scancode_to_evdev(sc, ext) {
                    let x = scancode_to_x_keycode(sc, ext);
                    assert!(matches!(x, Some(k) if k >= 8), "{sc:#04x} ext={ext}");
                    if let Some(prev) = seen.insert(ev, (sc, ext)) {
                        // only SysRq is reachable twice (Alt+PrtSc and PrtSc)
                        assert_eq!(
                            ev,
                            KEY_SYSRQ,
                            "evdev {ev} from {prev:?} and {:?}",
                            (sc, ext)
                        );
                    }
                }
            }
        }
        assert!(seen.len() > 120, "only {} keys mapped", seen.len());
    }
}

/// The X keysym that types `c`: Latin-1 keysyms equal their code point, a few
/// control characters have function keysyms, everything else uses the Unicode
/// keysym range (`0x0100_0000 + code point`). `None` for other control characters.
pub fn char_to_keysym(c: char) -> Option<u32> {
    let cp = u32::from(c);
    match cp {
        0x08 => Some(0xFF08),        // BackSpace
        0x09 => Some(0xFF09),        // Tab
        0x0A | 0x0D => Some(0xFF0D), // Return
        0x1B => Some(0xFF1B),        // Escape
        0x7F => Some(0xFFFF),        // Delete
        0x20..=0x7E | 0xA0..=0xFF => Some(cp),
        0x00..=0x1F | 0x80..=0x9F => None,
        _ => Some(0x0100_0000 | cp),
    }
}

#[cfg(test)]
mod keysym_tests {
    use super::char_to_keysym;

    #[test]
    fn keysyms() {
        assert_eq!(char_to_keysym('a'), Some(0x61));
        assert_eq!(char_to_keysym('!'), Some(0x21));
        assert_eq!(char_to_keysym('é'), Some(0xE9));
        assert_eq!(char_to_keysym('€'), Some(0x0100_20AC));
        assert_eq!(char_to_keysym('\r'), Some(0xFF0D));
        assert_eq!(char_to_keysym('\u{1}'), None);
        assert_eq!(char_to_keysym('\u{85}'), None);
        assert_eq!(char_to_keysym('😀'), Some(0x0101_F600));
    }
}
