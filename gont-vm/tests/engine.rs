//! The engine end to end over real redb stores: blocks of real signed
//! transactions built by one engine and validated by another.

// Test code: a failed unwrap, index or panic is the test failing, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use alloy_consensus::{TxEip1559, TxLegacy};
use alloy_primitives::{TxKind, hex};
use gont_core::genesis::DEV_ADDRESSES;
use gont_core::{
    AccountState, Address, B256, Block, Bytes, ChainId, ExecutionEngine, ExecutionStore,
    ForkchoiceState, Genesis, Hash, Height, PayloadAttributes, PayloadStatus, RawTransaction,
    StateReader, U256,
};
use gont_vm::testing::{address_of, dev_key, raw, sign};
use gont_vm::{Engine, EngineConfig, genesis_changes};

/// Each engine gets its own real redb database (in memory, or in files
/// where the test says so): the store is never a test double.
type Store = gont_storage::ChainStore;

fn memory_store() -> Store {
    gont_storage::Store::in_memory(gont_storage::StoreConfig::default())
        .unwrap()
        .chain(SPACE)
}

const SPACE: ChainId = ChainId(31337);

fn genesis() -> Genesis {
    Genesis::devnet(2, 1)
}

fn engine() -> Engine<Store> {
    engine_on(memory_store())
}

fn engine_on(store: Store) -> Engine<Store> {
    engine_configured(store, |_| {})
}

/// An engine on `store` whose genesis configuration `edit` changes.
fn engine_configured(store: Store, edit: impl FnOnce(&mut EngineConfig)) -> Engine<Store> {
    let genesis = genesis();
    store
        .init_genesis(genesis.hash(), &genesis_changes(&genesis, SPACE).unwrap())
        .unwrap();
    let mut config = EngineConfig::from_genesis(&genesis, SPACE).unwrap();
    edit(&mut config);
    Engine::new(store, config)
}

fn attributes(engine: &Engine<Store>, secs: u64) -> PayloadAttributes {
    let genesis = genesis();
    let proposer = &genesis.validators[0];
    let set = genesis.validator_set().unwrap().hash();
    let _ = engine;
    PayloadAttributes {
        timestamp: gont_core::Timestamp::from_secs(1_767_225_600 + secs),
        proposer: proposer.consensus_key.address(),
        fee_recipient: proposer.operator,
        validators_hash: set,
        evidence: Vec::new(),
        last_commit: None,
    }
}

fn transfer(from: usize, nonce: u64, to: Address, value: u64, chain: u64) -> RawTransaction {
    let tx = TxEip1559 {
        chain_id: chain,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 2_000_000_000,
        max_priority_fee_per_gas: 100_000_000,
        to: TxKind::Call(to),
        value: U256::from(value),
        ..TxEip1559::default()
    };
    raw(&sign(tx, &dev_key(from).unwrap()).unwrap())
}

fn balance(engine: &Engine<Store>, a: Address) -> U256 {
    let head = engine
        .store()
        .head()
        .unwrap()
        .map_or(Height(0), |h| h.height);
    let view = engine.store().state_at(head).unwrap();
    view.account(a).unwrap().map_or(U256::ZERO, |a| a.balance)
}

fn build(engine: &mut Engine<Store>, secs: u64, txs: &[RawTransaction]) -> Block {
    let parent = engine.store().head().unwrap().map(|h| h.id().unwrap());
    let attrs = attributes(engine, secs);
    engine.build_payload(parent, attrs, txs).unwrap()
}

fn decide(engine: &mut Engine<Store>, block: &Block) {
    let id = block.header.id().unwrap();
    engine
        .forkchoice_updated(ForkchoiceState {
            head: id,
            safe: id,
            finalized: id,
        })
        .unwrap();
}

