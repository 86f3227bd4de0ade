//! `cargo xtask fuzz [TARGET…] [--time S] [--runs N]`: the libFuzzer
//! targets of `fuzz/` under cargo-fuzz, each from its committed corpus
//! (`fuzz/corpus/<target>/`, which grows with what the run finds), then a
//! table of executions, time and corpus size per target. A crash stops
//! the run with the input saved in `fuzz/artifacts/<target>/`; commit it
//! to the corpus with the fix, and the crates' replay tests keep it fixed.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::workspace_root;

/// Every target, as `fuzz/Cargo.toml` names its binaries.
pub(crate) const TARGETS: [&str; 7] = [
    "consensus_message",
    "proposal_parts",
    "gossip",
    "raw_transaction",
    "genesis",
    "config",
    "json_rpc",
];

const USAGE: &str =
    "usage: cargo xtask fuzz [TARGET…] [--time SECONDS] [--runs N] [--sanitizer address]";

/// What one target's run did.
struct Ran {
    target: &'static str,
    runs: u64,
    seconds: f64,
    corpus: usize,
}

pub(crate) fn run(args: &[String]) -> Result<()> {
    let mut targets = Vec::new();
    let mut time = None;
    let mut runs = None;
    let mut sanitizer = "none".to_owned();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut value = |what: &str| {
            rest.next()
                .cloned()
                .with_context(|| format!("{arg} needs {what}; {USAGE}"))
        };
        match arg.as_str() {
            "--time" => time = Some(value("seconds")?.parse::<u64>().context("--time")?),
            "--runs" => runs = Some(value("a count")?.parse::<u64>().context("--runs")?),
            "--sanitizer" => sanitizer = value("a sanitizer")?,
            name => match TARGETS.iter().find(|t| **t == name) {
                Some(target) => targets.push(*target),
                None => bail!(
                    "no fuzz target {name:?}; targets: {}\n{USAGE}",
                    TARGETS.join(", ")
                ),
            },
        }
    }
    if targets.is_empty() {
        targets = TARGETS.to_vec();
    }
    if time.is_none() && runs.is_none() {
        time = Some(60);
    }
    let root = workspace_root()?;
    let fuzz_ok = Command::new("cargo")
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !fuzz_ok {
        bail!("cargo-fuzz is not installed: `cargo install cargo-fuzz --locked`");
    }
    let target_dir = root.join("target/fuzz").to_string_lossy().into_owned();
    // `cargo +nightly fuzz COMMAND` with this run's options.
    let cargo_fuzz = |command: &str| -> Vec<String> {
        [
            "+nightly",
            "fuzz",
            command,
            "--fuzz-dir",
            "fuzz",
            "--sanitizer",
            &sanitizer,
            "--target-dir",
            &target_dir,
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let build = cargo_fuzz("build");
    eprintln!("$ cargo {}", build.join(" "));
    let built = Command::new("cargo")
        .args(&build)
        .current_dir(&root)
        .status()?;
    if !built.success() {
        bail!("building the fuzz targets failed ({built})");
    }
    let mut done = Vec::new();
    for target in targets {
        let corpus = root.join("fuzz/corpus").join(target);
        std::fs::create_dir_all(&corpus)?;
        let mut libfuzzer = vec!["-print_final_stats=1".to_owned()];
        if let Some(time) = time {
            libfuzzer.push(format!("-max_total_time={time}"));
        }
        if let Some(runs) = runs {
            libfuzzer.push(format!("-runs={runs}"));
        }
        let corpus_arg = corpus.to_string_lossy().into_owned();
        let mut cargo_args = cargo_fuzz("run");
        cargo_args.extend([target.to_owned(), corpus_arg, "--".to_owned()]);
        cargo_args.extend(libfuzzer);
        eprintln!("$ cargo {}", cargo_args.join(" "));
        let started = Instant::now();
        let mut child = Command::new("cargo")
            .args(&cargo_args)
            .current_dir(&root)
            .stderr(Stdio::piped())
            .spawn()
            .context("starting cargo fuzz")?;
        let mut executions = None;
        if let Some(stderr) = child.stderr.take() {
            for line in BufReader::new(stderr).lines() {
                let line = line?;
                // libFuzzer's final statistics: `stat::number_of_executed_units: N`.
                if let Some(n) = line.strip_prefix("stat::number_of_executed_units:") {
                    executions = n.trim().parse::<u64>().ok();
                }
                eprintln!("{line}");
            }
        }
        let status = child.wait()?;
        if !status.success() {
            bail!(
                "fuzz target {target} failed ({status}): the input is in fuzz/artifacts/{target}/"
            );
        }
        done.push(Ran {
            target,
            runs: executions.context("libFuzzer printed no final statistics")?,
            seconds: started.elapsed().as_secs_f64(),
            corpus: std::fs::read_dir(&corpus)?.count(),
        });
    }
    println!(
        "\n{:<20} {:>14} {:>10} {:>8}",
        "target", "executions", "seconds", "corpus"
    );
    for ran in &done {
        println!(
            "{:<20} {:>14} {:>10.0} {:>8}",
            ran.target, ran.runs, ran.seconds, ran.corpus
        );
    }
    println!("crashes: 0");
    Ok(())
}
