//! `cargo xtask`: the project's automation, as Rust so that it runs the same
//! on every machine (no shell scripts, no Makefile).
//!
//! ```text
//! cargo xtask ci        format, lint, docs and every test, as CI runs them
//! cargo xtask dist      release binaries of each placement variant into dist/
//! cargo xtask devnet    a local devnet (forwards to the node's `devnet`)
//! ```

mod ci;
mod dist;

use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  ci                 cargo fmt --check, clippy -D warnings, rustdoc -D warnings,
                     doctests and cargo nextest run --workspace
  dist               build each placement variant of gont-node (release) into dist/
  devnet [args]      run the node's local devnet (release build)
  help               this text

not built yet (each exits non-zero until its issue lands):
  statetest PATH, txtest PATH, bench exec    execution conformance and benchmark (issue 3)
  sim --seed N, bench consensus              consensus simulation and benchmark (issue 4)
  bench net                                  networking benchmark (issue 5)
  bench devnet                               devnet load benchmark (issue 6)";

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
        "dist" => dist::run(rest),
        "devnet" => dist::devnet(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        "statetest" | "txtest" => not_built(command, 3),
        "sim" => not_built(command, 4),
        "bench" => match rest.first().map(String::as_str) {
            Some("exec") => not_built("bench exec", 3),
            Some("consensus") => not_built("bench consensus", 4),
            Some("net") => not_built("bench net", 5),
            Some("devnet") => not_built("bench devnet", 6),
            _ => bail!("usage: cargo xtask bench <exec|consensus|net|devnet>"),
        },
        other => {
            println!("{USAGE}");
            bail!("unknown command {other:?}")
        }
    }
}

fn not_built(what: &str, issue: u32) -> Result<()> {
    bail!("`cargo xtask {what}` is not built yet: what it runs arrives with issue {issue}")
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
