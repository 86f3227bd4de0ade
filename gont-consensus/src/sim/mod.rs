//! A deterministic, seeded simulation of one chain's consensus, in process,
//! with virtual time, over the production driver.
//!
//! Each validator runs Malachite's round state machine
//! (`malachitebft-core-driver`, the core Malachite's consensus wraps) as
//! Malachite's consensus drives it in parts-only mode, and the production
//! driver's application side (`driver::app::State`) answers every request
//! Malachite's engine makes of the application: values to propose and
//! their parts, received parts (reassembly, admission, budgets, signature
//! and proposer checks, equivocation evidence, blocks ahead of the clock),
//! the values of a round that starts, each height's validator set,
//! decisions (recorded, executed, committed, paced), value sync. Real
//! ed25519 signatures, the [`engine::SimEngine`], a decided-block store and
//! proposals in memory that outlives a crash, a virtual clock per node. The
//! simulator owns the clock and the network: one ordered event queue keyed
//! by (virtual time, sequence number), a seeded [`rng::Rng`] for delays,
//! drops, duplicates and reordering, crashes and restarts from each node's
//! durable state (the store, the proposals and a write-ahead log of the
//! round state machine's inputs), and byzantine [`Behavior`]s. What is not
//! run is Malachite's actor glue, its libp2p network and its value-sync
//! actor: they are tokio actors on real time and sockets, so a seed could
//! not replay.
//!
//! [`run`] checks, for one seed: agreement among honest validators,
//! validity (every decided value was proposed and accepted by an honest
//! engine), that no honest validator signs two different votes for one
//! height, round and type (across restarts), that no honest driver fails,
//! that the stream bytes a driver holds for peers stay within its budget,
//! liveness after the network stabilises, and no progress when a third or
//! more of the power withholds.

pub mod engine;
pub mod rng;
mod validator;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use gont_core::{ChainId, ConsensusParams, DecidedBlock, Timeouts, VotingPower};
use malachitebft_core_types::{self as mc, NilOrVal};

use crate::commit::{self, MalachiteCommit};
use crate::context::GontContext;
use crate::epoch::{PowerChange, ValidatorSchedule};
use crate::signing::PrivateKey;
use crate::types::{Height, Value, ValueId};
use crate::validators::ValidatorSet;

use rng::Rng;
pub use validator::{Behavior, Step};
use validator::{Dest, Effects, Msg, Node, Setup};

/// The fault mixes a seed can draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultMix {
    /// A perfect network, no faults.
    Clean,
    /// Drops, duplicates, delays and reordering until stabilisation.
    Lossy,
    /// Validators crash and restart from disk before stabilisation.
    Crashes,
    /// Byzantine validators (< 1/3 of the power) equivocate.
    Equivocators,
    /// Byzantine validators (< 1/3) withhold their votes.
    Withholders,
    /// Byzantine validators (< 1/3) ignore their locks.
    Amnesia,
    /// All of the above at once, byzantine power still < 1/3.
    Mixed,
    /// At least 1/3 of the power withholds: nothing may be decided.
    Stalled,
    /// Byzantine validators (< 1/3) stream several signed blocks per
    /// round they propose and flood every peer with proposal parts from
    /// fresh identities and keys and for later heights and rounds.
    Flood,
    /// Honest validators (< 1/3 of the power) whose clocks run 1 to 30 s
    /// ahead: their blocks are untimely for the others.
    Skew,
}

impl FaultMix {
    /// Every mix, in the order seeds cycle through them.
    pub const ALL: [Self; 10] = [
        Self::Clean,
        Self::Lossy,
        Self::Crashes,
        Self::Equivocators,
        Self::Withholders,
        Self::Amnesia,
        Self::Mixed,
        Self::Stalled,
        Self::Flood,
        Self::Skew,
    ];
}

/// A crash planned right after a validator completes a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrashPlan {
    /// The validator.
    pub node: usize,
    /// The height.
    pub height: u64,
    /// The step after which it crashes.
    pub step: Step,
    /// Virtual milliseconds until it restarts.
    pub downtime_ms: u64,
}

