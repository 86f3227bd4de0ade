//! What the JSON-RPC of one chain needs from the node: reads from storage,
//! calls through the VM, and the mempool. The node implements this over
//! `gont-storage`, `gont-vm` and its pool; the RPC sees only this trait.

use alloy_rpc_types_eth::TransactionRequest;
use alloy_rpc_types_eth::state::StateOverride;
use gont_core::{AccountState, Address, B256, Block, BlockId, Bytes, ChainId, Height, Log, Receipt, U256};

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
}

/// A log filter: addresses (any of), topics per position (any of, empty =
/// any), and an inclusive height range.
#[derive(Clone, Debug, Default)]
pub struct LogQuery {
    /// Emitting contracts; empty matches every address.
    pub addresses: Vec<Address>,
    /// Up to four positions, each a set of alternatives; empty matches any.
    pub topics: Vec<Vec<B256>>,
    /// First height.
    pub from: Height,
    /// Last height.
    pub to: Height,
}

impl LogQuery {
    /// Whether `log` matches the addresses and topics.
    pub fn matches(&self, log: &Log) -> bool {
        (self.addresses.is_empty() || self.addresses.contains(&log.address))
            && self.topics.iter().enumerate().all(|(i, alternatives)| {
                alternatives.is_empty() || log.topics.get(i).is_some_and(|t| alternatives.contains(t))
            })
    }
}

/// A matching log with where it was emitted.
#[derive(Clone, Debug)]
pub struct LogRecord {
    /// The block's height.
    pub height: Height,
    /// The block's id.
    pub block_id: BlockId,
    /// The block's time in seconds.
    pub timestamp: u64,
    /// The transaction's index in the block.
    pub tx_index: u32,
    /// The transaction's hash.
    pub tx_hash: B256,
    /// The log's index in the block.
    pub log_index: u32,
    /// The log.
    pub log: Log,
}

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

    /// Logs matching `query`, in chain order; at most `limit` of them.
    fn logs(&self, query: &LogQuery, limit: usize) -> Result<Vec<LogRecord>, RpcError>;

    /// An account as of `height`.
    fn account(&self, height: Height, address: Address) -> Result<Option<AccountState>, RpcError>;

    /// A storage slot as of `height`.
    fn storage_at(&self, height: Height, address: Address, slot: U256) -> Result<U256, RpcError>;

    /// An account's code as of `height`.
    fn code(&self, height: Height, address: Address) -> Result<Bytes, RpcError>;

    /// Executes a call on the state after `height`, with optional overrides,
    /// without committing.
    fn call(&self, height: Height, request: &TransactionRequest, overrides: Option<&StateOverride>) -> Result<CallOutcome, RpcError>;

    /// The least gas limit with which the call succeeds.
    fn estimate_gas(&self, height: Height, request: &TransactionRequest, overrides: Option<&StateOverride>) -> Result<u64, RpcError>;

    /// Admits a signed transaction to the pool and gossips it; the error is
    /// geth's wording.
    fn submit(&self, raw: Bytes) -> Result<B256, RpcError>;

    /// The sender's next nonce counting pooled transactions.
    fn pending_nonce(&self, address: Address) -> Result<u64, RpcError>;

    /// A pooled transaction by hash, raw.
    fn pending_transaction(&self, hash: B256) -> Option<gont_core::RawTransaction>;

    /// The base fee the next block will have.
    fn next_base_fee(&self) -> Result<u64, RpcError>;
}
