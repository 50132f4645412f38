//! The Unix account the RDP test users map to. Creating it needs root: the tests
//! fail with a clear message when not run as root (they never skip).

use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::process::{require_tool, run_bounded};

/// The dedicated Unix account every test RDP user runs its session as.
pub const UNIX_USER: &str = "rampart-e2e";

/// Makes sure we are root and the account exists (idempotent, once per process).
pub fn ensure_unix_user() -> &'static str {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    if let Err(msg) = DONE.get_or_init(|| create(UNIX_USER)) {
        panic!("{msg}");
    }
    UNIX_USER
}

/// A second local account that has nothing to do with any session: what a hostile local
/// user or a compromised service would be.
pub const OTHER_USER: &str = "rampart-e2e-other";

/// Makes sure [`OTHER_USER`] exists (idempotent, once per process).
pub fn ensure_other_user() -> &'static str {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    if let Err(msg) = DONE.get_or_init(|| create(OTHER_USER)) {
        panic!("{msg}");
    }
    OTHER_USER
}

fn create(name: &str) -> Result<(), String> {
    if !rustix::process::geteuid().is_root() {
        return Err(format!(
            "the end-to-end tests must run as root: they create the Unix account `{name}` \
             and the server starts sessions as it (run `sudo scripts/test.sh`)"
        ));
    }
    if exists(name) {
        return Ok(());
    }
    require_tool("useradd", "passwd");
    let (status, out, err) = run_bounded(
        "useradd",
        Command::new("useradd").args(["--system", "--create-home", "--shell", "/bin/sh", name]),
        Duration::from_secs(30),
    );
    // Another test process may have created it meanwhile (exit 9 = exists).
    if exists(name) {
        Ok(())
    } else {
        Err(format!("useradd {name} failed ({status:?}): {out}{err}"))
    }
}

fn exists(name: &str) -> bool {
    let (status, _, _) = run_bounded(
        "getent",
        Command::new("getent").args(["passwd", name]),
        Duration::from_secs(10),
    );
    status.map(|s| s.success()).unwrap_or(false)
}

/// A temporary directory the session user can write into (mode 0777).
pub fn shared_tempdir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new()
        .prefix("rampart-e2e-shared.")
        .tempdir()
        .expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
        .expect("chmod 0777");
    dir
}
