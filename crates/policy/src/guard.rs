//! The brute-force guard: source allow/deny lists, per-source bans, per (user, source)
//! back-off and an account-wide lockout that spares known-good sources.
//!
//! Pure: the caller passes `now` ([`UnixMillis`]) into every call and acts on the results
//! (drops the connection, writes the ban to the store, records the audit event).
//!
//! # Rules
//! - **Sources.** A peer's *source* is its address, IPv4-mapped IPv6 counted as IPv4. Failures
//!   and automatic bans are kept per source network: the single address for IPv4, the
//!   `/ipv6_prefix` (default `/64`) network for IPv6, because one IPv6 host normally holds a
//!   whole /64 and could otherwise rotate addresses for free.
//! - **Connect.** [`Guard::check_connect`] refuses, in this order: a denylisted source, a
//!   source outside the allowlist, a banned source. The denylist wins over the allowlist.
//! - **Bans.** `failures` authentication failures (NLA or TOTP) from one source within
//!   `window` ban it until `now + ban`. A source banned again within `repeat_memory` of the
//!   end of its previous ban gets twice the previous duration (15 min, 30 min, 1 h, ...),
//!   capped at `max_ban`. The counter of failures restarts after a ban. A ban ends at its
//!   `until`; nothing needs to run for it to end. Manual bans ([`Guard::ban`]) have
//!   `repeat == 0` and may cover any network.
//! - **(user, source) back-off.** Each consecutive failure for the same user from the same
//!   address doubles the wait before the next attempt is accepted: `user_ip_backoff_base`
//!   after the first, twice that after the second, ... capped at `user_ip_backoff_max`.
//!   A success, or `window` without a failure, resets it.
//! - **Account lockout, never against known-good sources.** `account_failures` failures for
//!   one user within `window`, counted only from sources that have not authenticated as that
//!   user before, refuse further attempts for that user from such sources for `ban`.
//!   A source that has authenticated as the user within `known_good_ttl` is *known-good* for
//!   that user: its failures do not count towards the lockout and the lockout does not apply
//!   to it. So an attacker cannot lock a legitimate user out from the user's own address.
//!   A success from one source does not clear the failures other users made from it
//!   (several people may share one NAT address).
//! - **Bounded.** Every table holds at most `max_entries` entries; when one is full the
//!   oldest entries (by last activity; for bans, the soonest to end) are dropped, a sixteenth
//!   of the table at a time. User names are compared case-insensitively and cut to
//!   [`MAX_USER_KEY_CHARS`] characters.
//! - **Persistence.** [`Guard::snapshot`] and [`Guard::restore`] carry bans, repeat counts,
//!   known-good pairs and the failures in the window per source and per account (with an
//!   account's lockout) as plain values, so a restart (or a crash an attacker provokes)
//!   neither resets a ban or lockout in progress nor takes a user's known-good exemption
//!   away. After each failure [`Guard::failure_counts`] gives the entries it changed, for
//!   the caller to write. The (user, address) back-offs are not kept: they last a minute
//!   at most.
//! - **The store's ban table, merged.** The store (which `rampart ban` edits) is read now
//!   and then and merged in ([`Guard::sync_bans`]): its bans are added; a ban here that the
//!   store held and no longer holds was lifted by an administrator and goes; a ban decided
//!   here whose write the caller has not confirmed yet ([`Guard::ban_written`]) stays, as
//!   does one confirmed after the store was read ([`Guard::sync_mark`] is taken before the
//!   read), so a sync never lifts a ban that is merely not written yet.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::hash::Hash;
use std::net::IpAddr;
use std::time::Duration;

use rampart_audit::UnixMillis;

use crate::ip_net::{canonical, default_allowlist, IpNet};
use crate::source::SourceKey;

/// Longest user name kept as a table key; longer names are cut (they are client input).
pub const MAX_USER_KEY_CHARS: usize = 64;

