//! Processes as a session's user: the account's supplementary groups from the group
//! database (`initgroups`, so NSS group sources count, as in login and sshd) and the
//! `pre_exec` step that puts each child in a session of its own, with exactly the user's
//! ids and groups, in the user's directory.
//!
//! std's `Command::uid`/`gid` are not used: they clear the supplementary groups and run
//! `pre_exec` hooks only after dropping root, too late for `setgroups`. Here everything
//! happens in one hook, in the order login(1) uses: `setsid`, `setgroups`, `setgid`,
//! `setuid`, then `chdir` as the user.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use rustix::process::{Gid, Uid};

/// The credentials a session's processes run with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UserIds {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups (empty: none).
    pub groups: Vec<u32>,
}

/// Sets the calling process's supplementary groups to those of `name` in the group
/// database, plus `gid`.
pub(crate) fn initgroups(name: &str, gid: u32) -> io::Result<()> {
    let name = CString::new(name).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in user name"))?;
    // SAFETY: `name` is a NUL-terminated string valid for the call; initgroups only reads
    // it and the group database and changes this process's own credentials.
    let rc = unsafe { libc::initgroups(name.as_ptr(), gid) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The calling process's supplementary groups.
pub(crate) fn current_groups() -> io::Result<Vec<u32>> {
    Ok(rustix::process::getgroups()?.into_iter().map(Gid::as_raw).collect())
}

/// Makes `cmd` start as `ids` in a new session (no controlling terminal, its own process
/// group), with no signal blocked (the leader blocks its termination signals, and a mask
/// survives fork and exec), in `dir` if the user may enter it and in `/` otherwise. Does
/// not set the working directory through `Command` (that would `chdir` as root).
pub(crate) fn run_as(cmd: &mut Command, ids: &UserIds, dir: &Path) -> io::Result<()> {
    let mut empty = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the set it is given, which then is a valid sigset_t.
    let empty = unsafe {
        libc::sigemptyset(empty.as_mut_ptr());
        empty.assume_init()
    };
    let groups: Vec<Gid> = ids.groups.iter().map(|g| Gid::from_raw(*g)).collect();
    let uid = Uid::from_raw(ids.uid);
    let gid = Gid::from_raw(ids.gid);
    let dir = CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in directory"))?;
    // SAFETY: the hook runs in the child between fork and exec, where only
    // async-signal-safe work is allowed. It calls pthread_sigmask (async-signal-safe) and
    // makes raw system calls through rustix (setsid, setgroups, setgid, setuid, chdir —
    // each a direct syscall on the child's only thread) on values prepared before the
    // fork, and allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            let rc = libc::pthread_sigmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
            if rc != 0 {
                return Err(io::Error::from_raw_os_error(rc));
            }
            rustix::process::setsid()?;
            rustix::thread::set_thread_groups(&groups)?;
            rustix::thread::set_thread_gid(gid)?;
            rustix::thread::set_thread_uid(uid)?;
            if rustix::process::chdir(dir.as_c_str()).is_err() {
                rustix::process::chdir(c"/")?;
            }
            Ok(())
        });
    }
    Ok(())
}