/// What one run simulates.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The seed every random choice derives from.
    pub seed: u64,
    /// The number of validators.
    pub validators: usize,
    /// The fault mix.
    pub mix: FaultMix,
    /// Heights every honest validator must decide.
    pub heights: u64,
    /// Virtual time at which the network stabilises (no drops, bounded delay).
    pub gst_ms: u64,
    /// Largest one-way delay after stabilisation.
    pub max_delay_ms: u64,
    /// Bound on the virtual time one height may take after stabilisation.
    pub liveness_bound_ms: u64,
    /// Equal power for every validator (otherwise random 1..=100).
    pub equal_power: bool,
    /// Crashes at exact steps.
    pub crash_plans: Vec<CrashPlan>,
    /// Epochs of this many heights, at whose ends honest validators gain
    /// power (the set changes, never in favour of the byzantine ones);
    /// `None`: the genesis set decides every height.
    pub epoch_length: Option<u64>,
    /// Each proposal's transactions, in bytes (1 KiB transactions of no
    /// meaning to the simulated engine): the chain's `max_block_bytes`
    /// becomes this. `None`: one short transaction a block.
    pub block_bytes: Option<u64>,
}

impl SimConfig {
    /// The configuration seed `seed` draws: the mix cycles with the seed,
    /// the rest is random.
    pub fn for_seed(seed: u64) -> Self {
        let mut rng = Rng::new(seed ^ 0x5EED_F0C0_DE00);
        let mix = FaultMix::ALL
            .get(usize::try_from(seed % FaultMix::ALL.len() as u64).unwrap_or(0))
            .copied()
            .unwrap_or(FaultMix::Clean);
        let validators = match rng.below(20) {
            0 => 64,
            1..=2 => 32,
            3..=5 => 16,
            _ => usize::try_from(rng.range(4, 10)).unwrap_or(4),
        };
        Self {
            seed,
            validators,
            mix,
            heights: if validators > 16 { 3 } else { 6 },
            gst_ms: if mix == FaultMix::Clean {
                0
            } else {
                rng.range(500, 4_000)
            },
            max_delay_ms: rng.range(1, 40),
            liveness_bound_ms: 10_000,
            equal_power: rng.chance(300),
            crash_plans: Vec::new(),
            // Half the runs change sets, except where a stall is asserted.
            epoch_length: (mix != FaultMix::Stalled && rng.chance(500)).then(|| rng.range(1, 3)),
            block_bytes: None,
        }
    }
}

/// What went wrong in a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// Two honest validators decided different values at one height.
    Agreement {
        /// The height.
        height: u64,
    },
    /// A decided value was never proposed or never accepted by an engine.
    Validity {
        /// The height.
        height: u64,
    },
    /// An honest validator signed two different votes for one slot.
    DoubleSign {
        /// The validator.
        node: usize,
        /// The height.
        height: u64,
    },
    /// Evidence was produced against an honest validator.
    FalseEvidence {
        /// The validator.
        node: usize,
    },
    /// A commit did not verify against the set.
    BadCommit {
        /// The height.
        height: u64,
    },
    /// Honest validators did not decide in time after stabilisation.
    Liveness {
        /// The lowest honest height reached.
        reached: u64,
    },
    /// Something was decided while a third or more of the power withheld.
    ProgressWhileStalled {
        /// The height decided.
        height: u64,
    },
    /// An honest validator's driver failed (in a node, its chain stops).
    DriverFailed {
        /// The validator.
        node: usize,
        /// The driver's error.
        error: String,
    },
    /// A driver held more bytes of peers' proposal streams than its budget.
    Memory {
        /// The validator.
        node: usize,
        /// The bytes held.
        held: usize,
    },
}