/// Tunables of the guard. [`GuardConfig::default`] holds the defaults and their reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardConfig {
    /// Failures from one source within `window` that ban it. At least 1.
    pub failures: u32,
    pub window: Duration,
    /// First ban; each repeat doubles it.
    pub ban: Duration,
    pub max_ban: Duration,
    /// How long after a ban ends its repeat count is remembered.
    pub repeat_memory: Duration,
    /// Wait after the first failure for a (user, address); doubles per consecutive failure.
    pub user_ip_backoff_base: Duration,
    pub user_ip_backoff_max: Duration,
    /// Failures for one user, from sources not known-good for it, that lock the account
    /// against such sources for `ban`. 0 turns the account lockout off.
    pub account_failures: u32,
    /// How long a successful login keeps its source known-good for that user.
    pub known_good_ttl: Duration,
    /// IPv6 sources are counted and banned per network of this length (1–128).
    pub ipv6_prefix: u8,
    /// Sources that may connect at all (before authentication). Empty: nobody.
    pub allow: Vec<IpNet>,
    /// Sources always refused, even if allowlisted.
    pub deny: Vec<IpNet>,
    /// Cap on the entries of each table (sources, bans, back-offs, accounts, known-good).
    pub max_entries: usize,
}

impl Default for GuardConfig {
    fn default() -> Self {
        Self {
            // A person who forgot a password gives up or asks after a handful of tries;
            // a guessing tool does not.
            failures: 5,
            window: Duration::from_secs(10 * 60),
            // Long enough to make guessing uneconomic, short enough that a locked-out
            // colleague can simply wait.
            ban: Duration::from_secs(15 * 60),
            max_ban: Duration::from_secs(24 * 60 * 60),
            repeat_memory: Duration::from_secs(24 * 60 * 60),
            // 1, 2, 4, ... 60 s: unnoticeable for a person retyping, ruinous for a tool.
            user_ip_backoff_base: Duration::from_secs(1),
            user_ip_backoff_max: Duration::from_secs(60),
            // Catches guessing spread over many sources, which per-source bans do not see.
            account_failures: 20,
            known_good_ttl: Duration::from_secs(30 * 24 * 60 * 60),
            // The usual size of one IPv6 site or host allocation.
            ipv6_prefix: 64,
            allow: default_allowlist(),
            deny: Vec::new(),
            // About 10-20 MB at worst across all tables.
            max_entries: 100_000,
        }
    }
}

/// A ban on a network. `repeat` is 1 for a first automatic ban, 2 for the next, ...;
/// 0 for a manual ban.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ban {
    pub net: IpNet,
    pub until: UnixMillis,
    pub repeat: u32,
}

impl Ban {
    pub fn is_manual(&self) -> bool {
        self.repeat == 0
    }
}

/// Whether a ban held here is known to be in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored {
    /// Decided here; its write to the store is not confirmed. A sync keeps it.
    Pending,
    /// In the store as of write number `n` ([`Guard::ban_written`] or a sync that saw it).
    Since(u64),
}

#[derive(Debug, Clone, Copy)]
struct HeldBan {
    ban: Ban,
    stored: Stored,
}

/// Taken by [`Guard::sync_mark`] before the store's bans are read and passed back to
/// [`Guard::sync_bans`] with them: bans confirmed written after it are newer than the read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncMark(u64);

/// The answer to a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    Refuse(SourceRefusal),
}

/// Why a source may not connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceRefusal {
    /// A ban covers the source until `until`.
    Banned { until: UnixMillis },
    /// The source is on the denylist.
    Denied,
    /// The source is outside the allowlist.
    NotAllowlisted,
}

impl fmt::Display for SourceRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Banned { .. } => "source address is banned",
            Self::Denied => "source address is on the denylist",
            Self::NotAllowlisted => "source address is not on the allowlist",
        })
    }
}

/// Something the caller must act on after [`Guard::record_failure`]: persist, log, audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuardAction {
    /// The source network `net` is banned until `until`; `repeat` counts its bans.
    Banned { net: IpNet, until: UnixMillis, repeat: u32 },
    /// Attempts for `user` from sources not known-good for it are refused until `until`.
    AccountLocked { user: String, until: UnixMillis },
}

/// A source's remembered repeat count (for doubling after a restart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepeatRecord {
    pub net: IpNet,
    pub repeat: u32,
    pub last_ban_until: UnixMillis,
}

