//! Looking up the Unix account an RDP user maps to: `/etc/passwd`, then `getent` (so
//! accounts from LDAP/SSSD through NSS are found too).

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::Context;

/// The fields of a passwd entry that matter here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixAccount {
    pub name: String,
    pub uid: u32,
}

pub fn lookup(name: &str) -> anyhow::Result<Option<UnixAccount>> {
    let passwd = Path::new("/etc/passwd");
    if passwd.exists() {
        let text = std::fs::read_to_string(passwd).context("cannot read /etc/passwd")?;
        if let Some(account) = find_in_passwd(&text, name) {
            return Ok(Some(account));
        }
    }
    // Not a local account: ask NSS. A missing getent simply means "not found".
    let output = Command::new("getent")
        .args(["passwd", "--", name])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    match output {
        Ok(out) if out.status.success() => Ok(find_in_passwd(&String::from_utf8_lossy(&out.stdout), name)),
        _ => Ok(None),
    }
}

/// Finds `name` in passwd(5)-format text: `name:password:uid:gid:gecos:home:shell`.
fn find_in_passwd(text: &str, name: &str) -> Option<UnixAccount> {
    text.lines().find_map(|line| {
        let mut fields = line.split(':');
        let entry_name = fields.next()?;
        if entry_name != name || entry_name.starts_with(['+', '-', '#']) {
            return None;
        }
        let _password = fields.next()?;
        let uid = fields.next()?.parse().ok()?;
        Some(UnixAccount {
            name: entry_name.to_owned(),
            uid,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
        # a comment\n\
        nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n\
        broken:x\n\
        alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n";

    #[test]
    fn finds_entries() {
        assert_eq!(
            find_in_passwd(PASSWD, "alice"),
            Some(UnixAccount {
                name: "alice".into(),
                uid: 1000
            })
        );
        assert_eq!(find_in_passwd(PASSWD, "root").map(|a| a.uid), Some(0));
        assert_eq!(find_in_passwd(PASSWD, "bob"), None);
        assert_eq!(find_in_passwd(PASSWD, "broken"), None);
        assert_eq!(find_in_passwd(PASSWD, "ali"), None);
        assert_eq!(find_in_passwd(PASSWD, ""), None);
    }

    #[test]
    fn root_exists_here() {
        assert_eq!(lookup("root").unwrap().map(|a| a.uid), Some(0));
        assert_eq!(lookup("no-such-user-rampart-test").unwrap(), None);
    }
}
