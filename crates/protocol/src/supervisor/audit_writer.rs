//! The one task that appends audit events to the store.
//!
//! Callers hand it an event and wait until it is on disk ("recorded before answered": a
//! connection is answered only once the event it depends on is durable). The writer takes
//! whatever is queued, up to [`MAX_BATCH`] events, and writes them in ONE transaction (one
//! fsync, each event still chained to the one before it: `Store::append_events_linked`),
//! then answers every caller of the batch. A failed batch writes none of its events and
//! answers all of them with the error. So a flood of events (one refusal per new source
//! address) costs one store lock and one fsync per batch instead of per event, and logins'
//! lookups and code checks do not queue behind thousands of single writes.
//!
//! Bounded: at most [`QUEUE`] events wait in the queue; further callers wait to enqueue.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rampart_audit::chain::Hash;
use rampart_audit::Event;
use rampart_store::Store;
use tokio::sync::{mpsc, oneshot};

/// Most events written in one transaction.
pub(crate) const MAX_BATCH: usize = 256;
/// Most events waiting for the writer.
pub(crate) const QUEUE: usize = 4096;

/// Why an event is not on disk.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AuditWriteError {
    /// The batch holding the event failed; nothing of it was written.
    #[error("audit batch not written: {0}")]
    Store(String),
    /// The writer task is gone (the server is shutting down).
    #[error("the audit writer has stopped")]
    Stopped,
}

/// Called after a batch is committed, once per event in order, with its sequence number and
/// chain link (e.g. to forward it to syslog), before the callers are answered.
pub(crate) type OnStored = Arc<dyn Fn(i64, &Event, &Hash) + Send + Sync>;

struct Pending {
    event: Event,
    done: oneshot::Sender<Result<(i64, Hash), AuditWriteError>>,
}

/// Events and transactions written so far.
#[derive(Debug, Default)]
pub(crate) struct WriterStats {
    events: AtomicU64,
    batches: AtomicU64,
}

impl WriterStats {
    pub(crate) fn events(&self) -> u64 {
        self.events.load(Ordering::Relaxed)
    }

    pub(crate) fn batches(&self) -> u64 {
        self.batches.load(Ordering::Relaxed)
    }
}

/// The handle callers send events through (cheap to clone).
#[derive(Clone)]
pub(crate) struct AuditWriter {
    queue: mpsc::Sender<Pending>,
    stats: Arc<WriterStats>,
}

/// The writer's loop, not yet running ([`AuditWriter::spawn`] starts it at once).
pub(crate) struct WriterTask {
    queue: mpsc::Receiver<Pending>,
    store: Arc<Mutex<Store>>,
    on_stored: OnStored,
    stats: Arc<WriterStats>,
}

impl AuditWriter {
    /// A writer for `store` and its loop; run the loop on a task of its own.
    pub(crate) fn new(store: Arc<Mutex<Store>>, on_stored: OnStored) -> (Self, WriterTask) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let stats = Arc::new(WriterStats::default());
        let task = WriterTask {
            queue: rx,
            store,
            on_stored,
            stats: Arc::clone(&stats),
        };
        (Self { queue: tx, stats }, task)
    }

    /// A writer whose loop runs on the current tokio runtime until every handle is dropped.
    pub(crate) fn spawn(store: Arc<Mutex<Store>>, on_stored: OnStored) -> Self {
        let (writer, task) = Self::new(store, on_stored);
        tokio::spawn(task.run());
        writer
    }

    /// Writes `event` durably; returns its sequence number and chain link once it is on
    /// disk. If the caller stops waiting, the event is still written.
    pub(crate) async fn record(&self, event: Event) -> Result<(i64, Hash), AuditWriteError> {
        let (done, answer) = oneshot::channel();
        self.queue
            .send(Pending { event, done })
            .await
            .map_err(|_| AuditWriteError::Stopped)?;
        answer.await.unwrap_or(Err(AuditWriteError::Stopped))
    }

    pub(crate) fn stats(&self) -> &WriterStats {
        &self.stats
    }

    /// Events waiting for the writer (not yet taken into a batch).
    #[cfg(test)]
    fn queued(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
    }
}

