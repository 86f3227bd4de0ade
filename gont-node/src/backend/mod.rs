//! The JSON-RPC backend of one chain: [`EthBackend`] over the chain's
//! store (`gont-storage`), the VM (`gont-vm`) and the chain's mempool.

use std::sync::{Arc, Mutex};

use alloy_rpc_types_eth::TransactionRequest;
use alloy_rpc_types_eth::state::StateOverride;
use gont_core::light::{self, LightBlock};
use gont_core::state::KECCAK_EMPTY;
use gont_core::state_proof::{ProvenState, StateKey};
use gont_core::{
    AccountState, Address, B256, Block, BlockId, Body, Bytes, ChainId, ExecutionFields,
    ExecutionStore, Genesis, Header, Height, RawTransaction, StateReader, Timestamp, U256,
    ValidatorSet,
};
use gont_storage::{ChainStore, IndexedLog, LogFilter, StoreError};
use gont_vm::trace::{
    AccessListOutcome, GethDebugTracingOptions, GethTrace, TraceError, TraceResult,
};
use gont_vm::{BlockContext, EngineConfig};
use tokio::sync::{broadcast, mpsc};

use crate::journal::Journal;
use crate::mempool::Mempool;
use crate::overrides::{Overridden, call_request};
use crate::rpc::ValidatorInfo;
use crate::rpc::backend::{CallOutcome, EthBackend, StoredBlock, TxPool};
use crate::rpc::error::RpcError;

mod admission;

use admission::Origin;
pub use admission::{AdmitError, JournalReplay};

/// Admitted-transaction notices a slow listener may fall behind by before
/// it misses some (a subscription or a filter not polled in time).
const PENDING_NOTICES: usize = 4096;

fn internal(e: impl std::fmt::Display) -> RpcError {
    RpcError::Internal(e.to_string())
}

impl From<StoreError> for RpcError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Pruned { .. }
            | StoreError::NotCommitted { .. }
            | StoreError::InvalidLogRange { .. } => RpcError::Refused(e.to_string()),
            StoreError::TooManyLogs { .. } => RpcError::Limit(e.to_string()),
            other => RpcError::Internal(other.to_string()),
        }
    }
}

/// The senders of a chain's pooled transactions, which admission recovered,
/// for its engine: a block's transactions that reached the pool first are
/// not recovered again.
#[derive(Debug)]
struct PoolSenders(Arc<Mutex<Mempool>>);

impl gont_vm::KnownSenders for PoolSenders {
    fn known_senders(&self, hashes: &[B256]) -> Vec<Option<Address>> {
        match self.0.lock() {
            Ok(pool) => hashes
                .iter()
                .map(|hash| pool.get(hash).map(|tx| tx.sender))
                .collect(),
            // Recovery gives the same senders, only slower.
            Err(_) => vec![None; hashes.len()],
        }
    }
}

/// One chain's node-side state, shared by its RPC, consensus and gossip.
pub struct ChainBackend {
    store: ChainStore,
    config: EngineConfig,
    genesis_time: Timestamp,
    /// The chain's genesis validator set (what a chain without a staking
    /// contract keeps at every height).
    validators: ValidatorSet,
    mempool: Arc<Mutex<Mempool>>,
    gossip: mpsc::UnboundedSender<RawTransaction>,
    syncing: Arc<Mutex<Option<(Height, Height)>>>,
    /// Hashes of admitted transactions, for pending-transaction
    /// subscriptions and filters.
    admitted: broadcast::Sender<B256>,
    /// Whether the JSON-RPC admits transactions without EIP-155 replay
    /// protection ([`AdmitError::Unprotected`]); gossip admits them always.
    allow_unprotected: std::sync::atomic::AtomicBool,
    /// Why the chain's consensus stopped, once it has.
    halted: std::sync::OnceLock<String>,
    /// The pool's journal, once [`ChainBackend::open_journal`] opened it.
    journal: std::sync::OnceLock<Journal>,
}

impl ChainBackend {
    /// The validator set that decides block `height` (≥ 1): the staking
    /// contract's set in the committed state after `height − 1`.
    pub fn validator_set_at(&self, height: Height) -> Result<ValidatorSet, RpcError> {
        let before = Height(height.0.saturating_sub(1));
        let state = self.store.state_at(before)?;
        Ok(gont_vm::system::staking::validator_set(&state)
            .map_err(internal)?
            .unwrap_or_else(|| self.validators.clone()))
    }

