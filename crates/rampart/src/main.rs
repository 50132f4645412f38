//! `rampart`: the one binary. A thin layer over the library crates: command line, config
//! file, wiring and exit codes.

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod hardening;

use rampart::config;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    init_logging(args.is_worker());
    match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Operator logs go to stderr (journald picks them up under systemd), filtered by
/// `RUST_LOG`, `info` by default. They never carry secrets; audit events go to the store.
/// In a worker, the CredSSP/NTLM targets stay off whatever `RUST_LOG` says: they print
/// whole TsRequests, and an NTLM AUTHENTICATE is crackable offline.
fn init_logging(worker: bool) {
    use tracing_subscriber::filter::FilterExt;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;

    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only for a person at a terminal: not in the journal, and never from a worker,
    // whose stderr the supervisor relays with control characters replaced.
    let ansi = !worker && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let output = tracing_subscriber::fmt::layer().with_ansi(ansi).with_writer(std::io::stderr);
    let allowed = tracing_subscriber::filter::filter_fn(move |meta| {
        !worker || rampart_protocol::log_target_allowed(meta.target())
    });
    // A second initialisation cannot happen here; ignore the error rather than panic.
    let _ = tracing_subscriber::registry()
        .with(output.with_filter(filter.and(allowed)))
        .try_init();
}
