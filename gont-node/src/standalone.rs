//! The GONT VM alone: one chain of a genesis, its redb store, its pool and
//! its Ethereum JSON-RPC, with no consensus and no network. Blocks are
//! sealed when asked ([`Standalone::seal`]): per transaction or per
//! interval for `gont vm rpc` (a local development chain, as anvil is for
//! Ethereum), or by the embedder through `libgont_vm` (`gont-ffi`).
//!
//! Blocks are built by the same [`Engine`] a validator uses and committed
//! with the same single redb write, so receipts, state roots and
//! `gont_getProof` answers are those a GONT chain gives. What a chain with
//! no consensus lacks: commits (`gont_getSignedHeader` finds none), peers,
//! and validator-set changes taking effect through votes (the set is read
//! from the staking contract as on any chain; the sealer signs nothing).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gont_core::{
    Address, Block, BlockId, ChainId, ExecutionEngine, ExecutionStore, ForkchoiceState, Genesis,
    Height, PayloadAttributes, RawTransaction, Receipt, Timestamp, ValidatorAddress,
};
use gont_storage::{ChainStore, Store};
use gont_vm::{Engine, EngineConfig, NativeContract, genesis_changes};
use jsonrpsee::RpcModule;
use jsonrpsee::core::RegisterMethodError;
use serde_json::value::RawValue;
use tokio::sync::{broadcast, mpsc};
use tracing::{info, warn};

use crate::backend::ChainBackend;
use crate::extend::{ChainRpc, Chains, Extensions};
use crate::mempool::{MempoolConfig, TxOrdering};
use crate::rpc::backend::{EthBackend, StoredBlock};
use crate::rpc::error::RpcError;
use crate::rpc::{self, ChainInfo, NodeInfo, RpcLimits, RpcServer, ServeError, ValidatorInfo};

/// Why a standalone VM could not open.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The genesis is not valid.
    #[error("genesis: {0}")]
    Genesis(String),
    /// The genesis defines no chain with this id.
    #[error("the genesis defines no chain {0}")]
    NoChain(ChainId),
    /// The data directory could not be opened, or holds another chain.
    #[error("data directory: {0}")]
    Store(#[from] gont_storage::StoreError),
    /// The transaction pool's journal could not be read or written.
    #[error("txpool journal {}: {source}", path.display())]
    Journal {
        /// The journal's path.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An integrator's JSON-RPC methods could not be registered, or one
    /// is named as another's or the chain's own
    /// ([`StandaloneBuilder::rpc_methods`]).
    #[error("JSON-RPC methods added to the chain: {0}")]
    RpcExtension(#[from] RegisterMethodError),
}

/// A [`Standalone`] chain with an integrator's additions, built as
/// `gont vm rpc` builds its own (with nothing added): native contracts in
/// its EVM, JSON-RPC methods beside its own, and the order in which its
/// pool offers transactions to the blocks it seals. `libgont_vm` and
/// `gont vm abci` open theirs with [`Standalone::open`].
///
/// ```no_run
/// # fn run() -> Result<(), gont_node::standalone::OpenError> {
/// use gont_node::standalone::Standalone;
/// # #[derive(Debug)] struct MyPrecompile;
/// # impl gont_vm::NativeContract for MyPrecompile {
/// #     fn call(&self, _: &[u8], _: u64) -> gont_vm::NativeOutcome { gont_vm::NativeOutcome::Halt }
/// # }
/// let genesis = gont_core::Genesis::devnet(1, 0);
/// let vm = Standalone::builder("/path/to/data", genesis)
///     .native_contract(gont_core::Address::repeat_byte(0x01), MyPrecompile)
///     .rpc_methods(|chain| {
///         let mut module = jsonrpsee::RpcModule::new(());
///         let id = chain.chain_id;
///         module.register_method("myapp_chain", move |_, _, _| id.get())?;
///         Ok(module)
///     })
///     .open(gont_node::wall_clock())?;
/// # Ok(()) }
/// ```
#[must_use = "a builder does nothing until opened"]
pub struct StandaloneBuilder {
    data_dir: PathBuf,
    genesis: Genesis,
    chain: Option<ChainId>,
    extensions: Extensions,
}

impl std::fmt::Debug for StandaloneBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StandaloneBuilder")
            .field("data_dir", &self.data_dir)
            .field("chain", &self.chain)
            .field("extensions", &self.extensions)
            .finish_non_exhaustive()
    }
}

