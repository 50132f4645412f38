//! From observations to findings: the hardening practices, judged. Pure: the time and the
//! names to compare against come in through [`Context`].

use crate::certificate::{weak_signature, CertificateFacts, PublicKey};
use crate::mcs;
use crate::ntlm::ChallengeFacts;
use crate::observations::{LoginAttempt, LoginOutcome, Observations, Probe, TlsObservations, TlsVersionAnswer};
use crate::report::{Finding, Severity, Verdict};
use crate::tls_hello::{self, Weakness};
use crate::x224::{self, Answer, Request};

/// What the judge needs besides the observations.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Unix seconds now (certificate validity).
    pub now_unix: u64,
    /// This machine's host names, given when the target is a loopback address: a server
    /// on this machine that shows them leaks them.
    pub local_names: Vec<String>,
    /// The target's host name when it was given as a name, not an address.
    pub target_name: Option<String>,
}

/// An RSA key shorter than this is a failure (NIST SP 800-131A).
const MIN_RSA_BITS: u32 = 2048;
/// Answers this much slower than the first rejection count as throttling.
const SLOWDOWN_MS: u64 = 2000;

/// The checks, in report order.
pub fn judge(obs: &Observations, ctx: &Context) -> Verdict {
    if let Some(why) = unreachable(obs) {
        return Verdict::CouldNotScan(why);
    }
    let mut findings = vec![negotiation_summary(obs)];
    findings.push(standard_rdp_security(obs));
    findings.push(nla_required(obs));
    findings.push(nla_downgrade(obs));
    if let Probe::Done { result: tls } = &obs.tls {
        findings.push(tls_versions(tls));
        findings.extend(tls_suites(tls));
        if let Some(cert) = tls.certificate.done() {
            findings.push(certificate(cert, ctx));
        } else if let Probe::Failed { error } = &tls.certificate {
            findings.push(Finding::new("certificate", Severity::Info, format!("not read: {error}")));
        }
    }
    let cert = match &obs.tls {
        Probe::Done { result } => result.certificate.done(),
        _ => None,
    };
    findings.extend(names(obs.ntlm.done(), cert, ctx));
    findings.extend(ntlm_version(&obs.ntlm));
    findings.push(login_throttling(&obs.logins));
    Verdict::Findings(findings)
}

/// No probe reached an RDP server: the target is down, filtered, or not RDP.
fn unreachable(obs: &Observations) -> Option<String> {
    let answered = obs.negotiation.iter().any(|n| matches!(n.answer, Probe::Done { .. }));
    if answered {
        return None;
    }
    let first_error = obs.negotiation.iter().find_map(|n| match &n.answer {
        Probe::Failed { error } => Some(error.clone()),
        _ => None,
    });
    Some(match first_error {
        Some(error) => format!("no RDP answer to any connection request ({error})"),
        None => "the server hung up on every connection request without an X.224 answer".to_owned(),
    })
}

fn describe_answer(answer: &Probe<Answer>) -> String {
    match answer {
        Probe::Done { result: Answer::Selected { protocol } } => x224::protocol_name(*protocol),
        Probe::Done { result: Answer::Failure { code } } => format!("refused ({})", x224::failure_name(*code)),
        Probe::Done { result: Answer::NoNegotiation } => "RDP (no negotiation: Standard RDP Security only)".to_owned(),
        Probe::Closed => "refused (hung up without RDP_NEG_FAILURE)".to_owned(),
        Probe::Failed { error } => format!("error: {error}"),
        Probe::NotRun { why } => format!("not tried: {why}"),
    }
}

/// One line with what the server selected for each request.
fn negotiation_summary(obs: &Observations) -> Finding {
    let parts: Vec<String> =
        obs.negotiation.iter().map(|n| format!("{} -> {}", n.request.name(), describe_answer(&n.answer))).collect();
    Finding::new("negotiation", Severity::Info, parts.join("; "))
}

/// Requests for which the server settled on Standard RDP Security.
fn rdp_selected_for(obs: &Observations) -> Vec<&'static str> {
    Request::ALL.iter().filter(|&&r| obs.selected(r) == Some(x224::PROTOCOL_RDP)).map(|r| r.name()).collect()
}

