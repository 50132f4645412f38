//! Access windows: when the RDP port is open at all, globally and per user, and the
//! just-in-time grants (`rampart access open --for 2h [--from CIDR]`) that open it outside
//! them.
//!
//! Pure: the caller passes `now` ([`UnixMillis`]); time zones come from the tz database
//! compiled into the binary (`jiff`'s bundled copy), so no file and no clock is read here
//! and a host without `/usr/share/zoneinfo` behaves like any other.
//!
//! # Rules
//! - **Windows.** A window is `DAYS HH:MM-HH:MM` in the schedule's time zone:
//!   `"Mon-Fri 08:00-18:00"`, `"Sat 10:00-12:00"`, `"Mon,Wed,Fri 07:30-19:00"`,
//!   `"Fri-Mon 09:00-17:00"` (ranges wrap round the week). Without days it means every day
//!   (`"08:00-18:00"`); `"*"` and `"always"` mean all the time. Day names are English,
//!   three letters or in full, any case. A window includes its start and excludes its end;
//!   the end may be `24:00`.
//! - **Across midnight.** A window whose end is earlier than its start runs into the next
//!   day: `"Fri 22:00-02:00"` is open from Friday 22:00 to Saturday 02:00. `"…-00:00"`
//!   means up to midnight. A window that starts when it ends (`"08:00-08:00"`) is refused:
//!   it would be empty or the whole day, and the text cannot say which (write `00:00-24:00`).
//! - **Schedules.** The windows of a schedule OR together. No schedule at all means always
//!   open (the default: no windows configured).
//! - **Daylight saving.** Windows are wall-clock times in an IANA zone (`"Europe/Berlin"`):
//!   `08:00` is 08:00 local time in winter and in summer. A window boundary that falls in
//!   the hour skipped in spring takes effect at the moment of the skip; one in the repeated
//!   autumn hour applies to both occurrences.
//! - **Grants.** An [`AccessGrant`] opens the port until its `until`, outside the windows,
//!   for every source (`net: None`) or for one network only. Grants do not widen the source
//!   allowlist or lift a denylist entry or ban: the guard still decides who may connect.
//! - **Per-user windows.** [`user_allowed`]: a user with a schedule may log in only inside
//!   it; grants open the port, not a user's own windows.
//! - **Closed means closed.** [`AccessState::Closed`] tells the server to stop listening
//!   (the port does not accept TCP), not to refuse after accepting.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use jiff::civil::{Date, Time};
use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;
use rampart_audit::UnixMillis;

use crate::ip_net::IpNet;

/// Most windows in one schedule: bounds the work of [`AccessSchedule::next_change`].
pub const MAX_WINDOWS: usize = 64;

const MINUTES_PER_DAY: u16 = 24 * 60;
const MILLIS_PER_MINUTE: i64 = 60_000;
const MILLIS_PER_DAY: i64 = 24 * 60 * MILLIS_PER_MINUTE;
/// How far ahead [`AccessSchedule::next_change`] looks: every weekly pattern changes within
/// a week, plus room for a daylight-saving shift that swallows a window for one day.
const LOOKAHEAD_DAYS: i64 = 15;
const ALL_DAYS: u8 = 0b111_1111;
const DAY_NAMES: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/// Why a window, schedule or time zone is not valid. Each names the bad part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessError {
    /// The window text is empty.
    Empty,
    /// Not of the form `DAYS HH:MM-HH:MM`.
    Shape(String),
    /// Not a day name or day range.
    BadDay(String),
    /// Not `HH:MM-HH:MM`, or a time out of range.
    BadTime(String),
    /// Starts at the time it ends.
    ZeroLength(String),
    /// Not an IANA time zone name, `UTC` or a `+HH:MM` offset.
    UnknownTimeZone(String),
    /// A schedule needs at least one window (no schedule at all means always open).
    NoWindows,
    TooManyWindows { count: usize },
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "an empty window; write e.g. \"Mon-Fri 08:00-18:00\" or \"always\""),
            Self::Shape(s) => write!(f, "{s:?} is not a window such as \"Mon-Fri 08:00-18:00\""),
            Self::BadDay(s) => write!(f, "{s:?} is not a day or day range such as \"Mon\", \"Mon-Fri\" or \"Sat,Sun\""),
            Self::BadTime(s) => write!(
                f,
                "{s:?} is not a time range such as \"08:00-18:00\" (times from 00:00 to 24:00, 24:00 only as the end)"
            ),
            Self::ZeroLength(s) => write!(
                f,
                "{s:?} starts when it ends; for a whole day write \"00:00-24:00\""
            ),
            Self::UnknownTimeZone(s) => write!(
                f,
                "{s:?} is not a time zone such as \"Europe/Berlin\", \"UTC\" or \"+01:00\""
            ),
            Self::NoWindows => write!(f, "no windows; leave the list out for always open"),
            Self::TooManyWindows { count } => write!(f, "{count} windows; at most {MAX_WINDOWS}"),
        }
    }
}

impl std::error::Error for AccessError {}

/// One weekly window: some days of the week, a start and an end (minutes after midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccessWindow {
    /// Bit 0 is Monday ... bit 6 Sunday: the days the window *starts* on.
    days: u8,
    /// 0..1440.
    start: u16,
    /// 1..=1440, not equal to `start`; less than `start` for a window across midnight.
    end: u16,
}

