//! The tamper-evident chain over the audit trail: the canonical encoding of a stored event,
//! the keyed link between events, and the pure verification walk.
//!
//! Version 1 (documented in `docs/audit.md`):
//!
//! ```text
//! canonical(e) = 0x01                      chain format version
//!             || u32 schema                 the event schema version stored with the row
//!             || i64 time_ms
//!             || str kind || str outcome    stable codes
//!             || opt str peer               "ip:port" as stored
//!             || opt str user || opt str domain
//!             || opt i64 connection
//!             || opt str reason
//! str       = u32 byte length || UTF-8 bytes
//! opt X     = 0x00 (absent) | 0x01 || X
//! integers  = big-endian
//!
//! link(prev, e) = HMAC-SHA-256(K, prev || canonical(e))
//! genesis       = HMAC-SHA-256(K, "rampart/audit/genesis/v1" || store id)
//! ```
//!
//! `K` is derived from the host key, so the database file alone cannot be rewritten into a
//! chain that verifies. Each row stores its `prev` and its own `hash`; the walk recomputes
//! both and, at the first break, says what kind of tampering explains it.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The chain format version (the first byte of every canonical encoding).
pub const CHAIN_VERSION: u8 = 1;
/// Bytes in a link hash.
pub const HASH_LEN: usize = 32;

/// One link value: HMAC-SHA-256 output.
pub type Hash = [u8; HASH_LEN];

/// The chain key (derived from the host key by the caller), kept as one HMAC block: the
/// 32-byte key followed by zeros, which is exactly how HMAC pads a short key. Debug
/// redacts it; the memory is zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ChainKey([u8; 64]);

impl fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChainKey(<redacted>)")
    }
}

impl ChainKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let mut block = [0u8; 64];
        for (dst, src) in block.iter_mut().zip(bytes.iter()) {
            *dst = *src;
        }
        Self(block)
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as KeyInit>::new(&self.0.into())
    }

    /// The first `prev` of a store, bound to its random id.
    pub fn genesis(&self, store_id: &[u8]) -> Hash {
        let mut mac = self.mac();
        mac.update(b"rampart/audit/genesis/v1");
        mac.update(store_id);
        mac.finalize().into_bytes().into()
    }

    /// `HMAC(K, prev || canonical(record))`.
    pub fn link(&self, prev: &Hash, record: &ChainRecord<'_>) -> Hash {
        let mut mac = self.mac();
        mac.update(prev);
        mac.update(&record.canonical());
        mac.finalize().into_bytes().into()
    }
}

/// An event as stored, field by field: what the chain covers. Text fields are the stored
/// text exactly (no re-parsing), so any change to a stored byte changes the hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainRecord<'a> {
    pub schema: i64,
    pub time_ms: i64,
    pub kind: &'a str,
    pub outcome: &'a str,
    pub peer: Option<&'a str>,
    pub user: Option<&'a str>,
    pub domain: Option<&'a str>,
    pub connection: Option<i64>,
    pub reason: Option<&'a str>,
}

impl ChainRecord<'_> {
    /// The version-1 canonical encoding (module docs).
    pub fn canonical(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.push(CHAIN_VERSION);
        // The schema column is small and positive; a value outside u32 is encoded as its
        // full i64 so it still changes the hash.
        match u32::try_from(self.schema) {
            Ok(v) => out.extend_from_slice(&v.to_be_bytes()),
            Err(_) => {
                out.extend_from_slice(&u32::MAX.to_be_bytes());
                out.extend_from_slice(&self.schema.to_be_bytes());
            }
        }
        out.extend_from_slice(&self.time_ms.to_be_bytes());
        put_str(&mut out, self.kind);
        put_str(&mut out, self.outcome);
        put_opt_str(&mut out, self.peer);
        put_opt_str(&mut out, self.user);
        put_opt_str(&mut out, self.domain);
        match self.connection {
            None => out.push(0),
            Some(c) => {
                out.push(1);
                out.extend_from_slice(&c.to_be_bytes());
            }
        }
        put_opt_str(&mut out, self.reason);
        out
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
    }
}

