//! The layers every peer byte passes first: the pre-authentication byte budget and the
//! (vendored, patched) ironrdp-async framing.

use ironrdp_pdu::{PduHint, FAST_PATH_HINT, RDP_HINT, X224_HINT};
use ironrdp_tokio::TokioFramed;
use tokio::io::AsyncReadExt;

use super::peer::{block_on, Peer};
use super::{Reached, Violation};
use crate::worker::budget::{AuthGate, BudgetedStream};

/// `framing`: the first byte picks the reader (`read_pdu`, as the session loop reads, or
/// `read_by_hint` with the X.224, fast-path or either-kind hint, as the acceptor reads),
/// the rest is the stream. Invariants: every frame is non-empty (a zero-length frame
/// consumes nothing, so whoever loops on the reader spins forever); `read_pdu` frames are
/// exactly the input, in order, with the length their header declares; the reader stops
/// by the time the input is used up.
pub(super) fn framing(data: &[u8]) -> Result<Reached, Violation> {
    const T: &str = "framing";
    let Some((&mode, stream)) = data.split_first() else {
        return Ok("empty");
    };
    let hint: Option<&dyn PduHint> = match mode % 4 {
        0 => None,
        1 => Some(&X224_HINT),
        2 => Some(&FAST_PATH_HINT),
        _ => Some(&RDP_HINT),
    };
    let mut framed = TokioFramed::new(Peer::new(stream));
    let mut offset = 0usize;
    let mut frames = 0usize;
    // Each frame is at least one byte, so this many reads must reach the end of input.
    for _ in 0..=stream.len() {
        let frame = match hint {
            None => match block_on(T, framed.read_pdu())? {
                Ok((action, frame)) => {
                    let declared = ironrdp_pdu::find_size(&frame).ok().flatten();
                    if let Some(info) = declared {
                        if info.action != action || info.length != frame.len() {
                            return Err(Violation::new(
                                T,
                                format!("{action:?} frame of {} bytes declares {info:?}", frame.len()),
                            ));
                        }
                    }
                    frame.freeze()
                }
                Err(_) => return Ok(if frames > 0 { "frames" } else { "no frame" }),
            },
            Some(hint) => match block_on(T, framed.read_by_hint(hint))? {
                Ok(frame) => frame,
                Err(_) => return Ok(if frames > 0 { "frames" } else { "no frame" }),
            },
        };
        if frame.is_empty() {
            return Err(Violation::new(
                T,
                format!("zero-length frame at offset {offset} (mode {mode})"),
            ));
        }
        frames += 1;
        if hint.is_none() {
            let end = offset.saturating_add(frame.len());
            if stream.get(offset..end) != Some(&frame[..]) {
                return Err(Violation::new(
                    T,
                    format!("frame at offset {offset} is not the input there"),
                ));
            }
            offset = end;
        }
    }
    Err(Violation::new(
        T,
        format!("{frames} frames from {} bytes: no end", stream.len()),
    ))
}

/// Read sizes the consumer above the budget asks for.
const ASK: [usize; 5] = [1, 7, 64, 4096, 3];

/// `budget`: two bytes of budget (little-endian), one byte saying after how many reads the
/// peer authenticates (255: never), then the stream. Invariants: before authentication at
/// most the budget is delivered; the read after the budget is spent fails and marks the
/// trip, and nothing else marks it; what is delivered is the input, in order; after
/// authentication the rest flows.
pub(super) fn budget(data: &[u8]) -> Result<Reached, Violation> {
    const T: &str = "budget";
    let (Some(&lo), Some(&hi), Some(&open_after)) = (data.first(), data.get(1), data.get(2)) else {
        return Ok("too short");
    };
    let budget = u64::from(u16::from_le_bytes([lo, hi]));
    let stream = data.get(3..).unwrap_or_default();
    let gate = AuthGate::default();
    let (mut budgeted, trip) = BudgetedStream::new(Peer::new(stream), budget, gate.clone());
    let mut delivered = Vec::new();
    let mut before_auth = 0u64;
    let mut buf = [0u8; 4096];
    for read in 0..stream.len().saturating_mul(2).saturating_add(8) {
        if read == usize::from(open_after) && open_after != 255 {
            gate.open();
        }
        let ask = ASK.get(read % ASK.len()).copied().unwrap_or(1);
        let slot = buf.get_mut(..ask).unwrap_or_default();
        match block_on(T, budgeted.read(slot))? {
            Ok(0) => {
                if delivered != stream {
                    return Err(Violation::new(T, "EOF before the whole input was delivered"));
                }
                return Ok("all delivered");
            }
            Ok(n) => {
                let got = slot.get(..n).unwrap_or_default();
                if !gate.is_open() {
                    before_auth += n as u64;
                    if before_auth > budget {
                        return Err(Violation::new(
                            T,
                            format!("{before_auth} bytes delivered on a budget of {budget}"),
                        ));
                    }
                }
                delivered.extend_from_slice(got);
                if !stream.starts_with(&delivered) {
                    return Err(Violation::new(T, "delivered bytes differ from the input"));
                }
            }
            Err(_) => {
                if gate.is_open() || before_auth != budget || !trip.tripped() {
                    return Err(Violation::new(
                        T,
                        format!(
                            "read failed with {before_auth} of {budget} bytes used, tripped {}",
                            trip.tripped()
                        ),
                    ));
                }
                return Ok("budget spent");
            }
        }
        if trip.tripped() && before_auth != budget {
            return Err(Violation::new(T, "trip marked with budget left"));
        }
    }
    Err(Violation::new(T, "reads never ended"))
}