    /// The set deciding the next block, then every other staking
    /// candidate: what `gont_validators` shows.
    pub fn validator_infos(&self) -> Result<Vec<ValidatorInfo>, RpcError> {
        let next = Height(self.latest()?.0.saturating_add(1));
        let set = self.validator_set_at(next)?;
        let candidates = self.staking_validators()?;
        // The contract's status codes (IStaking.sol).
        let status =
            |c: Option<&gont_vm::system::staking::IStaking::Validator>| match c.map(|c| c.status) {
                Some(1) => "bonded",
                Some(2) => "unbonding",
                Some(3) => "jailed",
                _ => "unbonded",
            };
        let jailed_until = |c: Option<&gont_vm::system::staking::IStaking::Validator>| match c {
            Some(c) if c.jailedUntil != 0 => Some(c.jailedUntil),
            _ => None,
        };
        let mut infos: Vec<ValidatorInfo> = set
            .validators()
            .iter()
            .map(|v| {
                let candidate = candidates.iter().find(|c| c.operator == v.operator);
                let stake = candidate.map_or(gont_core::U256::ZERO, |c| c.stake);
                ValidatorInfo {
                    address: v.address().to_string(),
                    consensus_key: v.consensus_key.to_string(),
                    operator: v.operator,
                    power: v.power.0,
                    stake: stake.to_string(),
                    status: status(candidate),
                    jailed_until: jailed_until(candidate),
                    missed_blocks: candidate.map_or(0, |c| c.missedBlocks),
                    in_set: true,
                }
            })
            .collect();
        for c in &candidates {
            if set.validators().iter().any(|v| v.operator == c.operator) {
                continue;
            }
            let key = gont_core::ConsensusKey::from_bytes(c.consensusKey.0).map_err(|e| {
                RpcError::Internal(format!("a staking candidate's key is invalid: {e}"))
            })?;
            infos.push(ValidatorInfo {
                address: key.address().to_string(),
                consensus_key: key.to_string(),
                operator: c.operator,
                power: 0,
                stake: c.stake.to_string(),
                status: status(Some(c)),
                jailed_until: jailed_until(Some(c)),
                missed_blocks: c.missedBlocks,
                in_set: false,
            });
        }
        Ok(infos)
    }

    /// The staking contract's candidates after the latest block.
    pub fn staking_validators(
        &self,
    ) -> Result<Vec<gont_vm::system::staking::IStaking::Validator>, RpcError> {
        let state = self.store.state_at(self.latest()?)?;
        gont_vm::system::staking::validators(&state).map_err(RpcError::from)
    }

    /// The senders of the pooled transactions, for the chain's engine
    /// ([`gont_vm::Engine::with_known_senders`]).
    pub fn pool_senders(&self) -> Arc<dyn gont_vm::KnownSenders> {
        Arc::new(PoolSenders(self.mempool.clone()))
    }

    /// The backend of a chain of `genesis`, decided by `validators`.
    pub fn new(
        store: ChainStore,
        genesis: &Genesis,
        validators: ValidatorSet,
        config: EngineConfig,
        mempool: Arc<Mutex<Mempool>>,
        gossip: mpsc::UnboundedSender<RawTransaction>,
        syncing: Arc<Mutex<Option<(Height, Height)>>>,
    ) -> Self {
        Self {
            store,
            config,
            genesis_time: genesis.genesis_time,
            validators,
            mempool,
            gossip,
            syncing,
            admitted: broadcast::channel(PENDING_NOTICES).0,
            allow_unprotected: std::sync::atomic::AtomicBool::new(false),
            halted: std::sync::OnceLock::new(),
            journal: std::sync::OnceLock::new(),
        }
    }

    /// Lets this chain's JSON-RPC admit transactions without EIP-155 replay
    /// protection (refused by default, as geth refuses them).
    pub fn set_allow_unprotected_txs(&self, allow: bool) {
        self.allow_unprotected
            .store(allow, std::sync::atomic::Ordering::Relaxed);
    }

    /// The chain's store.
    pub fn store(&self) -> &ChainStore {
        &self.store
    }

    /// The chain's execution rules: what its engine runs blocks with.
    pub fn engine_config(&self) -> &EngineConfig {
        &self.config
    }

