//! The JSON-RPC's limits as a client meets them, each through a real server
//! socket: the gas cap, the execution timeout and turns, the estimation
//! budget, `eth_feeHistory`'s percentiles, filter sizes, random filter ids,
//! a malformed `logs` subscription, and metric labels.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy_primitives::U256;
use gont_node::mempool::MempoolConfig;
use gont_node::rpc::{self, CallObserver, RpcLimits};
use serde_json::{Value, json};

use super::server::{call, ws_call, ws_connect};

/// `GAS PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN`: returns the gas left.
const GAS_LEFT: &str = "0x5a60005260206000f3";
/// `JUMPDEST PUSH1 0 JUMP`: loops until its gas runs out.
const LOOP: &str = "0x5b600056";
/// Where the tests place those codes with a state override.
const AT: &str = "0x00000000000000000000000000000000000c0de0";

async fn serve_with(
    limits: RpcLimits,
    observe: Option<CallObserver>,
) -> (super::Fixture, rpc::RpcServer) {
    super::serve_fixture(limits, MempoolConfig::default(), observe).await
}

fn with_code(code: &str) -> Value {
    json!({ AT: { "code": code } })
}

#[tokio::test]
async fn eth_call_gas_is_capped_at_the_configured_gas_cap() {
    let (_f, server) = serve_with(
        RpcLimits {
            call_gas_cap: 100_000,
            ..RpcLimits::default()
        },
        None,
    )
    .await;
    for gas in [None, Some("0x30d40")] {
        let mut request = json!({ "to": AT });
        if let Some(gas) = gas {
            request["gas"] = json!(gas);
        }
        let answer = call(
            server.addr,
            "eth_call",
            json!([request, "latest", with_code(GAS_LEFT)]),
        )
        .await;
        let left: U256 = answer["result"].as_str().unwrap().parse().unwrap();
        assert!(
            left < U256::from(100_000 - 21_000) && left > U256::from(100_000 - 21_100),
            "gas {gas:?}: {answer}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn a_call_past_the_evm_timeout_is_aborted_with_geths_message() {
    let (_f, server) = serve_with(
        RpcLimits {
            evm_timeout_ms: 1,
            call_gas_cap: 1_000_000_000,
            ..RpcLimits::default()
        },
        None,
    )
    .await;
    let answer = call(
        server.addr,
        "eth_call",
        json!([{ "to": AT }, "latest", with_code(LOOP)]),
    )
    .await;
    assert_eq!(answer["error"]["code"], -32000, "{answer}");
    assert_eq!(
        answer["error"]["message"],
        "execution aborted (timeout = 1ms)"
    );
    server.stop().await;
}

#[tokio::test]
async fn heavy_calls_wait_for_their_turn_within_the_timeout_and_light_ones_do_not_wait() {
    let (_f, server) = serve_with(
        RpcLimits {
            evm_timeout_ms: 2_000,
            max_concurrent_executions: 1,
            ..RpcLimits::default()
        },
        None,
    )
    .await;
    let addr = server.addr;
    let started = Instant::now();
    let storm: Vec<_> = (0..20)
        .map(|_| {
            tokio::spawn(async move {
                call(
                    addr,
                    "eth_estimateGas",
                    json!([{ "to": AT }, "latest", with_code(LOOP)]),
                )
                .await
            })
        })
        .collect();
    // The server's own threads stay free while the storm runs.
    let light = Instant::now();
    let height = call(addr, "eth_blockNumber", json!([])).await;
    assert_eq!(height["result"], "0x2");
    let light = light.elapsed();
    for answer in storm {
        let answer = answer.await.unwrap();
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message == "execution aborted (timeout = 2s)"
                || message.starts_with("gas required exceeds allowance"),
            "{answer}"
        );
    }
    let storm = started.elapsed();
    assert!(
        storm < Duration::from_secs(10),
        "every call ended within its 2 s timeout (and slack): {storm:?}"
    );
    eprintln!("20 looping estimates on one turn: {storm:?}; eth_blockNumber meanwhile: {light:?}");
    server.stop().await;
}

#[tokio::test]
async fn estimate_gas_stops_at_its_budget_with_a_limit_that_succeeds() {
    let (_f, exact) = serve_with(RpcLimits::default(), None).await;
    let request = json!([{ "to": AT }, "latest", with_code(GAS_LEFT)]);
    let full = call(exact.addr, "eth_estimateGas", request.clone()).await;
    exact.stop().await;
    let (_f, budgeted) = serve_with(
        RpcLimits {
            estimate_gas_budget: 1,
            call_gas_cap: 1_000_000,
            ..RpcLimits::default()
        },
        None,
    )
    .await;
    let stopped = call(budgeted.addr, "eth_estimateGas", request).await;
    assert_eq!(
        stopped["result"], "0xf4240",
        "the cap, known to succeed: {stopped}"
    );
    let full: u64 = u64::from_str_radix(&full["result"].as_str().unwrap()[2..], 16).unwrap();
    assert!(full < 1_000_000 && full > 21_000, "the full search: {full}");
    budgeted.stop().await;
}

#[tokio::test]
async fn fee_history_takes_at_most_100_percentiles() {
    let (_f, server) = serve_with(RpcLimits::default(), None).await;
    let percentiles: Vec<f64> = (0..101).map(|p| f64::from(p) * 0.99).collect();
    let too_many = call(
        server.addr,
        "eth_feeHistory",
        json!(["0x1", "latest", percentiles]),
    )
    .await;
    assert_eq!(too_many["error"]["code"], -32602, "{too_many}");
    assert_eq!(
        too_many["error"]["message"],
        "too many reward percentiles: 101, the limit is 100"
    );
    for bad in [json!([50.0, 10.0]), json!([-1.0]), json!([101.0])] {
        let answer = call(server.addr, "eth_feeHistory", json!(["0x1", "latest", bad])).await;
        assert_eq!(answer["error"]["code"], -32602, "{bad}: {answer}");
    }
    let hundred = &percentiles[..100];
    let fine = call(
        server.addr,
        "eth_feeHistory",
        json!(["0x1", "latest", hundred]),
    )
    .await;
    assert_eq!(fine["result"]["reward"][0].as_array().unwrap().len(), 100);
    server.stop().await;
}

#[tokio::test]
async fn log_filters_cap_addresses_and_topics() {
    let (_f, server) = serve_with(RpcLimits::default(), None).await;
    let addresses: Vec<String> = (0..1001).map(|i| format!("0x{i:040x}")).collect();
    let topics: Vec<String> = (0..1001).map(|i| format!("0x{i:064x}")).collect();
    for method in ["eth_getLogs", "eth_newFilter"] {
        let answer = call(server.addr, method, json!([{ "address": addresses }])).await;
        assert_eq!(answer["error"]["code"], -32005, "{answer}");
        assert_eq!(
            answer["error"]["message"],
            "too many addresses in filter: 1001, the limit is 1000"
        );
        let answer = call(server.addr, method, json!([{ "topics": [topics] }])).await;
        assert_eq!(
            answer["error"]["message"],
            "too many topics at one position of filter: 1001, the limit is 1000",
            "{answer}"
        );
        let fine = call(
            server.addr,
            method,
            json!([{ "address": &addresses[..1000] }]),
        )
        .await;
        assert!(fine.get("result").is_some(), "{fine}");
    }
    server.stop().await;
}

#[tokio::test]
async fn filter_ids_are_random_not_a_counter() {
    let (_f, server) = serve_with(RpcLimits::default(), None).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let answer = call(server.addr, "eth_newBlockFilter", json!([])).await;
        let id: U256 = answer["result"].as_str().unwrap().parse().unwrap();
        ids.push(id);
    }
    assert!(ids.windows(2).all(|w| w[0] != w[1]));
    assert!(
        ids.iter().all(|id| *id > U256::from(u64::MAX)),
        "128 random bits, not 1, 2, 3: {ids:?}"
    );
    let gone = call(server.addr, "eth_uninstallFilter", json!([ids[0]])).await;
    assert_eq!(gone["result"], true);
    server.stop().await;
}

