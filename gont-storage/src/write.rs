//! The write path: a chain's genesis, and each block in exactly one redb
//! write transaction (header, body, receipts, indexes, state history,
//! commitment nodes, head), so that after a crash the chain is at the
//! previous block or the next, never between.

use std::path::Path;

use gont_core::{BlockId, CommitCertificate, ExecutedBlock, Hash, Height, StateChanges, encode};
use jmt::storage::TreeUpdateBatch;
use redb::{ReadableTable, Table, TableHandle, WriteTransaction};

use crate::chain::{ChainStore, PreparedState};
use crate::commitment::{self, TreeTables, encode_versioned, newest_value};
use crate::error::{OrDb, StoreError};
use crate::store::Pruning;
use crate::tables::{
    Bytes, ChainTables, Hash32, HeightKey, INDEXED_TOPICS, decode_record, meta, read_meta,
};

/// The state tables, opened once per write transaction.
struct StateTables<'t> {
    nodes: Table<'t, Bytes, Bytes>,
    values: Table<'t, (Hash32, HeightKey), Bytes>,
    stale_nodes: Table<'t, (HeightKey, Bytes), ()>,
    stale_values: Table<'t, (HeightKey, Hash32, HeightKey), ()>,
    code: Table<'t, Hash32, Bytes>,
}

impl<'t> StateTables<'t> {
    fn open(txn: &'t WriteTransaction, t: &ChainTables, path: &Path) -> Result<Self, StoreError> {
        let op = "opening the state tables";
        Ok(Self {
            nodes: txn.open_table(t.state_nodes()).or_db(path, op)?,
            values: txn.open_table(t.state_values()).or_db(path, op)?,
            stale_nodes: txn.open_table(t.stale_nodes()).or_db(path, op)?,
            stale_values: txn.open_table(t.stale_values()).or_db(path, op)?,
            code: txn.open_table(t.code()).or_db(path, op)?,
        })
    }

    /// Applies `changes` to the tree at `version - 1`.
    fn apply(
        &self,
        store: &ChainStore,
        version: u64,
        changes: &StateChanges,
    ) -> Result<(Hash, TreeUpdateBatch), StoreError> {
        let reader = TreeTables {
            nodes: &self.nodes,
            values: &self.values,
            path: store.path(),
            nodes_table: store.tables.state_nodes_name(),
            values_table: store.tables.state_values_name(),
        };
        commitment::apply(&reader, version, changes)
            .map_err(|e| commitment::tree_error(e, store.chain, version))
    }

    /// Writes the tree's new nodes, the new state values (recording which
    /// older values and nodes they make stale, for pruning) and new code.
    fn write(
        &mut self,
        store: &ChainStore,
        version: u64,
        batch: &TreeUpdateBatch,
        changes: &StateChanges,
    ) -> Result<(), StoreError> {
        let path = store.path();
        let op = "writing state";
        for (key, node) in batch.node_batch.nodes() {
            self.nodes
                .insert(encode(key).as_slice(), encode(node).as_slice())
                .or_db(path, op)?;
        }
        for ((written, key), value) in batch.node_batch.values() {
            let previous = match version.checked_sub(1) {
                None => None,
                Some(before) => newest_value(&self.values, key.0, before)
                    .map_err(|e| e.into_store(path, store.tables.state_values_name(), op))?,
            };
            // Deleting what is already absent changes nothing.
            if value.is_none() && previous.as_ref().is_none_or(|(_, v)| v.is_none()) {
                continue;
            }
            if let Some((replaced, _)) = previous {
                self.stale_values
                    .insert((version, key.0, replaced), ())
                    .or_db(path, op)?;
            }
            self.values
                .insert(
                    (key.0, *written),
                    encode_versioned(value.as_deref()).as_slice(),
                )
                .or_db(path, op)?;
        }
        for stale in &batch.stale_node_index_batch {
            self.stale_nodes
                .insert(
                    (
                        stale.stale_since_version,
                        encode(&stale.node_key).as_slice(),
                    ),
                    (),
                )
                .or_db(path, op)?;
        }
        for (hash, code) in &changes.code {
            self.code.insert(hash.0, code.as_ref()).or_db(path, op)?;
        }
        Ok(())
    }

