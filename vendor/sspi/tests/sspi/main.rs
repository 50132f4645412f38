#![allow(clippy::panic, reason = "panics are acceptable in test code")]

mod client_server;
mod common;
mod ntlm;