impl AccessWindow {
    /// All day, every day.
    pub const ALWAYS: Self = Self {
        days: ALL_DAYS,
        start: 0,
        end: MINUTES_PER_DAY,
    };

    /// Whether it runs past midnight into the next day.
    pub fn crosses_midnight(&self) -> bool {
        self.end < self.start
    }

    /// `weekday`: 0 is Monday; `ms`: milliseconds since local midnight.
    fn contains(&self, weekday: u8, ms: i64) -> bool {
        let start = i64::from(self.start) * MILLIS_PER_MINUTE;
        let end = i64::from(self.end) * MILLIS_PER_MINUTE;
        if self.crosses_midnight() {
            (self.has_day(weekday) && ms >= start) || (self.has_day((weekday + 6) % 7) && ms < end)
        } else {
            self.has_day(weekday) && start <= ms && ms < end
        }
    }

    fn has_day(&self, weekday: u8) -> bool {
        weekday < 7 && self.days & (1 << weekday) != 0
    }
}

impl FromStr for AccessWindow {
    type Err = AccessError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        if text.is_empty() {
            return Err(AccessError::Empty);
        }
        if text == "*" || text.eq_ignore_ascii_case("always") {
            return Ok(Self::ALWAYS);
        }
        let mut parts = text.split_whitespace();
        let (days, times) = match (parts.next(), parts.next(), parts.next()) {
            (Some(times), None, None) if times.contains(':') => (ALL_DAYS, times),
            (Some(days), Some(times), None) => (parse_days(days)?, times),
            _ => return Err(AccessError::Shape(text.to_owned())),
        };
        let bad_time = || AccessError::BadTime(times.to_owned());
        let (start, end) = times.split_once('-').ok_or_else(bad_time)?;
        let start = parse_clock(start).filter(|&m| m < MINUTES_PER_DAY).ok_or_else(bad_time)?;
        let end = parse_clock(end).ok_or_else(bad_time)?;
        if start == end {
            return Err(AccessError::ZeroLength(times.to_owned()));
        }
        // "22:00-00:00" is "22:00-24:00".
        let end = if end == 0 { MINUTES_PER_DAY } else { end };
        Ok(Self { days, start, end })
    }
}

/// `Mon`, `monday`, `Mon-Fri`, `Fri-Mon` (wrapping), `Mon,Wed,Fri`, `Mon-Wed,Sat`.
fn parse_days(text: &str) -> Result<u8, AccessError> {
    let mut days = 0u8;
    for item in text.split(',') {
        let bad = || AccessError::BadDay(item.to_owned());
        match item.split_once('-') {
            None => days |= 1 << parse_day(item).ok_or_else(bad)?,
            Some((from, to)) => {
                let from = parse_day(from).ok_or_else(bad)?;
                let to = parse_day(to).ok_or_else(bad)?;
                let mut day = from;
                loop {
                    days |= 1 << day;
                    if day == to {
                        break;
                    }
                    day = (day + 1) % 7;
                }
            }
        }
    }
    Ok(days)
}

/// 0 for Monday ... 6 for Sunday.
fn parse_day(text: &str) -> Option<u8> {
    let text = text.to_ascii_lowercase();
    let index = DAY_NAMES
        .iter()
        .position(|name| text == *name || (text.len() == 3 && name.starts_with(text.as_str())))?;
    u8::try_from(index).ok()
}

/// `HH:MM` (or `H:MM`) to minutes after midnight, 0..=1440.
fn parse_clock(text: &str) -> Option<u16> {
    let (hours, minutes) = text.split_once(':')?;
    let digits = |s: &str, max_len: usize| !s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(hours, 2) || !digits(minutes, 2) || minutes.len() != 2 {
        return None;
    }
    let hours: u16 = hours.parse().ok()?;
    let minutes: u16 = minutes.parse().ok()?;
    match (hours, minutes) {
        (0..=23, 0..=59) | (24, 0) => Some(hours * 60 + minutes),
        _ => None,
    }
}

impl fmt::Display for AccessWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Self::ALWAYS {
            return f.write_str("always");
        }
        if self.days != ALL_DAYS {
            write_days(f, self.days)?;
            f.write_str(" ")?;
        }
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start / 60,
            self.start % 60,
            self.end / 60,
            self.end % 60
        )
    }
}

/// Runs of consecutive days as ranges: `Mon-Fri`, `Mon,Wed,Fri`, `Mon-Wed,Sat`.
fn write_days(f: &mut fmt::Formatter<'_>, days: u8) -> fmt::Result {
    let short = |day: u8| match day {
        0 => "Mon",
        1 => "Tue",
        2 => "Wed",
        3 => "Thu",
        4 => "Fri",
        5 => "Sat",
        _ => "Sun",
    };
    let has = |day: u8| day < 7 && days & (1 << day) != 0;
    let mut first = true;
    let mut day = 0u8;
    while day < 7 {
        if !has(day) {
            day += 1;
            continue;
        }
        let mut last = day;
        while has(last + 1) {
            last += 1;
        }
        if !first {
            f.write_str(",")?;
        }
        first = false;
        match last - day {
            0 => f.write_str(short(day))?,
            1 => write!(f, "{},{}", short(day), short(last))?,
            _ => write!(f, "{}-{}", short(day), short(last))?,
        }
        day = last + 1;
    }
    Ok(())
}

