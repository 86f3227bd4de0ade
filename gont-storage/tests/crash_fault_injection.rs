//! Crash safety, proven the way redb proves its own: a storage backend that
//! fails I/O from its k-th operation on. For every k over the operations of
//! one block commit, the commit is cut there, the database is reopened
//! (redb recovers it), and height, state root, state and indexes must agree
//! with exactly one of the two blocks: the previous or the next.

// Test code: a failed unwrap, index or panic is the test failing, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::cast_possible_truncation
)]

mod common;

use std::fs::OpenOptions;
use std::io;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use common::{account, addr, commit, log, next_block, set_accounts, topic};
use gont_core::{ChainId, ExecutedBlock, ExecutionStore, Hash, Height, StateReader};
use gont_storage::{ChainStore, LogFilter, Store, StoreConfig};
use redb::backends::FileBackend;
use redb::{BackendError, StorageBackend};

const CHAIN: ChainId = ChainId(77);

/// Counts I/O operations once armed, and fails every one from the
/// `fail_at`-th on, as a disk that vanishes mid-commit.
#[derive(Debug)]
struct FaultyBackend {
    inner: FileBackend,
    ops: Arc<AtomicU64>,
    fail_at: u64,
}

impl FaultyBackend {
    fn op(&self) -> io::Result<()> {
        if self.ops.fetch_add(1, Ordering::SeqCst) >= self.fail_at {
            return Err(io::Error::other("injected I/O fault"));
        }
        Ok(())
    }
}

impl StorageBackend for FaultyBackend {
    fn len(&self) -> io::Result<u64> {
        self.op()?;
        self.inner.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        self.op()?;
        self.inner.read(offset, out)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.op()?;
        self.inner.set_len(len)
    }

    fn sync_data(&self) -> io::Result<()> {
        self.op()?;
        self.inner.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.op()?;
        self.inner.write(offset, data)
    }

    fn close(&self) -> io::Result<()> {
        self.inner.close()
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.try_lock_range(start, end)
    }

    fn try_lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, BackendError> {
        self.inner.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.query_lock_range(start, end)
    }
}

/// Opens `path` through a faulty backend, commits `block`, and closes.
/// Returns how many I/O operations the commit and close made, and whether
/// the commit reported success.
fn commit_with_fault(path: &Path, block: &ExecutedBlock, fail_at: u64) -> (u64, bool) {
    // A backend cannot be re-armed once redb owns it, so the budget is
    // shifted by the operations the open itself makes (deterministic).
    let opening = count_open_ops(path);
    let ops = Arc::new(AtomicU64::new(0));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let backend = FaultyBackend {
        inner: FileBackend::new(file).unwrap(),
        ops: Arc::clone(&ops),
        fail_at: opening.saturating_add(fail_at),
    };
    let config = StoreConfig {
        verify_on_open: false,
        ..StoreConfig::default()
    };
    let store = Store::open_with_backend(backend, path, config).unwrap();
    assert_eq!(
        ops.load(Ordering::SeqCst),
        opening,
        "opening is deterministic"
    );
    let committed = store.chain(CHAIN).commit_block(block).is_ok();
    drop(store);
    (ops.load(Ordering::SeqCst) - opening, committed)
}

/// The I/O operations an open of `path` makes, without faults.
fn count_open_ops(path: &Path) -> u64 {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let ops = Arc::new(AtomicU64::new(0));
    let backend = FaultyBackend {
        inner: FileBackend::new(file).unwrap(),
        ops: Arc::clone(&ops),
        fail_at: u64::MAX,
    };
    let config = StoreConfig {
        verify_on_open: false,
        ..StoreConfig::default()
    };
    let store = Store::open_with_backend(backend, path, config).unwrap();
    let n = ops.load(Ordering::SeqCst);
    drop(store);
    n
}

