//! What the probes saw, before any judgement: the edge (`probe`) fills these in, `judge`
//! reads them. They are also printed as they are under `--json`.

use serde::Serialize;

use crate::certificate::CertificateFacts;
use crate::mcs::ServerSecurity;
use crate::ntlm::ChallengeFacts;
use crate::tls_hello::Weakness;
use crate::x224::{Answer, Request};

/// One probe's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Probe<T> {
    /// The server answered; what it said.
    Done { result: T },
    /// The server hung up without answering.
    Closed,
    /// The probe could not complete (connection refused, timeout, garbage).
    Failed { error: String },
    /// Not attempted, and why.
    NotRun { why: String },
}

impl<T> Probe<T> {
    pub fn done(&self) -> Option<&T> {
        match self {
            Probe::Done { result } => Some(result),
            _ => None,
        }
    }

    pub fn failed(error: impl std::fmt::Display) -> Self {
        Probe::Failed { error: error.to_string() }
    }

    pub fn not_run(why: impl Into<String>) -> Self {
        Probe::NotRun { why: why.into() }
    }
}

/// One X.224 Connection Request and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Negotiation {
    pub request: Request,
    pub requested_protocols: u32,
    pub answer: Probe<Answer>,
}

/// One MCS Connect-Initial offering `offered` encryption methods (Standard RDP Security).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RdpSecurityProbe {
    pub offered: u32,
    pub answer: Probe<ServerSecurity>,
}

/// One TLS version tried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsVersionProbe {
    pub version: u16,
    pub name: String,
    pub answer: Probe<TlsVersionAnswer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum TlsVersionAnswer {
    Accepted { cipher_suite: String },
    Refused { reason: String },
}

/// A weak TLS suite the server agreed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AcceptedSuite {
    pub code: u16,
    pub name: String,
    pub weakness: Weakness,
}

/// Everything learnt over TLS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsObservations {
    /// The X.224 request the TLS probes were made after.
    pub over: Request,
    pub versions: Vec<TlsVersionProbe>,
    /// Weak suites accepted in TLS 1.2, and how many were offered.
    pub weak_suites: Probe<Vec<AcceptedSuite>>,
    pub weak_suites_offered: usize,
    pub certificate: Probe<CertificateFacts>,
}

/// One deliberately failed login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoginAttempt {
    pub outcome: LoginOutcome,
    /// From sending the credentials to the server's answer (or from connecting, when the
    /// server refused before credentials could be sent).
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum LoginOutcome {
    /// The credentials were refused: an errorCode, or a hang-up right after them.
    Rejected { error_code: Option<u32> },
    /// The random credentials were accepted.
    Accepted,
    /// The server refused the connection before credentials could be sent (a ban).
    Refused { stage: String },
    /// No answer to the credentials within the timeout (a tarpit, or a hang).
    NoAnswer,
    /// Something else went wrong.
    Failed { error: String },
}

/// All observations of one scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Observations {
    pub negotiation: Vec<Negotiation>,
    pub rdp_security: Vec<RdpSecurityProbe>,
    pub tls: Probe<TlsObservations>,
    pub ntlm: Probe<ChallengeFacts>,
    pub logins: Probe<Vec<LoginAttempt>>,
    /// TCP connections the scan opened.
    pub connections: u32,
}

impl Observations {
    pub fn negotiation(&self, request: Request) -> Option<&Probe<Answer>> {
        self.negotiation.iter().find(|n| n.request == request).map(|n| &n.answer)
    }

    /// The protocol the server selected for `request`, if it selected one.
    pub fn selected(&self, request: Request) -> Option<u32> {
        match self.negotiation(request)?.done()? {
            Answer::Selected { protocol } => Some(*protocol),
            Answer::NoNegotiation => Some(crate::x224::PROTOCOL_RDP),
            Answer::Failure { .. } => None,
        }
    }
}
