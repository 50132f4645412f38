//! The session's CLIPBOARD selection (ICCCM), on its own X connection.
//!
//! Two jobs, both text only and both bounded by `max_bytes`:
//! - **Offer** text on behalf of someone outside the session (the RDP client): take the
//!   CLIPBOARD selection with [`Clipboard::offer`] before the text is known (delayed
//!   rendering, as RDP does it); when a session application asks for it,
//!   [`ClipboardEvent::TextWanted`] tells the caller to fetch it, and
//!   [`Clipboard::provide`] answers every request waiting for it. `TARGETS`, `UTF8_STRING`,
//!   `STRING` (Latin-1), `TEXT` and `text/plain;charset=utf-8` are answered; anything else,
//!   and text larger than one X request, is refused cleanly (no INCR).
//! - **Watch and read** what session applications copy: XFixes reports every change of the
//!   selection's owner ([`ClipboardEvent::SessionCopied`]); [`Clipboard::read_text`] converts
//!   the selection to `UTF8_STRING` (or `STRING`), accepting INCR transfers up to the cap.
//!
//! Nothing here knows about RDP: the caller decides what may flow where.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::xfixes::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{
    self, Atom, AtomEnum, ConnectionExt as _, CreateWindowAux, EventMask, PropMode, Property,
    SelectionNotifyEvent, SelectionRequestEvent, Window, WindowClass,
};
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;
use x11rb::NONE;

use crate::{connection, readiness, DesktopError, X11Target};

/// Session requests waiting for the client's text at once; more are refused.
pub const MAX_WAITING_REQUESTS: usize = 16;

/// Something the caller must act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClipboardEvent {
    /// A session application took the CLIPBOARD selection (it copied something).
    SessionCopied,
    /// The CLIPBOARD selection has no owner any more (its owner went away).
    SessionCleared,
    /// A session application wants the text we offer and it is not known yet: fetch it and
    /// call [`Clipboard::provide`].
    TextWanted,
}

/// What [`Clipboard::read_text`] found on the session's clipboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionText {
    Text(String),
    /// No owner, the owner refused text, or did not answer in time.
    Empty,
    /// More than `max_bytes`: nothing was kept.
    TooLarge,
}

/// The window holding the CLIPBOARD selection now (`NONE` when nobody does).
fn clipboard_owner(conn: &RustConnection, atoms: &Atoms) -> Result<Window, DesktopError> {
    Ok(conn
        .get_selection_owner(atoms.clipboard)
        .map_err(x11)?
        .reply()
        .map_err(x11)?
        .owner)
}

struct Atoms {
    clipboard: Atom,
    targets: Atom,
    utf8_string: Atom,
    text: Atom,
    text_plain_utf8: Atom,
    incr: Atom,
    /// The property on our window that conversions are delivered to.
    transfer: Atom,
}

impl Atoms {
    fn intern(conn: &RustConnection) -> Result<Self, DesktopError> {
        let atom = |name: &[u8]| -> Result<Atom, DesktopError> {
            Ok(conn
                .intern_atom(false, name)
                .map_err(x11)?
                .reply()
                .map_err(x11)?
                .atom)
        };
        Ok(Self {
            clipboard: atom(b"CLIPBOARD")?,
            targets: atom(b"TARGETS")?,
            utf8_string: atom(b"UTF8_STRING")?,
            text: atom(b"TEXT")?,
            text_plain_utf8: atom(b"text/plain;charset=utf-8")?,
            incr: atom(b"INCR")?,
            transfer: atom(b"RAMPART_CLIPBOARD")?,
        })
    }

    /// How a text target is answered: (property type, encoding).
    fn text_encoding(&self, target: Atom) -> Option<(Atom, Encoding)> {
        if target == self.utf8_string || target == self.text || target == self.text_plain_utf8 {
            Some((
                if target == self.text_plain_utf8 {
                    target
                } else {
                    self.utf8_string
                },
                Encoding::Utf8,
            ))
        } else if target == Atom::from(AtomEnum::STRING) {
            Some((AtomEnum::STRING.into(), Encoding::Latin1))
        } else {
            None
        }
    }

