//! Fuzz entry points: one function per target, each feeding arbitrary bytes to the real
//! code that parses peer or worker bytes, and checking invariants beyond "no panic".
//!
//! The cargo-fuzz targets in `fuzz/` are one-line wrappers around [`TARGETS`], and
//! `tests/fuzz_regressions.rs` replays every committed seed and crasher through the same
//! functions under plain `cargo test`, so a fixed bug that comes back fails the test suite
//! without libFuzzer. What each target drives, and how to run them: `docs/fuzzing.md`.
//!
//! Nothing here opens a socket or reads a clock: the IronRDP parts run over an in-memory
//! peer ([`peer::Peer`]) and are polled to completion without a runtime.

mod acceptor;
mod input;
mod local;
mod peer;
mod seeds;
mod stream;

pub use acceptor::{join_tokens, split_tokens, X224_CONNECTION_REQUEST};
pub use seeds::{seeds, Seed};

/// An invariant one input broke (a panic is reported by the panic itself).
#[derive(Debug, thiserror::Error)]
#[error("{target}: {what}")]
pub struct Violation {
    pub target: &'static str,
    pub what: String,
}

impl Violation {
    fn new(target: &'static str, what: impl Into<String>) -> Self {
        Self {
            target,
            what: what.into(),
        }
    }
}

/// How far one input got; the replay test checks that the committed seeds get far.
pub type Reached = &'static str;

/// One fuzz target: its name (the `fuzz/fuzz_targets/<name>.rs` file, the corpus and
/// regression folders) and its entry function.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub name: &'static str,
    /// What the target drives, for `scripts/fuzz.sh --list` and the docs.
    pub about: &'static str,
    pub run: fn(&[u8]) -> Result<Reached, Violation>,
}

/// Every target. The names are the file names under `fuzz/fuzz_targets/`.
pub const TARGETS: &[Target] = &[
    Target {
        name: "acceptor_x224",
        about: "the acceptor's X.224 negotiation (accept_begin) over the real framing, before TLS",
        run: acceptor::x224,
    },
    Target {
        name: "acceptor_mcs",
        about: "the acceptor after the security layer: MCS connect, channels, client info, capabilities, finalization",
        run: acceptor::mcs,
    },
    Target {
        name: "credssp",
        about: "TsRequest decode round trip, then the CredSSP server (NTLM, Rampart's credential store) fed the bytes",
        run: acceptor::credssp,
    },
    Target {
        name: "ntlm",
        about: "NTLM messages (negotiate, authenticate) wrapped in TsRequests, through the CredSSP server",
        run: acceptor::ntlm,
    },
    Target {
        name: "fastpath_input",
        about: "fast-path input PDU decode, round trip, the server's event conversions, the prompt and key map",
        run: input::fast_path,
    },
    Target {
        name: "slowpath_input",
        about: "slow-path input: X.224/MCS send-data request, share control/data headers, input event PDU",
        run: input::slow_path,
    },
    Target {
        name: "framing",
        about: "find_size and the (patched) ironrdp-async Framed reader with every PDU hint",
        run: stream::framing,
    },
    Target {
        name: "budget",
        about: "the pre-authentication byte budget around the socket",
        run: stream::budget,
    },
    Target {
        name: "ipc_line",
        about: "the supervisor's bounded IPC line reader and the ToSupervisor decoder",
        run: local::ipc_line,
    },
    Target {
        name: "prompt_keys",
        about: "the two-step prompt's key machine (CodeEntry) and its rendering of a peer-chosen user name",
        run: local::prompt_keys,
    },
];

/// Looks a target up by name.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// Runs the target called `name` on `data` (an unknown name is a violation too).
pub fn run(name: &str, data: &[u8]) -> Result<Reached, Violation> {
    match target(name) {
        Some(t) => (t.run)(data),
        None => Err(Violation::new("fuzzing", format!("no target called {name:?}"))),
    }
}
