//! The monitor's rules for one connection: which request a worker may make in which state,
//! how often, and which ones move the state on. After OpenSSH's `monitor.c` dispatch table
//! (`MON_ONCE`, `MON_AUTHDECIDE`): anything out of place ends the worker.
//!
//! The worker parses a stranger's bytes, so everything it says is a claim. Its requests
//! are only asks; what happened (a verified NTLM response, an accepted code) is decided by
//! the supervisor and fed in here with [`Monitor::decided`]. Pure: time comes in as `now`.

use rampart_audit::UnixMillis;

/// What a worker may ask the supervisor for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Request {
    /// Sign the TLS handshake with the server's key.
    SignHandshake,
    /// The NTLM server challenge for this connection.
    NtlmChallenge,
    /// Check the client's NTLM response (the one authentication exchange).
    NtlmVerify,
    /// Check a code typed at the two-step prompt.
    VerifyCode,
    /// Start or resume the desktop.
    OpenSession,
    /// A connection to the granted display (passed as a descriptor).
    OpenDisplay,
    /// The worker reports counters (e.g. clipboard use) for the audit trail.
    Report,
    /// The connection is over.
    Closed,
}

/// What the supervisor decided about a request it carried out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decided {
    /// NLA passed for `user`; `second_factor` until `deadline` if one is due.
    Authenticated {
        user: String,
        second_factor_deadline: Option<UnixMillis>,
        code_attempts: u8,
    },
    /// NLA failed (wrong password, unknown user, refused account): nothing more to do.
    AuthenticationFailed,
    /// A typed code was accepted.
    CodeAccepted,
    /// A typed code was refused; `attempts_left` after it (counted by the supervisor).
    CodeRefused { attempts_left: u8 },
    /// The desktop was granted.
    SessionGranted,
}

/// Where the connection stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Before NLA has been decided.
    Handshake,
    /// NLA passed; a code must pass before the deadline.
    SecondFactor {
        user: String,
        deadline: UnixMillis,
        attempts_left: u8,
    },
    /// Every factor passed.
    Authenticated { user: String },
    /// The desktop was granted.
    Session { user: String },
    /// Authentication failed, or the worker misbehaved: only `Closed` is heard.
    Finished,
}

/// Why a request ends the worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// Not allowed in this stage.
    OutOfPlace { request: Request, stage: &'static str },
    /// Allowed, but more often than it may be.
    TooOften { request: Request, limit: u8 },
    /// The second factor's time ran out.
    PromptExpired,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Violation::OutOfPlace { request, stage } => write!(f, "{request:?} is not allowed {stage}"),
            Violation::TooOften { request, limit } => write!(f, "{request:?} asked more than {limit} times"),
            Violation::PromptExpired => f.write_str("two-step prompt timed out"),
        }
    }
}

/// At most this many display connections within [`DISPLAY_OPEN_WINDOW_MS`]: capture,
/// input and clipboard at the start, then a new capture per reactivation (each resize of
/// the client window). A worker asking faster is not a client resizing its window.
pub const MAX_DISPLAY_OPENS: usize = 16;
pub const DISPLAY_OPEN_WINDOW_MS: i64 = 60_000;

/// One connection's monitor.
#[derive(Clone, Debug)]
pub struct Monitor {
    stage: Stage,
    signed: u8,
    challenges: u8,
    verifications: u8,
    sessions: u8,
    /// When the display opens within the window happened (at most [`MAX_DISPLAY_OPENS`]).
    display_opens: std::collections::VecDeque<UnixMillis>,
}

impl Default for Monitor {
    fn default() -> Self {
        Self::new()
    }
}

impl Monitor {
    pub fn new() -> Self {
        Self {
            stage: Stage::Handshake,
            signed: 0,
            challenges: 0,
            verifications: 0,
            sessions: 0,
            display_opens: std::collections::VecDeque::new(),
        }
    }

    pub fn stage(&self) -> &Stage {
        &self.stage
    }

    /// The user every factor has been decided for, once there is one.
    pub fn user(&self) -> Option<&str> {
        match &self.stage {
            Stage::Authenticated { user } | Stage::Session { user } => Some(user),
            _ => None,
        }
    }