/// The outcome of one run.
#[derive(Clone, Debug)]
pub struct SimReport {
    /// The configuration that ran.
    pub config: SimConfig,
    /// Problems found; empty when every check held.
    pub violations: Vec<Violation>,
    /// Heights decided by every honest validator.
    pub heights_decided: u64,
    /// Validator-set changes among the heights decided (heights whose set
    /// is not the previous height's).
    pub set_changes: u64,
    /// The longest virtual time between two consecutive first decisions
    /// (from the start for height 1), stabilisation included.
    pub slowest_height_ms: u64,
    /// Virtual time at the end.
    pub virtual_ms: u64,
    /// Messages delivered.
    pub messages: u64,
    /// Crashes that happened.
    pub crashes: u64,
    /// Double-vote evidence found against byzantine validators.
    pub evidence: usize,
    /// The decided chain, as the first honest validator stored it, with the
    /// validator set of each height.
    pub chain: Vec<(DecidedBlock, ValidatorSet)>,
    /// The chain's context.
    pub context: GontContext,
    /// Virtual time of each height's first decision.
    pub decided_at_ms: Vec<u64>,
    /// Each validator at the end: behaviour, liveness, height, round, step.
    pub final_states: Vec<String>,
    /// The most bytes of peers' proposal streams any node's driver held.
    pub max_held_bytes: usize,
}

enum Event {
    Deliver {
        to: usize,
        from: usize,
        msg: Msg,
    },
    Timeout {
        node: usize,
        incarnation: u64,
        height: Height,
        timeout: mc::Timeout,
    },
    Tick {
        node: usize,
        incarnation: u64,
    },
    Crash {
        node: usize,
        downtime_ms: u64,
    },
    Restart {
        node: usize,
    },
    Start {
        node: usize,
        incarnation: u64,
    },
}

/// The genesis time of every simulated chain (2026-01-01T00:00:00Z).
pub const SIM_GENESIS_MS: u64 = 1_767_225_600_000;

/// The consensus parameters of a simulated chain: short timeouts and
/// blocks, and a block size that makes the drivers' stream budgets small
/// enough for a flood to reach.
pub fn sim_params() -> ConsensusParams {
    ConsensusParams {
        target_block_time_ms: 200,
        timeouts: Timeouts {
            propose_ms: 300,
            prevote_ms: 100,
            precommit_ms: 100,
        },
        max_block_bytes: 64 * 1024,
        ..ConsensusParams::default()
    }
}

/// The most bytes of peers' streams a driver of a simulated chain may
/// hold: its budgets for incomplete streams and streams of later heights
/// (`driver::app`).
pub fn held_bytes_bound() -> usize {
    crate::driver::app::held_bytes_budget(&sim_params())
}

/// The chain id of simulated chains.
pub const SIM_CHAIN_ID: ChainId = ChainId(777);

struct Sim {
    cfg: SimConfig,
    rng: Rng,
    now: u64,
    seq: u64,
    queue: BTreeMap<(u64, u64), Event>,
    nodes: Vec<Node>,
    schedule: Arc<ValidatorSchedule>,
    ctx: GontContext,
    honest: Vec<bool>,
    lossy_until: u64,
    messages: u64,
    crashes: u64,
    // Checks.
    first_decision: BTreeMap<u64, (ValueId, u64)>,
    proposed: BTreeSet<ValueId>,
    accepted: BTreeSet<ValueId>,
    votes_signed: BTreeMap<(usize, u64, i64, u8), NilOrVal<ValueId>>,
    violations: Vec<Violation>,
    crash_plans: Vec<CrashPlan>,
}

/// Runs one simulation.
pub fn run(cfg: &SimConfig) -> SimReport {
    let mut sim = Sim::new(cfg.clone());
    sim.run();
    sim.report()
}

