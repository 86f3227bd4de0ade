//! `gont-chaos`: the chaos suite behind `cargo xtask chaos`.
//!
//! Four validators of GONT Space, each a real `gont start` process in its
//! own network namespace (`gont-chaos-<i>`, address `10.77.0.<i+1>`) joined
//! by a veth pair to a bridge in the host namespace, where this program
//! runs. A load thread sends signed transfers from the ten development
//! accounts to whichever node answers and records every hash a node
//! acknowledged. Meanwhile the nodes are perturbed in turn:
//!
//! - `kill -9` of one node, restarted 5 s later;
//! - `SIGSTOP` of one validator, then of two (the chain must halt: two of
//!   four are not two thirds), `SIGCONT` after the pause;
//! - one node isolated (its veth down), then healed;
//! - a 2 | 2 partition (two nodes' veths moved to a second bridge): no
//!   height may be committed while it lasts, and heights must come again
//!   once healed.
//!
//! At the end it checks agreement (the same block at every height on every
//! node), that every acknowledged transaction was included, and the
//! longest stall (from block timestamps), prints a markdown table of the
//! perturbations and a summary, and exits non-zero on any disagreement,
//! lost transaction, height committed during the 2 | 2 partition, or no
//! progress after healing. Needs root (network namespaces) and `ip` from
//! iproute2.

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy_consensus::crypto::secp256k1::sign_message;
use alloy_consensus::{SignableTransaction, TxEip1559};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, hex};
use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;
use gont_core::genesis::{DEV_ADDRESSES, DEV_PRIVATE_KEYS};
use gont_node::client::quantity;
use gont_node::devnet_plan::{self, DevnetPlan, DevnetPorts, DevnetShape, PASSPHRASE_FILE};
use serde_json::{Value, json};

mod checks;

use checks::{agreement, longest_stall, report, wait_for_inclusion};

/// How many validators.
const NODES: usize = 4;
/// The host namespace's bridge carrying every node when the network is whole.
const BRIDGE: &str = "gontchaos0";
/// The bridge the minority side of a 2 | 2 partition is moved to.
const BRIDGE_APART: &str = "gontchaos1";
/// The host's address on [`BRIDGE`].
const HOST: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 254);
/// How long one JSON-RPC exchange may take (a stopped node never answers).
const RPC_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a killed node stays down.
const DOWN: Duration = Duration::from_secs(5);

