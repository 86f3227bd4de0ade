//! The context's pure parts: proposer fairness, sign bytes, the codec,
//! evidence and epoch-bounded validator-set changes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use gont_consensus::codec::BorshCodec;
use gont_consensus::context::proposer_index;
use gont_consensus::epoch::{EpochError, PowerChange, ValidatorSchedule};
use gont_consensus::evidence::{EvidenceDetector, SignedVote};
use gont_consensus::signing::sign_vote;
use gont_consensus::{Address, GontContext, Height, PrivateKey, ValidatorSet, ValueId, Vote};
use gont_core::{
    BlockId, ChainId, ConsensusParams, Evidence, EvidenceError, Timestamp, Validator, VotingPower,
};
use malachitebft_codec::Codec;
use malachitebft_core_types::{NilOrVal, Round, SignedMessage, VoteType};

fn key(i: u8) -> PrivateKey {
    PrivateKey::from_seed([i; 32])
}

fn member(i: u8, power: u64) -> Validator {
    Validator {
        consensus_key: key(i).public_key(),
        operator: gont_core::Address::repeat_byte(i),
        power: VotingPower(power),
    }
}

fn set(powers: &[u64]) -> ValidatorSet {
    ValidatorSet::new(
        gont_core::ValidatorSet::new(
            powers
                .iter()
                .enumerate()
                .map(|(i, p)| member(u8::try_from(i + 1).unwrap(), *p))
                .collect(),
        )
        .unwrap(),
    )
}

fn ctx() -> GontContext {
    GontContext::new(ChainId(9), ConsensusParams::default()).unwrap()
}

#[test]
fn proposer_share_matches_stake() {
    let powers = [50, 25, 15, 7, 3];
    let s = set(&powers);
    let mut counts = vec![0u64; powers.len()];
    let samples = 40_000u64;
    for i in 0..samples {
        let (h, r) = (1 + i / 4, u32::try_from(i % 4).unwrap());
        counts[proposer_index(s.core(), h, r)] += 1;
    }
    for (v, count) in s.core().validators().iter().zip(&counts) {
        let share = *count as f64 / samples as f64;
        let stake = v.power.0 as f64 / 100.0;
        assert!(
            (share - stake).abs() < 0.01,
            "power {} proposed {share}",
            v.power.0
        );
    }
    // Deterministic and a function of the set, height and round only.
    assert_eq!(
        proposer_index(s.core(), 7, 2),
        proposer_index(set(&powers).core(), 7, 2)
    );
}

#[test]
fn vote_sign_bytes_are_tendermint_canonical_votes() {
    let c = ctx();
    let id = ValueId {
        block: BlockId([7; 32]),
        time: Timestamp(1_700_000_000_123),
    };
    let k = key(1);
    let address = Address(k.public_key().address());
    let vote = Vote::new(
        VoteType::Precommit,
        Height(5),
        Round::new(2),
        NilOrVal::Val(id),
        address,
    );
    let sig = sign_vote(&c, &k, &vote);
    let tm = tendermint::vote::Vote {
        vote_type: tendermint::vote::Type::Precommit,
        height: 5u32.into(),
        round: 2u16.into(),
        block_id: Some(tendermint::block::Id {
            hash: tendermint::Hash::Sha256([7; 32]),
            part_set_header: Default::default(),
        }),
        timestamp: Some(tendermint::Time::from_unix_timestamp(1_700_000_000, 123_000_000).unwrap()),
        validator_address: tendermint::account::Id::new(address.0.0),
        validator_index: 0u32.try_into().unwrap(),
        signature: None,
        extension: vec![],
        extension_signature: None,
    };
    let bytes = tm.into_signable_vec(c.tendermint_chain_id().clone());
    assert!(k.public_key().verify(&bytes, &sig.0));
}

#[test]
fn codec_round_trips_and_refuses_trailing_bytes() {
    let c = ctx();
    let k = key(1);
    let vote = Vote::new(
        VoteType::Prevote,
        Height(3),
        Round::new(0),
        NilOrVal::Nil,
        Address(k.public_key().address()),
    );
    let signed = SignedMessage::<GontContext, Vote>::new(vote.clone(), sign_vote(&c, &k, &vote));
    let bytes = Codec::<SignedMessage<GontContext, Vote>>::encode(&BorshCodec, &signed).unwrap();
    let back: SignedMessage<GontContext, Vote> = BorshCodec.decode(bytes.clone()).unwrap();
    assert_eq!(back, signed);
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert!(Codec::<SignedMessage<GontContext, Vote>>::decode(&BorshCodec, longer.into()).is_err());
}

fn signed(c: &GontContext, k: &PrivateKey, vote: Vote) -> SignedVote {
    SignedVote {
        signature: sign_vote(c, k, &vote),
        vote,
    }
}

