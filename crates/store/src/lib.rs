//! The one place that touches SQLite: users, their credential material, audit events,
//! source bans, the brute-force guard's memory (failure counts, known-good sources) and
//! just-in-time access grants.
//!
//! Invariants:
//! - The database file is mode 0600 and owned by the user running Rampart. [`Store::open`]
//!   creates it that way and fixes the mode of an existing file (and of its WAL/SHM side
//!   files).
//! - Credential material (NT hashes, TOTP secrets) is stored only sealed with the host key
//!   (a separate 0600 file, [`host_key`]); recovery codes only as keyed hashes. A database
//!   sealed with one host key refuses to open with another. `secure_delete` is on, so
//!   replaced secrets are overwritten, not left in free pages.
//! - Every audit event is committed with `synchronous=FULL` before its append returns: on
//!   its own ([`Store::append_event`]) or with a batch of others in one transaction
//!   ([`Store::append_events_linked`]: all of them on disk, each chained to the one before,
//!   or none).
//! - The schema is versioned with `PRAGMA user_version`; migrations only ever append.
//! - No clock is read here: callers stamp times ([`UnixMillis`]).

use std::fs::{self, OpenOptions, Permissions};
use std::net::SocketAddr;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rampart_audit::chain::{self, ChainHead, ChainKey, ChainRecord, ChainRow, ChainStart, Hash, Verdict};
use rampart_audit::{Event, EventKind, Outcome, UnixMillis, SCHEMA_VERSION};
use rampart_auth::sealed::{CodeHasher, HostKey, Purpose, SealError, Sealer};
use rampart_auth::{validate_user_name, NameError, NtHash};
use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension, Row};
use zeroize::Zeroizing;

/// How long a writer waits for another process's lock (e.g. the CLI while the server
/// appends events) before giving up.
pub mod host_key;
mod mfa;

pub use mfa::{CodeCheck, MfaSummary};

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Schema migrations, applied in order; `PRAGMA user_version` is the number applied.
/// Only ever append to this list.
const MIGRATIONS: &[&str] = &[
    // 1: users and audit events.
    "CREATE TABLE users (
        name             TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
        unix_user        TEXT NOT NULL,
        nt_hash          BLOB NOT NULL CHECK (length(nt_hash) = 16),
        created          INTEGER NOT NULL,
        password_changed INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE events (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        schema      INTEGER NOT NULL,
        time        INTEGER NOT NULL,
        kind        TEXT NOT NULL,
        outcome     TEXT NOT NULL,
        peer        TEXT,
        user        TEXT,
        domain      TEXT,
        connection  INTEGER,
        reason      TEXT
    ) STRICT;
    CREATE INDEX events_time ON events (time);
    CREATE INDEX events_kind ON events (kind, id);
    CREATE INDEX events_user ON events (user COLLATE NOCASE, id);",
    // 2: bans on source networks (automatic and manual); the server polls this table, so
    // `rampart ban add/del` reaches a running server.
    "CREATE TABLE bans (
        net         TEXT NOT NULL PRIMARY KEY,
        until_ms    INTEGER NOT NULL,
        repeat      INTEGER NOT NULL CHECK (repeat >= 0),
        reason      TEXT NOT NULL,
        created_ms  INTEGER NOT NULL
    ) STRICT;",
    // 3: just-in-time access grants (`rampart access open`); the server polls this table to
    // open its port outside the access windows. `net` NULL: every source.
    "CREATE TABLE access_grants (
        id          INTEGER PRIMARY KEY,
        net         TEXT NULL,
        until_ms    INTEGER NOT NULL,
        created_ms  INTEGER NOT NULL,
        reason      TEXT NOT NULL
    ) STRICT;
    CREATE INDEX access_grants_until ON access_grants (until_ms);",
    // 4: credential material sealed with the host key; account lock; TOTP enrollment and
    // recovery codes. The v3 plaintext NT hash moves to `legacy_nt_hash`, which
    // `Store::open` seals and clears at once (it needs the key, so it is not SQL).
    "CREATE TABLE users_v4 (
        name             TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
        unix_user        TEXT NOT NULL,
        nt_hash_sealed   BLOB NULL,
        legacy_nt_hash   BLOB NULL CHECK (legacy_nt_hash IS NULL OR length(legacy_nt_hash) = 16),
        created          INTEGER NOT NULL,
        password_changed INTEGER NOT NULL,
        locked           INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
        totp_sealed      BLOB NULL,
        totp_last_step   INTEGER NULL,
        totp_enrolled    INTEGER NULL,
        CHECK (nt_hash_sealed IS NOT NULL OR legacy_nt_hash IS NOT NULL)
    ) STRICT;
    INSERT INTO users_v4 (name, unix_user, legacy_nt_hash, created, password_changed)
        SELECT name, unix_user, nt_hash, created, password_changed FROM users;
    DROP TABLE users;
    ALTER TABLE users_v4 RENAME TO users;
    CREATE TABLE recovery_codes (
        user        TEXT NOT NULL COLLATE NOCASE REFERENCES users (name) ON DELETE CASCADE ON UPDATE CASCADE,
        digest      BLOB NOT NULL CHECK (length(digest) = 32),
        used_ms     INTEGER NULL,
        PRIMARY KEY (user, digest)
    ) STRICT;
    CREATE TABLE meta (
        key         TEXT NOT NULL PRIMARY KEY,
        value       BLOB NOT NULL
    ) STRICT;",
    // 5: the audit chain (docs/audit.md): each event stores the link before it and its own,
    // HMAC-SHA-256 under a key from the host key; the genesis link is bound to a random store
    // id. Events written before this version are chained in the same transaction
    // (`Store::migrate`), once: nothing chains unchained rows later.
    "ALTER TABLE events ADD COLUMN prev BLOB NULL;
    ALTER TABLE events ADD COLUMN hash BLOB NULL;
    CREATE INDEX events_hash ON events (hash);
    INSERT OR IGNORE INTO meta (key, value) VALUES ('audit_store_id', randomblob(16));",
    // 6: wrong second-factor codes per user since the last good one, so the prompt's
    // attempts are the user's, across connections, and no worker can reset them.
    "CREATE TABLE code_failures (
        user        TEXT NOT NULL PRIMARY KEY COLLATE NOCASE
                    REFERENCES users (name) ON DELETE CASCADE ON UPDATE CASCADE,
        count       INTEGER NOT NULL CHECK (count > 0),
        last_ms     INTEGER NOT NULL
    ) STRICT;",
    // 7 (guard memory): what the brute-force guard must not forget on a restart. Sources
    // that logged in as a user (known-good: the account lockout spares them), and the
    // failures in the window per source network and per user name with an account's
    // lockout, so a restart does not reset a ban or lockout in progress. `user` is the
    // guard's key (lowercased client input, not necessarily an enrolled user).
    "CREATE TABLE guard_known_good (
        user        TEXT NOT NULL,
        source      TEXT NOT NULL,
        at_ms       INTEGER NOT NULL,
        PRIMARY KEY (user, source)
    ) STRICT;
    CREATE TABLE guard_failures (
        scope        TEXT NOT NULL CHECK (scope IN ('source', 'account')),
        key          TEXT NOT NULL,
        times        TEXT NOT NULL,
        last_ms      INTEGER NOT NULL,
        locked_until INTEGER NULL,
        PRIMARY KEY (scope, key)
    ) STRICT;",
];

/// The schema version whose migration introduced the audit chain.
const CHAIN_MIGRATION: i64 = 5;
/// `meta` keys of the chain: the store id (genesis), the newest link and the retention
/// checkpoint (both `seq` as 8 big-endian bytes, then the 32-byte hash).
const META_STORE_ID: &str = "audit_store_id";
const META_HEAD: &str = "audit_head";
const META_CHECKPOINT: &str = "audit_checkpoint";

/// Errors from the store. Messages are one lowercase sentence.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a regular file", path.display())]
    NotRegularFile { path: PathBuf },
    #[error("{} is owned by uid {owner}, not by the current user (uid {current})", path.display())]
    WrongOwner {
        path: PathBuf,
        owner: u32,
        current: u32,
    },
    #[error("database schema version {found} is newer than this rampart supports ({supported})")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("user {0:?} already exists")]
    UserExists(String),
    #[error("user {0:?} is already enrolled; use `rampart mfa reset {0}` to replace the secret")]
    AlreadyEnrolled(String),
    #[error("no such user {0:?}")]
    NoSuchUser(String),
    #[error(transparent)]
    InvalidName(#[from] NameError),
    #[error("host key {}: {problem}", path.display())]
    HostKey { path: PathBuf, problem: String },
    #[error("the host key does not open this store's secrets: {0} (restore the key file the store was created with)")]
    WrongHostKey(SealError),
    #[error("user {user:?}: stored {what} does not open: {source}")]
    Sealed {
        user: String,
        what: &'static str,
        #[source]
        source: SealError,
    },
    #[error("corrupt store: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// A user to enroll.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub unix_user: String,
    pub nt_hash: NtHash,
    pub now: UnixMillis,
}

/// A stored user, with credential material (for NLA lookup).
#[derive(Debug, Clone)]
pub struct UserRecord {
    /// The canonical (stored) name, whatever case the lookup used.
    pub name: String,
    pub unix_user: String,
    pub nt_hash: NtHash,
    pub created: UnixMillis,
    pub password_changed: UnixMillis,
    /// An administrator locked the account (`rampart user lock`).
    pub locked: bool,
    /// A TOTP secret is enrolled.
    pub mfa_enrolled: bool,
}

