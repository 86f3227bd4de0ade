//! The commit a proposed block carries of its parent (CometBFT's
//! `LastCommit`): the certificate this node decided the parent with, plus
//! the precommits for it that arrived after the decision.
//!
//! Malachite decides as soon as precommits of more than two thirds of the
//! power are in, so its certificate often lacks a validator that was only
//! a few milliseconds slower. The staking contract counts a validator
//! absent from the carried commit as down, so the precommits that the vote
//! tap sees after the decision (while the driver waits out the block time)
//! are checked and added, as CometBFT's `timeout_commit` lets it gather
//! them.

use std::collections::BTreeMap;

use gont_core::{CommitCertificate, CommitSig, Signature};
use malachitebft_core_types::{NilOrVal, Round, VoteType};

use crate::context::GontContext;
use crate::signing::verify_vote;
use crate::types::{Address, Height, ValueId};
use crate::validators::ValidatorSet;

use super::evidence::NetworkVote;

/// Precommits for the last decided block, beyond its certificate.
#[derive(Debug, Default)]
pub(super) struct LatePrecommits {
    /// The decided height, round and value.
    decided: Option<(Height, Round, ValueId)>,
    /// Who is in the certificate already.
    signed: Vec<Address>,
    /// The precommits that came after it.
    late: BTreeMap<Address, Signature>,
}

impl LatePrecommits {
    /// Starts collecting for the block decided at `height` in `round` as
    /// `value`, whose certificate holds `signed`.
    pub(super) fn decided(
        &mut self,
        height: Height,
        round: Round,
        value: ValueId,
        signed: Vec<Address>,
    ) {
        self.decided = Some((height, round, value));
        self.signed = signed;
        self.late.clear();
    }

    /// Keeps `vote` if it is a valid precommit, by a member of `set` (the
    /// decided height's) not in the certificate yet, for the decided value
    /// in the decided round.
    pub(super) fn observe(&mut self, ctx: &GontContext, vote: &NetworkVote, set: &ValidatorSet) {
        let Some((height, round, value)) = self.decided else {
            return;
        };
        let message = &vote.message;
        let signer = message.validator_address;
        if message.typ != VoteType::Precommit
            || message.height != height
            || message.round != round
            || message.value != NilOrVal::Val(value)
            || self.signed.contains(&signer)
            || self.late.contains_key(&signer)
        {
            return;
        }
        let Some((_, member)) = set.position(&signer) else {
            return;
        };
        if verify_vote(ctx, message, &vote.signature, &member.core().consensus_key) {
            self.late.insert(signer, vote.signature);
        }
    }

    /// `commit` (of the decided block, in the order of `set`) with the
    /// late precommits in the entries it has absent.
    pub(super) fn complete(
        &self,
        mut commit: CommitCertificate,
        set: &ValidatorSet,
    ) -> CommitCertificate {
        let Some((height, _, value)) = self.decided else {
            return commit;
        };
        if commit.height != height.to_core() || commit.block_id != value.block {
            return commit;
        }
        for (entry, member) in commit.signatures.iter_mut().zip(set.members()) {
            if let (CommitSig::Absent, Some(signature)) = (&entry, self.late.get(&member.address()))
            {
                *entry = CommitSig::ForBlock {
                    validator: member.address().0,
                    timestamp: value.time,
                    signature: *signature,
                };
            }
        }
        commit
    }
}