impl WriterTask {
    /// Writes batches until every [`AuditWriter`] handle is gone and the queue is empty.
    pub(crate) async fn run(mut self) {
        let mut taken: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
        while self.queue.recv_many(&mut taken, MAX_BATCH).await > 0 {
            let (events, answers): (Vec<Event>, Vec<_>) = taken.drain(..).map(|p| (p.event, p.done)).unzip();
            let store = Arc::clone(&self.store);
            let on_stored = Arc::clone(&self.on_stored);
            let written = tokio::task::spawn_blocking(move || {
                let linked = {
                    let mut store = store
                        .lock()
                        .map_err(|_| AuditWriteError::Store("store lock poisoned".into()))?;
                    store
                        .append_events_linked(&events)
                        .map_err(|err| AuditWriteError::Store(err.to_string()))?
                };
                for ((seq, hash), event) in linked.iter().zip(&events) {
                    on_stored(*seq, event, hash);
                }
                Ok(linked)
            })
            .await
            .unwrap_or_else(|join| Err(AuditWriteError::Store(format!("writer task failed: {join}"))));
            match written {
                Ok(linked) => {
                    self.stats.batches.fetch_add(1, Ordering::Relaxed);
                    self.stats
                        .events
                        .fetch_add(u64::try_from(linked.len()).unwrap_or(u64::MAX), Ordering::Relaxed);
                    for (done, link) in answers.into_iter().zip(linked) {
                        // A caller that stopped waiting does not need the answer.
                        let _ = done.send(Ok(link));
                    }
                }
                Err(err) => {
                    for done in answers {
                        let _ = done.send(Err(err.clone()));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_audit::{EventKind, Outcome, UnixMillis};

    fn store() -> (tempfile::TempDir, Arc<Mutex<Store>>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("rampart.db"), &dir.path().join("host.key")).unwrap();
        (dir, Arc::new(Mutex::new(store)))
    }

    fn refusal(i: u32) -> Event {
        let peer = std::net::SocketAddr::from(([127, 3, (i / 250) as u8, (i % 250 + 1) as u8], 40000));
        Event::new(UnixMillis(1_000 + i64::from(i)), EventKind::ConnectionRefused, Outcome::Failure)
            .with_peer(peer)
            .with_reason("source address is not on the allowlist")
    }

    /// Waits (bounded: at most about 20 s) until `n` events are queued.
    async fn until_queued(writer: &AuditWriter, n: usize) {
        for _ in 0..20_000 {
            if writer.queued() >= n {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        panic!("only {} of {n} events queued", writer.queued());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queued_events_go_to_disk_in_batches_and_every_caller_hears_back() {
        const N: u32 = 600;
        let (_dir, store) = store();
        let forwarded = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&forwarded);
        let (writer, task) = AuditWriter::new(
            Arc::clone(&store),
            Arc::new(move |seq, event: &Event, _hash: &Hash| seen.lock().unwrap().push((seq, event.peer))),
        );
        let callers: Vec<_> = (0..N)
            .map(|i| {
                let writer = writer.clone();
                tokio::spawn(async move { (i, writer.record(refusal(i)).await) })
            })
            .collect();
        // Nothing is written before the loop runs: all N wait in the queue.
        until_queued(&writer, N as usize).await;
        tokio::spawn(task.run());
        let mut seqs = Vec::new();
        for caller in callers {
            let (i, answer) = caller.await.unwrap();
            let (seq, _hash) = answer.unwrap_or_else(|err| panic!("event {i}: {err}"));
            seqs.push(seq);
        }
        // 600 queued events: batches of 256, 256 and 88.
        assert_eq!((writer.stats().events(), writer.stats().batches()), (600, 3));
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=i64::from(N)).collect::<Vec<_>>(), "each event has its own row");
        let mut store = store.lock().unwrap();
        assert_eq!(store.verify_chain().unwrap().to_string(), "intact, 600 events");
        assert_eq!(forwarded.lock().unwrap().len(), 600, "each stored event is handed on once");
        // Every refusal is on record under its own source.
        let mut peers = Vec::new();
        store
            .scan_events(&Default::default(), |e| {
                peers.push(e.event.peer);
                true
            })
            .unwrap();
        peers.sort_unstable();
        peers.dedup();
        assert_eq!(peers.len(), 600);
    }

    #[tokio::test]
    async fn a_failed_batch_answers_all_its_callers_with_the_error() {
        let (_dir, store) = store();
        let (writer, task) = AuditWriter::new(Arc::clone(&store), Arc::new(|_: i64, _: &Event, _: &Hash| {}));
        // The third cannot be stored (a connection number SQLite cannot hold): the batch fails.
        let events = [refusal(1), refusal(2), refusal(3).with_connection(u64::MAX), refusal(4)];
        let callers: Vec<_> = events
            .into_iter()
            .map(|event| {
                let writer = writer.clone();
                tokio::spawn(async move { writer.record(event).await })
            })
            .collect();
        until_queued(&writer, 4).await;
        tokio::spawn(task.run());
        for caller in callers {
            let answer = caller.await.unwrap();
            assert!(matches!(answer, Err(AuditWriteError::Store(_))), "{answer:?}");
        }
        assert_eq!(writer.stats().batches(), 0);
        // Nothing of it is on disk; the next event starts the chain.
        assert_eq!(writer.record(refusal(5)).await.unwrap().0, 1);
        assert_eq!(store.lock().unwrap().verify_chain().unwrap().to_string(), "intact, 1 events");
    }

    #[tokio::test]
    async fn a_caller_that_stops_waiting_still_gets_its_event_written() {
        let (_dir, store) = store();
        let (writer, task) = AuditWriter::new(Arc::clone(&store), Arc::new(|_: i64, _: &Event, _: &Hash| {}));
        let gone = {
            let writer = writer.clone();
            tokio::spawn(async move { writer.record(refusal(1)).await })
        };
        until_queued(&writer, 1).await;
        gone.abort();
        assert!(gone.await.unwrap_err().is_cancelled());
        tokio::spawn(task.run());
        assert_eq!(writer.record(refusal(2)).await.unwrap().0, 2, "the abandoned event went first");
        assert_eq!(store.lock().unwrap().verify_chain().unwrap().to_string(), "intact, 2 events");
    }
}