#[test]
fn double_votes_are_detected_encoded_and_verified() {
    let c = ctx();
    let s = set(&[10, 10, 10, 10]);
    let k = key(2);
    let address = Address(k.public_key().address());
    let id = |b| {
        NilOrVal::Val(ValueId {
            block: BlockId([b; 32]),
            time: Timestamp(1_000),
        })
    };
    let a = Vote::new(VoteType::Prevote, Height(4), Round::new(1), id(1), address);
    let b = Vote::new(VoteType::Prevote, Height(4), Round::new(1), id(2), address);
    let mut detector = EvidenceDetector::new(&c);
    assert!(detector.observe(signed(&c, &k, a.clone()), &s).is_none());
    assert!(
        detector.observe(signed(&c, &k, a.clone()), &s).is_none(),
        "a repeated vote is no conflict"
    );
    // The same vote in another round or step is no conflict either.
    let other_round = Vote {
        round: Round::new(2),
        ..b.clone()
    };
    assert!(detector.observe(signed(&c, &k, other_round), &s).is_none());
    let evidence = detector.observe(signed(&c, &k, b.clone()), &s).unwrap();
    assert!(
        detector.observe(signed(&c, &k, b.clone()), &s).is_none(),
        "one slot is reported once"
    );
    let bytes = borsh::to_vec(&evidence).unwrap();
    let decoded: Evidence = borsh::from_slice(&bytes).unwrap();
    let offender = decoded.verify(c.chain_id(), s.core()).unwrap();
    assert_eq!(offender.address(), address.0);
    assert_eq!(decoded.height(), gont_core::Height(4));
    // Another chain's validators cannot be framed with it.
    assert_eq!(
        decoded.verify(ChainId(10), s.core()),
        Err(EvidenceError::BadSignature)
    );
    // A validator outside the set.
    assert!(matches!(
        decoded.verify(c.chain_id(), set(&[10]).core()),
        Err(EvidenceError::NotInSet(_))
    ));
    // Votes of a validator outside the set are not even remembered.
    let mut detector = EvidenceDetector::new(&c);
    let outsider = key(9);
    let o = Address(outsider.public_key().address());
    for vote in [&a, &b] {
        let vote = Vote {
            validator_address: o,
            ..vote.clone()
        };
        assert!(detector.observe(signed(&c, &outsider, vote), &s).is_none());
    }
}

#[test]
fn a_forged_first_vote_does_not_mask_a_double_sign() {
    let c = ctx();
    let s = set(&[10, 10, 10, 10]);
    let k = key(2);
    let address = Address(k.public_key().address());
    let vote = |b: u8| {
        let value = if b == 0 {
            NilOrVal::Nil
        } else {
            NilOrVal::Val(ValueId {
                block: BlockId([b; 32]),
                time: Timestamp(1_000),
            })
        };
        Vote::new(
            VoteType::Precommit,
            Height(4),
            Round::new(0),
            value,
            address,
        )
    };
    let mut detector = EvidenceDetector::new(&c);
    // A peer sends a vote in the validator's name, signed by another key.
    let forged = SignedVote {
        signature: sign_vote(&c, &key(3), &vote(7)),
        vote: vote(7),
    };
    assert!(detector.observe(forged, &s).is_none());
    // The validator's real vote conflicts with the forgery: no evidence,
    // but the real vote takes the slot.
    assert!(detector.observe(signed(&c, &k, vote(1)), &s).is_none());
    // Its second, conflicting vote is evidence.
    let evidence = detector.observe(signed(&c, &k, vote(0)), &s).unwrap();
    assert!(evidence.verify(c.chain_id(), s.core()).is_ok());
    assert_eq!(detector.found(), [evidence]);
}

#[test]
fn validator_set_changes_take_effect_at_the_next_epoch_only() {
    let genesis = set(&[10, 10, 10, 10]);
    let mut schedule = ValidatorSchedule::new(genesis.clone(), 10).unwrap();
    // Addition decided at height 3: in force from 11, not before.
    assert_eq!(
        schedule
            .record(3, &[PowerChange::set(member(5, 20))])
            .unwrap(),
        11
    );
    // Power swap and a drop to zero in the same epoch.
    schedule
        .record(
            5,
            &[
                PowerChange::set(member(1, 1)),
                PowerChange::set(member(2, 30)),
            ],
        )
        .unwrap();
    schedule
        .record(7, &[PowerChange::set(member(3, 0))])
        .unwrap();
    // Removal decided in the last block of epoch 1: waits for epoch 3.
    assert_eq!(
        schedule
            .record(20, &[PowerChange::remove(key(4).public_key())])
            .unwrap(),
        31
    );
    for h in 1..=10 {
        assert_eq!(schedule.set_at(h), &genesis, "height {h}");
    }
    let second = schedule.set_at(11).clone();
    let powers: Vec<(u8, u64)> = second
        .core()
        .validators()
        .iter()
        .map(|v| {
            (
                (1..=5)
                    .find(|i| key(*i).public_key() == v.consensus_key)
                    .unwrap(),
                v.power.0,
            )
        })
        .collect();
    assert_eq!(powers, vec![(2, 30), (5, 20), (4, 10), (1, 1)]);
    for h in 11..=30 {
        assert_eq!(schedule.set_at(h), &second, "height {h}");
    }
    assert_eq!(schedule.set_at(31).core().len(), 3);
    // The set changes only at the first height of an epoch.
    for h in 2..=40 {
        if schedule.set_at(h) != schedule.set_at(h - 1) {
            assert_eq!((h - 1) % 10, 0, "changed at height {h}");
        }
    }
    // Out of order, and emptying the set, are refused.
    assert!(matches!(
        schedule.record(19, &[]),
        Err(EpochError::OutOfOrder { .. })
    ));
    let everyone: Vec<_> = (1..=5)
        .map(|i| PowerChange::remove(key(i).public_key()))
        .collect();
    assert!(matches!(
        schedule.record(21, &everyone),
        Err(EpochError::Set(_))
    ));
}
