//! Commits produced by real (simulated) consensus runs verify with
//! tendermint-rs's light-client verifier, and tampered ones do not.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::time::Duration;

use gont_consensus::ValidatorSet;
use gont_consensus::sim::{self, FaultMix, SimConfig};
use gont_core::light::signed_header as to_signed_header;
use gont_core::{CommitSig, DecidedBlock, Hash};
use tendermint::block::signed_header::SignedHeader;
use tendermint_light_client_verifier::options::Options;
use tendermint_light_client_verifier::types::{
    TrustThreshold, TrustedBlockState, UntrustedBlockState,
};
use tendermint_light_client_verifier::{ProdVerifier, Verdict, Verifier};

fn chain(validators: usize, equal_power: bool, seed: u64) -> Vec<(DecidedBlock, ValidatorSet)> {
    let cfg = SimConfig {
        seed,
        validators,
        mix: FaultMix::Lossy,
        heights: 4,
        gst_ms: 1_000,
        max_delay_ms: 20,
        liveness_bound_ms: 30_000,
        equal_power,
        crash_plans: Vec::new(),
        epoch_length: None,
        block_bytes: None,
    };
    let report = sim::run(&cfg);
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert!(report.chain.len() >= 4);
    report.chain
}

fn options() -> Options {
    Options {
        trust_threshold: TrustThreshold::ONE_THIRD,
        trusting_period: Duration::from_secs(14 * 24 * 3600),
        clock_drift: Duration::from_secs(10),
    }
}

fn tm_time(block: &DecidedBlock, plus_secs: u64) -> tendermint::Time {
    let ms = block.block.header.time.as_millis() + plus_secs * 1000;
    tendermint::Time::from_unix_timestamp(i64::try_from(ms / 1000).unwrap(), 0).unwrap()
}

/// Verifies `untrusted` (with `set` claimed as its validators) from trusted block `trusted`.
fn verify(
    trusted: &DecidedBlock,
    trusted_set: &ValidatorSet,
    untrusted: &SignedHeader,
    set: &tendermint::validator::Set,
    now: tendermint::Time,
) -> Verdict {
    let trusted_header = trusted.block.header.to_tendermint().unwrap();
    let next = trusted_set.core().to_tendermint();
    let chain_id = trusted_header.chain_id.clone();
    ProdVerifier::default().verify_update_header(
        UntrustedBlockState {
            signed_header: untrusted,
            validators: set,
            next_validators: None,
        },
        TrustedBlockState {
            chain_id: &chain_id,
            header_time: trusted_header.time,
            height: trusted_header.height,
            next_validators: &next,
            next_validators_hash: trusted_header.next_validators_hash,
        },
        &options(),
        now,
    )
}

#[test]
fn real_commits_verify_adjacent_and_skipping() {
    for (n, equal, seed) in [(4, true, 11), (7, false, 12), (10, false, 13)] {
        let chain = chain(n, equal, seed);
        let (first, set) = &chain[0];
        for (target, target_set) in &chain[1..] {
            let sh = to_signed_header(&target.block.header, &target.commit).unwrap();
            let verdict = verify(
                first,
                set,
                &sh,
                &target_set.core().to_tendermint(),
                tm_time(target, 5),
            );
            assert_eq!(
                verdict,
                Verdict::Success,
                "n {n} height {}",
                target.block.header.height
            );
        }
    }
}

