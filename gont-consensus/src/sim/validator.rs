//! One simulated validator: Malachite's round state machine
//! (`malachitebft-core-driver`) driven the way Malachite's consensus drives
//! it in parts-only mode, and the production driver's application side
//! ([`State`], `driver/app.rs`) answering everything Malachite's engine asks
//! the application: the value to propose and its parts, every received
//! part, the round's values when a round starts, the height's validator
//! set, a decision to record, execute and commit, and values for value
//! sync. Its clock is the simulation's, its engine the [`SimEngine`], its
//! decided-block store and proposals in memory that outlives a crash, as
//! the disk does; a WAL of driver inputs stands in for Malachite's.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use gont_core::DecidedStore;
use malachitebft_app_channel::app::streaming::StreamMessage;
use malachitebft_app_channel::app::types::PeerId;
use malachitebft_app_channel::app::types::sync::RawDecidedValue;
use malachitebft_core_driver::{Driver, Input, Output};
use malachitebft_core_types::{
    self as mc, Context as _, NilOrVal, Round, SignedVote, SigningProvider as _, ThresholdParams,
    Validity, Vote as _, VoteType,
};

use crate::commit::{self, MalachiteCommit};
use crate::context::{GontContext, select_proposer};
use crate::driver::app::DriverError;
use crate::driver::proposals::Remembered;
use crate::epoch::ValidatorSchedule;
use crate::evidence::{self, EvidenceDetector};
use crate::messages::ProposalPart;
use crate::signing::{PrivateKey, Signer, sign_vote, verify_vote};
use crate::types::{Address, Height, Value, ValueId};

use super::rng::Rng;

mod byzantine;
mod certificates;
mod durable;

pub use byzantine::Behavior;
use durable::{App, Chain, new_app};

/// A message between validators.
#[derive(Clone, Debug)]
pub(crate) enum Msg {
    /// A proposal part, by its gossip author (Malachite's proposal-parts
    /// channel: the author is not the sender, and anyone can make one).
    Part(PeerId, StreamMessage<ProposalPart>),
    /// A signed vote.
    Vote(SignedVote<GontContext>),
    /// A decided value with its commit (value sync's answer to a lagging
    /// peer).
    Decision(RawDecidedValue<GontContext>),
    /// Prevotes of more than two thirds for a value in a round: lets a
    /// validator accept a re-proposal even if it saw an equivocator's other
    /// prevote first (Malachite's liveness message).
    Polka(mc::PolkaCertificate<GontContext>),
    /// The votes that let a validator enter a round (precommits of any
    /// value in the round before, or a third of the power in a later
    /// one): Malachite publishes it on entering a round above 0 and at
    /// each rebroadcast, so that validators that missed those votes follow
    /// into the round.
    Round(mc::RoundCertificate<GontContext>),
}

