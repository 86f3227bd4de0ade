//! Evidence of misbehaviour that blocks carry: two votes signed by one
//! validator for the same height, round and step but for different values
//! (CometBFT's `DuplicateVoteEvidence`), or two proposals signed by the
//! proposer of one height and round for different blocks (what Malachite
//! reports as equivocating proposals; CometBFT has no such evidence).
//!
//! A vote signs Tendermint's canonical vote ([`vote_sign_bytes`]) and a
//! proposal Tendermint's canonical proposal ([`proposal_sign_bytes`]), so
//! that anyone holding the validator set of the offence's height can check
//! the evidence with [`Evidence::verify`], a pure function. A block's evidence
//! is committed to by its header's `evidence_hash` ([`evidence_hash`]); the
//! staking contract slashes and jails the offender when the block executes.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::block::Signature;
use crate::encoding::encode;
use crate::header::{tendermint_block_id, tendermint_time};
use crate::merkle::merkle_root;
use crate::primitives::{BlockId, ChainId, Hash, Height, Timestamp};
use crate::validator_set::{Validator, ValidatorAddress, ValidatorSet};

/// The most pieces of evidence one block carries.
pub const MAX_EVIDENCE_PER_BLOCK: usize = 8;

/// The step a vote is cast in.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    BorshSerialize,
    BorshDeserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum VoteKind {
    /// First voting step.
    Prevote,
    /// Second voting step.
    Precommit,
}

/// What a vote is for: a block (its id and header time, as GONT's votes
/// sign them), or nil.
pub type VotedValue = Option<(BlockId, Timestamp)>;

/// One signed vote, as evidence carries it (the voter is the evidence's).
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
pub struct EvidenceVote {
    /// What the vote is for.
    pub value: VotedValue,
    /// The voter's ed25519 signature of [`vote_sign_bytes`].
    pub signature: Signature,
}

/// Two conflicting votes of one validator at one height, round and step.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
pub struct DuplicateVote {
    /// The offender.
    pub validator: ValidatorAddress,
    /// The height both votes are for.
    pub height: Height,
    /// The round both votes are in.
    pub round: u32,
    /// Their step.
    pub kind: VoteKind,
    /// The vote for the lesser value (nil first, then by block id and time).
    pub first: EvidenceVote,
    /// The vote for the greater value.
    pub second: EvidenceVote,
}

/// What a proposal is for: a block, by its id and header time.
pub type ProposedValue = (BlockId, Timestamp);

/// One signed proposal, as evidence carries it (the proposer is the
/// evidence's).
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
pub struct EvidenceProposal {
    /// The round of the polka the block was re-proposed with, if any.
    pub pol_round: Option<u32>,
    /// The proposed block.
    pub value: ProposedValue,
    /// The proposer's ed25519 signature of [`proposal_sign_bytes`].
    pub signature: Signature,
}

/// Two proposals of one validator at one height and round for different
/// blocks. Proposals of the same block that differ only in their polka
/// round do not conflict: an honest proposer may stream its block again.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
pub struct DuplicateProposal {
    /// The offender.
    pub validator: ValidatorAddress,
    /// The height both proposals are for.
    pub height: Height,
    /// The round both proposals are in.
    pub round: u32,
    /// The proposal of the lesser block (by id, then time).
    pub first: EvidenceProposal,
    /// The proposal of the greater block.
    pub second: EvidenceProposal,
}

impl DuplicateProposal {
    /// Evidence from two proposals of `validator` at one height and round,
    /// put in canonical order; `None` if both are for the same block.
    pub fn new(
        validator: ValidatorAddress,
        height: Height,
        round: u32,
        a: EvidenceProposal,
        b: EvidenceProposal,
    ) -> Option<Self> {
        let (first, second) = ordered(a, b, |x| x.value)?;
        Some(Self {
            validator,
            height,
            round,
            first,
            second,
        })
    }
}

/// `a` and `b` with the lesser `value` first; `None` if the values are
/// equal (nothing conflicts).
fn ordered<T, V: Ord>(a: T, b: T, value: impl Fn(&T) -> V) -> Option<(T, T)> {
    match value(&a).cmp(&value(&b)) {
        std::cmp::Ordering::Less => Some((a, b)),
        std::cmp::Ordering::Greater => Some((b, a)),
        std::cmp::Ordering::Equal => None,
    }
}

/// A piece of evidence a block carries.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Evidence {
    /// Double signing: two conflicting votes.
    DuplicateVote(DuplicateVote),
    /// Double proposing: two proposals of different blocks in one round.
    DuplicateProposal(DuplicateProposal),
}

