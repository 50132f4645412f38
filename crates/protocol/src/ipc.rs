//! The narrow channel between the privileged supervisor and an unprivileged
//! per-connection worker: one JSON object per line over a Unix socket pair.
//!
//! The worker parses untrusted network bytes, so the supervisor treats everything the
//! worker says as a claim: lines are bounded in length, unknown messages end the worker,
//! and the supervisor only grants a session for a user the worker looked up and then
//! reported as authenticated.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::os::unix::net::UnixStream;

use serde::{Deserialize, Serialize};

/// Longest line either side accepts (the Init message carries a PEM certificate and key).
pub const MAX_LINE: usize = 64 * 1024;

/// Longest code the worker may submit (recovery codes are 10 characters plus a dash).
pub const MAX_CODE_LEN: usize = 32;

/// Supervisor to worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum ToWorker {
    /// First message: everything the worker needs to serve one connection.
    Init(WorkerInit),
    /// Answer to `LookupUser`: the NT hash (hex) if the user exists and may log in, and
    /// whether a second factor must follow NLA before any session.
    UserHash {
        nt_hash_hex: Option<HashHex>,
        #[serde(default)]
        second_factor: Option<SecondFactorPlan>,
    },
    /// Answer to `VerifyCode`.
    CodeResult(CodeVerdict),
    /// Answer to `OpenSession`.
    Session(SessionGrant),
    /// Answer to `OpenSession` when no session could be made.
    SessionRefused { reason: String },
}

#[derive(Clone, Serialize, Deserialize)]
pub struct WorkerInit {
    pub connection: u64,
    pub peer: SocketAddr,
    pub cert_pem: String,
    pub key_pem: String,
    pub max_preauth_bytes: u64,
    pub default_width: u16,
    pub default_height: u16,
    /// (uid, gid) the worker drops to before it reads a byte from the peer.
    pub run_as: Option<(u32, u32)>,
    /// Offer the graphics pipeline with H.264 (`[display] h264`).
    pub h264: bool,
}

impl std::fmt::Debug for WorkerInit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerInit")
            .field("connection", &self.connection)
            .field("peer", &self.peer)
            .field("key_pem", &"<redacted>")
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
}

impl std::fmt::Debug for SessionGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionGrant")
            .field("display", &self.display)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("resumed", &self.resumed)
            .field("view_only", &self.view_only)
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

/// An NT hash in hex, on its way to the worker that verifies NLA: zeroized on drop,
/// redacted in `Debug` (so no log line of a message can carry it).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
#[serde(transparent)]
pub struct HashHex(pub String);

impl std::fmt::Debug for HashHex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HashHex(<redacted>)")
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
    /// NLA needs the NT hash of the user the client named.
    LookupUser { user: String, domain: Option<String> },
    /// One CredSSP exchange ended.
    Attempt(AttemptReport),
    /// What the user typed at the two-step prompt (at most `MAX_CODE_LEN` characters).
    VerifyCode { code: TypedCode },
    /// NLA (and the second factor, where required) passed for the user of the last
    /// successful attempt; please start or resume the desktop at this size.
    OpenSession { width: u16, height: u16 },
    /// The connection is over; `reason` is short and lowercase.
    Closed { reason: String, fault: CloseFault },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptReport {
    pub user: Option<String>,
    pub domain: Option<String>,
    pub outcome: AttemptOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    Success,
    UnknownUser,
    WrongPassword,
    Failed { reason: String },
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
#[derive(Debug)]
pub struct WorkerChannel {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl WorkerChannel {
    pub fn new(stream: UnixStream) -> Result<Self, IpcError> {
        let writer = stream.try_clone()?;
        Ok(Self {
            reader: BufReader::new(stream),
            writer,
        })
    }

    pub fn send(&mut self, msg: &ToSupervisor) -> Result<(), IpcError> {
        self.writer.write_all(&encode(msg)?)?;
        Ok(())
    }

    pub fn recv(&mut self) -> Result<ToWorker, IpcError> {
        let line = read_line_bounded(&mut self.reader)?;
        Ok(serde_json::from_slice(&line)?)
    }

    pub fn request(&mut self, msg: &ToSupervisor) -> Result<ToWorker, IpcError> {
        self.send(msg)?;
        self.recv()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_over_a_socket_pair() {
        let (a, b) = UnixStream::pair().unwrap();
        let mut worker = WorkerChannel::new(a).unwrap();
        let mut sup = BufReader::new(b.try_clone().unwrap());
        let mut sup_w = b;
        worker
            .send(&ToSupervisor::LookupUser {
                user: "alice".into(),
                domain: None,
            })
            .unwrap();
        let line = read_line_bounded(&mut sup).unwrap();
        let msg: ToSupervisor = serde_json::from_slice(&line).unwrap();
        assert_eq!(
            msg,
            ToSupervisor::LookupUser {
                user: "alice".into(),
                domain: None
            }
        );
        sup_w
            .write_all(
                &encode(&ToWorker::UserHash {
                    nt_hash_hex: None,
                    second_factor: None,
                })
                .unwrap(),
            )
            .unwrap();
        assert!(matches!(
            worker.recv().unwrap(),
            ToWorker::UserHash {
                nt_hash_hex: None,
                second_factor: None
            }
        ));
        drop(sup_w);
        drop(sup);
        assert!(matches!(worker.recv(), Err(IpcError::Closed)));
    }

    #[test]
    fn hashes_are_redacted() {
        let msg = ToWorker::UserHash {
            nt_hash_hex: Some(HashHex("a4f49c406510bdcab6824ee7c30fd852".into())),
            second_factor: None,
        };
        assert!(!format!("{msg:?}").contains("a4f49c"));
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
