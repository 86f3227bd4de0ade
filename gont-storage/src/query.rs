//! Reads the JSON-RPC serves: blocks by height or id, transactions and
//! receipts by hash, and logs by filter through the log index.

use std::collections::BTreeSet;

use gont_core::{Address, B256, Block, BlockId, Body, Height, Log, RawTransaction, Receipt};

use crate::chain::{ChainStore, Snapshot};
use crate::error::{OrDb, StoreError};
use crate::tables::INDEXED_TOPICS;

/// Where a transaction sits in the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TxLocation {
    /// The block's height.
    pub height: Height,
    /// The position in the block, from 0.
    pub index: u64,
}

/// An `eth_getLogs`-style filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogFilter {
    /// The first block, inclusive.
    pub from: Height,
    /// The last block, inclusive (clamped to the head).
    pub to: Height,
    /// Emitting contracts, any of which matches; empty matches any.
    pub addresses: Vec<Address>,
    /// Per topic position, the topics any of which matches there; an empty
    /// set at a position matches any topic (or none).
    pub topics: Vec<Vec<B256>>,
    /// The most logs a query may return; more is
    /// [`StoreError::TooManyLogs`].
    pub limit: usize,
}

impl LogFilter {
    /// The default [`LogFilter::limit`].
    pub const DEFAULT_LIMIT: usize = 10_000;

    /// Every log of blocks `from..=to`, up to the default limit.
    pub fn new(from: Height, to: Height) -> Self {
        Self {
            from,
            to,
            addresses: Vec::new(),
            topics: Vec::new(),
            limit: Self::DEFAULT_LIMIT,
        }
    }

    /// Whether `log` matches the address and topic criteria.
    pub fn matches(&self, log: &Log) -> bool {
        (self.addresses.is_empty() || self.addresses.contains(&log.address))
            && self.topics.iter().enumerate().all(|(position, any_of)| {
                any_of.is_empty()
                    || log
                        .topics
                        .get(position)
                        .is_some_and(|topic| any_of.contains(topic))
            })
    }
}

/// A log with where it was emitted, as `eth_getLogs` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexedLog {
    /// The block's height.
    pub height: Height,
    /// The block's id.
    pub block_id: BlockId,
    /// The emitting transaction.
    pub tx_hash: B256,
    /// The transaction's position in the block.
    pub tx_index: u64,
    /// The log's position among all logs of the block.
    pub log_index: u64,
    /// The log.
    pub log: Log,
}

impl ChainStore {
    /// The committed block at `height`.
    pub fn block(&self, height: Height) -> Result<Option<Block>, StoreError> {
        self.snapshot()?.block(height)
    }

    /// The id of the committed block at `height`.
    pub fn block_id(&self, height: Height) -> Result<Option<BlockId>, StoreError> {
        let snap = self.snapshot()?;
        let Some(table) = snap.table(snap.tables().block_ids())? else {
            return Ok(None);
        };
        let found = table
            .get(height.get())
            .or_db(self.path(), "reading a block id")?;
        Ok(found.map(|id| BlockId(id.value())))
    }

    /// The height of the committed block `id`.
    pub fn height_of(&self, id: BlockId) -> Result<Option<Height>, StoreError> {
        self.snapshot()?.height_of(id)
    }

    /// The committed block `id`.
    pub fn block_by_id(&self, id: BlockId) -> Result<Option<Block>, StoreError> {
        let snap = self.snapshot()?;
        match snap.height_of(id)? {
            None => Ok(None),
            Some(height) => snap.block(height),
        }
    }

    /// Where the transaction with this (keccak) hash was committed.
    pub fn tx_location(&self, hash: B256) -> Result<Option<TxLocation>, StoreError> {
        self.snapshot()?.tx_location(hash)
    }

    /// The committed transaction with this hash, and where it is.
    pub fn transaction(
        &self,
        hash: B256,
    ) -> Result<Option<(TxLocation, RawTransaction)>, StoreError> {
        let snap = self.snapshot()?;
        let Some(location) = snap.tx_location(hash)? else {
            return Ok(None);
        };
        let body: Body = snap
            .record(snap.tables().bodies(), location.height.get())?
            .ok_or_else(|| StoreError::missing(self.path(), "bodies", location.height))?;
        let tx = usize::try_from(location.index)
            .ok()
            .and_then(|i| body.transactions.get(i).cloned())
            .ok_or_else(|| {
                StoreError::missing(self.path(), "bodies", format!("{hash} at {location:?}"))
            })?;
        Ok(Some((location, tx)))
    }

    /// The receipts of the committed block at `height`, in order.
    pub fn receipts(&self, height: Height) -> Result<Option<Vec<Receipt>>, StoreError> {
        let snap = self.snapshot()?;
        snap.record(snap.tables().receipts(), height.get())
    }

    /// The receipt of the transaction with this hash, and where it is.
    pub fn receipt(&self, hash: B256) -> Result<Option<(TxLocation, Receipt)>, StoreError> {
        let snap = self.snapshot()?;
        let Some(location) = snap.tx_location(hash)? else {
            return Ok(None);
        };
        let receipts: Vec<Receipt> = snap
            .record(snap.tables().receipts(), location.height.get())?
            .ok_or_else(|| StoreError::missing(self.path(), "receipts", location.height))?;
        let receipt = usize::try_from(location.index)
            .ok()
            .and_then(|i| receipts.get(i).cloned())
            .ok_or_else(|| {
                StoreError::missing(self.path(), "receipts", format!("{hash} at {location:?}"))
            })?;
        Ok(Some((location, receipt)))
    }

