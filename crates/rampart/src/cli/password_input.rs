//! Reading a new password: from the terminal with echo off (asked twice), or from the first
//! line of standard input (`--password-stdin`, for scripts).

use std::io::{BufRead, IsTerminal, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};

use anyhow::{bail, Context};
use rampart_auth::Password;
use rustix::termios::{self, LocalModes, OptionalActions, Termios};
use zeroize::Zeroizing;

/// Longest password line accepted, in bytes. Far above any sane password; bounds the read.
const MAX_PASSWORD_BYTES: usize = 1024;

/// Where the new password comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordSource {
    /// The first line of standard input.
    Stdin,
    /// Prompted twice on the terminal with echo off.
    Terminal,
}

pub fn read_new_password(source: PasswordSource, user: &str) -> anyhow::Result<Password> {
    match source {
        PasswordSource::Stdin => {
            let stdin = std::io::stdin();
            let mut lock = stdin.lock();
            read_first_line(&mut lock).context("cannot read the password from standard input")
        }
        PasswordSource::Terminal => {
            let stdin = std::io::stdin();
            if !stdin.is_terminal() {
                bail!("standard input is not a terminal: pass --password-stdin to read the password from it");
            }
            let first = prompt_hidden(&format!("New password for {user}: "))?;
            let second = prompt_hidden(&format!("Repeat the password for {user}: "))?;
            if first.expose() != second.expose() {
                bail!("the two passwords do not match");
            }
            Ok(first)
        }
    }
}

/// The first line of `input`, without its line ending; at most [`MAX_PASSWORD_BYTES`].
fn read_first_line(input: &mut impl BufRead) -> anyhow::Result<Password> {
    // Sized up front so the buffer never reallocates (a reallocation would leave a copy
    // of the secret behind that nothing zeroizes).
    let mut line = Zeroizing::new(String::with_capacity(MAX_PASSWORD_BYTES + 2));
    let limit = u64::try_from(MAX_PASSWORD_BYTES + 1).unwrap_or(u64::MAX);
    let n = input
        .take(limit)
        .read_line(&mut line)
        .context("the password is not valid utf-8")?;
    if n == 0 {
        bail!("no password given: standard input is empty");
    }
    let content_len = line.trim_end_matches('\n').trim_end_matches('\r').len();
    if content_len > MAX_PASSWORD_BYTES {
        bail!("the password is longer than {MAX_PASSWORD_BYTES} bytes");
    }
    line.truncate(content_len);
    Ok(Password::new(std::mem::take(&mut *line)))
}

/// Asks on stderr and reads one line from the terminal on stdin with echo off.
fn prompt_hidden(prompt: &str) -> anyhow::Result<Password> {
    let mut stderr = std::io::stderr();
    stderr.write_all(prompt.as_bytes()).context("cannot write to the terminal")?;
    stderr.flush().context("cannot write to the terminal")?;
    let stdin = std::io::stdin();
    let password = {
        let _echo = EchoOff::new(stdin.as_fd()).context("cannot turn off terminal echo")?;
        let mut lock = stdin.lock();
        read_first_line(&mut lock)
    };
    // ECHONL echoed the newline already on most terminals; one more keeps the prompt tidy
    // where it did not.
    let _ = stderr.write_all(b"\n");
    password
}

/// Turns terminal echo off while alive; restores the previous settings when dropped.
struct EchoOff<'fd> {
    fd: BorrowedFd<'fd>,
    saved: Termios,
}

impl<'fd> EchoOff<'fd> {
    fn new(fd: BorrowedFd<'fd>) -> std::io::Result<Self> {
        let saved = termios::tcgetattr(fd)?;
        let mut quiet = saved.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        quiet.local_modes.insert(LocalModes::ECHONL);
        termios::tcsetattr(fd, OptionalActions::Flush, &quiet)?;
        Ok(Self { fd, saved })
    }
}

impl Drop for EchoOff<'_> {
    fn drop(&mut self) {
        // Nothing sensible to do if restoring fails; the shell's `reset` fixes the terminal.
        let _ = termios::tcsetattr(self.fd, OptionalActions::Now, &self.saved);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_line(input: &[u8]) -> anyhow::Result<String> {
        read_first_line(&mut &input[..]).map(|p| p.expose().to_owned())
    }

    #[test]
    fn strips_line_endings_and_ignores_later_lines() {
        assert_eq!(first_line(b"secret one\n").unwrap(), "secret one");
        assert_eq!(first_line(b"secret two\r\nsecond line\n").unwrap(), "secret two");
        assert_eq!(first_line(b"no newline").unwrap(), "no newline");
        assert_eq!(first_line(b"  spaces kept  \n").unwrap(), "  spaces kept  ");
    }

    #[test]
    fn empty_input_is_an_error() {
        let msg = format!("{:#}", first_line(b"").unwrap_err());
        assert!(msg.contains("standard input is empty"), "{msg}");
        // An empty first line is a password the policy will refuse, not a read error.
        assert_eq!(first_line(b"\n").unwrap(), "");
    }

    #[test]
    fn long_and_invalid_input_is_refused() {
        let long = vec![b'a'; MAX_PASSWORD_BYTES + 10];
        assert!(first_line(&long).is_err());
        let exact = vec![b'a'; MAX_PASSWORD_BYTES];
        assert_eq!(first_line(&exact).unwrap().len(), MAX_PASSWORD_BYTES);
        assert!(first_line(b"\xff\xfe\n").is_err());
    }
}