/// One stored row for the walk: its sequence number, its fields and the two stored links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainRow {
    pub seq: i64,
    pub schema: i64,
    pub time_ms: i64,
    pub kind: String,
    pub outcome: String,
    pub peer: Option<String>,
    pub user: Option<String>,
    pub domain: Option<String>,
    pub connection: Option<i64>,
    pub reason: Option<String>,
    /// Stored `prev` (`None`: missing or not 32 bytes).
    pub prev: Option<Hash>,
    /// Stored `hash`.
    pub hash: Option<Hash>,
}

impl ChainRow {
    pub fn record(&self) -> ChainRecord<'_> {
        ChainRecord {
            schema: self.schema,
            time_ms: self.time_ms,
            kind: &self.kind,
            outcome: &self.outcome,
            peer: self.peer.as_deref(),
            user: self.user.as_deref(),
            domain: self.domain.as_deref(),
            connection: self.connection,
            reason: self.reason.as_deref(),
        }
    }

    /// Whether the row's own hash matches its stored `prev` and contents.
    fn self_consistent(&self, key: &ChainKey) -> bool {
        match (&self.prev, &self.hash) {
            (Some(prev), Some(hash)) => key.link(prev, &self.record()) == *hash,
            _ => false,
        }
    }
}

/// Where a walk starts: the genesis value, or the checkpoint retention left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainStart {
    /// The hash the first remaining row must name as its `prev`.
    pub prev: Hash,
    /// The sequence number of the last pruned event, if retention pruned any.
    pub checkpoint: Option<i64>,
}

/// The newest link as the store last wrote it (`seq`, `hash`), kept beside the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: Hash,
}

/// What was done to the trail, as far as the first break shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    /// The record's contents (or its stored hash) were changed.
    Edited,
    /// The record was not written by Rampart: the chain runs past it.
    Inserted,
    /// One or more records before this one are missing.
    DeletedBefore,
    /// The record is genuine but out of place (its predecessor is elsewhere in the trail).
    Reordered,
    /// Records after this one, the newest, are missing (the stored head names a later one).
    TruncatedAfter { head: i64 },
    /// The newest record is not the one the stored head names.
    HeadMismatch,
    /// The checkpoint does not match the last prune event: records were removed from the
    /// head outside retention.
    CheckpointUnrecorded,
}

impl fmt::Display for Tamper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Edited => f.write_str("edited: its contents do not match its hash"),
            Self::Inserted => f.write_str("inserted: not part of the chain (the next record follows its predecessor)"),
            Self::DeletedBefore => f.write_str("records before it were deleted: its predecessor is missing"),
            Self::Reordered => f.write_str("reordered: genuine, but its predecessor comes later in the trail"),
            Self::TruncatedAfter { head } => {
                write!(f, "the records after it were deleted: the last one written was #{head}")
            }
            Self::HeadMismatch => f.write_str("it is not the last record written (the stored head differs)"),
            Self::CheckpointUnrecorded => {
                f.write_str("the retention checkpoint is not the one the last prune event recorded")
            }
        }
    }
}

/// The walk's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every remaining record links to the one before, from the start to the head.
    Intact {
        events: u64,
        first: Option<i64>,
        last: Option<i64>,
        checkpoint: Option<i64>,
    },
    /// The first record where the chain breaks, and why.
    Broken { seq: i64, tamper: Tamper },
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Intact { events, checkpoint, .. } => {
                write!(f, "intact, {events} events")?;
                if let Some(seq) = checkpoint {
                    write!(f, " (after the retention checkpoint at #{seq})")?;
                }
                Ok(())
            }
            Self::Broken { seq, tamper } => write!(f, "broken at record #{seq}: {tamper}"),
        }
    }
}

/// The reason text of an `audit_pruned` event, which records the checkpoint inside the chain.
pub fn prune_reason(pruned: u64, before: crate::UnixMillis, checkpoint_seq: i64, checkpoint: &Hash) -> String {
    format!(
        "{pruned} events before {} pruned; checkpoint #{checkpoint_seq} {}",
        before.rfc3339(),
        hex_lower(checkpoint)
    )
}

