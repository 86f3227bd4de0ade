//! `gont devnet`: a local network of real node processes on loopback.
//!
//! The devnet is `validators` node processes (`gont start`), each with its
//! own home under the devnet directory, talking over real libp2p sockets on
//! 127.0.0.1. GONT Space is validated by every validator node; each example
//! service by a strict subset of them (see `Genesis::devnet`). Followers
//! (`--followers`) are more nodes, after the validators, that run every
//! chain with a validator key outside the genesis sets: node `i` validates
//! once development account `10 + i` stakes for its key. Ports are fixed so
//! that tools can be pointed at the devnet without reading its output:
//!
//! | what | where |
//! |---|---|
//! | GONT Space JSON-RPC (node 0) | 127.0.0.1:8545 |
//! | service `s` JSON-RPC (its first participant) | 127.0.0.1:8545 + s |
//! | every other chain's JSON-RPC on node `i` | 127.0.0.1:`40050 + 100 i + k` |
//! | node `i`'s libp2p | 127.0.0.1:`40000 + 100 i` |
//! | node `i`'s consensus network of chain `k` (0 = Space) | 127.0.0.1:`40010 + 100 i + k` |
//! | node `i`'s metrics | 127.0.0.1:`40090 + 100 i` |
//!
//! A second run with the same directory starts the same nodes from their
//! data: heights and balances continue.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use gont_core::genesis::DevnetChain;
use gont_core::{ChainId, Genesis, ServiceId, Timestamp};

use crate::config::{
    ChainConfig, ConsensusNetConfig, MetricsConfig, NodeConfig, P2pConfig, RelayerConfig, files,
};
use crate::home::{self, HomeError};

/// The passphrase of devnet keystores (their keys are public anyway).
pub const DEVNET_PASSPHRASE: &str = "gont-devnet";

/// The file in each devnet node's home that holds [`DEVNET_PASSPHRASE`],
/// so that a node can be started by hand: `gont start --home HOME
/// --passphrase-file HOME/passphrase`.
pub const PASSPHRASE_FILE: &str = "passphrase";

/// The first port of node 0's block; node `i` uses `BASE_PORT + 100 i ..`.
pub const BASE_PORT: u16 = 40_000;

/// The JSON-RPC port of GONT Space on node 0.
pub const SPACE_RPC_PORT: u16 = 8545;

/// One node of a devnet plan.
#[derive(Clone, Debug)]
pub struct DevnetNode {
    /// Its index.
    pub index: usize,
    /// Its home directory.
    pub home: PathBuf,
    /// Its configuration.
    pub config: NodeConfig,
}

/// Every node of a devnet, and the genesis they share.
#[derive(Clone, Debug)]
pub struct DevnetPlan {
    /// The genesis.
    pub genesis: Genesis,
    /// The nodes.
    pub nodes: Vec<DevnetNode>,
    /// Its ports.
    pub ports: DevnetPorts,
}

/// The ports a devnet uses: the Space's JSON-RPC port (services follow
/// it) and the first port of node 0's block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DevnetPorts {
    /// GONT Space's JSON-RPC on node 0; service `s` gets `rpc + s`.
    pub rpc: u16,
    /// Node `i`'s block starts at `base + 100 i`.
    pub base: u16,
}

impl Default for DevnetPorts {
    fn default() -> Self {
        Self {
            rpc: SPACE_RPC_PORT,
            base: BASE_PORT,
        }
    }
}

