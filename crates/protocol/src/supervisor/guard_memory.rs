//! The brute-force guard's memory in the store: known-good (user, source) pairs and the
//! failures in the window per source and per account, so a restart (or a crash an attacker
//! provokes) neither resets a ban or lockout in progress nor takes a user's known-good
//! exemption away. `policy::Guard` stays pure; this converts between its plain values and
//! the store's rows, and the supervisor calls it at start, after each failure and success,
//! and at each retention pass.

use std::net::IpAddr;

use rampart_audit::UnixMillis;
use rampart_policy::{FailureCount, FailureScope, GuardConfig, IpNet, KnownGood};
use rampart_store::{FailureScope as StoredScope, GuardFailureRecord, Store, StoreError};
use tracing::warn;

/// What the guard remembers from the store at `now`: the known-good pairs still within
/// `known_good_ttl` and every failure record (the guard forgets old failures itself).
/// Rows that do not parse are skipped with a warning: they only ever make the guard more
/// lenient, never lock anyone out.
pub(crate) fn load(
    store: &Store,
    config: &GuardConfig,
    now: UnixMillis,
) -> Result<(Vec<KnownGood>, Vec<FailureCount>), StoreError> {
    let since = UnixMillis(now.0.saturating_sub(millis(config.known_good_ttl)));
    let known_good = store
        .known_good(since)?
        .into_iter()
        .filter_map(|record| match record.source.parse::<IpAddr>() {
            Ok(ip) => Some(KnownGood {
                user: record.user,
                ip,
                at: record.at,
            }),
            Err(_) => {
                warn!(source = %record.source, "skipping a known-good source that is not an address");
                None
            }
        })
        .collect();
    let failures = store
        .guard_failures()?
        .into_iter()
        .filter_map(|record| {
            let scope = match record.scope {
                StoredScope::Source => match record.key.parse::<IpNet>() {
                    Ok(net) => FailureScope::Source(net),
                    Err(_) => {
                        warn!(key = %record.key, "skipping failures of a source that is not a network");
                        return None;
                    }
                },
                StoredScope::Account => FailureScope::Account(record.key),
            };
            Some(FailureCount {
                scope,
                times: record.times,
                locked_until: record.locked_until,
            })
        })
        .collect();
    Ok((known_good, failures))
}

/// The store's rows for `counts` (from `Guard::failure_counts`).
pub(crate) fn records(counts: &[FailureCount]) -> Vec<GuardFailureRecord> {
    counts
        .iter()
        .map(|count| {
            let (scope, key) = match &count.scope {
                FailureScope::Source(net) => (StoredScope::Source, net.to_string()),
                FailureScope::Account(user) => (StoredScope::Account, user.clone()),
            };
            GuardFailureRecord {
                scope,
                key,
                times: count.times.clone(),
                locked_until: count.locked_until,
            }
        })
        .collect()
}

/// Forgets the rows that no longer matter at `now`.
pub(crate) fn prune(store: &mut Store, config: &GuardConfig, now: UnixMillis) -> Result<usize, StoreError> {
    store.prune_guard(
        UnixMillis(now.0.saturating_sub(millis(config.known_good_ttl))),
        UnixMillis(now.0.saturating_sub(millis(config.window))),
    )
}

fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_policy::{Guard, GuardAction, GuardState};

    /// A guard brought back from the store after a restart.
    fn reopened(store: &Store, config: &GuardConfig, now: UnixMillis) -> Guard {
        let (known_good, failures) = load(store, config, now).unwrap();
        Guard::restore(
            GuardState {
                known_good,
                failures,
                ..GuardState::default()
            },
            config.clone(),
        )
    }

    #[test]
    fn a_guard_written_through_the_store_comes_back_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("rampart.db"), &dir.path().join("host.key")).unwrap();
        let config = GuardConfig {
            failures: 3,
            ipv6_prefix: 64,
            ..GuardConfig::default()
        };
        let now = UnixMillis(1_800_000_000_000);
        let mut guard = Guard::new(config.clone());
        guard.record_success("fd00::7".parse().unwrap(), "Alice", now);
        store.put_known_good("alice", "fd00::7", now).unwrap();
        for i in 0..2 {
            let ip: IpAddr = format!("fd00:1::{i}").parse().unwrap();
            assert!(guard.record_failure(ip, Some("mallory"), now).is_empty());
            store.put_guard_failures(&records(&guard.failure_counts(ip, Some("mallory")))).unwrap();
        }
        let mut back = reopened(&store, &config, now);
        assert!(back.is_known_good("ALICE", "fd00::7".parse().unwrap(), now));
        // The third failure from the same /64 bans it.
        let actions = back.record_failure("fd00:1::99".parse().unwrap(), None, now);
        assert!(
            matches!(&actions[..], [GuardAction::Banned { net, .. }] if net.to_string() == "fd00:1::/64"),
            "{actions:?}"
        );
        // A month and a window later, nothing is left.
        let later = UnixMillis(now.0 + 31 * 24 * 3600 * 1000);
        assert_eq!(prune(&mut store, &config, later).unwrap(), 3);
        let (known_good, failures) = load(&store, &config, later).unwrap();
        assert!(known_good.is_empty() && failures.is_empty());
    }
}
