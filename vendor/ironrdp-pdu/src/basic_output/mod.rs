pub mod bitmap;
pub mod fast_path;
pub mod pointer;
pub mod slow_path;
pub mod surface_commands;
