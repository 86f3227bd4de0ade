//! The Ethereum JSON-RPC of one chain, over HTTP and WebSocket on one port,
//! plus the node's `gont_*` methods.
//!
//! Limits, each with a clear error: request and response size, batch
//! length, connections, subscriptions per connection, the block range and
//! result count of a log query.

pub mod backend;
mod blocks;
pub mod convert;
pub mod cors;
mod debug;
pub mod error;
mod eth;
mod filters;
mod heavy;
pub mod proofs;
mod txpool;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use alloy_rpc_types_eth::Filter;
use gont_core::{ChainId, Height};
use jsonrpsee::core::middleware::{Batch, Notification, RpcServiceBuilder, RpcServiceT};
use jsonrpsee::core::traits::IdProvider;
use jsonrpsee::server::{BatchRequestConfig, Server, ServerConfig, ServerHandle};
use jsonrpsee::types::Request;
use jsonrpsee::types::{ErrorObjectOwned, SubscriptionId};
use jsonrpsee::{PendingSubscriptionSink, RpcModule, SubscriptionMessage};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use self::backend::{EthBackend, StoredBlock};
use self::error::RpcError;
use self::eth::EthApi;

/// The limits of one RPC server: a chain's `[chain.rpc_limits]` in
/// `config.toml`, every field optional, these defaults when absent (geth's
/// where geth has one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RpcLimits {
    /// The longest batch (100).
    pub max_batch: u32,
    /// The largest request body, in bytes (10 MiB).
    pub max_request_bytes: u32,
    /// The largest response body, in bytes (10 MiB).
    pub max_response_bytes: u32,
    /// Open connections (500).
    pub max_connections: u32,
    /// Subscriptions per WebSocket connection (1 024).
    pub max_subscriptions: u32,
    /// The most blocks one log query may span (10 000).
    pub max_log_range: u64,
    /// The most logs one query may return (10 000).
    pub max_logs: usize,
    /// The most addresses in one log filter (1 000).
    pub max_filter_addresses: usize,
    /// The most alternatives at one topic position of a log filter (1 000).
    pub max_filter_topics: usize,
    /// The most percentiles `eth_feeHistory` takes (100).
    pub max_fee_history_percentiles: usize,
    /// The most gas one `eth_call`, `eth_estimateGas` run, `eth_createAccessList`
    /// or `debug_traceCall` may use (geth's `--rpc.gascap`, 50 M); the
    /// block gas limit caps it too.
    pub call_gas_cap: u64,
    /// The most gas one `eth_estimateGas` spends over all its runs (500 M):
    /// when spent, it answers the least limit found to succeed so far.
    pub estimate_gas_budget: u64,
    /// How long a method that executes or scans (`eth_call`,
    /// `eth_estimateGas`, `eth_getLogs`, `eth_feeHistory`, filters' logs,
    /// `eth_createAccessList`, `debug_trace*`) may take before it is
    /// answered with `execution aborted (timeout = …)`, in milliseconds
    /// (geth's `--rpc.evmtimeout`, 5 000), waiting for its turn included.
    pub evm_timeout_ms: u64,
    /// How many of those run at once, on the blocking pool; the others wait
    /// (0: the number of cores less one, at least one).
    pub max_concurrent_executions: usize,
}

impl Default for RpcLimits {
    fn default() -> Self {
        Self {
            max_batch: 100,
            max_request_bytes: 10 * 1024 * 1024,
            max_response_bytes: 10 * 1024 * 1024,
            max_connections: 500,
            max_subscriptions: 1024,
            max_log_range: 10_000,
            max_logs: 10_000,
            max_filter_addresses: 1_000,
            max_filter_topics: 1_000,
            max_fee_history_percentiles: 100,
            call_gas_cap: 50_000_000,
            estimate_gas_budget: 500_000_000,
            evm_timeout_ms: 5_000,
            max_concurrent_executions: 0,
        }
    }
}

/// One chain this node runs, for `gont_chains`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainInfo {
    /// `space` or `service`.
    pub kind: &'static str,
    /// The service's name, or `GONT Space`.
    pub name: String,
    /// EIP-155 chain id.
    pub chain_id: ChainId,
    /// The service id, for a service.
    pub service_id: Option<u32>,
    /// The JSON-RPC address serving it, if this node serves it.
    pub rpc: Option<String>,
    /// Committed height.
    pub height: Height,
    /// Whether this node validates it.
    pub validator: bool,
}

