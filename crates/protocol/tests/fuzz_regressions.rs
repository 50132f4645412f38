//! Replays the fuzz corpus under plain `cargo test`: every committed seed and every kept
//! crasher (`fuzz/seeds/<target>/`, `fuzz/regressions/<target>/`) goes through the same
//! entry function its libFuzzer target calls (`rampart_protocol::fuzzing`), each on its own
//! thread under a watchdog, since some of the bugs kept there were hangs. A panic, a broken
//! invariant or an overrun fails the test and names the file.
//!
//! The seeds must also still get deep into their targets (a login that reaches the NTLM
//! proof, a connection sequence that is accepted...): a harness that stopped reaching the
//! code it is meant to fuzz fails here rather than fuzzing nothing in silence.

// Test code: a panic is how a case reports failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use rampart_protocol::fuzzing::{self, Reached, Target, TARGETS};

/// Far above what any input takes (milliseconds); only a hang gets near it.
const CASE_TIME: Duration = Duration::from_secs(20);

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// Runs one input on its own thread; Err on panic, violation or overrun.
fn run_case(target: &'static Target, data: Vec<u8>, label: &str) -> Result<Reached, String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let result = std::panic::catch_unwind(|| (target.run)(&data));
        let _ = tx.send(result);
    });
    match rx.recv_timeout(CASE_TIME) {
        Ok(Ok(Ok(reached))) => Ok(reached),
        Ok(Ok(Err(violation))) => Err(format!("{label}: {violation}")),
        Ok(Err(_)) => Err(format!("{label}: panicked")),
        // The thread is left running; the test process ends with the test.
        Err(_) => Err(format!("{label}: did not finish in {CASE_TIME:?}")),
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    out.sort();
    out
}

fn replay(kind: &str) -> (usize, Vec<String>) {
    let mut count = 0;
    let mut failures = Vec::new();
    for target in TARGETS {
        for path in files(&fuzz_dir().join(kind).join(target.name)) {
            count += 1;
            let data = std::fs::read(&path).unwrap();
            let label = format!("{kind}/{}/{}", target.name, path.file_name().unwrap().to_string_lossy());
            if let Err(e) = run_case(target, data, &label) {
                failures.push(e);
            }
        }
    }
    (count, failures)
}

#[test]
fn kept_crashers_stay_fixed() {
    let (count, failures) = replay("regressions");
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(count > 0, "no regression inputs found under {}", fuzz_dir().display());
}

#[test]
fn committed_seeds_replay_cleanly() {
    let (count, failures) = replay("seeds");
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(count >= TARGETS.len(), "only {count} seed files");
}

/// How far each target's seeds must get.
fn expected_depth(target: &str) -> &'static [&'static str] {
    match target {
        "acceptor_x224" => &["security upgrade"],
        "acceptor_mcs" => &["accepted"],
        // The recorded proof was made for another server challenge: it reaches the store's
        // check of the proof (the supervisor's NTLMv2 verification), and fails there.
        "credssp" | "ntlm" => &["logon failure"],
        "fastpath_input" => &["decoded"],
        "slowpath_input" => &["input events"],
        "framing" => &["frames"],
        "budget" => &["all delivered"],
        "ipc_line" => &["message"],
        "prompt_keys" => &["submitted"],
        other => panic!("no expected depth for target {other}"),
    }
}

#[test]
fn fresh_seeds_reach_deep_into_every_target() {
    let seeds = fuzzing::seeds().unwrap();
    for target in TARGETS {
        assert!(
            seeds.iter().any(|s| s.target == target.name),
            "no seed for {}",
            target.name
        );
    }
    for seed in seeds {
        let target = fuzzing::target(seed.target).unwrap();
        let reached = run_case(target, seed.data, seed.name).unwrap();
        assert!(
            expected_depth(seed.target).contains(&reached),
            "seed {}/{} only reached {reached:?}",
            seed.target,
            seed.name
        );
    }
}

#[test]
fn committed_seeds_reach_deep_into_every_target() {
    for target in TARGETS {
        let seeds = files(&fuzz_dir().join("seeds").join(target.name));
        assert!(!seeds.is_empty(), "no committed seeds for {}", target.name);
        for path in seeds {
            let reached = run_case(target, std::fs::read(&path).unwrap(), target.name).unwrap();
            assert!(
                expected_depth(target.name).contains(&reached),
                "{} only reached {reached:?}",
                path.display()
            );
        }
    }
}

#[test]
fn every_target_is_a_cargo_fuzz_target_and_every_folder_a_target() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    for target in TARGETS {
        assert!(
            manifest.contains(&format!("name = \"{}\"", target.name)),
            "fuzz/Cargo.toml has no [[bin]] {}",
            target.name
        );
        let source = std::fs::read_to_string(fuzz_dir().join(format!("fuzz_targets/{}.rs", target.name))).unwrap();
        assert!(
            source.contains(&format!("run(\"{}\"", target.name)),
            "fuzz_targets/{}.rs",
            target.name
        );
    }
    // A folder named after no target would be silently skipped by the replay.
    // (`config` is the rampart crate's target, replayed by its own test.)
    for kind in ["seeds", "regressions"] {
        for entry in std::fs::read_dir(fuzz_dir().join(kind)).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                name == "config" || fuzzing::target(&name).is_some(),
                "fuzz/{kind}/{name} names no target"
            );
        }
    }
}

#[test]
fn an_unknown_target_is_reported_not_skipped() {
    assert!(fuzzing::run("no_such_target", b"").is_err());
}
