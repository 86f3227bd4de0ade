//! Rolling a chain back to an earlier height (`gont rollback`): the head,
//! the state, the tree and the indexes are those of that height again, and
//! the decisions above it are kept for re-execution or dropped.

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
use std::num::NonZeroU64;

use common::{account, addr, log, next_block, set_accounts, topic};
use gont_core::{
    ChainId, CommitCertificate, CommitSig, DecidedBlock, ExecutedBlock, ExecutionStore, Hash,
    Height, StateChanges, StateReader, U256,
};
use gont_storage::{
    ChainStore, LogFilter, Pruning, RollbackMode, RolledBack, StateKey, Store, StoreConfig,
    StoreError, verify_state_proof,
};

const CHAIN: ChainId = ChainId(4_242);

/// Block `h` of the first branch: account `h` appears, account 1's
/// balance and a slot of account 2 change, one transaction logs (none at
/// height 4, which changes nothing).
fn changes(h: u8) -> StateChanges {
    if h == 4 {
        return StateChanges::default();
    }
    let mut changes = set_accounts(&[
        (addr(h), account(0, 7)),
        (addr(1), account(u64::from(h), 1_000 + u64::from(h))),
    ]);
    changes
        .storage
        .insert(addr(2), BTreeMap::from([(U256::from(1), U256::from(h))]));
    changes
}

fn logs(h: u8) -> Vec<Vec<gont_core::Log>> {
    if h == 4 {
        return vec![];
    }
    vec![vec![log(addr(h), &[topic(h)])], vec![]]
}

/// A store at height `blocks` on the first branch, each block decided
/// with a certificate first, as consensus records it.
fn first_branch(config: StoreConfig, blocks: u8) -> (Store, Vec<ExecutedBlock>) {
    let store = Store::in_memory(config).unwrap();
    let chain = store.chain(CHAIN);
    chain
        .init_genesis(
            Hash::digest(b"g"),
            &set_accounts(&[(addr(1), account(0, 1_000))]),
        )
        .unwrap();
    let executed = (1..=blocks)
        .map(|h| {
            let block = next_block(&chain, logs(h), changes(h));
            chain.put_decided(&decided(&block)).unwrap();
            chain.commit_block(&block).unwrap();
            block
        })
        .collect();
    (store, executed)
}

/// A pruned store's config: the state of the last `n` heights.
fn keeping_last(n: u64) -> StoreConfig {
    StoreConfig {
        pruning: Pruning::KeepLast(NonZeroU64::new(n).unwrap()),
        ..StoreConfig::default()
    }
}

fn decided(executed: &ExecutedBlock) -> DecidedBlock {
    let block = executed.block.clone();
    DecidedBlock {
        commit: CommitCertificate {
            height: block.header.height,
            round: 0,
            block_id: block.header.id().unwrap(),
            signatures: vec![CommitSig::Absent],
        },
        block,
    }
}

fn all_logs(chain: &ChainStore) -> Vec<(Height, gont_core::Log)> {
    chain
        .logs(&LogFilter::new(Height(0), Height(99)))
        .unwrap()
        .into_iter()
        .map(|l| (l.height, l.log))
        .collect()
}

/// Every account and slot the test writes, proven at `height` against
/// the root kept for it.
fn prove_everything(chain: &ChainStore, height: Height) {
    let root = chain.state_root(height).unwrap();
    let state = chain.state_at(height).unwrap();
    let keys = (1..=60u8)
        .map(|a| StateKey::Account(addr(a)))
        .chain([StateKey::Storage {
            address: addr(2),
            slot: U256::from(1),
        }]);
    for key in keys {
        let proven = chain.prove(height, key).unwrap();
        assert_eq!(proven.root, root);
        verify_state_proof(root, &key, proven.value.as_ref(), &proven.proof)
            .unwrap_or_else(|e| panic!("{key} at {height}: {e}"));
        if let StateKey::Account(a) = key {
            assert_eq!(
                proven.value.is_some(),
                state.account(a).unwrap().is_some(),
                "{key} at {height}"
            );
        }
    }
}