/// One validator, for `gont_validators`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidatorInfo {
    /// Tendermint address.
    pub address: String,
    /// ed25519 consensus key.
    pub consensus_key: String,
    /// The operator's Ethereum account.
    pub operator: gont_core::Address,
    /// Voting power in the set deciding the next block (whole staked
    /// tokens when the epoch began; 0 outside the set).
    pub power: u64,
    /// Bonded stake now, in wei (decimal).
    pub stake: String,
    /// `jailed` (punished for double signing or downtime, until
    /// `jailedUntil` and an `unjail`), `bonded` (stake > 0), `unbonding` (no stake, unbonding
    /// entries left) or `unbonded`.
    pub status: &'static str,
    /// While jailed: the first height at which `unjail` succeeds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jailed_until: Option<u64>,
    /// Blocks it missed of the last `signed_blocks_window` it was in the
    /// set for (the downtime rule's count).
    pub missed_blocks: u64,
    /// Whether it is in the set deciding the next block.
    pub in_set: bool,
}

/// What the node tells about itself through `gont_*`.
pub trait NodeInfo: Send + Sync + 'static {
    /// The chains of this network and what this node does with each.
    fn chains(&self) -> Vec<ChainInfo>;
    /// The validators of a chain.
    fn validators(&self, chain: ChainId) -> Option<Result<Vec<ValidatorInfo>, RpcError>>;
    /// Node status: peers, sync, version.
    fn status(&self) -> serde_json::Value;
    /// Connected gont-net peers (`net_peerCount`).
    fn peer_count(&self) -> usize;
    /// The genesis this node runs, as its JSON file has it.
    fn genesis(&self) -> Option<String>;
}

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be bound.
    #[error("could not listen for JSON-RPC on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A `rpc_cors` entry is not an origin.
    #[error("rpc_cors: {0}")]
    Cors(#[from] cors::CorsError),
    /// Two methods with one name (a bug).
    #[error("JSON-RPC method table: {0}")]
    Methods(#[from] jsonrpsee::core::RegisterMethodError),
}

/// A running JSON-RPC server.
pub struct RpcServer {
    /// The bound address.
    pub addr: SocketAddr,
    handle: ServerHandle,
}

impl RpcServer {
    /// Stops the server and waits for it.
    pub async fn stop(self) {
        if self.handle.stop().is_ok() {
            self.handle.stopped().await;
        }
    }
}

/// Told the method and duration of every call a server answers (a batch
/// is one observation, method `batch`; a method the server does not have is
/// `unknown`, so that callers cannot mint metric labels): the node turns
/// these into metrics.
pub type CallObserver = Arc<dyn Fn(&str, Duration) + Send + Sync>;

/// Middleware timing each call for a [`CallObserver`].
#[derive(Clone)]
struct Timed<S> {
    inner: S,
    observe: CallObserver,
    /// The server's methods: the only names observed.
    methods: Arc<std::collections::HashSet<&'static str>>,
}

impl<S> RpcServiceT for Timed<S>
where
    S: RpcServiceT + Clone + Send + Sync + 'static,
    S::MethodResponse: Send,
    S::BatchResponse: Send,
{
    type MethodResponse = S::MethodResponse;
    type NotificationResponse = S::NotificationResponse;
    type BatchResponse = S::BatchResponse;

    fn call<'a>(
        &self,
        request: Request<'a>,
    ) -> impl Future<Output = Self::MethodResponse> + Send + 'a {
        let inner = self.inner.clone();
        let observe = self.observe.clone();
        let method = self
            .methods
            .get(request.method_name())
            .copied()
            .unwrap_or("unknown");
        async move {
            let started = Instant::now();
            let response = inner.call(request).await;
            observe(method, started.elapsed());
            response
        }
    }

    fn batch<'a>(
        &self,
        requests: Batch<'a>,
    ) -> impl Future<Output = Self::BatchResponse> + Send + 'a {
        let inner = self.inner.clone();
        let observe = self.observe.clone();
        async move {
            let started = Instant::now();
            let response = inner.batch(requests).await;
            observe("batch", started.elapsed());
            response
        }
    }

    fn notification<'a>(
        &self,
        n: Notification<'a>,
    ) -> impl Future<Output = Self::NotificationResponse> + Send + 'a {
        self.inner.notification(n)
    }
}

/// geth's subscription ids: `0x` and 32 hex digits, a string (clients such
/// as viem and web3.py accept no number). 8 random bytes, then a counter
/// that keeps ids unique even if the system's randomness fails.
#[derive(Debug)]
struct HexIds;

impl IdProvider for HexIds {
    fn next_id(&self) -> SubscriptionId<'static> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut random = [0u8; 8];
        // On failure the counter alone keeps ids unique.
        let _ = getrandom::getrandom(&mut random);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        SubscriptionId::Str(format!("0x{:016x}{n:016x}", u64::from_be_bytes(random)).into())
    }
}

