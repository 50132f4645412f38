//! Keeping a session display private to its owner.
//!
//! An X server started with `-auth FILE` admits only clients that present the cookie in
//! that file. If it cannot read the file (say, because a parent directory is root-only),
//! X.Org does not refuse to start: it runs with no authorization records and admits every
//! local client, so any account on the host could type into the session. Two guards stop
//! that here:
//!
//! - before Xvfb starts, [`unreachable_dir`] checks (purely, from file metadata) that the
//!   session's account can walk down to its auth file; and
//! - once Xvfb is up, [`admits_without_cookie`] opens a connection with no authorization
//!   at all: the server must refuse it, or the session is torn down.

use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::DesktopError;

/// The permission facts of one directory on the way to a session's files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirFacts {
    pub path: PathBuf,
    pub uid: u32,
    pub gid: u32,
    /// Permission bits (`mode & 0o7777`).
    pub mode: u32,
}

/// Why an account cannot reach its session files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreachable {
    pub dir: PathBuf,
    pub mode: u32,
    pub owner: u32,
}

/// The first directory of `chain` (outermost first) that `uid`/`gid` may not traverse
/// (search permission, `x`), by the classic owner/group/other rule. Root passes all.
/// Access control lists are not consulted: a directory they would open is still reported.
pub fn unreachable_dir(chain: &[DirFacts], uid: u32, gid: u32) -> Option<Unreachable> {
    if uid == 0 {
        return None;
    }
    chain
        .iter()
        .find(|d| {
            let bit = if d.uid == uid {
                0o100
            } else if d.gid == gid {
                0o010
            } else {
                0o001
            };
            d.mode & bit == 0
        })
        .map(|d| Unreachable {
            dir: d.path.clone(),
            mode: d.mode,
            owner: d.uid,
        })
}

/// Metadata of `dir` and every directory above it, outermost first.
pub fn dir_chain(dir: &Path) -> Result<Vec<DirFacts>, DesktopError> {
    let mut chain = Vec::new();
    for ancestor in dir.ancestors() {
        if ancestor.as_os_str().is_empty() {
            continue;
        }
        let meta = std::fs::metadata(ancestor)
            .map_err(|e| DesktopError::io(format!("stat {}", ancestor.display()), e))?;
        chain.push(DirFacts {
            path: ancestor.to_owned(),
            uid: meta.uid(),
            gid: meta.gid(),
            mode: meta.mode() & 0o7777,
        });
    }
    chain.reverse();
    Ok(chain)
}

/// How long the cookieless probe waits for the server's answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether the X server of local display `display` accepts a client that presents no
/// authorization at all. `Ok(false)` is the only safe answer for a session display.
pub fn admits_without_cookie(display: u32) -> Result<bool, DesktopError> {
    let path = format!("/tmp/.X11-unix/X{display}");
    let connect_err = |reason: String| DesktopError::Connect {
        display: format!(":{display}"),
        reason,
    };
    let mut stream = UnixStream::connect(&path).map_err(|e| connect_err(format!("{path}: {e}")))?;
    stream
        .set_read_timeout(Some(PROBE_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(PROBE_TIMEOUT)))
        .map_err(|e| connect_err(e.to_string()))?;
    // X11 connection setup: little-endian byte order, protocol 11.0, and empty
    // authorization name and data.
    let setup: [u8; 12] = [b'l', 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    stream
        .write_all(&setup)
        .map_err(|e| connect_err(e.to_string()))?;
    let mut status = [0u8; 1];
    stream
        .read_exact(&mut status)
        .map_err(|e| connect_err(format!("no answer to a cookieless setup: {e}")))?;
    setup_admitted(status[0]).ok_or_else(|| connect_err(format!("unknown setup status {}", status[0])))
}

/// The first byte of an X11 setup reply: 0 Failed, 1 Success, 2 Authenticate.
fn setup_admitted(status: u8) -> Option<bool> {
    match status {
        0 | 2 => Some(false),
        1 => Some(true),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(path: &str, uid: u32, gid: u32, mode: u32) -> DirFacts {
        DirFacts {
            path: PathBuf::from(path),
            uid,
            gid,
            mode,
        }
    }

    #[test]
    fn root_only_parent_blocks_a_user() {
        // The layout that left displays open: a 0700 root state dir above 0711 sessions.
        let chain = [
            dir("/", 0, 0, 0o755),
            dir("/var/lib/rampart", 0, 0, 0o700),
            dir("/var/lib/rampart/sessions", 0, 0, 0o711),
            dir("/var/lib/rampart/sessions/s-1", 1000, 1000, 0o700),
        ];
        assert_eq!(
            unreachable_dir(&chain, 1000, 1000),
            Some(Unreachable {
                dir: PathBuf::from("/var/lib/rampart"),
                mode: 0o700,
                owner: 0
            })
        );
        assert_eq!(unreachable_dir(&chain, 0, 0), None, "root passes");
    }

    #[test]
    fn runtime_layout_is_reachable_by_its_owner_only() {
        let chain = [
            dir("/", 0, 0, 0o755),
            dir("/run", 0, 0, 0o755),
            dir("/run/rampart", 0, 0, 0o711),
            dir("/run/rampart/sessions", 0, 0, 0o711),
            dir("/run/rampart/sessions/s-1", 1000, 1000, 0o700),
        ];
        assert_eq!(unreachable_dir(&chain, 1000, 1000), None);
        // Another account gets as far as the session dir and no further.
        assert_eq!(
            unreachable_dir(&chain, 1001, 1001).map(|u| u.dir),
            Some(PathBuf::from("/run/rampart/sessions/s-1"))
        );
    }

    #[test]
    fn owner_bits_win_over_group_and_other() {
        // Owner without x is refused even if others may pass (the classic rule).
        let chain = [dir("/d", 1000, 50, 0o011)];
        assert!(unreachable_dir(&chain, 1000, 1000).is_some());
        // Group member with g+x passes; a stranger with o-x does not.
        let chain = [dir("/d", 0, 50, 0o710)];
        assert!(unreachable_dir(&chain, 1000, 50).is_none());
        assert!(unreachable_dir(&chain, 1000, 51).is_some());
    }

    #[test]
    fn setup_status_bytes() {
        assert_eq!(setup_admitted(0), Some(false));
        assert_eq!(setup_admitted(2), Some(false));
        assert_eq!(setup_admitted(1), Some(true));
        assert_eq!(setup_admitted(7), None);
    }
}
