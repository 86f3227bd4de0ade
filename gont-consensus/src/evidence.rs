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
//!
//! It does the same for proposals ([`EvidenceDetector::observe_proposal`]):
//! the first signed proposal per (height, round, proposer), and a second
//! one of another block is a [`gont_core::DuplicateProposal`]. The driver
//! feeds it every complete proposal stream whose signature it verified.

use std::collections::{BTreeMap, BTreeSet};

use gont_core::evidence::{
    DuplicateProposal, DuplicateVote, EvidenceProposal, EvidenceVote, VoteKind,
};
use gont_core::{Evidence, Signature};
use malachitebft_core_types::{NilOrVal, Round, VoteType};

use crate::context::GontContext;
use crate::messages::Vote;
use crate::signing::verify_vote;
use crate::types::{Address, Height, ValueId};
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

/// A proposal as a complete stream showed it, with the proposer's
/// signature of its [`crate::signing::stream_sign_bytes`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedProposal {
    /// The height.
    pub height: Height,
    /// The round.
    pub round: u32,
    /// Who signed it.
    pub proposer: Address,
    /// The polka round of a re-proposal.
    pub pol_round: Option<u32>,
    /// The proposed block.
    pub value: ValueId,
    /// The proposer's signature.
    pub signature: Signature,
}

impl SignedProposal {
    const fn as_evidence_proposal(&self) -> EvidenceProposal {
        EvidenceProposal {
            pol_round: self.pol_round,
            value: (self.value.block, self.value.time),
            signature: self.signature,
        }
    }
}

type Slot = (Height, Round, VoteType, Address);

type ProposalSlot = (Height, u32, Address);

/// Remembers the first vote per slot and reports a conflicting, validly
/// signed second one.
#[derive(Debug)]
pub struct EvidenceDetector {
    ctx: GontContext,
    first: BTreeMap<Slot, SignedVote>,
    reported: BTreeSet<Slot>,
    first_proposals: BTreeMap<ProposalSlot, SignedProposal>,
    reported_proposals: BTreeSet<ProposalSlot>,
    found: Vec<Evidence>,
}

impl EvidenceDetector {
    /// A detector for the chain of `ctx`.
    pub fn new(ctx: &GontContext) -> Self {
        Self {
            ctx: ctx.clone(),
            first: BTreeMap::new(),
            reported: BTreeSet::new(),
            first_proposals: BTreeMap::new(),
            reported_proposals: BTreeSet::new(),
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

    /// Watches `proposal`, whose signature the caller verified, made at a
    /// height whose set is `set`: the evidence, the first time a second
    /// block is proposed in its slot.
    pub fn observe_proposal(
        &mut self,
        proposal: SignedProposal,
        set: &ValidatorSet,
    ) -> Option<Evidence> {
        if proposal.round > MAX_WATCHED_ROUND {
            return None;
        }
        set.position(&proposal.proposer)?;
        let slot = (proposal.height, proposal.round, proposal.proposer);
        let Some(first) = self.first_proposals.get(&slot) else {
            self.first_proposals.insert(slot, proposal);
            return None;
        };
        if first.value == proposal.value || self.reported_proposals.contains(&slot) {
            return None;
        }
        let evidence = DuplicateProposal::new(
            proposal.proposer.0,
            proposal.height.to_core(),
            proposal.round,
            first.as_evidence_proposal(),
            proposal.as_evidence_proposal(),
        )
        .map(Evidence::DuplicateProposal)?;
        evidence.verify(self.ctx.chain_id(), set.core()).ok()?;
        self.reported_proposals.insert(slot);
        self.found.push(evidence.clone());
        Some(evidence)
    }

    /// Forgets votes and proposals below `height`.
    pub fn prune_below(&mut self, height: Height) {
        self.first.retain(|(h, ..), _| *h >= height);
        self.reported.retain(|(h, ..)| *h >= height);
        self.first_proposals.retain(|(h, ..), _| *h >= height);
        self.reported_proposals.retain(|(h, ..)| *h >= height);
    }

    /// Every piece of evidence found so far.
    pub fn found(&self) -> &[Evidence] {
        &self.found
    }
}
