//! A `gont devnet` child process for the commands that need one (the
//! acceptance run, `bench devnet`): started fresh in a directory, ready once
//! it prints `Ready after`, stopped with SIGTERM (killed if it lingers) and
//! its directory removed, also when the caller returns early.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The longest wait for the devnet's `Ready after` line.
const DEVNET_READY_TIMEOUT: Duration = Duration::from_secs(300);
/// The longest wait for the devnet to stop its nodes after SIGTERM.
const DEVNET_STOP_TIMEOUT: Duration = Duration::from_secs(60);

/// A running `gont devnet` child: stopped (SIGTERM, then waited for) and
/// its directory removed on [`Devnet::stop`] or, on an early return, on
/// drop.
pub(crate) struct Devnet {
    child: Child,
    dir: PathBuf,
    stopped: bool,
}

impl Devnet {
    /// Starts `gont devnet --fresh --dir DIR --validators 4` with `extra`
    /// arguments and waits for its `Ready after` line.
    pub(crate) fn start(gont: &Path, dir: &Path, extra: &[&str]) -> Result<Self> {
        let mut args = vec![
            "devnet",
            "--fresh",
            "--dir",
            dir.to_str().context("the devnet directory is not UTF-8")?,
            "--validators",
            "4",
        ];
        args.extend_from_slice(extra);
        eprintln!("$ {} {}", gont.display(), args.join(" "));
        let mut child = Command::new(gont)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("could not start {}", gont.display()))?;
        let stdout = child.stdout.take();
        // From here on, dropping `devnet` stops the child.
        let devnet = Self {
            child,
            dir: dir.to_path_buf(),
            stopped: false,
        };
        let stdout = stdout.context("the devnet's stdout is not piped")?;

        // A thread drains the devnet's output for as long as it runs (so
        // that a full pipe never blocks it), echoing it up to readiness.
        let (ready_tx, ready_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut ready = Some(ready_tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(tx) = &ready {
                    eprintln!("devnet: {line}");
                    if line.starts_with("Ready after") {
                        let _ = tx.send(());
                        ready = None;
                    }
                }
            }
        });
        match ready_rx.recv_timeout(DEVNET_READY_TIMEOUT) {
            Ok(()) => Ok(devnet),
            Err(mpsc::RecvTimeoutError::Timeout) => bail!(
                "the devnet was not ready within {} s",
                DEVNET_READY_TIMEOUT.as_secs()
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                bail!("the devnet exited before it was ready (see its output above)")
            }
        }
    }

    /// Sends SIGTERM, waits for the devnet to stop its nodes (killing it
    /// after `DEVNET_STOP_TIMEOUT`) and removes its directory.
    pub(crate) fn stop(mut self) -> Result<()> {
        self.stopped = true;
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<()> {
        let pid = self.child.id().to_string();
        eprintln!("$ kill -TERM {pid}");
        // The workspace forbids unsafe code, so the signal goes through kill(1).
        let signalled = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        let deadline = Instant::now() + DEVNET_STOP_TIMEOUT;
        let result = loop {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => break Ok(()),
                Ok(Some(status)) => break Err(anyhow::anyhow!("the devnet exited with {status}")),
                Ok(None) if Instant::now() > deadline || !signalled => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break Err(anyhow::anyhow!(
                        "the devnet did not stop on SIGTERM within {} s: killed",
                        DEVNET_STOP_TIMEOUT.as_secs()
                    ));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(100)),
                Err(e) => break Err(anyhow::anyhow!("waiting for the devnet: {e}")),
            }
        };
        match std::fs::remove_dir_all(&self.dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => eprintln!("could not remove {}: {e}", self.dir.display()),
        }
        result
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        if !self.stopped
            && let Err(e) = self.shutdown()
        {
            eprintln!("xtask: {e:#}");
        }
    }
}
