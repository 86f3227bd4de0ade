//! The production driver: one chain's consensus on Malachite's engine
//! (`informalsystems-malachitebft-app-channel`), answering its `AppMsg`s
//! through the [`ExecutionEngine`] boundary.
//!
//! Malachite's engine brings the consensus network (its own libp2p swarm on
//! the chain's consensus port), the write-ahead log and value sync. This
//! module supplies the rest:
//!
//! - [`DecidedStore`]: where decided blocks and their commits are recorded
//!   (the node's `gont-storage`), read back for value sync and at restart;
//! - [`Host`]: where proposals get their transactions (the mempool) and who
//!   is told about each committed block (RPC subscribers, the pool);
//! - proposal streaming: a value travels as `Init`, data chunks and a signed
//!   `Fin` ([`crate::messages::ProposalPart`]); a receiver checks the chain,
//!   that the sender is the round's proposer, the signature, and then the
//!   block through [`ExecutionEngine::new_payload`]; a block the engine
//!   rejects is `Invalid` and consensus prevotes nil;
//! - crash safety: every value this validator proposed or accepted is
//!   written to `<home>/proposals/` (fsync, then rename) before consensus
//!   hears of it, so after a restart `GetValue` returns the same value for
//!   the same round (never a conflicting proposal) and a decision replayed
//!   from Malachite's WAL (`<home>/wal/`) finds its block. A decided block is
//!   recorded in the store before it is executed and committed, and
//!   [`start`] finishes a recorded but unexecuted decision before consensus
//!   starts.
//!
//! A node that is not in the chain's validator set runs the same engine
//! with a key of its own: it has no voting power, follows the votes it
//! hears and catches up by value sync.

pub(crate) mod app;
mod evidence;
mod exposition;
#[cfg(any(test, feature = "fuzz"))]
pub mod fuzz;
mod last_commit;
mod malachite_node;
pub(crate) mod parts;
pub(crate) mod proposals;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use gont_core::{
    Address as EthAddress, DecidedBlock, DecidedStore, ExecutionEngine, RawTransaction,
};
use malachitebft_app_channel::app::events::RxEvent;
use malachitebft_app_channel::app::node::EngineHandle;
use tokio::task::JoinHandle;

use crate::context::GontContext;
use crate::signing::PrivateKey;
use crate::validators::ValidatorSet;

pub use app::DriverError;
pub use malachite_node::network_config;

/// The node side of a chain: transactions for proposals, and news of
/// committed blocks.
pub trait Host: Send + 'static {
    /// Transactions for the next block, best first, within the limits (the
    /// engine skips any that turn out invalid).
    fn transactions(&mut self, max_bytes: u64, max_gas: u64) -> Vec<RawTransaction>;

    /// A block was decided and committed (executed and stored); `took` is
    /// the time its execution and commit took here.
    fn committed(&mut self, decided: &DecidedBlock, took: Duration);
}

/// How one chain's driver runs.
#[derive(Clone, Debug)]
pub struct DriverConfig {
    /// This chain's consensus directory: Malachite's WAL (`wal/`) and the
    /// proposals this validator made or accepted (`proposals/`).
    pub home: PathBuf,
    /// A name for logs and Malachite's metrics label; unique per chain in
    /// one process.
    pub moniker: String,
    /// The consensus network's listen address (TCP).
    pub listen: SocketAddr,
    /// The other validators' consensus addresses, dialled and redialled.
    pub peers: Vec<SocketAddr>,
    /// Who receives the priority fees of blocks this validator proposes
    /// when its key has no operator in the height's set (the operator is
    /// used when it has one).
    pub fee_recipient: EthAddress,
    /// How far in the future a proposed block's time may be, by our clock.
    pub max_clock_drift: Duration,
    /// The secret this node's consensus-network identity (its libp2p key
    /// on this chain's swarm) is derived from, with the chain id; `None`:
    /// the validator key's seed. Give each node its own (as CometBFT's
    /// node key is apart from its validator key), so that a node's
    /// identity does not move with its validator key.
    pub network_secret: Option<[u8; 32]>,
}

