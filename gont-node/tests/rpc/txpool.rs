//! The pool's rules as a client meets them: each through a real JSON-RPC
//! server socket, with geth's wording and the JSON-RPC error code -32000.

use alloy_consensus::TxEip1559;
use alloy_primitives::{Address, TxKind, U256};
use gont_core::{Height, RawTransaction};
use gont_node::mempool::MempoolConfig;
use gont_node::rpc::backend::EthBackend as _;
use gont_node::rpc::{self, RpcLimits};
use gont_vm::testing::{address_of, dev_key, raw, sign};
use serde_json::{Value, json};

use super::Fixture;
use super::server::{call, send_raw};

const GWEI: u128 = 1_000_000_000;

/// A transfer by dev account `key` (the fixture's account 0 is at nonce 3).
struct Transfer {
    key: usize,
    nonce: u64,
    fee: u128,
    tip: u128,
    value: U256,
    input: Vec<u8>,
    gas: u64,
}

impl Transfer {
    fn new(key: usize, nonce: u64) -> Self {
        Self {
            key,
            nonce,
            fee: 10 * GWEI,
            tip: GWEI,
            value: U256::from(1u64),
            input: Vec::new(),
            gas: 21_000,
        }
    }

    fn raw(&self) -> RawTransaction {
        let tx = TxEip1559 {
            chain_id: 31337,
            nonce: self.nonce,
            gas_limit: self.gas,
            max_fee_per_gas: self.fee,
            max_priority_fee_per_gas: self.tip,
            to: TxKind::Call(Address::repeat_byte(0x77)),
            value: self.value,
            access_list: Default::default(),
            input: self.input.clone().into(),
        };
        raw(&sign(tx, &dev_key(self.key).unwrap()).unwrap())
    }
}

/// The fixture with a pool of `pool`'s rules, served on a socket.
pub(crate) async fn serve(pool: MempoolConfig) -> (Fixture, rpc::RpcServer) {
    super::serve_fixture(RpcLimits::default(), pool, None).await
}

/// The refusal's message, after checking it is a JSON-RPC error -32000.
fn refusal(answer: &Value) -> &str {
    assert_eq!(answer["error"]["code"], -32000, "{answer}");
    answer["error"]["message"].as_str().unwrap()
}

/// Checks that the node no longer knows `tx` (`eth_getTransactionByHash`
/// answers `null`).
async fn assert_not_pooled(addr: std::net::SocketAddr, tx: &RawTransaction) {
    let answer = call(
        addr,
        "eth_getTransactionByHash",
        json!([tx.hash().to_string()]),
    )
    .await;
    assert_eq!(answer["result"], Value::Null, "{answer}");
}

fn accepted(answer: &Value, tx: &RawTransaction) {
    assert_eq!(answer["result"], tx.hash().to_string(), "{answer}");
}

