//! The staking contract through the engine over a real redb store: signed
//! transactions stake, unstake and withdraw; at each epoch's end the
//! engine's header announces the next set, and `validator_set` returns it;
//! evidence of double signing slashes and jails (`slashing`), and so does
//! missing too many commits (`downtime`).

// Test code: a failed unwrap, index or panic is the test failing, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod chain;
mod downtime;
mod slashing;

use alloy_sol_types::SolCall;
use chain::{Chain, EPOCH, IStaking, UNBONDING, ether, new_key};
use gont_core::genesis::DEV_OPERATOR_ADDRESSES;
use gont_core::{
    B256, ExecutionEngine, ExecutionStore, ForkchoiceState, Height, PayloadAttributes, StateReader,
    U256,
};
use gont_vm::system::STAKING;
use gont_vm::testing::{address_of, dev_key};

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
    // Only the system ends an epoch or punishes.
    let key = chain.genesis.validators[1].consensus_key;
    for call in [
        gont_vm::system::staking::end_block_call(),
        gont_vm::system::staking::punish_call(&key, 1),
    ] {
        assert_eq!(
            chain.revert_reason(5, U256::ZERO, call.to_vec()),
            "only the system may end a block or punish"
        );
    }
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
        evidence: Vec::new(),
        last_commit: None,
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