/// A source that has authenticated as a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownGood {
    pub user: String,
    pub ip: IpAddr,
    pub at: UnixMillis,
}

/// Whose failures a [`FailureCount`] counts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailureScope {
    /// A source network ([`Guard::source_key`]).
    Source(IpNet),
    /// A user name, as the guard keys it (lowercase, at most [`MAX_USER_KEY_CHARS`]).
    Account(String),
}

/// The recent failures of a source or an account, as plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureCount {
    pub scope: FailureScope,
    /// Failure times not yet forgotten, oldest first (at most the threshold's number).
    pub times: Vec<UnixMillis>,
    /// Accounts only: attempts from sources not known-good for it are refused until then.
    pub locked_until: Option<UnixMillis>,
}

impl FailureCount {
    /// Nothing to keep: no failure and no lockout.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty() && self.locked_until.is_none()
    }
}

/// What survives a restart, as plain values (the store keeps each part).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuardState {
    pub bans: Vec<Ban>,
    pub repeats: Vec<RepeatRecord>,
    pub known_good: Vec<KnownGood>,
    pub failures: Vec<FailureCount>,
}

#[derive(Debug)]
struct Source {
    /// Failure times within the window, oldest first; at most `failures` of them.
    failures: VecDeque<UnixMillis>,
    repeat: u32,
    last_ban_until: Option<UnixMillis>,
    last_seen: UnixMillis,
}

#[derive(Debug, Clone, Copy)]
struct Backoff {
    consecutive: u32,
    last_failure: UnixMillis,
}

#[derive(Debug)]
struct Account {
    failures: VecDeque<UnixMillis>,
    locked_until: Option<UnixMillis>,
    last_seen: UnixMillis,
}

/// The guard's tables. See the module documentation for the rules.
#[derive(Debug)]
pub struct Guard {
    config: GuardConfig,
    bans: HashMap<IpNet, HeldBan>,
    /// Confirmed ban writes so far (see [`Stored::Since`]).
    writes: u64,
    /// How many bans exist per (is IPv6, prefix length): the lengths to try on a lookup.
    ban_prefixes: BTreeMap<(bool, u8), usize>,
    sources: HashMap<IpNet, Source>,
    backoffs: HashMap<(String, IpAddr), Backoff>,
    accounts: HashMap<String, Account>,
    known_good: HashMap<(String, IpAddr), UnixMillis>,
}

impl Guard {
    pub fn new(config: GuardConfig) -> Self {
        Self {
            config,
            bans: HashMap::new(),
            writes: 0,
            ban_prefixes: BTreeMap::new(),
            sources: HashMap::new(),
            backoffs: HashMap::new(),
            accounts: HashMap::new(),
            known_good: HashMap::new(),
        }
    }

    pub fn config(&self) -> &GuardConfig {
        &self.config
    }

    /// Decides on a new TCP connection from `ip`, before any protocol work.
    pub fn check_connect(&self, ip: IpAddr, now: UnixMillis) -> Verdict {
        let ip = canonical(ip);
        if self.config.deny.iter().any(|n| n.contains(ip)) {
            return Verdict::Refuse(SourceRefusal::Denied);
        }
        if !self.config.allow.iter().any(|n| n.contains(ip)) {
            return Verdict::Refuse(SourceRefusal::NotAllowlisted);
        }
        match self.banned_until(ip, now) {
            Some(until) => Verdict::Refuse(SourceRefusal::Banned { until }),
            None => Verdict::Allow,
        }
    }

    /// The end of the longest active ban covering `ip`, if any.
    pub fn banned_until(&self, ip: IpAddr, now: UnixMillis) -> Option<UnixMillis> {
        let ip = canonical(ip);
        self.ban_prefixes
            .keys()
            .filter_map(|&(v6, prefix)| {
                let addr = match (v6, ip) {
                    (false, IpAddr::V4(_)) | (true, IpAddr::V6(_)) => ip,
                    // Mapped-range IPv6 bans of /96 or longer are stored as IPv4.
                    (true, IpAddr::V4(v4)) if prefix < 96 => IpAddr::V6(v4.to_ipv6_mapped()),
                    _ => return None,
                };
                let net = IpNet::truncating(addr, prefix).ok()?;
                self.bans.get(&net).map(|b| b.ban.until).filter(|&until| until > now)
            })
            .max()
    }

