//! Evidence of double signing through the engine: validator 1 of a
//! two-validator chain signs two prevotes at one height; a block carrying
//! the evidence slashes its bonded stake and its later unbonding, burns
//! the cut, jails it and takes it out of the next height's set; two
//! proposals of different blocks in one round are punished the same way;
//! every piece of evidence that does not hold makes a block invalid.

use alloy_sol_types::SolCall;
use gont_core::evidence::{
    DuplicateProposal, DuplicateVote, EvidenceProposal, EvidenceVote, VoteKind,
    proposal_sign_bytes, vote_sign_bytes,
};
use gont_core::genesis::{DEV_OPERATOR_ADDRESSES, DevnetChain, devnet_validator_key};
use gont_core::{
    BlockId, ConsensusKey, Evidence, ExecutionEngine, Height, Signature, Timestamp, U256,
};
use gont_vm::system::STAKING;

use crate::chain::{Chain, IStaking, JAIL, SPACE, UNBONDING, ether, invalid_reason};

/// Two prevotes of devnet validator `validator` at `height`, round 0: one
/// for a block, one for nil, both signed with its key (as a second
/// instance of the same validator would sign them).
fn double_sign(validator: usize, height: u64) -> Evidence {
    let key = devnet_validator_key(DevnetChain::Space, validator);
    let chain = tendermint::chain::Id::try_from(SPACE.tendermint_id()).unwrap();
    let vote = |value| {
        let bytes = vote_sign_bytes(&chain, VoteKind::Prevote, Height(height), 0, value).unwrap();
        EvidenceVote {
            value,
            signature: Signature(key.sign(&bytes).to_bytes()),
        }
    };
    let voted = DuplicateVote::new(
        ConsensusKey::of(&key).address(),
        Height(height),
        0,
        VoteKind::Prevote,
        vote(Some((BlockId([1; 32]), Timestamp(5_000)))),
        vote(None),
    )
    .unwrap();
    Evidence::DuplicateVote(voted)
}

/// Two proposals of devnet validator `validator` at `height`, round 0, of
/// two different blocks, both signed with its key.
fn double_propose(validator: usize, height: u64) -> Evidence {
    let key = devnet_validator_key(DevnetChain::Space, validator);
    let chain = tendermint::chain::Id::try_from(SPACE.tendermint_id()).unwrap();
    let proposal = |block: u8| {
        let value = (BlockId([block; 32]), Timestamp(5_000));
        let bytes = proposal_sign_bytes(&chain, Height(height), 0, None, value).unwrap();
        EvidenceProposal {
            pol_round: None,
            value,
            signature: Signature(key.sign(&bytes).to_bytes()),
        }
    };
    let proposed = DuplicateProposal::new(
        ConsensusKey::of(&key).address(),
        Height(height),
        0,
        proposal(1),
        proposal(2),
    )
    .unwrap();
    Evidence::DuplicateProposal(proposed)
}

#[test]
fn a_double_proposer_is_slashed_and_jailed_like_a_double_signer() {
    let mut chain = Chain::new();
    let offender = DEV_OPERATOR_ADDRESSES[1];
    chain.block(&[]);
    chain.block(&[]);
    let (block, _) = chain.block_with(vec![double_propose(1, 2)], &[]);
    assert_eq!(block.body.evidence.len(), 1, "the builder keeps it");
    let view = chain.view(&IStaking::validatorCall { operator: offender });
    assert_eq!(view.status, 3, "jailed");
    assert_eq!(view.stake, ether(95));
    assert_eq!(view.jailedUntil, 3 + JAIL);
    assert_eq!(chain.next_set().len(), 1);
    // A forged second proposal is no evidence.
    let mut checker = Chain::new();
    let mut builder = Chain::new();
    for _ in 0..2 {
        let (block, _) = builder.block(&[]);
        checker.commit_validated(&block);
    }
    let mut forged = double_propose(1, 2);
    let Evidence::DuplicateProposal(d) = &mut forged else {
        unreachable!("built as a double proposal")
    };
    d.second.signature.0[0] ^= 1;
    let parent = builder.head_id();
    let attributes = builder.attributes(Vec::new());
    let mut block = builder
        .engine
        .build_payload(parent, attributes, &[])
        .unwrap();
    block.body.evidence = vec![forged];
    block.header.evidence_hash = block.body.evidence_hash();
    let reason = invalid_reason(checker.engine.new_payload(&block).unwrap());
    assert!(reason.contains("signature does not verify"), "{reason}");
}

