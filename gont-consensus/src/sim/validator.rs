//! One simulated validator: Malachite's driver, the sim engine, a durable
//! part (decided blocks and the current height's write-ahead log of driver
//! inputs) and a volatile part lost on a crash.

use std::collections::BTreeSet;
use std::sync::Arc;

use gont_core::{
    ExecutionEngine, ForkchoiceState, PayloadAttributes, PayloadStatus, RawTransaction, Timestamp,
};
use malachitebft_core_driver::{Driver, Input, Output};
use malachitebft_core_types::{
    self as mc, NilOrVal, Round, SignedProposal, SignedVote, ThresholdParams, Validity, Vote as _,
    VoteType,
};

use crate::commit::{self, MalachiteCommit};
use crate::context::{GontContext, select_proposer};
use crate::epoch::ValidatorSchedule;
use crate::evidence::{self, EvidenceDetector};
use crate::signing::{PrivateKey, Signer, sign_vote, verify_vote};
use crate::types::{Address, Height, Value, ValueId};

use super::engine::{POISON, SimEngine};
use super::rng::Rng;

/// How a simulated validator behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behavior {
    /// Follows the protocol.
    Honest,
    /// Sends conflicting votes and proposals to different halves of the network.
    Equivocate,
    /// Never sends its votes.
    Withhold,
    /// Forgets its lock: prevotes every proposal it sees.
    Amnesia,
}

/// A message between validators.
#[derive(Clone, Debug)]
pub(crate) enum Msg {
    /// A signed proposal with its block.
    Proposal(SignedProposal<GontContext>),
    /// A signed vote.
    Vote(SignedVote<GontContext>),
    /// A decided block with its commit (value sync for a lagging peer).
    Decision(Value, MalachiteCommit),
    /// Prevotes of more than two thirds for a value in a round: lets a
    /// validator accept a re-proposal even if it saw an equivocator's other
    /// prevote first (Malachite's liveness message).
    Polka(mc::PolkaCertificate<GontContext>),
}

impl Msg {
    fn height(&self) -> Height {
        match self {
            Self::Proposal(p) => p.message.height,
            Self::Vote(v) => v.message.height,
            Self::Decision(_, c) => c.height,
            Self::Polka(c) => c.height,
        }
    }
}

/// Where an outgoing message goes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Dest {
    /// Every other validator.
    All,
    /// Validators with an even (true) or odd (false) index.
    Half(bool),
    /// One validator.
    One(usize),
}

/// What a node asks the simulator to do.
#[derive(Debug, Default)]
pub(crate) struct Effects {
    /// Messages to send.
    pub send: Vec<(Dest, Msg)>,
    /// Timeouts to schedule: (height, timeout).
    pub timeouts: Vec<(Height, mc::Timeout)>,
    /// Heights decided, with the value and how (true: by own votes).
    pub decided: Vec<(Height, Value, MalachiteCommit)>,
    /// Votes this node signed.
    pub signed_votes: Vec<mc::SignedVote<GontContext>>,
    /// Values proposed, and whether this node's engine accepted a value.
    pub proposed: Vec<Value>,
    /// Values this node's engine accepted.
    pub accepted: Vec<ValueId>,
    /// The step just completed, for crash plans.
    pub steps: Vec<(Height, Step)>,
    /// The node decided and starts its next height in a new event (so that
    /// a validator with a quorum of its own does not recurse).
    pub start_next: bool,
}

/// A step of a height, after which a crash may be planned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// The node sent its proposal.
    Propose,
    /// The node sent its prevote.
    Prevote,
    /// The node sent its precommit.
    Precommit,
    /// The node decided and persisted the height.
    Commit,
}

/// A simulated validator.
pub(crate) struct Node {
    pub(crate) index: usize,
    pub(crate) behavior: Behavior,
    pub(crate) alive: bool,
    pub(crate) incarnation: u64,
    ctx: GontContext,
    key: PrivateKey,
    signer: Signer,
    address: Address,
    /// The set of every height (the simulation fixes it in advance).
    schedule: Arc<ValidatorSchedule>,
    genesis_ms: u64,
    // Durable.
    pub(crate) decided: Vec<(Value, MalachiteCommit)>,
    wal: Vec<Input<GontContext>>,
    built: Vec<(Height, Round, Value)>,
    // Volatile.
    driver: Driver<GontContext>,
    engine: SimEngine,
    future: Vec<Msg>,
    seen: BTreeSet<[u8; 32]>,
    own_votes: Vec<SignedVote<GontContext>>,
    own_proposal: Option<SignedProposal<GontContext>>,
    pub(crate) evidence: EvidenceDetector,
    replaying: bool,
    rng: Rng,
}

