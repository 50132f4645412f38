//! The library half of the `rampart` binary: what the fuzz targets (`fuzz/`) and tests reach
//! without running the binary. The CLI and wiring stay in `main.rs`.

pub mod config;
pub mod fuzzing;
