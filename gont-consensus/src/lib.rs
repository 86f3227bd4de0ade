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
//! - [`epoch`]: validator-set changes at epoch boundaries.
//! - [`codec::BorshCodec`]: the wire and WAL encoding.
//! - [`sim`]: the deterministic simulation (binary `gont-sim`).
//!
//! This crate does not execute blocks (it calls [`gont_core::ExecutionEngine`]),
//! store them, or run gont-net's network. The production driver on
//! Malachite's app-channel engine is not built yet.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod codec;
pub mod commit;
pub mod context;
pub mod epoch;
pub mod evidence;
pub mod messages;
pub mod signing;
pub mod sim;
pub mod types;
pub mod validators;

pub use context::{ContextError, GontContext, StepTimeouts, select_proposer};
pub use messages::{Proposal, ProposalPart, Vote};
pub use signing::{Ed25519, PrivateKey, Signer};
pub use types::{Address, Height, Value, ValueId};
pub use validators::{Validator, ValidatorSet};