fn standard_rdp_security(obs: &Observations) -> Finding {
    const CHECK: &str = "standard-rdp-security";
    let via = rdp_selected_for(obs);
    if via.is_empty() {
        return match obs.negotiation(Request::Rdp) {
            Some(Probe::Failed { error }) => Finding::new(CHECK, Severity::Info, format!("not determined: {error}")),
            answer => Finding::new(
                CHECK,
                Severity::Pass,
                format!(
                    "Standard RDP Security (RC4) {}",
                    answer.map(describe_answer).unwrap_or_else(|| "not offered".to_owned())
                ),
            ),
        };
    }
    let accepted: Vec<(u32, u32)> = obs
        .rdp_security
        .iter()
        .filter_map(|p| p.answer.done())
        .filter(|s| s.result == 0 && s.encryption_method != 0)
        .map(|s| (s.encryption_method, s.encryption_level))
        .collect();
    let mut methods: Vec<u32> = accepted.iter().map(|&(m, _)| m).collect();
    methods.sort_unstable();
    methods.dedup();
    let method_text = if methods.is_empty() {
        let errors: Vec<String> = obs
            .rdp_security
            .iter()
            .filter_map(|p| match &p.answer {
                Probe::Failed { error } => Some(error.clone()),
                _ => None,
            })
            .collect();
        if errors.is_empty() {
            "encryption methods not read".to_owned()
        } else {
            format!("encryption methods not read ({})", errors.join("; "))
        }
    } else {
        let names: Vec<String> = methods.iter().map(|&m| mcs::method_name(m)).collect();
        let levels: Vec<&str> = {
            let mut l: Vec<u32> = accepted.iter().map(|&(_, l)| l).collect();
            l.sort_unstable();
            l.dedup();
            l.into_iter().map(mcs::level_name).collect()
        };
        format!("accepts {} (encryption level {})", names.join(", "), levels.join("/"))
    };
    Finding::new(
        CHECK,
        Severity::Fail,
        format!(
            "Standard RDP Security selected for {}: {method_text}; RC4 with no server authentication, \
             open to man-in-the-middle",
            via.join(", ")
        ),
    )
}

/// A client that does not offer NLA must not get in.
fn nla_required(obs: &Observations) -> Finding {
    const CHECK: &str = "nla-required";
    let mut let_in = Vec::new();
    for request in [Request::Rdp, Request::Ssl] {
        if let Some(protocol) = obs.selected(request) {
            if protocol & (x224::PROTOCOL_HYBRID | x224::PROTOCOL_HYBRID_EX) == 0 {
                let_in.push(format!("{} -> {}", request.name(), x224::protocol_name(protocol)));
            }
        }
    }
    if let_in.is_empty() {
        Finding::new(CHECK, Severity::Pass, "clients that do not offer NLA are refused")
    } else {
        Finding::new(
            CHECK,
            Severity::Fail,
            format!(
                "clients without NLA are let in ({}): the login screen and the server's resources are \
                 reachable before authentication",
                let_in.join(", ")
            ),
        )
    }
}

/// A client that asks for NLA must get NLA, not a silent fallback.
fn nla_downgrade(obs: &Observations) -> Finding {
    const CHECK: &str = "nla";
    let hybrid = obs.negotiation(Request::Hybrid);
    let hybrid_ex = obs.negotiation(Request::HybridEx);
    let nla = |p: u32| p & (x224::PROTOCOL_HYBRID | x224::PROTOCOL_HYBRID_EX) != 0;
    let mut downgraded = Vec::new();
    for request in [Request::Hybrid, Request::HybridEx] {
        if let Some(protocol) = obs.selected(request).filter(|&p| !nla(p)) {
            downgraded.push(format!("{} -> {}", request.name(), x224::protocol_name(protocol)));
        }
    }
    if !downgraded.is_empty() {
        return Finding::new(
            CHECK,
            Severity::Fail,
            format!(
                "NLA downgraded: asked for CredSSP, the server selected something else ({}); clients \
                 that allow the fallback authenticate after the session starts (nmap's \
                 rdp-enum-encryption reports this as CredSSP SUCCESS)",
                downgraded.join(", ")
            ),
        );
    }
    if obs.selected(Request::Hybrid).is_some_and(nla) {
        let ex = if obs.selected(Request::HybridEx).is_some_and(|p| p & x224::PROTOCOL_HYBRID_EX != 0) {
            " (HYBRID_EX too)"
        } else {
            ""
        };
        return Finding::new(CHECK, Severity::Pass, format!("CredSSP (NLA) selected when asked for{ex}"));
    }
    match (hybrid, hybrid_ex) {
        (Some(Probe::Failed { error }), _) => Finding::new(CHECK, Severity::Info, format!("not determined: {error}")),
        (answer, _) => Finding::new(
            CHECK,
            Severity::Fail,
            format!("no NLA: HYBRID {}", answer.map(describe_answer).unwrap_or_else(|| "not tried".to_owned())),
        ),
    }
}