    fn genesis_id(&self) -> Result<BlockId, RpcError> {
        let hash = self
            .store
            .genesis_hash()?
            .unwrap_or(self.config.genesis_hash);
        Ok(BlockId(hash.0))
    }

    /// Block 0 as Ethereum clients expect it: the genesis state, no
    /// transactions, its id the genesis hash.
    fn genesis_block(&self) -> Result<StoredBlock, RpcError> {
        let header = Header {
            chain_id: self.config.chain.chain_id,
            height: Height(0),
            time: self.genesis_time,
            parent: None,
            tx_root: Body::default().tx_root(),
            state_root: self.store.state_root(Height(0))?,
            receipts_root: gont_core::receipt::receipts_root(&[]),
            validators_hash: gont_core::ValidatorSetHash::ZERO,
            next_validators_hash: gont_core::ValidatorSetHash::ZERO,
            proposer: gont_core::ValidatorAddress::ZERO,
            execution: ExecutionFields {
                gas_used: 0,
                gas_limit: self.config.gas_limit,
                base_fee_per_gas: gont_vm::INITIAL_BASE_FEE,
                fee_recipient: Address::ZERO,
            },
            evidence_hash: None,
            last_commit_hash: None,
        };
        Ok(StoredBlock {
            block: Block {
                header,
                body: Body::default(),
            },
            id: self.genesis_id()?,
            receipts: Vec::new(),
            prevrandao: B256::ZERO,
        })
    }

    fn head_execution(&self) -> Result<Option<ExecutionFields>, RpcError> {
        Ok(self.store.head()?.map(|h| h.execution))
    }

    /// The context of a call on the state after `height`: the next block's.
    fn call_context(&self, height: Height) -> Result<BlockContext, RpcError> {
        let header = if height.0 == 0 {
            None
        } else {
            self.store.header(height)?
        };
        Ok(BlockContext {
            height: Height(height.0 + 1),
            timestamp: header
                .as_ref()
                .map_or(self.genesis_time, |h| h.time)
                .as_secs()
                + 1,
            gas_limit: self.config.gas_limit,
            base_fee: header.as_ref().map_or(gont_vm::INITIAL_BASE_FEE, |h| {
                gont_vm::next_base_fee(&h.execution)
            }),
            coinbase: Address::ZERO,
            prevrandao: gont_vm::prevrandao(
                header.as_ref().and_then(|h| h.id().ok()),
                self.config.genesis_hash,
            ),
            excess_blob_gas: 0,
        })
    }

    /// The pool's best transactions for the next block, within the limits.
    pub fn proposal_transactions(&self, max_bytes: u64, max_gas: u64) -> Vec<RawTransaction> {
        let Ok(base_fee) = self.next_base_fee() else {
            return Vec::new();
        };
        let Ok(latest) = self.latest() else {
            return Vec::new();
        };
        let Ok(state) = self.store.state_at(latest) else {
            return Vec::new();
        };
        let nonce = |sender: &Address| state.account(*sender).ok().flatten().map_or(0, |a| a.nonce);
        match self.mempool.lock() {
            Ok(pool) => pool.select(
                u128::from(base_fee),
                max_gas,
                usize::try_from(max_bytes).unwrap_or(usize::MAX),
                nonce,
            ),
            Err(_) => Vec::new(),
        }
    }

    /// Drops from the pool what the block at `height` included or made
    /// stale, and returns the block as RPC subscribers see it.
    pub fn committed(&self, height: Height) -> Result<Option<StoredBlock>, RpcError> {
        let Some(block) = self.block(height)? else {
            return Ok(None);
        };
        let state = self.store.state_at(height)?;
        // The receipts name each transaction's sender as execution recovered
        // it; only a block stored without them is recovered again.
        let txs = &block.block.body.transactions;
        let senders: std::collections::BTreeSet<Address> = if block.receipts.len() == txs.len() {
            block.receipts.iter().map(|r| r.from).collect()
        } else {
            txs.iter()
                .filter_map(|tx| tx.decode_and_recover().ok().map(|(_, sender)| sender))
                .collect()
        };
        let mut pool = self
            .mempool
            .lock()
            .map_err(|_| internal("mempool lock poisoned"))?;
        for sender in senders {
            let nonce = state.account(sender)?.map_or(0, |a| a.nonce);
            pool.prune_sender(&sender, nonce);
        }
        let expired = pool.expire(crate::wall_clock(), |sender| {
            state.account(*sender).ok().flatten().map_or(0, |a| a.nonce)
        });
        if expired > 0 {
            tracing::debug!(chain = %self.config.chain.chain_id, expired, "txpool: queued transactions expired");
        }
        let rewrite = self
            .journal
            .get()
            .is_some_and(|j| j.needs_rewrite(pool.bytes()));
        drop(pool);
        if rewrite
            && let Some(journal) = self.journal.get()
            && let Err(e) = self.rewrite_journal(journal)
        {
            tracing::warn!(
                chain = %self.config.chain.chain_id,
                path = %journal.path().display(),
                "txpool journal rewrite failed: {e}"
            );
        }
        Ok(Some(block))
    }

