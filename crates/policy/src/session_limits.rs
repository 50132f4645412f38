//! The session limits (CIS "Remote Desktop Services" session time limits): a connection
//! with no keyboard or mouse input for the idle limit is disconnected (its desktop stays,
//! resumable), and a desktop with no connection for the disconnected limit is ended.
//!
//! Pure: the supervisor passes what it knows (when each connection last had input, since
//! when each desktop has had no connection) and the time, and acts on what comes out.

use std::time::Duration;

use crate::UnixMillis;

/// The two limits; `None` turns one off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionLimits {
    /// A connection in a desktop without input for this long is disconnected.
    pub idle: Option<Duration>,
    /// A desktop without any connection for this long is ended.
    pub disconnected: Option<Duration>,
}

/// A live connection, as far as the limits care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveConnection {
    pub id: u64,
    /// The connection shows a desktop (idle time counts only then: the two-step prompt has
    /// its own deadline).
    pub in_desktop: bool,
    /// The last keyboard or mouse input the worker reported, or when the desktop was granted.
    pub last_input: UnixMillis,
    /// Already told to go (by a limit or an administrator): not acted on again.
    pub leaving: bool,
}

/// A desktop session held for a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldDesktop {
    pub user: String,
    /// `None` while a connection shows it; otherwise since when none has.
    pub detached_since: Option<UnixMillis>,
}

/// What the supervisor must do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitAction {
    /// Disconnect this connection (the desktop stays): no input for `idle_for`.
    Disconnect { connection: u64, idle_for: Duration },
    /// End this user's desktop: no connection for `detached_for`.
    End { user: String, detached_for: Duration },
}

impl LimitAction {
    /// The audit reason, e.g. "idle for 900 s" or "disconnected for 28800 s".
    pub fn reason(&self) -> String {
        match self {
            Self::Disconnect { idle_for, .. } => format!("idle for {} s", idle_for.as_secs()),
            Self::End { detached_for, .. } => format!("disconnected for {} s", detached_for.as_secs()),
        }
    }
}

/// The limits' actions at `now`. A connection whose idle time reaches the limit is
/// disconnected; a desktop detached for at least the disconnected limit is ended. The
/// durations reported are the limits themselves, rounded down to whole seconds of what
/// passed, so the record says what was exceeded.
pub fn due(
    limits: &SessionLimits,
    connections: &[LiveConnection],
    desktops: &[HeldDesktop],
    now: UnixMillis,
) -> Vec<LimitAction> {
    let mut actions = Vec::new();
    if let Some(idle) = limits.idle {
        for c in connections.iter().filter(|c| c.in_desktop && !c.leaving) {
            let quiet = elapsed(c.last_input, now);
            if quiet >= idle {
                actions.push(LimitAction::Disconnect {
                    connection: c.id,
                    idle_for: whole_seconds(quiet),
                });
            }
        }
    }
    if let Some(limit) = limits.disconnected {
        for d in desktops {
            let Some(since) = d.detached_since else { continue };
            let detached = elapsed(since, now);
            if detached >= limit {
                actions.push(LimitAction::End {
                    user: d.user.clone(),
                    detached_for: whole_seconds(detached),
                });
            }
        }
    }
    actions
}

/// Time from `since` to `now`; zero when the clock went back.
fn elapsed(since: UnixMillis, now: UnixMillis) -> Duration {
    Duration::from_millis(u64::try_from(now.0.saturating_sub(since.0)).unwrap_or(0))
}

fn whole_seconds(d: Duration) -> Duration {
    Duration::from_secs(d.as_secs())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const S: i64 = 1000;

    fn conn(id: u64, in_desktop: bool, last_input_s: i64) -> LiveConnection {
        LiveConnection {
            id,
            in_desktop,
            last_input: UnixMillis(last_input_s * S),
            leaving: false,
        }
    }

    fn desk(user: &str, detached_s: Option<i64>) -> HeldDesktop {
        HeldDesktop {
            user: user.to_owned(),
            detached_since: detached_s.map(|s| UnixMillis(s * S)),
        }
    }

    fn limits(idle: Option<u64>, disconnected: Option<u64>) -> SessionLimits {
        SessionLimits {
            idle: idle.map(Duration::from_secs),
            disconnected: disconnected.map(Duration::from_secs),
        }
    }

    #[test]
    fn an_idle_desktop_connection_is_disconnected_at_the_limit_not_before() {
        let l = limits(Some(900), None);
        let c = [conn(1, true, 100)];
        assert!(due(&l, &c, &[], UnixMillis(999 * S + 999)).is_empty());
        let actions = due(&l, &c, &[], UnixMillis(1000 * S));
        assert_eq!(
            actions,
            vec![LimitAction::Disconnect {
                connection: 1,
                idle_for: Duration::from_secs(900)
            }]
        );
        assert_eq!(actions[0].reason(), "idle for 900 s");
    }

    #[test]
    fn connections_without_a_desktop_or_already_leaving_are_left_alone() {
        let l = limits(Some(10), None);
        let mut leaving = conn(2, true, 0);
        leaving.leaving = true;
        // At the prompt (no desktop yet) the prompt's own deadline applies.
        let c = [conn(1, false, 0), leaving];
        assert!(due(&l, &c, &[], UnixMillis(1000 * S)).is_empty());
    }

    #[test]
    fn a_detached_desktop_is_ended_at_the_limit_an_attached_one_never() {
        let l = limits(None, Some(60));
        let d = [desk("alice", Some(0)), desk("bob", None)];
        assert!(due(&l, &d.iter().map(|_| conn(9, false, 0)).collect::<Vec<_>>(), &d, UnixMillis(59 * S)).is_empty());
        let actions = due(&l, &[], &d, UnixMillis(61 * S + 500));
        assert_eq!(
            actions,
            vec![LimitAction::End {
                user: "alice".into(),
                detached_for: Duration::from_secs(61)
            }]
        );
        assert_eq!(actions[0].reason(), "disconnected for 61 s");
    }

    #[test]
    fn limits_off_do_nothing_and_a_clock_going_back_is_no_time() {
        let c = [conn(1, true, 0)];
        let d = [desk("alice", Some(0))];
        assert!(due(&SessionLimits::default(), &c, &d, UnixMillis(1_000_000 * S)).is_empty());
        assert!(due(&limits(Some(1), Some(1)), &c, &d, UnixMillis(-5 * S)).is_empty());
    }

    #[test]
    fn both_limits_act_in_one_pass() {
        let l = limits(Some(5), Some(5));
        let actions = due(&l, &[conn(1, true, 0), conn(2, true, 8)], &[desk("a", Some(0)), desk("b", Some(9))], UnixMillis(10 * S));
        assert_eq!(actions.len(), 2, "{actions:?}");
        assert!(matches!(actions[0], LimitAction::Disconnect { connection: 1, .. }));
        assert!(matches!(&actions[1], LimitAction::End { user, .. } if user == "a"));
    }
}
