//! The GONT node: composes `gont-storage`, `gont-vm`, `gont-consensus` and
//! `gont-net` into the `gont` binary.
//!
//! Good starting points:
//! - [`mempool`]: one chain's transaction pool (pure).
//! - [`rpc`]: the Ethereum JSON-RPC of one chain.

pub mod backend;
pub mod config;
pub mod devnet;
pub mod home;
pub mod keystore;
pub mod mempool;
pub mod overrides;
pub mod rpc;
