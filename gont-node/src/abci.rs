//! `gont vm abci`: the GONT VM as an ABCI 2.0 application for CometBFT
//! 0.38, over tower-abci's socket server (patched in `third_party/`).
//!
//! CometBFT orders and decides; the VM is a [`Standalone`] chain whose
//! blocks are the ones CometBFT finalizes. Transactions are raw Ethereum
//! transactions (EIP-2718 bytes).
//!
//! | ABCI | here |
//! |---|---|
//! | `InitChain` | the GONT genesis from `app_state_bytes` (JSON), else `--genesis`, else the development genesis at CometBFT's genesis time; written to `HOME/genesis.json`; the app hash is the genesis state root; CometBFT's validators are kept |
//! | `CheckTx` | the node's pool admission, geth's wording (`nonce too low`, `insufficient funds …`); a transaction already pooled is accepted |
//! | `PrepareProposal` | the pool's best transactions (those `CheckTx` and this application's JSON-RPC admitted), then CometBFT's others, executed, keeping those that apply, within `max_tx_bytes` |
//! | `ProcessProposal` | executes the proposal: `REJECT` unless every transaction applies, in order |
//! | `FinalizeBlock` | executes the block (time and proposer from CometBFT); one result per transaction: code 0 with the receipt as events (`ethereum_tx`, one `ethereum_log` per log), or code 1; the app hash is the block's state root |
//! | `Commit` | commits the finalized block in one redb write |
//! | `Info` | the last committed height and its state root, so that CometBFT's handshake replays what a crash lost |
//! | `Query` | `/account/ADDRESS`, `/storage/ADDRESS/SLOT`, `/eth_call` (data: a JSON call object), at `height` (0: latest); JSON in `value` |
//!
//! Not done: validator-set changes are not returned to CometBFT (its set
//! stays the one of its genesis), and there are no state-sync snapshots.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};

use gont_core::{
    Address, B256, BlockId, Genesis, Height, RawTransaction, Timestamp, ValidatorAddress,
};
use serde_json::json;
use tendermint::abci::{Code, Event, request, response, types::ExecTxResult};
use tendermint::v0_38::abci::{
    ConsensusRequest, ConsensusResponse, InfoRequest, InfoResponse, MempoolRequest,
    MempoolResponse, SnapshotRequest, SnapshotResponse,
};
use tower_abci::BoxError;
use tracing::{info, warn};

use crate::backend::AdmitError;
use crate::mempool::MempoolError;
use crate::rpc::RpcServer;
use crate::rpc::backend::EthBackend;
use crate::standalone::{SealError, Standalone};

/// The genesis file the application keeps in its home.
pub const GENESIS_FILE: &str = "genesis.json";

/// Why the application could not start or answer.
#[derive(Debug, thiserror::Error)]
pub enum AbciError {
    /// The home's genesis or the chain's store.
    #[error("{0}")]
    Open(String),
    /// A request CometBFT should not send in this state.
    #[error("{0}")]
    Protocol(String),
    /// Building or committing a block failed.
    #[error(transparent)]
    Seal(#[from] SealError),
}

/// Where `gont vm abci` listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listen {
    /// `tcp://HOST:PORT`.
    Tcp(String),
    /// `unix://PATH`.
    Unix(PathBuf),
}

impl std::str::FromStr for Listen {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(addr) = s.strip_prefix("tcp://") {
            Ok(Self::Tcp(addr.to_owned()))
        } else if let Some(path) = s.strip_prefix("unix://") {
            Ok(Self::Unix(PathBuf::from(path)))
        } else {
            Err(format!("{s:?} is neither tcp://HOST:PORT nor unix://PATH"))
        }
    }
}

/// The application: the chain once its genesis is known, and the block
/// finalized but not committed yet.
pub struct AbciApp {
    home: PathBuf,
    genesis: Option<Genesis>,
    rpc: Option<std::net::SocketAddr>,
    vm: OnceLock<Arc<Standalone>>,
    server: Mutex<Option<RpcServer>>,
    finalized: Mutex<Option<(Height, BlockId)>>,
}

