//! The header ↔ Tendermint mapping.

// Test helpers may unwrap and index: a failure is the test failing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use gont_core::header::{GONT_APP_VERSION, TENDERMINT_BLOCK_VERSION};
use gont_core::{
    BlockId, ChainId, ExecutionFields, Hash, Header, HeaderError, Height, Timestamp,
    ValidatorAddress, ValidatorSetHash,
};
use proptest::prelude::*;

fn header_strategy() -> impl Strategy<Value = Header> {
    (
        (
            1u64..=i64::MAX as u64,
            any::<u64>(),
            0u64..=253_402_300_799_999,
            any::<[u8; 32]>(),
        ),
        (any::<[u8; 32]>(), any::<[u8; 32]>(), any::<[u8; 32]>()),
        (any::<[u8; 32]>(), any::<[u8; 32]>(), any::<[u8; 20]>()),
        (any::<u64>(), any::<u64>(), any::<u64>()),
        (
            proptest::option::of(any::<[u8; 32]>()),
            proptest::option::of(any::<[u8; 32]>()),
        ),
    )
        .prop_map(
            |(
                (height, chain, time, parent),
                (tx, state, receipts),
                (vals, next, proposer),
                (used, limit, fee),
                (evidence, last_commit),
            )| Header {
                chain_id: ChainId(chain),
                height: Height(height),
                time: Timestamp(time),
                parent: (height > 1).then_some(BlockId(parent)),
                tx_root: Hash(tx),
                state_root: Hash(state),
                receipts_root: Hash(receipts),
                validators_hash: ValidatorSetHash(vals),
                next_validators_hash: ValidatorSetHash(next),
                proposer: ValidatorAddress(proposer),
                execution: ExecutionFields {
                    gas_used: used,
                    gas_limit: limit,
                    base_fee_per_gas: fee,
                    fee_recipient: gont_core::Address::repeat_byte(0xfe),
                },
                evidence_hash: evidence.map(Hash),
                last_commit_hash: last_commit.map(Hash),
            },
        )
}

proptest! {
    #[test]
    fn header_round_trips_through_tendermint(header in header_strategy()) {
        let tm = header.to_tendermint().unwrap();
        prop_assert_eq!(tm.version.block, TENDERMINT_BLOCK_VERSION);
        prop_assert_eq!(tm.version.app, GONT_APP_VERSION);
        prop_assert_eq!(header.id().unwrap().0.to_vec(), tm.hash().as_bytes().to_vec());
        prop_assert_eq!(Header::from_tendermint(&tm, header.execution).unwrap(), header);
    }

    #[test]
    fn block_id_commits_to_every_field(header in header_strategy(), field in 0usize..12) {
        let mut changed = header.clone();
        match field {
            0 => changed.chain_id.0 ^= 1,
            1 => changed.height.0 = if header.height.0 == 2 { 3 } else { 2 },
            2 => changed.time.0 = if header.time.0 == 0 { 1 } else { header.time.0 - 1 },
            3 => changed.parent = Some(BlockId(header.parent.map_or([7; 32], |p| { let mut b = p.0; b[0] ^= 1; b }))),
            4 => changed.tx_root.0[31] ^= 1,
            5 => changed.state_root.0[0] ^= 1,
            6 => changed.receipts_root.0[5] ^= 1,
            7 => changed.validators_hash.0[9] ^= 1,
            8 => changed.next_validators_hash.0[9] ^= 1,
            9 => changed.proposer.0[19] ^= 1,
            10 => changed.evidence_hash = match header.evidence_hash {
                None => Some(Hash([8; 32])),
                Some(h) if h.0[0] == 0 => None,
                Some(mut h) => { h.0[0] ^= 1; Some(h) }
            },
            _ => changed.execution.base_fee_per_gas ^= 1,
        }
        if changed.height.0 > 1 && changed.parent.is_none() {
            changed.parent = Some(BlockId([1; 32]));
        }
        prop_assert_ne!(changed.id().unwrap(), header.id().unwrap());
    }
}

