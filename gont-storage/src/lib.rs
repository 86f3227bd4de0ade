//! Durable state of GONT chains on redb: blocks, receipts, indexes, state
//! history and the state commitment, for GONT Space and every service side
//! by side in one database file, one write transaction per block.
//!
//! Good starting points:
//! - [`Store`]: the database file of a data directory (`<dir>/gont.redb`),
//!   opened with [`Store::open`]; it refuses corrupt and foreign files with
//!   an error naming the file.
//! - [`ChainStore`]: one chain's tables, from [`Store::chain`]. It
//!   implements [`gont_core::ExecutionStore`] for the VM (head, headers,
//!   state at any kept height, state roots without writing, genesis, block
//!   commit), and the reads the JSON-RPC needs: blocks by height or id,
//!   transactions and receipts by hash, logs by filter ([`LogFilter`]).
//! - [`State`]: a snapshot of a chain's state at one height, implementing
//!   [`gont_core::StateReader`].
//! - [`ChainStore::prove`]: the blake3 Jellyfish Merkle state commitment
//!   (defined in `gont_core::state_proof`, re-exported here: [`StateKey`],
//!   [`verify_state_proof`]) and its inclusion and exclusion proofs.
//! - [`ChainStore::put_decided`], [`ChainStore::decided`]: decided blocks
//!   and commit certificates by height, for consensus sync.
//! - [`ChainStore::rollback`]: back to an earlier height, for an operator
//!   recovering a node (`gont rollback`).
//! - [`StoreError`]: every failure, naming what failed.
//!
//! What it does not do: execute transactions or validate blocks beyond what
//! keeps the store consistent (a block must extend the head, its parent
//! must be the head, its state root must be the root of its changes); it
//! holds no consensus write-ahead log (Malachite keeps its own); it does
//! not fork (decided blocks are final: [`ChainStore::rollback`] is an
//! operator's repair, which keeps them decided by default); it does not
//! index blooms (the log index is exact).

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod chain;
mod commitment;
mod decided;
mod error;
mod query;
mod rollback;
mod state;
mod store;
mod tables;
mod write;

pub use chain::{ChainStore, PreparedState};
pub use commitment::EMPTY_STATE_ROOT;
pub use error::StoreError;
pub use gont_core::state_proof::{
    Blake3Hasher, ProvenState, StateKey, StateProof, StateProofError, StateValue,
    verify_state_proof,
};
pub use query::{IndexedLog, LogFilter, TxLocation};
pub use rollback::{RollbackMode, RolledBack};
pub use state::State;
pub use store::{Pruning, Store, StoreConfig};