#[tokio::test]
async fn a_malformed_logs_subscription_is_an_error_not_a_subscription_to_every_log() {
    let (_f, server) = serve_with(RpcLimits::default(), None).await;
    let mut ws = ws_connect(server.addr).await;
    let answer = ws_call(
        &mut ws,
        r#"{"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["logs",{"address":"not an address"}]}"#,
    )
    .await;
    assert_eq!(answer["error"]["code"], -32602, "{answer}");
    let fine = ws_call(
        &mut ws,
        r#"{"jsonrpc":"2.0","id":2,"method":"eth_subscribe","params":["logs",{"address":"0x00000000000000000000000000000000000c0de0"}]}"#,
    )
    .await;
    assert!(fine["result"].is_string(), "{fine}");
    server.stop().await;
}

#[tokio::test]
async fn metric_labels_name_only_methods_that_exist() {
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let observe: CallObserver = {
        let seen = seen.clone();
        Arc::new(move |method: &str, _| seen.lock().unwrap().push(method.to_owned()))
    };
    let (_f, server) = serve_with(RpcLimits::default(), Some(observe)).await;
    call(server.addr, "eth_chainId", json!([])).await;
    let unknown = call(server.addr, "made_up_method_1234", json!([])).await;
    assert_eq!(unknown["error"]["code"], -32601);
    assert_eq!(
        *seen.lock().unwrap(),
        ["eth_chainId".to_owned(), "unknown".to_owned()]
    );
    server.stop().await;
}
