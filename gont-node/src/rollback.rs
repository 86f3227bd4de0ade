//! `gont rollback`: an operator's repair of one chain of a stopped node, as
//! `cometbft rollback` is: the chain's head goes back to an earlier
//! height, with the state, tree and indexes of that height
//! ([`gont_storage::ChainStore::rollback`]).
//!
//! By default the blocks above that height stay decided (with their
//! commit certificates), and the node executes and commits them again on
//! its next start, from its own disk: the repair for a state that a bug or
//! a damaged disk made wrong, once the binary or the disk is fixed. A
//! validator signs nothing again, since those heights stay decided, and
//! its consensus write-ahead log, which is for the height after them,
//! stays.
//!
//! `--hard` removes the decisions too, with the chain's write-ahead log
//! and received proposals, so that the node takes those blocks from its
//! peers again. It is refused for a chain the node validates: a validator
//! that forgot what it decided could sign those heights a second time.

use std::path::{Path, PathBuf};

use gont_core::{ChainId, Height};
use gont_storage::{RollbackMode, RolledBack, Store, StoreConfig, StoreError};

use crate::config::{ConfigError, NodeConfig, files};

/// Why a rollback was refused or failed. Nothing was changed unless the
/// variant says so.
#[derive(Debug, thiserror::Error)]
pub enum RollbackError {
    /// The home's configuration could not be read.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The chain is not one this node runs.
    #[error("chain {chain} is not in this node's config.toml (it runs {configured:?})")]
    UnknownChain {
        /// The chain asked for.
        chain: ChainId,
        /// The chains the node runs.
        configured: Vec<u64>,
    },
    /// `--hard` on a chain this node validates.
    #[error(
        "chain {chain} is validated by this node ({key}): a hard rollback would drop the decisions it signed, and it could sign those heights again; roll back without --hard (the blocks are executed again from disk)"
    )]
    HardOnValidator {
        /// The chain.
        chain: ChainId,
        /// The chain's validator keystore.
        key: PathBuf,
    },
    /// The store refused (a height above the head or pruned) or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store was rolled back, but the chain's consensus files could not
    /// be removed; remove them by hand before starting the node.
    #[error(
        "rolled back, but {path} could not be removed (remove it before starting the node): {source}"
    )]
    ConsensusFiles {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Rolls `chain` of the stopped node at `home` back to `to`; `hard` also
/// removes the decisions above it (see the module's documentation).
pub fn rollback(
    home: &Path,
    chain: ChainId,
    to: Height,
    hard: bool,
) -> Result<RolledBack, RollbackError> {
    let config = NodeConfig::load(home)?;
    let chain_config = config
        .chains
        .iter()
        .find(|c| c.chain_id == chain)
        .ok_or_else(|| RollbackError::UnknownChain {
            chain,
            configured: config.chains.iter().map(|c| c.chain_id.get()).collect(),
        })?;
    if hard && let Some(key) = &chain_config.validator_key {
        return Err(RollbackError::HardOnValidator {
            chain,
            key: home.join(key),
        });
    }
    let data = home.join(files::DATA);
    let store = Store::open_with(
        &data,
        StoreConfig {
            pruning: config.storage.pruning.into(),
            ..StoreConfig::default()
        },
    )?;
    let mode = if hard {
        RollbackMode::Hard
    } else {
        RollbackMode::KeepDecided
    };
    let rolled = store.chain(chain).rollback(to, mode)?;
    if hard {
        // What consensus kept for heights that are no longer decided.
        let consensus = consensus_dir(home, chain);
        for dir in ["wal", "proposals"] {
            let path = consensus.join(dir);
            match std::fs::remove_dir_all(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(RollbackError::ConsensusFiles { path, source }),
            }
        }
    }
    Ok(rolled)
}

/// The consensus directory of `chain` in the node at `home`: Malachite's
/// write-ahead log (`wal/`) and the proposals received (`proposals/`).
pub fn consensus_dir(home: &Path, chain: ChainId) -> PathBuf {
    home.join(files::DATA)
        .join("consensus")
        .join(chain.to_string())
}