impl Sim {
    fn new(cfg: SimConfig) -> Self {
        let mut rng = Rng::new(cfg.seed);
        let keys: Vec<PrivateKey> = (0..cfg.validators)
            .map(|_| PrivateKey::from_seed(rng.bytes32()))
            .collect();
        let members: Vec<gont_core::Validator> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| gont_core::Validator {
                consensus_key: k.public_key(),
                operator: gont_core::Address::with_last_byte(u8::try_from(i % 256).unwrap_or(0)),
                power: VotingPower(if cfg.equal_power {
                    10
                } else {
                    rng.range(1, 100)
                }),
            })
            .collect();
        // Distinct operators for up to 256 validators.
        let set = match gont_core::ValidatorSet::new(members) {
            Ok(s) => ValidatorSet::new(s),
            Err(e) => unreachable_config(&e.to_string()),
        };
        let mut params = sim_params();
        if let Some(bytes) = cfg.block_bytes {
            params.max_block_bytes = bytes;
        }
        let ctx = match GontContext::new(SIM_CHAIN_ID, params) {
            Ok(c) => c,
            Err(e) => unreachable_config(&e.to_string()),
        };
        let behaviors = choose_behaviors(&cfg, &keys, &set, &mut rng);
        let skews = choose_skews(&cfg, &keys, &set, &mut rng);
        let honest: Vec<bool> = behaviors.iter().map(|b| *b == Behavior::Honest).collect();
        let schedule = Arc::new(schedule(&cfg, set, &keys, &honest, &mut rng));
        let peers: Arc<Vec<_>> = Arc::new(
            (0..keys.len())
                .map(|i| validator::peer_id(*blake3::hash(&(i as u64).to_le_bytes()).as_bytes()))
                .collect(),
        );
        let nodes: Vec<Node> = keys
            .into_iter()
            .zip(behaviors.iter().zip(&skews))
            .enumerate()
            .map(|(index, (key, (behavior, skew_ms)))| {
                Node::new(Setup {
                    index,
                    behavior: *behavior,
                    ctx: ctx.clone(),
                    key,
                    schedule: schedule.clone(),
                    peers: peers.clone(),
                    skew_ms: *skew_ms,
                    seed: rng.next_u64(),
                    fill_blocks: cfg.block_bytes.is_some(),
                })
            })
            .collect();
        let lossy_until = cfg.gst_ms;
        let crash_plans = cfg.crash_plans.clone();
        let mut sim = Self {
            cfg,
            rng,
            now: 0,
            seq: 0,
            queue: BTreeMap::new(),
            nodes,
            schedule,
            ctx,
            honest,
            lossy_until,
            messages: 0,
            crashes: 0,
            first_decision: BTreeMap::new(),
            proposed: BTreeSet::new(),
            accepted: BTreeSet::new(),
            votes_signed: BTreeMap::new(),
            violations: Vec::new(),
            crash_plans,
        };
        sim.schedule_crashes();
        sim
    }

    fn schedule_crashes(&mut self) {
        if !matches!(self.cfg.mix, FaultMix::Crashes | FaultMix::Mixed) {
            return;
        }
        let n = self.nodes.len() as u64;
        let crashes = self.rng.range(1, n.max(2));
        for _ in 0..crashes {
            let node = usize::try_from(self.rng.below(n)).unwrap_or(0);
            let at = self.rng.below(self.cfg.gst_ms.max(1));
            let downtime_ms = self.rng.range(10, 1_500);
            self.push(at, Event::Crash { node, downtime_ms });
        }
    }

    fn push(&mut self, at: u64, event: Event) {
        self.seq += 1;
        self.queue.insert((at, self.seq), event);
    }

    fn run(&mut self) {
        for i in 0..self.nodes.len() {
            let mut fx = Effects::default();
            if let Some(node) = self.nodes.get_mut(i) {
                node.start_height(0, &mut fx);
            }
            self.apply(i, fx);
            let tick = self.tick_ms();
            self.push(
                tick,
                Event::Tick {
                    node: i,
                    incarnation: 0,
                },
            );
        }
        let deadline = self.deadline();
        while let Some(((at, _), event)) = self.queue.pop_first() {
            if at > deadline || self.done() {
                break;
            }
            self.now = at;
            self.step(event);
        }
    }

    fn tick_ms(&self) -> u64 {
        let t = self.ctx.params().timeouts;
        t.propose_ms + t.prevote_ms + t.precommit_ms
    }

    fn deadline(&self) -> u64 {
        if self.cfg.mix == FaultMix::Stalled {
            return self.cfg.gst_ms + 20_000;
        }
        self.cfg.gst_ms + self.cfg.heights * self.cfg.liveness_bound_ms
    }

    fn done(&self) -> bool {
        self.cfg.mix != FaultMix::Stalled && self.min_honest_height() > self.cfg.heights
    }

    fn min_honest_height(&self) -> u64 {
        self.nodes
            .iter()
            .zip(&self.honest)
            .filter(|(_, h)| **h)
            .map(|(n, _)| n.height().0)
            .min()
            .unwrap_or(0)
    }

    /// Runs `f` on node `i` if it is up and still in `incarnation` (events
    /// of an earlier life are stale), then applies its effects. Returns
    /// whether it ran.
    fn with_live_node(
        &mut self,
        i: usize,
        incarnation: u64,
        f: impl FnOnce(&mut Node, &mut Effects),
    ) -> bool {
        let mut fx = Effects::default();
        let Some(node) = self.nodes.get_mut(i) else {
            return false;
        };
        if !node.alive || node.incarnation != incarnation {
            return false;
        }
        f(node, &mut fx);
        self.apply(i, fx);
        true
    }

    fn step(&mut self, event: Event) {
        let now = self.now;
        match event {
            Event::Deliver { to, from, msg } => {
                let mut fx = Effects::default();
                let Some(node) = self.nodes.get_mut(to) else {
                    return;
                };
                if !node.alive {
                    return;
                }
                self.messages += 1;
                node.receive(from, msg, now, &mut fx);
                self.apply(to, fx);
            }
            Event::Timeout {
                node: i,
                incarnation,
                height,
                timeout,
            } => {
                self.with_live_node(i, incarnation, |node, fx| {
                    node.timeout(height, timeout, now, fx);
                });
            }
            Event::Tick {
                node: i,
                incarnation,
            } => {
                if !self.with_live_node(i, incarnation, |node, fx| node.rebroadcast(now, fx)) {
                    return;
                }
                let tick = self.tick_ms();
                self.push(
                    now + tick,
                    Event::Tick {
                        node: i,
                        incarnation,
                    },
                );
            }
            Event::Crash {
                node: i,
                downtime_ms,
            } => {
                let Some(node) = self.nodes.get_mut(i) else {
                    return;
                };
                if !node.alive {
                    return;
                }
                node.crash();
                self.crashes += 1;
                if std::env::var_os("GONT_SIM_DEBUG").is_some() {
                    eprintln!("crash {i} at {now}: {}", node.describe());
                }
                self.push(now + downtime_ms, Event::Restart { node: i });
            }
            Event::Start {
                node: i,
                incarnation,
            } => {
                self.with_live_node(i, incarnation, |node, fx| node.start_height(now, fx));
            }
            Event::Restart { node: i } => {
                let mut fx = Effects::default();
                let Some(node) = self.nodes.get_mut(i) else {
                    return;
                };
                node.restart(now, &mut fx);
                let incarnation = node.incarnation;
                self.apply(i, fx);
                let tick = self.tick_ms();
                self.push(
                    now + tick,
                    Event::Tick {
                        node: i,
                        incarnation,
                    },
                );
            }
        }
    }

    /// Carries out a node's effects and records what the checks need.
    fn apply(&mut self, from: usize, fx: Effects) {
        let honest = self.honest.get(from).copied().unwrap_or(false);
        let incarnation = self.nodes.get(from).map_or(0, |n| n.incarnation);
        if let Some(after) = fx.start_next {
            self.push(
                self.now + after,
                Event::Start {
                    node: from,
                    incarnation,
                },
            );
        }
        if let Some(error) = fx.failed
            && honest
        {
            self.violations
                .push(Violation::DriverFailed { node: from, error });
        }
        for v in fx.proposed {
            self.proposed.insert(v.id());
        }
        if honest {
            self.accepted.extend(fx.accepted);
        }
        for v in &fx.signed_votes {
            let m = &v.message;
            let slot = (from, m.height.0, m.round.as_i64(), m.typ as u8);
            match self.votes_signed.get(&slot) {
                Some(prev) if honest && *prev != m.value => {
                    if std::env::var_os("GONT_SIM_DEBUG").is_some() {
                        eprintln!(
                            "double sign by {from} at {} r{} {:?}: {prev:?} then {:?} (t={})",
                            m.height.0,
                            m.round.as_i64(),
                            m.typ,
                            m.value,
                            self.now
                        );
                    }
                    self.violations.push(Violation::DoubleSign {
                        node: from,
                        height: m.height.0,
                    });
                }
                Some(_) => {}
                None => {
                    self.votes_signed.insert(slot, m.value);
                }
            }
        }
        for (height, value, cert) in fx.decided {
            if !honest {
                continue;
            }
            if let Err(e) = commit::verify(&self.ctx, &cert, self.schedule.set_at(height.0)) {
                if std::env::var_os("GONT_SIM_DEBUG").is_some() {
                    eprintln!("bad commit by {from} at {}: {e}", height.0);
                }
                self.violations
                    .push(Violation::BadCommit { height: height.0 });
            }
            match self.first_decision.get(&height.0) {
                Some((id, _)) if *id != value.id() => {
                    self.violations
                        .push(Violation::Agreement { height: height.0 });
                }
                Some(_) => {}
                None => {
                    self.first_decision.insert(height.0, (value.id(), self.now));
                }
            }
        }
        for (height, timeout) in fx.timeouts {
            let at = self.now
                + u64::try_from(self.ctx.timeouts().duration(timeout).as_millis())
                    .unwrap_or(u64::MAX / 2);
            self.push(
                at,
                Event::Timeout {
                    node: from,
                    incarnation,
                    height,
                    timeout,
                },
            );
        }
        for (height, step) in fx.steps {
            if let Some(pos) = self
                .crash_plans
                .iter()
                .position(|p| p.node == from && p.height == height.0 && p.step == step)
            {
                let plan = self.crash_plans.remove(pos);
                self.push(
                    self.now,
                    Event::Crash {
                        node: from,
                        downtime_ms: plan.downtime_ms,
                    },
                );
            }
        }
        for (dest, msg) in fx.send {
            let n = self.nodes.len();
            for to in 0..n {
                let send = match dest {
                    Dest::All => to != from,
                    Dest::Half(even) => to != from && (to % 2 == 0) == even,
                    Dest::One(i) => to == i,
                };
                if send {
                    self.transmit(from, to, &msg);
                }
            }
        }
    }

    fn transmit(&mut self, from: usize, to: usize, msg: &Msg) {
        let lossy = self.now < self.lossy_until
            && matches!(self.cfg.mix, FaultMix::Lossy | FaultMix::Mixed);
        let copies = if lossy {
            if self.rng.chance(200) {
                0
            } else if self.rng.chance(100) {
                2
            } else {
                1
            }
        } else {
            1
        };
        for _ in 0..copies {
            let delay = if lossy {
                self.rng.range(0, self.cfg.max_delay_ms * 10)
            } else {
                self.rng.range(0, self.cfg.max_delay_ms)
            };
            self.push(
                self.now + delay,
                Event::Deliver {
                    to,
                    from,
                    msg: msg.clone(),
                },
            );
        }
    }

    fn report(mut self) -> SimReport {
        let heights_decided = self.min_honest_height().saturating_sub(1);
        // Validity.
        for (h, (id, _)) in &self.first_decision {
            if !self.proposed.contains(id) || !self.accepted.contains(id) {
                self.violations.push(Violation::Validity { height: *h });
            }
        }
        // Evidence only against byzantine validators.
        let mut evidence = BTreeSet::new();
        for (i, node) in self.nodes.iter().enumerate() {
            if !self.honest.get(i).copied().unwrap_or(false) {
                continue;
            }
            for e in node.evidence.found() {
                let offender = self
                    .nodes
                    .iter()
                    .position(|n| n.address().0 == e.offender());
                match offender {
                    Some(idx) if !self.honest.get(idx).copied().unwrap_or(true) => {
                        let set = self.schedule.set_at(e.height().0);
                        if e.verify(self.ctx.chain_id(), set.core()).is_ok() {
                            let round = match e {
                                gont_core::Evidence::DuplicateVote(d) => d.round,
                                gont_core::Evidence::DuplicateProposal(d) => d.round,
                            };
                            evidence.insert((idx, e.height(), round));
                        }
                    }
                    _ => {
                        let v = Violation::FalseEvidence {
                            node: offender.unwrap_or(usize::MAX),
                        };
                        if !self.violations.contains(&v) {
                            self.violations.push(v);
                        }
                    }
                }
            }
        }
        if self.cfg.mix == FaultMix::Stalled {
            if let Some((h, _)) = self.first_decision.first_key_value() {
                self.violations
                    .push(Violation::ProgressWhileStalled { height: *h });
            }
        } else if heights_decided < self.cfg.heights {
            self.violations.push(Violation::Liveness {
                reached: heights_decided + 1,
            });
        }
        let decided_at_ms: Vec<u64> = self.first_decision.values().map(|(_, t)| *t).collect();
        let mut slowest = 0;
        let mut prev = 0;
        for t in &decided_at_ms {
            slowest = slowest.max(t.saturating_sub(prev));
            prev = *t;
        }
        let chain = self
            .nodes
            .iter()
            .zip(&self.honest)
            .find(|(_, h)| **h)
            .map(|(n, _)| {
                n.decided
                    .iter()
                    .filter_map(|(v, c)| decided_block(v, c, self.schedule.set_at(c.height.0)))
                    .collect()
            })
            .unwrap_or_default();
        let final_states = self.nodes.iter().map(Node::describe).collect();
        let max_held_bytes = self.nodes.iter().map(|n| n.max_held).max().unwrap_or(0);
        for (node, n) in self.nodes.iter().enumerate() {
            if n.max_held > held_bytes_bound() {
                self.violations.push(Violation::Memory {
                    node,
                    held: n.max_held,
                });
            }
        }
        let set_changes = (2..=heights_decided)
            .filter(|&h| self.schedule.set_at(h) != self.schedule.set_at(h - 1))
            .count() as u64;
        SimReport {
            max_held_bytes,
            set_changes,
            final_states,
            heights_decided,
            slowest_height_ms: slowest,
            virtual_ms: self.now,
            messages: self.messages,
            crashes: self.crashes,
            evidence: evidence.len(),
            chain,
            context: self.ctx,
            decided_at_ms,
            violations: self.violations,
            config: self.cfg,
        }
    }
}

