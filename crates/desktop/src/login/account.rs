//! Whether a Unix account may have a desktop now: the facts (`/etc/shadow`, the nologin
//! files, the uid) and a pure decision on them with the day injected.
//!
//! PAM's account step (pam_unix, pam_nologin in the `rampart` service) decides the same
//! for a new login, but it runs only where a session starts. This check runs for every
//! connection, resumed sessions and shadow mode included, and it also refuses a locked
//! password, which pam_unix's account step does not look at.
//!
//! Locked means what `passwd -l` and `usermod -L` make: a `!` put in front of the password
//! field (`!$y$…`, `!*`). A field that is exactly `!` or `*` is an account that never had a
//! password (what `useradd` leaves); Rampart users log in with Rampart's own password, so
//! that is no reason to refuse. `usermod -L` leaves such a field unchanged: disable those
//! accounts with an expiry date (`usermod -e 1`, `chage -E 0`), as usermod(8) advises.

use std::fmt;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::{DesktopError, UnixAccount};

/// Files whose existence disables logins of every account but root (pam_nologin's list).
pub const NOLOGIN_FILES: [&str; 2] = ["/etc/nologin", "/var/run/nologin"];

/// Why an account gets no desktop. The `Display` text is the audit reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LoginRefusal {
    /// The account is root and `[session] allow_root` is off.
    Root,
    /// `/etc/nologin` (or `/var/run/nologin`) exists.
    NoLogin,
    /// The shadow expiry date has passed (or PAM's account step says so).
    Expired,
    /// The password field carries the lock mark.
    Locked,
    /// PAM's account step refused for another reason (pam_nologin, pam_access, pam_time…).
    PamAccount { detail: String },
}

impl fmt::Display for LoginRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root => f.write_str("unix account is root (uid 0) and [session] allow_root is off"),
            Self::NoLogin => f.write_str("logins are disabled (/etc/nologin exists)"),
            Self::Expired => f.write_str("unix account expired"),
            Self::Locked => f.write_str("unix account locked"),
            Self::PamAccount { detail } => write!(f, "pam account check refused: {detail}"),
        }
    }
}

/// The fields of a shadow(5) entry that decide a login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShadowEntry {
    /// The password field carries the lock mark (see the module docs).
    pub locked: bool,
    /// Day (since 1970-01-01) from which the account is expired; `None`: never.
    pub expire_day: Option<i64>,
}

impl ShadowEntry {
    /// Finds `name` in the text of a shadow file. `None` when there is no entry (accounts
    /// from NSS sources other than files; PAM still checks them).
    pub fn from_shadow(text: &str, name: &str) -> Option<Self> {
        if name.is_empty() {
            return None;
        }
        text.lines().find_map(|line| {
            let mut fields = line.split(':');
            if fields.next() != Some(name) {
                return None;
            }
            let password = fields.next().unwrap_or("");
            // lastchg, min, max, warn, inactive, then expire.
            let expire = fields.nth(5).unwrap_or("").trim();
            Some(Self {
                locked: password.len() > 1 && password.starts_with('!'),
                // An unparsable date is treated as expired: refusing is the safe reading
                // of a field nobody can interpret.
                expire_day: if expire.is_empty() {
                    None
                } else {
                    Some(expire.parse().unwrap_or(0))
                },
            })
        })
    }
}

/// Everything the decision needs about one account at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountFacts {
    pub uid: u32,
    pub shadow: Option<ShadowEntry>,
    /// A nologin file exists.
    pub nologin: bool,
}

/// The first reason `facts` forbid a login on `today` (days since 1970-01-01), if any.
/// Root is refused unless `allow_root`; nologin does not apply to root (as in login and
/// pam_nologin). An expiry date of 0 or earlier counts as passed, as pam_unix reads it.
pub fn refusal(facts: &AccountFacts, today: i64, allow_root: bool) -> Option<LoginRefusal> {
    if facts.uid == 0 && !allow_root {
        return Some(LoginRefusal::Root);
    }
    if facts.nologin && facts.uid != 0 {
        return Some(LoginRefusal::NoLogin);
    }
    let shadow = facts.shadow.as_ref()?;
    if shadow.expire_day.is_some_and(|day| today >= day) {
        return Some(LoginRefusal::Expired);
    }
    shadow.locked.then_some(LoginRefusal::Locked)
}

/// Days since 1970-01-01 at `now` (UTC, as shadow(5) counts them).
pub fn day_of(now: SystemTime) -> i64 {
    let secs = match now.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    };
    secs.div_euclid(86_400)
}

/// Reads the facts about `account` from this host: `/etc/shadow` (needs root; without it,
/// or without an entry, only PAM judges expiry) and the nologin files.
pub fn read_facts(account: &UnixAccount) -> Result<AccountFacts, DesktopError> {
    let shadow = match std::fs::read_to_string("/etc/shadow") {
        Ok(text) => ShadowEntry::from_shadow(&text, &account.name),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) if rustix::process::geteuid().is_root() => {
            return Err(DesktopError::io("reading /etc/shadow", e));
        }
        Err(_) => None,
    };
    Ok(AccountFacts {
        uid: account.uid,
        shadow,
        nologin: NOLOGIN_FILES.iter().any(|f| Path::new(f).exists()),
    })
}

