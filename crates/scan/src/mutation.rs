//! Every parser of server bytes, fed mutated copies of the captured answers: each must
//! return (Ok or Err) without panicking. A fixed seed keeps the run the same every time;
//! a case that ever fails is kept in `regressions` below.

use crate::{captured, certificate, mcs, ntlm, tls_hello, tlv, tsrequest, x224};

/// Mutations per captured answer.
const ROUNDS: usize = 3000;

/// xorshift64*: a small deterministic generator (no dependency, same cases every run).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One to four byte-level changes: flip, set to an edge value, insert, delete, truncate.
fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len());
        match rng.below(5) {
            0 => {
                if let Some(b) = out.get_mut(at) {
                    *b ^= 1 << rng.below(8);
                }
            }
            1 => {
                if let Some(b) = out.get_mut(at) {
                    *b = [0x00, 0x7f, 0x80, 0xff][rng.below(4)];
                }
            }
            2 => out.insert(at, rng.next() as u8),
            3 => {
                if at < out.len() {
                    out.remove(at);
                }
            }
            _ => out.truncate(at),
        }
    }
    out
}

/// Runs every parser that could meet `bytes`.
fn parse_everything(bytes: &[u8]) {
    let _ = x224::parse_confirm(bytes);
    let _ = x224::data_payload(bytes).map(mcs::parse_connect_response);
    let _ = mcs::parse_connect_response(bytes);
    if let Some(header) = bytes.get(..tls_hello::RECORD_HEADER).and_then(|h| <[u8; 5]>::try_from(h).ok()) {
        if let Ok((kind, _)) = tls_hello::record_header(header) {
            let _ = tls_hello::parse_answer(kind, bytes.get(5..).unwrap_or_default());
        }
    }
    let _ = tls_hello::parse_answer(22, bytes);
    let _ = tlv::element_size(bytes);
    if let Ok(ts) = tsrequest::parse(bytes) {
        if let Some(token) = ts.token {
            let _ = ntlm::parse_challenge(&token);
        }
    }
    let _ = ntlm::parse_challenge(bytes);
    let _ = certificate::facts(bytes);
}

#[test]
fn mutated_server_answers_never_panic() {
    let seeds: Vec<Vec<u8>> = vec![
        captured::XRDP_SELECTS_SSL.to_vec(),
        captured::SHADOW_REFUSES_RDP.to_vec(),
        captured::OPENSSL_REFUSES_TLS10.to_vec(),
        hex::decode(captured::XRDP_SERVER_HELLO).unwrap(),
        hex::decode(captured::RAMPART_TS_REQUEST).unwrap(),
        hex::decode(captured::SHADOW_TS_REQUEST).unwrap(),
        hex::decode(captured::XRDP_CONNECT_RESPONSE).unwrap(),
        // The NTLM tokens on their own, so mutations reach the CHALLENGE parser directly.
        tsrequest::parse(&hex::decode(captured::SHADOW_TS_REQUEST).unwrap()).unwrap().token.unwrap(),
        tsrequest::parse(&hex::decode(captured::RAMPART_TS_REQUEST).unwrap()).unwrap().token.unwrap(),
    ];
    let mut rng = Rng(0x5EED_2026_0000_0007);
    for seed in &seeds {
        parse_everything(seed);
        for _ in 0..ROUNDS {
            parse_everything(&mutate(&mut rng, seed));
        }
    }
}

#[test]
fn regressions() {
    // Lengths that point past the end, zero-length blocks, and an empty input.
    for case in [
        &[][..],
        &[0x7f, 0x66, 0x84, 0xff, 0xff, 0xff, 0xff][..],
        &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff][..],
        b"NTLMSSP\0\x02\0\0\0\0\0\0\0\xff\xff\xff\xff",
        &[0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00][..],
    ] {
        parse_everything(case);
    }
}

#[test]
fn the_captured_server_hello_parses() {
    let record = hex::decode(captured::XRDP_SERVER_HELLO).unwrap();
    let (kind, len) = tls_hello::record_header(record[..5].try_into().unwrap()).unwrap();
    assert_eq!(len, record.len() - 5);
    assert_eq!(
        tls_hello::parse_answer(kind, &record[5..]),
        Ok(tls_hello::HelloAnswer::ServerHello { version: tls_hello::TLS1_2, cipher_suite: 0x002F })
    );
}
