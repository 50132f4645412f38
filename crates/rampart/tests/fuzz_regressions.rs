//! Replays the config parser's fuzz corpus (`fuzz/seeds/config/`, `fuzz/regressions/config/`)
//! through the entry function its libFuzzer target calls (`rampart::fuzzing::config`). The
//! protocol targets are replayed by `crates/protocol/tests/fuzz_regressions.rs`.

// Test code: a panic is how a case reports failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};

fn inputs(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz")
        .join(kind)
        .join("config");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    out.sort();
    out
}

fn replay(kind: &str) -> Vec<(PathBuf, &'static str)> {
    let mut failures = Vec::new();
    let mut reached = Vec::new();
    for path in inputs(kind) {
        let data = std::fs::read(&path).unwrap();
        match std::panic::catch_unwind(|| rampart::fuzzing::config(&data)) {
            Ok(Ok(r)) => reached.push((path, r)),
            Ok(Err(violation)) => failures.push(format!("{}: {violation}", path.display())),
            Err(_) => failures.push(format!("{}: panicked", path.display())),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    reached
}

#[test]
fn config_corpus_replays() {
    // Kept crashers (if the fuzzer ever found one) must pass now...
    replay("regressions");
    // ...and the seeds must be valid configs, or the fuzzer starts from nothing.
    let reached = replay("seeds");
    assert!(reached.len() >= 2, "{reached:?}");
    for (path, r) in reached {
        assert_eq!(
            r,
            "parsed",
            "{} no longer parses: the seed should be a valid config",
            path.display()
        );
    }
}

#[test]
fn config_target_checks_the_error_names_the_file() {
    // The invariant can fail: a bad value is refused, naming file and line.
    assert_eq!(
        rampart::fuzzing::config(b"[limits]\nmax_pending_total = -1\n").unwrap(),
        "refused"
    );
    assert_eq!(rampart::fuzzing::config(b"").unwrap(), "parsed");
    assert_eq!(rampart::fuzzing::config(&[0xff, 0xfe]).unwrap(), "not utf-8");
    assert_eq!(rampart::fuzzing::CONFIG.name, "config");
}
