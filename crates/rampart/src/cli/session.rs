//! `rampart session list|end`: the running server's desktop sessions, over its control
//! socket (root only). Ending a session closes its connections, then its session leader
//! ends its processes and closes the login; the server audits `session_ended` with who
//! asked (uid and pid, from the socket's peer credentials).

use anyhow::bail;
use clap::{Args, Subcommand};
use rampart_protocol::control::{EndTarget, EndedView, Reply, Request};

use super::status::{ask, control_socket, sessions_table};
use super::user::now;
use super::CommonArgs;
use crate::config::Config;

#[derive(Debug, Args)]
pub struct SessionArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: SessionCommand,
}

#[derive(Debug, Subcommand)]
enum SessionCommand {
    /// List the desktop sessions: id, user, display, since when, connected or not
    List {
        /// Print them as JSON (for scripts)
        #[arg(long)]
        json: bool,
    },
    /// End a desktop session (its programs are ended, unsaved work is lost)
    End {
        /// The user whose session to end, or the session's id (`rampart session list`)
        #[arg(value_name = "USER|ID", required_unless_present = "all_disconnected")]
        target: Option<String>,
        /// End every session no connection shows
        #[arg(long, conflicts_with = "target")]
        all_disconnected: bool,
    },
}

pub fn run(args: SessionArgs) -> anyhow::Result<()> {
    let cfg = args.common.load_config()?;
    match args.command {
        SessionCommand::List { json } => list(&cfg, json),
        SessionCommand::End {
            target,
            all_disconnected,
        } => {
            let target = match (target, all_disconnected) {
                (_, true) => EndTarget::AllDisconnected,
                (Some(t), false) => parse_target(&t),
                (None, false) => bail!("name a user or a session id, or pass --all-disconnected"),
            };
            let ended = end(&cfg, target, "rampart session end")?;
            if ended.is_empty() {
                println!("no disconnected session to end");
            }
            Ok(())
        }
    }
}

/// A session id if it is a number, else a user name (user names start with a letter).
fn parse_target(text: &str) -> EndTarget {
    match text.parse::<u64>() {
        Ok(id) => EndTarget::Id(id),
        Err(_) => EndTarget::User(text.to_owned()),
    }
}

fn not_running(cfg: &Config) -> anyhow::Error {
    anyhow::anyhow!(
        "no running server answers on {}: no sessions",
        control_socket(cfg).display()
    )
}

fn list(cfg: &Config, json: bool) -> anyhow::Result<()> {
    let Some(reply) = ask(cfg, &Request::SessionList)? else {
        return Err(not_running(cfg));
    };
    let sessions = match reply {
        Reply::Sessions { sessions } => sessions,
        Reply::Error { message } => bail!("the server refused: {message}"),
        other => bail!("unexpected answer from the server: {other:?}"),
    };
    if json {
        println!("{}", serde_json::to_string(&sessions)?);
    } else if sessions.is_empty() {
        println!("no sessions");
    } else {
        print!("{}", sessions_table(&sessions, now().0));
    }
    Ok(())
}

/// Asks the running server to end `target`; prints and returns what it ended. `note` goes
/// into the audit record with the requester.
pub(super) fn end(cfg: &Config, target: EndTarget, note: &str) -> anyhow::Result<Vec<EndedView>> {
    let request = Request::SessionEnd {
        target,
        note: Some(note.to_owned()),
    };
    let Some(reply) = ask(cfg, &request)? else {
        return Err(not_running(cfg));
    };
    match reply {
        Reply::Ended { ended } => {
            for e in &ended {
                println!("ended session {} of {:?} (display {})", e.id, e.user, e.display);
            }
            Ok(ended)
        }
        Reply::Error { message } => bail!("{message}"),
        other => bail!("unexpected answer from the server: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_is_an_id_anything_else_a_user() {
        assert_eq!(parse_target("12"), EndTarget::Id(12));
        assert_eq!(parse_target("alice"), EndTarget::User("alice".into()));
        assert_eq!(parse_target("alice2"), EndTarget::User("alice2".into()));
    }
}
