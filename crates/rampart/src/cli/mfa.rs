//! `rampart mfa enroll|reset|remove|status`: a user's TOTP secret and recovery codes, each
//! change audited. Enrollment prints the secret once (as text, URI and QR code) with the
//! recovery codes; the store keeps the secret sealed and the codes only as keyed hashes, so
//! nothing can show them again: a lost phone or printout means `rampart mfa reset`.

use std::fmt::Write as _;
use std::io::Write as _;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use rampart_audit::EventKind;
use rampart_auth::recovery::generate_codes;
use rampart_auth::totp::{TotpSecret, DIGITS, STEP_SECS};
use rampart_protocol::MfaMode;
use rampart_store::{Store, UserSummary};
use zeroize::Zeroizing;

use super::admin_change::{actor, record};
use super::qr;
use super::user::{format_utc, now};
use super::CommonArgs;
use crate::config::Config;

#[derive(Debug, Args)]
pub struct MfaArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: MfaCommand,
}

#[derive(Debug, Subcommand)]
enum MfaCommand {
    /// Enroll a user's authenticator app: prints the secret, its QR code and 10 recovery codes, once
    Enroll {
        name: String,
        /// Do not draw the QR code (the secret and URI are still printed)
        #[arg(long)]
        no_qr: bool,
    },
    /// Replace a user's secret and recovery codes (lost phone, used-up or exposed codes)
    Reset {
        name: String,
        /// Do not draw the QR code (the secret and URI are still printed)
        #[arg(long)]
        no_qr: bool,
    },
    /// Remove a user's secret and recovery codes
    Remove { name: String },
    /// Who is enrolled, since when, recovery codes left and the mode the config applies
    Status { name: Option<String> },
}

pub fn run(args: MfaArgs) -> anyhow::Result<()> {
    let cfg = args.common.load_config()?;
    let mut store = args.common.open_store(&cfg)?;
    match args.command {
        MfaCommand::Enroll { name, no_qr } => {
            // An enrolled user is refused by the store, in the enrolling transaction.
            let user = existing_user(&store, &name)?;
            enroll(&mut store, &cfg, &user.name, Enrollment::First, !no_qr)
        }
        MfaCommand::Reset { name, no_qr } => {
            let user = existing_user(&store, &name)?;
            let kind = if user.mfa_enrolled {
                Enrollment::Replace
            } else {
                Enrollment::First
            };
            enroll(&mut store, &cfg, &user.name, kind, !no_qr)
        }
        MfaCommand::Remove { name } => remove(&mut store, &cfg, &name),
        MfaCommand::Status { name } => status(&store, &cfg, name.as_deref()),
    }
}

fn existing_user(store: &Store, name: &str) -> anyhow::Result<rampart_store::UserRecord> {
    store.get_user(name)?.with_context(|| format!("no such user {name:?}"))
}

/// Whether an enrollment replaces an earlier secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Enrollment {
    First,
    Replace,
}

/// Gives `name` (the canonical name of an existing user) a new TOTP secret and recovery
/// codes, replacing any earlier ones, audits it and prints the enrollment block.
pub(super) fn enroll(store: &mut Store, cfg: &Config, name: &str, kind: Enrollment, qr: bool) -> anyhow::Result<()> {
    let secret = TotpSecret::generate();
    let codes = generate_codes();
    let now = now();
    match kind {
        // Checked again inside the store's transaction: the caller's check may be stale.
        Enrollment::First => store.enroll_new_totp(name, &secret, &codes, now)?,
        Enrollment::Replace => store.enroll_totp(name, &secret, &codes, now)?,
    }
    let what = match kind {
        Enrollment::First => "totp secret and recovery codes enrolled",
        Enrollment::Replace => "totp secret and recovery codes replaced",
    };
    record(store, now, EventKind::MfaEnrolled, Some(name), format!("{what}; {}", actor()))?;

    let issuer = &cfg.auth.mfa_issuer;
    let uri = Zeroizing::new(secret.otpauth_uri(issuer, name));
    // Everything is written into one (zeroized) buffer, then out in one go.
    let mut text = Zeroizing::new(String::new());
    let t = &mut *text;
    match kind {
        Enrollment::First => writeln!(t, "two-step verification for {name:?}:")?,
        Enrollment::Replace => writeln!(
            t,
            "replaced the two-step secret and recovery codes of {name:?}; the old ones no longer work:"
        )?,
    }
    writeln!(t, "  issuer:  {issuer}")?;
    writeln!(t, "  account: {name}")?;
    t.push_str("  secret:  ");
    group4(t, &Zeroizing::new(secret.to_base32()));
    writeln!(t, "   (manual entry: time-based, SHA-1, {DIGITS} digits, {STEP_SECS} s)")?;
    writeln!(t, "  URI:     {}", uri.as_str())?;
    if qr {
        writeln!(t)?;
        for row in qr::render(&uri, qr::Style::for_stdout())? {
            writeln!(t, "  {row}")?;
        }
    }
    writeln!(t)?;
    writeln!(t, "recovery codes (shown once, never again; each works once, typed instead of a 6-digit code):")?;
    for code in &codes {
        writeln!(t, "  {}", code.display().as_str())?;
    }
    writeln!(t)?;
    writeln!(
        t,
        "Scan the QR code with an authenticator app (Google Authenticator, Aegis, FreeOTP, \
         1Password...), then log in: after the password, type the 6-digit code."
    )?;
    writeln!(t, "keep the recovery codes offline (printed, or in a password manager), apart from the phone.")?;

    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .with_context(|| {
            format!("the secret was stored but could not be printed; run `rampart mfa reset {name}` for a new one")
        })?;
    Ok(())
}

