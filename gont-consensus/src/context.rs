//! The GONT [`Context`](mc::Context) for Malachite: which types consensus
//! runs on, who proposes, and how long each step waits.
//!
//! # Proposer selection
//!
//! [`select_proposer`] is a pure function of `(validator set, height,
//! round)`: it hashes `"gont proposer v1" ‖ height ‖ round` with blake3,
//! reads the first 16 bytes as a number `r` below `2^128`, maps it to
//! `r mod total_power` and walks the set in order summing power until the
//! sum exceeds that point. A validator with power `p` is therefore chosen
//! with probability `p / total` in every round, independently, which the
//! test `proposer_share_matches_stake` checks. Unlike Tendermint's
//! proposer-priority rotation it keeps no state between heights, so every
//! node (and a node restarting from its WAL) computes it from the set alone.

use std::time::Duration;

use gont_core::{ChainId, ConsensusParams};
use malachitebft_core_types as mc;
use mc::{NilOrVal, Round, VoteType};

use crate::messages::{Proposal, ProposalPart, Vote};
use crate::signing::Ed25519;
use crate::types::{Address, Height, Value, ValueId};
use crate::validators::{Validator, ValidatorSet};

/// Consensus for one chain: its id and parameters.
#[derive(Clone, Debug)]
pub struct GontContext {
    chain_id: ChainId,
    tendermint_chain_id: tendermint::chain::Id,
    params: ConsensusParams,
}

/// Why a context could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    /// The chain id does not give a valid Tendermint chain id.
    #[error("chain id {0} has no Tendermint form")]
    ChainId(ChainId),
}

/// The step timeouts of one chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepTimeouts {
    /// Waiting for a proposal in round 0.
    pub propose: Duration,
    /// Waiting for more prevotes in round 0.
    pub prevote: Duration,
    /// Waiting for more precommits in round 0.
    pub precommit: Duration,
    /// Added per round to each of the above: half the round-0 value, so
    /// that rounds lengthen until the network's delay fits.
    pub propose_delta: Duration,
    /// See `propose_delta`.
    pub prevote_delta: Duration,
    /// See `propose_delta`.
    pub precommit_delta: Duration,
}

impl StepTimeouts {
    /// The timeouts of a chain's parameters.
    pub fn of(params: &ConsensusParams) -> Self {
        let t = params.timeouts;
        Self {
            propose: Duration::from_millis(t.propose_ms),
            prevote: Duration::from_millis(t.prevote_ms),
            precommit: Duration::from_millis(t.precommit_ms),
            propose_delta: Duration::from_millis(t.propose_ms / 2),
            prevote_delta: Duration::from_millis(t.prevote_ms / 2),
            precommit_delta: Duration::from_millis(t.precommit_ms / 2),
        }
    }

    /// How long `timeout` waits.
    pub fn duration(&self, timeout: mc::Timeout) -> Duration {
        let round = timeout.round.as_u32().unwrap_or(0);
        let (base, delta) = match timeout.kind {
            mc::TimeoutKind::Propose => (self.propose, self.propose_delta),
            mc::TimeoutKind::Prevote => (self.prevote, self.prevote_delta),
            mc::TimeoutKind::Precommit => (self.precommit, self.precommit_delta),
            mc::TimeoutKind::Rebroadcast => (
                self.propose + self.prevote + self.precommit,
                self.propose_delta + self.prevote_delta + self.precommit_delta,
            ),
        };
        base.saturating_add(delta.saturating_mul(round))
    }
}

impl GontContext {
    /// The context of the chain `chain_id` with `params`.
    pub fn new(chain_id: ChainId, params: ConsensusParams) -> Result<Self, ContextError> {
        let tendermint_chain_id = tendermint::chain::Id::try_from(chain_id.tendermint_id())
            .map_err(|_| ContextError::ChainId(chain_id))?;
        Ok(Self {
            chain_id,
            tendermint_chain_id,
            params,
        })
    }

    /// The chain.
    pub const fn chain_id(&self) -> ChainId {
        self.chain_id
    }

    /// Tendermint's string chain id, part of every vote's sign bytes.
    pub const fn tendermint_chain_id(&self) -> &tendermint::chain::Id {
        &self.tendermint_chain_id
    }

    /// The chain's consensus parameters.
    pub const fn params(&self) -> &ConsensusParams {
        &self.params
    }

    /// The step timeouts from the parameters.
    pub fn timeouts(&self) -> StepTimeouts {
        StepTimeouts::of(&self.params)
    }
}

/// The index (in set order) of the proposer at `(height, round)`; see the
/// module documentation.
pub fn proposer_index(set: &gont_core::ValidatorSet, height: u64, round: u32) -> usize {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"gont proposer v1");
    hasher.update(&height.to_le_bytes());
    hasher.update(&round.to_le_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 16];
    first.copy_from_slice(digest.as_bytes().get(..16).unwrap_or(&[0; 16]));
    let total = u128::from(set.total_power().0.max(1));
    let mut point = u128::from_le_bytes(first) % total;
    for (i, v) in set.validators().iter().enumerate() {
        let p = u128::from(v.power.0);
        if point < p {
            return i;
        }
        point -= p;
    }
    0
}

/// The proposer at `(height, round)`.
pub fn select_proposer(set: &ValidatorSet, height: Height, round: Round) -> &Validator {
    let round = round.as_u32().unwrap_or(0);
    let index = proposer_index(set.core(), height.0, round);
    // `proposer_index` is below the set's length and a set is never empty.
    let members = set.members();
    members
        .get(index)
        .or_else(|| members.first())
        .unwrap_or_else(|| unreachable_empty_set())
}

// The one panic: reaching it would mean gont-core let an empty set through.
#[allow(clippy::panic)]
fn unreachable_empty_set() -> ! {
    panic!("a validator set is never empty (gont_core::ValidatorSet::new refuses it)")
}

impl mc::Context for GontContext {
    type Address = Address;
    type Height = Height;
    type ProposalPart = ProposalPart;
    type Proposal = Proposal;
    type Validator = Validator;
    type ValidatorSet = ValidatorSet;
    type Value = Value;
    type Vote = Vote;
    type Extension = ();
    type SigningScheme = Ed25519;

    fn select_proposer<'a>(
        &self,
        validator_set: &'a ValidatorSet,
        height: Height,
        round: Round,
    ) -> &'a Validator {
        select_proposer(validator_set, height, round)
    }

    fn new_proposal(
        &self,
        height: Height,
        round: Round,
        value: Value,
        pol_round: Round,
        address: Address,
    ) -> Proposal {
        Proposal {
            height,
            round,
            value,
            pol_round,
            validator_address: address,
        }
    }

    fn new_prevote(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<ValueId>,
        address: Address,
    ) -> Vote {
        Vote::new(VoteType::Prevote, height, round, value_id, address)
    }

    fn new_precommit(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<ValueId>,
        address: Address,
    ) -> Vote {
        Vote::new(VoteType::Precommit, height, round, value_id, address)
    }
}