fn port_at(base: u16, index: usize, offset: usize) -> u16 {
    let p = usize::from(base) + 100 * index + offset;
    u16::try_from(p).unwrap_or(u16::MAX)
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn multiaddr(port: u16) -> String {
    format!("/ip4/127.0.0.1/tcp/{port}")
}

/// The deterministic libp2p key of devnet node `index`.
pub fn devnet_node_key(index: usize) -> gont_net::NodeKey {
    gont_net::NodeKey::from_secret(blake3::derive_key(
        "gont devnet node key v1",
        index.to_string().as_bytes(),
    ))
}

/// The chains (0 = Space, then services in genesis order) node `index` runs:
/// a validator node runs the Space and the services it validates; a
/// follower (index past the validators) runs them all.
fn chains_of(genesis: &Genesis, index: usize) -> Vec<(usize, ChainId, Option<ServiceId>)> {
    let mut out = vec![(0, genesis.chain_id, None)];
    let follower = index >= genesis.validators.len();
    for (k, service) in genesis.services.iter().enumerate() {
        let participant_nodes =
            gont_core::genesis::devnet_service_nodes(genesis.validators.len(), k);
        if follower || participant_nodes.contains(&index) {
            out.push((k + 1, service.chain_id, Some(service.id)));
        }
    }
    out
}

/// The JSON-RPC address of chain `k` on node `index`.
fn rpc_addr(genesis: &Genesis, ports: DevnetPorts, index: usize, k: usize) -> SocketAddr {
    let port = |index, offset| port_at(ports.base, index, offset);
    if k == 0 && index == 0 {
        return loopback(ports.rpc);
    }
    if k > 0
        && gont_core::genesis::devnet_service_nodes(genesis.validators.len(), k - 1).first()
            == Some(&index)
    {
        return loopback(ports.rpc + u16::try_from(k).unwrap_or(0));
    }
    loopback(port(index, 50 + k))
}

/// `gont devnet`'s target block time on every chain, in milliseconds.
/// Chosen with `cargo xtask bench devnet` on the 2-core machine: at 1000
/// transactions a second, 1000 ms blocks included them with p50 1024 ms
/// (p99 1618), 500 ms blocks with p50 563 ms (900), 250 ms blocks with p50
/// 251 ms (469); at 1500 a second, 1000 and 500 ms blocks filled the pool
/// (1220 and 1275 included a second) and 250 ms blocks included 1455. An
/// idle devnet (Space and one service) then takes 0.32 cores instead of
/// 0.10.
pub const DEVNET_BLOCK_TIME_MS: u64 = 250;

/// The shape of a devnet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DevnetShape {
    /// Validator nodes (the genesis validators of the Space).
    pub validators: usize,
    /// Example services.
    pub services: usize,
    /// Nodes past the validators that run every chain with a validator key
    /// of their own outside the genesis sets: they follow, and validate
    /// once their operator (account `10 + i`) stakes for them.
    pub followers: usize,
    /// Every chain's `epoch_length`, if not `Genesis::devnet`'s.
    pub epoch_length: Option<u64>,
    /// Every chain's `unbonding_period_blocks`, if not `Genesis::devnet`'s.
    pub unbonding_period_blocks: Option<u64>,
    /// Every chain's `staking.signed_blocks_window`, if not
    /// `Genesis::devnet`'s.
    pub signed_blocks_window: Option<u64>,
    /// Every chain's `target_block_time_ms`, if not `Genesis::devnet`'s
    /// (`gont devnet` gives [`DEVNET_BLOCK_TIME_MS`]).
    pub block_time_ms: Option<u64>,
}

impl DevnetShape {
    /// `validators` validators and `services` services, nothing else.
    pub const fn new(validators: usize, services: usize) -> Self {
        Self {
            validators,
            services,
            followers: 0,
            epoch_length: None,
            unbonding_period_blocks: None,
            signed_blocks_window: None,
            block_time_ms: None,
        }
    }

    /// The genesis of this shape, at `genesis_time`.
    pub fn genesis(&self, genesis_time: Timestamp) -> Genesis {
        let mut genesis = Genesis::devnet(self.validators, self.services);
        genesis.genesis_time = genesis_time;
        let params = std::iter::once(&mut genesis.consensus)
            .chain(genesis.services.iter_mut().map(|s| &mut s.params));
        for p in params {
            if let Some(epoch) = self.epoch_length {
                p.epoch_length = epoch;
            }
            if let Some(unbonding) = self.unbonding_period_blocks {
                p.unbonding_period_blocks = unbonding;
            }
            if let Some(window) = self.signed_blocks_window {
                p.staking.signed_blocks_window = window;
            }
            if let Some(ms) = self.block_time_ms {
                p.target_block_time_ms = ms;
            }
        }
        genesis
    }
}

