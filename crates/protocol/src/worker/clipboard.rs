//! The worker's side of the clipboard: a `cliprdr` backend for IronRDP's server and a
//! bridge thread between it and the session's X CLIPBOARD selection.
//!
//! MS-RDPECLIP uses delayed rendering both ways: a Format List says "I have text", and the
//! text itself moves only when the other side pastes (Format Data Request / Response).
//! - Session to client: the bridge hears (XFixes) that a session application copied and
//!   sends a Format List with CF_UNICODETEXT; when the client pastes it asks for the data,
//!   and the bridge reads the selection then, converts it and answers.
//! - Client to session: a Format List with CF_UNICODETEXT makes the bridge take CLIPBOARD
//!   in the session; when a session application pastes, the bridge asks the client for the
//!   data and answers the application with it.
//!
//! The backend's callbacks run on the connection's task and never block: they pass
//! messages to the bridge over a bounded channel. The bridge exists only once the
//! supervisor granted the session; before that (at the two-step prompt) data requests are
//! refused and only the fact that the client offers text is remembered.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ironrdp_cliprdr::backend::{ClipboardMessage, CliprdrBackend, CliprdrBackendFactory};
use ironrdp_cliprdr::pdu::{
    ClipboardFormat, ClipboardFormatId, ClipboardGeneralCapabilityFlags, FileContentsRequest, FileContentsResponse,
    FormatDataRequest, FormatDataResponse, LockDataId, OwnedFormatDataResponse,
};
use ironrdp_server::{CliprdrServerFactory, ServerEvent, ServerEventSender};
use rampart_desktop::{Clipboard, ClipboardEvent, SessionText, X11Target};
use tokio::sync::mpsc::UnboundedSender;
use tracing::{debug, info, warn};

use crate::clipboard::text::{from_unicode_text, to_unicode_text};
use crate::clipboard::{ClipboardGrant, Direction, TransferOutcome};
use crate::ipc::ToSupervisor;
use crate::worker::SharedChannel;

/// Messages from the connection's task to the bridge waiting at most this many at once; a
/// client that floods the channel gets refusals, not memory.
const BRIDGE_QUEUE: usize = 32;
/// How long the bridge waits for the client's text before refusing the session's paste.
const CLIENT_ANSWER_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the bridge waits for a session application to hand over its text.
const SESSION_ANSWER_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the bridge looks at the client's messages while X is quiet.
const BRIDGE_POLL: Duration = Duration::from_millis(25);

/// What the client did, for the bridge.
#[derive(Debug)]
enum FromClient {
    /// The client's clipboard changed: it has text (CF_UNICODETEXT) or not. `initial`: the
    /// list the client sends when the channel starts (what it held when it connected), not
    /// a copy made during the connection.
    Copied { text: bool, initial: bool },
    /// The client pastes: it wants the session's text.
    Wants,
    /// The client's answer to our request for its text (`None`: it refused).
    Data(Option<Vec<u8>>),
    /// The client's answer was too large to be text under the cap; it was not copied.
    TooLarge,
}

/// Shared by the backend factory, each backend and the desktop link.
#[derive(Debug, Default)]
pub(crate) struct ClipboardLink {
    /// IronRDP's event queue for this connection (set when the server is built).
    events: Mutex<Option<UnboundedSender<ServerEvent>>>,
    /// The bridge, once the session is granted.
    bridge: Mutex<Option<SyncSender<FromClient>>>,
    /// Whether the client's latest Format List offered text (kept from before the grant),
    /// and whether that list was the initial one.
    client_has_text: AtomicBool,
    client_list_initial: AtomicBool,
    /// The client finished the channel's initialization (its first Format List arrived):
    /// only then is it told what the session holds.
    ready: AtomicBool,
    /// The granted size cap (0 before the grant), for sizing the client's answers up front.
    max_bytes: AtomicUsize,
}

impl ClipboardLink {
    fn send_event(&self, message: ClipboardMessage) {
        let sender = self.events.lock().ok().and_then(|s| s.clone());
        if let Some(sender) = sender {
            let _ = sender.send(ServerEvent::Clipboard(message));
        }
    }

    fn refuse_client_request(&self) {
        self.send_event(ClipboardMessage::SendFormatData(OwnedFormatDataResponse::new_error()));
    }

