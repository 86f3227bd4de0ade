//! Log queries through the log index, and pruning of state history.

// Test code: a failed unwrap, index or panic is the test failing, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::cast_possible_truncation
)]

mod common;

use std::num::NonZeroU64;

use common::{account, addr, commit, log, set_accounts, topic};
use gont_core::{ChainId, ExecutionStore, Hash, Height, Log, StateChanges, StateReader};
use gont_storage::{
    LogFilter, Pruning, StateKey, Store, StoreConfig, StoreError, verify_state_proof,
};

const CHAIN: ChainId = ChainId(1337);

/// Every log of blocks `from..=to` that `filter` matches, by reading every
/// block: the model the index must agree with.
fn scan(chain: &gont_storage::ChainStore, filter: &LogFilter) -> Vec<(u64, Log)> {
    let head = chain.latest_height().unwrap().unwrap().get();
    (filter.from.get()..=filter.to.get().min(head))
        .flat_map(|h| {
            chain
                .receipts(Height(h))
                .unwrap()
                .unwrap_or_default()
                .into_iter()
                .flat_map(|r| r.logs)
                .filter(|l| filter.matches(l))
                .map(move |l| (h, l))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn log_queries_match_a_scan_of_every_block() {
    let store = Store::in_memory(StoreConfig::default()).unwrap();
    let chain = store.chain(CHAIN);
    chain
        .init_genesis(Hash::digest(b"g"), &StateChanges::default())
        .unwrap();
    // 30 blocks; block h has logs from address h % 4 with topics chosen by h.
    for h in 1..=30u8 {
        let logs = if h % 5 == 0 {
            vec![]
        } else {
            vec![
                vec![log(addr(h % 4), &[topic(h % 3), topic(10 + h % 2)])],
                vec![log(addr(9), &[topic(h % 3)]), log(addr(h % 4), &[])],
            ]
        };
        commit(&chain, logs, StateChanges::default());
    }
    let filters = [
        LogFilter::new(Height(1), Height(30)),
        LogFilter {
            addresses: vec![addr(1)],
            ..LogFilter::new(Height(1), Height(30))
        },
        LogFilter {
            addresses: vec![addr(1), addr(3)],
            ..LogFilter::new(Height(4), Height(17))
        },
        LogFilter {
            topics: vec![vec![topic(2)]],
            ..LogFilter::new(Height(1), Height(30))
        },
        LogFilter {
            topics: vec![vec![], vec![topic(11)]],
            ..LogFilter::new(Height(1), Height(30))
        },
        LogFilter {
            topics: vec![vec![topic(0), topic(1)], vec![topic(10)]],
            ..LogFilter::new(Height(3), Height(25))
        },
        LogFilter {
            addresses: vec![addr(9)],
            topics: vec![vec![topic(1)]],
            ..LogFilter::new(Height(1), Height(99))
        },
        LogFilter {
            addresses: vec![addr(7)],
            ..LogFilter::new(Height(1), Height(30))
        },
        LogFilter::new(Height(5), Height(5)),
        LogFilter::new(Height(31), Height(40)),
    ];
    for filter in &filters {
        let found = chain.logs(filter).unwrap();
        let expected = scan(&chain, filter);
        assert_eq!(
            found
                .iter()
                .map(|l| (l.height.get(), l.log.clone()))
                .collect::<Vec<_>>(),
            expected,
            "{filter:?}"
        );
        for l in &found {
            // Positions and ids are those of the block.
            let receipts = chain.receipts(l.height).unwrap().unwrap();
            assert_eq!(receipts[l.tx_index as usize].tx_hash, l.tx_hash);
            let all: Vec<&Log> = receipts.iter().flat_map(|r| &r.logs).collect();
            assert_eq!(all[l.log_index as usize], &l.log);
            assert_eq!(Some(l.block_id), chain.block_id(l.height).unwrap());
        }
    }
    assert!(!chain.logs(&filters[1]).unwrap().is_empty());

    let limited = LogFilter {
        limit: 3,
        ..LogFilter::new(Height(1), Height(30))
    };
    assert!(matches!(
        chain.logs(&limited),
        Err(StoreError::TooManyLogs { limit: 3 })
    ));
    assert!(matches!(
        chain.logs(&LogFilter::new(Height(9), Height(2))),
        Err(StoreError::InvalidLogRange { .. })
    ));
}

#[test]
fn pruning_keeps_the_last_n_heights_and_refuses_older_reads() {
    let config = StoreConfig {
        pruning: Pruning::KeepLast(NonZeroU64::new(3).unwrap()),
        ..StoreConfig::default()
    };
    let store = Store::in_memory(config).unwrap();
    let chain = store.chain(CHAIN);
    chain
        .init_genesis(
            Hash::digest(b"g"),
            &set_accounts(&[(addr(1), account(0, 0))]),
        )
        .unwrap();
    for h in 1..=20u64 {
        // Rewrites the same account, adds one, and every fourth block is empty.
        let changes = if h % 4 == 0 {
            StateChanges::default()
        } else {
            set_accounts(&[
                (addr(1), account(h, h)),
                (addr(100 + h as u8), account(0, h)),
            ])
        };
        commit(&chain, vec![], changes);
        let oldest = chain.oldest_state_height().unwrap();
        assert_eq!(oldest, Height((h + 1).saturating_sub(3)));
    }
    assert_eq!(chain.oldest_state_height().unwrap(), Height(18));
    let err = chain.state_at(Height(17)).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Pruned {
                height: Height(17),
                oldest: Height(18),
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("was pruned"));
    assert!(matches!(
        chain.state_root(Height(2)),
        Err(StoreError::Pruned { .. })
    ));
    assert!(matches!(
        chain.prove(Height(0), StateKey::Account(addr(1))),
        Err(StoreError::Pruned { .. })
    ));

    // The kept heights read and prove in full: pruning removed nothing they need.
    for h in 18..=20u64 {
        let state = chain.state_at(Height(h)).unwrap();
        let last_write = (1..=h).rev().find(|k| k % 4 != 0).unwrap();
        assert_eq!(
            state.account(addr(1)).unwrap(),
            Some(account(last_write, last_write))
        );
        let root = chain.header(Height(h)).unwrap().unwrap().state_root;
        assert_eq!(chain.state_root(Height(h)).unwrap(), root);
        for k in 1..=20u64 {
            let key = StateKey::Account(addr(100 + k as u8));
            let proven = chain.prove(Height(h), key).unwrap();
            assert_eq!(
                proven.value.is_some(),
                k <= h && k % 4 != 0,
                "key {k} at {h}"
            );
            verify_state_proof(root, &key, proven.value.as_ref(), &proven.proof).unwrap();
        }
    }
    // Blocks and receipts are not pruned.
    assert!(chain.block(Height(1)).unwrap().is_some());
    // And the chain goes on.
    commit(&chain, vec![], set_accounts(&[(addr(1), account(99, 99))]));
    assert_eq!(
        chain
            .state_at(Height(21))
            .unwrap()
            .account(addr(1))
            .unwrap(),
        Some(account(99, 99))
    );
}

#[test]
fn pruning_bounds_the_stored_state_history() {
    // Two stores commit the same 60 blocks that rewrite the same keys; the
    // pruned one's file must stay far smaller than the archive's.
    let sizes: Vec<u64> = [
        Pruning::Archive,
        Pruning::KeepLast(NonZeroU64::new(2).unwrap()),
    ]
    .into_iter()
    .map(|pruning| {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with(
            dir.path(),
            StoreConfig {
                pruning,
                ..StoreConfig::default()
            },
        )
        .unwrap();
        let chain = store.chain(CHAIN);
        chain
            .init_genesis(Hash::digest(b"g"), &StateChanges::default())
            .unwrap();
        for h in 1..=60u64 {
            let accounts: Vec<_> = (0..40u8)
                .map(|i| (addr(i), account(h, h * 1000 + u64::from(i))))
                .collect();
            commit(&chain, vec![], set_accounts(&accounts));
        }
        drop(chain);
        drop(store);
        std::fs::metadata(dir.path().join(Store::FILE_NAME))
            .unwrap()
            .len()
    })
    .collect();
    assert!(
        sizes[1] * 3 < sizes[0],
        "pruned {} bytes vs archive {} bytes",
        sizes[1],
        sizes[0]
    );
}
