//! Secrets stay in the supervisor (issue 9): a worker serving a real, logged-in xfreerdp
//! session holds neither the TLS private key nor any NT hash nor the host key, and with
//! CredSSP/NTLM logging turned all the way up in `RUST_LOG` no TsRequest or NTLM message
//! reaches the log.
//!
//! The key check reads the worker's whole memory (`/proc/PID/mem`, as root) for pieces of
//! the key file: its PEM lines and 32-byte windows of the private exponent and primes, in
//! big- and little-endian order (how a crypto library keeps big numbers). The same scan of
//! the supervisor, which does hold the key, must find it: that shows the scan can see it.

use std::os::unix::fs::FileExt;
use std::time::Duration;

use crate::audit;
use crate::client::{auth_only, Session};
use crate::exclusive;
use crate::process::poll;
use crate::proctree;
use crate::server::{Config, Server, PASSWORD};

const LIMIT: Duration = Duration::from_secs(30);
/// Upper bound on the bytes read from one process (a worker with a session is ~100 MB).
const MAX_SCAN: u64 = 4 << 30;
/// What the worker may log at: everything, including the CredSSP and NTLM targets.
const LOUD: &str = "debug,sspi=trace,ironrdp_acceptor=trace,ironrdp_connector=trace";

#[test]
fn workers_hold_no_key_and_log_no_ntlm() {
    let _turn = exclusive();
    let mut server = Server::new(&Config::default());
    server.add_user("alice", PASSWORD);
    server.set_env("RUST_LOG", LOUD);
    server.start();

    // A refusal and a success first: both exchanges go through the logs checked below.
    let wrong = auth_only(server.port, "alice", "Wrong-Horse-Battery-43?", "nla", LIMIT);
    assert!(!wrong.succeeded(), "wrong password accepted: {}", wrong.summary());
    server.expect_event("auth_failed wrong password", |e| {
        e.is("auth_failed") && e.user == "alice" && e.reason == "wrong password"
    });
    std::thread::sleep(Duration::from_secs(2)); // the (user, source) back-off

    let mut session = Session::start(server.port, "alice", PASSWORD, (800, 600), Duration::from_secs(60));
    server.expect_event("auth_succeeded for alice", |e| e.is("auth_succeeded") && e.user == "alice");
    let worker = poll(Duration::from_secs(10), Duration::from_millis(100), || {
        let workers = workers_of(server.pid());
        (workers.len() == 1).then(|| workers[0])
    })
    .unwrap_or_else(|| {
        panic!(
            "expected exactly one worker under the server, found {:?}",
            workers_of(server.pid())
        )
    });

    // Its command line and environment: `rampart worker`, PATH and RUST_LOG only.
    let cmdline = std::fs::read(format!("/proc/{worker}/cmdline")).unwrap();
    let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).filter(|a| !a.is_empty()).collect();
    assert_eq!(args.len(), 2, "worker command line: {:?}", String::from_utf8_lossy(&cmdline));
    assert_eq!(args[1], b"worker");
    let environ = std::fs::read(format!("/proc/{worker}/environ")).unwrap();
    let mut names: Vec<String> = environ
        .split(|&b| b == 0)
        .filter(|e| !e.is_empty())
        .map(|e| String::from_utf8_lossy(e.split(|&b| b == b'=').next().unwrap_or(e)).into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["PATH", "RUST_LOG"], "worker environment");

    let needles = secret_needles(&server);
    let (read, found) = scan(server.pid(), &needles);
    assert!(
        found.iter().any(|n| n.starts_with("tls key pem line")),
        "control failed: the supervisor's memory ({read} bytes read) should hold the key it signs \
         with, but the scan found none of its PEM lines (found: {found:?})"
    );
    let (read, found) = scan(worker, &needles);
    assert!(read > 4 << 20, "read only {read} bytes of the worker's memory");
    assert!(
        found.is_empty(),
        "the worker (pid {worker}, {read} bytes scanned) holds secret material: {found:?}"
    );
    assert!(session.is_running(), "the session ended during the scan");
    drop(session);

    // The logs: debug output from the worker was on, CredSSP/NTLM messages were not.
    let log = server.log_text();
    assert!(
        log.contains("ironrdp_acceptor::connection"),
        "no debug output from the acceptor: was RUST_LOG={LOUD} passed to the workers?\n{}",
        server.log_tail()
    );
    for marker in [
        // A Debug-printed TsRequest (the CredSSP sequence's "Received"/"Send" lines).
        "TsRequest {",
        "nego_tokens",
        "pub_key_auth",
        "NTLMSSP",
        // "NTLMSSP\0" as a Debug-printed byte list.
        "78, 84, 76, 77, 83, 83, 80, 0",
        "sspi::",
        "ironrdp_acceptor::credssp",
    ] {
        assert!(
            !log.contains(marker),
            "the log carries {marker:?} (CredSSP/NTLM content):\n{}",
            log.lines()
                .filter(|l| l.contains(marker))
                .take(3)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    assert!(
        !server.events().iter().any(|e| e.reason.starts_with("worker killed")),
        "a well-behaved worker was killed:\n{}",
        audit::describe(&server.events())
    );
    server.stop_and_check();
}

/// PIDs of `rampart worker` processes under the server.
fn workers_of(server: u32) -> Vec<u32> {
    proctree::tree(server)
        .into_iter()
        .map(|(pid, _)| pid)
        .filter(|&pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| c.split(|&b| b == 0).nth(1) == Some(b"worker"))
                .unwrap_or(false)
        })
        .collect()
}

