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
    let result = DONE.get_or_init(|| {
        if !rustix::process::geteuid().is_root() {
            return Err(format!(
                "the end-to-end tests must run as root: they create the Unix account `{UNIX_USER}` \
                 and the server starts sessions as it (run `sudo scripts/test.sh`)"
            ));
        }
        if exists() {
            return Ok(());
        }
        require_tool("useradd", "passwd");
        let (status, out, err) = run_bounded(
            "useradd",
            Command::new("useradd").args([
                "--system",
                "--create-home",
                "--shell",
                "/bin/sh",
                UNIX_USER,
            ]),
            Duration::from_secs(30),
        );
        // Another test process may have created it meanwhile (exit 9 = exists).
        if exists() {
            Ok(())
        } else {
            Err(format!(
                "useradd {UNIX_USER} failed ({status:?}): {out}{err}"
            ))
        }
    });
    if let Err(msg) = result {
        panic!("{msg}");
    }
    UNIX_USER
}

fn exists() -> bool {
    let (status, _, _) = run_bounded(
        "getent",
        Command::new("getent").args(["passwd", UNIX_USER]),
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
