//! The canonical encoding: round trips, and decoders that never panic.

// Test helpers may unwrap and index: a failure is the test failing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use gont_core::{
    Block, BlockId, Body, ChainId, Checkpoint, CommitCertificate, CommitSig, DecidedBlock,
    ExecutionFields, Genesis, Hash, Header, Height, RawTransaction, ServiceId, Signature,
    Timestamp, ValidatorAddress, ValidatorSet, ValidatorSetHash, decode, encode,
};
use proptest::prelude::*;

fn header() -> impl Strategy<Value = Header> {
    (
        any::<u64>(),
        1u64..1_000_000,
        any::<u64>(),
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        any::<[u8; 20]>(),
        any::<[u64; 3]>(),
    )
        .prop_map(
            |(chain, height, time, a, b, proposer, [used, limit, fee])| Header {
                chain_id: ChainId(chain),
                height: Height(height),
                time: Timestamp(time),
                parent: (height > 1).then_some(BlockId(a)),
                tx_root: Hash(b),
                state_root: Hash(a),
                receipts_root: Hash(b),
                validators_hash: ValidatorSetHash(a),
                next_validators_hash: ValidatorSetHash(b),
                proposer: ValidatorAddress(proposer),
                execution: ExecutionFields {
                    gas_used: used,
                    gas_limit: limit,
                    base_fee_per_gas: fee,
                    fee_recipient: gont_core::Address::repeat_byte(0xfe),
                },
                evidence_hash: time.is_multiple_of(2).then_some(Hash(a)),
                last_commit_hash: time.is_multiple_of(3).then_some(Hash(b)),
            },
        )
}

fn evidence() -> impl Strategy<Value = gont_core::Evidence> {
    (
        any::<[u8; 20]>(),
        any::<u64>(),
        any::<u32>(),
        any::<bool>(),
        any::<[u8; 32]>(),
        prop::collection::vec(any::<u8>(), 128),
        any::<bool>(),
    )
        .prop_map(
            |(validator, height, round, precommit, block, sigs, proposal)| {
                let signature = |at: usize| {
                    gont_core::Signature(sigs[at..at + 64].try_into().expect("64 bytes"))
                };
                let value = (BlockId(block), Timestamp(height));
                if proposal {
                    return gont_core::Evidence::DuplicateProposal(gont_core::DuplicateProposal {
                        validator: ValidatorAddress(validator),
                        height: Height(height),
                        round,
                        first: gont_core::EvidenceProposal {
                            pol_round: precommit.then_some(round / 2),
                            value,
                            signature: signature(0),
                        },
                        second: gont_core::EvidenceProposal {
                            pol_round: None,
                            value: (BlockId(block), Timestamp(height ^ 1)),
                            signature: signature(64),
                        },
                    });
                }
                gont_core::Evidence::DuplicateVote(gont_core::DuplicateVote {
                    validator: ValidatorAddress(validator),
                    height: Height(height),
                    round,
                    kind: if precommit {
                        gont_core::VoteKind::Precommit
                    } else {
                        gont_core::VoteKind::Prevote
                    },
                    first: gont_core::EvidenceVote {
                        value: None,
                        signature: signature(0),
                    },
                    second: gont_core::EvidenceVote {
                        value: Some(value),
                        signature: signature(64),
                    },
                })
            },
        )
}

fn commit_sig() -> impl Strategy<Value = CommitSig> {
    prop_oneof![
        Just(CommitSig::Absent),
        (
            any::<[u8; 20]>(),
            any::<u64>(),
            prop::collection::vec(any::<u8>(), 64)
        )
            .prop_map(|(v, t, s)| CommitSig::ForBlock {
                validator: ValidatorAddress(v),
                timestamp: Timestamp(t),
                signature: Signature(s.try_into().unwrap()),
            }),
        (
            any::<[u8; 20]>(),
            any::<u64>(),
            prop::collection::vec(any::<u8>(), 64)
        )
            .prop_map(|(v, t, s)| CommitSig::ForNil {
                validator: ValidatorAddress(v),
                timestamp: Timestamp(t),
                signature: Signature(s.try_into().unwrap()),
            }),
    ]
}

fn commit() -> impl Strategy<Value = CommitCertificate> {
    (
        any::<u64>(),
        any::<u32>(),
        any::<[u8; 32]>(),
        prop::collection::vec(commit_sig(), 0..8),
    )
        .prop_map(|(h, round, id, signatures)| CommitCertificate {
            height: Height(h),
            round,
            block_id: BlockId(id),
            signatures,
        })
}

fn decided_block() -> impl Strategy<Value = DecidedBlock> {
    (
        header(),
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..6),
        prop::collection::vec(evidence(), 0..3),
        commit(),
    )
        .prop_map(|(header, txs, evidence, commit)| DecidedBlock {
            block: Block {
                header,
                body: Body {
                    transactions: txs.into_iter().map(|t| RawTransaction(t.into())).collect(),
                    evidence,
                    last_commit: (commit.round % 2 == 0).then(|| commit.clone()),
                },
            },
            commit,
        })
}

