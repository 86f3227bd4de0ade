//! [`MemoryState`]: a whole chain state in memory, behind [`StateReader`].
//! For the conformance runners (a state test *is* an in-memory pre-state),
//! genesis building, benchmarks and tests; nodes read through
//! `gont-storage`.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;

use gont_core::{
    AccountState, Address, B256, BlockId, Bytes, Height, StateChanges, StateReader, U256,
};

/// Accounts, storage, code and block ids, in ordered maps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryState {
    /// Existing accounts.
    pub accounts: BTreeMap<Address, AccountState>,
    /// Non-zero storage slots.
    pub storage: BTreeMap<Address, BTreeMap<U256, U256>>,
    /// Code by keccak hash.
    pub code: BTreeMap<B256, Bytes>,
    /// Ids of earlier blocks, for `BLOCKHASH`.
    pub block_ids: BTreeMap<Height, BlockId>,
}

impl MemoryState {
    /// Applies a block's changes. `wiped` names accounts whose storage is
    /// dropped first (see [`crate::StateDb::into_changes`]); an account
    /// written as `None` loses its storage too.
    pub fn apply(&mut self, changes: &StateChanges, wiped: &BTreeSet<Address>) {
        for address in wiped {
            self.storage.remove(address);
        }
        for (address, account) in &changes.accounts {
            match account {
                Some(account) => {
                    self.accounts.insert(*address, *account);
                }
                None => {
                    self.accounts.remove(address);
                    self.storage.remove(address);
                }
            }
        }
        for (address, slots) in &changes.storage {
            let stored = self.storage.entry(*address).or_default();
            for (slot, value) in slots {
                if value.is_zero() {
                    stored.remove(slot);
                } else {
                    stored.insert(*slot, *value);
                }
            }
            if stored.is_empty() {
                self.storage.remove(address);
            }
        }
        for (hash, code) in &changes.code {
            self.code.insert(*hash, code.clone());
        }
    }
}

impl StateReader for MemoryState {
    type Error = Infallible;

    fn account(&self, address: Address) -> Result<Option<AccountState>, Self::Error> {
        Ok(self.accounts.get(&address).copied())
    }

    fn storage(&self, address: Address, slot: U256) -> Result<U256, Self::Error> {
        Ok(self
            .storage
            .get(&address)
            .and_then(|s| s.get(&slot))
            .copied()
            .unwrap_or_default())
    }

    fn code(&self, code_hash: B256) -> Result<Option<Bytes>, Self::Error> {
        Ok(self.code.get(&code_hash).cloned())
    }

    fn block_id(&self, height: Height) -> Result<Option<BlockId>, Self::Error> {
        Ok(self.block_ids.get(&height).copied())
    }
}
