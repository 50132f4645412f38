//! The narrow channel between the privileged supervisor and an unprivileged
//! per-connection worker: one JSON object per line over a Unix socket pair.
//!
//! The worker parses untrusted network bytes, so the supervisor treats everything the
//! worker says as a claim: lines are bounded in length, unknown messages end the worker,
//! and the supervisor decides authentication itself. Secrets stay on the supervisor's side:
//! the worker asks for the TLS handshake signature (`SignHandshake`) instead of holding the
//! key, and for the NTLM challenge and the check of the client's NTLMv2 proof
//! (`NtlmChallenge`, `NtlmVerify`) instead of holding NT hashes; it gets back a signature
//! and, on success only, the session key.

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::os::unix::net::UnixStream;

use serde::{Deserialize, Serialize};

use crate::clipboard::{ClipboardGrant, Direction, TransferOutcome};

/// Longest line either side accepts (the Init message carries the PEM certificate chain).
pub const MAX_LINE: usize = 64 * 1024;

/// Longest message the worker may ask to have signed (a TLS 1.2 ServerKeyExchange with a
/// P-521 share is 201 bytes, a TLS 1.3 CertificateVerify input 146).
pub const MAX_SIGN_INPUT: usize = 512;

/// Longest close reason a worker may report (it goes into the audit trail as is).
pub const MAX_REASON_LEN: usize = 200;

/// Longest code the worker may submit (recovery codes are 10 characters plus a dash).
pub const MAX_CODE_LEN: usize = 32;

/// Supervisor to worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum ToWorker {
    /// First message: everything the worker needs to serve one connection.
    Init(WorkerInit),
    /// Answer to `SignHandshake`.
    HandshakeSignature { signature: HexBytes },
    /// Answer to `NtlmChallenge`: the server challenge and the time (FILETIME) to send.
    NtlmChallenge { challenge: HexBytes, timestamp: u64 },
    /// Answer to `NtlmVerify`.
    NtlmVerdict(NtlmVerdict),
    /// Answer to `VerifyCode`.
    CodeResult(CodeVerdict),
    /// Answer to `OpenSession`.
    Session(SessionGrant),
    /// Answer to `OpenSession` when no session could be made.
    SessionRefused { reason: String },
    /// Answer to `OpenDisplay`: the descriptor of a connection to the granted display
    /// travels with this line.
    Display,
    /// Answer to `OpenDisplay` when no connection could be made.
    DisplayRefused { reason: String },
}

#[derive(Clone, Serialize, Deserialize)]
pub struct WorkerInit {
    pub connection: u64,
    pub peer: SocketAddr,
    /// The certificate chain only: the key stays with the supervisor.
    pub cert_pem: String,
    /// The TLS signature schemes the supervisor's key signs with, in order of preference.
    pub signature_schemes: Vec<u16>,
    pub max_preauth_bytes: u64,
    pub default_width: u16,
    pub default_height: u16,
    /// What the worker gives up before it reads a byte from the peer (`None` only with
    /// `insecure_no_privsep`).
    pub confinement: Option<crate::worker::confine::Confinement>,
    /// Offer the clipboard channel at all (some user may use it); which way text may move
    /// comes with the session grant.
    #[serde(default)]
    pub clipboard: bool,
    /// Offer the graphics pipeline with H.264 (`[display] h264`).
    #[serde(default)]
    pub h264: bool,
}

impl std::fmt::Debug for WorkerInit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerInit")
            .field("connection", &self.connection)
            .field("peer", &self.peer)
            .field("signature_schemes", &self.signature_schemes)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShadowTarget {
    pub display: String,
    pub cookie_hex: Option<String>,
    pub view_only: bool,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct SessionGrant {
    pub display: String,
    pub cookie_hex: Option<String>,
    pub width: u16,
    pub height: u16,
    pub resumed: bool,
    /// Shadow mode without input: the worker connects no input to the display.
    #[serde(default)]
    pub view_only: bool,
    /// The display is the user's own session: the worker may resize it to the client.
    #[serde(default)]
    pub resizable: bool,
    /// Which way text may cross the clipboard, and how much at once (missing: off).
    #[serde(default)]
    pub clipboard: ClipboardGrant,
}

impl std::fmt::Debug for SessionGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionGrant")
            .field("display", &self.display)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("resumed", &self.resumed)
            .field("view_only", &self.view_only)
            .field("clipboard", &self.clipboard)
            .finish_non_exhaustive()
    }
}