fn decided_block(
    value: &Value,
    cert: &MalachiteCommit,
    set: &ValidatorSet,
) -> Option<(DecidedBlock, ValidatorSet)> {
    let commit = commit::to_core(cert, set).ok()?;
    Some((
        DecidedBlock {
            block: value.block().clone(),
            commit,
        },
        set.clone(),
    ))
}

/// The set of every height: the genesis set, and with epochs, at the end
/// of each (up to far beyond the run), one honest validator gaining 1 to
/// 50 power, so that the byzantine share only shrinks.
fn schedule(
    cfg: &SimConfig,
    genesis: ValidatorSet,
    keys: &[PrivateKey],
    honest: &[bool],
    rng: &mut Rng,
) -> ValidatorSchedule {
    let length = cfg.epoch_length.unwrap_or(u64::MAX).max(1);
    let mut schedule = match ValidatorSchedule::new(genesis, length) {
        Ok(s) => s,
        Err(e) => unreachable_config(&e.to_string()),
    };
    let Some(length) = cfg.epoch_length else {
        return schedule;
    };
    let honest_keys: Vec<&PrivateKey> = keys
        .iter()
        .zip(honest)
        .filter_map(|(k, h)| h.then_some(k))
        .collect();
    if honest_keys.is_empty() {
        return schedule;
    }
    let mut end = length.max(1);
    while end <= cfg.heights.saturating_mul(20) {
        let pick = usize::try_from(rng.below(honest_keys.len() as u64)).unwrap_or(0);
        let key = honest_keys.get(pick).map(|k| k.public_key());
        let current = key.and_then(|k| {
            schedule
                .set_at(schedule.effective_height(end - 1))
                .core()
                .get_by_key(&k)
                .map(|(_, v)| *v)
        });
        if let Some(mut v) = current {
            v.power = VotingPower(v.power.0 + rng.range(1, 50));
            if let Err(e) = schedule.record(end - 1, &[PowerChange::set(v)]) {
                unreachable_config(&e.to_string());
            }
        }
        end += length.max(1);
    }
    schedule
}

