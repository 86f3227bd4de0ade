//! `gont devnet`: starts one `gont start` process per node of a devnet plan
//! (see [`gont_node::devnet_plan`]), waits until every chain produces blocks,
//! prints the endpoints and accounts, and stops every node on Ctrl-C or
//! SIGTERM. The nodes also stop if the devnet process dies (they ask the
//! kernel for SIGTERM when their parent exits). A node that exits is
//! reported (its status and the end of its log) and restarted after
//! [`RESTART_DELAY`] while the others keep running; one that exits
//! [`RESTARTS_PER_MINUTE`] times within a minute is left stopped, with the
//! command that starts it by hand.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use gont_core::{ChainId, Genesis, Timestamp};
use gont_node::client::{self, RpcClient};
use gont_node::devnet_plan::{self as devnet, DevnetPlan, DevnetPorts, PASSPHRASE_FILE};
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

/// How long a node that exited stays down before it is restarted.
const RESTART_DELAY: Duration = Duration::from_secs(2);

/// A node that exits this many times within a minute is not restarted.
const RESTARTS_PER_MINUTE: usize = 3;

struct Nodes {
    children: Vec<(usize, Child)>,
}

/// What the supervisor does about nodes that exited.
struct Restarts {
    /// When each node exited, per node, within the last minute.
    exits: Vec<Vec<Instant>>,
    /// Nodes waiting to be restarted, and when.
    due: Vec<(usize, Instant)>,
}

impl Restarts {
    fn new(nodes: usize) -> Self {
        Self {
            exits: vec![Vec::new(); nodes],
            due: Vec::new(),
        }
    }

    /// Records that `node` exited; `true` if it is to be restarted.
    fn exited(&mut self, node: usize, now: Instant) -> bool {
        let Some(exits) = self.exits.get_mut(node) else {
            return false;
        };
        exits.retain(|t| now.duration_since(*t) < Duration::from_secs(60));
        exits.push(now);
        if exits.len() >= RESTARTS_PER_MINUTE {
            return false;
        }
        self.due.push((node, now + RESTART_DELAY));
        true
    }

    /// The nodes whose restart is due.
    fn take_due(&mut self, now: Instant) -> Vec<usize> {
        let (due, later): (Vec<_>, Vec<_>) = self.due.iter().partition(|(_, at)| *at <= now);
        self.due = later;
        due.into_iter().map(|(node, _)| node).collect()
    }
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

    /// A node that exited, with its status, no longer supervised.
    fn exited(&mut self) -> Option<(usize, std::process::ExitStatus)> {
        let (at, node, status) = self
            .children
            .iter_mut()
            .enumerate()
            .find_map(|(at, (i, c))| c.try_wait().ok().flatten().map(|s| (at, *i, s)))?;
        self.children.remove(at);
        Some((node, status))
    }

    /// Writes the process id of each of the `count` nodes, one line per
    /// node in node order (`-` for a node not running), to `dir/pids`.
    fn write_pids(&self, dir: &Path, count: usize) -> Result<()> {
        let text: String = (0..count)
            .map(|node| {
                self.children
                    .iter()
                    .find(|(i, _)| *i == node)
                    .map_or_else(|| "-\n".to_owned(), |(_, c)| format!("{}\n", c.id()))
            })
            .collect();
        std::fs::write(dir.join("pids"), text).context("writing the pids file")
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

/// Starts node `node` of the plan (`gont start` on its home).
fn spawn(exe: &Path, node: &devnet::DevnetNode, log_format: &str) -> Result<Child> {
    let log = log_file(&node.home)?;
    Command::new(exe)
        .arg("start")
        .arg("--home")
        .arg(&node.home)
        .arg("--log-format")
        .arg(log_format)
        .arg("--passphrase-file")
        .arg(node.home.join(PASSPHRASE_FILE))
        .env(DEVNET_CHILD_ENV, "1")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting node{}", node.index))
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
                "{} holds a devnet with another genesis (other --validators, --services, --epoch-length, --unbonding-blocks or --signed-blocks-window, --block-time-ms?); \
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
        nodes
            .children
            .push((node.index, spawn(&exe, node, &log_format)?));
    }
    nodes.write_pids(&options.dir, plan.nodes.len())?;
    let mut restarts = Restarts::new(plan.nodes.len());

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
            while let Some((i, status)) = nodes.exited() {
                let Some(node) = plan.nodes.get(i) else { continue };
                let log = node.home.join("node.log");
                println!(
                    "\nnode{i} exited ({status}); the end of {}:\n{}",
                    log.display(),
                    tail(&log, 20)
                );
                nodes.write_pids(&options.dir, plan.nodes.len())?;
                if restarts.exited(i, Instant::now()) {
                    println!(
                        "restarting node{i} in {} s; the other nodes keep running",
                        RESTART_DELAY.as_secs()
                    );
                } else {
                    println!(
                        "node{i} exited {RESTARTS_PER_MINUTE} times within a minute: not restarting it. \
                         Start it by hand with:\n  {} start --home {} --passphrase-file {}",
                        exe.display(),
                        node.home.display(),
                        node.home.join(PASSPHRASE_FILE).display()
                    );
                }
            }
            for i in restarts.take_due(Instant::now()) {
                let Some(node) = plan.nodes.get(i) else { continue };
                match spawn(&exe, node, &log_format) {
                    Ok(child) => {
                        nodes.children.push((i, child));
                        nodes.write_pids(&options.dir, plan.nodes.len())?;
                        println!("node{i} restarted");
                    }
                    Err(e) => println!("node{i} could not be restarted: {e:#}"),
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_is_restarted_after_the_delay_unless_it_keeps_exiting() {
        let start = Instant::now();
        let mut restarts = Restarts::new(2);
        assert!(restarts.exited(1, start));
        assert!(restarts.take_due(start).is_empty(), "not before the delay");
        assert_eq!(restarts.take_due(start + RESTART_DELAY), vec![1]);
        assert!(restarts.take_due(start + RESTART_DELAY).is_empty(), "once");
        assert!(restarts.exited(1, start + Duration::from_secs(10)));
        assert!(
            !restarts.exited(1, start + Duration::from_secs(20)),
            "a third exit within a minute gives up"
        );
        assert!(
            restarts.exited(0, start + Duration::from_secs(20)),
            "other nodes are counted apart"
        );
        let mut later = Restarts::new(1);
        assert!(later.exited(0, start));
        assert!(later.exited(0, start + Duration::from_secs(30)));
        assert!(
            later.exited(0, start + Duration::from_secs(61)),
            "exits older than a minute are forgotten"
        );
        assert!(!Restarts::new(1).exited(5, start), "an unknown node");
    }
}