/// Appends `ABCD EFGH IJKL ...`: easier to type into an app by hand.
fn group4(out: &mut String, base32: &str) {
    for (i, c) in base32.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
}

fn remove(store: &mut Store, cfg: &Config, name: &str) -> anyhow::Result<()> {
    let user = existing_user(store, name)?;
    if !store.remove_totp(&user.name)? {
        println!("{:?} has no second factor enrolled; nothing to remove", user.name);
        return Ok(());
    }
    record(
        store,
        now(),
        EventKind::MfaRemoved,
        Some(&user.name),
        format!("totp secret and recovery codes removed; {}", actor()),
    )?;
    println!("removed the TOTP secret and recovery codes of {:?}", user.name);
    if cfg.auth.policy.mfa_for(&user.name) == MfaMode::Required {
        eprintln!(
            "warning: two-step verification is required for {0} by the config: {0} can no longer log in \
             until enrolled again (`rampart mfa enroll {0}`)",
            user.name
        );
    }
    Ok(())
}

fn status(store: &Store, cfg: &Config, name: Option<&str>) -> anyhow::Result<()> {
    let mut users = store.list_users()?;
    if let Some(name) = name {
        users.retain(|u| u.name.eq_ignore_ascii_case(name));
        if users.is_empty() {
            bail!("no such user {name:?}");
        }
    } else if users.is_empty() {
        println!("no users; add one with: rampart user add NAME");
        return Ok(());
    }
    let rows: Vec<[String; 4]> = users.iter().map(|u| status_row(cfg, u)).collect();
    let headers = ["NAME", "MFA", "RECOVERY CODES LEFT", "MODE"];
    let width = |i: usize| {
        rows.iter()
            .filter_map(|r| r.get(i).map(String::len))
            .chain(headers.get(i).map(|h| h.len()))
            .max()
            .unwrap_or(0)
    };
    let (w0, w1, w2) = (width(0), width(1), width(2));
    println!("{:<w0$}  {:<w1$}  {:<w2$}  MODE", "NAME", "MFA", "RECOVERY CODES LEFT");
    for [user, mfa, codes, mode] in &rows {
        println!("{user:<w0$}  {mfa:<w1$}  {codes:<w2$}  {mode}");
    }
    Ok(())
}

/// NAME, MFA, RECOVERY CODES LEFT, MODE.
fn status_row(cfg: &Config, u: &UserSummary) -> [String; 4] {
    let mode = cfg.auth.policy.mfa_for(&u.name);
    let source = if cfg.auth.policy.user_mfa.contains_key(&u.name.to_lowercase()) {
        "[auth.users]"
    } else {
        "[auth]"
    };
    let (mfa, codes, mode) = match (u.mfa.enrolled, mode) {
        (Some(at), mode) => (
            format!("enrolled {} UTC", format_utc(at)),
            u.mfa.recovery_codes_left.to_string(),
            format!("{} ({source})", mode_name(mode)),
        ),
        (None, MfaMode::Required) => (
            "not enrolled".to_owned(),
            "-".to_owned(),
            format!("required ({source}): cannot log in until `rampart mfa enroll {}`", u.name),
        ),
        (None, MfaMode::Optional) => (
            "not enrolled".to_owned(),
            "-".to_owned(),
            format!("optional ({source}): password only"),
        ),
    };
    [u.name.clone(), mfa, codes, mode]
}

fn mode_name(mode: MfaMode) -> &'static str {
    match mode {
        MfaMode::Required => "required",
        MfaMode::Optional => "optional",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_grouping() {
        let grouped = |s: &str| {
            let mut out = String::new();
            group4(&mut out, s);
            out
        };
        assert_eq!(grouped("ABCDEFGHIJ"), "ABCD EFGH IJ");
        assert_eq!(grouped("ABCDEFGH"), "ABCD EFGH");
        assert_eq!(grouped(""), "");
    }
}
