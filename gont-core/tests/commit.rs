//! A block's last commit, as the downtime rule reads it: which members of
//! the set signed, on commits signed with real ed25519 keys, and every way
//! a commit that does not prove its block is refused.

// Test code: a failed unwrap, index or panic is the test failing, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use ed25519_consensus::SigningKey;
use gont_core::block::CommitError;
use gont_core::evidence::{VoteKind, vote_sign_bytes};
use gont_core::{
    Address, BlockId, ChainId, CommitCertificate, CommitSig, ConsensusKey, Height, Signature,
    Timestamp, Validator, ValidatorSet, VotingPower,
};

const CHAIN: ChainId = ChainId(7);
const BLOCK: BlockId = BlockId([3; 32]);
const TIME: Timestamp = Timestamp(1_767_225_600_000);

/// Four validators of equal power, and their keys in set order.
fn set() -> (ValidatorSet, Vec<SigningKey>) {
    let keys: Vec<SigningKey> = (1..=4u8).map(|i| SigningKey::from([i; 32])).collect();
    let set = ValidatorSet::new(
        keys.iter()
            .zip(1u8..)
            .map(|(k, i)| Validator {
                consensus_key: ConsensusKey::of(k),
                operator: Address::repeat_byte(i),
                power: VotingPower(10),
            })
            .collect(),
    )
    .unwrap();
    let ordered = set
        .validators()
        .iter()
        .map(|v| {
            keys.iter()
                .find(|k| ConsensusKey::of(k) == v.consensus_key)
                .unwrap()
                .clone()
        })
        .collect();
    (set, ordered)
}

fn precommit(key: &SigningKey, value: Option<(BlockId, Timestamp)>) -> Signature {
    let chain = tendermint::chain::Id::try_from(CHAIN.tendermint_id()).unwrap();
    let bytes = vote_sign_bytes(&chain, VoteKind::Precommit, Height(5), 0, value).unwrap();
    Signature(key.sign(&bytes).to_bytes())
}

/// A commit of height 5 with an entry of `kind` per member: 'b' for the
/// block, 'n' for nil, '-' absent.
fn commit(kinds: &str) -> CommitCertificate {
    let (_, keys) = set();
    let signatures = kinds
        .chars()
        .zip(&keys)
        .map(|(kind, key)| {
            let validator = ConsensusKey::of(key).address();
            match kind {
                'b' => CommitSig::ForBlock {
                    validator,
                    timestamp: TIME,
                    signature: precommit(key, Some((BLOCK, TIME))),
                },
                'n' => CommitSig::ForNil {
                    validator,
                    timestamp: TIME,
                    signature: precommit(key, None),
                },
                _ => CommitSig::Absent,
            }
        })
        .collect();
    CommitCertificate {
        height: Height(5),
        round: 0,
        block_id: BLOCK,
        signatures,
    }
}

#[test]
fn a_commit_names_who_signed_for_the_block_or_for_nil() {
    let (set, _) = set();
    assert_eq!(
        commit("bbb-").verify(CHAIN, &set),
        Ok(vec![true, true, true, false])
    );
    assert_eq!(
        commit("bnbb").verify(CHAIN, &set),
        Ok(vec![true, true, true, true])
    );
    assert_ne!(commit("bbb-").hash(), commit("bbbb").hash());
}

#[test]
fn a_commit_that_does_not_prove_its_block_is_refused_with_its_reason() {
    let (set, keys) = set();
    assert_eq!(
        commit("bb--").verify(CHAIN, &set),
        Err(CommitError::NoQuorum {
            signed: 20,
            total: 40
        })
    );
    // Nil precommits are signatures, not power for the block.
    assert!(matches!(
        commit("bbnn").verify(CHAIN, &set),
        Err(CommitError::NoQuorum { signed: 20, .. })
    ));
    assert_eq!(
        commit("bbb").verify(CHAIN, &set),
        Err(CommitError::Length {
            expected: 4,
            got: 3
        })
    );
    assert!(matches!(
        commit("bbbb").verify(ChainId(8), &set),
        Err(CommitError::BadSignature { index: 0, .. })
    ));
    let mut other_block = commit("bbbb");
    other_block.block_id = BlockId([4; 32]);
    assert!(matches!(
        other_block.verify(CHAIN, &set),
        Err(CommitError::BadSignature { .. })
    ));
    let mut forged = commit("bbbb");
    if let CommitSig::ForBlock { signature, .. } = &mut forged.signatures[3] {
        *signature = precommit(&keys[2], Some((BLOCK, TIME)));
    }
    assert!(matches!(
        forged.verify(CHAIN, &set),
        Err(CommitError::BadSignature { index: 3, .. })
    ));
    let mut swapped = commit("bbbb");
    swapped.signatures.swap(0, 1);
    assert!(matches!(
        swapped.verify(CHAIN, &set),
        Err(CommitError::WrongValidator { index: 0, .. })
    ));
}
