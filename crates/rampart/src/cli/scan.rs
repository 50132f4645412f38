//! `rampart scan HOST[:PORT]`: check another RDP endpoint from the outside (see the
//! `rampart-scan` crate). This module only reads the clock and this machine's host name,
//! runs the scan and prints the report. Exit status: 0 no finding, 1 warnings, 2
//! failures, 3 could not scan.

use std::process::ExitCode;

use clap::Args;
use rampart_scan::{Environment, Settings, Target};

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The one RDP endpoint to check: HOST, HOST:PORT or [IPv6]:PORT (port 3389 if not given).
    /// Scan only hosts you are allowed to test.
    #[arg(value_name = "HOST[:PORT]")]
    target: String,
    /// Print the report (findings and raw observations) as JSON
    #[arg(long)]
    json: bool,
    /// Also try N logins (at most 20) as a random user with a wrong password, to see whether
    /// the server blocks or slows repeated failures; they show up as failed logins on the
    /// server and may get this address banned [default: off]
    #[arg(long, value_name = "N", default_value_t = 0, hide_default_value = true,
          value_parser = clap::value_parser!(u32).range(0..=i64::from(rampart_scan::MAX_LOGIN_ATTEMPTS)))]
    try_logins: u32,
    /// At most this many new connections per second (1 to 20)
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(rampart_scan::MAX_PER_SECOND)))]
    rate: u32,
    /// Seconds to wait for each connect, read and write (1 to 30)
    #[arg(long, value_name = "SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=30))]
    timeout: u64,
}

pub fn run(args: &ScanArgs) -> ExitCode {
    let target = match Target::parse(&args.target) {
        Ok(target) => target,
        Err(err) => {
            eprintln!("error: cannot scan {:?}: {err}", args.target);
            return ExitCode::from(rampart_scan::exit::COULD_NOT_SCAN);
        }
    };
    let settings = Settings {
        login_attempts: args.try_logins,
        per_second: args.rate,
        step_timeout: std::time::Duration::from_secs(args.timeout),
        ..Settings::default()
    };
    let env = Environment { now_unix: now_unix(), local_names: local_names() };
    let report = rampart_scan::scan(&target, &settings, &env);
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(json) => println!("{json}"),
            Err(err) => {
                eprintln!("error: cannot print the report as json: {err}");
                return ExitCode::from(rampart_scan::exit::COULD_NOT_SCAN);
            }
        }
    } else {
        print!("{}", report.text());
    }
    ExitCode::from(report.exit_status)
}

fn now_unix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// This machine's host name (and its first label), to recognise it in what a server on
/// loopback discloses.
fn local_names() -> Vec<String> {
    let Ok(name) = std::fs::read_to_string("/proc/sys/kernel/hostname") else {
        return Vec::new();
    };
    let name = name.trim().to_owned();
    let mut names = vec![name.clone()];
    if let Some((short, _)) = name.split_once('.') {
        names.push(short.to_owned());
    }
    names.retain(|n| !n.is_empty() && n != "localhost");
    names
}