/// Starts one chain's JSON-RPC on `addr` (HTTP and WebSocket on one port).
/// `new_blocks` carries each committed block, for subscriptions; `observe`,
/// if given, hears of every call and its duration; `cors` lists the origins
/// allowed to call from a browser ([`cors`]); `extra` holds methods of
/// the embedder's own (`gont_node::node::NodeBuilder::rpc_methods`),
/// served beside the chain's; one named as one of them is an error.
#[allow(clippy::too_many_arguments)] // each is one part of the server; a struct would only rename them
pub async fn serve<B: EthBackend>(
    addr: SocketAddr,
    backend: Arc<B>,
    node: Arc<dyn NodeInfo>,
    new_blocks: broadcast::Sender<StoredBlock>,
    limits: RpcLimits,
    observe: Option<CallObserver>,
    cors: &[String],
    extra: RpcModule<()>,
) -> Result<RpcServer, ServeError> {
    let cors = cors::layer(cors)?;
    let mut module = methods(backend, node, new_blocks, limits)?;
    module.merge(extra)?;
    let config = ServerConfig::builder()
        .max_request_body_size(limits.max_request_bytes)
        .max_response_body_size(limits.max_response_bytes)
        .max_connections(limits.max_connections)
        .max_subscriptions_per_connection(limits.max_subscriptions)
        .set_batch_request_config(BatchRequestConfig::Limit(limits.max_batch))
        .set_id_provider(HexIds)
        .build();
    let observe: CallObserver = observe.unwrap_or_else(|| Arc::new(|_: &str, _: Duration| {}));
    let methods: Arc<std::collections::HashSet<&'static str>> =
        Arc::new(module.method_names().collect());
    let middleware = RpcServiceBuilder::new().layer_fn(move |inner| Timed {
        inner,
        observe: observe.clone(),
        methods: methods.clone(),
    });
    let server = Server::builder()
        .set_config(config)
        .set_http_middleware(tower::ServiceBuilder::new().option_layer(cors))
        .set_rpc_middleware(middleware)
        .build(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let addr = server
        .local_addr()
        .map_err(|source| ServeError::Bind { addr, source })?;
    let handle = server.start(module);
    Ok(RpcServer { addr, handle })
}

/// The method table, without a server: for tests and embedding.
pub fn methods<B: EthBackend>(
    backend: Arc<B>,
    node: Arc<dyn NodeInfo>,
    new_blocks: broadcast::Sender<StoredBlock>,
    limits: RpcLimits,
) -> Result<RpcModule<()>, ServeError> {
    let api = EthApi {
        backend,
        filters: filters::Filters::default(),
        heavy: heavy::Heavy::new(&limits),
        limits,
        node,
        new_blocks,
    };
    let mut module = RpcModule::new(api);
    eth::register(&mut module)?;
    register_gont(&mut module)?;
    proofs::register(&mut module)?;
    debug::register(&mut module)?;
    register_subscriptions(&mut module)?;
    Ok(module.remove_context())
}

fn register_gont<B: EthBackend>(
    module: &mut RpcModule<EthApi<B>>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_method(
        "gont_chains",
        |_, ctx, _| -> Result<Vec<ChainInfo>, ErrorObjectOwned> { Ok(ctx.node.chains()) },
    )?;
    module.register_method("gont_validators", |params, ctx, _| {
        let chain: Option<alloy_primitives::U64> = params.sequence().optional_next()?;
        let chain = chain.map_or(ctx.backend.chain_id(), |c| ChainId(c.to()));
        ctx.node
            .validators(chain)
            .ok_or_else(|| {
                RpcError::InvalidParams(format!("chain {chain} is not known to this node"))
            })
            .and_then(|infos| infos)
            .map_err(ErrorObjectOwned::from)
    })?;
    module.register_method(
        "gont_status",
        |_, ctx, _| -> Result<serde_json::Value, ErrorObjectOwned> { Ok(ctx.node.status()) },
    )?;
    module.register_method(
        "gont_genesis",
        |_, ctx, _| -> Result<serde_json::Value, ErrorObjectOwned> {
            let text = ctx.node.genesis().ok_or_else(|| {
                ErrorObjectOwned::from(RpcError::Refused("this node serves no genesis".to_owned()))
            })?;
            serde_json::from_str(&text)
                .map_err(|e| ErrorObjectOwned::from(RpcError::Internal(e.to_string())))
        },
    )?;
    Ok(())
}

#[derive(serde::Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "camelCase")]
enum SubscriptionKind {
    NewHeads,
    Logs,
    NewPendingTransactions,
}

fn register_subscriptions<B: EthBackend>(
    module: &mut RpcModule<EthApi<B>>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_subscription(
        "eth_subscribe",
        "eth_subscription",
        "eth_unsubscribe",
        |params, pending, ctx, _| async move {
            let mut seq = params.sequence();
            let kind: SubscriptionKind = match seq.next() {
                Ok(k) => k,
                Err(e) => {
                    pending.reject(e).await;
                    return Ok(());
                }
            };
            if kind == SubscriptionKind::NewPendingTransactions {
                // geth's optional flag: full transactions instead of hashes.
                let full: Option<bool> = match seq.optional_next() {
                    Ok(full) => full,
                    Err(e) => {
                        pending.reject(e).await;
                        return Ok(());
                    }
                };
                return subscribe_pending(full.unwrap_or(false), pending, ctx).await;
            }
            // A filter that does not parse or is too large is an error, not
            // a subscription to every log.
            let filter: Option<Filter> = match seq.optional_next() {
                Ok(filter) => filter,
                Err(e) => {
                    pending.reject(e).await;
                    return Ok(());
                }
            };
            if let Some(Err(e)) = filter.as_ref().map(|f| ctx.check_filter_size(f)) {
                pending.reject(ErrorObjectOwned::from(e)).await;
                return Ok(());
            }
            subscribe(kind, filter, pending, ctx).await
        },
    )?;
    Ok(())
}

async fn subscribe<B: EthBackend>(
    kind: SubscriptionKind,
    filter: Option<Filter>,
    pending: PendingSubscriptionSink,
    ctx: Arc<EthApi<B>>,
) -> jsonrpsee::core::SubscriptionResult {
    let mut blocks = ctx.new_blocks.subscribe();
    let sink = pending.accept().await?;
    loop {
        tokio::select! {
            () = sink.closed() => return Ok(()),
            next = blocks.recv() => {
                let stored = match next {
                    Ok(b) => b,
                    // A slow subscriber misses blocks rather than holding the node.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                };
                let messages = match kind {
                    // Served by `subscribe_pending`.
                    SubscriptionKind::NewPendingTransactions => Vec::new(),
                    SubscriptionKind::NewHeads => {
                        vec![serde_json::value::to_raw_value(&convert::rpc_header(&stored))?]
                    }
                    SubscriptionKind::Logs => logs_of(&stored, filter.as_ref())
                        .iter()
                        .map(serde_json::value::to_raw_value)
                        .collect::<Result<_, _>>()?,
                };
                for message in messages {
                    if sink.send(SubscriptionMessage::from(message)).await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
    }
}

/// `newPendingTransactions`: the hash (or, with `full`, the transaction)
/// of each transaction the pool admits.
async fn subscribe_pending<B: EthBackend>(
    full: bool,
    pending: PendingSubscriptionSink,
    ctx: Arc<EthApi<B>>,
) -> jsonrpsee::core::SubscriptionResult {
    let mut admitted = ctx.backend.new_pending_transactions();
    let sink = pending.accept().await?;
    loop {
        tokio::select! {
            () = sink.closed() => return Ok(()),
            next = admitted.recv() => {
                let hash = match next {
                    Ok(hash) => hash,
                    // A slow subscriber misses some rather than holding the node.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                };
                let message = if full {
                    // Gone already (included or replaced): nothing to show.
                    let Some(raw) = ctx.backend.pending_transaction(hash) else {
                        continue;
                    };
                    let (tx, from) = raw.decode_and_recover()?;
                    serde_json::value::to_raw_value(&convert::rpc_transaction(tx, from, None, None))?
                } else {
                    serde_json::value::to_raw_value(&hash)?
                };
                if sink.send(SubscriptionMessage::from(message)).await.is_err() {
                    return Ok(());
                }
            }
        }
    }
}

/// The logs of one block that match a subscription's filter.
fn logs_of(stored: &StoredBlock, filter: Option<&Filter>) -> Vec<alloy_rpc_types_eth::Log> {
    let query = backend::LogFilter {
        addresses: filter
            .map(|f| f.address.iter().copied().collect())
            .unwrap_or_default(),
        topics: filter
            .map(|f| {
                f.topics
                    .iter()
                    .map(|t| t.iter().copied().collect())
                    .collect()
            })
            .unwrap_or_default(),
        ..backend::LogFilter::new(stored.block.header.height, stored.block.header.height)
    };
    let mut out = Vec::new();
    let mut log_index = 0u64;
    for (i, receipt) in stored.receipts.iter().enumerate() {
        let position = convert::TxPosition {
            block_hash: convert::block_hash(stored.id),
            block_number: stored.block.header.height.0,
            index: i as u64,
            timestamp: stored.block.header.time.as_secs(),
        };
        for log in &receipt.logs {
            if query.matches(log) {
                out.push(convert::rpc_log(log, position, receipt.tx_hash, log_index));
            }
            log_index += 1;
        }
    }
    out
}