/// The two-step prompt the worker must show after NLA. The supervisor enforces it: it
/// grants no session until a code passes, and kills the worker at the deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondFactorPlan {
    /// Wrong codes allowed before the connection closes.
    pub attempts: u8,
    /// Seconds the prompt stays up.
    pub timeout_secs: u32,
    /// The user has a TOTP secret; if not, the prompt only explains why it cannot go on.
    pub enrolled: bool,
}

/// The supervisor's answer to one typed code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeVerdict {
    pub accepted: bool,
    pub attempts_left: u8,
    /// One line for the prompt, e.g. "Wrong code." (never echoes the code).
    pub notice: String,
}

/// The supervisor's answer to `NtlmVerify`: the session key and who logged in when the proof
/// verified and the account may log in now; nothing else otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NtlmVerdict {
    pub session_key: Option<SessionKeyHex>,
    /// The account's canonical name.
    pub user: Option<String>,
    /// The two-step prompt due before any session, if any.
    pub second_factor: Option<SecondFactorPlan>,
}

/// What the worker's NTLM server read from the client's AUTHENTICATE message, for the
/// supervisor to verify (bounds: `rampart_auth::ntlm`). `Debug` shows no response bytes: a
/// whole NtChallengeResponse is crackable offline (NetNTLMv2).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NtlmClaim {
    pub user: String,
    pub domain: String,
    pub nt_response: HexBytes,
    pub encrypted_session_key: Option<HexBytes>,
    pub flags: u32,
}

impl std::fmt::Debug for NtlmClaim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NtlmClaim")
            .field("user", &self.user)
            .field("domain", &self.domain)
            .field("nt_response_len", &self.nt_response.0.len())
            .field("flags", &format_args!("{:#010x}", self.flags))
            .finish_non_exhaustive()
    }
}

impl NtlmClaim {
    /// The claim as the fields `rampart_auth::ntlm::verify` takes.
    pub fn fields(&self) -> rampart_auth::ntlm::AuthenticateFields<'_> {
        rampart_auth::ntlm::AuthenticateFields {
            user: &self.user,
            domain: &self.domain,
            nt_response: &self.nt_response.0,
            encrypted_random_session_key: self.encrypted_session_key.as_ref().map(|k| k.0.as_slice()),
            negotiate_flags: self.flags,
        }
    }
}

/// Bytes carried as a hex string. `Debug` shows the length only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HexBytes(pub Vec<u8>);

impl std::fmt::Debug for HexBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HexBytes(<{} bytes>)", self.0.len())
    }
}

impl Serialize for HexBytes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for HexBytes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        hex::decode(text.as_bytes()).map(Self).map_err(serde::de::Error::custom)
    }
}

/// The NTLM ExportedSessionKey on its way to the worker of a verified exchange: zeroized on
/// drop, redacted in `Debug`.
#[derive(Clone, PartialEq, Eq, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub struct SessionKeyHex(pub [u8; 16]);

impl std::fmt::Debug for SessionKeyHex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKeyHex(<redacted>)")
    }
}

impl Serialize for SessionKeyHex {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = zeroize::Zeroizing::new(hex::encode(self.0));
        serializer.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for SessionKeyHex {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = zeroize::Zeroizing::new(String::deserialize(deserializer)?);
        let mut key = [0u8; 16];
        hex::decode_to_slice(text.as_bytes(), &mut key).map_err(serde::de::Error::custom)?;
        Ok(Self(key))
    }
}

/// A code as typed at the prompt: zeroized on drop, redacted in `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
#[serde(transparent)]
pub struct TypedCode(pub String);

impl std::fmt::Debug for TypedCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TypedCode(<{} chars redacted>)", self.0.chars().count())
    }
}

