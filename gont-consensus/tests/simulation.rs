//! The deterministic consensus simulation over many seeds and every fault
//! mix; a failing seed is printed and replays with `cargo xtask sim --seed N`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use gont_consensus::sim::{self, CrashPlan, FaultMix, SimConfig, Step};

const SEEDS: u64 = 320;

#[test]
fn agreement_validity_and_liveness_hold_over_many_seeds() {
    let next = AtomicU64::new(0);
    let failures = Mutex::new(Vec::new());
    let totals = Mutex::new((0u64, 0u64, 0usize));
    // Runs with changing sets: runs, heights decided, set changes crossed.
    let epochs = Mutex::new((0u64, 0u64, 0u64));
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(4);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= SEEDS {
                        break;
                    }
                    let report = sim::run(&SimConfig::for_seed(seed));
                    let mut t = totals.lock().unwrap();
                    t.0 += report.heights_decided;
                    t.1 = t.1.max(report.slowest_height_ms);
                    t.2 += report.evidence;
                    if report.config.epoch_length.is_some() {
                        let mut e = epochs.lock().unwrap();
                        e.0 += 1;
                        e.1 += report.heights_decided;
                        e.2 += report.set_changes;
                    }
                    if !report.violations.is_empty() {
                        failures
                            .lock()
                            .unwrap()
                            .push((seed, report.config.mix, report.violations));
                    }
                }
            });
        }
    });
    let (heights, slowest, evidence) = *totals.lock().unwrap();
    println!(
        "{SEEDS} seeds: {heights} heights decided, slowest height {slowest} ms virtual, \
         {evidence} double votes caught"
    );
    let (runs, epoch_heights, changes) = *epochs.lock().unwrap();
    println!(
        "{runs} of them with epochs: {epoch_heights} heights decided across {changes} \
         validator-set changes"
    );
    assert!(runs > 0 && changes > 0, "no run changed its validator set");
    let failures = failures.into_inner().unwrap();
    for (seed, mix, v) in &failures {
        println!("seed {seed} ({mix:?}) failed: {v:?}; replay: cargo xtask sim --seed {seed}");
    }
    assert!(failures.is_empty(), "{} seeds failed", failures.len());
}

#[test]
fn a_seed_replays_identically() {
    for seed in [3, 6, 17] {
        let a = sim::run(&SimConfig::for_seed(seed));
        let b = sim::run(&SimConfig::for_seed(seed));
        assert_eq!(a.decided_at_ms, b.decided_at_ms);
        assert_eq!(a.messages, b.messages);
        assert_eq!(
            a.chain
                .iter()
                .map(|(d, _)| d.commit.block_id)
                .collect::<Vec<_>>(),
            b.chain
                .iter()
                .map(|(d, _)| d.commit.block_id)
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn equivocation_is_caught_as_evidence() {
    let mut caught = 0;
    for report in clean_runs(FaultMix::Equivocators, 25) {
        caught += report.evidence;
    }
    assert!(caught > 0);
}

#[test]
fn a_validator_crashing_after_each_step_resumes_without_double_signing() {
    for step in [Step::Propose, Step::Prevote, Step::Precommit, Step::Commit] {
        let mut crashes = 0;
        for node in 0..4 {
            let cfg = SimConfig {
                seed: 100 + node as u64,
                validators: 4,
                mix: FaultMix::Clean,
                heights: 5,
                gst_ms: 0,
                max_delay_ms: 5,
                liveness_bound_ms: 30_000,
                equal_power: true,
                crash_plans: (1..=3)
                    .map(|height| CrashPlan {
                        node,
                        height,
                        step,
                        downtime_ms: 50,
                    })
                    .collect(),
                epoch_length: None,
                block_bytes: None,
            };
            let report = sim::run(&cfg);
            assert!(
                report.violations.is_empty(),
                "{step:?} node {node}: {:?}",
                report.violations
            );
            assert!(report.heights_decided >= 5);
            crashes += report.crashes;
        }
        assert!(crashes > 0, "no validator crashed after {step:?}");
    }
}

#[test]
fn a_flood_of_proposal_parts_and_of_values_per_round_stays_within_the_drivers_budgets() {
    // Byzantine validators stream several signed blocks in each round they
    // propose and flood every peer with parts under fresh identities and
    // keys and for later heights and rounds: the honest drivers decide and
    // hold no more of peers' streams than their budgets.
    let mut held = 0;
    for report in clean_runs(FaultMix::Flood, 20) {
        held = held.max(report.max_held_bytes);
    }
    println!(
        "flood: at most {} KiB of peers' streams held (bound {} KiB)",
        held / 1024,
        sim::held_bytes_bound() / 1024
    );
    assert!(held > 0, "the flood never reached a driver's buffers");
}

#[test]
fn validators_whose_clocks_run_ahead_do_not_stop_the_chain() {
    assert_eq!(clean_runs(FaultMix::Skew, 20).len(), 20);
}

/// The first `count` seeds of `mix`, each run and checked for violations.
fn clean_runs(mix: FaultMix, count: usize) -> Vec<sim::SimReport> {
    let first = FaultMix::ALL.iter().position(|m| *m == mix).unwrap() as u64;
    (0..count as u64)
        .map(|k| {
            let seed = first + k * FaultMix::ALL.len() as u64;
            let report = sim::run(&SimConfig::for_seed(seed));
            assert_eq!(report.config.mix, mix);
            assert!(
                report.violations.is_empty(),
                "seed {seed}: {:?}",
                report.violations
            );
            report
        })
        .collect()
}
