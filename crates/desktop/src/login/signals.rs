//! The session leader's termination signals (SIGTERM, SIGINT, SIGHUP): blocked and read
//! from a signalfd, so that they end the session through the leader's own loop (children
//! ended, logout record written, PAM session closed) instead of killing the leader halfway.
//!
//! The mask is inherited across fork and exec (std's `Command` does not reset it), so
//! [`super::user_process::run_as`] empties it in each child before exec: the session's
//! programs see the usual dispositions.
#![allow(unsafe_code)]

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd};

/// The signals that end a session.
const TERMINATION: [libc::c_int; 3] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP];

/// Termination signals, blocked for the calling thread and readable from a descriptor.
pub(crate) struct Termination {
    fd: OwnedFd,
}

impl Termination {
    /// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread and opens a signalfd for them.
    pub(crate) fn block() -> io::Result<Self> {
        let mut set = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigemptyset initialises the set it is given, which then is a valid sigset_t.
        let mut set = unsafe {
            libc::sigemptyset(set.as_mut_ptr());
            set.assume_init()
        };
        for signal in TERMINATION {
            // SAFETY: `set` is an initialised sigset_t and `signal` a valid signal number.
            unsafe { libc::sigaddset(&mut set, signal) };
        }
        // SAFETY: `set` is valid for the call; the old mask is not asked for (NULL).
        let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        // SAFETY: `set` is valid for the call; -1 asks for a new descriptor.
        let fd = unsafe { libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: signalfd just returned this descriptor; nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Self { fd })
    }

    /// The number of a pending termination signal, consumed, if one arrived.
    pub(crate) fn take(&self) -> Option<u32> {
        // One `struct signalfd_siginfo` is 128 bytes; its first field is the signal number.
        let mut info = [0u8; 128];
        let n = rustix::io::read(&self.fd, &mut info).ok()?;
        let signo = info.get(..4).filter(|_| n >= 4)?;
        <[u8; 4]>::try_from(signo).ok().map(u32::from_ne_bytes)
    }
}

impl AsFd for Termination {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
