//! The Debian package and its systemd unit, for real: `packaging/build-deb.sh` packages
//! the binary under test, `dpkg -i` installs it into a clean Debian 12 made by debootstrap
//! (so its Depends line is checked against real Debian packages), `rampart check` passes
//! on what it installed, `systemd-analyze` verifies and rates the unit, and then the
//! installed tree boots under a real systemd (`systemd-nspawn`): the service is enabled as
//! the README says, reports READY through sd_notify, and `xfreerdp` logs in through it
//! from the host. The session writes what its sandbox looks like from inside.
//!
//! The clean Debian (debootstrap --variant=minbase plus systemd and Xorg, about 3 minutes)
//! is made once and kept as a tarball under the cargo target dir; each run unpacks a fresh
//! copy. The mirror is deb.debian.org unless `RAMPART_DEBIAN_MIRROR` names another.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::client::Session;
use crate::process::{poll, require_tool, run_bounded, tail, Guarded};
use crate::server::{accepts_connections, free_port, BIN, PASSWORD};

const SUITE: &str = "bookworm";
/// Added to minbase: an init to boot, and what the package depends on beyond libc (the
/// default X server for sessions: Xorg with the dummy driver).
const IMAGE_PACKAGES: &str = "systemd,systemd-sysv,dbus,xserver-xorg-core,xserver-xorg-video-dummy";
/// Highest `systemd-analyze security` exposure accepted for the unit (10 = no sandbox).
const MAX_EXPOSURE: f32 = 5.0;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("package-test")
}

/// Runs a command to completion within `limit`; panics with its output unless it succeeds.
fn run_ok(what: &str, cmd: &mut Command, limit: Duration) -> String {
    let (status, out, err) = run_bounded(what, cmd, limit);
    assert!(
        status.map(|s| s.success()).unwrap_or(false),
        "{what} failed ({status:?}):\n{}\n{}",
        tail(&out, 30),
        tail(&err, 30)
    );
    out
}

/// The .deb of the binary under test, built once per test process.
fn deb() -> &'static Path {
    static DEB: OnceLock<PathBuf> = OnceLock::new();
    DEB.get_or_init(|| {
        require_tool("dpkg-deb", "dpkg");
        require_tool("dpkg-shlibdeps", "dpkg-dev");
        require_tool("strip", "binutils");
        let out_dir = cache_dir().join("deb");
        let _ = std::fs::remove_dir_all(&out_dir);
        let out = run_ok(
            "packaging/build-deb.sh",
            Command::new(repo_root().join("packaging/build-deb.sh"))
                .arg("--binary")
                .arg(BIN)
                .arg("--out")
                .arg(&out_dir),
            Duration::from_secs(300),
        );
        let deb = PathBuf::from(out.lines().last().unwrap_or("").trim());
        assert!(deb.is_file(), "build-deb.sh printed no package path:\n{out}");
        deb
    })
}

/// A clean Debian 12 with systemd and Xorg, unpacked fresh into a temp dir.
fn clean_debian() -> tempfile::TempDir {
    require_tool("debootstrap", "debootstrap");
    let cache = cache_dir();
    std::fs::create_dir_all(&cache).expect("cache dir");
    let tarball = cache.join(format!("{SUITE}-minbase-{}.tar", IMAGE_PACKAGES.replace(',', "+")));
    if !tarball.is_file() {
        let build = tempfile::Builder::new().prefix("debootstrap.").tempdir_in(&cache).expect("tempdir");
        let mirror = std::env::var("RAMPART_DEBIAN_MIRROR").unwrap_or_else(|_| "http://deb.debian.org/debian".to_owned());
        run_ok(
            "debootstrap",
            Command::new("debootstrap")
                .args(["--variant=minbase", &format!("--include={IMAGE_PACKAGES}"), SUITE])
                .arg(build.path().join("root"))
                .arg(&mirror),
            Duration::from_secs(900),
        );
        let partial = cache.join("image.tar.partial");
        run_ok(
            "tar (pack the image)",
            Command::new("tar")
                .arg("--numeric-owner")
                .arg("-C")
                .arg(build.path().join("root"))
                .arg("-cf")
                .arg(&partial)
                .arg("."),
            Duration::from_secs(300),
        );
        std::fs::rename(&partial, &tarball).expect("keep the image");
    }
    let root = tempfile::Builder::new().prefix("rampart-deb-root.").tempdir().expect("tempdir");
    run_ok(
        "tar (unpack the image)",
        Command::new("tar")
            .arg("--numeric-owner")
            .arg("-C")
            .arg(root.path())
            .arg("-xf")
            .arg(&tarball),
        Duration::from_secs(300),
    );
    root
}