impl StandaloneBuilder {
    /// Runs chain `chain` of the genesis (a service's) instead of its
    /// Space.
    pub fn chain(mut self, chain: ChainId) -> Self {
        self.chain = Some(chain);
        self
    }

    /// Runs `contract` at `address` in the chain's EVM, beside Ethereum's
    /// precompiles and the system contracts: for the blocks sealed and for
    /// `eth_call`, `eth_estimateGas` and the tracers. A later contract at
    /// the same address replaces an earlier one.
    pub fn native_contract(
        mut self,
        address: Address,
        contract: impl NativeContract + 'static,
    ) -> Self {
        self.extensions
            .native
            .push((Chains::All, address, Arc::new(contract)));
        self
    }

    /// Adds the methods `build` makes to the chain's JSON-RPC (served by
    /// [`Standalone::rpc`] and [`Standalone::serve`]). A method named as
    /// the chain's own or another extension's stops [`Self::open`] with
    /// [`OpenError::RpcExtension`].
    pub fn rpc_methods(
        mut self,
        build: impl Fn(&ChainRpc) -> Result<RpcModule<()>, RegisterMethodError> + Send + Sync + 'static,
    ) -> Self {
        self.extensions.rpc.push(Arc::new(build));
        self
    }

    /// Orders the pool by `ordering` when a block is sealed (instead of by
    /// tip, [`crate::mempool::ByTip`]); each sender's transactions stay in
    /// nonce order. A later ordering replaces an earlier one.
    pub fn tx_ordering(mut self, ordering: impl TxOrdering + 'static) -> Self {
        self.extensions
            .ordering
            .push((Chains::All, Arc::new(ordering)));
        self
    }

    /// Opens the chain, as [`Standalone::open`] does, with what was added.
    pub fn open(self, now: Timestamp) -> Result<Standalone, OpenError> {
        Standalone::open_extended(
            &self.data_dir,
            &self.genesis,
            self.chain,
            now,
            &self.extensions,
        )
    }
}

/// Why a block could not be sealed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// Reading the chain failed.
    #[error(transparent)]
    Read(#[from] RpcError),
    /// The engine could not build or commit the block.
    #[error("engine: {0}")]
    Engine(String),
    /// The chain's validator set is empty (a staking contract that lost
    /// every validator): no one to record as the proposer.
    #[error("the chain has no validator to record as the block's proposer")]
    NoProposer,
}

/// A block built and executed by [`Standalone::build`], not committed.
#[derive(Clone, Debug)]
pub struct Built {
    /// Its id (the Tendermint header hash of its GONT header).
    pub id: BlockId,
    /// The block: its header's `state_root` is the state after it.
    pub block: Block,
    /// One receipt per included transaction.
    pub receipts: Vec<Receipt>,
}

/// When `gont vm rpc` seals blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sealing {
    /// A block as soon as a transaction is admitted (anvil's default).
    Instant,
    /// A block every interval, empty or not.
    Interval(Duration),
}

/// One chain run by the VM alone.
pub struct Standalone {
    backend: Arc<ChainBackend>,
    engine: Mutex<Engine<ChainStore>>,
    max_block_bytes: u64,
    new_blocks: broadcast::Sender<StoredBlock>,
    /// The chain's methods and the integrator's.
    module: RpcModule<()>,
    /// The integrator's methods alone, which [`Self::serve`] adds.
    extra: RpcModule<()>,
    info: Arc<StandaloneInfo>,
    _store: Store,
}

