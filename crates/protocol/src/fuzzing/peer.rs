//! An in-memory peer and a poll loop: the async IronRDP code runs on fuzz input without a
//! socket, a runtime or a clock.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::Violation;

/// Read sizes the peer cycles through, so the framing sees PDUs split at every kind of
/// boundary (one byte, a few, many at once), deterministically for a given input.
const READ_SIZES: [usize; 8] = [4096, 1, 2, 3, 5, 8, 13, 4096];

/// The client side of a connection: reads come from `input` (then EOF), writes are
/// counted and dropped.
#[derive(Debug)]
pub(crate) struct Peer<'a> {
    input: &'a [u8],
    pos: usize,
    reads: usize,
    pub(crate) written: u64,
}

impl<'a> Peer<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Self {
            input,
            pos: 0,
            reads: 0,
            written: 0,
        }
    }
}

impl AsyncRead for Peer<'_> {
    fn poll_read(mut self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let size = READ_SIZES.get(this.reads % READ_SIZES.len()).copied().unwrap_or(1);
        this.reads = this.reads.wrapping_add(1);
        let rest = this.input.get(this.pos..).unwrap_or_default();
        let n = rest.len().min(size).min(buf.remaining());
        buf.put_slice(rest.get(..n).unwrap_or_default());
        this.pos += n;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Peer<'_> {
    fn poll_write(mut self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.written = self.written.saturating_add(buf.len() as u64);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Polls `fut` to completion. With in-memory I/O nothing ever waits, so a future that is
/// still pending after this many polls is waiting for something that will never come.
const MAX_POLLS: usize = 10_000;

pub(crate) fn block_on<F: Future>(target: &'static str, fut: F) -> Result<F::Output, Violation> {
    let mut fut = std::pin::pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..MAX_POLLS {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return Ok(out);
        }
    }
    Err(Violation::new(
        target,
        "stalled: still pending with all input available",
    ))
}