impl std::fmt::Debug for AbciApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AbciApp")
            .field("home", &self.home)
            .finish_non_exhaustive()
    }
}

fn timestamp(time: tendermint::Time) -> Timestamp {
    Timestamp(u64::try_from(time.unix_timestamp_nanos() / 1_000_000).unwrap_or(0))
}

fn proposer(id: tendermint::account::Id) -> ValidatorAddress {
    let mut bytes = [0u8; 20];
    bytes.copy_from_slice(id.as_bytes());
    ValidatorAddress(bytes)
}

fn raw_txs(txs: &[bytes::Bytes]) -> Vec<RawTransaction> {
    txs.iter()
        .map(|t| RawTransaction(t.to_vec().into()))
        .collect()
}

impl AbciApp {
    /// The application of `home` (created if missing). A chain initialised
    /// before (`HOME/genesis.json`) is opened now; otherwise at
    /// `InitChain`, from its `app_state_bytes`, else `genesis`, else the
    /// development genesis. With `rpc`, the chain's Ethereum JSON-RPC is
    /// served there once it is open.
    pub fn open(
        home: &Path,
        genesis: Option<Genesis>,
        rpc: Option<std::net::SocketAddr>,
    ) -> Result<Arc<Self>, AbciError> {
        std::fs::create_dir_all(home)
            .map_err(|e| AbciError::Open(format!("{}: {e}", home.display())))?;
        let app = Arc::new(Self {
            home: home.to_owned(),
            genesis,
            rpc,
            vm: OnceLock::new(),
            server: Mutex::new(None),
            finalized: Mutex::new(None),
        });
        let path = home.join(GENESIS_FILE);
        if path.exists() {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| AbciError::Open(format!("{}: {e}", path.display())))?;
            let genesis = Genesis::from_json(&text)
                .map_err(|e| AbciError::Open(format!("{}: {e}", path.display())))?;
            app.open_chain(&genesis)?;
        }
        Ok(app)
    }

    /// The chain, once its genesis is known.
    pub fn vm(&self) -> Option<&Arc<Standalone>> {
        self.vm.get()
    }

    fn open_chain(&self, genesis: &Genesis) -> Result<&Arc<Standalone>, AbciError> {
        if let Some(vm) = self.vm.get() {
            return Ok(vm);
        }
        let vm = Standalone::open(&self.home.join("data"), genesis, None, crate::wall_clock())
            .map_err(|e| AbciError::Open(e.to_string()))?;
        let vm = self.vm.get_or_init(|| Arc::new(vm));
        if let (Some(addr), Ok(runtime)) = (self.rpc, tokio::runtime::Handle::try_current()) {
            let serving = vm.clone();
            let server = runtime
                .block_on(async move { serving.serve(addr, &["*".to_owned()]).await })
                .map_err(|e| AbciError::Open(e.to_string()))?;
            info!("JSON-RPC at http://{0} and ws://{0}", server.addr);
            if let Ok(mut slot) = self.server.lock() {
                *slot = Some(server);
            }
        }
        Ok(vm)
    }

    fn chain(&self) -> Result<&Arc<Standalone>, AbciError> {
        self.vm
            .get()
            .ok_or_else(|| AbciError::Protocol("InitChain has not been called".to_owned()))
    }

    /// Answers a consensus request.
    pub fn consensus(&self, request: ConsensusRequest) -> Result<ConsensusResponse, AbciError> {
        Ok(match request {
            ConsensusRequest::InitChain(r) => ConsensusResponse::InitChain(self.init_chain(&r)?),
            ConsensusRequest::PrepareProposal(r) => {
                ConsensusResponse::PrepareProposal(self.prepare_proposal(&r)?)
            }
            ConsensusRequest::ProcessProposal(r) => {
                ConsensusResponse::ProcessProposal(self.process_proposal(&r))
            }
            ConsensusRequest::FinalizeBlock(r) => {
                ConsensusResponse::FinalizeBlock(self.finalize_block(&r)?)
            }
            ConsensusRequest::Commit => ConsensusResponse::Commit(self.commit()?),
            ConsensusRequest::ExtendVote(_) => {
                ConsensusResponse::ExtendVote(response::ExtendVote {
                    vote_extension: bytes::Bytes::new(),
                })
            }
            ConsensusRequest::VerifyVoteExtension(_) => {
                ConsensusResponse::VerifyVoteExtension(response::VerifyVoteExtension::Accept)
            }
        })
    }

    fn init_chain(&self, r: &request::InitChain) -> Result<response::InitChain, AbciError> {
        if r.initial_height.value() != 1 {
            return Err(AbciError::Protocol(format!(
                "initial_height {} is not 1: a GONT chain starts at block 1",
                r.initial_height
            )));
        }
        let genesis = if r.app_state_bytes.is_empty() {
            self.genesis.clone().unwrap_or_else(|| {
                let mut genesis = Genesis::devnet(1, 0);
                genesis.genesis_time = timestamp(r.time);
                genesis
            })
        } else {
            let text = std::str::from_utf8(&r.app_state_bytes)
                .map_err(|e| AbciError::Open(format!("app_state is not UTF-8: {e}")))?;
            Genesis::from_json(text)
                .map_err(|e| AbciError::Open(format!("app_state is not a GONT genesis: {e}")))?
        };
        let path = self.home.join(GENESIS_FILE);
        if path.exists() {
            let kept = std::fs::read_to_string(&path)
                .map_err(|e| AbciError::Open(format!("{}: {e}", path.display())))?;
            if Genesis::from_json(&kept).map(|g| g.hash()).ok() != Some(genesis.hash()) {
                return Err(AbciError::Open(format!(
                    "{} holds another genesis than InitChain's",
                    path.display()
                )));
            }
        } else {
            std::fs::write(&path, genesis.to_json())
                .map_err(|e| AbciError::Open(format!("{}: {e}", path.display())))?;
        }
        let vm = self.open_chain(&genesis)?;
        let root = vm
            .backend()
            .store()
            .state_root(Height(0))
            .map_err(|e| AbciError::Open(e.to_string()))?;
        info!(chain = %vm.chain_id(), "InitChain: genesis {}", genesis.hash());
        Ok(response::InitChain {
            consensus_params: None,
            validators: Vec::new(),
            app_hash: app_hash(root.0.to_vec())?,
        })
    }

    fn prepare_proposal(
        &self,
        r: &request::PrepareProposal,
    ) -> Result<response::PrepareProposal, AbciError> {
        let vm = self.chain()?;
        let max_bytes = u64::try_from(r.max_tx_bytes).unwrap_or(0);
        let gas = vm.gas_limit()?;
        let mut txs = vm.backend().proposal_transactions(max_bytes, gas);
        let pooled: std::collections::HashSet<B256> =
            txs.iter().map(RawTransaction::hash).collect();
        txs.extend(
            raw_txs(&r.txs)
                .into_iter()
                .filter(|t| !pooled.contains(&t.hash())),
        );
        let built = vm.build(timestamp(r.time), proposer(r.proposer_address), &txs)?;
        let mut total = 0u64;
        let txs = built
            .block
            .body
            .transactions
            .iter()
            .take_while(|t| {
                total = total.saturating_add(t.0.len() as u64);
                total <= max_bytes
            })
            .map(|t| bytes::Bytes::copy_from_slice(&t.0))
            .collect();
        Ok(response::PrepareProposal { txs })
    }

    fn process_proposal(&self, r: &request::ProcessProposal) -> response::ProcessProposal {
        let Ok(vm) = self.chain() else {
            return response::ProcessProposal::Reject;
        };
        let txs = raw_txs(&r.txs);
        match vm.build(timestamp(r.time), proposer(r.proposer_address), &txs) {
            Ok(built) if built.block.body.transactions == txs => response::ProcessProposal::Accept,
            Ok(built) => {
                warn!(
                    height = %r.height,
                    applied = built.block.body.transactions.len(),
                    proposed = txs.len(),
                    "rejecting a proposal whose transactions do not all apply"
                );
                response::ProcessProposal::Reject
            }
            Err(e) => {
                warn!(height = %r.height, "rejecting a proposal: {e}");
                response::ProcessProposal::Reject
            }
        }
    }

    fn finalize_block(
        &self,
        r: &request::FinalizeBlock,
    ) -> Result<response::FinalizeBlock, AbciError> {
        let vm = self.chain()?;
        let next = vm.height().map_err(SealError::from)?.0 + 1;
        if r.height.value() != next {
            return Err(AbciError::Protocol(format!(
                "FinalizeBlock for height {} but the next block is {next}",
                r.height
            )));
        }
        let txs = raw_txs(&r.txs);
        let built = vm.build(timestamp(r.time), proposer(r.proposer_address), &txs)?;
        let tx_results = txs
            .iter()
            .map(|tx| {
                let hash = tx.hash();
                built
                    .receipts
                    .iter()
                    .find(|receipt| receipt.tx_hash == hash)
                    .map_or_else(
                        || ExecTxResult {
                            code: Code::from(1),
                            log: "not included: it does not decode, or does not apply to the \
                                  state before it (nonce, balance, fee or gas)"
                                .to_owned(),
                            ..ExecTxResult::default()
                        },
                        receipt_result,
                    )
            })
            .collect();
        if let Ok(mut finalized) = self.finalized.lock() {
            *finalized = Some((Height(next), built.id));
        }
        Ok(response::FinalizeBlock {
            events: Vec::new(),
            tx_results,
            validator_updates: Vec::new(),
            consensus_param_updates: None,
            app_hash: app_hash(built.block.header.state_root.0.to_vec())?,
        })
    }

    fn commit(&self) -> Result<response::Commit, AbciError> {
        let vm = self.chain()?;
        let (height, id) = self
            .finalized
            .lock()
            .ok()
            .and_then(|mut f| f.take())
            .ok_or_else(|| AbciError::Protocol("Commit without FinalizeBlock".to_owned()))?;
        let block = vm.commit(id)?;
        info!(
            %height,
            txs = block.block.body.transactions.len(),
            gas = block.block.header.execution.gas_used,
            "committed"
        );
        Ok(response::Commit {
            data: bytes::Bytes::new(),
            retain_height: tendermint::block::Height::default(),
        })
    }

    /// Answers a mempool request (`CheckTx`).
    pub fn mempool(&self, request: MempoolRequest) -> MempoolResponse {
        let MempoolRequest::CheckTx(r) = request;
        let refuse = |log: String| response::CheckTx {
            code: Code::from(1),
            log,
            ..response::CheckTx::default()
        };
        let Ok(vm) = self.chain() else {
            return MempoolResponse::CheckTx(refuse("InitChain has not been called".to_owned()));
        };
        let raw = RawTransaction(r.tx.to_vec().into());
        let gas_wanted = raw
            .decode()
            .map(|tx| {
                i64::try_from(alloy_consensus::Transaction::gas_limit(&tx)).unwrap_or(i64::MAX)
            })
            .unwrap_or(0);
        let answer = match vm.backend().admit_gossiped(raw) {
            Ok(_) | Err(AdmitError::Pool(MempoolError::AlreadyKnown)) => response::CheckTx {
                gas_wanted,
                ..response::CheckTx::default()
            },
            Err(e) => refuse(e.to_string()),
        };
        MempoolResponse::CheckTx(answer)
    }

    /// Answers an info request (`Info`, `Query`, `Echo`).
    pub fn info(&self, request: InfoRequest) -> Result<InfoResponse, AbciError> {
        Ok(match request {
            InfoRequest::Echo(r) => InfoResponse::Echo(response::Echo { message: r.message }),
            InfoRequest::Info(_) => {
                let (height, hash) = match self.vm.get() {
                    None => (0, Vec::new()),
                    Some(vm) => {
                        let height = vm.height().map_err(SealError::from)?;
                        let hash = if height.0 == 0 {
                            Vec::new()
                        } else {
                            vm.backend()
                                .store()
                                .state_root(height)
                                .map_err(|e| AbciError::Open(e.to_string()))?
                                .0
                                .to_vec()
                        };
                        (height.0, hash)
                    }
                };
                InfoResponse::Info(response::Info {
                    data: "gont-vm".to_owned(),
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                    app_version: 1,
                    last_block_height: tendermint::block::Height::try_from(height)
                        .map_err(|e| AbciError::Protocol(e.to_string()))?,
                    last_block_app_hash: app_hash(hash)?,
                })
            }
            InfoRequest::Query(r) => InfoResponse::Query(self.query(&r)),
        })
    }

    fn query(&self, r: &request::Query) -> response::Query {
        let answer = self.chain().map_err(|e| e.to_string()).and_then(|vm| {
            let latest = vm.height().map_err(|e| e.to_string())?;
            let height = match r.height.value() {
                0 => latest,
                h if h <= latest.0 => Height(h),
                h => return Err(format!("height {h} is above the latest, {latest}")),
            };
            query_path(vm, height, &r.path, &r.data).map(|value| (height, value))
        });
        match answer {
            Ok((height, value)) => response::Query {
                value: value.to_string().into_bytes().into(),
                height: tendermint::block::Height::try_from(height.0).unwrap_or_default(),
                ..response::Query::default()
            },
            Err(log) => response::Query {
                code: Code::from(1),
                log,
                ..response::Query::default()
            },
        }
    }
}