    /// One failed authentication (wrong password, unknown user, failed TOTP) from `ip`, for
    /// the user name the client sent if any. Returns the bans and lockouts it caused.
    pub fn record_failure(&mut self, ip: IpAddr, user: Option<&str>, now: UnixMillis) -> Vec<GuardAction> {
        let ip = canonical(ip);
        let mut actions = Vec::new();
        let already_banned = self.banned_until(ip, now).is_some();
        let key = self.source_key(ip);
        if !self.sources.contains_key(&key) {
            let cap = self.config.max_entries;
            evict_oldest(&mut self.sources, cap, |s| s.last_seen);
        }
        let cfg = &self.config;
        let source = self.sources.entry(key).or_insert_with(|| Source {
            failures: VecDeque::new(),
            repeat: 0,
            last_ban_until: None,
            last_seen: now,
        });
        source.last_seen = now;
        forget_before(&mut source.failures, now, cfg.window);
        if source
            .last_ban_until
            .is_some_and(|end| plus(end, cfg.repeat_memory) <= now)
        {
            source.repeat = 0;
            source.last_ban_until = None;
        }
        // A connection accepted before its source was banned may still report a failure:
        // it neither extends the ban nor counts towards the next one.
        if !already_banned {
            source.failures.push_back(now);
            let limit = usize::try_from(cfg.failures).unwrap_or(usize::MAX);
            while source.failures.len() > limit {
                source.failures.pop_front();
            }
            if source.failures.len() >= limit {
                let repeat = source.repeat.saturating_add(1);
                let until = plus(now, doubled(cfg.ban, repeat, cfg.max_ban));
                source.repeat = repeat;
                source.last_ban_until = Some(until);
                source.failures.clear();
                self.insert_ban(Ban { net: key, until, repeat }, Stored::Pending);
                actions.push(GuardAction::Banned { net: key, until, repeat });
            }
        }

        if let Some(user) = user {
            let user = user_key(user);
            let pair = (user.clone(), ip);
            if !self.backoffs.contains_key(&pair) {
                let cap = self.config.max_entries;
                evict_oldest(&mut self.backoffs, cap, |b| b.last_failure);
            }
            let window = self.config.window;
            let backoff = self.backoffs.entry(pair).or_insert(Backoff {
                consecutive: 0,
                last_failure: now,
            });
            if elapsed(now, backoff.last_failure) >= window {
                backoff.consecutive = 0;
            }
            backoff.consecutive = backoff.consecutive.saturating_add(1);
            backoff.last_failure = now;

            if self.config.account_failures > 0 && !self.is_known_good(&user, ip, now) {
                if let Some(until) = self.count_account_failure(&user, now) {
                    actions.push(GuardAction::AccountLocked { user, until });
                }
            }
        }
        actions
    }

    /// Counts a failure against `user`'s account; returns the new lock end if it locked.
    fn count_account_failure(&mut self, user: &str, now: UnixMillis) -> Option<UnixMillis> {
        if !self.accounts.contains_key(user) {
            let cap = self.config.max_entries;
            evict_oldest(&mut self.accounts, cap, |a| a.last_seen);
        }
        let cfg = &self.config;
        let account = self.accounts.entry(user.to_owned()).or_insert_with(|| Account {
            failures: VecDeque::new(),
            locked_until: None,
            last_seen: now,
        });
        account.last_seen = now;
        forget_before(&mut account.failures, now, cfg.window);
        if account.locked_until.is_some_and(|until| until > now) {
            return None;
        }
        account.failures.push_back(now);
        let limit = usize::try_from(cfg.account_failures).unwrap_or(usize::MAX);
        while account.failures.len() > limit {
            account.failures.pop_front();
        }
        if account.failures.len() < limit {
            return None;
        }
        let until = plus(now, cfg.ban);
        account.locked_until = Some(until);
        account.failures.clear();
        Some(until)
    }

