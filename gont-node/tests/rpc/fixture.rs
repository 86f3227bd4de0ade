//! The fixture the JSON-RPC tests share: a chain of a few blocks built by
//! the engine on a real redb store, its backend and method table, and a
//! server for it on a real socket.

use std::sync::{Arc, Mutex};

use alloy_consensus::TxEip1559;
use alloy_primitives::{Address, TxKind, U256, hex};
use gont_core::{
    ChainId, ExecutionEngine, ForkchoiceState, Genesis, PayloadAttributes, RawTransaction,
    Timestamp, ValidatorAddress, ValidatorSetHash,
};
use gont_node::backend::ChainBackend;
use gont_node::mempool::{Mempool, MempoolConfig};
use gont_node::rpc::{self, ChainInfo, NodeInfo, RpcLimits, ValidatorInfo};
use gont_storage::Store;
use gont_vm::testing::{address_of, dev_key, raw, sign};
use gont_vm::{Engine, EngineConfig};
use jsonrpsee::RpcModule;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

/// Emits `LOG1(topic 7, data 42)` and returns 42 on any call.
pub(crate) const RUNTIME: &str = "602a600052600760206000a160206000f3";
/// Copies [`RUNTIME`] to memory and returns it.
pub(crate) const INIT: &str = "6011600c60003960116000f3602a600052600760206000a160206000f3";

pub(crate) struct NoInfo;

impl NodeInfo for NoInfo {
    fn chains(&self) -> Vec<ChainInfo> {
        Vec::new()
    }
    fn validators(&self, _: ChainId) -> Option<Result<Vec<ValidatorInfo>, rpc::error::RpcError>> {
        None
    }
    fn genesis(&self) -> Option<String> {
        None
    }
    fn peer_count(&self) -> usize {
        0
    }

    fn status(&self) -> Value {
        json!({})
    }
}

pub(crate) struct Fixture {
    pub(crate) module: RpcModule<()>,
    pub(crate) backend: Arc<ChainBackend>,
    pub(crate) contract: Address,
    pub(crate) deploy_hash: String,
    _dir: tempfile::TempDir,
    _gossip: mpsc::UnboundedReceiver<RawTransaction>,
}

pub(crate) fn tx1559(nonce: u64, to: TxKind, value: U256, input: &str, gas: u64) -> RawTransaction {
    tx1559_tip(nonce, to, value, input, gas, 1_000_000_000)
}

/// As [`tx1559`], with a priority fee of `tip` wei.
pub(crate) fn tx1559_tip(
    nonce: u64,
    to: TxKind,
    value: U256,
    input: &str,
    gas: u64,
    tip: u128,
) -> RawTransaction {
    let key = dev_key(0).unwrap();
    let tx = TxEip1559 {
        chain_id: 31337,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: tip,
        to,
        value,
        access_list: Default::default(),
        input: hex::decode(input).unwrap().into(),
    };
    raw(&sign(tx, &key).unwrap())
}

pub(crate) fn attributes(height: u64) -> PayloadAttributes {
    PayloadAttributes {
        timestamp: Timestamp::from_secs(1_767_225_600 + height),
        proposer: ValidatorAddress([1; 20]),
        fee_recipient: Address::repeat_byte(0xfe),
        validators_hash: ValidatorSetHash([2; 32]),
        evidence: Vec::new(),
        last_commit: None,
    }
}

pub(crate) fn fixture() -> Fixture {
    fixture_with(RpcLimits::default())
}

pub(crate) fn fixture_with(limits: RpcLimits) -> Fixture {
    fixture_with_blocks(limits, Vec::new())
}

/// The fixture's two blocks, then one block for each of `extra` (sent by
/// dev account 0 from nonce 3 on).
pub(crate) fn fixture_with_blocks(limits: RpcLimits, extra: Vec<Vec<RawTransaction>>) -> Fixture {
    fixture_with_pool(limits, extra, MempoolConfig::default())
}