    /// Deletes the state history no longer needed to read heights from
    /// `keep_from` on: values replaced at or below it, tree nodes stale at
    /// or below it, and the roots of the heights below it.
    fn prune(
        &mut self,
        path: &Path,
        oldest: HeightKey,
        keep_from: HeightKey,
    ) -> Result<(), StoreError> {
        let op = "pruning state history";
        let bound = keep_from.saturating_add(1);
        let empty: &[u8] = &[];
        let stale_nodes: Vec<(u64, Vec<u8>)> = self
            .stale_nodes
            .range(..(bound, empty))
            .or_db(path, op)?
            .map(|entry| {
                entry.map(|(k, _)| {
                    let (since, key) = k.value();
                    (since, key.to_vec())
                })
            })
            .collect::<Result<_, _>>()
            .or_db(path, op)?;
        for (since, key) in stale_nodes {
            self.nodes.remove(key.as_slice()).or_db(path, op)?;
            self.stale_nodes
                .remove((since, key.as_slice()))
                .or_db(path, op)?;
        }
        let stale_values: Vec<(u64, Hash32, u64)> = self
            .stale_values
            .range(..(bound, [0u8; 32], 0u64))
            .or_db(path, op)?
            .map(|entry| entry.map(|(k, _)| k.value()))
            .collect::<Result<_, _>>()
            .or_db(path, op)?;
        for (since, key, replaced) in stale_values {
            self.values.remove((key, replaced)).or_db(path, op)?;
            self.stale_values
                .remove((since, key, replaced))
                .or_db(path, op)?;
        }
        // A block that changes nothing gets a copy of its parent's root,
        // which no later change marks stale: drop those roots by height.
        for version in oldest..keep_from {
            self.nodes
                .remove(root_node_key(version).as_slice())
                .or_db(path, op)?;
        }
        Ok(())
    }
}

/// The stored key of the tree's root node at `version`: jmt's `NodeKey`
/// with an empty nibble path, in its borsh encoding (version as u64,
/// nibble count as u64, then the empty byte vector's u32 length).
pub(crate) fn root_node_key(version: u64) -> Vec<u8> {
    encode(&(version, 0u64, Vec::<u8>::new()))
}

/// Writes `changes` as the genesis state (height 0).
pub(crate) fn init_genesis(
    store: &ChainStore,
    genesis_hash: Hash,
    changes: &StateChanges,
) -> Result<Hash, StoreError> {
    let path = store.path();
    let txn = store
        .inner
        .db
        .begin_write()
        .or_db(path, "beginning genesis")?;
    store
        .tables
        .create_all(&txn)
        .or_db(path, "creating the chain's tables")?;
    let (root, written) = write_genesis(store, &txn, genesis_hash, changes)?;
    if written {
        txn.commit().or_db(path, "committing genesis")?;
    } else {
        txn.abort().or_db(path, "ending a repeated genesis")?;
    }
    Ok(root)
}

/// Returns the genesis root, and whether it was written now (false: the
/// same genesis was already there).
fn write_genesis(
    store: &ChainStore,
    txn: &WriteTransaction,
    genesis_hash: Hash,
    changes: &StateChanges,
) -> Result<(Hash, bool), StoreError> {
    let path = store.path();
    let t = &store.tables;
    let op = "writing genesis";
    let mut meta_table = txn.open_table(t.meta()).or_db(path, op)?;
    let meta_name = t.meta().name().to_owned();
    let mut state = StateTables::open(txn, t, path)?;
    let (root, batch) = state.apply(store, 0, changes)?;
    let stored: Option<Hash> = read_meta(path, &meta_name, &meta_table, meta::GENESIS_HASH)?;
    if let Some(stored_hash) = stored {
        if stored_hash != genesis_hash {
            return Err(StoreError::GenesisMismatch {
                chain: store.chain,
                stored: stored_hash,
                given: genesis_hash,
            });
        }
        let stored_root: Hash = read_meta(path, &meta_name, &meta_table, meta::GENESIS_ROOT)?
            .ok_or_else(|| StoreError::missing(path, &meta_name, meta::GENESIS_ROOT))?;
        if stored_root != root {
            return Err(StoreError::GenesisStateMismatch {
                chain: store.chain,
                genesis: genesis_hash,
                stored_root,
                given_root: root,
            });
        }
        return Ok((root, false));
    }
    state.write(store, 0, &batch, changes)?;
    meta_table
        .insert(meta::GENESIS_HASH, encode(&genesis_hash).as_slice())
        .or_db(path, op)?;
    meta_table
        .insert(meta::GENESIS_ROOT, encode(&root).as_slice())
        .or_db(path, op)?;
    meta_table
        .insert(meta::HEAD, encode(&Height(0)).as_slice())
        .or_db(path, op)?;
    meta_table
        .insert(meta::OLDEST_STATE, encode(&Height(0)).as_slice())
        .or_db(path, op)?;
    Ok((root, true))
}