    /// A successful authentication of `user` from `ip`: clears that pair's back-off and
    /// makes `ip` known-good for `user` (the account lockout never applies to it).
    pub fn record_success(&mut self, ip: IpAddr, user: &str, now: UnixMillis) {
        let ip = canonical(ip);
        let pair = (user_key(user), ip);
        self.backoffs.remove(&pair);
        if !self.known_good.contains_key(&pair) {
            let cap = self.config.max_entries;
            evict_oldest(&mut self.known_good, cap, |&at| at);
        }
        self.known_good.insert(pair, now);
    }

    /// How long an attempt for `user` from `ip` must still wait; `None`: it may proceed.
    /// The caller refuses (with the usual constant delay) an attempt made before then. The
    /// supervisor does pass that refusal to `record_failure`: no password was checked, but
    /// hammering during the back-off is what a guesser does, so it counts toward the
    /// source's ban (and lengthens the back-off).
    pub fn backoff(&self, ip: IpAddr, user: &str, now: UnixMillis) -> Option<Duration> {
        let ip = canonical(ip);
        let user = user_key(user);
        let cfg = &self.config;
        let mut wait_until: Option<UnixMillis> = None;
        let pair = (user, ip);
        if let Some(b) = self.backoffs.get(&pair) {
            if b.consecutive > 0 && elapsed(now, b.last_failure) < cfg.window {
                let delay = doubled(cfg.user_ip_backoff_base, b.consecutive, cfg.user_ip_backoff_max);
                wait_until = Some(plus(b.last_failure, delay));
            }
        }
        let (user, ip) = pair;
        if !self.is_known_good(&user, ip, now) {
            if let Some(until) = self.accounts.get(&user).and_then(|a| a.locked_until) {
                wait_until = wait_until.max(Some(until));
            }
        }
        wait_until.filter(|&until| until > now).map(|until| elapsed(until, now))
    }

    /// Whether `ip` has authenticated as `user` within `known_good_ttl`.
    pub fn is_known_good(&self, user: &str, ip: IpAddr, now: UnixMillis) -> bool {
        let pair = (user_key(user), canonical(ip));
        self.known_good
            .get(&pair)
            .is_some_and(|&at| elapsed(now, at) < self.config.known_good_ttl)
    }

    /// Bans `net` until `until` (an administrator's ban: `repeat` 0). Replaces any ban on
    /// exactly `net`, even a longer one. Like an automatic ban it is not yet written: the
    /// caller writes it and confirms with [`Guard::ban_written`].
    pub fn ban(&mut self, net: IpNet, until: UnixMillis) {
        self.remove_ban(&net);
        self.insert_ban(
            Ban {
                net,
                until,
                repeat: 0,
            },
            Stored::Pending,
        );
    }

    /// The ban on `net` ending at `until` (from a [`GuardAction::Banned`]) is now in the
    /// store: from the next sync on, its absence there means an administrator lifted it.
    /// A ban on `net` that has changed since (another `until`) is left as it is.
    pub fn ban_written(&mut self, net: IpNet, until: UnixMillis) {
        if let Some(held) = self.bans.get_mut(&net) {
            if held.ban.until == until && held.stored == Stored::Pending {
                self.writes = self.writes.saturating_add(1);
                held.stored = Stored::Since(self.writes);
            }
        }
    }

    /// Take this before reading the store's bans for [`Guard::sync_bans`].
    pub fn sync_mark(&self) -> SyncMark {
        SyncMark(self.writes)
    }

    /// Lifts the ban on exactly `net` and forgets that source's failures and repeat count.
    /// Returns whether a ban was there.
    pub fn unban(&mut self, net: IpNet) -> bool {
        self.sources.remove(&net);
        self.remove_ban(&net).is_some()
    }

    /// Bans in force at `now`, soonest to end first.
    pub fn bans(&self, now: UnixMillis) -> Vec<Ban> {
        let mut bans: Vec<Ban> = self.bans.values().map(|h| h.ban).filter(|b| b.until > now).collect();
        bans.sort_by_key(|b| (b.until, b.net));
        bans
    }

