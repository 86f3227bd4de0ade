//! `cargo xtask`: the project's automation, as Rust so that it runs the same
//! on every machine (no shell scripts, no Makefile).
//!
//! ```text
//! cargo xtask ci        format, lint, docs and every test, as CI runs them
//! cargo xtask acceptance the client suites against a devnet
//! cargo xtask dist      release binaries of each placement variant into dist/
//! cargo xtask examples  every crate's example, checked against its README
//! cargo xtask package   every library crate packaged as `cargo publish` would
//! cargo xtask semver    every library crate's API against the last tag's
//! cargo xtask statetest PATH, txtest PATH, sim, bench …
//! cargo xtask bench net gossip throughput and latency among 4 local nodes
//! cargo xtask bench devnet  load benchmark of a 4-validator devnet
//! cargo xtask chaos     kill -9, pauses and partitions of a devnet under load
//! cargo xtask fuzz      the libFuzzer targets of fuzz/
//! ```

mod acceptance;
mod ci;
mod devnet;
mod dist;
mod examples;
mod fuzz;
mod package;
mod semver;
#[cfg(test)]
mod tidy;

use std::collections::BTreeMap;
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};

use crate::devnet::Devnet;

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  ci                 cargo fmt --check, clippy -D warnings, rustdoc -D warnings,
                     doctests, the acceptance suites against a devnet,
                     the patched third-party crates' tests, the crates'
                     examples against their READMEs, and
                     cargo nextest run --workspace (with the tidy rules)
  acceptance         the client suites (ethers.js, viem, web3.py) against a
                     devnet of the test build and against gont vm rpc
  dist               build each placement variant of gont-node (release) into dist/
  examples           run each library crate's example and check that it prints
                     what the crate's README says it prints
  package [--no-verify]
                     cargo package of every library crate (from a copy of the
                     workspace without `publish = false`), with their sizes;
                     --no-verify skips building each package
  semver [--baseline REV]
                     cargo-semver-checks of every library crate against the
                     last release tag (none yet) or the commit REV
  statetest PATH     run Ethereum GeneralStateTests under PATH through gont-vm
  txtest PATH        run Ethereum TransactionTests under PATH through gont-vm
  sim --seed N       replay one seed of the consensus simulation (or --seeds A..B)
  bench exec [N]     gont-vm end to end against bare revm and the limit row, N transactions a block
  bench consensus    decisions per second and latency for 4, 16 and 64 validators,
                     and for 4 with full 4 MiB blocks (not executed)
  bench net [--quick]
                     gossip throughput and latency among 4 local nodes (release)
  bench devnet [--quick] [--block-time-ms N] [--rates LIST] [--step-secs N]
                     signed transfers at rising rates into a 4-validator devnet
                     (release): included tx/s, p50/p99 latency, block interval,
                     CPU and peak RSS; --quick runs two short steps (unless
                     --rates or --step-secs are given),
                     --block-time-ms sets every chain's target block time
  chaos [--minutes N]
                     4 validators in network namespaces under load, killed,
                     paused and partitioned in turn for N minutes (10); checks
                     agreement, lost transactions and stalls (root, iproute2)
  devnet [ARGS]      the node's local devnet (release), as `gont devnet ARGS`
  fuzz [TARGET…] [--time S] [--runs N] [--sanitizer address]
                     the libFuzzer targets of fuzz/ from their corpora (60 s
                     each by default; cargo-fuzz and the nightly toolchain)
  help               this text";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    let Some((command, rest)) = args.split_first() else {
        println!("{USAGE}");
        bail!("no command given");
    };
    match command.as_str() {
        "ci" => ci::run(rest),
        "acceptance" if rest.is_empty() => acceptance::run(),
        "acceptance" => bail!("`cargo xtask acceptance` takes no arguments"),
        "dist" => dist::run(rest),
        "examples" => examples::run(rest),
        "package" => package::run(rest),
        "semver" => semver::run(rest),
        "devnet" => devnet(rest),
        "chaos" => chaos(rest),
        "fuzz" => fuzz::run(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        "statetest" | "txtest" => conformance(command, rest),
        "sim" => sim(rest),
        "bench" => match rest.first().map(String::as_str) {
            Some("exec") => bench_exec(rest.get(1..).unwrap_or_default()),
            Some("consensus") => gont_sim(&["--bench"]),
            Some("net") => bench_net(rest.get(1..).unwrap_or_default()),
            Some("devnet") => bench_devnet(rest.get(1..).unwrap_or_default()),
            _ => bail!("usage: cargo xtask bench <exec|consensus|net|devnet>"),
        },
        other => {
            println!("{USAGE}");
            bail!("unknown command {other:?}")
        }
    }
}

