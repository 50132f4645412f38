//! Memory shared with the X server for MIT-SHM image transfers.
//!
//! The X server usually runs as another uid than the capturing process, so SysV
//! segments (which need matching permissions) are out; instead we create an
//! anonymous memfd, map it, and hand the fd to the server with `ShmAttachFd`
//! (MIT-SHM 1.2). This is the only module with `unsafe`.
#![allow(unsafe_code)]

use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;

use memmap2::{MmapMut, MmapOptions};

/// A shared, writable mapping of a memfd.
pub(crate) struct ShmBuffer {
    map: MmapMut,
}

impl ShmBuffer {
    /// Creates a memfd of `len` bytes, maps it, and returns the mapping and a
    /// second handle on the same memory for the X server.
    pub(crate) fn create(len: usize) -> io::Result<(Self, OwnedFd)> {
        let fd = rustix::fs::memfd_create("rampart-capture", rustix::fs::MemfdFlags::CLOEXEC)?;
        let size = u64::try_from(len).map_err(|_| io::Error::other("shm size overflows u64"))?;
        rustix::fs::ftruncate(&fd, size)?;
        let file = File::from(fd);
        // SAFETY: the memfd is anonymous and was created just above, so no file on
        // disk can be truncated under us; we set its size before mapping and never
        // shrink it. The only other writer is the X server, which writes into it
        // solely while serving a ShmGetImage that we wait for before reading, so a
        // read never overlaps a write from a well-behaved server. A hostile server
        // could write concurrently, which can tear pixel data but cannot make the
        // mapping invalid: the mapping lives as long as `self`.
        let map = unsafe { MmapOptions::new().len(len).map_mut(&file)? };
        let server_fd = OwnedFd::from(file);
        Ok((Self { map }, server_fd))
    }

    /// The mapped bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.map
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}
