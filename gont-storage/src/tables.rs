//! The redb tables: one global metadata table, and one set of tables per
//! chain whose names carry the chain id (`gont/<chain id>/<concept>`), so
//! that GONT Space and every service live side by side in one file and a
//! chain's data can be listed or dropped by name.
//!
//! Records are the canonical (borsh) encodings of `gont-core` types, except
//! where a key must sort: heights are redb `u64` keys, hashes `[u8; 32]`.

use std::path::Path;

use borsh::BorshDeserialize;
use gont_core::ChainId;
use redb::TableDefinition;

use crate::error::{OrDb, StoreError};

/// The global metadata table: the schema marker.
pub(crate) const GLOBAL_META: TableDefinition<'static, &'static str, &'static [u8]> =
    TableDefinition::new("gont/meta");

/// The key of the schema marker in [`GLOBAL_META`].
pub(crate) const SCHEMA_KEY: &str = "schema";

/// The schema this build reads and writes. A change to any table layout or
/// record encoding changes it.
pub(crate) const SCHEMA: &str = "gont-storage/1";

/// Per-chain metadata keys.
pub(crate) mod meta {
    /// The genesis hash given to `init_genesis`.
    pub(crate) const GENESIS_HASH: &str = "genesis_hash";
    /// The state root at height 0.
    pub(crate) const GENESIS_ROOT: &str = "genesis_root";
    /// The newest committed height (0 right after genesis).
    pub(crate) const HEAD: &str = "head";
    /// The oldest height whose state is still kept.
    pub(crate) const OLDEST_STATE: &str = "oldest_state";
}

/// A height key.
pub(crate) type HeightKey = u64;
/// A 32-byte hash key.
pub(crate) type Hash32 = [u8; 32];
/// An encoded record.
pub(crate) type Bytes = &'static [u8];

/// The names of one chain's tables.
#[derive(Debug)]
pub(crate) struct ChainTables {
    meta: String,
    headers: String,
    block_ids: String,
    block_heights: String,
    bodies: String,
    receipts: String,
    txs: String,
    log_blocks: String,
    log_addresses: String,
    log_topics: String,
    code: String,
    state_values: String,
    state_nodes: String,
    stale_nodes: String,
    stale_values: String,
    commits: String,
    decided_blocks: String,
}

/// The prefix of every table of `chain`.
pub(crate) fn chain_prefix(chain: ChainId) -> String {
    format!("gont/{}/", chain.get())
}

impl ChainTables {
    pub(crate) fn new(chain: ChainId) -> Self {
        let prefix = chain_prefix(chain);
        let name = |concept: &str| format!("{prefix}{concept}");
        Self {
            meta: name("meta"),
            headers: name("headers"),
            block_ids: name("block_ids"),
            block_heights: name("block_heights"),
            bodies: name("bodies"),
            receipts: name("receipts"),
            txs: name("txs"),
            log_blocks: name("log_blocks"),
            log_addresses: name("log_addresses"),
            log_topics: name("log_topics"),
            code: name("code"),
            state_values: name("state_values"),
            state_nodes: name("state_nodes"),
            stale_nodes: name("stale_nodes"),
            stale_values: name("stale_values"),
            commits: name("commits"),
            decided_blocks: name("decided_blocks"),
        }
    }

    /// Metadata: key → borsh value (see [`meta`]).
    pub(crate) fn meta(&self) -> TableDefinition<'_, &'static str, Bytes> {
        TableDefinition::new(&self.meta)
    }

