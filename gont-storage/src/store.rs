//! The database file: opening it, checking that it is a GONT store of this
//! schema, and handing out per-chain stores.

use std::num::NonZeroU64;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gont_core::ChainId;
use redb::{Builder, Database, MultimapTableHandle, ReadableDatabase, StorageBackend, TableHandle};

use crate::chain::ChainStore;
use crate::error::StoreError;
use crate::tables::{GLOBAL_META, SCHEMA, SCHEMA_KEY};

/// How much state history a store keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pruning {
    /// Every height's state stays readable (the default).
    #[default]
    Archive,
    /// Only the state of the newest `n` heights stays readable; reads
    /// further back fail with [`StoreError::Pruned`]. Blocks, receipts and
    /// indexes are always kept.
    KeepLast(NonZeroU64),
}

/// How a store is opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreConfig {
    /// State history to keep.
    pub pruning: Pruning,
    /// Verify every page checksum when opening (redb's integrity check), so
    /// that a damaged file is refused with an error rather than trusted.
    /// Reads the whole file once per open; on by default.
    pub verify_on_open: bool,
    /// The page cache redb may use, in bytes.
    pub cache_bytes: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            pruning: Pruning::Archive,
            verify_on_open: true,
            cache_bytes: 256 * 1024 * 1024,
        }
    }
}

pub(crate) struct Inner {
    pub(crate) db: Database,
    /// The file, for error messages (`<memory>` for an in-memory store).
    pub(crate) path: PathBuf,
    pub(crate) config: StoreConfig,
}

/// One GONT database: a redb file holding every chain the node keeps.
///
/// Cloning is cheap and shares the database.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// The file name of the database inside a data directory.
    pub const FILE_NAME: &'static str = "gont.redb";

    /// Opens (creating if needed) `<dir>/gont.redb` with the default
    /// configuration, creating `dir` too.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(dir, StoreConfig::default())
    }

    /// Opens (creating if needed) `<dir>/gont.redb`, creating `dir` too.
    pub fn open_with(dir: impl AsRef<Path>, config: StoreConfig) -> Result<Self, StoreError> {
        let dir = dir.as_ref();
        let path = dir.join(Self::FILE_NAME);
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
            path: path.clone(),
            source: Box::new(e.into()),
        })?;
        Self::open_file(path, config)
    }

    /// Opens (creating if needed) the database file at `path` exactly.
    pub fn open_file(path: impl AsRef<Path>, config: StoreConfig) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let db = builder(&config)
            .create(&path)
            .map_err(|source| match source {
                redb::DatabaseError::DatabaseAlreadyOpen => {
                    StoreError::InUse { path: path.clone() }
                }
                source => StoreError::Open {
                    path: path.clone(),
                    source: Box::new(source),
                },
            })?;
        Self::adopt(db, path, config)
    }

    /// Opens a database over any redb storage backend: for embedding, and
    /// for tests that inject faults. `label` names it in errors.
    pub fn open_with_backend(
        backend: impl StorageBackend,
        label: impl Into<PathBuf>,
        config: StoreConfig,
    ) -> Result<Self, StoreError> {
        let path = label.into();
        let db = builder(&config)
            .create_with_backend(backend)
            .map_err(|source| StoreError::Open {
                path: path.clone(),
                source: Box::new(source),
            })?;
        Self::adopt(db, path, config)
    }

    /// A store in memory, gone when dropped: for tests and tools.
    pub fn in_memory(config: StoreConfig) -> Result<Self, StoreError> {
        Self::open_with_backend(redb::backends::InMemoryBackend::new(), "<memory>", config)
    }

    /// The store of one chain. Its tables are created by its genesis.
    pub fn chain(&self, chain: ChainId) -> ChainStore {
        ChainStore::new(Arc::clone(&self.inner), chain)
    }

    /// The chains that have tables in this store, in id order.
    pub fn chains(&self) -> Result<Vec<ChainId>, StoreError> {
        let op = "listing chains";
        let txn = self.inner.db.begin_read().map_err(|e| self.db_err(op, e))?;
        let mut chains: Vec<ChainId> = txn
            .list_tables()
            .map_err(|e| self.db_err(op, e))?
            .filter_map(|t| {
                let rest = t.name().strip_prefix("gont/")?;
                let (id, concept) = rest.split_once('/')?;
                (concept == "meta").then(|| id.parse().ok().map(ChainId))?
            })
            .collect();
        chains.sort_unstable();
        Ok(chains)
    }

    /// The database file (or the label given to [`Self::open_with_backend`]).
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The configuration the store was opened with.
    pub fn config(&self) -> &StoreConfig {
        &self.inner.config
    }

    fn db_err(&self, op: &'static str, e: impl Into<redb::Error>) -> StoreError {
        StoreError::Database {
            path: self.inner.path.clone(),
            op,
            source: Box::new(e.into()),
        }
    }

    /// Checks the schema marker of an opened database, writing it into a
    /// new one, and refuses files of other programs or schemas.
    fn adopt(db: Database, path: PathBuf, config: StoreConfig) -> Result<Self, StoreError> {
        let store = Self {
            inner: Arc::new(Inner { db, path, config }),
        };
        let op = "checking the schema";
        let txn = store
            .inner
            .db
            .begin_read()
            .map_err(|e| store.db_err(op, e))?;
        let mut tables: Vec<String> = txn
            .list_tables()
            .map_err(|e| store.db_err(op, e))?
            .map(|t| t.name().to_owned())
            .collect();
        tables.extend(
            txn.list_multimap_tables()
                .map_err(|e| store.db_err(op, e))?
                .map(|t| t.name().to_owned()),
        );
        if tables.iter().any(|t| t == GLOBAL_META.name()) {
            let meta = txn
                .open_table(GLOBAL_META)
                .map_err(|e| store.db_err(op, e))?;
            let found = meta
                .get(SCHEMA_KEY)
                .map_err(|e| store.db_err(op, e))?
                .map(|v| String::from_utf8_lossy(v.value()).into_owned());
            return match found {
                Some(found) if found == SCHEMA => Ok(store),
                found => Err(StoreError::SchemaVersion {
                    path: store.inner.path.clone(),
                    found: found.unwrap_or_else(|| "<none>".to_owned()),
                    supported: SCHEMA,
                }),
            };
        }
        if !tables.is_empty() {
            tables.truncate(10);
            return Err(StoreError::ForeignDatabase {
                path: store.inner.path.clone(),
                tables,
            });
        }
        drop(txn);
        let txn = store
            .inner
            .db
            .begin_write()
            .map_err(|e| store.db_err(op, e))?;
        {
            let mut meta = txn
                .open_table(GLOBAL_META)
                .map_err(|e| store.db_err(op, e))?;
            meta.insert(SCHEMA_KEY, SCHEMA.as_bytes())
                .map_err(|e| store.db_err(op, e))?;
        }
        txn.commit().map_err(|e| store.db_err(op, e))?;
        Ok(store)
    }
}

fn builder(config: &StoreConfig) -> Builder {
    let mut builder = Builder::new();
    builder
        .set_cache_size(config.cache_bytes)
        .set_check_integrity_on_open(config.verify_on_open);
    builder
}