#[tokio::test]
async fn a_transaction_over_128_kib_is_refused_as_oversized_data() {
    let (f, server) = serve(MempoolConfig::default()).await;
    let mut big = Transfer::new(0, 3);
    big.input = vec![0; 128 * 1024];
    big.gas = 2_200_000;
    let big = big.raw();
    let answer = send_raw(server.addr, &big).await;
    assert_eq!(
        refusal(&answer),
        format!(
            "oversized data: transaction size {}, limit 131072",
            big.0.len()
        )
    );
    let mut fits = Transfer::new(0, 3);
    fits.input = vec![0; 120 * 1024];
    fits.gas = 2_200_000;
    let fits = fits.raw();
    accepted(&send_raw(server.addr, &fits).await, &fits);
    assert_eq!(f.backend.pool_len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn a_gas_limit_above_the_block_gas_limit_is_refused_as_exceeds_block_gas_limit() {
    let (f, server) = serve(MempoolConfig::default()).await;
    let mut greedy = Transfer::new(0, 3);
    greedy.gas = 30_000_001;
    assert_eq!(
        refusal(&send_raw(server.addr, &greedy.raw()).await),
        "exceeds block gas limit"
    );
    assert_eq!(f.backend.pool_len(), 0);
    server.stop().await;
}

#[tokio::test]
async fn a_tip_below_the_pools_floor_is_refused_as_underpriced() {
    let (_f, server) = serve(MempoolConfig {
        min_tip_wei: 2_000_000_000,
        ..MempoolConfig::default()
    })
    .await;
    let cheap = Transfer::new(0, 3).raw();
    assert_eq!(
        refusal(&send_raw(server.addr, &cheap).await),
        "transaction underpriced: gas tip cap 1000000000, minimum needed 2000000000"
    );
    let mut enough = Transfer::new(0, 3);
    enough.tip = 2 * GWEI;
    let enough = enough.raw();
    accepted(&send_raw(server.addr, &enough).await, &enough);
    server.stop().await;
}

#[tokio::test]
async fn a_sender_past_its_account_slots_is_refused_as_account_limit_exceeded() {
    let (_f, server) = serve(MempoolConfig {
        max_account_slots: 2,
        ..MempoolConfig::default()
    })
    .await;
    for nonce in [3, 4] {
        let tx = Transfer::new(0, nonce).raw();
        accepted(&send_raw(server.addr, &tx).await, &tx);
    }
    let third = Transfer::new(0, 5).raw();
    let sender = address_of(&dev_key(0).unwrap());
    assert_eq!(
        refusal(&send_raw(server.addr, &third).await),
        format!("account limit exceeded: {sender} has 2 pooled transactions")
    );
    // Other senders have their own slots.
    let other = Transfer::new(1, 0).raw();
    accepted(&send_raw(server.addr, &other).await, &other);
    server.stop().await;
}

#[tokio::test]
async fn a_replacement_needs_a_ten_percent_bump_else_replacement_transaction_underpriced() {
    let (f, server) = serve(MempoolConfig::default()).await;
    let first = Transfer::new(0, 3).raw();
    accepted(&send_raw(server.addr, &first).await, &first);
    let mut low = Transfer::new(0, 3);
    low.fee = 10_900_000_000;
    low.tip = 1_100_000_000;
    low.value = U256::from(2u64);
    assert_eq!(
        refusal(&send_raw(server.addr, &low.raw()).await),
        "replacement transaction underpriced"
    );
    let mut bumped = Transfer::new(0, 3);
    bumped.fee = 11 * GWEI;
    bumped.tip = 1_100_000_000;
    let bumped = bumped.raw();
    accepted(&send_raw(server.addr, &bumped).await, &bumped);
    assert_eq!(f.backend.pool_len(), 1, "the replaced one left the pool");
    assert_not_pooled(server.addr, &first).await;
    server.stop().await;
}

#[tokio::test]
async fn the_cost_of_a_senders_pooled_transactions_together_must_fit_its_balance() {
    let (_f, server) = serve(MempoolConfig::default()).await;
    let sender = address_of(&dev_key(0).unwrap());
    let balance = call(server.addr, "eth_getBalance", json!([sender, "latest"])).await;
    let balance: U256 = balance["result"].as_str().unwrap().parse().unwrap();
    let mut first = Transfer::new(0, 3);
    first.value = balance * U256::from(6u64) / U256::from(10u64);
    let first = first.raw();
    accepted(&send_raw(server.addr, &first).await, &first);
    // Alone it is affordable; after the first it is not.
    let mut second = Transfer::new(0, 4);
    second.value = balance * U256::from(6u64) / U256::from(10u64);
    let message = send_raw(server.addr, &second.raw()).await;
    let message = refusal(&message);
    assert!(
        message.starts_with(&format!(
            "insufficient funds for gas * price + value: balance {balance}, queued cost "
        )),
        "{message}"
    );
    second.value = balance / U256::from(10u64);
    let second = second.raw();
    accepted(&send_raw(server.addr, &second).await, &second);
    server.stop().await;
}

#[tokio::test]
async fn a_full_pool_evicts_its_cheapest_for_a_better_payer_and_refuses_a_worse_one() {
    let (f, server) = serve(MempoolConfig {
        max_transactions: 2,
        ..MempoolConfig::default()
    })
    .await;
    let cheap = Transfer::new(0, 3).raw();
    let mut middle = Transfer::new(1, 0);
    middle.tip = 2 * GWEI;
    let middle = middle.raw();
    for tx in [&cheap, &middle] {
        accepted(&send_raw(server.addr, tx).await, tx);
    }
    assert_eq!(
        refusal(&send_raw(server.addr, &Transfer::new(2, 0).raw()).await),
        "txpool is full"
    );
    let mut rich = Transfer::new(2, 0);
    rich.tip = 3 * GWEI;
    let rich = rich.raw();
    accepted(&send_raw(server.addr, &rich).await, &rich);
    assert_eq!(f.backend.pool_len(), 2);
    assert_not_pooled(server.addr, &cheap).await;
    server.stop().await;
}

#[tokio::test]
async fn a_future_nonce_waits_in_the_queue_and_is_not_refused_as_nonce_too_high() {
    let (f, server) = serve(MempoolConfig::default()).await;
    let later = Transfer::new(0, 5).raw();
    accepted(&send_raw(server.addr, &later).await, &later);
    let sender = address_of(&dev_key(0).unwrap());
    let pending = call(
        server.addr,
        "eth_getTransactionCount",
        json!([sender, "pending"]),
    )
    .await;
    assert_eq!(
        pending["result"], "0x3",
        "the queued one is not pending yet"
    );
    for nonce in [3, 4] {
        let tx = Transfer::new(0, nonce).raw();
        accepted(&send_raw(server.addr, &tx).await, &tx);
    }
    let pending = call(
        server.addr,
        "eth_getTransactionCount",
        json!([sender, "pending"]),
    )
    .await;
    assert_eq!(
        pending["result"], "0x6",
        "the gap filled, all three are pending"
    );
    assert_eq!(f.backend.pool_len(), 3);
    server.stop().await;
}

#[tokio::test]
async fn a_queued_transaction_expires_after_the_pools_lifetime() {
    let (f, server) = serve(MempoolConfig {
        lifetime_secs: 1,
        ..MempoolConfig::default()
    })
    .await;
    let ready = Transfer::new(0, 3).raw();
    let queued = Transfer::new(0, 9).raw();
    for tx in [&ready, &queued] {
        accepted(&send_raw(server.addr, tx).await, tx);
    }
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    // Expiry runs as blocks commit.
    let latest = f.backend.latest().unwrap();
    assert_eq!(latest, Height(2));
    f.backend.committed(latest).unwrap();
    assert_eq!(f.backend.pool_len(), 1, "the executable one stays");
    assert_not_pooled(server.addr, &queued).await;
    server.stop().await;
}