/// Chaos suite for a 4-validator GONT devnet.
#[derive(Parser)]
#[command(
    name = "gont-chaos",
    about = "Perturbs a 4-validator devnet under load and checks it"
)]
struct Args {
    /// The `gont` binary the nodes run.
    #[arg(long)]
    gont: PathBuf,
    /// Where the node homes go (created; removed first if present).
    #[arg(long)]
    dir: PathBuf,
    /// How long the perturbations last in all.
    #[arg(long, default_value_t = 10.0)]
    minutes: f64,
    /// Transfers offered per second.
    #[arg(long, default_value_t = 20)]
    rate: u32,
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("gont-chaos: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn node_ip(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 77, 0, u8::try_from(i + 1).unwrap_or(u8::MAX))
}

fn namespace(i: usize) -> String {
    format!("gont-chaos-{i}")
}

fn veth(i: usize) -> String {
    format!("gontchaosv{i}")
}

/// Runs `ip ARGS`, failing with what it printed.
fn ip(args: &[&str]) -> Result<()> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .context("running `ip` (iproute2)")?;
    if !out.status.success() {
        bail!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// The namespaces, veths and bridges, removed when dropped.
struct Network;

impl Network {
    fn create() -> Result<Self> {
        Self::remove();
        let network = Self;
        ip(&["link", "add", BRIDGE, "type", "bridge"])
            .context("creating a bridge needs root (CAP_NET_ADMIN)")?;
        ip(&["addr", "add", &format!("{HOST}/24"), "dev", BRIDGE])?;
        ip(&["link", "set", BRIDGE, "up"])?;
        ip(&["link", "add", BRIDGE_APART, "type", "bridge"])?;
        ip(&["link", "set", BRIDGE_APART, "up"])?;
        for i in 0..NODES {
            let ns = namespace(i);
            ip(&["netns", "add", &ns])?;
            ip(&[
                "link",
                "add",
                &veth(i),
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                &ns,
            ])?;
            ip(&["link", "set", &veth(i), "master", BRIDGE, "up"])?;
            ip(&[
                "-n",
                &ns,
                "addr",
                "add",
                &format!("{}/24", node_ip(i)),
                "dev",
                "eth0",
            ])?;
            ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        }
        Ok(network)
    }

    /// Cuts node `i` off (its veth down), or joins it again.
    fn set_isolated(&self, i: usize, isolated: bool) -> Result<()> {
        ip(&[
            "link",
            "set",
            &veth(i),
            if isolated { "down" } else { "up" },
        ])
    }

    /// Moves `nodes` to the other bridge (apart from the rest and from this
    /// host), or back.
    fn set_apart(&self, nodes: &[usize], apart: bool) -> Result<()> {
        for &i in nodes {
            ip(&[
                "link",
                "set",
                &veth(i),
                "master",
                if apart { BRIDGE_APART } else { BRIDGE },
            ])?;
        }
        Ok(())
    }

    /// Removes what an earlier run may have left; errors mean "not there".
    fn remove() {
        for i in 0..NODES {
            let _ = ip(&["netns", "del", &namespace(i)]);
            let _ = ip(&["link", "del", &veth(i)]);
        }
        let _ = ip(&["link", "del", BRIDGE]);
        let _ = ip(&["link", "del", BRIDGE_APART]);
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        Self::remove();
    }
}

/// One validator's process.
struct Node {
    index: usize,
    home: PathBuf,
    rpc: SocketAddr,
    child: Option<Child>,
}

impl Node {
    fn start(&mut self, gont: &Path) -> Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.home.join("node.log"))?;
        let child = Command::new("ip")
            .args(["netns", "exec", &namespace(self.index)])
            .arg(gont)
            .arg("start")
            .arg("--home")
            .arg(&self.home)
            .arg("--passphrase-file")
            .arg(self.home.join(PASSPHRASE_FILE))
            .stdout(log.try_clone()?)
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("starting node{}", self.index))?;
        self.child = Some(child);
        Ok(())
    }

    fn signal(&self, signal: &str) -> Result<()> {
        let pid = self
            .child
            .as_ref()
            .map(Child::id)
            .ok_or_else(|| anyhow!("node{} is not running", self.index))?;
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()?;
        if !status.success() {
            bail!("kill {signal} {pid} failed");
        }
        Ok(())
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if self.child.is_some() {
            let _ = self.signal("-CONT");
        }
        self.kill();
    }
}

/// One JSON-RPC call over a fresh connection, within [`RPC_TIMEOUT`]: the
/// `result`, or the error object's message as `Err(Some(..))`, or
/// `Err(None)` if the node did not answer.
fn rpc(addr: SocketAddr, method: &str, params: &Value) -> Result<Value, Option<String>> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let exchange = || -> std::io::Result<Vec<u8>> {
        let mut stream = TcpStream::connect_timeout(&addr, RPC_TIMEOUT)?;
        stream.set_read_timeout(Some(RPC_TIMEOUT))?;
        stream.set_write_timeout(Some(RPC_TIMEOUT))?;
        write!(
            stream,
            "POST / HTTP/1.1\r\nHost: node\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
        let mut out = Vec::new();
        stream.read_to_end(&mut out)?;
        Ok(out)
    };
    let out = exchange().map_err(|_| None)?;
    let text = String::from_utf8_lossy(&out);
    let answer: Value = text
        .split_once("\r\n\r\n")
        .and_then(|(_, body)| serde_json::from_str(body).ok())
        .ok_or(None)?;
    match answer.get("error") {
        Some(error) => Err(Some(error["message"].as_str().unwrap_or("?").to_owned())),
        None => Ok(answer.get("result").cloned().unwrap_or(Value::Null)),
    }
}

fn height(addr: SocketAddr) -> Option<u64> {
    rpc(addr, "eth_blockNumber", &json!([]))
        .ok()
        .as_ref()
        .and_then(quantity)
}