/// The checkpoint an `audit_pruned` reason names: (`seq`, `hash`).
pub fn parse_prune_reason(reason: &str) -> Option<(i64, Hash)> {
    let rest = reason.rsplit_once("; checkpoint #")?.1;
    let (seq, hex) = rest.split_once(' ')?;
    let seq = seq.parse().ok()?;
    let hash = hash_from_hex(hex)?;
    Some((seq, hash))
}

/// Lowercase hex of a hash.
pub fn hex_lower(hash: &Hash) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash_from_hex(hex: &str) -> Option<Hash> {
    if hex.len() != HASH_LEN * 2 {
        return None;
    }
    let mut out = [0u8; HASH_LEN];
    for (i, byte) in out.iter_mut().enumerate() {
        let pair = hex.get(i * 2..i * 2 + 2)?;
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

/// Walks `rows` (in sequence order) from `start` and checks every link, then the head.
///
/// `find` answers "which row stores this hash as its own?", so a break can be told apart:
/// a predecessor found later in the trail means reordering, none means deletion. `last_prune`
/// is the checkpoint named by the newest `audit_pruned` event still in the trail, if any.
///
/// Errors from reading rows or `find` are passed through unchanged.
pub fn verify<E>(
    key: &ChainKey,
    start: ChainStart,
    rows: impl IntoIterator<Item = Result<ChainRow, E>>,
    mut find: impl FnMut(&Hash) -> Result<Option<i64>, E>,
    head: Option<ChainHead>,
) -> Result<Verdict, E> {
    let mut rows = rows.into_iter().peekable();
    let mut prev = start.prev;
    let mut events: u64 = 0;
    let mut first = None;
    let mut last: Option<(i64, Hash)> = None;
    let mut last_prune: Option<Option<(i64, Hash)>> = None;
    while let Some(row) = rows.next() {
        let row = row?;
        let linked = row.prev == Some(prev);
        let consistent = row.self_consistent(key);
        if !(linked && consistent) {
            let tamper = if consistent {
                // Genuine contents, wrong place: is its predecessor somewhere else?
                match row.prev {
                    Some(p) => match find(&p)? {
                        Some(_) => Tamper::Reordered,
                        None => Tamper::DeletedBefore,
                    },
                    None => Tamper::Edited,
                }
            } else {
                // Not what Rampart wrote here. If the chain runs on past it, it was added.
                let next_prev = match rows.peek() {
                    Some(Ok(next)) => next.prev,
                    _ => None,
                };
                if next_prev == Some(prev) {
                    Tamper::Inserted
                } else {
                    Tamper::Edited
                }
            };
            return Ok(Verdict::Broken { seq: row.seq, tamper });
        }
        if let Some(hash) = row.hash {
            prev = hash;
            last = Some((row.seq, hash));
        }
        if row.kind == crate::EventKind::AuditPruned.code() {
            last_prune = Some(row.reason.as_deref().and_then(parse_prune_reason));
        }
        first.get_or_insert(row.seq);
        events += 1;
    }
    // Retention: the checkpoint must be the one the newest prune event recorded in the chain.
    if let Some(cp) = start.checkpoint {
        let recorded_ok = match last_prune {
            // The newest prune event was itself pruned later: a newer one must exist.
            None => false,
            Some(recorded) => recorded == Some((cp, start.prev)),
        };
        if !recorded_ok {
            return Ok(Verdict::Broken {
                seq: first.unwrap_or(cp),
                tamper: Tamper::CheckpointUnrecorded,
            });
        }
    }
    // The head: the newest record must be the one the store last wrote.
    if let Some(head) = head {
        let (last_seq, last_hash) = last.unwrap_or((start.checkpoint.unwrap_or(0), start.prev));
        if head.seq != last_seq || head.hash != last_hash {
            let tamper = if head.seq > last_seq {
                Tamper::TruncatedAfter { head: head.seq }
            } else {
                Tamper::HeadMismatch
            };
            return Ok(Verdict::Broken { seq: last_seq, tamper });
        }
    }
    Ok(Verdict::Intact {
        events,
        first,
        last: last.map(|(seq, _)| seq),
        checkpoint: start.checkpoint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    fn key() -> ChainKey {
        ChainKey::from_bytes([7; 32])
    }

    fn row(seq: i64, reason: &str) -> ChainRow {
        ChainRow {
            seq,
            schema: 1,
            time_ms: 1_000 * seq,
            kind: "auth_failed".into(),
            outcome: "failure".into(),
            peer: Some("127.0.0.1:5000".into()),
            user: Some("alice".into()),
            domain: None,
            connection: Some(seq),
            reason: Some(reason.into()),
            prev: None,
            hash: None,
        }
    }

    /// A chain of `n` rows from the genesis of store id "s", as the store writes it.
    fn chain(n: i64) -> (ChainStart, Vec<ChainRow>, ChainHead) {
        let k = key();
        let genesis = k.genesis(b"s");
        let mut prev = genesis;
        let mut rows = Vec::new();
        for seq in 1..=n {
            let mut r = row(seq, &format!("attempt {seq}"));
            r.prev = Some(prev);
            let h = k.link(&prev, &r.record());
            r.hash = Some(h);
            prev = h;
            rows.push(r);
        }
        let head = ChainHead { seq: n, hash: prev };
        (ChainStart { prev: genesis, checkpoint: None }, rows, head)
    }

    fn run(start: ChainStart, rows: &[ChainRow], head: Option<ChainHead>) -> Verdict {
        let all = rows.to_vec();
        let r: Result<Verdict, Infallible> = verify(
            &key(),
            start,
            rows.iter().cloned().map(Ok),
            |h| Ok(all.iter().find(|r| r.hash.as_ref() == Some(h)).map(|r| r.seq)),
            head,
        );
        r.unwrap()
    }

    #[test]
    fn canonical_encoding_is_fixed() {
        let r = ChainRecord {
            schema: 1,
            time_ms: 2,
            kind: "k",
            outcome: "o",
            peer: None,
            user: Some("u"),
            domain: None,
            connection: Some(3),
            reason: None,
        };
        let mut want = vec![1u8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2];
        want.extend_from_slice(&[0, 0, 0, 1, b'k', 0, 0, 0, 1, b'o', 0, 1, 0, 0, 0, 1, b'u', 0, 1]);
        want.extend_from_slice(&3i64.to_be_bytes());
        want.push(0);
        assert_eq!(r.canonical(), want);
        // Absent and empty differ; field boundaries cannot shift.
        let empty = ChainRecord { user: Some(""), ..r.clone() };
        let none = ChainRecord { user: None, ..r.clone() };
        assert_ne!(empty.canonical(), none.canonical());
        let a = ChainRecord { kind: "ab", outcome: "c", ..r.clone() };
        let b = ChainRecord { kind: "a", outcome: "bc", ..r };
        assert_ne!(a.canonical(), b.canonical());
    }

    #[test]
    fn the_key_and_the_store_id_matter() {
        let r = row(1, "x");
        let other = ChainKey::from_bytes([8; 32]);
        assert_ne!(key().genesis(b"s"), key().genesis(b"t"));
        assert_ne!(key().genesis(b"s"), other.genesis(b"s"));
        let g = key().genesis(b"s");
        assert_ne!(key().link(&g, &r.record()), other.link(&g, &r.record()));
        assert_eq!(format!("{:?}", key()), "ChainKey(<redacted>)");
    }

    #[test]
    fn untouched_chain_is_intact() {
        let (start, rows, head) = chain(5);
        let v = run(start, &rows, Some(head));
        assert_eq!(
            v,
            Verdict::Intact {
                events: 5,
                first: Some(1),
                last: Some(5),
                checkpoint: None
            }
        );
        assert_eq!(v.to_string(), "intact, 5 events");
        let (start, _, _) = chain(0);
        assert_eq!(run(start, &[], None).to_string(), "intact, 0 events");
    }

    #[test]
    fn an_edit_is_named() {
        let (start, mut rows, head) = chain(5);
        rows[2].reason = Some("attempt 3 (harmless)".into());
        assert_eq!(run(start, &rows, Some(head)), Verdict::Broken { seq: 3, tamper: Tamper::Edited });
        // Editing the stored hash too does not help without the key.
        let (start, mut rows, head) = chain(5);
        rows[1].user = Some("bob".into());
        rows[1].hash = Some([0; 32]);
        assert_eq!(run(start, &rows, Some(head)), Verdict::Broken { seq: 2, tamper: Tamper::Edited });
    }

    #[test]
    fn a_deletion_is_named() {
        let (start, mut rows, head) = chain(5);
        rows.remove(2);
        assert_eq!(run(start, &rows, Some(head)), Verdict::Broken { seq: 4, tamper: Tamper::DeletedBefore });
        // The first records.
        let (start, mut rows, head) = chain(5);
        rows.drain(..2);
        assert_eq!(run(start, &rows, Some(head)), Verdict::Broken { seq: 3, tamper: Tamper::DeletedBefore });
        // The newest records: caught by the head.
        let (start, mut rows, head) = chain(5);
        rows.truncate(3);
        let v = run(start, &rows, Some(head));
        assert_eq!(v, Verdict::Broken { seq: 3, tamper: Tamper::TruncatedAfter { head: 5 } });
        assert_eq!(v.to_string(), "broken at record #3: the records after it were deleted: the last one written was #5");
    }

    #[test]
    fn an_insertion_is_named() {
        let (start, mut rows, head) = chain(5);
        let mut forged = row(3, "forged");
        forged.prev = rows[1].hash;
        forged.hash = Some([1; 32]);
        rows.insert(2, forged);
        for (i, r) in rows.iter_mut().enumerate() {
            r.seq = i as i64 + 1;
        }
        assert_eq!(run(start, &rows, Some(head)), Verdict::Broken { seq: 3, tamper: Tamper::Inserted });
    }

    #[test]
    fn reordering_is_named() {
        let (start, mut rows, head) = chain(5);
        rows.swap(1, 2);
        // Keep the sequence numbers in place (rows swapped contents).
        rows[1].seq = 2;
        rows[2].seq = 3;
        assert_eq!(run(start, &rows, Some(head)), Verdict::Broken { seq: 2, tamper: Tamper::Reordered });
    }

    #[test]
    fn a_checkpoint_must_be_recorded_by_a_prune_event() {
        let k = key();
        let (_, rows, _) = chain(6);
        // Retention pruned 1..=3 and wrote the prune event as #7.
        let cp = rows[2].hash.unwrap();
        let mut kept: Vec<ChainRow> = rows[3..].to_vec();
        let mut pruned = row(7, "");
        pruned.kind = "audit_pruned".into();
        pruned.reason = Some(prune_reason(3, crate::UnixMillis(0), 3, &cp));
        pruned.prev = kept.last().unwrap().hash;
        pruned.hash = Some(k.link(&pruned.prev.unwrap(), &pruned.record()));
        kept.push(pruned.clone());
        let head = ChainHead { seq: 7, hash: pruned.hash.unwrap() };
        let start = ChainStart { prev: cp, checkpoint: Some(3) };
        assert_eq!(run(start, &kept, Some(head)).to_string(), "intact, 4 events (after the retention checkpoint at #3)");
        // Someone deletes #4 and moves the checkpoint to it: the prune event disagrees.
        let forged_start = ChainStart { prev: kept[0].hash.unwrap(), checkpoint: Some(4) };
        assert_eq!(
            run(forged_start, &kept[1..], Some(head)),
            Verdict::Broken { seq: 5, tamper: Tamper::CheckpointUnrecorded }
        );
        assert_eq!(parse_prune_reason(pruned.reason.as_deref().unwrap()), Some((3, cp)));
        assert_eq!(parse_prune_reason("3 events pruned"), None);
    }
}
