//! The store as the VM and the JSON-RPC use it: genesis, block commits,
//! archive reads, queries, several chains in one file, decided blocks.

// Test code: a failed unwrap, index or panic is the test failing, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::cast_possible_truncation
)]

mod common;

use std::collections::BTreeMap;

use common::{account, addr, commit, log, next_block, set_accounts, topic};
use gont_core::{
    B256, BlockId, Bytes, ChainId, CommitCertificate, DecidedBlock, ExecutionStore, Hash, Height,
    StateChanges, StateReader, U256,
};
use gont_storage::{Store, StoreConfig, StoreError};

const SPACE: ChainId = ChainId(7_000);
const SERVICE: ChainId = ChainId(7_001);

fn genesis() -> StateChanges {
    let mut changes = set_accounts(&[(addr(1), account(0, 1_000)), (addr(2), account(0, 50))]);
    changes
        .storage
        .insert(addr(2), BTreeMap::from([(U256::from(1), U256::from(11))]));
    changes
        .code
        .insert(B256::repeat_byte(0xc0), Bytes::from_static(b"\x60\x00"));
    changes
}

#[test]
fn genesis_is_idempotent_and_a_different_genesis_is_refused() {
    let store = Store::in_memory(StoreConfig::default()).unwrap();
    let chain = store.chain(SPACE);
    assert!(matches!(
        chain.state_at(Height(0)),
        Err(StoreError::NoGenesis { chain: SPACE })
    ));
    assert_eq!(chain.latest_height().unwrap(), None);
    let root = chain.init_genesis(Hash::digest(b"g"), &genesis()).unwrap();
    assert_eq!(
        chain.init_genesis(Hash::digest(b"g"), &genesis()).unwrap(),
        root
    );
    assert_eq!(chain.latest_height().unwrap(), Some(Height(0)));
    assert_eq!(chain.head().unwrap(), None);
    assert_eq!(chain.state_root(Height(0)).unwrap(), root);
    assert_eq!(chain.genesis_hash().unwrap(), Some(Hash::digest(b"g")));

    let err = chain
        .init_genesis(Hash::digest(b"other"), &genesis())
        .unwrap_err();
    assert!(matches!(err, StoreError::GenesisMismatch { .. }), "{err}");
    assert!(err.to_string().contains("differs from the given genesis"));
    let err = chain
        .init_genesis(Hash::digest(b"g"), &StateChanges::default())
        .unwrap_err();
    assert!(
        matches!(err, StoreError::GenesisStateMismatch { .. }),
        "{err}"
    );

    let state = chain.state_at(Height(0)).unwrap();
    assert_eq!(state.account(addr(1)).unwrap(), Some(account(0, 1_000)));
    assert_eq!(state.account(addr(3)).unwrap(), None);
    assert_eq!(
        state.storage(addr(2), U256::from(1)).unwrap(),
        U256::from(11)
    );
    assert_eq!(state.storage(addr(2), U256::from(2)).unwrap(), U256::ZERO);
    assert_eq!(
        state.code(B256::repeat_byte(0xc0)).unwrap(),
        Some(Bytes::from_static(b"\x60\x00"))
    );
    assert_eq!(state.code(B256::repeat_byte(0xc1)).unwrap(), None);
}

#[test]
fn blocks_read_back_by_height_id_and_transaction_hash() {
    let store = Store::in_memory(StoreConfig::default()).unwrap();
    let chain = store.chain(SPACE);
    chain.init_genesis(Hash::digest(b"g"), &genesis()).unwrap();
    let b1 = commit(
        &chain,
        vec![vec![], vec![log(addr(9), &[topic(1)])]],
        set_accounts(&[(addr(1), account(1, 900))]),
    );
    let b2 = commit(&chain, vec![vec![]], StateChanges::default());

    assert_eq!(chain.latest_height().unwrap(), Some(Height(2)));
    assert_eq!(chain.head().unwrap(), Some(b2.block.header));
    assert_eq!(
        chain.header(Height(1)).unwrap(),
        Some(b1.block.header.clone())
    );
    assert_eq!(chain.header(Height(3)).unwrap(), None);
    assert_eq!(chain.block(Height(1)).unwrap(), Some(b1.block.clone()));
    let id1 = b1.block.header.id().unwrap();
    assert_eq!(chain.block_id(Height(1)).unwrap(), Some(id1));
    assert_eq!(chain.height_of(id1).unwrap(), Some(Height(1)));
    assert_eq!(chain.block_by_id(id1).unwrap(), Some(b1.block.clone()));
    assert_eq!(chain.block_by_id(BlockId([9; 32])).unwrap(), None);

    let t = &b1.block.body.transactions[1];
    let location = chain.tx_location(t.hash()).unwrap().unwrap();
    assert_eq!((location.height, location.index), (Height(1), 1));
    assert_eq!(
        chain.transaction(t.hash()).unwrap(),
        Some((location, t.clone()))
    );
    assert_eq!(
        chain.receipt(t.hash()).unwrap(),
        Some((location, b1.receipts[1].clone()))
    );
    assert_eq!(
        chain.receipts(Height(1)).unwrap(),
        Some(b1.receipts.clone())
    );
    assert_eq!(chain.tx_location(B256::ZERO).unwrap(), None);

    // The block hash the EVM sees, only for heights at or below the state's.
    let state = chain.state_at(Height(1)).unwrap();
    assert_eq!(state.block_id(Height(1)).unwrap(), Some(id1));
    assert_eq!(state.block_id(Height(2)).unwrap(), None);
    assert_eq!(state.block_id(Height(0)).unwrap(), None);
}

