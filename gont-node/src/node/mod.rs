//! `gont start`: a running node. It opens the store, and for each chain in
//! `config.toml` starts the execution engine, the chain's consensus
//! (gont-consensus's driver on Malachite's engine, as a validator with the
//! chain's keystore key, or as a follower) and its JSON-RPC; gont-net
//! gossips transactions between the nodes. It stops on SIGINT or SIGTERM:
//! consensus first (a block being committed finishes; none is left half
//! written), then the RPC servers, then the store.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gont_consensus::driver::{self, DriverConfig, DriverHandle, Host};
use gont_consensus::{GontContext, PrivateKey};
use gont_core::{
    ChainId, DecidedBlock, ExecutionStore, Genesis, Height, RawTransaction, Timestamp,
};
use gont_net::{Network, NetworkConfig, NetworkEvent, NetworkHandle, NodeKey, Verdict};
use gont_storage::Store;
use gont_vm::{Engine, EngineConfig, genesis_changes};
use tokio::sync::{broadcast, mpsc};
use tracing::{error, info, warn};

use crate::backend::ChainBackend;
use crate::config::{ChainConfig, NodeConfig, files};
use crate::mempool::MempoolConfig;
use crate::progress::CatchUp;
use crate::relay::RelayedService;
use crate::rpc::backend::StoredBlock;
use crate::rpc::{self, RpcServer};
use crate::{home, keystore};

mod builder;
mod info;

use crate::extend::Extensions;
pub use builder::{ChainRpc, Chains, NodeBuilder};
use info::{Info, RunningChainInfo};

