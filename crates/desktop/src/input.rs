//! Input injection with XTest, on its own X connection.

use std::collections::BTreeSet;

use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::xproto::{self, ConnectionExt as _};
use x11rb::protocol::xtest::{self, ConnectionExt as _};
use x11rb::rust_connection::RustConnection;

use crate::keymap::{char_to_keysym, scancode_to_x_keycode, X_KEYCODE_OFFSET};
use crate::{connection, DesktopError, X11Target};

/// Mouse buttons RDP can report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MouseButton {
    Left,
    Middle,
    Right,
    X1,
    X2,
}

impl MouseButton {
    fn x_button(self) -> u8 {
        match self {
            Self::Left => 1,
            Self::Middle => 2,
            Self::Right => 3,
            Self::X1 => 8,
            Self::X2 => 9,
        }
    }
}

/// RDP wheel units per notch.
pub const WHEEL_DELTA: i32 = 120;
/// Most clicks one wheel event may produce (a hostile client cannot make us loop long).
pub const MAX_WHEEL_CLICKS: u32 = 20;
/// Spare keycodes we rotate through for Unicode input.
const MAX_UNICODE_BINDINGS: usize = 4;

const KEYSYM_SHIFT_L: u32 = 0xFFE1;
const EVDEV_LEFTSHIFT: u8 = 42;
const EVDEV_CAPSLOCK: u8 = 58;
const EVDEV_NUMLOCK: u8 = 69;
const EVDEV_SCROLLLOCK: u8 = 70;
const LED_CAPS: u32 = 1;
const LED_NUM: u32 = 2;
const LED_SCROLL: u32 = 4;

/// A key pressed through `key_unicode`, to release on key-up.
#[derive(Clone, Copy, Debug)]
struct UnicodeDown {
    ch: u32,
    keycode: u8,
}

/// Injects keyboard and mouse input into one X display.
pub struct Input {
    conn: RustConnection,
    root: xproto::Window,
    min_keycode: u8,
    max_keycode: u8,
    pressed_keys: BTreeSet<u8>,
    pressed_buttons: BTreeSet<u8>,
    /// (keysym, keycode) bound by us, oldest first.
    unicode_bindings: Vec<(u32, u8)>,
    unicode_down: Vec<UnicodeDown>,
    high_surrogate: Option<u16>,
}

fn x11<E: std::fmt::Display>(e: E) -> DesktopError {
    DesktopError::x11(e)
}

/// Number of wheel clicks for an RDP rotation (at least one for any non-zero value).
pub fn wheel_clicks(delta: i16) -> u32 {
    let abs = i32::from(delta).unsigned_abs();
    let clicks = (abs + (WHEEL_DELTA as u32) / 2) / (WHEEL_DELTA as u32);
    if abs == 0 {
        0
    } else {
        clicks.clamp(1, MAX_WHEEL_CLICKS)
    }
}

impl Input {
    /// Connects and checks for XTEST.
    pub fn connect(target: &X11Target) -> Result<Self, DesktopError> {
        let (conn, screen_num) = connection::connect(target)?;
        Self::on_connection(conn, screen_num)
    }

    /// [`Input::connect`] over an already open connection to the target's X server.
    pub fn connect_stream(stream: std::os::unix::net::UnixStream, target: &X11Target) -> Result<Self, DesktopError> {
        let (conn, screen_num) = connection::connect_stream(stream, target)?;
        Self::on_connection(conn, screen_num)
    }

    fn on_connection(conn: RustConnection, screen_num: usize) -> Result<Self, DesktopError> {
        if conn
            .extension_information(xtest::X11_EXTENSION_NAME)
            .map_err(x11)?
            .is_none()
        {
            return Err(DesktopError::Unsupported("XTEST".into()));
        }
        conn.xtest_get_version(2, 2)
            .map_err(x11)?
            .reply()
            .map_err(x11)?;
        let setup = conn.setup();
        let root = setup
            .roots
            .get(screen_num)
            .map(|s| s.root)
            .ok_or_else(|| DesktopError::X11(format!("no screen {screen_num}")))?;
        let (min_keycode, max_keycode) = (setup.min_keycode, setup.max_keycode);
        Ok(Self {
            conn,
            root,
            min_keycode,
            max_keycode,
            pressed_keys: BTreeSet::new(),
            pressed_buttons: BTreeSet::new(),
            unicode_bindings: Vec::new(),
            unicode_down: Vec::new(),
            high_surrogate: None,
        })
    }

