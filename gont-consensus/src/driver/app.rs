//! The application loop: every `AppMsg` Malachite's engine sends, answered
//! through the execution engine, the decided-block store and the host.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use gont_core::{
    DecidedBlock, DecidedStore, ExecutionEngine, ForkchoiceState, PayloadAttributes, PayloadStatus,
    Timestamp,
};
use malachitebft_app_channel::app::engine::host::Next;
use malachitebft_app_channel::app::streaming::StreamMessage;
use malachitebft_app_channel::app::types::core::{CommitCertificate, Round, Validity};
use malachitebft_app_channel::app::types::sync::RawDecidedValue;
use malachitebft_app_channel::app::types::{LocallyProposedValue, PeerId, ProposedValue};
use malachitebft_app_channel::{AppMsg, Channels, NetworkMsg};
use tokio::sync::mpsc;
use tracing::{debug, error, info, warn};

use super::evidence::{EvidencePool, NetworkVote};
use super::last_commit::LatePrecommits;
use super::parts::{self, Assembled, Streams, WAITING_ROUNDS, Waiting};
use super::proposals::{Entry, Proposals};
use super::{DriverConfig, Host};
use crate::commit;
use crate::context::{GontContext, select_proposer};
use crate::evidence::SignedProposal;
use crate::messages::{ProposalInit, ProposalPart};
use crate::signing::{PrivateKey, stream_sign_bytes};
use crate::types::{Address, Height, Value, ValueId};
use crate::validators::ValidatorSet;

/// Why a driver failed or stopped.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The configuration cannot be used (an address that is no multiaddr).
    #[error("consensus configuration: {0}")]
    Config(String),
    /// Malachite's engine did not start.
    #[error("starting Malachite's engine: {0}")]
    Engine(String),
    /// The decided-block store failed.
    #[error("decided-block store: {0}")]
    Store(String),
    /// The execution engine failed (not a rejected block: a fault).
    #[error("execution: {0}")]
    Execution(String),
    /// A decided block the engine refuses: this node's state and the
    /// network's disagree.
    #[error("decided block at height {height} is invalid here: {reason}")]
    InvalidDecided {
        /// The height.
        height: u64,
        /// The engine's reason.
        reason: String,
    },
    /// Reading or writing the proposals directory failed.
    #[error("proposals: {0}")]
    Proposals(String),
    /// The engine's actors stopped (a channel closed).
    #[error("consensus engine stopped: {0}")]
    Stopped(String),
}

fn store_err(e: impl std::fmt::Display) -> DriverError {
    DriverError::Store(e.to_string())
}

fn exec_err(e: impl std::fmt::Display) -> DriverError {
    DriverError::Execution(e.to_string())
}

/// Where the driver reads the time (Unix milliseconds): the system's
/// clock, or a simulation's virtual one, which the simulator advances.
#[derive(Clone, Debug)]
pub(crate) enum Clock {
    /// The system's clock.
    System,
    /// A virtual clock the simulation sets.
    #[cfg(any(test, feature = "sim"))]
    Virtual(std::sync::Arc<std::sync::atomic::AtomicU64>),
}

impl Clock {
    /// Now, in Unix milliseconds.
    pub(crate) fn now_ms(&self) -> u64 {
        match self {
            Self::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            #[cfg(any(test, feature = "sim"))]
            Self::Virtual(now) => now.load(std::sync::atomic::Ordering::Relaxed),
        }
    }
}

/// What a driver works with besides its chain and key: the execution
/// engine, the decided-block store, the host, where it keeps the values
/// it proposed or accepted, and its clock. The simulation gives in-memory
/// ones and a virtual clock; production, `<home>/proposals/` and the
/// system's clock.
pub(crate) struct Io<E, S, H> {
    pub(crate) engine: E,
    pub(crate) store: S,
    pub(crate) host: H,
    pub(crate) proposals: Proposals,
    pub(crate) clock: Clock,
}

/// Runs blocking work (execution, disk) without stalling the runtime's
/// other tasks when the runtime has several worker threads.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// A proposed value whose origin is checked: a complete stream signed by
/// the proposer of its round (with that signature), or a synced value.
struct Early {
    value: Value,
    round: Round,
    valid_round: Round,
    proposer: Address,
    signature: Option<gont_core::Signature>,
}

/// How many whole streams of later heights may wait for them, in bytes of
/// the largest stream: several proposers' rounds, relayed by several peers.
const WAITING_STREAMS: usize = 8;

/// How many whole streams may be incomplete at once, in bytes of the
/// largest stream, from all senders together.
const PARTIAL_STREAMS: usize = 4;

/// How many rounds ahead of its current one a node takes proposal streams
/// of: validators that started apart or were cut off are in different
/// rounds, and one that skips ahead needs the round's proposal.
const ROUNDS_AHEAD: u32 = 4;

/// How many rounds' blocks that were ahead of this node's clock are held
/// for when it catches up.
const UNTIMELY_ROUNDS: usize = 4;

/// How many heights' validator sets are kept at hand.
const SETS_CACHED: usize = 8;

/// The largest proposal stream of a chain with `params`: a block's
/// transactions plus its header and encoding overhead.
fn largest_stream(params: &gont_core::ConsensusParams) -> usize {
    usize::try_from(params.max_block_bytes)
        .unwrap_or(usize::MAX)
        .saturating_mul(2)
        .saturating_add(1 << 20)
}

/// The most bytes of peers' proposal streams a driver of a chain with
/// `params` holds: its budgets for incomplete streams and for complete
/// ones of later heights.
#[cfg(any(test, feature = "sim"))]
pub(crate) fn held_bytes_budget(params: &gont_core::ConsensusParams) -> usize {
    largest_stream(params).saturating_mul(PARTIAL_STREAMS + WAITING_STREAMS)
}

/// The application side of one chain's consensus: what it answers to each
/// of Malachite's requests. Production drives it from Malachite's engine
/// ([`run`]); the simulation (`crate::sim`) from Malachite's round state
/// machine, on a virtual clock.
pub(crate) struct State<E, S, H> {
    ctx: GontContext,
    /// The set when the engine's chain keeps its genesis set.
    genesis: ValidatorSet,
    /// The set of the current height.
    validators: ValidatorSet,
    /// Sets by height, as the engine answered them.
    sets: BTreeMap<Height, ValidatorSet>,
    key: PrivateKey,
    address: Address,
    fee_recipient: gont_core::Address,
    max_drift_ms: u64,
    engine: E,
    store: S,
    host: H,
    proposals: Proposals,
    streams: Streams,
    /// Values the execution engine holds executed (built or validated by
    /// this process since the last commit).
    executed: HashSet<ValueId>,
    /// Complete streams of the next heights, checked when theirs starts
    /// (its validator set may not be known before).
    waiting: Waiting,
    current: Height,
    /// The current round of `current`.
    round: u32,
    /// Blocks of the current height signed by their round's proposer but
    /// timed more than the allowed drift ahead of this node's clock: not
    /// answered in their round (so this node prevotes nil there), offered
    /// to consensus at a later round once timely. The clock never makes a
    /// block invalid: with its commit (value sync) it is accepted.
    untimely: BTreeMap<(Height, u32), Early>,
    /// Double signs seen among received votes, until a block carries them.
    evidence: EvidencePool,
    /// Precommits for the last decided block that came after its decision.
    late: LatePrecommits,
    clock: Clock,
}