fn digest(msg: &Msg) -> [u8; 32] {
    let bytes = match msg {
        Msg::Proposal(p) => borsh::to_vec(&(0u8, p)),
        Msg::Vote(v) => borsh::to_vec(&(1u8, v)),
        Msg::Decision(v, c) => borsh::to_vec(&(2u8, v.id(), c)),
        Msg::Polka(c) => borsh::to_vec(&(3u8, c)),
    };
    *blake3::hash(&bytes.unwrap_or_default()).as_bytes()
}

impl Node {
    pub(crate) fn new(
        index: usize,
        behavior: Behavior,
        ctx: GontContext,
        key: PrivateKey,
        schedule: Arc<ValidatorSchedule>,
        genesis_ms: u64,
        seed: u64,
    ) -> Self {
        let address = Address(key.public_key().address());
        let driver = Driver::new(
            ctx.clone(),
            Height(1),
            schedule.set_at(1).clone(),
            address,
            ThresholdParams::default(),
        );
        Self {
            index,
            behavior,
            alive: true,
            incarnation: 0,
            signer: Signer::new(ctx.clone(), key.clone()),
            engine: SimEngine::new(ctx.chain_id(), schedule.clone()),
            evidence: EvidenceDetector::new(&ctx),
            ctx,
            key,
            address,
            schedule,
            genesis_ms,
            decided: Vec::new(),
            wal: Vec::new(),
            built: Vec::new(),
            driver,
            future: Vec::new(),
            seen: BTreeSet::new(),
            own_votes: Vec::new(),
            own_proposal: None,
            replaying: false,
            rng: Rng::new(seed),
        }
    }

    pub(crate) const fn address(&self) -> Address {
        self.address
    }

    pub(crate) fn describe(&self) -> String {
        format!(
            "{} {:?} alive={} h={} r={} step={:?} wal={} future={} votes={:?}",
            self.index,
            self.behavior,
            self.alive,
            self.height(),
            self.driver.round(),
            self.driver.step(),
            self.wal.len(),
            self.future.len(),
            self.driver.votes().per_round(self.driver.round()).map(|r| {
                r.received_votes()
                    .iter()
                    .map(|v| (v.typ as u8, v.value.is_nil()))
                    .fold((0, 0, 0, 0), |mut acc, (t, nil)| {
                        match (t, nil) {
                            (0, false) => acc.0 += 1,
                            (0, true) => acc.1 += 1,
                            (_, false) => acc.2 += 1,
                            _ => acc.3 += 1,
                        }
                        acc
                    })
            })
        )
    }

    pub(crate) fn height(&self) -> Height {
        Height(self.decided.len() as u64 + 1)
    }

    /// Starts the current height (at boot, after a decision, after a restart).
    pub(crate) fn start_height(&mut self, now: u64, fx: &mut Effects) {
        let height = self.height();
        self.driver
            .move_to_height(height, self.schedule.set_at(height.0).clone());
        self.own_votes.clear();
        self.own_proposal = None;
        self.evidence.prune_below(height);
        self.feed(
            Input::NewRound(height, Round::new(0), self.proposer(height, Round::new(0))),
            now,
            fx,
        );
        let future = std::mem::take(&mut self.future);
        for msg in future {
            self.receive(usize::MAX, msg, now, fx);
        }
    }

    fn proposer(&self, height: Height, round: Round) -> Address {
        select_proposer(self.schedule.set_at(height.0), height, round).address()
    }

    /// Loses volatile state.
    pub(crate) fn crash(&mut self) {
        self.alive = false;
        self.incarnation += 1;
        self.future.clear();
        self.seen.clear();
        self.own_votes.clear();
        self.own_proposal = None;
        self.evidence = EvidenceDetector::new(&self.ctx);
    }

