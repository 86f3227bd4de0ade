//! The state commitment: proofs a light client checks against a header's
//! state root with `verify_state_proof` alone.

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

use common::{account, addr, commit, set_accounts};
use gont_core::{ChainId, ExecutionStore, Hash, Height, StateChanges, U256, decode, encode};
use gont_storage::{
    EMPTY_STATE_ROOT, StateKey, StateProof, StateProofError, StateValue, Store, StoreConfig,
    verify_state_proof,
};

const CHAIN: ChainId = ChainId(42);

fn slot(address: u8, slot: u64) -> StateKey {
    StateKey::Storage {
        address: addr(address),
        slot: U256::from(slot),
    }
}

#[test]
fn inclusion_and_exclusion_proofs_verify_against_the_header_root() {
    let store = Store::in_memory(StoreConfig::default()).unwrap();
    let chain = store.chain(CHAIN);
    let mut genesis = set_accounts(
        &(1..=30u8)
            .map(|i| (addr(i), account(0, u64::from(i))))
            .collect::<Vec<_>>(),
    );
    genesis.storage.insert(
        addr(1),
        (0..20u64)
            .map(|s| (U256::from(s), U256::from(s + 1)))
            .collect(),
    );
    let genesis_root = chain.init_genesis(Hash::digest(b"g"), &genesis).unwrap();
    let mut changes = set_accounts(&[(addr(2), account(1, 99))]);
    changes.accounts.insert(addr(3), None);
    changes.storage.insert(
        addr(1),
        BTreeMap::from([(U256::from(0), U256::ZERO), (U256::from(50), U256::from(7))]),
    );
    commit(&chain, vec![], changes);
    let root1 = chain.header(Height(1)).unwrap().unwrap().state_root;
    assert_eq!(chain.state_root(Height(0)).unwrap(), genesis_root);

    let cases: Vec<(u64, StateKey, Option<StateValue>)> = vec![
        (
            0,
            StateKey::Account(addr(2)),
            Some(StateValue::Account(account(0, 2))),
        ),
        (
            1,
            StateKey::Account(addr(2)),
            Some(StateValue::Account(account(1, 99))),
        ),
        (
            0,
            StateKey::Account(addr(3)),
            Some(StateValue::Account(account(0, 3))),
        ),
        (1, StateKey::Account(addr(3)), None),
        (1, StateKey::Account(addr(200)), None),
        (0, slot(1, 0), Some(StateValue::Storage(U256::from(1)))),
        (1, slot(1, 0), None),
        (1, slot(1, 50), Some(StateValue::Storage(U256::from(7)))),
        (1, slot(1, 19), Some(StateValue::Storage(U256::from(20)))),
        (1, slot(9, 0), None),
    ];
    for (height, key, expected) in cases {
        let root = if height == 0 { genesis_root } else { root1 };
        let proven = chain.prove(Height(height), key).unwrap();
        assert_eq!(proven.root, root);
        assert_eq!(proven.key, key);
        assert_eq!(proven.value, expected, "{key} at {height}");
        // The proof travels in the canonical encoding.
        let proof: StateProof = decode(&encode(&proven.proof)).unwrap();
        verify_state_proof(root, &key, expected.as_ref(), &proof).unwrap();

        // A different claim with the same proof fails: another value, absence
        // of a present key, presence of an absent one, another root or key.
        let other = StateValue::Account(account(5, 5));
        assert!(verify_state_proof(root, &key, Some(&other), &proof).is_err());
        match expected {
            Some(_) => assert!(verify_state_proof(root, &key, None, &proof).is_err()),
            None => {
                let err = verify_state_proof(
                    root,
                    &key,
                    Some(&StateValue::Storage(U256::from(1))),
                    &proof,
                )
                .unwrap_err();
                assert!(matches!(err, StateProofError { .. }), "{err}");
            }
        }
        let wrong_root = if height == 0 { root1 } else { genesis_root };
        assert!(verify_state_proof(wrong_root, &key, expected.as_ref(), &proof).is_err());
        if expected.is_some() {
            assert!(
                verify_state_proof(
                    root,
                    &StateKey::Account(addr(250)),
                    expected.as_ref(),
                    &proof
                )
                .is_err()
            );
        }
    }
}

#[test]
fn state_roots_commit_to_the_state_and_nothing_else() {
    let store = Store::in_memory(StoreConfig::default()).unwrap();
    let empty = store.chain(ChainId(1));
    assert_eq!(
        empty
            .init_genesis(Hash::digest(b"e"), &StateChanges::default())
            .unwrap(),
        EMPTY_STATE_ROOT
    );
    // The same state gives the same root on any chain, whatever the order
    // in which it was reached; a block without changes keeps the root.
    let a = store.chain(ChainId(2));
    let b = store.chain(ChainId(3));
    a.init_genesis(
        Hash::digest(b"a"),
        &set_accounts(&[(addr(1), account(0, 1)), (addr(2), account(0, 2))]),
    )
    .unwrap();
    b.init_genesis(
        Hash::digest(b"b"),
        &set_accounts(&[(addr(2), account(0, 2))]),
    )
    .unwrap();
    commit(&b, vec![], set_accounts(&[(addr(1), account(0, 1))]));
    assert_eq!(
        a.state_root(Height(0)).unwrap(),
        b.state_root(Height(1)).unwrap()
    );
    commit(&a, vec![vec![]], StateChanges::default());
    assert_eq!(
        a.state_root(Height(1)).unwrap(),
        a.state_root(Height(0)).unwrap()
    );
    // Deleting every account returns to the empty root.
    let mut gone = StateChanges::default();
    gone.accounts.insert(addr(1), None);
    gone.accounts.insert(addr(2), None);
    gone.accounts.insert(addr(3), None);
    commit(&a, vec![], gone);
    assert_eq!(a.state_root(Height(2)).unwrap(), EMPTY_STATE_ROOT);
    // Key hashes separate accounts from slots.
    assert_ne!(StateKey::Account(addr(1)).key_hash(), slot(1, 0).key_hash());
}
