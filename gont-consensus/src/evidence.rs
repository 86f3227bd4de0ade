//! Evidence of double signing: two conflicting votes by one validator at
//! one height, round and vote type, both signed.
//!
//! [`EvidenceDetector`] watches the signed votes a node receives and
//! packages a conflict as [`DoubleVote`]; [`DoubleVote::verify`] is a pure
//! function that anyone holding the validator set of that height can run;
//! the evidence encodes with borsh.
//!
//! Not used yet: only the simulation runs the detector; the driver does not,
//! blocks carry no evidence (`evidence_hash` is empty) and nothing is
//! slashed.

use std::collections::BTreeMap;

use borsh::{BorshDeserialize, BorshSerialize};
use gont_core::{ChainId, Signature};
use malachitebft_core_types::{Round, VoteType};

use crate::context::GontContext;
use crate::messages::Vote;
use crate::signing::verify_vote;
use crate::types::{Address, Height};
use crate::validators::{Validator, ValidatorSet};

/// A vote with its signature.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SignedVote {
    /// The vote.
    pub vote: Vote,
    /// The voter's signature of its Tendermint sign bytes.
    pub signature: Signature,
}

/// Two signed votes by one validator that conflict.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct DoubleVote {
    /// The chain the votes were cast on.
    pub chain_id: ChainId,
    /// The first vote seen.
    pub first: SignedVote,
    /// The conflicting vote.
    pub second: SignedVote,
}

/// Why evidence is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    /// The evidence is for another chain.
    #[error("evidence for chain {0}")]
    WrongChain(ChainId),
    /// The votes differ in height, round, type or voter.
    #[error("votes are not for the same height, round, type and validator")]
    NotSameSlot,
    /// The votes are for the same value: no conflict.
    #[error("votes do not conflict")]
    NoConflict,
    /// The voter is not in the set.
    #[error("validator {0} is not in the set")]
    UnknownValidator(Address),
    /// A signature does not verify.
    #[error("a signature does not verify")]
    BadSignature,
}

impl DoubleVote {
    /// The validator that double-signed, if the evidence holds: same
    /// height, round, type and voter, different values, both signatures
    /// valid under the voter's key in `set` (the set of that height).
    pub fn verify<'a>(
        &self,
        ctx: &GontContext,
        set: &'a ValidatorSet,
    ) -> Result<&'a Validator, EvidenceError> {
        if self.chain_id != ctx.chain_id() {
            return Err(EvidenceError::WrongChain(self.chain_id));
        }
        let (a, b) = (&self.first.vote, &self.second.vote);
        if a.height != b.height
            || a.round != b.round
            || a.typ != b.typ
            || a.validator_address != b.validator_address
        {
            return Err(EvidenceError::NotSameSlot);
        }
        if a.value == b.value {
            return Err(EvidenceError::NoConflict);
        }
        let (_, validator) = set
            .position(&a.validator_address)
            .ok_or(EvidenceError::UnknownValidator(a.validator_address))?;
        let key = &validator.core().consensus_key;
        if !verify_vote(ctx, a, &self.first.signature, key)
            || !verify_vote(ctx, b, &self.second.signature, key)
        {
            return Err(EvidenceError::BadSignature);
        }
        Ok(validator)
    }

    /// The offender.
    pub const fn validator(&self) -> Address {
        self.first.vote.validator_address
    }
}

type Slot = (Height, Round, VoteType, Address);

/// Remembers the first signed vote per (height, round, type, validator)
/// and reports a conflicting second one. Callers pass only votes whose
/// signature they have checked.
#[derive(Debug)]
pub struct EvidenceDetector {
    chain_id: ChainId,
    first: BTreeMap<Slot, SignedVote>,
    found: Vec<DoubleVote>,
}

impl EvidenceDetector {
    /// A detector for one chain.
    pub const fn new(chain_id: ChainId) -> Self {
        Self {
            chain_id,
            first: BTreeMap::new(),
            found: Vec::new(),
        }
    }

    /// Records `vote`; returns the evidence if it conflicts with an earlier one.
    pub fn observe(&mut self, vote: SignedVote) -> Option<&DoubleVote> {
        let v = &vote.vote;
        let slot = (v.height, v.round, v.typ, v.validator_address);
        match self.first.get(&slot) {
            None => {
                self.first.insert(slot, vote);
                None
            }
            Some(first) if first.vote.value == vote.vote.value => None,
            Some(first) => {
                let evidence = DoubleVote {
                    chain_id: self.chain_id,
                    first: first.clone(),
                    second: vote,
                };
                if self.found.iter().any(|e| {
                    e.first.vote.validator_address == evidence.first.vote.validator_address
                        && e.first.vote.height == evidence.first.vote.height
                        && e.first.vote.round == evidence.first.vote.round
                        && e.first.vote.typ == evidence.first.vote.typ
                }) {
                    return None;
                }
                self.found.push(evidence);
                self.found.last()
            }
        }
    }

    /// Forgets votes below `height`.
    pub fn prune_below(&mut self, height: Height) {
        self.first.retain(|(h, ..), _| *h >= height);
    }

    /// Every conflict found so far.
    pub fn found(&self) -> &[DoubleVote] {
        &self.found
    }
}