#[test]
fn a_rollback_restores_the_heights_head_state_and_indexes_and_keeps_the_decisions_above_it() {
    let (store, executed) = first_branch(StoreConfig::default(), 5);
    let chain = store.chain(CHAIN);
    let roots: Vec<Hash> = (0..=5)
        .map(|h| chain.state_root(Height(h)).unwrap())
        .collect();
    let logs_before = all_logs(&chain);
    let decided_before: Vec<DecidedBlock> = executed.iter().map(decided).collect();

    assert_eq!(
        chain
            .rollback(Height(2), RollbackMode::KeepDecided)
            .unwrap(),
        RolledBack {
            from: Height(5),
            to: Height(2),
            decided: Some(Height(5)),
        }
    );
    assert_eq!(chain.latest_height().unwrap(), Some(Height(2)));
    assert_eq!(
        chain.head().unwrap(),
        Some(executed[1].block.header.clone())
    );
    assert_eq!(chain.state_root(Height(2)).unwrap(), roots[2]);
    assert!(matches!(
        chain.state_at(Height(3)),
        Err(StoreError::NotCommitted { .. })
    ));
    let state = chain.state_at(Height(2)).unwrap();
    assert_eq!(state.account(addr(3)).unwrap(), None);
    assert_eq!(state.account(addr(1)).unwrap(), Some(account(2, 1_002)));
    assert_eq!(
        state.storage(addr(2), U256::from(1)).unwrap(),
        U256::from(2)
    );
    prove_everything(&chain, Height(2));
    for (h, block) in (3..=5u64).zip(&executed[2..]) {
        assert_eq!(chain.block(Height(h)).unwrap(), None);
        assert_eq!(
            chain.block_by_id(block.block.header.id().unwrap()).unwrap(),
            None
        );
        assert_eq!(chain.receipts(Height(h)).unwrap(), None);
        for tx in &block.block.body.transactions {
            assert_eq!(chain.tx_location(tx.hash()).unwrap(), None);
        }
    }
    let kept: Vec<_> = logs_before
        .iter()
        .filter(|(h, _)| h.get() <= 2)
        .cloned()
        .collect();
    assert_eq!(all_logs(&chain), kept);
    // Decided and not committed: what the node finishes on its next start.
    for h in 3..=5u64 {
        assert_eq!(
            chain.decided(Height(h)).unwrap().as_ref(),
            Some(&decided_before[h as usize - 1])
        );
    }
    assert_eq!(chain.decided_height().unwrap(), Some(Height(5)));

    // Committed again, the blocks give the same roots and indexes.
    for block in &executed[2..] {
        chain.commit_block(block).unwrap();
    }
    for h in 0..=5 {
        assert_eq!(chain.state_root(Height(h)).unwrap(), roots[h as usize]);
    }
    assert_eq!(all_logs(&chain), logs_before);
    prove_everything(&chain, Height(5));
}

#[test]
fn after_a_hard_rollback_another_branch_reads_only_its_own_state_and_prunes_only_its_own_history() {
    let (store, _) = first_branch(keeping_last(2), 6);
    let chain = store.chain(CHAIN);
    assert_eq!(chain.oldest_state_height().unwrap(), Height(5));

    assert_eq!(
        chain.rollback(Height(5), RollbackMode::Hard).unwrap(),
        RolledBack {
            from: Height(6),
            to: Height(5),
            decided: Some(Height(5)),
        }
    );
    assert_eq!(chain.decided(Height(6)).unwrap(), None);
    assert_eq!(chain.decided_height().unwrap(), Some(Height(5)));

    // Another block 6 touches only account 50; then more blocks prune.
    let other = next_block(&chain, vec![], set_accounts(&[(addr(50), account(0, 1))]));
    chain.commit_block(&other).unwrap();
    let state = chain.state_at(Height(6)).unwrap();
    // The first branch's block 6 created account 6 and changed account 1.
    assert_eq!(state.account(addr(6)).unwrap(), None);
    assert_eq!(state.account(addr(1)).unwrap(), Some(account(5, 1_005)));
    assert_eq!(state.account(addr(50)).unwrap(), Some(account(0, 1)));
    assert_eq!(
        chain.tx_location(common::tx(CHAIN, 6, 0).hash()).unwrap(),
        None
    );
    drop(state);
    for a in 51..=54u8 {
        let block = next_block(&chain, vec![], set_accounts(&[(addr(a), account(0, 1))]));
        chain.commit_block(&block).unwrap();
    }
    assert_eq!(chain.oldest_state_height().unwrap(), Height(9));
    // No record of the first branch's stale nodes deleted a live one.
    prove_everything(&chain, Height(9));
    prove_everything(&chain, Height(10));
}

#[test]
fn a_rollback_is_refused_above_the_head_and_below_the_oldest_state_kept() {
    let (store, _) = first_branch(keeping_last(3), 6);
    let chain = store.chain(CHAIN);
    assert!(matches!(
        chain.rollback(Height(7), RollbackMode::KeepDecided),
        Err(StoreError::NotCommitted {
            height: Height(7),
            head: Height(6),
            ..
        })
    ));
    assert!(matches!(
        chain.rollback(Height(3), RollbackMode::Hard),
        Err(StoreError::Pruned {
            height: Height(3),
            oldest: Height(4),
            ..
        })
    ));
    // Nothing changed.
    assert_eq!(chain.latest_height().unwrap(), Some(Height(6)));
    assert!(chain.decided(Height(6)).unwrap().is_some());
    assert!(matches!(
        store
            .chain(ChainId(9))
            .rollback(Height(0), RollbackMode::Hard),
        Err(StoreError::NoGenesis { .. })
    ));
    // Back to the head: nothing to remove.
    assert_eq!(
        chain
            .rollback(Height(6), RollbackMode::KeepDecided)
            .unwrap(),
        RolledBack {
            from: Height(6),
            to: Height(6),
            decided: Some(Height(6)),
        }
    );
    assert_eq!(chain.latest_height().unwrap(), Some(Height(6)));
}
