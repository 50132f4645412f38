//! `rampart access open|close|status`: just-in-time access grants in the store, each change
//! audited, and a report of what the access windows and grants make of the port now.
//!
//! The store's `access_grants` table is the one list: the server polls it, so a grant made
//! or withdrawn here reaches a running server without a restart. The windows themselves are
//! configuration (`[access]`).

use std::time::Duration;

use clap::{Args, Subcommand};
use rampart_audit::{EventKind, UnixMillis};
use rampart_policy::{decide, next_review, user_allowed, AccessGrant, AccessState, IpNet};
use rampart_store::{AccessGrantRecord, Store};

use super::ban::parse_duration;
use super::user::{format_utc, now};
use super::admin_change::{actor, one_line, record};
use super::CommonArgs;
use crate::config::{parse_net, AccessConfig, Config};

/// Longest grant `--for` accepts: just in time means hours, not months; a standing need
/// belongs in the configured windows.
const MAX_GRANT_FOR: Duration = Duration::from_secs(7 * 24 * 60 * 60);

#[derive(Debug, Args)]
pub struct AccessArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: AccessCommand,
}

#[derive(Debug, Subcommand)]
enum AccessCommand {
    /// Open the port now, outside the access windows, for a while (at most 7d)
    Open {
        /// How long: a number with s, m, h or d (30m, 2h, 1d)
        #[arg(long = "for", value_name = "DURATION", value_parser = parse_grant_duration)]
        duration: Duration,
        /// Only for this address or network; other sources stay shut out
        #[arg(long, value_name = "ADDR|CIDR")]
        from: Option<String>,
        /// Why, for the status and the audit trail
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Withdraw every grant: the access windows apply again
    Close,
    /// Whether the port is open now, the grants and windows, and when that changes
    Status {
        /// Also say whether this user's own windows let them log in now
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
    },
}

pub fn run(args: AccessArgs) -> anyhow::Result<()> {
    let cfg = args.common.load_config()?;
    let mut store = args.common.open_store(&cfg)?;
    let now = now();
    match args.command {
        AccessCommand::Open {
            duration,
            from,
            reason,
        } => open(&mut store, &cfg, duration, from.as_deref(), reason.as_deref(), now),
        AccessCommand::Close => close(&mut store, &cfg, now),
        AccessCommand::Status { user } => status(&store, &cfg, user.as_deref(), now),
    }
}

fn open(
    store: &mut Store,
    cfg: &Config,
    duration: Duration,
    from: Option<&str>,
    reason: Option<&str>,
    now: UnixMillis,
) -> anyhow::Result<()> {
    let net = from.map(|v| parse_net(v).map_err(|why| anyhow::anyhow!("{why}"))).transpose()?;
    let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
    let until = UnixMillis(now.0.saturating_add(millis));
    let reason = match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(text) => format!("manual: {} ({})", one_line(text), actor()),
        None => format!("manual ({})", actor()),
    };
    let net_text = net.map(|n| n.to_string());
    store.put_access_grant(net_text.as_deref(), until, now, &reason)?;
    let sources = net_text.as_deref().unwrap_or("every allowed source");
    let ends = format_utc(until);
    record(store, now, EventKind::AccessOpened, None, format!("{sources} until {ends} UTC; {reason}"))?;
    println!("opened access for {sources} until {ends} UTC");
    if cfg.access.schedule.is_none() {
        eprintln!("note: no access windows are configured ([access] windows), so the port is open all the time anyway");
    }
    if let Some(net) = net {
        let policy = &cfg.guard.policy;
        if !policy.allow.iter().any(|allowed| covers(*allowed, net)) {
            eprintln!(
                "warning: {net} is not inside the source allowlist ([guard] allow): a grant opens the port, \
                 it does not admit sources the allowlist refuses"
            );
        }
        if policy.deny.iter().any(|denied| denied.contains(net.addr()) || covers(net, *denied)) {
            eprintln!("warning: {net} overlaps the denylist ([guard] deny), which still applies");
        }
    }
    Ok(())
}

fn close(store: &mut Store, cfg: &Config, now: UnixMillis) -> anyhow::Result<()> {
    let withdrawn = store.clear_access_grants(now)?;
    record(
        store,
        now,
        EventKind::AccessClosed,
        None,
        format!("{withdrawn} grant(s) withdrawn; {}", actor()),
    )?;
    let state = decide(cfg.access.schedule.as_ref(), &[], now);
    let what = match withdrawn {
        0 => "no access grants were in force".to_owned(),
        1 => "withdrew 1 access grant".to_owned(),
        n => format!("withdrew {n} access grants"),
    };
    println!("{what}; the port is now {}", describe(&state));
    Ok(())
}

