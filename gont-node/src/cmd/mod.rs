//! The commands of the `gont` binary that run, watch or check nodes.

#[cfg(feature = "masternode")]
pub(crate) mod devnet;
#[cfg(feature = "masternode")]
pub(crate) mod start;
pub(crate) mod status;
pub(crate) mod verify;
