//! Detecting double signing among the votes a node receives, and packaging
//! it as [`gont_core::Evidence`], which proposers put in blocks and the
//! execution engine checks and executes (the staking contract slashes and
//! jails the offender).
//!
//! [`EvidenceDetector`] remembers the first vote per (height, round, step,
//! validator) and, when a different one arrives for the same slot, checks
//! both signatures against the height's set: only then is it evidence. A
//! vote that does not verify never stays in a slot where a valid one
//! arrives, so that no peer can mask a double sign by sending a forged
//! vote first. The driver feeds it the votes Malachite's network actor
//! receives ([`crate::driver`]); the simulation feeds it each node's.

use std::collections::{BTreeMap, BTreeSet};

use gont_core::evidence::{DuplicateVote, EvidenceVote, VoteKind};
use gont_core::{Evidence, Signature};
use malachitebft_core_types::{NilOrVal, Round, VoteType};

use crate::context::GontContext;
use crate::messages::Vote;
use crate::signing::verify_vote;
use crate::types::{Address, Height};
use crate::validators::ValidatorSet;

/// Rounds above this are not watched: a double sign there is as
/// punishable, but remembering every round a peer names would let it grow
/// the detector without bound.
pub const MAX_WATCHED_ROUND: u32 = 64;

/// A vote with its signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedVote {
    /// The vote.
    pub vote: Vote,
    /// The voter's signature of its Tendermint sign bytes.
    pub signature: Signature,
}

impl SignedVote {
    fn kind(&self) -> VoteKind {
        match self.vote.typ {
            VoteType::Prevote => VoteKind::Prevote,
            VoteType::Precommit => VoteKind::Precommit,
        }
    }

    fn as_evidence_vote(&self) -> EvidenceVote {
        EvidenceVote {
            value: match &self.vote.value {
                NilOrVal::Val(id) => Some((id.block, id.time)),
                NilOrVal::Nil => None,
            },
            signature: self.signature,
        }
    }
}

type Slot = (Height, Round, VoteType, Address);

/// Remembers the first vote per slot and reports a conflicting, validly
/// signed second one.
#[derive(Debug)]
pub struct EvidenceDetector {
    ctx: GontContext,
    first: BTreeMap<Slot, SignedVote>,
    reported: BTreeSet<Slot>,
    found: Vec<Evidence>,
}

impl EvidenceDetector {
    /// A detector for the chain of `ctx`.
    pub fn new(ctx: &GontContext) -> Self {
        Self {
            ctx: ctx.clone(),
            first: BTreeMap::new(),
            reported: BTreeSet::new(),
            found: Vec::new(),
        }
    }

    /// Records `vote`, cast at a height whose validator set is `set`;
    /// returns the evidence if it and an earlier vote of the same slot are
    /// both validly signed and for different values. Votes of validators
    /// outside `set`, or of rounds above [`MAX_WATCHED_ROUND`], are ignored.
    pub fn observe(&mut self, vote: SignedVote, set: &ValidatorSet) -> Option<Evidence> {
        let v = &vote.vote;
        let round = v.round.as_u32().filter(|r| *r <= MAX_WATCHED_ROUND)?;
        set.position(&v.validator_address)?;
        let slot = (v.height, v.round, v.typ, v.validator_address);
        let Some(first) = self.first.get(&slot) else {
            self.first.insert(slot, vote);
            return None;
        };
        if first.vote.value == vote.vote.value || self.reported.contains(&slot) {
            return None;
        }
        let evidence = DuplicateVote::new(
            v.validator_address.0,
            v.height.to_core(),
            round,
            vote.kind(),
            first.as_evidence_vote(),
            vote.as_evidence_vote(),
        )
        .map(Evidence::DuplicateVote)?;
        match evidence.verify(self.ctx.chain_id(), set.core()) {
            Ok(_) => {
                self.reported.insert(slot);
                self.found.push(evidence.clone());
                Some(evidence)
            }
            Err(_) => {
                // One of the two is forged: keep the one that verifies.
                let signed = |w: &SignedVote| {
                    set.position(&w.vote.validator_address)
                        .is_some_and(|(_, member)| {
                            verify_vote(
                                &self.ctx,
                                &w.vote,
                                &w.signature,
                                &member.core().consensus_key,
                            )
                        })
                };
                if !signed(first) && signed(&vote) {
                    self.first.insert(slot, vote);
                }
                None
            }
        }
    }

    /// Forgets votes below `height`.
    pub fn prune_below(&mut self, height: Height) {
        self.first.retain(|(h, ..), _| *h >= height);
        self.reported.retain(|(h, ..)| *h >= height);
    }

    /// Every piece of evidence found so far.
    pub fn found(&self) -> &[Evidence] {
        &self.found
    }
}