impl DriverConfig {
    /// A configuration with a zero fee recipient and a 5 s clock drift.
    pub fn new(home: PathBuf, moniker: String, listen: SocketAddr, peers: Vec<SocketAddr>) -> Self {
        Self {
            home,
            moniker,
            listen,
            peers,
            fee_recipient: EthAddress::ZERO,
            max_clock_drift: Duration::from_secs(5),
            network_secret: None,
        }
    }
}

/// A running driver.
pub struct DriverHandle {
    listen: SocketAddr,
    peers: ConsensusPeers,
    engine: EngineHandle,
    events: malachitebft_app_channel::app::events::TxEvent<GontContext>,
    app: JoinHandle<Result<(), DriverError>>,
}

impl std::fmt::Debug for DriverHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DriverHandle").finish_non_exhaustive()
    }
}

impl DriverHandle {
    /// Counts this chain's connected consensus peers; the counter outlives
    /// the handle's borrow and answers `None` once the engine stopped.
    pub fn peers(&self) -> ConsensusPeers {
        self.peers.clone()
    }

    /// Malachite's events (started rounds, published votes, decisions).
    pub fn subscribe(&self) -> RxEvent<GontContext> {
        self.events.subscribe()
    }

    /// Whether the application loop has ended (an error, or the engine
    /// stopped).
    pub fn is_finished(&self) -> bool {
        self.app.is_finished()
    }

    /// Stops the engine (its actors and WAL) and the application loop;
    /// the WAL and the store keep everything needed to resume. A block
    /// being committed finishes first (the commit has no await point).
    pub async fn stop(self) -> Result<(), DriverError> {
        let _ = self.engine.actor.kill_and_wait(None).await;
        self.engine.handle.abort();
        let _ = self.engine.handle.await;
        self.app.abort();
        match self.app.await {
            // The loop ends when the engine closes its channel: the stop
            // asked for.
            Ok(Ok(()) | Err(DriverError::Stopped(_))) => Ok(()),
            Ok(Err(e)) => Err(e),
            Err(e) if e.is_cancelled() => Ok(()),
            Err(e) => Err(DriverError::Stopped(e.to_string())),
        }
    }