/// The highest height any of `nodes` answers with.
fn best_height(nodes: &[SocketAddr]) -> u64 {
    nodes.iter().filter_map(|a| height(*a)).max().unwrap_or(0)
}

/// A transaction a node acknowledged with its hash.
#[derive(Clone, Debug)]
struct Acknowledged {
    hash: B256,
    sender: usize,
    nonce: u64,
}

/// A development account the load sends from.
struct Sender {
    secret: B256,
    nonce: u64,
}

fn sign_transfer(sender: &Sender, chain_id: u64) -> Result<(B256, String)> {
    let tx = TxEip1559 {
        chain_id,
        nonce: sender.nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 100_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(Address::repeat_byte(0xc4)),
        value: U256::from(1u64),
        access_list: Default::default(),
        input: Bytes::new(),
    };
    let signature =
        sign_message(sender.secret, tx.signature_hash()).map_err(|e| anyhow!("signing: {e}"))?;
    let signed = tx.into_signed(signature);
    let mut raw = Vec::with_capacity(signed.eip2718_encoded_length());
    signed.eip2718_encode(&mut raw);
    Ok((*signed.hash(), hex::encode_prefixed(raw)))
}

/// Sends transfers at `rate` per second to whichever node answers until
/// `stop`, recording every acknowledged hash.
fn load(
    nodes: &[SocketAddr],
    rate: u32,
    chain_id: u64,
    stop: &AtomicBool,
    acked: &Mutex<Vec<Acknowledged>>,
) -> Result<()> {
    let mut senders = DEV_PRIVATE_KEYS
        .iter()
        .take(10)
        .map(|k| {
            let secret: B256 = k.parse().map_err(|e| anyhow!("a development key: {e}"))?;
            Ok(Sender { secret, nonce: 0 })
        })
        .collect::<Result<Vec<_>>>()?;
    let tick = Duration::from_secs(1) / rate.max(1);
    let (mut turn, mut first_node) = (0usize, 0usize);
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(tick);
        let index = turn % senders.len();
        turn += 1;
        let Some(sender) = senders.get_mut(index) else {
            continue;
        };
        let (hash, raw) = sign_transfer(sender, chain_id)?;
        first_node += 1;
        for k in 0..nodes.len() {
            let Some(&addr) = nodes.get((first_node + k) % nodes.len()) else {
                continue;
            };
            let answer = rpc(addr, "eth_sendRawTransaction", &json!([raw]));
            // Acknowledged: a hash, or already pooled there.
            let acknowledged = match &answer {
                Ok(_) => true,
                Err(Some(message)) => message == "already known",
                Err(None) => false,
            };
            if acknowledged {
                if let Ok(mut acked) = acked.lock() {
                    acked.push(Acknowledged {
                        hash,
                        sender: index,
                        nonce: sender.nonce,
                    });
                }
                sender.nonce += 1;
                break;
            }
            if let Err(Some(message)) = &answer
                && message.starts_with("nonce too low")
            {
                // Its nonce was used, by a transaction this node already has
                // (acknowledged earlier): count on from its view.
                let address = DEV_ADDRESSES.get(index).context("a development address")?;
                if let Ok(pending) = rpc(
                    addr,
                    "eth_getTransactionCount",
                    &json!([address, "pending"]),
                ) && let Some(n) = quantity(&pending)
                {
                    sender.nonce = n.max(sender.nonce);
                }
                break;
            }
            // Refused here for another reason, or no answer: the next node.
        }
    }
    Ok(())
}

/// What one perturbation did.
struct Row {
    what: String,
    secs: f64,
    before: u64,
    after: u64,
    /// Heights committed while it lasted (for the 2 | 2 partition, from
    /// 2 s after it began until it was healed).
    during: u64,
    /// Seconds until the next height once it was over.
    resumed_in: Option<f64>,
}

/// A perturbation of the schedule.
#[derive(Clone, Debug)]
enum Perturbation {
    Kill(usize),
    Stop(Vec<usize>),
    Isolate(usize),
    Split,
}

