//! Text clipboard between the RDP client and the session (MS-RDPECLIP over the `cliprdr`
//! static channel), under a per-server and per-user policy and a size cap.
//!
//! - this module: the policy (`clipboard = "both" | "to-client" | "to-server" | "off"`),
//!   the grant the supervisor hands a worker with the session, and the supervisor's tally
//!   of what moved (audited once per connection: counts and sizes, never the content); pure.
//! - [`text`]: CF_UNICODETEXT (UTF-16LE, CRLF, NUL-terminated) to and from Unix text; pure.
//! - `worker::clipboard` (on the unprivileged side): the worker's `cliprdr` backend and the bridge thread between it and the
//!   session's X CLIPBOARD selection ([`rampart_desktop::Clipboard`]). The bridge starts
//!   only once the supervisor granted the session (after every factor): at the two-step
//!   prompt nothing is read from or written to any clipboard.

pub mod text;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Which way text may move between the client and the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClipboardPolicy {
    /// Copy on either side, paste on the other.
    #[default]
    Both,
    /// Session to client only (copy in the session, paste on the client's machine).
    ToClient,
    /// Client to session only (paste into the session what was copied on the client).
    ToServer,
    /// No clipboard at all.
    Off,
}

impl ClipboardPolicy {
    /// The config spelling.
    pub fn code(self) -> &'static str {
        match self {
            Self::Both => "both",
            Self::ToClient => "to-client",
            Self::ToServer => "to-server",
            Self::Off => "off",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Both, Self::ToClient, Self::ToServer, Self::Off]
            .into_iter()
            .find(|p| p.code() == text)
    }

    pub fn allows(self, direction: Direction) -> bool {
        matches!(
            (self, direction),
            (Self::Both, _) | (Self::ToClient, Direction::ToClient) | (Self::ToServer, Direction::ToServer)
        )
    }

    /// The same policy without the client-to-session direction (a view-only shadow session:
    /// pasting into it would be input).
    #[must_use]
    pub fn without_to_server(self) -> Self {
        match self {
            Self::Both | Self::ToClient => Self::ToClient,
            Self::ToServer | Self::Off => Self::Off,
        }
    }
}

impl std::fmt::Display for ClipboardPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// One way across the clipboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// From the session to the client.
    ToClient,
    /// From the client into the session.
    ToServer,
}

impl Direction {
    pub fn code(self) -> &'static str {
        match self {
            Self::ToClient => "to-client",
            Self::ToServer => "to-server",
        }
    }
}

/// Default cap on one transfer: 1 MiB of text is several hundred pages, far more than a
/// person copies by hand, and small enough that a worker never holds much.
pub const DEFAULT_MAX_BYTES: usize = 1024 * 1024;
/// Largest cap accepted: 16 MiB (a session application answers in one X request at most
/// this large, and the worker holds at most a few copies of it).
pub const MAX_MAX_BYTES: usize = 16 * 1024 * 1024;

/// The server's clipboard settings (`[session] clipboard`, `clipboard_max_bytes`, and
/// `[session.users.NAME] clipboard`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipboardOptions {
    pub policy: ClipboardPolicy,
    /// Per-user overrides, keyed by the lowercased user name.
    pub users: HashMap<String, ClipboardPolicy>,
    /// Largest text one transfer may carry (UTF-8 bytes, LF line ends).
    pub max_bytes: usize,
}

impl Default for ClipboardOptions {
    /// Both ways (a usable default: people expect copy and paste to work; hardening guides
    /// such as CIS recommend turning it off on high-security hosts, which is one line), with
    /// a 1 MiB cap.
    fn default() -> Self {
        Self {
            policy: ClipboardPolicy::Both,
            users: HashMap::new(),
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

impl ClipboardOptions {
    /// The policy for `user` (any case).
    pub fn policy_for(&self, user: &str) -> ClipboardPolicy {
        self.users.get(&user.to_ascii_lowercase()).copied().unwrap_or(self.policy)
    }

    /// Whether any user may use the clipboard at all; if not, workers do not even offer the
    /// channel (no clipboard PDU is ever parsed).
    pub fn ever_on(&self) -> bool {
        self.policy != ClipboardPolicy::Off || self.users.values().any(|p| *p != ClipboardPolicy::Off)
    }

    /// What a session of `user` gets.
    pub fn grant_for(&self, user: &str, view_only: bool) -> ClipboardGrant {
        let policy = self.policy_for(user);
        ClipboardGrant {
            policy: if view_only { policy.without_to_server() } else { policy },
            max_bytes: u64::try_from(self.max_bytes).unwrap_or(u64::MAX),
        }
    }
}

/// The clipboard a session was granted (part of the supervisor's session grant). Missing
/// from a grant means off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClipboardGrant {
    pub policy: ClipboardPolicy,
    pub max_bytes: u64,
}

impl Default for ClipboardGrant {
    fn default() -> Self {
        Self {
            policy: ClipboardPolicy::Off,
            max_bytes: 0,
        }
    }
}

/// What a worker reports after each attempted transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferOutcome {
    /// The text arrived on the other side.
    Delivered,
    /// The text was larger than the cap: nothing was passed on.
    OverCap,
}

/// Counts for one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DirectionTally {
    pub transfers: u64,
    pub bytes: u64,
    pub refused: u64,
}

