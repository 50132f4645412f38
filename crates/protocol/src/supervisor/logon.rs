//! The supervisor's decision on one NLA logon, from what it knows when a worker asks it to
//! verify the client's NTLMv2 proof. Pure: the facts (store record, guard back-off, access
//! window, the proof checked with `rampart_auth::ntlm`) come in, a decision with its audit
//! reason goes out. The worker only learns "granted, with this session key" or "refused".
//! Which request a worker may make when is the monitor's business (`rampart_policy::Monitor`).

use std::time::Duration;

use rampart_audit::UnixMillis;
use rampart_auth::ntlm::{NtlmRefusal, SessionKey};
use rampart_store::UserRecord;

use crate::ipc::SecondFactorPlan;
use crate::options::AuthOptions;

/// What the supervisor found out about one logon.
pub(crate) struct LogonFacts<'a> {
    /// The name the client used (its account part), for the record when there is no account.
    pub named: &'a str,
    /// The store's record of that account; `None` if there is none, or if it was not looked
    /// up (back-off, outside the user's windows).
    pub account: Option<&'a UserRecord>,
    /// The user may not log in at this time of day at all.
    pub outside_user_window: bool,
    /// The (user, source) back-off the guard imposes, if any.
    pub backoff: Option<Duration>,
    /// Wrong second-factor codes on record for the account (the store counts them per user).
    pub code_failures: u32,
    /// The proof checked with the account's hash if the account may log in now
    /// ([`hash_is_checked`]), else with a random one.
    pub proof: Result<SessionKey, NtlmRefusal>,
}

/// Whether the supervisor checks the proof against `account`'s own hash: only when the
/// account exists and may log in now. Otherwise a random hash stands in, so every refusal
/// takes the same path and time and no password is ever confirmed to a refused client.
pub(crate) fn hash_is_checked(account: Option<&UserRecord>, auth: &AuthOptions, now: UnixMillis) -> bool {
    account.is_some_and(|a| auth.refusal(a, now).is_none())
}

#[derive(Debug)]
pub(crate) enum LogonDecision {
    Granted {
        /// Canonical account name.
        user: String,
        unix_user: String,
        session_key: SessionKey,
        second_factor: Option<SecondFactorPlan>,
    },
    Refused {
        /// For the audit record: the canonical name if the account exists, else as named.
        user: String,
        /// The audit reason (never shown to the client, which sees a logon failure).
        reason: String,
        /// Counts toward the source's ban and the account's lockout.
        counts_as_failure: bool,
    },
}

