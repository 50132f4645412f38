//! nmap's `rdp-enum-encryption` NSE script against a loopback port, parsed into
//! the "Security layer" and encryption lines.

use std::process::Command;
use std::time::Duration;

use crate::process::{require_tool, run_bounded};

pub struct EnumEncryption {
    /// Lines of the script's output, without the "|   " prefixes.
    pub lines: Vec<String>,
    pub raw: String,
}

impl EnumEncryption {
    /// The verdict nmap printed for a security layer ("SUCCESS", "FAILED", "FAILED (..)", "Unknown").
    pub fn layer(&self, name: &str) -> Option<String> {
        let prefix = format!("{name}: ");
        self.lines
            .iter()
            .find_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
    }

    /// Encryption-method lines nmap marked SUCCESS (RC4 / FIPS: Standard RDP Security).
    pub fn accepted_encryption_methods(&self) -> Vec<String> {
        self.lines
            .iter()
            .filter(|l| (l.contains("RC4") || l.contains("FIPS")) && l.ends_with("SUCCESS"))
            .cloned()
            .collect()
    }
}

/// Runs `nmap -d -Pn -n -p PORT --script +rdp-enum-encryption 127.0.0.1`. `-d` makes
/// the script print FAILED layers too; `+` runs it on a non-3389 port.
pub fn enum_encryption(port: u16) -> EnumEncryption {
    require_tool("nmap", "nmap");
    let (status, out, err) = run_bounded(
        "nmap",
        Command::new("nmap")
            .args(["-d", "-Pn", "-n", "--host-timeout", "100s", "-p"])
            .arg(port.to_string())
            .args(["--script", "+rdp-enum-encryption", "127.0.0.1"]),
        Duration::from_secs(150),
    );
    assert!(
        status.map(|s| s.success()).unwrap_or(false),
        "nmap failed or timed out ({status:?}):\n{out}\n{err}"
    );
    EnumEncryption {
        lines: parse(&out),
        raw: out,
    }
}

/// The lines of the `rdp-enum-encryption` block of nmap's port table.
pub fn parse(out: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut inside = false;
    for line in out.lines() {
        if let Some(rest) = line
            .strip_prefix("| rdp-enum-encryption:")
            .or_else(|| line.strip_prefix("|_rdp-enum-encryption:"))
        {
            // A one-line block ("|_rdp-enum-encryption: Packet too short") is an error.
            if !rest.trim().is_empty() {
                lines.push(rest.trim().to_owned());
            }
            if line.starts_with("|_") {
                break;
            }
            inside = true;
            continue;
        }
        if !inside {
            continue;
        }
        let Some(body) = line.strip_prefix("|_").or_else(|| line.strip_prefix('|')) else {
            break;
        };
        lines.push(body.trim().to_owned());
        if line.starts_with("|_") {
            break;
        }
    }
    lines
}

#[test]
fn parses_nmap_script_block() {
    let out = "PORT      STATE SERVICE\n40000/tcp open  unknown\n| rdp-enum-encryption: \n|   Security layer\n\
               |     CredSSP (NLA): SUCCESS\n|     CredSSP with Early User Auth: SUCCESS\n|     Native RDP: FAILED (HYBRID_REQUIRED_BY_SERVER)\n\
               |     RDSTLS: FAILED (HYBRID_REQUIRED_BY_SERVER)\n|     SSL: FAILED (HYBRID_REQUIRED_BY_SERVER)\n|   RDP Encryption level: Unknown\n\
               |     40-bit RC4: FAILURE\n|_    128-bit RC4: SUCCESS\nFinal times\n";
    let e = EnumEncryption {
        lines: parse(out),
        raw: out.to_owned(),
    };
    assert_eq!(e.layer("CredSSP (NLA)").as_deref(), Some("SUCCESS"));
    assert_eq!(
        e.layer("SSL").as_deref(),
        Some("FAILED (HYBRID_REQUIRED_BY_SERVER)")
    );
    assert_eq!(
        e.accepted_encryption_methods(),
        vec!["128-bit RC4: SUCCESS".to_owned()]
    );
    assert_eq!(
        parse("PORT STATE\n|_rdp-enum-encryption: Packet too short\nFinal\n"),
        vec!["Packet too short".to_owned()]
    );
}
