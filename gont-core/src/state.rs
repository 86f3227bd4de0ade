//! The boundary between execution and storage: account state, the changes a
//! block makes to it, and the traits through which the VM reads state and
//! persists executed blocks. `gont-vm` consumes these traits and
//! `gont-storage` implements them; neither imports the other.

use std::collections::BTreeMap;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::block::Block;
use crate::header::Header;
use crate::primitives::{Address, B256, BlockId, Bytes, Hash, Height, U256};
use crate::receipt::Receipt;

/// keccak-256 of empty code: the code hash of an account without code.
pub const KECCAK_EMPTY: B256 =
    alloy_primitives::b256!("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");

/// An account's fields, as the state commitment holds them.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
pub struct AccountState {
    /// Transactions sent (or contracts created, for a contract).
    pub nonce: u64,
    /// Balance in wei.
    pub balance: U256,
    /// keccak-256 of the code ([`KECCAK_EMPTY`] for none), as Ethereum's.
    pub code_hash: B256,
}

/// What one block changed: the difference between the state before and
/// after it. Ordered maps, so that equal changes encode equally.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
pub struct StateChanges {
    /// Accounts written; `None` for an account deleted (emptied under
    /// EIP-161, or self-destructed in the transaction that created it).
    pub accounts: BTreeMap<Address, Option<AccountState>>,
    /// Storage slots written; a zero value deletes the slot.
    pub storage: BTreeMap<Address, BTreeMap<U256, U256>>,
    /// New code, by keccak hash.
    pub code: BTreeMap<B256, Bytes>,
}

impl StateChanges {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.storage.is_empty() && self.code.is_empty()
    }
}

/// Read access to one chain's state as of one block.
pub trait StateReader {
    /// Why a read failed (I/O, corruption, a pruned height).
    type Error: std::error::Error + Send + Sync + 'static;

    /// The account, if it exists.
    fn account(&self, address: Address) -> Result<Option<AccountState>, Self::Error>;

    /// A storage slot's value (zero if never written).
    fn storage(&self, address: Address, slot: U256) -> Result<U256, Self::Error>;

    /// Code by its keccak hash.
    fn code(&self, code_hash: B256) -> Result<Option<Bytes>, Self::Error>;

    /// The id of an earlier block, for the EVM's `BLOCKHASH`.
    fn block_id(&self, height: Height) -> Result<Option<BlockId>, Self::Error>;
}

/// A block after execution: what a store persists in one write.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct ExecutedBlock {
    /// The block, its header complete.
    pub block: Block,
    /// One receipt per transaction, in order.
    pub receipts: Vec<Receipt>,
    /// What the block changed.
    pub changes: StateChanges,
}

/// Durable storage of one chain's executed blocks and state, as the
/// execution engine needs it.
pub trait ExecutionStore {
    /// Why an operation failed.
    type Error: std::error::Error + Send + Sync + 'static;

    /// A view of the state as of one height.
    type State<'a>: StateReader<Error = Self::Error>
    where
        Self: 'a;

    /// The update of the state commitment that [`Self::prepare`] computed
    /// for a block, kept by the caller until the block is committed so
    /// that [`Self::commit_prepared`] does not compute it again.
    type Prepared: std::fmt::Debug + Send + 'static;

    /// The newest committed header; `None` before the first block.
    fn head(&self) -> Result<Option<Header>, Self::Error>;

    /// The committed header at `height`.
    fn header(&self, height: Height) -> Result<Option<Header>, Self::Error>;

    /// The state after the block at `height`; height 0 is the genesis state.
    fn state_at(&self, height: Height) -> Result<Self::State<'_>, Self::Error>;

    /// The state commitment after the block at `height` with `changes`
    /// applied on top, computed without writing anything.
    fn state_root_after(
        &self,
        height: Height,
        changes: &StateChanges,
    ) -> Result<Hash, Self::Error> {
        Ok(self.prepare(height, changes)?.0)
    }

    /// The state commitment after the block at `height` with `changes`
    /// applied on top, and the update that yields it, computed without
    /// writing anything.
    fn prepare(
        &self,
        height: Height,
        changes: &StateChanges,
    ) -> Result<(Hash, Self::Prepared), Self::Error>;

    /// Writes the genesis state (height 0) and returns its root. Writing the
    /// same genesis again is a no-op; a different one is an error.
    fn init_genesis(&self, genesis_hash: Hash, changes: &StateChanges)
    -> Result<Hash, Self::Error>;

    /// Writes an executed block: header, body, receipts, indexes and state,
    /// in one write transaction, on top of the current head.
    fn commit_block(&self, block: &ExecutedBlock) -> Result<(), Self::Error>;

    /// [`Self::commit_block`] with the commitment update [`Self::prepare`]
    /// made for `block`'s changes: used as it is when it was prepared on
    /// the current head, computed afresh otherwise.
    fn commit_prepared(
        &self,
        block: &ExecutedBlock,
        prepared: Self::Prepared,
    ) -> Result<(), Self::Error>;
}

/// Where consensus records decisions: the decided block with its commit,
/// written before the block is executed, and read back for value sync and
/// to finish a decision interrupted by a crash. `gont-storage` implements
/// it; `gont-consensus` drives it.
pub trait DecidedStore: Send + Sync + 'static {
    /// Why an operation failed.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The newest committed (executed) header; `None` before the first block.
    fn committed_head(&self) -> Result<Option<Header>, Self::Error>;

    /// The decided block at `height` with its commit.
    fn decided(&self, height: Height) -> Result<Option<crate::DecidedBlock>, Self::Error>;

    /// The highest height with a recorded decision.
    fn decided_height(&self) -> Result<Option<Height>, Self::Error>;

    /// Records a decision durably. The same block again replaces its
    /// commit; a different block at a decided height is an error.
    fn put_decided(&self, decided: &crate::DecidedBlock) -> Result<(), Self::Error>;
}
