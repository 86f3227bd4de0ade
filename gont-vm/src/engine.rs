//! [`Engine`]: the [`ExecutionEngine`] of one chain over an
//! [`ExecutionStore`].
//!
//! Blocks are built and validated only on the store's committed head:
//! finality is instant, so there are no forks to keep. An executed block
//! waits in `pending`, keyed by its id, until consensus decides it and
//! calls [`ExecutionEngine::forkchoice_updated`].

use std::collections::HashMap;

use gont_core::evidence::MAX_EVIDENCE_PER_BLOCK;
use gont_core::receipt::receipts_root;
use gont_core::{
    Address, Block, BlockId, Body, CommitCertificate, ConsensusKey, Evidence, ExecutedBlock,
    ExecutionEngine, ExecutionFields, ExecutionStore, ForkchoiceState, Hash, Header, HeaderError,
    Height, PayloadAttributes, PayloadStatus, RawTransaction, ValidatorSet,
};

use crate::chain::{BlockContext, ChainConfig, evm_timestamp, prevrandao};
use crate::error::ExecError;
use crate::executor::{
    BlockStart, InvalidTxPolicy, KnownSenders, Punishment, RecoveredTx, execute_block, recover_all,
    recover_all_known,
};
use crate::fees::{INITIAL_BASE_FEE, next_base_fee};
use crate::system::staking::{self, SetReadError};
use crate::system::{AnchorConfig, StakingConfig};

/// What an engine must know about its chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    /// The chain's rules.
    pub chain: ChainConfig,
    /// Every block's gas limit (the genesis `max_block_gas`).
    pub gas_limit: u64,
    /// The most bytes a block's raw transactions may take together (the
    /// genesis `max_block_bytes`): a validity rule.
    pub max_block_bytes: u64,
    /// The genesis hash: `PREVRANDAO` of the first block.
    pub genesis_hash: Hash,
}

impl EngineConfig {
    /// The configuration of chain `chain_id` of `genesis`: the Space (with
    /// the anchor registry of the genesis's services) or a service, each
    /// with its staking contract; `None`
    /// if the genesis has no such chain.
    pub fn from_genesis(
        genesis: &gont_core::Genesis,
        chain_id: gont_core::ChainId,
    ) -> Option<Self> {
        let mut chain = ChainConfig::gont(chain_id);
        let params = if chain_id == genesis.chain_id {
            chain.system.anchor = Some(std::sync::Arc::new(AnchorConfig::from_genesis(genesis)?));
            genesis.consensus
        } else {
            genesis.service_by_chain(chain_id)?.params
        };
        chain.system.staking = Some(StakingConfig::of(&params));
        Some(Self {
            chain,
            gas_limit: params.max_block_gas,
            max_block_bytes: params.max_block_bytes,
            genesis_hash: genesis.hash(),
        })
    }
}