    /// Passes `message` to the bridge; `false` if there is none or it is busy.
    fn to_bridge(&self, message: FromClient) -> bool {
        let bridge = self.bridge.lock().ok().and_then(|b| b.clone());
        match bridge.map(|b| b.try_send(message)) {
            Some(Ok(())) => true,
            Some(Err(TrySendError::Full(_))) => {
                debug!("clipboard bridge busy; client message refused");
                false
            }
            Some(Err(TrySendError::Disconnected(_))) | None => {
                debug!("no clipboard bridge (no session yet, or clipboard off)");
                false
            }
        }
    }

    /// Starts the bridge to the granted session's display (once; a no-op when the policy
    /// is off). Called by the desktop link right after the supervisor's grant.
    pub(crate) fn start(
        self: &Arc<Self>,
        dial: impl FnOnce() -> anyhow::Result<std::os::unix::net::UnixStream>,
        target: &X11Target,
        grant: ClipboardGrant,
        reports: SharedChannel,
    ) {
        if grant.policy == crate::clipboard::ClipboardPolicy::Off {
            info!("clipboard off for this session");
            return;
        }
        let Ok(mut slot) = self.bridge.lock() else {
            return;
        };
        if slot.is_some() {
            return;
        }
        let max_bytes = usize::try_from(grant.max_bytes).unwrap_or(usize::MAX);
        self.max_bytes.store(max_bytes, Ordering::SeqCst);
        let connected = dial().and_then(|stream| Ok(Clipboard::connect_stream(stream, target, max_bytes)?));
        let clipboard = match connected {
            Ok(clipboard) => clipboard,
            Err(err) => {
                warn!(%err, "clipboard unavailable for this session");
                return;
            }
        };
        let (tx, rx) = std::sync::mpsc::sync_channel(BRIDGE_QUEUE);
        let bridge = Bridge {
            link: Arc::clone(self),
            clipboard,
            grant,
            max_bytes,
            reports,
            asked_client: None,
            announce: None,
        };
        match std::thread::Builder::new().name("clipboard".into()).spawn(move || bridge.run(&rx)) {
            Ok(_) => {
                *slot = Some(tx);
                info!(policy = %grant.policy, max_bytes, "clipboard started");
            }
            Err(err) => warn!(%err, "cannot start the clipboard thread"),
        }
    }
}

/// Handed to IronRDP's builder: makes one backend per connection activation.
pub(crate) struct ClipboardFactory {
    link: Arc<ClipboardLink>,
}

impl ClipboardFactory {
    pub(crate) fn new(link: Arc<ClipboardLink>) -> Self {
        Self { link }
    }
}

impl CliprdrBackendFactory for ClipboardFactory {
    fn build_cliprdr_backend(&self) -> Box<dyn CliprdrBackend> {
        Box::new(ClipboardBackend {
            link: Arc::clone(&self.link),
            initial_list: false,
        })
    }
}

impl ServerEventSender for ClipboardFactory {
    fn set_sender(&mut self, sender: UnboundedSender<ServerEvent>) {
        if let Ok(mut slot) = self.link.events.lock() {
            *slot = Some(sender);
        }
    }
}

impl CliprdrServerFactory for ClipboardFactory {}

/// IronRDP's view of the clipboard: text only, no files, no locks.
#[derive(Debug)]
struct ClipboardBackend {
    link: Arc<ClipboardLink>,
    /// The next Format List is the one that completes the channel's initialization.
    initial_list: bool,
}

ironrdp_core::impl_as_any!(ClipboardBackend);

impl CliprdrBackend for ClipboardBackend {
    fn temporary_directory(&self) -> &str {
        // Only clients send one; file transfer is not offered.
        ""
    }

    fn client_capabilities(&self) -> ClipboardGeneralCapabilityFlags {
        // Long format names only (added by IronRDP); no file streams, no clipboard locks.
        ClipboardGeneralCapabilityFlags::empty()
    }

    fn on_ready(&mut self) {
        debug!("clipboard channel ready");
        self.link.ready.store(true, Ordering::SeqCst);
        // IronRDP calls this on the client's first Format List, just before handing it over.
        self.initial_list = true;
    }

    fn on_request_format_list(&mut self) {}

    fn on_process_negotiated_capabilities(&mut self, _capabilities: ClipboardGeneralCapabilityFlags) {}

