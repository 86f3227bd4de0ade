//! Anchoring on a real `gont devnet` (five validator processes; the service
//! runs on four of them, so that one can stop): the nodes relay the
//! service's checkpoints into GONT Space's anchor registry, and
//! `gont verify account` proves a service balance from the Space alone.
//! With one service validator paused, the checkpoints the real driver
//! produces carry 3-of-4 commits and skip 9 heights, and the registry
//! anchors them. A lying service RPC (a test double: a JSON-RPC server in
//! this test that alters what the real node answers) makes `gont verify`
//! fail, naming the link.

// Test code: a failed unwrap, index or panic is the test failing, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use common::{Devnet, SPACE, wait_for};
use gont_core::genesis::DEV_ADDRESSES;
use gont_node::client::blocking::RpcClient;
use gont_node::client::quantity;
use gont_node::rpc::proofs::AnchorProof;
use jsonrpsee::RpcModule;
use jsonrpsee::server::Server;
use rustix::process::Signal;
use serde_json::{Value, json};

const SERVICE: u64 = 31338;
const INTERVAL: u64 = 10;

fn anchor(space: &RpcClient) -> AnchorProof {
    serde_json::from_value(space.call("gont_getAnchor", &json!([1])).unwrap()).unwrap()
}

fn height(rpc: &RpcClient) -> u64 {
    quantity(&rpc.call("eth_blockNumber", &json!([])).unwrap()).unwrap()
}

/// Runs `gont verify account` for the first development account.
fn verify(space: SocketAddr, service: SocketAddr) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gont"))
        .args(["verify", "account"])
        .arg(DEV_ADDRESSES[0].to_string())
        .args(["--service", "example-1", "--slot", "0x0"])
        .args(["--space", &format!("http://{space}")])
        .args(["--rpc", &format!("http://{service}")])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// How the lying RPC alters `gont_getProof`'s answer.
#[derive(Clone, Copy, Debug)]
enum Lie {
    Balance,
    ProofByte,
    OtherHeight,
}