/// Why the node could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// An integrator's JSON-RPC methods ([`NodeBuilder::rpc_methods`]):
    /// one could not be made, or is named as another.
    #[error("chain {chain}: JSON-RPC methods added by the node's builder: {reason}")]
    RpcExtension {
        /// The chain.
        chain: ChainId,
        /// What went wrong.
        reason: String,
    },
    /// The home directory, its config or genesis.
    #[error(transparent)]
    Home(#[from] home::HomeError),
    /// `config.toml`.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The store.
    #[error(transparent)]
    Store(#[from] gont_storage::StoreError),
    /// A validator key.
    #[error("{path}: {source}")]
    Key {
        /// The keystore file.
        path: PathBuf,
        /// Why it could not be read.
        source: keystore::KeystoreError,
    },
    /// `[storage] pruning` keeps too few heights for a chain: evidence of
    /// an offence up to `unbonding_period_blocks` old is checked against
    /// the validator set of its height, read from the state before it.
    #[error(
        "chain {chain}: pruning keeps the last {keep_last} heights, but evidence up to \
         {unbonding_period_blocks} blocks old (the unbonding period) is checked against \
         the state of its height: keep more than {unbonding_period_blocks}, or archive"
    )]
    PruningBelowUnbonding {
        /// The chain.
        chain: ChainId,
        /// `keep_last`.
        keep_last: u64,
        /// The chain's unbonding period.
        unbonding_period_blocks: u64,
    },
    /// A chain's configuration cannot be used.
    #[error("chain {chain}: {reason}")]
    Chain {
        /// The chain.
        chain: ChainId,
        /// Why.
        reason: String,
    },
    /// A chain's consensus could not start.
    #[error("chain {chain}: consensus could not start")]
    Consensus {
        /// The chain.
        chain: ChainId,
        /// The driver's error.
        source: driver::DriverError,
    },
    /// A chain's consensus stopped.
    #[error("chain {chain}: consensus halted: {reason}")]
    Halted {
        /// The chain.
        chain: ChainId,
        /// Why (the driver's error).
        reason: String,
    },
    /// The JSON-RPC server.
    #[error(transparent)]
    Rpc(#[from] rpc::ServeError),
    /// gont-net.
    #[error(transparent)]
    Network(#[from] gont_net::NetError),
    /// The node key.
    #[error(transparent)]
    NodeKey(#[from] gont_net::IdentityError),
    /// The metrics endpoint.
    #[error(transparent)]
    Metrics(#[from] crate::metrics::MetricsError),
    /// A signal handler could not be installed.
    #[error("signal handler: {0}")]
    Signal(std::io::Error),
}

/// Refuses a pruning depth that cannot check the oldest evidence a chain
/// of the node takes.
fn check_pruning(config: &NodeConfig, genesis: &gont_core::Genesis) -> Result<(), NodeError> {
    let crate::config::PruningConfig::KeepLast { keep_last } = config.storage.pruning else {
        return Ok(());
    };
    for chain in &config.chains {
        let Some(Ok((_, params))) = genesis.chain_consensus(chain.chain_id) else {
            continue;
        };
        if keep_last.get() <= params.unbonding_period_blocks {
            return Err(NodeError::PruningBelowUnbonding {
                chain: chain.chain_id,
                keep_last: keep_last.get(),
                unbonding_period_blocks: params.unbonding_period_blocks,
            });
        }
    }
    Ok(())
}

pub(crate) fn chain_err(chain: ChainId, reason: impl std::fmt::Display) -> NodeError {
    NodeError::Chain {
        chain,
        reason: reason.to_string(),
    }
}

/// `/ip4/A/tcp/P` (or `/ip6/…`) as a socket address.
pub fn tcp_socket(multiaddr: &str) -> Option<SocketAddr> {
    let mut parts = multiaddr.trim_start_matches('/').split('/');
    let (kind, ip, tcp, port) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if tcp != "tcp" || !matches!(kind, "ip4" | "ip6") {
        return None;
    }
    Some(SocketAddr::new(ip.parse().ok()?, port.parse().ok()?))
}

/// What a chain's consensus tells the node: transactions come from the
/// pool; each committed block updates the pool, RPC subscribers and metrics.
struct ChainHost {
    chain: ChainId,
    backend: Arc<ChainBackend>,
    new_blocks: broadcast::Sender<StoredBlock>,
    last: Option<Timestamp>,
    target_block_ms: u64,
    /// Catching up, while it lasts.
    catch_up: Option<CatchUp>,
    /// This node's validator address on the chain, if it validates it.
    signer: Option<gont_core::ValidatorAddress>,
    /// The last height whose commit carries this validator's precommit.
    last_signed: Arc<AtomicU64>,
}

impl ChainHost {
    /// A block whose time lies more than a few block intervals in the past
    /// was decided before: this node is catching up. `eth_syncing` then
    /// reports it, with the tip estimated from the gap and the target
    /// interval, and the log shows progress.
    fn track_sync(&mut self, height: Height, time: Timestamp) {
        let behind_ms = crate::wall_clock()
            .as_millis()
            .saturating_sub(time.as_millis());
        let target = self.target_block_ms.max(1);
        let instant = Instant::now();
        if behind_ms > 5 * target + 2_000 {
            let tip = Height(height.0 + behind_ms / target);
            let catch_up = self.catch_up.get_or_insert_with(|| {
                info!(chain = %self.chain, %height, behind = ?Duration::from_millis(behind_ms), "catching up");
                CatchUp::start(self.chain, height, instant)
            });
            self.backend.set_syncing(Some((catch_up.from(), tip)));
            if let Some(estimate) = catch_up.advance(height, tip, instant) {
                info!(chain = %self.chain, %height, %tip, "catching up: {estimate}");
            }
        } else if let Some(catch_up) = self.catch_up.take() {
            self.backend.set_syncing(None);
            let (blocks, took) = catch_up.finish(height, instant);
            info!(chain = %self.chain, %height, blocks, took = ?took, "caught up");
        }
    }
}

impl Host for ChainHost {
    fn transactions(&mut self, max_bytes: u64, max_gas: u64) -> Vec<RawTransaction> {
        self.backend.proposal_transactions(max_bytes, max_gas)
    }

    fn committed(&mut self, decided: &DecidedBlock, took: Duration) {
        let chain = self.chain.to_string();
        let header = &decided.block.header;
        metrics::histogram!("gont_block_commit_seconds", "chain" => chain.clone())
            .record(took.as_secs_f64());
        if let Some(time) = self.last {
            let interval = header.time.as_millis().saturating_sub(time.as_millis());
            metrics::histogram!("gont_block_interval_seconds", "chain" => chain.clone())
                .record(interval as f64 / 1000.0);
        }
        self.last = Some(header.time);
        self.track_sync(header.height, header.time);
        metrics::gauge!("gont_chain_height", "chain" => chain.clone()).set(header.height.0 as f64);
        metrics::gauge!("gont_chain_round", "chain" => chain.clone())
            .set(f64::from(decided.commit.round));
        let signed = self.signer.is_some_and(|me| {
            decided.commit.signatures.iter().any(|sig| {
                matches!(sig, gont_core::CommitSig::ForBlock { validator, .. } if *validator == me)
            })
        });
        if signed {
            self.last_signed.store(header.height.0, Ordering::Relaxed);
            metrics::gauge!("gont_consensus_last_signed_height", "chain" => chain.clone())
                .set(header.height.0 as f64);
        }
        metrics::histogram!("gont_block_transactions", "chain" => chain.clone())
            .record(decided.block.body.transactions.len() as f64);
        match self.backend.committed(header.height) {
            Ok(Some(block)) => {
                let _ = self.new_blocks.send(block);
            }
            Ok(None) => {}
            Err(e) => warn!(chain = %self.chain, height = %header.height, "after commit: {e}"),
        }
        metrics::gauge!("gont_mempool_transactions", "chain" => chain)
            .set(self.backend.pool_len() as f64);
        if self.catch_up.is_some() {
            return;
        }
        info!(
            chain = %self.chain,
            height = %header.height,
            round = decided.commit.round,
            txs = decided.block.body.transactions.len(),
            gas = header.execution.gas_used,
            took = ?took,
            "committed"
        );
    }
}

/// One chain as the node runs it.
struct RunningChain {
    config: ChainConfig,
    name: String,
    service_id: Option<u32>,
    validator: bool,
    backend: Arc<ChainBackend>,
    /// The last height whose commit carries this node's precommit.
    last_signed: Arc<AtomicU64>,
    /// This node's consensus address on the chain, once consensus starts.
    signer: Arc<std::sync::OnceLock<gont_core::ValidatorAddress>>,
}

/// A started node.
pub struct Node {
    drivers: Vec<(ChainId, DriverHandle)>,
    info: Arc<Info>,
    peer_counters: Vec<tokio::task::JoinHandle<()>>,
    rpc: Vec<RpcServer>,
    rpc_addrs: Vec<(ChainId, SocketAddr)>,
    _net: NetworkHandle,
    _store: Store,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("rpc", &self.rpc_addrs)
            .finish_non_exhaustive()
    }
}

impl Node {
    /// Starts the node of `home`. `passphrase` unlocks validator keys.
    pub async fn start(home: &Path, passphrase: Option<&str>) -> Result<Self, NodeError> {
        Self::start_with(home, passphrase, |_| {}).await
    }

    /// As [`Node::start`], with `adjust` applied to the home's
    /// configuration first (the command line's overrides).
    pub async fn start_with(
        home: &Path,
        passphrase: Option<&str>,
        adjust: impl FnOnce(&mut NodeConfig),
    ) -> Result<Self, NodeError> {
        Self::start_extended(home, passphrase, adjust, Extensions::default()).await
    }

    /// As [`Node::start_with`], with what a [`NodeBuilder`] added.
    async fn start_extended(
        home: &Path,
        passphrase: Option<&str>,
        adjust: impl FnOnce(&mut NodeConfig),
        extensions: Extensions,
    ) -> Result<Self, NodeError> {
        let mut config = NodeConfig::load(home)?;
        adjust(&mut config);
        let genesis = home::load_genesis(home, crate::wall_clock())?;
        check_pruning(&config, &genesis)?;
        if let Some(metrics) = &config.metrics {
            let bound = crate::metrics::serve(metrics.listen).await?;
            info!("metrics at http://{bound}/metrics");
        }
        let store = Store::open_with(
            home.join(files::DATA),
            gont_storage::StoreConfig {
                pruning: config.storage.pruning.into(),
                ..gont_storage::StoreConfig::default()
            },
        )?;
        let node_key = NodeKey::load_or_create(home)?;
        let node_id = node_key.id().to_string();

        let mut chains = Vec::new();
        let mut gossip = Vec::new();
        for chain in &config.chains {
            let (running, rx) = open_chain(&store, &genesis, chain, config.txpool, &extensions)?;
            let journal = home
                .join(files::DATA)
                .join(format!("txpool-{}.journal", chain.chain_id));
            running.backend.open_journal(&journal).map_err(|e| {
                chain_err(
                    chain.chain_id,
                    format!("txpool journal {}: {e}", journal.display()),
                )
            })?;
            gossip.push((chain.chain_id, rx));
            chains.push(running);
        }

        // gont-net: transaction gossip between nodes, and blocks for peers.
        let mut net_config = NetworkConfig::new(node_key.clone());
        net_config.listen = vec![
            config
                .p2p
                .listen
                .parse()
                .map_err(|e| chain_err(genesis.chain_id, format!("[p2p] listen: {e}")))?,
        ];
        net_config.bootstrap = config
            .p2p
            .bootstrap
            .iter()
            .map(|a| a.parse())
            .collect::<Result<_, _>>()
            .map_err(|e| chain_err(genesis.chain_id, format!("[p2p] bootstrap: {e}")))?;
        net_config.chains = chains.iter().map(|c| c.config.chain_id).collect();
        let (net, events) = Network::spawn(net_config).await?;
        let peers = Arc::new(AtomicUsize::new(0));
        let backends: HashMap<ChainId, Arc<ChainBackend>> = chains
            .iter()
            .map(|c| (c.config.chain_id, c.backend.clone()))
            .collect();
        tokio::spawn(net_events(net.clone(), events, backends, peers.clone()));
        for (chain, mut rx) in gossip {
            let net = net.clone();
            tokio::spawn(async move {
                while let Some(tx) = rx.recv().await {
                    if let Err(e) = net.publish_tx(chain, &tx).await {
                        warn!(%chain, "gossiping a transaction: {e}");
                    }
                }
            });
        }

        let info = Arc::new(Info {
            genesis: genesis.to_json(),
            moniker: config.moniker.clone(),
            node_id,
            peers,
            chains: chains
                .iter()
                .map(|c| {
                    Arc::new(RunningChainInfo {
                        chain_id: c.config.chain_id,
                        name: c.name.clone(),
                        service_id: c.service_id,
                        rpc: c.config.rpc,
                        validator: c.validator,
                        backend: c.backend.clone(),
                        consensus_peers: AtomicUsize::new(0),
                        configured_peers: c.config.consensus.peers.len(),
                        last_signed: c.last_signed.clone(),
                        signer: c.signer.clone(),
                    })
                })
                .collect(),
        });

        let relayer = crate::relay::from_config(
            home,
            &config,
            &genesis,
            chains.iter().map(|c| (c.config.chain_id, &c.backend)),
            passphrase,
        )?;

        let mut drivers = Vec::new();
        let mut peer_counters = Vec::new();
        let mut rpc_servers = Vec::new();
        let mut rpc_addrs = Vec::new();
        for chain in chains {
            let chain_id = chain.config.chain_id;
            metrics::gauge!("gont_chain_halted", "chain" => chain_id.to_string()).set(0.0);
            let (new_blocks, _) = broadcast::channel(256);
            if let (Some(relayer), Some(service)) = (&relayer, genesis.service_by_chain(chain_id)) {
                tokio::spawn(relayer.clone().run(
                    RelayedService {
                        id: service.id,
                        chain: chain.backend.clone(),
                        interval: service.params.checkpoint_interval,
                    },
                    new_blocks.subscribe(),
                ));
            }
            if let Some(addr) = chain.config.rpc {
                let extra = extensions.node_rpc_methods(&ChainRpc {
                    chain_id,
                    backend: chain.backend.clone(),
                })?;
                let label = chain_id.to_string();
                let observe: rpc::CallObserver = Arc::new(move |method: &str, took: Duration| {
                    metrics::histogram!(
                        "gont_rpc_request_seconds",
                        "chain" => label.clone(),
                        "method" => method.to_owned()
                    )
                    .record(took.as_secs_f64());
                });
                let server = rpc::serve(
                    addr,
                    chain.backend.clone(),
                    info.clone(),
                    new_blocks.clone(),
                    config.rpc,
                    Some(observe),
                    &chain.config.rpc_cors,
                    extra,
                )
                .await?;
                info!(chain = %chain_id, "JSON-RPC at http://{} and ws://{}", server.addr, server.addr);
                rpc_addrs.push((chain_id, server.addr));
                rpc_servers.push(server);
            }
            let handle = start_consensus(
                home, &config, &genesis, &chain, passphrase, &node_key, new_blocks,
            )
            .await?;
            if let Some(chain_info) = info.chains.iter().find(|c| c.chain_id == chain_id) {
                peer_counters.push(tokio::spawn(count_consensus_peers(
                    handle.peers(),
                    chain_info.clone(),
                )));
            }
            drivers.push((chain_id, handle));
        }
        Ok(Self {
            drivers,
            info,
            peer_counters,
            rpc: rpc_servers,
            rpc_addrs,
            _net: net,
            _store: store,
        })
    }

    /// The JSON-RPC address of each chain that serves one.
    pub fn rpc_addrs(&self) -> &[(ChainId, SocketAddr)] {
        &self.rpc_addrs
    }

    /// Runs until SIGINT or SIGTERM, or until no chain's consensus is left
    /// running; then stops cleanly. A chain whose consensus fails (a block
    /// its engine refuses, an I/O error) halts alone, loudly: an error in
    /// the log, `halted` in `gont_status` and `gont status`, the
    /// `gont_chain_halted` gauge at 1; its JSON-RPC keeps serving what it
    /// committed but refuses new transactions, and the node's other chains
    /// go on.
    pub async fn run_until_signal(mut self) -> Result<(), NodeError> {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(NodeError::Signal)?;
        let mut last_failure = None;
        let outcome = loop {
            if self.drivers.is_empty() {
                break last_failure.map_or(Ok(()), Err);
            }
            tokio::select! {
                _ = tokio::signal::ctrl_c() => { info!("SIGINT: stopping"); break Ok(()) }
                _ = term.recv() => { info!("SIGTERM: stopping"); break Ok(()) }
                () = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
            if let Some(failure) = self.reap_halted().await {
                last_failure = Some(failure);
            }
        };
        if let Err(e) = &outcome {
            error!("no chain left running; the last failure: {e}");
        }
        self.stop().await;
        outcome
    }

    /// Takes the chains whose consensus has stopped out of the running
    /// ones and marks them halted; returns the last one's failure.
    async fn reap_halted(&mut self) -> Option<NodeError> {
        let mut failure = None;
        while let Some(i) = self.drivers.iter().position(|(_, d)| d.is_finished()) {
            let (chain, driver) = self.drivers.swap_remove(i);
            let reason = match driver.stop().await {
                Ok(()) => "consensus stopped".to_owned(),
                Err(e) => e.to_string(),
            };
            error!(
                %chain,
                "consensus HALTED: {reason}; this chain stops here, the node's other chains go on \
                 (its JSON-RPC still serves what it committed)"
            );
            metrics::gauge!("gont_chain_halted", "chain" => chain.to_string()).set(1.0);
            if let Some(c) = self.info.chains.iter().find(|c| c.chain_id == chain) {
                c.backend.halt(reason.clone());
            }
            failure = Some(NodeError::Halted { chain, reason });
        }
        failure
    }

    /// Stops consensus, then the RPC servers; the store closes when the
    /// node is dropped.
    pub async fn stop(self) {
        for counter in self.peer_counters {
            counter.abort();
        }
        for (chain, d) in self.drivers {
            if let Err(e) = d.stop().await {
                warn!(%chain, "stopping consensus: {e}");
            }
        }
        for server in self.rpc {
            server.stop().await;
        }
        info!("stopped");
    }
}

fn open_chain(
    store: &Store,
    genesis: &Genesis,
    chain: &ChainConfig,
    txpool: MempoolConfig,
    extensions: &Extensions,
) -> Result<(RunningChain, mpsc::UnboundedReceiver<RawTransaction>), NodeError> {
    let chain_id = chain.chain_id;
    let (validators, _) = genesis
        .chain_consensus(chain_id)
        .ok_or_else(|| chain_err(chain_id, "not defined by the genesis"))?
        .map_err(|e| chain_err(chain_id, e))?;
    let chain_store = store.chain(chain_id);
    let changes = genesis_changes(genesis, chain_id).map_err(|e| chain_err(chain_id, e))?;
    chain_store
        .init_genesis(genesis.hash(), &changes)
        .map_err(|e| {
            chain_err(
                chain_id,
                format!("{e} (is this data directory from another genesis?)"),
            )
        })?;
    let engine_config = EngineConfig::from_genesis(genesis, chain_id)
        .ok_or_else(|| chain_err(chain_id, "not defined by the genesis"))?;
    let engine_config = extensions.engine_config(chain_id, engine_config);
    let (gossip_tx, gossip_rx) = mpsc::unbounded_channel();
    let backend = Arc::new(ChainBackend::new(
        chain_store,
        genesis,
        validators,
        engine_config,
        Arc::new(Mutex::new(extensions.mempool(chain_id, txpool))),
        gossip_tx,
        Arc::new(Mutex::new(None)),
    ));
    backend.set_allow_unprotected_txs(chain.rpc_allow_unprotected_txs);
    let service = genesis.service_by_chain(chain_id);
    Ok((
        RunningChain {
            config: chain.clone(),
            name: service.map_or_else(|| "GONT Space".to_owned(), |s| s.name.clone()),
            service_id: service.map(|s| s.id.0),
            validator: chain.validator_key.is_some(),
            backend,
            last_signed: Arc::new(AtomicU64::new(0)),
            signer: Arc::new(std::sync::OnceLock::new()),
        },
        gossip_rx,
    ))
}

async fn start_consensus(
    home: &Path,
    config: &NodeConfig,
    genesis: &Genesis,
    chain: &RunningChain,
    passphrase: Option<&str>,
    node_key: &NodeKey,
    new_blocks: broadcast::Sender<StoredBlock>,
) -> Result<DriverHandle, NodeError> {
    let chain_id = chain.config.chain_id;
    let (set, params) = genesis
        .chain_consensus(chain_id)
        .ok_or_else(|| chain_err(chain_id, "not defined by the genesis"))?
        .map_err(|e| chain_err(chain_id, e))?;
    let ctx = GontContext::new(chain_id, params).map_err(|e| chain_err(chain_id, e))?;
    let key = match &chain.config.validator_key {
        Some(path) => {
            let path = home.join(path);
            let passphrase = passphrase.ok_or_else(|| {
                chain_err(
                    chain_id,
                    format!(
                        "{} is encrypted: give its passphrase (GONT_PASSPHRASE or --passphrase-file)",
                        path.display()
                    ),
                )
            })?;
            let seed = keystore::read(&path, passphrase)
                .map_err(|source| NodeError::Key { path, source })?;
            PrivateKey::from_seed(*seed)
        }
        None => follower_key(node_key, chain_id)
            .ok_or_else(|| chain_err(chain_id, "the node key is not ed25519"))?,
    };
    let fee_recipient = set
        .get_by_key(&key.public_key())
        .map_or(gont_core::Address::ZERO, |(_, v)| v.operator);
    let listen = tcp_socket(&chain.config.consensus.listen).ok_or_else(|| {
        chain_err(
            chain_id,
            format!(
                "consensus listen {:?} is not /ip4/…/tcp/PORT",
                chain.config.consensus.listen
            ),
        )
    })?;
    let peers = chain
        .config
        .consensus
        .peers
        .iter()
        .map(|p| {
            tcp_socket(p).ok_or_else(|| {
                chain_err(
                    chain_id,
                    format!("consensus peer {p:?} is not /ip4/…/tcp/PORT"),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    let mut driver_config = DriverConfig::new(
        crate::rollback::consensus_dir(home, chain_id),
        format!("{}-{chain_id}", config.moniker),
        listen,
        peers,
    );
    driver_config.fee_recipient = fee_recipient;
    // The node's own consensus identity: two processes holding one
    // validator key (a double signer) stay two peers.
    driver_config.network_secret = node_key.derive_secret("gont consensus network secret v1");
    let store = chain.backend.store().clone();
    // The rules the chain's RPC executes calls with, native contracts
    // included.
    let engine_config = chain.backend.engine_config().clone();
    let engine =
        Engine::new(store.clone(), engine_config).with_known_senders(chain.backend.pool_senders());
    let host = ChainHost {
        chain: chain_id,
        backend: chain.backend.clone(),
        new_blocks,
        last: store.head().ok().flatten().map(|h| h.time),
        target_block_ms: params.target_block_time_ms,
        catch_up: None,
        signer: chain.validator.then(|| key.public_key().address()),
        last_signed: chain.last_signed.clone(),
    };
    if chain.validator {
        let _ = chain.signer.set(key.public_key().address());
    }
    let role = if chain.validator {
        "validator"
    } else {
        "follower"
    };
    info!(chain = %chain_id, name = %chain.name, %role, height = %store.latest_height().ok().flatten().unwrap_or(Height(0)), "starting consensus");
    driver::start(
        ctx,
        gont_consensus::ValidatorSet::new(set),
        key,
        driver_config,
        engine,
        store,
        host,
    )
    .await
    .map_err(|source| NodeError::Consensus {
        chain: chain_id,
        source,
    })
}

/// Counts a chain's connected consensus peers every second, for
/// `gont_status` and the `gont_consensus_peers` gauge.
/// The consensus key of a node that follows `chain` without a validator
/// key. A follower signs nothing that counts, but what it signs must still
/// be its own: the key is derived from the node key's secret, so that no
/// one who knows the node's public id can sign as it.
fn follower_key(node_key: &NodeKey, chain: ChainId) -> Option<PrivateKey> {
    let secret = node_key.derive_secret("gont follower consensus key v2")?;
    Some(PrivateKey::from_seed(
        blake3::keyed_hash(&secret, &chain.get().to_be_bytes()).into(),
    ))
}

async fn count_consensus_peers(peers: driver::ConsensusPeers, chain: Arc<RunningChainInfo>) {
    let gauge = metrics::gauge!("gont_consensus_peers", "chain" => chain.chain_id.to_string());
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        if let Some(n) = peers.connected().await {
            chain.consensus_peers.store(n, Ordering::Relaxed);
            gauge.set(n as f64);
        }
    }
}

/// Answers gont-net's events: gossiped transactions go to their chain's
/// pool (and are forwarded only if admitted); peer counts feed status.
async fn net_events(
    net: NetworkHandle,
    mut events: mpsc::Receiver<NetworkEvent>,
    backends: HashMap<ChainId, Arc<ChainBackend>>,
    peers: Arc<AtomicUsize>,
) {
    while let Some(event) = events.recv().await {
        match event {
            NetworkEvent::Transaction {
                chain, tx, msg_id, ..
            } => {
                let verdict = match backends.get(&chain).map(|b| b.admit_gossiped(tx)) {
                    Some(Ok(_)) => Verdict::Accept,
                    // Stale or duplicate gossip is normal; only a
                    // transaction that can never be valid blames the peer.
                    Some(Err(e)) if e.blames_relay() => Verdict::Reject,
                    Some(Err(_)) | None => Verdict::Ignore,
                };
                let _ = net.report(msg_id, verdict).await;
            }
            NetworkEvent::PeerConnected { .. } => {
                let n = peers.fetch_add(1, Ordering::Relaxed) + 1;
                metrics::gauge!("gont_p2p_peers").set(n as f64);
            }
            NetworkEvent::PeerDisconnected { .. } => {
                let n = peers.fetch_sub(1, Ordering::Relaxed).saturating_sub(1);
                metrics::gauge!("gont_p2p_peers").set(n as f64);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