/// `/account/ADDRESS`, `/storage/ADDRESS/SLOT` or `/eth_call`.
fn query_path(
    vm: &Standalone,
    height: Height,
    path: &str,
    data: &[u8],
) -> Result<serde_json::Value, String> {
    let backend = vm.backend();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let address = |s: &str| {
        s.parse::<Address>()
            .map_err(|e| format!("address {s:?}: {e}"))
    };
    match parts.as_slice() {
        ["account", who] => {
            let account = backend
                .account(height, address(who)?)
                .map_err(|e| e.to_string())?;
            Ok(account.map_or(serde_json::Value::Null, |a| {
                json!({"nonce": a.nonce, "balance": a.balance.to_string(), "codeHash": a.code_hash})
            }))
        }
        ["storage", who, slot] => {
            let slot = slot
                .parse::<gont_core::U256>()
                .map_err(|e| format!("slot {slot:?}: {e}"))?;
            let value = backend
                .storage_at(height, address(who)?, slot)
                .map_err(|e| e.to_string())?;
            Ok(json!(B256::from(value)))
        }
        ["eth_call"] => {
            let request: alloy_rpc_types_eth::TransactionRequest =
                serde_json::from_slice(data).map_err(|e| format!("call object: {e}"))?;
            let outcome = backend
                .call(height, &request, None)
                .map_err(|e| e.to_string())?;
            Ok(json!({
                "success": outcome.success,
                "output": outcome.output,
                "gasUsed": outcome.gas_used,
            }))
        }
        _ => Err(format!(
            "unknown path {path:?}: /account/ADDRESS, /storage/ADDRESS/SLOT or /eth_call"
        )),
    }
}