#[test]
fn a_double_signer_is_slashed_jailed_and_leaves_the_set_at_the_next_height() {
    let mut chain = Chain::new();
    let genesis_set = chain.genesis.validator_set().unwrap();
    let offender = DEV_OPERATOR_ADDRESSES[1];
    let honest = chain.genesis.validators[0].consensus_key;
    let mut blocks = vec![chain.block(&[]).0];
    // Height 2: the offender starts unbonding 20 ether, and double signs.
    let unstake = chain.tx(
        11,
        U256::ZERO,
        IStaking::unstakeCall { amount: ether(20) }.abi_encode(),
    );
    let (block, receipts) = chain.block(&[unstake]);
    blocks.push(block);
    assert!(receipts[0].success);
    assert_eq!(chain.balance(STAKING), ether(200));

    // Height 3 carries the evidence: 5 % of the 80 bonded and of the 20
    // unbonding since the offence is burned; out of the set from height 4.
    let (block, _) = chain.block_with(vec![double_sign(1, 2)], &[]);
    blocks.push(block.clone());
    assert_eq!(block.body.evidence.len(), 1);
    assert_eq!(block.header.evidence_hash, block.body.evidence_hash());
    assert!(block.header.evidence_hash.is_some());
    let next = chain.next_set();
    assert_eq!(next.len(), 1);
    assert!(next.get_by_key(&honest).is_some());
    assert_eq!(block.header.next_validators_hash, next.hash());
    assert_ne!(next.hash(), genesis_set.hash());
    let view = chain.view(&IStaking::validatorCall { operator: offender });
    assert_eq!(view.status, 3, "jailed");
    assert_eq!(view.stake, ether(76));
    assert_eq!(view.unbonding[0].amount, ether(19));
    assert_eq!(view.jailedUntil, 3 + JAIL);
    assert!(!view.inSet);
    assert_eq!(chain.balance(STAKING), ether(195), "5 ether burned");

    // The same offence again is refused by a validator and left out by a
    // builder.
    let mut checker = Chain::new();
    for block in &blocks {
        checker.commit_validated(block);
    }
    let (again, _) = chain.block_with(vec![double_sign(1, 2)], &[]);
    assert!(again.body.evidence.is_empty(), "punished already");
    let mut replay = again;
    replay.body.evidence = vec![double_sign(1, 2)];
    replay.header.evidence_hash = replay.body.evidence_hash();
    let reason = invalid_reason(checker.engine.new_payload(&replay).unwrap());
    assert!(
        reason.contains("is already punished for an offence at height 2"),
        "{reason}"
    );
    // Height 4 ended an epoch: a jailed candidate is never chosen.
    assert_eq!(chain.next_set().len(), 1);

    // Unjailing before the jail ends reverts; afterwards the validator is
    // a candidate again and returns at the next epoch's end.
    let unjail = IStaking::unjailCall {}.abi_encode();
    assert_eq!(
        chain.revert_reason(11, U256::ZERO, unjail.clone()),
        format!("jailed until height {}", 3 + JAIL)
    );
    assert_eq!(
        chain.revert_reason(10, U256::ZERO, unjail.clone()),
        "not jailed"
    );
    while chain.height() + 1 < 3 + JAIL {
        chain.block(&[]);
    }
    let tx = chain.tx(11, U256::ZERO, unjail);
    let (block, receipts) = chain.block(&[tx]);
    assert!(receipts[0].success);
    assert_eq!(receipts[0].logs.len(), 1, "an Unjailed event");
    let view = chain.view(&IStaking::validatorCall { operator: offender });
    assert_eq!(view.status, 1);
    if block.header.height.0 % 2 == 1 {
        chain.block(&[]);
    }
    let back = chain.next_set();
    assert_eq!(back.len(), 2);
    assert_eq!(
        back.validators()
            .iter()
            .find(|v| v.operator == offender)
            .unwrap()
            .power
            .0,
        76
    );
}

#[test]
fn blocks_with_evidence_that_does_not_hold_are_invalid() {
    let mut builder = Chain::new();
    let mut checker = Chain::new();
    for _ in 0..2 {
        let (block, _) = builder.block(&[]);
        checker.commit_validated(&block);
    }
    let parent = builder.head_id();
    let attributes = builder.attributes(Vec::new());
    let honest = builder
        .engine
        .build_payload(parent, attributes, &[])
        .unwrap();
    let with = |evidence: Vec<Evidence>| {
        let mut block = honest.clone();
        block.body.evidence = evidence;
        block.header.evidence_hash = block.body.evidence_hash();
        block
    };
    let mut check = |block| invalid_reason(checker.engine.new_payload(&block).unwrap());

    let mut forged = double_sign(1, 2);
    let Evidence::DuplicateVote(d) = &mut forged else {
        unreachable!("built as a double vote")
    };
    d.second.signature.0[0] ^= 1;
    let reason = check(with(vec![forged]));
    assert!(reason.contains("signature does not verify"), "{reason}");

    let reason = check(with(vec![double_sign(1, 3)]));
    assert!(reason.contains("only earlier heights"), "{reason}");

    let reason = check(with(vec![double_sign(5, 2)]));
    assert!(reason.contains("is not in the set"), "{reason}");

    let twice = vec![double_sign(1, 2), double_sign(1, 1)];
    let reason = check(with(twice));
    assert!(
        reason.contains("a second piece of evidence against"),
        "{reason}"
    );

    let mut unhashed = with(vec![double_sign(1, 2)]);
    unhashed.header.evidence_hash = None;
    let reason = check(unhashed);
    assert!(reason.contains("evidence_hash does not match"), "{reason}");

    // Valid evidence the block's state root does not reflect.
    let reason = check(with(vec![double_sign(1, 2)]));
    assert!(reason.contains("state_root does not match"), "{reason}");

    // Evidence older than the unbonding period.
    while builder.height() < 1 + UNBONDING {
        let (block, _) = builder.block(&[]);
        checker.commit_validated(&block);
    }
    let parent = builder.head_id();
    let attributes = builder.attributes(vec![double_sign(1, 1)]);
    let stale = builder
        .engine
        .build_payload(parent, attributes, &[])
        .unwrap();
    assert!(stale.body.evidence.is_empty(), "left out by the builder");
    let mut stale = stale;
    stale.body.evidence = vec![double_sign(1, 1)];
    stale.header.evidence_hash = stale.body.evidence_hash();
    let reason = invalid_reason(checker.engine.new_payload(&stale).unwrap());
    assert!(
        reason.contains("older than the unbonding period"),
        "{reason}"
    );
}