/// Worker to supervisor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum ToSupervisor {
    /// TLS needs the handshake signature with `scheme` (a `rustls::SignatureScheme` code)
    /// over `message` (at most `MAX_SIGN_INPUT` bytes). Once per connection, before NTLM.
    SignHandshake { scheme: u16, message: HexBytes },
    /// The NTLM server needs the challenge for its CHALLENGE message. Once per connection.
    NtlmChallenge,
    /// Verify the client's NTLMv2 response to that challenge. Once per connection.
    NtlmVerify(NtlmClaim),
    /// What the user typed at the two-step prompt (at most `MAX_CODE_LEN` characters).
    VerifyCode { code: TypedCode },
    /// NLA (and the second factor, where required) passed for the user the supervisor
    /// verified; please start or resume the desktop at this size.
    OpenSession { width: u16, height: u16 },
    /// A new connection to the granted display, passed as a descriptor: the worker is
    /// confined and cannot reach the display's socket itself.
    OpenDisplay,
    /// One clipboard transfer was attempted in the granted session: which way, how large
    /// (bytes of text), and whether it went through. Never the content.
    ClipboardTransfer {
        direction: Direction,
        bytes: u64,
        outcome: TransferOutcome,
    },
    /// Every few seconds while a desktop is shown (`crate::worker::activity`): whether the client
    /// sent keyboard or mouse input since the last report, and what went out since then
    /// (bytes on the socket, screen updates, microseconds spent encoding them). For the
    /// idle limit and the metrics; the supervisor takes it only inside a granted session,
    /// at most one per half interval, with bounded values.
    Activity {
        input: bool,
        bytes: u64,
        frames: u64,
        encode_micros: u64,
    },
    /// The connection is over; `reason` is short and lowercase.
    Closed { reason: String, fault: CloseFault },
}

/// Who ended the connection, for the audit record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseFault {
    /// Orderly end (client disconnected).
    None,
    /// The peer sent something malformed or asked for something refused.
    Peer,
    /// The peer asked for a security layer Rampart never offers.
    Negotiation,
    /// The pre-authentication byte budget ran out.
    Budget,
    /// Something on our side failed.
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum IpcError {
    #[error("ipc i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("ipc peer closed the channel")]
    Closed,
    #[error("ipc line longer than {MAX_LINE} bytes")]
    TooLong,
    #[error("ipc message malformed: {0}")]
    Malformed(#[from] serde_json::Error),
}

/// Encode one message as a line.
pub fn encode<T: Serialize>(msg: &T) -> Result<Vec<u8>, IpcError> {
    let mut line = serde_json::to_vec(msg)?;
    if line.len() >= MAX_LINE {
        return Err(IpcError::TooLong);
    }
    line.push(b'\n');
    Ok(line)
}

/// Read one bounded line from a buffered reader; `Closed` at EOF.
pub fn read_line_bounded<R: BufRead>(reader: &mut R) -> Result<Vec<u8>, IpcError> {
    let mut line = Vec::new();
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Err(IpcError::Closed);
        }
        let (chunk, done) = match available.iter().position(|b| *b == b'\n') {
            Some(pos) => (available.get(..pos).unwrap_or_default(), Some(pos + 1)),
            None => (available, None),
        };
        if line.len() + chunk.len() > MAX_LINE {
            return Err(IpcError::TooLong);
        }
        line.extend_from_slice(chunk);
        let consumed = done.unwrap_or(available.len());
        reader.consume(consumed);
        if done.is_some() {
            return Ok(line);
        }
    }
}

/// The worker's blocking end of the channel. One outstanding request at a time.
///
/// Read with `recvmsg`, so that a descriptor the supervisor attaches to a reply (a
/// connection to the granted display: a confined worker cannot open one itself) arrives
/// with the line it belongs to.
#[derive(Debug)]
pub struct WorkerChannel {
    stream: UnixStream,
    buffer: Vec<u8>,
    fds: std::collections::VecDeque<std::os::fd::OwnedFd>,
}

/// Descriptors one reply may carry.
const MAX_FDS_PER_READ: usize = 2;

impl WorkerChannel {
    pub fn new(stream: UnixStream) -> Result<Self, IpcError> {
        Ok(Self {
            stream,
            buffer: Vec::new(),
            fds: std::collections::VecDeque::new(),
        })
    }

    pub fn send(&mut self, msg: &ToSupervisor) -> Result<(), IpcError> {
        (&self.stream).write_all(&encode(msg)?)?;
        Ok(())
    }