#[test]
fn state_at_reads_every_past_height() {
    let store = Store::in_memory(StoreConfig::default()).unwrap();
    let chain = store.chain(SPACE);
    chain.init_genesis(Hash::digest(b"g"), &genesis()).unwrap();
    let mut expected = vec![(1_000u64, U256::from(11))];
    for h in 1..=12u64 {
        let mut changes = set_accounts(&[(addr(1), account(h, 1_000 - h))]);
        // The slot is zeroed (deleted) on every third block, set otherwise.
        let slot = if h % 3 == 0 {
            U256::ZERO
        } else {
            U256::from(100 + h)
        };
        changes
            .storage
            .insert(addr(2), BTreeMap::from([(U256::from(1), slot)]));
        if h == 5 {
            changes.accounts.insert(addr(2), None);
        }
        commit(&chain, vec![], changes);
        expected.push((1_000 - h, slot));
    }
    for (h, (balance, slot)) in expected.iter().enumerate() {
        let state = chain.state_at(Height(h as u64)).unwrap();
        assert_eq!(state.height(), Height(h as u64));
        assert_eq!(
            state.account(addr(1)).unwrap().unwrap().balance,
            U256::from(*balance),
            "height {h}"
        );
        assert_eq!(
            state.storage(addr(2), U256::from(1)).unwrap(),
            *slot,
            "height {h}"
        );
        assert_eq!(
            state.account(addr(2)).unwrap().is_some(),
            h < 5,
            "height {h}"
        );
    }
    let err = chain.state_at(Height(13)).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::NotCommitted {
                height: Height(13),
                head: Height(12),
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn state_root_after_matches_the_commit_and_writes_nothing() {
    let store = Store::in_memory(StoreConfig::default()).unwrap();
    let chain = store.chain(SPACE);
    let g = chain.init_genesis(Hash::digest(b"g"), &genesis()).unwrap();
    let changes = set_accounts(&[(addr(4), account(0, 4))]);
    let root = chain.state_root_after(Height(0), &changes).unwrap();
    assert_ne!(root, g);
    // Nothing was written: height 0 reads as before, the head did not move.
    assert_eq!(
        chain.state_at(Height(0)).unwrap().account(addr(4)).unwrap(),
        None
    );
    assert_eq!(chain.latest_height().unwrap(), Some(Height(0)));
    assert_eq!(
        chain
            .state_root_after(Height(0), &StateChanges::default())
            .unwrap(),
        g
    );
    let block = commit(&chain, vec![], changes.clone());
    assert_eq!(block.block.header.state_root, root);
    assert_eq!(chain.state_root(Height(1)).unwrap(), root);
    // From an older height too: the same changes on genesis give the same root.
    assert_eq!(chain.state_root_after(Height(0), &changes).unwrap(), root);
}

#[test]
fn a_prepared_commitment_commits_as_computed_and_one_prepared_on_an_older_head_is_recomputed() {
    let store = Store::in_memory(StoreConfig::default()).unwrap();
    let chain = store.chain(SPACE);
    chain.init_genesis(Hash::digest(b"g"), &genesis()).unwrap();
    let first = set_accounts(&[(addr(4), account(0, 4))]);
    let block = next_block(&chain, vec![], first.clone());
    let (root, prepared) = chain.prepare(Height(0), &first).unwrap();
    assert_eq!(root, block.block.header.state_root);
    assert_eq!(prepared.root(), root);
    // Prepared on genesis, the head: written as computed.
    chain.commit_prepared(&block, prepared).unwrap();
    assert_eq!(chain.state_root(Height(1)).unwrap(), root);
    assert_eq!(
        chain.state_at(Height(1)).unwrap().account(addr(4)).unwrap(),
        Some(account(0, 4))
    );

    // An update prepared on genesis again, now that the head is #1: the
    // block at #2 is written with the tree computed on #1 instead.
    let second = set_accounts(&[(addr(5), account(1, 5))]);
    let (_, stale) = chain.prepare(Height(0), &second).unwrap();
    let block = next_block(&chain, vec![], second);
    chain.commit_prepared(&block, stale).unwrap();
    assert_eq!(
        chain.state_root(Height(2)).unwrap(),
        block.block.header.state_root
    );
    let state = chain.state_at(Height(2)).unwrap();
    assert_eq!(state.account(addr(4)).unwrap(), Some(account(0, 4)));
    assert_eq!(state.account(addr(5)).unwrap(), Some(account(1, 5)));
}

#[test]
fn commit_refuses_blocks_that_do_not_extend_the_head() {
    let store = Store::in_memory(StoreConfig::default()).unwrap();
    let chain = store.chain(SPACE);
    let other = Store::in_memory(StoreConfig::default())
        .unwrap()
        .chain(SPACE);
    other.init_genesis(Hash::digest(b"g"), &genesis()).unwrap();
    let early = next_block(&other, vec![], StateChanges::default());
    assert!(matches!(
        chain.commit_block(&early),
        Err(StoreError::NoGenesis { .. })
    ));
    chain.init_genesis(Hash::digest(b"g"), &genesis()).unwrap();
    let good = next_block(
        &chain,
        vec![vec![]],
        set_accounts(&[(addr(5), account(0, 5))]),
    );

    let mut wrong = good.clone();
    wrong.block.header.chain_id = SERVICE;
    assert!(matches!(
        chain.commit_block(&wrong),
        Err(StoreError::ChainMismatch { .. })
    ));
    let mut wrong = good.clone();
    wrong.block.header.height = Height(2);
    assert!(matches!(
        chain.commit_block(&wrong),
        Err(StoreError::Header { .. })
    ));
    wrong.block.header.parent = Some(BlockId([3; 32]));
    assert!(matches!(
        chain.commit_block(&wrong),
        Err(StoreError::NotNextBlock {
            expected: Height(1),
            found: Height(2),
            ..
        })
    ));
    let mut wrong = good.clone();
    wrong.block.header.state_root = Hash::digest(b"not the root");
    let err = chain.commit_block(&wrong).unwrap_err();
    assert!(matches!(err, StoreError::StateRootMismatch { .. }), "{err}");
    let mut wrong = good.clone();
    wrong.receipts.clear();
    assert!(matches!(
        chain.commit_block(&wrong),
        Err(StoreError::ReceiptCount {
            transactions: 1,
            receipts: 0,
            ..
        })
    ));

    chain.commit_block(&good).unwrap();
    let mut next = next_block(&chain, vec![], StateChanges::default());
    next.block.header.parent = Some(BlockId([3; 32]));
    assert!(matches!(
        chain.commit_block(&next),
        Err(StoreError::ParentMismatch { .. })
    ));
    // The same block twice is not the next block.
    assert!(matches!(
        chain.commit_block(&good),
        Err(StoreError::NotNextBlock { .. })
    ));
    // Refused commits changed nothing.
    assert_eq!(chain.latest_height().unwrap(), Some(Height(1)));
    assert_eq!(chain.head().unwrap(), Some(good.block.header));
}

#[test]
fn chains_live_side_by_side_in_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let (space_block, service_block) = {
        let store = Store::open(dir.path()).unwrap();
        let space = store.chain(SPACE);
        let service = store.chain(SERVICE);
        space
            .init_genesis(Hash::digest(b"space"), &genesis())
            .unwrap();
        service
            .init_genesis(
                Hash::digest(b"service"),
                &set_accounts(&[(addr(1), account(0, 5))]),
            )
            .unwrap();
        let a = commit(&space, vec![vec![]], StateChanges::default());
        let b = commit(
            &service,
            vec![vec![], vec![]],
            set_accounts(&[(addr(1), account(1, 4))]),
        );
        (a, b)
    };
    assert!(dir.path().join(Store::FILE_NAME).is_file());
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.chains().unwrap(), vec![SPACE, SERVICE]);
    let space = store.chain(SPACE);
    let service = store.chain(SERVICE);
    assert_eq!(space.block(Height(1)).unwrap(), Some(space_block.block));
    assert_eq!(
        service.block(Height(1)).unwrap(),
        Some(service_block.block.clone())
    );
    assert_eq!(
        space.state_at(Height(1)).unwrap().account(addr(1)).unwrap(),
        Some(account(0, 1_000))
    );
    assert_eq!(
        service
            .state_at(Height(1))
            .unwrap()
            .account(addr(1))
            .unwrap(),
        Some(account(1, 4))
    );
    let service_tx = service_block.block.body.transactions[0].hash();
    assert!(service.tx_location(service_tx).unwrap().is_some());
    assert!(space.tx_location(service_tx).unwrap().is_none());
    assert_ne!(
        space.state_root(Height(1)).unwrap(),
        service.state_root(Height(1)).unwrap()
    );
    assert_eq!(store.chain(ChainId(9)).latest_height().unwrap(), None);
}

