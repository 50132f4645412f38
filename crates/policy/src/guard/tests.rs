//! The guard on virtual time: `t(s)` is `s` seconds after an arbitrary epoch.

use super::*;

const T0: i64 = 1_800_000_000_000;
const MIN: i64 = 60;
const HOUR: i64 = 3600;

fn t(secs: i64) -> UnixMillis {
    UnixMillis(T0 + secs * 1000)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn guard() -> Guard {
    Guard::new(GuardConfig::default())
}

/// `n` failures from `src` one second apart starting at `start`; the actions of the last.
fn fail_n(g: &mut Guard, src: &str, user: Option<&str>, n: u32, start: i64) -> Vec<GuardAction> {
    let mut last = Vec::new();
    for i in 0..n {
        last = g.record_failure(ip(src), user, t(start + i64::from(i)));
    }
    last
}

fn banned(g: &Guard, src: &str, at: i64) -> bool {
    matches!(
        g.check_connect(ip(src), t(at)),
        Verdict::Refuse(SourceRefusal::Banned { .. })
    )
}

#[test]
fn defaults_are_the_documented_ones() {
    let c = GuardConfig::default();
    assert_eq!(c.failures, 5);
    assert_eq!(c.window, Duration::from_secs(600));
    assert_eq!(c.ban, Duration::from_secs(900));
    assert_eq!(c.max_ban, Duration::from_secs(86_400));
    assert_eq!(c.repeat_memory, Duration::from_secs(86_400));
    assert_eq!(c.user_ip_backoff_base, Duration::from_secs(1));
    assert_eq!(c.user_ip_backoff_max, Duration::from_secs(60));
    assert_eq!(c.ipv6_prefix, 64);
    assert_eq!(c.allow, default_allowlist());
    assert!(c.deny.is_empty());
    assert_eq!(c.max_entries, 100_000);
}

#[test]
fn four_failures_do_not_ban_the_fifth_does() {
    let mut g = guard();
    assert!(fail_n(&mut g, "10.0.0.1", Some("alice"), 4, 0).is_empty());
    assert_eq!(g.check_connect(ip("10.0.0.1"), t(4)), Verdict::Allow);
    let actions = g.record_failure(ip("10.0.0.1"), Some("alice"), t(4));
    let until = t(4 + 15 * MIN);
    assert_eq!(
        actions,
        vec![GuardAction::Banned {
            net: net("10.0.0.1"),
            until,
            repeat: 1
        }]
    );
    assert_eq!(
        g.check_connect(ip("10.0.0.1"), t(5)),
        Verdict::Refuse(SourceRefusal::Banned { until })
    );
    // Only that source.
    assert_eq!(g.check_connect(ip("10.0.0.2"), t(5)), Verdict::Allow);
    // Mapped form of the same address is the same source.
    assert!(banned(&g, "::ffff:10.0.0.1", 5));
    // The ban ends exactly at `until`, with nothing else happening.
    assert!(banned(&g, "10.0.0.1", 4 + 15 * MIN - 1));
    assert!(!banned(&g, "10.0.0.1", 4 + 15 * MIN));
    assert_eq!(g.bans(t(5)), vec![Ban { net: net("10.0.0.1"), until, repeat: 1 }]);
    assert!(g.bans(until).is_empty());
}

#[test]
fn failures_without_a_user_name_count_too() {
    let mut g = guard();
    let actions = fail_n(&mut g, "10.0.0.1", None, 5, 0);
    assert!(matches!(actions.as_slice(), [GuardAction::Banned { repeat: 1, .. }]));
}

#[test]
fn failures_older_than_the_window_are_forgotten() {
    let mut g = guard();
    fail_n(&mut g, "10.0.0.1", None, 4, 0);
    // The first failure (t=0) leaves the window at t=600: 1, 2, 3 and 600 are four.
    assert!(g.record_failure(ip("10.0.0.1"), None, t(600)).is_empty());
    // Just inside the window, the fifth bans.
    let mut g = guard();
    fail_n(&mut g, "10.0.0.1", None, 4, 0);
    let actions = g.record_failure(ip("10.0.0.1"), None, t(599));
    assert_eq!(actions.len(), 1, "{actions:?}");

    // Spread out: one failure every 3 minutes never reaches 5 within 10 minutes.
    let mut g = guard();
    for i in 0..50 {
        assert!(g.record_failure(ip("10.0.0.9"), None, t(i * 3 * MIN)).is_empty());
    }
}

#[test]
fn repeat_bans_double_up_to_the_cap() {
    let mut g = guard();
    let mut now = 0;
    let mut durations = Vec::new();
    for _ in 0..9 {
        let actions = fail_n(&mut g, "10.0.0.1", None, 5, now);
        let [GuardAction::Banned { until, repeat, .. }] = actions.as_slice() else {
            panic!("expected a ban, got {actions:?}");
        };
        let last_failure = now + 4;
        durations.push(((until.0 - t(last_failure).0) / 1000, *repeat));
        // Come back as soon as the ban ends.
        now = (until.0 - T0) / 1000;
    }
    assert_eq!(
        durations,
        [
            (15 * MIN, 1),
            (30 * MIN, 2),
            (HOUR, 3),
            (2 * HOUR, 4),
            (4 * HOUR, 5),
            (8 * HOUR, 6),
            (16 * HOUR, 7),
            (24 * HOUR, 8),
            (24 * HOUR, 9)
        ]
    );
}

#[test]
fn repeat_count_is_forgotten_a_day_after_the_ban_ends() {
    let mut g = guard();
    fail_n(&mut g, "10.0.0.1", None, 5, 0); // banned until 4 + 15 min
    let end = 4 + 15 * MIN;
    // Just inside the memory: doubled.
    let actions = fail_n(&mut g, "10.0.0.1", None, 5, end + 24 * HOUR - 10);
    assert!(matches!(actions.as_slice(), [GuardAction::Banned { repeat: 2, .. }]), "{actions:?}");
    let end2 = end + 24 * HOUR - 10 + 4 + 30 * MIN;
    // A day after that ban ended: back to the first duration.
    let actions = fail_n(&mut g, "10.0.0.1", None, 5, end2 + 24 * HOUR);
    assert!(matches!(actions.as_slice(), [GuardAction::Banned { repeat: 1, .. }]), "{actions:?}");
}

#[test]
fn failures_during_a_ban_do_not_extend_it_or_count_towards_the_next() {
    let mut g = guard();
    fail_n(&mut g, "10.0.0.1", None, 5, 0);
    // In-flight connections report failures after the ban.
    assert!(fail_n(&mut g, "10.0.0.1", None, 10, 10).is_empty());
    assert_eq!(g.bans(t(30))[0].until, t(4 + 15 * MIN));
    // After the ban the count starts from zero.
    assert!(fail_n(&mut g, "10.0.0.1", None, 4, 4 + 15 * MIN).is_empty());
}

#[test]
fn ipv6_sources_are_counted_per_64() {
    let mut g = guard();
    for i in 1..=4 {
        assert!(g.record_failure(ip(&format!("fd00:1:2:3::{i}")), None, t(i)).is_empty());
    }
    let actions = g.record_failure(ip("fd00:1:2:3:ffff::5"), None, t(5));
    assert_eq!(
        actions,
        vec![GuardAction::Banned {
            net: net("fd00:1:2:3::/64"),
            until: t(5 + 15 * MIN),
            repeat: 1
        }]
    );
    assert!(banned(&g, "fd00:1:2:3:abcd::1", 6));
    assert!(!banned(&g, "fd00:1:2:4::1", 6));

    let mut g = Guard::new(GuardConfig {
        ipv6_prefix: 128,
        ..GuardConfig::default()
    });
    for i in 1..=5 {
        assert!(g.record_failure(ip(&format!("fd00::{i}")), None, t(i)).is_empty());
    }
}

#[test]
fn manual_bans_cover_networks_and_can_be_lifted() {
    let mut g = guard();
    g.ban(net("192.168.7.0/24"), t(HOUR));
    g.ban(net("fd00:dead::/32"), t(HOUR));
    assert!(banned(&g, "192.168.7.200", 0));
    assert!(banned(&g, "::ffff:192.168.7.1", 0));
    assert!(!banned(&g, "192.168.8.1", 0));
    assert!(banned(&g, "fd00:dead:beef::1", 0));
    assert!(!banned(&g, "fd00:deae::1", 0));
    let bans = g.bans(t(0));
    assert_eq!(bans.len(), 2);
    assert!(bans.iter().all(Ban::is_manual));

    assert!(g.unban(net("192.168.7.0/24")));
    assert!(!g.unban(net("192.168.7.0/24")));
    assert!(!g.unban(net("192.168.7.1")), "only the exact network is lifted");
    assert!(!banned(&g, "192.168.7.200", 0));
    assert!(banned(&g, "fd00:dead:beef::1", 0));
}

#[test]
fn a_wide_ipv6_ban_covers_mapped_ipv4() {
    let mut g = Guard::new(GuardConfig {
        allow: vec![IpNet::ANY_V4, IpNet::ANY_V6],
        ..GuardConfig::default()
    });
    g.ban(IpNet::ANY_V6, t(HOUR));
    assert!(banned(&g, "203.0.113.1", 0));
    assert!(banned(&g, "2001:db8::1", 0));
}

#[test]
fn manual_ban_replaces_and_the_longest_overlapping_ban_wins() {
    let mut g = guard();
    fail_n(&mut g, "10.0.0.1", None, 5, 0);
    // The admin shortens it.
    g.ban(net("10.0.0.1"), t(60));
    assert_eq!(g.bans(t(10)), vec![Ban { net: net("10.0.0.1"), until: t(60), repeat: 0 }]);
    g.ban(net("10.0.0.0/24"), t(120));
    assert_eq!(g.banned_until(ip("10.0.0.1"), t(10)), Some(t(120)));
    assert_eq!(g.banned_until(ip("10.0.0.1"), t(120)), None);
}

#[test]
fn unban_forgets_the_repeat_count() {
    let mut g = guard();
    fail_n(&mut g, "10.0.0.1", None, 5, 0);
    assert!(g.unban(net("10.0.0.1")));
    assert_eq!(g.check_connect(ip("10.0.0.1"), t(10)), Verdict::Allow);
    let actions = fail_n(&mut g, "10.0.0.1", None, 5, 20);
    assert!(matches!(actions.as_slice(), [GuardAction::Banned { repeat: 1, .. }]), "{actions:?}");
}

#[test]
fn user_ip_backoff_doubles_and_resets_on_success() {
    let mut g = Guard::new(GuardConfig {
        failures: 100,
        ..GuardConfig::default()
    });
    let a = ip("10.0.0.1");
    assert_eq!(g.backoff(a, "alice", t(0)), None);
    let mut now = 0;
    let mut waits = Vec::new();
    for _ in 0..9 {
        g.record_failure(a, Some("alice"), t(now));
        let wait = g.backoff(a, "alice", t(now)).unwrap();
        waits.push(wait.as_secs());
        // Still waiting one second before the end; free at the end.
        let secs = i64::try_from(wait.as_secs()).unwrap();
        assert_eq!(g.backoff(a, "alice", t(now + secs - 1)), Some(Duration::from_secs(1)));
        assert_eq!(g.backoff(a, "alice", t(now + secs)), None);
        now += secs;
    }
    assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    // Case-insensitive user, mapped address: the same pair.
    g.record_failure(a, Some("alice"), t(now));
    assert!(g.backoff(ip("::ffff:10.0.0.1"), "ALICE", t(now)).is_some());
    // Other users and other addresses are unaffected.
    assert_eq!(g.backoff(a, "bob", t(now)), None);
    assert_eq!(g.backoff(ip("10.0.0.2"), "alice", t(now)), None);
    // Success clears it.
    g.record_success(a, "Alice", t(now));
    assert_eq!(g.backoff(a, "alice", t(now)), None);
    g.record_failure(a, Some("alice"), t(now + 1));
    assert_eq!(g.backoff(a, "alice", t(now + 1)), Some(Duration::from_secs(1)));
}

#[test]
fn user_ip_backoff_resets_after_a_quiet_window() {
    let mut g = Guard::new(GuardConfig {
        failures: 100,
        ..GuardConfig::default()
    });
    let a = ip("10.0.0.1");
    for i in 0..6 {
        g.record_failure(a, Some("alice"), t(i * 100));
    }
    // Consecutive within the window: 32 s after the sixth.
    assert_eq!(g.backoff(a, "alice", t(500)), Some(Duration::from_secs(32)));
    g.record_failure(a, Some("alice"), t(500 + 600));
    assert_eq!(g.backoff(a, "alice", t(1100)), Some(Duration::from_secs(1)));
}

#[test]
fn account_lockout_spares_known_good_sources() {
    let mut g = Guard::new(GuardConfig {
        account_failures: 3,
        ..GuardConfig::default()
    });
    let home = ip("192.168.1.10");
    g.record_success(home, "alice", t(0));
    assert!(g.is_known_good("ALICE", home, t(1)));
    // A spread-out attack: one failure from each of many sources.
    assert!(g.record_failure(ip("10.0.0.1"), Some("alice"), t(10)).is_empty());
    assert!(g.record_failure(ip("10.0.0.2"), Some("alice"), t(11)).is_empty());
    // The user's own typo from home does not count towards the lockout.
    assert!(g.record_failure(home, Some("alice"), t(11)).is_empty());
    let actions = g.record_failure(ip("10.0.0.3"), Some("Alice"), t(12));
    let until = t(12 + 15 * MIN);
    assert_eq!(
        actions,
        vec![GuardAction::AccountLocked {
            user: "alice".into(),
            until
        }]
    );
    // New sources wait out the lockout; the home address only its own (user, ip) back-off.
    assert_eq!(g.backoff(ip("10.0.0.99"), "alice", t(13)), Some(elapsed(until, t(13))));
    assert_eq!(g.backoff(home, "alice", t(13)), None);
    // Other users are not affected.
    assert_eq!(g.backoff(ip("10.0.0.99"), "bob", t(13)), None);
    assert_eq!(g.backoff(ip("10.0.0.99"), "alice", until), None);
    // Known-good expires.
    assert!(!g.is_known_good("alice", home, t(30 * 24 * HOUR)));
}

#[test]
fn account_lockout_can_be_turned_off() {
    let mut g = Guard::new(GuardConfig {
        account_failures: 0,
        ..GuardConfig::default()
    });
    for i in 0..100 {
        let actions = g.record_failure(ip(&format!("10.0.1.{i}")), Some("alice"), t(i64::from(i)));
        assert!(actions.is_empty());
    }
    assert_eq!(g.backoff(ip("10.0.2.1"), "alice", t(100)), None);
}

#[test]
fn success_does_not_clear_other_users_failures_from_a_shared_address() {
    let mut g = guard();
    fail_n(&mut g, "10.0.0.1", Some("mallory"), 4, 0);
    g.record_success(ip("10.0.0.1"), "alice", t(5));
    let actions = g.record_failure(ip("10.0.0.1"), Some("mallory"), t(6));
    assert!(matches!(actions.as_slice(), [GuardAction::Banned { .. }]), "{actions:?}");
}

#[test]
fn allow_and_deny_lists() {
    let g = Guard::new(GuardConfig {
        allow: vec![net("10.0.0.0/8"), net("2001:db8::/32")],
        deny: vec![net("10.6.6.0/24"), net("2001:db8:bad::/48")],
        ..GuardConfig::default()
    });
    let v = |s: &str| g.check_connect(ip(s), t(0));
    assert_eq!(v("10.1.2.3"), Verdict::Allow);
    assert_eq!(v("::ffff:10.1.2.3"), Verdict::Allow);
    assert_eq!(v("2001:db8:1::1"), Verdict::Allow);
    assert_eq!(v("10.6.6.6"), Verdict::Refuse(SourceRefusal::Denied));
    assert_eq!(v("::ffff:10.6.6.6"), Verdict::Refuse(SourceRefusal::Denied));
    assert_eq!(v("2001:db8:bad::1"), Verdict::Refuse(SourceRefusal::Denied));
    assert_eq!(v("192.168.1.1"), Verdict::Refuse(SourceRefusal::NotAllowlisted));
    assert_eq!(v("127.0.0.1"), Verdict::Refuse(SourceRefusal::NotAllowlisted));
    assert_eq!(v("2001:db9::1"), Verdict::Refuse(SourceRefusal::NotAllowlisted));

    let d = guard();
    assert_eq!(d.check_connect(ip("127.0.0.2"), t(0)), Verdict::Allow);
    assert_eq!(d.check_connect(ip("100.100.1.1"), t(0)), Verdict::Allow);
    assert_eq!(d.check_connect(ip("fd7a:115c::1"), t(0)), Verdict::Allow);
    assert_eq!(
        d.check_connect(ip("8.8.8.8"), t(0)),
        Verdict::Refuse(SourceRefusal::NotAllowlisted)
    );
    assert_eq!(
        d.check_connect(ip("2606:4700::1"), t(0)),
        Verdict::Refuse(SourceRefusal::NotAllowlisted)
    );

    let nobody = Guard::new(GuardConfig {
        allow: Vec::new(),
        ..GuardConfig::default()
    });
    assert_eq!(
        nobody.check_connect(ip("127.0.0.1"), t(0)),
        Verdict::Refuse(SourceRefusal::NotAllowlisted)
    );
    let anyone = Guard::new(GuardConfig {
        allow: vec![IpNet::ANY_V4, IpNet::ANY_V6],
        ..GuardConfig::default()
    });
    assert_eq!(anyone.check_connect(ip("8.8.8.8"), t(0)), Verdict::Allow);
    assert_eq!(anyone.check_connect(ip("2606:4700::1"), t(0)), Verdict::Allow);
}

#[test]
fn tables_are_capped() {
    let cap = 64;
    let mut g = Guard::new(GuardConfig {
        max_entries: cap,
        failures: 2,
        allow: vec![IpNet::ANY_V4],
        ..GuardConfig::default()
    });
    for i in 0..1000u32 {
        let addr = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000u32 + i));
        let user = format!("user{i}");
        g.record_failure(addr, Some(&user), t(i64::from(i)));
        g.record_failure(addr, Some(&user), t(i64::from(i)));
        g.record_success(addr, &user, t(i64::from(i)));
        g.ban(IpNet::host(IpAddr::from(std::net::Ipv4Addr::from(0x0b00_0000u32 + i))), t(HOUR + i64::from(i)));
        assert!(g.sources.len() <= cap);
        assert!(g.bans.len() <= cap);
        assert!(g.backoffs.len() <= cap);
        assert!(g.accounts.len() <= cap);
        assert!(g.known_good.len() <= cap);
    }
    // The newest survive: the last ban is still in force and the prefix index agrees.
    assert!(banned(&g, "11.0.3.231", 0));
    assert!(!banned(&g, "11.0.0.0", 0));
    assert_eq!(g.ban_prefixes.values().sum::<usize>(), g.bans.len());
    // Long user names are cut.
    g.record_failure(ip("10.9.9.9"), Some(&"x".repeat(10_000)), t(2000));
    assert!(g.backoffs.keys().all(|(u, _)| u.chars().count() <= MAX_USER_KEY_CHARS));
}