/// Writes an executed block on top of the head, in one write transaction,
/// with the commitment update `prepared` if it was prepared on that head.
pub(crate) fn commit_block(
    store: &ChainStore,
    executed: &ExecutedBlock,
    prepared: Option<PreparedState>,
) -> Result<(), StoreError> {
    let header = &executed.block.header;
    if header.chain_id != store.chain {
        return Err(StoreError::ChainMismatch {
            expected: store.chain,
            found: header.chain_id,
        });
    }
    let transactions = executed.block.body.transactions.len();
    if executed.receipts.len() != transactions {
        return Err(StoreError::ReceiptCount {
            chain: store.chain,
            height: header.height,
            transactions,
            receipts: executed.receipts.len(),
        });
    }
    let id = header.id().map_err(|source| StoreError::Header {
        chain: store.chain,
        height: header.height,
        source,
    })?;
    let path = store.path();
    let txn = store
        .inner
        .db
        .begin_write()
        .or_db(path, "beginning a block commit")?;
    write_block(store, &txn, executed, id, prepared)?;
    txn.commit().or_db(path, "committing a block")
}

fn write_block(
    store: &ChainStore,
    txn: &WriteTransaction,
    executed: &ExecutedBlock,
    id: BlockId,
    prepared: Option<PreparedState>,
) -> Result<(), StoreError> {
    let path = store.path();
    let t = &store.tables;
    let op = "writing a block";
    let header = &executed.block.header;
    let height = header.height;
    let h = height.get();

    let mut meta_table = match txn.open_table(t.meta()) {
        Ok(table) => table,
        Err(redb::TableError::TableDoesNotExist(_)) => {
            return Err(StoreError::NoGenesis { chain: store.chain });
        }
        Err(e) => return Err(e).or_db(path, op),
    };
    let meta_name = t.meta().name().to_owned();
    let head: Height = read_meta(path, &meta_name, &meta_table, meta::HEAD)?
        .ok_or(StoreError::NoGenesis { chain: store.chain })?;
    let expected = head.next().ok_or(StoreError::NotNextBlock {
        chain: store.chain,
        expected: head,
        found: height,
    })?;
    if height != expected {
        return Err(StoreError::NotNextBlock {
            chain: store.chain,
            expected,
            found: height,
        });
    }
    let mut block_ids = txn.open_table(t.block_ids()).or_db(path, op)?;
    let parent = if head.get() == 0 {
        None
    } else {
        let found = block_ids.get(head.get()).or_db(path, op)?;
        let found = found.ok_or_else(|| StoreError::missing(path, t.block_ids().name(), head))?;
        Some(BlockId(found.value()))
    };
    if header.parent != parent {
        return Err(StoreError::ParentMismatch {
            chain: store.chain,
            height,
            expected: parent,
            found: header.parent,
        });
    }

    let mut state = StateTables::open(txn, t, path)?;
    // The tree at `head` is what the update was prepared on only if `head`
    // is still its base: any commit since then moved the head.
    let (root, batch) = match prepared {
        Some(p) if p.base == head => (p.root, p.batch),
        _ => state.apply(store, h, &executed.changes)?,
    };
    if root != header.state_root {
        return Err(StoreError::StateRootMismatch {
            chain: store.chain,
            height,
            header: header.state_root,
            computed: root,
        });
    }
    state.write(store, h, &batch, &executed.changes)?;

    txn.open_table(t.headers())
        .or_db(path, op)?
        .insert(h, encode(header).as_slice())
        .or_db(path, op)?;
    txn.open_table(t.bodies())
        .or_db(path, op)?
        .insert(h, encode(&executed.block.body).as_slice())
        .or_db(path, op)?;
    txn.open_table(t.receipts())
        .or_db(path, op)?
        .insert(h, encode(&executed.receipts).as_slice())
        .or_db(path, op)?;
    block_ids.insert(h, id.0).or_db(path, op)?;
    txn.open_table(t.block_heights())
        .or_db(path, op)?
        .insert(id.0, h)
        .or_db(path, op)?;
    let mut txs = txn.open_table(t.txs()).or_db(path, op)?;
    for (tx, index) in executed.block.body.transactions.iter().zip(0u64..) {
        txs.insert(tx.hash().0, (h, index)).or_db(path, op)?;
    }
    index_logs(store, txn, executed)?;
    check_decided(store, txn, height, id)?;

    meta_table
        .insert(meta::HEAD, encode(&height).as_slice())
        .or_db(path, op)?;
    if let Pruning::KeepLast(keep) = store.inner.config.pruning {
        let oldest: Height =
            read_meta(path, &meta_name, &meta_table, meta::OLDEST_STATE)?.unwrap_or_default();
        let keep_from = h.saturating_add(1).saturating_sub(keep.get());
        if keep_from > oldest.get() {
            state.prune(path, oldest.get(), keep_from)?;
            meta_table
                .insert(meta::OLDEST_STATE, encode(&Height(keep_from)).as_slice())
                .or_db(path, op)?;
        }
    }
    Ok(())
}

