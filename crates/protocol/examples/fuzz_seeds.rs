//! Writes the fuzz seed corpus, made from real traffic (`rampart_protocol::fuzzing::seeds`),
//! to `fuzz/seeds/<target>/<name>`:
//!
//! ```text
//! cargo run -p rampart-protocol --example fuzz_seeds [-- DIR]
//! ```

use std::path::PathBuf;

use anyhow::Context;

fn main() -> anyhow::Result<()> {
    let dir = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds"),
        PathBuf::from,
    );
    let seeds = rampart_protocol::fuzzing::seeds().map_err(anyhow::Error::msg)?;
    for seed in seeds {
        let folder = dir.join(seed.target);
        std::fs::create_dir_all(&folder).with_context(|| format!("create {}", folder.display()))?;
        let path = folder.join(seed.name);
        std::fs::write(&path, &seed.data).with_context(|| format!("write {}", path.display()))?;
        println!("{} ({} bytes)", path.display(), seed.data.len());
    }
    Ok(())
}
