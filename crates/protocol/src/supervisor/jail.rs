//! The supervisor's side of worker confinement: the uids workers run as (one per live
//! connection, from a range no account or group uses, so no worker can signal or trace
//! another and none owns a file) and the empty directory they `chroot` into.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context};

use crate::worker::confine::Confinement;

/// Hands out worker uids and makes each worker's [`Confinement`].
#[derive(Debug)]
pub(crate) struct Jail {
    root: PathBuf,
    base: u32,
    slots: u32,
    in_use: Arc<Mutex<BTreeSet<u32>>>,
}

/// A uid taken for one worker; given back when dropped (after the worker has exited).
#[derive(Debug)]
pub(crate) struct UidLease {
    uid: u32,
    in_use: Arc<Mutex<BTreeSet<u32>>>,
}

impl Drop for UidLease {
    fn drop(&mut self) {
        if let Ok(mut set) = self.in_use.lock() {
            set.remove(&self.uid);
        }
    }
}

impl UidLease {
    #[cfg(test)]
    fn uid(&self) -> u32 {
        self.uid
    }
}

impl Jail {
    /// Checks the uid range against the host's accounts and groups and makes the empty
    /// root (`runtime_dir/jail`: root-owned, mode 0555, empty).
    pub(crate) fn prepare(runtime_dir: &Path, base: u32, slots: u32) -> anyhow::Result<Self> {
        let passwd = std::fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
        let group = std::fs::read_to_string("/etc/group").context("reading /etc/group")?;
        let taken = ids_in_range(&passwd, base, slots)
            .into_iter()
            .map(|(name, id)| format!("user {name} ({id})"))
            .chain(ids_in_range(&group, base, slots).into_iter().map(|(name, id)| format!("group {name} ({id})")))
            .collect::<Vec<_>>();
        if !taken.is_empty() {
            bail!(
                "worker uids {base}..{} overlap existing ids: {}; choose another [server] worker_uid_base",
                u64::from(base) + u64::from(slots),
                taken.join(", ")
            );
        }
        let root = runtime_dir.join("jail");
        make_empty_root(&root)?;
        Ok(Self {
            root,
            base,
            slots,
            in_use: Arc::new(Mutex::new(BTreeSet::new())),
        })
    }

    /// The lowest free uid of the range, if any.
    pub(crate) fn lease(&self) -> Option<UidLease> {
        let mut set = self.in_use.lock().ok()?;
        let uid = (0..self.slots).map(|i| self.base + i).find(|uid| !set.contains(uid))?;
        set.insert(uid);
        Some(UidLease {
            uid,
            in_use: Arc::clone(&self.in_use),
        })
    }

    /// What a worker running as `lease` gives up.
    pub(crate) fn confinement(&self, lease: &UidLease) -> Confinement {
        Confinement {
            uid: lease.uid,
            gid: lease.uid,
            root: self.root.clone(),
            supervisor: std::process::id(),
        }
    }
}

/// Entries of a passwd or group file whose numeric id (third field) lies in
/// `base..base + count`.
pub fn ids_in_range(text: &str, base: u32, count: u32) -> Vec<(String, u32)> {
    let end = u64::from(base) + u64::from(count);
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let id: u32 = fields.nth(1)?.parse().ok()?;
            (u64::from(id) >= u64::from(base) && u64::from(id) < end).then(|| (name.to_owned(), id))
        })
        .collect()
}

fn make_empty_root(root: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    if !root.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o555)
            .create(root)
            .with_context(|| format!("creating {}", root.display()))?;
    }
    let meta = std::fs::symlink_metadata(root).with_context(|| format!("stat {}", root.display()))?;
    if !meta.is_dir() || meta.uid() != 0 {
        bail!("{} must be a directory owned by root", root.display());
    }
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o555))
        .with_context(|| format!("chmod {}", root.display()))?;
    if std::fs::read_dir(root)?.next().is_some() {
        bail!("{} must be empty: workers are confined to it", root.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_the_range_are_found() {
        let passwd = "root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\nodd:x:2000000005:1::/:/bin/sh\nbroken\n";
        assert_eq!(ids_in_range(passwd, 2_000_000_000, 256), vec![("odd".to_owned(), 2_000_000_005)]);
        assert!(ids_in_range(passwd, 2_000_000_006, 256).is_empty());
        assert_eq!(ids_in_range(passwd, 65_000, 1000), vec![("nobody".to_owned(), 65534)]);
        // The end of the range is exclusive, and no overflow near u32::MAX.
        assert!(ids_in_range(passwd, 1_999_999_750, 255).is_empty());
        assert!(ids_in_range("x:x:4294967295:1::/:/bin/sh", u32::MAX - 1, 256).len() == 1);
    }

    #[test]
    fn leases_are_unique_and_come_back() {
        let jail = Jail {
            root: PathBuf::from("/nonexistent"),
            base: 100,
            slots: 2,
            in_use: Arc::new(Mutex::new(BTreeSet::new())),
        };
        let a = jail.lease().unwrap();
        let b = jail.lease().unwrap();
        assert_eq!((a.uid(), b.uid()), (100, 101));
        assert!(jail.lease().is_none(), "more leases than slots");
        drop(a);
        let c = jail.lease().unwrap();
        assert_eq!(c.uid(), 100);
        let conf = jail.confinement(&c);
        assert_eq!((conf.uid, conf.gid), (100, 100));
    }
}