impl std::fmt::Debug for Standalone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Standalone")
            .field("chain", &self.backend.chain_id())
            .finish_non_exhaustive()
    }
}

impl Standalone {
    /// Opens chain `chain` of `genesis` (its Space when `None`) over the
    /// redb store in `data_dir`, creating it with the genesis state on
    /// first use; a directory holding another genesis is refused. `now`
    /// validates the genesis.
    pub fn open(
        data_dir: &Path,
        genesis: &Genesis,
        chain: Option<ChainId>,
        now: Timestamp,
    ) -> Result<Self, OpenError> {
        Self::open_extended(data_dir, genesis, chain, now, &Extensions::default())
    }

    /// A builder of chain `genesis`'s Space over `data_dir`, to which an
    /// integrator adds native contracts, JSON-RPC methods and the pool's
    /// ordering before [`StandaloneBuilder::open`].
    pub fn builder(data_dir: impl Into<PathBuf>, genesis: Genesis) -> StandaloneBuilder {
        StandaloneBuilder {
            data_dir: data_dir.into(),
            genesis,
            chain: None,
            extensions: Extensions::default(),
        }
    }

    fn open_extended(
        data_dir: &Path,
        genesis: &Genesis,
        chain: Option<ChainId>,
        now: Timestamp,
        extensions: &Extensions,
    ) -> Result<Self, OpenError> {
        genesis
            .validate(now)
            .map_err(|e| OpenError::Genesis(e.to_string()))?;
        let chain_id = chain.unwrap_or(genesis.chain_id);
        let (validators, params) = genesis
            .chain_consensus(chain_id)
            .ok_or(OpenError::NoChain(chain_id))?
            .map_err(|e| OpenError::Genesis(e.to_string()))?;
        let config = extensions.engine_config(
            chain_id,
            EngineConfig::from_genesis(genesis, chain_id).ok_or(OpenError::NoChain(chain_id))?,
        );
        let store = Store::open(data_dir)?;
        let chain_store = store.chain(chain_id);
        let changes =
            genesis_changes(genesis, chain_id).map_err(|e| OpenError::Genesis(e.to_string()))?;
        chain_store.init_genesis(genesis.hash(), &changes)?;
        // Nothing gossips: a refused send of an admitted transaction is
        // ignored by the backend.
        let (gossip, _) = mpsc::unbounded_channel();
        let backend = Arc::new(ChainBackend::new(
            chain_store.clone(),
            genesis,
            validators,
            config.clone(),
            Arc::new(Mutex::new(
                extensions.mempool(chain_id, MempoolConfig::default()),
            )),
            gossip,
            Arc::new(Mutex::new(None)),
        ));
        let journal = data_dir.join(format!("txpool-{chain_id}.journal"));
        backend
            .open_journal(&journal)
            .map_err(|source| OpenError::Journal {
                path: journal.clone(),
                source,
            })?;
        let (new_blocks, _) = broadcast::channel(256);
        let info = Arc::new(StandaloneInfo {
            genesis: genesis.to_json(),
            name: genesis
                .service_by_chain(chain_id)
                .map_or_else(|| "GONT Space".to_owned(), |s| s.name.clone()),
            service_id: genesis.service_by_chain(chain_id).map(|s| s.id.0),
            backend: backend.clone(),
            rpc: Mutex::new(None),
        });
        let mut module = rpc::methods(
            backend.clone(),
            info.clone(),
            new_blocks.clone(),
            RpcLimits::default(),
        )
        .map_err(|e| OpenError::Genesis(e.to_string()))?;
        let extra = extensions.rpc_methods(&ChainRpc {
            chain_id,
            backend: backend.clone(),
        })?;
        module.merge(extra.clone())?;
        Ok(Self {
            backend,
            engine: Mutex::new(Engine::new(chain_store, config)),
            max_block_bytes: params.max_block_bytes,
            new_blocks,
            module,
            extra,
            info,
            _store: store,
        })
    }

    /// The chain's id.
    pub fn chain_id(&self) -> ChainId {
        self.backend.chain_id()
    }