/// Refuses `account` now if its facts say so.
pub fn check(account: &UnixAccount, allow_root: bool, now: SystemTime) -> Result<(), DesktopError> {
    match refusal(&read_facts(account)?, day_of(now), allow_root) {
        Some(refused) => Err(DesktopError::LoginRefused(refused)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHADOW: &str = "root:*:20228:0:99999:7:::\n\
        nopass:!:20789::::::\n\
        star:*:20789::::::\n\
        alice:$y$j9T$abc$def:20789:0:99999:7:::\n\
        locked:!$y$j9T$abc$def:20789:0:99999:7:::\n\
        lockedstar:!*:20789::::::\n\
        expired:$y$x:20789:0:99999:7::0:\n\
        later:$y$x:20789:0:99999:7::30000:\n\
        garbled:$y$x:20789:0:99999:7::soon:\n";

    fn entry(name: &str) -> ShadowEntry {
        ShadowEntry::from_shadow(SHADOW, name).unwrap()
    }

    fn facts(uid: u32, name: &str, nologin: bool) -> AccountFacts {
        AccountFacts {
            uid,
            shadow: ShadowEntry::from_shadow(SHADOW, name),
            nologin,
        }
    }

    const TODAY: i64 = 20_800;

    #[test]
    fn shadow_fields() {
        assert_eq!(entry("alice"), ShadowEntry { locked: false, expire_day: None });
        assert_eq!(entry("locked"), ShadowEntry { locked: true, expire_day: None });
        assert!(entry("lockedstar").locked);
        // What useradd leaves is no password, not a lock.
        assert!(!entry("nopass").locked);
        assert!(!entry("star").locked);
        assert_eq!(entry("expired").expire_day, Some(0));
        assert_eq!(entry("later").expire_day, Some(30_000));
        assert_eq!(entry("garbled").expire_day, Some(0), "unreadable expiry is expired");
        assert_eq!(ShadowEntry::from_shadow(SHADOW, "bob"), None);
        assert_eq!(ShadowEntry::from_shadow(SHADOW, "alic"), None);
        assert_eq!(ShadowEntry::from_shadow(SHADOW, ""), None);
        // A short line is no expiry rather than a panic.
        assert_eq!(ShadowEntry::from_shadow("short:!x", "short"), Some(ShadowEntry { locked: true, expire_day: None }));
    }

    #[test]
    fn decisions() {
        assert_eq!(refusal(&facts(1000, "alice", false), TODAY, false), None);
        assert_eq!(refusal(&facts(1000, "nopass", false), TODAY, false), None);
        assert_eq!(refusal(&facts(1000, "locked", false), TODAY, false), Some(LoginRefusal::Locked));
        assert_eq!(refusal(&facts(1000, "lockedstar", false), TODAY, false), Some(LoginRefusal::Locked));
        assert_eq!(refusal(&facts(1000, "expired", false), TODAY, false), Some(LoginRefusal::Expired));
        assert_eq!(refusal(&facts(1000, "later", false), TODAY, false), None);
        assert_eq!(refusal(&facts(1000, "later", false), 30_000, false), Some(LoginRefusal::Expired), "expires on its day");
        assert_eq!(refusal(&facts(1000, "later", false), 29_999, false), None);
        // No shadow entry: nothing to judge here (PAM still does).
        assert_eq!(refusal(&facts(1000, "bob", false), TODAY, false), None);
        assert_eq!(refusal(&facts(1000, "bob", true), TODAY, false), Some(LoginRefusal::NoLogin));
    }

    #[test]
    fn root_and_nologin() {
        assert_eq!(refusal(&facts(0, "root", false), TODAY, false), Some(LoginRefusal::Root));
        assert_eq!(refusal(&facts(0, "root", false), TODAY, true), None);
        // nologin stops everyone but root, as login and pam_nologin do.
        assert_eq!(refusal(&facts(0, "root", true), TODAY, true), None);
        assert_eq!(refusal(&facts(1000, "alice", true), TODAY, true), Some(LoginRefusal::NoLogin));
        // Root's refusal comes first whatever else holds.
        assert_eq!(refusal(&facts(0, "expired", true), TODAY, false), Some(LoginRefusal::Root));
    }

    #[test]
    fn reasons_read_well() {
        assert_eq!(LoginRefusal::Expired.to_string(), "unix account expired");
        assert_eq!(LoginRefusal::Locked.to_string(), "unix account locked");
        assert!(LoginRefusal::Root.to_string().contains("allow_root"));
        assert!(LoginRefusal::NoLogin.to_string().contains("/etc/nologin"));
        let pam = LoginRefusal::PamAccount { detail: "Permission denied".into() };
        assert_eq!(pam.to_string(), "pam account check refused: Permission denied");
    }

    #[test]
    fn days() {
        assert_eq!(day_of(UNIX_EPOCH), 0);
        assert_eq!(day_of(UNIX_EPOCH + std::time::Duration::from_secs(86_399)), 0);
        assert_eq!(day_of(UNIX_EPOCH + std::time::Duration::from_secs(86_400)), 1);
        assert_eq!(day_of(UNIX_EPOCH - std::time::Duration::from_secs(1)), -1);
    }
}