/// The decision, in this order: the user's access windows (not a guess, so it does not
/// count toward a ban), a locked or expired account, the back-off, an unknown user, the
/// proof itself, then whether any code attempts are left for a user who needs a code. The
/// prompt offers only the attempts the user has left, so reconnecting does not renew them.
pub(crate) fn decide(facts: LogonFacts<'_>, auth: &AuthOptions, now: UnixMillis) -> LogonDecision {
    let shown = facts.account.map_or(facts.named, |a| a.name.as_str()).to_owned();
    let refused = |reason: String, counts_as_failure: bool| LogonDecision::Refused {
        user: shown.clone(),
        reason,
        counts_as_failure,
    };
    if facts.outside_user_window {
        return refused("outside the user's access windows".to_owned(), false);
    }
    if let Some(why) = facts.account.and_then(|a| auth.refusal(a, now)) {
        return refused(why.to_owned(), true);
    }
    if let Some(wait) = facts.backoff {
        // No credential was checked, but hammering during the back-off is itself what a
        // guesser does: it counts toward the source's ban.
        return refused(format!("back-off: retry in {} s", wait.as_secs().max(1)), true);
    }
    let Some(account) = facts.account else {
        return refused("unknown user".to_owned(), true);
    };
    match facts.proof {
        Ok(session_key) => {
            let mut second_factor = auth.second_factor(account);
            if let Some(plan) = second_factor.as_mut().filter(|p| p.enrolled) {
                let used = u8::try_from(facts.code_failures).unwrap_or(u8::MAX);
                plan.attempts = plan.attempts.saturating_sub(used);
                if plan.attempts == 0 {
                    return refused("password verified; no code attempts left (too many wrong codes)".to_owned(), true);
                }
            }
            LogonDecision::Granted {
                user: account.name.clone(),
                unix_user: account.unix_user.clone(),
                session_key,
                second_factor,
            }
        }
        Err(NtlmRefusal::WrongProof) => refused("wrong password".to_owned(), true),
        Err(other) => refused(format!("nla failed: {other}"), true),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use rampart_auth::NtHash;

    use super::*;
    use crate::options::MfaMode;

    fn alice(locked: bool, enrolled: bool) -> UserRecord {
        UserRecord {
            name: "Alice".to_owned(),
            unix_user: "alice".to_owned(),
            nt_hash: NtHash::from_bytes([1; 16]),
            created: UnixMillis(0),
            password_changed: UnixMillis(0),
            locked,
            mfa_enrolled: enrolled,
        }
    }

    fn key() -> SessionKey {
        SessionKey::from_bytes([9; 16])
    }

    fn facts<'a>(account: Option<&'a UserRecord>, proof: Result<SessionKey, NtlmRefusal>) -> LogonFacts<'a> {
        LogonFacts {
            named: "alice",
            account,
            outside_user_window: false,
            backoff: None,
            code_failures: 0,
            proof,
        }
    }

    fn reason(d: LogonDecision) -> (String, String, bool) {
        match d {
            LogonDecision::Refused {
                user,
                reason,
                counts_as_failure,
            } => (user, reason, counts_as_failure),
            LogonDecision::Granted { .. } => panic!("granted"),
        }
    }

    #[test]
    fn a_verified_proof_for_an_account_that_may_log_in_is_granted() {
        let mut auth = AuthOptions::default();
        let now = UnixMillis(1);
        let account = alice(false, true);
        match decide(facts(Some(&account), Ok(key())), &auth, now) {
            LogonDecision::Granted {
                user,
                unix_user,
                session_key,
                second_factor,
            } => {
                assert_eq!((user.as_str(), unix_user.as_str()), ("Alice", "alice"));
                assert_eq!(session_key, key());
                assert_eq!(second_factor.unwrap().attempts, 3);
            }
            other => panic!("{other:?}"),
        }
        auth.mfa = MfaMode::Optional;
        let without = alice(false, false);
        assert!(matches!(
            decide(facts(Some(&without), Ok(key())), &auth, now),
            LogonDecision::Granted { second_factor: None, .. }
        ));
    }

    #[test]
    fn refusals_and_their_audit_reasons() {
        let auth = AuthOptions::default();
        let now = UnixMillis(1);
        let account = alice(false, true);
        assert_eq!(
            reason(decide(facts(Some(&account), Err(NtlmRefusal::WrongProof)), &auth, now)),
            ("Alice".to_owned(), "wrong password".to_owned(), true)
        );
        assert_eq!(
            reason(decide(facts(None, Err(NtlmRefusal::WrongProof)), &auth, now)),
            ("alice".to_owned(), "unknown user".to_owned(), true)
        );
        let (_, why, counts) = reason(decide(facts(Some(&account), Err(NtlmRefusal::WrongTimestamp)), &auth, now));
        assert!(why.starts_with("nla failed: ") && counts, "{why}");
        let locked = alice(true, true);
        // Even a proof that verified (it cannot: the hash is random then) is refused.
        assert_eq!(
            reason(decide(facts(Some(&locked), Ok(key())), &auth, now)),
            ("Alice".to_owned(), "account locked".to_owned(), true)
        );
        let backoff = LogonFacts {
            backoff: Some(Duration::from_millis(300)),
            ..facts(Some(&account), Ok(key()))
        };
        assert_eq!(reason(decide(backoff, &auth, now)).1, "back-off: retry in 1 s");
        let outside = LogonFacts {
            outside_user_window: true,
            ..facts(Some(&account), Ok(key()))
        };
        assert_eq!(
            reason(decide(outside, &auth, now)),
            ("Alice".to_owned(), "outside the user's access windows".to_owned(), false)
        );
    }

    #[test]
    fn code_attempts_are_the_users_not_the_connections() {
        let auth = AuthOptions::default();
        let now = UnixMillis(1);
        let account = alice(false, true);
        let after = |failures| LogonFacts {
            code_failures: failures,
            ..facts(Some(&account), Ok(key()))
        };
        match decide(after(2), &auth, now) {
            LogonDecision::Granted { second_factor, .. } => assert_eq!(second_factor.unwrap().attempts, 1),
            other => panic!("{other:?}"),
        }
        let (user, why, counts) = reason(decide(after(3), &auth, now));
        assert_eq!(user, "Alice");
        assert!(why.contains("no code attempts left") && counts, "{why}");
        // A user without a secret gets the not-enrolled prompt whatever the count.
        let unenrolled = alice(false, false);
        let facts = LogonFacts {
            code_failures: 9,
            ..facts(Some(&unenrolled), Ok(key()))
        };
        assert!(matches!(decide(facts, &auth, now), LogonDecision::Granted { .. }));
    }

    #[test]
    fn only_accounts_that_may_log_in_have_their_hash_checked() {
        let mut auth = AuthOptions::default();
        let now = UnixMillis(100 * 24 * 60 * 60 * 1000);
        assert!(hash_is_checked(Some(&alice(false, false)), &auth, now));
        assert!(!hash_is_checked(Some(&alice(true, false)), &auth, now));
        assert!(!hash_is_checked(None, &auth, now));
        auth.max_password_age = Some(Duration::from_secs(24 * 60 * 60));
        assert!(!hash_is_checked(Some(&alice(false, false)), &auth, now), "expired");
    }
}