    /// The newest sealed height (0 before the first block).
    pub fn height(&self) -> Result<Height, RpcError> {
        self.backend.latest()
    }

    /// The chain's backend: its store, pool and reads.
    pub fn backend(&self) -> &Arc<ChainBackend> {
        &self.backend
    }

    /// Seals a block of the pool's best transactions on the head, commits
    /// it, and tells subscribers. The proposer recorded is the first of the
    /// height's validator set, fees going to its operator; the block's
    /// time is now, or a millisecond after its parent's if the clock is
    /// behind.
    pub fn seal(&self) -> Result<StoredBlock, SealError> {
        let head = self.backend.store().head().map_err(RpcError::from)?;
        let height = Height(head.as_ref().map_or(0, |h| h.height.0) + 1);
        let set = self.backend.validator_set_at(height)?;
        let proposer = set
            .validators()
            .first()
            .ok_or(SealError::NoProposer)?
            .address();
        let now = crate::wall_clock();
        let time = match &head {
            Some(h) if h.time.as_millis() >= now.as_millis() => {
                Timestamp(h.time.as_millis().saturating_add(1))
            }
            _ => now,
        };
        let gas_limit = self.gas_limit()?;
        let transactions = self
            .backend
            .proposal_transactions(self.max_block_bytes, gas_limit);
        let built = self.build(time, proposer, &transactions)?;
        self.commit(built.id)
    }

    /// Every block's gas limit.
    pub fn gas_limit(&self) -> Result<u64, SealError> {
        Ok(self
            .engine
            .lock()
            .map_err(|_| SealError::Engine("engine lock poisoned".to_owned()))?
            .config()
            .gas_limit)
    }

    /// Builds and executes the next block from `transactions` in order,
    /// leaving out those that cannot be included, at `time`, proposed by
    /// `proposer` (fees go to its operator when it is in the height's
    /// validator set, to the zero address otherwise). Nothing is
    /// committed until [`Self::commit`] names the block; building again
    /// replaces it.
    pub fn build(
        &self,
        time: Timestamp,
        proposer: ValidatorAddress,
        transactions: &[RawTransaction],
    ) -> Result<Built, SealError> {
        let mut engine = self
            .engine
            .lock()
            .map_err(|_| SealError::Engine("engine lock poisoned".to_owned()))?;
        let head = engine.store().head().map_err(RpcError::from)?;
        let parent = head
            .as_ref()
            .map(gont_core::Header::id)
            .transpose()
            .map_err(|e| SealError::Engine(e.to_string()))?;
        let height = Height(head.as_ref().map_or(0, |h| h.height.0) + 1);
        let set = self.backend.validator_set_at(height)?;
        let fee_recipient = set
            .get(&proposer)
            .map_or(gont_core::Address::ZERO, |(_, v)| v.operator);
        let block = engine
            .build_payload(
                parent,
                PayloadAttributes {
                    timestamp: time,
                    proposer,
                    fee_recipient,
                    validators_hash: set.hash(),
                    // One process, one signer: nothing to double sign.
                    evidence: Vec::new(),
                    // No consensus, so no commit: nobody is counted down.
                    last_commit: None,
                },
                transactions,
            )
            .map_err(|e| SealError::Engine(e.to_string()))?;
        let id = block
            .header
            .id()
            .map_err(|e| SealError::Engine(e.to_string()))?;
        let receipts = engine
            .executed(&id)
            .map(|e| e.receipts.clone())
            .unwrap_or_default();
        Ok(Built {
            id,
            block,
            receipts,
        })
    }