    /// [`Self::stop`], then waits (up to `timeout`) until the consensus
    /// port is free: Malachite's swarm task outlives its actor, and a
    /// restart in the same process must not meet its predecessor on the
    /// network under the same peer id.
    pub async fn stop_and_release(self, timeout: Duration) -> Result<(), DriverError> {
        let listen = self.listen;
        self.stop().await?;
        let deadline = tokio::time::Instant::now() + timeout;
        while std::net::TcpListener::bind(listen).is_err() {
            if tokio::time::Instant::now() >= deadline {
                return Err(DriverError::Stopped(format!(
                    "consensus port {listen} still in use after {timeout:?}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// Waits for the application loop to end, returning its error.
    pub async fn finished(&mut self) -> Result<(), DriverError> {
        match (&mut self.app).await {
            Ok(result) => result,
            Err(e) => Err(DriverError::Stopped(e.to_string())),
        }
    }
}

/// How many peers one chain's consensus network is connected to.
///
/// The count is Malachite's network actor's: peers whose connection
/// completed libp2p's identify exchange with Malachite's protocol. Its
/// persistent peers (the chain's configured `peers`) are re-dialled with
/// backoff whenever disconnected (`third_party/malachitebft-network`), so
/// after an outage the count climbs back to the number configured.
#[derive(Clone)]
pub struct ConsensusPeers {
    network: Option<malachitebft_engine::network::NetworkRef<GontContext>>,
}

impl std::fmt::Debug for ConsensusPeers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsensusPeers").finish_non_exhaustive()
    }
}

impl ConsensusPeers {
    /// Finds the network actor among the engine's children (Malachite's
    /// node actor links its network, consensus, host, WAL and sync actors).
    fn of(engine: &EngineHandle) -> Self {
        let network = engine
            .actor
            .get_children()
            .into_iter()
            .find(|cell| {
                cell.is_message_type_of::<malachitebft_engine::network::Msg<GontContext>>()
                    == Some(true)
            })
            .map(Into::into);
        if network.is_none() {
            tracing::warn!("Malachite's network actor was not found: peers are not counted");
        }
        Self { network }
    }

    /// How many are connected now; `None` if the engine does not answer
    /// within a second (stopped, or too busy).
    pub async fn connected(&self) -> Option<usize> {
        let network = self.network.as_ref()?;
        let answer = network
            .call(
                |reply| malachitebft_engine::network::Msg::GetState { reply },
                Some(Duration::from_secs(1)),
            )
            .await
            .ok()?;
        match answer {
            ractor::rpc::CallResult::Success(n) => Some(n),
            ractor::rpc::CallResult::Timeout | ractor::rpc::CallResult::SenderError => None,
        }
    }
}

/// Appends Malachite's consensus metrics (every engine of this process,
/// labelled by moniker) to `out` in Prometheus text format, each metric
/// family once.
pub fn export_metrics(out: &mut String) {
    let mut text = String::new();
    malachitebft_app_channel::app::metrics::export(&mut text);
    out.push_str(&exposition::merge_families(&text));
}

/// Starts consensus for the chain of `ctx`, signing with `key`: finishes
/// any decided but unexecuted block, then runs Malachite's engine and the
/// application loop on the current tokio runtime. Each height's validator
/// set is the engine's ([`ExecutionEngine::validator_set`]); `validators`
/// (the genesis set) serves a chain whose engine keeps none.
#[allow(clippy::too_many_arguments)]
pub async fn start<E, L, H>(
    ctx: GontContext,
    validators: ValidatorSet,
    key: PrivateKey,
    config: DriverConfig,
    engine: E,
    store: L,
    host: H,
) -> Result<DriverHandle, DriverError>
where
    E: ExecutionEngine + Send + 'static,
    L: DecidedStore,
    H: Host,
{
    let proposals = proposals::Proposals::open(config.home.join("proposals"))
        .map_err(DriverError::Proposals)?;
    let io = app::Io {
        engine,
        store,
        host,
        proposals,
        clock: app::Clock::System,
    };
    let mut state = app::State::new(ctx.clone(), validators, key.clone(), &config, io);
    state.finish_recorded_decisions()?;
    let start_height = state.next_height()?;
    let validators = state.enter(start_height)?;
    let node =
        malachite_node::GontNode::new(ctx.clone(), key, &config).map_err(DriverError::Config)?;
    let span = tracing::info_span!("consensus", chain = %ctx.chain_id());
    let (channels, engine) = {
        let _enter = span.enter();
        malachitebft_app_channel::start_engine(
            ctx,
            node.clone(),
            node.config().clone(),
            crate::codec::BorshCodec,
            crate::codec::BorshCodec,
            Some(start_height),
            validators,
        )
        .await
        .map_err(|e| DriverError::Engine(format!("{e:#}")))?
    };
    let events = channels.events.clone();
    let peers = ConsensusPeers::of(&engine);
    // Without a tap the node still decides, it only finds no evidence.
    let votes = match &peers.network {
        Some(network) => match evidence::tap(network, &engine.actor.get_cell()).await {
            Ok(votes) => Some(votes),
            Err(e) => {
                tracing::warn!("received votes are not watched for double signing: {e}");
                None
            }
        },
        None => None,
    };
    let app = tokio::spawn(tracing::Instrument::instrument(
        app::run(state, channels, votes),
        span,
    ));
    Ok(DriverHandle {
        listen: config.listen,
        peers,
        engine,
        events,
        app,
    })
}