impl Msg {
    /// The height a consensus message is of; parts go to the application
    /// whatever their height.
    fn height(&self) -> Option<Height> {
        match self {
            Self::Part(..) => None,
            Self::Vote(v) => Some(v.message.height),
            Self::Decision(d) => Some(d.certificate.height),
            Self::Polka(c) => Some(c.height),
            Self::Round(c) => Some(c.height),
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
    /// Heights decided, with the value and its commit.
    pub decided: Vec<(Height, Value, MalachiteCommit)>,
    /// Votes this node signed.
    pub signed_votes: Vec<mc::SignedVote<GontContext>>,
    /// Values proposed.
    pub proposed: Vec<Value>,
    /// Values this node's engine accepted.
    pub accepted: Vec<ValueId>,
    /// The step just completed, for crash plans.
    pub steps: Vec<(Height, Step)>,
    /// The node decided and starts its next height in a new event, after
    /// this many virtual milliseconds (the driver's pacing; also, a
    /// validator with a quorum of its own does not recurse).
    pub start_next: Option<u64>,
    /// The production driver failed (what stops a chain in a node).
    pub failed: Option<String>,
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

/// What a node is given by the simulation.
pub(crate) struct Setup {
    pub(crate) index: usize,
    pub(crate) behavior: Behavior,
    pub(crate) ctx: GontContext,
    pub(crate) key: PrivateKey,
    pub(crate) schedule: Arc<ValidatorSchedule>,
    /// Every node's gossip identity, by index.
    pub(crate) peers: Arc<Vec<PeerId>>,
    /// How far this node's clock is ahead of the simulation's, in ms.
    pub(crate) skew_ms: u64,
    pub(crate) seed: u64,
    /// Propose blocks as full as the chain allows.
    pub(crate) fill_blocks: bool,
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
    peers: Arc<Vec<PeerId>>,
    clock: Arc<AtomicU64>,
    skew_ms: u64,
    fill_blocks: bool,
    // Durable.
    pub(crate) decided: Vec<(Value, MalachiteCommit)>,
    chain: Chain,
    proposals: Remembered,
    wal: Vec<Input<GontContext>>,
    // Volatile.
    app: App,
    driver: Driver<GontContext>,
    future: Vec<(usize, Msg)>,
    seen: BTreeSet<[u8; 32]>,
    own_votes: Vec<SignedVote<GontContext>>,
    /// This node's proposal parts of the current round, re-sent at ticks.
    own_parts: Option<(Round, Vec<StreamMessage<ProposalPart>>)>,
    pub(crate) evidence: EvidenceDetector,
    replaying: bool,
    rng: Rng,
    /// The most proposal-stream bytes the driver held for peers.
    pub(crate) max_held: usize,
}

fn digest(msg: &Msg) -> [u8; 32] {
    let bytes = match msg {
        Msg::Part(author, p) => borsh::to_vec(&(0u8, author.to_bytes(), p)),
        Msg::Vote(v) => borsh::to_vec(&(1u8, v)),
        Msg::Decision(d) => borsh::to_vec(&(2u8, &d.certificate)),
        Msg::Polka(c) => borsh::to_vec(&(3u8, c)),
        Msg::Round(c) => borsh::to_vec(&(4u8, c)),
    };
    *blake3::hash(&bytes.unwrap_or_default()).as_bytes()
}

/// A gossip identity from a seed.
pub(crate) fn peer_id(seed: [u8; 32]) -> PeerId {
    let key = malachitebft_app_channel::app::types::Keypair::ed25519_from_bytes(seed)
        .unwrap_or_else(|e| super::unreachable_config(&e.to_string()));
    PeerId::from_bytes(&key.public().to_peer_id().to_bytes())
        .unwrap_or_else(|e| super::unreachable_config(&e.to_string()))
}

impl Node {
    pub(crate) fn new(setup: Setup) -> Self {
        let Setup {
            index,
            behavior,
            ctx,
            key,
            schedule,
            peers,
            skew_ms,
            seed,
            fill_blocks,
        } = setup;
        let address = Address(key.public_key().address());
        let clock = Arc::new(AtomicU64::new(super::SIM_GENESIS_MS + skew_ms));
        let chain = Chain::default();
        let proposals = Remembered::default();
        let app = new_app(
            &ctx,
            &key,
            &schedule,
            index,
            &chain,
            &proposals,
            &clock,
            None,
            fill_blocks,
        );
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
            evidence: EvidenceDetector::new(&ctx),
            ctx,
            key,
            address,
            schedule,
            peers,
            clock,
            skew_ms,
            fill_blocks,
            decided: Vec::new(),
            chain,
            proposals,
            wal: Vec::new(),
            app,
            driver,
            future: Vec::new(),
            seen: BTreeSet::new(),
            own_votes: Vec::new(),
            own_parts: None,
            replaying: false,
            rng: Rng::new(seed),
            max_held: 0,
        }
    }

    pub(crate) const fn address(&self) -> Address {
        self.address
    }

    pub(crate) fn describe(&self) -> String {
        format!(
            "{} {:?} alive={} h={} r={} step={:?} wal={} future={} held={} votes={:?}",
            self.index,
            self.behavior,
            self.alive,
            self.height(),
            self.driver.round(),
            self.driver.step(),
            self.wal.len(),
            self.future.len(),
            self.max_held,
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

    /// Sets this node's clock to the simulation's `now`.
    fn tick_clock(&self, now: u64) {
        self.clock.store(
            super::SIM_GENESIS_MS + self.skew_ms + now,
            Ordering::Relaxed,
        );
    }

    /// Records what the driver holds for peers after an event.
    fn measure(&mut self) {
        self.max_held = self.max_held.max(self.app.held_bytes());
    }

    /// The driver failed: the node stops, as a chain does.
    fn fail(&mut self, e: &DriverError, fx: &mut Effects) {
        if std::env::var_os("GONT_SIM_DEBUG").is_some() {
            eprintln!("node {} driver failed: {e}", self.index);
        }
        fx.failed = Some(e.to_string());
        self.alive = false;
    }

    /// Starts the current height (at boot, after a decision, after a restart).
    pub(crate) fn start_height(&mut self, now: u64, fx: &mut Effects) {
        self.tick_clock(now);
        let height = self.height();
        let set = match self.app.enter(height) {
            Ok(set) => set,
            Err(e) => return self.fail(&e, fx),
        };
        self.driver.move_to_height(height, set);
        self.own_votes.clear();
        self.own_parts = None;
        self.evidence.prune_below(height);
        self.new_round(height, Round::new(0), now, fx);
        let future = std::mem::take(&mut self.future);
        for (from, msg) in future {
            self.receive(from, msg, now, fx);
        }
    }

    /// Enters `(height, round)`: the driver, then the application, whose
    /// values of the round (kept before a restart, held while untimely)
    /// become proposals.
    fn new_round(&mut self, height: Height, round: Round, now: u64, fx: &mut Effects) {
        let proposer = self.proposer(height, round);
        if round > Round::new(0) && !self.replaying {
            self.send_round_certificate(round, fx);
        }
        self.feed(Input::NewRound(height, round, proposer), now, fx);
        if !self.alive || self.replaying {
            return;
        }
        match self.app.started_round(height, round) {
            Ok(values) => {
                for value in values {
                    self.proposed_value(value, now, fx);
                }
            }
            Err(e) => self.fail(&e, fx),
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
        self.own_parts = None;
        self.evidence = EvidenceDetector::new(&self.ctx);
    }

    /// Restarts from the durable state, as `driver::start` does: the
    /// engine at its committed head, a new driver state over the same
    /// store and proposals, recorded decisions finished; then the WAL is
    /// replayed into a fresh round state machine.
    pub(crate) fn restart(&mut self, now: u64, fx: &mut Effects) {
        self.alive = true;
        self.tick_clock(now);
        self.app = new_app(
            &self.ctx,
            &self.key,
            &self.schedule,
            self.index,
            &self.chain,
            &self.proposals,
            &self.clock,
            Some(self.chain.committed_blocks()),
            self.fill_blocks,
        );
        if let Err(e) = self.app.finish_recorded_decisions() {
            return self.fail(&e, fx);
        }
        let height = self.height();
        let set = match self.app.enter(height) {
            Ok(set) => set,
            Err(e) => return self.fail(&e, fx),
        };
        self.driver = Driver::new(
            self.ctx.clone(),
            height,
            set,
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
            if let Input::Proposal(p, _) = &input
                && p.message.validator_address == self.address
            {
                let m = &p.message;
                let parts = self.app.parts(&m.value, m.height, m.round, m.pol_round);
                self.own_parts = Some((m.round, parts));
            }
            self.feed(input, now, &mut scratch);
        }
        self.replaying = false;
        let round = self.driver.round();
        match self.app.started_round(height, round) {
            Ok(values) => {
                for value in values {
                    self.proposed_value(value, now, fx);
                }
            }
            Err(e) => return self.fail(&e, fx),
        }
        let kind = if self.driver.step_is_propose() {
            mc::TimeoutKind::Propose
        } else if self.driver.step_is_prevote() {
            mc::TimeoutKind::Prevote
        } else {
            mc::TimeoutKind::Precommit
        };
        fx.timeouts.push((height, mc::Timeout::new(round, kind)));
        self.rebroadcast(now, fx);
    }

    /// Re-sends this node's current votes and proposal (gossip's
    /// delivery, modelled), and a flooder's flood.
    pub(crate) fn rebroadcast(&mut self, now: u64, fx: &mut Effects) {
        self.tick_clock(now);
        if self.behavior == Behavior::Flood {
            self.flood(fx);
        }
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
        self.send_round_certificate(round, fx);
        if let Some((r, parts)) = &self.own_parts
            && *r == round
        {
            let me = self.peer();
            for part in parts {
                fx.send.push((Dest::All, Msg::Part(me, part.clone())));
            }
        }
    }

    /// The certificate that let this node enter `round`, if it has one.
    fn send_round_certificate(&self, round: Round, fx: &mut Effects) {
        if self.behavior == Behavior::Withhold {
            return;
        }
        if let Some(cert) = self.driver.round_certificate()
            && cert.enter_round == round
        {
            fx.send
                .push((Dest::All, Msg::Round(cert.certificate.clone())));
        }
    }

    fn peer(&self) -> PeerId {
        self.peers
            .get(self.index)
            .copied()
            .unwrap_or_else(|| peer_id([0; 32]))
    }

    /// A timeout fired.
    pub(crate) fn timeout(
        &mut self,
        height: Height,
        timeout: mc::Timeout,
        now: u64,
        fx: &mut Effects,
    ) {
        self.tick_clock(now);
        if height == self.height() {
            self.feed(Input::TimeoutElapsed(timeout), now, fx);
        }
    }

    /// A message arrived from `from` (`usize::MAX`: replayed from the buffer).
    pub(crate) fn receive(&mut self, from: usize, msg: Msg, now: u64, fx: &mut Effects) {
        self.tick_clock(now);
        let height = self.height();
        let Some(msg_height) = msg.height() else {
            if let Msg::Part(author, part) = msg {
                self.on_part(author, part, now, fx);
            }
            return;
        };
        if msg_height < height {
            // The sender lags: value sync sends it the decision of its
            // height, as the driver answers `GetDecidedValue`.
            if from != usize::MAX
                && !matches!(msg, Msg::Decision(..))
                && let Ok(Some(raw)) = self.app.decided_value(msg_height)
            {
                fx.send.push((Dest::One(from), Msg::Decision(raw)));
            }
            return;
        }
        // Between a decision and the start of the next height (a separate
        // event), the driver is still at the old height: keep the message.
        if msg_height > height || self.driver.height() != height {
            if self.future.len() < 4096 {
                self.future.push((from, msg));
            }
            return;
        }
        if !self.seen.insert(digest(&msg)) {
            return;
        }
        match msg {
            Msg::Vote(v) => self.on_vote(v, now, fx),
            Msg::Decision(raw) => self.on_decision(raw, fx),
            Msg::Polka(cert) => self.on_polka(cert, now, fx),
            Msg::Round(cert) => self.on_round_certificate(cert, now, fx),
            Msg::Part(..) => {}
        }
    }

    fn on_part(
        &mut self,
        author: PeerId,
        part: StreamMessage<ProposalPart>,
        now: u64,
        fx: &mut Effects,
    ) {
        let answer = self.app.received_part(author, part);
        self.measure();
        match answer {
            Ok(Some(value)) => self.proposed_value(value, now, fx),
            Ok(None) => {}
            Err(e) => self.fail(&e, fx),
        }
    }

    /// A value the application answered (a checked stream, a value kept
    /// or held, a synced value): in parts-only mode Malachite makes it a
    /// proposal of the round's proposer, signed with this node's own key,
    /// and gives the round state machine that proposal with its validity.
    fn proposed_value(
        &mut self,
        value: malachitebft_app_channel::app::types::ProposedValue<GontContext>,
        now: u64,
        fx: &mut Effects,
    ) {
        if value.height != self.height() || self.driver.height() != value.height {
            return;
        }
        let valid = value.validity.is_valid();
        if valid {
            fx.accepted.push(value.value.id());
        }
        if self.behavior == Behavior::Amnesia && valid && value.round == self.driver.round() {
            // Ignore any lock: prevote what is proposed.
            let vote = crate::messages::Vote::new(
                VoteType::Prevote,
                value.height,
                value.round,
                NilOrVal::Val(value.value.id()),
                self.address,
            );
            let signature = sign_vote(&self.ctx, &self.key, &vote);
            fx.send.push((
                Dest::All,
                Msg::Vote(mc::SignedMessage::new(vote, signature)),
            ));
        }
        let proposal = self.ctx.new_proposal(
            value.height,
            value.round,
            value.value,
            value.valid_round,
            value.proposer,
        );
        let signed = self.signer.sign_proposal(proposal);
        self.feed(Input::Proposal(signed, value.validity), now, fx);
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
        // The vote tap: the driver's evidence pool, which this node's
        // proposals carry, and the late precommits of the last commit.
        self.app.observe_vote(v.clone());
        self.feed(Input::Vote(v), now, fx);
    }

    /// Value sync's answer, handled as Malachite does: the commit checked
    /// with the height's set (`GetValidatorSet`), the value given to the
    /// application (`ProcessSyncedValue`), and decided if it is valid.
    fn on_decision(&mut self, raw: RawDecidedValue<GontContext>, fx: &mut Effects) {
        let cert = raw.certificate;
        let height = cert.height;
        let set = match self.app.set_for_consensus(height) {
            Ok(Some(set)) => set,
            Ok(None) => return,
            Err(e) => return self.fail(&e, fx),
        };
        if commit::verify(&self.ctx, &cert, &set).is_err() {
            return;
        }
        let named = select_proposer(&set, height, cert.round).address();
        match self
            .app
            .synced_value(height, cert.round, named, &raw.value_bytes)
        {
            Ok(Some(value)) if value.validity.is_valid() && value.value.id() == cert.value_id => {
                fx.accepted.push(cert.value_id);
                self.commit(cert, fx);
            }
            Ok(_) => {}
            Err(e) => self.fail(&e, fx),
        }
    }

    /// Malachite's `Decided`: the driver records, executes and commits;
    /// the next height starts after its pacing.
    fn commit(&mut self, cert: MalachiteCommit, fx: &mut Effects) {
        let height = self.height();
        if let Err(e) = self.app.decided(&cert) {
            return self.fail(&e, fx);
        }
        let block = match self.chain.decided(height.to_core()) {
            Ok(Some(decided)) => decided.block,
            _ => return,
        };
        let Ok(value) = Value::new(block) else {
            return;
        };
        fx.decided.push((height, value.clone(), cert.clone()));
        fx.steps.push((height, Step::Commit));
        let pacing = self.app.pacing(cert.value_id.time);
        // The decision and the WAL's reset are one durable write.
        self.decided.push((value, cert));
        self.wal.clear();
        fx.start_next = Some(u64::try_from(pacing.as_millis()).unwrap_or(u64::MAX));
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
            Output::NewRound(h, round) => self.new_round(h, round, now, fx),
            Output::ScheduleTimeout(t) => fx.timeouts.push((height, t)),
            Output::GetValue(h, round, _) => self.get_value(h, round, now, fx),
            Output::Propose(proposal) => {
                // A value proposed again with its polka round: Malachite
                // asks the application to stream it again.
                if proposal.pol_round != Round::Nil {
                    let parts = self.app.restream(
                        proposal.height,
                        proposal.round,
                        proposal.pol_round,
                        proposal.value.id(),
                    );
                    self.send_parts(Dest::All, &parts, fx);
                    self.own_parts = Some((proposal.round, parts));
                }
                fx.proposed.push(proposal.value.clone());
                // Built or validated by this node's own engine.
                fx.accepted.push(proposal.value.id());
                fx.steps.push((height, Step::Propose));
                let signed = self.signer.sign_proposal(proposal);
                self.feed(Input::Proposal(signed, Validity::Valid), now, fx);
            }
            Output::Vote(vote) => {
                let signed = self.signer.sign_vote(vote.clone());
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
                self.commit(cert, fx);
            }
        }
    }
}