/// The time zone windows are read in: an IANA name (`"Europe/Berlin"`), `"UTC"`, or a fixed
/// offset (`"+01:00"`, which does not follow daylight saving).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessZone {
    name: String,
    tz: TimeZone,
}

impl AccessZone {
    pub fn utc() -> Self {
        Self {
            name: "UTC".to_owned(),
            tz: TimeZone::UTC,
        }
    }

    /// The canonical name (`"Europe/Berlin"`, `"UTC"`, `"+01:00"`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The local wall-clock time at `now` as `YYYY-MM-DD HH:MM` (for status output).
    pub fn format_local(&self, now: UnixMillis) -> String {
        match Timestamp::from_millisecond(now.0) {
            Ok(ts) => self.tz.to_datetime(ts).strftime("%a %Y-%m-%d %H:%M").to_string(),
            Err(_) => now.to_string(),
        }
    }
}

impl Default for AccessZone {
    fn default() -> Self {
        Self::utc()
    }
}

impl FromStr for AccessZone {
    type Err = AccessError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let unknown = || AccessError::UnknownTimeZone(text.to_owned());
        if text.eq_ignore_ascii_case("utc") || text == "Z" {
            return Ok(Self::utc());
        }
        if let Some(rest) = text.strip_prefix('+').or_else(|| text.strip_prefix('-')) {
            let minutes = parse_clock(rest).filter(|&m| m <= 18 * 60).ok_or_else(unknown)?;
            let seconds = i32::from(minutes) * 60;
            let seconds = if text.starts_with('-') { -seconds } else { seconds };
            let offset = Offset::from_seconds(seconds).map_err(|_| unknown())?;
            let name = format!("{}{:02}:{:02}", if seconds < 0 { '-' } else { '+' }, minutes / 60, minutes % 60);
            return Ok(Self {
                name,
                tz: TimeZone::fixed(offset),
            });
        }
        // Only names from the bundled database: no paths, no system files.
        if text.is_empty() || text.starts_with('/') || text.contains("..") {
            return Err(unknown());
        }
        let tz = TimeZone::get(text).map_err(|_| unknown())?;
        let name = tz.iana_name().unwrap_or(text).to_owned();
        Ok(Self { name, tz })
    }
}

impl fmt::Display for AccessZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// A set of weekly windows in one time zone; open when any window is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessSchedule {
    windows: Vec<AccessWindow>,
    zone: AccessZone,
}

impl AccessSchedule {
    /// At least one and at most [`MAX_WINDOWS`] windows.
    pub fn new(windows: Vec<AccessWindow>, zone: AccessZone) -> Result<Self, AccessError> {
        if windows.is_empty() {
            return Err(AccessError::NoWindows);
        }
        if windows.len() > MAX_WINDOWS {
            return Err(AccessError::TooManyWindows { count: windows.len() });
        }
        Ok(Self { windows, zone })
    }

    /// Parses window strings and a zone name (see the module rules).
    pub fn parse<S: AsRef<str>>(windows: &[S], zone: &str) -> Result<Self, AccessError> {
        let windows = windows
            .iter()
            .map(|w| w.as_ref().parse())
            .collect::<Result<Vec<AccessWindow>, _>>()?;
        Self::new(windows, zone.parse()?)
    }

    pub fn windows(&self) -> &[AccessWindow] {
        &self.windows
    }

    pub fn zone(&self) -> &AccessZone {
        &self.zone
    }

    /// Whether some window contains `now`. A time outside the calendar's range (year
    /// ±9999) counts as closed.
    pub fn is_open(&self, now: UnixMillis) -> bool {
        let Ok(ts) = Timestamp::from_millisecond(now.0) else {
            return false;
        };
        let local = self.zone.tz.to_datetime(ts);
        let Ok(weekday) = u8::try_from(local.weekday().to_monday_zero_offset()) else {
            return false;
        };
        let ms = i64::from(local.hour()) * 3_600_000
            + i64::from(local.minute()) * MILLIS_PER_MINUTE
            + i64::from(local.second()) * 1000
            + i64::from(local.millisecond());
        self.windows.iter().any(|w| w.contains(weekday, ms))
    }