fn chroot(root: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("chroot");
    cmd.arg(root).args(args).env_clear().env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").env("LANG", "C");
    cmd
}

fn mode_and_owner(path: &Path) -> (u32, u32) {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (meta.mode() & 0o7777, meta.uid())
}

#[test]
fn deb_holds_binary_unit_config_man_pages_and_completions() {
    let _turn = crate::exclusive();
    let deb = deb();
    let info = run_ok("dpkg-deb --info", Command::new("dpkg-deb").arg("--info").arg(deb), Duration::from_secs(60));
    assert!(info.contains(&format!("Version: {}", env!("CARGO_PKG_VERSION"))), "{info}");
    assert!(info.contains("Package: rampart"), "{info}");
    let depends = info.lines().find(|l| l.trim_start().starts_with("Depends:")).unwrap_or("");
    assert!(depends.contains("libc6 (>=") && depends.contains("xserver-xorg-video-dummy"), "{depends}");
    assert!(info.contains("conffiles") && info.contains("postinst"), "{info}");
    let control = tempfile::tempdir().expect("tempdir");
    run_ok(
        "dpkg-deb --control",
        Command::new("dpkg-deb").arg("--control").arg(deb).arg(control.path().join("DEBIAN")),
        Duration::from_secs(60),
    );
    let conffiles = std::fs::read_to_string(control.path().join("DEBIAN/conffiles")).expect("conffiles");
    assert_eq!(conffiles, "/etc/rampart/rampart.toml\n");
    let postinst = std::fs::read_to_string(control.path().join("DEBIAN/postinst")).expect("postinst");
    assert!(postinst.contains("install -d -m 0700 -o root -g root /var/lib/rampart"), "{postinst}");

    let contents = run_ok("dpkg-deb --contents", Command::new("dpkg-deb").arg("--contents").arg(deb), Duration::from_secs(60));
    for (mode, path) in [
        ("-rwxr-xr-x root/root", "./usr/sbin/rampart"),
        ("-rw-r--r-- root/root", "./lib/systemd/system/rampart.service"),
        ("-rw-r--r-- root/root", "./etc/rampart/rampart.toml"),
        ("-rw-r--r-- root/root", "./usr/share/man/man8/rampart.8.gz"),
        ("-rw-r--r-- root/root", "./usr/share/man/man8/rampart-serve.8.gz"),
        ("-rw-r--r-- root/root", "./usr/share/man/man8/rampart-check.8.gz"),
        ("-rw-r--r-- root/root", "./usr/share/bash-completion/completions/rampart"),
        ("-rw-r--r-- root/root", "./usr/share/zsh/vendor-completions/_rampart"),
        ("-rw-r--r-- root/root", "./usr/share/fish/vendor_completions.d/rampart.fish"),
        ("-rw-r--r-- root/root", "./usr/share/doc/rampart/copyright"),
    ] {
        let line = contents.lines().find(|l| l.ends_with(&format!(" {path}")));
        let line = line.unwrap_or_else(|| panic!("{path} missing from the package:\n{contents}"));
        assert!(line.starts_with(mode), "{path}: {line}");
    }

    // The unit as shipped: offline rating of its sandbox (the installed unit is verified
    // against the installed tree in the other test).
    require_tool("systemd-analyze", "systemd");
    let unit = repo_root().join("packaging/rampart.service");
    let (_, out, err) = run_bounded(
        "systemd-analyze security",
        Command::new("systemd-analyze").args(["security", "--offline=true", "--no-pager"]).arg(&unit),
        Duration::from_secs(60),
    );
    let exposure = exposure_level(&format!("{out}{err}"));
    eprintln!("systemd-analyze security: exposure {exposure} for rampart.service");
    assert!(exposure <= MAX_EXPOSURE, "exposure {exposure} > {MAX_EXPOSURE}:\n{out}{err}");
}

/// `→ Overall exposure level for rampart.service: 4.3 OK 🙂` → 4.3
fn exposure_level(text: &str) -> f32 {
    text.lines()
        .find_map(|l| l.split_once("Overall exposure level for rampart.service:"))
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in:\n{text}"))
}