fn tls_versions(tls: &TlsObservations) -> Finding {
    const CHECK: &str = "tls-versions";
    let accepted: Vec<&str> = tls
        .versions
        .iter()
        .filter(|v| matches!(v.answer, Probe::Done { result: TlsVersionAnswer::Accepted { .. } }))
        .map(|v| v.name.as_str())
        .collect();
    let old: Vec<&str> = tls
        .versions
        .iter()
        .filter(|v| v.version < tls_hello::TLS1_2)
        .filter(|v| matches!(v.answer, Probe::Done { result: TlsVersionAnswer::Accepted { .. } }))
        .map(|v| v.name.as_str())
        .collect();
    let undetermined: Vec<String> = tls
        .versions
        .iter()
        .filter_map(|v| match &v.answer {
            Probe::Failed { error } => Some(format!("{}: {error}", v.name)),
            _ => None,
        })
        .collect();
    let note =
        if undetermined.is_empty() { String::new() } else { format!(" (not determined: {})", undetermined.join("; ")) };
    if !old.is_empty() {
        Finding::new(
            CHECK,
            Severity::Fail,
            format!("accepts {} (deprecated by RFC 8996); accepted: {}{note}", old.join(", "), accepted.join(", ")),
        )
    } else if accepted.is_empty() {
        Finding::new(CHECK, Severity::Warn, format!("no TLS handshake completed{note}"))
    } else {
        Finding::new(CHECK, Severity::Pass, format!("{} only{note}", accepted.join(", ")))
    }
}

fn tls_suites(tls: &TlsObservations) -> Option<Finding> {
    const CHECK: &str = "tls-ciphers";
    match &tls.weak_suites {
        Probe::Done { result } if result.is_empty() => Some(Finding::new(
            CHECK,
            Severity::Pass,
            format!(
                "none of {} weak TLS 1.2 suites accepted (NULL, export, anonymous, RC4, DES, 3DES, RSA key exchange)",
                tls.weak_suites_offered
            ),
        )),
        Probe::Done { result } => {
            let worst = if result.iter().any(|s| s.weakness.is_broken()) { Severity::Fail } else { Severity::Warn };
            let mut classes: Vec<Weakness> = result.iter().map(|s| s.weakness).collect();
            classes.sort_unstable();
            classes.dedup();
            let why: Vec<&str> = classes.iter().map(|w| weakness_text(*w)).collect();
            let names: Vec<&str> = result.iter().map(|s| s.name.as_str()).collect();
            Some(Finding::new(
                CHECK,
                worst,
                format!("accepts weak TLS 1.2 suites ({}): {}", why.join(", "), names.join(", ")),
            ))
        }
        Probe::Failed { error } => Some(Finding::new(CHECK, Severity::Info, format!("not determined: {error}"))),
        Probe::Closed | Probe::NotRun { .. } => None,
    }
}

fn weakness_text(w: Weakness) -> &'static str {
    match w {
        Weakness::Null => "no encryption",
        Weakness::Export => "export-grade",
        Weakness::Anonymous => "anonymous, unauthenticated",
        Weakness::Rc4 => "RC4",
        Weakness::Des => "single DES",
        Weakness::TripleDes => "3DES, 64-bit blocks",
        Weakness::NoForwardSecrecy => "no forward secrecy",
    }
}

