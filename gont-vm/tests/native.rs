//! An integrator's native contract (`gont_vm::native`) in a chain's EVM:
//! called directly and from a contract, with its gas, its return data, its
//! reverts and its failures as Ethereum's precompiles have them.

// Test code: a failed unwrap, index or panic is the test failing, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::Arc;

use gont_core::{AccountState, Address, B256, Bytes, ChainId, Height, U256};
use gont_vm::{
    BlockContext, CallRequest, ChainConfig, INITIAL_BASE_FEE, MemoryState, NativeContract,
    NativeOutcome, call,
};

/// Doubles a 32-byte word for 1 000 gas; reverts with "odd" for a word of
/// another length; fails on empty input; claims 10 000 000 gas on `0xff`.
#[derive(Debug)]
struct Doubler;

impl NativeContract for Doubler {
    fn call(&self, input: &[u8], _gas_limit: u64) -> NativeOutcome {
        match input {
            [] => NativeOutcome::Halt,
            [0xff] => NativeOutcome::Return {
                output: Bytes::new(),
                gas_used: 10_000_000,
            },
            word if word.len() == 32 => {
                let n = U256::from_be_slice(word);
                NativeOutcome::Return {
                    output: Bytes::from((n * U256::from(2)).to_be_bytes::<32>()),
                    gas_used: 1_000,
                }
            }
            _ => NativeOutcome::Revert {
                output: Bytes::from_static(b"odd"),
                gas_used: 50,
            },
        }
    }
}

const DOUBLER: Address = Address::repeat_byte(0x0d);
const CALLER: Address = Address::repeat_byte(0xca);

/// Calls DOUBLER with the word 21 and returns what it returned: CALL(gas,
/// DOUBLER, 0, 0, 32, 0, 32) after MSTORE(0, 21), then RETURN(0, 32).
fn caller_code() -> Bytes {
    let mut code = vec![0x60, 21, 0x60, 0x00, 0x52]; // MSTORE(0, 21)
    code.extend([0x60, 0x20, 0x60, 0x00, 0x60, 0x20, 0x60, 0x00, 0x60, 0x00]); // out 32 at 0, in 32 at 0, value 0
    code.push(0x73); // PUSH20 DOUBLER
    code.extend(DOUBLER.0);
    code.extend([0x5a, 0xf1, 0x50]); // GAS, CALL, POP
    code.extend([0x60, 0x20, 0x60, 0x00, 0xf3]); // RETURN(0, 32)
    Bytes::from(code)
}

fn setup() -> (MemoryState, ChainConfig, BlockContext) {
    let mut state = MemoryState::default();
    let code = caller_code();
    let code_hash = alloy_primitives::keccak256(&code);
    state.accounts.insert(
        CALLER,
        AccountState {
            nonce: 1,
            balance: U256::ZERO,
            code_hash,
        },
    );
    state.code.insert(code_hash, code);
    let mut chain = ChainConfig::gont(ChainId(31337));
    chain.system.native.insert(DOUBLER, Arc::new(Doubler));
    let block = BlockContext {
        height: Height(1),
        timestamp: 1_767_225_600,
        gas_limit: 30_000_000,
        base_fee: INITIAL_BASE_FEE,
        coinbase: Address::ZERO,
        prevrandao: B256::ZERO,
        excess_blob_gas: 0,
    };
    (state, chain, block)
}

fn word(n: u64) -> Bytes {
    Bytes::from(U256::from(n).to_be_bytes::<32>())
}

fn request(to: Address, input: Bytes, gas: u64) -> CallRequest {
    CallRequest {
        to: Some(to),
        input,
        gas: Some(gas),
        ..CallRequest::default()
    }
}

#[test]
fn a_native_contract_answers_calls_with_its_gas_and_its_outcome_as_a_precompile_does() {
    let (state, chain, block) = setup();
    // Directly: the intrinsic gas (21 000, 4 per zero calldata byte and 16
    // per other byte) plus the contract's 1 000.
    let doubled = call(&state, &chain, &block, &request(DOUBLER, word(21), 100_000)).unwrap();
    assert!(doubled.success);
    assert_eq!(doubled.output, word(42));
    assert_eq!(doubled.gas_used, 21_000 + 31 * 4 + 16 + 1_000);

    // From a contract: its code calls the native contract and returns
    // what it returned.
    let through = call(
        &state,
        &chain,
        &block,
        &request(CALLER, Bytes::new(), 100_000),
    )
    .unwrap();
    assert!(through.success, "{through:?}");
    assert_eq!(through.output, word(42));

    // A revert keeps its data and the caller's unspent gas.
    let reverted = call(
        &state,
        &chain,
        &block,
        &request(DOUBLER, Bytes::from_static(b"x"), 100_000),
    )
    .unwrap();
    assert!(!reverted.success);
    assert_eq!(reverted.output, Bytes::from_static(b"odd"));
    assert_eq!(reverted.gas_used, 21_000 + 16 + 50);

    // A failure, and a contract claiming more gas than it was given,
    // consume all of the call's gas and return nothing.
    for input in [Bytes::new(), Bytes::from_static(&[0xff])] {
        let failed = call(
            &state,
            &chain,
            &block,
            &request(DOUBLER, input.clone(), 100_000),
        )
        .unwrap();
        assert!(!failed.success, "{input}");
        assert_eq!(failed.gas_used, 100_000, "{input}");
        assert!(failed.output.is_empty(), "{input}");
    }

    // Without it, the address is an empty account: the call succeeds and
    // returns nothing.
    let plain = ChainConfig::gont(ChainId(31337));
    let nothing = call(&state, &plain, &block, &request(DOUBLER, word(21), 100_000)).unwrap();
    assert!(nothing.success);
    assert!(nothing.output.is_empty());
}