    /// The number of transactions in the pool.
    pub fn pool_len(&self) -> usize {
        self.mempool.lock().map_or(0, |p| p.len())
    }

    /// Marks the chain halted (its consensus stopped, for `reason`): it
    /// admits no more transactions, which no block would include.
    pub fn halt(&self, reason: String) {
        let _ = self.halted.set(reason);
    }

    /// Why the chain halted, if it has.
    pub fn halted(&self) -> Option<&str> {
        self.halted.get().map(String::as_str)
    }

    /// Sets what `eth_syncing` reports.
    pub fn set_syncing(&self, state: Option<(Height, Height)>) {
        if let Ok(mut s) = self.syncing.lock() {
            *s = state;
        }
    }
}

impl EthBackend for ChainBackend {
    fn chain_id(&self) -> ChainId {
        self.config.chain.chain_id
    }

    fn latest(&self) -> Result<Height, RpcError> {
        Ok(self.store.latest_height()?.unwrap_or(Height(0)))
    }

    fn syncing(&self) -> Option<(Height, Height)> {
        self.syncing.lock().ok().and_then(|s| *s)
    }

    fn block(&self, height: Height) -> Result<Option<StoredBlock>, RpcError> {
        if height.0 == 0 {
            return self.genesis_block().map(Some);
        }
        let Some(block) = self.store.block(height)? else {
            return Ok(None);
        };
        let receipts = self.store.receipts(height)?.unwrap_or_default();
        let id = block.header.id().map_err(internal)?;
        let prevrandao = gont_vm::prevrandao(block.header.parent, self.config.genesis_hash);
        Ok(Some(StoredBlock {
            block,
            id,
            receipts,
            prevrandao,
        }))
    }

    fn height_of(&self, id: BlockId) -> Result<Option<Height>, RpcError> {
        if id == self.genesis_id()? {
            return Ok(Some(Height(0)));
        }
        Ok(self.store.height_of(id)?)
    }

    fn tx_location(&self, hash: B256) -> Result<Option<(Height, u32)>, RpcError> {
        Ok(self
            .store
            .tx_location(hash)?
            .map(|l| (l.height, u32::try_from(l.index).unwrap_or(u32::MAX))))
    }

    fn logs(&self, filter: &LogFilter) -> Result<Vec<(IndexedLog, u64)>, RpcError> {
        let logs = self.store.logs(filter)?;
        let mut out = Vec::with_capacity(logs.len());
        let mut cached: Option<(Height, u64)> = None;
        for log in logs {
            let timestamp = match cached {
                Some((h, t)) if h == log.height => t,
                _ => {
                    let t = self
                        .store
                        .header(log.height)?
                        .map_or(0, |h| h.time.as_secs());
                    cached = Some((log.height, t));
                    t
                }
            };
            out.push((log, timestamp));
        }
        Ok(out)
    }

    fn account(&self, height: Height, address: Address) -> Result<Option<AccountState>, RpcError> {
        Ok(self.store.state_at(height)?.account(address)?)
    }

    fn storage_at(&self, height: Height, address: Address, slot: U256) -> Result<U256, RpcError> {
        Ok(self.store.state_at(height)?.storage(address, slot)?)
    }

    fn code(&self, height: Height, address: Address) -> Result<Bytes, RpcError> {
        let state = self.store.state_at(height)?;
        let Some(account) = state.account(address)? else {
            return Ok(Bytes::new());
        };
        if account.code_hash == KECCAK_EMPTY {
            return Ok(Bytes::new());
        }
        Ok(state.code(account.code_hash)?.unwrap_or_default())
    }