    /// The user NLA passed for (also while the second factor is pending).
    pub fn nla_user(&self) -> Option<&str> {
        match &self.stage {
            Stage::SecondFactor { user, .. } | Stage::Authenticated { user } | Stage::Session { user } => Some(user),
            _ => None,
        }
    }

    /// Whether the worker has asked for its one NTLM verification.
    pub fn verification_asked(&self) -> bool {
        self.verifications > 0
    }

    /// Whether the worker still counts as unauthenticated (for the admission caps).
    pub fn pending(&self) -> bool {
        matches!(self.stage, Stage::Handshake | Stage::SecondFactor { .. })
    }

    /// The deadline the supervisor must enforce by killing the worker, if any besides the
    /// handshake deadline.
    pub fn prompt_deadline(&self) -> Option<UnixMillis> {
        match self.stage {
            Stage::SecondFactor { deadline, .. } => Some(deadline),
            _ => None,
        }
    }

    /// May the worker make `request` now? `Err` ends the worker; the stage is `Finished`
    /// from then on.
    pub fn allow(&mut self, request: Request, now: UnixMillis) -> Result<(), Violation> {
        let verdict = self.check(request, now);
        if verdict.is_err() {
            self.stage = Stage::Finished;
        }
        verdict
    }

    fn check(&mut self, request: Request, now: UnixMillis) -> Result<(), Violation> {
        if request == Request::Closed {
            return Ok(());
        }
        if let Stage::SecondFactor { deadline, .. } = self.stage {
            if now >= deadline {
                return Err(Violation::PromptExpired);
            }
        }
        let out_of_place = |stage: &Stage| Violation::OutOfPlace {
            request,
            stage: stage_name(stage),
        };
        match (request, &self.stage) {
            // TLS comes before CredSSP: no signature once NTLM has begun.
            (Request::SignHandshake, Stage::Handshake) if self.challenges == 0 => bump(&mut self.signed, 1, request),
            (Request::NtlmChallenge, Stage::Handshake) => bump(&mut self.challenges, 1, request),
            (Request::NtlmVerify, Stage::Handshake) if self.challenges == 1 => bump(&mut self.verifications, 1, request),
            (Request::VerifyCode, Stage::SecondFactor { attempts_left, .. }) if *attempts_left > 0 => Ok(()),
            (Request::OpenSession, Stage::Authenticated { .. }) => bump(&mut self.sessions, 1, request),
            (Request::OpenDisplay, Stage::Session { .. }) => {
                while self
                    .display_opens
                    .front()
                    .is_some_and(|t| now.0.saturating_sub(t.0) >= DISPLAY_OPEN_WINDOW_MS)
                {
                    self.display_opens.pop_front();
                }
                if self.display_opens.len() >= MAX_DISPLAY_OPENS {
                    return Err(Violation::TooOften {
                        request,
                        limit: u8::try_from(MAX_DISPLAY_OPENS).unwrap_or(u8::MAX),
                    });
                }
                self.display_opens.push_back(now);
                Ok(())
            }
            // Counters only, checked against the grant by the supervisor.
            (Request::Report, Stage::Session { .. }) => Ok(()),
            (_, stage) => Err(out_of_place(stage)),
        }
    }

    /// Feed in what the supervisor decided about a request it allowed and carried out.
    /// A decision that does not fit the stage (a supervisor bug) finishes the connection.
    pub fn decided(&mut self, decision: Decided) {
        self.stage = match (decision, std::mem::replace(&mut self.stage, Stage::Finished)) {
            (
                Decided::Authenticated {
                    user,
                    second_factor_deadline,
                    code_attempts,
                },
                Stage::Handshake,
            ) => match second_factor_deadline {
                Some(deadline) => Stage::SecondFactor {
                    user,
                    deadline,
                    attempts_left: code_attempts,
                },
                None => Stage::Authenticated { user },
            },
            (Decided::CodeAccepted, Stage::SecondFactor { user, .. }) => Stage::Authenticated { user },
            (
                Decided::CodeRefused { attempts_left },
                Stage::SecondFactor {
                    user,
                    deadline,
                    attempts_left: before,
                },
            ) => {
                // Never more attempts than before, whatever the supervisor's count says.
                let attempts_left = attempts_left.min(before.saturating_sub(1));
                if attempts_left == 0 {
                    Stage::Finished
                } else {
                    Stage::SecondFactor {
                        user,
                        deadline,
                        attempts_left,
                    }
                }
            }
            (Decided::SessionGranted, Stage::Authenticated { user }) => Stage::Session { user },
            // AuthenticationFailed, and anything out of place.
            _ => Stage::Finished,
        };
    }
}

