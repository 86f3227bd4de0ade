//! `gont devnet`: starts one `gont start` process per node of a devnet plan
//! (see [`gont_node::devnet_plan`]), waits until every chain produces blocks,
//! prints the endpoints and accounts, and stops every node on Ctrl-C or
//! SIGTERM. The nodes also stop if the devnet process dies (they ask the
//! kernel for SIGTERM when their parent exits).

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use gont_core::{ChainId, Genesis, Timestamp};
use gont_node::client::{self, RpcClient};
use gont_node::devnet_plan::{self as devnet, DEVNET_PASSPHRASE, DevnetPlan, DevnetPorts};
use serde_json::json;

use super::start::DEVNET_CHILD_ENV;

/// How `gont devnet` was asked to run.
pub(crate) struct Options {
    /// The data directory.
    pub(crate) dir: PathBuf,
    /// Validators, services, followers and epoch rules.
    pub(crate) shape: devnet::DevnetShape,
    /// Wipe the directory first.
    pub(crate) fresh: bool,
    /// The nodes' log format.
    pub(crate) log_format: super::LogFormat,
    /// Ports.
    pub(crate) ports: DevnetPorts,
}

/// The default data directory: `$HOME/.gont/devnet`.
pub(crate) fn default_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map_or_else(|| PathBuf::from("."), PathBuf::from)
        .join(".gont")
        .join("devnet")
}

struct Nodes {
    children: Vec<(usize, Child)>,
}

impl Nodes {
    /// Sends SIGTERM to every node, waits for each, then SIGKILLs any
    /// left after the grace period.
    fn stop(&mut self) {
        for (_, child) in &self.children {
            if let Some(pid) = i32::try_from(child.id())
                .ok()
                .and_then(rustix::process::Pid::from_raw)
            {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        for (i, child) in &mut self.children {
            loop {
                match child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() > deadline => {
                        eprintln!("node{i} did not stop in time: killing it");
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                }
            }
        }
    }

    /// A node that exited, with its status.
    fn exited(&mut self) -> Option<(usize, std::process::ExitStatus)> {
        self.children
            .iter_mut()
            .find_map(|(i, c)| c.try_wait().ok().flatten().map(|s| (*i, s)))
    }
}

impl Drop for Nodes {
    fn drop(&mut self) {
        self.stop();
    }
}

fn log_file(home: &Path) -> Result<File> {
    let path = home.join("node.log");
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all.get(all.len().saturating_sub(lines)..)
        .unwrap_or_default()
        .join("\n")
}

/// The genesis time of the devnet in `dir`: the one it has, or now (in
/// whole seconds) for a new one.
fn genesis_time(dir: &Path) -> Result<Timestamp> {
    let path = dir.join("node0").join(gont_node::config::files::GENESIS);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Genesis::from_json(&text)
            .with_context(|| format!("reading {}", path.display()))?
            .genesis_time),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .context("the clock is before 1970")?
                .as_secs();
            Ok(Timestamp::from_secs(secs))
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Refuses a directory that holds a devnet of another shape.
fn check_existing(plan: &DevnetPlan) -> Result<()> {
    for node in &plan.nodes {
        let path = node.home.join(gont_node::config::files::GENESIS);
        if let Ok(text) = std::fs::read_to_string(&path)
            && text != plan.genesis.to_json()
        {
            bail!(
                "{} holds a devnet with another genesis (other --validators, --services, --epoch-length or --unbonding-blocks?); \
                 run with --fresh to replace it, or choose another --dir",
                path.display()
            );
        }
    }
    Ok(())
}

async fn height(client: &RpcClient) -> Option<u64> {
    client
        .call("eth_blockNumber", &json!([]))
        .await
        .ok()
        .as_ref()
        .and_then(client::quantity)
}

/// Runs the devnet until a signal; see the module documentation.
pub(crate) fn run(options: &Options) -> Result<()> {
    if options.shape.validators == 0 {
        bail!("a devnet needs at least one validator");
    }
    if options.fresh && options.dir.exists() {
        std::fs::remove_dir_all(&options.dir)
            .with_context(|| format!("removing {}", options.dir.display()))?;
    }
    std::fs::create_dir_all(&options.dir)
        .with_context(|| format!("creating {}", options.dir.display()))?;
    let plan = devnet::plan_with(
        &options.dir,
        options.shape,
        options.ports,
        genesis_time(&options.dir)?,
    );
    check_existing(&plan)?;
    let created = devnet::prepare(&plan)?;
    print!("{}", devnet::banner(&plan, &options.dir));
    println!(
        "\n{} the devnet; node logs in {}/node<i>/node.log",
        if created { "Starting" } else { "Restarting" },
        options.dir.display()
    );

    let exe = std::env::current_exe().context("locating the gont binary")?;
    let log_format = clap::ValueEnum::to_possible_value(&options.log_format)
        .map(|v| v.get_name().to_owned())
        .unwrap_or_default();
    let mut nodes = Nodes {
        children: Vec::new(),
    };
    for node in &plan.nodes {
        let log = log_file(&node.home)?;
        let child = Command::new(&exe)
            .arg("start")
            .arg("--home")
            .arg(&node.home)
            .arg("--log-format")
            .arg(&log_format)
            .env("GONT_PASSPHRASE", DEVNET_PASSPHRASE)
            .env(DEVNET_CHILD_ENV, "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting node{}", node.index))?;
        nodes.children.push((node.index, child));
    }
    let pids: Vec<String> = nodes
        .children
        .iter()
        .map(|(_, c)| c.id().to_string())
        .collect();
    std::fs::write(options.dir.join("pids"), pids.join("\n") + "\n")?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let signalled = runtime.block_on(async {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let endpoints = devnet::endpoints(&plan)
            .into_iter()
            .map(|(chain, addr)| Ok((chain, RpcClient::new(addr)?)))
            .collect::<Result<Vec<_>>>()?;
        let mut ready = false;
        let started = Instant::now();
        let mut last_report = Instant::now();
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return anyhow::Ok(true),
                _ = term.recv() => return anyhow::Ok(true),
                () = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
            if let Some((i, status)) = nodes.exited() {
                let log = plan.nodes.get(i).map(|n| n.home.join("node.log")).unwrap_or_default();
                bail!(
                    "node{i} exited ({status}); the end of {}:\n{}",
                    log.display(),
                    tail(&log, 20)
                );
            }
            let mut heights: Vec<(ChainId, Option<u64>)> = Vec::with_capacity(endpoints.len());
            for (chain, client) in &endpoints {
                heights.push((*chain, height(client).await));
            }
            if !ready {
                if heights.iter().all(|(_, h)| h.is_some_and(|h| h >= 1)) {
                    ready = true;
                    println!(
                        "\nReady after {:.1} s: every chain is producing blocks. Ctrl-C stops the devnet.",
                        started.elapsed().as_secs_f64()
                    );
                } else if started.elapsed() > Duration::from_secs(180) {
                    bail!("the chains produced no block within 180 s: see the node logs");
                }
            }
            if ready && last_report.elapsed() >= Duration::from_secs(10) {
                last_report = Instant::now();
                let line: Vec<String> = heights
                    .iter()
                    .map(|(chain, h)| {
                        format!("chain {chain} #{}", h.map_or("?".to_owned(), |h| h.to_string()))
                    })
                    .collect();
                println!("{}", line.join("  "));
            }
        }
    })?;
    if signalled {
        println!("\nStopping the devnet…");
    }
    nodes.stop();
    println!(
        "Stopped. Data kept in {}: run the same command again to continue.",
        options.dir.display()
    );
    Ok(())
}
