//! What a worker gives up before it reads a byte from the peer: the OpenSSH child's
//! sandbox, carried through. In order, while still root and single-threaded:
//!
//! 1. its own session (`setsid`): no terminal of the supervisor's to reach (TIOCSTI), no
//!    signal meant for the supervisor's process group;
//! 2. a `chroot` to an empty root-owned directory: no file and no socket path to reach
//!    (the TCP socket and the channel to the supervisor were opened before; no directory
//!    descriptor is held that could lead out, and after step 4 nothing can chroot again);
//! 3. resource limits: no core dumps, bounded file size (memfds), descriptors, threads and
//!    address space;
//! 4. its own uid and gid (one per connection, from a range no account uses), no
//!    supplementary groups, `no_new_privs`, not dumpable, killed when the supervisor dies;
//! 5. a seccomp filter ([`filter`]): only the system calls a connection needs; `execve`,
//!    `fork`, `socket`, `connect`, `ptrace`, `kill` and the rest end the process.
//!
//! What is left: read and write its own descriptors (the peer's socket, the channel to
//! the supervisor, and, after authentication, connections to its user's display that the
//! supervisor opens for it), allocate memory within the limits, start threads, make
//! memfds for MIT-SHM.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The confinement the supervisor asks of one worker (in its `Init`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confinement {
    /// This connection's own uid and gid.
    pub uid: u32,
    pub gid: u32,
    /// An empty, root-owned directory to `chroot` into.
    pub root: PathBuf,
    /// The supervisor's pid: if the worker's parent is not it any more, the worker ends.
    pub supervisor: u32,
}

/// Why a worker could not confine itself (it then ends before reading the peer).
#[derive(Debug, thiserror::Error)]
pub enum ConfineError {
    #[error("{step}: {source}")]
    Step {
        step: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("privileges were not dropped")]
    NotDropped,
    #[error("the supervisor is gone")]
    Orphaned,
    #[error("seccomp filter: {0}")]
    Filter(String),
}

fn step(step: &'static str) -> impl FnOnce(rustix::io::Errno) -> ConfineError {
    move |e| ConfineError::Step {
        step,
        source: e.into(),
    }
}

/// Descriptors a worker may hold: the peer, the channel, stdio, the runtime's own, a
/// few display connections and MIT-SHM memfds.
pub const MAX_FILES: u64 = 64;
/// Threads (tasks of its uid): the runtime, IronRDP's blocking pool, the encoder's pool,
/// the capture or prompt thread.
pub const MAX_TASKS: u64 = 48;
/// Largest file: a 4096x4096 screen's MIT-SHM segment.
pub const MAX_FILE_SIZE: u64 = 4096 * 4096 * 4;
/// Address space: frames of up to 4096x4096 (64 MiB each) in flight, the encoder's copy,
/// glibc's per-thread arenas (reserved, not used).
pub const MAX_ADDRESS_SPACE: u64 = 4 << 30;

/// Confines the calling process as `c` says. Call it once, as root, before any other
/// thread exists and before the first byte is read from the peer.
pub fn confine(c: &Confinement) -> Result<(), ConfineError> {
    use rustix::process::{Gid, Resource, Rlimit, Uid};
    use rustix::thread;

    rustix::process::setsid().map_err(step("setsid"))?;
    // No new namespaces: the empty root and the system-call filter (no socket, connect,
    // shm or message-queue calls) already leave nothing to reach, and namespaces would cost
    // the service CAP_SYS_ADMIN.
    rustix::process::chroot(&c.root).map_err(step("chroot"))?;
    rustix::process::chdir("/").map_err(step("chdir /"))?;

    let limit = |resource: Resource, max: u64| {
        rustix::process::setrlimit(
            resource,
            Rlimit {
                current: Some(max),
                maximum: Some(max),
            },
        )
    };
    limit(Resource::Core, 0).map_err(step("RLIMIT_CORE"))?;
    // Files are only ever the MIT-SHM memfds of the screen (nothing can be created in the
    // empty root): as large as the largest screen, no larger.
    limit(Resource::Fsize, MAX_FILE_SIZE).map_err(step("RLIMIT_FSIZE"))?;
    limit(Resource::Nofile, MAX_FILES).map_err(step("RLIMIT_NOFILE"))?;
    limit(Resource::Nproc, MAX_TASKS).map_err(step("RLIMIT_NPROC"))?;
    limit(Resource::As, MAX_ADDRESS_SPACE).map_err(step("RLIMIT_AS"))?;
    limit(Resource::Memlock, 0).map_err(step("RLIMIT_MEMLOCK"))?;

    thread::set_no_new_privs(true).map_err(step("no_new_privs"))?;
    thread::set_thread_groups(&[]).map_err(step("clear supplementary groups"))?;
    let gid = Gid::from_raw(c.gid);
    let uid = Uid::from_raw(c.uid);
    thread::set_thread_res_gid(gid, gid, gid).map_err(step("setresgid"))?;
    thread::set_thread_res_uid(uid, uid, uid).map_err(step("setresuid"))?;
    if rustix::process::geteuid() != uid || thread::set_thread_res_uid(Uid::ROOT, Uid::ROOT, Uid::ROOT).is_ok() {
        return Err(ConfineError::NotDropped);
    }
    // Both are reset when credentials change, so they come after the drop.
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .map_err(step("not dumpable"))?;
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))
        .map_err(step("parent death signal"))?;
    if rustix::process::getppid().map(|p| p.as_raw_nonzero().get()) != i32::try_from(c.supervisor).ok() {
        // The supervisor died before the death signal was armed.
        return Err(ConfineError::Orphaned);
    }
    filter::install().map_err(ConfineError::Filter)
}

