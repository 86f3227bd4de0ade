//! `[storage] pruning` on a running node: a one-validator node (in this
//! process, real consensus, revm and redb) configured with `keep_last = 3`
//! refuses state reads older than its last three heights through JSON-RPC,
//! while recent state, and every block, stays readable. A node that would
//! keep fewer heights than a chain's unbonding period (so that it could
//! not check evidence of an offence that old) refuses to start.

// Test code: a failed unwrap, index or panic is the test failing, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use gont_core::genesis::DEV_ADDRESSES;
use gont_node::client::{self, ClientError, quantity};
use gont_node::config::PruningConfig;
use gont_node::node::{Node, NodeError};
use serde_json::{Value, json};

const PASSPHRASE: &str = "pruning test";

async fn call(addr: SocketAddr, method: &'static str, params: Value) -> Result<Value, ClientError> {
    tokio::task::spawn_blocking(move || client::blocking::call(addr, method, &params))
        .await
        .unwrap()
}

/// A one-validator home under `home` keeping the last `keep_last`
/// heights, whose Space has an unbonding period of `unbonding` blocks.
fn init_home(home: &std::path::Path, keep_last: u64, unbonding: u64) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let rpc = "127.0.0.1:0".parse().unwrap();
    common::one_validator_home(home, PASSPHRASE, rpc, port, |genesis, config| {
        genesis.consensus.unbonding_period_blocks = unbonding;
        config.storage.pruning = PruningConfig::KeepLast {
            keep_last: keep_last.try_into().unwrap(),
        };
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_would_keep_fewer_heights_than_the_unbonding_period_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    init_home(dir.path(), 3, 3);
    match Node::start(dir.path(), Some(PASSPHRASE)).await {
        Err(NodeError::PruningBelowUnbonding {
            keep_last,
            unbonding_period_blocks,
            ..
        }) => assert_eq!((keep_last, unbonding_period_blocks), (3, 3)),
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("a node keeping 3 heights of a chain unbonding in 3 started"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_keeping_the_last_3_heights_refuses_older_state_and_serves_recent_state_and_all_blocks()
 {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    init_home(home, 3, 2);
    let node = Node::start(home, Some(PASSPHRASE)).await.unwrap();
    let rpc = node.rpc_addrs()[0].1;
    let deadline = Instant::now() + Duration::from_secs(60);
    let height = loop {
        let h = quantity(&call(rpc, "eth_blockNumber", json!([])).await.unwrap()).unwrap();
        if h >= 6 {
            break h;
        }
        assert!(Instant::now() < deadline, "stuck at height {h}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let who = DEV_ADDRESSES[0].to_string();
    let old = call(rpc, "eth_getBalance", json!([who, "0x1"])).await;
    match old {
        Err(ClientError::Rpc { message, .. }) => {
            assert!(message.contains("was pruned"), "{message}");
        }
        other => panic!("state at height 1 of {height} was served: {other:?}"),
    }
    let recent = format!("{:#x}", height - 1);
    call(rpc, "eth_getBalance", json!([who, recent]))
        .await
        .unwrap();
    call(rpc, "eth_getBalance", json!([who, "latest"]))
        .await
        .unwrap();
    let first = call(rpc, "eth_getBlockByNumber", json!(["0x1", false]))
        .await
        .unwrap();
    assert_eq!(first["number"], "0x1", "blocks are kept: {first}");
    node.stop().await;
}