fn status(store: &Store, cfg: &Config, user: Option<&str>, now: UnixMillis) -> anyhow::Result<()> {
    let records = store.access_grants(now)?;
    let grants = grants_from_records(&records);
    let schedule = cfg.access.schedule.as_ref();
    let state = decide(schedule, &grants, now);
    let reason = match (&state, schedule) {
        (AccessState::Open, None) => " (no access windows configured)",
        (AccessState::Open, Some(s)) if s.is_open(now) => " (inside the access windows)",
        (AccessState::Open | AccessState::OpenFor(_), Some(_)) => " (access grant)",
        _ => "",
    };
    println!("port: {}{reason}", describe(&state));
    match schedule {
        Some(s) => {
            println!("windows: {s}");
            println!("local time: {} {}", s.zone().format_local(now), s.zone());
        }
        None => println!("windows: none (always open)"),
    }
    if records.is_empty() {
        println!("grants: none");
    } else {
        println!("grants:");
        let width = records
            .iter()
            .map(|r| r.net.as_deref().map_or(3, str::len))
            .max()
            .unwrap_or(0);
        for record in &records {
            let net = record.net.as_deref().unwrap_or("any");
            println!("  {net:<width$}  until {} UTC  {}", format_utc(record.until), record.reason);
        }
    }
    match next_review(schedule, &grants, now) {
        Some(at) => {
            let then = decide(schedule, &grants, at);
            println!("next change: {} UTC, then {}", format_utc(at), describe(&then));
        }
        None => println!("next change: none"),
    }
    if let Some(name) = user {
        print_user(&cfg.access, name, now);
    }
    Ok(())
}

fn print_user(access: &AccessConfig, name: &str, now: UnixMillis) {
    match access.user_schedule(name) {
        None => println!("user {name}: no windows of their own"),
        Some(s) => {
            let verdict = if user_allowed(Some(s), now) { "may" } else { "may not" };
            println!("user {name}: {verdict} log in now (windows: {s})");
        }
    }
}

/// The grants the server would act on: unparsable networks (a damaged row) open nothing.
fn grants_from_records(records: &[AccessGrantRecord]) -> Vec<AccessGrant> {
    records
        .iter()
        .filter_map(|r| match &r.net {
            None => Some(AccessGrant { net: None, until: r.until }),
            Some(text) => match text.parse::<IpNet>() {
                Ok(net) => Some(AccessGrant {
                    net: Some(net),
                    until: r.until,
                }),
                Err(err) => {
                    eprintln!("warning: ignoring access grant {} with bad network {text:?}: {err}", r.id);
                    None
                }
            },
        })
        .collect()
}

fn describe(state: &AccessState) -> String {
    match state {
        AccessState::Open => "open".to_owned(),
        AccessState::OpenFor(nets) => {
            let nets: Vec<String> = nets.iter().map(ToString::to_string).collect();
            format!("open for {} only", nets.join(", "))
        }
        AccessState::Closed { next_open: Some(at) } => format!("closed until {} UTC", format_utc(*at)),
        AccessState::Closed { next_open: None } => "closed".to_owned(),
    }
}

/// Whether `outer` contains all of `inner`.
fn covers(outer: IpNet, inner: IpNet) -> bool {
    outer.contains(inner.addr()) && (outer.prefix() <= inner.prefix() || outer.is_ipv4() != inner.is_ipv4())
}


/// Like `ban --for`, at most 7d.
fn parse_grant_duration(v: &str) -> Result<Duration, String> {
    let too_long = || "the duration must be at most 7d".to_owned();
    match parse_duration(v) {
        Ok(d) if d > MAX_GRANT_FOR => Err(too_long()),
        Ok(d) => Ok(d),
        Err(why) if why.contains("at most") => Err(too_long()),
        Err(why) => Err(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_durations() {
        assert_eq!(parse_grant_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_grant_duration("7d"), Ok(MAX_GRANT_FOR));
        assert_eq!(parse_grant_duration("8d"), Err("the duration must be at most 7d".to_owned()));
        assert_eq!(parse_grant_duration("9999d"), Err("the duration must be at most 7d".to_owned()));
        assert!(parse_grant_duration("0h").unwrap_err().contains("more than zero"));
        assert!(parse_grant_duration("2 hours").is_err());
    }

    #[test]
    fn coverage() {
        let net = |s: &str| s.parse::<IpNet>().unwrap();
        assert!(covers(net("10.0.0.0/8"), net("10.1.0.0/16")));
        assert!(covers(net("10.0.0.0/8"), net("10.1.2.3")));
        assert!(!covers(net("10.1.0.0/16"), net("10.0.0.0/8")));
        assert!(!covers(net("10.0.0.0/8"), net("192.0.2.0/24")));
        assert!(covers(net("::/0"), net("192.0.2.0/24")), "IPv6 ::/0 covers the mapped range");
        assert!(!covers(net("fc00::/7"), net("10.0.0.0/8")));
    }

    #[test]
    fn states_read_well() {
        assert_eq!(describe(&AccessState::Open), "open");
        let nets = vec!["192.0.2.0/24".parse().unwrap(), "2001:db8::/48".parse().unwrap()];
        assert_eq!(describe(&AccessState::OpenFor(nets)), "open for 192.0.2.0/24, 2001:db8::/48 only");
        assert_eq!(
            describe(&AccessState::Closed {
                next_open: Some(UnixMillis(1_704_700_800_000))
            }),
            "closed until 2024-01-08 08:00:00 UTC"
        );
        assert_eq!(describe(&AccessState::Closed { next_open: None }), "closed");
    }
}
