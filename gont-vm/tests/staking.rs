//! The staking contract through the engine over a real redb store: signed
//! transactions stake, unstake and withdraw; at each epoch's end the
//! engine's header announces the next set, and `validator_set` returns it.

// Test code: a failed unwrap, index or panic is the test failing, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use alloy_consensus::TxEip1559;
use alloy_primitives::{Bytes, TxKind};
use alloy_sol_types::{SolCall, SolError, sol};
use gont_core::genesis::DEV_OPERATOR_ADDRESSES;
use gont_core::{
    Address, B256, Block, ChainId, ConsensusKey, ExecutionEngine, ExecutionStore, ForkchoiceState,
    Genesis, Height, PayloadAttributes, RawTransaction, Receipt, StateReader, U256,
};
use gont_vm::system::STAKING;
use gont_vm::testing::{address_of, dev_key, raw, sign};
use gont_vm::{BlockContext, Engine, EngineConfig, genesis_changes};

sol!("contracts/IStaking.sol");

type Store = gont_storage::ChainStore;

const SPACE: ChainId = ChainId(31337);
const ETHER: u128 = 1_000_000_000_000_000_000;
/// Epochs of two blocks, unbonding of three.
const EPOCH: u64 = 2;
const UNBONDING: u64 = 3;

fn genesis() -> Genesis {
    let mut genesis = Genesis::devnet(2, 0);
    genesis.consensus.epoch_length = EPOCH;
    genesis.consensus.unbonding_period_blocks = UNBONDING;
    genesis
}

struct Chain {
    engine: Engine<Store>,
    genesis: Genesis,
    nonces: [u64; 10],
    secs: u64,
}

impl Chain {
    fn new() -> Self {
        let genesis = genesis();
        let store = gont_storage::Store::in_memory(gont_storage::StoreConfig::default())
            .unwrap()
            .chain(SPACE);
        store
            .init_genesis(genesis.hash(), &genesis_changes(&genesis, SPACE).unwrap())
            .unwrap();
        let engine = Engine::new(store, EngineConfig::from_genesis(&genesis, SPACE).unwrap());
        Self {
            engine,
            genesis,
            nonces: [0; 10],
            secs: 0,
        }
    }

    fn height(&self) -> u64 {
        self.engine
            .store()
            .head()
            .unwrap()
            .map_or(0, |h| h.height.0)
    }

    /// The set that decides the next block, as consensus asks for it.
    fn next_set(&self) -> gont_core::ValidatorSet {
        let next = Height(self.height() + 1);
        self.engine.validator_set(next).unwrap().unwrap()
    }

    fn tx(&mut self, from: usize, value: U256, input: Vec<u8>) -> RawTransaction {
        let nonce = self.nonces[from];
        self.nonces[from] += 1;
        let tx = TxEip1559 {
            chain_id: SPACE.0,
            nonce,
            gas_limit: 500_000,
            max_fee_per_gas: 10_000_000_000,
            max_priority_fee_per_gas: 1_000_000_000,
            to: TxKind::Call(STAKING),
            value,
            input: input.into(),
            ..TxEip1559::default()
        };
        raw(&sign(tx, &dev_key(from).unwrap()).unwrap())
    }

    /// Builds, validates on a second look and commits a block of `txs`;
    /// returns it and its receipts.
    fn block(&mut self, txs: &[RawTransaction]) -> (Block, Vec<Receipt>) {
        self.secs += 1;
        let parent = self.engine.store().head().unwrap().map(|h| h.id().unwrap());
        let proposer = &self.genesis.validators[0];
        let attributes = PayloadAttributes {
            timestamp: gont_core::Timestamp::from_secs(1_767_225_600 + self.secs),
            proposer: proposer.consensus_key.address(),
            fee_recipient: proposer.operator,
            validators_hash: self.next_set().hash(),
        };
        let block = self.engine.build_payload(parent, attributes, txs).unwrap();
        assert_eq!(
            block.body.transactions.len(),
            txs.len(),
            "a transaction was left out"
        );
        let id = block.header.id().unwrap();
        self.engine
            .forkchoice_updated(ForkchoiceState {
                head: id,
                safe: id,
                finalized: id,
            })
            .unwrap();
        let receipts = self
            .engine
            .store()
            .receipts(block.header.height)
            .unwrap()
            .unwrap();
        (block, receipts)
    }

