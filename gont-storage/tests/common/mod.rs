//! Builders of executed blocks for the store's tests: blocks whose header
//! fields are consistent (parent, tx root, receipts root, state root from
//! the store itself), with chosen state changes and logs.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;

use gont_core::receipt::receipts_root;
use gont_core::state::KECCAK_EMPTY;
use gont_core::{
    AccountState, Address, B256, Block, Body, Bytes, ChainId, ExecutedBlock, ExecutionFields,
    ExecutionStore, Header, Height, Log, RawTransaction, Receipt, StateChanges, Timestamp, U256,
    ValidatorAddress, ValidatorSetHash,
};
use gont_storage::ChainStore;

/// A funded account with `balance` and `nonce`.
pub fn account(nonce: u64, balance: u64) -> AccountState {
    AccountState {
        nonce,
        balance: U256::from(balance),
        code_hash: KECCAK_EMPTY,
    }
}

/// The address numbered `n`.
pub fn addr(n: u8) -> Address {
    Address::repeat_byte(n)
}

/// The topic numbered `n`.
pub fn topic(n: u8) -> B256 {
    B256::repeat_byte(n)
}

/// Changes that set the given accounts.
pub fn set_accounts(accounts: &[(Address, AccountState)]) -> StateChanges {
    StateChanges {
        accounts: accounts
            .iter()
            .map(|(a, s)| (*a, Some(*s)))
            .collect::<BTreeMap<_, _>>(),
        ..StateChanges::default()
    }
}

/// A transaction of the given block and position (distinct bytes).
pub fn tx(chain: ChainId, height: u64, index: u64) -> RawTransaction {
    let mut bytes = vec![0x02];
    bytes.extend_from_slice(&chain.get().to_be_bytes());
    bytes.extend_from_slice(&height.to_be_bytes());
    bytes.extend_from_slice(&index.to_be_bytes());
    RawTransaction(Bytes::from(bytes))
}

/// A log of `address` with `topics`.
pub fn log(address: Address, topics: &[B256]) -> Log {
    Log {
        address,
        topics: topics.to_vec(),
        data: Bytes::from_static(b"data"),
    }
}

/// The next block on `store`'s head: one transaction per entry of
/// `tx_logs` (with those logs), applying `changes`.
pub fn next_block(
    store: &ChainStore,
    tx_logs: Vec<Vec<Log>>,
    changes: StateChanges,
) -> ExecutedBlock {
    let chain = store.chain_id();
    let head = store.head().unwrap();
    let parent_height = head.as_ref().map_or(0, |h| h.height.get());
    let height = parent_height + 1;
    let parent = head.map(|h| h.id().unwrap());
    let state_root = store
        .state_root_after(Height(parent_height), &changes)
        .unwrap();
    let transactions: Vec<RawTransaction> = (0..tx_logs.len() as u64)
        .map(|i| tx(chain, height, i))
        .collect();
    let mut cumulative = 0;
    let receipts: Vec<Receipt> = transactions
        .iter()
        .zip(tx_logs)
        .map(|(t, logs)| {
            cumulative += 21_000;
            Receipt {
                tx_hash: t.hash(),
                tx_type: 2,
                from: addr(0xee),
                to: Some(addr(0xdd)),
                success: true,
                gas_used: 21_000,
                cumulative_gas_used: cumulative,
                effective_gas_price: 7,
                contract_address: None,
                logs,
            }
        })
        .collect();
    let body = Body {
        transactions,
        evidence: Vec::new(),
        last_commit: None,
    };
    let header = Header {
        chain_id: chain,
        height: Height(height),
        time: Timestamp::from_secs(1_767_225_600 + height),
        parent,
        tx_root: body.tx_root(),
        state_root,
        receipts_root: receipts_root(&receipts),
        validators_hash: ValidatorSetHash([1; 32]),
        next_validators_hash: ValidatorSetHash([1; 32]),
        proposer: ValidatorAddress([2; 20]),
        execution: ExecutionFields {
            gas_used: cumulative,
            gas_limit: 30_000_000,
            base_fee_per_gas: 7,
            ..ExecutionFields::default()
        },
        evidence_hash: None,
        last_commit_hash: None,
    };
    ExecutedBlock {
        block: Block { header, body },
        receipts,
        changes,
    }
}

/// Builds and commits the next block.
pub fn commit(store: &ChainStore, tx_logs: Vec<Vec<Log>>, changes: StateChanges) -> ExecutedBlock {
    let block = next_block(store, tx_logs, changes);
    store.commit_block(&block).unwrap();
    block
}
