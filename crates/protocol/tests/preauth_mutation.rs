//! Fault tests of the pre-authentication path: the real IronRDP acceptor (as patched in
//! `vendor/`) fed with mutated X.224 and CredSSP input over in-memory streams.
//!
//! Each case runs on its own thread with a watchdog, because the bug class we look for
//! includes loops that never yield (a timer inside the same runtime would never fire).
//! A panic, or a case still running after its time, fails the test and prints the input
//! in hex so it can be added to `REGRESSIONS` below.
//!
//! Bounded: a fixed number of cases from a fixed seed (override with
//! `RAMPART_FAULT_SEED` / `RAMPART_FAULT_CASES` to explore further).

// Test code: a panic is how a case reports failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use ironrdp_acceptor::credssp::{AuthenticateClaim, CredentialStore, CredsspAttempt, ServerChallenge};
use ironrdp_acceptor::{Acceptor, BeginResult, DesktopSize};
use ironrdp_pdu::nego::SecurityProtocol;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::AsyncWriteExt;

const CASE_TIME: Duration = Duration::from_secs(5);

/// A client X.224 Connection Request asking for SSL | HYBRID | HYBRID_EX.
const X224_CR: &[u8] = &[
    0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x08, 0x00, 0x0b, 0x00, 0x00, 0x00,
];

/// Inputs that once hung or exploded; each must now end promptly with an error.
const REGRESSIONS_X224: &[&[u8]] = &[
    // Fast-path header with length 0 where an X.224 PDU is expected: a non-yielding spin.
    &[0x00, 0x00],
    &[0x00, 0x00, 0x03, 0x00, 0x00, 0x13],
];

const REGRESSIONS_CREDSSP: &[&[u8]] = &[
    // TsRequest declaring a 4 GiB body: reserved up front before the patch.
    &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0xa0, 0x03, 0x02, 0x01, 0x06],
];

fn ntlm_negotiate() -> Vec<u8> {
    let mut m = b"NTLMSSP\0".to_vec();
    m.extend_from_slice(&1u32.to_le_bytes());
    m.extend_from_slice(&0xE208_8297u32.to_le_bytes());
    m.extend_from_slice(&[0; 16]); // domain and workstation fields
    m.extend_from_slice(&[0x06, 0x01, 0xb1, 0x1d, 0, 0, 0, 0x0f]); // version
    m
}

fn ts_request_negotiate() -> Vec<u8> {
    let req = sspi::credssp::TsRequest {
        nego_tokens: Some(ntlm_negotiate()),
        ..Default::default()
    };
    let mut out = vec![0u8; usize::from(req.buffer_len())];
    req.encode_ts_request(&mut out).unwrap();
    out
}

#[derive(Debug)]
struct NoUsers;

impl CredentialStore for NoUsers {
    fn ntlm_challenge(&self) -> sspi::Result<ServerChallenge> {
        Ok(ServerChallenge {
            challenge: [0x5a; 8],
            timestamp: 133_000_000_000_000_000,
        })
    }
    fn verify_ntlm_v2(&self, _claim: &AuthenticateClaim<'_>) -> sspi::Result<[u8; 16]> {
        Err(sspi::Error::new(sspi::ErrorKind::LogonDenied, "no users"))
    }
    fn on_attempt(&self, _attempt: CredsspAttempt) {}
}

struct NoNetwork;

impl ironrdp_async::NetworkClient for NoNetwork {
    async fn send(
        &mut self,
        _request: &ironrdp_connector::sspi::NetworkRequest,
    ) -> ironrdp_connector::ConnectorResult<Vec<u8>> {
        Err(ironrdp_connector::general_err!("no network in tests"))
    }
}

fn new_acceptor() -> Acceptor {
    let mut acceptor = Acceptor::new(
        SecurityProtocol::HYBRID | SecurityProtocol::HYBRID_EX,
        DesktopSize { width: 1024, height: 768 },
        Vec::new(),
        None,
    );
    acceptor.set_credential_store(Some(Arc::new(NoUsers)));
    acceptor
}

/// Feed `input` (then EOF) to the X.224 negotiation phase.
async fn x224_case(input: Vec<u8>) {
    let (mut client, server) = tokio::io::duplex(64 * 1024);
    let writer = tokio::spawn(async move {
        let _ = client.write_all(&input).await;
        let _ = client.shutdown().await;
        // Keep the client end open until the server is done reading.
        tokio::time::sleep(Duration::from_secs(2)).await;
        drop(client);
    });
    let framed = ironrdp_tokio::TokioFramed::new(server);
    let mut acceptor = new_acceptor();
    let _ = ironrdp_acceptor::accept_begin(framed, &mut acceptor).await;
    writer.abort();
}

