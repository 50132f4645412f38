//! Login records in utmp (`who`, `w`) and wtmp (`last`): one when a session starts, one when
//! it ends, as login(1), sshd and display managers write them.
//!
//! What a record says is decided in plain Rust ([`LoginRecord`], [`LoginRecord::to_utmpx`]);
//! writing it goes through glibc (`pututxline`, `updwtmpx`), which locks the files against
//! other writers. Those calls, and zero-initialising glibc's struct, are the only `unsafe`
//! here, each with its reason.
//!
//! The "terminal" of an RDP session is its X display (`:12`), as display managers record
//! theirs; the host is the client's address.
#![allow(unsafe_code)]

use std::ffi::{c_char, CString};
use std::io;
use std::net::IpAddr;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Where `last` reads from.
pub const WTMP: &str = "/var/log/wtmp";

/// Login or logout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordKind {
    /// `USER_PROCESS`: the user is logged in on `line`.
    Login,
    /// `DEAD_PROCESS`: the session on `line` has ended.
    Logout,
}

/// One utmp/wtmp record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginRecord {
    pub kind: RecordKind,
    /// The process that stays for the whole session (the session leader).
    pub pid: i32,
    /// The session's X display, e.g. `:12`.
    pub line: String,
    /// The Unix account; empty on logout records (as glibc's logout(3) writes them).
    pub user: String,
    /// The client's address; none on logout records.
    pub host: Option<IpAddr>,
    pub time: SystemTime,
}

extern "C" {
    // glibc has it (utmpx.h) but the libc crate does not declare it.
    fn updwtmpx(wtmpx_file: *const c_char, utmpx: *const libc::utmpx);
}

impl LoginRecord {
    /// The record for `user` logging in on display `display` from `host`.
    pub fn login(pid: i32, display: u32, user: &str, host: Option<IpAddr>, time: SystemTime) -> Self {
        Self {
            kind: RecordKind::Login,
            pid,
            line: format!(":{display}"),
            user: user.to_owned(),
            host,
            time,
        }
    }

    /// The matching logout record: same pid, line and id, no user or host.
    pub fn logout(&self, time: SystemTime) -> Self {
        Self {
            kind: RecordKind::Logout,
            pid: self.pid,
            line: self.line.clone(),
            user: String::new(),
            host: None,
            time,
        }
    }

    /// `ut_id`: the last four bytes of the line, which tell live lines apart
    /// (display numbers are unique among running X servers).
    pub fn id(&self) -> [u8; 4] {
        let bytes = self.line.as_bytes();
        let tail = bytes.get(bytes.len().saturating_sub(4)..).unwrap_or_default();
        let mut id = [0u8; 4];
        for (dst, src) in id.iter_mut().zip(tail) {
            *dst = *src;
        }
        id
    }

    /// glibc's `struct utmpx` for this record. Strings longer than their field are cut
    /// (utmp fields need no terminating NUL when full).
    pub fn to_utmpx(&self) -> libc::utmpx {
        // SAFETY: `utmpx` is plain old data (integers and byte arrays, including private
        // padding the libc crate does not let us name), for which all-zero bytes is a
        // valid value: the "empty" record glibc itself starts from.
        let mut ut: libc::utmpx = unsafe { std::mem::zeroed() };
        ut.ut_type = match self.kind {
            RecordKind::Login => libc::USER_PROCESS,
            RecordKind::Logout => libc::DEAD_PROCESS,
        };
        ut.ut_pid = self.pid;
        ut.ut_session = self.pid;
        fill(&mut ut.ut_line, self.line.as_bytes());
        fill(&mut ut.ut_id, &self.id());
        fill(&mut ut.ut_user, self.user.as_bytes());
        let host = self.host.map(|h| h.to_string()).unwrap_or_default();
        fill(&mut ut.ut_host, host.as_bytes());
        ut.ut_addr_v6 = self.host.map(addr_words).unwrap_or_default();
        let since = self.time.duration_since(UNIX_EPOCH).unwrap_or_default();
        // glibc keeps 32-bit seconds in utmp on x86-64 (its 2038 problem, not ours to fix).
        ut.ut_tv.tv_sec = i32::try_from(since.as_secs()).unwrap_or(i32::MAX);
        ut.ut_tv.tv_usec = i32::try_from(since.subsec_micros()).unwrap_or(0);
        ut
    }
}

/// Copies `src` into a fixed C char field, cut to fit, the rest zero.
fn fill(dst: &mut [c_char], src: &[u8]) {
    for (i, slot) in dst.iter_mut().enumerate() {
        *slot = src.get(i).map_or(0, |b| *b as c_char);
    }
}

/// `ut_addr_v6`: the address in network byte order; IPv4 in the first word.
fn addr_words(ip: IpAddr) -> [i32; 4] {
    let mut words = [0i32; 4];
    let octets: Vec<u8> = match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    for (word, chunk) in words.iter_mut().zip(octets.chunks(4)) {
        let mut b = [0u8; 4];
        for (d, s) in b.iter_mut().zip(chunk) {
            *d = *s;
        }
        // Memory order is network order: the bytes as they are.
        *word = i32::from_ne_bytes(b);
    }
    words
}