fn certificate(cert: &CertificateFacts, ctx: &Context) -> Finding {
    const CHECK: &str = "certificate";
    let mut problems: Vec<(Severity, String)> = Vec::new();
    if ctx.now_unix > cert.not_after {
        problems.push((Severity::Fail, format!("expired on {}", cert.not_after_text)));
    }
    if ctx.now_unix < cert.not_before {
        problems.push((Severity::Fail, format!("not valid before {}", cert.not_before_text)));
    }
    if let PublicKey::Rsa { bits } = cert.key {
        if bits < MIN_RSA_BITS {
            problems.push((Severity::Fail, format!("RSA key of {bits} bits (under {MIN_RSA_BITS})")));
        }
    }
    if !cert.self_signed && weak_signature(&cert.signature_algorithm) {
        // A self-signed certificate is trusted by pinning, not by its signature.
        problems.push((Severity::Warn, format!("signed with {}", cert.signature_algorithm)));
    }
    let facts = format!(
        "subject {}, {}, {}, {}valid {} to {}, SHA-256 {}",
        cert.subject,
        cert.key,
        cert.signature_algorithm,
        if cert.self_signed { "self-signed (clients must pin the fingerprint), " } else { "" },
        cert.not_before_text,
        cert.not_after_text,
        cert.sha256
    );
    match problems.iter().map(|(s, _)| *s).max() {
        None => Finding::new(CHECK, Severity::Pass, facts),
        Some(worst) => {
            let what: Vec<&str> = problems.iter().map(|(_, p)| p.as_str()).collect();
            Finding::new(CHECK, worst, format!("{}; {facts}", what.join("; ")))
        }
    }
}

/// Why a disclosed name looks like a real one, if it does.
fn real_name_reason(name: &str, ctx: &Context) -> Option<&'static str> {
    let short = |n: &str| n.split('.').next().unwrap_or(n).to_ascii_lowercase();
    let name_short = short(name);
    if ctx.local_names.iter().any(|l| short(l) == name_short) {
        return Some("this machine's host name");
    }
    if ctx.target_name.as_deref().is_some_and(|t| short(t) == name_short) {
        return Some("the target's own host name");
    }
    let upper = name.to_ascii_uppercase();
    if upper.starts_with("WIN-") || upper.starts_with("DESKTOP-") || upper.starts_with("LAPTOP-") {
        return Some("a default Windows computer name");
    }
    None
}

/// Host and domain names the server discloses before authentication.
fn names(ntlm: Option<&ChallengeFacts>, cert: Option<&CertificateFacts>, ctx: &Context) -> Option<Finding> {
    const CHECK: &str = "host-names";
    let mut disclosed: Vec<(String, String)> = Vec::new();
    if let Some(facts) = ntlm {
        for (field, name) in facts.names() {
            disclosed.push((format!("NTLM {field}"), name.to_owned()));
        }
    }
    // A self-signed certificate's names are chosen by the server, not by a CA for the name
    // clients use: one that carries the real host name leaks it like NTLM does.
    if let Some(cert) = cert.filter(|c| c.self_signed) {
        for name in &cert.names {
            if real_name_reason(name, ctx).is_some() {
                disclosed.push(("self-signed certificate name".to_owned(), name.clone()));
            }
        }
    }
    if ntlm.is_none() && disclosed.is_empty() {
        return None;
    }
    if disclosed.is_empty() {
        return Some(Finding::new(CHECK, Severity::Pass, "the NTLM challenge names no computer, domain or forest"));
    }
    let mut real = Vec::new();
    let mut other = Vec::new();
    for (field, name) in &disclosed {
        match real_name_reason(name, ctx) {
            Some(why) => real.push(format!("{field} {name} ({why})")),
            None if field.contains("DNS domain") || field.contains("DNS tree") => {
                real.push(format!("{field} {name} (a DNS domain)"))
            }
            None => other.push(format!("{field} {name}")),
        }
    }
    if real.is_empty() {
        Some(Finding::new(
            CHECK,
            Severity::Info,
            format!(
                "discloses {} before authentication (fine if it is a chosen alias, not the real name)",
                other.join(", ")
            ),
        ))
    } else {
        let mut message = format!("leaks real names before authentication: {}", real.join(", "));
        if !other.is_empty() {
            message.push_str(&format!("; also {}", other.join(", ")));
        }
        Some(Finding::new(CHECK, Severity::Warn, message))
    }
}