    /// Merges `stored`, the store's ban table (which the CLI also edits) as read after
    /// `mark` was taken ([`Guard::sync_mark`]):
    /// - a stored ban is taken as it is (an administrator may have shortened or lengthened
    ///   it), except over a ban decided here that is not yet written or was written after
    ///   `mark` (the row read is older than it);
    /// - a ban here that is missing from `stored` goes if it was confirmed in the store
    ///   before `mark` (an administrator lifted it: treated as [`Guard::unban`] while in
    ///   force), and stays if its write is not confirmed or was confirmed after `mark`.
    pub fn sync_bans(&mut self, stored: &[Ban], mark: SyncMark, now: UnixMillis) {
        // Decided or written here after the store was read: newer than what was read.
        let newer = |held: &HeldBan| match held.stored {
            Stored::Pending => true,
            Stored::Since(n) => n > mark.0,
        };
        let gone: Vec<(IpNet, bool)> = self
            .bans
            .values()
            .filter(|held| !newer(held))
            .filter(|held| !stored.iter().any(|b| b.net == held.ban.net))
            .map(|held| (held.ban.net, held.ban.until > now))
            .collect();
        for (net, in_force) in gone {
            self.remove_ban(&net);
            if in_force {
                self.sources.remove(&net);
            }
        }
        for ban in stored {
            self.seed_repeat(ban);
            if self.bans.get(&ban.net).is_some_and(newer) {
                continue;
            }
            self.remove_ban(&ban.net);
            self.insert_ban(*ban, Stored::Since(mark.0));
        }
    }

    /// Drops what no longer matters at `now`: ended bans, failures outside the window,
    /// repeat counts past `repeat_memory`, reset back-offs, expired known-good pairs.
    /// Call it now and then (e.g. every minute); correctness does not depend on it.
    pub fn prune(&mut self, now: UnixMillis) {
        let ended: Vec<IpNet> = self
            .bans
            .values()
            .filter(|h| h.ban.until <= now)
            .map(|h| h.ban.net)
            .collect();
        for net in ended {
            self.remove_ban(&net);
        }
        let cfg_window = self.config.window;
        let repeat_memory = self.config.repeat_memory;
        let ttl = self.config.known_good_ttl;
        self.sources.retain(|_, s| {
            forget_before(&mut s.failures, now, cfg_window);
            if s.last_ban_until.is_some_and(|end| plus(end, repeat_memory) <= now) {
                s.repeat = 0;
                s.last_ban_until = None;
            }
            !s.failures.is_empty() || s.repeat > 0
        });
        self.backoffs.retain(|_, b| elapsed(now, b.last_failure) < cfg_window);
        self.accounts.retain(|_, a| {
            forget_before(&mut a.failures, now, cfg_window);
            !a.failures.is_empty() || a.locked_until.is_some_and(|u| u > now)
        });
        self.known_good.retain(|_, &mut at| elapsed(now, at) < ttl);
    }

    /// The state worth keeping across a restart.
    pub fn snapshot(&self) -> GuardState {
        let mut bans: Vec<Ban> = self.bans.values().map(|h| h.ban).collect();
        bans.sort_by_key(|b| b.net);
        let mut repeats: Vec<RepeatRecord> = self
            .sources
            .iter()
            .filter_map(|(net, s)| {
                Some(RepeatRecord {
                    net: *net,
                    repeat: s.repeat,
                    last_ban_until: s.last_ban_until?,
                })
            })
            .filter(|r| r.repeat > 0)
            .collect();
        repeats.sort_by_key(|r| r.net);
        let mut known_good: Vec<KnownGood> = self
            .known_good
            .iter()
            .map(|((user, ip), at)| KnownGood {
                user: user.clone(),
                ip: *ip,
                at: *at,
            })
            .collect();
        known_good.sort_by(|a, b| (&a.user, a.ip).cmp(&(&b.user, b.ip)));
        let mut failures: Vec<FailureCount> = self
            .sources
            .iter()
            .map(|(net, s)| FailureCount {
                scope: FailureScope::Source(*net),
                times: s.failures.iter().copied().collect(),
                locked_until: None,
            })
            .chain(self.accounts.iter().map(|(user, a)| FailureCount {
                scope: FailureScope::Account(user.clone()),
                times: a.failures.iter().copied().collect(),
                locked_until: a.locked_until,
            }))
            .filter(|c| !c.is_empty())
            .collect();
        failures.sort_by(|a, b| a.scope.cmp(&b.scope));
        GuardState {
            bans,
            repeats,
            known_good,
            failures,
        }
    }