/// A Space RPC that forwards what `gont verify` asks to `real`, but
/// changes the anchored state root in `gont_getAnchor`'s proven slots.
async fn lying_space(real: SocketAddr) -> (SocketAddr, jsonrpsee::server::ServerHandle) {
    let mut module = RpcModule::new(());
    for method in [
        "gont_genesis",
        "eth_blockNumber",
        "gont_getSignedHeader",
        "gont_getAnchor",
    ] {
        module
            .register_async_method(method, move |params, _, _| async move {
                let params: Value = params.parse().unwrap_or(json!([]));
                let client = gont_node::client::RpcClient::new(real).unwrap();
                let mut answer = client.call(method, &params).await.unwrap();
                if method == "gont_getAnchor" {
                    // Slot 3 is the anchor's state root.
                    answer["proof"]["storage"][3]["value"] = json!("0x1234");
                    answer["anchor"]["stateRoot"] =
                        json!(format!("0x{}", "00".repeat(30) + "1234"));
                }
                Ok::<Value, jsonrpsee::types::ErrorObjectOwned>(answer)
            })
            .unwrap();
    }
    let server = Server::builder().build("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    (addr, server.start(module))
}

/// A JSON-RPC server answering `gont_getProof` from `real`, altered by `lie`.
async fn lying_rpc(real: SocketAddr, lie: Lie) -> (SocketAddr, jsonrpsee::server::ServerHandle) {
    let mut module = RpcModule::new(());
    module
        .register_async_method("gont_getProof", move |params, _, _| async move {
            let params: Value = params.parse().unwrap();
            let client = gont_node::client::RpcClient::new(real).unwrap();
            let mut params = params;
            if let Lie::OtherHeight = lie {
                let asked = quantity(&params[2]).unwrap();
                params[2] = json!(format!("{:#x}", asked - 1));
            }
            let mut answer = client.call("gont_getProof", &params).await.unwrap();
            match lie {
                Lie::Balance => {
                    answer["account"]["balance"] = json!("0x21e19e0c9bab2400001");
                }
                Lie::ProofByte => {
                    let proof = answer["accountProof"].as_str().unwrap().to_owned();
                    let last = if proof.ends_with('0') { '1' } else { '0' };
                    let flipped = format!("{}{last}", &proof[..proof.len() - 1]);
                    answer["accountProof"] = json!(flipped);
                }
                Lie::OtherHeight => {}
            }
            Ok::<Value, jsonrpsee::types::ErrorObjectOwned>(answer)
        })
        .unwrap();
    let server = Server::builder().build("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    (addr, server.start(module))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_are_anchored_into_the_space_and_gont_verify_proves_their_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let net = tokio::task::spawn_blocking(move || Devnet::start_with(&path, 5, 24545, 24600))
        .await
        .unwrap();
    let space_addr = net.rpc(0, SPACE);
    let service_addr = net.rpc(1, SERVICE);

    // Within three checkpoint intervals of start, the registry holds one.
    let first = tokio::task::spawn_blocking(move || {
        let space = RpcClient::new(space_addr).unwrap();
        let service = RpcClient::new(service_addr).unwrap();
        let found = wait_for(Duration::from_secs(120), "an anchored checkpoint", || {
            let a = anchor(&space);
            (a.anchor.height.to::<u64>() > 0).then_some(a)
        });
        let service_height = height(&service);
        println!(
            "anchored: service height {} at Space height {} (the service was at {service_height})",
            found.anchor.height, found.anchor.anchored_at
        );
        assert!(service_height <= 3 * INTERVAL + 2, "{service_height}");
        found
    })
    .await
    .unwrap();
    assert_eq!(first.anchor.height.to::<u64>() % INTERVAL, 0);

    // gont verify proves the balance eth_getBalance gives at that height.
    let (ok, out) = tokio::task::spawn_blocking(move || verify(space_addr, service_addr))
        .await
        .unwrap();
    println!("{out}");
    assert!(ok, "{out}");
    let proven_at: u64 = out
        .lines()
        .find_map(|l| l.strip_prefix("verified: account "))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|h| h.parse().ok())
        .unwrap();
    let balance = tokio::task::spawn_blocking(move || {
        RpcClient::new(service_addr)
            .unwrap()
            .call(
                "eth_getBalance",
                &json!([DEV_ADDRESSES[0], format!("{proven_at:#x}")]),
            )
            .unwrap()
    })
    .await
    .unwrap();
    let balance = alloy_primitives::U256::from_str_radix(
        balance.as_str().unwrap().trim_start_matches("0x"),
        16,
    )
    .unwrap();
    assert!(out.contains(&format!("balance    {balance} wei")), "{out}");

    // A lying service RPC: each lie is caught, and named.
    for (lie, expected) in [
        (Lie::Balance, "the service's state proof"),
        (Lie::ProofByte, "the service's state proof"),
        (Lie::OtherHeight, "answered for height"),
    ] {
        let (liar, handle) = lying_rpc(service_addr, lie).await;
        let (ok, out) = tokio::task::spawn_blocking(move || verify(space_addr, liar))
            .await
            .unwrap();
        println!("lie {lie:?}: {}", out.trim());
        assert!(!ok, "{out}");
        assert!(out.contains(expected), "{lie:?}: {out}");
        handle.stop().unwrap();
    }

    // A lying Space RPC: an anchor whose state root was changed.
    let (liar, handle) = lying_space(space_addr).await;
    let (ok, out) = tokio::task::spawn_blocking(move || verify(liar, service_addr))
        .await
        .unwrap();
    println!("lying Space RPC: {}", out.trim());
    assert!(!ok, "{out}");
    assert!(out.contains("the registry's storage proof"), "{out}");
    handle.stop().unwrap();

    // One of the service's four validators stops: the real driver's
    // commits now carry 3 of 4 signatures, and the next checkpoints, which
    // skip 9 heights each, are anchored all the same.
    net.signal(&[4], Signal::STOP);
    let paused_at =
        tokio::task::spawn_blocking(move || height(&RpcClient::new(service_addr).unwrap()))
            .await
            .unwrap();
    let (anchored, signers) = tokio::task::spawn_blocking(move || {
        let space = RpcClient::new(space_addr).unwrap();
        let service = RpcClient::new(service_addr).unwrap();
        let anchored = wait_for(
            Duration::from_secs(120),
            "a checkpoint after the pause",
            || {
                let a = anchor(&space).anchor.height.to::<u64>();
                (a > paused_at + 1).then_some(a)
            },
        );
        let block = service.signed_header(anchored).unwrap();
        let signers = block
            .signed_header
            .commit
            .signatures
            .iter()
            .filter(|s| s.is_commit())
            .count();
        (anchored, signers)
    })
    .await
    .unwrap();
    println!(
        "paused at service height {paused_at}; anchored {anchored}, whose commit has {signers} of 4 signatures"
    );
    assert_eq!(signers, 3);
    net.signal(&[4], Signal::CONT);

    // The relayers' metrics.
    let metrics = tokio::task::spawn_blocking(move || {
        let text = net.metrics(1);
        net.kill();
        text
    })
    .await
    .unwrap();
    let anchored_metric = metrics
        .lines()
        .find(|l| l.starts_with("gont_anchor_height{service=\"1\"}"))
        .unwrap();
    println!("{anchored_metric}");
    assert!(metrics.contains("gont_anchor_submissions_total{service=\"1\",outcome=\"submitted\"}"));

    // Every metric the Grafana dashboard queries is one this node exports.
    let queried = dashboard_metrics();
    assert!(queried.len() >= 16, "{queried:?}");
    let exported: std::collections::BTreeSet<&str> = metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    let missing: Vec<_> = queried
        .iter()
        .filter(|m| !exported.contains(m.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "the dashboard queries metrics no node exports: {missing:?}"
    );
    // A node of two chains still writes each family's header once (the
    // text format allows no second `# HELP` or `# TYPE` for a name).
    let mut headers = std::collections::BTreeSet::new();
    for line in metrics
        .lines()
        .filter(|l| l.starts_with("# HELP ") || l.starts_with("# TYPE "))
    {
        let key: Vec<&str> = line.splitn(4, ' ').take(3).collect();
        assert!(headers.insert(key.clone()), "{key:?} twice in /metrics");
    }
}

/// The `gont_*` metric names in the expressions of the Grafana dashboard.
fn dashboard_metrics() -> std::collections::BTreeSet<String> {
    let dashboard: serde_json::Value =
        serde_json::from_str(include_str!("../../monitoring/gont-dashboard.json")).unwrap();
    let mut exprs = Vec::new();
    let mut stack = vec![&dashboard];
    while let Some(value) = stack.pop() {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(expr)) = map.get("expr") {
                    exprs.push(expr.clone());
                }
                stack.extend(map.values());
            }
            serde_json::Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    exprs
        .iter()
        .flat_map(|expr| {
            expr.match_indices("gont_").map(move |(at, _)| {
                expr[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect::<String>()
            })
        })
        .collect()
}
