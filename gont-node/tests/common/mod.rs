//! A `gont devnet` process for the end-to-end tests: started on its own
//! ports in a temporary directory, ready once it prints `Ready after`, and
//! stopped when dropped (paused nodes are resumed first, the devnet is
//! killed, and the drop waits until every node process is gone).
//!
//! Each test binary gives its devnets their own ports, all below 32768:
//! outside Linux's ephemeral range (32768–60999), so that no outgoing
//! connection of another test can hold one when a node binds it (a run
//! with ports in that range failed with "metrics listener on
//! 127.0.0.1:37390: Address already in use"). In use (RPC / base port):
//! `devnet.rs` 20545 / 20600, `heal.rs` 21545 / 21600 and 22545 / 22600,
//! `light_client.rs` 23545 / 23600, `anchoring.rs` 24545 / 24600 (five
//! nodes), `staking.rs` 26545 / 26600 and 27545 / 27600 (four validators and a
//! follower); `rollback.rs`'s one node (RPC / consensus) 28545 / 28600;
//! `flood.rs` 29545 / 29600.

// Test code: a failed unwrap, index or panic is the test failing, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
// Each test binary uses the part of this module it needs.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

/// GONT Space's chain id in the devnet genesis; the service's is one more.
pub(crate) const SPACE: u64 = 31337;

/// A running `gont devnet` with one service (4 validators unless asked).
pub(crate) struct Devnet {
    child: Option<Child>,
    /// Every line the devnet printed so far.
    output: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    dir: std::path::PathBuf,
    rpc_port: u16,
    base_port: u16,
}

impl Devnet {
    /// Starts (or restarts, from `dir`) a devnet and waits for `Ready`.
    pub(crate) fn start(dir: &Path, rpc_port: u16, base_port: u16) -> Self {
        Self::start_with(dir, 4, rpc_port, base_port)
    }

    /// [`Self::start`] with `validators` nodes; the service runs on all
    /// of them but node 0.
    pub(crate) fn start_with(dir: &Path, validators: usize, rpc_port: u16, base_port: u16) -> Self {
        Self::start_args(dir, validators, &[], rpc_port, base_port)
    }

    /// [`Self::start_with`] with more `gont devnet` arguments.
    pub(crate) fn start_args(
        dir: &Path,
        validators: usize,
        extra: &[&str],
        rpc_port: u16,
        base_port: u16,
    ) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gont"))
            .args([
                "devnet",
                "--validators",
                &validators.to_string(),
                "--services",
                "1",
                // The waits of these tests are reckoned in 1 s blocks, not
                // the devnet's default.
                "--block-time-ms",
                "1000",
            ])
            .args(extra)
            .arg("--dir")
            .arg(dir)
            .args(["--rpc-port", &rpc_port.to_string()])
            .args(["--base-port", &base_port.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let output = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let lines = output.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                println!("devnet: {line}");
                if line.starts_with("Ready after") {
                    let _ = tx.send(());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let devnet = Self {
            child: Some(child),
            output,
            dir: dir.to_owned(),
            rpc_port,
            base_port,
        };
        rx.recv_timeout(Duration::from_secs(240))
            .expect("the devnet became ready");
        devnet
    }

    /// Whether the devnet printed a line containing `needle`.
    #[allow(dead_code)] // Not every test binary that shares this module asks.
    pub(crate) fn printed(&self, needle: &str) -> bool {
        self.output
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains(needle))
    }

    /// The node processes, in node order (0 for a node not running).
    pub(crate) fn pids(&self) -> Vec<i32> {
        std::fs::read_to_string(self.dir.join("pids"))
            .unwrap_or_default()
            .lines()
            .map(|l| l.parse().unwrap_or(0))
            .collect()
    }

    /// Sends `signal` to the nodes `nodes`.
    pub(crate) fn signal(&self, nodes: &[usize], signal: Signal) {
        let pids = self.pids();
        for &node in nodes {
            kill_process(Pid::from_raw(pids[node]).unwrap(), signal).unwrap();
        }
    }

    /// The devnet process itself.
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// The JSON-RPC of `chain` on node `i` (see `gont_node::devnet_plan`).
    pub(crate) fn rpc(&self, i: usize, chain: u64) -> SocketAddr {
        let k = u16::try_from(chain - SPACE).unwrap();
        // The service's first participant is node 1.
        let first = if chain == SPACE { 0 } else { 1 };
        let port = if i == first {
            self.rpc_port + k
        } else {
            self.base_port + 50 + 100 * u16::try_from(i).unwrap() + k
        };
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// Node `i`'s `/metrics` text.
    #[allow(dead_code)] // Not every test binary that shares this module asks.
    pub(crate) fn metrics(&self, i: usize) -> String {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.metrics_port(i))).unwrap();
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: gont\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        text
    }

    /// Node `i`'s metrics port.
    pub(crate) fn metrics_port(&self, i: usize) -> u16 {
        self.base_port + 90 + 100 * u16::try_from(i).unwrap()
    }

    /// Waits for the devnet process to exit (after a signal) and returns
    /// its status; then waits until its nodes are gone.
    pub(crate) fn wait(mut self) -> std::process::ExitStatus {
        let pids = self.pids();
        let status = self.child.take().unwrap().wait().unwrap();
        assert!(wait_gone(&pids), "nodes {pids:?} outlived the devnet");
        status
    }

