//! Findings, the report, its exit status and its text form (JSON is serde's).

use serde::Serialize;

use crate::observations::Observations;

/// How bad a finding is. The order matters: the worst finding decides the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The practice is followed.
    Pass,
    /// A fact worth knowing, not a fault.
    Info,
    /// A weakness.
    Warn,
    /// A practice every hardening guide asks for is not followed.
    Fail,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Pass => "PASS",
            Severity::Info => "INFO",
            Severity::Warn => "WARN",
            Severity::Fail => "FAIL",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable identifier of the check (`nla`, `tls-versions`, ...).
    pub check: &'static str,
    pub severity: Severity,
    pub message: String,
}

impl Finding {
    pub fn new(check: &'static str, severity: Severity, message: impl Into<String>) -> Self {
        Self { check, severity, message: message.into() }
    }
}

/// Exit statuses of `rampart scan`.
pub mod exit {
    /// Nothing worse than INFO.
    pub const CLEAN: u8 = 0;
    /// At least one WARN, no FAIL.
    pub const WARNINGS: u8 = 1;
    /// At least one FAIL.
    pub const FAILURES: u8 = 2;
    /// The target could not be scanned (unreachable, not RDP, bad target).
    pub const COULD_NOT_SCAN: u8 = 3;
}

/// The result of a scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The target as given.
    pub target: String,
    /// The address scanned.
    pub address: String,
    /// Set when the target could not be scanned; then there are no findings.
    pub could_not_scan: Option<String>,
    pub findings: Vec<Finding>,
    pub observations: Observations,
    pub exit_status: u8,
}

impl Report {
    pub fn new(target: String, address: String, observations: Observations, verdict: Verdict) -> Self {
        let (could_not_scan, findings) = match verdict {
            Verdict::Findings(findings) => (None, findings),
            Verdict::CouldNotScan(why) => (Some(why), Vec::new()),
        };
        let exit_status = exit_status(could_not_scan.is_some(), &findings);
        Report { target, address, could_not_scan, findings, observations, exit_status }
    }

    /// One line per check, then a summary line.
    pub fn text(&self) -> String {
        let mut out = format!("rampart scan {} ({})\n", self.target, self.address);
        if let Some(why) = &self.could_not_scan {
            out.push_str(&format!("could not scan: {why}\n"));
            return out;
        }
        let width = self.findings.iter().map(|f| f.check.len()).max().unwrap_or(0);
        for f in &self.findings {
            out.push_str(&format!("{} {:width$}  {}\n", f.severity.label(), f.check, f.message));
        }
        let count = |s: Severity| self.findings.iter().filter(|f| f.severity == s).count();
        out.push_str(&format!(
            "{} failed, {} warnings, {} passed, {} notes; {} connections (exit status {})\n",
            count(Severity::Fail),
            count(Severity::Warn),
            count(Severity::Pass),
            count(Severity::Info),
            self.observations.connections,
            self.exit_status
        ));
        out
    }
}

/// What the judge concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Findings(Vec<Finding>),
    CouldNotScan(String),
}

/// 0 clean, 1 warnings, 2 failures, 3 could not scan.
pub fn exit_status(could_not_scan: bool, findings: &[Finding]) -> u8 {
    if could_not_scan {
        return exit::COULD_NOT_SCAN;
    }
    match findings.iter().map(|f| f.severity).max() {
        Some(Severity::Fail) => exit::FAILURES,
        Some(Severity::Warn) => exit::WARNINGS,
        _ => exit::CLEAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_has_one_line_per_check_and_a_summary() {
        let obs = Observations {
            negotiation: Vec::new(),
            rdp_security: Vec::new(),
            tls: crate::observations::Probe::not_run("x"),
            ntlm: crate::observations::Probe::not_run("x"),
            logins: crate::observations::Probe::not_run("x"),
            connections: 7,
        };
        let findings = vec![
            Finding::new("nla", Severity::Fail, "NLA downgraded"),
            Finding::new("tls-versions", Severity::Pass, "TLS 1.2 only"),
        ];
        let report = Report::new("h:1".to_owned(), "127.0.0.1:1".to_owned(), obs.clone(), Verdict::Findings(findings));
        assert_eq!(
            report.text(),
            "rampart scan h:1 (127.0.0.1:1)\n\
             FAIL nla           NLA downgraded\n\
             PASS tls-versions  TLS 1.2 only\n\
             1 failed, 0 warnings, 1 passed, 0 notes; 7 connections (exit status 2)\n"
        );
        let down = Report::new("h:1".to_owned(), String::new(), obs, Verdict::CouldNotScan("refused".to_owned()));
        assert_eq!(down.exit_status, 3);
        assert_eq!(down.text(), "rampart scan h:1 ()\ncould not scan: refused\n");
    }

    #[test]
    fn the_worst_finding_decides() {
        let f = |s| Finding::new("x", s, "");
        assert_eq!(exit_status(false, &[]), 0);
        assert_eq!(exit_status(false, &[f(Severity::Pass), f(Severity::Info)]), 0);
        assert_eq!(exit_status(false, &[f(Severity::Warn), f(Severity::Pass)]), 1);
        assert_eq!(exit_status(false, &[f(Severity::Warn), f(Severity::Fail)]), 2);
        assert_eq!(exit_status(true, &[f(Severity::Pass)]), 3);
    }
}