#[test]
fn prune_drops_what_no_longer_matters() {
    let mut g = guard();
    fail_n(&mut g, "10.0.0.1", Some("alice"), 5, 0);
    fail_n(&mut g, "10.0.0.2", Some("bob"), 2, 0);
    g.record_success(ip("10.0.0.3"), "carol", t(0));
    g.ban(net("10.1.0.0/16"), t(HOUR));
    g.prune(t(20 * MIN));
    assert_eq!(g.bans.len(), 1, "the automatic ban ended");
    assert_eq!(g.sources.len(), 1, "10.0.0.1 keeps its repeat count");
    assert!(g.backoffs.is_empty());
    g.prune(t(2 * 24 * HOUR));
    assert!(g.bans.is_empty());
    assert!(g.ban_prefixes.is_empty());
    assert!(g.sources.is_empty());
    assert_eq!(g.known_good.len(), 1);
    g.prune(t(31 * 24 * HOUR));
    assert!(g.known_good.is_empty());
    assert!(g.accounts.is_empty());
}

#[test]
fn snapshot_and_restore_keep_bans_and_doubling() {
    let mut g = guard();
    fail_n(&mut g, "10.0.0.1", None, 5, 0);
    g.ban(net("192.168.0.0/16"), t(HOUR));
    g.record_success(ip("10.0.0.7"), "alice", t(0));
    let state = g.snapshot();
    assert_eq!(state.bans.len(), 2);
    assert_eq!(state.repeats.len(), 1);
    assert_eq!(state.known_good.len(), 1);

    let restored = Guard::restore(state.clone(), GuardConfig::default());
    assert_eq!(restored.snapshot(), state);
    assert!(banned(&restored, "10.0.0.1", 10));
    assert!(banned(&restored, "192.168.5.5", 10));
    assert!(restored.is_known_good("alice", ip("10.0.0.7"), t(10)));

    // From the store, which keeps only bans: the repeat count comes from the ban itself.
    let mut from_bans = Guard::restore(
        GuardState {
            bans: state.bans.clone(),
            ..GuardState::default()
        },
        GuardConfig::default(),
    );
    let end = 4 + 15 * MIN;
    let actions = fail_n(&mut from_bans, "10.0.0.1", None, 5, end);
    assert!(matches!(actions.as_slice(), [GuardAction::Banned { repeat: 2, .. }]), "{actions:?}");
}