/// The supervisor's record of one connection's clipboard use: counts and sizes only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClipboardTally {
    pub to_client: DirectionTally,
    pub to_server: DirectionTally,
}

impl ClipboardTally {
    pub fn record(&mut self, direction: Direction, bytes: u64, outcome: TransferOutcome) {
        let tally = match direction {
            Direction::ToClient => &mut self.to_client,
            Direction::ToServer => &mut self.to_server,
        };
        match outcome {
            TransferOutcome::Delivered => {
                tally.transfers = tally.transfers.saturating_add(1);
                tally.bytes = tally.bytes.saturating_add(bytes);
            }
            TransferOutcome::OverCap => tally.refused = tally.refused.saturating_add(1),
        }
    }

    /// One audit reason per direction that saw any use, e.g.
    /// `direction=to-client transfers=2 bytes=120 refused=1`.
    pub fn audit_reasons(&self) -> Vec<String> {
        [(Direction::ToClient, self.to_client), (Direction::ToServer, self.to_server)]
            .into_iter()
            .filter(|(_, t)| *t != DirectionTally::default())
            .map(|(d, t)| {
                format!(
                    "direction={} transfers={} bytes={} refused={}",
                    d.code(),
                    t.transfers,
                    t.bytes,
                    t.refused
                )
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_and_allow_their_directions() {
        for (code, to_client, to_server) in [
            ("both", true, true),
            ("to-client", true, false),
            ("to-server", false, true),
            ("off", false, false),
        ] {
            let p = ClipboardPolicy::parse(code).unwrap();
            assert_eq!(p.code(), code);
            assert_eq!(p.allows(Direction::ToClient), to_client, "{code}");
            assert_eq!(p.allows(Direction::ToServer), to_server, "{code}");
            assert!(!p.without_to_server().allows(Direction::ToServer));
            assert_eq!(p.without_to_server().allows(Direction::ToClient), to_client);
        }
        assert_eq!(ClipboardPolicy::parse("Both"), None);
        assert_eq!(ClipboardPolicy::parse("in"), None);
        // The IPC spelling is the config spelling.
        assert_eq!(serde_json::to_string(&ClipboardPolicy::ToClient).unwrap(), "\"to-client\"");
    }

    #[test]
    fn per_user_policy_overrides_the_server_and_view_only_drops_pasting_in() {
        let mut opts = ClipboardOptions::default();
        assert_eq!(opts.policy, ClipboardPolicy::Both);
        assert_eq!(opts.max_bytes, 1024 * 1024);
        opts.users.insert("bob".into(), ClipboardPolicy::Off);
        assert_eq!(opts.policy_for("BOB"), ClipboardPolicy::Off);
        assert_eq!(opts.policy_for("alice"), ClipboardPolicy::Both);
        assert_eq!(opts.grant_for("alice", true).policy, ClipboardPolicy::ToClient);
        assert_eq!(opts.grant_for("alice", false).max_bytes, 1024 * 1024);
        assert!(opts.ever_on());
        opts.policy = ClipboardPolicy::Off;
        assert!(!opts.ever_on());
        opts.users.insert("carol".into(), ClipboardPolicy::ToServer);
        assert!(opts.ever_on(), "one user with a clipboard keeps the channel offered");
        // A grant missing from the wire is off.
        assert_eq!(ClipboardGrant::default().policy, ClipboardPolicy::Off);
    }

    #[test]
    fn the_tally_counts_and_sizes_per_direction() {
        let mut tally = ClipboardTally::default();
        assert!(tally.audit_reasons().is_empty(), "no use, no audit record");
        tally.record(Direction::ToClient, 100, TransferOutcome::Delivered);
        tally.record(Direction::ToClient, 20, TransferOutcome::Delivered);
        tally.record(Direction::ToClient, 5_000_000, TransferOutcome::OverCap);
        assert_eq!(tally.audit_reasons(), vec!["direction=to-client transfers=2 bytes=120 refused=1".to_owned()]);
        tally.record(Direction::ToServer, u64::MAX, TransferOutcome::Delivered);
        tally.record(Direction::ToServer, 1, TransferOutcome::Delivered);
        assert_eq!(tally.to_server.bytes, u64::MAX, "saturates, never wraps");
        assert_eq!(tally.audit_reasons().len(), 2);
    }
}
