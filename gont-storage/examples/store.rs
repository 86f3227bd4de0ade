//! Open a store, commit two blocks, read an account with its proof and
//! verify the proof against the header's state root, as a light client
//! would.
//!
//! ```text
//! cargo run -p gont-storage --example store
//! ```

use std::collections::BTreeMap;

use gont_core::receipt::receipts_root;
use gont_core::state::KECCAK_EMPTY;
use gont_core::{
    AccountState, Address, Block, Body, ChainId, ExecutedBlock, ExecutionFields, ExecutionStore,
    Hash, Header, Height, StateChanges, StateReader, Timestamp, U256, ValidatorAddress,
    ValidatorSetHash,
};
use gont_storage::{StateKey, StateValue, Store, verify_state_proof};

const CHAIN: ChainId = ChainId(7);

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let alice = Address::repeat_byte(0xa1);
    let bob = Address::repeat_byte(0xb0);
    {
        let store = Store::open(dir.path())?;
        let chain = store.chain(CHAIN);
        let genesis_root = chain.init_genesis(
            Hash::digest(b"example genesis"),
            &changes(&[(alice, 0, 100)]),
        )?;
        println!("genesis: state root {genesis_root}");
        // Alice pays Bob 30, then 12 more: two blocks, each one write transaction.
        for (nonce, paid) in [(1, 30), (2, 42)] {
            let block = next_block(
                &chain,
                changes(&[(alice, nonce, 100 - paid), (bob, 0, paid)]),
            )?;
            chain.commit_block(&block)?;
            let header = &block.block.header;
            println!(
                "block {}: state root {}, id {}",
                header.height,
                header.state_root,
                header.id()?
            );
        }
    }

    // Reopened from the file: what was committed is there.
    let store = Store::open(dir.path())?;
    let chain = store.chain(CHAIN);
    let head = chain.head()?.ok_or_else(|| anyhow::anyhow!("no head"))?;
    for height in [Height(1), head.height] {
        let bob_then = chain.state_at(height)?.account(bob)?;
        println!(
            "bob after block {height}: balance {}",
            bob_then.map_or(U256::ZERO, |a| a.balance)
        );
    }

    // A proof of Bob's account at the head, checked with the header's state
    // root and nothing else from the store.
    let key = StateKey::Account(bob);
    let proven = chain.prove(head.height, key)?;
    verify_state_proof(head.state_root, &key, proven.value.as_ref(), &proven.proof)?;
    println!(
        "proof of bob at block {}: verified against state root {}",
        head.height, head.state_root
    );
    // The same proof does not vouch for a balance Bob does not have.
    let lie = StateValue::Account(account(0, 1_000));
    let refused = verify_state_proof(head.state_root, &key, Some(&lie), &proven.proof).is_err();
    println!("the same proof for a balance of 1000: refused = {refused}");
    Ok(())
}

fn account(nonce: u64, balance: u64) -> AccountState {
    AccountState {
        nonce,
        balance: U256::from(balance),
        code_hash: KECCAK_EMPTY,
    }
}

/// State changes that set each `(address, nonce, balance)`.
fn changes(accounts: &[(Address, u64, u64)]) -> StateChanges {
    StateChanges {
        accounts: accounts
            .iter()
            .map(|&(address, nonce, balance)| (address, Some(account(nonce, balance))))
            .collect::<BTreeMap<_, _>>(),
        ..StateChanges::default()
    }
}

/// The block on top of `chain`'s head that applies `changes`: no
/// transactions (what executed them is `gont-vm`'s business), its state
/// root computed by the store without writing.
fn next_block(
    chain: &gont_storage::ChainStore,
    changes: StateChanges,
) -> anyhow::Result<ExecutedBlock> {
    let head = chain.head()?;
    let parent_height = head.as_ref().map_or(Height(0), |h| h.height);
    let body = Body {
        transactions: Vec::new(),
        evidence: Vec::new(),
        last_commit: None,
    };
    let header = Header {
        chain_id: CHAIN,
        height: Height(parent_height.get() + 1),
        time: Timestamp::from_secs(1_767_225_600 + parent_height.get()),
        parent: head.map(|h| h.id()).transpose()?,
        tx_root: body.tx_root(),
        state_root: chain.state_root_after(parent_height, &changes)?,
        receipts_root: receipts_root(&[]),
        // Consensus fields: this example has no validators.
        validators_hash: ValidatorSetHash([0; 32]),
        next_validators_hash: ValidatorSetHash([0; 32]),
        proposer: ValidatorAddress([0; 20]),
        execution: ExecutionFields::default(),
        evidence_hash: None,
        last_commit_hash: None,
    };
    Ok(ExecutedBlock {
        block: Block { header, body },
        receipts: Vec::new(),
        changes,
    })
}
