//! The command line: clap definitions and dispatch to one module per command.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::config::{self, Config};

mod access;
mod admin_change;
mod audit;
mod ban;
mod check;
mod completions;
mod mfa;
mod password_input;
mod man;
mod qr;
mod scan;
mod serve;
mod session;
mod status;
mod unix_accounts;
mod user;

/// Rampart: a hardened RDP server for Linux.
#[derive(Debug, Parser)]
#[command(
    name = "rampart",
    version,
    about = "Rampart: a hardened RDP server for Linux",
    long_about = "Rampart: a Remote Desktop Protocol server for Linux with the RDP hardening guide \
                  built in: NLA only, TLS only, TOTP two-step verification, brute-force bans, an \
                  audit trail.\n\nConfiguration: /etc/rampart/rampart.toml (every key documented in \
                  docs/config.md). State (user store, host key, TLS identity): /var/lib/rampart. \
                  `rampart check` audits both against the hardening items.",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve(serve::ServeArgs),
    /// Manage Rampart users (add, passwd, del, list, lock, unlock).
    User(user::UserArgs),
    /// Two-step verification (TOTP): enroll, reset, remove, status
    Mfa(mfa::MfaArgs),
    /// Manage source bans (list, add, del); a running server picks changes up
    Ban(ban::BanArgs),
    /// Open the port outside the access windows for a while (open, close, status)
    Access(access::AccessArgs),
    /// Check another RDP endpoint from outside: security layers, NLA, TLS, leaks, throttling
    Scan(scan::ScanArgs),
    /// Audit the configuration and the host against the hardening items; non-zero exit on a failure
    Check(check::CheckArgs),
    /// What the running server is doing: listener, connections, sessions, bans (exit 3: not running)
    Status(status::StatusArgs),
    /// The running server's desktop sessions (list, end)
    Session(session::SessionArgs),
    /// Print a shell completion script (bash, zsh, fish); used by packaging
    #[command(hide = true)]
    Completions(completions::CompletionsArgs),
    /// Write the man pages to DIR; used by packaging
    #[command(hide = true)]
    Man(man::ManArgs),
    /// The tamper-evident audit trail: verify, tail, search, export, report, prune
    Audit(audit::AuditArgs),
    /// Per-connection worker process, started by `serve`; not for direct use.
    #[command(hide = true)]
    Worker,
    /// Per-session login process (PAM, utmp, the session's processes), started by
    /// `serve`; not for direct use.
    #[command(hide = true)]
    SessionLeader,
}

/// Options every command takes, after its name.
#[derive(Debug, Clone, Default, Args)]
pub struct CommonArgs {
    /// Configuration file [default: /etc/rampart/rampart.toml, if it exists]
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    /// State directory (store, TLS identity, session files); overrides the config file
    #[arg(long, value_name = "DIR", global = true)]
    pub state_dir: Option<PathBuf>,
}

impl CommonArgs {
    pub fn load_config(&self) -> anyhow::Result<Config> {
        Config::load(self.config.as_deref())
    }

    pub fn state_dir(&self, cfg: &Config) -> PathBuf {
        config::state_dir(cfg, self.state_dir.as_deref())
    }

    /// Opens the store in the state directory (created 0700 if missing) with the host key.
    pub fn open_store(&self, cfg: &Config) -> anyhow::Result<rampart_store::Store> {
        let state_dir = self.state_dir(cfg);
        create_state_dir(&state_dir)?;
        let db = state_dir.join("rampart.db");
        let key = config::host_key_path(cfg, &state_dir);
        rampart_store::Store::open(&db, &key).with_context(|| format!("cannot open the store {}", db.display()))
    }
}

impl Cli {
    /// `rampart worker`: the process that parses peer bytes (logs with forced exclusions).
    pub fn is_worker(&self) -> bool {
        matches!(self.command, Command::Worker)
    }
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let done = match cli.command {
        // The scan has its own exit statuses (by severity).
        Command::Scan(args) => return Ok(scan::run(&args)),
        // Exit 3 when no server runs, as `systemctl status` for an inactive unit.
        Command::Status(args) => return status::run(&args),
        Command::Session(args) => session::run(args),
        Command::Serve(args) => serve::run(&args),
        Command::User(args) => user::run(args),
        Command::Mfa(args) => mfa::run(args),
        Command::Ban(args) => ban::run(args),
        Command::Access(args) => access::run(args),
        Command::Check(args) => check::run(&args),
        Command::Completions(args) => completions::run(&args),
        Command::Man(args) => man::run(&args),
        Command::Audit(args) => audit::run(args),
        Command::Worker => rampart_protocol::worker_main(),
        Command::SessionLeader => rampart_desktop::login::leader::main().context("session leader"),
    };
    done.map(|()| ExitCode::SUCCESS)
}

/// Creates the state directory (mode 0700) if missing; refuses one that others can write.
pub fn create_state_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create state directory {}", dir.display()))?;
    }
    let meta = std::fs::metadata(dir).with_context(|| format!("cannot read state directory {}", dir.display()))?;
    if !meta.is_dir() {
        anyhow::bail!("state directory {} is not a directory", dir.display());
    }
    if meta.mode() & 0o022 != 0 {
        anyhow::bail!(
            "state directory {} is writable by other users (mode {:o}); run chmod 700 on it",
            dir.display(),
            meta.mode() & 0o7777
        );
    }
    Ok(())
}
