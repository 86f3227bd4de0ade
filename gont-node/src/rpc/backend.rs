//! What the JSON-RPC of one chain needs from the node: reads from storage,
//! calls through the VM, and the mempool. The node implements this over
//! `gont-storage`, `gont-vm` and its pool; the RPC sees only this trait.

use std::collections::BTreeMap;

use alloy_rpc_types_eth::TransactionRequest;
use alloy_rpc_types_eth::state::StateOverride;
use gont_core::light::LightBlock;
use gont_core::state_proof::{ProvenState, StateKey};
use gont_core::{
    AccountState, Address, B256, Block, BlockId, Bytes, ChainId, Height, Receipt, U256,
};
use gont_vm::trace::{AccessListOutcome, GethDebugTracingOptions, GethTrace, TraceResult};

use super::error::RpcError;

/// A committed block with what the RPC shows of it.
#[derive(Clone, Debug)]
pub struct StoredBlock {
    /// The block.
    pub block: Block,
    /// Its id.
    pub id: BlockId,
    /// Its receipts, one per transaction.
    pub receipts: Vec<Receipt>,
    /// The `PREVRANDAO` its transactions saw (Ethereum's `mixHash`).
    pub prevrandao: B256,
}

pub use gont_storage::{IndexedLog, LogFilter};

/// The outcome of `eth_call`.
#[derive(Clone, Debug)]
pub struct CallOutcome {
    /// Whether the call succeeded.
    pub success: bool,
    /// Return data, or revert data when it failed.
    pub output: Bytes,
    /// Gas the call used.
    pub gas_used: u64,
}

/// The node side of one chain's JSON-RPC.
pub trait EthBackend: Send + Sync + 'static {
    /// The chain.
    fn chain_id(&self) -> ChainId;

    /// The newest committed height (0 before the first block).
    fn latest(&self) -> Result<Height, RpcError>;

    /// Whether the node is catching up, and if so from and to which height.
    fn syncing(&self) -> Option<(Height, Height)>;

    /// The committed block at `height` (height 0 is the genesis block).
    fn block(&self, height: Height) -> Result<Option<StoredBlock>, RpcError>;

    /// The height of the block with this id.
    fn height_of(&self, id: BlockId) -> Result<Option<Height>, RpcError>;

    /// Where a committed transaction is.
    fn tx_location(&self, hash: B256) -> Result<Option<(Height, u32)>, RpcError>;

    /// Logs matching `filter` in chain order (at most `filter.limit`), each
    /// with its block's time in seconds.
    fn logs(&self, filter: &LogFilter) -> Result<Vec<(IndexedLog, u64)>, RpcError>;

    /// An account as of `height`.
    fn account(&self, height: Height, address: Address) -> Result<Option<AccountState>, RpcError>;

    /// A storage slot as of `height`.
    fn storage_at(&self, height: Height, address: Address, slot: U256) -> Result<U256, RpcError>;

    /// An account's code as of `height`.
    fn code(&self, height: Height, address: Address) -> Result<Bytes, RpcError>;

    /// Executes a call on the state after `height`, with optional overrides,
    /// without committing.
    fn call(
        &self,
        height: Height,
        request: &TransactionRequest,
        overrides: Option<&StateOverride>,
    ) -> Result<CallOutcome, RpcError>;

    /// The least gas limit with which the call succeeds, its runs using at
    /// most `budget` gas together (`gont_vm::estimate_gas`).
    fn estimate_gas(
        &self,
        height: Height,
        request: &TransactionRequest,
        overrides: Option<&StateOverride>,
        budget: u64,
    ) -> Result<u64, RpcError>;

    /// Traces the transactions of the block at `height` (≥ 1) with geth's
    /// tracer `options`, replayed on the state before it; with `only`, that
    /// transaction alone.
    fn trace_block(
        &self,
        height: Height,
        only: Option<B256>,
        options: &GethDebugTracingOptions,
    ) -> Result<Vec<TraceResult>, RpcError>;

    /// Traces a call on the state after `height`, as [`EthBackend::call`]
    /// executes it.
    fn trace_call(
        &self,
        height: Height,
        request: &TransactionRequest,
        overrides: Option<&StateOverride>,
        options: &GethDebugTracingOptions,
    ) -> Result<GethTrace, RpcError>;

    /// The access list of a call on the state after `height`
    /// (`eth_createAccessList`).
    fn create_access_list(
        &self,
        height: Height,
        request: &TransactionRequest,
    ) -> Result<AccessListOutcome, RpcError>;

    /// Admits a signed transaction to the pool and gossips it; the error is
    /// geth's wording.
    fn submit(&self, raw: Bytes) -> Result<B256, RpcError>;

    /// The sender's next nonce counting pooled transactions.
    fn pending_nonce(&self, address: Address) -> Result<u64, RpcError>;

    /// A pooled transaction by hash, raw.
    fn pending_transaction(&self, hash: B256) -> Option<gont_core::RawTransaction>;

    /// The base fee the next block will have.
    fn next_base_fee(&self) -> Result<u64, RpcError>;

    /// The decided block at `height` (≥ 1) as a light block: header,
    /// commit, and the validator sets of this height and the next. `None`
    /// above the tip.
    fn light_block(&self, height: Height) -> Result<Option<LightBlock>, RpcError>;

    /// The value of `key` after the block at `height`, with its proof
    /// against that height's state root.
    fn prove(&self, height: Height, key: StateKey) -> Result<ProvenState, RpcError>;

    /// Whether this chain has the anchor registry (GONT Space).
    fn has_anchor_registry(&self) -> bool;

    /// The pool's transactions by sender and nonce, split as geth's
    /// `txpool_*` methods show them.
    fn txpool(&self) -> Result<TxPool, RpcError>;

    /// The hashes of transactions the pool admits from now on (sent to
    /// this node or gossiped to it), for `newPendingTransactions`.
    fn new_pending_transactions(&self) -> tokio::sync::broadcast::Receiver<B256>;
}

/// The pool as `txpool_*` shows it: `pending` transactions are executable
/// now (their nonces follow the sender's account nonce without a gap);
/// `queued` ones wait for a gap to fill.
#[derive(Clone, Debug, Default)]
pub struct TxPool {
    /// Executable transactions, by sender and nonce.
    pub pending: BTreeMap<Address, BTreeMap<u64, gont_core::RawTransaction>>,
    /// Waiting transactions, by sender and nonce.
    pub queued: BTreeMap<Address, BTreeMap<u64, gont_core::RawTransaction>>,
}
