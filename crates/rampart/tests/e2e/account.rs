//! The Unix account the RDP test users map to. Creating it needs root: the tests
//! fail with a clear message when not run as root (they never skip).

use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::process::{require_tool, run_bounded};

/// The dedicated Unix account every test RDP user runs its session as.
pub const UNIX_USER: &str = "rampart-e2e";

/// Makes sure we are root, the account exists and the PAM service sessions log in
/// through is installed (idempotent, once per process).
pub fn ensure_unix_user() -> &'static str {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    if let Err(msg) = DONE.get_or_init(|| create(UNIX_USER).and_then(|()| install_pam_service())) {
        panic!("{msg}");
    }
    UNIX_USER
}

/// `/etc/pam.d/rampart` as the repository ships it (`packaging/pam.d/rampart`): every
/// session is a PAM login of this service. Written only if it differs, atomically.
fn install_pam_service() -> Result<(), String> {
    let shipped = include_str!("../../../../packaging/pam.d/rampart");
    let path = std::path::Path::new("/etc/pam.d/rampart");
    if std::fs::read_to_string(path).ok().as_deref() == Some(shipped) {
        return Ok(());
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, shipped)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| format!("cannot install {}: {e}", path.display()))
}

/// Makes sure the local account `name` exists (a system account with a home).
pub fn ensure_account(name: &str) {
    if let Err(msg) = create(name) {
        panic!("{msg}");
    }
}

/// Runs an account-administration command as part of a test's setup; fails the test if it fails.
pub fn admin(program: &str, args: &[&str]) {
    require_tool(program, "passwd");
    let (status, out, err) = run_bounded(program, Command::new(program).args(args), Duration::from_secs(30));
    assert!(
        status.map(|s| s.success()).unwrap_or(false),
        "{program} {args:?} failed ({status:?}): {out}{err}"
    );
}

/// The numeric id of `name` in the passwd (`passwd`) or group (`group`) database.
pub fn id_of(database: &str, name: &str) -> u32 {
    let (status, out, _) = run_bounded("getent", Command::new("getent").args([database, name]), Duration::from_secs(10));
    assert!(status.map(|s| s.success()).unwrap_or(false), "getent {database} {name}: not found");
    out.split(':')
        .nth(2)
        .and_then(|id| id.trim().parse().ok())
        .unwrap_or_else(|| panic!("getent {database} {name}: {out:?}"))
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