    /// Height → encoded `Header`.
    pub(crate) fn headers(&self) -> TableDefinition<'_, HeightKey, Bytes> {
        TableDefinition::new(&self.headers)
    }

    /// Height → block id.
    pub(crate) fn block_ids(&self) -> TableDefinition<'_, HeightKey, Hash32> {
        TableDefinition::new(&self.block_ids)
    }

    /// Block id → height.
    pub(crate) fn block_heights(&self) -> TableDefinition<'_, Hash32, HeightKey> {
        TableDefinition::new(&self.block_heights)
    }

    /// Height → encoded `Body`.
    pub(crate) fn bodies(&self) -> TableDefinition<'_, HeightKey, Bytes> {
        TableDefinition::new(&self.bodies)
    }

    /// Height → encoded `Vec<Receipt>`.
    pub(crate) fn receipts(&self) -> TableDefinition<'_, HeightKey, Bytes> {
        TableDefinition::new(&self.receipts)
    }

    /// Transaction hash → (height, index in block).
    pub(crate) fn txs(&self) -> TableDefinition<'_, Hash32, (HeightKey, u64)> {
        TableDefinition::new(&self.txs)
    }

    /// Height → number of logs, for blocks with at least one log.
    pub(crate) fn log_blocks(&self) -> TableDefinition<'_, HeightKey, u64> {
        TableDefinition::new(&self.log_blocks)
    }

    /// (emitting address, height) → (): the blocks in which an address logged.
    pub(crate) fn log_addresses(&self) -> TableDefinition<'_, ([u8; 20], HeightKey), ()> {
        TableDefinition::new(&self.log_addresses)
    }

    /// (topic position, topic, height) → (): the blocks with a log carrying
    /// that topic at that position.
    pub(crate) fn log_topics(&self) -> TableDefinition<'_, (u8, Hash32, HeightKey), ()> {
        TableDefinition::new(&self.log_topics)
    }

    /// Code hash (keccak) → code.
    pub(crate) fn code(&self) -> TableDefinition<'_, Hash32, Bytes> {
        TableDefinition::new(&self.code)
    }

    /// (state key hash, height written) → tagged value: the state history,
    /// and the value store of the Jellyfish Merkle tree.
    pub(crate) fn state_values(&self) -> TableDefinition<'_, (Hash32, HeightKey), Bytes> {
        TableDefinition::new(&self.state_values)
    }

    /// Encoded JMT `NodeKey` → encoded JMT `Node`.
    pub(crate) fn state_nodes(&self) -> TableDefinition<'_, Bytes, Bytes> {
        TableDefinition::new(&self.state_nodes)
    }

    /// (height since which stale, encoded node key) → (): tree nodes that
    /// pruning may delete once that height leaves the kept window.
    pub(crate) fn stale_nodes(&self) -> TableDefinition<'_, (HeightKey, Bytes), ()> {
        TableDefinition::new(&self.stale_nodes)
    }

    /// (height since which stale, key hash, height of the replaced value)
    /// → (): values that pruning may delete.
    pub(crate) fn stale_values(&self) -> TableDefinition<'_, (HeightKey, Hash32, HeightKey), ()> {
        TableDefinition::new(&self.stale_values)
    }

    /// Height → encoded `CommitCertificate`.
    pub(crate) fn commits(&self) -> TableDefinition<'_, HeightKey, Bytes> {
        TableDefinition::new(&self.commits)
    }

    /// Height → encoded `Block`, for decided blocks not committed yet.
    pub(crate) fn decided_blocks(&self) -> TableDefinition<'_, HeightKey, Bytes> {
        TableDefinition::new(&self.decided_blocks)
    }

    /// The name of the state values table, for errors.
    pub(crate) fn state_values_name(&self) -> &str {
        &self.state_values
    }

    /// The name of the state tree nodes table, for errors.
    pub(crate) fn state_nodes_name(&self) -> &str {
        &self.state_nodes
    }

    /// Opens (creating) every table in a write transaction, so that read
    /// transactions find them all once genesis is committed.
    pub(crate) fn create_all(&self, txn: &redb::WriteTransaction) -> Result<(), redb::TableError> {
        txn.open_table(self.meta())?;
        txn.open_table(self.headers())?;
        txn.open_table(self.block_ids())?;
        txn.open_table(self.block_heights())?;
        txn.open_table(self.bodies())?;
        txn.open_table(self.receipts())?;
        txn.open_table(self.txs())?;
        txn.open_table(self.log_blocks())?;
        txn.open_table(self.log_addresses())?;
        txn.open_table(self.log_topics())?;
        txn.open_table(self.code())?;
        txn.open_table(self.state_values())?;
        txn.open_table(self.state_nodes())?;
        txn.open_table(self.stale_nodes())?;
        txn.open_table(self.stale_values())?;
        txn.open_table(self.commits())?;
        txn.open_table(self.decided_blocks())?;
        Ok(())
    }
}

/// Decodes a stored record, naming the table and key if it does not decode.
pub(crate) fn decode_record<T: BorshDeserialize>(
    path: &Path,
    table: &str,
    key: impl std::fmt::Display,
    bytes: &[u8],
) -> Result<T, StoreError> {
    gont_core::decode(bytes).map_err(|e| StoreError::Corrupt {
        path: path.to_path_buf(),
        table: table.to_owned(),
        key: key.to_string(),
        reason: e.to_string(),
    })
}

/// The largest topic position the log index narrows by (the EVM's LOG0..4).
pub(crate) const INDEXED_TOPICS: usize = 4;

/// Reads a borsh-encoded per-chain metadata value.
pub(crate) fn read_meta<T: BorshDeserialize>(
    path: &Path,
    table_name: &str,
    table: &impl redb::ReadableTable<&'static str, Bytes>,
    key: &str,
) -> Result<Option<T>, StoreError> {
    let found = table.get(key).or_db(path, "reading chain metadata")?;
    found
        .map(|bytes| decode_record(path, table_name, key, bytes.value()))
        .transpose()
}