    pub fn recv(&mut self) -> Result<ToWorker, IpcError> {
        let line = self.recv_line()?;
        Ok(serde_json::from_slice(&line)?)
    }

    pub fn request(&mut self, msg: &ToSupervisor) -> Result<ToWorker, IpcError> {
        self.send(msg)?;
        self.recv()
    }

    /// A request whose reply carries a descriptor (none if the supervisor attached none).
    pub fn request_fd(&mut self, msg: &ToSupervisor) -> Result<(ToWorker, Option<std::os::fd::OwnedFd>), IpcError> {
        self.fds.clear();
        let reply = self.request(msg)?;
        Ok((reply, self.fds.pop_front()))
    }

    fn recv_line(&mut self) -> Result<Vec<u8>, IpcError> {
        use std::io::IoSliceMut;
        use std::mem::MaybeUninit;
        use rustix::net::{recvmsg, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};
        loop {
            if let Some(pos) = self.buffer.iter().position(|b| *b == b'\n') {
                let rest = self.buffer.split_off(pos + 1);
                let mut line = std::mem::replace(&mut self.buffer, rest);
                line.pop();
                return Ok(line);
            }
            if self.buffer.len() > MAX_LINE {
                return Err(IpcError::TooLong);
            }
            let mut chunk = [0u8; 8192];
            let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS_PER_READ))];
            let mut control = RecvAncillaryBuffer::new(&mut space);
            let received = loop {
                match recvmsg(&self.stream, &mut [IoSliceMut::new(&mut chunk)], &mut control, RecvFlags::CMSG_CLOEXEC) {
                    Ok(r) => break r,
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(e) => return Err(IpcError::Io(e.into())),
                }
            };
            for message in control.drain() {
                if let RecvAncillaryMessage::ScmRights(fds) = message {
                    for fd in fds {
                        if self.fds.len() < MAX_FDS_PER_READ {
                            self.fds.push_back(fd);
                        }
                    }
                }
            }
            if received.bytes == 0 {
                return Err(IpcError::Closed);
            }
            self.buffer.extend_from_slice(chunk.get(..received.bytes).unwrap_or_default());
        }
    }
}

