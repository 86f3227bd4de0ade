//! The commands of the `gont` binary that run or watch nodes.

#[cfg(feature = "masternode")]
pub(crate) mod devnet;
#[cfg(feature = "masternode")]
pub(crate) mod start;
pub(crate) mod status;