/// Gossip throughput and latency among four local nodes: the release
/// binary `gont-net-bench` prints the table. `--quick` runs fewer messages.
fn bench_net(args: &[String]) -> Result<()> {
    let mut cargo = vec![
        "run",
        "--release",
        "--package",
        "gont-net",
        "--features",
        "bench",
        "--bin",
        "gont-net-bench",
        "--",
    ];
    cargo.extend(args.iter().map(String::as_str));
    cmd("cargo", &cargo, &[])
}

/// GONT Space's JSON-RPC port of the benchmark devnet, away from the
/// default devnet's ports so that both can run side by side.
const BENCH_RPC_PORT: &str = "28545";
/// The first p2p/consensus port of the benchmark devnet.
const BENCH_BASE_PORT: &str = "29000";
/// `cargo xtask devnet [ARGS]`: the node's `gont devnet` (release build),
/// with the same arguments.
fn devnet(args: &[String]) -> Result<()> {
    let mut full = vec![
        "run",
        "--release",
        "--locked",
        "-p",
        "gont-node",
        "--bin",
        "gont",
        "--",
        "devnet",
    ];
    full.extend(args.iter().map(String::as_str));
    cmd("cargo", &full, &[])
}

/// `cargo xtask bench devnet [--quick] [--block-time-ms N] [--rates LIST]
/// [--step-secs N]`: builds the release binaries, starts a 4-validator
/// devnet in a temporary directory (with `--block-time-ms` as every
/// chain's target block time), runs `gont-loadgen` against it (which
/// prints the table; `--rates` and `--step-secs` are its own), then stops
/// the devnet and removes the directory, whether or not the load ran.
fn bench_devnet(args: &[String]) -> Result<()> {
    let (block_time_ms, load_args) = bench_devnet_args(args)?;
    cmd(
        "cargo",
        &["build", "--release", "-p", "gont-node", "--bins"],
        &[],
    )?;
    let root = workspace_root()?;
    let release = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), |dir| root.join(dir))
        .join("release");
    let dir = std::env::temp_dir().join(format!("gont-bench-devnet-{}", std::process::id()));

    let mut devnet_args = vec![
        "--services",
        "0",
        "--rpc-port",
        BENCH_RPC_PORT,
        "--base-port",
        BENCH_BASE_PORT,
    ];
    if let Some(ms) = block_time_ms {
        devnet_args.extend(["--block-time-ms", ms]);
    }
    let devnet = Devnet::start(&release.join("gont"), &dir, &devnet_args)?;
    let pids = dir.join("pids");
    let rpc = format!("127.0.0.1:{BENCH_RPC_PORT}");
    let mut load = vec![
        "--rpc",
        rpc.as_str(),
        "--pids-file",
        pids.to_str().context("temporary directory is not UTF-8")?,
    ];
    load.extend(load_args);
    let loadgen = release.join("gont-loadgen");
    let ran = cmd(
        loadgen.to_str().context("target directory is not UTF-8")?,
        &load,
        &[],
    );
    let stopped = devnet.stop();
    match (ran, stopped) {
        (Err(ran), Err(stop)) => {
            eprintln!("xtask: {stop:#}");
            Err(ran)
        }
        (ran, stopped) => ran.and(stopped),
    }
}