/// The seccomp allowlist.
pub mod filter {
    use std::collections::BTreeMap;

    use seccompiler::{
        BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
        TargetArch,
    };

    /// System calls allowed with any arguments.
    pub const ALLOWED: &[(&str, i64)] = &[
        ("read", libc::SYS_read),
        ("write", libc::SYS_write),
        ("readv", libc::SYS_readv),
        ("writev", libc::SYS_writev),
        ("pread64", libc::SYS_pread64),
        ("close", libc::SYS_close),
        ("lseek", libc::SYS_lseek),
        ("newfstatat", libc::SYS_newfstatat),
        ("statx", libc::SYS_statx),
        ("mmap", libc::SYS_mmap),
        ("munmap", libc::SYS_munmap),
        ("mremap", libc::SYS_mremap),
        ("mprotect", libc::SYS_mprotect),
        ("madvise", libc::SYS_madvise),
        ("brk", libc::SYS_brk),
        ("futex", libc::SYS_futex),
        ("sched_yield", libc::SYS_sched_yield),
        ("sched_getaffinity", libc::SYS_sched_getaffinity),
        ("set_robust_list", libc::SYS_set_robust_list),
        ("rseq", libc::SYS_rseq),
        ("set_tid_address", libc::SYS_set_tid_address),
        ("exit", libc::SYS_exit),
        ("exit_group", libc::SYS_exit_group),
        ("gettid", libc::SYS_gettid),
        ("getpid", libc::SYS_getpid),
        ("getppid", libc::SYS_getppid),
        ("getuid", libc::SYS_getuid),
        ("geteuid", libc::SYS_geteuid),
        ("getgid", libc::SYS_getgid),
        ("getegid", libc::SYS_getegid),
        ("uname", libc::SYS_uname),
        ("rt_sigaction", libc::SYS_rt_sigaction),
        ("rt_sigprocmask", libc::SYS_rt_sigprocmask),
        ("rt_sigreturn", libc::SYS_rt_sigreturn),
        ("sigaltstack", libc::SYS_sigaltstack),
        ("epoll_create1", libc::SYS_epoll_create1),
        ("epoll_ctl", libc::SYS_epoll_ctl),
        ("epoll_wait", libc::SYS_epoll_wait),
        ("epoll_pwait", libc::SYS_epoll_pwait),
        ("epoll_pwait2", libc::SYS_epoll_pwait2),
        ("eventfd2", libc::SYS_eventfd2),
        ("poll", libc::SYS_poll),
        ("ppoll", libc::SYS_ppoll),
        ("recvfrom", libc::SYS_recvfrom),
        ("recvmsg", libc::SYS_recvmsg),
        ("sendto", libc::SYS_sendto),
        ("sendmsg", libc::SYS_sendmsg),
        ("shutdown", libc::SYS_shutdown),
        ("getsockopt", libc::SYS_getsockopt),
        ("setsockopt", libc::SYS_setsockopt),
        ("getsockname", libc::SYS_getsockname),
        ("getpeername", libc::SYS_getpeername),
        ("memfd_create", libc::SYS_memfd_create),
        ("ftruncate", libc::SYS_ftruncate),
        ("clock_gettime", libc::SYS_clock_gettime),
        ("clock_getres", libc::SYS_clock_getres),
        ("clock_nanosleep", libc::SYS_clock_nanosleep),
        ("nanosleep", libc::SYS_nanosleep),
        ("gettimeofday", libc::SYS_gettimeofday),
        ("getrandom", libc::SYS_getrandom),
        ("restart_syscall", libc::SYS_restart_syscall),
    ];

    /// System calls that fail with `EACCES` instead of killing: libraries probe files
    /// (cgroup CPU quotas, /proc/self/maps) and fall back when they cannot read them, and in
    /// the empty root there is nothing to open anyway.
    pub const REFUSED: &[(&str, i64)] = &[
        ("openat", libc::SYS_openat),
        ("open", libc::SYS_open),
        ("access", libc::SYS_access),
        ("faccessat", libc::SYS_faccessat),
        ("faccessat2", libc::SYS_faccessat2),
        ("readlink", libc::SYS_readlink),
        ("readlinkat", libc::SYS_readlinkat),
        ("prlimit64", libc::SYS_prlimit64),
        ("sysinfo", libc::SYS_sysinfo),
        ("membarrier", libc::SYS_membarrier),
    ];

