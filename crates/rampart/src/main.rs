//! `rampart`: the one binary. A thin layer over the library crates: command line, config
//! file, wiring and exit codes.

use std::process::ExitCode;

use clap::Parser;

mod cli;

use rampart::config;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    init_logging();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Operator logs go to stderr (journald picks them up under systemd), filtered by
/// `RUST_LOG`, `info` by default. They never carry secrets; audit events go to the store.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A second initialisation cannot happen here; ignore the error rather than panic.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