/// The plan of a devnet of `shape` under `dir`, on `ports`, whose genesis
/// is at `genesis_time`. `gont devnet` takes the time of its first start
/// (so that light clients may trust the genesis within their trusting
/// period) and keeps it on restarts.
pub fn plan_with(
    dir: &Path,
    shape: DevnetShape,
    ports: DevnetPorts,
    genesis_time: Timestamp,
) -> DevnetPlan {
    let port = |index, offset| port_at(ports.base, index, offset);
    let genesis = shape.genesis(genesis_time);
    let nodes_count = shape.validators + shape.followers;
    let bootstrap = format!("{}/p2p/{}", multiaddr(port(0, 0)), devnet_node_key(0).id());
    let nodes = (0..nodes_count)
        .map(|i| {
            let chains: Vec<ChainConfig> = chains_of(&genesis, i)
                .into_iter()
                .map(|(k, chain_id, _)| {
                    let peers = (0..nodes_count)
                        .filter(|&j| {
                            j != i
                                && chains_of(&genesis, j)
                                    .iter()
                                    .any(|(_, c, _)| *c == chain_id)
                        })
                        .map(|j| multiaddr(port(j, 10 + k)))
                        .collect();
                    ChainConfig {
                        chain_id,
                        rpc: Some(rpc_addr(&genesis, ports, i, k)),
                        // Loopback only: any page on this machine may call.
                        rpc_cors: vec!["*".to_owned()],
                        rpc_allow_unprotected_txs: false,
                        validator_key: Some(home::validator_key_path(chain_id)),
                        consensus: ConsensusNetConfig {
                            listen: multiaddr(port(i, 10 + k)),
                            peers,
                        },
                    }
                })
                .collect();
            DevnetNode {
                index: i,
                home: dir.join(format!("node{i}")),
                config: NodeConfig {
                    moniker: format!("node{i}"),
                    p2p: P2pConfig {
                        listen: multiaddr(port(i, 0)),
                        bootstrap: if i == 0 {
                            Vec::new()
                        } else {
                            vec![bootstrap.clone()]
                        },
                    },
                    metrics: Some(MetricsConfig {
                        listen: loopback(port(i, 90)),
                    }),
                    storage: crate::config::StorageConfig::default(),
                    txpool: crate::mempool::MempoolConfig::default(),
                    rpc: crate::rpc::RpcLimits::default(),
                    // A validator node that runs a service relays its
                    // checkpoints (followers have no funded relayer).
                    relayer: (chains.len() > 1 && i < shape.validators).then(|| RelayerConfig {
                        keystore: home::relayer_key_path(),
                    }),
                    chains,
                },
            }
        })
        .collect();
    DevnetPlan {
        genesis,
        nodes,
        ports,
    }
}

/// Writes the homes of a plan, unless they exist already (a restart).
/// Returns whether they were created.
pub fn prepare(plan: &DevnetPlan) -> Result<bool, HomeError> {
    let existing = plan
        .nodes
        .iter()
        .filter(|n| n.home.join(files::CONFIG).exists())
        .count();
    for node in &plan.nodes {
        write_passphrase_file(&node.home)?;
    }
    if existing == plan.nodes.len() {
        return Ok(false);
    }
    for node in &plan.nodes {
        if node.home.join(files::CONFIG).exists() {
            continue;
        }
        let io = |source| HomeError::Io {
            path: node.home.clone(),
            source,
        };
        std::fs::create_dir_all(node.home.join(files::KEYSTORE)).map_err(io)?;
        let key_path = node.home.join(gont_net::NODE_KEY_FILE);
        if !key_path.exists() {
            devnet_node_key(node.index).save(&node.home)?;
        }
        if node.config.relayer.is_some() && !node.home.join(home::relayer_key_path()).exists() {
            home::write_devnet_relayer_key(&node.home, node.index, DEVNET_PASSPHRASE)?;
        }
        for (_, chain_id, service) in chains_of(&plan.genesis, node.index) {
            let chain = service.map_or(DevnetChain::Space, DevnetChain::Service);
            if !node.home.join(home::validator_key_path(chain_id)).exists() {
                home::write_devnet_key(&node.home, chain, chain_id, node.index, DEVNET_PASSPHRASE)?;
            }
        }
        let genesis_path = node.home.join(files::GENESIS);
        std::fs::write(&genesis_path, plan.genesis.to_json()).map_err(|source| HomeError::Io {
            path: genesis_path,
            source,
        })?;
        let config_path = node.home.join(files::CONFIG);
        std::fs::write(&config_path, node.config.to_toml()).map_err(|source| HomeError::Io {
            path: config_path,
            source,
        })?;
    }
    Ok(true)
}