fn sample() -> Header {
    Header {
        chain_id: ChainId(31337),
        height: Height(5),
        time: Timestamp::parse_rfc3339("2026-11-24T12:00:00.250Z").unwrap(),
        parent: Some(BlockId([1; 32])),
        tx_root: Hash([2; 32]),
        state_root: Hash([3; 32]),
        receipts_root: Hash([4; 32]),
        validators_hash: ValidatorSetHash([5; 32]),
        next_validators_hash: ValidatorSetHash([6; 32]),
        proposer: ValidatorAddress([7; 20]),
        execution: ExecutionFields {
            gas_used: 21_000,
            gas_limit: 30_000_000,
            base_fee_per_gas: 1_000_000_000,
            fee_recipient: gont_core::Address::repeat_byte(0xfe),
        },
        evidence_hash: Some(Hash([8; 32])),
        last_commit_hash: Some(Hash([9; 32])),
    }
}

#[test]
fn mapping_puts_each_field_in_its_tendermint_slot() {
    let h = sample();
    let tm = h.to_tendermint().unwrap();
    assert_eq!(tm.chain_id.as_str(), "gont-31337");
    assert_eq!(tm.height.value(), 5);
    assert_eq!(tm.time.to_rfc3339(), "2026-11-24T12:00:00.25Z");
    assert_eq!(tm.last_block_id.unwrap().hash.as_bytes(), &[1; 32]);
    assert_eq!(tm.data_hash.unwrap().as_bytes(), &[2; 32]);
    assert_eq!(tm.app_hash.as_bytes(), &[3; 32]);
    assert_eq!(tm.last_results_hash.unwrap().as_bytes(), &[4; 32]);
    assert_eq!(tm.validators_hash.as_bytes(), &[5; 32]);
    assert_eq!(tm.next_validators_hash.as_bytes(), &[6; 32]);
    assert_eq!(tm.consensus_hash.as_bytes(), h.execution.hash().as_bytes());
    assert_eq!(tm.proposer_address.as_bytes(), &[7; 20]);
    assert_eq!(tm.evidence_hash.unwrap().as_bytes(), &[8; 32]);
    assert_eq!(tm.last_commit_hash.unwrap().as_bytes(), &[9; 32]);
    let without = Header {
        evidence_hash: None,
        last_commit_hash: None,
        ..h
    };
    let tm = without.to_tendermint().unwrap();
    assert!(tm.evidence_hash.is_none());
    assert!(tm.last_commit_hash.is_none());
}

#[test]
fn execution_fields_must_match_the_committed_hash() {
    let h = sample();
    let tm = h.to_tendermint().unwrap();
    let mut other = h.execution;
    other.gas_used += 1;
    assert_eq!(
        Header::from_tendermint(&tm, other),
        Err(HeaderError::ExecutionMismatch)
    );
}

#[test]
fn parent_presence_must_match_height() {
    let mut h = sample();
    h.parent = None;
    assert_eq!(
        h.to_tendermint(),
        Err(HeaderError::Parent {
            height: 5,
            has_parent: false
        })
    );
    h.height = Height(1);
    h.to_tendermint().unwrap();
    h.parent = Some(BlockId([1; 32]));
    assert!(matches!(
        h.to_tendermint(),
        Err(HeaderError::Parent {
            has_parent: true,
            ..
        })
    ));
    h.height = Height(0);
    assert_eq!(h.to_tendermint(), Err(HeaderError::Height(0)));
}

#[test]
fn foreign_tendermint_headers_are_refused() {
    let h = sample();
    let mut tm = h.to_tendermint().unwrap();
    tm.chain_id = "cosmoshub-4".parse().unwrap();
    assert!(matches!(
        Header::from_tendermint(&tm, h.execution),
        Err(HeaderError::ChainId(_))
    ));
    let mut tm = h.to_tendermint().unwrap();
    tm.version.app = 7;
    assert_eq!(
        Header::from_tendermint(&tm, h.execution),
        Err(HeaderError::Field("version"))
    );
    let mut tm = h.to_tendermint().unwrap();
    tm.time = tendermint::Time::from_unix_timestamp(1_700_000_000, 1).unwrap();
    assert_eq!(
        Header::from_tendermint(&tm, h.execution),
        Err(HeaderError::TimePrecision)
    );
}