/// `cargo xtask bench devnet`'s arguments: the devnet's `--block-time-ms`,
/// and gont-loadgen's arguments (`--rates`, `--step-secs`, with `--quick`'s
/// two short steps where those are not given).
fn bench_devnet_args(args: &[String]) -> Result<(Option<&str>, Vec<&str>)> {
    const USAGE: &str = "usage: cargo xtask bench devnet [--quick] [--block-time-ms N] [--rates LIST] [--step-secs N]";
    let mut quick = false;
    // Each flag's value as given; a flag given twice keeps the last.
    let mut given: BTreeMap<&str, &str> = BTreeMap::new();
    let mut rest = args.iter().map(String::as_str);
    while let Some(flag) = rest.next() {
        match flag {
            "--quick" => quick = true,
            "--block-time-ms" | "--rates" | "--step-secs" => {
                let value = rest.next().context(USAGE)?;
                let numbers = value
                    .split(',')
                    .all(|n| n.parse::<u64>().is_ok_and(|n| n > 0));
                if !numbers || (flag != "--rates" && value.contains(',')) {
                    bail!("{flag} {value}: not a positive number\n{USAGE}");
                }
                given.insert(flag, value);
            }
            _ => bail!(USAGE),
        }
    }
    // `--quick`'s two short steps, unless the steps are given.
    if quick {
        given.entry("--rates").or_insert("50,200");
        given.entry("--step-secs").or_insert("5");
    }
    let block_time_ms = given.remove("--block-time-ms");
    let load = given.into_iter().flat_map(|(flag, value)| [flag, value]);
    Ok((block_time_ms, load.collect()))
}

/// `cargo xtask chaos [--minutes N]`: builds the node's binaries (debug,
/// as `cargo test --no-run --workspace`, so that the test run after it in
/// CI finds everything built) and runs `gont-chaos`, which sets up four
/// validators in network namespaces under load, perturbs them for N
/// minutes and prints the table; fails if they disagreed, lost an
/// acknowledged transaction, or committed during a 2 + 2 partition.
pub(crate) fn chaos(args: &[String]) -> Result<()> {
    let minutes = match args {
        [] => "10",
        [flag, n] if flag == "--minutes" && n.parse::<f64>().is_ok_and(|m| m > 0.0) => n,
        _ => bail!("usage: cargo xtask chaos [--minutes N]"),
    };
    build_tests()?;
    let debug = debug_dir()?;
    let dir = debug.join("chaos");
    let gont = debug.join("gont");
    cmd(
        debug
            .join("gont-chaos")
            .to_str()
            .context("target directory is not UTF-8")?,
        &[
            "--gont",
            gont.to_str().context("target directory is not UTF-8")?,
            "--dir",
            dir.to_str().context("target directory is not UTF-8")?,
            "--minutes",
            minutes,
        ],
        &[],
    )
}

/// Builds every test binary of the workspace, and with them
/// `target/debug/gont`, as `cargo nextest run --workspace` builds them.
pub(crate) fn build_tests() -> Result<()> {
    cmd(
        "cargo",
        &["test", "--locked", "--workspace", "--no-run", "--quiet"],
        &[],
    )
}

/// The test build's output directory (`target/debug`, or under
/// `CARGO_TARGET_DIR`).
pub(crate) fn debug_dir() -> Result<std::path::PathBuf> {
    let root = workspace_root()?;
    Ok(std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), |dir| root.join(dir))
        .join("debug"))
}