#[test]
fn a_block_built_by_one_engine_is_valid_on_another_with_the_same_roots() {
    // Two engines, each with its own redb file.
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut proposer = engine_on(
        gont_storage::Store::open(dir_a.path())
            .unwrap()
            .chain(SPACE),
    );
    let mut validator = engine_on(
        gont_storage::Store::open(dir_b.path())
            .unwrap()
            .chain(SPACE),
    );
    let recipient = Address::repeat_byte(0x42);
    let txs = vec![
        transfer(1, 0, recipient, 1_000, SPACE.0),
        transfer(1, 1, recipient, 2_000, SPACE.0),
        transfer(2, 0, recipient, 3_000, SPACE.0),
    ];
    let block = build(&mut proposer, 1, &txs);
    assert_eq!(block.body.transactions, txs);
    assert_eq!(block.header.height, Height(1));
    assert_eq!(block.header.execution.gas_used, 3 * 21_000);
    assert_eq!(
        block.header.execution.base_fee_per_gas,
        gont_vm::INITIAL_BASE_FEE
    );
    assert_eq!(validator.new_payload(&block).unwrap(), PayloadStatus::Valid);
    decide(&mut proposer, &block);
    decide(&mut validator, &block);
    // Same state root, receipts root and receipts, each read from its own file.
    let ours = proposer.store().receipts(Height(1)).unwrap().unwrap();
    let theirs = validator.store().receipts(Height(1)).unwrap().unwrap();
    assert_eq!(ours, theirs);
    assert_eq!(
        gont_core::receipt::receipts_root(&theirs),
        block.header.receipts_root
    );
    assert_eq!(
        proposer.store().state_root(Height(1)).unwrap(),
        validator.store().state_root(Height(1)).unwrap()
    );
    assert_eq!(
        validator.store().state_root(Height(1)).unwrap(),
        block.header.state_root
    );
    assert_eq!(
        proposer.store().head().unwrap(),
        validator.store().head().unwrap()
    );
    assert_eq!(balance(&validator, recipient), U256::from(6_000));

    // Fees: the sender pays base fee + tip per gas; the coinbase gets only
    // the tip; the base fee is burned.
    let fee_recipient = genesis().validators[0].operator;
    let tip = U256::from(100_000_000u64 * 21_000);
    let before = gont_core::genesis::DEV_ACCOUNT_BALANCE;
    assert_eq!(
        balance(&proposer, fee_recipient),
        before + tip * U256::from(3)
    );
    let paid_per_tx = U256::from((gont_vm::INITIAL_BASE_FEE + 100_000_000) * 21_000);
    assert_eq!(
        balance(&proposer, DEV_ADDRESSES[2]),
        before - paid_per_tx - U256::from(3_000)
    );

    // The next block's base fee follows EIP-1559 from this one.
    let next = build(&mut proposer, 2, &[]);
    assert_eq!(
        next.header.execution.base_fee_per_gas,
        gont_vm::next_base_fee(&block.header.execution)
    );
    assert_eq!(next.header.parent, Some(block.header.id().unwrap()));
}

/// Senders by transaction hash, as a node's pool knows them; the test
/// that lies with one says so.
#[derive(Debug, Default)]
struct Known(std::collections::HashMap<B256, Address>);

impl gont_vm::KnownSenders for Known {
    fn known_senders(&self, hashes: &[B256]) -> Vec<Option<Address>> {
        hashes.iter().map(|h| self.0.get(h).copied()).collect()
    }
}

#[test]
fn a_validator_takes_the_senders_its_pool_knows_and_recovers_the_rest_shown_by_a_lying_pool() {
    let mut proposer = engine();
    let recipient = Address::repeat_byte(0x42);
    let txs = vec![
        transfer(1, 0, recipient, 1_000, SPACE.0),
        transfer(2, 0, recipient, 3_000, SPACE.0),
        transfer(1, 1, recipient, 2_000, SPACE.0),
    ];
    let block = build(&mut proposer, 1, &txs);
    assert_eq!(block.body.transactions, txs);

    // A pool that knows the first two transactions' senders, rightly: the
    // third is recovered, and the block is valid as without a pool.
    let right = Known(
        [
            (txs[0].hash(), DEV_ADDRESSES[1]),
            (txs[1].hash(), DEV_ADDRESSES[2]),
        ]
        .into_iter()
        .collect(),
    );
    let mut validator = engine().with_known_senders(std::sync::Arc::new(right));
    assert_eq!(validator.new_payload(&block).unwrap(), PayloadStatus::Valid);
    decide(&mut validator, &block);
    assert_eq!(
        validator.store().state_root(Height(1)).unwrap(),
        block.header.state_root
    );

    // A pool that lies about the second: the engine took its word (nonce 0
    // of account 1 is spent by then), so it did not recover that sender.
    let lying = Known([(txs[1].hash(), DEV_ADDRESSES[1])].into_iter().collect());
    let mut fooled = engine().with_known_senders(std::sync::Arc::new(lying));
    assert!(
        matches!(
            fooled.new_payload(&block).unwrap(),
            PayloadStatus::Invalid { .. }
        ),
        "the lie was not used"
    );
}