/// As [`fixture_with_blocks`], with a pool of `pool`'s rules.
pub(crate) fn fixture_with_pool(
    limits: RpcLimits,
    extra: Vec<Vec<RawTransaction>>,
    pool: MempoolConfig,
) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let genesis = Genesis::devnet(1, 0);
    let chain_id = genesis.chain_id;
    let store = Store::open(dir.path()).unwrap().chain(chain_id);
    let changes = gont_vm::genesis_changes(&genesis, chain_id).unwrap();
    gont_core::ExecutionStore::init_genesis(&store, genesis.hash(), &changes).unwrap();
    let config = EngineConfig::from_genesis(&genesis, chain_id).unwrap();
    let mut engine = Engine::new(store.clone(), config.clone());

    // Block 1: deploy the logging contract and send a transfer.
    let deploy = tx1559(0, TxKind::Create, U256::ZERO, INIT, 200_000);
    let transfer = tx1559(
        1,
        TxKind::Call(Address::repeat_byte(0x11)),
        U256::from(10u64).pow(U256::from(18u64)),
        "",
        21_000,
    );
    let b1 = engine
        .build_payload(None, attributes(1), &[deploy.clone(), transfer])
        .unwrap();
    let id1 = b1.header.id().unwrap();
    engine
        .forkchoice_updated(ForkchoiceState {
            head: id1,
            safe: id1,
            finalized: id1,
        })
        .unwrap();
    let contract = address_of(&dev_key(0).unwrap()).create(0);
    // Block 2: call it, emitting a log.
    let call = tx1559(2, TxKind::Call(contract), U256::ZERO, "", 100_000);
    let b2 = engine
        .build_payload(Some(id1), attributes(2), &[call])
        .unwrap();
    assert_eq!(b2.body.transactions.len(), 1);
    let mut head = b2.header.id().unwrap();
    engine
        .forkchoice_updated(ForkchoiceState {
            head,
            safe: head,
            finalized: head,
        })
        .unwrap();
    for (i, txs) in extra.into_iter().enumerate() {
        let count = txs.len();
        let block = engine
            .build_payload(Some(head), attributes(3 + i as u64), &txs)
            .unwrap();
        assert_eq!(block.body.transactions.len(), count);
        head = block.header.id().unwrap();
        engine
            .forkchoice_updated(ForkchoiceState {
                head,
                safe: head,
                finalized: head,
            })
            .unwrap();
    }

    let (gossip_tx, gossip_rx) = mpsc::unbounded_channel();
    let (validators, _) = genesis.chain_consensus(chain_id).unwrap().unwrap();
    let backend = ChainBackend::new(
        store,
        &genesis,
        validators,
        config,
        Arc::new(Mutex::new(Mempool::new(pool))),
        gossip_tx,
        Arc::new(Mutex::new(None)),
    );
    let (blocks, _) = broadcast::channel(16);
    let backend = Arc::new(backend);
    let module = rpc::methods(backend.clone(), Arc::new(NoInfo), blocks, limits).unwrap();
    Fixture {
        module,
        backend,
        contract,
        deploy_hash: deploy.hash().to_string(),
        _dir: dir,
        _gossip: gossip_rx,
    }
}

/// The fixture with `limits` and a pool of `pool`'s rules, served on a
/// real socket; `observe` hears of every call.
pub(crate) async fn serve_fixture(
    limits: RpcLimits,
    pool: MempoolConfig,
    observe: Option<rpc::CallObserver>,
) -> (Fixture, rpc::RpcServer) {
    let f = fixture_with_pool(limits, Vec::new(), pool);
    let (blocks, _) = broadcast::channel(4);
    let server = rpc::serve(
        "127.0.0.1:0".parse().unwrap(),
        f.backend.clone(),
        Arc::new(NoInfo),
        blocks,
        limits,
        observe,
        &[],
        RpcModule::new(()),
    )
    .await
    .unwrap();
    (f, server)
}

pub(crate) async fn request(module: &RpcModule<()>, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let (response, _) = module.raw_json_request(&body, 1).await.unwrap();
    serde_json::from_str(response.get()).unwrap()
}

pub(crate) async fn result(module: &RpcModule<()>, method: &str, params: Value) -> Value {
    let response = request(module, method, params).await;
    assert!(response.get("error").is_none(), "{method}: {response}");
    response["result"].clone()
}