    fn call(
        &self,
        height: Height,
        request: &TransactionRequest,
        overrides: Option<&StateOverride>,
    ) -> Result<CallOutcome, RpcError> {
        let state = self.store.state_at(height)?;
        let block = self.call_context(height)?;
        let request = call_request(request);
        let outcome = match overrides {
            Some(o) => gont_vm::call(
                &Overridden::new(&state, o),
                &self.config.chain,
                &block,
                &request,
            ),
            None => gont_vm::call(&state, &self.config.chain, &block, &request),
        }
        .map_err(|e| RpcError::Refused(e.to_string()))?;
        Ok(CallOutcome {
            success: outcome.success,
            output: outcome.output,
            gas_used: outcome.gas_used,
        })
    }

    fn estimate_gas(
        &self,
        height: Height,
        request: &TransactionRequest,
        overrides: Option<&StateOverride>,
        budget: u64,
    ) -> Result<u64, RpcError> {
        let state = self.store.state_at(height)?;
        let block = self.call_context(height)?;
        let request = call_request(request);
        match overrides {
            Some(o) => gont_vm::estimate_gas(
                &Overridden::new(&state, o),
                &self.config.chain,
                &block,
                &request,
                budget,
            ),
            None => gont_vm::estimate_gas(&state, &self.config.chain, &block, &request, budget),
        }
        .map_err(call_error)
    }

    fn trace_block(
        &self,
        height: Height,
        only: Option<B256>,
        options: &GethDebugTracingOptions,
    ) -> Result<Vec<TraceResult>, RpcError> {
        let Some(parent) = height.0.checked_sub(1).map(Height) else {
            return Ok(Vec::new());
        };
        let block = self
            .store
            .block(height)?
            .ok_or_else(|| RpcError::Refused(format!("block #{height} not found")))?;
        let id = block.header.id().map_err(internal)?;
        let header = &block.header;
        let context = BlockContext {
            height,
            timestamp: gont_vm::evm_timestamp(header.time),
            gas_limit: header.execution.gas_limit,
            base_fee: header.execution.base_fee_per_gas,
            coinbase: header.execution.fee_recipient,
            prevrandao: gont_vm::prevrandao(header.parent, self.config.genesis_hash),
            excess_blob_gas: 0,
        };
        let txs = block
            .body
            .transactions
            .into_iter()
            .map(gont_vm::RecoveredTx::recover)
            .collect::<Result<Vec<_>, _>>()
            .map_err(internal)?;
        let state = self.store.state_at(parent)?;
        gont_vm::trace::trace_block(
            &state,
            &self.config.chain,
            &context,
            B256::from(id.0),
            txs,
            only,
            options,
        )
        .map_err(trace_error)
    }

    fn trace_call(
        &self,
        height: Height,
        request: &TransactionRequest,
        overrides: Option<&StateOverride>,
        options: &GethDebugTracingOptions,
    ) -> Result<GethTrace, RpcError> {
        let state = self.store.state_at(height)?;
        let block = self.call_context(height)?;
        let request = call_request(request);
        let chain = &self.config.chain;
        match overrides {
            Some(o) => gont_vm::trace::trace_call(
                &Overridden::new(&state, o),
                chain,
                &block,
                &request,
                options,
            ),
            None => gont_vm::trace::trace_call(&state, chain, &block, &request, options),
        }
        .map_err(trace_error)
    }

    fn create_access_list(
        &self,
        height: Height,
        request: &TransactionRequest,
    ) -> Result<AccessListOutcome, RpcError> {
        let state = self.store.state_at(height)?;
        let block = self.call_context(height)?;
        gont_vm::trace::create_access_list(
            &state,
            &self.config.chain,
            &block,
            &call_request(request),
        )
        .map_err(call_error)
    }

    fn submit(&self, raw: Bytes) -> Result<B256, RpcError> {
        Ok(self.admit(RawTransaction(raw), Origin::Local)?)
    }

    fn pending_nonce(&self, address: Address) -> Result<u64, RpcError> {
        let latest = self.latest()?;
        let nonce = self.account(latest, address)?.map_or(0, |a| a.nonce);
        Ok(self
            .mempool
            .lock()
            .map_err(|_| internal("mempool lock poisoned"))?
            .pending_nonce(&address, nonce))
    }