    /// The first instant after `now` at which [`Self::is_open`] differs from its value at
    /// `now`; `None` if it never changes (e.g. `"always"`, or windows covering the week).
    pub fn next_change(&self, now: UnixMillis) -> Option<UnixMillis> {
        let ts = Timestamp::from_millisecond(now.0).ok()?;
        let horizon = now.0.saturating_add(LOOKAHEAD_DAYS.saturating_add(1) * MILLIS_PER_DAY);
        let tz = &self.zone.tz;
        let mut candidates: Vec<i64> = Vec::new();
        let mut push_local = |date: Date, minutes: u16| {
            let (day, minutes) = if minutes >= MINUTES_PER_DAY {
                (date.tomorrow().ok(), minutes - MINUTES_PER_DAY)
            } else {
                (Some(date), minutes)
            };
            let (Some(day), Ok(hour), Ok(minute)) = (day, i8::try_from(minutes / 60), i8::try_from(minutes % 60)) else {
                return;
            };
            let Ok(time) = Time::new(hour, minute, 0, 0) else {
                return;
            };
            // Both instants of a wall-clock time that occurs twice (autumn); for one that
            // does not occur (spring), the moment of the skip.
            let ambiguous = tz.to_ambiguous_timestamp(day.to_datetime(time));
            for t in [ambiguous.earlier(), ambiguous.later()].into_iter().flatten() {
                candidates.push(t.as_millisecond());
            }
        };
        let today = tz.to_datetime(ts).date();
        let mut day = today.yesterday().unwrap_or(today);
        for _ in 0..=LOOKAHEAD_DAYS + 1 {
            let Ok(weekday) = u8::try_from(day.weekday().to_monday_zero_offset()) else {
                break;
            };
            for w in self.windows.iter().filter(|w| w.has_day(weekday)) {
                push_local(day, w.start);
                let end = if w.crosses_midnight() { w.end + MINUTES_PER_DAY } else { w.end };
                push_local(day, end);
            }
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        // Offset changes move wall-clock time under the windows.
        candidates.extend(
            tz.following(ts)
                .map(|t| t.timestamp().as_millisecond())
                .take_while(|&t| t <= horizon)
                .take(16),
        );
        candidates.retain(|&t| t > now.0 && t <= horizon);
        candidates.sort_unstable();
        candidates.dedup();
        let open = self.is_open(now);
        candidates.into_iter().map(UnixMillis).find(|&t| self.is_open(t) != open)
    }
}

impl fmt::Display for AccessSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, w) in self.windows.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{w}")?;
        }
        write!(f, " ({})", self.zone)
    }
}

/// A just-in-time opening of the port, until `until` (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessGrant {
    /// Only sources in this network; `None`: every source the guard admits.
    pub net: Option<IpNet>,
    pub until: UnixMillis,
}

impl AccessGrant {
    pub fn is_active(&self, now: UnixMillis) -> bool {
        now < self.until
    }
}

/// What the listener should do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessState {
    /// Listen; every source the guard admits may connect.
    Open,
    /// Listen, but only for these networks (grants outside the windows); refuse other
    /// sources at accept. Sorted, without duplicates, never empty.
    OpenFor(Vec<IpNet>),
    /// Do not listen. `next_open`: when the schedule opens next, if ever.
    Closed { next_open: Option<UnixMillis> },
}

impl AccessState {
    /// Whether the listening socket should exist.
    pub fn is_listening(&self) -> bool {
        !matches!(self, Self::Closed { .. })
    }

    /// Whether a connection from `peer` may be accepted (before the guard's own checks).
    pub fn admits(&self, peer: IpAddr) -> bool {
        match self {
            Self::Open => true,
            Self::OpenFor(nets) => nets.iter().any(|net| net.contains(peer)),
            Self::Closed { .. } => false,
        }
    }
}

/// The port's state at `now`: open inside a window of `schedule` (`None`: always open) or
/// while a grant for every source is active; open for some networks while only grants
/// limited to them are active; closed otherwise.
pub fn decide(schedule: Option<&AccessSchedule>, grants: &[AccessGrant], now: UnixMillis) -> AccessState {
    let Some(schedule) = schedule else {
        return AccessState::Open;
    };
    if schedule.is_open(now) {
        return AccessState::Open;
    }
    let active = || grants.iter().filter(|g| g.is_active(now));
    if active().any(|g| g.net.is_none()) {
        return AccessState::Open;
    }
    let mut nets: Vec<IpNet> = active().filter_map(|g| g.net).collect();
    if nets.is_empty() {
        return AccessState::Closed {
            next_open: schedule.next_change(now),
        };
    }
    nets.sort_unstable();
    nets.dedup();
    AccessState::OpenFor(nets)
}