impl<E, S, H> State<E, S, H>
where
    E: ExecutionEngine + Send + 'static,
    S: DecidedStore,
    H: Host,
{
    pub(crate) fn new(
        ctx: GontContext,
        validators: ValidatorSet,
        key: PrivateKey,
        config: &DriverConfig,
        io: Io<E, S, H>,
    ) -> Self {
        let Io {
            engine,
            store,
            host,
            proposals,
            clock,
        } = io;
        let max_bytes = largest_stream(ctx.params());
        let evidence = EvidencePool::new(&ctx);
        Self {
            address: Address(key.public_key().address()),
            ctx,
            genesis: validators.clone(),
            validators,
            sets: BTreeMap::new(),
            key,
            fee_recipient: config.fee_recipient,
            max_drift_ms: u64::try_from(config.max_clock_drift.as_millis()).unwrap_or(u64::MAX),
            engine,
            store,
            host,
            proposals,
            streams: Streams::new(max_bytes, max_bytes.saturating_mul(PARTIAL_STREAMS)),
            executed: HashSet::new(),
            waiting: Waiting::new(max_bytes.saturating_mul(WAITING_STREAMS)),
            current: Height(0),
            round: 0,
            untimely: BTreeMap::new(),
            evidence,
            late: LatePrecommits::default(),
            clock,
        }
    }

    /// The bytes of proposal streams held for peers: incomplete ones and
    /// complete ones of later heights.
    #[cfg(any(test, feature = "sim"))]
    pub(crate) const fn held_bytes(&self) -> usize {
        self.streams.held_bytes() + self.waiting.held_bytes()
    }

    fn head(&self) -> Result<Option<gont_core::Header>, DriverError> {
        self.store.committed_head().map_err(store_err)
    }

    /// The height consensus starts at: after the committed head.
    pub(crate) fn next_height(&self) -> Result<Height, DriverError> {
        Ok(Height(self.head()?.map_or(0, |h| h.height.0) + 1))
    }

    /// The validator set of `height`, at most one above the committed
    /// head: the staking state's (from the engine), or the genesis set on a
    /// chain without staking.
    pub(crate) fn set_at(&mut self, height: Height) -> Result<ValidatorSet, DriverError> {
        if let Some(set) = self.sets.get(&height) {
            return Ok(set.clone());
        }
        let engine = &self.engine;
        let set = match blocking(|| engine.validator_set(height.to_core())).map_err(exec_err)? {
            Some(core) => ValidatorSet::new(core),
            None => self.genesis.clone(),
        };
        self.sets.insert(height, set.clone());
        while self.sets.len() > SETS_CACHED {
            self.sets.pop_first();
        }
        Ok(set)
    }

    /// The set Malachite asks for at `height`: known up to one height
    /// above the committed head; for the [`parts::HEIGHTS_AHEAD`] heights
    /// after that, the latest known set, provisionally. Malachite uses a
    /// later height's set only to check the votes it buffers for it, and
    /// checks them again with the height's own set when it starts there;
    /// without one it drops them, and a node two heights behind could
    /// then decide no height on arrival and trailed its peers for good.
    pub(crate) fn set_for_consensus(
        &mut self,
        height: Height,
    ) -> Result<Option<ValidatorSet>, DriverError> {
        let next = self.next_height()?;
        if height <= next {
            self.set_at(height).map(Some)
        } else if parts::ahead(next, height) {
            self.set_at(next).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Enters `height`: its set becomes the current one.
    pub(crate) fn enter(&mut self, height: Height) -> Result<ValidatorSet, DriverError> {
        let set = self.set_at(height)?;
        if set != self.validators {
            info!(%height, validators = set.members().len(), "the validator set changes");
        }
        self.validators = set.clone();
        Ok(set)
    }

    /// Executes and commits decisions recorded before a crash but not yet
    /// committed.
    pub(crate) fn finish_recorded_decisions(&mut self) -> Result<(), DriverError> {
        let decided = self.store.decided_height().map_err(store_err)?;
        let Some(decided) = decided else {
            return Ok(());
        };
        let mut next = self.next_height()?;
        while next.0 <= decided.0 {
            let block = self
                .store
                .decided(next.to_core())
                .map_err(store_err)?
                .ok_or_else(|| {
                    DriverError::Store(format!("decision at height {next} is not recorded"))
                })?;
            info!(height = %next, "finishing a decision recorded before a restart");
            self.execute_and_commit(&block)?;
            next = Height(next.0 + 1);
        }
        Ok(())
    }

    fn execute_and_commit(&mut self, decided: &DecidedBlock) -> Result<(), DriverError> {
        let block = &decided.block;
        let id = block.header.id().map_err(exec_err)?;
        let time = block.header.time;
        let value_id = ValueId { block: id, time };
        let height = block.header.height.0;
        let engine = &mut self.engine;
        let known = self.executed.contains(&value_id);
        let started = std::time::Instant::now();
        blocking(|| {
            if !known {
                match engine.new_payload(block).map_err(exec_err)? {
                    PayloadStatus::Valid => {}
                    PayloadStatus::Invalid { reason } => {
                        return Err(DriverError::InvalidDecided { height, reason });
                    }
                }
            }
            engine
                .forkchoice_updated(ForkchoiceState {
                    head: id,
                    safe: id,
                    finalized: id,
                })
                .map_err(exec_err)
        })?;
        self.executed.clear();
        self.host.committed(decided, started.elapsed());
        Ok(())
    }

    /// Whether a block's header is one this chain could decide at
    /// `height`: chain, height, validator set and proposer. A block
    /// proposed for the first time (`named` is the round's proposer) must
    /// name that proposer; a block proposed again in a later round (its
    /// pol round set) or synced with its commit (`named` is `None`) was
    /// built by the proposer of an earlier round, and must name a validator
    /// of the height, as CometBFT checks. Its time is not checked here (see
    /// [`State::proposed`]).
    fn check_header(
        &self,
        value: &Value,
        height: Height,
        named: Option<Address>,
    ) -> Result<(), String> {
        let header = &value.block().header;
        if header.chain_id != self.ctx.chain_id() {
            return Err(format!("chain {} is not ours", header.chain_id));
        }
        if header.height != height.to_core() {
            return Err(format!(
                "block height {} in a stream for {height}",
                header.height
            ));
        }
        match named {
            Some(proposer) if header.proposer != proposer.0 => {
                return Err("the header names another proposer".to_owned());
            }
            None if self
                .validators
                .position(&Address(header.proposer))
                .is_none() =>
            {
                return Err("the header's proposer is not a validator of the height".to_owned());
            }
            _ => {}
        }
        if header.validators_hash != self.validators.hash() {
            return Err("the header's validator set is not this height's".to_owned());
        }
        Ok(())
    }

    /// Checks a complete stream: our chain, the round's proposer, its
    /// signature, and a block that decodes.
    fn check_stream(&self, stream: &Assembled) -> Result<Early, String> {
        let init = &stream.init;
        if init.chain_id != self.ctx.chain_id() {
            return Err(format!("stream of chain {}", init.chain_id));
        }
        if init.round.as_u32().is_none() {
            return Err("stream for round nil".to_owned());
        }
        let expected = select_proposer(&self.validators, init.height, init.round);
        if expected.address() != init.proposer {
            return Err(format!(
                "{} is not the proposer of {}/{}",
                init.proposer, init.height, init.round
            ));
        }
        let value = stream
            .value()
            .map_err(|e| format!("block does not decode: {e}"))?;
        // The signature binds the block id; the header binds the body.
        value
            .block()
            .check_body()
            .map_err(|mismatch| mismatch.to_string())?;
        let signed = stream_sign_bytes(&self.ctx, init, value.id())
            .ok_or_else(|| "the stream cannot be a Tendermint proposal".to_owned())?;
        if !expected
            .core()
            .consensus_key
            .verify(&signed, &stream.fin.signature.0)
        {
            return Err("the stream's signature does not verify".to_owned());
        }
        Ok(Early {
            value,
            round: init.round,
            valid_round: init.pol_round,
            proposer: init.proposer,
            signature: Some(stream.fin.signature),
        })
    }

    /// A checked stream's value at the current height: evidence if its
    /// proposer signed another block this round, and then ignored (the
    /// first block received stays the round's one value, as in CometBFT);
    /// held, unanswered, while its time is ahead of this node's clock; else
    /// accepted.
    fn proposed(
        &mut self,
        early: Early,
        height: Height,
    ) -> Result<Option<ProposedValue<GontContext>>, DriverError> {
        let id = early.value.id();
        let round = early.round.as_u32().unwrap_or(0);
        if let Some(signature) = early.signature {
            self.evidence.observe_proposal(
                SignedProposal {
                    height,
                    round,
                    proposer: early.proposer,
                    pol_round: early.valid_round.as_u32(),
                    value: id,
                    signature,
                },
                &self.validators,
            );
        }
        let known = self.proposals.get(height, round, id).is_some();
        if !known && self.proposals.at(height, round).any(|e| !e.own) {
            // Already evidence above; the first block stays the round's.
            warn!(%height, round, proposer = %early.proposer, "ignoring a second block proposed in one round");
            return Ok(None);
        }
        if !known && self.ahead_of_clock(&early.value) {
            let time = early.value.block().header.time;
            info!(%height, round, %time, "holding a block timed ahead of this node's clock");
            self.untimely.insert((height, round), early);
            while self.untimely.len() > UNTIMELY_ROUNDS {
                self.untimely.pop_first();
            }
            return Ok(None);
        }
        self.accept(early, height).map(Some)
    }

    fn ahead_of_clock(&self, value: &Value) -> bool {
        value.block().header.time.as_millis()
            > self.clock.now_ms().saturating_add(self.max_drift_ms)
    }

    /// Validates a proposed value at the current height through the
    /// execution engine, and records it.
    fn accept(
        &mut self,
        early: Early,
        height: Height,
    ) -> Result<ProposedValue<GontContext>, DriverError> {
        let id = early.value.id();
        let round = early.round.as_u32().unwrap_or(0);
        let valid = match self.proposals.get(height, round, id) {
            Some(known) => known.valid,
            None => {
                // A first proposal is signed and has no pol round.
                let named = (early.signature.is_some() && early.valid_round == Round::Nil)
                    .then_some(early.proposer);
                let valid = match self.check_header(&early.value, height, named) {
                    Err(reason) => {
                        warn!(%height, round, %reason, "refusing a proposal");
                        false
                    }
                    Ok(()) => self.validate(&early.value)?,
                };
                self.proposals
                    .put(Entry {
                        height,
                        round: early.round,
                        valid_round: early.valid_round,
                        proposer: early.proposer,
                        valid,
                        own: false,
                        value: early.value.clone(),
                    })
                    .map_err(DriverError::Proposals)?;
                valid
            }
        };
        Ok(ProposedValue {
            height,
            round: early.round,
            valid_round: early.valid_round,
            proposer: early.proposer,
            value: early.value,
            validity: Validity::from_bool(valid),
        })
    }

    fn validate(&mut self, value: &Value) -> Result<bool, DriverError> {
        let engine = &mut self.engine;
        let status = blocking(|| engine.new_payload(value.block())).map_err(exec_err)?;
        match status {
            PayloadStatus::Valid => {
                self.executed.insert(value.id());
                Ok(true)
            }
            PayloadStatus::Invalid { reason } => {
                warn!(height = %value.block().header.height, %reason, "the engine rejects a proposal");
                Ok(false)
            }
        }
    }

    /// The value this validator proposes at `(height, round)`: the one it
    /// already built for that round if any (also after a restart), else a
    /// new block from the host's transactions.
    pub(crate) fn value_to_propose(
        &mut self,
        height: Height,
        round: Round,
    ) -> Result<Value, DriverError> {
        let r = round.as_u32().unwrap_or(0);
        if let Some(own) = self.proposals.own(height, r) {
            let value = own.value.clone();
            if !self.executed.contains(&value.id()) && !self.validate(&value)? {
                return Err(DriverError::Execution(format!(
                    "the engine rejects the block this validator built for {height}/{r}"
                )));
            }
            return Ok(value);
        }
        let head = self.head()?;
        let parent = head
            .as_ref()
            .map(|h| h.id())
            .transpose()
            .map_err(exec_err)?;
        let parent_ms = head.as_ref().map_or(0, |h| h.time.as_millis());
        // Fees go to this validator's operator in the current set (its
        // staking account), else to the configured recipient.
        let fee_recipient = self
            .validators
            .core()
            .get_by_key(&self.key.public_key())
            .map_or(self.fee_recipient, |(_, v)| v.operator);
        let last_commit = self.last_commit(height)?;
        let attributes = PayloadAttributes {
            timestamp: Timestamp(self.clock.now_ms().max(parent_ms + 1)),
            proposer: self.address.0,
            fee_recipient,
            validators_hash: self.validators.hash(),
            evidence: self.evidence.pending(),
            last_commit,
        };
        let params = *self.ctx.params();
        let txs = self
            .host
            .transactions(params.max_block_bytes, params.max_block_gas);
        let engine = &mut self.engine;
        let block =
            blocking(|| engine.build_payload(parent, attributes, &txs)).map_err(exec_err)?;
        let value = Value::new(block).map_err(exec_err)?;
        self.executed.insert(value.id());
        self.proposals
            .put(Entry {
                height,
                round,
                valid_round: Round::Nil,
                proposer: self.address,
                valid: true,
                own: true,
                value: value.clone(),
            })
            .map_err(DriverError::Proposals)?;
        debug!(%height, round = r, txs = value.block().body.transactions.len(), "proposing");
        Ok(value)
    }

    /// The commit of the block before `height` that a block at `height`
    /// carries: the stored one, with the precommits that came late.
    fn last_commit(
        &mut self,
        height: Height,
    ) -> Result<Option<gont_core::CommitCertificate>, DriverError> {
        let Some(parent) = height.0.checked_sub(1).filter(|h| *h > 0).map(Height) else {
            return Ok(None);
        };
        let store = &self.store;
        let Some(decided) = blocking(|| store.decided(parent.to_core())).map_err(store_err)? else {
            return Err(DriverError::Proposals(format!(
                "the commit of height {parent} is not stored"
            )));
        };
        let set = self.set_at(parent)?;
        Ok(Some(self.late.complete(decided.commit, &set)))
    }

    /// The parts of `value` as this validator's proposal at `(height,
    /// round)`.
    pub(crate) fn parts(
        &self,
        value: &Value,
        height: Height,
        round: Round,
        pol_round: Round,
    ) -> Vec<StreamMessage<ProposalPart>> {
        parts::split(
            &self.ctx,
            &self.key,
            self.address,
            height,
            round,
            pol_round,
            value,
        )
    }

    /// The parts of the value `value_id` of `valid_round` (or `round`)
    /// proposed again at `(height, round)`; none if it is not kept.
    pub(crate) fn restream(
        &self,
        height: Height,
        round: Round,
        valid_round: Round,
        value_id: ValueId,
    ) -> Vec<StreamMessage<ProposalPart>> {
        let from = valid_round.as_u32().or(round.as_u32()).unwrap_or(0);
        self.proposals
            .get(height, from, value_id)
            .map(|entry| self.parts(&entry.value, height, round, valid_round))
            .unwrap_or_default()
    }

    /// A proposal part from `from`: the round's value once its stream is
    /// complete, checked, and of the current height.
    pub(crate) fn received_part(
        &mut self,
        from: PeerId,
        part: StreamMessage<ProposalPart>,
    ) -> Result<Option<ProposedValue<GontContext>>, DriverError> {
        let Self {
            streams,
            ctx,
            validators,
            current,
            round,
            clock,
            ..
        } = self;
        let admit = |init: &ProposalInit| admits(ctx, validators, *current, *round, init);
        let stream = match streams.insert(from, part, admit, clock.now_ms()) {
            Ok(Some(stream)) => stream,
            Ok(None) => return Ok(None),
            Err(reason) => {
                warn!(%from, ?reason, "dropping a proposal stream");
                return Ok(None);
            }
        };
        let height = stream.init.height;
        if height < self.current {
            return Ok(None);
        }
        if height > self.current {
            // Before its first round, the node is about to start the height
            // after its committed head.
            let at = if self.current == Height(0) {
                Height(self.next_height()?.0 - 1)
            } else {
                self.current
            };
            if let Err(reason) = self.waiting.hold(at, from, stream) {
                debug!(%from, %height, ?reason, "not holding a stream of a later height");
            }
            return Ok(None);
        }
        let early = match self.check_stream(&stream) {
            Ok(early) => early,
            Err(reason) => {
                warn!(%from, %height, %reason, "refusing a proposal stream");
                return Ok(None);
            }
        };
        self.streams.trust(from);
        self.proposed(early, height)
    }

    /// Enters `(height, round)`: checks the streams that waited for the
    /// height, and answers the values consensus should know: this round's
    /// already received (also before a restart), and held blocks of earlier
    /// rounds that this node's clock has caught up with.
    pub(crate) fn started_round(
        &mut self,
        height: Height,
        round: Round,
    ) -> Result<Vec<ProposedValue<GontContext>>, DriverError> {
        self.current = height;
        self.enter(height)?;
        let r = round.as_u32().unwrap_or(0);
        self.round = r;
        for stream in self.waiting.take(height, r) {
            match self.check_stream(&stream) {
                Ok(early) => {
                    self.proposed(early, height)?;
                }
                Err(reason) => {
                    warn!(%height, %reason, "refusing an early proposal stream");
                }
            }
        }
        self.untimely.retain(|(h, _), _| *h == height);
        let timely: Vec<_> = self
            .untimely
            .iter()
            .filter(|(_, early)| !self.ahead_of_clock(&early.value))
            .map(|(key, _)| *key)
            .collect();
        let mut offered = Vec::new();
        for key in timely {
            if let Some(early) = self.untimely.remove(&key) {
                offered.push(self.accept(early, height)?);
            }
        }
        offered.retain(|value| value.round != round);
        offered.extend(self.proposals.at(height, r).map(|e| ProposedValue {
            height,
            round: e.round,
            valid_round: e.valid_round,
            proposer: e.proposer,
            value: e.value.clone(),
            validity: Validity::from_bool(e.valid),
        }));
        Ok(offered)
    }

    /// Records, executes and commits the value `certificate` decides.
    pub(crate) fn decided(
        &mut self,
        certificate: &CommitCertificate<GontContext>,
    ) -> Result<(), DriverError> {
        let height = certificate.height;
        let entry = self
            .proposals
            .find(height, certificate.value_id)
            .ok_or_else(|| {
                DriverError::Proposals(format!(
                    "decided value {} at {height} was never received",
                    certificate.value_id
                ))
            })?;
        let value = entry.value.clone();
        let set = self.set_at(height)?;
        let commit = commit::to_core(certificate, &set).map_err(exec_err)?;
        let decided = DecidedBlock {
            block: value.block().clone(),
            commit,
        };
        let store = &self.store;
        blocking(|| store.put_decided(&decided)).map_err(store_err)?;
        self.execute_and_commit(&decided)?;
        self.evidence.committed(&decided.block, height);
        self.late.decided(
            height,
            certificate.round,
            certificate.value_id,
            certificate
                .commit_signatures
                .iter()
                .map(|s| s.address)
                .collect(),
        );
        let next = Height(height.0 + 1);
        self.proposals.prune_below(next);
        self.streams.prune_below(next);
        self.waiting.prune_below(next);
        debug!(
            %height,
            round = %certificate.round,
            txs = decided.block.body.transactions.len(),
            block = %certificate.value_id.block,
            "committed"
        );
        Ok(())
    }

    /// Watches a vote received from the network for double signing, if it
    /// is of the current or the previous height (whose sets are at hand).
    pub(crate) fn observe_vote(&mut self, vote: NetworkVote) {
        let height = vote.message.height;
        if height > self.current || height.0.saturating_add(1) < self.current.0 {
            return;
        }
        if let Some(set) = self.sets.get(&height) {
            self.late.observe(&self.ctx, &vote, set);
            self.evidence.observe(vote, set);
        }
    }

    /// The decided block at `height` with its commit, for value sync.
    pub(crate) fn decided_value(
        &self,
        height: Height,
    ) -> Result<Option<RawDecidedValue<GontContext>>, DriverError> {
        let Some(decided) = self.store.decided(height.to_core()).map_err(store_err)? else {
            return Ok(None);
        };
        let certificate =
            commit::from_core(&decided.commit, decided.block.header.time).map_err(exec_err)?;
        let value_bytes = Bytes::from(gont_core::encode(&decided.block));
        Ok(Some(RawDecidedValue {
            value_bytes,
            certificate,
        }))
    }

    /// A value value sync delivered with its commit certificate (which
    /// Malachite has verified). `named` is the proposer Malachite names; it
    /// selects it with the set its consensus holds when the response
    /// arrives, which for a response buffered across a set change is the
    /// previous height's, so the round's proposer is selected here, with
    /// the height's own set.
    pub(crate) fn synced_value(
        &mut self,
        height: Height,
        round: Round,
        named: Address,
        bytes: &Bytes,
    ) -> Result<Option<ProposedValue<GontContext>>, DriverError> {
        if height != self.current {
            return Ok(None);
        }
        let proposer = select_proposer(&self.validators, height, round).address();
        if proposer != named {
            debug!(%height, %named, %proposer, "Malachite named a synced value's proposer with another height's set");
        }
        let value: Value = match borsh::from_slice(bytes) {
            Ok(value) => value,
            Err(e) => {
                warn!(%height, "a synced value does not decode: {e}");
                return Ok(None);
            }
        };
        debug!(%height, "validating a synced block");
        self.accept(
            Early {
                value,
                round,
                valid_round: Round::Nil,
                proposer,
                signature: None,
            },
            height,
        )
        .map(Some)
    }

    /// How long to wait after committing a block at `time` so that blocks
    /// are about the chain's target interval apart.
    pub(crate) fn pacing(&self, time: Timestamp) -> Duration {
        let target = time
            .as_millis()
            .saturating_add(self.ctx.params().target_block_time_ms);
        Duration::from_millis(
            target
                .saturating_sub(self.clock.now_ms())
                .min(self.ctx.params().target_block_time_ms),
        )
    }
}

/// Whether to take the parts of a stream that `init` announces, with
/// consensus at `(current, round)`: a stream of this chain from the current
/// height's proposer of a round at most [`ROUNDS_AHEAD`] ahead (Malachite
/// keeps a later round's value for when it skips there), or from a member of the
/// current set for the first [`WAITING_ROUNDS`] rounds of the next
/// [`HEIGHTS_AHEAD`](parts::HEIGHTS_AHEAD) heights (their sets are not
/// known yet). Before the first round, any member's.
fn admits(
    ctx: &GontContext,
    validators: &ValidatorSet,
    current: Height,
    round: u32,
    init: &ProposalInit,
) -> bool {
    let Some(r) = init.round.as_u32() else {
        return false;
    };
    if init.chain_id != ctx.chain_id() {
        return false;
    }
    let member = validators.position(&init.proposer).is_some();
    if current == Height(0) {
        member
    } else if init.height == current {
        r <= round.saturating_add(ROUNDS_AHEAD)
            && select_proposer(validators, current, init.round).address() == init.proposer
    } else {
        parts::ahead(current, init.height) && r < WAITING_ROUNDS && member
    }
}

async fn publish(
    channels: &Channels<GontContext>,
    parts: Vec<StreamMessage<ProposalPart>>,
) -> Result<(), DriverError> {
    for part in parts {
        channels
            .network
            .send(NetworkMsg::PublishProposalPart(part))
            .await
            .map_err(|e| DriverError::Stopped(e.to_string()))?;
    }
    Ok(())
}

/// The loop: answers every message until the engine stops.
pub(super) async fn run<E, S, H>(
    mut state: State<E, S, H>,
    mut channels: Channels<GontContext>,
    mut votes: Option<mpsc::Receiver<NetworkVote>>,
) -> Result<(), DriverError>
where
    E: ExecutionEngine + Send + 'static,
    S: DecidedStore,
    H: Host,
{
    loop {
        let msg = tokio::select! {
            biased;
            msg = channels.consensus.recv() => match msg {
                Some(msg) => msg,
                None => break,
            },
            vote = next_vote(&mut votes) => {
                match vote {
                    Some(vote) => state.observe_vote(vote),
                    None => votes = None,
                }
                continue;
            }
        };
        match msg {
            AppMsg::ConsensusReady { reply } => {
                let height = state.next_height()?;
                info!(%height, "consensus ready");
                let set = state.enter(height)?;
                let _ = reply.send((height, set));
            }
            AppMsg::StartedRound {
                height,
                round,
                reply_value,
                ..
            } => {
                let values = state.started_round(height, round)?;
                let _ = reply_value.send(values);
            }
            AppMsg::GetValue {
                height,
                round,
                reply,
                ..
            } => {
                let value = state.value_to_propose(height, round)?;
                let _ = reply.send(LocallyProposedValue::new(height, round, value.clone()));
                let parts = state.parts(&value, height, round, Round::Nil);
                publish(&channels, parts).await?;
            }
            AppMsg::ExtendVote { reply, .. } => {
                let _ = reply.send(None);
            }
            AppMsg::VerifyVoteExtension { reply, .. } => {
                let _ = reply.send(Ok(()));
            }
            AppMsg::RestreamProposal {
                height,
                round,
                valid_round,
                value_id,
                ..
            } => {
                let parts = state.restream(height, round, valid_round, value_id);
                publish(&channels, parts).await?;
            }
            AppMsg::GetHistoryMinHeight { reply } => {
                let _ = reply.send(Height(1));
            }
            AppMsg::ReceivedProposalPart { from, part, reply } => {
                let value = state.received_part(from, part)?;
                let _ = reply.send(value);
            }
            AppMsg::GetValidatorSet { height, reply } => {
                let set = state.set_for_consensus(height)?;
                let _ = reply.send(set);
            }
            AppMsg::Decided {
                certificate, reply, ..
            } => {
                if let Err(e) = state.decided(&certificate) {
                    error!(height = %certificate.height, "cannot commit a decided block: {e}");
                    return Err(e);
                }
                // Wait out the block time, watching votes meanwhile: the
                // precommits that come now complete the commit the next
                // block carries.
                let until = tokio::time::Instant::now() + state.pacing(certificate.value_id.time);
                loop {
                    tokio::select! {
                        () = tokio::time::sleep_until(until) => break,
                        vote = next_vote(&mut votes) => match vote {
                            Some(vote) => state.observe_vote(vote),
                            None => votes = None,
                        },
                    }
                }
                let next = Height(certificate.height.0 + 1);
                let set = state.enter(next)?;
                let _ = reply.send(Next::Start(next, set));
            }
            AppMsg::GetDecidedValue { height, reply } => {
                let _ = reply.send(state.decided_value(height)?);
            }
            AppMsg::ProcessSyncedValue {
                height,
                round,
                proposer,
                value_bytes,
                reply,
            } => {
                let _ = reply.send(state.synced_value(height, round, proposer, &value_bytes)?);
            }
        }
    }
    Err(DriverError::Stopped(
        "the engine closed its channel".to_owned(),
    ))
}

/// The next tapped vote; never, without a tap.
async fn next_vote(votes: &mut Option<mpsc::Receiver<NetworkVote>>) -> Option<NetworkVote> {
    match votes {
        Some(votes) => votes.recv().await,
        None => std::future::pending().await,
    }
}

/// Used by this module's tests and its siblings'.
#[cfg(test)]
pub(crate) mod tests {
    use gont_core::{
        Block, Body, Evidence, ExecutionFields, Hash, Header, ValidatorAddress, ValidatorSetHash,
    };

    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use super::*;
    use crate::sim::engine::{POISON, SimEngine};

    /// Decisions in memory: these tests commit nothing.
    #[derive(Default)]
    struct Decisions(Mutex<BTreeMap<u64, DecidedBlock>>);

    impl DecidedStore for Decisions {
        type Error = std::io::Error;

        fn committed_head(&self) -> Result<Option<gont_core::Header>, Self::Error> {
            Ok(None)
        }

        fn decided(&self, height: gont_core::Height) -> Result<Option<DecidedBlock>, Self::Error> {
            Ok(self.0.lock().unwrap().get(&height.0).cloned())
        }

        fn decided_height(&self) -> Result<Option<gont_core::Height>, Self::Error> {
            Ok(self
                .0
                .lock()
                .unwrap()
                .keys()
                .last()
                .map(|h| gont_core::Height(*h)))
        }

        fn put_decided(&self, decided: &DecidedBlock) -> Result<(), Self::Error> {
            self.0
                .lock()
                .unwrap()
                .insert(decided.block.header.height.0, decided.clone());
            Ok(())
        }
    }

    struct NoTransactions;

    impl Host for NoTransactions {
        fn transactions(&mut self, _: u64, _: u64) -> Vec<gont_core::RawTransaction> {
            Vec::new()
        }

        fn committed(&mut self, _: &DecidedBlock, _: Duration) {}
    }

    fn keys() -> Vec<PrivateKey> {
        (1..=4u8).map(|i| PrivateKey::from_seed([i; 32])).collect()
    }

    fn validators() -> ValidatorSet {
        ValidatorSet::new(
            gont_core::ValidatorSet::new(
                keys()
                    .iter()
                    .zip(1u8..)
                    .map(|(k, i)| gont_core::Validator {
                        consensus_key: k.public_key(),
                        operator: gont_core::Address::repeat_byte(i),
                        power: gont_core::VotingPower(100),
                    })
                    .collect(),
            )
            .unwrap(),
        )
    }

    const CHAIN: gont_core::ChainId = gont_core::ChainId(7);

    fn ctx() -> GontContext {
        GontContext::new(CHAIN, gont_core::ConsensusParams::default()).unwrap()
    }

    /// The test key of validator `address`.
    fn key_of(address: Address) -> PrivateKey {
        keys()
            .into_iter()
            .find(|k| Address(k.public_key().address()) == address)
            .unwrap()
    }

    /// The key of the proposer of height 1, round 0, and another key.
    fn proposer_and_other() -> (PrivateKey, PrivateKey) {
        let set = validators();
        let proposer = select_proposer(&set, Height(1), Round::new(0)).address();
        let (mine, others): (Vec<_>, Vec<_>) = keys()
            .into_iter()
            .partition(|k| Address(k.public_key().address()) == proposer);
        (mine[0].clone(), others[0].clone())
    }

    /// A receiving validator at height 1, round 0, whose engine is the
    /// simulation's (it rejects blocks holding `POISON`: the fault injected).
    fn receiver(
        dir: &std::path::Path,
        key: PrivateKey,
    ) -> State<SimEngine, Decisions, NoTransactions> {
        let config = DriverConfig::new(
            dir.to_path_buf(),
            "test".to_owned(),
            "127.0.0.1:1".parse().unwrap(),
            Vec::new(),
        );
        let io = Io {
            engine: SimEngine::new(CHAIN, fixed_sets()),
            store: Decisions::default(),
            host: NoTransactions,
            proposals: Proposals::open(dir.join("proposals")).unwrap(),
            clock: Clock::System,
        };
        let mut state = State::new(ctx(), validators(), key, &config, io);
        state.started_round(Height(1), Round::new(0)).unwrap();
        state
    }

    /// The test set at every height.
    fn fixed_sets() -> std::sync::Arc<crate::epoch::ValidatorSchedule> {
        std::sync::Arc::new(crate::epoch::ValidatorSchedule::new(validators(), 1_000).unwrap())
    }

    /// A block of `txs` at height 1 naming `proposer`.
    fn block(proposer: &PrivateKey, txs: &[gont_core::RawTransaction]) -> Value {
        block_timed(proposer, txs, Clock::System.now_ms())
    }

    /// A block of `txs` at height 1 naming `proposer`, made at `ms`.
    fn block_timed(proposer: &PrivateKey, txs: &[gont_core::RawTransaction], ms: u64) -> Value {
        let attributes = PayloadAttributes {
            timestamp: Timestamp(ms),
            proposer: proposer.public_key().address(),
            fee_recipient: gont_core::Address::ZERO,
            validators_hash: validators().hash(),
            evidence: Vec::new(),
            last_commit: None,
        };
        let block = SimEngine::new(CHAIN, fixed_sets())
            .build_payload(None, attributes, txs)
            .unwrap();
        Value::new(block).unwrap()
    }

    fn peer() -> PeerId {
        let key =
            malachitebft_app_channel::app::types::Keypair::ed25519_from_bytes([9; 32]).unwrap();
        PeerId::from_bytes(&key.public().to_peer_id().to_bytes()).unwrap()
    }

    /// The parts of `value` at height 1, round 0 on `ctx`, signed with
    /// `key`, naming `proposer`.
    fn stream(
        ctx: &GontContext,
        key: &PrivateKey,
        proposer: &PrivateKey,
        value: &Value,
    ) -> Vec<StreamMessage<ProposalPart>> {
        parts::split(
            ctx,
            key,
            Address(proposer.public_key().address()),
            Height(1),
            Round::new(0),
            Round::Nil,
            value,
        )
    }

    /// Feeds a whole stream; returns what the last part answered.
    fn feed(
        state: &mut State<SimEngine, Decisions, NoTransactions>,
        parts: Vec<StreamMessage<ProposalPart>>,
    ) -> Option<ProposedValue<GontContext>> {
        let mut last = None;
        for part in parts {
            last = state.received_part(peer(), part).unwrap();
        }
        last
    }

    #[test]
    fn the_proposers_valid_block_is_accepted_and_kept_for_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let (proposer, other) = proposer_and_other();
        let value = block(&proposer, &[]);
        let mut state = receiver(dir.path(), other.clone());
        let accepted = feed(&mut state, stream(&ctx(), &proposer, &proposer, &value))
            .expect("a complete stream is answered");
        assert_eq!(accepted.validity, Validity::Valid);
        assert_eq!(accepted.value.id(), value.id());
        drop(state);
        // After a restart the value is offered again for its round.
        let mut state = receiver(dir.path(), other);
        let again = state.started_round(Height(1), Round::new(0)).unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].value.id(), value.id());
    }

    #[test]
    fn a_synced_block_is_checked_against_its_heights_proposer_not_the_one_malachite_names() {
        // Malachite 0.5 names a synced value's proposer with the set its
        // consensus held when the response arrived, which is the previous
        // height's when the response was buffered across a set change (a
        // node syncing from scratch refused block 11 of a staking devnet).
        let dir = tempfile::tempdir().unwrap();
        let (proposer, other) = proposer_and_other();
        let value = block(&proposer, &[]);
        let mut state = receiver(dir.path(), other.clone());
        let bytes = Bytes::from(borsh::to_vec(&value).unwrap());
        let named = Address(other.public_key().address());
        let synced = state
            .synced_value(Height(1), Round::new(0), named, &bytes)
            .unwrap()
            .expect("a value of the current height is answered");
        assert_eq!(synced.validity, Validity::Valid);
        assert_eq!(synced.proposer, Address(proposer.public_key().address()));
    }

    #[test]
    fn a_value_proposed_again_in_a_later_round_is_valid_for_a_node_that_missed_its_first_round() {
        // Round 0's proposer streams its block and stops; the validators
        // that received it lock on it, and round 1's proposer proposes it
        // again (pol round 0). A validator that never got round 0's stream
        // must accept the block, whose header names round 0's proposer, or
        // the locked validators and it never agree again (a service of four
        // with one validator paused stopped for good in CI).
        let dir = tempfile::tempdir().unwrap();
        let (proposer, other) = proposer_and_other();
        let second = key_of(select_proposer(&validators(), Height(1), Round::new(1)).address());
        assert_ne!(second.public_key(), proposer.public_key());
        let value = block(&proposer, &[]);
        let again = |pol_round| {
            parts::split(
                &ctx(),
                &second,
                Address(second.public_key().address()),
                Height(1),
                Round::new(1),
                pol_round,
                &value,
            )
        };
        let mut state = receiver(dir.path(), other.clone());
        state.started_round(Height(1), Round::new(1)).unwrap();
        let answered =
            feed(&mut state, again(Round::new(0))).expect("a complete stream is answered");
        assert_eq!(answered.validity, Validity::Valid);
        assert_eq!(answered.valid_round, Round::new(0));
        assert_eq!(answered.value.id(), value.id());

        // Without a pol round the block is new in round 1, and it must
        // name round 1's proposer.
        let dir = tempfile::tempdir().unwrap();
        let mut state = receiver(dir.path(), other.clone());
        state.started_round(Height(1), Round::new(1)).unwrap();
        let answered = feed(&mut state, again(Round::Nil)).expect("a complete stream is answered");
        assert_eq!(answered.validity, Validity::Invalid);

        // Decided in round 1 and synced with its commit: valid too, for a
        // node catching up.
        let dir = tempfile::tempdir().unwrap();
        let mut state = receiver(dir.path(), other);
        let bytes = Bytes::from(borsh::to_vec(&value).unwrap());
        let named = Address(second.public_key().address());
        let synced = state
            .synced_value(Height(1), Round::new(1), named, &bytes)
            .unwrap()
            .expect("a value of the current height is answered");
        assert_eq!(synced.validity, Validity::Valid);
    }

    #[test]
    fn a_block_the_engine_rejects_is_invalid_so_consensus_prevotes_nil() {
        let dir = tempfile::tempdir().unwrap();
        let (proposer, other) = proposer_and_other();
        let poison = gont_core::RawTransaction(POISON.to_vec().into());
        let value = block(&proposer, &[poison]);
        let mut state = receiver(dir.path(), other);
        let answered = feed(&mut state, stream(&ctx(), &proposer, &proposer, &value))
            .expect("a complete stream is answered");
        assert_eq!(answered.validity, Validity::Invalid);
    }

    #[test]
    fn a_block_too_far_ahead_of_our_clock_is_not_refused_for_good() {
        // A node whose clock is behind sees the proposer's block as in the
        // future. That may cost the round's prevote, never the block: the
        // same block with its commit (value sync), after a restart, or
        // once the clock has caught up is accepted.
        let dir = tempfile::tempdir().unwrap();
        let (proposer, other) = proposer_and_other();
        let ahead = DriverConfig::new(
            dir.path().to_path_buf(),
            "test".to_owned(),
            "127.0.0.1:1".parse().unwrap(),
            Vec::new(),
        )
        .max_clock_drift;
        let ahead = u64::try_from(ahead.as_millis()).unwrap() + 60_000;
        let value = block_timed(&proposer, &[], Clock::System.now_ms() + ahead);
        let mut state = receiver(dir.path(), other.clone());
        let answered = feed(&mut state, stream(&ctx(), &proposer, &proposer, &value));
        assert!(
            answered.is_none(),
            "a block from the future is not answered in its round: {answered:?}"
        );
        let bytes = Bytes::from(gont_core::encode(value.block()));
        let proposer_address = Address(proposer.public_key().address());
        let synced = state
            .synced_value(Height(1), Round::new(0), proposer_address, &bytes)
            .unwrap()
            .expect("a synced block is answered");
        assert_eq!(synced.validity, Validity::Valid);
        drop(state);
        let mut state = receiver(dir.path(), other.clone());
        let synced = state
            .synced_value(Height(1), Round::new(0), proposer_address, &bytes)
            .unwrap()
            .expect("a synced block is answered");
        assert_eq!(synced.validity, Validity::Valid, "after a restart");

        // Held while ahead of the clock, then offered at a later round.
        let dir = tempfile::tempdir().unwrap();
        let soon = block_timed(
            &proposer,
            &[],
            Clock::System.now_ms() + ahead - 60_000 + 300,
        );
        let mut state = receiver(dir.path(), other);
        assert!(feed(&mut state, stream(&ctx(), &proposer, &proposer, &soon)).is_none());
        std::thread::sleep(Duration::from_millis(400));
        let offered = state.started_round(Height(1), Round::new(1)).unwrap();
        assert_eq!(offered.len(), 1, "the held block, now timely: {offered:?}");
        assert_eq!(offered[0].value.id(), soon.id());
        assert_eq!(offered[0].round, Round::new(0));
        assert_eq!(offered[0].validity, Validity::Valid);
    }

    #[test]
    fn parts_are_buffered_only_for_the_rounds_proposer_and_a_few_rounds_ahead() {
        let dir = tempfile::tempdir().unwrap();
        let (proposer, other) = proposer_and_other();
        let mut state = receiver(dir.path(), other.clone());
        let first_two = |parts: Vec<StreamMessage<ProposalPart>>| parts.into_iter().take(2);
        // Init naming a validator that is not the round's proposer.
        let own = block(&other, &[]);
        let byzantine = malachitebft_app_channel::app::types::Keypair::ed25519_from_bytes([8; 32])
            .unwrap()
            .public()
            .to_peer_id();
        let byzantine = PeerId::from_bytes(&byzantine.to_bytes()).unwrap();
        for part in first_two(stream(&ctx(), &other, &other, &own)) {
            assert!(state.received_part(byzantine, part).unwrap().is_none());
        }
        assert_eq!(
            state.streams.len(),
            0,
            "a non-proposer's stream is not held"
        );
        // The proposer's stream of round 0 is held while it arrives.
        let value = block(&proposer, &[]);
        for part in first_two(stream(&ctx(), &proposer, &proposer, &value)) {
            assert!(state.received_part(peer(), part).unwrap().is_none());
        }
        assert_eq!(state.streams.len(), 1);
        // A round further ahead than ROUNDS_AHEAD is not.
        let far = Round::new(ROUNDS_AHEAD + 1);
        let far_proposer = select_proposer(&validators(), Height(1), far).address();
        let far_key = key_of(far_proposer);
        let parts = parts::split(
            &ctx(),
            &far_key,
            far_proposer,
            Height(1),
            far,
            Round::Nil,
            &value,
        );
        for part in first_two(parts) {
            assert!(state.received_part(peer(), part).unwrap().is_none());
        }
        assert_eq!(
            state.streams.len(),
            1,
            "a stream too many rounds ahead is not held"
        );
    }

    #[test]
    fn a_node_behind_holds_a_members_streams_of_the_next_few_heights_and_no_further() {
        let dir = tempfile::tempdir().unwrap();
        let (proposer, other) = proposer_and_other();
        let mut state = receiver(dir.path(), other);
        let value = block(&proposer, &[]);
        let mut at = |height: u64| {
            let parts = parts::split(
                &ctx(),
                &proposer,
                Address(proposer.public_key().address()),
                Height(height),
                Round::new(0),
                Round::Nil,
                &value,
            );
            for part in parts {
                assert!(state.received_part(peer(), part).unwrap().is_none());
            }
            state.waiting.held_bytes()
        };
        let held = at(3);
        assert!(held > 0, "two heights ahead is held");
        assert_eq!(at(2 + parts::HEIGHTS_AHEAD), held, "too far ahead");
    }

    #[test]
    fn a_byzantine_stream_from_a_non_proposer_or_with_a_forged_signature_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (proposer, other) = proposer_and_other();
        let mut state = receiver(dir.path(), other.clone());
        // Not the proposer of the round, signing as itself.
        let own = block(&other, &[]);
        assert!(feed(&mut state, stream(&ctx(), &other, &other, &own)).is_none());
        // Naming the proposer, signed with another key.
        let value = block(&proposer, &[]);
        assert!(feed(&mut state, stream(&ctx(), &other, &proposer, &value)).is_none());
        // Another chain's stream.
        let foreign =
            GontContext::new(gont_core::ChainId(8), gont_core::ConsensusParams::default()).unwrap();
        assert!(feed(&mut state, stream(&foreign, &proposer, &proposer, &value)).is_none());
        assert_eq!(
            state.proposals.at(Height(1), 0).count(),
            0,
            "nothing recorded"
        );
    }

    #[test]
    fn a_second_block_proposed_in_one_round_is_evidence_not_a_second_value_and_the_same_block_again_is_not_evidence()
     {
        let dir = tempfile::tempdir().unwrap();
        let (proposer, other) = proposer_and_other();
        let first = block(&proposer, &[]);
        let time = first.block().header.time.as_millis();
        let second = block_timed(&proposer, &[], time + 1);
        let mut state = receiver(dir.path(), other);
        let answer = feed(&mut state, stream(&ctx(), &proposer, &proposer, &first));
        assert_eq!(answer.unwrap().validity, Validity::Valid);
        // The same block streamed again (a relay, a restream): no offence.
        assert!(feed(&mut state, stream(&ctx(), &proposer, &proposer, &first)).is_some());
        assert!(state.evidence.pending().is_empty());

        // The second block of the round is evidence, and not executed,
        // stored or offered to consensus: one value per round's proposer.
        let answer = feed(&mut state, stream(&ctx(), &proposer, &proposer, &second));
        assert!(answer.is_none(), "{answer:?}");
        assert_eq!(state.proposals.at(Height(1), 0).count(), 1);
        let pending = state.evidence.pending();
        assert_eq!(pending.len(), 1, "{pending:?}");
        let Evidence::DuplicateProposal(found) = &pending[0] else {
            panic!("a double proposal, not {:?}", pending[0]);
        };
        assert_eq!(found.validator, proposer.public_key().address());
        assert_eq!((found.height, found.round), (gont_core::Height(1), 0));
        let set = validators();
        let offender = pending[0]
            .verify(CHAIN, set.core())
            .expect("anyone holding the set can check it");
        assert_eq!(offender.consensus_key, proposer.public_key());
        // A third block in the slot adds nothing: one offence, one piece.
        let third = block_timed(&proposer, &[], time + 2);
        feed(&mut state, stream(&ctx(), &proposer, &proposer, &third));
        assert_eq!(state.evidence.pending().len(), 1);
    }

    #[test]
    fn a_stream_whose_body_is_not_the_signed_headers_is_refused_and_the_real_one_accepted() {
        // The proposer signs a block id; a relay that swaps the body under
        // the same header must not get the block judged invalid.
        let dir = tempfile::tempdir().unwrap();
        let (proposer, other) = proposer_and_other();
        let honest = block(&proposer, &[]);
        let mut swapped = honest.block().clone();
        swapped.body.transactions = vec![gont_core::RawTransaction(POISON.to_vec().into())];
        let swapped = Value::new(swapped).unwrap();
        assert_eq!(swapped.id(), honest.id(), "the header is the same");
        let mut state = receiver(dir.path(), other);
        assert!(feed(&mut state, stream(&ctx(), &proposer, &proposer, &swapped)).is_none());
        assert_eq!(
            state.proposals.at(Height(1), 0).count(),
            0,
            "nothing recorded"
        );
        let answer = feed(&mut state, stream(&ctx(), &proposer, &proposer, &honest));
        assert_eq!(answer.unwrap().validity, Validity::Valid);
    }

    /// A block at `height` with time `time_ms`, no transactions.
    pub(crate) fn block_at(height: u64, time_ms: u64) -> Block {
        Block {
            header: Header {
                chain_id: gont_core::ChainId(7),
                height: gont_core::Height(height),
                time: gont_core::Timestamp(time_ms),
                parent: (height > 1).then_some(gont_core::BlockId([1; 32])),
                tx_root: Hash::ZERO,
                state_root: Hash::ZERO,
                receipts_root: Hash::ZERO,
                validators_hash: ValidatorSetHash::ZERO,
                next_validators_hash: ValidatorSetHash::ZERO,
                proposer: ValidatorAddress::ZERO,
                execution: ExecutionFields {
                    gas_used: 0,
                    gas_limit: 30_000_000,
                    base_fee_per_gas: 1,
                    fee_recipient: gont_core::Address::ZERO,
                },
                evidence_hash: None,
                last_commit_hash: None,
            },
            body: Body::default(),
        }
    }
}
