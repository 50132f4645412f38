//! `rampart scan` against real servers on loopback: Rampart with its defaults (every
//! check passes, repeated failed logins get the scanner banned), xrdp with its packaged
//! configuration (RC4 and the NLA downgrade that nmap misses) and freerdp-shadow with NLA
//! (its NTLM challenge leaks the host name). Each scan is bounded by the command's own
//! caps and by a 90 s kill.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::display::Xvfb;
use crate::exclusive;
use crate::peers;
use crate::process::{run_bounded, tail};
use crate::server::{Config, Server, BIN};

/// One `rampart scan --json` run.
struct Scan {
    status: Option<i32>,
    report: Value,
    raw: String,
}

impl Scan {
    fn run(port: u16, extra: &[&str]) -> Scan {
        let mut cmd = Command::new(BIN);
        cmd.arg("scan")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--json")
            .args(extra);
        let (status, out, err) = run_bounded("rampart scan", &mut cmd, Duration::from_secs(90));
        let raw = format!("stdout:\n{out}\nstderr:\n{}", tail(&err, 20));
        // The report in the test log: what an administrator would read (--nocapture).
        eprintln!("rampart scan 127.0.0.1:{port} {extra:?} -> {status:?}\n{out}");
        let report = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("rampart scan printed no json report ({e}); {raw}"));
        Scan {
            status: status.and_then(|s| s.code()),
            report,
            raw,
        }
    }

    /// (severity, message) of the finding for `check`.
    fn finding(&self, check: &str) -> (String, String) {
        self.report["findings"]
            .as_array()
            .and_then(|findings| findings.iter().find(|f| f["check"] == check))
            .map(|f| {
                (
                    f["severity"].as_str().unwrap_or_default().to_owned(),
                    f["message"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .unwrap_or_else(|| panic!("no `{check}` finding; {}", self.raw))
    }

    fn expect(&self, check: &str, severity: &str, contains: &[&str]) -> String {
        let (found, message) = self.finding(check);
        assert_eq!(found, severity, "`{check}`: {message}; {}", self.raw);
        for part in contains {
            assert!(
                message.contains(part),
                "`{check}` should mention {part:?}: {message}; {}",
                self.raw
            );
        }
        message
    }

    fn severities(&self) -> Vec<(String, String)> {
        self.report["findings"]
            .as_array()
            .map(|findings| {
                findings
                    .iter()
                    .map(|f| {
                        (
                            f["check"].as_str().unwrap_or_default().to_owned(),
                            f["severity"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("/proc/sys/kernel/hostname")
        .trim()
        .to_owned()
}

#[test]
fn scan_of_rampart_passes_every_check() {
    let _turn = exclusive();
    let mut server = Server::new(&Config::default());
    server.start();
    // Six failed logins at most: the guard's default bans the source after five
    // failures (some of which the scan's own TLS probes already cost, see below).
    let scan = Scan::run(server.port, &["--try-logins", "6"]);
    let context = format!("{}\nserver output:\n{}", scan.raw, server.log_tail());
    assert_eq!(scan.status, Some(0), "exit status; {context}");
    for (check, severity) in scan.severities() {
        assert!(
            severity == "pass" || severity == "info",
            "`{check}` is {severity}; {context}"
        );
    }
    scan.expect(
        "negotiation",
        "info",
        &[
            "RDP -> refused (HYBRID_REQUIRED_BY_SERVER)",
            "SSL -> refused",
            "HYBRID -> HYBRID",
            "HYBRID_EX -> HYBRID_EX",
            "RDSTLS -> refused",
        ],
    );
    scan.expect("standard-rdp-security", "pass", &[]);
    scan.expect("nla-required", "pass", &[]);
    scan.expect("nla", "pass", &["HYBRID_EX too"]);
    scan.expect("tls-versions", "pass", &["TLS 1.2, TLS 1.3 only"]);
    scan.expect("tls-ciphers", "pass", &["none of"]);
    scan.expect("host-names", "pass", &[]);
    // The certificate the scan read is the one the server printed at start-up.
    let fingerprint = server
        .log_text()
        .lines()
        .find_map(|l| {
            l.strip_prefix("rampart: certificate sha256 fingerprint ")
                .map(str::to_owned)
        })
        .unwrap_or_else(|| panic!("no fingerprint line in the server output; {context}"));
    scan.expect(
        "certificate",
        "pass",
        &["CN=rampart", "RSA 2048 bits", "self-signed", &fingerprint],
    );
    scan.expect("login-throttling", "pass", &["blocked after"]);
    // The server's own audit trail agrees: the scanner's address was banned.
    server.expect_event("source_banned for the scanner", |e| {
        e.is("source_banned") && e.peer_ip() == "127.0.0.1"
    });
    assert!(
        server.is_running(),
        "server died during the scan; {context}"
    );
    server.stop_and_check();
}

#[test]
fn scan_of_xrdp_reports_rc4_and_the_nla_downgrade() {
    let _turn = exclusive();
    let dir = tempfile::Builder::new()
        .prefix("rampart-e2e-xrdp.")
        .tempdir()
        .expect("tempdir");
    let xrdp = peers::xrdp(dir.path());
    let scan = Scan::run(xrdp.port, &[]);
    let context = format!("{}\nxrdp output:\n{}", scan.raw, tail(&xrdp.log_text(), 20));
    assert_eq!(scan.status, Some(2), "exit status (failures); {context}");
    scan.expect(
        "standard-rdp-security",
        "fail",
        &["selected for RDP", "128-bit RC4", "encryption level high"],
    );
    scan.expect(
        "nla",
        "fail",
        &["NLA downgraded", "HYBRID -> SSL", "HYBRID_EX -> SSL"],
    );
    scan.expect("nla-required", "fail", &["RDP -> RDP", "SSL -> SSL"]);
    // TLS itself is set up well by the packaged configuration.
    scan.expect("tls-versions", "pass", &["TLS 1.2, TLS 1.3 only"]);
    // No CredSSP: no NTLM challenge to read, and no login attempts are made.
    let ntlm = &scan.report["observations"]["ntlm"];
    assert_eq!(ntlm["status"], "not_run", "{context}");
}

#[test]
fn scan_of_freerdp_shadow_reports_the_host_name_leak() {
    let _turn = exclusive();
    let display = Xvfb::start(800, 600);
    let shadow = peers::freerdp_shadow(&display, "scanpeer", "Peer-Password-1234");
    // Three wrong logins: freerdp-shadow neither blocks nor slows them.
    let scan = Scan::run(shadow.port, &["--try-logins", "3"]);
    let context = format!(
        "{}\nfreerdp-shadow output:\n{}",
        scan.raw,
        tail(&shadow.log_text(), 20)
    );
    assert_eq!(scan.status, Some(1), "exit status (warnings); {context}");
    scan.expect("nla", "pass", &[]);
    scan.expect("standard-rdp-security", "pass", &[]);
    let host = hostname();
    assert_ne!(
        host, "localhost",
        "this test needs a real host name to find in the NTLM challenge"
    );
    scan.expect(
        "host-names",
        "warn",
        &[
            &format!("NetBIOS computer name {}", host.to_uppercase()),
            &format!("DNS computer name {host}"),
            "this machine's host name",
        ],
    );
    scan.expect("ntlm-version", "info", &["6.1 build 7601"]);
    scan.expect(
        "login-throttling",
        "warn",
        &["3 failed logins", "neither blocked nor slowed"],
    );
    // The attempts really reached the server's NTLM check (and were turned down there).
    let misses = shadow
        .log_text()
        .matches("Could not find user in SAM database")
        .count();
    assert_eq!(misses, 3, "{context}");
}