    /// The context of a call on the head.
    fn next_block(&self) -> BlockContext {
        BlockContext {
            height: Height(self.height() + 1),
            timestamp: 1_767_225_600 + self.secs + 1,
            gas_limit: 30_000_000,
            base_fee: 0,
            coinbase: Address::ZERO,
            prevrandao: B256::ZERO,
            excess_blob_gas: 0,
        }
    }

    /// `request` to the staking contract as `eth_call`, on the head.
    fn call(&self, request: gont_vm::CallRequest) -> gont_vm::CallResult {
        let state = self.engine.store().state_at(Height(self.height())).unwrap();
        let request = gont_vm::CallRequest {
            to: Some(STAKING),
            ..request
        };
        gont_vm::call(
            &state,
            &self.engine.config().chain,
            &self.next_block(),
            &request,
        )
        .unwrap()
    }

    fn view<C: SolCall>(&self, call: &C) -> C::Return {
        let result = self.call(gont_vm::CallRequest {
            input: Bytes::from(call.abi_encode()),
            ..Default::default()
        });
        assert!(result.success, "view reverted: {}", result.output);
        C::abi_decode_returns(&result.output).unwrap()
    }

    /// The revert reason of `input` sent by account `from` with `value`.
    fn revert_reason(&self, from: usize, value: U256, input: Vec<u8>) -> String {
        let result = self.call(gont_vm::CallRequest {
            from: Some(address_of(&dev_key(from).unwrap())),
            value: Some(value),
            input: Bytes::from(input),
            ..Default::default()
        });
        assert!(!result.success, "expected a revert");
        alloy_sol_types::Revert::abi_decode(&result.output)
            .unwrap()
            .reason
    }

    fn balance(&self, who: Address) -> U256 {
        let state = self.engine.store().state_at(Height(self.height())).unwrap();
        state
            .account(who)
            .unwrap()
            .map_or(U256::ZERO, |a| a.balance)
    }
}

fn new_key(seed: u8) -> B256 {
    let key = ed25519_consensus::SigningKey::from([seed; 32]);
    B256::from(*ConsensusKey::of(&key).as_bytes())
}

fn ether(n: u128) -> U256 {
    U256::from(n * ETHER)
}

#[test]
fn genesis_validators_are_bonded_candidates_and_the_first_set() {
    let chain = Chain::new();
    let genesis_set = chain.genesis.validator_set().unwrap();
    assert_eq!(chain.next_set(), genesis_set);
    let all = chain.view(&IStaking::validatorsCall {});
    assert_eq!(all.len(), 2);
    for (i, (v, g)) in all.iter().zip(&chain.genesis.validators).enumerate() {
        assert_eq!(v.operator, g.operator);
        assert_eq!(v.operator, DEV_OPERATOR_ADDRESSES[i], "account 10 + {i}");
        assert_eq!(v.stake, U256::from(g.stake.0));
        assert_eq!(v.status, 1);
        assert!(v.inSet);
        assert_eq!(v.power, 100);
    }
    // The contract holds the genesis stake.
    assert_eq!(chain.balance(STAKING), ether(200));
    // The set of a height whose parent is not committed is not known.
    let err = chain.engine.validator_set(Height(3)).unwrap_err();
    assert!(err.to_string().contains("is not committed"), "{err}");
    let params = chain.view(&IStaking::paramsCall {});
    assert_eq!(params.minStake, ether(1));
    assert_eq!(params.epochLength, EPOCH);
}