/// A stored user without credential material (for listing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    pub name: String,
    pub unix_user: String,
    pub created: UnixMillis,
    pub password_changed: UnixMillis,
    pub locked: bool,
    pub mfa: MfaSummary,
}

/// Which events [`Store::events`] returns: all filters must match; the newest `limit`
/// matches are returned, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter {
    /// Only events at or after this time.
    pub since: Option<UnixMillis>,
    pub kind: Option<EventKind>,
    /// Only events for this user (case-insensitive).
    pub user: Option<String>,
    /// At most this many events (the newest ones).
    pub limit: usize,
}

impl Default for EventFilter {
    /// No filter, the newest 1000 events.
    fn default() -> Self {
        Self {
            since: None,
            kind: None,
            user: None,
            limit: 1000,
        }
    }
}

/// Which events [`Store::scan_events`] visits: every given filter must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// At or after this time.
    pub since: Option<UnixMillis>,
    /// Before this time.
    pub until: Option<UnixMillis>,
    /// Any of these kinds (empty: every kind).
    pub kinds: Vec<EventKind>,
    /// This user (case-insensitive).
    pub user: Option<String>,
    /// Only events after this sequence number (`tail -f`).
    pub after_seq: Option<i64>,
}

/// An event as stored: its sequence number (the row id) and its chain link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub seq: i64,
    pub event: Event,
    pub hash: Option<Hash>,
}

/// A stored ban on a source network. The network is kept as text in its canonical
/// `addr/prefix` form (the caller parses it, e.g. with `rampart_policy::IpNet`); `repeat` is 0
/// for a ban an administrator made, 1, 2, ... for automatic bans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanRecord {
    pub net: String,
    pub until: UnixMillis,
    pub repeat: u32,
    pub reason: String,
    pub created: UnixMillis,
}

/// A just-in-time access grant: the port is open until `until` for `net` (`addr/prefix`
/// form, parsed by the caller) or, when `net` is `None`, for every source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessGrantRecord {
    pub id: i64,
    pub net: Option<String>,
    pub until: UnixMillis,
    pub created: UnixMillis,
    pub reason: String,
}

/// A source that has logged in as a user (the brute-force guard's known-good pair).
/// `source` is the address as text; `user` the guard's key for the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownGoodRecord {
    pub user: String,
    pub source: String,
    pub at: UnixMillis,
}

/// Whose failures a [`GuardFailureRecord`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureScope {
    /// `key` is a source network in `addr/prefix` form.
    Source,
    /// `key` is a user name (the guard's key).
    Account,
}

impl FailureScope {
    fn code(self) -> &'static str {
        match self {
            Self::Source => "source",
            Self::Account => "account",
        }
    }
}

/// The brute-force guard's recent failures for one source or account. No times and no
/// lockout: nothing to keep ([`Store::put_guard_failures`] deletes the row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardFailureRecord {
    pub scope: FailureScope,
    pub key: String,
    /// Oldest first.
    pub times: Vec<UnixMillis>,
    pub locked_until: Option<UnixMillis>,
}

