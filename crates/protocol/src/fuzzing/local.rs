//! Bytes that cross a trust boundary inside the host: the worker's IPC lines as the
//! supervisor (root) reads them, and the keys and user name the two-step prompt handles.

use std::io::BufReader as SyncBufReader;

use ironrdp_pdu::input::fast_path::SynchronizeFlags;
use ironrdp_server::KeyboardEvent;

use super::input::desktop_key;
use super::peer::block_on;
use super::{Reached, Violation};
use crate::ipc::{self, IpcError, ToSupervisor, MAX_CODE_LEN, MAX_LINE};
use crate::worker::prompt::{render, CodeEntry, EntryEvent, PromptView};

/// What a line reader made of a stream: the lines, then how it stopped.
#[derive(Debug, PartialEq, Eq)]
struct Lines {
    lines: Vec<Vec<u8>>,
    /// `None` at a clean end of input, else the reason the reader gave up.
    stopped: Option<&'static str>,
}

/// Read sizes for the buffered readers: lines are split across fills every way.
fn capacity(data: &[u8]) -> usize {
    1 + data.len() % 61
}

/// The supervisor's own reader (`supervisor::read_line`, async).
fn supervisor_lines(target: &'static str, data: &[u8]) -> Result<Lines, Violation> {
    let mut reader = tokio::io::BufReader::with_capacity(capacity(data), super::peer::Peer::new(data));
    let mut lines = Vec::new();
    let stopped = loop {
        match block_on(target, crate::supervisor::read_line(&mut reader))? {
            Ok(Some(line)) => lines.push(line),
            Ok(None) => break None,
            Err(_) => break Some("too long"),
        }
    };
    Ok(Lines { lines, stopped })
}

/// The worker's reader (`ipc::read_line_bounded`, blocking), on the same bytes.
fn worker_lines(data: &[u8]) -> Lines {
    let mut reader = SyncBufReader::with_capacity(capacity(data), data);
    let mut lines = Vec::new();
    let stopped = loop {
        match ipc::read_line_bounded(&mut reader) {
            Ok(line) => lines.push(line),
            Err(IpcError::Closed) => break None,
            Err(IpcError::TooLong) => break Some("too long"),
            Err(_) => break Some("other error"),
        }
    };
    Lines { lines, stopped }
}

/// `ipc_line`: what a (compromised) worker may write to the supervisor. Invariants: no line
/// is longer than `MAX_LINE` or holds a newline; the lines are the input split at newlines
/// (a partial last line at EOF is dropped, never half-handled); the supervisor's async
/// reader and the worker's blocking one agree; a message that decodes encodes and decodes
/// back to itself.
pub(super) fn ipc_line(data: &[u8]) -> Result<Reached, Violation> {
    const T: &str = "ipc_line";
    let sup = supervisor_lines(T, data)?;
    let worker = worker_lines(data);
    if sup != worker {
        return Err(Violation::new(
            T,
            format!("readers disagree: supervisor {sup:?}, worker {worker:?}"),
        ));
    }
    let mut expected = data.split(|b| *b == b'\n');
    for line in &sup.lines {
        if line.len() > MAX_LINE || line.contains(&b'\n') {
            return Err(Violation::new(T, format!("line of {} bytes read", line.len())));
        }
        if expected.next() != Some(line.as_slice()) {
            return Err(Violation::new(T, "a line is not the input between two newlines"));
        }
    }
    let mut reached = "lines";
    for line in &sup.lines {
        // As `Connection::drive` decodes it.
        let Ok(msg) = serde_json::from_slice::<ToSupervisor>(line) else {
            continue;
        };
        reached = "message";
        let encoded =
            ipc::encode(&msg).map_err(|e| Violation::new(T, format!("decoded message does not encode: {e}")))?;
        let again: ToSupervisor = serde_json::from_slice(encoded.strip_suffix(b"\n").unwrap_or(&encoded))
            .map_err(|e| Violation::new(T, format!("re-encoded message does not decode: {e}")))?;
        if again != msg {
            return Err(Violation::new(T, format!("round trip changed {msg:?} into {again:?}")));
        }
    }
    Ok(reached)
}

