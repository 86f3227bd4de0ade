//! Tendermint proof-of-stake consensus for one GONT chain (GONT Space or a
//! service), on Malachite, with commits that tendermint-rs verifies.
//!
//! Good starting points:
//! - [`GontContext`]: the Malachite context: [`Height`], [`Value`] (a
//!   block) and [`ValueId`], [`Vote`], [`Proposal`], [`ValidatorSet`], the
//!   stake-weighted [`select_proposer`] and the step timeouts.
//! - [`signing`]: what validators sign; votes are Tendermint canonical votes.
//! - [`commit`]: a Malachite commit certificate as gont-core's
//!   [`gont_core::CommitCertificate`] and as tendermint-rs's `SignedHeader`.
//! - [`evidence`]: double votes, detected, packaged and verified.
//! - [`epoch`]: validator-set changes at epoch boundaries (the
//!   simulation's schedule).
//! - [`codec::BorshCodec`]: the wire and WAL encoding.
//! - `sim` (feature `sim`, on for this crate's tests): the deterministic
//!   simulation (binary `gont-sim`); not part of what users link.
//! - [`driver`]: the production driver: one chain's consensus on
//!   Malachite's engine, answering through [`gont_core::ExecutionEngine`].
//!
//! This crate does not execute blocks (it calls [`gont_core::ExecutionEngine`]),
//! store them (it records decisions through [`gont_core::DecidedStore`]), or
//! run gont-net's network; Malachite's engine brings its own.
//!
//! Each height's validator set is the execution engine's
//! ([`gont_core::ExecutionEngine::validator_set`]). The driver watches the
//! votes and proposal streams its network receives for double signing
//! ([`evidence`]) and puts what it finds in the blocks it proposes
//! (`PayloadAttributes::evidence`);
//! the engine checks and executes it. The blocks it proposes carry the
//! parent's commit, with the precommits that came after the decision
//! (`PayloadAttributes::last_commit`), from which the staking contract
//! counts downtime.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

// Depended on for their `borsh` features, which implement borsh for the
// engine's, sync's and config's envelopes that [`codec::BorshCodec`] encodes.
use malachitebft_config as _;
use malachitebft_engine as _;
use malachitebft_sync as _;

pub mod codec;
pub mod commit;
pub mod context;
pub mod driver;
pub mod epoch;
pub mod evidence;
pub mod messages;
pub mod signing;
#[cfg(any(test, feature = "sim"))]
pub mod sim;
pub mod types;
pub mod validators;

pub use context::{ContextError, GontContext, StepTimeouts, select_proposer};
pub use messages::{Proposal, ProposalPart, Vote};
pub use signing::{Ed25519, PrivateKey, Signer};
pub use types::{Address, Height, Value, ValueId};
pub use validators::{Validator, ValidatorSet};