#[test]
fn sync_bans_follows_the_store() {
    let mut g = guard();
    let actions = fail_n(&mut g, "10.0.0.1", None, 5, 0);
    let [GuardAction::Banned { net: auto_net, until, .. }] = actions.as_slice() else {
        panic!("{actions:?}");
    };
    g.ban_written(*auto_net, *until);
    let auto = g.bans(t(5));
    // The CLI added a ban.
    let mut store = auto.clone();
    store.push(Ban {
        net: net("10.9.0.0/16"),
        until: t(HOUR),
        repeat: 0,
    });
    let mark = g.sync_mark();
    g.sync_bans(&store, mark, t(6));
    assert!(banned(&g, "10.9.1.1", 7));
    assert!(banned(&g, "10.0.0.1", 7));
    // The CLI deleted the automatic ban: lifted, and its repeat count forgotten.
    store.remove(0);
    let mark = g.sync_mark();
    g.sync_bans(&store, mark, t(8));
    assert!(!banned(&g, "10.0.0.1", 9));
    assert!(banned(&g, "10.9.1.1", 9));
    let actions = fail_n(&mut g, "10.0.0.1", None, 5, 10);
    assert!(matches!(actions.as_slice(), [GuardAction::Banned { repeat: 1, .. }]), "{actions:?}");
    // The CLI deleted its own ban too.
    let mark = g.sync_mark();
    g.sync_bans(&[], mark, t(20));
    assert!(!banned(&g, "10.9.1.1", 21));
}

