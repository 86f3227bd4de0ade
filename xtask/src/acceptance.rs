//! The acceptance run CI makes before the test suite: a release `gont
//! devnet` (4 validators, GONT Space and one service), then the shared
//! ethers.js + solc-js client (`../shared/acceptance/evm-client/run.sh`)
//! against the Space's endpoint (127.0.0.1:8545) and the service's
//! (127.0.0.1:8546), each of which must print `8 passed, 0 failed`; then
//! the devnet is stopped with SIGTERM, also when a run fails.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::{cmd, workspace_root};

/// The devnet child, stopped with SIGTERM when dropped.
struct Devnet(Child);

impl Drop for Devnet {
    fn drop(&mut self) {
        // xtask forbids unsafe code, so the signal goes through kill(1).
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

pub(crate) fn run() -> Result<()> {
    let root = workspace_root()?;
    let client = root.join("../shared/acceptance/evm-client/run.sh");
    if !client.exists() {
        bail!(
            "{} is missing: CI runs with the shared/ folder beside the clone",
            client.display()
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
    eprintln!(
        "$ target/release/gont devnet --fresh --dir {}",
        dir.display()
    );
    let mut child = Command::new(root.join("target/release/gont"))
        .args(["devnet", "--fresh", "--validators", "4", "--services", "1"])
        .arg("--dir")
        .arg(&dir)
        .stdout(Stdio::piped())
        .spawn()
        .context("starting the devnet")?;
    let stdout = child.stdout.take().context("devnet stdout")?;
    let devnet = Devnet(child);
    let (ready_tx, ready_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            println!("{line}");
            if line.starts_with("Ready after") {
                let _ = ready_tx.send(());
            }
        }
    });
    ready_rx
        .recv_timeout(Duration::from_secs(300))
        .context("the devnet was not ready within 300 s")?;
    for (name, rpc) in [
        ("GONT Space", "http://127.0.0.1:8545"),
        ("service example-1", "http://127.0.0.1:8546"),
    ] {
        eprintln!("$ GONT_RPC={rpc} bash {}", client.display());
        let output = Command::new("bash")
            .arg(&client)
            .env("GONT_RPC", rpc)
            .output()
            .context("running the acceptance client")?;
        let text = String::from_utf8_lossy(&output.stdout);
        print!("{text}");
        eprint!("{}", String::from_utf8_lossy(&output.stderr));
        if !output.status.success() || !text.contains("8 passed, 0 failed") {
            bail!(
                "acceptance against {name} ({rpc}) failed ({})",
                output.status
            );
        }
        println!("acceptance against {name}: 8 passed, 0 failed");
    }
    drop(devnet);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
