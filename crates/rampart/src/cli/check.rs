//! `rampart check`: gathers the facts the hardening items need (file modes, the
//! certificate, the worker account) and prints the judgement of `crate::hardening`, one
//! item per line with its reason. Exits non-zero when an item fails.

use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;

use super::CommonArgs;
use crate::config::{self, Config, DEFAULT_CONFIG_PATH};
use crate::hardening::{self, FileFacts, Finding, HostFacts, Observed, PathFacts, SessionPolicy, Status, TlsFacts};

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub common: CommonArgs,
}

pub fn run(args: &CheckArgs) -> anyhow::Result<()> {
    let cfg = args.common.load_config()?;
    let state_dir = args.common.state_dir(&cfg);
    let host = gather(&cfg, &state_dir);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let findings = hardening::judge(&cfg, &SessionPolicy::from_config(&cfg), &host, now);

    println!("rampart check: config {}, state directory {}", config_source(&args.common), state_dir.display());
    println!();
    print!("{}", report(&findings));
    let failed = findings.iter().filter(|f| f.status == Status::Fail).count();
    if failed > 0 {
        anyhow::bail!("{failed} of {} checks failed", findings.len());
    }
    Ok(())
}

/// Which file the configuration came from, as `Config::load` chose it.
fn config_source(common: &CommonArgs) -> String {
    match &common.config {
        Some(path) => path.display().to_string(),
        None if Path::new(DEFAULT_CONFIG_PATH).exists() => DEFAULT_CONFIG_PATH.to_owned(),
        None => "(none: defaults)".to_owned(),
    }
}

/// One block per item, then the totals.
fn report(findings: &[Finding]) -> String {
    let width = findings.iter().map(|f| f.id.len()).max().unwrap_or(0);
    let mut out = String::new();
    for f in findings {
        out.push_str(&format!("{}  {:<width$}  {}\n", f.status, f.id, f.title));
        out.push_str(&format!("      {:<width$}  {}\n", "", f.reason));
    }
    let count = |s: Status| findings.iter().filter(|f| f.status == s).count();
    out.push_str(&format!(
        "\n{} checks: {} passed, {} warnings, {} failed\n",
        findings.len(),
        count(Status::Pass),
        count(Status::Warn),
        count(Status::Fail)
    ));
    out
}

fn gather(cfg: &Config, state_dir: &Path) -> HostFacts {
    let generated = rampart_protocol::tls::generated_identity_paths(state_dir);
    let (admin_supplied, certificate_path, key_path) = match (&cfg.tls.certificate, &cfg.tls.private_key) {
        (Some(cert), Some(key)) => (true, cert.clone(), key.clone()),
        _ => (false, generated.0, generated.1),
    };
    let certificate = match std::fs::read_to_string(&certificate_path) {
        Ok(pem) => match hardening::certificate_facts(&pem) {
            Ok(facts) => Observed::Present(facts),
            Err(why) => Observed::Unreadable(why),
        },
        Err(err) if err.kind() == ErrorKind::NotFound => Observed::Missing,
        Err(err) => Observed::Unreadable(err.to_string()),
    };
    let base = cfg.server.worker_uid_base;
    let count = cfg.limits.max_connections_total;
    let worker_ids_taken = ["/etc/passwd", "/etc/group"]
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
            Ok(rampart_protocol::ids_in_range(&text, base, count)
                .into_iter()
                .map(|(name, id)| format!("{name} ({id}) in {path}"))
                .collect::<Vec<_>>())
        })
        .collect::<Result<Vec<_>, String>>()
        .map(|lists| lists.concat());
    HostFacts {
        state_dir: path_facts(state_dir.to_path_buf()),
        database: path_facts(state_dir.join("rampart.db")),
        host_key: path_facts(config::host_key_path(cfg, state_dir)),
        tls: TlsFacts {
            admin_supplied,
            certificate_path,
            certificate,
            key: path_facts(key_path),
        },
        worker_ids_taken,
    }
}

fn path_facts(path: PathBuf) -> PathFacts {
    let facts = match std::fs::metadata(&path) {
        Ok(meta) => Observed::Present(FileFacts {
            mode: meta.mode() & 0o7777,
            uid: meta.uid(),
            is_dir: meta.is_dir(),
        }),
        Err(err) if err.kind() == ErrorKind::NotFound => Observed::Missing,
        Err(err) => Observed::Unreadable(err.to_string()),
    };
    PathFacts { path, facts }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lists_each_item_with_its_reason_and_totals() {
        let findings = vec![
            Finding {
                id: "nla",
                title: "Require NLA",
                status: Status::Pass,
                reason: "always".into(),
            },
            Finding {
                id: "lockout-duration",
                title: "Lockout duration",
                status: Status::Fail,
                reason: "60 s".into(),
            },
        ];
        let text = report(&findings);
        let expected = [
            "PASS  nla               Require NLA",
            "                        always",
            "FAIL  lockout-duration  Lockout duration",
            "                        60 s",
            "",
            "2 checks: 1 passed, 0 warnings, 1 failed",
        ];
        assert_eq!(text.lines().collect::<Vec<_>>(), expected);
    }

    #[test]
    fn missing_and_present_paths() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(path_facts(dir.path().join("nope")).facts, Observed::Missing);
        let Observed::Present(facts) = path_facts(dir.path().to_path_buf()).facts else {
            panic!("temp dir not found")
        };
        assert!(facts.is_dir);
    }
}
