//! The process tree of a PID read from /proc: descendants (for leak checks) and
//! their summed resident memory.

use std::collections::HashMap;

/// (pid, start time in clock ticks) — the start time tells a reused PID apart.
pub type ProcId = (u32, u64);

/// (ppid, starttime) of one process from /proc/PID/stat.
fn stat(pid: u32) -> Option<(u32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // comm may contain spaces and parentheses: fields start after the last ')'.
    let rest = text.get(text.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] = state (field 3), ppid = field 4, starttime = field 22.
    let ppid = fields.get(1)?.parse().ok()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((ppid, start))
}

/// `root` and all its living descendants.
pub fn tree(root: u32) -> Vec<ProcId> {
    let mut children: HashMap<u32, Vec<ProcId>> = HashMap::new();
    let mut root_id = None;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if let Some((ppid, start)) = stat(pid) {
            if pid == root {
                root_id = Some((pid, start));
            }
            children.entry(ppid).or_default().push((pid, start));
        }
    }
    let Some(root_id) = root_id else {
        return Vec::new();
    };
    let mut out = vec![root_id];
    let mut i = 0;
    while let Some(&(pid, _)) = out.get(i) {
        if let Some(kids) = children.get(&pid) {
            out.extend(kids.iter().copied());
        }
        i += 1;
        if out.len() > 10_000 {
            break;
        }
    }
    out
}

/// Whether the process is still the same one (same PID and start time) and not a zombie.
pub fn alive(id: ProcId) -> bool {
    let state_ok = std::fs::read_to_string(format!("/proc/{}/stat", id.0))
        .ok()
        .and_then(|t| t.get(t.rfind(')')? + 2..).map(|r| !r.starts_with('Z')))
        .unwrap_or(false);
    state_ok && stat(id.0).map(|(_, start)| start == id.1).unwrap_or(false)
}

/// VmRSS of one process in KiB (0 if gone or a kernel thread).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Sum of VmRSS over `root` and its descendants, in KiB, and the process count.
pub fn tree_rss_kib(root: u32) -> (u64, usize) {
    let t = tree(root);
    (t.iter().map(|&(pid, _)| rss_kib(pid)).sum(), t.len())
}

/// "pid comm" lines for failure messages.
pub fn describe(ids: &[ProcId]) -> String {
    ids.iter()
        .map(|&(pid, _)| {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            format!("{pid} {}", comm.trim())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every living process whose environment holds exactly `entry` ("NAME=value").
/// Session processes inherit the marker the tests put into the session command, so
/// this finds them even after they were re-parented away from the server.
pub fn with_env(entry: &str) -> Vec<ProcId> {
    let mut out = Vec::new();
    for dir in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = dir.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        if env.split(|&b| b == 0).any(|e| e == entry.as_bytes()) {
            if let Some((_, start)) = stat(pid) {
                if alive((pid, start)) {
                    out.push((pid, start));
                }
            }
        }
    }
    out
}