    fn on_remote_copy(&mut self, available_formats: &[ClipboardFormat]) {
        let text = available_formats.iter().any(|f| f.id() == ClipboardFormatId::CF_UNICODETEXT);
        let initial = std::mem::take(&mut self.initial_list);
        self.link.client_has_text.store(text, Ordering::SeqCst);
        self.link.client_list_initial.store(initial, Ordering::SeqCst);
        self.link.to_bridge(FromClient::Copied { text, initial });
    }

    fn on_format_data_request(&mut self, request: FormatDataRequest) {
        debug!(format = request.format.value(), "client asks for clipboard data");
        if request.format != ClipboardFormatId::CF_UNICODETEXT || !self.link.to_bridge(FromClient::Wants) {
            self.link.refuse_client_request();
        }
    }

    fn on_format_data_response(&mut self, response: FormatDataResponse<'_>) {
        // CF_UNICODETEXT takes at most 4 bytes per byte of UTF-8 text (a LF becomes CRLF in
        // UTF-16), plus the NUL: anything larger is over the cap whatever it says, and is
        // not copied at all.
        let limit = self.link.max_bytes.load(Ordering::SeqCst).saturating_mul(4).saturating_add(2);
        let message = if response.is_error() {
            FromClient::Data(None)
        } else if response.data().len() > limit {
            FromClient::TooLarge
        } else {
            FromClient::Data(Some(response.data().to_vec()))
        };
        self.link.to_bridge(message);
    }

    fn on_file_contents_request(&mut self, request: FileContentsRequest) {
        // No file list was ever offered: refuse rather than leave the client waiting.
        self.link
            .send_event(ClipboardMessage::SendFileContentsResponse(FileContentsResponse::new_error(
                request.stream_id,
            )));
    }

    fn on_file_contents_response(&mut self, _response: FileContentsResponse<'_>) {}

    fn on_lock(&mut self, _data_id: LockDataId) {}

    fn on_unlock(&mut self, _data_id: LockDataId) {}
}

/// The thread between the client's messages and the session's X selection.
struct Bridge {
    link: Arc<ClipboardLink>,
    clipboard: Clipboard,
    grant: ClipboardGrant,
    max_bytes: usize,
    reports: SharedChannel,
    /// When we asked the client for its text (a session application is waiting).
    asked_client: Option<Instant>,
    /// What to tell the client about the session's clipboard once its channel is ready
    /// (`true`: it holds text; `false`: it is empty).
    announce: Option<bool>,
}

impl Bridge {
    fn run(mut self, rx: &Receiver<FromClient>) {
        if let Err(err) = self.serve(rx) {
            warn!(%err, "clipboard stopped");
        }
        debug!("clipboard bridge ended");
    }

    fn allows(&self, direction: Direction) -> bool {
        self.grant.policy.allows(direction)
    }

    fn serve(&mut self, rx: &Receiver<FromClient>) -> Result<(), rampart_desktop::DesktopError> {
        // The client may have copied before the session existed (e.g. at the prompt).
        let initial = self.link.client_list_initial.load(Ordering::SeqCst);
        if self.link.client_has_text.load(Ordering::SeqCst) {
            self.client_copied(initial)?;
        }
        loop {
            loop {
                match rx.try_recv() {
                    Ok(message) => self.on_client(message)?,
                    Err(std::sync::mpsc::TryRecvError::Empty) => break,
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => return Ok(()),
                }
            }
            if self.announce.is_some() && self.link.ready.load(Ordering::SeqCst) {
                // Delayed rendering: the text itself is read only when the client pastes.
                let formats = match self.announce.take() {
                    Some(true) => vec![ClipboardFormat::new(ClipboardFormatId::CF_UNICODETEXT)],
                    _ => Vec::new(),
                };
                self.link.send_event(ClipboardMessage::SendInitiateCopy(formats));
            }
            if self.asked_client.is_some_and(|at| at.elapsed() > CLIENT_ANSWER_TIMEOUT) {
                debug!("the client did not send its clipboard text in time");
                self.asked_client = None;
                self.clipboard.provide(None)?;
            }
            match self.clipboard.next_event(BRIDGE_POLL)? {
                Some(ClipboardEvent::SessionCopied) if self.allows(Direction::ToClient) => self.announce = Some(true),
                Some(ClipboardEvent::SessionCleared) if self.allows(Direction::ToClient) => self.announce = Some(false),
                Some(ClipboardEvent::TextWanted) if self.asked_client.is_none() => {
                    self.link
                        .send_event(ClipboardMessage::SendInitiatePaste(ClipboardFormatId::CF_UNICODETEXT));
                    self.asked_client = Some(Instant::now());
                }
                _ => {}
            }
        }
    }

