//! The supervisor's hold on one connection's admission slots (`policy::Admission` stays
//! pure; this is the edge that owns the table). The slots are given back when the hold is
//! dropped, so a connection task that panics, returns early or is cancelled cannot leak
//! them until a restart.

use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rampart_policy::{Admission, Refusal, Ticket, UnixMillis};

/// The admission table shared by the accept path and every connection.
pub(crate) type AdmissionTable = Arc<Mutex<Admission>>;

/// The table, even after a panic elsewhere: `Admission` never panics itself and keeps its
/// counts consistent between calls, so a poisoned lock must not stop slots coming back.
fn lock(table: &Mutex<Admission>) -> MutexGuard<'_, Admission> {
    table.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One admitted connection's slots (pending and live, per source and in total). Dropping
/// it releases them.
#[derive(Debug)]
pub(crate) struct AdmissionSlot {
    table: AdmissionTable,
    /// `None` only during drop.
    ticket: Option<Ticket>,
}

impl AdmissionSlot {
    /// Asks the table to admit a connection from `ip` at `now`.
    pub(crate) fn admit(table: &AdmissionTable, ip: IpAddr, now: UnixMillis) -> Result<Self, Refusal> {
        let ticket = lock(table).admit(ip, now)?;
        Ok(Self {
            table: Arc::clone(table),
            ticket: Some(ticket),
        })
    }

    /// Every factor passed: the connection stops counting as pending (it stays live).
    pub(crate) fn authenticated(&mut self) {
        if let Some(ticket) = self.ticket.as_mut() {
            lock(&self.table).authenticated(ticket);
        }
    }
}

impl Drop for AdmissionSlot {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            lock(&self.table).closed(ticket);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_policy::AdmissionLimits;

    const NOW: UnixMillis = UnixMillis(1_800_000_000_000);

    fn table() -> AdmissionTable {
        Arc::new(Mutex::new(Admission::new(
            AdmissionLimits {
                max_pending_per_ip: 2,
                max_pending_total: 10,
                max_connections_total: 10,
                max_connections_per_ip: 3,
                max_connection_rate_per_ip: 0,
                max_connection_rate_total: 0,
            },
            64,
        )))
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn counts(table: &AdmissionTable, from: &str) -> (u32, u32, u32, u32) {
        let a = lock(table);
        (a.pending_total(), a.pending_from(ip(from)), a.connections(), a.connections_from(ip(from)))
    }

    #[tokio::test]
    async fn a_panicking_connection_task_gives_its_slots_back() {
        let table = table();
        let pending = AdmissionSlot::admit(&table, ip("10.0.0.1"), NOW).unwrap();
        let mut authenticated = AdmissionSlot::admit(&table, ip("10.0.0.1"), NOW).unwrap();
        authenticated.authenticated();
        let _other = AdmissionSlot::admit(&table, ip("10.0.0.2"), NOW).unwrap();
        assert_eq!(counts(&table, "10.0.0.1"), (2, 1, 3, 2));

        // Two connection tasks die holding their slots, as a bug in one would make them.
        let tasks = [pending, authenticated].map(|slot| {
            tokio::spawn(async move {
                let _slot = slot;
                tokio::task::yield_now().await;
                panic!("connection task failed");
            })
        });
        for task in tasks {
            assert!(task.await.unwrap_err().is_panic());
        }

        // Their slots are back, per source and in total; the other source keeps its own.
        assert_eq!(counts(&table, "10.0.0.1"), (1, 0, 1, 0));
        assert_eq!(counts(&table, "10.0.0.2"), (1, 1, 1, 1));
        // And the source may use its whole budget again.
        let _a = AdmissionSlot::admit(&table, ip("10.0.0.1"), NOW).unwrap();
        let _b = AdmissionSlot::admit(&table, ip("10.0.0.1"), NOW).unwrap();
        assert_eq!(AdmissionSlot::admit(&table, ip("10.0.0.1"), NOW).unwrap_err(), Refusal::PendingPerIp);
    }

    #[tokio::test]
    async fn a_task_that_returns_early_or_is_aborted_gives_its_slots_back() {
        let table = table();
        let early = AdmissionSlot::admit(&table, ip("2001:db8::1"), NOW).unwrap();
        tokio::spawn(async move {
            let _slot = early;
        })
        .await
        .unwrap();
        let held = AdmissionSlot::admit(&table, ip("2001:db8::2"), NOW).unwrap();
        let task = tokio::spawn(async move {
            let _slot = held;
            std::future::pending::<()>().await;
        });
        assert_eq!(counts(&table, "2001:db8::3"), (1, 1, 1, 1));
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        assert_eq!(counts(&table, "2001:db8::3"), (0, 0, 0, 0));
    }

    #[test]
    fn slots_come_back_even_when_the_table_lock_was_poisoned() {
        let table = table();
        let slot = AdmissionSlot::admit(&table, ip("10.0.0.1"), NOW).unwrap();
        let poisoner = Arc::clone(&table);
        let _ = std::thread::spawn(move || {
            let _held = poisoner.lock().unwrap();
            panic!("poison the admission lock");
        })
        .join();
        assert!(table.is_poisoned());
        drop(slot);
        assert_eq!(counts(&table, "10.0.0.1"), (0, 0, 0, 0));
    }
}
