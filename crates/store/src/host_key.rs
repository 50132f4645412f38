//! The host key file: 32 random bytes as 64 hex digits, mode 0600, created once.
//!
//! It is kept apart from the database so that a copy of `rampart.db` alone (a backup, a
//! stolen disk image of the state directory without `/etc`) does not yield NT hashes or
//! TOTP secrets. See `docs/security.md` for what each combination of files gives away.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use rampart_auth::sealed::{HostKey, HOST_KEY_LEN};
use zeroize::Zeroizing;

use crate::StoreError;

/// Reads the key at `path`; the file must be a regular file owned by us (or by anyone when
/// we are root), not readable or writable by group or others.
pub fn load(path: &Path) -> Result<HostKey, StoreError> {
    let io_err = |source| StoreError::Io {
        path: path.to_owned(),
        source,
    };
    let meta = fs::symlink_metadata(path).map_err(io_err)?;
    if !meta.file_type().is_file() {
        return Err(StoreError::NotRegularFile { path: path.to_owned() });
    }
    crate::check_owner(path, &meta)?;
    if meta.mode() & 0o077 != 0 {
        return Err(StoreError::HostKey {
            path: path.to_owned(),
            problem: format!("mode is {:o}; it must be 0600 (chmod 600 it)", meta.mode() & 0o7777),
        });
    }
    let mut text = Zeroizing::new(String::new());
    fs::File::open(path)
        .and_then(|f| f.take(256).read_to_string(&mut text))
        .map_err(io_err)?;
    let mut bytes = Zeroizing::new([0u8; HOST_KEY_LEN]);
    hex::decode_to_slice(text.trim(), bytes.as_mut_slice()).map_err(|_| StoreError::HostKey {
        path: path.to_owned(),
        problem: format!("it must hold {} hex digits", HOST_KEY_LEN * 2),
    })?;
    Ok(HostKey::from_bytes(*bytes))
}

/// Creates a new key at `path` (mode 0600 from the first byte); fails if the file exists.
pub fn create(path: &Path) -> Result<HostKey, StoreError> {
    let io_err = |source| StoreError::Io {
        path: path.to_owned(),
        source,
    };
    let key = HostKey::generate();
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io_err)?;
    let mut text = Zeroizing::new(hex::encode(key.expose()));
    text.push('\n');
    file.write_all(text.as_bytes()).and_then(|()| file.sync_all()).map_err(io_err)?;
    if let Some(dir) = path.parent() {
        // Make the new directory entry durable too.
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(key)
}

/// Loads the key at `path`, creating it if it does not exist (racing creators agree: the
/// loser reads the winner's key).
pub fn load_or_create(path: &Path) -> Result<HostKey, StoreError> {
    match create(path) {
        Ok(key) => Ok(key),
        Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::AlreadyExists => load(path),
        Err(err) => Err(err),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn create_then_load_same_key_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("host.key");
        let key = load_or_create(&path).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o7777, 0o600);
        let again = load_or_create(&path).unwrap();
        assert_eq!(key.expose(), again.expose());
        assert!(create(&path).is_err());
    }

    #[test]
    fn refuses_loose_mode_and_bad_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("host.key");
        load_or_create(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains("0600"), "{err}");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(&path, "not hex\n").unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains("64 hex digits"), "{err}");
    }
}