#[test]
fn deb_installs_on_clean_debian_passes_check_and_serves_a_login_under_systemd() {
    let _turn = crate::exclusive();
    require_tool("systemd-nspawn", "systemd-container");
    require_tool("chroot", "coreutils");
    let deb = deb();
    let root_dir = clean_debian();
    let root = root_dir.path();

    // 1. A real install with dpkg: dependencies must already be satisfied by Debian's.
    std::fs::copy(deb, root.join("tmp/rampart.deb")).expect("copy the package");
    run_ok("dpkg -i", &mut chroot(root, &["dpkg", "-i", "/tmp/rampart.deb"]), Duration::from_secs(120));
    assert_eq!(mode_and_owner(&root.join("var/lib/rampart")), (0o700, 0), "state dir");
    assert_eq!(mode_and_owner(&root.join("usr/sbin/rampart")), (0o755, 0));
    for file in ["lib/systemd/system/rampart.service", "etc/rampart/rampart.toml", "usr/share/man/man8/rampart-check.8.gz"] {
        assert!(root.join(file).is_file(), "{file} not installed");
    }
    let status = run_ok("dpkg -s", &mut chroot(root, &["dpkg", "-s", "rampart"]), Duration::from_secs(30));
    assert!(status.contains("Status: install ok installed"), "{status}");

    // 2. The installed unit verifies against the installed tree (binary, man pages).
    let (code, out, err) = run_bounded(
        "systemd-analyze verify",
        Command::new("systemd-analyze")
            .arg("verify")
            .arg(format!("--root={}", root.display()))
            .arg("rampart.service")
            .env("MANPATH", root.join("usr/share/man")),
        Duration::from_secs(60),
    );
    assert!(code.map(|c| c.success()).unwrap_or(false) && err.trim().is_empty(), "verify: {out}{err}");

    // 3. What the package installed passes `rampart check`, before and after a first user.
    let check = run_ok("rampart check (fresh install)", &mut chroot(root, &["rampart", "check"]), Duration::from_secs(60));
    assert!(check.contains(", 0 failed"), "{check}");
    run_ok("useradd", &mut chroot(root, &["useradd", "--create-home", "alice"]), Duration::from_secs(30));
    let add = run_ok(
        "rampart user add",
        chroot(root, &["sh", "-c", &format!("echo '{PASSWORD}' | rampart user add alice --unix-user alice --password-stdin --no-mfa")])
            .env("RUST_LOG", "warn"),
        Duration::from_secs(60),
    );
    assert!(add.contains("added user \"alice\""), "{add}");
    let check = run_ok("rampart check (with a user)", &mut chroot(root, &["rampart", "check"]), Duration::from_secs(60));
    assert!(check.contains(", 0 failed"), "{check}");
    for id in ["database-mode", "host-key-mode", "state-dir-mode"] {
        assert!(check.lines().any(|l| l.starts_with("PASS") && l.contains(id)), "{id}:\n{check}");
    }

    // 4. Boot it. The test's own settings go in a drop-in and a second config file, as an
    // admin would: a free port, alice without a second factor, a session that reports
    // what its sandbox looks like and then waits.
    let port = free_port();
    let session = "grep -E '^(CapBnd|NoNewPrivs|Seccomp):' /proc/self/status > $HOME/sandbox.txt; \
                   touch /usr/rampart-probe 2>> $HOME/sandbox.txt; \
                   echo \"var_tmp=[$(ls -A /var/tmp)] done\" >> $HOME/sandbox.txt; exec sleep 300";
    write(
        &root.join("etc/rampart/e2e.toml"),
        &format!("[session]\ndefault_command = '''{session}'''\nuse_xsession = false\n\n[auth.users.alice]\nmfa = \"optional\"\n"),
    );
    write(
        &root.join("etc/systemd/system/rampart.service.d/e2e.conf"),
        &format!("[Service]\nExecStart=\nExecStart=/usr/sbin/rampart serve --config /etc/rampart/e2e.toml --listen 127.0.0.1:{port}\n"),
    );
    // Written once the server is ready (Type=notify: After= waits for READY=1).
    write(
        &root.join("etc/systemd/system/e2e-probe.service"),
        "[Unit]\nAfter=rampart.service\nWants=rampart.service\n\n[Service]\nType=oneshot\n\
         ExecStart=/bin/sh -c 'systemctl show rampart.service -p ActiveState -p SubState -p StatusText -p NRestarts > /root/probe.partial; \
         journalctl -u rampart.service -n 25 --no-pager >> /root/probe.partial; \
         systemd-analyze security --no-pager rampart.service 2>&1 | tail -n 1 >> /root/probe.partial; \
         mv /root/probe.partial /root/probe.txt'\n\n\
         [Install]\nWantedBy=multi-user.target\n",
    );
    // Outside the service's private /var/tmp: its sessions must not see it.
    write(&root.join("var/tmp/outside-marker"), "");
    // As the README says: `systemctl enable --now rampart` (enable here, start by booting).
    run_ok("systemctl enable", &mut chroot(root, &["systemctl", "enable", "rampart.service", "e2e-probe.service"]), Duration::from_secs(60));

    let log = cache_dir().join("nspawn.log");
    let mut machine = Guarded::spawn(
        "systemd-nspawn",
        Command::new("systemd-nspawn")
            .arg("--directory")
            .arg(root)
            // No machined and no host systemd here: no registration, no scope of its own.
            .args(["--boot", "--register=no", "--keep-unit", "--quiet"]),
        &log,
    );
    let probe = poll(Duration::from_secs(120), Duration::from_millis(250), || {
        if !machine.is_running() {
            return Some(None);
        }
        std::fs::read_to_string(root.join("root/probe.txt")).ok().map(Some)
    });
    let probe = match probe {
        Some(Some(text)) => text,
        Some(None) => panic!("the container stopped ({:?}):\n{}", machine.exited(), tail(&machine.log_text(), 40)),
        None => panic!("rampart.service did not come up within 120 s:\n{}", tail(&machine.log_text(), 40)),
    };
    assert!(probe.contains("ActiveState=active") && probe.contains("SubState=running"), "{probe}");
    assert!(probe.contains(&format!("StatusText=listening on 127.0.0.1:{port}")), "sd_notify status: {probe}");
    assert!(probe.contains("NRestarts=0"), "{probe}");
    // Rated by the systemd that runs it, with the unit as loaded.
    let exposure = exposure_level(&probe);
    eprintln!("systemd-analyze security (running unit): exposure {exposure}");
    assert!(exposure <= MAX_EXPOSURE, "exposure {exposure} > {MAX_EXPOSURE}:\n{probe}");
    assert!(accepts_connections(port), "nothing listens on 127.0.0.1:{port}");

    // 5. A real login through the service.
    let mut client = Session::start(port, "alice", PASSWORD, (800, 600), Duration::from_secs(60));
    let sandbox_file = root.join("home/alice/sandbox.txt");
    let sandbox = poll(Duration::from_secs(30), Duration::from_millis(250), || {
        std::fs::read_to_string(&sandbox_file).ok().filter(|t| t.contains("] done"))
    })
    .unwrap_or_else(|| panic!("the session never ran; client log:\n{}", tail(&client.log_text(), 20)));
    // The capability bounding set of the unit (SETUID SETGID CHOWN FOWNER DAC_OVERRIDE
    // KILL DAC_READ_SEARCH, and SYS_CHROOT for the worker jail), the seccomp filter, setuid programs still usable, /usr
    // read-only and a private /tmp and /var/tmp.
    assert!(sandbox.contains("CapBnd:\t00000000000400ef"), "{sandbox}");
    assert!(sandbox.contains("Seccomp:\t2"), "{sandbox}");
    assert!(sandbox.contains("NoNewPrivs:\t0"), "{sandbox}");
    assert!(sandbox.contains("Read-only file system"), "{sandbox}");
    assert!(sandbox.contains("var_tmp=[] done"), "/var/tmp is not private: {sandbox}");
    assert!(root.join("var/tmp/outside-marker").is_file());
    assert!(client.is_running(), "the client left the session:\n{}", tail(&client.log_text(), 20));

    // The session's X server could read its cookie: without it, the X server runs with no
    // access control and any local user can attach to the desktop. Its logs are in the
    // container's /run, seen from here through its init's root.
    let init = children(machine.pid()).into_iter().next().expect("the container's init");
    let runtime = PathBuf::from(format!("/proc/{init}/root/run/rampart/sessions"));
    let server_logs: Vec<String> = std::fs::read_dir(&runtime)
        .unwrap_or_else(|e| panic!("{}: {e}", runtime.display()))
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path().join("xserver.log")).ok())
        .collect();
    assert!(!server_logs.is_empty(), "no session log under {}", runtime.display());
    for log in &server_logs {
        assert!(
            !log.contains("Failed to open authorization file"),
            "the session's X server could not read its cookie, so its display accepts any \
             local client. Its log:\n{log}"
        );
    }

    // 6. Shut the machine down: systemd stops the service, which ends the session.
    drop(client);
    assert!(machine.stop(Duration::from_secs(60)), "the container did not power off within 60 s:\n{}", tail(&machine.log_text(), 30));
    let db = root.join("var/lib/rampart/rampart.db");
    let events = crate::audit::read(&db);
    assert!(events.iter().any(|e| e.is("session_started")), "no session_started event:\n{}", crate::audit::describe(&events));
}

/// PIDs whose parent is `pid`.
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}
