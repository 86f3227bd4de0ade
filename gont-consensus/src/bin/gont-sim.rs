//! `gont-sim`: runs the consensus simulation for one seed, a range of
//! seeds, or the benchmark.
//!
//! ```text
//! gont-sim --seed N            one seed, printing its report
//! gont-sim --seeds A..B        every seed in A..B, failing on any violation
//! gont-sim --bench             decisions/s and latency for 4, 16, 64 validators,
//!                               and for 4 with full 4 MiB blocks
//! ```

use std::process::ExitCode;

use gont_consensus::sim::{self, SimConfig};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter().map(String::as_str);
    match (it.next(), it.next()) {
        (Some("--seed"), Some(n)) => match n.parse::<u64>() {
            Ok(seed) => run_seeds(seed..seed + 1, true),
            Err(e) => usage(&format!("bad seed {n:?}: {e}")),
        },
        (Some("--seeds"), Some(range)) => {
            let parsed = range
                .split_once("..")
                .and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?)));
            match parsed {
                Some((a, b)) => run_seeds(a..b, false),
                None => usage(&format!("bad range {range:?}, expected A..B")),
            }
        }
        (Some("--bench"), None) => {
            bench();
            ExitCode::SUCCESS
        }
        _ => usage("no command"),
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("gont-sim: {problem}\nusage: gont-sim --seed N | --seeds A..B | --bench");
    ExitCode::FAILURE
}

fn run_seeds(seeds: std::ops::Range<u64>, verbose: bool) -> ExitCode {
    let mut failed = 0;
    let mut heights = 0;
    let mut slowest = 0;
    let mut changes = 0;
    let mut violations = 0;
    let mut held = 0;
    let count = seeds.end.saturating_sub(seeds.start);
    for seed in seeds {
        let cfg = SimConfig::for_seed(seed);
        let report = sim::run(&cfg);
        heights += report.heights_decided;
        slowest = slowest.max(report.slowest_height_ms);
        changes += report.set_changes;
        violations += report.violations.len();
        held = held.max(report.max_held_bytes);
        if verbose || !report.violations.is_empty() {
            println!(
                "seed {seed}: mix {:?}, {} validators, gst {} ms, epochs {:?}: {} heights ({} set changes), slowest {} ms, {} messages, {} evidence, {} KiB of peers' streams held at most, end {} ms",
                cfg.mix,
                cfg.validators,
                cfg.gst_ms,
                cfg.epoch_length,
                report.heights_decided,
                report.set_changes,
                report.slowest_height_ms,
                report.messages,
                report.evidence,
                report.max_held_bytes / 1024,
                report.virtual_ms,
            );
        }
        if !report.violations.is_empty() {
            failed += 1;
            println!("seed {seed} FAILED: {:?}", report.violations);
            if verbose {
                for line in &report.final_states {
                    println!("  {line}");
                }
            }
        }
    }
    println!(
        "{count} seeds, {heights} heights decided across {changes} validator-set changes, \
         slowest height {slowest} ms (virtual), {violations} violations, {failed} failed; \
         the most bytes of peers' proposal streams one node's driver held: {} KiB (bound {} KiB)",
        held / 1024,
        sim::held_bytes_bound() / 1024
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn bench() {
    println!(
        "| validators | block | heights | decisions/s (wall) | latency virtual (ms) | latency wall (ms) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    let full = Some(4 * 1024 * 1024);
    for (n, heights, block_bytes) in [
        (4, 200, None),
        (16, 50, None),
        (64, 10, None),
        (4, 20, full),
    ] {
        let row = sim::bench(n, heights, block_bytes);
        let block = row
            .block_bytes
            .map_or_else(|| "1 tx".to_owned(), |b| format!("{} MiB", b >> 20));
        println!(
            "| {} | {block} | {} | {:.1} | {:.1} | {:.2} |",
            row.validators,
            row.heights,
            row.decisions_per_sec,
            row.virtual_latency_ms,
            row.wall_latency_ms
        );
    }
}
