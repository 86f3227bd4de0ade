//! gont-vm on its own: executes one block of signed transactions on a state
//! held in memory, prints each receipt and what the block changed, then
//! makes an `eth_call` against the state the block left.
//!
//! The block holds a legacy (type 0) transfer, an EIP-1559 (type 2)
//! transfer, the deployment of a tiny storage contract and a call that
//! sets its value; the `eth_call` then reads that value back. No database,
//! no network and no clock are involved, and the keys are the well-known
//! development keys, so every run prints the same lines.
//!
//! Run it with:
//!
//! ```text
//! cargo run -p gont-vm --example block
//! ```
//!
//! Signing uses `gont_vm::testing` (feature `test-utils`), which the
//! crate's own dev-dependency on itself turns on for examples; a crate of
//! yours that signs transactions would enable that feature or sign with
//! its own wallet code.

use std::error::Error;

use alloy_consensus::{TxEip1559, TxLegacy};
use alloy_primitives::{TxKind, hex};
use gont_core::receipt::receipts_root;
use gont_core::state::KECCAK_EMPTY;
use gont_core::{AccountState, Address, B256, Bytes, ChainId, Height, RawTransaction, U256};
use gont_vm::testing::{address_of, dev_key, raw, sign};
use gont_vm::{
    BlockContext, BlockStart, CallRequest, ChainConfig, INITIAL_BASE_FEE, InvalidTxPolicy,
    MemoryState, RecoveredTx, call, execute_block,
};
use k256::ecdsa::SigningKey;

/// The chain's EIP-155 id: every transaction is signed for it.
const CHAIN_ID: ChainId = ChainId(31337);

/// The proposer of the block, who receives the priority fees.
const COINBASE: Address = Address::repeat_byte(0xc0);

/// An account that does not exist before the block: a transfer creates it.
const NEWCOMER: Address = Address::repeat_byte(0xee);

/// One ether, in wei.
const ETHER: u128 = 1_000_000_000_000_000_000;

/// One gwei, in wei: the unit of gas prices.
const GWEI: u128 = 1_000_000_000;

/// Creation code of a tiny storage contract, hand-assembled. The
/// constructor stores 42 in slot 0 and returns the 30-byte runtime that
/// follows it:
///
/// ```text
/// 602a 6000 55          SSTORE(0, 42)
/// 601e 6011 6000 39     CODECOPY(mem 0, code 0x11, 0x1e bytes)
/// 601e 6000 f3          RETURN(mem 0, 0x1e bytes)
/// ```
///
/// The runtime, with empty call data, returns slot 0 as one 32-byte word
/// (a getter); with call data, it stores the first word in slot 0 and
/// emits `LOG1` with the value as its topic (a setter):
///
/// ```text
/// 36 15 6012 57         if CALLDATASIZE == 0, jump to 0x12
/// 6000 35 80 6000 55    SSTORE(0, CALLDATALOAD(0))
/// 6000 6000 a1 00       LOG1(mem 0, 0 bytes, topic = value); STOP
/// 5b 6000 54 6000 52    0x12: MSTORE(0, SLOAD(0))
/// 6020 6000 f3          RETURN(mem 0, 32 bytes)
/// ```
const STORE_INIT_HEX: &str = concat!(
    // Constructor (0x11 bytes).
    "602a600055",
    "601e6011600039",
    "601e6000f3",
    // Runtime (0x1e bytes).
    "3615601257",
    "60003580600055",
    "60006000a100",
    "5b600054600052",
    "60206000f3",
);

/// The value the block's setter call writes, and the `eth_call` reads back.
const NEW_VALUE: u64 = 1234;