#[test]
fn a_staker_joins_the_set_at_the_next_epoch_and_leaves_after_unstaking() {
    let mut chain = Chain::new();
    let genesis_set = chain.genesis.validator_set().unwrap();
    let staker = address_of(&dev_key(5).unwrap());
    let key = new_key(7);

    // Height 1: stake 50 ether. The set does not change inside the epoch.
    let stake = chain.tx(
        5,
        ether(50),
        IStaking::stakeCall { consensusKey: key }.abi_encode(),
    );
    let (block, receipts) = chain.block(&[stake]);
    assert!(receipts[0].success);
    assert_eq!(receipts[0].logs.len(), 1, "a Staked event");
    assert_eq!(block.header.next_validators_hash, genesis_set.hash());
    assert_eq!(chain.balance(STAKING), ether(250));

    // Height 2 ends the epoch: the header announces the new set, which
    // decides height 3.
    let (block, _) = chain.block(&[]);
    let next = chain.next_set();
    assert_eq!(next.len(), 3);
    assert_eq!(block.header.next_validators_hash, next.hash());
    assert_ne!(next.hash(), genesis_set.hash());
    // The system call leaves no trace of its sender.
    let state = chain.engine.store().state_at(Height(2)).unwrap();
    assert_eq!(state.account(revm::handler::SYSTEM_ADDRESS).unwrap(), None);
    let joined = next
        .validators()
        .iter()
        .find(|v| v.operator == staker)
        .unwrap();
    assert_eq!(joined.power.0, 50);
    assert_eq!(joined.consensus_key.as_bytes(), &key.0);
    let view = chain.view(&IStaking::validatorCall { operator: staker });
    assert!(view.inSet);
    assert_eq!(view.stake, ether(50));

    // Height 3: unstake everything; still in the set until the epoch ends.
    let unstake = chain.tx(
        5,
        U256::ZERO,
        IStaking::unstakeCall { amount: ether(50) }.abi_encode(),
    );
    let (block, receipts) = chain.block(&[unstake]);
    assert!(receipts[0].success);
    assert_eq!(block.header.validators_hash, next.hash());
    let view = chain.view(&IStaking::validatorCall { operator: staker });
    assert_eq!(view.status, 2, "unbonding");
    assert_eq!(view.unbonding.len(), 1);
    assert_eq!(view.unbonding[0].endsAt, 3 + UNBONDING);

    // Height 4 ends the epoch: back to the genesis set.
    let (block, _) = chain.block(&[]);
    assert_eq!(block.header.next_validators_hash, genesis_set.hash());
    assert_eq!(chain.next_set(), genesis_set);

    // Withdrawing before height 6 reverts with the height it may.
    let early = IStaking::withdrawCall {}.abi_encode();
    assert_eq!(
        chain.revert_reason(5, U256::ZERO, early.clone()),
        "nothing to withdraw before height 6"
    );
    chain.block(&[]);
    let before = chain.balance(staker);
    let withdraw = chain.tx(5, U256::ZERO, early);
    let (_, receipts) = chain.block(&[withdraw]);
    assert!(receipts[0].success);
    let paid = receipts[0].gas_used as u128 * receipts[0].effective_gas_price;
    assert_eq!(chain.balance(staker), before + ether(50) - U256::from(paid));
    assert_eq!(chain.balance(STAKING), ether(200));
    // Nothing left: the candidate is gone and its key is free.
    let view = chain.view(&IStaking::validatorCall { operator: staker });
    assert_eq!(view.status, 0);
    assert_eq!(chain.view(&IStaking::validatorsCall {}).len(), 2);
}

