//! `rampart user add|passwd|del|list|lock|unlock`: enrollment and account changes, each audited.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use rampart_audit::{EventKind, UnixMillis};
use rampart_auth::{validate_user_name, NtHash, PasswordPolicy};
use rampart_protocol::MfaMode;
use rampart_store::{NewUser, Store, UserSummary};

use super::password_input::{read_new_password, PasswordSource};
use super::admin_change::{actor, record};
use super::mfa::{self, Enrollment};
use super::{unix_accounts, CommonArgs};
use crate::config::Config;

#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Enroll a user; asks for the password twice on the terminal, then prints the
    /// two-step secret, its QR code and recovery codes (once)
    Add {
        /// RDP user name: lowercase letters, digits, '.', '_' and '-'
        name: String,
        /// Unix account the user's sessions run as [default: the same name]
        #[arg(long, value_name = "USER")]
        unix_user: Option<String>,
        /// Read the password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
        /// Do not enroll a second factor now (`rampart mfa enroll NAME` later)
        #[arg(long)]
        no_mfa: bool,
        /// Do not draw the QR code (the secret and URI are still printed)
        #[arg(long, conflicts_with = "no_mfa")]
        no_qr: bool,
    },
    /// Change a user's password
    Passwd {
        name: String,
        /// Read the password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
    },
    /// Delete a user
    #[command(visible_alias = "delete")]
    Del { name: String },
    /// List users (never shows credential material)
    List,
    /// Lock an account: new logins are refused until `unlock` (live connections are closed)
    Lock {
        name: String,
        /// Also end the user's desktop session on the running server (its programs end)
        #[arg(long)]
        end_session: bool,
    },
    /// Unlock an account
    Unlock { name: String },
}

pub fn run(args: UserArgs) -> anyhow::Result<()> {
    let cfg = args.common.load_config()?;
    let mut store = args.common.open_store(&cfg)?;
    match args.command {
        UserCommand::Add {
            name,
            unix_user,
            password_stdin,
            no_mfa,
            no_qr,
        } => {
            let mfa = if no_mfa { None } else { Some(!no_qr) };
            add(&mut store, &cfg, &name, unix_user.as_deref(), source(password_stdin), mfa)
        }
        UserCommand::Passwd { name, password_stdin } => passwd(&mut store, &name, source(password_stdin)),
        UserCommand::Del { name } => delete(&mut store, &name),
        UserCommand::List => list(&store, &cfg),
        UserCommand::Lock { name, end_session } => {
            set_locked(&mut store, &name, true)?;
            if end_session {
                end_desktop(&cfg, &store, &name)?;
            }
            Ok(())
        }
        UserCommand::Unlock { name } => set_locked(&mut store, &name, false),
    }
}

fn source(password_stdin: bool) -> PasswordSource {
    if password_stdin {
        PasswordSource::Stdin
    } else {
        PasswordSource::Terminal
    }
}

fn add(
    store: &mut Store,
    cfg: &Config,
    name: &str,
    unix_user: Option<&str>,
    source: PasswordSource,
    // `Some(draw the QR code)`: enroll a second factor right away.
    mfa: Option<bool>,
) -> anyhow::Result<()> {
    validate_user_name(name)?;
    let unix_user = unix_user.unwrap_or(name);
    let account = unix_accounts::lookup(unix_user)?
        .with_context(|| format!("unix user {unix_user:?} does not exist; create it first or pass --unix-user"))?;
    // Checked before asking for a password, so nobody types one for nothing.
    if let Some(existing) = store.get_user(name)? {
        bail!("user {:?} already exists", existing.name);
    }
    let password = read_new_password(source, name)?;
    PasswordPolicy::default().check(name, &password)?;
    let now = now();
    store.add_user(&NewUser {
        name: name.to_owned(),
        unix_user: account.name.clone(),
        nt_hash: NtHash::from_password(&password),
        now,
    })?;
    record(store, now, EventKind::UserAdded, Some(name), actor())?;

    println!("added user {name:?} (sessions run as unix user {:?})", account.name);
    if account.uid == 0 {
        eprintln!(
            "warning: {name:?} maps to a root account: the server refuses it a desktop unless [session] allow_root = true"
        );
    }
    match mfa {
        Some(qr) => {
            println!();
            mfa::enroll(store, cfg, name, Enrollment::First, qr).with_context(|| {
                format!("the user was added, but not its second factor: run `rampart mfa enroll {name}`")
            })?;
            println!();
        }
        None => match cfg.auth.policy.mfa_for(name) {
            MfaMode::Required => println!(
                "note: no second factor enrolled; with [auth] mfa = \"required\" {name} cannot log in \
                 until `rampart mfa enroll {name}`"
            ),
            MfaMode::Optional => println!(
                "note: no second factor enrolled; MFA is optional for {name}, so the password alone \
                 logs in (`rampart mfa enroll {name}` adds one)"
            ),
        },
    }
    let host = host_for_hint(cfg);
    println!("connect with:");
    println!("  xfreerdp /v:{host} /u:{name} /sec:nla");
    println!("  mstsc /v:{host}    (Windows; user name {name})");
    Ok(())
}

