//! `rampart audit verify|tail|search|export|report|prune`: reading the tamper-evident trail.
//!
//! Everything here reads the store (`rampart_store::Store::scan_events`,
//! `verify_chain`); formats and the summary are `rampart_audit`'s pure functions.

use std::collections::VecDeque;
use std::io::Write;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use rampart_audit::chain::{hex_lower, Verdict};
use rampart_audit::export::{self, Sequenced};
use rampart_audit::{report, select_kinds, EventKind, UnixMillis, KIND_ALIASES};
use rampart_policy::IpNet;
use rampart_store::{EventQuery, Store, StoredEvent};

use super::ban::parse_duration;
use super::user::now;
use super::CommonArgs;
use crate::config::parse_net;

/// How often `tail -f` looks for new events.
const FOLLOW_POLL: Duration = Duration::from_millis(500);

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: AuditCommand,
}

/// How events are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One line per event for people
    Text,
    /// One JSON object per line (fields of the event schema, plus seq and hash)
    Jsonl,
    /// ArcSight Common Event Format, one line per event, for SIEMs
    Cef,
}

#[derive(Debug, Args)]
struct Filters {
    /// Only this user (case-insensitive)
    #[arg(long, value_name = "USER")]
    user: Option<String>,
    /// Only events from this address or network (203.0.113.7, 10.0.0.0/8, 2001:db8::/32)
    #[arg(long, value_name = "ADDR|CIDR", value_parser = parse_source)]
    source: Option<IpNet>,
    /// From this time: RFC 3339 (2026-01-31T08:00:00Z), a date (2026-01-31, UTC) or an age (30m, 24h, 7d)
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Before this time (same forms as --since)
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Only these kinds: a code (auth_failed), an alias (failed-logon, logon, session, ban,
    /// mfa, admin, connection) or a Windows event ID (4625); repeat or separate with commas
    #[arg(long, value_name = "KIND", value_delimiter = ',')]
    kind: Vec<String>,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check the hash chain: "intact, N events", or the first record edited, deleted,
    /// inserted or reordered (exit status 1)
    Verify,
    /// The newest events; with -f, keep printing new ones as they are written
    Tail {
        /// How many of the newest events to print first
        #[arg(short = 'n', long, default_value_t = 20)]
        lines: usize,
        /// Follow: print events as they are written (until interrupted)
        #[arg(short, long)]
        follow: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Events matching every filter given, oldest first
    Search {
        #[command(flatten)]
        filters: Filters,
        /// At most this many (the newest matches)
        #[arg(long, default_value_t = 1000)]
        limit: usize,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Every event (or those matching the filters) as JSON lines or CEF, oldest first
    Export {
        #[arg(long, value_enum)]
        format: Format,
        #[command(flatten)]
        filters: Filters,
    },
    /// A summary for people: failing sources and users, bans, sessions, second-factor failures
    Report {
        /// Start of the range (default: the last 24 hours)
        #[arg(long, value_name = "TIME", default_value = "24h")]
        since: String,
        /// End of the range (default: now)
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
    },
    /// Apply retention now: prune events older than [audit] keep_days (or --keep-days)
    Prune {
        #[arg(long, value_name = "DAYS")]
        keep_days: Option<u32>,
    },
}

pub fn run(args: AuditArgs) -> anyhow::Result<()> {
    let cfg = args.common.load_config()?;
    let mut store = args.common.open_store(&cfg)?;
    let now = now();
    let mut out = std::io::stdout().lock();
    match args.command {
        AuditCommand::Verify => verify(&mut store, &mut out),
        AuditCommand::Tail { lines, follow, format } => tail(&store, lines, follow, format, &mut out),
        AuditCommand::Search { filters, limit, format } => {
            let query = filters.query(now)?;
            let events = matching(&store, &query, filters.source, limit)?;
            if events.is_empty() && format == Format::Text {
                eprintln!("no matching events");
            }
            print_events(&events, format, &mut out)
        }
        AuditCommand::Export { format, filters } => {
            if format == Format::Text {
                bail!("export formats are jsonl and cef; `rampart audit search` prints text");
            }
            let query = filters.query(now)?;
            let mut result = Ok(());
            store.scan_events(&query, |e| {
                if filters.source.is_some_and(|net| !from(&e, &net)) {
                    return true;
                }
                result = print_events(std::slice::from_ref(&e), format, &mut out);
                result.is_ok()
            })?;
            result
        }
        AuditCommand::Report { since, until } => {
            let since = parse_time(&since, now).map_err(|why| anyhow::anyhow!("--since: {why}"))?;
            let until = match until {
                Some(t) => parse_time(&t, now).map_err(|why| anyhow::anyhow!("--until: {why}"))?,
                None => UnixMillis(now.0.saturating_add(1)),
            };
            let query = EventQuery {
                since: Some(since),
                until: Some(until),
                ..EventQuery::default()
            };
            let mut events = Vec::new();
            store.scan_events(&query, |e| {
                events.push(e.event);
                true
            })?;
            writeln!(out, "{}", report::summarise(&events, since, until))?;
            Ok(())
        }
        AuditCommand::Prune { keep_days } => {
            let days = match keep_days.or(cfg.audit.keep_days) {
                Some(0) | None => bail!("retention is off ([audit] keep_days = 0); give --keep-days"),
                Some(days) => days,
            };
            let before = rampart_protocol::AuditOptions {
                keep_days: Some(days),
                forward: None,
            }
            .prune_before(now)
            .context("no retention cut-off")?;
            let pruned = store.prune_events(before, now)?;
            writeln!(out, "pruned {pruned} events older than {} UTC", before.format_utc())?;
            Ok(())
        }
    }
}

fn verify(store: &mut Store, out: &mut impl Write) -> anyhow::Result<()> {
    let verdict = store.verify_chain()?;
    writeln!(out, "{verdict}")?;
    match verdict {
        Verdict::Intact { .. } => Ok(()),
        Verdict::Broken { .. } => bail!("the audit trail does not verify"),
    }
}

fn tail(store: &Store, lines: usize, follow: bool, format: Format, out: &mut impl Write) -> anyhow::Result<()> {
    let events = matching(store, &EventQuery::default(), None, lines)?;
    print_events(&events, format, out)?;
    if !follow {
        return Ok(());
    }
    let mut after = match events.last() {
        Some(e) => e.seq,
        None => store.last_event_seq()?,
    };
    loop {
        out.flush()?;
        std::thread::sleep(FOLLOW_POLL);
        let query = EventQuery {
            after_seq: Some(after),
            ..EventQuery::default()
        };
        let mut result = Ok(());
        store.scan_events(&query, |e| {
            after = e.seq;
            result = print_events(std::slice::from_ref(&e), format, out);
            result.is_ok()
        })?;
        result?;
    }
}

/// The newest `limit` events matching `query` and `source`, oldest first.
fn matching(store: &Store, query: &EventQuery, source: Option<IpNet>, limit: usize) -> anyhow::Result<Vec<StoredEvent>> {
    let mut kept: VecDeque<StoredEvent> = VecDeque::with_capacity(limit.min(4096));
    if limit == 0 {
        return Ok(Vec::new());
    }
    store.scan_events(query, |e| {
        if source.is_some_and(|net| !from(&e, &net)) {
            return true;
        }
        if kept.len() == limit {
            kept.pop_front();
        }
        kept.push_back(e);
        true
    })?;
    Ok(kept.into())
}

fn from(e: &StoredEvent, net: &IpNet) -> bool {
    e.event.peer.is_some_and(|p| net.contains(p.ip()))
}

fn print_events(events: &[StoredEvent], format: Format, out: &mut impl Write) -> anyhow::Result<()> {
    let version = env!("CARGO_PKG_VERSION");
    for e in events {
        let hash = e.hash.as_ref().map(hex_lower);
        let s = Sequenced {
            seq: e.seq,
            event: &e.event,
            hash: hash.as_deref(),
        };
        let line = match format {
            Format::Text => text_line(e),
            Format::Jsonl => export::json_line(&s),
            Format::Cef => export::cef_line(&s, version),
        };
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// `#12 2026-01-31 08:00:00 auth_failed failure 127.0.0.1:50000 user=alice conn=3 wrong password`
fn text_line(e: &StoredEvent) -> String {
    let ev = &e.event;
    let mut line = format!("#{} {} {} {}", e.seq, ev.time.format_utc(), ev.kind.code(), ev.outcome.code());
    if let Some(peer) = ev.peer {
        line.push_str(&format!(" {peer}"));
    }
    if let Some(user) = &ev.user {
        line.push_str(&format!(" user={user}"));
    }
    if let Some(domain) = &ev.domain {
        line.push_str(&format!(" domain={domain}"));
    }
    if let Some(conn) = ev.connection {
        line.push_str(&format!(" conn={conn}"));
    }
    if let Some(reason) = &ev.reason {
        line.push_str(&format!(" {}", super::admin_change::one_line(reason)));
    }
    line
}

impl Filters {
    fn query(&self, now: UnixMillis) -> anyhow::Result<EventQuery> {
        let time = |flag: &str, v: &Option<String>| -> anyhow::Result<Option<UnixMillis>> {
            v.as_deref()
                .map(|t| parse_time(t, now).map_err(|why| anyhow::anyhow!("{flag}: {why}")))
                .transpose()
        };
        let mut kinds: Vec<EventKind> = Vec::new();
        for word in self.kind.iter().filter(|w| !w.trim().is_empty()) {
            let Some(selected) = select_kinds(word) else {
                let aliases: Vec<&str> = KIND_ALIASES.iter().map(|(name, _)| *name).collect();
                bail!(
                    "--kind {word:?}: not an event kind, alias or Windows event ID (aliases: {}; kinds: {})",
                    aliases.join(", "),
                    rampart_audit::ALL_KINDS.iter().map(|k| k.code()).collect::<Vec<_>>().join(", ")
                );
            };
            for kind in selected {
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
            }
        }
        Ok(EventQuery {
            since: time("--since", &self.since)?,
            until: time("--until", &self.until)?,
            kinds,
            user: self.user.clone(),
            after_seq: None,
        })
    }
}

fn parse_source(v: &str) -> Result<IpNet, String> {
    parse_net(v)
}

/// A point in time: an age before `now` (`30m`, `24h`, `7d`), an RFC 3339 timestamp, or a
/// date (midnight UTC).
pub fn parse_time(v: &str, now: UnixMillis) -> Result<UnixMillis, String> {
    let v = v.trim();
    if v.starts_with(|c: char| c.is_ascii_digit()) && v.ends_with(['s', 'm', 'h', 'd']) {
        let age = parse_duration(v)?;
        let ms = i64::try_from(age.as_millis()).unwrap_or(i64::MAX);
        return Ok(UnixMillis(now.0.saturating_sub(ms)));
    }
    if let Ok(ts) = v.parse::<jiff::Timestamp>() {
        return Ok(UnixMillis(ts.as_millisecond()));
    }
    if let Ok(date) = v.parse::<jiff::civil::Date>() {
        if let Ok(ts) = jiff::tz::TimeZone::UTC.to_timestamp(date.at(0, 0, 0, 0)) {
            return Ok(UnixMillis(ts.as_millisecond()));
        }
    }
    Err(format!(
        "{v:?} is not a time: use RFC 3339 (2026-01-31T08:00:00Z), a date (2026-01-31) or an age (30m, 24h, 7d)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let now = UnixMillis(1_700_000_000_000);
        assert_eq!(parse_time("24h", now), Ok(UnixMillis(now.0 - 86_400_000)));
        assert_eq!(parse_time("30m", now), Ok(UnixMillis(now.0 - 1_800_000)));
        assert_eq!(parse_time("7d", now), Ok(UnixMillis(now.0 - 7 * 86_400_000)));
        assert_eq!(parse_time("2023-11-14T22:13:20Z", now), Ok(UnixMillis(1_700_000_000_000)));
        assert_eq!(parse_time("2023-11-14T23:13:20.5+01:00", now), Ok(UnixMillis(1_700_000_000_500)));
        assert_eq!(parse_time("2023-11-14", now), Ok(UnixMillis(1_699_920_000_000)));
        for bad in ["", "yesterday", "24", "2023-13-01", "1w", "0h"] {
            assert!(parse_time(bad, now).is_err(), "{bad:?}");
        }
    }
}