    fn pending_transaction(&self, hash: B256) -> Option<RawTransaction> {
        self.mempool.lock().ok()?.get(&hash).map(|t| t.raw.clone())
    }

    fn next_base_fee(&self) -> Result<u64, RpcError> {
        Ok(self
            .head_execution()?
            .map_or(gont_vm::INITIAL_BASE_FEE, |e| gont_vm::next_base_fee(&e)))
    }

    fn light_block(&self, height: Height) -> Result<Option<LightBlock>, RpcError> {
        let Some(decided) = self.store.decided(height)? else {
            return Ok(None);
        };
        let validators = self.validator_set_at(height)?;
        let next = self.validator_set_at(Height(height.0.saturating_add(1)))?;
        light::light_block(&decided.block.header, &decided.commit, &validators, &next)
            .map(Some)
            .map_err(internal)
    }

    fn prove(&self, height: Height, key: StateKey) -> Result<ProvenState, RpcError> {
        Ok(self.store.prove(height, key)?)
    }

    fn has_anchor_registry(&self) -> bool {
        self.config.chain.system.anchor.is_some()
    }

    fn new_pending_transactions(&self) -> broadcast::Receiver<B256> {
        self.admitted.subscribe()
    }

    fn txpool(&self) -> Result<TxPool, RpcError> {
        let latest = self.latest()?;
        let state = self.store.state_at(latest)?;
        let pool = self
            .mempool
            .lock()
            .map_err(|_| internal("mempool lock poisoned"))?;
        let mut out = TxPool::default();
        for (sender, txs) in pool.by_sender() {
            let mut next = state.account(*sender)?.map_or(0, |a| a.nonce);
            for (nonce, tx) in txs.range(next..) {
                let side = if *nonce == next {
                    next = next.saturating_add(1);
                    &mut out.pending
                } else {
                    &mut out.queued
                };
                side.entry(*sender)
                    .or_default()
                    .insert(*nonce, tx.raw.clone());
            }
        }
        Ok(out)
    }
}

/// A call the VM could not execute, as the RPC answers it.
fn call_error(e: gont_vm::CallError) -> RpcError {
    match e {
        gont_vm::CallError::Reverted { output } => RpcError::Reverted {
            reason: crate::rpc::error::revert_reason(&output),
            data: output,
        },
        gont_vm::CallError::State(reason) => RpcError::Internal(reason),
        other => RpcError::Refused(other.to_string()),
    }
}

/// A trace the VM could not make, as the RPC answers it.
fn trace_error(e: TraceError) -> RpcError {
    match e {
        TraceError::Tracer(reason) => RpcError::InvalidParams(reason),
        TraceError::Call(e) => call_error(e),
        e @ TraceError::Replay { .. } => RpcError::Internal(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_transaction_that_can_never_be_valid_blames_the_relaying_peer() {
        let garbage = RawTransaction(Bytes::from_static(b"\xde\xad"))
            .decode_and_recover()
            .unwrap_err();
        assert!(AdmitError::Decode(garbage).blames_relay());
        let sender = Address::repeat_byte(1);
        assert!(
            AdmitError::Invalid(gont_vm::TxError::GasLimitReached {
                gas: 2,
                available: 1
            })
            .blames_relay()
        );
        for stale in [
            gont_vm::TxError::NonceTooLow {
                sender,
                tx: 1,
                state: 2,
            },
            gont_vm::TxError::InsufficientFunds {
                sender,
                have: U256::ZERO,
                want: U256::from(1),
            },
        ] {
            assert!(!AdmitError::Invalid(stale).blames_relay());
        }
        // A future nonce (the relay has the gap-filling one, this node not
        // yet) or any other pool refusal blames no one.
        for refusal in [
            crate::mempool::MempoolError::AlreadyKnown,
            crate::mempool::MempoolError::NonceTooHigh { next: 1, nonce: 99 },
            crate::mempool::MempoolError::PoolFull,
        ] {
            assert!(!AdmitError::Pool(refusal).blames_relay());
        }
        assert!(
            !AdmitError::Invalid(gont_vm::TxError::NonceTooHigh {
                sender,
                tx: 9,
                state: 1
            })
            .blames_relay()
        );
        assert_eq!(
            AdmitError::Invalid(gont_vm::TxError::GasLimitReached {
                gas: 2,
                available: 1
            })
            .to_string(),
            "exceeds block gas limit"
        );
    }
}
