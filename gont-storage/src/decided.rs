//! Decided blocks and their commit certificates, by height: what
//! consensus records when a height is decided and what its sync serves to
//! peers that are behind.
//!
//! The certificate is kept in its own table. The block is kept only until
//! it is committed (a decision may be recorded before or after the
//! execution commit); from then on it is read back from the committed
//! header and body, so that a body is stored once.

use gont_core::{Block, CommitCertificate, DecidedBlock, Height, encode};
use redb::{ReadableTable, TableHandle};

use crate::chain::ChainStore;
use crate::error::{OrDb, StoreError};
use crate::tables::decode_record;

impl ChainStore {
    /// Records a decided block with its commit. Recording the same block
    /// again replaces its certificate (one with more signatures, say); a
    /// different block at a decided or committed height is
    /// [`StoreError::DecidedConflict`].
    pub fn put_decided(&self, decided: &DecidedBlock) -> Result<(), StoreError> {
        let header = &decided.block.header;
        let height = header.height;
        if header.chain_id != self.chain {
            return Err(StoreError::ChainMismatch {
                expected: self.chain,
                found: header.chain_id,
            });
        }
        let id = header.id().map_err(|source| StoreError::Header {
            chain: self.chain,
            height,
            source,
        })?;
        let mismatch = |reason: String| StoreError::DecidedMismatch {
            chain: self.chain,
            height,
            reason,
        };
        if decided.commit.height != height {
            return Err(mismatch(format!(
                "the commit is for height {}",
                decided.commit.height
            )));
        }
        if decided.commit.block_id != id {
            return Err(mismatch(format!(
                "the commit is for block {}, the block's id is {id}",
                decided.commit.block_id
            )));
        }
        let path = self.path();
        let op = "recording a decided block";
        let t = &self.tables;
        let txn = self.inner.db.begin_write().or_db(path, op)?;
        t.create_all(&txn).or_db(path, op)?;
        {
            let mut commits = txn.open_table(t.commits()).or_db(path, op)?;
            let stored = match commits.get(height.get()).or_db(path, op)? {
                Some(bytes) => Some(decode_record::<CommitCertificate>(
                    path,
                    t.commits().name(),
                    height,
                    bytes.value(),
                )?),
                None => None,
            };
            if let Some(stored) = stored
                && stored.block_id != id
            {
                return Err(StoreError::DecidedConflict {
                    chain: self.chain,
                    height,
                    stored: stored.block_id,
                    given: id,
                });
            }
            let committed = txn
                .open_table(t.block_ids())
                .or_db(path, op)?
                .get(height.get())
                .or_db(path, op)?
                .map(|v| gont_core::BlockId(v.value()));
            match committed {
                Some(committed) if committed != id => {
                    return Err(StoreError::DecidedConflict {
                        chain: self.chain,
                        height,
                        stored: committed,
                        given: id,
                    });
                }
                Some(_) => {}
                None => {
                    txn.open_table(t.decided_blocks())
                        .or_db(path, op)?
                        .insert(height.get(), encode(&decided.block).as_slice())
                        .or_db(path, op)?;
                }
            }
            commits
                .insert(height.get(), encode(&decided.commit).as_slice())
                .or_db(path, op)?;
        }
        txn.commit().or_db(path, op)
    }

    /// The commit certificate recorded for `height`.
    pub fn commit_certificate(
        &self,
        height: Height,
    ) -> Result<Option<CommitCertificate>, StoreError> {
        let snap = self.snapshot()?;
        snap.record(snap.tables().commits(), height.get())
    }

    /// The decided block at `height` with its commit, if recorded.
    pub fn decided(&self, height: Height) -> Result<Option<DecidedBlock>, StoreError> {
        let snap = self.snapshot()?;
        let Some(commit) =
            snap.record::<CommitCertificate>(snap.tables().commits(), height.get())?
        else {
            return Ok(None);
        };
        let block = match snap.block(height)? {
            Some(block) => block,
            None => snap
                .record::<Block>(snap.tables().decided_blocks(), height.get())?
                .ok_or_else(|| StoreError::missing(self.path(), "decided_blocks", height))?,
        };
        Ok(Some(DecidedBlock { block, commit }))
    }

    /// The highest height with a recorded decision.
    pub fn decided_height(&self) -> Result<Option<Height>, StoreError> {
        let snap = self.snapshot()?;
        let Some(table) = snap.table(snap.tables().commits())? else {
            return Ok(None);
        };
        let last = table.last().or_db(self.path(), "reading the commits")?;
        Ok(last.map(|(k, _)| Height(k.value())))
    }
}

impl gont_core::DecidedStore for ChainStore {
    type Error = StoreError;

    fn committed_head(&self) -> Result<Option<gont_core::Header>, StoreError> {
        gont_core::ExecutionStore::head(self)
    }

    fn decided(&self, height: Height) -> Result<Option<DecidedBlock>, StoreError> {
        Self::decided(self, height)
    }

    fn decided_height(&self) -> Result<Option<Height>, StoreError> {
        Self::decided_height(self)
    }

    fn put_decided(&self, decided: &DecidedBlock) -> Result<(), StoreError> {
        Self::put_decided(self, decided)
    }
}