/// The one ban an action reports.
fn only_ban(actions: &[GuardAction]) -> (IpNet, UnixMillis) {
    match actions {
        [GuardAction::Banned { net, until, .. }] => (*net, *until),
        other => panic!("expected one ban, got {other:?}"),
    }
}

#[test]
fn a_sync_never_lifts_a_ban_not_written_yet() {
    // The store already holds another ban (read at start-up).
    let cli_ban = Ban {
        net: net("10.9.0.0/16"),
        until: t(HOUR),
        repeat: 0,
    };
    let mut g = Guard::restore(
        GuardState {
            bans: vec![cli_ban],
            ..GuardState::default()
        },
        GuardConfig::default(),
    );
    let (auto_net, until) = only_ban(&fail_n(&mut g, "10.0.0.1", None, 5, 0));
    // The store is read before the supervisor's write of the new ban lands: it lacks it.
    for at in [5, 7, 9] {
        let mark = g.sync_mark();
        g.sync_bans(&[cli_ban], mark, t(at));
        assert!(banned(&g, "10.0.0.1", at), "a sync at {at} s lifted a ban not yet written");
    }
    // Its write failed for good: it still holds, until it ends.
    assert!(banned(&g, "10.0.0.1", 15 * MIN - 1));
    assert!(!banned(&g, "10.0.0.1", 15 * MIN + 4));
    assert_eq!(g.bans(t(10)).iter().map(|b| b.net).collect::<Vec<_>>(), vec![auto_net, cli_ban.net]);
    assert_eq!(g.bans(t(10))[0].until, until);
}