#[test]
fn invalid_transactions_are_left_out_of_a_built_block_with_geths_reasons() {
    let mut engine = engine();
    let poor = dev_key(3).unwrap();
    let _ = address_of(&poor);
    let too_expensive = {
        let tx = TxEip1559 {
            chain_id: SPACE.0,
            gas_limit: 21_000,
            max_fee_per_gas: 2_000_000_000,
            to: TxKind::Call(Address::ZERO),
            value: gont_core::genesis::DEV_ACCOUNT_BALANCE,
            ..TxEip1559::default()
        };
        raw(&sign(tx, &poor).unwrap())
    };
    let below_base_fee = {
        let tx = TxLegacy {
            chain_id: Some(SPACE.0),
            gas_price: 1,
            gas_limit: 21_000,
            to: TxKind::Call(Address::ZERO),
            ..TxLegacy::default()
        };
        raw(&sign(tx, &dev_key(4).unwrap()).unwrap())
    };
    let good = transfer(1, 0, Address::ZERO, 1, SPACE.0);
    let txs = vec![
        transfer(1, 5, Address::ZERO, 1, SPACE.0), // nonce too high
        transfer(1, 0, Address::ZERO, 1, 1),       // other chain
        too_expensive,
        below_base_fee,
        RawTransaction(Bytes::from_static(b"garbage")),
        good.clone(),
        good.clone(), // nonce too low by now
    ];
    let block = build(&mut engine, 1, &txs);
    assert_eq!(block.body.transactions, vec![good]);

    let chain = gont_vm::ChainConfig::gont(SPACE);
    let context = gont_vm::BlockContext {
        height: Height(1),
        timestamp: 0,
        gas_limit: 30_000_000,
        base_fee: gont_vm::INITIAL_BASE_FEE,
        coinbase: Address::ZERO,
        prevrandao: B256::ZERO,
        excess_blob_gas: 0,
    };
    let account = AccountState {
        nonce: 0,
        balance: gont_core::genesis::DEV_ACCOUNT_BALANCE,
        code_hash: gont_core::state::KECCAK_EMPTY,
    };
    let reason = |raw: &RawTransaction| {
        let (tx, sender) = raw.decode_and_recover().unwrap();
        gont_vm::validate_transaction(&tx, sender, &account, &context, &chain)
            .unwrap_err()
            .to_string()
    };
    assert!(
        reason(&txs[0]).starts_with("nonce too high"),
        "{}",
        reason(&txs[0])
    );
    assert!(reason(&txs[1]).starts_with("invalid chain id"));
    assert!(reason(&txs[2]).starts_with("insufficient funds for gas * price + value"));
    assert!(reason(&txs[3]).starts_with("max fee per gas less than block base fee"));
}

#[test]
fn a_block_whose_transactions_exceed_max_block_bytes_is_invalid_and_a_builder_stops_before() {
    let txs: Vec<_> = (0..5)
        .map(|nonce| transfer(0, nonce, DEV_ADDRESSES[1], 1, SPACE.0))
        .collect();
    let size = txs[0].0.len() as u64;
    let mut roomy = engine();
    let block = build(&mut roomy, 1, &txs);
    assert_eq!(block.body.transactions.len(), 5);

    let mut tight = engine_configured(memory_store(), |config| {
        config.max_block_bytes = 2 * size + size / 2;
    });
    match tight.new_payload(&block).unwrap() {
        PayloadStatus::Invalid { reason } => {
            assert!(reason.contains("more than max_block_bytes"), "{reason}");
        }
        PayloadStatus::Valid => panic!("a block over max_block_bytes was valid"),
    }
    let built = build(&mut tight, 1, &txs);
    assert_eq!(built.body.transactions.len(), 2, "as many as fit");
    assert_eq!(
        roomy.new_payload(&built).unwrap(),
        PayloadStatus::Valid,
        "a smaller block is valid everywhere"
    );
}

#[test]
fn a_block_stops_at_its_gas_limit() {
    let mut engine = engine_configured(memory_store(), |config| config.gas_limit = 50_000);
    let txs: Vec<_> = (0..3)
        .map(|n| transfer(1, n, Address::ZERO, 1, SPACE.0))
        .collect();
    let block = build(&mut engine, 1, &txs);
    assert_eq!(block.body.transactions.len(), 2);
    assert_eq!(block.header.execution.gas_used, 42_000);
}