    fn offered_targets(&self) -> [Atom; 5] {
        [
            self.targets,
            self.utf8_string,
            self.text_plain_utf8,
            self.text,
            AtomEnum::STRING.into(),
        ]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Latin1,
}

fn x11<E: std::fmt::Display>(e: E) -> DesktopError {
    DesktopError::x11(e)
}

/// The text as ISO 8859-1 (`STRING`): characters outside it become `?`.
pub fn to_latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

/// ISO 8859-1 bytes (`STRING`) as text.
pub fn from_latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// One X connection that owns or watches the session's CLIPBOARD selection.
pub struct Clipboard {
    conn: RustConnection,
    window: Window,
    atoms: Atoms,
    max_bytes: usize,
    /// We own CLIPBOARD for text from outside the session.
    owned: bool,
    /// That text, once provided.
    offered: Option<String>,
    /// Session requests for the offered text, waiting for [`Clipboard::provide`].
    waiting: Vec<SelectionRequestEvent>,
    pending: VecDeque<ClipboardEvent>,
}

impl Clipboard {
    /// Connects, makes a hidden window and subscribes to changes of the CLIPBOARD owner.
    /// If a session application already holds the clipboard, the first event is
    /// [`ClipboardEvent::SessionCopied`].
    pub fn connect(target: &X11Target, max_bytes: usize) -> Result<Self, DesktopError> {
        let (conn, screen_num) = connection::connect(target)?;
        Self::on_connection(conn, screen_num, max_bytes)
    }

    /// [`Clipboard::connect`] over an already open connection to the target's X server.
    pub fn connect_stream(
        stream: std::os::unix::net::UnixStream,
        target: &X11Target,
        max_bytes: usize,
    ) -> Result<Self, DesktopError> {
        let (conn, screen_num) = connection::connect_stream(stream, target)?;
        Self::on_connection(conn, screen_num, max_bytes)
    }

    fn on_connection(
        conn: x11rb::rust_connection::RustConnection,
        screen_num: usize,
        max_bytes: usize,
    ) -> Result<Self, DesktopError> {
        if conn
            .extension_information(xfixes::X11_EXTENSION_NAME)
            .map_err(x11)?
            .is_none()
        {
            return Err(DesktopError::Unsupported("XFIXES".into()));
        }
        // SelectSelectionInput needs XFixes 2 or later.
        let version = conn
            .xfixes_query_version(5, 0)
            .map_err(x11)?
            .reply()
            .map_err(x11)?;
        if version.major_version < 2 {
            return Err(DesktopError::Unsupported("XFIXES 2".into()));
        }
        let root = conn
            .setup()
            .roots
            .get(screen_num)
            .map(|s| s.root)
            .ok_or_else(|| DesktopError::X11(format!("no screen {screen_num}")))?;
        let atoms = Atoms::intern(&conn)?;
        let window = conn.generate_id().map_err(x11)?;
        conn.create_window(
            0,
            window,
            root,
            -10,
            -10,
            1,
            1,
            0,
            WindowClass::INPUT_ONLY,
            0,
            &CreateWindowAux::new().event_mask(EventMask::PROPERTY_CHANGE),
        )
        .map_err(x11)?;
        conn.xfixes_select_selection_input(
            window,
            atoms.clipboard,
            xfixes::SelectionEventMask::SET_SELECTION_OWNER
                | xfixes::SelectionEventMask::SELECTION_WINDOW_DESTROY
                | xfixes::SelectionEventMask::SELECTION_CLIENT_CLOSE,
        )
        .map_err(x11)?;
        let owner = clipboard_owner(&conn, &atoms)?;
        let mut pending = VecDeque::new();
        if owner != NONE {
            pending.push_back(ClipboardEvent::SessionCopied);
        }
        conn.flush().map_err(x11)?;
        Ok(Self {
            conn,
            window,
            atoms,
            max_bytes,
            owned: false,
            offered: None,
            waiting: Vec::new(),
            pending,
        })
    }

    /// Whether we hold the CLIPBOARD selection (for text from outside the session).
    pub fn offering(&self) -> bool {
        self.owned
    }

