//! `rampart scan HOST[:PORT]`: checks any RDP endpoint from the outside against the
//! practices Rampart applies to itself — which security layers it accepts (Standard RDP
//! Security/RC4, TLS, CredSSP) and whether NLA is enforced or silently downgraded, TLS
//! versions, weak suites and the certificate, what the NTLM challenge discloses before
//! authentication, and (opt-in, bounded) whether repeated failed logins are throttled.
//!
//! Layout: pure parsers of server bytes (`x224`, `mcs`, `tls_hello`, `tsrequest`, `ntlm`,
//! `certificate`, over the bounded DER reader `tlv`), the pure judge (`judge`, time and
//! host names passed in) and report (`report`), the pure connection budget (`pacer`),
//! and one I/O edge (`probe`) that opens paced, timed-out connections to the one target.

#[cfg(test)]
mod captured;
mod certificate;
mod judge;
mod mcs;
#[cfg(test)]
mod mutation;
mod ntlm;
mod observations;
mod pacer;
mod probe;
mod report;
mod target;
mod tls_hello;
mod tlv;
mod tsrequest;
mod x224;

use std::net::{SocketAddr, ToSocketAddrs};

pub use judge::Context;
pub use observations::Observations;
pub use probe::{Settings, MAX_CONNECTIONS, MAX_LOGIN_ATTEMPTS, MAX_PER_SECOND};
pub use report::{exit, Finding, Report, Severity, Verdict};
pub use target::{Target, TargetError};

/// What the caller knows about its own machine and time.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// Unix seconds now.
    pub now_unix: u64,
    /// This machine's host names (compared with what a server on loopback discloses).
    pub local_names: Vec<String>,
}

/// Scans `target` (already parsed): resolves it, probes it, judges what it saw.
pub fn scan(target: &Target, settings: &Settings, env: &Environment) -> Report {
    let empty = || Observations {
        negotiation: Vec::new(),
        rdp_security: Vec::new(),
        tls: observations::Probe::not_run("not reached"),
        ntlm: observations::Probe::not_run("not reached"),
        logins: observations::Probe::not_run("not reached"),
        connections: 0,
    };
    let addr = match resolve(target) {
        Ok(addr) => addr,
        Err(why) => return Report::new(target.to_string(), String::new(), empty(), Verdict::CouldNotScan(why)),
    };
    let observations = probe::scan(target, addr, settings);
    let ctx = Context {
        now_unix: env.now_unix,
        local_names: if addr.ip().is_loopback() { env.local_names.clone() } else { Vec::new() },
        target_name: target.name().map(str::to_owned),
    };
    let verdict = judge::judge(&observations, &ctx);
    Report::new(target.to_string(), addr.to_string(), observations, verdict)
}

/// The first address the target resolves to.
fn resolve(target: &Target) -> Result<SocketAddr, String> {
    let addr = match &target.host {
        target::Host::Ip(ip) => Some(SocketAddr::new(*ip, target.port)),
        target::Host::Name(name) => {
            (name.as_str(), target.port).to_socket_addrs().map_err(|e| format!("cannot resolve {name}: {e}"))?.next()
        }
    };
    addr.ok_or_else(|| format!("{target} resolves to no address"))
}
