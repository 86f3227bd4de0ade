//! The GONT Space model: the types every other GONT crate speaks.
//!
//! Good starting points:
//! - [`Genesis`]: the JSON genesis of GONT Space and its services, with
//!   [`Genesis::validate`] and the stable [`Genesis::hash`].
//! - [`ServiceManifest`]: an application chain under the Space.
//! - [`ValidatorSet`]: stake-weighted validators and the quorum rule.
//! - [`Header`], [`Block`], [`CommitCertificate`]: blocks, and the exact
//!   mapping of a header onto Tendermint's (see [`header`]).
//! - [`Checkpoint`]: what a service anchors into the Space.
//! - [`Evidence`]: double signing, carried in blocks and checked by anyone
//!   holding the set of its height.
//! - `light` (feature `light`): a light client of any GONT chain
//!   (tendermint-rs's verifier), and `state_proof` (feature `proof`): what
//!   a state root commits to, and its proofs.
//! - [`ExecutionEngine`]: the Engine-API-shaped boundary consensus drives.
//! - [`ExecutionStore`], [`StateReader`], [`StateChanges`], [`Receipt`]: the
//!   boundary between execution (`gont-vm`) and storage (`gont-storage`).
//! - [`encoding`]: the canonical binary encoding (borsh) of all of these.
//!
//! Features, all off by default: `tx` decodes transactions
//! (`RawTransaction::decode`; [`block::recover_signer`] needs no
//! feature), `light` the light client, `proof` state proofs (the Jellyfish
//! Merkle tree), `fuzz` the fuzz targets.
//!
//! This crate does no I/O: no files, sockets or clocks (but for the
//! reader of committed fuzz corpora, behind the `fuzz` feature). Time comes in as a
//! [`Timestamp`] argument where a rule needs it.
//!
//! The staking rules of the genesis (`epoch_length`,
//! `unbonding_period_blocks`, [`StakingParams`]) are enforced by the
//! staking contract in `gont-vm`.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod block;
pub mod checkpoint;
pub mod encoding;
pub mod engine;
pub mod evidence;
// Its replaying tests need transaction decoding (`tx`, which `fuzz` turns on).
#[cfg(any(all(test, feature = "tx"), feature = "fuzz"))]
pub mod fuzz;
pub mod genesis;
pub mod header;
#[cfg(feature = "light")]
pub mod light;
pub mod merkle;
pub mod primitives;
pub mod receipt;
pub mod service;
pub mod state;
#[cfg(feature = "proof")]
pub mod state_proof;
pub mod validator_set;

pub use block::{
    Block, Body, BodyMismatch, CommitCertificate, CommitSig, DecidedBlock, RawTransaction,
    Signature, TransactionError,
};
pub use checkpoint::Checkpoint;
pub use encoding::{DecodeError, decode, encode};
pub use engine::{ExecutionEngine, ForkchoiceState, PayloadAttributes, PayloadStatus};
pub use evidence::{
    DuplicateProposal, DuplicateVote, Evidence, EvidenceError, EvidenceProposal, EvidenceVote,
    VoteKind,
};
pub use genesis::{
    ConsensusParams, Genesis, GenesisAccount, GenesisError, GenesisErrorKind, GenesisErrors,
    GenesisValidator, StakingParams, Timeouts,
};
pub use header::{ExecutionFields, Header, HeaderError};
pub use primitives::{
    Address, B256, BlockId, Bytes, ChainId, Hash, Height, ServiceId, Stake, Timestamp, U256,
    VotingPower,
};
pub use receipt::{Log, Receipt};
pub use service::{ServiceContract, ServiceManifest};
pub use state::{
    AccountState, DecidedStore, ExecutedBlock, ExecutionStore, StateChanges, StateReader,
};
pub use validator_set::{
    ConsensusKey, Validator, ValidatorAddress, ValidatorSet, ValidatorSetError, ValidatorSetHash,
};