#[test]
fn a_sync_read_before_the_write_was_confirmed_keeps_the_ban() {
    let mut g = guard();
    let (auto_net, until) = only_ban(&fail_n(&mut g, "10.0.0.1", None, 5, 0));
    // The sync takes its mark and reads the store; meanwhile the write lands and is
    // confirmed; then the sync applies what it read (without the ban).
    let stale = g.sync_mark();
    g.ban_written(auto_net, until);
    g.sync_bans(&[], stale, t(6));
    assert!(banned(&g, "10.0.0.1", 7), "a stale read lifted a ban written after it");
    // The next sync reads the store with the ban in it: nothing changes.
    let stored = Ban {
        net: auto_net,
        until,
        repeat: 1,
    };
    let mark = g.sync_mark();
    g.sync_bans(&[stored], mark, t(8));
    assert!(banned(&g, "10.0.0.1", 9));
    // `rampart ban del`: a sync read after the write no longer sees it, and lifts it.
    let mark = g.sync_mark();
    g.sync_bans(&[], mark, t(10));
    assert!(!banned(&g, "10.0.0.1", 11));
    // Its failures and repeat count went with it: five more make a first ban again.
    let actions = fail_n(&mut g, "10.0.0.1", None, 5, 12);
    assert!(matches!(actions.as_slice(), [GuardAction::Banned { repeat: 1, .. }]), "{actions:?}");
}