    /// Whether a session application holds the CLIPBOARD selection.
    pub fn session_owned(&self) -> Result<bool, DesktopError> {
        let owner = clipboard_owner(&self.conn, &self.atoms)?;
        Ok(owner != NONE && owner != self.window)
    }

    /// Takes the CLIPBOARD selection for text that will be fetched when someone asks for it.
    /// Any earlier offer (and requests waiting on it) is dropped.
    pub fn offer(&mut self) -> Result<(), DesktopError> {
        self.refuse_waiting()?;
        self.offered = None;
        self.conn
            .set_selection_owner(self.window, self.atoms.clipboard, x11rb::CURRENT_TIME)
            .map_err(x11)?;
        let owner = clipboard_owner(&self.conn, &self.atoms)?;
        self.owned = owner == self.window;
        if !self.owned {
            return Err(DesktopError::X11(
                "could not take the CLIPBOARD selection".into(),
            ));
        }
        Ok(())
    }

    /// The offered text (or `None`: it could not be had), answering every waiting request;
    /// later requests for the same offer are answered from it at once.
    pub fn provide(&mut self, text: Option<String>) -> Result<(), DesktopError> {
        if !self.owned {
            return self.refuse_waiting();
        }
        let waiting = std::mem::take(&mut self.waiting);
        for request in &waiting {
            self.answer(request, text.as_deref())?;
        }
        self.offered = text;
        self.conn.flush().map_err(x11)?;
        Ok(())
    }

    /// Whether session requests are waiting for the offered text.
    pub fn text_wanted(&self) -> bool {
        !self.waiting.is_empty()
    }

    fn refuse_waiting(&mut self) -> Result<(), DesktopError> {
        let waiting = std::mem::take(&mut self.waiting);
        for request in &waiting {
            self.answer(request, None)?;
        }
        self.conn.flush().map_err(x11)?;
        Ok(())
    }