    /// Restarts from the durable state: rebuilds the engine's head from the
    /// decided blocks and replays the WAL into a fresh driver.
    pub(crate) fn restart(&mut self, now: u64, fx: &mut Effects) {
        self.alive = true;
        self.engine = SimEngine::new(self.ctx.chain_id(), self.schedule.clone());
        for (value, _) in &self.decided {
            // Re-validating our own decided chain cannot fail; a failure
            // would show as a validity or liveness violation.
            let _ = self.engine.new_payload(value.block());
            let _ = self.engine.forkchoice_updated(forkchoice(value.id()));
        }
        let height = self.height();
        self.driver = Driver::new(
            self.ctx.clone(),
            height,
            self.schedule.set_at(height.0).clone(),
            self.address,
            ThresholdParams::default(),
        );
        // The log stays on disk: a second crash replays it again.
        let wal = self.wal.clone();
        if wal.is_empty() {
            self.start_height(now, fx);
            return;
        }
        self.replaying = true;
        let mut scratch = Effects::default();
        for input in wal {
            if let Input::Vote(v) = &input
                && v.message.validator_address == self.address
            {
                self.own_votes.push(v.clone());
            }
            if let Input::Proposal(p, _) = &input {
                if p.message.validator_address == self.address {
                    self.own_proposal = Some(p.clone());
                }
                let _ = self.engine.new_payload(p.message.value.block());
            }
            self.feed(input, now, &mut scratch);
        }
        self.replaying = false;
        let round = self.driver.round();
        let kind = if self.driver.step_is_propose() {
            mc::TimeoutKind::Propose
        } else if self.driver.step_is_prevote() {
            mc::TimeoutKind::Prevote
        } else {
            mc::TimeoutKind::Precommit
        };
        fx.timeouts.push((height, mc::Timeout::new(round, kind)));
        self.rebroadcast(fx);
    }

    /// Re-sends this node's current votes and proposal.
    pub(crate) fn rebroadcast(&mut self, fx: &mut Effects) {
        if self.behavior == Behavior::Withhold {
            return;
        }
        // The current round's votes, and the polka certificates of earlier
        // rounds: a value re-proposed with a polka round is accepted only by
        // validators that know that polka.
        let round = self.driver.round();
        for v in &self.own_votes {
            if v.message.round == round {
                fx.send.push((Dest::All, Msg::Vote(v.clone())));
            }
        }
        for cert in self.driver.polka_certificates() {
            fx.send.push((Dest::All, Msg::Polka(cert.clone())));
        }
        if let Some(p) = &self.own_proposal
            && p.message.round == round
        {
            fx.send.push((Dest::All, Msg::Proposal(p.clone())));
        }
    }

    /// A timeout fired.
    pub(crate) fn timeout(
        &mut self,
        height: Height,
        timeout: mc::Timeout,
        now: u64,
        fx: &mut Effects,
    ) {
        if height == self.height() {
            self.feed(Input::TimeoutElapsed(timeout), now, fx);
        }
    }

    /// A message arrived from `from` (`usize::MAX`: replayed from the buffer).
    pub(crate) fn receive(&mut self, from: usize, msg: Msg, now: u64, fx: &mut Effects) {
        let height = self.height();
        let msg_height = msg.height();
        if msg_height < height {
            // The sender lags: send it the decision of its height.
            if let (Some(i), Some((value, cert))) = (
                Some(from).filter(|f| *f != usize::MAX),
                self.decided
                    .get(usize::try_from(msg_height.0.saturating_sub(1)).unwrap_or(usize::MAX)),
            ) && !matches!(msg, Msg::Decision(..))
            {
                fx.send
                    .push((Dest::One(i), Msg::Decision(value.clone(), cert.clone())));
            }
            return;
        }
        // Between a decision and the start of the next height (a separate
        // event), the driver is still at the old height: keep the message.
        if msg_height > height || self.driver.height() != height {
            if self.future.len() < 4096 {
                self.future.push(msg);
            }
            return;
        }
        if !self.seen.insert(digest(&msg)) {
            return;
        }
        match msg {
            Msg::Vote(v) => self.on_vote(v, now, fx),
            Msg::Proposal(p) => self.on_proposal(p, now, fx),
            Msg::Decision(value, cert) => self.on_decision(value, cert, fx),
            Msg::Polka(cert) => self.on_polka(cert, now, fx),
        }
    }

    fn on_vote(&mut self, v: SignedVote<GontContext>, now: u64, fx: &mut Effects) {
        let set = self.schedule.set_at(v.message.height.0);
        let Some((_, member)) = set.position(&v.message.validator_address) else {
            return;
        };
        if !verify_vote(
            &self.ctx,
            &v.message,
            &v.signature,
            &member.core().consensus_key,
        ) {
            return;
        }
        self.evidence.observe(
            evidence::SignedVote {
                vote: v.message.clone(),
                signature: v.signature,
            },
            set,
        );
        self.feed(Input::Vote(v), now, fx);
    }