#[test]
fn a_stale_row_does_not_replace_a_newer_ban_on_the_same_network() {
    let mut g = guard();
    // First ban, written, seen by a sync, ended.
    let (auto_net, first_until) = only_ban(&fail_n(&mut g, "10.0.0.1", None, 5, 0));
    g.ban_written(auto_net, first_until);
    let first = Ban {
        net: auto_net,
        until: first_until,
        repeat: 1,
    };
    let mark = g.sync_mark();
    g.sync_bans(&[first], mark, t(10));
    // A repeat ban after the first one ended; the store still holds the ended row
    // (it carries the repeat count), and a sync reads it before the new write lands.
    let start = 20 * MIN;
    let (_, second_until) = only_ban(&fail_n(&mut g, "10.0.0.1", None, 5, start));
    assert!(second_until > first_until);
    let stale = g.sync_mark();
    g.sync_bans(&[first], stale, t(start + 6));
    assert!(banned(&g, "10.0.0.1", start + 7), "the ended row replaced the pending repeat ban");
    g.ban_written(auto_net, second_until);
    g.sync_bans(&[first], stale, t(start + 8));
    assert!(banned(&g, "10.0.0.1", start + 9), "the ended row replaced a ban written after the read");
    assert_eq!(g.bans(t(start + 9))[0].until, second_until);
}