/// When [`decide`] should be asked again: the next schedule change or the end of an active
/// grant, whichever is first; `None` if nothing will change by itself.
pub fn next_review(schedule: Option<&AccessSchedule>, grants: &[AccessGrant], now: UnixMillis) -> Option<UnixMillis> {
    let schedule_change = schedule.and_then(|s| s.next_change(now));
    let grant_end = grants.iter().filter(|g| g.is_active(now)).map(|g| g.until).min();
    match (schedule_change, grant_end) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Whether a user whose own windows are `user_schedule` (`None`: no windows of their own)
/// may log in at `now`.
pub fn user_allowed(user_schedule: Option<&AccessSchedule>, now: UnixMillis) -> bool {
    user_schedule.is_none_or(|s| s.is_open(now))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

    use super::*;

    /// `"2024-01-01T08:00:00Z"` (a Monday) to milliseconds.
    fn at(text: &str) -> UnixMillis {
        UnixMillis(text.parse::<Timestamp>().unwrap().as_millisecond())
    }

    fn utc(windows: &[&str]) -> AccessSchedule {
        AccessSchedule::parse(windows, "UTC").unwrap()
    }

    fn window(text: &str) -> AccessWindow {
        text.parse().unwrap()
    }

    fn net(text: &str) -> IpNet {
        text.parse().unwrap()
    }

    #[test]
    fn parses_and_prints_windows() {
        for (text, shown) in [
            ("Mon-Fri 08:00-18:00", "Mon-Fri 08:00-18:00"),
            ("sat 10:00-12:00", "Sat 10:00-12:00"),
            ("Mon,Wed,Fri 07:30-19:00", "Mon,Wed,Fri 07:30-19:00"),
            ("Monday,tuesday 7:30-19:00", "Mon,Tue 07:30-19:00"),
            ("Fri-Mon 09:00-17:00", "Mon,Fri-Sun 09:00-17:00"),
            ("Mon-Wed,Sat 09:00-17:00", "Mon-Wed,Sat 09:00-17:00"),
            ("Mon-Sun 00:00-24:00", "always"),
            ("00:00-24:00", "always"),
            ("08:00-18:00", "08:00-18:00"),
            ("  Fri 22:00-02:00 ", "Fri 22:00-02:00"),
            ("Fri 22:00-00:00", "Fri 22:00-24:00"),
            ("*", "always"),
            ("Always", "always"),
        ] {
            let w = window(text);
            assert_eq!(w.to_string(), shown, "{text:?}");
            assert_eq!(window(shown), w, "{shown:?} round trip");
        }
        assert!(window("Fri 22:00-02:00").crosses_midnight());
        assert!(!window("Fri 22:00-24:00").crosses_midnight());
    }

    #[test]
    fn parse_errors_name_the_bad_part() {
        let err = |text: &str| text.parse::<AccessWindow>().unwrap_err();
        assert_eq!(err(""), AccessError::Empty);
        assert_eq!(err("  "), AccessError::Empty);
        assert_eq!(err("Mon-Fri"), AccessError::Shape("Mon-Fri".into()));
        assert_eq!(err("Mon Fri 08:00-18:00"), AccessError::Shape("Mon Fri 08:00-18:00".into()));
        assert_eq!(err("Mon-Fry 08:00-18:00"), AccessError::BadDay("Mon-Fry".into()));
        assert_eq!(err("Mon,,Fri 08:00-18:00"), AccessError::BadDay(String::new()));
        assert_eq!(err("Mo 08:00-18:00"), AccessError::BadDay("Mo".into()));
        assert_eq!(err("Mon 08:00"), AccessError::BadTime("08:00".into()));
        assert_eq!(err("Mon 8-18"), AccessError::BadTime("8-18".into()));
        assert_eq!(err("Mon 08:00-25:00"), AccessError::BadTime("08:00-25:00".into()));
        assert_eq!(err("Mon 08:60-18:00"), AccessError::BadTime("08:60-18:00".into()));
        assert_eq!(err("Mon 08:0-18:00"), AccessError::BadTime("08:0-18:00".into()));
        assert_eq!(err("Mon 24:00-02:00"), AccessError::BadTime("24:00-02:00".into()));
        assert_eq!(err("Mon 08:00-24:01"), AccessError::BadTime("08:00-24:01".into()));
        assert_eq!(err("Mon +8:00-18:00"), AccessError::BadTime("+8:00-18:00".into()));
        assert_eq!(err("Mon 08:00-08:00"), AccessError::ZeroLength("08:00-08:00".into()));
        assert_eq!(err("00:00-00:00"), AccessError::ZeroLength("00:00-00:00".into()));
        assert!(err("Mon-Fry 08:00-18:00").to_string().contains("\"Mon-Fry\""));
        assert!(err("Mon 08:00-25:00").to_string().contains("\"08:00-25:00\""));
        assert!(err("Mon 08:00-08:00").to_string().contains("00:00-24:00"));

        assert_eq!(AccessSchedule::parse::<&str>(&[], "UTC").unwrap_err(), AccessError::NoWindows);
        let many = vec!["Mon 08:00-09:00"; MAX_WINDOWS + 1];
        assert_eq!(
            AccessSchedule::parse(&many, "UTC").unwrap_err(),
            AccessError::TooManyWindows { count: MAX_WINDOWS + 1 }
        );
        assert!(AccessSchedule::parse(&many[..MAX_WINDOWS], "UTC").is_ok());
        assert_eq!(
            AccessSchedule::parse(&["Mon 08:00-09:00", "Tue 9-10"], "UTC").unwrap_err(),
            AccessError::BadTime("9-10".into())
        );
    }

    #[test]
    fn time_zones() {
        let zone = |text: &str| text.parse::<AccessZone>().map(|z| z.name().to_owned());
        assert_eq!(zone("UTC").unwrap(), "UTC");
        assert_eq!(zone("utc").unwrap(), "UTC");
        assert_eq!(zone("Europe/Berlin").unwrap(), "Europe/Berlin");
        assert_eq!(zone("America/New_York").unwrap(), "America/New_York");
        assert_eq!(zone("+01:00").unwrap(), "+01:00");
        assert_eq!(zone("-3:30").unwrap(), "-03:30");
        assert_eq!(zone("+00:00").unwrap(), "+00:00");
        for bad in ["", "Europe/Berlinn", "Mars/Olympus", "/etc/localtime", "../../etc/passwd", "+19:00", "+1", "CEST?"] {
            assert_eq!(zone(bad), Err(AccessError::UnknownTimeZone(bad.trim().into())), "{bad:?}");
        }
        assert!(zone("Mars/Olympus").unwrap_err().to_string().contains("\"Mars/Olympus\""));
        assert_eq!(AccessZone::default(), AccessZone::utc());
    }

    #[test]
    fn weekday_and_hour_boundaries() {
        let s = utc(&["Mon-Fri 08:00-18:00"]);
        // 2024-01-01 is a Monday.
        assert!(!s.is_open(at("2024-01-01T07:59:59.999Z")));
        assert!(s.is_open(at("2024-01-01T08:00:00Z")));
        assert!(s.is_open(at("2024-01-01T17:59:59.999Z")));
        assert!(!s.is_open(at("2024-01-01T18:00:00Z")));
        assert!(s.is_open(at("2024-01-05T12:00:00Z")), "friday");
        assert!(!s.is_open(at("2024-01-06T12:00:00Z")), "saturday");
        assert!(!s.is_open(at("2024-01-07T12:00:00Z")), "sunday");
        assert!(s.is_open(at("2024-01-08T12:00:00Z")), "next monday");
        assert!(s.is_open(at("1970-01-01T12:00:00Z")), "the epoch was a thursday");
        assert!(!s.is_open(at("1969-12-28T12:00:00Z")), "before the epoch: a sunday");

        let s = utc(&["Mon,Wed,Fri 07:30-19:00", "Sat 10:00-12:00"]);
        assert!(s.is_open(at("2024-01-03T07:30:00Z")));
        assert!(!s.is_open(at("2024-01-02T12:00:00Z")), "tuesday");
        assert!(s.is_open(at("2024-01-06T11:00:00Z")), "the saturday window ORs in");
        assert!(!s.is_open(at("2024-01-06T12:00:00Z")));
    }

    #[test]
    fn end_of_day_and_across_midnight() {
        let s = utc(&["Sun 20:00-24:00"]);
        assert!(s.is_open(at("2024-01-07T23:59:59.999Z")));
        assert!(!s.is_open(at("2024-01-08T00:00:00Z")), "monday 00:00 is not in sunday's window");
        assert!(!s.is_open(at("2024-01-07T19:59:59Z")));

        // Friday 22:00 to Saturday 02:00.
        let s = utc(&["Fri 22:00-02:00"]);
        assert!(!s.is_open(at("2024-01-05T21:59:59Z")));
        assert!(s.is_open(at("2024-01-05T22:00:00Z")));
        assert!(s.is_open(at("2024-01-06T01:59:59Z")));
        assert!(!s.is_open(at("2024-01-06T02:00:00Z")));
        assert!(!s.is_open(at("2024-01-05T01:00:00Z")), "not friday early morning (thursday's night)");
        // Sunday night runs into Monday.
        let s = utc(&["Sun 23:00-01:00"]);
        assert!(s.is_open(at("2024-01-08T00:30:00Z")));
        assert!(!s.is_open(at("2024-01-02T00:30:00Z")));

        let s = utc(&["always"]);
        assert!(s.is_open(at("2024-01-01T00:00:00Z")));
        assert_eq!(s.next_change(at("2024-01-01T00:00:00Z")), None);
        let s = utc(&["Mon-Sun 00:00-12:00", "12:00-24:00"]);
        assert_eq!(s.next_change(at("2024-01-03T05:00:00Z")), None, "windows covering the week never change");
    }

    #[test]
    fn fixed_offsets() {
        let s = AccessSchedule::parse(&["Mon-Fri 08:00-18:00"], "+01:00").unwrap();
        assert!(!s.is_open(at("2024-01-01T06:59:59Z")));
        assert!(s.is_open(at("2024-01-01T07:00:00Z")), "08:00 at +01:00");
        assert!(!s.is_open(at("2024-01-01T17:00:00Z")));
        // Friday 23:30 UTC is Saturday 00:30 at +01:00.
        assert!(s.is_open(at("2024-01-05T16:30:00Z")));
        let late = AccessSchedule::parse(&["Sat 00:00-01:00"], "+01:00").unwrap();
        assert!(late.is_open(at("2024-01-05T23:30:00Z")));
        let west = AccessSchedule::parse(&["Sun 20:00-24:00"], "-05:00").unwrap();
        assert!(west.is_open(at("2024-01-08T04:59:00Z")), "monday 04:59 UTC is sunday 23:59 at -05:00");
        assert!(!west.is_open(at("2024-01-08T05:00:00Z")));
    }

    #[test]
    fn iana_zones_follow_daylight_saving() {
        let s = AccessSchedule::parse(&["Mon-Fri 08:00-18:00"], "Europe/Berlin").unwrap();
        // Winter: UTC+1.
        assert!(s.is_open(at("2024-01-08T07:00:00Z")));
        assert!(!s.is_open(at("2024-01-08T06:59:59Z")));
        // Summer: UTC+2.
        assert!(s.is_open(at("2024-07-01T06:00:00Z")));
        assert!(!s.is_open(at("2024-07-01T05:59:59Z")));
        assert_eq!(s.next_change(at("2024-07-01T05:00:00Z")), Some(at("2024-07-01T06:00:00Z")));
        assert_eq!(s.next_change(at("2024-07-01T06:00:00Z")), Some(at("2024-07-01T16:00:00Z")));
        // Across the spring change (Sunday 2024-03-31, 02:00 -> 03:00): Friday 18:00 CET
        // closes; Monday 08:00 CEST opens.
        assert_eq!(s.next_change(at("2024-03-29T17:00:00Z")), Some(at("2024-04-01T06:00:00Z")));

        // A window inside the skipped hour opens at the skip and closes at 03:00 (= the
        // same instant): that Sunday it never opens, and the next one it does.
        let gap = AccessSchedule::parse(&["Sun 02:00-03:00"], "Europe/Berlin").unwrap();
        assert!(!gap.is_open(at("2024-03-31T01:00:00Z")), "03:00 CEST");
        assert_eq!(gap.next_change(at("2024-03-30T12:00:00Z")), Some(at("2024-04-07T00:00:00Z")));
        // A window ending inside the skipped hour closes at the skip.
        let into_gap = AccessSchedule::parse(&["Sun 01:00-02:30"], "Europe/Berlin").unwrap();
        assert_eq!(into_gap.next_change(at("2024-03-31T00:00:00Z")), Some(at("2024-03-31T01:00:00Z")));

        // Autumn (Sunday 2024-10-27, 03:00 CEST -> 02:00 CET): 02:30 happens twice and the
        // window opens on both.
        let fold = AccessSchedule::parse(&["Sun 02:30-04:00"], "Europe/Berlin").unwrap();
        let first = at("2024-10-27T00:30:00Z"); // 02:30 CEST
        assert_eq!(fold.next_change(at("2024-10-27T00:00:00Z")), Some(first));
        // 03:00 CEST is 02:00 CET: closed again until the second 02:30.
        assert_eq!(fold.next_change(first), Some(at("2024-10-27T01:00:00Z")));
        assert_eq!(fold.next_change(at("2024-10-27T01:00:00Z")), Some(at("2024-10-27T01:30:00Z")));
        assert_eq!(fold.next_change(at("2024-10-27T01:30:00Z")), Some(at("2024-10-27T03:00:00Z")));
    }

    #[test]
    fn next_change_on_virtual_time() {
        let s = utc(&["Mon-Fri 08:00-18:00"]);
        assert_eq!(s.next_change(at("2024-01-01T07:00:00Z")), Some(at("2024-01-01T08:00:00Z")));
        assert_eq!(s.next_change(at("2024-01-01T08:00:00Z")), Some(at("2024-01-01T18:00:00Z")));
        assert_eq!(s.next_change(at("2024-01-01T18:00:00Z")), Some(at("2024-01-02T08:00:00Z")));
        // Friday evening to Monday morning.
        assert_eq!(s.next_change(at("2024-01-05T18:00:00Z")), Some(at("2024-01-08T08:00:00Z")));
        assert_eq!(s.next_change(at("2024-01-06T12:00:00Z")), Some(at("2024-01-08T08:00:00Z")));

        // Adjacent windows merge: Monday 08:00-18:00 then 18:00-20:00 closes at 20:00.
        let s = utc(&["Mon 08:00-18:00", "Mon 18:00-20:00"]);
        assert_eq!(s.next_change(at("2024-01-01T09:00:00Z")), Some(at("2024-01-01T20:00:00Z")));
        // A weekly window a week ahead.
        let s = utc(&["Mon 08:00-09:00"]);
        assert_eq!(s.next_change(at("2024-01-01T09:00:00Z")), Some(at("2024-01-08T08:00:00Z")));
        // Across midnight.
        let s = utc(&["Fri 22:00-02:00"]);
        assert_eq!(s.next_change(at("2024-01-05T23:00:00Z")), Some(at("2024-01-06T02:00:00Z")));
        assert_eq!(s.next_change(at("2024-01-06T02:00:00Z")), Some(at("2024-01-12T22:00:00Z")));
        // Walking the changes alternates the state.
        let s = utc(&["Mon-Fri 08:00-12:00", "Mon-Fri 13:00-18:00", "Sat 22:00-01:00"]);
        let mut now = at("2024-01-01T00:00:00Z");
        let mut open = s.is_open(now);
        let mut changes = 0;
        while let Some(next) = s.next_change(now) {
            assert!(next > now);
            assert_eq!(s.is_open(UnixMillis(next.0 - 1)), open, "constant until the change");
            assert_ne!(s.is_open(next), open);
            open = s.is_open(next);
            now = next;
            changes += 1;
            if now >= at("2024-01-08T00:00:00Z") {
                break;
            }
        }
        assert_eq!(changes, 5 * 4 + 2 + 1, "one week: 4 per weekday, 2 on Saturday night, Monday 08:00");
        // Out of the calendar's range: closed, no change.
        assert!(!s.is_open(UnixMillis(i64::MAX)));
        assert_eq!(s.next_change(UnixMillis(i64::MAX)), None);
    }

    #[test]
    fn no_schedule_is_always_open() {
        let now = at("2024-01-06T03:00:00Z");
        assert_eq!(decide(None, &[], now), AccessState::Open);
        assert!(user_allowed(None, now));
        assert_eq!(next_review(None, &[], now), None);
    }

    #[test]
    fn closed_outside_the_windows_open_inside() {
        let s = utc(&["Mon-Fri 08:00-18:00"]);
        let saturday = at("2024-01-06T12:00:00Z");
        let state = decide(Some(&s), &[], saturday);
        assert_eq!(
            state,
            AccessState::Closed {
                next_open: Some(at("2024-01-08T08:00:00Z"))
            }
        );
        assert!(!state.is_listening());
        assert!(!state.admits("127.0.0.1".parse().unwrap()));
        let state = decide(Some(&s), &[], at("2024-01-08T08:00:00Z"));
        assert_eq!(state, AccessState::Open);
        assert!(state.is_listening());
        assert!(state.admits("203.0.113.9".parse().unwrap()));
    }

    #[test]
    fn grants_open_the_port_until_they_end() {
        let s = utc(&["Mon-Fri 08:00-18:00"]);
        let now = at("2024-01-06T12:00:00Z");
        let until = at("2024-01-06T14:00:00Z");
        let grants = [AccessGrant { net: None, until }];
        assert_eq!(decide(Some(&s), &grants, now), AccessState::Open);
        assert_eq!(decide(Some(&s), &grants, UnixMillis(until.0 - 1)), AccessState::Open);
        assert!(matches!(decide(Some(&s), &grants, until), AccessState::Closed { .. }), "ends at until");
        assert_eq!(next_review(Some(&s), &grants, now), Some(until));
        assert_eq!(next_review(Some(&s), &grants, until), Some(at("2024-01-08T08:00:00Z")));
        // Inside a window a grant changes nothing; the review is the earlier of the two.
        let weekday = at("2024-01-08T17:00:00Z");
        let grants = [AccessGrant {
            net: None,
            until: at("2024-01-08T19:00:00Z"),
        }];
        assert_eq!(decide(Some(&s), &grants, weekday), AccessState::Open);
        assert_eq!(next_review(Some(&s), &grants, weekday), Some(at("2024-01-08T18:00:00Z")));
        assert_eq!(next_review(None, &grants, weekday), Some(at("2024-01-08T19:00:00Z")));
    }

    #[test]
    fn grants_limited_to_a_network_admit_only_it() {
        let s = utc(&["Mon-Fri 08:00-18:00"]);
        let now = at("2024-01-06T12:00:00Z");
        let until = at("2024-01-06T14:00:00Z");
        let grants = [
            AccessGrant {
                net: Some(net("192.0.2.0/24")),
                until,
            },
            AccessGrant {
                net: Some(net("2001:db8::/48")),
                until: at("2024-01-06T13:00:00Z"),
            },
            AccessGrant {
                net: Some(net("192.0.2.0/24")),
                until,
            },
            // Ended: ignored.
            AccessGrant {
                net: None,
                until: at("2024-01-06T11:00:00Z"),
            },
            AccessGrant {
                net: Some(net("10.0.0.0/8")),
                until: now,
            },
        ];
        let state = decide(Some(&s), &grants, now);
        assert_eq!(state, AccessState::OpenFor(vec![net("192.0.2.0/24"), net("2001:db8::/48")]));
        assert!(state.is_listening());
        assert!(state.admits("192.0.2.77".parse().unwrap()));
        assert!(state.admits("::ffff:192.0.2.77".parse().unwrap()), "mapped IPv4");
        assert!(state.admits("2001:db8::1".parse().unwrap()));
        assert!(!state.admits("192.0.3.1".parse().unwrap()));
        assert!(!state.admits("10.1.2.3".parse().unwrap()), "that grant ended");
        assert_eq!(next_review(Some(&s), &grants, now), Some(at("2024-01-06T13:00:00Z")));
        // After the IPv6 grant ends only the IPv4 one is left.
        let later = at("2024-01-06T13:30:00Z");
        assert_eq!(decide(Some(&s), &grants, later), AccessState::OpenFor(vec![net("192.0.2.0/24")]));
        // A grant for every source outranks the limited ones.
        let mut all = grants.to_vec();
        all.push(AccessGrant { net: None, until });
        assert_eq!(decide(Some(&s), &all, now), AccessState::Open);
    }

    #[test]
    fn per_user_windows() {
        let alice = utc(&["Mon-Fri 09:00-17:00"]);
        assert!(user_allowed(Some(&alice), at("2024-01-01T09:00:00Z")));
        assert!(!user_allowed(Some(&alice), at("2024-01-01T17:00:00Z")));
        assert!(!user_allowed(Some(&alice), at("2024-01-06T12:00:00Z")));
        assert!(user_allowed(None, at("2024-01-06T12:00:00Z")));
    }

    #[test]
    fn schedules_print_with_their_zone() {
        let s = AccessSchedule::parse(&["Mon-Fri 08:00-18:00", "sat 10:00-12:00"], "europe/berlin").unwrap();
        assert_eq!(s.to_string(), "Mon-Fri 08:00-18:00, Sat 10:00-12:00 (Europe/Berlin)");
        assert_eq!(s.windows().len(), 2);
        assert_eq!(s.zone().name(), "Europe/Berlin");
        assert_eq!(s.zone().format_local(at("2024-07-01T06:00:00Z")), "Mon 2024-07-01 08:00");
    }
}