/// Why the engine could not do what was asked (never a verdict on a
/// block: that is [`PayloadStatus::Invalid`]).
#[derive(Debug, thiserror::Error)]
pub enum EngineError<E: std::error::Error + 'static> {
    /// The store failed.
    #[error("store: {0}")]
    Store(#[source] E),
    /// Execution failed for a reason that is not the block's fault.
    #[error("execution: {0}")]
    Exec(String),
    /// Asked to build on a block that is not the committed head.
    #[error("parent {requested:?} is not the committed head {head:?}")]
    NotHead {
        /// The parent asked for.
        requested: Option<BlockId>,
        /// The store's head.
        head: Option<BlockId>,
    },
    /// The block's time is not after its parent's.
    #[error("timestamp {given} is not after the parent's {parent}")]
    Timestamp {
        /// The attributes' time (ms).
        given: u64,
        /// The parent's (ms).
        parent: u64,
    },
    /// A header could not be mapped (height or time out of range).
    #[error("header: {0}")]
    Header(#[from] HeaderError),
    /// `forkchoice_updated` names a block this engine has not executed.
    #[error("block {0} was neither built nor validated by this engine")]
    UnknownBlock(BlockId),
    /// Asked to build on a commit of the parent that does not decide it.
    #[error("the parent's commit: {0}")]
    LastCommit(String),
    /// A validator set asked of a height whose state is not committed yet.
    #[error("block {height} is not committed (the head is {head})")]
    NotCommitted {
        /// The block whose state was asked for.
        height: Height,
        /// The committed head.
        head: Height,
    },
}

/// The execution engine of one chain.
#[derive(Debug)]
pub struct Engine<S: ExecutionStore> {
    store: S,
    config: EngineConfig,
    /// Blocks built or validated on the head, with the state commitment's
    /// update computed for each, written as it is when one is committed.
    pending: HashMap<BlockId, Executed<S>>,
    /// Senders recovered already (the node's transaction pool).
    known_senders: Option<std::sync::Arc<dyn KnownSenders>>,
}

/// A block's evidence that holds, and the punishments it executes.
struct Judged {
    evidence: Vec<Evidence>,
    punishments: Vec<Punishment>,
}

/// A block executed on the head, with the state commitment's update
/// computed for it.
type Executed<S> = (ExecutedBlock, <S as ExecutionStore>::Prepared);

/// Each member of a set, in set order, and whether it signed a commit.
type Signers = Vec<(ConsensusKey, bool)>;

/// The committed head as the engine builds on it.
struct Parent {
    id: Option<BlockId>,
    height: Height,
    time_ms: Option<u64>,
    execution: Option<ExecutionFields>,
}

impl<S: ExecutionStore> Engine<S> {
    /// An engine over `store`, which must hold the chain's genesis.
    pub fn new(store: S, config: EngineConfig) -> Self {
        Self {
            store,
            config,
            pending: HashMap::new(),
            known_senders: None,
        }
    }

    /// Takes the senders `known` has (the node's transaction pool) for the
    /// transactions it builds and validates blocks of, recovering only the
    /// others.
    #[must_use]
    pub fn with_known_senders(mut self, known: std::sync::Arc<dyn KnownSenders>) -> Self {
        self.known_senders = Some(known);
        self
    }

    /// Decodes `raws` and recovers their senders, but for those known.
    fn recover(&self, raws: &[RawTransaction]) -> Vec<Result<RecoveredTx, crate::TxError>> {
        match &self.known_senders {
            Some(known) => recover_all_known(raws, known.as_ref()),
            None => recover_all(raws),
        }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// A block this engine built or validated and has not committed yet,
    /// with its receipts (what an ABCI application reports before
    /// `Commit`).
    pub fn executed(&self, id: &BlockId) -> Option<&ExecutedBlock> {
        self.pending.get(id).map(|(executed, _)| executed)
    }

    fn parent(&self) -> Result<Parent, EngineError<S::Error>> {
        Ok(match self.store.head().map_err(EngineError::Store)? {
            None => Parent {
                id: None,
                height: Height(0),
                time_ms: None,
                execution: None,
            },
            Some(head) => Parent {
                id: Some(head.id()?),
                height: head.height,
                time_ms: Some(head.time.as_millis()),
                execution: Some(head.execution),
            },
        })
    }

    /// The base fee of the block after `parent`.
    fn base_fee(parent: &Parent) -> u64 {
        parent
            .execution
            .as_ref()
            .map_or(INITIAL_BASE_FEE, next_base_fee)
    }

    fn context(
        &self,
        parent: &Parent,
        time_ms: u64,
        coinbase: Address,
    ) -> Result<BlockContext, EngineError<S::Error>> {
        let height = parent
            .height
            .next()
            .ok_or(HeaderError::Height(parent.height.0))?;
        Ok(BlockContext {
            height,
            timestamp: evm_timestamp(gont_core::Timestamp(time_ms)),
            gas_limit: self.config.gas_limit,
            base_fee: Self::base_fee(parent),
            coinbase,
            prevrandao: prevrandao(parent.id, self.config.genesis_hash),
            excess_blob_gas: 0,
        })
    }

    /// Whether one piece of evidence may be executed in block `height` on
    /// the committed head `parent`, where `convicted` are the offenders of
    /// the block's earlier evidence: the punishment, or why not.
    fn judge(
        &self,
        height: Height,
        parent: Height,
        evidence: &Evidence,
        convicted: &[ConsensusKey],
    ) -> Result<Result<Punishment, String>, EngineError<S::Error>> {
        let Some(staking) = &self.config.chain.system.staking else {
            return Ok(Err(
                "this chain has no staking contract to take evidence".to_owned()
            ));
        };
        let at = evidence.height();
        if at.0 == 0 || at >= height {
            return Ok(Err(format!(
                "evidence of height {at} in block {height}: only earlier heights"
            )));
        }
        if height.0 - at.0 > staking.unbonding_period_blocks {
            return Ok(Err(format!(
                "evidence of height {at} is older than the unbonding period ({} blocks)",
                staking.unbonding_period_blocks
            )));
        }
        let Some(set) = self.validator_set(at)? else {
            return Ok(Err(format!("no validator set at height {at}")));
        };
        let key = match evidence.verify(self.config.chain.chain_id, &set) {
            Ok(validator) => validator.consensus_key,
            Err(e) => return Ok(Err(format!("evidence of height {at}: {e}"))),
        };
        if convicted.contains(&key) {
            return Ok(Err(format!(
                "a second piece of evidence against {} in one block",
                evidence.offender()
            )));
        }
        let state = self.store.state_at(parent).map_err(EngineError::Store)?;
        let punished = staking::punished_at(&state, &key).map_err(EngineError::Store)?;
        if punished >= at.0 {
            return Ok(Err(format!(
                "{} is already punished for an offence at height {punished}",
                evidence.offender()
            )));
        }
        Ok(Ok(Punishment { key, height: at.0 }))
    }

    /// The punishments of a block's `evidence`, or why one piece does not
    /// hold (`skip`: leave such pieces out instead, when building).
    fn judge_all(
        &self,
        height: Height,
        parent: Height,
        evidence: &[Evidence],
        skip: bool,
    ) -> Result<Result<Judged, String>, EngineError<S::Error>> {
        if !skip && evidence.len() > MAX_EVIDENCE_PER_BLOCK {
            return Ok(Err(format!(
                "{} pieces of evidence, more than {MAX_EVIDENCE_PER_BLOCK}",
                evidence.len()
            )));
        }
        let mut kept = Vec::new();
        let mut punishments: Vec<Punishment> = Vec::new();
        for piece in evidence {
            if kept.len() == MAX_EVIDENCE_PER_BLOCK {
                break;
            }
            let convicted: Vec<ConsensusKey> = punishments.iter().map(|p| p.key).collect();
            match self.judge(height, parent, piece, &convicted)? {
                Ok(punishment) => {
                    kept.push(piece.clone());
                    punishments.push(punishment);
                }
                Err(_) if skip => {}
                Err(reason) => return Ok(Err(reason)),
            }
        }
        Ok(Ok(Judged {
            evidence: kept,
            punishments,
        }))
    }

    /// Who of the parent's set signed the parent's commit `commit`, in set
    /// order, or why the commit cannot be the one a block on `parent`
    /// carries. A block above height 1 of a chain with a validator set
    /// carries one when `required` (validation; a block built without one
    /// records nobody); the first block, and blocks of a chain without a
    /// set, carry none.
    fn signers(
        &self,
        parent: &Parent,
        commit: Option<&CommitCertificate>,
        required: bool,
    ) -> Result<Result<Signers, String>, EngineError<S::Error>> {
        let set = match parent.id {
            Some(_) => self.validator_set(parent.height)?,
            None => None,
        };
        let (set, commit) = match (set, commit) {
            (_, None) if !required => return Ok(Ok(Vec::new())),
            (None, None) => return Ok(Ok(Vec::new())),
            (None, Some(_)) => {
                return Ok(Err(
                    "a last commit in a block whose parent has no validator set".to_owned(),
                ));
            }
            (Some(_), None) => {
                return Ok(Err(
                    "the block does not carry its parent's commit".to_owned()
                ));
            }
            (Some(set), Some(commit)) => (set, commit),
        };
        if commit.height != parent.height || Some(commit.block_id) != parent.id {
            return Ok(Err(format!(
                "the last commit is of block {} at {}, not of the parent",
                commit.block_id, commit.height
            )));
        }
        match commit.verify(self.config.chain.chain_id, &set) {
            Ok(signed) => Ok(Ok(set
                .validators()
                .iter()
                .map(|v| v.consensus_key)
                .zip(signed)
                .collect())),
            Err(e) => Ok(Err(format!("the last commit: {e}"))),
        }
    }

    /// Executes the punishments and `txs` on the committed head and
    /// assembles the header; `attributes.evidence` is the evidence the
    /// punishments come from.
    #[allow(clippy::too_many_arguments)]
    fn execute(
        &self,
        parent: &Parent,
        block: &BlockContext,
        time: gont_core::Timestamp,
        start: &BlockStart,
        txs: Vec<RecoveredTx>,
        policy: InvalidTxPolicy,
        attributes: &PayloadAttributes,
    ) -> Result<Result<Executed<S>, String>, EngineError<S::Error>> {
        let state = self
            .store
            .state_at(parent.height)
            .map_err(EngineError::Store)?;
        let output = match execute_block(&state, &self.config.chain, block, start, txs, policy) {
            Ok(output) => output,
            Err(ExecError::State(e)) => return Err(EngineError::Store(e)),
            Err(ExecError::Evm(e)) => return Err(EngineError::Exec(e)),
            Err(e @ ExecError::InvalidTransaction { .. }) => return Ok(Err(e.to_string())),
        };
        drop(state);
        let (state_root, prepared) = self
            .store
            .prepare(parent.height, &output.changes)
            .map_err(EngineError::Store)?;
        let next_validators_hash = output.next_validators.unwrap_or(attributes.validators_hash);
        let body = Body {
            transactions: output.transactions,
            evidence: attributes.evidence.clone(),
            last_commit: attributes.last_commit.clone(),
        };
        let header = Header {
            chain_id: self.config.chain.chain_id,
            height: block.height,
            time,
            parent: parent.id,
            tx_root: body.tx_root(),
            state_root,
            receipts_root: receipts_root(&output.receipts),
            validators_hash: attributes.validators_hash,
            next_validators_hash,
            proposer: attributes.proposer,
            execution: ExecutionFields {
                gas_used: output.gas_used,
                gas_limit: block.gas_limit,
                base_fee_per_gas: block.base_fee,
                fee_recipient: block.coinbase,
            },
            evidence_hash: body.evidence_hash(),
            last_commit_hash: body.last_commit_hash(),
        };
        Ok(Ok((
            ExecutedBlock {
                block: Block { header, body },
                receipts: output.receipts,
                changes: output.changes,
            },
            prepared,
        )))
    }
}

impl<S: ExecutionStore> ExecutionEngine for Engine<S> {
    type Error = EngineError<S::Error>;

    fn build_payload(
        &mut self,
        parent: Option<BlockId>,
        attributes: PayloadAttributes,
        transactions: &[RawTransaction],
    ) -> Result<Block, Self::Error> {
        let head = self.parent()?;
        if parent != head.id {
            return Err(EngineError::NotHead {
                requested: parent,
                head: head.id,
            });
        }
        let time_ms = attributes.timestamp.as_millis();
        if let Some(parent_ms) = head.time_ms
            && time_ms <= parent_ms
        {
            return Err(EngineError::Timestamp {
                given: time_ms,
                parent: parent_ms,
            });
        }
        let block = self.context(&head, time_ms, attributes.fee_recipient)?;
        // Evidence that does not hold is left out, as are transactions
        // that do not decode or recover, and those the executor skips.
        let judged = self
            .judge_all(block.height, head.height, &attributes.evidence, true)?
            .map_err(EngineError::Exec)?;
        let signatures = self
            .signers(&head, attributes.last_commit.as_ref(), false)?
            .map_err(EngineError::LastCommit)?;
        let attributes = PayloadAttributes {
            evidence: judged.evidence,
            ..attributes
        };
        let start = BlockStart {
            punishments: judged.punishments,
            signatures,
        };
        // Those beyond `max_block_bytes` wait for a later block.
        let mut room = self.config.max_block_bytes;
        let fitting = transactions
            .iter()
            .take_while(|tx| {
                let fits = tx.0.len() as u64 <= room;
                room = room.saturating_sub(tx.0.len() as u64);
                fits
            })
            .count();
        let txs = self
            .recover(transactions.get(..fitting).unwrap_or_default())
            .into_iter()
            .filter_map(Result::ok)
            .collect();
        let executed = self
            .execute(
                &head,
                &block,
                attributes.timestamp,
                &start,
                txs,
                InvalidTxPolicy::Skip,
                &attributes,
            )?
            .map_err(EngineError::Exec)?;
        let built = executed.0.block.clone();
        self.pending.insert(built.header.id()?, executed);
        Ok(built)
    }

    fn new_payload(&mut self, block: &Block) -> Result<PayloadStatus, Self::Error> {
        let invalid = |reason: String| Ok(PayloadStatus::Invalid { reason });
        let head = self.parent()?;
        let header = &block.header;
        if header.chain_id != self.config.chain.chain_id {
            return invalid(format!(
                "chain id {} is not {}",
                header.chain_id, self.config.chain.chain_id
            ));
        }
        if header.parent != head.id {
            return invalid(format!(
                "parent {:?} is not the head {:?}",
                header.parent, head.id
            ));
        }
        if Some(header.height) != head.height.next() {
            return invalid(format!(
                "height {} does not follow {}",
                header.height, head.height
            ));
        }
        if let Some(parent_ms) = head.time_ms
            && header.time.as_millis() <= parent_ms
        {
            return invalid(format!("time {} is not after the parent's", header.time));
        }
        let coinbase = header.execution.fee_recipient;
        // On a chain with staking: the height's set decides the block, its
        // proposer is in it, and the fees go to the proposer's operator.
        if let Some(set) = self.validator_set(header.height)? {
            if header.validators_hash != set.hash() {
                return invalid("the validators hash is not the height's set".to_owned());
            }
            let Some((_, proposer)) = set.get(&header.proposer) else {
                return invalid(format!(
                    "proposer {} is not in the height's validator set",
                    header.proposer
                ));
            };
            if proposer.operator != coinbase {
                return invalid(format!(
                    "fee recipient {coinbase} is not the proposer's operator {}",
                    proposer.operator
                ));
            }
        }
        let context = self.context(&head, header.time.as_millis(), coinbase)?;
        if header.execution.gas_limit != context.gas_limit {
            return invalid(format!(
                "gas limit {} is not {}",
                header.execution.gas_limit, context.gas_limit
            ));
        }
        if header.execution.base_fee_per_gas != context.base_fee {
            return invalid(format!(
                "base fee {} is not {}",
                header.execution.base_fee_per_gas, context.base_fee
            ));
        }
        if let Err(mismatch) = block.check_body() {
            return invalid(mismatch.to_string());
        }
        let bytes: u64 = block
            .body
            .transactions
            .iter()
            .map(|tx| tx.0.len() as u64)
            .sum();
        if bytes > self.config.max_block_bytes {
            return invalid(format!(
                "the transactions take {bytes} bytes, more than max_block_bytes {}",
                self.config.max_block_bytes
            ));
        }
        let mut txs = Vec::with_capacity(block.body.transactions.len());
        for (index, recovered) in self
            .recover(&block.body.transactions)
            .into_iter()
            .enumerate()
        {
            match recovered {
                Ok(tx) => txs.push(tx),
                Err(e) => return invalid(format!("transaction {index}: {e}")),
            }
        }
        let punishments =
            match self.judge_all(header.height, head.height, &block.body.evidence, false)? {
                Ok(judged) => judged.punishments,
                Err(reason) => return invalid(reason),
            };
        let signatures = match self.signers(&head, block.body.last_commit.as_ref(), true)? {
            Ok(signatures) => signatures,
            Err(reason) => return invalid(reason),
        };
        let start = BlockStart {
            punishments,
            signatures,
        };
        let attributes = PayloadAttributes {
            timestamp: header.time,
            proposer: header.proposer,
            fee_recipient: coinbase,
            validators_hash: header.validators_hash,
            evidence: block.body.evidence.clone(),
            last_commit: block.body.last_commit.clone(),
        };
        let executed = match self.execute(
            &head,
            &context,
            header.time,
            &start,
            txs,
            InvalidTxPolicy::Reject,
            &attributes,
        )? {
            Ok(executed) => executed,
            Err(reason) => return invalid(reason),
        };
        let ours = &executed.0.block.header;
        let checks = [
            ("tx_root", ours.tx_root == header.tx_root),
            (
                "gas_used",
                ours.execution.gas_used == header.execution.gas_used,
            ),
            ("receipts_root", ours.receipts_root == header.receipts_root),
            ("state_root", ours.state_root == header.state_root),
        ];
        if let Some((field, _)) = checks.iter().find(|(_, ok)| !ok) {
            return invalid(format!("{field} does not match re-execution"));
        }
        // Every field is now equal; compare whole headers as a last guard.
        if ours != header {
            return invalid("header does not match re-execution".to_owned());
        }
        self.pending.insert(header.id()?, executed);
        Ok(PayloadStatus::Valid)
    }

    fn forkchoice_updated(&mut self, state: ForkchoiceState) -> Result<(), Self::Error> {
        if self.parent()?.id == Some(state.finalized) {
            return Ok(());
        }
        let (executed, prepared) = self
            .pending
            .remove(&state.finalized)
            .ok_or(EngineError::UnknownBlock(state.finalized))?;
        self.store
            .commit_prepared(&executed, prepared)
            .map_err(EngineError::Store)?;
        // Everything else pending was built on the old head.
        self.pending.clear();
        Ok(())
    }

    fn validator_set(&self, height: Height) -> Result<Option<ValidatorSet>, Self::Error> {
        if self.config.chain.system.staking.is_none() {
            return Ok(None);
        }
        let Some(before) = height.0.checked_sub(1) else {
            return Ok(None);
        };
        let head = self.parent()?.height;
        if before > head.0 {
            return Err(EngineError::NotCommitted {
                height: Height(before),
                head,
            });
        }
        let state = self
            .store
            .state_at(Height(before))
            .map_err(EngineError::Store)?;
        staking::validator_set(&state).map_err(|e| match e {
            SetReadError::State(e) => EngineError::Store(e),
            SetReadError::Invalid(reason) => EngineError::Exec(reason),
        })
    }
}
