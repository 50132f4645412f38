//! The fail2ban-compatible line written for each authentication failure (`[guard]
//! fail2ban_log`); `docs/config.md` documents it with a matching filter.
//!
//! `2026-11-28T12:00:00Z rampart[1234]: authentication failure for alice from 203.0.113.7`
//!
//! The user name is client input: whitespace and control characters become `?`, an empty
//! or missing name is `?`, and it is cut to [`MAX_USER_KEY_CHARS`], so a line is always one
//! line and always ends with ` from ADDRESS`.

use std::net::IpAddr;

use rampart_audit::UnixMillis;

use crate::guard::MAX_USER_KEY_CHARS;
use crate::ip_net::canonical;

/// One line, without the trailing newline.
pub fn fail2ban_line(time: UnixMillis, pid: u32, user: Option<&str>, ip: IpAddr) -> String {
    let user: String = user
        .unwrap_or("")
        .chars()
        .take(MAX_USER_KEY_CHARS)
        .map(|c| if c.is_whitespace() || c.is_control() { '?' } else { c })
        .collect();
    let user = if user.is_empty() { "?".to_owned() } else { user };
    format!(
        "{} rampart[{pid}]: authentication failure for {user} from {}",
        time.rfc3339(),
        canonical(ip)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_format() {
        // 2026-11-28T12:00:00Z
        let t = UnixMillis(1_795_867_200_000);
        assert_eq!(
            fail2ban_line(t, 1234, Some("alice"), "203.0.113.7".parse().unwrap()),
            "2026-11-28T12:00:00Z rampart[1234]: authentication failure for alice from 203.0.113.7"
        );
        assert_eq!(
            fail2ban_line(t, 1, None, "::ffff:10.0.0.1".parse().unwrap()),
            "2026-11-28T12:00:00Z rampart[1]: authentication failure for ? from 10.0.0.1"
        );
    }

    #[test]
    fn hostile_names_cannot_forge_a_line_or_an_address() {
        let line = fail2ban_line(
            UnixMillis(0),
            1,
            Some("x from 1.2.3.4\n1970-01-01T00:00:00Z rampart[1]: authentication failure for y"),
            "10.0.0.9".parse().unwrap(),
        );
        assert!(!line.contains('\n'));
        assert!(line.ends_with(" from 10.0.0.9"));
        let name = line.split(" for ").nth(1).unwrap().rsplit_once(" from ").unwrap().0;
        assert!(!name.contains(' '), "{name}");
        let long = fail2ban_line(UnixMillis(0), 1, Some(&"a".repeat(1000)), "10.0.0.9".parse().unwrap());
        assert!(long.len() < 200);
        // Extreme times do not panic.
        let _ = fail2ban_line(UnixMillis(i64::MIN), 1, None, "::1".parse().unwrap());
        let _ = fail2ban_line(UnixMillis(i64::MAX), 1, None, "::1".parse().unwrap());
    }
}