    fn on_proposal(&mut self, p: SignedProposal<GontContext>, now: u64, fx: &mut Effects) {
        let proposal = &p.message;
        if self.proposer(proposal.height, proposal.round) != proposal.validator_address {
            return;
        }
        let set = self.schedule.set_at(proposal.height.0);
        let Some((_, member)) = set.position(&proposal.validator_address) else {
            return;
        };
        use mc::SigningProvider as _;
        if !self
            .signer
            .verify_signed_proposal(proposal, &p.signature, &member.core().consensus_key)
        {
            return;
        }
        let valid = proposal.value.block().header.height == proposal.height.to_core()
            && matches!(
                self.engine.new_payload(proposal.value.block()),
                Ok(PayloadStatus::Valid)
            );
        if valid {
            fx.accepted.push(proposal.value.id());
        }
        if self.behavior == Behavior::Amnesia && valid && proposal.round == self.driver.round() {
            // Ignore any lock: prevote what is proposed.
            let vote = crate::messages::Vote::new(
                VoteType::Prevote,
                proposal.height,
                proposal.round,
                NilOrVal::Val(proposal.value.id()),
                self.address,
            );
            let signature = sign_vote(&self.ctx, &self.key, &vote);
            fx.send.push((
                Dest::All,
                Msg::Vote(mc::SignedMessage::new(vote, signature)),
            ));
        }
        self.feed(Input::Proposal(p, Validity::from_bool(valid)), now, fx);
    }

