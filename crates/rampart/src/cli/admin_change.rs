//! Recording an administrator's change (users, bans, access grants) in the audit trail.

use anyhow::Context;
use rampart_audit::{Event, EventKind, Outcome, UnixMillis};
use rampart_store::Store;

/// Who made the change. Events have no actor field yet, so it goes in the reason: "who did
/// this" is the first question about an admin change.
pub(super) fn actor() -> String {
    format!("cli uid {}", rustix::process::getuid().as_raw())
}

/// Keeps a reason on one line of a listing.
pub(super) fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// Append the event for a change that has already been made.
pub(super) fn record(
    store: &mut Store,
    now: UnixMillis,
    kind: EventKind,
    user: Option<&str>,
    reason: String,
) -> anyhow::Result<()> {
    let mut event = Event::new(now, kind, Outcome::Success).with_reason(reason);
    if let Some(user) = user {
        event = event.with_user(user);
    }
    store
        .append_event(&event)
        .context("the change was made but its audit event could not be written")?;
    Ok(())
}