    /// Waits up to `timeout` for something the caller must act on.
    pub fn next_event(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<ClipboardEvent>, DesktopError> {
        let deadline = Instant::now() + timeout;
        loop {
            while let Some(event) = self.conn.poll_for_event().map_err(x11)? {
                self.dispatch(event)?;
            }
            if let Some(event) = self.pending.pop_front() {
                return Ok(Some(event));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            self.conn.flush().map_err(x11)?;
            if !readiness::wait_readable(self.conn.stream(), deadline - now)
                .map_err(|e| DesktopError::io("waiting for x events", e))?
            {
                return Ok(None);
            }
        }
    }

    /// Handles one X event that is not the answer to our own conversion.
    fn dispatch(&mut self, event: Event) -> Result<(), DesktopError> {
        match event {
            Event::SelectionRequest(request) => self.on_request(request)?,
            Event::SelectionClear(clear) if clear.selection == self.atoms.clipboard => {
                // Someone else copied; XFixes reports them separately.
                self.owned = false;
                self.offered = None;
                self.refuse_waiting()?;
            }
            Event::XfixesSelectionNotify(notify) if notify.selection == self.atoms.clipboard => {
                if notify.owner == self.window {
                    // Our own offer.
                } else if notify.owner == NONE {
                    self.push(ClipboardEvent::SessionCleared);
                } else {
                    self.push(ClipboardEvent::SessionCopied);
                }
            }
            Event::Error(e) => tracing::debug!(error = ?e, "x error on clipboard connection"),
            _ => {}
        }
        Ok(())
    }

    /// Queues `event`, merging it with a queued one of the same kind (a burst of copies is
    /// one change to report; the queue never grows past one of each kind).
    fn push(&mut self, event: ClipboardEvent) {
        if matches!(
            event,
            ClipboardEvent::SessionCopied | ClipboardEvent::SessionCleared
        ) {
            self.pending.retain(|e| {
                !matches!(
                    e,
                    ClipboardEvent::SessionCopied | ClipboardEvent::SessionCleared
                )
            });
        } else if self.pending.contains(&event) {
            return;
        }
        self.pending.push_back(event);
    }

    fn on_request(&mut self, request: SelectionRequestEvent) -> Result<(), DesktopError> {
        let ours =
            self.owned && request.owner == self.window && request.selection == self.atoms.clipboard;
        let wants_text = self.atoms.text_encoding(request.target).is_some();
        if !ours || (!wants_text && request.target != self.atoms.targets) {
            return self.answer(&request, None);
        }
        if request.target == self.atoms.targets || self.offered.is_some() {
            let text = self.offered.clone();
            return self.answer(&request, text.as_deref());
        }
        if self.waiting.len() >= MAX_WAITING_REQUESTS {
            return self.answer(&request, None);
        }
        let first = self.waiting.is_empty();
        self.waiting.push(request);
        if first {
            self.push(ClipboardEvent::TextWanted);
        }
        Ok(())
    }

    /// Answers one request: the target list, the text in the encoding asked for, or a
    /// refusal (property None) when there is no text, the target is not text, or the text
    /// would not fit in one request.
    fn answer(
        &self,
        request: &SelectionRequestEvent,
        text: Option<&str>,
    ) -> Result<(), DesktopError> {
        // Obsolete clients name no property: the target doubles as one (ICCCM 2.2).
        let property = if request.property == NONE {
            request.target
        } else {
            request.property
        };
        let delivered = if request.target == self.atoms.targets && self.owned {
            self.conn
                .change_property32(
                    PropMode::REPLACE,
                    request.requestor,
                    property,
                    AtomEnum::ATOM,
                    &self.atoms.offered_targets(),
                )
                .map_err(x11)?;
            true
        } else {
            match (text, self.atoms.text_encoding(request.target)) {
                (Some(text), Some((kind, encoding))) => {
                    let bytes = match encoding {
                        Encoding::Utf8 => text.as_bytes().to_vec(),
                        Encoding::Latin1 => to_latin1(text),
                    };
                    // One ChangeProperty request: its header is 24 bytes.
                    if bytes.len() + 64 > self.conn.maximum_request_bytes()
                        || bytes.len() > self.max_bytes
                    {
                        tracing::debug!(
                            bytes = bytes.len(),
                            "clipboard text too large for one x request; refused"
                        );
                        false
                    } else {
                        self.conn
                            .change_property8(
                                PropMode::REPLACE,
                                request.requestor,
                                property,
                                kind,
                                &bytes,
                            )
                            .map_err(x11)?;
                        true
                    }
                }
                _ => false,
            }
        };
        let notify = SelectionNotifyEvent {
            response_type: xproto::SELECTION_NOTIFY_EVENT,
            sequence: 0,
            time: request.time,
            requestor: request.requestor,
            selection: request.selection,
            target: request.target,
            property: if delivered { property } else { NONE },
        };
        self.conn
            .send_event(false, request.requestor, EventMask::NO_EVENT, notify)
            .map_err(x11)?;
        Ok(())
    }

    /// Reads the session's clipboard as text, waiting at most `timeout` for its owner.
    /// Our own offer is answered from what was provided.
    pub fn read_text(&mut self, timeout: Duration) -> Result<SessionText, DesktopError> {
        if self.owned {
            return Ok(self
                .offered
                .clone()
                .map_or(SessionText::Empty, SessionText::Text));
        }
        let deadline = Instant::now() + timeout;
        let utf8 = self.atoms.utf8_string;
        match self.convert(utf8, deadline)? {
            SessionText::Empty => self.convert(AtomEnum::STRING.into(), deadline),
            found => Ok(found),
        }
    }

    /// Asks the owner for `target` into our transfer property and reads the result.
    fn convert(&mut self, target: Atom, deadline: Instant) -> Result<SessionText, DesktopError> {
        let transfer = self.atoms.transfer;
        self.conn
            .delete_property(self.window, transfer)
            .map_err(x11)?;
        self.conn
            .convert_selection(
                self.window,
                self.atoms.clipboard,
                target,
                transfer,
                x11rb::CURRENT_TIME,
            )
            .map_err(x11)?;
        self.conn.flush().map_err(x11)?;
        tracing::debug!(target_atom = target, "asking the clipboard owner for text");
        let Some(notify) = self.wait_for(deadline, |this, event| match event {
            Event::SelectionNotify(n)
                if n.requestor == this.window && n.selection == this.atoms.clipboard =>
            {
                Some(*n)
            }
            _ => None,
        })?
        else {
            return Ok(SessionText::Empty);
        };
        tracing::debug!(delivered = notify.property != NONE, "clipboard owner answered");
        if notify.property == NONE {
            return Ok(SessionText::Empty);
        }
        let reply = self.take_property()?;
        if reply.type_ == self.atoms.incr {
            return self.read_incr(target, deadline);
        }
        if reply.bytes_after > 0 || reply.value.len() > self.max_bytes {
            return Ok(SessionText::TooLarge);
        }
        Ok(self.decode(target, &reply.value))
    }

    /// An INCR transfer (ICCCM 2.7.2): the owner sends chunks, each after we deleted the
    /// last; a zero-length chunk ends it. Stops at the size cap or the deadline.
    fn read_incr(&mut self, target: Atom, deadline: Instant) -> Result<SessionText, DesktopError> {
        let mut data = Vec::new();
        loop {
            let transfer = self.atoms.transfer;
            let window = self.window;
            let Some(()) = self.wait_for(deadline, |_, event| match event {
                Event::PropertyNotify(p)
                    if p.window == window
                        && p.atom == transfer
                        && p.state == Property::NEW_VALUE =>
                {
                    Some(())
                }
                _ => None,
            })?
            else {
                return Ok(SessionText::Empty);
            };
            let reply = self.take_property()?;
            if reply.value.is_empty() {
                return Ok(self.decode(target, &data));
            }
            if reply.bytes_after > 0 || data.len() + reply.value.len() > self.max_bytes {
                // Deleting the property made the owner send more; it gives up once we stop
                // (ICCCM leaves the requestor free to abandon a transfer).
                self.conn
                    .delete_property(self.window, transfer)
                    .map_err(x11)?;
                return Ok(SessionText::TooLarge);
            }
            data.extend_from_slice(&reply.value);
        }
    }

    /// Reads and deletes our transfer property, at most `max_bytes` (plus one word, to know
    /// whether there was more).
    fn take_property(&self) -> Result<xproto::GetPropertyReply, DesktopError> {
        let words = u32::try_from(self.max_bytes / 4 + 2).unwrap_or(u32::MAX);
        self.conn
            .get_property(
                true,
                self.window,
                self.atoms.transfer,
                AtomEnum::ANY,
                0,
                words,
            )
            .map_err(x11)?
            .reply()
            .map_err(x11)
    }

    fn decode(&self, target: Atom, bytes: &[u8]) -> SessionText {
        let text = if target == Atom::from(AtomEnum::STRING) {
            from_latin1(bytes)
        } else {
            String::from_utf8_lossy(bytes).into_owned()
        };
        SessionText::Text(text)
    }

    /// Waits until `want` picks an event (other events are handled as usual) or the deadline.
    fn wait_for<T>(
        &mut self,
        deadline: Instant,
        want: impl Fn(&Self, &Event) -> Option<T>,
    ) -> Result<Option<T>, DesktopError> {
        loop {
            while let Some(event) = self.conn.poll_for_event().map_err(x11)? {
                if let Some(found) = want(self, &event) {
                    return Ok(Some(found));
                }
                self.dispatch(event)?;
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            self.conn.flush().map_err(x11)?;
            readiness::wait_readable(self.conn.stream(), deadline - now)
                .map_err(|e| DesktopError::io("waiting for x events", e))?;
        }
    }
}

impl Drop for Clipboard {
    fn drop(&mut self) {
        // Requests still waiting get a refusal rather than a hang; the window (and with it
        // our ownership) goes with the connection.
        let _ = self.refuse_waiting();
        let _ = self.conn.destroy_window(self.window);
        let _ = self.conn.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_round_trip_and_replacement() {
        assert_eq!(to_latin1("Grüße"), b"Gr\xfc\xdfe".to_vec());
        assert_eq!(from_latin1(b"Gr\xfc\xdfe"), "Grüße");
        // Outside Latin-1: one '?' per character, not per byte.
        assert_eq!(to_latin1("日本 ✓"), b"?? ?".to_vec());
    }
}
