//! The one error type of the crate.

use std::path::PathBuf;

use gont_core::{BlockId, ChainId, Hash, HeaderError, Height};

/// Why a storage operation failed. Each variant names what failed and
/// carries the values involved, so that a log line alone explains it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file is open in another process (a running node).
    #[error("database file {path} is in use by another process (is the node running?)")]
    InUse {
        /// The file.
        path: PathBuf,
    },
    /// The database file could not be opened or created: not a redb file,
    /// truncated, corrupt, or unreadable.
    #[error("cannot open database file {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// redb's reason.
        source: Box<redb::DatabaseError>,
    },
    /// A valid redb file that was not written by gont-storage.
    #[error(
        "database file {path} is a redb database of another program (tables: {tables:?}), not a GONT store"
    )]
    ForeignDatabase {
        /// The file.
        path: PathBuf,
        /// Up to ten of its table names.
        tables: Vec<String>,
    },
    /// A GONT store of a schema this build cannot read.
    #[error("database file {path} has schema {found:?}; this build reads {supported:?}")]
    SchemaVersion {
        /// The file.
        path: PathBuf,
        /// The schema recorded in the file.
        found: String,
        /// The schema this build reads and writes.
        supported: &'static str,
    },
    /// redb failed during an operation (I/O error, corruption found while
    /// reading, a table of the wrong type).
    #[error("database {path}: {op} failed: {source}")]
    Database {
        /// The file (or `<memory>`).
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// redb's reason.
        source: Box<redb::Error>,
    },
    /// A stored record does not decode: the file was altered or damaged.
    #[error("database {path}: corrupt record in {table} at {key}: {reason}")]
    Corrupt {
        /// The file (or `<memory>`).
        path: PathBuf,
        /// The table.
        table: String,
        /// The record's key, readable.
        key: String,
        /// Why it does not decode.
        reason: String,
    },
    /// The chain has no genesis state yet.
    #[error("chain {chain}: no genesis state has been written")]
    NoGenesis {
        /// The chain.
        chain: ChainId,
    },
    /// `init_genesis` was called with a genesis other than the stored one.
    #[error("chain {chain}: stored genesis {stored} differs from the given genesis {given}")]
    GenesisMismatch {
        /// The chain.
        chain: ChainId,
        /// The genesis hash in the store.
        stored: Hash,
        /// The genesis hash given.
        given: Hash,
    },
    /// `init_genesis` was called with the stored genesis hash but a
    /// different genesis state.
    #[error(
        "chain {chain}: genesis {genesis} is stored with state root {stored_root}, but the given genesis state has root {given_root}"
    )]
    GenesisStateMismatch {
        /// The chain.
        chain: ChainId,
        /// The genesis hash.
        genesis: Hash,
        /// The genesis state root in the store.
        stored_root: Hash,
        /// The root of the given genesis state.
        given_root: Hash,
    },
    /// A block of another chain was given to this chain's store.
    #[error("block of chain {found} given to the store of chain {expected}")]
    ChainMismatch {
        /// This store's chain.
        expected: ChainId,
        /// The block's chain.
        found: ChainId,
    },
    /// A block that does not extend the head.
    #[error(
        "chain {chain}: block at height {found} does not follow the head; expected height {expected}"
    )]
    NotNextBlock {
        /// The chain.
        chain: ChainId,
        /// The height that would extend the head.
        expected: Height,
        /// The block's height.
        found: Height,
    },
    /// A block whose parent is not the head.
    #[error("chain {chain}: block {height} names parent {found:?}, but the head is {expected:?}")]
    ParentMismatch {
        /// The chain.
        chain: ChainId,
        /// The block's height.
        height: Height,
        /// The head's id (`None` below height 1).
        expected: Option<BlockId>,
        /// The parent the block names.
        found: Option<BlockId>,
    },
    /// The header's state root is not the root of the block's changes.
    #[error(
        "chain {chain}: block {height} claims state root {header}, but its changes give {computed}"
    )]
    StateRootMismatch {
        /// The chain.
        chain: ChainId,
        /// The block's height.
        height: Height,
        /// The root in the header.
        header: Hash,
        /// The root of the parent state with the changes applied.
        computed: Hash,
    },
    /// A block with more or fewer receipts than transactions.
    #[error(
        "chain {chain}: block {height} has {transactions} transactions but {receipts} receipts"
    )]
    ReceiptCount {
        /// The chain.
        chain: ChainId,
        /// The block's height.
        height: Height,
        /// Its transactions.
        transactions: usize,
        /// Its receipts.
        receipts: usize,
    },
    /// A header that cannot be hashed (height or time out of Tendermint's
    /// range).
    #[error("chain {chain}: header at height {height} has no block id: {source}")]
    Header {
        /// The chain.
        chain: ChainId,
        /// The header's height.
        height: Height,
        /// Why.
        source: HeaderError,
    },
    /// A read at a height the chain has not reached.
    #[error("chain {chain}: height {height} is above the committed head {head}")]
    NotCommitted {
        /// The chain.
        chain: ChainId,
        /// The height asked for.
        height: Height,
        /// The newest committed height.
        head: Height,
    },
    /// A state read below the oldest height pruning has kept.
    #[error(
        "chain {chain}: state at height {height} was pruned; the oldest state kept is at height {oldest}"
    )]
    Pruned {
        /// The chain.
        chain: ChainId,
        /// The height asked for.
        height: Height,
        /// The oldest height whose state is kept.
        oldest: Height,
    },
    /// The state commitment (Jellyfish Merkle tree) failed.
    #[error("chain {chain}: state commitment at height {height}: {reason}")]
    Commitment {
        /// The chain.
        chain: ChainId,
        /// The version of the tree.
        height: Height,
        /// The tree's reason.
        reason: String,
    },
    /// A decided block whose commit certificate is not for it.
    #[error("chain {chain}: decided block at height {height} does not match its commit: {reason}")]
    DecidedMismatch {
        /// The chain.
        chain: ChainId,
        /// The block's height.
        height: Height,
        /// What differs.
        reason: String,
    },
    /// A second, different block decided at the same height.
    #[error("chain {chain}: height {height} already holds block {stored}, not {given}")]
    DecidedConflict {
        /// The chain.
        chain: ChainId,
        /// The height.
        height: Height,
        /// The block already stored there.
        stored: BlockId,
        /// The block given.
        given: BlockId,
    },
    /// A log filter whose range is empty or reversed.
    #[error("log filter range {from}..={to} is reversed")]
    InvalidLogRange {
        /// The first height.
        from: Height,
        /// The last height.
        to: Height,
    },
    /// A log query that matched more logs than its limit.
    #[error("log query matched more than {limit} logs; narrow the block range or the filter")]
    TooManyLogs {
        /// The limit.
        limit: usize,
    },
}

impl StoreError {
    /// A record that must exist and does not: the file is damaged.
    pub(crate) fn missing(
        path: &std::path::Path,
        table: &str,
        key: impl std::fmt::Display,
    ) -> Self {
        Self::Corrupt {
            path: path.to_path_buf(),
            table: table.to_owned(),
            key: key.to_string(),
            reason: "record missing".to_owned(),
        }
    }
}

/// Attaches the file and the operation to a redb error.
pub(crate) trait OrDb<T> {
    /// Maps the error to [`StoreError::Database`].
    fn or_db(self, path: &std::path::Path, op: &'static str) -> Result<T, StoreError>;
}

impl<T, E: Into<redb::Error>> OrDb<T> for Result<T, E> {
    fn or_db(self, path: &std::path::Path, op: &'static str) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::Database {
            path: path.to_path_buf(),
            op,
            source: Box::new(e.into()),
        })
    }
}