/// The SQLite store.
pub struct Store {
    conn: Connection,
    sealer: Sealer,
    codes: CodeHasher,
    chain: ChainKey,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.conn.path()).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` with the host key in `key_file`
    /// (created with a new key if neither it nor any sealed value exists yet).
    ///
    /// Mode 0600, WAL, `synchronous=FULL`, `secure_delete`, busy timeout 5 s, schema
    /// migrated to the current version, secrets of older versions sealed.
    pub fn open(path: &Path, key_file: &Path) -> Result<Self, StoreError> {
        let conn = Self::connect(path)?;
        let sealed_before = Self::has_key_check(&conn)?;
        let key = if sealed_before {
            // Never mint a fresh key for a store that already holds sealed values: that would
            // lock every user out for good. Say what is missing instead.
            host_key::load(key_file).map_err(|err| match err {
                StoreError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => StoreError::HostKey {
                    path: key_file.to_owned(),
                    problem: format!("missing, but the store {} was sealed with it", path.display()),
                },
                other => other,
            })?
        } else {
            host_key::load_or_create(key_file)?
        };
        Self::finish_open(conn, &key)
    }

    /// Opens the database at `path` with `key` (tests, and callers that hold the key).
    pub fn open_with_key(path: &Path, key: &HostKey) -> Result<Self, StoreError> {
        Self::finish_open(Self::connect(path)?, key)
    }

    fn connect(path: &Path) -> Result<Connection, StoreError> {
        secure_file(path)?;
        // SQLite creates the WAL and SHM files with the main file's mode; fix any left
        // behind by an older version or another tool.
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            let side = PathBuf::from(side);
            if fs::symlink_metadata(&side).is_ok() {
                secure_file(&side)?;
            }
        }

        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Corrupt(format!("cannot enable WAL journal (got {mode:?})")));
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        Ok(conn)
    }

    fn has_key_check(conn: &Connection) -> Result<bool, StoreError> {
        let has_meta: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'meta')",
            [],
            |row| row.get(0),
        )?;
        if !has_meta {
            return Ok(false);
        }
        Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM meta WHERE key = 'key_check')", [], |row| row.get(0))?)
    }

    fn finish_open(conn: Connection, key: &HostKey) -> Result<Self, StoreError> {
        let mut store = Self {
            conn,
            sealer: key.sealer(),
            codes: key.code_hasher(),
            chain: ChainKey::from_bytes(*key.audit_chain_key()),
        };
        store.migrate()?;
        store.check_key()?;
        store.seal_legacy_hashes()?;
        Ok(store)
    }

    /// The first open with a key stores a sealed check value; later opens must open it.
    fn check_key(&mut self) -> Result<(), StoreError> {
        const CHECK: &[u8] = b"rampart host key check";
        let found: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'key_check'", [], |row| row.get(0))
            .optional()?;
        match found {
            Some(sealed) => {
                let opened = self
                    .sealer
                    .open(Purpose::KeyCheck, "", &sealed)
                    .map_err(StoreError::WrongHostKey)?;
                if opened.as_slice() != CHECK {
                    return Err(StoreError::WrongHostKey(SealError::Unauthentic));
                }
            }
            None => {
                let sealed = self.sealer.seal(Purpose::KeyCheck, "", CHECK);
                self.conn.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('key_check', ?1)",
                    params![sealed],
                )?;
            }
        }
        Ok(())
    }

    /// Seals NT hashes left in clear by a version 3 store, then checkpoints the WAL so the
    /// clear copies are not left in it.
    fn seal_legacy_hashes(&mut self) -> Result<(), StoreError> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let legacy: Vec<(String, Zeroizing<Vec<u8>>)> = {
            let mut stmt = tx.prepare("SELECT name, legacy_nt_hash FROM users WHERE legacy_nt_hash IS NOT NULL")?;
            let rows = stmt.query_map([], |row| Ok((row.get(0)?, Zeroizing::new(row.get::<_, Vec<u8>>(1)?))))?;
            rows.collect::<Result<_, _>>()?
        };
        if legacy.is_empty() {
            return Ok(());
        }
        for (name, hash) in &legacy {
            let sealed = self.sealer.seal(Purpose::NtHash, name, hash);
            tx.execute(
                "UPDATE users SET nt_hash_sealed = ?2, legacy_nt_hash = NULL WHERE name = ?1",
                params![name, sealed],
            )?;
        }
        tx.commit()?;
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .optional()?;
        Ok(())
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let supported = i64::try_from(MIGRATIONS.len())
            .map_err(|_| StoreError::Corrupt("too many migrations".into()))?;
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let found: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if found > supported {
            return Err(StoreError::SchemaTooNew { found, supported });
        }
        let mut version = found;
        for sql in MIGRATIONS.iter().skip(usize::try_from(found).unwrap_or(0)) {
            tx.execute_batch(sql)?;
            version += 1;
            if version == CHAIN_MIGRATION {
                chain_existing_events(&tx, &self.chain)?;
            }
            tx.pragma_update(None, "user_version", version)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Enrolls a user. The name must pass [`validate_user_name`]; names are unique
    /// case-insensitively.
    pub fn add_user(&mut self, user: &NewUser) -> Result<(), StoreError> {
        validate_user_name(&user.name)?;
        let sealed = self.sealer.seal(Purpose::NtHash, &user.name, user.nt_hash.as_bytes());
        let result = self.conn.execute(
            "INSERT INTO users (name, unix_user, nt_hash_sealed, created, password_changed)
             VALUES (?1, ?2, ?3, ?4, ?4)",
            params![user.name, user.unix_user, sealed, user.now.0],
        );
        match result {
            Ok(_) => Ok(()),
            Err(err) if err.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
                Err(StoreError::UserExists(user.name.clone()))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Replaces a user's NT hash and stamps `password_changed`.
    pub fn set_nt_hash(&mut self, name: &str, hash: &NtHash, now: UnixMillis) -> Result<(), StoreError> {
        let sealed = self.sealer.seal(Purpose::NtHash, name, hash.as_bytes());
        let changed = self.conn.execute(
            "UPDATE users SET nt_hash_sealed = ?2, legacy_nt_hash = NULL, password_changed = ?3
             WHERE name = ?1 COLLATE NOCASE",
            params![name, sealed, now.0],
        )?;
        if changed == 0 {
            return Err(StoreError::NoSuchUser(name.to_owned()));
        }
        Ok(())
    }

    /// Locks or unlocks an account; a locked account cannot log in. Returns whether the
    /// state changed.
    pub fn set_locked(&mut self, name: &str, locked: bool) -> Result<bool, StoreError> {
        let exists: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM users WHERE name = ?1 COLLATE NOCASE)",
            params![name],
            |row| row.get(0),
        )?;
        if !exists {
            return Err(StoreError::NoSuchUser(name.to_owned()));
        }
        let changed = self.conn.execute(
            "UPDATE users SET locked = ?2 WHERE name = ?1 COLLATE NOCASE AND locked != ?2",
            params![name, i64::from(locked)],
        )?;
        Ok(changed > 0)
    }

    pub fn delete_user(&mut self, name: &str) -> Result<(), StoreError> {
        let changed = self
            .conn
            .execute("DELETE FROM users WHERE name = ?1 COLLATE NOCASE", params![name])?;
        if changed == 0 {
            return Err(StoreError::NoSuchUser(name.to_owned()));
        }
        Ok(())
    }

    /// Looks a user up by name, case-insensitively (RDP clients vary the case); the record
    /// carries the canonical name and the opened NT hash.
    pub fn get_user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT name, unix_user, nt_hash_sealed, created, password_changed, locked,
                        totp_sealed IS NOT NULL
                 FROM users WHERE name = ?1 COLLATE NOCASE",
                params![name],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, Option<Vec<u8>>>(2)?,
                        row.get::<_, i64>(3)?,
                        row.get::<_, i64>(4)?,
                        row.get::<_, bool>(5)?,
                        row.get::<_, bool>(6)?,
                    ))
                },
            )
            .optional()?;
        let Some((name, unix_user, sealed, created, password_changed, locked, mfa_enrolled)) = row else {
            return Ok(None);
        };
        let sealed = sealed.ok_or_else(|| StoreError::Corrupt(format!("nt hash of user {name:?} is not sealed")))?;
        let opened = self
            .sealer
            .open(Purpose::NtHash, &name, &sealed)
            .map_err(|source| StoreError::Sealed {
                user: name.clone(),
                what: "nt hash",
                source,
            })?;
        let bytes: [u8; 16] = opened
            .as_slice()
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("nt hash of user {name:?} is not 16 bytes")))?;
        Ok(Some(UserRecord {
            name,
            unix_user,
            nt_hash: NtHash::from_bytes(bytes),
            created: UnixMillis(created),
            password_changed: UnixMillis(password_changed),
            locked,
            mfa_enrolled,
        }))
    }

    /// All users, by name, without credential material.
    pub fn list_users(&self) -> Result<Vec<UserSummary>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT name, unix_user, created, password_changed, locked, totp_enrolled,
                    (SELECT count(*) FROM recovery_codes r WHERE r.user = users.name AND r.used_ms IS NULL)
             FROM users ORDER BY name",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok(UserSummary {
                name: row.get(0)?,
                unix_user: row.get(1)?,
                created: UnixMillis(row.get(2)?),
                password_changed: UnixMillis(row.get(3)?),
                locked: row.get(4)?,
                mfa: MfaSummary {
                    enrolled: row.get::<_, Option<i64>>(5)?.map(UnixMillis),
                    recovery_codes_left: row.get(6)?,
                },
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Writes one event durably (its own transaction, fsynced); returns its sequence number.
    ///
    /// The link to the previous event is read and the new one written inside the same
    /// `BEGIN IMMEDIATE` transaction, so writers in other tasks or processes (the CLI) cannot
    /// interleave: the chain has no forks.
    pub fn append_event(&mut self, event: &Event) -> Result<i64, StoreError> {
        Ok(self.append_event_linked(event)?.0)
    }

    /// [`Store::append_event`], also returning the event's chain link (for forwarding).
    pub fn append_event_linked(&mut self, event: &Event) -> Result<(i64, Hash), StoreError> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let linked = append_in(&tx, &self.chain, event)?;
        tx.commit()?;
        Ok(linked)
    }

    /// Writes `events` durably in one transaction (one fsync), in order, each chained to the
    /// one before it exactly as separate appends would be; returns each one's sequence
    /// number and chain link. All or nothing: on an error none of them is written.
    pub fn append_events_linked(&mut self, events: &[Event]) -> Result<Vec<(i64, Hash)>, StoreError> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let linked = events
            .iter()
            .map(|event| append_in(&tx, &self.chain, event))
            .collect::<Result<Vec<_>, _>>()?;
        tx.commit()?;
        Ok(linked)
    }

    /// Retention: deletes the oldest events, those before `before` up to the first one that
    /// is not (a contiguous run from the head of the trail), keeps the hash of the last one
    /// deleted as the checkpoint verification starts from, and records an `audit_pruned`
    /// event naming it, all in one transaction. `now` stamps that event. Returns how many
    /// were deleted (0: nothing to prune, nothing written).
    pub fn prune_events(&mut self, before: UnixMillis, now: UnixMillis) -> Result<u64, StoreError> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let first_kept: Option<i64> = tx.query_row(
            "SELECT min(id) FROM events WHERE time >= ?1",
            params![before.0],
            |row| row.get(0),
        )?;
        let last_pruned: Option<(i64, Option<Vec<u8>>)> = tx
            .query_row(
                "SELECT id, hash FROM events WHERE (?1 IS NULL OR id < ?1) ORDER BY id DESC LIMIT 1",
                params![first_kept],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let Some((seq, hash)) = last_pruned else {
            return Ok(0);
        };
        let hash = hash_of(hash).ok_or_else(|| StoreError::Corrupt(format!("audit event #{seq} has no chain hash")))?;
        let pruned = tx.execute("DELETE FROM events WHERE id <= ?1", params![seq])?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![META_CHECKPOINT, link_bytes(seq, &hash)],
        )?;
        let pruned = u64::try_from(pruned).unwrap_or(0);
        let event = Event::new(now, EventKind::AuditPruned, Outcome::Info)
            .with_reason(chain::prune_reason(pruned, before, seq, &hash));
        append_in(&tx, &self.chain, &event)?;
        tx.commit()?;
        Ok(pruned)
    }

    /// Walks the whole chain (from the retention checkpoint, if any) and says whether it is
    /// intact or where it first breaks. Reads one consistent snapshot.
    pub fn verify_chain(&mut self) -> Result<Verdict, StoreError> {
        let tx = self.conn.transaction()?;
        let start = match meta_link(&tx, META_CHECKPOINT)? {
            Some((seq, hash)) => ChainStart {
                prev: hash,
                checkpoint: Some(seq),
            },
            None => ChainStart {
                prev: self.chain.genesis(&store_id(&tx)?),
                checkpoint: None,
            },
        };
        let head = meta_link(&tx, META_HEAD)?.map(|(seq, hash)| ChainHead { seq, hash });
        let mut rows_stmt = tx.prepare(CHAIN_ROWS)?;
        let rows = rows_stmt.query_map([], chain_row)?;
        let mut find_stmt = tx.prepare("SELECT id FROM events WHERE hash = ?1 LIMIT 1")?;
        let verdict = chain::verify(&self.chain, start, rows, |hash| {
            find_stmt.query_row(params![&hash[..]], |row| row.get(0)).optional()
        }, head)?;
        Ok(verdict)
    }

    /// Stored events matching `query`, oldest first, each handed to `each` until it returns
    /// `false`. Reads in pages, so a large trail is never held in memory.
    pub fn scan_events(&self, query: &EventQuery, mut each: impl FnMut(StoredEvent) -> bool) -> Result<(), StoreError> {
        const PAGE: i64 = 1000;
        let kinds = (!query.kinds.is_empty()).then(|| {
            let codes: Vec<&str> = query.kinds.iter().map(|k| k.code()).collect();
            format!(",{},", codes.join(","))
        });
        let mut stmt = self.conn.prepare(
            "SELECT id, time, kind, outcome, peer, user, domain, connection, reason, hash FROM events
             WHERE id > ?1
               AND (?2 IS NULL OR time >= ?2)
               AND (?3 IS NULL OR time < ?3)
               AND (?4 IS NULL OR instr(?4, ',' || kind || ',') > 0)
               AND (?5 IS NULL OR user = ?5 COLLATE NOCASE)
             ORDER BY id LIMIT ?6",
        )?;
        let mut after = query.after_seq.unwrap_or(0);
        loop {
            let page: Vec<(i64, RawEvent, Option<Vec<u8>>)> = stmt
                .query_map(
                    params![
                        after,
                        query.since.map(|t| t.0),
                        query.until.map(|t| t.0),
                        kinds,
                        query.user,
                        PAGE
                    ],
                    |row| {
                        Ok((
                            row.get(0)?,
                            RawEvent {
                                time: row.get(1)?,
                                kind: row.get(2)?,
                                outcome: row.get(3)?,
                                peer: row.get(4)?,
                                user: row.get(5)?,
                                domain: row.get(6)?,
                                connection: row.get(7)?,
                                reason: row.get(8)?,
                            },
                            row.get(9)?,
                        ))
                    },
                )?
                .collect::<Result<_, _>>()?;
            let full = i64::try_from(page.len()).unwrap_or(0) == PAGE;
            for (seq, raw, hash) in page {
                after = seq;
                let stored = StoredEvent {
                    seq,
                    event: raw.into_event()?,
                    hash: hash_of(hash),
                };
                if !each(stored) {
                    return Ok(());
                }
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// The newest event's sequence number (0 when the trail is empty).
    pub fn last_event_seq(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT coalesce(max(id), 0) FROM events", [], |row| row.get(0))?)
    }

    /// Events matching `filter`: the newest `filter.limit` matches, oldest first.
    pub fn events(&self, filter: &EventFilter) -> Result<Vec<Event>, StoreError> {
        let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare(
            "SELECT time, kind, outcome, peer, user, domain, connection, reason FROM events
             WHERE (?1 IS NULL OR time >= ?1)
               AND (?2 IS NULL OR kind = ?2)
               AND (?3 IS NULL OR user = ?3 COLLATE NOCASE)
             ORDER BY id DESC LIMIT ?4",
        )?;
        let rows = stmt.query_map(
            params![
                filter.since.map(|t| t.0),
                filter.kind.map(EventKind::code),
                filter.user,
                limit
            ],
            event_from_row,
        )?;
        let mut events = rows
            .map(|row| row.map_err(StoreError::from).and_then(|raw| raw.into_event()))
            .collect::<Result<Vec<_>, _>>()?;
        events.reverse();
        Ok(events)
    }
}

impl Store {
    /// Creates or replaces the ban on `net` (one row per network: a new ban on the same
    /// network replaces the old one, as a repeat ban should). `created` is `now`.
    pub fn put_ban(
        &mut self,
        net: &str,
        until: UnixMillis,
        repeat: u32,
        reason: &str,
        now: UnixMillis,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO bans (net, until_ms, repeat, reason, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (net) DO UPDATE SET
                until_ms = excluded.until_ms, repeat = excluded.repeat,
                reason = excluded.reason, created_ms = excluded.created_ms",
            params![net, until.0, repeat, reason, now.0],
        )?;
        Ok(())
    }

    /// Removes the ban on exactly `net`; whether there was one.
    pub fn delete_ban(&mut self, net: &str) -> Result<bool, StoreError> {
        let changed = self.conn.execute("DELETE FROM bans WHERE net = ?1", params![net])?;
        Ok(changed > 0)
    }

    /// Every stored ban, ended ones included (they carry the repeat count that doubles the
    /// next ban), soonest to end first.
    pub fn bans(&self) -> Result<Vec<BanRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT net, until_ms, repeat, reason, created_ms FROM bans ORDER BY until_ms, net")?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, i64>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (net, until, repeat, reason, created) = row?;
            let repeat = u32::try_from(repeat)
                .map_err(|_| StoreError::Corrupt(format!("repeat count {repeat} of ban {net:?} is out of range")))?;
            Ok(BanRecord {
                net,
                until: UnixMillis(until),
                repeat,
                reason,
                created: UnixMillis(created),
            })
        })
        .collect()
    }

    /// Deletes bans that ended before `before` (callers pass `now` minus the time a repeat
    /// count is remembered); returns how many.
    pub fn delete_bans_ended_before(&mut self, before: UnixMillis) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .execute("DELETE FROM bans WHERE until_ms < ?1", params![before.0])?)
    }
}

impl Store {
    /// Remembers that `source` logged in as `user` at `at` (the newest time wins).
    pub fn put_known_good(&mut self, user: &str, source: &str, at: UnixMillis) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO guard_known_good (user, source, at_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (user, source) DO UPDATE SET at_ms = max(at_ms, excluded.at_ms)",
            params![user, source, at.0],
        )?;
        Ok(())
    }

    /// The known-good pairs last seen at or after `since`.
    pub fn known_good(&self, since: UnixMillis) -> Result<Vec<KnownGoodRecord>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT user, source, at_ms FROM guard_known_good WHERE at_ms >= ?1 ORDER BY user, source",
        )?;
        let rows = stmt.query_map(params![since.0], |row| {
            Ok(KnownGoodRecord {
                user: row.get(0)?,
                source: row.get(1)?,
                at: UnixMillis(row.get(2)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Replaces the stored failures of each record's source or account with the record's,
    /// in one transaction; an empty record deletes the row.
    pub fn put_guard_failures(&mut self, records: &[GuardFailureRecord]) -> Result<(), StoreError> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for record in records {
            let scope = record.scope.code();
            match record.times.iter().map(|t| t.0).max().max(record.locked_until.map(|t| t.0)) {
                None => {
                    tx.execute(
                        "DELETE FROM guard_failures WHERE scope = ?1 AND key = ?2",
                        params![scope, record.key],
                    )?;
                }
                Some(last) => {
                    let times: Vec<String> = record.times.iter().map(|t| t.0.to_string()).collect();
                    tx.execute(
                        "INSERT INTO guard_failures (scope, key, times, last_ms, locked_until)
                         VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (scope, key) DO UPDATE SET times = excluded.times,
                            last_ms = excluded.last_ms, locked_until = excluded.locked_until",
                        params![scope, record.key, times.join(","), last, record.locked_until.map(|t| t.0)],
                    )?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every stored failure record.
    pub fn guard_failures(&self) -> Result<Vec<GuardFailureRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT scope, key, times, locked_until FROM guard_failures ORDER BY scope, key")?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<i64>>(3)?,
            ))
        })?;
        rows.map(|row| {
            let (scope, key, times, locked_until) = row?;
            let scope = match scope.as_str() {
                "source" => FailureScope::Source,
                "account" => FailureScope::Account,
                other => return Err(StoreError::Corrupt(format!("unknown guard failure scope {other:?}"))),
            };
            let times = times
                .split(',')
                .filter(|t| !t.is_empty())
                .map(|t| {
                    t.parse::<i64>()
                        .map(UnixMillis)
                        .map_err(|_| StoreError::Corrupt(format!("bad failure time {t:?} for {key:?}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(GuardFailureRecord {
                scope,
                key,
                times,
                locked_until: locked_until.map(UnixMillis),
            })
        })
        .collect()
    }

    /// Forgets known-good pairs last seen before `known_good_before` and failure records
    /// whose newest failure and lockout end are before `failures_before`; returns how many
    /// rows went.
    pub fn prune_guard(&mut self, known_good_before: UnixMillis, failures_before: UnixMillis) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let known = tx.execute("DELETE FROM guard_known_good WHERE at_ms < ?1", params![known_good_before.0])?;
        let failures = tx.execute("DELETE FROM guard_failures WHERE last_ms < ?1", params![failures_before.0])?;
        tx.commit()?;
        Ok(known + failures)
    }
}

impl Store {
    /// Records a grant opening the port until `until` for `net` (`None`: every source);
    /// returns its id. Grants add up: each one stands until it ends or is cleared.
    pub fn put_access_grant(
        &mut self,
        net: Option<&str>,
        until: UnixMillis,
        now: UnixMillis,
        reason: &str,
    ) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO access_grants (net, until_ms, created_ms, reason) VALUES (?1, ?2, ?3, ?4)",
            params![net, until.0, now.0, reason],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The grants still in force at `now` (`until` after `now`), soonest to end first.
    pub fn access_grants(&self, now: UnixMillis) -> Result<Vec<AccessGrantRecord>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, net, until_ms, created_ms, reason FROM access_grants
             WHERE until_ms > ?1 ORDER BY until_ms, id",
        )?;
        let rows = stmt.query_map(params![now.0], |row| {
            Ok(AccessGrantRecord {
                id: row.get(0)?,
                net: row.get(1)?,
                until: UnixMillis(row.get(2)?),
                created: UnixMillis(row.get(3)?),
                reason: row.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deletes every grant, ended or not (`rampart access close`); returns how many were
    /// still in force at `now`.
    pub fn clear_access_grants(&mut self, now: UnixMillis) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let active: i64 = tx.query_row(
            "SELECT COUNT(*) FROM access_grants WHERE until_ms > ?1",
            params![now.0],
            |row| row.get(0),
        )?;
        tx.execute("DELETE FROM access_grants", [])?;
        tx.commit()?;
        Ok(usize::try_from(active).unwrap_or(0))
    }
}

/// An events row before its codes are parsed.
struct RawEvent {
    time: i64,
    kind: String,
    outcome: String,
    peer: Option<String>,
    user: Option<String>,
    domain: Option<String>,
    connection: Option<i64>,
    reason: Option<String>,
}

fn event_from_row(row: &Row<'_>) -> rusqlite::Result<RawEvent> {
    Ok(RawEvent {
        time: row.get(0)?,
        kind: row.get(1)?,
        outcome: row.get(2)?,
        peer: row.get(3)?,
        user: row.get(4)?,
        domain: row.get(5)?,
        connection: row.get(6)?,
        reason: row.get(7)?,
    })
}

impl RawEvent {
    fn into_event(self) -> Result<Event, StoreError> {
        let kind = EventKind::from_code(&self.kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown event kind {:?}", self.kind)))?;
        let outcome = Outcome::from_code(&self.outcome)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown event outcome {:?}", self.outcome)))?;
        let peer = self
            .peer
            .map(|p| {
                p.parse::<SocketAddr>()
                    .map_err(|_| StoreError::Corrupt(format!("bad peer address {p:?}")))
            })
            .transpose()?;
        let connection = self
            .connection
            .map(u64::try_from)
            .transpose()
            .map_err(|_| StoreError::Corrupt("negative connection number".into()))?;
        Ok(Event {
            time: UnixMillis(self.time),
            kind,
            outcome,
            peer,
            user: self.user,
            domain: self.domain,
            connection,
            reason: self.reason,
        })
    }
}

/// The fields of `event` exactly as they are stored (and chained).
struct StoredFields {
    peer: Option<String>,
    connection: Option<i64>,
}

fn stored_fields(event: &Event) -> Result<StoredFields, StoreError> {
    let connection = event
        .connection
        .map(i64::try_from)
        .transpose()
        .map_err(|_| StoreError::Corrupt("connection number out of range".into()))?;
    Ok(StoredFields {
        peer: event.peer.map(|p| p.to_string()),
        connection,
    })
}

/// Appends `event` inside `tx` (which the caller opened with `BEGIN IMMEDIATE`): links it to
/// the stored head (or the genesis value), then moves the head to it.
fn append_in(tx: &rusqlite::Transaction<'_>, key: &ChainKey, event: &Event) -> Result<(i64, Hash), StoreError> {
    let fields = stored_fields(event)?;
    let prev = match meta_link(tx, META_HEAD)? {
        Some((_, hash)) => hash,
        None => key.genesis(&store_id(tx)?),
    };
    let schema = i64::from(SCHEMA_VERSION);
    let record = ChainRecord {
        schema,
        time_ms: event.time.0,
        kind: event.kind.code(),
        outcome: event.outcome.code(),
        peer: fields.peer.as_deref(),
        user: event.user.as_deref(),
        domain: event.domain.as_deref(),
        connection: fields.connection,
        reason: event.reason.as_deref(),
    };
    let hash = key.link(&prev, &record);
    tx.execute(
        "INSERT INTO events (schema, time, kind, outcome, peer, user, domain, connection, reason, prev, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            schema,
            event.time.0,
            event.kind.code(),
            event.outcome.code(),
            fields.peer,
            event.user,
            event.domain,
            fields.connection,
            event.reason,
            &prev[..],
            &hash[..],
        ],
    )?;
    let id = tx.last_insert_rowid();
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![META_HEAD, link_bytes(id, &hash)],
    )?;
    Ok((id, hash))
}

/// Chains the events written before the chain existed, oldest first (migration 5 only).
fn chain_existing_events(tx: &rusqlite::Transaction<'_>, key: &ChainKey) -> Result<(), StoreError> {
    let mut prev = key.genesis(&store_id(tx)?);
    let rows: Vec<ChainRow> = {
        // Not chained yet: prev and hash are NULL, so they read as None.
        let mut stmt = tx.prepare(CHAIN_ROWS)?;
        let rows = stmt.query_map([], chain_row)?;
        rows.collect::<Result<_, _>>()?
    };
    for row in &rows {
        let hash = key.link(&prev, &row.record());
        tx.execute(
            "UPDATE events SET prev = ?2, hash = ?3 WHERE id = ?1",
            params![row.seq, &prev[..], &hash[..]],
        )?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![META_HEAD, link_bytes(row.seq, &hash)],
        )?;
        prev = hash;
    }
    Ok(())
}

fn store_id(conn: &Connection) -> Result<Vec<u8>, StoreError> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", params![META_STORE_ID], |row| row.get(0))
        .optional()?
        .ok_or_else(|| StoreError::Corrupt("the audit store id is missing from meta".into()))
}

fn link_bytes(seq: i64, hash: &Hash) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + hash.len());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(hash);
    out
}

/// A (`seq`, `hash`) pair kept in `meta`.
fn meta_link(conn: &Connection, key: &str) -> Result<Option<(i64, Hash)>, StoreError> {
    let value: Option<Vec<u8>> = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |row| row.get(0))
        .optional()?;
    let Some(value) = value else { return Ok(None) };
    let parsed = value.split_first_chunk::<8>().and_then(|(seq, hash)| {
        let hash: Hash = hash.try_into().ok()?;
        Some((i64::from_be_bytes(*seq), hash))
    });
    parsed
        .map(Some)
        .ok_or_else(|| StoreError::Corrupt(format!("meta {key} is not a sequence number and a hash")))
}

/// Every event with the columns its chain link covers, oldest first; read by [`chain_row`].
const CHAIN_ROWS: &str = "SELECT id, schema, time, kind, outcome, peer, user, domain, connection, reason, prev, hash
     FROM events ORDER BY id";

fn chain_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ChainRow> {
    Ok(ChainRow {
        seq: row.get(0)?,
        schema: row.get(1)?,
        time_ms: row.get(2)?,
        kind: row.get(3)?,
        outcome: row.get(4)?,
        peer: row.get(5)?,
        user: row.get(6)?,
        domain: row.get(7)?,
        connection: row.get(8)?,
        reason: row.get(9)?,
        prev: hash_of(row.get(10)?),
        hash: hash_of(row.get(11)?),
    })
}

fn hash_of(bytes: Option<Vec<u8>>) -> Option<Hash> {
    bytes.and_then(|b| b.as_slice().try_into().ok())
}

/// Makes sure `path` is a regular file owned by us with mode 0600, creating it (0600 from
/// the start, so there is no window where it is readable) if missing.
fn secure_file(path: &Path) -> Result<(), StoreError> {
    let io_err = |source| StoreError::Io {
        path: path.to_owned(),
        source,
    };
    match fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_file() => {
            return Err(StoreError::NotRegularFile { path: path.to_owned() });
        }
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(io_err(err)),
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(io_err)?;
    let meta = file.metadata().map_err(io_err)?;
    check_owner(path, &meta)?;
    if meta.mode() & 0o7777 != 0o600 {
        file.set_permissions(Permissions::from_mode(0o600)).map_err(io_err)?;
    }
    Ok(())
}

/// Root may administer files owned by the service account; anyone else must own them.
fn check_owner(path: &Path, meta: &fs::Metadata) -> Result<(), StoreError> {
    let current = rustix::process::geteuid().as_raw();
    if meta.uid() != current && current != 0 {
        return Err(StoreError::WrongOwner {
            path: path.to_owned(),
            owner: meta.uid(),
            current,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_auth::Password;

    fn temp_store() -> (tempfile::TempDir, PathBuf, Store) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rampart.db");
        let store = Store::open(&path, &dir.path().join("host.key")).unwrap();
        (dir, path, store)
    }

    fn open_at(path: &Path) -> Result<Store, StoreError> {
        Store::open(path, &path.with_file_name("host.key"))
    }

    fn hash(pw: &str) -> NtHash {
        NtHash::from_password(&Password::new(pw.to_owned()))
    }

    fn new_user(name: &str, now: i64) -> NewUser {
        NewUser {
            name: name.to_owned(),
            unix_user: format!("{name}-unix"),
            nt_hash: hash("Password"),
            now: UnixMillis(now),
        }
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().mode() & 0o7777
    }

    #[test]
    fn add_and_get_user() {
        let (_dir, _path, mut store) = temp_store();
        store.add_user(&new_user("alice", 1000)).unwrap();
        let rec = store.get_user("alice").unwrap().unwrap();
        assert_eq!(rec.name, "alice");
        assert_eq!(rec.unix_user, "alice-unix");
        assert_eq!(rec.nt_hash.to_hex(), "a4f49c406510bdcab6824ee7c30fd852");
        assert_eq!(rec.created, UnixMillis(1000));
        assert_eq!(rec.password_changed, UnixMillis(1000));
        assert!(store.get_user("bob").unwrap().is_none());
    }

    #[test]
    fn lookup_is_case_insensitive_and_returns_canonical_name() {
        let (_dir, _path, mut store) = temp_store();
        store.add_user(&new_user("alice", 1)).unwrap();
        let rec = store.get_user("ALICE").unwrap().unwrap();
        assert_eq!(rec.name, "alice");
        assert!(store.get_user("AlIcE").unwrap().is_some());
    }

    #[test]
    fn duplicate_is_rejected() {
        let (_dir, _path, mut store) = temp_store();
        store.add_user(&new_user("alice", 1)).unwrap();
        let err = store.add_user(&new_user("alice", 2)).unwrap_err();
        assert!(matches!(err, StoreError::UserExists(ref n) if n == "alice"), "{err:?}");
        assert_eq!(err.to_string(), "user \"alice\" already exists");
    }

    #[test]
    fn invalid_names_are_refused() {
        let (_dir, _path, mut store) = temp_store();
        let err = store.add_user(&new_user("Alice", 1)).unwrap_err();
        assert!(matches!(err, StoreError::InvalidName(_)), "{err:?}");
        let err = store.add_user(&new_user("corp\\alice", 1)).unwrap_err();
        assert!(matches!(err, StoreError::InvalidName(_)), "{err:?}");
    }

    #[test]
    fn change_password() {
        let (_dir, _path, mut store) = temp_store();
        store.add_user(&new_user("alice", 1)).unwrap();
        store.set_nt_hash("Alice", &hash("new one"), UnixMillis(50)).unwrap();
        let rec = store.get_user("alice").unwrap().unwrap();
        assert_eq!(rec.nt_hash.as_bytes(), hash("new one").as_bytes());
        assert_eq!(rec.created, UnixMillis(1));
        assert_eq!(rec.password_changed, UnixMillis(50));
        let err = store.set_nt_hash("bob", &hash("x"), UnixMillis(1)).unwrap_err();
        assert!(matches!(err, StoreError::NoSuchUser(ref n) if n == "bob"), "{err:?}");
    }

    #[test]
    fn delete_user() {
        let (_dir, _path, mut store) = temp_store();
        store.add_user(&new_user("alice", 1)).unwrap();
        store.delete_user("ALICE").unwrap();
        assert!(store.get_user("alice").unwrap().is_none());
        let err = store.delete_user("alice").unwrap_err();
        assert!(matches!(err, StoreError::NoSuchUser(_)), "{err:?}");
        // The name is free again.
        store.add_user(&new_user("alice", 2)).unwrap();
    }

    #[test]
    fn list_users_sorted_without_hashes() {
        let (_dir, _path, mut store) = temp_store();
        assert!(store.list_users().unwrap().is_empty());
        store.add_user(&new_user("carol", 3)).unwrap();
        store.add_user(&new_user("alice", 1)).unwrap();
        store.set_nt_hash("carol", &hash("x"), UnixMillis(9)).unwrap();
        let users = store.list_users().unwrap();
        assert_eq!(
            users,
            vec![
                UserSummary {
                    name: "alice".into(),
                    unix_user: "alice-unix".into(),
                    created: UnixMillis(1),
                    password_changed: UnixMillis(1),
                    locked: false,
                    mfa: MfaSummary::default(),
                },
                UserSummary {
                    name: "carol".into(),
                    unix_user: "carol-unix".into(),
                    created: UnixMillis(3),
                    password_changed: UnixMillis(9),
                    locked: false,
                    mfa: MfaSummary::default(),
                },
            ]
        );
    }

    fn sample_events() -> Vec<Event> {
        vec![
            Event::new(UnixMillis(100), EventKind::ConnectionAccepted, Outcome::Success)
                .with_peer("192.168.1.5:50000".parse().unwrap())
                .with_connection(1),
            Event::new(UnixMillis(200), EventKind::AuthFailed, Outcome::Failure)
                .with_peer("[fd00::1]:4000".parse().unwrap())
                .with_user("Alice")
                .with_domain(Some("CORP".into()))
                .with_connection(u64::try_from(i64::MAX).unwrap())
                .with_reason("wrong password"),
            Event::new(UnixMillis(300), EventKind::AuthSucceeded, Outcome::Success).with_user("alice"),
            Event::new(UnixMillis(400), EventKind::UserAdded, Outcome::Success).with_user("bob"),
        ]
    }

    #[test]
    fn events_round_trip() {
        let (_dir, _path, mut store) = temp_store();
        let events = sample_events();
        let mut last = 0;
        for ev in &events {
            let id = store.append_event(ev).unwrap();
            assert!(id > last);
            last = id;
        }
        assert_eq!(store.events(&EventFilter::default()).unwrap(), events);
    }

    #[test]
    fn event_filters() {
        let (_dir, _path, mut store) = temp_store();
        let events = sample_events();
        for ev in &events {
            store.append_event(ev).unwrap();
        }
        let f = |since: Option<i64>, kind: Option<EventKind>, user: Option<&str>, limit: usize| EventFilter {
            since: since.map(UnixMillis),
            kind,
            user: user.map(str::to_owned),
            limit,
        };
        let times = |evs: Vec<Event>| evs.iter().map(|e| e.time.0).collect::<Vec<_>>();
        assert_eq!(times(store.events(&f(Some(200), None, None, 100)).unwrap()), [200, 300, 400]);
        assert_eq!(
            times(store.events(&f(None, Some(EventKind::AuthFailed), None, 100)).unwrap()),
            [200]
        );
        assert_eq!(times(store.events(&f(None, None, Some("ALICE"), 100)).unwrap()), [200, 300]);
        // Newest `limit`, oldest first.
        assert_eq!(times(store.events(&f(None, None, None, 2)).unwrap()), [300, 400]);
        assert!(store.events(&f(None, None, None, 0)).unwrap().is_empty());
        assert_eq!(
            times(store.events(&f(Some(250), Some(EventKind::AuthSucceeded), Some("alice"), 10)).unwrap()),
            [300]
        );
        assert!(store
            .events(&f(Some(500), None, None, 10))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn new_file_is_0600_and_wal() {
        let (_dir, path, mut store) = temp_store();
        store.add_user(&new_user("alice", 1)).unwrap();
        assert_eq!(mode(&path), 0o600);
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let wal = PathBuf::from(wal);
        assert!(wal.exists(), "WAL mode is on");
        assert_eq!(mode(&wal), 0o600);
        let jm: String = store
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(jm, "wal");
        let sync: i64 = store.conn.pragma_query_value(None, "synchronous", |r| r.get(0)).unwrap();
        assert_eq!(sync, 2, "synchronous=FULL");
    }

    #[test]
    fn existing_file_mode_is_fixed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rampart.db");
        drop(open_at(&path).unwrap());
        fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        drop(open_at(&path).unwrap());
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn refuses_non_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere.db");
        let link = dir.path().join("rampart.db");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = open_at(&link).unwrap_err();
        assert!(matches!(err, StoreError::NotRegularFile { .. }), "{err:?}");
        assert!(!target.exists());
        let err = open_at(dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::NotRegularFile { .. }), "{err:?}");
    }

    #[test]
    fn reopen_keeps_data_and_migrations_are_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rampart.db");
        {
            let mut store = open_at(&path).unwrap();
            store.add_user(&new_user("alice", 1)).unwrap();
            store.append_event(&sample_events()[0]).unwrap();
        }
        for _ in 0..2 {
            let store = open_at(&path).unwrap();
            assert_eq!(store.get_user("alice").unwrap().unwrap().name, "alice");
            assert_eq!(store.events(&EventFilter::default()).unwrap().len(), 1);
            let v: i64 = store.conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
            assert_eq!(v, i64::try_from(MIGRATIONS.len()).unwrap());
        }
    }

    #[test]
    fn refuses_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rampart.db");
        {
            let store = open_at(&path).unwrap();
            store.conn.pragma_update(None, "user_version", 99).unwrap();
        }
        let err = open_at(&path).unwrap_err();
        assert!(matches!(err, StoreError::SchemaTooNew { found: 99, .. }), "{err:?}");
    }

    #[test]
    fn bans_put_replace_delete() {
        let (_dir, _path, mut store) = temp_store();
        assert!(store.bans().unwrap().is_empty());
        store.put_ban("10.0.0.1/32", UnixMillis(2000), 1, "5 failures", UnixMillis(1)).unwrap();
        store.put_ban("fd00::/64", UnixMillis(1000), 0, "manual (cli uid 0)", UnixMillis(2)).unwrap();
        let bans = store.bans().unwrap();
        assert_eq!(
            bans,
            vec![
                BanRecord {
                    net: "fd00::/64".into(),
                    until: UnixMillis(1000),
                    repeat: 0,
                    reason: "manual (cli uid 0)".into(),
                    created: UnixMillis(2),
                },
                BanRecord {
                    net: "10.0.0.1/32".into(),
                    until: UnixMillis(2000),
                    repeat: 1,
                    reason: "5 failures".into(),
                    created: UnixMillis(1),
                },
            ]
        );
        // A repeat ban replaces the row.
        store.put_ban("10.0.0.1/32", UnixMillis(9000), 2, "5 failures", UnixMillis(5)).unwrap();
        let bans = store.bans().unwrap();
        assert_eq!(bans.len(), 2);
        assert_eq!((bans[1].until, bans[1].repeat, bans[1].created), (UnixMillis(9000), 2, UnixMillis(5)));
        assert!(store.delete_ban("fd00::/64").unwrap());
        assert!(!store.delete_ban("fd00::/64").unwrap());
        assert_eq!(store.bans().unwrap().len(), 1);
    }

    #[test]
    fn bans_survive_a_restart_and_old_ones_can_be_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rampart.db");
        {
            let mut store = open_at(&path).unwrap();
            store.put_ban("10.0.0.1/32", UnixMillis(100), 3, "auto", UnixMillis(1)).unwrap();
            store.put_ban("10.0.0.2/32", UnixMillis(500), 1, "auto", UnixMillis(1)).unwrap();
        }
        let mut store = open_at(&path).unwrap();
        let bans = store.bans().unwrap();
        assert_eq!(bans.len(), 2);
        assert_eq!(bans[0].repeat, 3);
        assert_eq!(store.delete_bans_ended_before(UnixMillis(200)).unwrap(), 1);
        assert_eq!(store.bans().unwrap()[0].net, "10.0.0.2/32");
    }

    #[test]
    fn an_old_database_gains_the_bans_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rampart.db");
        {
            // A version-1 database, as the first release made it.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute(
                "INSERT INTO users (name, unix_user, nt_hash, created, password_changed)
                 VALUES ('alice', 'alice', zeroblob(16), 1, 1)",
                [],
            )
            .unwrap();
        }
        let mut store = open_at(&path).unwrap();
        assert!(store.get_user("alice").unwrap().is_some());
        store.put_ban("10.0.0.1/32", UnixMillis(1), 0, "manual", UnixMillis(1)).unwrap();
        assert_eq!(store.bans().unwrap().len(), 1);
    }

    #[test]
    fn access_grants_put_list_clear() {
        let (_dir, _path, mut store) = temp_store();
        assert!(store.access_grants(UnixMillis(0)).unwrap().is_empty());
        let a = store
            .access_grants_put(Some("192.0.2.0/24"), 5000, 100, "ops ticket 7");
        let b = store.access_grants_put(None, 3000, 200, "");
        let ended = store.access_grants_put(Some("10.0.0.1/32"), 150, 100, "short");
        assert!(a != b && b != ended);
        let grants = store.access_grants(UnixMillis(150)).unwrap();
        assert_eq!(
            grants,
            vec![
                AccessGrantRecord {
                    id: b,
                    net: None,
                    until: UnixMillis(3000),
                    created: UnixMillis(200),
                    reason: String::new(),
                },
                AccessGrantRecord {
                    id: a,
                    net: Some("192.0.2.0/24".into()),
                    until: UnixMillis(5000),
                    created: UnixMillis(100),
                    reason: "ops ticket 7".into(),
                },
            ],
            "active only (until is exclusive), soonest to end first"
        );
        assert_eq!(store.access_grants(UnixMillis(149)).unwrap().len(), 3);
        assert_eq!(store.access_grants(UnixMillis(3000)).unwrap().len(), 1);
        assert!(store.access_grants(UnixMillis(5000)).unwrap().is_empty());
        assert_eq!(store.clear_access_grants(UnixMillis(150)).unwrap(), 2, "the ended one is not counted");
        assert!(store.access_grants(UnixMillis(0)).unwrap().is_empty(), "ended ones are deleted too");
        assert_eq!(store.clear_access_grants(UnixMillis(150)).unwrap(), 0);
    }

    impl Store {
        fn access_grants_put(&mut self, net: Option<&str>, until: i64, now: i64, reason: &str) -> i64 {
            self.put_access_grant(net, UnixMillis(until), UnixMillis(now), reason).unwrap()
        }
    }

    #[test]
    fn access_grants_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rampart.db");
        {
            let mut store = open_at(&path).unwrap();
            store.put_access_grant(Some("2001:db8::/48"), UnixMillis(900), UnixMillis(1), "x").unwrap();
        }
        let mut store = open_at(&path).unwrap();
        let grants = store.access_grants(UnixMillis(10)).unwrap();
        assert_eq!(grants.len(), 1);
        assert_eq!(grants[0].net.as_deref(), Some("2001:db8::/48"));
        assert_eq!(grants[0].until, UnixMillis(900));
        assert_eq!(store.clear_access_grants(UnixMillis(10)).unwrap(), 1);
        drop(store);
        let store = open_at(&path).unwrap();
        assert!(store.access_grants(UnixMillis(10)).unwrap().is_empty());
    }

    #[test]
    fn a_version_2_database_gains_the_access_grants_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rampart.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.execute_batch(MIGRATIONS[1]).unwrap();
            conn.pragma_update(None, "user_version", 2).unwrap();
            conn.execute(
                "INSERT INTO bans (net, until_ms, repeat, reason, created_ms) VALUES ('10.0.0.1/32', 5, 0, 'm', 1)",
                [],
            )
            .unwrap();
        }
        let mut store = open_at(&path).unwrap();
        assert_eq!(store.bans().unwrap().len(), 1);
        store.put_access_grant(None, UnixMillis(10), UnixMillis(1), "").unwrap();
        assert_eq!(store.access_grants(UnixMillis(1)).unwrap().len(), 1);
    }

    #[test]
    fn a_version_3_database_has_its_hashes_sealed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rampart.db");
        let clear = hash("Password");
        {
            let conn = Connection::open(&path).unwrap();
            for sql in &MIGRATIONS[..3] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 3).unwrap();
            conn.execute(
                "INSERT INTO users (name, unix_user, nt_hash, created, password_changed) VALUES ('alice', 'a', ?1, 1, 2)",
                params![&clear.as_bytes()[..]],
            )
            .unwrap();
        }
        let store = open_at(&path).unwrap();
        let rec = store.get_user("alice").unwrap().unwrap();
        assert_eq!(rec.nt_hash.as_bytes(), clear.as_bytes());
        assert_eq!((rec.created, rec.password_changed, rec.locked), (UnixMillis(1), UnixMillis(2), false));
        let legacy: Option<Vec<u8>> = store
            .conn
            .query_row("SELECT legacy_nt_hash FROM users", [], |r| r.get(0))
            .unwrap();
        assert!(legacy.is_none());
        drop(store);
        let mut raw = fs::read(&path).unwrap();
        raw.extend(fs::read(dir.path().join("rampart.db-wal")).unwrap_or_default());
        assert!(!raw.windows(16).any(|w| w == clear.as_bytes()), "clear hash left on disk");
    }

    #[test]
    fn lock_and_unlock() {
        let (_dir, _path, mut store) = temp_store();
        store.add_user(&new_user("alice", 1)).unwrap();
        assert!(store.set_locked("ALICE", true).unwrap());
        assert!(!store.set_locked("alice", true).unwrap());
        assert!(store.get_user("alice").unwrap().unwrap().locked);
        assert!(store.list_users().unwrap()[0].locked);
        assert!(store.set_locked("alice", false).unwrap());
        assert!(!store.get_user("alice").unwrap().unwrap().locked);
        assert!(matches!(store.set_locked("bob", true), Err(StoreError::NoSuchUser(_))));
    }

    /// A store with `n` events (times 1000, 2000, ...), and a raw connection on its file.
    fn chained(n: i64) -> (tempfile::TempDir, PathBuf, Store, Connection) {
        let (dir, path, mut store) = temp_store();
        for i in 1..=n {
            let ev = Event::new(UnixMillis(i * 1000), EventKind::AuthFailed, Outcome::Failure)
                .with_peer("127.0.0.1:4000".parse().unwrap())
                .with_user("alice")
                .with_reason(format!("attempt {i}"));
            assert_eq!(store.append_event(&ev).unwrap(), i);
        }
        let raw = Connection::open(&path).unwrap();
        (dir, path, store, raw)
    }

    fn broken(store: &mut Store) -> (i64, chain::Tamper) {
        match store.verify_chain().unwrap() {
            Verdict::Broken { seq, tamper } => (seq, tamper),
            v => panic!("tampering not detected: {v}"),
        }
    }

    #[test]
    fn an_untouched_chain_verifies_and_survives_reopening() {
        let (_dir, path, mut store, _raw) = chained(6);
        assert_eq!(store.verify_chain().unwrap().to_string(), "intact, 6 events");
        drop(store);
        let mut store = open_at(&path).unwrap();
        store.append_event(&sample_events()[0]).unwrap();
        assert_eq!(store.verify_chain().unwrap().to_string(), "intact, 7 events");
        let (_dir, _path, mut empty) = temp_store();
        assert_eq!(empty.verify_chain().unwrap().to_string(), "intact, 0 events");
    }

    #[test]
    fn tampering_on_the_file_is_named() {
        use chain::Tamper;
        let (_dir, _path, mut store, raw) = chained(8);
        raw.execute("UPDATE events SET user = 'bob' WHERE id = 3", []).unwrap();
        assert_eq!(broken(&mut store), (3, Tamper::Edited));

        let (_dir, _path, mut store, raw) = chained(8);
        raw.execute("DELETE FROM events WHERE id = 5", []).unwrap();
        assert_eq!(broken(&mut store), (6, Tamper::DeletedBefore));

        // Insert a forged row in the middle: make room, copy a row, change it.
        let (_dir, _path, mut store, raw) = chained(8);
        raw.execute_batch(
            "UPDATE events SET id = -id WHERE id > 4;
             UPDATE events SET id = 1 - id WHERE id < 0;
             INSERT INTO events (id, schema, time, kind, outcome, peer, user, reason, prev, hash)
                SELECT 5, schema, time + 1, 'auth_succeeded', 'success', peer, user, NULL, hash, randomblob(32)
                FROM events WHERE id = 4;",
        )
        .unwrap();
        assert_eq!(broken(&mut store), (5, Tamper::Inserted));

        // Reorder: swap the contents (with their links) of two rows.
        let (_dir, _path, mut store, raw) = chained(8);
        raw.execute_batch(
            "UPDATE events SET id = 100 WHERE id = 3;
             UPDATE events SET id = 3 WHERE id = 4;
             UPDATE events SET id = 4 WHERE id = 100;",
        )
        .unwrap();
        assert_eq!(broken(&mut store), (3, Tamper::Reordered));

        // The newest rows.
        let (_dir, _path, mut store, raw) = chained(8);
        raw.execute("DELETE FROM events WHERE id > 6", []).unwrap();
        assert_eq!(broken(&mut store), (6, Tamper::TruncatedAfter { head: 8 }));
        // And a new event after the truncation does not hide it.
        store.append_event(&sample_events()[0]).unwrap();
        assert_eq!(broken(&mut store), (9, Tamper::DeletedBefore));
    }

    #[test]
    fn a_batch_is_chained_like_single_appends_and_verifies() {
        let (_dir, path, mut store, raw) = chained(2);
        let batch: Vec<Event> = (0..50)
            .map(|i| {
                Event::new(UnixMillis(10_000 + i), EventKind::ConnectionRefused, Outcome::Failure)
                    .with_peer(format!("127.3.0.{}:5000", i + 1).parse().unwrap())
                    .with_reason("source address is not on the allowlist")
            })
            .collect();
        let linked = store.append_events_linked(&batch).unwrap();
        assert_eq!(linked.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(), (3..=52).collect::<Vec<i64>>());
        // One row per event, each linked to the row before it (the first to the old head).
        let rows: Vec<(i64, Vec<u8>, Vec<u8>, String)> = raw
            .prepare("SELECT id, prev, hash, peer FROM events ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows.len(), 52);
        for pair in rows.windows(2) {
            assert_eq!(pair[1].1, pair[0].2, "row {} does not link to row {}", pair[1].0, pair[0].0);
        }
        for ((seq, hash), row) in linked.iter().zip(&rows[2..]) {
            assert_eq!((*seq, &hash[..]), (row.0, &row.2[..]));
        }
        assert_eq!(rows[51].3, "127.3.0.50:5000");
        assert_eq!(store.verify_chain().unwrap().to_string(), "intact, 52 events");
        // Single appends go on from the batch's last link, also after reopening.
        store.append_event(&sample_events()[0]).unwrap();
        drop(store);
        let mut store = open_at(&path).unwrap();
        assert_eq!(store.verify_chain().unwrap().to_string(), "intact, 53 events");
        assert!(store.append_events_linked(&[]).unwrap().is_empty());
    }

    #[test]
    fn a_failed_batch_writes_none_of_its_events() {
        let (_dir, _path, mut store, raw) = chained(3);
        let good = |i: i64| Event::new(UnixMillis(10_000 + i), EventKind::AuthFailed, Outcome::Failure);
        // The fourth cannot be stored (a connection number SQLite cannot hold).
        let batch = vec![good(1), good(2), good(3), good(4).with_connection(u64::MAX), good(5)];
        assert!(store.append_events_linked(&batch).is_err());
        let count: i64 = raw.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();
        assert_eq!(count, 3, "a failed batch left rows behind");
        assert_eq!(store.verify_chain().unwrap().to_string(), "intact, 3 events");
        // The chain goes on from where it was.
        let linked = store.append_events_linked(&[good(6), good(7)]).unwrap();
        assert_eq!(linked.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(), vec![4, 5]);
        assert_eq!(store.verify_chain().unwrap().to_string(), "intact, 5 events");
    }

    #[test]
    fn guard_memory_is_kept_replaced_and_pruned() {
        let (_dir, path, mut store) = temp_store();
        store.put_known_good("alice", "10.0.0.7", UnixMillis(100)).unwrap();
        store.put_known_good("alice", "10.0.0.7", UnixMillis(50)).unwrap();
        store.put_known_good("bob", "fd00::1", UnixMillis(10)).unwrap();
        let source = |times: &[i64]| GuardFailureRecord {
            scope: FailureScope::Source,
            key: "10.1.0.1/32".into(),
            times: times.iter().copied().map(UnixMillis).collect(),
            locked_until: None,
        };
        let account = GuardFailureRecord {
            scope: FailureScope::Account,
            key: "mallory".into(),
            times: vec![UnixMillis(20)],
            locked_until: Some(UnixMillis(900)),
        };
        store.put_guard_failures(&[source(&[10]), account.clone()]).unwrap();
        store.put_guard_failures(&[source(&[10, 30])]).unwrap();
        drop(store);

        let mut store = open_at(&path).unwrap();
        let kg = store.known_good(UnixMillis(0)).unwrap();
        assert_eq!(
            kg.iter().map(|k| (k.user.as_str(), k.source.as_str(), k.at.0)).collect::<Vec<_>>(),
            vec![("alice", "10.0.0.7", 100), ("bob", "fd00::1", 10)],
            "the newest time wins"
        );
        assert_eq!(store.known_good(UnixMillis(11)).unwrap().len(), 1);
        assert_eq!(store.guard_failures().unwrap(), vec![account.clone(), source(&[10, 30])]);
        // An empty record deletes the row.
        store.put_guard_failures(&[source(&[])]).unwrap();
        assert_eq!(store.guard_failures().unwrap(), vec![account]);
        // The account's lockout (until 900) keeps it past its last failure (20).
        assert_eq!(store.prune_guard(UnixMillis(50), UnixMillis(500)).unwrap(), 1);
        assert_eq!(store.guard_failures().unwrap().len(), 1);
        assert_eq!(store.prune_guard(UnixMillis(50), UnixMillis(901)).unwrap(), 1);
        assert!(store.guard_failures().unwrap().is_empty());
        assert_eq!(store.known_good(UnixMillis(0)).unwrap().len(), 1);
    }

    #[test]
    fn another_key_cannot_forge_the_chain() {
        let (dir, path, store, _raw) = chained(3);
        drop(store);
        // Rewriting the chain needs the chain key; a new host key gives another one and
        // (rightly) does not open the store at all.
        let err = Store::open_with_key(&path, &HostKey::generate()).unwrap_err();
        assert!(matches!(err, StoreError::WrongHostKey(_)), "{err:?}");
        let mut store = open_at(&path).unwrap();
        assert!(matches!(store.verify_chain().unwrap(), Verdict::Intact { events: 3, .. }));
        drop(dir);
    }

    #[test]
    fn pruning_keeps_a_checkpoint_that_verifies() {
        let (_dir, path, mut store, raw) = chained(10);
        // Nothing older than the first event: nothing happens, nothing is written.
        assert_eq!(store.prune_events(UnixMillis(500), UnixMillis(20_000)).unwrap(), 0);
        assert_eq!(store.last_event_seq().unwrap(), 10);
        assert_eq!(store.prune_events(UnixMillis(4_500), UnixMillis(20_000)).unwrap(), 4);
        let verdict = store.verify_chain().unwrap();
        assert_eq!(verdict.to_string(), "intact, 7 events (after the retention checkpoint at #4)");
        let mut kinds = Vec::new();
        store
            .scan_events(&EventQuery::default(), |e| {
                kinds.push((e.seq, e.event.kind));
                true
            })
            .unwrap();
        assert_eq!(kinds.first(), Some(&(5, EventKind::AuthFailed)));
        assert_eq!(kinds.last(), Some(&(11, EventKind::AuditPruned)));
        // A second prune, then more events: still intact across reopening.
        assert_eq!(store.prune_events(UnixMillis(7_500), UnixMillis(21_000)).unwrap(), 3);
        store.append_event(&sample_events()[1]).unwrap();
        drop(store);
        let mut store = open_at(&path).unwrap();
        assert!(matches!(store.verify_chain().unwrap(), Verdict::Intact { events: 6, checkpoint: Some(7), .. }));
        // Deleting from the head and moving the checkpoint by hand is caught.
        raw.execute("DELETE FROM events WHERE id = 8", []).unwrap();
        raw.execute(
            "UPDATE meta SET value = CAST(X'0000000000000008' || (SELECT prev FROM events WHERE id = 9) AS BLOB)
             WHERE key = 'audit_checkpoint'",
            [],
        )
        .unwrap();
        assert_eq!(broken(&mut store), (9, chain::Tamper::CheckpointUnrecorded));
    }

    #[test]
    fn writers_in_two_processes_share_one_chain() {
        let (_dir, path, mut a) = temp_store();
        let mut b = open_at(&path).unwrap();
        let mut handles = Vec::new();
        for (n, mut store) in [(0, open_at(&path).unwrap()), (1, open_at(&path).unwrap())] {
            handles.push(std::thread::spawn(move || {
                for i in 0..25 {
                    let ev = Event::new(UnixMillis(i), EventKind::ConnectionClosed, Outcome::Info).with_connection(n);
                    store.append_event(&ev).unwrap();
                }
            }));
        }
        for i in 0..25 {
            a.append_event(&Event::new(UnixMillis(i), EventKind::UserAdded, Outcome::Success)).unwrap();
            b.append_event(&Event::new(UnixMillis(i), EventKind::UserDeleted, Outcome::Success)).unwrap();
        }
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(a.verify_chain().unwrap().to_string(), "intact, 100 events");
    }

    #[test]
    fn a_version_4_trail_is_chained_once_on_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rampart.db");
        {
            let conn = Connection::open(&path).unwrap();
            for sql in &MIGRATIONS[..4] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 4).unwrap();
            for t in [1, 2, 3] {
                conn.execute(
                    "INSERT INTO events (schema, time, kind, outcome, user) VALUES (1, ?1, 'user_added', 'success', 'x')",
                    params![t],
                )
                .unwrap();
            }
        }
        let mut store = open_at(&path).unwrap();
        store.append_event(&sample_events()[0]).unwrap();
        assert_eq!(store.verify_chain().unwrap().to_string(), "intact, 4 events");
        // Clearing the links later does not get them recomputed: the edit shows.
        store.conn.execute("UPDATE events SET hash = NULL, prev = NULL WHERE id = 2", []).unwrap();
        drop(store);
        let mut store = open_at(&path).unwrap();
        assert!(matches!(store.verify_chain().unwrap(), Verdict::Broken { seq: 2, .. }));
    }

    #[test]
    fn scan_filters_and_pages() {
        // More than one page (1000 rows) of events.
        let (_dir, _path, mut store, _raw) = chained(1100);
        store
            .append_event(&Event::new(UnixMillis(9_000_000), EventKind::MfaFailed, Outcome::Failure).with_user("Bob"))
            .unwrap();
        let collect = |q: EventQuery| {
            let mut seqs = Vec::new();
            store
                .scan_events(&q, |e| {
                    seqs.push(e.seq);
                    assert!(e.hash.is_some());
                    true
                })
                .unwrap();
            seqs
        };
        assert_eq!(collect(EventQuery::default()).len(), 1101);
        let q = EventQuery {
            since: Some(UnixMillis(1_000_500)),
            until: Some(UnixMillis(1_003_000)),
            ..Default::default()
        };
        assert_eq!(collect(q), vec![1001, 1002]);
        let q = EventQuery {
            kinds: vec![EventKind::MfaFailed, EventKind::UserAdded],
            user: Some("bob".into()),
            ..Default::default()
        };
        assert_eq!(collect(q), vec![1101]);
        let q = EventQuery {
            after_seq: Some(1099),
            ..Default::default()
        };
        assert_eq!(collect(q), vec![1100, 1101]);
        let mut n = 0;
        store.scan_events(&EventQuery::default(), |_| { n += 1; n < 3 }).unwrap();
        assert_eq!(n, 3);
    }

    #[test]
    fn debug_does_not_leak_hashes() {
        let (_dir, _path, mut store) = temp_store();
        store.add_user(&new_user("alice", 1)).unwrap();
        let rec = store.get_user("alice").unwrap().unwrap();
        assert!(!format!("{rec:?}").contains(&rec.nt_hash.to_hex()));
    }
}