fn checkpoint() -> impl Strategy<Value = Checkpoint> {
    (any::<u32>(), header(), commit(), 1usize..5, any::<u64>()).prop_map(
        |(service, header, commit, n, trusted)| {
            let set = Genesis::devnet(n, 0).validator_set().unwrap();
            Checkpoint {
                service: ServiceId(service),
                header,
                commit,
                validators: set.clone(),
                next_validators: set.clone(),
                trusted_height: Height(trusted),
                trusted_next_validators: set,
            }
        },
    )
}

/// Decoding arbitrary bytes returns a value or an error, never a panic; and
/// whatever decodes re-encodes to exactly the same bytes (one encoding per
/// value).
fn decodes_canonically_or_errs<T: borsh::BorshSerialize + borsh::BorshDeserialize>(
    bytes: &[u8],
) -> Result<(), TestCaseError> {
    if let Ok(value) = decode::<T>(bytes) {
        prop_assert_eq!(encode(&value), bytes.to_vec());
    }
    Ok(())
}

/// Truncates, extends or flips one byte of a valid encoding.
fn mutate(mut bytes: Vec<u8>, how: u8, at: usize, byte: u8) -> Vec<u8> {
    if bytes.is_empty() {
        return vec![byte];
    }
    let at = at % bytes.len();
    match how % 3 {
        0 => bytes.truncate(at),
        1 => bytes.insert(at, byte),
        _ => bytes[at] ^= byte | 1,
    }
    bytes
}

proptest! {
    #[test]
    fn decided_blocks_round_trip(block in decided_block()) {
        prop_assert_eq!(decode::<DecidedBlock>(&encode(&block)).unwrap(), block);
    }

    #[test]
    fn checkpoints_round_trip(cp in checkpoint()) {
        let back = decode::<Checkpoint>(&encode(&cp)).unwrap();
        prop_assert_eq!(back.id(), cp.id());
        prop_assert_eq!(back, cp);
    }

    #[test]
    fn genesis_round_trips(validators in 1usize..12, services in 0usize..4) {
        let g = Genesis::devnet(validators, services);
        let back = decode::<Genesis>(&encode(&g)).unwrap();
        prop_assert_eq!(back.hash(), g.hash());
        prop_assert_eq!(back, g);
    }

    #[test]
    fn validator_sets_round_trip(validators in 1usize..20) {
        let set = Genesis::devnet(validators, 0).validator_set().unwrap();
        prop_assert_eq!(decode::<ValidatorSet>(&encode(&set)).unwrap(), set);
    }

    #[test]
    fn random_bytes_never_panic_a_decoder(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        decodes_canonically_or_errs::<DecidedBlock>(&bytes)?;
        decodes_canonically_or_errs::<Header>(&bytes)?;
        decodes_canonically_or_errs::<Checkpoint>(&bytes)?;
        decodes_canonically_or_errs::<Genesis>(&bytes)?;
        decodes_canonically_or_errs::<ValidatorSet>(&bytes)?;
        decodes_canonically_or_errs::<CommitCertificate>(&bytes)?;
    }

    #[test]
    fn mutated_encodings_never_panic_a_decoder(block in decided_block(), validators in 1usize..6, how: u8, at: usize, byte: u8) {
        decodes_canonically_or_errs::<DecidedBlock>(&mutate(encode(&block), how, at, byte))?;
        let g = Genesis::devnet(validators, 1);
        decodes_canonically_or_errs::<Genesis>(&mutate(encode(&g), how, at, byte))?;
        let set = g.validator_set().unwrap();
        decodes_canonically_or_errs::<ValidatorSet>(&mutate(encode(&set), how, at, byte))?;
    }

    #[test]
    fn raw_transaction_garbage_is_an_error(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = RawTransaction(bytes.into()).decode_and_recover();
    }
}

#[test]
fn huge_length_prefixes_are_refused_without_allocating() {
    // A body claiming 2^32-1 transactions in a few bytes.
    let bytes = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
    assert!(decode::<Body>(&bytes).is_err());
}

#[test]
fn unsorted_validator_sets_are_not_canonical() {
    let set = Genesis::devnet(3, 0).validator_set().unwrap();
    let mut members = set.validators().to_vec();
    members.reverse();
    let mut bytes = Vec::new();
    borsh::BorshSerialize::serialize(&members, &mut bytes).unwrap();
    // Equal powers: order is by address, and reversed is not that order.
    let err = decode::<ValidatorSet>(&bytes).unwrap_err();
    assert!(err.to_string().contains("not in set order"), "{err}");
}

#[test]
fn a_signed_transaction_decodes_and_recovers_its_sender() {
    // The signed example of EIP-155 (chain 1, key 0x4646…46).
    let raw = alloy_primitives::hex::decode(
        "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83",
    )
    .unwrap();
    let raw = RawTransaction(raw.into());
    let (_, sender) = raw.decode_and_recover().unwrap();
    assert_eq!(
        sender,
        alloy_primitives::address!("9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F")
    );
    assert_eq!(
        raw.hash().to_string(),
        "0x33469b22e9f636356c4160a87eb19df52b7412e8eac32a4a55ffe88ea8350788"
    );
    // One byte more is not the same transaction.
    let mut longer = raw.0.to_vec();
    longer.push(0);
    assert!(RawTransaction(longer.into()).decode().is_err());
}
