//! TOTP enrollment and second-factor checks.
//!
//! The TOTP secret is sealed like the NT hash; the last accepted step is stored with it so
//! that a code is good once, across connections and restarts. Recovery codes are stored as
//! keyed hashes and marked used, never deleted, until the next enrollment replaces them.
//! Wrong codes are counted per user (since the last good code) in the same transaction as
//! the check, so attempts at the prompt belong to the user, not to a connection.

use rampart_audit::UnixMillis;
use rampart_auth::recovery::{classify, Entered, RecoveryCode};
use rampart_auth::sealed::Purpose;
use rampart_auth::totp::{self, TotpError, TotpSecret};
use rusqlite::{params, OptionalExtension};

use crate::{Store, StoreError};

/// A user's second factor, without secrets (for listing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MfaSummary {
    /// When the current TOTP secret was enrolled; `None`: not enrolled.
    pub enrolled: Option<UnixMillis>,
    pub recovery_codes_left: u32,
}

/// The result of checking what a user typed at the two-step prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// A good TOTP code for a step not used before.
    Totp,
    /// An unused recovery code, now used; this many remain.
    Recovery { left: u32 },
    /// A code that was right but already used (its step, or a used recovery code).
    Replayed,
    /// Wrong, or not a code at all.
    Wrong,
    /// The user has no TOTP secret.
    NotEnrolled,
}

impl CodeCheck {
    pub fn accepted(self) -> bool {
        matches!(self, Self::Totp | Self::Recovery { .. })
    }
}

impl Store {
    /// Enrolls (or re-enrolls) `name` with a new TOTP secret and recovery codes, replacing
    /// any earlier secret, its replay state and all earlier codes.
    pub fn enroll_totp(
        &mut self,
        name: &str,
        secret: &TotpSecret,
        codes: &[RecoveryCode],
        now: UnixMillis,
    ) -> Result<(), StoreError> {
        self.put_totp(name, secret, codes, now, true)
    }

    /// Like [`Store::enroll_totp`], but refuses (`AlreadyEnrolled`) a user who has a secret,
    /// checked in the same transaction: two concurrent first enrollments cannot both win.
    pub fn enroll_new_totp(
        &mut self,
        name: &str,
        secret: &TotpSecret,
        codes: &[RecoveryCode],
        now: UnixMillis,
    ) -> Result<(), StoreError> {
        self.put_totp(name, secret, codes, now, false)
    }