/// Picks byzantine validators for the mix: below a third of the power, or
/// (for [`FaultMix::Stalled`]) at least a third.
fn choose_behaviors(
    cfg: &SimConfig,
    keys: &[PrivateKey],
    set: &ValidatorSet,
    rng: &mut Rng,
) -> Vec<Behavior> {
    let mut behaviors = vec![Behavior::Honest; keys.len()];
    let kinds: &[Behavior] = match cfg.mix {
        FaultMix::Clean | FaultMix::Lossy | FaultMix::Crashes | FaultMix::Skew => {
            return behaviors;
        }
        FaultMix::Equivocators => &[Behavior::Equivocate],
        FaultMix::Withholders | FaultMix::Stalled => &[Behavior::Withhold],
        FaultMix::Amnesia => &[Behavior::Amnesia],
        FaultMix::Mixed => &[Behavior::Equivocate, Behavior::Withhold, Behavior::Amnesia],
        FaultMix::Flood => &[Behavior::Flood],
    };
    let power_of = |i: usize| {
        keys.get(i)
            .and_then(|k| set.core().get_by_key(&k.public_key()))
            .map_or(0, |(_, v)| v.power.0)
    };
    let mut order: Vec<usize> = (0..keys.len()).collect();
    for i in (1..order.len()).rev() {
        let j = usize::try_from(rng.below(i as u64 + 1)).unwrap_or(0);
        order.swap(i, j);
    }
    let total = set.core().total_power().0;
    let stalled = cfg.mix == FaultMix::Stalled;
    let mut byzantine: u64 = 0;
    for (k, i) in order.into_iter().enumerate() {
        let p = power_of(i);
        if stalled {
            if byzantine * 3 >= total {
                break;
            }
        } else if (byzantine + p) * 3 >= total {
            continue;
        }
        byzantine += p;
        if let (Some(b), Some(kind)) = (behaviors.get_mut(i), kinds.get(k % kinds.len())) {
            *b = *kind;
        }
    }
    behaviors
}