/// Writes [`PASSPHRASE_FILE`] into `home` (created), readable by its owner
/// only, unless it is there.
fn write_passphrase_file(home: &Path) -> Result<(), HomeError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = home.join(PASSPHRASE_FILE);
    let io = |source| HomeError::Io {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(home).map_err(io)?;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
    {
        Ok(mut file) => file
            .write_all(format!("{DEVNET_PASSPHRASE}\n").as_bytes())
            .map_err(io),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io(e)),
    }
}

/// The JSON-RPC address of GONT Space (index 0) and of each service, as
/// the banner prints them.
pub fn endpoints(plan: &DevnetPlan) -> Vec<(ChainId, SocketAddr)> {
    let mut out = vec![(
        plan.genesis.chain_id,
        rpc_addr(&plan.genesis, plan.ports, 0, 0),
    )];
    for (k, s) in plan.genesis.services.iter().enumerate() {
        let first = gont_core::genesis::devnet_service_nodes(plan.genesis.validators.len(), k)
            .first()
            .copied()
            .unwrap_or(0);
        out.push((
            s.chain_id,
            rpc_addr(&plan.genesis, plan.ports, first, k + 1),
        ));
    }
    out
}

/// What the devnet prints once it runs: endpoints, chain ids, accounts.
pub fn banner(plan: &DevnetPlan, dir: &Path) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "GONT devnet: {} validators, {} follower(s), {} service(s), data in {}",
        plan.genesis.validators.len(),
        plan.nodes.len() - plan.genesis.validators.len(),
        plan.genesis.services.len(),
        dir.display()
    );
    let _ = writeln!(out, "\nChains");
    let _ = writeln!(
        out,
        "  GONT Space   chain id {:<6} JSON-RPC http://{}  ws://{}",
        plan.genesis.chain_id,
        rpc_addr(&plan.genesis, plan.ports, 0, 0),
        rpc_addr(&plan.genesis, plan.ports, 0, 0)
    );
    for (k, s) in plan.genesis.services.iter().enumerate() {
        let first = gont_core::genesis::devnet_service_nodes(plan.genesis.validators.len(), k)
            .first()
            .copied()
            .unwrap_or(0);
        let addr = rpc_addr(&plan.genesis, plan.ports, first, k + 1);
        let participants: Vec<String> =
            gont_core::genesis::devnet_service_nodes(plan.genesis.validators.len(), k)
                .iter()
                .map(|n| format!("node{n}"))
                .collect();
        let _ = writeln!(
            out,
            "  {:<12} chain id {:<6} JSON-RPC http://{addr}  ws://{addr}  validators: {}",
            s.name,
            s.chain_id,
            participants.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "\nAccounts (10000 ETH each on every chain; mnemonic \"{}\")",
        gont_core::genesis::DEV_MNEMONIC
    );
    for (i, (address, key)) in gont_core::genesis::DEV_ADDRESSES
        .iter()
        .zip(gont_core::genesis::DEV_PRIVATE_KEYS)
        .enumerate()
    {
        let _ = writeln!(out, "  ({i}) {address}  {key}");
    }
    let _ = writeln!(
        out,
        "\nValidator operators (node i is operated by account 10 + i: its stake on \
         every chain it validates, through the staking contract at {})",
        gont_vm::system::STAKING
    );
    for (i, (address, key)) in gont_core::genesis::DEV_OPERATOR_ADDRESSES
        .iter()
        .zip(gont_core::genesis::DEV_OPERATOR_KEYS)
        .take(plan.nodes.len())
        .enumerate()
    {
        let role = if i < plan.genesis.validators.len() {
            ""
        } else {
            " (follower: stake for it to validate)"
        };
        let _ = writeln!(out, "  ({}) {address}  {key}  node{i}{role}", 10 + i);
    }
    let _ = writeln!(
        out,
        "\nA node that exits is restarted; to run one by hand: \
         gont start --home {dir}/node<i> --passphrase-file {dir}/node<i>/{PASSPHRASE_FILE}",
        dir = dir.display()
    );
    out
}
