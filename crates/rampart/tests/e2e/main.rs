//! End-to-end tests: the real `rampart` binary driven by real third-party RDP
//! tooling (FreeRDP 2 `xfreerdp`, nmap NSE, xdotool, xclip, ImageMagick) on loopback.
//!
//! Needs root (the sessions run as the Unix account `rampart-e2e`, created here)
//! and the Debian packages installed by `.ci/run`. A missing tool fails the test
//! with the package name; nothing is skipped. Every process a test starts is
//! stopped by PID when the test ends; every wait is bounded.
//!
//! The tests share a 2-core machine with the server's RemoteFX encoder, and one
//! of them measures login latency, so they take turns ([`exclusive`]).
//! `RAMPART_E2E_KEEP=1` keeps each server's state dir and log for debugging.

// A test reports failure by panicking; the workspace's no-panic lints are for the
// server's code, which these helpers are not.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod account;
mod audit;
mod client;
mod display;
mod garbage;
mod isolation;
mod nmap;
mod peers;
mod process;
mod proctree;
mod screen;
mod server;

mod clipboard;
mod desktop;
mod faults;
mod flood;
mod gfx;
mod guard;
mod guard_restart;
mod access;
mod audit_flood;
mod login;
mod lying_worker;
mod mfa;
mod notify;
mod operations;
mod package;
mod scan;
mod sizes;
mod scan_command;
mod secrets;
mod slowloris;
mod trail;
mod unix_login;

use std::sync::{Mutex, MutexGuard};

/// One test at a time: the machine is small and timings are asserted.
pub fn exclusive() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
