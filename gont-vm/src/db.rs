//! [`StateDb`]: revm's `Database` over a [`StateReader`], with the block's
//! writes layered on top. revm reads through it; after each transaction it
//! takes the transaction's changes (`DatabaseCommit`), and at the end of the
//! block it yields them as one [`StateChanges`].

use std::collections::{BTreeSet, HashMap, HashSet};

use gont_core::state::KECCAK_EMPTY;
use gont_core::{AccountState, Address, B256, Bytes, Height, StateChanges, StateReader, U256};
use revm::bytecode::Bytecode;
use revm::database_interface::{DBErrorMarker, Database, DatabaseCommit, DatabaseRef};
use revm::primitives::AddressMap;
use revm::state::{Account, AccountInfo};

/// Why revm could not read state.
#[derive(Debug, thiserror::Error)]
pub enum DbError<E: std::error::Error + 'static> {
    /// The state reader failed.
    #[error(transparent)]
    Read(E),
    /// An account names code the store does not hold: a corrupt store.
    #[error("code {0} is missing from the store")]
    MissingCode(B256),
}

impl<E: std::error::Error + Send + Sync + 'static> DBErrorMarker for DbError<E> {}

/// The block's state: a [`StateReader`] for the state before the block,
/// with every write of the block's transactions so far on top, and caches
/// of what was read.
#[derive(Debug)]
pub struct StateDb<'a, R> {
    reader: &'a R,
    /// Accounts as the reader has them, once read.
    original: HashMap<Address, Option<AccountState>>,
    /// Storage as the reader has it, once read.
    original_storage: HashMap<(Address, U256), U256>,
    /// Accounts written by the block; `None` for deleted.
    accounts: HashMap<Address, Option<AccountState>>,
    /// Slots written by the block.
    storage: HashMap<Address, HashMap<U256, U256>>,
    /// Accounts whose storage from before the block no longer applies
    /// (deleted, or created afresh).
    wiped: HashSet<Address>,
    /// Code deployed by the block.
    code: HashMap<B256, Bytes>,
    /// Code read, decoded.
    code_cache: HashMap<B256, Bytecode>,
}

impl<'a, R: StateReader> StateDb<'a, R> {
    /// An empty block's state over `reader`.
    pub fn new(reader: &'a R) -> Self {
        Self {
            reader,
            original: HashMap::new(),
            original_storage: HashMap::new(),
            accounts: HashMap::new(),
            storage: HashMap::new(),
            wiped: HashSet::new(),
            code: HashMap::new(),
            code_cache: HashMap::new(),
        }
    }

    /// The account as of the block's writes so far.
    pub fn account(&mut self, address: Address) -> Result<Option<AccountState>, DbError<R::Error>> {
        if let Some(written) = self.accounts.get(&address) {
            return Ok(*written);
        }
        if let Some(read) = self.original.get(&address) {
            return Ok(*read);
        }
        let read = self.reader.account(address).map_err(DbError::Read)?;
        self.original.insert(address, read);
        Ok(read)
    }

    /// The code hash this overlay last saw for `address`, without reading.
    fn known_code_hash(&self, address: &Address) -> Option<B256> {
        self.accounts
            .get(address)
            .or_else(|| self.original.get(address))
            .map(|a| a.map_or(KECCAK_EMPTY, |a| a.code_hash))
    }

    /// Adds code to the block's writes (used by genesis to place code
    /// directly).
    pub fn insert_code(&mut self, code_hash: B256, code: Bytes) {
        self.code.insert(code_hash, code);
    }

    /// The block's writes as [`StateChanges`], with the set of accounts
    /// whose earlier storage must be dropped before the changes apply: for
    /// a deleted account the deletion says so, and an account created over
    /// one that had storage is impossible on a chain that starts from a
    /// GONT genesis (creation requires an empty account, and every account
    /// with storage has code or a nonce), so stores may ignore the set; the
    /// conformance runner applies it because Ethereum's tests start from
    /// arbitrary states.
    pub fn into_changes(self) -> (StateChanges, BTreeSet<Address>) {
        let mut changes = StateChanges::default();
        for (address, account) in &self.accounts {
            let unchanged = self.original.get(address) == Some(account);
            if unchanged && !self.wiped.contains(address) {
                continue;
            }
            changes.accounts.insert(*address, *account);
        }
        for (address, slots) in self.storage {
            if matches!(self.accounts.get(&address), Some(None)) {
                continue;
            }
            if slots.is_empty() {
                continue;
            }
            changes.storage.insert(address, slots.into_iter().collect());
        }
        changes.code = self.code.into_iter().collect();
        let wiped = self.wiped.into_iter().collect();
        (changes, wiped)
    }
}