/// Why evidence does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    /// Both votes or proposals are for the same value: nothing conflicts.
    #[error("the two votes or proposals are for the same value")]
    NoConflict,
    /// The votes or proposals are not in canonical order (lesser value
    /// first), so the same offence could be carried twice in two forms.
    #[error("the votes or proposals are not in canonical order")]
    NotCanonical,
    /// The offender was not in the set of the evidence's height.
    #[error("validator {0} is not in the set of the evidence's height")]
    NotInSet(ValidatorAddress),
    /// A height, round or time cannot be in a Tendermint vote or proposal.
    #[error("the votes or proposals cannot be encoded as Tendermint's")]
    Unencodable,
    /// A signature does not verify under the offender's key.
    #[error("a vote's or proposal's signature does not verify")]
    BadSignature,
}

impl DuplicateVote {
    /// Evidence from two votes of `validator` at one slot, put in canonical
    /// order; `None` if both are for the same value.
    pub fn new(
        validator: ValidatorAddress,
        height: Height,
        round: u32,
        kind: VoteKind,
        a: EvidenceVote,
        b: EvidenceVote,
    ) -> Option<Self> {
        let (first, second) = ordered(a, b, |x| x.value)?;
        Some(Self {
            validator,
            height,
            round,
            kind,
            first,
            second,
        })
    }
}

impl Evidence {
    /// The height of the offence.
    pub const fn height(&self) -> Height {
        match self {
            Self::DuplicateVote(d) => d.height,
            Self::DuplicateProposal(d) => d.height,
        }
    }

    /// The offender.
    pub const fn offender(&self) -> ValidatorAddress {
        match self {
            Self::DuplicateVote(d) => d.validator,
            Self::DuplicateProposal(d) => d.validator,
        }
    }

    /// The offender, if the evidence holds on chain `chain` whose set at
    /// the evidence's height is `set`: two different values, in canonical
    /// order, both signatures valid under the offender's key.
    pub fn verify<'a>(
        &self,
        chain: ChainId,
        set: &'a ValidatorSet,
    ) -> Result<&'a Validator, EvidenceError> {
        let order = match self {
            Self::DuplicateVote(d) => d.first.value.cmp(&d.second.value),
            Self::DuplicateProposal(d) => d.first.value.cmp(&d.second.value),
        };
        match order {
            std::cmp::Ordering::Less => {}
            std::cmp::Ordering::Equal => return Err(EvidenceError::NoConflict),
            std::cmp::Ordering::Greater => return Err(EvidenceError::NotCanonical),
        }
        let offender = self.offender();
        let (_, validator) = set
            .get(&offender)
            .ok_or(EvidenceError::NotInSet(offender))?;
        let tm_chain = tendermint::chain::Id::try_from(chain.tendermint_id())
            .map_err(|_| EvidenceError::Unencodable)?;
        let signed: [(Option<Vec<u8>>, &Signature); 2] = match self {
            Self::DuplicateVote(d) => [&d.first, &d.second].map(|vote| {
                (
                    vote_sign_bytes(&tm_chain, d.kind, d.height, d.round, vote.value),
                    &vote.signature,
                )
            }),
            Self::DuplicateProposal(d) => [&d.first, &d.second].map(|proposal| {
                (
                    proposal_sign_bytes(
                        &tm_chain,
                        d.height,
                        d.round,
                        proposal.pol_round,
                        proposal.value,
                    ),
                    &proposal.signature,
                )
            }),
        };
        for (bytes, signature) in signed {
            let bytes = bytes.ok_or(EvidenceError::Unencodable)?;
            if !validator.consensus_key.verify(&bytes, &signature.0) {
                return Err(EvidenceError::BadSignature);
            }
        }
        Ok(validator)
    }
}

/// The header's `evidence_hash`: the blake3 merkle root of the borsh
/// encodings, `None` for a block without evidence (Tendermint's empty
/// field, so that such blocks hash as before evidence existed).
pub fn evidence_hash(evidence: &[Evidence]) -> Option<Hash> {
    if evidence.is_empty() {
        return None;
    }
    let leaves: Vec<Vec<u8>> = evidence.iter().map(encode).collect();
    Some(merkle_root(&leaves))
}