    fn fake(&self, kind: u8, detail: u8, x: i16, y: i16) -> Result<(), DesktopError> {
        self.conn
            .xtest_fake_input(kind, detail, x11rb::CURRENT_TIME, self.root, x, y, 0)
            .map_err(x11)?;
        Ok(())
    }

    fn fake_key(&mut self, keycode: u8, down: bool) -> Result<(), DesktopError> {
        let kind = if down {
            self.pressed_keys.insert(keycode);
            xproto::KEY_PRESS_EVENT
        } else {
            self.pressed_keys.remove(&keycode);
            xproto::KEY_RELEASE_EVENT
        };
        self.fake(kind, keycode, 0, 0)
    }

    fn flush(&self) -> Result<(), DesktopError> {
        self.conn.flush().map_err(x11)
    }

    /// A key from its set-1 scancode. Keys without a mapping are ignored.
    pub fn key_scancode(
        &mut self,
        code: u8,
        extended: bool,
        down: bool,
    ) -> Result<(), DesktopError> {
        let Some(keycode) = scancode_to_x_keycode(code, extended) else {
            tracing::debug!(code, extended, "ignoring unmapped scancode");
            return Ok(());
        };
        if keycode < self.min_keycode || keycode > self.max_keycode {
            return Ok(());
        }
        self.fake_key(keycode, down)?;
        self.flush()
    }

    fn keyboard_mapping(&self) -> Result<(u8, Vec<u32>), DesktopError> {
        let count = self
            .max_keycode
            .saturating_sub(self.min_keycode)
            .saturating_add(1);
        let reply = self
            .conn
            .get_keyboard_mapping(self.min_keycode, count)
            .map_err(x11)?
            .reply()
            .map_err(x11)?;
        Ok((reply.keysyms_per_keycode, reply.keysyms))
    }

