//! Rolling a chain back to an earlier height, for an operator recovering a
//! node (`gont rollback`, as `cometbft rollback`): the blocks above that
//! height, their indexes and the state they wrote are removed in one write
//! transaction, so that the chain's head, state and tree are exactly what
//! they were when that height was committed.

use gont_core::{Block, Body, Header, Height, Receipt, encode};
use redb::{ReadableTable, TableHandle, WriteTransaction};

use crate::chain::ChainStore;
use crate::error::{OrDb, StoreError};
use crate::tables::{Hash32, decode_record, meta, read_meta};
use crate::write::log_index_keys;

/// What happens to the decided blocks above the height rolled back to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RollbackMode {
    /// Keep each removed block that has its commit certificate as a
    /// decided block not yet committed, so that the node executes and
    /// commits it again on its next start, from its own disk (what
    /// `cometbft rollback` does: the blocks are re-executed). A validator
    /// never signs those heights again: they stay decided.
    KeepDecided,
    /// Remove the decided blocks and commit certificates above the height
    /// too: the node takes those blocks from its peers again.
    Hard,
}

/// What a rollback did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RolledBack {
    /// The head before.
    pub from: Height,
    /// The head now.
    pub to: Height,
    /// The highest height still recorded as decided (`to` or above with
    /// [`RollbackMode::KeepDecided`]); `None` if no decision is recorded.
    pub decided: Option<Height>,
}

impl ChainStore {
    /// Rolls the chain back so that `to` is its head again: removes the
    /// blocks above it (headers, bodies, receipts, the transaction and log
    /// indexes), the state values and tree nodes they wrote, and the
    /// pruning records they made; keeps or removes the decisions above it
    /// as `mode` says. Contract code is content-addressed and stays.
    ///
    /// Refused with [`StoreError::NotCommitted`] above the head and with
    /// [`StoreError::Pruned`] below the oldest state kept. Rolling back to
    /// the head changes nothing but, in [`RollbackMode::Hard`], the
    /// decisions recorded above it.
    pub fn rollback(&self, to: Height, mode: RollbackMode) -> Result<RolledBack, StoreError> {
        let path = self.path();
        let op = "rolling back";
        let txn = self.inner.db.begin_write().or_db(path, op)?;
        let rolled = self.roll_back_in(&txn, to, mode)?;
        txn.commit().or_db(path, op)?;
        Ok(rolled)
    }

    fn roll_back_in(
        &self,
        txn: &WriteTransaction,
        to: Height,
        mode: RollbackMode,
    ) -> Result<RolledBack, StoreError> {
        let path = self.path();
        let t = &self.tables;
        let op = "rolling back";
        let chain = self.chain;
        let mut meta_table = match txn.open_table(t.meta()) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => {
                return Err(StoreError::NoGenesis { chain });
            }
            Err(e) => return Err(e).or_db(path, op),
        };
        let meta_name = t.meta().name().to_owned();
        let head: Height = read_meta(path, &meta_name, &meta_table, meta::HEAD)?
            .ok_or(StoreError::NoGenesis { chain })?;
        if to > head {
            return Err(StoreError::NotCommitted {
                chain,
                height: to,
                head,
            });
        }
        let oldest: Height =
            read_meta(path, &meta_name, &meta_table, meta::OLDEST_STATE)?.unwrap_or_default();
        if to < oldest {
            return Err(StoreError::Pruned {
                chain,
                height: to,
                oldest,
            });
        }
        let first = to.get().saturating_add(1);

        let mut headers = txn.open_table(t.headers()).or_db(path, op)?;
        let mut bodies = txn.open_table(t.bodies()).or_db(path, op)?;
        let mut receipts = txn.open_table(t.receipts()).or_db(path, op)?;
        let mut block_ids = txn.open_table(t.block_ids()).or_db(path, op)?;
        let mut block_heights = txn.open_table(t.block_heights()).or_db(path, op)?;
        let mut txs = txn.open_table(t.txs()).or_db(path, op)?;
        let mut log_blocks = txn.open_table(t.log_blocks()).or_db(path, op)?;
        let mut log_addresses = txn.open_table(t.log_addresses()).or_db(path, op)?;
        let mut log_topics = txn.open_table(t.log_topics()).or_db(path, op)?;
        let mut commits = txn.open_table(t.commits()).or_db(path, op)?;
        let mut decided_blocks = txn.open_table(t.decided_blocks()).or_db(path, op)?;