    /// Kills the devnet process outright (its nodes get SIGTERM from the
    /// kernel) and waits until they are gone.
    pub(crate) fn kill(mut self) {
        let pids = self.pids();
        assert!(self.stop(), "nodes {pids:?} outlived the devnet");
    }

    /// Resumes paused nodes, kills the devnet, and tells whether its nodes
    /// were gone within a minute.
    fn stop(&mut self) -> bool {
        let pids = self.pids();
        // A stopped node would not see the SIGTERM its parent's death sends.
        for &pid in &pids {
            if let Some(pid) = Pid::from_raw(pid) {
                let _ = kill_process(pid, Signal::CONT);
            }
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        wait_gone(&pids)
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            self.keep_logs();
        }
    }
}

impl Devnet {
    /// After a failed test: copies every node's log out of the temporary
    /// directory (which the test is about to remove) and prints the last
    /// lines of each, so that a CI run shows why the nodes did what they did.
    fn keep_logs(&self) {
        let kept = std::env::temp_dir().join(format!(
            "gont-test-logs-{}-{}",
            std::process::id(),
            self.rpc_port
        ));
        let _ = std::fs::create_dir_all(&kept);
        for i in 0.. {
            let log = self.dir.join(format!("node{i}")).join("node.log");
            let Ok(text) = std::fs::read_to_string(&log) else {
                break;
            };
            let _ = std::fs::write(kept.join(format!("node{i}.log")), &text);
            let lines: Vec<&str> = text.lines().collect();
            eprintln!("---- node{i}.log, last 40 of {} lines ----", lines.len());
            for line in &lines[lines.len().saturating_sub(40)..] {
                eprintln!("{line}");
            }
        }
        eprintln!("---- node logs kept in {} ----", kept.display());
    }
}

/// Waits up to a minute until none of `pids` runs; tells whether they
/// are gone.
fn wait_gone(pids: &[i32]) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while pids
        .iter()
        .any(|p| Path::new(&format!("/proc/{p}")).exists())
    {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    true
}

/// The result of JSON-RPC `method` at `addr`; panics with the method's
/// name on an error.
pub(crate) fn call(
    addr: SocketAddr,
    method: &str,
    params: &serde_json::Value,
) -> serde_json::Value {
    gont_node::client::blocking::call(addr, method, params)
        .unwrap_or_else(|e| panic!("{method}: {e}"))
}

/// `who`'s balance at the latest block of the chain served at `addr`.
pub(crate) fn balance(addr: SocketAddr, who: alloy_primitives::Address) -> alloy_primitives::U256 {
    call(addr, "eth_getBalance", &serde_json::json!([who, "latest"]))
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Polls `check` every 250 ms until it gives a value; panics with `what`
/// after `within`.
pub(crate) fn wait_for<T>(
    within: std::time::Duration,
    what: &str,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let start = std::time::Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

/// The head height `eth_blockNumber` gives at `rpc`.
pub(crate) fn height(rpc: SocketAddr) -> u64 {
    gont_node::client::quantity(&call(rpc, "eth_blockNumber", &serde_json::json!([]))).unwrap()
}

/// Now, by the system clock.
pub(crate) fn now() -> gont_core::Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    gont_core::Timestamp(u64::try_from(ms).unwrap())
}

/// A light client trusting `chain`'s genesis, as read from the devnet's
/// genesis file.
pub(crate) fn genesis_client(
    genesis: &gont_core::Genesis,
    chain: u64,
) -> gont_core::light::LightClient {
    let chain = gont_core::ChainId(chain);
    let (validators, _) = genesis.chain_consensus(chain).unwrap().unwrap();
    gont_core::light::LightClient::from_genesis(
        chain,
        genesis.genesis_time,
        &validators,
        gont_core::light::TrustOptions::default(),
    )
    .unwrap()
}

/// A one-validator home under `home` (`gont init` without a genesis, the
/// validator key encrypted with `passphrase`): p2p on any free port,
/// JSON-RPC on `rpc`, consensus on `consensus_port`; `adjust` edits the
/// genesis and the config before they are written.
pub(crate) fn one_validator_home(
    home: &Path,
    passphrase: &str,
    rpc: SocketAddr,
    consensus_port: u16,
    adjust: impl FnOnce(&mut gont_core::Genesis, &mut gont_node::config::NodeConfig),
) {
    use gont_node::config::{NodeConfig, files};
    gont_node::home::init(gont_node::home::InitOptions {
        home,
        genesis: None,
        moniker: "one".into(),
        passphrase,
        now: now(),
    })
    .unwrap();
    let genesis_path = home.join(files::GENESIS);
    let mut genesis =
        gont_core::Genesis::from_json(&std::fs::read_to_string(&genesis_path).unwrap()).unwrap();
    let mut config = NodeConfig::load(home).unwrap();
    config.p2p.listen = "/ip4/127.0.0.1/tcp/0".into();
    let chain = &mut config.chains[0];
    chain.rpc = Some(rpc);
    chain.consensus.listen = format!("/ip4/127.0.0.1/tcp/{consensus_port}");
    adjust(&mut genesis, &mut config);
    std::fs::write(&genesis_path, genesis.to_json()).unwrap();
    std::fs::write(home.join(files::CONFIG), config.to_toml()).unwrap();
    assert_eq!(NodeConfig::load(home).unwrap(), config);
}