/// How far each validator's clock runs ahead: for [`FaultMix::Skew`],
/// validators of less than a third of the power 1 to 30 s, the rest none.
fn choose_skews(
    cfg: &SimConfig,
    keys: &[PrivateKey],
    set: &ValidatorSet,
    rng: &mut Rng,
) -> Vec<u64> {
    let mut skews = vec![0; keys.len()];
    if cfg.mix != FaultMix::Skew {
        return skews;
    }
    let total = set.core().total_power().0;
    let mut skewed = 0;
    for (i, key) in keys.iter().enumerate() {
        let power = set
            .core()
            .get_by_key(&key.public_key())
            .map_or(0, |(_, v)| v.power.0);
        if (skewed + power) * 3 < total && rng.chance(500) {
            skewed += power;
            if let Some(s) = skews.get_mut(i) {
                *s = rng.range(1_000, 30_000);
            }
        }
    }
    skews
}

// The simulator's own configuration is code, not input: a bad one is a bug here.
#[allow(clippy::panic)]
fn unreachable_config(reason: &str) -> ! {
    panic!("the simulator's own configuration is invalid: {reason}")
}

/// One row of the consensus benchmark.
#[derive(Clone, Debug)]
pub struct BenchRow {
    /// Validators.
    pub validators: usize,
    /// Each block's transaction bytes, if full blocks.
    pub block_bytes: Option<u64>,
    /// Heights decided.
    pub heights: u64,
    /// Decisions per wall-clock second.
    pub decisions_per_sec: f64,
    /// Mean virtual time per height.
    pub virtual_latency_ms: f64,
    /// Mean wall time per height.
    pub wall_latency_ms: f64,
}

/// Runs `heights` heights with `validators` equal-power validators and no
/// network delay: the cost of consensus itself (signing, verifying, vote
/// keeping, the state machine, and with `block_bytes` streaming and
/// hashing blocks of that size, which the simulated engine does not
/// execute).
pub fn bench(validators: usize, heights: u64, block_bytes: Option<u64>) -> BenchRow {
    let cfg = SimConfig {
        seed: 1,
        validators,
        mix: FaultMix::Clean,
        heights,
        gst_ms: 0,
        max_delay_ms: 0,
        liveness_bound_ms: 60_000,
        equal_power: true,
        crash_plans: Vec::new(),
        epoch_length: None,
        block_bytes,
    };
    let start = Instant::now();
    let report = run(&cfg);
    let wall = start.elapsed().as_secs_f64();
    let decided = report.heights_decided.max(1) as f64;
    BenchRow {
        validators,
        block_bytes,
        heights: report.heights_decided,
        decisions_per_sec: decided / wall.max(f64::EPSILON),
        virtual_latency_ms: report.virtual_ms as f64 / decided,
        wall_latency_ms: wall * 1000.0 / decided,
    }
}