    fn put_totp(
        &mut self,
        name: &str,
        secret: &TotpSecret,
        codes: &[RecoveryCode],
        now: UnixMillis,
        replace: bool,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let found: Option<(String, bool)> = tx
            .query_row(
                "SELECT name, totp_sealed IS NOT NULL FROM users WHERE name = ?1 COLLATE NOCASE",
                params![name],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let Some((canonical, enrolled)) = found else {
            return Err(StoreError::NoSuchUser(name.to_owned()));
        };
        if enrolled && !replace {
            return Err(StoreError::AlreadyEnrolled(canonical));
        }
        let sealed = self.sealer.seal(Purpose::TotpSecret, &canonical, secret.as_bytes());
        tx.execute(
            "UPDATE users SET totp_sealed = ?2, totp_last_step = NULL, totp_enrolled = ?3 WHERE name = ?1",
            params![canonical, sealed, now.0],
        )?;
        tx.execute("DELETE FROM recovery_codes WHERE user = ?1", params![canonical])?;
        for code in codes {
            let digest = self.codes.digest(&canonical, code.expose());
            tx.execute(
                "INSERT OR IGNORE INTO recovery_codes (user, digest) VALUES (?1, ?2)",
                params![canonical, &digest[..]],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Removes `name`'s TOTP secret and recovery codes; returns whether one was enrolled.
    pub fn remove_totp(&mut self, name: &str) -> Result<bool, StoreError> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let enrolled: Option<bool> = tx
            .query_row(
                "SELECT totp_sealed IS NOT NULL FROM users WHERE name = ?1 COLLATE NOCASE",
                params![name],
                |row| row.get(0),
            )
            .optional()?;
        let Some(enrolled) = enrolled else {
            return Err(StoreError::NoSuchUser(name.to_owned()));
        };
        tx.execute(
            "UPDATE users SET totp_sealed = NULL, totp_last_step = NULL, totp_enrolled = NULL
             WHERE name = ?1 COLLATE NOCASE",
            params![name],
        )?;
        tx.execute("DELETE FROM recovery_codes WHERE user = ?1 COLLATE NOCASE", params![name])?;
        tx.commit()?;
        Ok(enrolled)
    }

    /// Checks what `name` typed at the prompt at time `now`: a TOTP code (±1 step, each
    /// step good once) or a recovery code (good once). An accepted code is recorded as used
    /// in the same transaction, so two connections cannot both use it.
    pub fn check_second_factor(&mut self, name: &str, typed: &str, now: UnixMillis) -> Result<CodeCheck, StoreError> {
        Ok(self.check_second_factor_counted(name, typed, now, now)?.0)
    }

    /// Wrong codes `name` typed since the last good one, counting only a run whose last
    /// failure is at or after `since` (an older run is forgotten).
    pub fn code_failures(&self, name: &str, since: UnixMillis) -> Result<u32, StoreError> {
        let count: Option<u32> = self
            .conn
            .query_row(
                "SELECT count FROM code_failures WHERE user = ?1 COLLATE NOCASE AND last_ms >= ?2",
                params![name, since.0],
                |row| row.get(0),
            )
            .optional()?;
        Ok(count.unwrap_or(0))
    }

    /// [`Store::check_second_factor`], counting in the same transaction: a good code clears
    /// the user's wrong codes, any other answer adds one (a run whose last failure is
    /// before `since` starts again at one). Returns the check and the wrong codes now on
    /// record.
    pub fn check_second_factor_counted(
        &mut self,
        name: &str,
        typed: &str,
        now: UnixMillis,
        since: UnixMillis,
    ) -> Result<(CodeCheck, u32), StoreError> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let row: Option<(String, Option<Vec<u8>>, Option<i64>)> = tx
            .query_row(
                "SELECT name, totp_sealed, totp_last_step FROM users WHERE name = ?1 COLLATE NOCASE",
                params![name],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?;
        let Some((canonical, Some(sealed), last_step)) = row else {
            return Ok((CodeCheck::NotEnrolled, 0));
        };
        let check = match classify(typed) {
            Entered::Totp(code) => {
                let secret = self
                    .sealer
                    .open(Purpose::TotpSecret, &canonical, &sealed)
                    .map_err(|source| StoreError::Sealed {
                        user: canonical.clone(),
                        what: "totp secret",
                        source,
                    })?;
                let secret = TotpSecret::from_bytes(secret.to_vec());
                let unix_secs = u64::try_from(now.0 / 1000).unwrap_or(0);
                let last = last_step.and_then(|s| u64::try_from(s).ok());
                match totp::verify(&secret, &code, unix_secs, last) {
                    Ok(step) => {
                        let step = i64::try_from(step).map_err(|_| StoreError::Corrupt("totp step out of range".into()))?;
                        tx.execute(
                            "UPDATE users SET totp_last_step = ?2 WHERE name = ?1",
                            params![canonical, step],
                        )?;
                        CodeCheck::Totp
                    }
                    Err(TotpError::Replayed) => CodeCheck::Replayed,
                    Err(_) => CodeCheck::Wrong,
                }
            }
            Entered::Recovery(code) => {
                let digest = self.codes.digest(&canonical, code.expose());
                let used: Option<Option<i64>> = tx
                    .query_row(
                        "SELECT used_ms FROM recovery_codes WHERE user = ?1 AND digest = ?2",
                        params![canonical, &digest[..]],
                        |row| row.get(0),
                    )
                    .optional()?;
                match used {
                    None => CodeCheck::Wrong,
                    Some(Some(_)) => CodeCheck::Replayed,
                    Some(None) => {
                        tx.execute(
                            "UPDATE recovery_codes SET used_ms = ?3 WHERE user = ?1 AND digest = ?2",
                            params![canonical, &digest[..], now.0],
                        )?;
                        let left: u32 = tx.query_row(
                            "SELECT count(*) FROM recovery_codes WHERE user = ?1 AND used_ms IS NULL",
                            params![canonical],
                            |row| row.get(0),
                        )?;
                        CodeCheck::Recovery { left }
                    }
                }
            }
            Entered::Malformed => CodeCheck::Wrong,
        };
        let failures = if check.accepted() {
            tx.execute("DELETE FROM code_failures WHERE user = ?1", params![canonical])?;
            0
        } else {
            tx.query_row(
                "INSERT INTO code_failures (user, count, last_ms) VALUES (?1, 1, ?2)
                 ON CONFLICT (user) DO UPDATE SET
                     count = CASE WHEN last_ms >= ?3 THEN count + 1 ELSE 1 END,
                     last_ms = excluded.last_ms
                 RETURNING count",
                params![canonical, now.0, since.0],
                |row| row.get(0),
            )?
        };
        tx.commit()?;
        Ok((check, failures))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::NewUser;
    use rampart_auth::recovery::generate_codes;
    use rampart_auth::sealed::HostKey;
    use rampart_auth::{NtHash, Password};

    const T0: i64 = 1_700_000_000_000;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("rampart.db"), &dir.path().join("host.key")).unwrap();
        store
            .add_user(&NewUser {
                name: "alice".into(),
                unix_user: "alice".into(),
                nt_hash: NtHash::from_password(&Password::new("x".into())),
                now: UnixMillis(1),
            })
            .unwrap();
        (dir, store)
    }

    fn code(secret: &TotpSecret, at_ms: i64) -> String {
        totp::code_at(secret, u64::try_from(at_ms / 1000).unwrap())
    }

    #[test]
    fn not_enrolled_until_enrolled() {
        let (_dir, mut store) = store();
        assert_eq!(store.check_second_factor("alice", "123456", UnixMillis(T0)).unwrap(), CodeCheck::NotEnrolled);
        assert_eq!(store.check_second_factor("nobody", "123456", UnixMillis(T0)).unwrap(), CodeCheck::NotEnrolled);
        assert!(!store.get_user("alice").unwrap().unwrap().mfa_enrolled);
        let err = store.enroll_totp("bob", &TotpSecret::generate(), &[], UnixMillis(T0)).unwrap_err();
        assert!(matches!(err, StoreError::NoSuchUser(_)));
    }

    #[test]
    fn totp_codes_drift_and_replay() {
        let (_dir, mut store) = store();
        let secret = TotpSecret::generate();
        store.enroll_totp("alice", &secret, &generate_codes(), UnixMillis(T0)).unwrap();
        assert!(store.get_user("alice").unwrap().unwrap().mfa_enrolled);
        // A code from one step ago is accepted (drift), once.
        let previous = code(&secret, T0 - 30_000);
        assert_eq!(store.check_second_factor("ALICE", &previous, UnixMillis(T0)).unwrap(), CodeCheck::Totp);
        assert_eq!(store.check_second_factor("alice", &previous, UnixMillis(T0)).unwrap(), CodeCheck::Replayed);
        // The current one is a later step: accepted once, then replayed, also after a reopen.
        let current = code(&secret, T0);
        assert_eq!(store.check_second_factor("alice", &current, UnixMillis(T0 + 1000)).unwrap(), CodeCheck::Totp);
        assert_eq!(store.check_second_factor("alice", &current, UnixMillis(T0 + 2000)).unwrap(), CodeCheck::Replayed);
        // Two steps away is outside the window.
        let far = code(&secret, T0 + 90_000);
        if far != current {
            assert_eq!(store.check_second_factor("alice", &far, UnixMillis(T0)).unwrap(), CodeCheck::Wrong);
        }
        assert_eq!(store.check_second_factor("alice", "abc", UnixMillis(T0)).unwrap(), CodeCheck::Wrong);
    }

    #[test]
    fn replay_state_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let (db, key) = (dir.path().join("rampart.db"), dir.path().join("host.key"));
        let secret = TotpSecret::generate();
        let current = code(&secret, T0);
        {
            let mut store = Store::open(&db, &key).unwrap();
            store
                .add_user(&NewUser {
                    name: "alice".into(),
                    unix_user: "alice".into(),
                    nt_hash: NtHash::from_bytes([1; 16]),
                    now: UnixMillis(1),
                })
                .unwrap();
            store.enroll_totp("alice", &secret, &[], UnixMillis(T0)).unwrap();
            assert_eq!(store.check_second_factor("alice", &current, UnixMillis(T0)).unwrap(), CodeCheck::Totp);
        }
        let mut store = Store::open(&db, &key).unwrap();
        assert_eq!(store.check_second_factor("alice", &current, UnixMillis(T0)).unwrap(), CodeCheck::Replayed);
    }

    #[test]
    fn recovery_codes_are_consumed() {
        let (_dir, mut store) = store();
        let codes = generate_codes();
        store.enroll_totp("alice", &TotpSecret::generate(), &codes, UnixMillis(T0)).unwrap();
        let first = codes[0].display();
        assert_eq!(
            store.check_second_factor("alice", &first.to_uppercase(), UnixMillis(T0)).unwrap(),
            CodeCheck::Recovery { left: 9 }
        );
        assert_eq!(store.check_second_factor("alice", &first, UnixMillis(T0)).unwrap(), CodeCheck::Replayed);
        assert_eq!(
            store.check_second_factor("alice", codes[1].expose(), UnixMillis(T0)).unwrap(),
            CodeCheck::Recovery { left: 8 }
        );
        assert_eq!(
            store.check_second_factor("alice", RecoveryCode::generate().expose(), UnixMillis(T0)).unwrap(),
            CodeCheck::Wrong
        );
        let summary = store.list_users().unwrap().remove(0).mfa;
        assert_eq!(summary.recovery_codes_left, 8);
        assert_eq!(summary.enrolled, Some(UnixMillis(T0)));
    }

    #[test]
    fn wrong_codes_are_counted_per_user_until_a_good_one() {
        let (_dir, mut store) = store();
        let secret = TotpSecret::generate();
        store.enroll_totp("alice", &secret, &generate_codes(), UnixMillis(T0)).unwrap();
        let since = UnixMillis(T0 - 600_000);
        assert_eq!(store.code_failures("alice", since).unwrap(), 0);
        let wrong = |store: &mut Store, at: i64, since: i64| {
            store
                .check_second_factor_counted("ALICE", "abc", UnixMillis(at), UnixMillis(since))
                .unwrap()
        };
        assert_eq!(wrong(&mut store, T0, T0 - 600_000), (CodeCheck::Wrong, 1));
        assert_eq!(wrong(&mut store, T0 + 1, T0 - 600_000), (CodeCheck::Wrong, 2));
        // Another connection, the same user: the count goes on.
        assert_eq!(store.code_failures("alice", since).unwrap(), 2);
        // A run older than `since` is forgotten: not counted, and restarted by a new failure.
        assert_eq!(store.code_failures("alice", UnixMillis(T0 + 2)).unwrap(), 0);
        assert_eq!(wrong(&mut store, T0 + 700_000, T0 + 100_000), (CodeCheck::Wrong, 1));
        assert_eq!(wrong(&mut store, T0 + 700_001, T0 + 100_000), (CodeCheck::Wrong, 2));
        // A good code clears the count.
        let good = code(&secret, T0 + 700_000);
        let (check, failures) = store
            .check_second_factor_counted("alice", &good, UnixMillis(T0 + 700_002), UnixMillis(T0))
            .unwrap();
        assert_eq!((check, failures), (CodeCheck::Totp, 0));
        assert_eq!(store.code_failures("alice", UnixMillis(0)).unwrap(), 0);
        // A replayed code counts as a failure.
        let (check, failures) = store
            .check_second_factor_counted("alice", &good, UnixMillis(T0 + 700_003), UnixMillis(T0))
            .unwrap();
        assert_eq!((check, failures), (CodeCheck::Replayed, 1));
        // Deleting the user deletes the count.
        store.delete_user("alice").unwrap();
        assert_eq!(store.code_failures("alice", UnixMillis(0)).unwrap(), 0);
    }

    #[test]
    fn reenrolling_replaces_secret_and_codes() {
        let (_dir, mut store) = store();
        let (old_secret, old_codes) = (TotpSecret::generate(), generate_codes());
        store.enroll_totp("alice", &old_secret, &old_codes, UnixMillis(T0)).unwrap();
        store.enroll_totp("alice", &TotpSecret::generate(), &generate_codes(), UnixMillis(T0)).unwrap();
        assert_eq!(store.check_second_factor("alice", old_codes[0].expose(), UnixMillis(T0)).unwrap(), CodeCheck::Wrong);
        let old = code(&old_secret, T0);
        assert_ne!(store.check_second_factor("alice", &old, UnixMillis(T0)).unwrap(), CodeCheck::Totp);
        let err = store
            .enroll_new_totp("ALICE", &TotpSecret::generate(), &[], UnixMillis(T0))
            .unwrap_err();
        assert!(matches!(err, StoreError::AlreadyEnrolled(ref n) if n == "alice"), "{err:?}");
        assert!(store.remove_totp("alice").unwrap());
        assert!(!store.remove_totp("alice").unwrap());
        assert_eq!(store.list_users().unwrap()[0].mfa, MfaSummary::default());
    }

    #[test]
    fn secrets_are_not_stored_in_clear() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("rampart.db");
        let mut store = Store::open(&db, &dir.path().join("host.key")).unwrap();
        let hash = NtHash::from_bytes(*b"NTHASH-0123456789"[..16].first_chunk().unwrap());
        store
            .add_user(&NewUser {
                name: "alice".into(),
                unix_user: "alice".into(),
                nt_hash: hash.clone(),
                now: UnixMillis(1),
            })
            .unwrap();
        let secret = TotpSecret::from_bytes(b"TOTPSECRET-abcdefghij".to_vec());
        store.enroll_totp("alice", &secret, &[], UnixMillis(T0)).unwrap();
        drop(store);
        let mut raw = std::fs::read(&db).unwrap();
        if let Ok(wal) = std::fs::read(dir.path().join("rampart.db-wal")) {
            raw.extend(wal);
        }
        assert!(!raw.windows(16).any(|w| w == hash.as_bytes()));
        assert!(!raw.windows(secret.as_bytes().len()).any(|w| w == secret.as_bytes()));
    }

    #[test]
    fn wrong_host_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("rampart.db");
        let key = dir.path().join("host.key");
        drop(Store::open(&db, &key).unwrap());
        let err = Store::open_with_key(&db, &HostKey::generate()).unwrap_err();
        assert!(matches!(err, StoreError::WrongHostKey(_)), "{err:?}");
        // A store that holds sealed values never mints a new key for itself.
        std::fs::remove_file(&key).unwrap();
        let err = Store::open(&db, &key).unwrap_err().to_string();
        assert!(err.contains("missing") && err.contains("sealed with it"), "{err}");
        assert!(!key.exists());
    }
}