/// revm's view of an account (its code is read by hash when needed).
fn account_info(account: AccountState) -> AccountInfo {
    AccountInfo {
        balance: account.balance,
        nonce: account.nonce,
        code_hash: account.code_hash,
        code: None,
        ..AccountInfo::default()
    }
}

impl<R: StateReader> Database for StateDb<'_, R>
where
    R::Error: Send + Sync,
{
    type Error = DbError<R::Error>;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        Ok(self.account(address)?.map(account_info))
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        if let Some(code) = self.code_cache.get(&code_hash) {
            return Ok(code.clone());
        }
        let code = self.code_by_hash_ref(code_hash)?;
        if !code.is_empty() {
            self.code_cache.insert(code_hash, code.clone());
        }
        Ok(code)
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, Self::Error> {
        let value = self.storage_ref(address, index)?;
        let written = self
            .storage
            .get(&address)
            .is_some_and(|s| s.contains_key(&index));
        if !written && !self.wiped.contains(&address) {
            self.original_storage.insert((address, index), value);
        }
        Ok(value)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, Self::Error> {
        self.block_hash_ref(number)
    }
}

/// Reads as [`Database`] does, without filling the caches: for tracers
/// that look at the state before a transaction (geth's `prestateTracer`).
impl<R: StateReader> DatabaseRef for StateDb<'_, R>
where
    R::Error: Send + Sync,
{
    type Error = DbError<R::Error>;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        let account = match self.accounts.get(&address).or(self.original.get(&address)) {
            Some(known) => *known,
            None => self.reader.account(address).map_err(DbError::Read)?,
        };
        Ok(account.map(account_info))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        if code_hash == KECCAK_EMPTY || code_hash == B256::ZERO {
            return Ok(Bytecode::default());
        }
        if let Some(code) = self.code_cache.get(&code_hash) {
            return Ok(code.clone());
        }
        let raw = match self.code.get(&code_hash) {
            Some(raw) => raw.clone(),
            None => self
                .reader
                .code(code_hash)
                .map_err(DbError::Read)?
                .ok_or(DbError::MissingCode(code_hash))?,
        };
        Ok(Bytecode::new_raw_checked(raw.clone()).unwrap_or_else(|_| Bytecode::new_legacy(raw)))
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, Self::Error> {
        if let Some(value) = self.storage.get(&address).and_then(|s| s.get(&index)) {
            return Ok(*value);
        }
        if self.wiped.contains(&address) {
            return Ok(U256::ZERO);
        }
        if let Some(value) = self.original_storage.get(&(address, index)) {
            return Ok(*value);
        }
        self.reader.storage(address, index).map_err(DbError::Read)
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Self::Error> {
        Ok(self
            .reader
            .block_id(Height(number))
            .map_err(DbError::Read)?
            .map_or(B256::ZERO, |id| B256::from(id.0)))
    }
}

impl<R: StateReader> DatabaseCommit for StateDb<'_, R> {
    fn commit(&mut self, changes: AddressMap<Account>) {
        for (address, account) in changes {
            if !account.is_touched() {
                continue;
            }
            // Under Cancun a self-destruct deletes only an account created
            // in the same transaction; EIP-161 deletes touched empty ones.
            if account.is_selfdestructed() || (!account.is_created() && account.is_empty()) {
                self.accounts.insert(address, None);
                self.storage.remove(&address);
                self.wiped.insert(address);
                continue;
            }
            if account.is_created() {
                self.storage.remove(&address);
                self.wiped.insert(address);
            }
            let info = &account.info;
            if info.code_hash != KECCAK_EMPTY
                && (account.is_created() || self.known_code_hash(&address) != Some(info.code_hash))
                && let Some(code) = &info.code
            {
                self.code
                    .entry(info.code_hash)
                    .or_insert_with(|| code.original_bytes());
            }
            self.accounts.insert(
                address,
                Some(AccountState {
                    nonce: info.nonce,
                    balance: info.balance,
                    code_hash: info.code_hash,
                }),
            );
            let slots = self.storage.entry(address).or_default();
            for (slot, value) in account.storage {
                if value.is_changed() {
                    slots.insert(slot, value.present_value);
                }
            }
        }
    }
}