#[test]
fn the_store_version_of_a_written_ban_wins() {
    let mut g = guard();
    let (auto_net, until) = only_ban(&fail_n(&mut g, "10.0.0.1", None, 5, 0));
    g.ban_written(auto_net, until);
    // An administrator shortened it in the store (`rampart ban add` on the same network).
    let shorter = Ban {
        net: auto_net,
        until: t(60),
        repeat: 0,
    };
    let mark = g.sync_mark();
    g.sync_bans(&[shorter], mark, t(10));
    assert!(banned(&g, "10.0.0.1", 59));
    assert!(!banned(&g, "10.0.0.1", 61));
    // A confirmation for the old `until` does not resurrect anything.
    g.ban_written(auto_net, until);
    assert!(!banned(&g, "10.0.0.1", 61));
}

#[test]
fn clock_going_backwards_does_not_panic_or_unban() {
    let mut g = guard();
    fail_n(&mut g, "10.0.0.1", Some("alice"), 5, 1000);
    assert!(banned(&g, "10.0.0.1", 0));
    assert!(g.backoff(ip("10.0.0.1"), "alice", t(0)).is_some());
    g.record_failure(ip("10.0.0.2"), Some("alice"), UnixMillis(i64::MIN));
    g.record_failure(ip("10.0.0.2"), Some("alice"), UnixMillis(i64::MAX));
    g.prune(UnixMillis(i64::MIN));
}

