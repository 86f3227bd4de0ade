//! Votes, proposals and proposal parts: what validators sign and gossip.

use borsh::{BorshDeserialize, BorshSerialize};
use malachitebft_core_types as mc;
use mc::{NilOrVal, Round, SignedExtension, VoteType};

use crate::context::GontContext;
use crate::types::{Address, Height, Value, ValueId};

/// A prevote or precommit.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize)]
pub struct Vote {
    /// Prevote or precommit.
    pub typ: VoteType,
    /// The height voted at.
    pub height: Height,
    /// The round voted in.
    pub round: Round,
    /// The value voted for, or nil.
    pub value: NilOrVal<ValueId>,
    /// The voter.
    pub validator_address: Address,
    /// Vote extensions are not used by GONT; kept for Malachite's trait.
    pub extension: Option<SignedExtension<GontContext>>,
}

impl Vote {
    /// A vote without extension.
    pub const fn new(
        typ: VoteType,
        height: Height,
        round: Round,
        value: NilOrVal<ValueId>,
        validator_address: Address,
    ) -> Self {
        Self {
            typ,
            height,
            round,
            value,
            validator_address,
            extension: None,
        }
    }
}

impl mc::Vote<GontContext> for Vote {
    fn height(&self) -> Height {
        self.height
    }

    fn round(&self) -> Round {
        self.round
    }

    fn value(&self) -> &NilOrVal<ValueId> {
        &self.value
    }

    fn take_value(self) -> NilOrVal<ValueId> {
        self.value
    }

    fn vote_type(&self) -> VoteType {
        self.typ
    }

    fn validator_address(&self) -> &Address {
        &self.validator_address
    }

    fn extension(&self) -> Option<&SignedExtension<GontContext>> {
        self.extension.as_ref()
    }

    fn take_extension(&mut self) -> Option<SignedExtension<GontContext>> {
        self.extension.take()
    }

    fn extend(self, extension: SignedExtension<GontContext>) -> Self {
        Self {
            extension: Some(extension),
            ..self
        }
    }
}

/// A proposal of a value at a height and round.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Proposal {
    /// The height.
    pub height: Height,
    /// The round.
    pub round: Round,
    /// The proposed block.
    pub value: Value,
    /// The round of the polka this value is re-proposed with, or nil.
    pub pol_round: Round,
    /// The proposer.
    pub validator_address: Address,
}

impl mc::Proposal<GontContext> for Proposal {
    fn height(&self) -> Height {
        self.height
    }

    fn round(&self) -> Round {
        self.round
    }

    fn value(&self) -> &Value {
        &self.value
    }

    fn take_value(self) -> Value {
        self.value
    }

    fn pol_round(&self) -> Round {
        self.pol_round
    }

    fn validator_address(&self) -> &Address {
        &self.validator_address
    }
}

/// One part of a streamed proposal: `Init`, then `Data` chunks, then `Fin`
/// carrying the proposer's signature of the proposal.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ProposalPart {
    /// Opens the stream.
    Init(ProposalInit),
    /// A chunk of the borsh-encoded block.
    Data(Vec<u8>),
    /// Closes the stream.
    Fin(ProposalFin),
}

/// What a proposal stream is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ProposalInit {
    /// The chain, so that parts of another chain's swarm are refused.
    pub chain_id: gont_core::ChainId,
    /// The height.
    pub height: Height,
    /// The round.
    pub round: Round,
    /// The polka round of a re-proposal, or nil.
    pub pol_round: Round,
    /// The proposer.
    pub proposer: Address,
}

/// The proposer's signature over the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ProposalFin {
    /// Signature of [`crate::signing::stream_sign_bytes`].
    pub signature: gont_core::Signature,
}

impl mc::ProposalPart<GontContext> for ProposalPart {
    fn is_first(&self) -> bool {
        matches!(self, Self::Init(_))
    }

    fn is_last(&self) -> bool {
        matches!(self, Self::Fin(_))
    }
}