    fn on_client(&mut self, message: FromClient) -> Result<(), rampart_desktop::DesktopError> {
        match message {
            FromClient::Copied { text, initial } => {
                if text {
                    self.client_copied(initial)?;
                } else if self.clipboard.offering() {
                    // The client's clipboard no longer holds text: forget the old text, so
                    // a paste in the session asks again (and is refused) rather than
                    // pasting something the client has replaced.
                    self.asked_client = None;
                    self.clipboard.provide(None)?;
                }
            }
            FromClient::Wants => {
                debug!("client pastes");
                self.send_session_text()?;
            }
            FromClient::TooLarge => {
                if self.asked_client.take().is_some() {
                    self.report(Direction::ToServer, self.max_bytes.saturating_add(1), TransferOutcome::OverCap);
                    self.clipboard.provide(None)?;
                }
            }
            FromClient::Data(data) => {
                if self.asked_client.take().is_none() {
                    debug!("clipboard data the bridge did not ask for; dropped");
                    return Ok(());
                }
                let text = data.map(|bytes| from_unicode_text(&bytes));
                match text {
                    Some(text) if text.len() > self.max_bytes => {
                        self.report(Direction::ToServer, text.len(), TransferOutcome::OverCap);
                        self.clipboard.provide(None)?;
                    }
                    Some(text) => {
                        self.report(Direction::ToServer, text.len(), TransferOutcome::Delivered);
                        self.clipboard.provide(Some(text))?;
                    }
                    None => self.clipboard.provide(None)?,
                }
            }
        }
        Ok(())
    }

    /// The client has text: offer it in the session, except that what the client held when
    /// it connected does not replace what a session application copied (a client coming
    /// back to its session finds the session's clipboard as it left it).
    fn client_copied(&mut self, initial: bool) -> Result<(), rampart_desktop::DesktopError> {
        if !self.allows(Direction::ToServer) {
            return Ok(());
        }
        if initial && self.clipboard.session_owned()? {
            debug!("the session's clipboard is kept over the client's at connect");
            return Ok(());
        }
        self.asked_client = None;
        self.clipboard.offer()
    }

    /// The client pastes: read the session's text now and answer.
    fn send_session_text(&mut self) -> Result<(), rampart_desktop::DesktopError> {
        if !self.allows(Direction::ToClient) || self.clipboard.offering() {
            // Nothing of the session's was announced; our own offer is the client's text.
            self.link.refuse_client_request();
            return Ok(());
        }
        let found = self.clipboard.read_text(SESSION_ANSWER_TIMEOUT)?;
        debug!(found = match &found {
            SessionText::Text(_) => "text",
            SessionText::Empty => "nothing",
            SessionText::TooLarge => "too large",
        }, "client pastes the session's clipboard");
        match found {
            SessionText::Text(text) if text.len() <= self.max_bytes => {
                self.report(Direction::ToClient, text.len(), TransferOutcome::Delivered);
                self.link.send_event(ClipboardMessage::SendFormatData(OwnedFormatDataResponse::new_data(
                    to_unicode_text(&text),
                )));
            }
            SessionText::Text(text) => {
                self.report(Direction::ToClient, text.len(), TransferOutcome::OverCap);
                self.link.refuse_client_request();
            }
            SessionText::TooLarge => {
                self.report(Direction::ToClient, self.max_bytes.saturating_add(1), TransferOutcome::OverCap);
                self.link.refuse_client_request();
            }
            SessionText::Empty => self.link.refuse_client_request(),
        }
        Ok(())
    }

    /// Tells the supervisor what moved (never what it was).
    fn report(&self, direction: Direction, bytes: usize, outcome: TransferOutcome) {
        info!(direction = direction.code(), bytes, ?outcome, "clipboard transfer");
        let message = ToSupervisor::ClipboardTransfer {
            direction,
            bytes: u64::try_from(bytes).unwrap_or(u64::MAX),
            outcome,
        };
        match self.reports.lock() {
            Ok(mut channel) => {
                if let Err(err) = channel.send(&message) {
                    warn!(%err, "cannot report a clipboard transfer");
                }
            }
            Err(_) => warn!("ipc channel poisoned; clipboard transfer not reported"),
        }
    }
}
