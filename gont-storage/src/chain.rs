//! One chain's view of the store, and the [`ExecutionStore`] it implements.

use std::path::Path;
use std::sync::Arc;

use borsh::BorshDeserialize;
use gont_core::{ChainId, ExecutedBlock, ExecutionStore, Hash, Header, Height, StateChanges};
use redb::{
    Key, ReadOnlyTable, ReadTransaction, ReadableDatabase, TableDefinition, TableError,
    TableHandle, Value,
};

use crate::commitment::{self, TreeTables};
use crate::error::{OrDb, StoreError};
use crate::state::State;
use crate::store::Inner;
use crate::tables::{Bytes, ChainTables, decode_record, meta, read_meta};
use crate::write;

/// The store of one chain (GONT Space or a service): its blocks, receipts,
/// indexes, state history and state commitment, in tables of its own.
///
/// Cloning is cheap and shares the database.
#[derive(Clone)]
pub struct ChainStore {
    pub(crate) inner: Arc<Inner>,
    pub(crate) chain: ChainId,
    pub(crate) tables: Arc<ChainTables>,
}

impl std::fmt::Debug for ChainStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainStore")
            .field("path", &self.inner.path)
            .field("chain", &self.chain)
            .finish_non_exhaustive()
    }
}

impl ChainStore {
    pub(crate) fn new(inner: Arc<Inner>, chain: ChainId) -> Self {
        Self {
            inner,
            chain,
            tables: Arc::new(ChainTables::new(chain)),
        }
    }

    /// The chain this store keeps.
    pub fn chain_id(&self) -> ChainId {
        self.chain
    }

    pub(crate) fn path(&self) -> &Path {
        &self.inner.path
    }

    /// A consistent snapshot of the chain for reading.
    pub(crate) fn snapshot(&self) -> Result<Snapshot<'_>, StoreError> {
        let txn = self
            .inner
            .db
            .begin_read()
            .or_db(self.path(), "beginning a read")?;
        Ok(Snapshot { store: self, txn })
    }

    /// The newest committed height: `Some(0)` right after genesis, `None`
    /// before it.
    pub fn latest_height(&self) -> Result<Option<Height>, StoreError> {
        self.snapshot()?.head()
    }

    /// The oldest height whose state is still readable (0 for an archive).
    pub fn oldest_state_height(&self) -> Result<Height, StoreError> {
        self.snapshot()?.oldest_state()
    }

    /// The genesis hash given to [`ExecutionStore::init_genesis`], if any.
    pub fn genesis_hash(&self) -> Result<Option<Hash>, StoreError> {
        self.snapshot()?.meta(meta::GENESIS_HASH)
    }

    /// The state root after the block at `height` (height 0: genesis), as
    /// the tree holds it.
    pub fn state_root(&self, height: Height) -> Result<Hash, StoreError> {
        let snap = self.snapshot()?;
        snap.require_state(height)?;
        snap.tree_root(height)
    }

    /// The value of `key` after the block at `height`, with a proof of
    /// inclusion (present) or exclusion (absent) against that height's
    /// state root. See [`crate::verify_state_proof`].
    pub fn prove(
        &self,
        height: Height,
        key: gont_core::state_proof::StateKey,
    ) -> Result<gont_core::state_proof::ProvenState, StoreError> {
        let snap = self.snapshot()?;
        snap.require_state(height)?;
        let (nodes, values) = snap.tree_tables()?;
        let reader = snap.tree_reader(&nodes, &values);
        let root = snap.tree_root(height)?;
        let (value, proof) = commitment::prove(&reader, height.get(), &key)
            .map_err(|e| commitment::tree_error(e, self.chain, height.get()))?;
        let value = value
            .map(|bytes| gont_core::state_proof::StateValue::decode(&key, &bytes))
            .transpose()
            .map_err(|e| StoreError::Corrupt {
                path: self.path().to_path_buf(),
                table: self.tables.state_values_name().to_owned(),
                key: key.to_string(),
                reason: e.to_string(),
            })?;
        Ok(gont_core::state_proof::ProvenState {
            root,
            key,
            value,
            proof,
        })
    }
}

/// A read transaction over one chain.
pub(crate) struct Snapshot<'s> {
    pub(crate) store: &'s ChainStore,
    pub(crate) txn: ReadTransaction,
}

type NodesTable = ReadOnlyTable<Bytes, Bytes>;
type ValuesTable = ReadOnlyTable<(crate::tables::Hash32, u64), Bytes>;