fn passwd(store: &mut Store, name: &str, source: PasswordSource) -> anyhow::Result<()> {
    let Some(user) = store.get_user(name)? else {
        bail!("no such user {name:?}");
    };
    let password = read_new_password(source, &user.name)?;
    PasswordPolicy::default().check(&user.name, &password)?;
    let hash = NtHash::from_password(&password);
    if hash.as_bytes() == user.nt_hash.as_bytes() {
        bail!("the new password is the same as the current one");
    }
    let now = now();
    store.set_nt_hash(&user.name, &hash, now)?;
    record(store, now, EventKind::PasswordChanged, Some(&user.name), actor())?;
    println!("changed the password of {:?}", user.name);
    Ok(())
}

fn delete(store: &mut Store, name: &str) -> anyhow::Result<()> {
    let Some(user) = store.get_user(name)? else {
        bail!("no such user {name:?}");
    };
    store.delete_user(&user.name)?;
    record(store, now(), EventKind::UserDeleted, Some(&user.name), actor())?;
    println!("deleted user {:?}", user.name);
    Ok(())
}

fn set_locked(store: &mut Store, name: &str, locked: bool) -> anyhow::Result<()> {
    let Some(user) = store.get_user(name)? else {
        bail!("no such user {name:?}");
    };
    let (state, kind) = if locked {
        ("locked", EventKind::UserLocked)
    } else {
        ("unlocked", EventKind::UserUnlocked)
    };
    if !store.set_locked(&user.name, locked)? {
        println!("{:?} is already {state}", user.name);
        return Ok(());
    }
    record(store, now(), kind, Some(&user.name), actor())?;
    if locked {
        println!("locked {:?}: new logins are refused until `rampart user unlock {}`", user.name, user.name);
    } else {
        println!("unlocked {:?}", user.name);
    }
    Ok(())
}

/// `user lock --end-session`: the running server ends the user's desktop (audited there,
/// with who asked).
fn end_desktop(cfg: &Config, store: &Store, name: &str) -> anyhow::Result<()> {
    let canonical = store.get_user(name)?.map_or_else(|| name.to_owned(), |u| u.name);
    let target = rampart_protocol::control::EndTarget::User(canonical.clone());
    match super::session::end(cfg, target, "account locked (rampart user lock --end-session)") {
        Ok(_) => Ok(()),
        Err(err) => {
            let text = format!("{err:#}");
            if text.starts_with("no session of user") {
                println!("{canonical:?} has no desktop session to end");
                Ok(())
            } else if text.starts_with("no running server") {
                println!("no running server: {canonical:?} has no desktop session to end");
                Ok(())
            } else {
                Err(err.context("the account is locked, but its desktop session was not ended"))
            }
        }
    }
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

fn list(store: &Store, cfg: &Config) -> anyhow::Result<()> {
    let users = store.list_users()?;
    if users.is_empty() {
        println!("no users; add one with: rampart user add NAME");
        return Ok(());
    }
    let now = now();
    let max_age = cfg.auth.policy.max_password_age;
    let rows: Vec<[String; 7]> = users.iter().map(|u| list_row(u, now, max_age)).collect();
    let headers = ["NAME", "UNIX USER", "CREATED", "PASSWORD CHANGED", "PASSWORD AGE", "LOCKED", "MFA"];
    let widths: Vec<usize> = (0..headers.len())
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i).map(String::len))
                .chain(headers.get(i).map(|h| h.len()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let print_row = |cells: &[&str]| {
        let mut line = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                line.push_str(cell);
            } else {
                let w = widths.get(i).copied().unwrap_or(0);
                line.push_str(&format!("{cell:<w$}  "));
            }
        }
        println!("{}", line.trim_end());
    };
    print_row(&headers);
    for row in &rows {
        print_row(&row.each_ref().map(String::as_str));
    }
    Ok(())
}

/// NAME, UNIX USER, CREATED, PASSWORD CHANGED, PASSWORD AGE, LOCKED, MFA.
fn list_row(u: &UserSummary, now: UnixMillis, max_age: Option<std::time::Duration>) -> [String; 7] {
    let age_ms = now.0.saturating_sub(u.password_changed.0).max(0);
    // As the server decides at login: older than the maximum is expired.
    let expired = max_age.is_some_and(|max| u128::try_from(age_ms).unwrap_or(0) > max.as_millis());
    let mut age = format!("{}d", age_ms / DAY_MS);
    if expired {
        age.push_str(" expired");
    }
    let mfa = match u.mfa.enrolled {
        Some(_) => format!("enrolled, {} recovery codes left", u.mfa.recovery_codes_left),
        None => "none".to_owned(),
    };
    [
        u.name.clone(),
        u.unix_user.clone(),
        format_utc(u.created),
        format_utc(u.password_changed),
        age,
        if u.locked { "yes" } else { "no" }.to_owned(),
        mfa,
    ]
}

pub(super) fn now() -> UnixMillis {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    UnixMillis(millis)
}

/// What to put after `/v:` in the hint: this host's name, and the port if not 3389.
fn host_for_hint(cfg: &Config) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "HOST".to_owned());
    match cfg.server.listen.port() {
        3389 => host,
        port => format!("{host}:{port}"),
    }
}

/// `YYYY-MM-DD HH:MM:SS` in UTC.
pub(super) fn format_utc(t: UnixMillis) -> String {
    t.format_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formatting() {
        assert_eq!(format_utc(UnixMillis(0)), "1970-01-01 00:00:00");
        assert_eq!(format_utc(UnixMillis(1_700_000_000_123)), "2023-11-14 22:13:20");
        assert_eq!(format_utc(UnixMillis(951_782_400_000)), "2000-02-29 00:00:00");
        assert_eq!(format_utc(UnixMillis(-1000)), "1969-12-31 23:59:59");
    }
}
