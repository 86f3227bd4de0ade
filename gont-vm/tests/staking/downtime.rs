//! Downtime: every block carries the commit of its parent, and the
//! staking contract counts who of the parent's set signed it. Four
//! validators (the first two with three times the stake of the others, so
//! that the first two alone are a quorum), a window of 10 blocks of which
//! each must sign half: one
//! that signs nothing is slashed 1 %, jailed and out of the next set; one
//! that signs every other block is not; a block whose last commit does not
//! hold is invalid.

use alloy_sol_types::SolCall;
use gont_core::{CommitSig, ExecutionEngine, Genesis, PayloadStatus, U256};
use gont_vm::system::STAKING;

use crate::chain::{self, Chain, EPOCH, IStaking, JAIL, ether, invalid_reason};

/// The signed-blocks window of these tests.
const WINDOW: u64 = 10;

fn genesis() -> Genesis {
    let base = chain::genesis();
    let mut genesis = Genesis::devnet(4, 0);
    genesis.consensus.epoch_length = base.consensus.epoch_length;
    genesis.consensus.unbonding_period_blocks = base.consensus.unbonding_period_blocks;
    genesis.consensus.staking.jail_blocks = JAIL;
    genesis.consensus.staking.signed_blocks_window = WINDOW;
    genesis.consensus.staking.min_signed_bps = 5_000;
    genesis.consensus.staking.downtime_slash_bps = 100;
    for v in &mut genesis.validators[..2] {
        v.stake = gont_core::Stake::tokens(300);
    }
    genesis
}

#[test]
fn a_validator_that_misses_more_than_the_window_allows_is_slashed_jailed_and_leaves_the_set() {
    let mut chain = Chain::with_genesis(genesis());
    let mut checker = Chain::with_genesis(genesis());
    let stopped = chain.genesis.validators[3].clone();
    let flaky = chain.genesis.validators[2].clone();
    chain.down.push(stopped.consensus_key);
    let view = |chain: &Chain, operator| chain.view(&IStaking::validatorCall { operator });

    // Blocks 2..=11 carry the commits of 1..=10: the stopped validator is
    // in none, the flaky one in those of odd heights (5 missed, not more
    // than half).
    for height in 1..=11u64 {
        chain.down.retain(|k| *k != flaky.consensus_key);
        if height % 2 == 0 {
            chain.down.push(flaky.consensus_key);
        }
        let (block, _) = chain.block(&[]);
        checker.commit_validated(&block);
        if height == 10 {
            let before = view(&chain, stopped.operator);
            assert_eq!(before.status, 1, "bonded until the window is full");
            assert_eq!(before.missedBlocks, WINDOW - 1);
            assert!(before.inSet);
        }
        if height == 11 {
            let carried = block.body.last_commit.as_ref().unwrap();
            assert_eq!(carried.height.0, 10);
            assert_eq!(block.header.last_commit_hash, Some(carried.hash()));
            let next = chain.next_set();
            assert_eq!(next.len(), 3);
            assert!(next.get_by_key(&stopped.consensus_key).is_none());
            assert_eq!(block.header.next_validators_hash, next.hash());
        }
    }
    let jailed = view(&chain, stopped.operator);
    assert_eq!(jailed.status, 3, "jailed");
    assert_eq!(jailed.stake, ether(99), "1 % burned");
    assert_eq!(jailed.jailedUntil, 11 + JAIL);
    assert_eq!(jailed.missedBlocks, 0, "the record starts again");
    assert!(!jailed.inSet);
    assert_eq!(chain.balance(STAKING), ether(799));
    let kept = view(&chain, flaky.operator);
    assert_eq!((kept.status, kept.missedBlocks), (1, 5));
    assert!(kept.inSet);

    // The three go on; after the jail the operator (account 13) unjails
    // and the validator is back from the next epoch's end.
    while chain.height() < 11 + JAIL {
        let (block, _) = chain.block(&[]);
        checker.commit_validated(&block);
    }
    let unjail = chain.tx(13, U256::ZERO, IStaking::unjailCall {}.abi_encode());
    chain.down.clear();
    let (_, receipts) = chain.block(&[unjail]);
    assert!(receipts[0].success);
    while !chain.height().is_multiple_of(EPOCH) {
        chain.block(&[]);
    }
    assert!(
        chain
            .next_set()
            .get_by_key(&stopped.consensus_key)
            .is_some()
    );
    let back = view(&chain, stopped.operator);
    assert_eq!((back.status, back.missedBlocks), (1, 0));
}

#[test]
fn blocks_whose_last_commit_does_not_hold_are_invalid() {
    let mut builder = Chain::with_genesis(genesis());
    let mut checker = Chain::with_genesis(genesis());
    let mut blocks = Vec::new();
    for _ in 0..2 {
        let (block, _) = builder.block(&[]);
        checker.commit_validated(&block);
        blocks.push(block);
    }
    let parent = builder.head_id();
    let attributes = builder.attributes(Vec::new());
    let honest = builder
        .engine
        .build_payload(parent, attributes, &[])
        .unwrap();
    assert_eq!(
        checker.engine.new_payload(&honest).unwrap(),
        PayloadStatus::Valid
    );
    let with = |commit: Option<gont_core::CommitCertificate>| {
        let mut block = honest.clone();
        block.body.last_commit = commit;
        block.header.last_commit_hash = block.body.last_commit_hash();
        block
    };
    let mut check = |block| invalid_reason(checker.engine.new_payload(&block).unwrap());

    let reason = check(with(None));
    assert!(
        reason.contains("does not carry its parent's commit"),
        "{reason}"
    );

    let mut unhashed = honest.clone();
    unhashed.header.last_commit_hash = None;
    let reason = check(unhashed);
    assert!(
        reason.contains("last_commit_hash does not match"),
        "{reason}"
    );

    let reason = check(with(Some(builder.sign_commit(&blocks[0]))));
    assert!(reason.contains("not of the parent"), "{reason}");

    let mut forged = builder.sign_commit(&blocks[1]);
    if let CommitSig::ForBlock { signature, .. } = &mut forged.signatures[0] {
        signature.0[0] ^= 1;
    }
    let reason = check(with(Some(forged)));
    assert!(reason.contains("does not verify"), "{reason}");

    let validators = builder.genesis.validators.clone();
    builder.down = vec![validators[1].consensus_key, validators[2].consensus_key];
    // 400 of 800.
    let reason = check(with(Some(builder.sign_commit(&blocks[1]))));
    assert!(reason.contains("not more than two thirds"), "{reason}");

    // A commit that holds but names fewer signers than the block was built
    // with: the record of signatures, and so the state root, differ.
    builder.down = vec![validators[3].consensus_key];
    let reason = check(with(Some(builder.sign_commit(&blocks[1]))));
    assert!(reason.contains("state_root does not match"), "{reason}");
}