/// `cargo xtask statetest|txtest PATH`: gont-vm's conformance runner.
fn conformance(suite: &str, rest: &[String]) -> Result<()> {
    let [path] = rest else {
        bail!("usage: cargo xtask {suite} PATH");
    };
    // Relative paths are the caller's, not the workspace root's.
    let path = std::env::current_dir()
        .context("no current directory")?
        .join(path);
    let path = path.to_str().context("fixture path is not UTF-8")?;
    cmd(
        "cargo",
        &[
            "run",
            "--release",
            "-p",
            "gont-vm",
            "--features",
            "conformance",
            "--bin",
            "gont-conformance",
            "--",
            suite,
            path,
        ],
        &[],
    )
}

/// `cargo xtask bench exec [N]`: gont-vm's execution benchmark.
fn bench_exec(rest: &[String]) -> Result<()> {
    let mut args = vec!["bench", "-p", "gont-vm", "--bench", "exec", "--"];
    match rest {
        [] => {}
        [n] if n.parse::<usize>().is_ok() => args.push(n),
        _ => bail!("usage: cargo xtask bench exec [N]"),
    }
    cmd("cargo", &args, &[])
}

/// `cargo xtask sim --seed N` / `--seeds A..B`: the consensus simulation.
fn sim(args: &[String]) -> Result<()> {
    match args {
        [flag, value] if flag == "--seed" || flag == "--seeds" => gont_sim(&[flag, value]),
        _ => bail!("usage: cargo xtask sim --seed N | --seeds A..B"),
    }
}

/// Runs gont-consensus's `gont-sim` binary, optimised.
fn gont_sim(args: &[&str]) -> Result<()> {
    let mut all = vec![
        "run",
        "--release",
        "-p",
        "gont-consensus",
        "--features",
        "sim",
        "--bin",
        "gont-sim",
        "--",
    ];
    all.extend_from_slice(args);
    cmd("cargo", &all, &[])
}

/// The workspace root: xtask lives one level below it.
fn workspace_root() -> Result<std::path::PathBuf> {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").context("run through `cargo xtask`")?;
    std::path::Path::new(&manifest)
        .parent()
        .map(std::path::Path::to_path_buf)
        .context("xtask has no parent folder")
}

/// Runs a command in the workspace root, echoing it, and fails on non-zero exit.
fn cmd(program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<()> {
    let shown = std::iter::once(program)
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    eprintln!("$ {shown}");
    let status = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(workspace_root()?)
        .status()
        .with_context(|| format!("could not start `{program}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

/// Runs `command` to completion and returns what it printed on stdout;
/// an error with its stderr if it could not start or exited non-zero.
fn output(command: &mut Command) -> Result<Vec<u8>> {
    let shown = format!("{command:?}");
    let out = command
        .output()
        .with_context(|| format!("could not start {shown}"))?;
    if !out.status.success() {
        bail!(
            "{shown} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
    }
    Ok(out.stdout)
}

/// `cargo metadata --no-deps` of the workspace in `dir`: its packages
/// with their versions, features and targets.
fn metadata(dir: &std::path::Path) -> Result<serde_json::Value> {
    let out = output(
        Command::new("cargo")
            .args(["metadata", "--no-deps", "--format-version", "1", "--locked"])
            .current_dir(dir),
    )?;
    serde_json::from_slice(&out).context("cargo metadata printed invalid JSON")
}

#[cfg(test)]
mod tests {
    use super::bench_devnet_args;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn bench_devnet_passes_block_time_to_the_devnet_and_steps_to_the_load_once() {
        let given = args("--quick --block-time-ms 500 --rates 100,200");
        let (block_time, load) = bench_devnet_args(&given).unwrap();
        assert_eq!(block_time, Some("500"));
        assert_eq!(load, ["--rates", "100,200", "--step-secs", "5"]);
        let quick = args("--quick");
        let (block_time, load) = bench_devnet_args(&quick).unwrap();
        assert_eq!(block_time, None);
        assert_eq!(load, ["--rates", "50,200", "--step-secs", "5"]);
        for bad in ["--rates 0", "--step-secs 1,2", "--block-time-ms", "--bogus"] {
            assert!(bench_devnet_args(&args(bad)).is_err(), "{bad}");
        }
    }
}
