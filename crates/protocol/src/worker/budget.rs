//! A byte budget on what an unauthenticated peer may send.
//!
//! The IronRDP framing layer buffers until it has the length a header claims, so a peer that
//! announces a huge PDU (or just streams bytes) would make it buffer without limit. Wrapping
//! the socket caps the total read before authentication, whatever the layers above do.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Set once the peer has authenticated; from then on the budget no longer applies.
#[derive(Debug, Clone, Default)]
pub struct AuthGate(Arc<AtomicBool>);

impl AuthGate {
    pub fn open(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_open(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Tells the worker, after the fact, that the budget is what ended the connection.
#[derive(Debug, Clone, Default)]
pub struct BudgetTrip(Arc<AtomicBool>);

impl BudgetTrip {
    pub fn tripped(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

#[derive(Debug)]
pub struct BudgetedStream<S> {
    inner: S,
    remaining: u64,
    gate: AuthGate,
    trip: BudgetTrip,
    scratch: Box<[u8; 4096]>,
}

impl<S> BudgetedStream<S> {
    pub fn new(inner: S, budget: u64, gate: AuthGate) -> (Self, BudgetTrip) {
        let trip = BudgetTrip::default();
        (
            Self {
                inner,
                remaining: budget,
                gate,
                trip: trip.clone(),
                scratch: Box::new([0; 4096]),
            },
            trip,
        )
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for BudgetedStream<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.gate.is_open() {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        if this.remaining == 0 {
            this.trip.0.store(true, Ordering::SeqCst);
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "pre-authentication byte budget exhausted",
            )));
        }
        // Never read more than the budget allows, so nothing above can buffer past it. Pre-auth
        // reads go through a small scratch buffer; after authentication reads are direct.
        let allowed = usize::try_from(this.remaining)
            .unwrap_or(usize::MAX)
            .min(buf.remaining())
            .min(this.scratch.len());
        let Some(scratch) = this.scratch.get_mut(..allowed) else {
            return Poll::Ready(Err(io::Error::other("budget scratch buffer")));
        };
        let mut limited = ReadBuf::new(scratch);
        let result = Pin::new(&mut this.inner).poll_read(cx, &mut limited);
        let filled = limited.filled();
        buf.put_slice(filled);
        this.remaining = this.remaining.saturating_sub(filled.len() as u64);
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for BudgetedStream<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &written {
            // For the activity reports' byte count (bytes sent to the client).
            crate::worker::activity::COUNTERS.sent(*n);
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn budget_caps_reads_until_the_gate_opens() {
        let data = vec![7u8; 10_000];
        let gate = AuthGate::default();
        let (mut s, trip) = BudgetedStream::new(&data[..], 100, gate.clone());
        let mut out = vec![0u8; 1000];
        let mut total = 0;
        loop {
            match s.read(&mut out).await {
                Ok(0) => panic!("eof before budget"),
                Ok(n) => total += n,
                Err(e) => {
                    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
                    break;
                }
            }
        }
        assert_eq!(total, 100);
        assert!(trip.tripped());
        gate.open();
        let n = s.read(&mut out).await.unwrap();
        assert_eq!(n, 1000, "after authentication reads are unbounded");
    }
}