fn bump(count: &mut u8, limit: u8, request: Request) -> Result<(), Violation> {
    if *count >= limit {
        return Err(Violation::TooOften { request, limit });
    }
    *count += 1;
    Ok(())
}

fn stage_name(stage: &Stage) -> &'static str {
    match stage {
        Stage::Handshake => "before authentication",
        Stage::SecondFactor { .. } => "at the two-step prompt",
        Stage::Authenticated { .. } => "after authentication",
        Stage::Session { .. } => "during the session",
        Stage::Finished => "after the connection was decided",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixMillis = UnixMillis(1_000_000);

    fn at(ms: i64) -> UnixMillis {
        UnixMillis(T0.0 + ms)
    }

    fn authenticated(m: &mut Monitor, second_factor: bool) {
        m.allow(Request::SignHandshake, T0).unwrap();
        m.allow(Request::NtlmChallenge, T0).unwrap();
        m.allow(Request::NtlmVerify, T0).unwrap();
        m.decided(Decided::Authenticated {
            user: "alice".into(),
            second_factor_deadline: second_factor.then_some(at(60_000)),
            code_attempts: 3,
        });
    }

    #[test]
    fn the_honest_path() {
        let mut m = Monitor::new();
        assert!(m.pending());
        authenticated(&mut m, true);
        assert!(m.pending(), "the prompt still counts as pending");
        assert_eq!(m.nla_user(), Some("alice"));
        assert_eq!(m.user(), None, "no user before every factor");
        m.allow(Request::VerifyCode, at(1000)).unwrap();
        m.decided(Decided::CodeAccepted);
        assert_eq!(m.user(), Some("alice"));
        assert!(!m.pending());
        m.allow(Request::OpenSession, at(2000)).unwrap();
        m.decided(Decided::SessionGranted);
        for _ in 0..MAX_DISPLAY_OPENS {
            m.allow(Request::OpenDisplay, at(3000)).unwrap();
        }
        for _ in 0..1000 {
            m.allow(Request::Report, at(4000)).unwrap();
        }
        m.allow(Request::Closed, at(5000)).unwrap();
    }

    #[test]
    fn no_session_without_a_verified_exchange() {
        // A lying worker asks for the desktop straight away, or claims success without
        // having the response checked: it never reaches a session.
        for first in [Request::OpenSession, Request::VerifyCode, Request::OpenDisplay, Request::Report] {
            let mut m = Monitor::new();
            assert!(matches!(m.allow(first, T0), Err(Violation::OutOfPlace { .. })), "{first:?}");
            assert_eq!(m.stage(), &Stage::Finished);
            assert!(m.allow(Request::OpenSession, T0).is_err(), "a finished monitor allows nothing");
        }
    }

    #[test]
    fn one_authentication_exchange_per_connection() {
        let mut m = Monitor::new();
        // A verification needs the supervisor's own challenge first.
        assert!(m.clone().allow(Request::NtlmVerify, T0).is_err());
        m.allow(Request::NtlmChallenge, T0).unwrap();
        assert_eq!(
            m.clone().allow(Request::NtlmChallenge, T0),
            Err(Violation::TooOften {
                request: Request::NtlmChallenge,
                limit: 1
            })
        );
        m.allow(Request::NtlmVerify, T0).unwrap();
        // While the first is being decided, a second one is refused.
        assert!(m.clone().allow(Request::NtlmVerify, T0).is_err());
        m.decided(Decided::AuthenticationFailed);
        assert_eq!(m.stage(), &Stage::Finished);
        assert!(m.allow(Request::NtlmVerify, T0).is_err(), "no second try after a failure");
    }

    #[test]
    fn the_key_signs_once_and_only_before_authentication() {
        let mut m = Monitor::new();
        m.allow(Request::SignHandshake, T0).unwrap();
        assert!(m.clone().allow(Request::SignHandshake, T0).is_err());
        // A resumed TLS handshake needs no signature; but none after NTLM began.
        let mut m = Monitor::new();
        m.allow(Request::NtlmChallenge, T0).unwrap();
        assert!(m.clone().allow(Request::SignHandshake, T0).is_err());
        let mut m = Monitor::new();
        authenticated(&mut m, false);
        assert!(m.allow(Request::SignHandshake, T0).is_err(), "a signing oracle after NLA");
    }

    #[test]
    fn code_attempts_only_go_down() {
        let mut m = Monitor::new();
        authenticated(&mut m, true);
        m.allow(Request::VerifyCode, at(1)).unwrap();
        // Even a supervisor count that claims more attempts cannot raise them.
        m.decided(Decided::CodeRefused { attempts_left: 9 });
        assert!(matches!(m.stage(), Stage::SecondFactor { attempts_left: 2, .. }));
        m.allow(Request::VerifyCode, at(2)).unwrap();
        m.decided(Decided::CodeRefused { attempts_left: 1 });
        m.allow(Request::VerifyCode, at(3)).unwrap();
        m.decided(Decided::CodeRefused { attempts_left: 0 });
        assert_eq!(m.stage(), &Stage::Finished);
        assert!(m.allow(Request::VerifyCode, at(4)).is_err());
    }

    #[test]
    fn a_second_nla_success_cannot_reset_the_prompt() {
        // The old supervisor believed a second Attempt{Success} during the prompt and reset
        // the attempts and the deadline. Now a second exchange is simply not allowed.
        let mut m = Monitor::new();
        authenticated(&mut m, true);
        assert!(m.clone().allow(Request::NtlmChallenge, at(10)).is_err());
        assert!(m.clone().allow(Request::NtlmVerify, at(10)).is_err());
        // And a decision that does not fit the stage finishes the connection.
        m.decided(Decided::Authenticated {
            user: "mallory".into(),
            second_factor_deadline: None,
            code_attempts: 3,
        });
        assert_eq!(m.stage(), &Stage::Finished);
    }

    #[test]
    fn the_prompt_expires() {
        let mut m = Monitor::new();
        authenticated(&mut m, true);
        assert_eq!(m.prompt_deadline(), Some(at(60_000)));
        assert_eq!(m.allow(Request::VerifyCode, at(60_000)), Err(Violation::PromptExpired));
        assert_eq!(m.stage(), &Stage::Finished);
    }

    #[test]
    fn one_session_per_connection_and_bounded_display_opens() {
        let mut m = Monitor::new();
        authenticated(&mut m, false);
        assert!(m.clone().allow(Request::OpenDisplay, T0).is_err(), "a display before the grant");
        m.allow(Request::OpenSession, T0).unwrap();
        m.decided(Decided::SessionGranted);
        assert!(m.clone().allow(Request::OpenSession, T0).is_err());
        for _ in 0..MAX_DISPLAY_OPENS {
            m.allow(Request::OpenDisplay, T0).unwrap();
        }
        // A window resized now and then opens a display each time, for as long as it likes.
        let mut later = m.clone();
        for minute in 1..10 {
            for _ in 0..MAX_DISPLAY_OPENS {
                later.allow(Request::OpenDisplay, at(minute * DISPLAY_OPEN_WINDOW_MS)).unwrap();
            }
        }
        // But not faster than the window allows.
        assert!(matches!(m.allow(Request::OpenDisplay, at(1)), Err(Violation::TooOften { .. })));
    }

    #[test]
    fn closed_is_always_heard() {
        let mut m = Monitor::new();
        m.allow(Request::Closed, T0).unwrap();
        let mut m = Monitor::new();
        let _ = m.allow(Request::OpenSession, T0);
        m.allow(Request::Closed, T0).unwrap();
    }

    #[test]
    fn violations_read_well() {
        let v = Violation::OutOfPlace {
            request: Request::OpenSession,
            stage: "before authentication",
        };
        assert_eq!(v.to_string(), "OpenSession is not allowed before authentication");
    }
}