    fn on_polka(&mut self, cert: mc::PolkaCertificate<GontContext>, now: u64, fx: &mut Effects) {
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

    fn on_decision(&mut self, value: Value, cert: MalachiteCommit, fx: &mut Effects) {
        let set = self.schedule.set_at(cert.height.0);
        if value.id() != cert.value_id || commit::verify(&self.ctx, &cert, set).is_err() {
            return;
        }
        if !matches!(
            self.engine.new_payload(value.block()),
            Ok(PayloadStatus::Valid)
        ) {
            return;
        }
        fx.accepted.push(value.id());
        self.commit(value, cert, fx);
    }

    fn commit(&mut self, value: Value, cert: MalachiteCommit, fx: &mut Effects) {
        let height = self.height();
        if let Err(e) = self.engine.forkchoice_updated(forkchoice(value.id())) {
            if std::env::var_os("GONT_SIM_DEBUG").is_some() {
                eprintln!("node {} cannot commit height {height}: {e}", self.index);
            }
            return;
        }
        fx.decided.push((height, value.clone(), cert.clone()));
        fx.steps.push((height, Step::Commit));
        // The decision and the WAL's reset are one durable write.
        self.decided.push((value, cert));
        self.wal.clear();
        self.built.retain(|(h, ..)| *h > height);
        fx.start_next = true;
    }

    /// Logs `input` to the WAL, applies it and acts on the outputs.
    fn feed(&mut self, input: Input<GontContext>, now: u64, fx: &mut Effects) {
        if !self.replaying {
            self.wal.push(input.clone());
        }
        let Ok(outputs) = self.driver.process(input) else {
            return;
        };
        for output in outputs {
            if !self.alive || self.decided.len() as u64 + 1 != self.driver.height().0 {
                return;
            }
            self.on_output(output, now, fx);
        }
    }

    fn on_output(&mut self, output: Output<GontContext>, now: u64, fx: &mut Effects) {
        // Every input an output leads to (new round, proposed value, own
        // proposal and votes) was logged when it first happened, so a
        // replay applies it from the WAL, exactly once.
        if self.replaying {
            return;
        }
        let height = self.driver.height();
        match output {
            Output::NewRound(h, round) => {
                let proposer = self.proposer(h, round);
                self.feed(Input::NewRound(h, round, proposer), now, fx);
            }
            Output::ScheduleTimeout(t) => {
                if !self.replaying {
                    fx.timeouts.push((height, t));
                }
            }
            Output::GetValue(h, round, _) => {
                if self.replaying {
                    return;
                }
                let value = match self
                    .built
                    .iter()
                    .find(|(bh, br, _)| *bh == h && *br == round)
                {
                    Some((_, _, v)) => v.clone(),
                    None => match self.build(h, round, now, false) {
                        Some(v) => v,
                        None => return,
                    },
                };
                self.built.push((h, round, value.clone()));
                self.feed(Input::ProposeValue(round, value), now, fx);
            }
            Output::Propose(proposal) => {
                use mc::SigningProvider as _;
                let signed = self.signer.sign_proposal(proposal.clone());
                if self.replaying {
                    return;
                }
                fx.proposed.push(proposal.value.clone());
                // Built by this node's own engine.
                fx.accepted.push(proposal.value.id());
                if self.behavior == Behavior::Equivocate {
                    if let Some(other) = self.build(proposal.height, proposal.round, now, true) {
                        fx.proposed.push(other.clone());
                        let second = crate::messages::Proposal {
                            value: other,
                            ..proposal
                        };
                        let second = self.signer.sign_proposal(second);
                        fx.send
                            .push((Dest::Half(true), Msg::Proposal(signed.clone())));
                        fx.send.push((Dest::Half(false), Msg::Proposal(second)));
                    }
                } else {
                    fx.send.push((Dest::All, Msg::Proposal(signed.clone())));
                }
                fx.steps.push((height, Step::Propose));
                self.own_proposal = Some(signed.clone());
                self.feed(Input::Proposal(signed, Validity::Valid), now, fx);
            }
            Output::Vote(vote) => {
                use mc::SigningProvider as _;
                let signed = self.signer.sign_vote(vote.clone());
                if !self.replaying {
                    fx.signed_votes.push(signed.clone());
                    self.send_vote(&signed, fx);
                    fx.steps.push((
                        height,
                        match vote.typ {
                            VoteType::Prevote => Step::Prevote,
                            VoteType::Precommit => Step::Precommit,
                        },
                    ));
                    self.own_votes.push(signed.clone());
                }
                self.feed(Input::Vote(signed), now, fx);
            }
            Output::Decide(_, proposal) => {
                // The precommits that decided are those of the proposal's
                // round (the state machine's L49).
                let round = proposal.round;
                let value_id = proposal.value.id();
                let precommits: Vec<_> = self
                    .driver
                    .votes()
                    .per_round(round)
                    .map(|r| {
                        r.received_votes()
                            .iter()
                            .filter(|v| {
                                v.vote_type() == VoteType::Precommit
                                    && v.value() == &NilOrVal::Val(value_id)
                            })
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                let cert = mc::CommitCertificate::new(height, round, value_id, precommits);
                self.commit(proposal.value, cert, fx);
            }
        }
    }

    fn send_vote(&mut self, signed: &SignedVote<GontContext>, fx: &mut Effects) {
        match self.behavior {
            Behavior::Withhold => {}
            Behavior::Equivocate => {
                let mut other = signed.message.clone();
                other.value = match other.value {
                    NilOrVal::Val(_) => NilOrVal::Nil,
                    NilOrVal::Nil => NilOrVal::Val(ValueId {
                        block: gont_core::BlockId(self.rng.bytes32()),
                        time: Timestamp(self.genesis_ms),
                    }),
                };
                let signature = sign_vote(&self.ctx, &self.key, &other);
                fx.send.push((Dest::Half(true), Msg::Vote(signed.clone())));
                fx.send.push((
                    Dest::Half(false),
                    Msg::Vote(mc::SignedMessage::new(other, signature)),
                ));
            }
            Behavior::Honest | Behavior::Amnesia => {
                fx.send.push((Dest::All, Msg::Vote(signed.clone())));
            }
        }
    }

    /// Builds a block for `(height, round)`; `poison` builds one honest
    /// engines refuse (byzantine proposers only).
    fn build(&mut self, height: Height, round: Round, now: u64, poison: bool) -> Option<Value> {
        let mut txs = vec![RawTransaction(
            format!("tx h{} r{} v{}", height.0, round.as_i64(), self.index)
                .into_bytes()
                .into(),
        )];
        if poison {
            txs.push(RawTransaction(POISON.to_vec().into()));
        }
        let attributes = PayloadAttributes {
            timestamp: Timestamp(self.genesis_ms + now),
            proposer: self.address.0,
            fee_recipient: gont_core::Address::ZERO,
            validators_hash: self.schedule.set_at(height.0).hash(),
            evidence: Vec::new(),
            // The parent's commit, as a validator of the node carries it.
            last_commit: self.decided.last().and_then(|(_, cert)| {
                commit::to_core(cert, self.schedule.set_at(cert.height.0)).ok()
            }),
        };
        let parent = self.decided.last().map(|(v, _)| v.id().block);
        let block = self.engine.build_payload(parent, attributes, &txs).ok()?;
        Value::new(block).ok()
    }
}

fn forkchoice(id: ValueId) -> ForkchoiceState {
    ForkchoiceState {
        head: id.block,
        safe: id.block,
        finalized: id.block,
    }
}