#[test]
fn a_state_snapshot_is_unaffected_by_later_commits() {
    let store = Store::in_memory(StoreConfig::default()).unwrap();
    let chain = store.chain(SPACE);
    chain.init_genesis(Hash::digest(b"g"), &genesis()).unwrap();
    let state = chain.state_at(Height(0)).unwrap();
    commit(&chain, vec![], set_accounts(&[(addr(1), account(1, 1))]));
    assert_eq!(state.account(addr(1)).unwrap(), Some(account(0, 1_000)));
    assert_eq!(
        chain.state_at(Height(1)).unwrap().account(addr(1)).unwrap(),
        Some(account(1, 1))
    );
}

fn certificate(block: &gont_core::Block) -> CommitCertificate {
    CommitCertificate {
        height: block.header.height,
        round: 0,
        block_id: block.header.id().unwrap(),
        signatures: vec![gont_core::CommitSig::Absent],
    }
}

#[test]
fn decided_blocks_are_kept_by_height_before_and_after_their_commit() {
    let store = Store::in_memory(StoreConfig::default()).unwrap();
    let chain = store.chain(SPACE);
    chain.init_genesis(Hash::digest(b"g"), &genesis()).unwrap();
    assert_eq!(chain.decided(Height(1)).unwrap(), None);
    assert_eq!(chain.decided_height().unwrap(), None);

    // Decided before it is committed.
    let b1 = next_block(&chain, vec![vec![]], StateChanges::default());
    let d1 = DecidedBlock {
        block: b1.block.clone(),
        commit: certificate(&b1.block),
    };
    chain.put_decided(&d1).unwrap();
    assert_eq!(chain.decided(Height(1)).unwrap(), Some(d1.clone()));
    chain.commit_block(&b1).unwrap();
    assert_eq!(chain.decided(Height(1)).unwrap(), Some(d1));

    // Committed before it is decided.
    let b2 = commit(&chain, vec![], StateChanges::default());
    assert_eq!(chain.decided(Height(2)).unwrap(), None);
    let d2 = DecidedBlock {
        block: b2.block.clone(),
        commit: certificate(&b2.block),
    };
    chain.put_decided(&d2).unwrap();
    assert_eq!(chain.decided(Height(2)).unwrap(), Some(d2.clone()));
    assert_eq!(
        chain.commit_certificate(Height(2)).unwrap(),
        Some(d2.commit.clone())
    );
    assert_eq!(chain.decided_height().unwrap(), Some(Height(2)));

    // A commit for another block, or another block at a decided height.
    let mut bad = d2.clone();
    bad.commit.block_id = BlockId([1; 32]);
    assert!(matches!(
        chain.put_decided(&bad),
        Err(StoreError::DecidedMismatch { .. })
    ));
    let mut other = d2;
    other.block.header.time = gont_core::Timestamp::from_secs(1);
    other.commit = certificate(&other.block);
    assert!(matches!(
        chain.put_decided(&other),
        Err(StoreError::DecidedConflict { .. })
    ));

    // A block other than the decided one cannot be committed at its height.
    let b3 = next_block(&chain, vec![], StateChanges::default());
    let mut decided3 = b3.block.clone();
    decided3.header.time = gont_core::Timestamp::from_secs(2);
    chain
        .put_decided(&DecidedBlock {
            commit: certificate(&decided3),
            block: decided3,
        })
        .unwrap();
    assert!(matches!(
        chain.commit_block(&b3),
        Err(StoreError::DecidedConflict { .. })
    ));
}