impl Snapshot<'_> {
    pub(crate) fn path(&self) -> &Path {
        self.store.path()
    }

    pub(crate) fn chain(&self) -> ChainId {
        self.store.chain
    }

    pub(crate) fn tables(&self) -> &ChainTables {
        &self.store.tables
    }

    /// Opens a table; `None` if the chain has no tables yet.
    pub(crate) fn table<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<'_, K, V>,
    ) -> Result<Option<ReadOnlyTable<K, V>>, StoreError> {
        match self.txn.open_table(def) {
            Ok(table) => Ok(Some(table)),
            Err(TableError::TableDoesNotExist(_)) => Ok(None),
            Err(e) => Err(e).or_db(self.path(), "opening a table"),
        }
    }

    /// Opens a table that genesis created.
    pub(crate) fn existing<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<'_, K, V>,
    ) -> Result<ReadOnlyTable<K, V>, StoreError> {
        self.table(def)?.ok_or(StoreError::NoGenesis {
            chain: self.chain(),
        })
    }

    /// A per-chain metadata value.
    pub(crate) fn meta<T: BorshDeserialize>(&self, key: &str) -> Result<Option<T>, StoreError> {
        let def = self.tables().meta();
        match self.table(def)? {
            None => Ok(None),
            Some(table) => read_meta(self.path(), def.name(), &table, key),
        }
    }

    /// A record by height.
    pub(crate) fn record<T: BorshDeserialize>(
        &self,
        def: TableDefinition<'_, u64, Bytes>,
        height: u64,
    ) -> Result<Option<T>, StoreError> {
        let Some(table) = self.table(def)? else {
            return Ok(None);
        };
        let found = table.get(height).or_db(self.path(), "reading a record")?;
        found
            .map(|bytes| decode_record(self.path(), def.name(), height, bytes.value()))
            .transpose()
    }

    pub(crate) fn head(&self) -> Result<Option<Height>, StoreError> {
        self.meta(meta::HEAD)
    }

    pub(crate) fn oldest_state(&self) -> Result<Height, StoreError> {
        Ok(self.meta(meta::OLDEST_STATE)?.unwrap_or_default())
    }

    /// Checks that the state at `height` is readable.
    pub(crate) fn require_state(&self, height: Height) -> Result<(), StoreError> {
        let head = self.head()?.ok_or(StoreError::NoGenesis {
            chain: self.chain(),
        })?;
        if height > head {
            return Err(StoreError::NotCommitted {
                chain: self.chain(),
                height,
                head,
            });
        }
        let oldest = self.oldest_state()?;
        if height < oldest {
            return Err(StoreError::Pruned {
                chain: self.chain(),
                height,
                oldest,
            });
        }
        Ok(())
    }

    pub(crate) fn header(&self, height: Height) -> Result<Option<Header>, StoreError> {
        if height.get() == 0 {
            return Ok(None);
        }
        self.record(self.tables().headers(), height.get())
    }

    pub(crate) fn tree_tables(&self) -> Result<(NodesTable, ValuesTable), StoreError> {
        Ok((
            self.existing(self.tables().state_nodes())?,
            self.existing(self.tables().state_values())?,
        ))
    }

    pub(crate) fn tree_reader<'t>(
        &'t self,
        nodes: &'t NodesTable,
        values: &'t ValuesTable,
    ) -> TreeTables<'t, NodesTable, ValuesTable> {
        TreeTables {
            nodes,
            values,
            path: self.path(),
            nodes_table: self.tables().state_nodes_name(),
            values_table: self.tables().state_values_name(),
        }
    }

    /// The tree's root at `height`, which must be kept.
    pub(crate) fn tree_root(&self, height: Height) -> Result<Hash, StoreError> {
        let (nodes, values) = self.tree_tables()?;
        let reader = self.tree_reader(&nodes, &values);
        commitment::root_at(&reader, height.get())
            .map_err(|e| commitment::tree_error(e, self.chain(), height.get()))?
            .ok_or_else(|| StoreError::Commitment {
                chain: self.chain(),
                height,
                reason: "the tree has no root at this height".to_owned(),
            })
    }
}

impl ExecutionStore for ChainStore {
    type Error = StoreError;
    type State<'a> = State<'a>;

    fn head(&self) -> Result<Option<Header>, StoreError> {
        let snap = self.snapshot()?;
        match snap.head()? {
            None => Ok(None),
            Some(head) => snap.header(head),
        }
    }

    fn header(&self, height: Height) -> Result<Option<Header>, StoreError> {
        self.snapshot()?.header(height)
    }

    fn state_at(&self, height: Height) -> Result<State<'_>, StoreError> {
        State::new(self.snapshot()?, height)
    }

    type Prepared = PreparedState;

    fn prepare(
        &self,
        height: Height,
        changes: &StateChanges,
    ) -> Result<(Hash, PreparedState), StoreError> {
        let snap = self.snapshot()?;
        snap.require_state(height)?;
        let version = height.next().ok_or(StoreError::NotCommitted {
            chain: self.chain,
            height,
            head: height,
        })?;
        let (nodes, values) = snap.tree_tables()?;
        let reader = snap.tree_reader(&nodes, &values);
        let (root, batch) = commitment::apply(&reader, version.get(), changes)
            .map_err(|e| commitment::tree_error(e, self.chain, version.get()))?;
        Ok((
            root,
            PreparedState {
                base: height,
                root,
                batch,
            },
        ))
    }

    fn init_genesis(&self, genesis_hash: Hash, changes: &StateChanges) -> Result<Hash, StoreError> {
        write::init_genesis(self, genesis_hash, changes)
    }

    fn commit_block(&self, block: &ExecutedBlock) -> Result<(), StoreError> {
        write::commit_block(self, block, None)
    }

    fn commit_prepared(
        &self,
        block: &ExecutedBlock,
        prepared: PreparedState,
    ) -> Result<(), StoreError> {
        write::commit_block(self, block, Some(prepared))
    }
}

/// The state commitment's update for one block's changes, as
/// [`ChainStore::prepare`] computed it on the state at `base`: the new
/// root, and the tree nodes to write and to mark stale.
#[derive(Clone, Debug)]
pub struct PreparedState {
    pub(crate) base: Height,
    pub(crate) root: Hash,
    pub(crate) batch: jmt::storage::TreeUpdateBatch,
}

impl PreparedState {
    /// The state commitment after the block.
    pub fn root(&self) -> Hash {
        self.root
    }
}
