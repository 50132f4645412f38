//! `rampart man DIR` (hidden): man pages from the clap definitions, one per command
//! (`rampart.8`, `rampart-user.8`, `rampart-user-add.8`, ...), section 8 as the binary is
//! an administrator's tool installed in /usr/sbin.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, CommandFactory};

#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// Directory to write the pages to (created if missing)
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

pub const SECTION: &str = "8";

pub fn run(args: &ManArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.dir).with_context(|| format!("cannot create {}", args.dir.display()))?;
    let mut cmd = super::Cli::command().disable_help_subcommand(true);
    // Building names every subcommand after its path: `rampart-user-add`.
    cmd.build();
    for path in write_pages(&cmd, &args.dir)? {
        println!("{}", path.display());
    }
    Ok(())
}

/// Writes the page of `cmd` and, recursively, of its visible subcommands.
fn write_pages(cmd: &clap::Command, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let man = clap_mangen::Man::new(cmd.clone()).section(SECTION).manual("Rampart");
    let path = man
        .generate_to(dir)
        .with_context(|| format!("cannot write the man page of {} to {}", cmd.get_name(), dir.display()))?;
    let mut written = vec![path];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        written.extend(write_pages(sub, dir)?);
    }
    Ok(written)
}
