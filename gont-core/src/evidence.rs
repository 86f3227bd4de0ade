//! Evidence of misbehaviour that blocks carry, as CometBFT's
//! `DuplicateVoteEvidence`: two votes signed by one validator for the same
//! height, round and step but for different values.
//!
//! A vote signs Tendermint's canonical vote ([`vote_sign_bytes`]), so that
//! anyone holding the validator set of the vote's height can check the
//! evidence with [`Evidence::verify`], a pure function. A block's evidence
//! is committed to by its header's `evidence_hash` ([`evidence_hash`]); the
//! staking contract slashes and jails the offender when the block executes.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::block::Signature;
use crate::encoding::encode;
use crate::light::{tendermint_block_id, tendermint_time};
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

/// A piece of evidence a block carries.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Evidence {
    /// Double signing: two conflicting votes.
    DuplicateVote(DuplicateVote),
}

/// Why evidence does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    /// Both votes are for the same value: nothing conflicts.
    #[error("the two votes are for the same value")]
    NoConflict,
    /// The votes are not in canonical order (lesser value first), so the
    /// same offence could be carried twice in two forms.
    #[error("the votes are not in canonical order")]
    NotCanonical,
    /// The offender was not in the set of the evidence's height.
    #[error("validator {0} is not in the set of the evidence's height")]
    NotInSet(ValidatorAddress),
    /// A vote's height, round or time cannot be a Tendermint vote.
    #[error("the votes cannot be encoded as Tendermint votes")]
    Unencodable,
    /// A signature does not verify under the offender's key.
    #[error("a vote's signature does not verify")]
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
        let (first, second) = match a.value.cmp(&b.value) {
            std::cmp::Ordering::Less => (a, b),
            std::cmp::Ordering::Greater => (b, a),
            std::cmp::Ordering::Equal => return None,
        };
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
        }
    }

    /// The offender.
    pub const fn offender(&self) -> ValidatorAddress {
        match self {
            Self::DuplicateVote(d) => d.validator,
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
        match self {
            Self::DuplicateVote(d) => {
                match d.first.value.cmp(&d.second.value) {
                    std::cmp::Ordering::Less => {}
                    std::cmp::Ordering::Equal => return Err(EvidenceError::NoConflict),
                    std::cmp::Ordering::Greater => return Err(EvidenceError::NotCanonical),
                }
                let (_, validator) = set
                    .get(&d.validator)
                    .ok_or(EvidenceError::NotInSet(d.validator))?;
                let tm_chain = tendermint::chain::Id::try_from(chain.tendermint_id())
                    .map_err(|_| EvidenceError::Unencodable)?;
                for vote in [&d.first, &d.second] {
                    let bytes = vote_sign_bytes(&tm_chain, d.kind, d.height, d.round, vote.value)
                        .ok_or(EvidenceError::Unencodable)?;
                    if !validator.consensus_key.verify(&bytes, &vote.signature.0) {
                        return Err(EvidenceError::BadSignature);
                    }
                }
                Ok(validator)
            }
        }
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
}