    /// Commits a block [`Self::build`] made (one redb write), drops from
    /// the pool what it included or made stale, and tells subscribers.
    pub fn commit(&self, id: BlockId) -> Result<StoredBlock, SealError> {
        let mut engine = self
            .engine
            .lock()
            .map_err(|_| SealError::Engine("engine lock poisoned".to_owned()))?;
        engine
            .forkchoice_updated(ForkchoiceState {
                head: id,
                safe: id,
                finalized: id,
            })
            .map_err(|e| SealError::Engine(e.to_string()))?;
        drop(engine);
        let height = self.backend.latest()?;
        let sealed = self.backend.committed(height)?.ok_or_else(|| {
            SealError::Engine(format!("block {height} is not readable after its commit"))
        })?;
        // Nobody subscribed is not an error.
        let _ = self.new_blocks.send(sealed.clone());
        Ok(sealed)
    }

    /// Answers one JSON-RPC request, or a batch, as the chain's server
    /// would; errors are JSON-RPC error objects. Subscriptions need a
    /// connection to deliver on and are refused here: poll a filter
    /// (`eth_newFilter`, `eth_getFilterChanges`) instead.
    pub async fn rpc(&self, request: &str) -> String {
        let Ok(value) = serde_json::from_str::<&RawValue>(request) else {
            return error_response("null", -32700, "parse error");
        };
        if value.get().trim_start().starts_with('[') {
            let Ok(calls) = serde_json::from_str::<Vec<&RawValue>>(request) else {
                return error_response("null", -32700, "parse error");
            };
            if calls.is_empty() {
                return error_response("null", -32600, "empty batch");
            }
            let limit = RpcLimits::default().max_batch as usize;
            if calls.len() > limit {
                return error_response(
                    "null",
                    -32600,
                    &format!(
                        "batch of {} calls exceeds the limit of {limit}",
                        calls.len()
                    ),
                );
            }
            let mut answers = Vec::with_capacity(calls.len());
            for call in calls {
                answers.push(self.call(call.get()).await);
            }
            return format!("[{}]", answers.join(","));
        }
        self.call(value.get()).await
    }

    async fn call(&self, request: &str) -> String {
        #[derive(serde::Deserialize)]
        struct Head<'a> {
            #[serde(borrow)]
            id: Option<&'a RawValue>,
            method: Option<String>,
        }
        let Ok(head) = serde_json::from_str::<Head<'_>>(request) else {
            return error_response("null", -32600, "invalid request");
        };
        // The id is echoed only if it is one (a string, an integer or
        // null); otherwise the request is invalid and the answer's id null,
        // as JSON-RPC 2.0 says and jsonrpsee's server does.
        let id = head.id.map_or("null", RawValue::get);
        let valid_id = match serde_json::from_str::<serde_json::Value>(id) {
            Ok(serde_json::Value::String(_) | serde_json::Value::Null) => true,
            Ok(serde_json::Value::Number(n)) => n.is_u64() || n.is_i64(),
            _ => false,
        };
        if !valid_id {
            return error_response(
                "null",
                -32600,
                "invalid request: the id is not a string or an integer",
            );
        }
        if matches!(
            head.method.as_deref(),
            Some("eth_subscribe" | "eth_unsubscribe")
        ) {
            return error_response(
                id,
                -32601,
                "subscriptions need a WebSocket connection: poll a filter (eth_newFilter) instead",
            );
        }
        match self.module.raw_json_request(request, 1).await {
            Ok((response, _)) => response.get().to_owned(),
            Err(_) => error_response(id, -32600, "invalid request"),
        }
    }

    /// Serves the chain's JSON-RPC (HTTP and WebSocket) on `addr`, with the
    /// node's limits; `cors` as `rpc_cors` in a node's config.
    pub async fn serve(
        &self,
        addr: std::net::SocketAddr,
        cors: &[String],
    ) -> Result<RpcServer, ServeError> {
        let server = rpc::serve(
            addr,
            self.backend.clone(),
            self.info.clone(),
            self.new_blocks.clone(),
            RpcLimits::default(),
            None,
            cors,
            self.extra.clone(),
        )
        .await?;
        if let Ok(mut rpc) = self.info.rpc.lock() {
            *rpc = Some(server.addr);
        }
        Ok(server)
    }

    /// Seals blocks as `sealing` says until the task is aborted: per
    /// admitted transaction (several admitted together share a block; what
    /// the pool holds when it starts is sealed at once), or per interval. A failed seal is logged and tried again at the next
    /// occasion.
    pub async fn run_sealer(self: Arc<Self>, sealing: Sealing) {
        match sealing {
            Sealing::Instant => {
                let mut admitted = self.backend.new_pending_transactions();
                // First what the pool already holds (restored from the
                // journal, or admitted before this subscription), then
                // at every admission.
                loop {
                    // Wake-ups of what is in the pool now are spent by the
                    // seals below; one that arrives during them wakes the
                    // loop again. (Draining after sealing instead loses the
                    // wake-up of a gap-filling transaction admitted during a
                    // seal, and that transaction waits for the next one.)
                    while admitted.try_recv().is_ok() {}
                    while self.backend.pool_len() > 0 {
                        let before = self.backend.pool_len();
                        if !self.clone().seal_logged().await {
                            break;
                        }
                        // Transactions the block could not include (a
                        // nonce gap) wait for the next admission.
                        if self.backend.pool_len() >= before {
                            break;
                        }
                    }
                    match admitted.recv().await {
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => return,
                    }
                }
            }
            Sealing::Interval(every) => {
                let mut tick = tokio::time::interval(every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    self.clone().seal_logged().await;
                }
            }
        }
    }

    /// Seals on the blocking pool (a commit fsyncs), logging the outcome.
    async fn seal_logged(self: Arc<Self>) -> bool {
        let chain = self.chain_id();
        match tokio::task::spawn_blocking(move || self.seal()).await {
            Ok(Ok(block)) => {
                let header = &block.block.header;
                info!(
                    %chain,
                    height = %header.height,
                    txs = block.block.body.transactions.len(),
                    gas = header.execution.gas_used,
                    hash = %block.id,
                    "sealed"
                );
                true
            }
            Ok(Err(e)) => {
                warn!(%chain, "sealing failed: {e}");
                false
            }
            Err(e) => {
                warn!(%chain, "sealing task failed: {e}");
                false
            }
        }
    }
}

