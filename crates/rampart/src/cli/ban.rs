//! `rampart ban list|add|del`: the source bans in the store, each change audited.
//!
//! The store's `bans` table is the one list: the server writes its automatic bans there and
//! polls it, so a ban added or lifted here reaches a running server without a restart.

use std::time::Duration;

use anyhow::bail;
use clap::{Args, Subcommand};
use rampart_audit::{EventKind, UnixMillis};
use rampart_policy::IpNet;
use rampart_store::Store;

use super::user::{format_utc, now};
use super::admin_change::{actor, one_line, record};
use super::CommonArgs;
use crate::config::parse_net;

/// Longest manual ban `--for` accepts: ten years is "forever" without overflow games.
const MAX_BAN_FOR: Duration = Duration::from_secs(10 * 365 * 24 * 60 * 60);

#[derive(Debug, Args)]
pub struct BanArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: BanCommand,
}

#[derive(Debug, Subcommand)]
enum BanCommand {
    /// List the bans in force: network, end (UTC), reason
    List,
    /// Ban an address or network (e.g. 203.0.113.7, 198.51.100.0/24, 2001:db8::/48)
    Add {
        #[arg(value_name = "ADDR|CIDR")]
        net: String,
        /// How long: a number with s, m, h or d (30m, 2h, 1d)
        #[arg(long = "for", value_name = "DURATION", default_value = "24h", value_parser = parse_duration)]
        duration: Duration,
        /// Why, for the list and the audit trail
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Lift the ban on exactly this address or network
    #[command(visible_alias = "delete")]
    Del {
        #[arg(value_name = "ADDR|CIDR")]
        net: String,
    },
}

pub fn run(args: BanArgs) -> anyhow::Result<()> {
    let cfg = args.common.load_config()?;
    let mut store = args.common.open_store(&cfg)?;
    match args.command {
        BanCommand::List => list(&store, now()),
        BanCommand::Add { net, duration, reason } => add(&mut store, &net, duration, reason.as_deref(), now()),
        BanCommand::Del { net } => delete(&mut store, &net, now()),
    }
}

fn list(store: &Store, now: UnixMillis) -> anyhow::Result<()> {
    let bans: Vec<_> = store.bans()?.into_iter().filter(|b| b.until > now).collect();
    if bans.is_empty() {
        println!("no bans");
        return Ok(());
    }
    let width = bans.iter().map(|b| b.net.len()).max().unwrap_or(0);
    for ban in &bans {
        println!("{:<width$}  until {} UTC  {}", ban.net, format_utc(ban.until), ban.reason);
    }
    Ok(())
}

fn add(
    store: &mut Store,
    net: &str,
    duration: Duration,
    reason: Option<&str>,
    now: UnixMillis,
) -> anyhow::Result<()> {
    let net = parse_address(net)?;
    let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
    let until = UnixMillis(now.0.saturating_add(millis));
    let reason = match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(text) => format!("manual: {} ({})", one_line(text), actor()),
        None => format!("manual ({})", actor()),
    };
    store.put_ban(&net.to_string(), until, 0, &reason, now)?;
    let ends = format_utc(until);
    record(store, now, EventKind::BanAdded, None, format!("{net} until {ends} UTC; {reason}"))?;
    println!("banned {net} until {ends} UTC");
    if net.contains(std::net::Ipv4Addr::LOCALHOST.into()) || net.contains(std::net::Ipv6Addr::LOCALHOST.into()) {
        eprintln!("warning: {net} covers this machine's loopback address");
    }
    Ok(())
}

fn delete(store: &mut Store, net: &str, now: UnixMillis) -> anyhow::Result<()> {
    let net = parse_address(net)?;
    if !store.delete_ban(&net.to_string())? {
        let hint = if net.is_ipv4() {
            ""
        } else {
            " (IPv6 sources are banned per network, usually a /64)"
        };
        bail!("no ban on {net}; `rampart ban list` shows the banned networks{hint}");
    }
    record(store, now, EventKind::BanRemoved, None, format!("{net}; {}", actor()))?;
    println!("lifted the ban on {net}");
    Ok(())
}

fn parse_address(v: &str) -> anyhow::Result<IpNet> {
    parse_net(v).map_err(|why| anyhow::anyhow!("{why}"))
}


/// `30s`, `30m`, `2h`, `1d`: a positive whole number and a unit.
pub fn parse_duration(v: &str) -> Result<Duration, String> {
    let bad = || format!("{v:?} is not a duration such as 30m, 2h or 1d");
    let v = v.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = v.split_at_checked(split).ok_or_else(bad)?;
    let number: u64 = number.parse().map_err(|_| bad())?;
    let unit_secs: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    let secs = number.checked_mul(unit_secs).ok_or_else(bad)?;
    let duration = Duration::from_secs(secs);
    if secs == 0 {
        return Err("the duration must be more than zero".to_owned());
    }
    if duration > MAX_BAN_FOR {
        return Err("the duration must be at most 3650d".to_owned());
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("45s"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("3650d"), Ok(MAX_BAN_FOR));
        for bad in ["", "h", "10", "1.5h", "-1h", "1w", "2 h", "1hh", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        assert!(parse_duration("0m").unwrap_err().contains("more than zero"));
        assert!(parse_duration("3651d").unwrap_err().contains("at most"));
    }

    #[test]
    fn reasons_stay_on_one_line() {
        assert_eq!(one_line("a\nb\tc"), "a b c");
    }
}