    /// System calls that fail with `ENOSYS`: glibc then falls back to `clone`, whose flags
    /// can be checked (those of `clone3` are in a struct behind a pointer).
    pub const UNSUPPORTED: &[(&str, i64)] = &[("clone3", libc::SYS_clone3)];

    /// System calls allowed only with some arguments (checked below).
    pub const CONDITIONAL: &[&str] = &[
        "clone (threads only: CLONE_THREAD set)",
        "fcntl (F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC)",
        "ioctl (FIONBIO, FIOCLEX)",
        "prctl (PR_SET_NAME, PR_GET_NAME)",
        "socketpair (AF_UNIX)",
        "tgkill (this process only)",
    ];

    fn cond(arg: u8, op: SeccompCmpOp, value: u64) -> Result<SeccompCondition, String> {
        SeccompCondition::new(arg, SeccompCmpArgLen::Dword, op, value).map_err(|e| e.to_string())
    }

    fn one_of(arg: u8, values: &[u64]) -> Result<Vec<SeccompRule>, String> {
        values
            .iter()
            .map(|v| SeccompRule::new(vec![cond(arg, SeccompCmpOp::Eq, *v)?]).map_err(|e| e.to_string()))
            .collect()
    }

    fn arch() -> Result<TargetArch, String> {
        if cfg!(target_arch = "x86_64") {
            Ok(TargetArch::x86_64)
        } else if cfg!(target_arch = "aarch64") {
            Ok(TargetArch::aarch64)
        } else {
            Err("no seccomp filter for this architecture".to_owned())
        }
    }

    /// The worker's filters for process `pid`: [allowlist, refusals, unsupported]. Seccomp
    /// runs every installed filter and takes the most restrictive verdict, so the allowlist
    /// (everything else kills the process) lets the [`REFUSED`] and [`UNSUPPORTED`] calls
    /// through, and the other two turn exactly those into `EACCES` and `ENOSYS`.
    pub fn programs(pid: u32) -> Result<[BpfProgram; 3], String> {
        let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
        for (_, nr) in ALLOWED.iter().chain(REFUSED).chain(UNSUPPORTED) {
            rules.insert(*nr, Vec::new());
        }
        let as_u64 = |v: i32| u64::from(v.unsigned_abs());
        let clone_thread = u64::from(libc::CLONE_THREAD.unsigned_abs());
        rules.insert(
            libc::SYS_clone,
            vec![SeccompRule::new(vec![cond(0, SeccompCmpOp::MaskedEq(clone_thread), clone_thread)?])
                .map_err(|e| e.to_string())?],
        );
        rules.insert(
            libc::SYS_fcntl,
            one_of(
                1,
                &[
                    as_u64(libc::F_GETFD),
                    as_u64(libc::F_SETFD),
                    as_u64(libc::F_GETFL),
                    as_u64(libc::F_SETFL),
                    as_u64(libc::F_DUPFD_CLOEXEC),
                ],
            )?,
        );
        rules.insert(libc::SYS_ioctl, one_of(1, &[libc::FIONBIO, libc::FIOCLEX])?);
        rules.insert(libc::SYS_prctl, one_of(0, &[as_u64(libc::PR_SET_NAME), as_u64(libc::PR_GET_NAME)])?);
        rules.insert(libc::SYS_socketpair, one_of(0, &[as_u64(libc::AF_UNIX)])?);
        rules.insert(libc::SYS_tgkill, one_of(0, &[u64::from(pid)])?);
        let allowlist = SeccompFilter::new(rules, SeccompAction::KillProcess, SeccompAction::Allow, arch()?)
            .map_err(|e| e.to_string())?;
        let failing = |calls: &[(&str, i64)], errno: i32| -> Result<SeccompFilter, String> {
            let rules: BTreeMap<i64, Vec<SeccompRule>> = calls.iter().map(|(_, nr)| (*nr, Vec::new())).collect();
            let errno = u32::try_from(errno).map_err(|e| e.to_string())?;
            SeccompFilter::new(rules, SeccompAction::Allow, SeccompAction::Errno(errno), arch()?).map_err(|e| e.to_string())
        };
        let compile = |f: SeccompFilter| -> Result<BpfProgram, String> { f.try_into().map_err(|e: seccompiler::BackendError| e.to_string()) };
        Ok([
            compile(allowlist)?,
            compile(failing(REFUSED, libc::EACCES)?)?,
            compile(failing(UNSUPPORTED, libc::ENOSYS)?)?,
        ])
    }

    /// Installs the filters on the calling thread; called before any other thread exists,
    /// so every thread the process will have inherits them.
    pub fn install() -> Result<(), String> {
        let [allowlist, refusals, unsupported] = programs(std::process::id())?;
        // Each install sets no_new_privs with prctl first, which the allowlist does not
        // allow: the permissive filters go in first, the allowlist last.
        seccompiler::apply_filter(&refusals).map_err(|e| e.to_string())?;
        seccompiler::apply_filter(&unsupported).map_err(|e| e.to_string())?;
        seccompiler::apply_filter(&allowlist).map_err(|e| e.to_string())
    }
}