/// Adds or replaces the record for its line in utmp (`/var/run/utmp`). Fails when the
/// file is missing (systems without utmp) or cannot be written.
pub fn write_utmp(record: &LoginRecord) -> io::Result<()> {
    let ut = record.to_utmpx();
    // SAFETY: `ut` is a valid record that outlives the calls; the set/put/end sequence is
    // glibc's documented use. The leader that calls this is single-threaded, so glibc's
    // static utmp state is not shared.
    unsafe {
        libc::setutxent();
        let r = libc::pututxline(&ut);
        let err = io::Error::last_os_error();
        libc::endutxent();
        if r.is_null() {
            Err(err)
        } else {
            Ok(())
        }
    }
}

/// Appends the record to the wtmp file `path` (normally [`WTMP`]). glibc does not create a
/// missing file (neither do login and sshd), so a missing file is reported here.
pub fn write_wtmp(record: &LoginRecord, path: &Path) -> io::Result<()> {
    if !path.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} does not exist", path.display()),
        ));
    }
    let path_c = CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in wtmp path"))?;
    let ut = record.to_utmpx();
    // SAFETY: both pointers are valid for the call; updwtmpx only reads them (it opens,
    // locks, appends and closes the file itself).
    unsafe { updwtmpx(path_c.as_ptr(), &ut) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn text(field: &[c_char]) -> String {
        let bytes: Vec<u8> = field.iter().take_while(|c| **c != 0).map(|c| *c as u8).collect();
        String::from_utf8(bytes).unwrap()
    }

    const T: u64 = 1_764_633_600;

    #[test]
    fn login_record_contents() {
        let time = UNIX_EPOCH + Duration::from_micros(T * 1_000_000 + 250);
        let r = LoginRecord::login(4242, 12, "alice", Some("192.0.2.7".parse().unwrap()), time);
        let ut = r.to_utmpx();
        assert_eq!(ut.ut_type, libc::USER_PROCESS);
        assert_eq!(ut.ut_pid, 4242);
        assert_eq!(text(&ut.ut_line), ":12");
        assert_eq!(text(&ut.ut_id), ":12");
        assert_eq!(text(&ut.ut_user), "alice");
        assert_eq!(text(&ut.ut_host), "192.0.2.7");
        assert_eq!(ut.ut_addr_v6[0].to_ne_bytes(), [192, 0, 2, 7]);
        assert_eq!(&ut.ut_addr_v6[1..], &[0, 0, 0]);
        assert_eq!((ut.ut_tv.tv_sec, ut.ut_tv.tv_usec), (T as i32, 250));
    }

    #[test]
    fn logout_matches_its_login() {
        let login = LoginRecord::login(7, 1234, "bob", Some("::1".parse().unwrap()), UNIX_EPOCH);
        let out = login.logout(UNIX_EPOCH + Duration::from_secs(60));
        let (a, b) = (login.to_utmpx(), out.to_utmpx());
        assert_eq!(b.ut_type, libc::DEAD_PROCESS);
        assert_eq!((a.ut_pid, a.ut_line, a.ut_id), (b.ut_pid, b.ut_line, b.ut_id));
        assert_eq!(text(&b.ut_user), "");
        assert_eq!(text(&b.ut_host), "");
        assert_eq!(b.ut_addr_v6, [0; 4]);
        assert_eq!(b.ut_tv.tv_sec, 60);
        // Four-digit displays fill the id exactly.
        assert_eq!(text(&a.ut_id), "1234");
        assert_eq!(LoginRecord::login(7, 12345, "bob", None, UNIX_EPOCH).id(), *b"2345");
    }

    #[test]
    fn ipv6_and_long_fields() {
        let host: IpAddr = "2001:db8::1".parse().unwrap();
        let long_user = "u".repeat(40);
        let ut = LoginRecord::login(1, 3, &long_user, Some(host), UNIX_EPOCH).to_utmpx();
        let IpAddr::V6(v6) = host else { unreachable!() };
        let octets = v6.octets();
        for (i, word) in ut.ut_addr_v6.iter().enumerate() {
            assert_eq!(word.to_ne_bytes(), octets[i * 4..i * 4 + 4]);
        }
        assert_eq!(text(&ut.ut_host), "2001:db8::1");
        // Cut to the 32-byte field, without a terminator when full.
        assert_eq!(ut.ut_user.iter().filter(|c| **c == b'u' as c_char).count(), 32);
        // No client address (a session started locally): empty host.
        let ut = LoginRecord::login(1, 3, "x", None, UNIX_EPOCH).to_utmpx();
        assert_eq!((text(&ut.ut_host), ut.ut_addr_v6), (String::new(), [0; 4]));
    }

    #[test]
    fn a_missing_wtmp_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let r = LoginRecord::login(1, 3, "x", None, UNIX_EPOCH);
        let err = write_wtmp(&r, &dir.path().join("wtmp")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn records_land_in_a_wtmp_file() {
        // A private wtmp file: the record glibc appends is the one built here, byte for byte.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wtmp");
        std::fs::write(&path, b"").unwrap();
        let login = LoginRecord::login(99, 5, "carol", Some("127.0.0.1".parse().unwrap()), UNIX_EPOCH);
        write_wtmp(&login, &path).unwrap();
        write_wtmp(&login.logout(UNIX_EPOCH), &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), 2 * std::mem::size_of::<libc::utmpx>());
        let line_at = 4 + 4; // ut_type (short, padded) then ut_pid
        assert_eq!(&bytes[line_at..line_at + 2], b":5");
        let user_at = line_at + 32 + 4;
        assert_eq!(&bytes[user_at..user_at + 5], b"carol");
        let second = std::mem::size_of::<libc::utmpx>();
        assert_eq!(bytes[second], libc::DEAD_PROCESS as u8);
        assert_eq!(bytes[0], libc::USER_PROCESS as u8);
    }
}
