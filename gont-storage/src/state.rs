//! Reads of one chain's state as of one height, from the state history.

use std::marker::PhantomData;

use gont_core::{AccountState, Address, B256, BlockId, Bytes, Height, StateReader, U256};
use redb::{ReadOnlyTable, ReadTransaction};

use crate::chain::{ChainStore, Snapshot};
use gont_core::state_proof::StateKey;

use crate::commitment;
use crate::error::{OrDb, StoreError};
use crate::tables::{self, Hash32, HeightKey};

/// One chain's state after the block at one height (0: genesis), read from
/// a snapshot: commits made after it was opened do not change what it
/// reads, and pruning cannot take its history away while it lives.
pub struct State<'a> {
    store: ChainStore,
    height: Height,
    values: ReadOnlyTable<(Hash32, HeightKey), tables::Bytes>,
    code: ReadOnlyTable<Hash32, tables::Bytes>,
    block_ids: ReadOnlyTable<HeightKey, Hash32>,
    // Keeps the snapshot the tables read from open.
    _txn: ReadTransaction,
    _store: PhantomData<&'a ChainStore>,
}

impl std::fmt::Debug for State<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("chain", &self.store.chain)
            .field("height", &self.height)
            .finish_non_exhaustive()
    }
}

impl<'a> State<'a> {
    pub(crate) fn new(snap: Snapshot<'a>, height: Height) -> Result<Self, StoreError> {
        snap.require_state(height)?;
        let values = snap.existing(snap.tables().state_values())?;
        let code = snap.existing(snap.tables().code())?;
        let block_ids = snap.existing(snap.tables().block_ids())?;
        Ok(Self {
            store: snap.store.clone(),
            height,
            values,
            code,
            block_ids,
            _txn: snap.txn,
            _store: PhantomData,
        })
    }

    /// The height this state is as of.
    pub fn height(&self) -> Height {
        self.height
    }

    fn leaf(&self, key: &StateKey) -> Result<Option<Vec<u8>>, StoreError> {
        let store = &self.store;
        let found = commitment::newest_value(&self.values, key.key_hash().0, self.height.get())
            .map_err(|e| {
                e.into_store(
                    store.path(),
                    store.tables.state_values_name(),
                    "reading state",
                )
            })?;
        Ok(found.and_then(|(_, value)| value))
    }

    fn corrupt(&self, key: &StateKey, reason: String) -> StoreError {
        StoreError::Corrupt {
            path: self.store.path().to_path_buf(),
            table: self.store.tables.state_values_name().to_owned(),
            key: format!("{key} at height {}", self.height),
            reason,
        }
    }
}

impl StateReader for State<'_> {
    type Error = StoreError;

    fn account(&self, address: Address) -> Result<Option<AccountState>, StoreError> {
        let key = StateKey::Account(address);
        self.leaf(&key)?
            .map(|bytes| gont_core::decode(&bytes).map_err(|e| self.corrupt(&key, e.to_string())))
            .transpose()
    }

    fn storage(&self, address: Address, slot: U256) -> Result<U256, StoreError> {
        let key = StateKey::Storage { address, slot };
        match self.leaf(&key)? {
            None => Ok(U256::ZERO),
            Some(bytes) => gont_core::decode(&bytes).map_err(|e| self.corrupt(&key, e.to_string())),
        }
    }

    fn code(&self, code_hash: B256) -> Result<Option<Bytes>, StoreError> {
        let found = self
            .code
            .get(code_hash.0)
            .or_db(self.store.path(), "reading code")?;
        Ok(found.map(|bytes| Bytes::copy_from_slice(bytes.value())))
    }

    fn block_id(&self, height: Height) -> Result<Option<BlockId>, StoreError> {
        if height.get() == 0 || height > self.height {
            return Ok(None);
        }
        let found = self
            .block_ids
            .get(height.get())
            .or_db(self.store.path(), "reading a block id")?;
        Ok(found.map(|id| BlockId(id.value())))
    }
}