#[test]
fn bad_calls_revert_with_their_reason() {
    let chain = Chain::new();
    let taken = B256::from(*chain.genesis.validators[0].consensus_key.as_bytes());
    let stake = |key| IStaking::stakeCall { consensusKey: key }.abi_encode();
    assert_eq!(
        chain.revert_reason(5, U256::ZERO, stake(new_key(1))),
        "the amount must be positive"
    );
    let reason = chain.revert_reason(5, ether(1), stake(taken));
    assert!(reason.contains("is already used by operator"), "{reason}");
    // Not a point of the curve (y = 2 has no x).
    let mut bad = [0u8; 32];
    bad[0] = 2;
    let reason = chain.revert_reason(5, ether(1), stake(B256::from(bad)));
    assert!(reason.contains("is not an ed25519 public key"), "{reason}");
    let reason = chain.revert_reason(
        5,
        U256::ZERO,
        IStaking::unstakeCall { amount: ether(1) }.abi_encode(),
    );
    assert_eq!(
        reason,
        "cannot unstake 1000000000000000000 wei: 0 wei bonded"
    );
    assert_eq!(
        chain.revert_reason(5, U256::ZERO, IStaking::withdrawCall {}.abi_encode()),
        "nothing is unbonding"
    );
    assert_eq!(
        chain.revert_reason(5, ether(1), IStaking::withdrawCall {}.abi_encode()),
        "this function takes no value"
    );
    assert_eq!(
        chain.revert_reason(5, U256::ZERO, vec![1, 2]),
        "unknown function selector"
    );
    // Only the system ends an epoch.
    assert_eq!(
        chain.revert_reason(
            5,
            U256::ZERO,
            gont_vm::system::staking::end_block_call().to_vec()
        ),
        "only the system may end a block"
    );
}

#[test]
fn an_operator_adds_stake_with_its_own_key_only() {
    let mut chain = Chain::new();
    let key = new_key(9);
    let first = chain.tx(
        5,
        ether(2),
        IStaking::stakeCall { consensusKey: key }.abi_encode(),
    );
    let more = chain.tx(
        5,
        ether(3),
        IStaking::stakeCall { consensusKey: key }.abi_encode(),
    );
    let (_, receipts) = chain.block(&[first, more]);
    assert!(receipts.iter().all(|r| r.success));
    let staker = address_of(&dev_key(5).unwrap());
    assert_eq!(
        chain
            .view(&IStaking::validatorCall { operator: staker })
            .stake,
        ether(5)
    );
    let reason = chain.revert_reason(
        5,
        ether(1),
        IStaking::stakeCall {
            consensusKey: new_key(10),
        }
        .abi_encode(),
    );
    assert!(reason.contains("already validates with key"), "{reason}");
}

#[test]
fn a_block_that_pays_another_account_than_the_proposers_operator_is_invalid() {
    let mut builder = Chain::new();
    let mut checker = Chain::new();
    let honest = builder.block(&[]).0;
    assert_eq!(
        checker.engine.new_payload(&honest).unwrap(),
        gont_core::PayloadStatus::Valid
    );
    let id = honest.header.id().unwrap();
    checker
        .engine
        .forkchoice_updated(ForkchoiceState {
            head: id,
            safe: id,
            finalized: id,
        })
        .unwrap();

    // The proposer names dev account 0 as the fee recipient.
    let parent = builder
        .engine
        .store()
        .head()
        .unwrap()
        .map(|h| h.id().unwrap());
    let proposer = &builder.genesis.validators[0];
    let attributes = PayloadAttributes {
        timestamp: gont_core::Timestamp::from_secs(1_767_225_600 + 10),
        proposer: proposer.consensus_key.address(),
        fee_recipient: gont_core::genesis::DEV_ADDRESSES[0],
        validators_hash: builder.next_set().hash(),
    };
    let block = builder
        .engine
        .build_payload(parent, attributes, &[])
        .unwrap();
    match checker.engine.new_payload(&block).unwrap() {
        gont_core::PayloadStatus::Invalid { reason } => {
            assert!(
                reason.contains("is not the proposer's operator"),
                "{reason}"
            );
        }
        other => panic!("accepted: {other:?}"),
    }

    // A proposer outside the set is refused as well.
    let mut outsider = block.clone();
    outsider.header.proposer = gont_core::ValidatorAddress([9; 20]);
    outsider.header.execution.fee_recipient = proposer.operator;
    match checker.engine.new_payload(&outsider).unwrap() {
        gont_core::PayloadStatus::Invalid { reason } => {
            assert!(
                reason.contains("is not in the height's validator set"),
                "{reason}"
            );
        }
        other => panic!("accepted: {other:?}"),
    }
}