/// Indexes the block's logs by emitting address and by topic at each
/// position, so that a log query visits only the blocks that can match.
fn index_logs(
    store: &ChainStore,
    txn: &WriteTransaction,
    executed: &ExecutedBlock,
) -> Result<(), StoreError> {
    let path = store.path();
    let t = &store.tables;
    let op = "indexing logs";
    let h = executed.block.header.height.get();
    let mut addresses = txn.open_table(t.log_addresses()).or_db(path, op)?;
    let mut topics = txn.open_table(t.log_topics()).or_db(path, op)?;
    let mut count = 0u64;
    for (address, topic_keys) in log_index_keys(&executed.receipts, h) {
        count = count.saturating_add(1);
        addresses.insert(address, ()).or_db(path, op)?;
        for topic in topic_keys {
            topics.insert(topic, ()).or_db(path, op)?;
        }
    }
    if count > 0 {
        txn.open_table(t.log_blocks())
            .or_db(path, op)?
            .insert(h, count)
            .or_db(path, op)?;
    }
    Ok(())
}

/// A log's key in the address index.
pub(crate) type AddressKey = ([u8; 20], HeightKey);
/// A log's key in the topic index: (topic position, topic, height).
pub(crate) type TopicKey = (u8, Hash32, HeightKey);

/// The log index keys of a block at height `h`, one entry per log: its
/// (address, height) key and its (topic position, topic, height) keys.
/// Writing a block inserts them; a rollback removes them.
pub(crate) fn log_index_keys(
    receipts: &[gont_core::Receipt],
    h: HeightKey,
) -> impl Iterator<Item = (AddressKey, Vec<TopicKey>)> + '_ {
    receipts.iter().flat_map(|r| &r.logs).map(move |log| {
        let topics = log
            .topics
            .iter()
            .take(INDEXED_TOPICS)
            .zip(0u8..)
            .map(|(topic, position)| (position, topic.0, h))
            .collect();
        ((log.address.into_array(), h), topics)
    })
}

/// Refuses a block other than the one consensus recorded as decided at its
/// height, and drops the decided copy kept until the block was committed.
fn check_decided(
    store: &ChainStore,
    txn: &WriteTransaction,
    height: Height,
    id: BlockId,
) -> Result<(), StoreError> {
    let path = store.path();
    let t = &store.tables;
    let op = "checking the decided block";
    let commits = txn.open_table(t.commits()).or_db(path, op)?;
    if let Some(bytes) = commits.get(height.get()).or_db(path, op)? {
        let commit: CommitCertificate =
            decode_record(path, t.commits().name(), height, bytes.value())?;
        if commit.block_id != id {
            return Err(StoreError::DecidedConflict {
                chain: store.chain,
                height,
                stored: commit.block_id,
                given: id,
            });
        }
    }
    txn.open_table(t.decided_blocks())
        .or_db(path, op)?
        .remove(height.get())
        .or_db(path, op)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use jmt::storage::NodeKey;

    use super::root_node_key;

    #[test]
    fn root_node_keys_are_jmt_node_keys_with_an_empty_path() {
        for version in [0, 1, 77, u64::MAX - 1] {
            let key: NodeKey = borsh::from_slice(&root_node_key(version)).unwrap();
            assert_eq!(key.version(), version);
            assert_eq!(key.nibble_path().num_nibbles(), 0);
            assert_eq!(gont_core::encode(&key), root_node_key(version));
        }
    }
}
