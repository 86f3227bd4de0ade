//! The liveness messages of Malachite's consensus: polka and round
//! certificates, checked and applied as it does.

use std::collections::BTreeSet;

use malachitebft_core_driver::Input;
use malachitebft_core_types::{self as mc, NilOrVal, VoteType};

use crate::context::GontContext;
use crate::signing::verify_vote;

use super::{Effects, Node};

impl Node {
    pub(super) fn on_polka(
        &mut self,
        cert: mc::PolkaCertificate<GontContext>,
        now: u64,
        fx: &mut Effects,
    ) {
        let mut power = 0u64;
        let mut seen = BTreeSet::new();
        let set = self.schedule.set_at(cert.height.0);
        for sig in &cert.polka_signatures {
            let Some((_, member)) = set.position(&sig.address) else {
                return;
            };
            let vote = crate::messages::Vote::new(
                VoteType::Prevote,
                cert.height,
                cert.round,
                NilOrVal::Val(cert.value_id),
                sig.address,
            );
            if !seen.insert(sig.address)
                || !verify_vote(
                    &self.ctx,
                    &vote,
                    &sig.signature,
                    &member.core().consensus_key,
                )
            {
                return;
            }
            power += member.core().power.0;
        }
        if set.core().is_quorum(gont_core::VotingPower(power)) {
            self.feed(Input::PolkaCertificate(cert), now, fx);
        }
    }

    /// A round certificate, handled as Malachite's consensus does: one of
    /// the current height for a round it has not left (precommits) or has
    /// not reached (a skip), its votes applied one by one.
    pub(super) fn on_round_certificate(
        &mut self,
        cert: mc::RoundCertificate<GontContext>,
        now: u64,
        fx: &mut Effects,
    ) {
        let round = self.driver.round();
        let current = match cert.cert_type {
            mc::RoundCertificateType::Precommit => cert.round >= round,
            mc::RoundCertificateType::Skip => cert.round > round,
        };
        if !current {
            return;
        }
        for signature in cert.round_signatures {
            let vote = crate::messages::Vote::new(
                signature.vote_type,
                cert.height,
                cert.round,
                signature.value_id,
                signature.address,
            );
            self.on_vote(mc::SignedMessage::new(vote, signature.signature), now, fx);
            if !self.alive || self.driver.height() != cert.height {
                return;
            }
        }
    }
}