    /// The failure entries of `ip`'s source and of `user`'s account as they are now (an
    /// empty one: nothing left to keep), for the caller to persist after
    /// [`Guard::record_failure`].
    pub fn failure_counts(&self, ip: IpAddr, user: Option<&str>) -> Vec<FailureCount> {
        let key = self.source_key(canonical(ip));
        let mut counts = vec![FailureCount {
            scope: FailureScope::Source(key),
            times: self
                .sources
                .get(&key)
                .map(|s| s.failures.iter().copied().collect())
                .unwrap_or_default(),
            locked_until: None,
        }];
        if let Some(user) = user {
            let user = user_key(user);
            let account = self.accounts.get(&user);
            counts.push(FailureCount {
                scope: FailureScope::Account(user),
                times: account.map(|a| a.failures.iter().copied().collect()).unwrap_or_default(),
                locked_until: account.and_then(|a| a.locked_until),
            });
        }
        counts
    }

    /// Takes back a persisted [`FailureCount`] (from [`Guard::restore`]): at most the
    /// threshold's number of the newest failures.
    fn restore_failures(&mut self, count: FailureCount) {
        let mut times = count.times;
        times.sort_unstable();
        let newest = |limit: u32| -> VecDeque<UnixMillis> {
            let limit = usize::try_from(limit).unwrap_or(usize::MAX);
            times.iter().rev().take(limit).rev().copied().collect()
        };
        match count.scope {
            FailureScope::Source(net) => {
                let failures = newest(self.config.failures);
                let Some(&last) = failures.back() else { return };
                if !self.sources.contains_key(&net) {
                    let cap = self.config.max_entries;
                    evict_oldest(&mut self.sources, cap, |s| s.last_seen);
                }
                let source = self.sources.entry(net).or_insert_with(|| Source {
                    failures: VecDeque::new(),
                    repeat: 0,
                    last_ban_until: None,
                    last_seen: last,
                });
                source.failures = failures;
                source.last_seen = source.last_seen.max(last);
            }
            FailureScope::Account(user) => {
                if self.config.account_failures == 0 {
                    return;
                }
                let failures = newest(self.config.account_failures);
                let Some(last) = failures.back().copied().max(count.locked_until) else { return };
                let user = user_key(&user);
                if !self.accounts.contains_key(&user) {
                    let cap = self.config.max_entries;
                    evict_oldest(&mut self.accounts, cap, |a| a.last_seen);
                }
                self.accounts.insert(
                    user,
                    Account {
                        failures,
                        locked_until: count.locked_until,
                        last_seen: last,
                    },
                );
            }
        }
    }

    /// A guard with `state` (from [`Guard::snapshot`] or the store) under `config`. An
    /// automatic ban also restores its source's repeat count, so the next ban doubles. The
    /// bans count as being in the store (a sync that misses one lifts it). Failures older
    /// than the window are forgotten as usual, at their next use or prune.
    pub fn restore(state: GuardState, config: GuardConfig) -> Self {
        let mut guard = Self::new(config);
        for r in &state.repeats {
            guard.seed_repeat(&Ban {
                net: r.net,
                until: r.last_ban_until,
                repeat: r.repeat,
            });
        }
        for ban in &state.bans {
            guard.seed_repeat(ban);
            guard.insert_ban(*ban, Stored::Since(0));
        }
        for kg in state.known_good {
            let pair = (user_key(&kg.user), canonical(kg.ip));
            if !guard.known_good.contains_key(&pair) {
                let cap = guard.config.max_entries;
                evict_oldest(&mut guard.known_good, cap, |&at| at);
            }
            let at = guard.known_good.entry(pair).or_insert(kg.at);
            *at = (*at).max(kg.at);
        }
        for count in state.failures {
            guard.restore_failures(count);
        }
        guard
    }

    /// The network failures from `ip` are counted and banned under.
    pub fn source_key(&self, ip: IpAddr) -> IpNet {
        SourceKey::of(ip, self.config.ipv6_prefix).net()
    }