/// Feeds keyboard events to a [`CodeEntry`] as the prompt does, checking after each one.
pub(super) struct KeyChecker {
    target: &'static str,
    entry: CodeEntry,
    pub(super) submitted: usize,
}

impl KeyChecker {
    pub(super) fn new(target: &'static str) -> Self {
        Self {
            target,
            entry: CodeEntry::new(),
            submitted: 0,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.entry.len()
    }

    /// Invariants: never more than the supervisor accepts (`MAX_CODE_LEN`); `Unchanged`
    /// and `Changed` say truly whether the length changed; a submitted code is non-empty,
    /// lowercase letters and digits only, and leaves the field empty. The same event also
    /// goes through the desktop's key mapping.
    pub(super) fn key(&mut self, event: KeyboardEvent) -> Result<(), Violation> {
        desktop_key(self.target, &event)?;
        let before = self.entry.len();
        let outcome = self.entry.key(&event);
        let after = self.entry.len();
        let fail = |what: String| Err(Violation::new(self.target, format!("{what} after {event:?}")));
        if after > MAX_CODE_LEN {
            return fail(format!("{after} characters typed"));
        }
        match outcome {
            EntryEvent::Unchanged if after != before => fail(format!("Unchanged, but {before} -> {after}")),
            EntryEvent::Changed if after == before => fail(format!("Changed, but still {after}")),
            EntryEvent::Submit(code) => {
                self.submitted += 1;
                let good = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
                if code.is_empty() || code.len() > MAX_CODE_LEN || !code.chars().all(good) {
                    fail(format!("submitted a bad code of {} chars", code.len()))
                } else if after != 0 {
                    fail(format!("{after} characters left after submit"))
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }
}

/// Longest user name the target builds (NTLM lets the peer choose it).
const USER_MAX: usize = 300;

/// `prompt_keys`: first the screen size (two bytes, 0..=255 each: rendering cost grows with
/// it), a user name up to a zero byte, then key events of three bytes each. Invariants:
/// those of [`KeyChecker`], and the frame drawn for the result has exactly the size asked.
pub(super) fn prompt_keys(data: &[u8]) -> Result<Reached, Violation> {
    const T: &str = "prompt_keys";
    let (Some(&w), Some(&h)) = (data.first(), data.get(1)) else {
        return Ok("too short");
    };
    let rest = data.get(2..).unwrap_or_default();
    let name_end = rest.iter().position(|b| *b == 0).unwrap_or(rest.len()).min(USER_MAX);
    let user = String::from_utf8_lossy(rest.get(..name_end).unwrap_or_default()).into_owned();
    let events = rest.get(name_end.saturating_add(1)..).unwrap_or_default();

    let mut keys = KeyChecker::new(T);
    for chunk in events.chunks(3) {
        let [kind, a, b] = [0, 1, 2].map(|i| chunk.get(i).copied().unwrap_or(0));
        let event = match kind % 5 {
            0 => KeyboardEvent::Pressed {
                code: a,
                extended: b & 1 == 1,
            },
            1 => KeyboardEvent::Released {
                code: a,
                extended: b & 1 == 1,
            },
            2 => KeyboardEvent::UnicodePressed(u16::from_le_bytes([a, b])),
            3 => KeyboardEvent::UnicodeReleased(u16::from_le_bytes([a, b])),
            _ => KeyboardEvent::Synchronize(SynchronizeFlags::from_bits_truncate(a)),
        };
        keys.key(event)?;
    }

    let (width, height) = (u16::from(w), u16::from(h));
    let view = PromptView {
        user: &user,
        typed: keys.len(),
        attempts_left: b'0'.wrapping_add(w),
        notice: (!user.is_empty()).then_some(user.as_str()),
        seconds_left: u32::from(h),
    };
    let frame = render(&view, width, height);
    let stride = usize::from(width) * 4;
    if frame.width != width || frame.height != height || frame.stride != stride {
        return Err(Violation::new(T, format!("{width}x{height} drawn as {frame:?}")));
    }
    if frame.data.len() != stride * usize::from(height) {
        return Err(Violation::new(
            T,
            format!("{width}x{height} frame of {} bytes", frame.data.len()),
        ));
    }
    Ok(if keys.submitted > 0 { "submitted" } else { "typed" })
}
