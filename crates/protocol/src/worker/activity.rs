//! What a worker tells the supervisor about its desktop every [`REPORT_INTERVAL`]: whether
//! the client sent keyboard or mouse input (for the idle limit) and what went out (bytes,
//! screen updates, encode time; for the metrics). One small line per interval, and only
//! once a desktop is granted.
//!
//! The counters are process-wide: a worker serves exactly one connection, and the places
//! that count (the socket wrapper, the input handler, the encoders) are far apart.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tracing::debug;

use crate::ipc::ToSupervisor;
use crate::worker::SharedChannel;

/// How often a worker with a desktop reports. The idle limit is enforced to within about
/// this (plus the supervisor's one-second check).
pub const REPORT_INTERVAL: Duration = Duration::from_secs(2);

/// The connection's counters since the last report.
#[derive(Debug)]
pub(crate) struct Counters {
    input: AtomicBool,
    bytes: AtomicU64,
    frames: AtomicU64,
    encode_nanos: AtomicU64,
}

/// This worker's counters.
pub(crate) static COUNTERS: Counters = Counters {
    input: AtomicBool::new(false),
    bytes: AtomicU64::new(0),
    frames: AtomicU64::new(0),
    encode_nanos: AtomicU64::new(0),
};

impl Counters {
    /// The client sent keyboard or mouse input meant for the desktop.
    pub fn input(&self) {
        self.input.store(true, Ordering::Relaxed);
    }

    /// Bytes written to the client's socket.
    pub fn sent(&self, bytes: usize) {
        self.bytes.fetch_add(u64::try_from(bytes).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// One screen update encoded (and queued for the client) in `spent`.
    pub fn encoded(&self, spent: Duration) {
        self.frames.fetch_add(1, Ordering::Relaxed);
        self.encode_nanos
            .fetch_add(u64::try_from(spent.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// The report since the last one, and the counters back to zero. `classic` is what
    /// IronRDP's own encoder counted since the last report (frames, nanoseconds).
    fn take(&self, classic: (u64, u64)) -> ToSupervisor {
        let (classic_frames, classic_nanos) = classic;
        let nanos = self.encode_nanos.swap(0, Ordering::Relaxed).saturating_add(classic_nanos);
        ToSupervisor::Activity {
            input: self.input.swap(false, Ordering::Relaxed),
            bytes: self.bytes.swap(0, Ordering::Relaxed),
            frames: self.frames.swap(0, Ordering::Relaxed).saturating_add(classic_frames),
            encode_micros: nanos / 1000,
        }
    }
}

/// IronRDP's encoder totals (the classic RemoteFX/bitmap path), as deltas.
#[derive(Debug, Default)]
struct ClassicTotals {
    frames: u64,
    nanos: u64,
}

impl ClassicTotals {
    fn delta(&mut self) -> (u64, u64) {
        let (frames, nanos) = ironrdp_server::rampart_encode_totals();
        let delta = (frames.saturating_sub(self.frames), nanos.saturating_sub(self.nanos));
        self.frames = frames;
        self.nanos = nanos;
        delta
    }
}

/// Starts the reporting thread (once a desktop is granted). It ends when the channel to
/// the supervisor does, i.e. with the connection.
pub(crate) fn start_reporter(channel: SharedChannel) {
    let spawned = std::thread::Builder::new().name("report".into()).spawn(move || {
        let mut classic = ClassicTotals::default();
        // What went out before the desktop (the handshake, the prompt) is not the
        // desktop's: start from here.
        let _ = COUNTERS.take(classic.delta());
        loop {
            std::thread::sleep(REPORT_INTERVAL);
            let report = COUNTERS.take(classic.delta());
            let sent = match channel.lock() {
                Ok(mut ch) => ch.send(&report),
                Err(_) => return,
            };
            if let Err(err) = sent {
                debug!(%err, "activity reports end");
                return;
            }
        }
    });
    if let Err(err) = spawned {
        tracing::warn!(%err, "cannot start the activity reports; the idle limit will see no input");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_report_takes_what_was_counted_and_starts_over() {
        let c = Counters {
            input: AtomicBool::new(false),
            bytes: AtomicU64::new(0),
            frames: AtomicU64::new(0),
            encode_nanos: AtomicU64::new(0),
        };
        c.sent(1000);
        c.sent(24);
        c.encoded(Duration::from_micros(1500));
        c.input();
        assert_eq!(
            c.take((2, 500_000)),
            ToSupervisor::Activity {
                input: true,
                bytes: 1024,
                frames: 3,
                encode_micros: 2000,
            }
        );
        assert_eq!(
            c.take((0, 0)),
            ToSupervisor::Activity {
                input: false,
                bytes: 0,
                frames: 0,
                encode_micros: 0,
            }
        );
    }
}