/// The bytes a vote signs: Tendermint's length-prefixed protobuf
/// `CanonicalVote` (type, height, round, block id with an empty part-set
/// header, timestamp, chain id), as `tendermint::vote::Vote::into_signable_vec`
/// makes it. A vote for a block carries the block's header time as its
/// timestamp; a nil vote carries the Unix epoch. `None` when the height,
/// round or time is outside Tendermint's range.
pub fn vote_sign_bytes(
    chain: &tendermint::chain::Id,
    kind: VoteKind,
    height: Height,
    round: u32,
    value: VotedValue,
) -> Option<Vec<u8>> {
    let (block_id, timestamp) = match value {
        Some((block, time)) => (Some(tendermint_block_id(block)), tendermint_time(time)?),
        None => (None, tendermint::Time::unix_epoch()),
    };
    let vote = tendermint::vote::Vote {
        vote_type: match kind {
            VoteKind::Prevote => tendermint::vote::Type::Prevote,
            VoteKind::Precommit => tendermint::vote::Type::Precommit,
        },
        height: tendermint::block::Height::try_from(height.0).ok()?,
        round: tendermint::block::Round::try_from(round).ok()?,
        block_id,
        timestamp: Some(timestamp),
        // Not part of the canonical vote.
        validator_address: tendermint::account::Id::new([0; 20]),
        validator_index: tendermint::vote::ValidatorIndex::try_from(0u32).ok()?,
        signature: None,
        extension: Vec::new(),
        extension_signature: None,
    };
    Some(vote.into_signable_vec(chain.clone()))
}