    /// A UTF-16 code unit typed by an on-screen keyboard or IME. Surrogate pairs
    /// are joined; unpaired surrogates and unmappable characters are ignored.
    pub fn key_unicode(&mut self, ch: u16, down: bool) -> Result<(), DesktopError> {
        let cp = match ch {
            0xD800..=0xDBFF => {
                if down {
                    self.high_surrogate = Some(ch);
                }
                return Ok(());
            }
            0xDC00..=0xDFFF => match self.high_surrogate {
                Some(high) => {
                    if !down {
                        self.high_surrogate = None;
                    }
                    0x1_0000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(ch) - 0xDC00)
                }
                None => return Ok(()),
            },
            _ => u32::from(ch),
        };
        if !down {
            if let Some(pos) = self.unicode_down.iter().position(|d| d.ch == cp) {
                let d = self.unicode_down.remove(pos);
                self.fake_key(d.keycode, false)?;
                self.flush()?;
            }
            return Ok(());
        }
        let Some(keysym) = char::from_u32(cp).and_then(char_to_keysym) else {
            return Ok(());
        };
        let (per, syms) = self.keyboard_mapping()?;
        let per_usize = usize::from(per);
        if per_usize == 0 {
            return Err(DesktopError::X11("keyboard mapping has no keysyms".into()));
        }
        let min_keycode = self.min_keycode;
        let keycode_at = |index: usize| -> Option<u8> {
            u8::try_from(index / per_usize)
                .ok()
                .and_then(|i| i.checked_add(min_keycode))
        };
        // Column 0 is unshifted, column 1 shifted (core protocol, group 1).
        let mut found = None;
        for (i, chunk) in syms.chunks(per_usize).enumerate() {
            if chunk.first() == Some(&keysym) {
                found = keycode_at(i * per_usize).map(|k| (k, false));
                break;
            }
            if found.is_none() && chunk.get(1) == Some(&keysym) {
                found = keycode_at(i * per_usize).map(|k| (k, true));
            }
        }
        let (keycode, shifted) = match found {
            Some(f) => f,
            None => (self.bind_spare(keysym, per, &syms)?, false),
        };
        let shift_keycode = syms
            .chunks(per_usize)
            .position(|c| c.first() == Some(&KEYSYM_SHIFT_L))
            .and_then(|i| keycode_at(i * per_usize))
            .unwrap_or(EVDEV_LEFTSHIFT + X_KEYCODE_OFFSET);
        let need_shift = shifted && !self.pressed_keys.contains(&shift_keycode);
        if need_shift {
            self.fake(xproto::KEY_PRESS_EVENT, shift_keycode, 0, 0)?;
        }
        self.fake_key(keycode, true)?;
        if need_shift {
            self.fake(xproto::KEY_RELEASE_EVENT, shift_keycode, 0, 0)?;
        }
        self.unicode_down.push(UnicodeDown { ch: cp, keycode });
        self.flush()
    }

    /// Binds `keysym` to a keycode with no symbols, reusing an earlier binding of
    /// ours when possible. Bindings are kept (not restored) so that clients that
    /// read the new mapping late still see the right symbol.
    fn bind_spare(&mut self, keysym: u32, per: u8, syms: &[u32]) -> Result<u8, DesktopError> {
        if let Some(pos) = self
            .unicode_bindings
            .iter()
            .position(|(ks, _)| *ks == keysym)
        {
            let entry = self.unicode_bindings.remove(pos);
            self.unicode_bindings.push(entry);
            return Ok(entry.1);
        }
        let per_usize = usize::from(per);
        let ours: Vec<u8> = self.unicode_bindings.iter().map(|(_, k)| *k).collect();
        let keycode = if self.unicode_bindings.len() < MAX_UNICODE_BINDINGS {
            // A keycode with no symbols at all, from the top down.
            syms.chunks(per_usize)
                .enumerate()
                .rev()
                .filter(|(_, c)| c.iter().all(|s| *s == 0))
                .filter_map(|(i, _)| {
                    u8::try_from(i)
                        .ok()
                        .and_then(|i| i.checked_add(self.min_keycode))
                })
                .find(|k| !ours.contains(k) && !self.pressed_keys.contains(k))
        } else {
            None
        };
        let keycode = match keycode {
            Some(k) => k,
            None => {
                // Recycle the oldest binding that is not held down.
                let pos = self
                    .unicode_bindings
                    .iter()
                    .position(|(_, k)| !self.pressed_keys.contains(k))
                    .ok_or_else(|| {
                        DesktopError::Unsupported("a spare keycode for unicode input".into())
                    })?;
                self.unicode_bindings.remove(pos).1
            }
        };
        let mut row = vec![0u32; per_usize];
        for slot in row.iter_mut().take(2) {
            *slot = keysym;
        }
        self.conn
            .change_keyboard_mapping(1, keycode, per, &row)
            .map_err(x11)?
            .check()
            .map_err(x11)?;
        self.unicode_bindings.push((keysym, keycode));
        Ok(keycode)
    }

    /// Moves the pointer to absolute screen coordinates.
    pub fn mouse_move(&mut self, x: u16, y: u16) -> Result<(), DesktopError> {
        let x = i16::try_from(x).unwrap_or(i16::MAX);
        let y = i16::try_from(y).unwrap_or(i16::MAX);
        self.fake(xproto::MOTION_NOTIFY_EVENT, 0, x, y)?;
        self.flush()
    }

    /// Presses or releases a mouse button (X buttons 1, 2, 3, 8, 9).
    pub fn mouse_button(&mut self, button: MouseButton, down: bool) -> Result<(), DesktopError> {
        let b = button.x_button();
        let kind = if down {
            self.pressed_buttons.insert(b);
            xproto::BUTTON_PRESS_EVENT
        } else {
            self.pressed_buttons.remove(&b);
            xproto::BUTTON_RELEASE_EVENT
        };
        self.fake(kind, b, 0, 0)?;
        self.flush()
    }

    /// Scrolls by RDP wheel units (±120 per notch; positive is up / right).
    /// Any non-zero value scrolls at least one click.
    pub fn wheel(&mut self, vertical: i16, horizontal: i16) -> Result<(), DesktopError> {
        let axes = [
            (vertical, if vertical > 0 { 4 } else { 5 }),
            (horizontal, if horizontal > 0 { 7 } else { 6 }),
        ];
        for (delta, button) in axes {
            for _ in 0..wheel_clicks(delta) {
                self.fake(xproto::BUTTON_PRESS_EVENT, button, 0, 0)?;
                self.fake(xproto::BUTTON_RELEASE_EVENT, button, 0, 0)?;
            }
        }
        self.flush()
    }

    /// The keyboard's LED bits, as the X server reports them.
    fn led_mask(&mut self) -> Result<u32, DesktopError> {
        Ok(self.conn.get_keyboard_control().map_err(x11)?.reply().map_err(x11)?.led_mask)
    }

    /// Makes the X lock state match the client's by tapping lock keys that differ.
    pub fn sync_locks(&mut self, caps: bool, num: bool, scroll: bool) -> Result<(), DesktopError> {
        let leds = self.led_mask()?;
        for (want, bit, evdev) in [
            (caps, LED_CAPS, EVDEV_CAPSLOCK),
            (num, LED_NUM, EVDEV_NUMLOCK),
            (scroll, LED_SCROLL, EVDEV_SCROLLLOCK),
        ] {
            if want != (leds & bit != 0) {
                let keycode = evdev + X_KEYCODE_OFFSET;
                self.fake(xproto::KEY_PRESS_EVENT, keycode, 0, 0)?;
                self.fake(xproto::KEY_RELEASE_EVENT, keycode, 0, 0)?;
            }
        }
        self.flush()
    }

    /// The current lock LEDs as (caps, num, scroll).
    pub fn lock_state(&mut self) -> Result<(bool, bool, bool), DesktopError> {
        let leds = self.led_mask()?;
        Ok((
            leds & LED_CAPS != 0,
            leds & LED_NUM != 0,
            leds & LED_SCROLL != 0,
        ))
    }

    /// Releases every key and button we pressed and have not released.
    pub fn release_all(&mut self) {
        let keys: Vec<u8> = std::mem::take(&mut self.pressed_keys).into_iter().collect();
        for k in keys {
            let _ = self.fake(xproto::KEY_RELEASE_EVENT, k, 0, 0);
        }
        let buttons: Vec<u8> = std::mem::take(&mut self.pressed_buttons)
            .into_iter()
            .collect();
        for b in buttons {
            let _ = self.fake(xproto::BUTTON_RELEASE_EVENT, b, 0, 0);
        }
        self.unicode_down.clear();
        self.high_surrogate = None;
        let _ = self.conn.flush();
    }

    /// Waits until the X server has processed everything sent so far.
    pub fn sync(&mut self) -> Result<(), DesktopError> {
        self.conn
            .get_input_focus()
            .map_err(x11)?
            .reply()
            .map_err(x11)?;
        Ok(())
    }
}

impl Drop for Input {
    fn drop(&mut self) {
        self.release_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheel_click_counts() {
        assert_eq!(wheel_clicks(0), 0);
        assert_eq!(wheel_clicks(1), 1);
        assert_eq!(wheel_clicks(-1), 1);
        assert_eq!(wheel_clicks(120), 1);
        assert_eq!(wheel_clicks(-120), 1);
        assert_eq!(wheel_clicks(240), 2);
        assert_eq!(wheel_clicks(-360), 3);
        assert_eq!(wheel_clicks(i16::MIN), MAX_WHEEL_CLICKS);
        assert_eq!(wheel_clicks(i16::MAX), MAX_WHEEL_CLICKS);
    }

    fn assert_send<T: Send>() {}

    #[test]
    fn input_is_send() {
        assert_send::<Input>();
    }
}