#[test]
fn tampered_commits_are_rejected() {
    let chain = chain(7, false, 21);
    let (trusted, set) = &chain[0];
    let (target, target_set) = &chain[2];
    let tm_set = target_set.core().to_tendermint();
    let now = tm_time(target, 5);
    let ok = |d: &DecidedBlock| to_signed_header(&d.block.header, &d.commit).unwrap();
    assert_eq!(
        verify(trusted, set, &ok(target), &tm_set, now),
        Verdict::Success
    );

    // Signatures of no more than 2/3 of the power.
    let mut weak = target.clone();
    let total = target_set.core().total_power().0;
    let mut signed: u64 = target_set
        .core()
        .validators()
        .iter()
        .zip(&weak.commit.signatures)
        .filter(|(_, s)| matches!(s, CommitSig::ForBlock { .. }))
        .map(|(v, _)| v.power.0)
        .sum();
    for (v, s) in target_set
        .core()
        .validators()
        .iter()
        .zip(weak.commit.signatures.iter_mut())
    {
        if signed * 3 <= total * 2 {
            break;
        }
        if matches!(s, CommitSig::ForBlock { .. }) {
            *s = CommitSig::Absent;
            signed -= v.power.0;
        }
    }
    assert!(!matches!(
        verify(trusted, set, &ok(&weak), &tm_set, now),
        Verdict::Success
    ));

    // One forged signature.
    let mut forged = target.clone();
    let slot = forged
        .commit
        .signatures
        .iter_mut()
        .find(|s| matches!(s, CommitSig::ForBlock { .. }))
        .unwrap();
    if let CommitSig::ForBlock { signature, .. } = slot {
        signature.0[0] ^= 1;
    }
    assert!(!matches!(
        verify(trusted, set, &ok(&forged), &tm_set, now),
        Verdict::Success
    ));

    // A header field altered after signing (the commit still names the old
    // block id, so the header must be converted with the commit as is).
    let mut altered = ok(target);
    let mut header = target.block.header.clone();
    header.state_root = Hash([9; 32]);
    let tm_header = header.to_tendermint().unwrap();
    altered = SignedHeader::new(tm_header, altered.commit.clone()).unwrap();
    assert!(!matches!(
        verify(trusted, set, &altered, &tm_set, now),
        Verdict::Success
    ));

    // A validator set that does not match the header's hash.
    let mut other = target_set.core().validators().to_vec();
    other[0].power.0 += 1;
    let other = gont_core::ValidatorSet::new(other).unwrap().to_tendermint();
    assert!(!matches!(
        verify(trusted, set, &ok(target), &other, now),
        Verdict::Success
    ));

    // The trusted state is outside the trusting period.
    let late = tm_time(trusted, 15 * 24 * 3600);
    assert!(!matches!(
        verify(trusted, set, &ok(target), &tm_set, late),
        Verdict::Success
    ));
}

fn light_block_of(block: &DecidedBlock, set: &ValidatorSet) -> gont_core::light::LightBlock {
    gont_core::light::light_block(&block.block.header, &block.commit, set.core(), set.core())
        .unwrap()
}

#[test]
fn the_light_client_trusts_a_block_by_hash_then_skips_ahead_and_refuses_going_back() {
    use gont_core::light::{self, LightClient, LightError, TrustOptions};

    let chain = chain(7, false, 31);
    let (first, set) = &chain[0];
    let (last, last_set) = chain.last().unwrap();
    let first_block = light_block_of(first, set);
    let id = first.block.header.id().unwrap();
    assert_eq!(light::block_id(&first_block), id);

    let wrong = gont_core::BlockId([7; 32]);
    let err = LightClient::from_trusted_block(first_block.clone(), wrong, TrustOptions::default())
        .unwrap_err();
    assert!(matches!(err, LightError::WrongHash { .. }), "{err}");

    let mut lc =
        LightClient::from_trusted_block(first_block.clone(), id, TrustOptions::default()).unwrap();
    let now = last.block.header.time;
    let target = last.block.header.height.0;
    let reached = lc
        .advance_to(target, now, |_| {
            Ok::<_, String>(light_block_of(last, last_set))
        })
        .unwrap();
    assert_eq!(
        light::state_root(reached),
        Some(last.block.header.state_root)
    );
    assert_eq!(lc.height(), target);

    let err = lc.update(first_block, now).unwrap_err();
    assert!(matches!(err, LightError::NotAbove { .. }), "{err}");

    // A source that answers with another height than asked is refused.
    let mut lc =
        LightClient::from_trusted_block(light_block_of(first, set), id, TrustOptions::default())
            .unwrap();
    let err = lc
        .advance_to(target + 1, now, |_| {
            Ok::<_, String>(light_block_of(last, last_set))
        })
        .unwrap_err();
    assert!(matches!(err, LightError::Fetch { .. }), "{err}");
}

#[test]
fn a_light_client_trusting_the_genesis_verifies_block_one_and_each_next() {
    use gont_core::light::{LightClient, TrustOptions};

    let chain = chain(4, true, 5);
    let (first, set) = &chain[0];
    let genesis_time = gont_core::Timestamp(first.block.header.time.as_millis() - 1_000);
    let mut lc = LightClient::from_genesis(
        first.block.header.chain_id,
        genesis_time,
        set.core(),
        TrustOptions::default(),
    )
    .unwrap();
    for (block, set) in &chain {
        let now = block.block.header.time;
        lc.update(light_block_of(block, set), now).unwrap();
        assert_eq!(lc.height(), block.block.header.height.0);
    }
}
