//! Access windows (issue 3): outside every window the listening socket is closed, not
//! merely refusing; `rampart access open` opens it just in time and `access close` shuts
//! it again, each within the server's review interval, and both are audited.

use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::client::auth_only;
use crate::exclusive;
use crate::process::poll;
use crate::server::{accepts_connections, Config, Server, BIN, PASSWORD};

/// A daily half-hour window twelve hours away from now (UTC), so "now" is outside it.
fn window_away_from_now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs();
    let hour = (secs / 3600 + 12) % 24;
    format!("{hour:02}:00-{hour:02}:30")
}

fn access_cli(server: &Server, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("access")
        .args(args)
        .arg("--state-dir")
        .arg(server.state_dir())
        .arg("--config")
        .arg(server.config_path())
        .output()
        .expect("run rampart access");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "`rampart access {}` failed:\n{text}", args.join(" "));
    text
}

#[test]
fn access_window_closes_the_port_until_opened_just_in_time() {
    let _turn = exclusive();
    let window = window_away_from_now();
    let mut server = Server::new(&Config {
        extra_toml: format!("[access]\nwindows = [\"{window}\"]\ntimezone = \"UTC\"\n"),
        ..Config::default()
    });
    server.add_user("alice", PASSWORD);
    server.start();

    assert!(
        !accepts_connections(server.port),
        "outside the window {window} the port accepted a TCP connection\n{}",
        server.log_tail()
    );
    let status = access_cli(&server, &["status"]);
    eprintln!("access status while closed:\n{status}");

    access_cli(&server, &["open", "--for", "10m"]);
    let opened = poll(Duration::from_secs(10), Duration::from_millis(200), || {
        accepts_connections(server.port).then_some(())
    });
    assert!(
        opened.is_some(),
        "`rampart access open` did not open the port within 10 s\n{}",
        server.log_tail()
    );
    let login = auth_only(server.port, "alice", PASSWORD, "nla", Duration::from_secs(30));
    assert!(login.succeeded(), "login through a just-in-time grant failed: {}", login.summary());

    access_cli(&server, &["close"]);
    let closed = poll(Duration::from_secs(10), Duration::from_millis(200), || {
        (!accepts_connections(server.port)).then_some(())
    });
    assert!(
        closed.is_some(),
        "`rampart access close` did not close the port within 10 s\n{}",
        server.log_tail()
    );

    let events = server.events();
    assert!(events.iter().any(|e| e.is("access_opened")), "no access_opened event");
    assert!(events.iter().any(|e| e.is("access_closed")), "no access_closed event");
    assert!(events.iter().any(|e| e.is("auth_succeeded")), "no auth_succeeded event");
    server.stop_and_check();
}