fn schedule(total: Duration, pause: Duration) -> Vec<Perturbation> {
    let cycle = [
        Perturbation::Kill(1),
        Perturbation::Stop(vec![2]),
        Perturbation::Stop(vec![2, 3]),
        Perturbation::Isolate(3),
        Perturbation::Split,
        Perturbation::Kill(0),
        Perturbation::Stop(vec![1]),
        Perturbation::Stop(vec![0, 1]),
        Perturbation::Isolate(2),
        Perturbation::Split,
    ];
    let recovery = pause / 2;
    let mut out = Vec::new();
    let mut used = Duration::ZERO;
    for p in cycle.iter().cycle() {
        let length = match p {
            Perturbation::Kill(_) => DOWN,
            _ => pause,
        } + recovery;
        if used + length > total && out.len() >= 5 {
            break;
        }
        used += length;
        out.push(p.clone());
    }
    out
}

/// Waits until the height of `nodes` passes `than`; how long that took.
fn wait_past(nodes: &[SocketAddr], than: u64, patience: Duration) -> Option<f64> {
    let started = Instant::now();
    while started.elapsed() < patience {
        if best_height(nodes) > than {
            return Some(started.elapsed().as_secs_f64());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    None
}

fn perturb(
    p: &Perturbation,
    nodes: &mut [Node],
    network: &Network,
    gont: &Path,
    pause: Duration,
) -> Result<Row> {
    let rpcs: Vec<SocketAddr> = nodes.iter().map(|n| n.rpc).collect();
    let before = best_height(&rpcs);
    let started = Instant::now();
    let mut during = 0;
    let what = match p {
        Perturbation::Kill(i) => {
            let node = nodes.get_mut(*i).context("no such node")?;
            node.kill();
            std::thread::sleep(DOWN);
            node.start(gont)?;
            format!("kill -9 node{i}, restart after {}s", DOWN.as_secs())
        }
        Perturbation::Stop(which) => {
            for &i in which {
                nodes.get(i).context("no such node")?.signal("-STOP")?;
            }
            std::thread::sleep(pause);
            for &i in which {
                nodes.get(i).context("no such node")?.signal("-CONT")?;
            }
            let names: Vec<String> = which.iter().map(|i| format!("node{i}")).collect();
            format!("SIGSTOP {} for {}s", names.join(" and "), pause.as_secs())
        }
        Perturbation::Isolate(i) => {
            network.set_isolated(*i, true)?;
            std::thread::sleep(pause);
            network.set_isolated(*i, false)?;
            format!("node{i} isolated for {}s", pause.as_secs())
        }
        Perturbation::Split => {
            network.set_apart(&[2, 3], true)?;
            std::thread::sleep(Duration::from_secs(2));
            let side = rpcs.get(..2).unwrap_or_default();
            let from = best_height(side);
            std::thread::sleep(pause.saturating_sub(Duration::from_secs(2)));
            during = best_height(side).saturating_sub(from);
            network.set_apart(&[2, 3], false)?;
            format!(
                "partition: node0 node1 apart from node2 node3 for {}s",
                pause.as_secs()
            )
        }
    };
    let secs = started.elapsed().as_secs_f64();
    let settled = best_height(&rpcs);
    let resumed_in = wait_past(&rpcs, settled, Duration::from_secs(60));
    std::thread::sleep(pause / 2);
    if !matches!(p, Perturbation::Split) {
        during = settled.saturating_sub(before);
    }
    Ok(Row {
        what,
        secs,
        before,
        after: best_height(&rpcs),
        during,
        resumed_in,
    })
}

fn run(args: &Args) -> Result<bool> {
    let _ = std::fs::remove_dir_all(&args.dir);
    let now = gont_node::wall_clock();
    let mut plan = devnet_plan::plan_with(
        &args.dir,
        DevnetShape::new(NODES, 0),
        DevnetPorts {
            rpc: devnet_plan::SPACE_RPC_PORT,
            base: devnet_plan::BASE_PORT,
        },
        now,
    );
    relocate(&mut plan);
    devnet_plan::prepare(&plan).context("writing the node homes")?;
    let chain_id = plan.genesis.chain_id.0;
    let network = Network::create()?;
    let mut nodes: Vec<Node> = plan
        .nodes
        .iter()
        .map(|n| Node {
            index: n.index,
            home: n.home.clone(),
            rpc: n
                .config
                .chains
                .first()
                .and_then(|c| c.rpc)
                .unwrap_or_else(|| SocketAddr::from((node_ip(n.index), 0))),
            child: None,
        })
        .collect();
    for node in &mut nodes {
        node.start(&args.gont)?;
    }
    let rpcs: Vec<SocketAddr> = nodes.iter().map(|n| n.rpc).collect();
    if wait_past(&rpcs, 1, Duration::from_secs(120)).is_none() {
        bail!(
            "the devnet decided no block within 120 s; see {}/node*/node.log",
            args.dir.display()
        );
    }
    println!(
        "4 validators in network namespaces at 10.77.0.1-4; load {} tx/s",
        args.rate
    );

    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let loader = {
        let (rpcs, stop, acked) = (rpcs.clone(), stop.clone(), acked.clone());
        let rate = args.rate;
        std::thread::spawn(move || load(&rpcs, rate, chain_id, &stop, &acked))
    };
    let pause = if args.minutes >= 5.0 { 30 } else { 15 };
    let pause = Duration::from_secs(pause);
    let total = Duration::from_secs_f64(args.minutes.max(0.5) * 60.0);
    let started = Instant::now();
    std::thread::sleep(pause / 2);
    let mut rows = Vec::new();
    for p in schedule(total, pause) {
        let row = perturb(&p, &mut nodes, &network, &args.gont, pause)?;
        println!(
            "  {:<48} heights {} -> {}, {} during",
            row.what, row.before, row.after, row.during
        );
        rows.push((p, row));
    }
    stop.store(true, Ordering::Relaxed);
    loader
        .join()
        .map_err(|_| anyhow!("the load thread panicked"))??;
    let acked = acked.lock().map(|a| a.clone()).unwrap_or_default();
    let lost = wait_for_inclusion(&rpcs, &acked);
    let (compared, disagreeing) = agreement(&rpcs)?;
    let stall = longest_stall(*rpcs.first().context("no nodes")?)?;
    report(
        &rows,
        started.elapsed(),
        compared,
        disagreeing,
        acked.len(),
        &lost,
        stall,
    );
    let split_ok = rows.iter().all(|(p, r)| {
        !matches!(p, Perturbation::Split) || (r.during == 0 && r.resumed_in.is_some())
    });
    let resumed = rows.iter().all(|(_, r)| r.resumed_in.is_some());
    for node in &mut nodes {
        let _ = node.signal("-TERM");
    }
    std::thread::sleep(Duration::from_secs(2));
    drop(nodes);
    drop(network);
    Ok(disagreeing == 0 && lost.is_empty() && split_ok && resumed && compared > 0)
}

/// Puts each node's listen addresses on its own IP, and the addresses of
/// its peers on theirs (a port's owner is `(port - base) / 100`).
fn relocate(plan: &mut DevnetPlan) {
    let base = plan.ports.base;
    let owner_ip = |port: u16| node_ip(usize::from(port.saturating_sub(base) / 100));
    let move_multiaddr = |addr: &str, ip: Option<Ipv4Addr>| -> String {
        let port: u16 = addr
            .rsplit('/')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let ip = ip.unwrap_or_else(|| owner_ip(port));
        addr.replacen("127.0.0.1", &ip.to_string(), 1)
    };
    for node in &mut plan.nodes {
        let own = node_ip(node.index);
        let config = &mut node.config;
        config.p2p.listen = move_multiaddr(&config.p2p.listen, Some(own));
        for b in &mut config.p2p.bootstrap {
            *b = b
                .split_once("/p2p/")
                .map(|(a, id)| format!("{}/p2p/{id}", move_multiaddr(a, None)))
                .unwrap_or_else(|| b.clone());
        }
        if let Some(m) = &mut config.metrics {
            m.listen.set_ip(own.into());
        }
        for chain in &mut config.chains {
            if let Some(rpc) = &mut chain.rpc {
                rpc.set_ip(own.into());
            }
            chain.consensus.listen = move_multiaddr(&chain.consensus.listen, Some(own));
            for peer in &mut chain.consensus.peers {
                *peer = move_multiaddr(peer, None);
            }
        }
    }
}
