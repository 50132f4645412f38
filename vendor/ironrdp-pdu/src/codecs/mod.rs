pub mod clearcodec;
pub mod rfx;
