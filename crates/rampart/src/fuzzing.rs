//! The config file parser as a fuzz target (`fuzz/fuzz_targets/config.rs`); replayed by
//! `tests/fuzz_regressions.rs`. The protocol targets live in `rampart_protocol::fuzzing`.

use std::path::Path;

pub use rampart_protocol::fuzzing::{Reached, Target, Violation};

use crate::config::Config;

/// The path the target names in error messages.
const PATH: &str = "/etc/rampart/fuzz.toml";

pub const CONFIG: Target = Target {
    name: "config",
    about: "the config file parser (Config::parse): TOML, typed values, errors with file and line",
    run: config,
};

/// `config`: arbitrary text as the config file. Invariants: every error names the file
/// (the message starts with its path) and, where it gives a line, a line the file has;
/// parsing is deterministic.
pub fn config(data: &[u8]) -> Result<Reached, Violation> {
    const T: &str = "config";
    // `Config::load` reads the file as UTF-8 and reports anything else as unreadable.
    let Ok(text) = std::str::from_utf8(data) else {
        return Ok("not utf-8");
    };
    match Config::parse(text, Path::new(PATH)) {
        Ok(config) => {
            let again = Config::parse(text, Path::new(PATH))
                .map_err(|e| violation(T, format!("parsed once, then failed: {e:#}")))?;
            if again != config {
                return Err(violation(T, "two parses of one text differ".to_owned()));
            }
            Ok("parsed")
        }
        Err(err) => {
            let message = format!("{err:#}");
            let Some(rest) = message.strip_prefix(PATH) else {
                return Err(violation(T, format!("error does not name the file: {message}")));
            };
            if let Some(line) = rest
                .strip_prefix(':')
                .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|digits| digits.parse::<usize>().ok())
            {
                let lines = text.split('\n').count();
                if line == 0 || line > lines {
                    return Err(violation(T, format!("line {line} of a {lines}-line file: {message}")));
                }
            }
            Ok("refused")
        }
    }
}

fn violation(target: &'static str, what: String) -> Violation {
    Violation { target, what }
}