        // Decisions are kept only as one unbroken run above `to`: the node
        // finishes them in order on its next start. `kept` is the last
        // height of that run.
        let mut keep_decided = mode == RollbackMode::KeepDecided;
        let mut kept = to.get();
        for h in first..=head.get() {
            let height = Height(h);
            let header: Header = match headers.remove(h).or_db(path, op)? {
                Some(bytes) => decode_record(path, t.headers().name(), height, bytes.value())?,
                None => return Err(StoreError::missing(path, t.headers().name(), height)),
            };
            let body: Body = match bodies.remove(h).or_db(path, op)? {
                Some(bytes) => decode_record(path, t.bodies().name(), height, bytes.value())?,
                None => return Err(StoreError::missing(path, t.bodies().name(), height)),
            };
            let block_receipts: Vec<Receipt> = match receipts.remove(h).or_db(path, op)? {
                Some(bytes) => decode_record(path, t.receipts().name(), height, bytes.value())?,
                None => return Err(StoreError::missing(path, t.receipts().name(), height)),
            };
            if let Some(id) = block_ids.remove(h).or_db(path, op)? {
                block_heights.remove(id.value()).or_db(path, op)?;
            }
            for tx in &body.transactions {
                txs.remove(tx.hash().0).or_db(path, op)?;
            }
            log_blocks.remove(h).or_db(path, op)?;
            for (address, topics) in log_index_keys(&block_receipts, h) {
                log_addresses.remove(address).or_db(path, op)?;
                for topic in topics {
                    log_topics.remove(topic).or_db(path, op)?;
                }
            }
            keep_decided = keep_decided && commits.get(h).or_db(path, op)?.is_some();
            if keep_decided {
                decided_blocks
                    .insert(h, encode(&Block { header, body }).as_slice())
                    .or_db(path, op)?;
                kept = h;
            }
        }
        // No decision above the run is kept (with `Hard`, none above `to`),
        // nor any recorded above the old head that the run does not reach.
        if kept < head.get() || mode == RollbackMode::Hard {
            let above = kept.saturating_add(1);
            commits.retain_in(above.., |_, _| false).or_db(path, op)?;
            decided_blocks
                .retain_in(above.., |_, _| false)
                .or_db(path, op)?;
        }
        let decided = commits
            .last()
            .or_db(path, op)?
            .map(|(k, _)| Height(k.value()));

        // The state the removed blocks wrote: values by the height written,
        // tree nodes by the version that made them (the first eight bytes
        // of a node key are its version, little-endian), and the records of
        // what they made stale, which is live again at `to`.
        let keep = to.get();
        txn.open_table(t.state_values())
            .or_db(path, op)?
            .retain(|(_, written): (Hash32, u64), _| written <= keep)
            .or_db(path, op)?;
        txn.open_table(t.state_nodes())
            .or_db(path, op)?
            .retain(|key, _| node_version(key).is_none_or(|v| v <= keep))
            .or_db(path, op)?;
        let empty: &[u8] = &[];
        txn.open_table(t.stale_nodes())
            .or_db(path, op)?
            .retain_in((first, empty).., |_, _| false)
            .or_db(path, op)?;
        txn.open_table(t.stale_values())
            .or_db(path, op)?
            .retain_in((first, [0u8; 32], 0u64).., |_, _| false)
            .or_db(path, op)?;

        meta_table
            .insert(meta::HEAD, encode(&to).as_slice())
            .or_db(path, op)?;
        Ok(RolledBack {
            from: head,
            to,
            decided,
        })
    }
}

/// The version of a stored tree node key (jmt's `NodeKey` in borsh: the
/// version as a little-endian u64 first); `None` for a key too short to
/// be one, which a rollback leaves alone.
fn node_version(key: &[u8]) -> Option<u64> {
    let bytes: [u8; 8] = key.get(..8)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::node_version;
    use crate::write::root_node_key;

    #[test]
    fn a_node_keys_version_is_its_first_eight_bytes() {
        for version in [0, 1, 300, u64::MAX] {
            assert_eq!(node_version(&root_node_key(version)), Some(version));
        }
        assert_eq!(node_version(&[1, 2, 3]), None);
    }
}