#[test]
fn refusal_messages() {
    assert_eq!(SourceRefusal::Denied.to_string(), "source address is on the denylist");
    assert_eq!(
        SourceRefusal::NotAllowlisted.to_string(),
        "source address is not on the allowlist"
    );
    assert_eq!(
        SourceRefusal::Banned { until: t(0) }.to_string(),
        "source address is banned"
    );
}

/// A restart in the middle of a guessing run: the guard comes back from what
/// `failure_counts` handed out after each failure (as the store keeps it).
fn restarted(g: &Guard, written: &[FailureCount], config: GuardConfig) -> Guard {
    let mut state = g.snapshot();
    state.failures = written.iter().filter(|c| !c.is_empty()).cloned().collect();
    Guard::restore(state, config)
}

#[test]
fn failures_in_progress_survive_a_restart() {
    let config = GuardConfig {
        failures: 3,
        ..GuardConfig::default()
    };
    let mut g = Guard::new(config.clone());
    fail_n(&mut g, "10.0.0.1", Some("mallory"), 2, 0);
    let written = g.failure_counts(ip("10.0.0.1"), Some("mallory"));
    assert_eq!(
        written,
        vec![
            FailureCount {
                scope: FailureScope::Source(net("10.0.0.1/32")),
                times: vec![t(0), t(1)],
                locked_until: None,
            },
            FailureCount {
                scope: FailureScope::Account("mallory".into()),
                times: vec![t(0), t(1)],
                locked_until: None,
            },
        ]
    );
    let mut back = restarted(&g, &written, config.clone());
    let actions = back.record_failure(ip("10.0.0.1"), None, t(2));
    assert!(matches!(actions.as_slice(), [GuardAction::Banned { repeat: 1, .. }]), "{actions:?}");
    // The ban cleared the source's failures: what is written now says so.
    assert!(back.failure_counts(ip("10.0.0.1"), None)[0].is_empty());

    // A guard that forgot them would not have banned.
    let mut forgetful = Guard::new(config.clone());
    assert!(forgetful.record_failure(ip("10.0.0.1"), None, t(2)).is_empty());

    // Failures that left the window while the server was down are forgotten as usual.
    let mut late = restarted(&g, &written, config);
    assert!(late.record_failure(ip("10.0.0.1"), None, t(11 * MIN)).is_empty());
}

#[test]
fn an_account_lockout_and_known_good_sources_survive_a_restart() {
    let config = GuardConfig {
        failures: 100,
        account_failures: 3,
        ..GuardConfig::default()
    };
    let mut g = Guard::new(config.clone());
    g.record_success(ip("10.0.0.7"), "Alice", t(0));
    let mut written = Vec::new();
    let mut locked = Vec::new();
    for (i, src) in ["10.1.0.1", "10.1.0.2", "10.1.0.3"].iter().enumerate() {
        locked = g.record_failure(ip(src), Some("alice"), t(10 + i as i64));
        written.extend(g.failure_counts(ip(src), Some("alice")));
    }
    assert!(matches!(locked.as_slice(), [GuardAction::AccountLocked { .. }]), "{locked:?}");
    // The last write of each entry wins, as an upsert does.
    let mut last: Vec<FailureCount> = Vec::new();
    for c in written {
        last.retain(|o| o.scope != c.scope);
        last.push(c);
    }
    let back = restarted(&g, &last, config);
    assert!(back.backoff(ip("10.9.9.9"), "alice", t(20)).is_some(), "the lockout was forgotten");
    assert!(back.is_known_good("alice", ip("10.0.0.7"), t(20)));
    assert_eq!(back.backoff(ip("10.0.0.7"), "ALICE", t(20)), None, "the known-good source was locked out");
    assert_eq!(back.snapshot().failures, g.snapshot().failures);
}