/// Checks that the chain is exactly at `blocks[h]` for its head `h`, and
/// that nothing of the other block is visible. Returns the head.
fn assert_at_one_block(chain: &ChainStore, blocks: &[ExecutedBlock], k: u64) -> u64 {
    let head = chain.latest_height().unwrap().unwrap().get();
    assert!(head == 1 || head == 2, "fault at op {k}: head {head}");
    let at = &blocks[head as usize - 1];
    let other = &blocks[2 - head as usize];
    let header = &at.block.header;
    assert_eq!(
        chain.head().unwrap().as_ref(),
        Some(header),
        "fault at op {k}"
    );
    assert_eq!(
        chain.state_root(Height(head)).unwrap(),
        header.state_root,
        "fault at op {k}"
    );
    let state = chain.state_at(Height(head)).unwrap();
    assert_eq!(
        state.account(addr(1)).unwrap(),
        at.changes.accounts[&addr(1)],
        "fault at op {k}"
    );
    // Indexes: the head block's transactions and logs are found, the other
    // block's (when it is the uncommitted next one) are not.
    for t in &at.block.body.transactions {
        assert_eq!(
            chain.tx_location(t.hash()).unwrap().map(|l| l.height),
            Some(Height(head)),
            "fault at op {k}"
        );
    }
    let next_tx = other.block.body.transactions[0].hash();
    assert_eq!(
        chain.tx_location(next_tx).unwrap().is_some(),
        head == 2,
        "fault at op {k}"
    );
    let logs = chain
        .logs(&LogFilter {
            addresses: vec![addr(0x42)],
            ..LogFilter::new(Height(1), Height(2))
        })
        .unwrap();
    assert_eq!(
        logs.len() as u64,
        head,
        "fault at op {k}: one indexed log per committed block"
    );
    assert_eq!(
        chain.block_id(Height(2)).unwrap().is_some(),
        head == 2,
        "fault at op {k}"
    );
    assert_eq!(
        chain.receipts(Height(2)).unwrap().is_some(),
        head == 2,
        "fault at op {k}"
    );
    head
}

#[test]
fn faults_injected_at_every_io_operation_of_a_block_commit_leave_the_previous_or_the_next_block() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.redb");
    let blocks = {
        let store = Store::open_file(&base, StoreConfig::default()).unwrap();
        let chain = store.chain(CHAIN);
        let genesis: Vec<_> = (1..=40u8)
            .map(|i| (addr(i), account(0, u64::from(i))))
            .collect();
        chain
            .init_genesis(Hash::digest(b"g"), &set_accounts(&genesis))
            .unwrap();
        let b1 = commit(
            &chain,
            vec![vec![log(addr(0x42), &[topic(1)])]],
            set_accounts(&[(addr(1), account(1, 100))]),
        );
        let mut changes = set_accounts(&[(addr(1), account(2, 200))]);
        for i in 50..90u8 {
            changes
                .accounts
                .insert(addr(i), Some(account(0, u64::from(i))));
        }
        let b2 = next_block(
            &chain,
            vec![vec![log(addr(0x42), &[topic(2)])], vec![]],
            changes,
        );
        vec![b1, b2]
    };

    // How many I/O operations an undisturbed commit of block 2 makes.
    let probe = dir.path().join("probe.redb");
    std::fs::copy(&base, &probe).unwrap();
    let (total, committed) = commit_with_fault(&probe, &blocks[1], u64::MAX);
    assert!(committed);
    assert!(
        total > 3,
        "a commit makes several I/O operations, counted {total}"
    );

    let mut outcomes = [0u32; 3];
    for k in 0..=total {
        let path = dir.path().join(format!("fault-{k}.redb"));
        std::fs::copy(&base, &path).unwrap();
        let (_, acknowledged) = commit_with_fault(&path, &blocks[1], k);
        // Recovery: a plain open, with redb's integrity check.
        let store = Store::open_file(&path, StoreConfig::default())
            .unwrap_or_else(|e| panic!("fault at op {k}: reopening failed: {e}"));
        let chain = store.chain(CHAIN);
        let head = assert_at_one_block(&chain, &blocks, k);
        outcomes[head as usize] += 1;
        // A commit that reported success survives whatever failed after it.
        assert!(
            !acknowledged || head == 2,
            "fault at op {k}: an acknowledged commit was lost"
        );
        if head == 1 {
            // The recovered store takes the block it lost.
            chain.commit_block(&blocks[1]).unwrap();
            assert_at_one_block(&chain, &blocks, k);
        }
        drop(store);
        std::fs::remove_file(&path).unwrap();
    }
    // Both outcomes occur: early faults lose the block, the last keeps it.
    assert!(
        outcomes[1] > 0 && outcomes[2] > 0,
        "outcomes {outcomes:?} over {total} operations"
    );
    eprintln!(
        "{total} I/O operations in one block commit; after a fault at each: {} at the previous block, {} at the next",
        outcomes[1], outcomes[2]
    );
}
