//! The commands of the `gont` binary that run or watch nodes.

pub(crate) mod devnet;
pub(crate) mod start;
pub(crate) mod status;
