//! The acceptance run CI makes before the test suite: a release `gont
//! devnet` (4 validators, GONT Space and one service), then four client
//! suites against the Space's endpoint (127.0.0.1:8545) and the service's
//! (127.0.0.1:8546), each of which must close with `N passed, 0 failed`:
//! the shared ethers.js + solc-js suites (`../shared/acceptance/evm-client`,
//! 8 checks, and `evm-regression`, 12 with WebSocket heads), and the
//! repository's own viem and web3.py suites (`acceptance/viem`,
//! `acceptance/web3py`, 25 checks each: deployment, events, fee history,
//! block receipts, txpool, subscriptions, geth's tracers). Each suite
//! installs its pinned libraries once, into `target/acceptance-clients/`.
//! Then the devnet is stopped with SIGTERM, also when a run fails.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::devnet::Devnet;
use crate::{cmd, workspace_root};

/// The acceptance suites (folders with a `run.sh`, from the workspace
/// root) and the least number of checks each runs.
const SUITES: [(&str, u32); 4] = [
    ("../shared/acceptance/evm-client", 8),
    ("../shared/acceptance/evm-regression", 12),
    ("acceptance/viem", 25),
    ("acceptance/web3py", 25),
];

/// Each chain of the devnet: name, JSON-RPC and WebSocket endpoints.
const CHAINS: [(&str, &str, &str); 2] = [
    ("GONT Space", "http://127.0.0.1:8545", "ws://127.0.0.1:8545"),
    (
        "service example-1",
        "http://127.0.0.1:8546",
        "ws://127.0.0.1:8546",
    ),
];

/// The `N passed, M failed` line a suite closes with.
fn summary(text: &str) -> Option<(u32, u32)> {
    text.lines().rev().find_map(|line| {
        let (passed, failed) = line.trim().split_once(" passed, ")?;
        Some((
            passed.parse().ok()?,
            failed.strip_suffix(" failed")?.parse().ok()?,
        ))
    })
}

pub(crate) fn run() -> Result<()> {
    let root = workspace_root()?;
    let shared = root.join("../shared/acceptance");
    if !shared.exists() {
        bail!(
            "{} is missing: CI runs with the shared/ folder beside the clone",
            shared.display()
        );
    }
    cmd(
        "cargo",
        &[
            "build",
            "--release",
            "--locked",
            "-p",
            "gont-node",
            "--bin",
            "gont",
        ],
        &[],
    )?;
    let dir = root.join("target/acceptance-devnet");
    let devnet = Devnet::start(
        &root.join("target/release/gont"),
        &dir,
        &["--services", "1"],
    )?;
    for (folder, least) in SUITES {
        let script = root.join(folder).join("run.sh");
        let suite = folder.rsplit('/').next().unwrap_or(folder);
        let installed = root.join("target/acceptance-clients").join(suite);
        std::fs::create_dir_all(&installed)
            .with_context(|| format!("creating {}", installed.display()))?;
        for (name, rpc, ws) in CHAINS {
            eprintln!("$ GONT_RPC={rpc} GONT_WS={ws} bash {}", script.display());
            let output = Command::new("bash")
                .arg(&script)
                .env("GONT_RPC", rpc)
                .env("GONT_WS", ws)
                .env("GONT_ACCEPTANCE_DIR", &installed)
                .output()
                .with_context(|| format!("running {suite}"))?;
            let text = String::from_utf8_lossy(&output.stdout);
            print!("{text}");
            eprint!("{}", String::from_utf8_lossy(&output.stderr));
            let passed = summary(&text).filter(|&(passed, failed)| failed == 0 && passed >= least);
            match passed {
                Some((passed, _)) if output.status.success() => {
                    println!("{suite} against {name}: {passed} passed, 0 failed");
                }
                _ => bail!(
                    "{suite} against {name} ({rpc}) failed ({}): expected at least {least} passed, 0 failed",
                    output.status
                ),
            }
        }
    }
    devnet.stop()
}