    /// Remembers an automatic ban's repeat count on its source.
    fn seed_repeat(&mut self, ban: &Ban) {
        if ban.repeat == 0 {
            return;
        }
        if !self.sources.contains_key(&ban.net) {
            let cap = self.config.max_entries;
            evict_oldest(&mut self.sources, cap, |s| s.last_seen);
        }
        let source = self.sources.entry(ban.net).or_insert_with(|| Source {
            failures: VecDeque::new(),
            repeat: 0,
            last_ban_until: None,
            last_seen: ban.until,
        });
        if source.last_ban_until.is_none_or(|end| end <= ban.until) {
            source.repeat = ban.repeat;
            source.last_ban_until = Some(ban.until);
        }
    }

    /// Adds `ban`, keeping the later end if `net` is already banned.
    fn insert_ban(&mut self, ban: Ban, stored: Stored) {
        if let Some(existing) = self.bans.get_mut(&ban.net) {
            if ban.until > existing.ban.until {
                *existing = HeldBan { ban, stored };
            }
            return;
        }
        // Full: drop the bans that end soonest (ended ones first).
        for net in oldest_keys(&self.bans, self.config.max_entries, |h| h.ban.until) {
            self.remove_ban(&net);
        }
        *self
            .ban_prefixes
            .entry((!ban.net.is_ipv4(), ban.net.prefix()))
            .or_insert(0) += 1;
        self.bans.insert(ban.net, HeldBan { ban, stored });
    }

    fn remove_ban(&mut self, net: &IpNet) -> Option<Ban> {
        let ban = self.bans.remove(net)?.ban;
        let key = (!net.is_ipv4(), net.prefix());
        if let Some(n) = self.ban_prefixes.get_mut(&key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.ban_prefixes.remove(&key);
            }
        }
        Some(ban)
    }
}

/// The key a user name is tracked under: lowercase, at most [`MAX_USER_KEY_CHARS`].
fn user_key(user: &str) -> String {
    user.chars().take(MAX_USER_KEY_CHARS).flat_map(char::to_lowercase).collect()
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn plus(t: UnixMillis, d: Duration) -> UnixMillis {
    UnixMillis(t.0.saturating_add(millis(d)))
}

/// Time from `since` to `now`; zero if the clock went backwards.
fn elapsed(now: UnixMillis, since: UnixMillis) -> Duration {
    let ms = now.0.saturating_sub(since.0).max(0);
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// `base * 2^(n-1)`, at most `cap` (n = 0 counts as 1).
fn doubled(base: Duration, n: u32, cap: Duration) -> Duration {
    let factor = 1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX);
    base.checked_mul(factor).unwrap_or(cap).min(cap)
}

/// Drops the times at the front that are `window` or more before `now`.
fn forget_before(times: &mut VecDeque<UnixMillis>, now: UnixMillis, window: Duration) {
    while times.front().is_some_and(|&t| elapsed(now, t) >= window) {
        times.pop_front();
    }
}

/// If `map` holds `cap` or more entries, removes the oldest sixteenth (at least one).
fn evict_oldest<K: Clone + Eq + Hash, V>(map: &mut HashMap<K, V>, cap: usize, age: impl Fn(&V) -> UnixMillis) {
    for key in oldest_keys(map, cap, age) {
        map.remove(&key);
    }
}

/// The keys [`evict_oldest`] would remove.
fn oldest_keys<K: Clone, V>(map: &HashMap<K, V>, cap: usize, age: impl Fn(&V) -> UnixMillis) -> Vec<K> {
    let cap = cap.max(1);
    if map.len() < cap {
        return Vec::new();
    }
    let count = (cap / 16).max(1).saturating_add(map.len() - cap).min(map.len());
    let mut aged: Vec<(UnixMillis, &K)> = map.iter().map(|(k, v)| (age(v), k)).collect();
    if count < aged.len() {
        aged.select_nth_unstable_by_key(count, |&(t, _)| t);
    }
    aged.into_iter().take(count).map(|(_, k)| k.clone()).collect()
}

#[cfg(test)]
mod tests;