/// Named byte strings no worker may hold: the TLS key (PEM lines; windows of d, p, q both
/// ways round), alice's NT hash, the host key (bytes and hex).
fn secret_needles(server: &Server) -> Vec<(String, Vec<u8>)> {
    let state = server.state_dir();
    let pem = std::fs::read_to_string(state.join("tls/key.pem")).unwrap();
    let mut needles = Vec::new();
    let body: Vec<&str> = pem
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 32)
        .collect();
    assert!(body.len() > 10, "an RSA key PEM has more lines than {}", body.len());
    for (i, line) in body.iter().enumerate() {
        needles.push((format!("tls key pem line {i}"), line.as_bytes().to_vec()));
    }
    let all: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = decode_base64(all.trim());
    for (name, int) in rsa_private_parts(&der) {
        assert!(int.len() >= 100, "{name} is {} bytes", int.len());
        let mid = int.len() / 2 - 16;
        let window = int[mid..mid + 32].to_vec();
        let mut reversed = window.clone();
        reversed.reverse();
        needles.push((format!("tls key {name} (big-endian)"), window));
        needles.push((format!("tls key {name} (little-endian)"), reversed));
    }
    let nt = rampart_auth::NtHash::from_password(&rampart_auth::Password::new(PASSWORD.to_owned()));
    needles.push(("alice's nt hash".to_owned(), nt.as_bytes().to_vec()));
    let host_hex = std::fs::read_to_string(state.join("host.key")).unwrap();
    let host_hex = host_hex.trim();
    assert_eq!(host_hex.len(), 64, "host key file format");
    let host: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&host_hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    needles.push(("host key".to_owned(), host));
    needles.push(("host key (hex)".to_owned(), host_hex.as_bytes().to_vec()));
    needles
}

/// d, p and q of a PKCS#8 (or PKCS#1) RSA private key.
fn rsa_private_parts(der: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let (_, pkcs8, _) = tlv(der);
    let (_, _version, rest) = tlv(pkcs8);
    let (tag, _, after_alg) = tlv(rest);
    let rsa = if tag == 0x30 {
        // PKCS#8: the algorithm identifier, then an OCTET STRING holding RSAPrivateKey.
        let (tag, octets, _) = tlv(after_alg);
        assert_eq!(tag, 0x04, "pkcs#8 private key octet string");
        tlv(octets).1
    } else {
        pkcs8
    };
    let mut ints = Vec::new();
    let mut rest = rsa;
    while !rest.is_empty() {
        let (tag, value, next) = tlv(rest);
        assert_eq!(tag, 0x02, "RSAPrivateKey holds integers");
        let value = value.strip_prefix(&[0][..]).unwrap_or(value);
        ints.push(value.to_vec());
        rest = next;
    }
    assert!(ints.len() >= 6, "RSAPrivateKey with {} integers", ints.len());
    vec![("d", ints[3].clone()), ("p", ints[4].clone()), ("q", ints[5].clone())]
}

/// One DER element: (tag, contents, what follows).
fn tlv(input: &[u8]) -> (u8, &[u8], &[u8]) {
    let tag = input[0];
    let (len, header) = match input[1] {
        n if n < 0x80 => (usize::from(n), 2),
        0x81 => (usize::from(input[2]), 3),
        0x82 => (usize::from(input[2]) << 8 | usize::from(input[3]), 4),
        other => panic!("unexpected DER length form {other:#x}"),
    };
    (tag, &input[header..header + len], &input[header + len..])
}

fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let mut out = Vec::new();
    for chunk in text.trim_end_matches('=').as_bytes().chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c) << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

/// Reads every readable mapping of `pid` and reports which needles occur: (bytes read,
/// names found).
fn scan(pid: u32, needles: &[(String, Vec<u8>)]) -> (u64, Vec<String>) {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let mem = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap();
    let finders: Vec<memchr::memmem::Finder<'_>> =
        needles.iter().map(|(_, n)| memchr::memmem::Finder::new(n)).collect();
    let overlap = needles.iter().map(|(_, n)| n.len()).max().unwrap_or(1);
    let mut found = vec![false; needles.len()];
    let mut read = 0u64;
    let mut buf = vec![0u8; 4 << 20];
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        let path = fields.nth(3).unwrap_or("");
        if !perms.starts_with('r') || path.starts_with("[vvar") || path == "[vsyscall]" {
            continue;
        }
        let (start, end) = range.split_once('-').unwrap();
        let (start, end) = (
            u64::from_str_radix(start, 16).unwrap(),
            u64::from_str_radix(end, 16).unwrap(),
        );
        let mut at = start;
        while at < end && read < MAX_SCAN {
            let want = usize::try_from((end - at).min(buf.len() as u64)).unwrap();
            let Ok(n) = mem.read_at(&mut buf[..want], at) else {
                break;
            };
            if n == 0 {
                break;
            }
            read += n as u64;
            for (hit, finder) in found.iter_mut().zip(&finders) {
                if !*hit && finder.find(&buf[..n]).is_some() {
                    *hit = true;
                }
            }
            // Step back a little so a needle across two chunks is still seen.
            at += n as u64;
            if at < end && n > overlap {
                at -= overlap as u64;
            }
        }
    }
    let names = needles
        .iter()
        .zip(found)
        .filter(|(_, hit)| *hit)
        .map(|((name, _), _)| name.clone())
        .collect();
    (read, names)
}