#[test]
fn tampered_blocks_are_invalid() {
    let mut proposer = engine();
    let mut validator = engine();
    let block = build(
        &mut proposer,
        1,
        &[transfer(1, 0, Address::ZERO, 1, SPACE.0)],
    );

    let mut wrong_root = block.clone();
    wrong_root.header.state_root = Hash::digest(b"x");
    let mut extra_tx = block.clone();
    extra_tx
        .body
        .transactions
        .push(transfer(2, 0, Address::ZERO, 1, SPACE.0));
    let mut bad_tx = block.clone();
    bad_tx.body.transactions = vec![transfer(1, 9, Address::ZERO, 1, SPACE.0)];
    let mut wrong_fee = block.clone();
    wrong_fee.header.execution.base_fee_per_gas += 1;
    let mut wrong_gas = block.clone();
    wrong_gas.header.execution.gas_used += 1;

    for (what, b) in [
        ("state root", wrong_root),
        ("extra tx", extra_tx),
        ("invalid tx", bad_tx),
        ("base fee", wrong_fee),
        ("gas used", wrong_gas),
    ] {
        assert!(
            matches!(
                validator.new_payload(&b).unwrap(),
                PayloadStatus::Invalid { .. }
            ),
            "{what}"
        );
    }
    assert_eq!(validator.new_payload(&block).unwrap(), PayloadStatus::Valid);
}

/// Init code that deploys a 13-byte contract which sets slot 0 to 42 and
/// emits `LOG1` with topic 7.
const LOGGER_INIT: &str = "600d600c600039600d6000f3602a600055600760006000a100";

#[test]
fn contract_creation_and_calls_produce_receipts_with_logs() {
    let mut engine = engine();
    let key = dev_key(1).unwrap();
    let deploy = TxEip1559 {
        chain_id: SPACE.0,
        nonce: 0,
        gas_limit: 200_000,
        max_fee_per_gas: 2_000_000_000,
        to: TxKind::Create,
        input: hex::decode(LOGGER_INIT).unwrap().into(),
        ..TxEip1559::default()
    };
    let contract = DEV_ADDRESSES[1].create(0);
    let call = TxEip1559 {
        chain_id: SPACE.0,
        nonce: 1,
        gas_limit: 100_000,
        max_fee_per_gas: 2_000_000_000,
        to: TxKind::Call(contract),
        ..TxEip1559::default()
    };
    let txs = [
        raw(&sign(deploy, &key).unwrap()),
        raw(&sign(call, &key).unwrap()),
    ];
    let block = build(&mut engine, 1, &txs);
    let id = block.header.id().unwrap();
    // The receipts are what the engine will commit.
    let mut validator = self::engine();
    assert_eq!(validator.new_payload(&block).unwrap(), PayloadStatus::Valid);
    decide(&mut engine, &block);
    let head = engine.store().head().unwrap().unwrap();
    assert_eq!(head.id().unwrap(), id);
    let view = engine.store().state_at(Height(1)).unwrap();
    assert_eq!(view.storage(contract, U256::ZERO).unwrap(), U256::from(42));
    let code_hash = view.account(contract).unwrap().unwrap().code_hash;
    assert_eq!(view.code(code_hash).unwrap().unwrap().len(), 13);
    let _ = block;
}

#[test]
fn service_genesis_deploys_rule_contracts_at_their_manifest_addresses() {
    let mut genesis = genesis();
    // Init code: store the 32-byte constructor argument in slot 0.
    let code = hex::decode("60206020380360003960005160005560006000f3").unwrap();
    genesis.services[0]
        .contracts
        .push(gont_core::ServiceContract {
            name: "rules".into(),
            code: code.into(),
            constructor_args: B256::with_last_byte(9).0.to_vec().into(),
        });
    let chain = genesis.services[0].chain_id;
    let state = gont_vm::genesis_state(&genesis, chain).unwrap();
    let address = gont_core::ServiceManifest::contract_address(0);
    assert_eq!(state.accounts[&address].nonce, 1);
    assert_eq!(state.storage[&address][&U256::ZERO], U256::from(9));
    for a in DEV_ADDRESSES {
        assert_eq!(
            state.accounts[&a].balance,
            gont_core::genesis::DEV_ACCOUNT_BALANCE
        );
    }

    genesis.services[0].contracts[0].code = hex::decode("60006000fd").unwrap().into(); // REVERT
    assert!(matches!(
        gont_vm::genesis_state(&genesis, chain),
        Err(gont_vm::GenesisBuildError::ContractFailed { index: 0, .. })
    ));
    assert!(matches!(
        gont_vm::genesis_state(&genesis, ChainId(7)),
        Err(gont_vm::GenesisBuildError::UnknownChain(ChainId(7)))
    ));
}