/// The bytes a proposal signs: Tendermint's length-prefixed protobuf
/// `CanonicalProposal` (type 32, height, round, polka round or -1, block id
/// with an empty part-set header, timestamp, chain id), as
/// `tendermint::proposal::Proposal::into_signable_vec` makes it. The
/// timestamp is the block's header time. `None` when the height, a round or
/// the time is outside Tendermint's range.
pub fn proposal_sign_bytes(
    chain: &tendermint::chain::Id,
    height: Height,
    round: u32,
    pol_round: Option<u32>,
    value: ProposedValue,
) -> Option<Vec<u8>> {
    let (block, time) = value;
    let proposal = tendermint::proposal::Proposal {
        msg_type: tendermint::proposal::Type::Proposal,
        height: tendermint::block::Height::try_from(height.0).ok()?,
        round: tendermint::block::Round::try_from(round).ok()?,
        pol_round: match pol_round {
            Some(r) => Some(tendermint::block::Round::try_from(r).ok()?),
            None => None,
        },
        block_id: Some(tendermint_block_id(block)),
        timestamp: Some(tendermint_time(time)?),
        signature: None,
    };
    Some(proposal.into_signable_vec(chain.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::Address;
    use crate::primitives::VotingPower;

    fn key(i: u8) -> ed25519_consensus::SigningKey {
        ed25519_consensus::SigningKey::from([i; 32])
    }

    fn set() -> ValidatorSet {
        ValidatorSet::new(
            (1..=4)
                .map(|i| Validator {
                    consensus_key: crate::ConsensusKey::of(&key(i)),
                    operator: Address::repeat_byte(i),
                    power: VotingPower(10),
                })
                .collect(),
        )
        .expect("a valid set")
    }

    fn vote(signer: u8, value: VotedValue, round: u32) -> EvidenceVote {
        let chain = tendermint::chain::Id::try_from("gont-7").expect("chain id");
        let bytes =
            vote_sign_bytes(&chain, VoteKind::Prevote, Height(5), round, value).expect("encodable");
        EvidenceVote {
            value,
            signature: Signature(key(signer).sign(&bytes).to_bytes()),
        }
    }

    fn double(signer: u8, a: EvidenceVote, b: EvidenceVote) -> Option<Evidence> {
        let validator = crate::ConsensusKey::of(&key(signer)).address();
        DuplicateVote::new(validator, Height(5), 0, VoteKind::Prevote, a, b)
            .map(Evidence::DuplicateVote)
    }

    const BLOCK: VotedValue = Some((BlockId([9; 32]), Timestamp(1_000)));

    #[test]
    fn two_signed_votes_for_different_values_convict_their_signer() {
        let evidence = double(2, vote(2, BLOCK, 0), vote(2, None, 0)).expect("they conflict");
        let set = set();
        let offender = evidence
            .verify(ChainId(7), &set)
            .expect("the evidence holds");
        assert_eq!(offender.operator, Address::repeat_byte(2));
        assert_eq!(evidence.height(), Height(5));
        // Order does not matter to construction: one canonical form.
        assert_eq!(
            double(2, vote(2, None, 0), vote(2, BLOCK, 0)),
            Some(evidence.clone())
        );
        assert!(evidence_hash(std::slice::from_ref(&evidence)).is_some());
        assert_eq!(evidence_hash(&[]), None);
    }

    #[test]
    fn evidence_that_does_not_hold_is_refused_with_its_reason() {
        assert_eq!(double(2, vote(2, BLOCK, 0), vote(2, BLOCK, 0)), None);
        let set = set();
        let forged = double(2, vote(2, BLOCK, 0), vote(3, None, 0)).expect("conflict");
        assert_eq!(
            forged.verify(ChainId(7), &set),
            Err(EvidenceError::BadSignature)
        );
        let other_round = double(2, vote(2, BLOCK, 1), vote(2, None, 0)).expect("conflict");
        assert_eq!(
            other_round.verify(ChainId(7), &set),
            Err(EvidenceError::BadSignature)
        );
        let other_chain = double(2, vote(2, BLOCK, 0), vote(2, None, 0)).expect("conflict");
        assert_eq!(
            other_chain.verify(ChainId(8), &set),
            Err(EvidenceError::BadSignature)
        );
        let outsider = double(9, vote(9, BLOCK, 0), vote(9, None, 0)).expect("conflict");
        let verdict = outsider.verify(ChainId(7), &set);
        assert!(matches!(verdict, Err(EvidenceError::NotInSet(_))));
        let Some(Evidence::DuplicateVote(mut swapped)) =
            double(2, vote(2, BLOCK, 0), vote(2, None, 0))
        else {
            unreachable!("built above")
        };
        std::mem::swap(&mut swapped.first, &mut swapped.second);
        assert_eq!(
            Evidence::DuplicateVote(swapped).verify(ChainId(7), &set),
            Err(EvidenceError::NotCanonical)
        );
    }

    fn proposal(signer: u8, block: u8, pol_round: Option<u32>, round: u32) -> EvidenceProposal {
        let chain = tendermint::chain::Id::try_from("gont-7").expect("chain id");
        let value = (BlockId([block; 32]), Timestamp(1_000));
        let bytes =
            proposal_sign_bytes(&chain, Height(5), round, pol_round, value).expect("encodable");
        EvidenceProposal {
            pol_round,
            value,
            signature: Signature(key(signer).sign(&bytes).to_bytes()),
        }
    }

    fn double_proposal(signer: u8, a: EvidenceProposal, b: EvidenceProposal) -> Option<Evidence> {
        let validator = crate::ConsensusKey::of(&key(signer)).address();
        DuplicateProposal::new(validator, Height(5), 0, a, b).map(Evidence::DuplicateProposal)
    }

    #[test]
    fn two_signed_proposals_of_different_blocks_in_one_round_convict_their_proposer() {
        let set = set();
        let evidence = double_proposal(3, proposal(3, 9, None, 0), proposal(3, 8, Some(0), 0))
            .expect("they conflict");
        let offender = evidence
            .verify(ChainId(7), &set)
            .expect("the evidence holds");
        assert_eq!(offender.operator, Address::repeat_byte(3));
        assert_eq!(
            double_proposal(3, proposal(3, 8, Some(0), 0), proposal(3, 9, None, 0)),
            Some(evidence),
            "one canonical form"
        );
        // The same block again with another polka round is a restream.
        assert_eq!(
            double_proposal(3, proposal(3, 9, None, 0), proposal(3, 9, Some(0), 0)),
            None
        );
        let forged =
            double_proposal(3, proposal(3, 9, None, 0), proposal(2, 8, None, 0)).expect("conflict");
        assert_eq!(
            forged.verify(ChainId(7), &set),
            Err(EvidenceError::BadSignature)
        );
        let other_round =
            double_proposal(3, proposal(3, 9, None, 1), proposal(3, 8, None, 0)).expect("conflict");
        assert_eq!(
            other_round.verify(ChainId(7), &set),
            Err(EvidenceError::BadSignature)
        );
        // A vote's signature is no proposal's.
        let chain = tendermint::chain::Id::try_from("gont-7").expect("chain id");
        let value = (BlockId([9; 32]), Timestamp(1_000));
        let vote_bytes = vote_sign_bytes(&chain, VoteKind::Prevote, Height(5), 0, Some(value))
            .expect("encodable");
        let mut as_vote = proposal(3, 9, None, 0);
        as_vote.signature = Signature(key(3).sign(&vote_bytes).to_bytes());
        let mixed = double_proposal(3, as_vote, proposal(3, 8, None, 0)).expect("conflict");
        assert_eq!(
            mixed.verify(ChainId(7), &set),
            Err(EvidenceError::BadSignature)
        );
        let Some(Evidence::DuplicateProposal(mut swapped)) =
            double_proposal(3, proposal(3, 9, None, 0), proposal(3, 8, None, 0))
        else {
            unreachable!("built above")
        };
        std::mem::swap(&mut swapped.first, &mut swapped.second);
        assert_eq!(
            Evidence::DuplicateProposal(swapped).verify(ChainId(7), &set),
            Err(EvidenceError::NotCanonical)
        );
    }
}