/// The supervisor's side of a reply that carries a descriptor: the line and the
/// descriptor go in one `sendmsg`, so the worker receives them together.
pub fn send_with_fd(
    stream: &impl std::os::fd::AsFd,
    line: &[u8],
    fd: std::os::fd::BorrowedFd<'_>,
) -> std::io::Result<usize> {
    use std::io::IoSlice;
    use std::mem::MaybeUninit;
    use rustix::net::{sendmsg, SendAncillaryBuffer, SendAncillaryMessage, SendFlags};
    let fds = [fd];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !control.push(SendAncillaryMessage::ScmRights(&fds)) {
        return Err(std::io::Error::other("no room for the descriptor"));
    }
    Ok(sendmsg(stream, &[IoSlice::new(line)], &mut control, SendFlags::NOSIGNAL)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufReader;

    #[test]
    fn a_descriptor_travels_with_its_reply() {
        use std::io::Read;
        let (a, b) = UnixStream::pair().unwrap();
        let mut worker = WorkerChannel::new(a).unwrap();
        // The descriptor: one end of another pair, whose far end we keep to talk through it.
        let (passed, mut far) = UnixStream::pair().unwrap();
        let line = encode(&ToWorker::Display).unwrap();
        let line_b = encode(&ToWorker::SessionRefused { reason: "x".into() }).unwrap();
        send_with_fd(&b, &line, std::os::fd::AsFd::as_fd(&passed)).unwrap();
        drop(passed);
        (&b).write_all(&line_b).unwrap();
        let (reply, fd) = worker.request_fd(&ToSupervisor::OpenDisplay).unwrap();
        assert!(matches!(reply, ToWorker::Display));
        let mut got = UnixStream::from(fd.expect("a descriptor with the reply"));
        got.write_all(b"ping").unwrap();
        let mut buf = [0u8; 4];
        far.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"ping");
        // The next line, without a descriptor, is read after the first.
        assert!(matches!(worker.recv().unwrap(), ToWorker::SessionRefused { .. }));
    }

    #[test]
    fn messages_round_trip_over_a_socket_pair() {
        let (a, b) = UnixStream::pair().unwrap();
        let mut worker = WorkerChannel::new(a).unwrap();
        let mut sup = BufReader::new(b.try_clone().unwrap());
        let mut sup_w = b;
        let claim = NtlmClaim {
            user: "alice".into(),
            domain: String::new(),
            nt_response: HexBytes(vec![1, 2, 3]),
            encrypted_session_key: None,
            flags: 0xe288_8235,
        };
        worker.send(&ToSupervisor::NtlmVerify(claim.clone())).unwrap();
        let line = read_line_bounded(&mut sup).unwrap();
        let msg: ToSupervisor = serde_json::from_slice(&line).unwrap();
        assert_eq!(msg, ToSupervisor::NtlmVerify(claim));
        let verdict = NtlmVerdict {
            session_key: Some(SessionKeyHex([7; 16])),
            user: Some("alice".into()),
            second_factor: None,
        };
        sup_w.write_all(&encode(&ToWorker::NtlmVerdict(verdict.clone())).unwrap()).unwrap();
        assert!(matches!(worker.recv().unwrap(), ToWorker::NtlmVerdict(v) if v == verdict));
        drop(sup_w);
        drop(sup);
        assert!(matches!(worker.recv(), Err(IpcError::Closed)));
    }

    #[test]
    fn session_keys_and_responses_are_redacted() {
        let msg = ToWorker::NtlmVerdict(NtlmVerdict {
            session_key: Some(SessionKeyHex([0xa4; 16])),
            user: Some("alice".into()),
            second_factor: None,
        });
        assert!(!format!("{msg:?}").contains("a4a4"));
        assert!(String::from_utf8(encode(&msg).unwrap()).unwrap().contains(&"a4".repeat(16)));
        let claim = ToSupervisor::NtlmVerify(NtlmClaim {
            user: "alice".into(),
            domain: "WORKGROUP".into(),
            nt_response: HexBytes(vec![0xc3; 64]),
            encrypted_session_key: Some(HexBytes(vec![0xc3; 16])),
            flags: 0,
        });
        let text = format!("{claim:?}");
        assert!(text.contains("alice") && !text.contains("c3c3") && !text.contains("195"), "{text}");
    }

    #[test]
    fn init_carries_no_key() {
        let init = WorkerInit {
            connection: 1,
            peer: "127.0.0.1:1".parse().unwrap(),
            cert_pem: "-----BEGIN CERTIFICATE-----\n".into(),
            signature_schemes: vec![0x0806],
            max_preauth_bytes: 1,
            default_width: 1,
            default_height: 1,
            confinement: None,
            clipboard: false,
            h264: false,
        };
        let line = String::from_utf8(encode(&ToWorker::Init(init)).unwrap()).unwrap();
        assert!(!line.contains("PRIVATE KEY") && !line.contains("key_pem"), "{line}");
    }

    #[test]
    fn hex_fields_refuse_garbage() {
        let bad = r#"{"t":"sign_handshake","scheme":2052,"message":"zz"}"#;
        assert!(serde_json::from_str::<ToSupervisor>(bad).is_err());
        let bad_key = r#"{"t":"ntlm_verdict","session_key":"00","user":null,"second_factor":null}"#;
        assert!(serde_json::from_str::<ToWorker>(bad_key).is_err());
    }

    #[test]
    fn typed_codes_are_redacted() {
        let msg = ToSupervisor::VerifyCode {
            code: TypedCode("123456".into()),
        };
        let text = format!("{msg:?}");
        assert!(!text.contains("123456") && text.contains("6 chars redacted"), "{text}");
        // Still carried on the wire, of course.
        let line = encode(&msg).unwrap();
        assert!(String::from_utf8(line).unwrap().contains("123456"));
    }

    #[test]
    fn overlong_lines_are_refused_not_buffered() {
        let big = vec![b'x'; MAX_LINE + 10];
        let mut reader = BufReader::with_capacity(1024, &big[..]);
        assert!(matches!(read_line_bounded(&mut reader), Err(IpcError::TooLong)));
    }
}