/// An included transaction's result: its receipt as events.
fn receipt_result(receipt: &gont_core::Receipt) -> ExecTxResult {
    let gas = i64::try_from(receipt.gas_used).unwrap_or(i64::MAX);
    let mut tx = vec![
        ("hash", receipt.tx_hash.to_string(), true),
        (
            "status",
            if receipt.success { "1" } else { "0" }.to_owned(),
            true,
        ),
        ("gas_used", receipt.gas_used.to_string(), false),
        ("from", receipt.from.to_string(), true),
    ];
    if let Some(to) = receipt.to {
        tx.push(("to", to.to_string(), true));
    }
    if let Some(contract) = receipt.contract_address {
        tx.push(("contract_address", contract.to_string(), true));
    }
    let mut events = vec![Event::new("ethereum_tx", tx)];
    for log in &receipt.logs {
        let topics: Vec<String> = log.topics.iter().map(ToString::to_string).collect();
        events.push(Event::new(
            "ethereum_log",
            [
                ("address", log.address.to_string(), true),
                ("topics", topics.join(","), false),
                ("data", log.data.to_string(), false),
            ],
        ));
    }
    ExecTxResult {
        code: Code::Ok,
        data: bytes::Bytes::copy_from_slice(receipt.tx_hash.as_slice()),
        log: if receipt.success {
            String::new()
        } else {
            "execution reverted".to_owned()
        },
        gas_used: gas,
        events,
        ..ExecTxResult::default()
    }
}

