//! EVM execution for GONT chains on revm: signed Ethereum transactions in,
//! receipts, state changes and header fields out, behind the
//! Engine-API-shaped [`gont_core::ExecutionEngine`] boundary.
//!
//! Good starting points:
//! - [`Engine`]: the [`ExecutionEngine`](gont_core::ExecutionEngine) of one
//!   chain over any [`ExecutionStore`](gont_core::ExecutionStore): builds
//!   payloads, re-executes proposed blocks, commits decided ones.
//! - [`execute_block`]: the block executor, usable alone over any
//!   [`StateReader`](gont_core::StateReader) (state arrives through
//!   [`StateDb`], revm's `Database` over our trait).
//! - [`validate_transaction`] and [`TxError`]: transaction validity in
//!   geth's words, pure, for the mempool and the JSON-RPC as well.
//! - [`next_base_fee`]: the EIP-1559 base fee rule.
//! - [`call`] and [`estimate_gas`]: `eth_call` and `eth_estimateGas`.
//! - [`genesis_changes`]: the genesis state of the Space or of a service,
//!   with rule contracts deployed by running their creation code.
//! - [`MemoryState`]: a whole state in memory (conformance, benches, tests).
//! - `conformance` (feature `conformance`): runners for Ethereum's
//!   GeneralStateTests and TransactionTests, and the `gont-conformance`
//!   binary.
//!
//! This crate does no I/O and knows no database: it reads state through
//! `gont-core`'s traits, which `gont-storage` implements. It does not
//! gossip, order or sign transactions; it decides what they do.
//!
//! - [`native`]: an integrator's native contracts, precompiles of their
//!   own at addresses they choose ([`NativeContract`]).
//! - [`system`]: system contracts at fixed addresses, run by the node inside
//!   the EVM: every chain's staking contract, whose set the engine
//!   announces at each epoch's end, and GONT Space's anchor registry.
//!
//! - [`trace`] (feature `trace`): geth's debug tracers and
//!   `eth_createAccessList`, through revm-inspectors.
//!
//! A block's evidence of double signing is checked by the [`Engine`]
//! (signatures against the set of the offence's height, age, not punished
//! before) and executed by the staking contract ([`system::staking`]), as
//! is the record of who signed the parent's commit that each block carries
//! (checked by the engine against the parent's set), which jails a
//! validator for downtime. Not built yet: the Engine API itself over HTTP
//! (the boundary is an in-process trait).

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod call;
mod chain;
mod db;
mod engine;
mod env;
mod error;
mod executor;
mod fees;
mod genesis;
mod memory;
pub mod native;
pub mod system;
#[cfg(feature = "trace")]
pub mod trace;
mod validation;

#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(any(test, feature = "test-utils"))]
pub mod testing;

pub use call::{CallError, CallRequest, CallResult, call, estimate_gas};
pub use chain::{BlockContext, ChainConfig, Fork, evm_timestamp, prevrandao};
pub use db::{DbError, StateDb};
pub use engine::{Engine, EngineConfig, EngineError};
pub use env::tx_env;
pub use error::{ExecError, TxError};
pub use executor::{
    BlockOutput, BlockStart, InvalidTxPolicy, KnownSenders, Punishment, RecoveredTx, SkippedTx,
    execute_block, recover_all, recover_all_known,
};
pub use fees::{
    BASE_FEE_MAX_CHANGE_DENOMINATOR, ELASTICITY_MULTIPLIER, INITIAL_BASE_FEE, next_base_fee,
};
pub use genesis::{GenesisBuildError, genesis_changes, genesis_state};
pub use memory::MemoryState;
pub use native::{NativeContract, NativeContracts, NativeOutcome};
pub use validation::{
    IntrinsicGas, MAX_INITCODE_SIZE, check_stateless, intrinsic_gas, max_cost,
    validate_pooled_transaction, validate_transaction,
};
