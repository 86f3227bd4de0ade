//! The acceptance run CI makes before the test suite: a `gont devnet` of
//! the test build's `gont` (`target/debug`, dependencies optimised as
//! `[profile.dev.package."*"]` says; the same binary the devnet tests and
//! the chaos run start, so CI compiles the node once) (4 validators, GONT Space and one service), then four client
//! suites against the Space's endpoint (127.0.0.1:8545) and the service's
//! (127.0.0.1:8546), each of which must close with `N passed, 0 failed`:
//! the shared ethers.js + solc-js suites (`../shared/acceptance/evm-client`,
//! 8 checks, and `evm-regression`, 12 with WebSocket heads), and the
//! repository's own viem and web3.py suites (`acceptance/viem`,
//! `acceptance/web3py`, 25 checks each: deployment, events, fee history,
//! block receipts, txpool, subscriptions, geth's tracers). Each suite
//! installs its pinned libraries once, into `target/acceptance-clients/`.
//! Then the devnet is stopped with SIGTERM, also when a run fails. Last,
//! the two shared suites run against `gont vm rpc` (the VM alone, no
//! consensus, a block per transaction) on 127.0.0.1:8555.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::devnet::Devnet;
use crate::workspace_root;

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

/// `gont vm rpc`'s endpoints, for the suites of [`VM_SUITES`].
const VM_CHAIN: (&str, &str, &str) = (
    "gont vm rpc",
    "http://127.0.0.1:8555",
    "ws://127.0.0.1:8555",
);

/// The suites run against `gont vm rpc`: the shared ones.
const VM_SUITES: [(&str, u32); 2] = [
    ("../shared/acceptance/evm-client", 8),
    ("../shared/acceptance/evm-regression", 12),
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
    crate::build_tests()?;
    let gont = crate::debug_dir()?.join("gont");
    let dir = root.join("target/acceptance-devnet");
    let devnet = Devnet::start(&gont, &dir, &["--services", "1"])?;
    for (folder, least) in SUITES {
        for chain in CHAINS {
            run_suite(&root, folder, least, chain)?;
        }
    }
    devnet.stop()?;
    let vm = VmRpc::start(&gont)?;
    for (folder, least) in VM_SUITES {
        run_suite(&root, folder, least, VM_CHAIN)?;
    }
    drop(vm);
    Ok(())
}

/// Runs one suite against one endpoint; it must close with at least
/// `least` passed and 0 failed.
fn run_suite(
    root: &Path,
    folder: &str,
    least: u32,
    (name, rpc, ws): (&str, &str, &str),
) -> Result<()> {
    let script = root.join(folder).join("run.sh");
    let suite = folder.rsplit('/').next().unwrap_or(folder);
    let installed = root.join("target/acceptance-clients").join(suite);
    std::fs::create_dir_all(&installed)
        .with_context(|| format!("creating {}", installed.display()))?;
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
            Ok(())
        }
        _ => bail!(
            "{suite} against {name} ({rpc}) failed ({}): expected at least {least} passed, 0 failed",
            output.status
        ),
    }
}

/// A `gont vm rpc` child on 127.0.0.1:8555, killed when dropped.
struct VmRpc(Child);

impl VmRpc {
    fn start(gont: &Path) -> Result<Self> {
        eprintln!("$ {} vm rpc --listen 127.0.0.1:8555", gont.display());
        let mut child = Command::new(gont)
            .args(["vm", "rpc", "--listen", "127.0.0.1:8555"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("could not start {}", gont.display()))?;
        let stdout = child
            .stdout
            .take()
            .context("gont vm rpc's stdout is not piped")?;
        let vm = Self(child);
        let mut lines = BufReader::new(stdout).lines();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.starts_with("JSON-RPC at ") => break,
                Some(Ok(_)) => {}
                _ => bail!("gont vm rpc exited before serving"),
            }
        }
        // Keep draining so that the child never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(vm)
    }
}

impl Drop for VmRpc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
