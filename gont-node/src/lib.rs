//! The GONT node: composes `gont-storage`, `gont-vm`, `gont-consensus` and
//! `gont-net` into the `gont` binary. Feature `masternode` builds the node
//! (consensus, networking); feature `abi` the VM alone behind open
//! interfaces (`gont vm rpc`, the C library of `gont-ffi`), which links no
//! consensus and no libp2p.
//!
//! Good starting points:
//! - [`mempool`]: one chain's transaction pool (pure), and [`journal`],
//!   its file that survives a crash.
//! - [`rpc`]: the Ethereum JSON-RPC of one chain.
//! - [`node`]: a running node (`gont start`): every chain's engine,
//!   consensus and RPC, and gont-net; [`node::NodeBuilder`] builds one
//!   with an integrator's native contracts and JSON-RPC methods.
//! - [`devnet_plan`]: the plan of a local network (`gont devnet`).
//! - [`metrics`]: Prometheus metrics at `/metrics`.
//! - [`relay`]: submits a service's checkpoints to GONT Space.
//! - [`rollback`]: `gont rollback`, one chain of a stopped node back to
//!   an earlier height.
//! - [`verify`]: `gont verify account`, a service account checked against
//!   GONT Space alone.
//! - [`abci`]: the VM as an ABCI 2.0 application for CometBFT
//!   (`gont vm abci`).
//! - [`standalone`]: one chain run by the VM alone, sealing blocks when
//!   asked (`gont vm rpc`, `libgont_vm`); [`standalone::StandaloneBuilder`]
//!   builds one with an integrator's native contracts and methods.
//! - [`extend`]: what both builders add to a chain.
//! - [`keystore`]: keys at rest in Web3 Secret Storage v3: validator seeds,
//!   and Ethereum accounts in geth's layout (`gont keys account`).
//!
//! Not built yet: the `service-user` placement, and the Engine API over
//! HTTP; see ARCHITECTURE.md, "Not built".

#[cfg(feature = "abi")]
pub mod abci;
pub mod backend;
pub mod client;
pub mod config;
#[cfg(feature = "masternode")]
pub mod devnet_plan;
#[cfg(any(feature = "masternode", feature = "abi"))]
pub mod extend;
#[cfg(all(feature = "abi", any(test, feature = "fuzz")))]
pub mod fuzz;
#[cfg(feature = "masternode")]
pub mod home;
pub mod journal;
pub mod keystore;
pub mod mempool;
#[cfg(feature = "masternode")]
pub mod metrics;
#[cfg(feature = "masternode")]
pub mod node;
pub mod overrides;
#[cfg(feature = "masternode")]
pub mod progress;
#[cfg(feature = "masternode")]
pub mod relay;
#[cfg(feature = "masternode")]
pub mod rollback;
pub mod rpc;
#[cfg(feature = "abi")]
pub mod standalone;
pub mod verify;

/// The wall clock as a [`gont_core::Timestamp`] (milliseconds since the
/// Unix epoch; 0 for a clock before it). Pure parts take the time from
/// their caller; this is where the node's callers read it.
pub fn wall_clock() -> gont_core::Timestamp {
    gont_core::Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
    )
}