/// Negotiate HYBRID with a valid request, then feed `input` to the CredSSP phase.
async fn credssp_case(input: Vec<u8>) {
    let (mut client, server) = tokio::io::duplex(64 * 1024);
    client.write_all(X224_CR).await.unwrap();
    let framed = ironrdp_tokio::TokioFramed::new(server);
    let mut acceptor = new_acceptor();
    let stream = match ironrdp_acceptor::accept_begin(framed, &mut acceptor).await.unwrap() {
        BeginResult::ShouldUpgrade(stream) => stream,
        BeginResult::Continue(_) => panic!("valid request did not reach the security upgrade"),
    };
    acceptor.mark_security_upgrade_as_done();
    let writer = tokio::spawn(async move {
        let _ = client.write_all(&input).await;
        let _ = client.shutdown().await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        drop(client);
    });
    let mut framed = ironrdp_tokio::TokioFramed::new(stream);
    let _ = ironrdp_acceptor::accept_credssp(
        &mut framed,
        &mut acceptor,
        &mut NoNetwork,
        "fault-test".to_owned().into(),
        vec![0x30, 0x00],
        None,
    )
    .await;
    writer.abort();
}

#[derive(Clone, Copy)]
enum Phase {
    X224,
    Credssp,
}

/// Run one case on its own thread and runtime; Err(reason) on panic or overrun.
fn run_case(phase: Phase, input: Vec<u8>) -> Result<(), String> {
    let (tx, rx) = mpsc::channel();
    let shown = input.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async {
                match phase {
                    Phase::X224 => x224_case(input).await,
                    Phase::Credssp => credssp_case(input).await,
                }
            })
        }));
        let _ = tx.send(result.is_ok());
    });
    match rx.recv_timeout(CASE_TIME) {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!("panicked on input {}", hex::encode(&shown))),
        // The thread is left spinning; the test process ends with the test.
        Err(_) => Err(format!("did not finish in {CASE_TIME:?} on input {}", hex::encode(&shown))),
    }
}

fn mutate(rng: &mut StdRng, seed: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..rng.gen_range(1..=4) {
        match rng.gen_range(0..7) {
            0 if !data.is_empty() => {
                let i = rng.gen_range(0..data.len());
                data[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if !data.is_empty() => {
                let i = rng.gen_range(0..data.len());
                data[i] = rng.gen();
            }
            2 => {
                let cut = rng.gen_range(0..=data.len());
                data.truncate(cut);
            }
            3 if !data.is_empty() => {
                // Interesting length bytes in a length position.
                let i = rng.gen_range(0..data.len());
                data[i] = *[0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x84, 0xff].get(rng.gen_range(0..8)).unwrap();
            }
            4 => {
                let extra: Vec<u8> = (0..rng.gen_range(1..64)).map(|_| rng.gen()).collect();
                let at = rng.gen_range(0..=data.len());
                data.splice(at..at, extra);
            }
            5 if data.len() > 1 => {
                let i = rng.gen_range(0..data.len());
                let j = rng.gen_range(i..data.len());
                let chunk = data[i..=j].to_vec();
                data.extend_from_slice(&chunk);
            }
            _ => {
                data = (0..rng.gen_range(0..128)).map(|_| rng.gen()).collect();
            }
        }
    }
    data
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn campaign(phase: Phase, seed_input: &[u8], regressions: &[&[u8]], salt: u64) {
    let mut failures = Vec::new();
    for input in regressions {
        if let Err(e) = run_case(phase, input.to_vec()) {
            failures.push(format!("regression {e}"));
        }
    }
    let seed = env_or("RAMPART_FAULT_SEED", 0x5241_4d50) ^ salt;
    let cases = env_or("RAMPART_FAULT_CASES", 300);
    let mut rng = StdRng::seed_from_u64(seed);
    for _ in 0..cases {
        let input = mutate(&mut rng, seed_input);
        if let Err(e) = run_case(phase, input) {
            failures.push(e);
            if failures.len() >= 5 {
                break;
            }
        }
    }
    assert!(failures.is_empty(), "seed {seed:#x}: {failures:#?}");
}

#[test]
fn x224_negotiation_survives_mutated_input() {
    campaign(Phase::X224, X224_CR, REGRESSIONS_X224, 1);
}

#[test]
fn credssp_survives_mutated_input() {
    campaign(Phase::Credssp, &ts_request_negotiate(), REGRESSIONS_CREDSSP, 2);
}

#[test]
fn valid_negotiation_reaches_the_security_upgrade() {
    // The harness itself must be able to fail: a valid request gets through.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let (mut client, server) = tokio::io::duplex(4096);
        client.write_all(X224_CR).await.unwrap();
        let mut acceptor = new_acceptor();
        let res = ironrdp_acceptor::accept_begin(ironrdp_tokio::TokioFramed::new(server), &mut acceptor)
            .await
            .unwrap();
        assert!(matches!(res, BeginResult::ShouldUpgrade(_)));
        assert!(acceptor.reached_security_upgrade().is_some());
    });
}
