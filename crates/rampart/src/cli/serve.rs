//! `rampart serve`: config file and flags merged into the protocol layer's options.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use rampart_protocol::{AccessOptions, DesktopMode, GuardOptions, ServeOptions, SessionOptions};

use super::CommonArgs;
use crate::config::{self, Config};

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Address and port to listen on; overrides [server] listen
    #[arg(long, value_name = "ADDR:PORT", value_parser = config::parse_listen)]
    pub listen: Option<SocketAddr>,
    /// Share this existing X display (e.g. ":0") instead of starting per-user sessions;
    /// overrides [shadow] display
    #[arg(long, value_name = "DISPLAY", value_parser = config::parse_display)]
    pub shadow: Option<String>,
}

pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    // Still single-threaded: take systemd's notify socket out of the environment before
    // any worker or session could inherit it.
    rampart_protocol::systemd_notify::take_from_env();
    let cfg = args.common.load_config()?;
    let opts = serve_options(&cfg, args);
    if let Some(addr) = cfg.metrics.listen.filter(|a| !a.ip().is_loopback()) {
        tracing::warn!(%addr, "dangerous_allow_remote: the metrics endpoint is reachable from other hosts, without authentication");
        eprintln!("rampart: WARNING: [metrics] listen = {addr} with dangerous_allow_remote: other hosts can read the metrics");
    }
    tracing::info!(
        listen = %opts.listen,
        state_dir = %opts.state_dir.display(),
        "starting"
    );
    rampart_protocol::serve(opts).context("server stopped")
}

/// Config file and flags, merged: a flag wins over the file, the file over the default.
// serve: map Config -> rampart_protocol::ServeOptions
fn serve_options(cfg: &Config, args: &ServeArgs) -> ServeOptions {
    let state_dir: PathBuf = args.common.state_dir(cfg);
    let shadow_display = args.shadow.clone().or_else(|| cfg.shadow.display.clone());
    let desktop = match shadow_display {
        Some(display) => DesktopMode::Shadow {
            display,
            view_only: cfg.shadow.view_only,
            users: cfg.shadow.users.clone(),
        },
        None => DesktopMode::Session(SessionOptions {
            default_command: cfg.session.default_command.clone(),
            use_xsession: cfg.session.use_xsession,
            default_width: cfg.session.default_width,
            default_height: cfg.session.default_height,
            x_server: cfg.session.x_server.clone(),
        }),
    };
    let state_dir_for_key = state_dir.clone();
    ServeOptions {
        listen: args.listen.unwrap_or(cfg.server.listen),
        state_dir,
        tls_certificate: cfg.tls.certificate.clone(),
        tls_private_key: cfg.tls.private_key.clone(),
        limits: cfg.limits,
        desktop,
        worker_uid_base: cfg.server.worker_uid_base,
        insecure_no_privsep: cfg.server.insecure_no_privsep,
        runtime_dir: cfg.session.runtime_dir.clone(),
        guard: GuardOptions {
            policy: cfg.guard.policy.clone(),
            dangerous_allow_any_source: cfg.guard.dangerous_allow_any_source,
            fail2ban_log: cfg.guard.fail2ban_log.clone(),
        },
        access: AccessOptions {
            schedule: cfg.access.schedule.clone(),
            users: cfg.access.users.clone(),
        },
        host_key: config::host_key_path(cfg, &state_dir_for_key),
        auth: cfg.auth.policy.clone(),
        audit: cfg.audit.clone(),
        allow_root: cfg.session.allow_root,
        clipboard: cfg.session.clipboard.clone(),
        h264: cfg.display.h264,
        session_limits: cfg.session.limits,
        metrics: rampart_protocol::MetricsOptions {
            listen: cfg.metrics.listen,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(listen: Option<&str>, shadow: Option<&str>, state_dir: Option<&str>) -> ServeArgs {
        ServeArgs {
            common: CommonArgs {
                config: None,
                state_dir: state_dir.map(PathBuf::from),
            },
            listen: listen.map(|l| l.parse().unwrap()),
            shadow: shadow.map(str::to_owned),
        }
    }

    #[test]
    fn defaults_map_to_session_mode() {
        let opts = serve_options(&Config::default(), &args(None, None, None));
        assert_eq!(opts.listen, "0.0.0.0:3389".parse().unwrap());
        assert_eq!(opts.state_dir, PathBuf::from("/var/lib/rampart"));
        assert_eq!(opts.limits, rampart_protocol::Limits::default());
        assert_eq!(opts.worker_uid_base, 2_000_000_000);
        assert!(opts.tls_certificate.is_none() && opts.tls_private_key.is_none());
        assert!(matches!(opts.desktop, DesktopMode::Session(_)));
    }

    #[test]
    fn flags_override_config() {
        let mut cfg = Config::default();
        cfg.server.listen = "127.0.0.1:5000".parse().unwrap();
        cfg.shadow.display = Some(":5".into());
        let opts = serve_options(&cfg, &args(None, None, None));
        assert_eq!(opts.listen, "127.0.0.1:5000".parse().unwrap());
        assert!(matches!(opts.desktop, DesktopMode::Shadow { ref display, view_only: true, .. } if display == ":5"));

        let opts = serve_options(&cfg, &args(Some("[::1]:4000"), Some(":0"), Some("/tmp/st")));
        assert_eq!(opts.listen, "[::1]:4000".parse().unwrap());
        assert_eq!(opts.state_dir, PathBuf::from("/tmp/st"));
        assert!(matches!(opts.desktop, DesktopMode::Shadow { ref display, .. } if display == ":0"));
    }
}