/// A JSON-RPC 2.0 error object answering `id` (raw JSON).
fn error_response(id: &str, code: i32, message: &str) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"error":{{"code":{code},"message":{}}}}}"#,
        serde_json::Value::String(message.to_owned())
    )
}

/// What `gont_chains`, `gont_validators` and `gont_status` report of a
/// standalone VM.
struct StandaloneInfo {
    genesis: String,
    name: String,
    service_id: Option<u32>,
    backend: Arc<ChainBackend>,
    rpc: Mutex<Option<std::net::SocketAddr>>,
}

impl NodeInfo for StandaloneInfo {
    fn chains(&self) -> Vec<ChainInfo> {
        vec![ChainInfo {
            kind: if self.service_id.is_some() {
                "service"
            } else {
                "space"
            },
            name: self.name.clone(),
            chain_id: self.backend.chain_id(),
            service_id: self.service_id,
            rpc: self
                .rpc
                .lock()
                .ok()
                .and_then(|a| *a)
                .map(|a| format!("http://{a}")),
            height: self.backend.latest().unwrap_or(Height(0)),
            validator: false,
        }]
    }

    fn validators(&self, chain: ChainId) -> Option<Result<Vec<ValidatorInfo>, RpcError>> {
        (chain == self.backend.chain_id()).then(|| self.backend.validator_infos())
    }

    fn status(&self) -> serde_json::Value {
        serde_json::json!({
            "placement": "abi",
            "version": env!("CARGO_PKG_VERSION"),
            "peers": 0,
            "chains": [{
                "chainId": self.backend.chain_id(),
                "name": self.name,
                "height": self.backend.latest().map(|h| h.0).unwrap_or(0),
                "validator": false,
                "syncing": false,
                "mempool": self.backend.pool_len(),
            }],
        })
    }

    fn peer_count(&self) -> usize {
        0
    }

    fn genesis(&self) -> Option<String> {
        Some(self.genesis.clone())
    }
}