fn main() -> Result<(), Box<dyn Error>> {
    // The chain's rules: Prague, transaction types 0, 1, 2 and 4, and no
    // system contracts (those come with a GONT genesis; see
    // `EngineConfig::from_genesis`).
    let chain = ChainConfig::gont(CHAIN_ID);

    // Two funded senders. Development keys 0 and 1 are public knowledge:
    // never hold real funds with them.
    let alice = dev_key(0).ok_or("development key 0 is missing")?;
    let bob = dev_key(1).ok_or("development key 1 is missing")?;
    let state = pre_state(&[address_of(&alice), address_of(&bob)]);

    // What the block's opcodes see. The values are fixed so that the run is
    // deterministic; a node takes them from the header it builds.
    let block = BlockContext {
        height: Height(1),
        timestamp: 1_767_225_600,
        gas_limit: 30_000_000,
        base_fee: INITIAL_BASE_FEE,
        coinbase: COINBASE,
        prevrandao: B256::ZERO,
        excess_blob_gas: 0,
    };

    // The block's transactions, as a block carries them: EIP-2718 bytes.
    let raws = transactions(&alice, &bob)?;

    // Decoding and signature recovery come first (`recover_all` does the
    // same on every core, for large blocks).
    let txs = raws
        .into_iter()
        .map(RecoveredTx::recover)
        .collect::<Result<Vec<_>, _>>()?;

    // Execute. `Reject` is what a validator does with a proposed block: any
    // invalid transaction makes the whole block invalid (a builder passes
    // `Skip` and gets the refused ones in `output.skipped`). `BlockStart`
    // is empty: there is no evidence and no record of signatures without a
    // consensus layer on top.
    let output = execute_block(
        &state,
        &chain,
        &block,
        &BlockStart::default(),
        txs,
        InvalidTxPolicy::Reject,
    )?;

    println!(
        "block {}: {} transactions, {} gas used",
        block.height,
        output.receipts.len(),
        output.gas_used
    );
    for (index, receipt) in output.receipts.iter().enumerate() {
        let status = u8::from(receipt.success);
        let mut line = format!(
            "receipt {index}: tx {} type {} status {status} gas used {} logs {}",
            receipt.tx_hash,
            receipt.tx_type,
            receipt.gas_used,
            receipt.logs.len()
        );
        if let Some(contract) = receipt.contract_address {
            line.push_str(&format!(" contract {contract}"));
        }
        println!("{line}");
    }
    // The header's `receipts_root` is pure (gont-core). Its `state_root` is
    // not computed here: GONT's state commitment is a Jellyfish Merkle tree
    // kept by gont-storage, which turns `output.changes` into the root
    // (`ExecutionStore::prepare`). gont-vm hands over the changes.
    println!("receipts root: {}", receipts_root(&output.receipts));
    let slots: usize = output.changes.storage.values().map(|s| s.len()).sum();
    println!(
        "state changes: accounts {}, storage slots {slots}, new code {}",
        output.changes.accounts.len(),
        output.changes.code.len()
    );
    for (address, account) in &output.changes.accounts {
        match account {
            Some(account) => println!(
                "  account {address}: nonce {} balance {}",
                account.nonce, account.balance
            ),
            // Emptied under EIP-161, or self-destructed at creation.
            None => println!("  account {address}: deleted"),
        }
    }
    // The changes are the block's net effect: slot 0 shows the setter's
    // value only, the constructor's 42 having been overwritten since.
    for (address, slots) in &output.changes.storage {
        for (slot, value) in slots {
            println!("  storage {address}: slot {slot} = {value}");
        }
    }
    for (hash, code) in &output.changes.code {
        println!("  code {hash}: {} bytes", code.len());
    }

    // Apply the changes to get the post-block state, as a store would.
    let mut state = state;
    state.apply(&output.changes, &output.wiped);

    // `eth_call` the contract's getter against the post-block state, in the
    // context of the next block. Nothing it does is kept.
    let contract = output
        .receipts
        .iter()
        .find_map(|receipt| receipt.contract_address)
        .ok_or("the block created no contract")?;
    let next = BlockContext {
        height: Height(block.height.0 + 1),
        timestamp: block.timestamp + 1,
        ..block
    };
    let request = CallRequest {
        to: Some(contract),
        ..CallRequest::default()
    };
    let result = call(&state, &chain, &next, &request)?;
    if !result.success {
        return Err(format!("eth_call reverted: {}", result.output).into());
    }
    let value = U256::try_from_be_slice(&result.output).ok_or("eth_call returned no word")?;
    println!(
        "eth_call {contract}: returned {value} ({} bytes, gas used {})",
        result.output.len(),
        result.gas_used
    );
    Ok(())
}

/// A state in which each of `funded` holds 10 ether and nothing else exists.
fn pre_state(funded: &[Address]) -> MemoryState {
    let mut state = MemoryState::default();
    for address in funded {
        state.accounts.insert(
            *address,
            AccountState {
                nonce: 0,
                balance: U256::from(10 * ETHER),
                code_hash: KECCAK_EMPTY,
            },
        );
    }
    state
}

/// The block's four signed transactions, in order.
fn transactions(
    alice: &SigningKey,
    bob: &SigningKey,
) -> Result<Vec<RawTransaction>, Box<dyn Error>> {
    // 0. Alice pays Bob 1 ether with a legacy transaction (EIP-155 signed:
    //    a chain id is required on GONT chains).
    let legacy = TxLegacy {
        chain_id: Some(CHAIN_ID.0),
        nonce: 0,
        gas_price: 2 * GWEI,
        gas_limit: 21_000,
        to: TxKind::Call(address_of(bob)),
        value: U256::from(ETHER),
        input: Bytes::new(),
    };
    // 1. Bob pays a new account half an ether with an EIP-1559 transaction.
    let dynamic = TxEip1559 {
        chain_id: CHAIN_ID.0,
        nonce: 0,
        gas_limit: 21_000,
        max_fee_per_gas: 2 * GWEI,
        max_priority_fee_per_gas: GWEI,
        to: TxKind::Call(NEWCOMER),
        value: U256::from(ETHER / 2),
        ..TxEip1559::default()
    };
    // 2. Alice deploys the storage contract (no `to`: a creation). It lands
    //    at `alice.create(1)`, her address and her nonce at the time.
    let deploy = TxEip1559 {
        chain_id: CHAIN_ID.0,
        nonce: 1,
        gas_limit: 200_000,
        max_fee_per_gas: 2 * GWEI,
        max_priority_fee_per_gas: GWEI,
        to: TxKind::Create,
        input: hex::decode(STORE_INIT_HEX)?.into(),
        ..TxEip1559::default()
    };
    // 3. Bob calls the setter: one 32-byte word of call data.
    let contract = address_of(alice).create(1);
    let set = TxEip1559 {
        chain_id: CHAIN_ID.0,
        nonce: 1,
        gas_limit: 100_000,
        max_fee_per_gas: 2 * GWEI,
        max_priority_fee_per_gas: GWEI,
        to: TxKind::Call(contract),
        input: U256::from(NEW_VALUE).to_be_bytes::<32>().to_vec().into(),
        ..TxEip1559::default()
    };
    let signed = [
        sign(legacy, alice),
        sign(dynamic, bob),
        sign(deploy, alice),
        sign(set, bob),
    ];
    signed
        .into_iter()
        .map(|tx| tx.map(|tx| raw(&tx)).ok_or_else(|| "signing failed".into()))
        .collect()
}
