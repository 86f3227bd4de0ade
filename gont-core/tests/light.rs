//! The light client across validator-set changes, on blocks signed with
//! real ed25519 keys: set A decides heights 1 to 10 and announces set B,
//! which shares no key with A, in block 10's `next_validators_hash`; B
//! decides 11 to 20. A client trusting the genesis cannot skip to 20 (A
//! signed none of it), so it bisects; one block after another it follows
//! the change; and a block whose header names another next set than the
//! one that signs the following block is refused.

// Test code: a failed unwrap, index or panic is the test failing, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::cell::RefCell;

use ed25519_consensus::SigningKey;
use gont_core::light::{self, LightBlock, LightClient, LightError, TrustOptions};
use gont_core::{
    Address, BlockId, ChainId, CommitCertificate, CommitSig, ConsensusKey, ExecutionFields, Hash,
    Header, Height, Signature, Timestamp, Validator, ValidatorSet, VotingPower,
};

const CHAIN: ChainId = ChainId(7);
const GENESIS_MS: u64 = 1_767_225_600_000;
const CHANGE: u64 = 10;
const TIP: u64 = 20;

struct Set {
    keys: Vec<SigningKey>,
    set: ValidatorSet,
}

impl Set {
    fn new(seed: u8) -> Self {
        let mut keys: Vec<SigningKey> = (0..4u8)
            .map(|i| SigningKey::from([seed.wrapping_mul(16).wrapping_add(i + 1); 32]))
            .collect();
        let set = ValidatorSet::new(
            keys.iter()
                .map(|k| Validator {
                    consensus_key: ConsensusKey::of(k),
                    operator: Address::from_slice(&k.verification_key().to_bytes()[..20]),
                    power: VotingPower(10),
                })
                .collect(),
        )
        .unwrap();
        // Keys in the set's order.
        keys.sort_by_key(|k| {
            set.get_by_key(&ConsensusKey::of(k))
                .map(|(i, _)| i)
                .unwrap()
        });
        Self { keys, set }
    }
}

fn header(height: u64, parent: Option<BlockId>, set: &Set, next: &Set) -> Header {
    Header {
        chain_id: CHAIN,
        height: Height(height),
        time: Timestamp(GENESIS_MS + height * 1000),
        parent,
        tx_root: Hash([0; 32]),
        state_root: Hash([u8::try_from(height).unwrap(); 32]),
        receipts_root: Hash([0; 32]),
        validators_hash: set.set.hash(),
        next_validators_hash: next.set.hash(),
        proposer: set.set.validators()[0].address(),
        execution: ExecutionFields::default(),
        // Every fifth block carries evidence: its root is part of what
        // the commit signs and the light client checks.
        evidence_hash: height.is_multiple_of(5).then_some(Hash([5; 32])),
        last_commit_hash: (height > 1).then_some(Hash([6; 32])),
    }
}

/// The commit of `header` by every member of `set`.
fn commit(header: &Header, set: &Set) -> CommitCertificate {
    let id = header.id().unwrap();
    let chain = tendermint::chain::Id::try_from(CHAIN.tendermint_id()).unwrap();
    let vote = tendermint::vote::Vote {
        vote_type: tendermint::vote::Type::Precommit,
        height: tendermint::block::Height::try_from(header.height.0).unwrap(),
        round: tendermint::block::Round::try_from(0u32).unwrap(),
        block_id: Some(light::tendermint_block_id(id)),
        timestamp: Some(light::tendermint_time(header.time).unwrap()),
        validator_address: tendermint::account::Id::new([0; 20]),
        validator_index: tendermint::vote::ValidatorIndex::try_from(0u32).unwrap(),
        signature: None,
        extension: Vec::new(),
        extension_signature: None,
    };
    let bytes = vote.into_signable_vec(chain);
    CommitCertificate {
        height: header.height,
        round: 0,
        block_id: id,
        signatures: set
            .set
            .validators()
            .iter()
            .zip(&set.keys)
            .map(|(v, key)| CommitSig::ForBlock {
                validator: v.address(),
                timestamp: header.time,
                signature: Signature(key.sign(&bytes).to_bytes()),
            })
            .collect(),
    }
}

/// Light blocks 1 to `TIP`: A, then B from `CHANGE + 1`.
fn chain(a: &Set, b: &Set) -> Vec<LightBlock> {
    let mut parent = None;
    let mut blocks = Vec::new();
    for h in 1..=TIP {
        let set = if h <= CHANGE { a } else { b };
        let next = if h < CHANGE { a } else { b };
        let header = header(h, parent, set, next);
        parent = Some(header.id().unwrap());
        let commit = commit(&header, set);
        blocks.push(light::light_block(&header, &commit, &set.set, &next.set).unwrap());
    }
    blocks
}

fn genesis_client(a: &Set) -> LightClient {
    LightClient::from_genesis(
        CHAIN,
        Timestamp(GENESIS_MS),
        &a.set,
        TrustOptions::default(),
    )
    .unwrap()
}

fn now() -> Timestamp {
    Timestamp(GENESIS_MS + (TIP + 5) * 1000)
}

#[test]
fn skipping_across_a_disjoint_set_change_bisects() {
    let (a, b) = (Set::new(1), Set::new(2));
    let blocks = chain(&a, &b);

    // In one skip the genesis set's trust does not reach the tip.
    let err = genesis_client(&a)
        .verify(&blocks[usize::try_from(TIP).unwrap() - 1], now())
        .unwrap_err();
    assert!(matches!(err, LightError::NotEnoughTrust(_)), "{err}");

    let fetched = RefCell::new(Vec::new());
    let mut client = genesis_client(&a);
    let reached = client
        .advance_to(TIP, now(), |h| {
            fetched.borrow_mut().push(h);
            Ok::<_, String>(blocks[usize::try_from(h).unwrap() - 1].clone())
        })
        .unwrap();
    assert_eq!(reached.height().value(), TIP);
    // The tip (refused), halfway (trusted by A, announcing B), the tip.
    assert_eq!(*fetched.borrow(), vec![TIP, CHANGE, TIP]);
    assert_eq!(client.height(), TIP);
}

#[test]
fn adjacent_verification_follows_the_change_and_refuses_an_unannounced_set() {
    let (a, b) = (Set::new(1), Set::new(2));
    let blocks = chain(&a, &b);
    let mut client = genesis_client(&a);
    for block in &blocks {
        client.update(block.clone(), now()).unwrap();
    }
    assert_eq!(client.height(), TIP);

    // Block 10 announcing A again, while B signs block 11: after trusting
    // that block 10, block 11 does not follow.
    let parent = light::block_id(&blocks[usize::try_from(CHANGE).unwrap() - 2]);
    let header10 = header(CHANGE, Some(parent), &a, &a);
    let lying = light::light_block(&header10, &commit(&header10, &a), &a.set, &a.set).unwrap();
    let mut client = genesis_client(&a);
    client.update(lying, now()).unwrap();
    let err = client
        .update(blocks[usize::try_from(CHANGE).unwrap()].clone(), now())
        .unwrap_err();
    assert!(matches!(err, LightError::Invalid(_)), "{err}");
}