fn app_hash(bytes: Vec<u8>) -> Result<tendermint::AppHash, AbciError> {
    tendermint::AppHash::try_from(bytes).map_err(|e| AbciError::Protocol(e.to_string()))
}

type Answer<T> = Pin<Box<dyn std::future::Future<Output = Result<T, BoxError>> + Send>>;

/// Runs the application on `listen` until the task is dropped: each
/// request is answered on the blocking pool (they read and write redb).
pub async fn serve(app: Arc<AbciApp>, listen: Listen) -> Result<(), BoxError> {
    fn blocking<T: Send + 'static>(
        f: impl FnOnce() -> Result<T, AbciError> + Send + 'static,
    ) -> Answer<T> {
        Box::pin(async move {
            match tokio::task::spawn_blocking(f).await {
                Ok(Ok(answer)) => Ok(answer),
                Ok(Err(e)) => {
                    warn!("ABCI: {e}");
                    Err(Box::new(e) as BoxError)
                }
                Err(e) => Err(Box::new(e) as BoxError),
            }
        })
    }
    let consensus_app = app.clone();
    let consensus = tower::service_fn(move |r: ConsensusRequest| {
        let app = consensus_app.clone();
        blocking(move || app.consensus(r))
    });
    let mempool_app = app.clone();
    let mempool = tower::service_fn(move |r: MempoolRequest| {
        let app = mempool_app.clone();
        blocking(move || Ok(app.mempool(r)))
    });
    let info_app = app.clone();
    let info = tower::service_fn(move |r: InfoRequest| {
        let app = info_app.clone();
        blocking(move || app.info(r))
    });
    let snapshot = tower::service_fn(|r: SnapshotRequest| -> Answer<SnapshotResponse> {
        Box::pin(async move {
            Ok(match r {
                SnapshotRequest::ListSnapshots => {
                    SnapshotResponse::ListSnapshots(response::ListSnapshots::default())
                }
                SnapshotRequest::OfferSnapshot(_) => {
                    SnapshotResponse::OfferSnapshot(response::OfferSnapshot::Reject)
                }
                SnapshotRequest::LoadSnapshotChunk(_) => {
                    SnapshotResponse::LoadSnapshotChunk(response::LoadSnapshotChunk::default())
                }
                SnapshotRequest::ApplySnapshotChunk(_) => {
                    SnapshotResponse::ApplySnapshotChunk(response::ApplySnapshotChunk {
                        result: response::ApplySnapshotChunkResult::Abort,
                        refetch_chunks: Vec::new(),
                        reject_senders: Vec::new(),
                    })
                }
            })
        })
    });
    let server = tower_abci::v038::Server::builder()
        .consensus(consensus)
        .mempool(mempool)
        .info(info)
        .snapshot(snapshot)
        .finish()
        .ok_or("the ABCI server lacks a service")?;
    match listen {
        Listen::Tcp(addr) => server.listen_tcp(addr).await,
        Listen::Unix(path) => server.listen_unix(path).await,
    }
}
