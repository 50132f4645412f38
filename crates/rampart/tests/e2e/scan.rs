//! What a scanner sees: nmap's rdp-enum-encryption must find CredSSP only.

use crate::exclusive;
use crate::nmap;
use crate::server::{Config, Server};

#[test]
fn nmap_reports_only_credssp() {
    let _turn = exclusive();
    let mut server = Server::new(&Config::default());
    server.start();
    let scan = nmap::enum_encryption(server.port);
    let context = format!(
        "nmap output:\n{}\nserver output:\n{}",
        scan.raw,
        server.log_tail()
    );
    assert!(
        scan.lines.first().is_some_and(|l| l == "Security layer"),
        "rdp-enum-encryption printed no Security layer section but {:?}: nmap stops probing when the server \
         hangs up on a Connection Request instead of answering it (an RDP_NEG_FAILURE is expected for \
         protocols it refuses); {context}",
        scan.lines
    );
    assert_eq!(
        scan.layer("CredSSP (NLA)").as_deref(),
        Some("SUCCESS"),
        "{context}"
    );
    assert_eq!(
        scan.layer("CredSSP with Early User Auth").as_deref(),
        Some("SUCCESS"),
        "{context}"
    );
    for refused in ["Native RDP", "SSL", "RDSTLS"] {
        let verdict = scan.layer(refused);
        assert!(
            verdict.as_deref().is_some_and(|v| v.starts_with("FAILED")),
            "nmap should see an RDP negotiation failure for {refused}, got {verdict:?}; {context}"
        );
    }
    assert!(
        scan.accepted_encryption_methods().is_empty(),
        "Standard RDP Security encryption accepted: {:?}; {context}",
        scan.accepted_encryption_methods()
    );
    assert!(
        server.is_running(),
        "server died during the scan:\n{}",
        server.log_tail()
    );
    server.stop_and_check();
}