fn ntlm_version(ntlm: &Probe<ChallengeFacts>) -> Option<Finding> {
    const CHECK: &str = "ntlm-version";
    match ntlm {
        Probe::Done { result } => Some(match result.version {
            Some(v) => Finding::new(
                CHECK,
                Severity::Info,
                format!(
                    "the NTLM challenge claims Windows {v} (on Windows this is the real build, i.e. the patch \
                     level; Linux servers send a fixed value)"
                ),
            ),
            None => Finding::new(CHECK, Severity::Pass, "the NTLM challenge carries no OS version"),
        }),
        Probe::Failed { error } => {
            Some(Finding::new("ntlm", Severity::Info, format!("NTLM challenge not read: {error}")))
        }
        Probe::Closed => Some(Finding::new("ntlm", Severity::Info, "no NTLM challenge: the server hung up")),
        Probe::NotRun { .. } => None,
    }
}

/// Were repeated failed logins from this address blocked or slowed down?
fn login_throttling(logins: &Probe<Vec<LoginAttempt>>) -> Finding {
    const CHECK: &str = "login-throttling";
    let attempts = match logins {
        Probe::Done { result } => result,
        Probe::NotRun { why } => return Finding::new(CHECK, Severity::Info, format!("not tested: {why}")),
        Probe::Failed { error } => return Finding::new(CHECK, Severity::Info, format!("not determined: {error}")),
        Probe::Closed => return Finding::new(CHECK, Severity::Info, "not determined: the server hung up"),
    };
    if attempts.iter().any(|a| a.outcome == LoginOutcome::Accepted) {
        return Finding::new(CHECK, Severity::Fail, "a random user name with a random password was accepted");
    }
    let rejected_before =
        |i: usize| attempts.iter().take(i).filter(|a| matches!(a.outcome, LoginOutcome::Rejected { .. })).count();
    if let Some(i) = attempts.iter().position(|a| matches!(a.outcome, LoginOutcome::Refused { .. })) {
        let stage = match &attempts.get(i).map(|a| &a.outcome) {
            Some(LoginOutcome::Refused { stage }) => stage.clone(),
            _ => String::new(),
        };
        let n = rejected_before(i);
        if n > 0 {
            return Finding::new(
                CHECK,
                Severity::Pass,
                format!("blocked after {n} failed logins from this scan (refused at {stage})"),
            );
        }
    }
    if let Some(i) = attempts.iter().position(|a| a.outcome == LoginOutcome::NoAnswer) {
        let n = rejected_before(i);
        if n > 0 {
            return Finding::new(
                CHECK,
                Severity::Pass,
                format!("stopped answering after {n} failed logins from this scan"),
            );
        }
    }
    let rejections: Vec<u64> =
        attempts.iter().filter(|a| matches!(a.outcome, LoginOutcome::Rejected { .. })).map(|a| a.elapsed_ms).collect();
    let (Some(first), Some(slowest)) = (rejections.first(), rejections.iter().max()) else {
        let errors: Vec<String> = attempts
            .iter()
            .filter_map(|a| match &a.outcome {
                LoginOutcome::Failed { error } => Some(error.clone()),
                LoginOutcome::Refused { stage } => Some(format!("refused at {stage}")),
                _ => None,
            })
            .collect();
        return Finding::new(
            CHECK,
            Severity::Info,
            format!("not determined: no login was rejected ({})", errors.join("; ")),
        );
    };
    if slowest.saturating_sub(*first) >= SLOWDOWN_MS {
        return Finding::new(
            CHECK,
            Severity::Pass,
            format!("answers slowed from {first} ms to {slowest} ms over {} failed logins", rejections.len()),
        );
    }
    Finding::new(
        CHECK,
        Severity::Warn,
        format!(
            "{} failed logins from this address in a row were neither blocked nor slowed down (answers in \
             {first}..{slowest} ms)",
            rejections.len()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcs::ServerSecurity;
    use crate::observations::{AcceptedSuite, Negotiation, RdpSecurityProbe, TlsVersionProbe};
    use crate::report::exit_status;

    fn negotiation(answers: [Probe<Answer>; 5]) -> Vec<Negotiation> {
        Request::ALL
            .iter()
            .zip(answers)
            .map(|(&request, answer)| Negotiation { request, requested_protocols: request.flags(), answer })
            .collect()
    }

    fn selected(protocol: u32) -> Probe<Answer> {
        Probe::Done { result: Answer::Selected { protocol } }
    }

    fn refused(code: u32) -> Probe<Answer> {
        Probe::Done { result: Answer::Failure { code } }
    }

    fn version(v: u16, accepted: bool) -> TlsVersionProbe {
        let result = if accepted {
            TlsVersionAnswer::Accepted { cipher_suite: "x".to_owned() }
        } else {
            TlsVersionAnswer::Refused { reason: "protocol_version".to_owned() }
        };
        TlsVersionProbe { version: v, name: tls_hello::version_name(v), answer: Probe::Done { result } }
    }

    fn cert(subject_cn: &str, bits: u32, not_after: u64) -> CertificateFacts {
        CertificateFacts {
            subject: format!("CN={subject_cn}"),
            issuer: format!("CN={subject_cn}"),
            self_signed: true,
            not_before: 1_000,
            not_after,
            not_before_text: "then".to_owned(),
            not_after_text: "later".to_owned(),
            key: PublicKey::Rsa { bits },
            signature_algorithm: "sha256WithRSAEncryption".to_owned(),
            sha256: "AB".to_owned(),
            names: vec![subject_cn.to_owned()],
        }
    }

    fn tls(over: Request, old_too: bool, weak: Vec<AcceptedSuite>, cert: CertificateFacts) -> Probe<TlsObservations> {
        Probe::Done {
            result: TlsObservations {
                over,
                versions: vec![
                    version(tls_hello::TLS1_0, old_too),
                    version(tls_hello::TLS1_1, false),
                    version(tls_hello::TLS1_2, true),
                    version(0x0304, true),
                ],
                weak_suites: Probe::Done { result: weak },
                weak_suites_offered: tls_hello::WEAK_SUITES.len(),
                certificate: Probe::Done { result: cert },
            },
        }
    }

    fn no_fs_suite() -> AcceptedSuite {
        AcceptedSuite {
            code: 0x002F,
            name: "TLS_RSA_WITH_AES_128_CBC_SHA".to_owned(),
            weakness: Weakness::NoForwardSecrecy,
        }
    }

    fn rejected(ms: u64) -> LoginAttempt {
        LoginAttempt { outcome: LoginOutcome::Rejected { error_code: None }, elapsed_ms: ms }
    }

    /// What Rampart's defaults look like from outside.
    fn rampart_like() -> Observations {
        Observations {
            negotiation: negotiation([refused(5), refused(5), selected(2), selected(8), refused(5)]),
            rdp_security: Vec::new(),
            tls: tls(Request::Hybrid, false, Vec::new(), cert("rampart", 2048, 2_000_000_000)),
            ntlm: Probe::Done {
                result: ChallengeFacts {
                    version: Some(crate::ntlm::OsVersion { major: 10, minor: 0, build: 17763 }),
                    ..ChallengeFacts::default()
                },
            },
            logins: Probe::Done {
                result: vec![
                    rejected(1000),
                    rejected(1001),
                    LoginAttempt {
                        outcome: LoginOutcome::Refused { stage: "connection set-up".to_owned() },
                        elapsed_ms: 1,
                    },
                ],
            },
            connections: 15,
        }
    }

    /// xrdp 0.9.21 with its default xrdp.ini.
    fn xrdp_like() -> Observations {
        Observations {
            negotiation: negotiation([selected(0), selected(1), selected(1), selected(1), selected(0)]),
            rdp_security: vec![RdpSecurityProbe {
                offered: mcs::ENCRYPTION_40BIT,
                answer: Probe::Done {
                    result: ServerSecurity { result: 0, encryption_method: 2, encryption_level: 3, rdp_version: None },
                },
            }],
            tls: tls(Request::Ssl, false, vec![no_fs_suite()], cert("localhost", 2048, 2_000_000_000)),
            ntlm: Probe::not_run("no CredSSP"),
            logins: Probe::not_run("opt-in"),
            connections: 20,
        }
    }

    fn ctx() -> Context {
        Context { now_unix: 1_800_000_000, local_names: vec!["vm".to_owned()], target_name: None }
    }

    fn findings(obs: &Observations, ctx: &Context) -> Vec<Finding> {
        match judge(obs, ctx) {
            Verdict::Findings(f) => f,
            Verdict::CouldNotScan(why) => panic!("could not scan: {why}"),
        }
    }

    fn severity(findings: &[Finding], check: &str) -> Severity {
        findings.iter().find(|f| f.check == check).unwrap_or_else(|| panic!("no {check} in {findings:#?}")).severity
    }

    #[test]
    fn rampart_defaults_pass_everything() {
        let f = findings(&rampart_like(), &ctx());
        assert!(f.iter().all(|f| f.severity <= Severity::Info), "{f:#?}");
        assert_eq!(exit_status(false, &f), 0);
        for check in [
            "standard-rdp-security",
            "nla-required",
            "nla",
            "tls-versions",
            "tls-ciphers",
            "certificate",
            "host-names",
            "login-throttling",
        ] {
            assert_eq!(severity(&f, check), Severity::Pass, "{check}: {f:#?}");
        }
        let throttling = f.iter().find(|f| f.check == "login-throttling").unwrap();
        assert!(throttling.message.contains("blocked after 2 failed logins"), "{}", throttling.message);
    }

    #[test]
    fn xrdp_defaults_fail_on_rc4_and_the_nla_downgrade() {
        let f = findings(&xrdp_like(), &ctx());
        assert_eq!(severity(&f, "standard-rdp-security"), Severity::Fail);
        let rc4 = f.iter().find(|f| f.check == "standard-rdp-security").unwrap();
        assert!(rc4.message.contains("128-bit RC4") && rc4.message.contains("RDP, RDSTLS"), "{}", rc4.message);
        let nla = f.iter().find(|f| f.check == "nla").unwrap();
        assert_eq!(nla.severity, Severity::Fail);
        assert!(nla.message.contains("NLA downgraded") && nla.message.contains("HYBRID -> SSL"), "{}", nla.message);
        assert_eq!(severity(&f, "nla-required"), Severity::Fail);
        assert_eq!(severity(&f, "tls-ciphers"), Severity::Warn);
        assert_eq!(severity(&f, "login-throttling"), Severity::Info);
        assert!(f.iter().all(|f| f.check != "host-names"), "no NTLM, no leak line: {f:#?}");
        assert_eq!(exit_status(false, &f), 2);
    }

    #[test]
    fn the_host_name_in_ntlm_and_a_self_signed_certificate_is_a_leak() {
        let mut obs = rampart_like();
        obs.ntlm = Probe::Done {
            result: ChallengeFacts {
                nb_computer_name: Some("VM".to_owned()),
                dns_computer_name: Some("vm".to_owned()),
                ..ChallengeFacts::default()
            },
        };
        obs.tls = tls(Request::Hybrid, false, Vec::new(), cert("vm", 2048, 2_000_000_000));
        let f = findings(&obs, &ctx());
        let leak = f.iter().find(|f| f.check == "host-names").unwrap();
        assert_eq!(leak.severity, Severity::Warn);
        assert!(leak.message.contains("NetBIOS computer name VM (this machine's host name)"), "{}", leak.message);
        assert!(leak.message.contains("self-signed certificate name vm"), "{}", leak.message);
        // Not a loopback scan: no local names to compare, a chosen alias is only noted...
        let remote = Context { local_names: Vec::new(), ..ctx() };
        let f = findings(&obs, &remote);
        assert_eq!(severity(&f, "host-names"), Severity::Info);
        // ...unless it is the name the target was given by, or a default Windows name.
        let named = Context { target_name: Some("vm.example.org".to_owned()), ..remote.clone() };
        assert_eq!(severity(&findings(&obs, &named), "host-names"), Severity::Warn);
        obs.ntlm = Probe::Done {
            result: ChallengeFacts { nb_computer_name: Some("WIN-3K9F2LQ".to_owned()), ..ChallengeFacts::default() },
        };
        assert_eq!(severity(&findings(&obs, &remote), "host-names"), Severity::Warn);
        obs.ntlm = Probe::Done {
            result: ChallengeFacts { dns_domain_name: Some("corp.example".to_owned()), ..ChallengeFacts::default() },
        };
        assert_eq!(severity(&findings(&obs, &remote), "host-names"), Severity::Warn);
    }

    #[test]
    fn certificate_dates_and_keys_are_judged_at_the_given_time() {
        let c = cert("rampart", 2048, 2_000_000_000);
        assert_eq!(certificate(&c, &ctx()).severity, Severity::Pass);
        let late = Context { now_unix: 2_000_000_001, ..ctx() };
        let expired = certificate(&c, &late);
        assert_eq!(expired.severity, Severity::Fail);
        assert!(expired.message.starts_with("expired on later"), "{}", expired.message);
        let early = Context { now_unix: 999, ..ctx() };
        assert_eq!(certificate(&c, &early).severity, Severity::Fail);
        assert_eq!(certificate(&cert("x", 1024, 2_000_000_000), &ctx()).severity, Severity::Fail);
        let mut sha1 = cert("x", 2048, 2_000_000_000);
        sha1.signature_algorithm = "sha1WithRSAEncryption".to_owned();
        assert_eq!(
            certificate(&sha1, &ctx()).severity,
            Severity::Pass,
            "self-signed: pinned, not trusted by signature"
        );
        sha1.self_signed = false;
        assert_eq!(certificate(&sha1, &ctx()).severity, Severity::Warn);
    }

    #[test]
    fn old_tls_and_broken_suites_fail() {
        let mut obs = rampart_like();
        let rc4 = AcceptedSuite { code: 0x0005, name: "TLS_RSA_WITH_RC4_128_SHA".to_owned(), weakness: Weakness::Rc4 };
        obs.tls = tls(Request::Hybrid, true, vec![no_fs_suite(), rc4], cert("rampart", 2048, 2_000_000_000));
        let f = findings(&obs, &ctx());
        let versions = f.iter().find(|f| f.check == "tls-versions").unwrap();
        assert_eq!(versions.severity, Severity::Fail);
        assert!(versions.message.starts_with("accepts TLS 1.0 "), "{}", versions.message);
        let suites = f.iter().find(|f| f.check == "tls-ciphers").unwrap();
        assert_eq!(suites.severity, Severity::Fail);
        assert!(suites.message.contains("RC4") && suites.message.contains("no forward secrecy"), "{}", suites.message);
    }

    #[test]
    fn login_throttling_verdicts() {
        let judge_logins = |attempts: Vec<LoginAttempt>| login_throttling(&Probe::Done { result: attempts });
        let steady = judge_logins(vec![rejected(5), rejected(6), rejected(4), rejected(5)]);
        assert_eq!(steady.severity, Severity::Warn);
        assert!(steady.message.starts_with("4 failed logins"), "{}", steady.message);
        let slowed = judge_logins(vec![rejected(5), rejected(1000), rejected(4000)]);
        assert_eq!(slowed.severity, Severity::Pass);
        assert!(slowed.message.contains("slowed from 5 ms to 4000 ms"), "{}", slowed.message);
        let silent =
            judge_logins(vec![rejected(5), LoginAttempt { outcome: LoginOutcome::NoAnswer, elapsed_ms: 5000 }]);
        assert_eq!(silent.severity, Severity::Pass);
        let accepted = judge_logins(vec![LoginAttempt { outcome: LoginOutcome::Accepted, elapsed_ms: 3 }]);
        assert_eq!(accepted.severity, Severity::Fail);
        // Refused from the very first attempt: not a throttle that reacted to failures.
        let refused_first = judge_logins(vec![LoginAttempt {
            outcome: LoginOutcome::Refused { stage: "tcp connect".to_owned() },
            elapsed_ms: 1,
        }]);
        assert_eq!(refused_first.severity, Severity::Info);
        assert_eq!(login_throttling(&Probe::not_run("opt-in")).severity, Severity::Info);
    }

    #[test]
    fn nothing_answered_means_could_not_scan() {
        let mut obs = rampart_like();
        obs.negotiation = negotiation([
            Probe::failed("cannot connect: connection refused"),
            Probe::failed("x"),
            Probe::failed("x"),
            Probe::failed("x"),
            Probe::failed("x"),
        ]);
        match judge(&obs, &ctx()) {
            Verdict::CouldNotScan(why) => assert!(why.contains("connection refused"), "{why}"),
            other => panic!("{other:?}"),
        }
        obs.negotiation = negotiation([Probe::Closed, Probe::Closed, Probe::Closed, Probe::Closed, Probe::Closed]);
        assert!(matches!(judge(&obs, &ctx()), Verdict::CouldNotScan(_)));
    }

    #[test]
    fn a_refused_hybrid_request_is_no_nla() {
        let mut obs = xrdp_like();
        obs.negotiation = negotiation([selected(0), selected(1), refused(2), refused(2), refused(2)]);
        let f = findings(&obs, &ctx());
        let nla = f.iter().find(|f| f.check == "nla").unwrap();
        assert_eq!(nla.severity, Severity::Fail);
        assert!(nla.message.starts_with("no NLA"), "{}", nla.message);
    }
}