    /// The logs matching `filter`, in chain order. Visits only the blocks
    /// the log index names for the filter's addresses and topics (or, with
    /// neither, the blocks that have logs at all).
    pub fn logs(&self, filter: &LogFilter) -> Result<Vec<IndexedLog>, StoreError> {
        if filter.from > filter.to {
            return Err(StoreError::InvalidLogRange {
                from: filter.from,
                to: filter.to,
            });
        }
        let snap = self.snapshot()?;
        let Some(head) = snap.head()? else {
            return Ok(Vec::new());
        };
        let from = filter.from.get();
        let to = filter.to.min(head).get();
        if from > to {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for height in snap.candidate_blocks(filter, from, to)? {
            snap.collect_logs(filter, Height(height), &mut out)?;
        }
        Ok(out)
    }
}

impl Snapshot<'_> {
    pub(crate) fn block(&self, height: Height) -> Result<Option<Block>, StoreError> {
        let Some(header) = self.header(height)? else {
            return Ok(None);
        };
        let body = self
            .record(self.tables().bodies(), height.get())?
            .ok_or_else(|| StoreError::missing(self.path(), "bodies", height))?;
        Ok(Some(Block { header, body }))
    }

    pub(crate) fn height_of(&self, id: BlockId) -> Result<Option<Height>, StoreError> {
        let Some(table) = self.table(self.tables().block_heights())? else {
            return Ok(None);
        };
        let found = table
            .get(id.0)
            .or_db(self.path(), "reading a block height")?;
        Ok(found.map(|h| Height(h.value())))
    }

    fn tx_location(&self, hash: B256) -> Result<Option<TxLocation>, StoreError> {
        let Some(table) = self.table(self.tables().txs())? else {
            return Ok(None);
        };
        let found = table
            .get(hash.0)
            .or_db(self.path(), "reading the transaction index")?;
        Ok(found.map(|v| {
            let (height, index) = v.value();
            TxLocation {
                height: Height(height),
                index,
            }
        }))
    }

    /// The heights in `from..=to` that can hold a matching log: the
    /// intersection of the index's answers for each criterion given.
    fn candidate_blocks(
        &self,
        filter: &LogFilter,
        from: u64,
        to: u64,
    ) -> Result<BTreeSet<u64>, StoreError> {
        let path = self.path();
        let op = "reading the log index";
        let mut candidates: Option<BTreeSet<u64>> = None;
        let mut narrow = |set: BTreeSet<u64>| {
            candidates = Some(match candidates.take() {
                None => set,
                Some(before) => before.intersection(&set).copied().collect(),
            });
        };
        if !filter.addresses.is_empty() {
            let table = self.existing(self.tables().log_addresses())?;
            let mut set = BTreeSet::new();
            for address in &filter.addresses {
                let a = address.into_array();
                for entry in table.range((a, from)..=(a, to)).or_db(path, op)? {
                    set.insert(entry.or_db(path, op)?.0.value().1);
                }
            }
            narrow(set);
        }
        let table = self.existing(self.tables().log_topics())?;
        for (any_of, position) in filter.topics.iter().take(INDEXED_TOPICS).zip(0u8..) {
            if any_of.is_empty() {
                continue;
            }
            let mut set = BTreeSet::new();
            for topic in any_of {
                let range = (position, topic.0, from)..=(position, topic.0, to);
                for entry in table.range(range).or_db(path, op)? {
                    set.insert(entry.or_db(path, op)?.0.value().2);
                }
            }
            narrow(set);
        }
        if let Some(set) = candidates {
            return Ok(set);
        }
        let table = self.existing(self.tables().log_blocks())?;
        table
            .range(from..=to)
            .or_db(path, op)?
            .map(|entry| entry.map(|(k, _)| k.value()))
            .collect::<Result<_, _>>()
            .or_db(path, op)
    }

    fn collect_logs(
        &self,
        filter: &LogFilter,
        height: Height,
        out: &mut Vec<IndexedLog>,
    ) -> Result<(), StoreError> {
        let receipts: Vec<Receipt> = self
            .record(self.tables().receipts(), height.get())?
            .ok_or_else(|| StoreError::missing(self.path(), "receipts", height))?;
        let block_ids = self.existing(self.tables().block_ids())?;
        let block_id = block_ids
            .get(height.get())
            .or_db(self.path(), "reading a block id")?
            .map(|id| BlockId(id.value()))
            .ok_or_else(|| StoreError::missing(self.path(), "block_ids", height))?;
        let logs = receipts.iter().zip(0u64..).flat_map(|(receipt, tx_index)| {
            receipt.logs.iter().map(move |l| (receipt, tx_index, l))
        });
        for ((receipt, tx_index, log), log_index) in logs.zip(0u64..) {
            if !filter.matches(log) {
                continue;
            }
            if out.len() >= filter.limit {
                return Err(StoreError::TooManyLogs {
                    limit: filter.limit,
                });
            }
            out.push(IndexedLog {
                height,
                block_id,
                tx_hash: receipt.tx_hash,
                tx_index,
                log_index,
                log: log.clone(),
            });
        }
        Ok(())
    }
}
