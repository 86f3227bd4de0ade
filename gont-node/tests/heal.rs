//! The network heals: validators of a real `gont devnet` (4 node
//! processes, GONT Space on all four, the service on nodes 1, 2 and 3) are
//! paused with SIGSTOP for 30 s, longer than any connection survives, and
//! resumed with SIGCONT. Each chain's consensus network re-dials its
//! configured peers, so the paused validators rejoin and a halted chain
//! resumes without anyone restarting a process.

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

use common::{Devnet, SPACE, height};
use gont_node::client;
use rustix::process::Signal;
use serde_json::{Value, json};

const SERVICE: u64 = SPACE + 1;
/// How long validators stay paused.
const PAUSE: Duration = Duration::from_secs(30);
/// How soon after SIGCONT the network must have healed.
const HEAL: Duration = Duration::from_secs(10);

/// `chain`'s entry in the `gont_status` of the node serving `rpc`.
fn status(rpc: SocketAddr, chain: u64) -> Value {
    let status = client::blocking::call(rpc, "gont_status", &json!([])).unwrap();
    status["chains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["chainId"] == json!(chain))
        .cloned()
        .unwrap_or_else(|| panic!("{rpc} does not run chain {chain}: {status}"))
}

fn number(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Polls `check` every 200 ms until it holds; panics with `what` after
/// `within`. Returns how long it took.
fn wait_until(within: Duration, what: &str, mut check: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if check() {
            return start.elapsed();
        }
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn metric(text: &str, name: &str, chain: u64) -> Option<f64> {
    let prefix = format!("{name}{{chain=\"{chain}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn a_validator_paused_for_30s_is_back_signing_commits_within_10s_of_resuming() {
    let dir = tempfile::tempdir().unwrap();
    let net = Devnet::start(dir.path(), 21545, 21600);
    let node3 = net.rpc(3, SPACE);
    wait_until(
        Duration::from_secs(120),
        "node 3 signs Space commits",
        || number(&status(node3, SPACE)["lastSigned"]) > 0,
    );
    wait_until(
        Duration::from_secs(30),
        "node 0 has 3 consensus peers",
        || number(&status(net.rpc(0, SPACE), SPACE)["consensusPeers"]) == 3,
    );

    net.signal(&[3], Signal::STOP);
    std::thread::sleep(PAUSE);
    // The others went on without it, and know that it is gone.
    let during = status(net.rpc(0, SPACE), SPACE);
    println!("node 0 during the pause: {during}");
    assert_eq!(number(&during["consensusPeers"]), 2, "{during}");
    assert_eq!(
        metric(&net.metrics(0), "gont_consensus_peers", SPACE),
        Some(2.0)
    );
    let tip = height(net.rpc(0, SPACE));

    net.signal(&[3], Signal::CONT);
    let took = wait_until(HEAL, "node 3 signs a commit above the tip", || {
        client::blocking::call(node3, "gont_status", &json!([])).is_ok()
            && number(&status(node3, SPACE)["lastSigned"]) > tip
    });
    let after = status(node3, SPACE);
    println!(
        "node 3 signed height {} (tip at SIGCONT {tip}) {took:?} after SIGCONT: {after}",
        after["lastSigned"]
    );
    // The peer counts are sampled once a second.
    let took = wait_until(HEAL, "nodes 0 and 3 count 3 consensus peers again", || {
        number(&status(net.rpc(0, SPACE), SPACE)["consensusPeers"]) == 3
            && number(&status(node3, SPACE)["consensusPeers"]) == 3
    });
    println!("peers counted whole again {took:?} later");
    assert_eq!(
        metric(&net.metrics(0), "gont_consensus_peers", SPACE),
        Some(3.0)
    );
}

#[test]
fn two_of_four_validators_paused_halt_space_and_service_and_blocks_resume_within_10s() {
    let dir = tempfile::tempdir().unwrap();
    let net = Devnet::start(dir.path(), 22545, 22600);
    // Node 1 serves the service; nodes 2 and 3 validate both chains.
    let (space, service) = (net.rpc(0, SPACE), net.rpc(1, SERVICE));
    wait_until(Duration::from_secs(120), "both chains produce", || {
        height(space) > 2 && height(service) > 2
    });

    net.signal(&[2, 3], Signal::STOP);
    // A decision already under way may still land.
    std::thread::sleep(Duration::from_secs(3));
    let (space_at, service_at) = (height(space), height(service));
    std::thread::sleep(PAUSE - Duration::from_secs(3));
    assert_eq!(
        height(space),
        space_at,
        "the Space committed with half its stake"
    );
    assert_eq!(
        height(service),
        service_at,
        "the service committed with a third of its stake"
    );
    println!(
        "halted: Space at {space_at}, service at {service_at}; node 0: {}",
        status(space, SPACE)
    );

    net.signal(&[2, 3], Signal::CONT);
    let took = wait_until(HEAL, "both chains commit again", || {
        height(space) > space_at && height(service) > service_at
    });
    println!(
        "blocks resumed {took:?} after SIGCONT: Space {}, service {}",
        height(space),
        height(service)
    );
    wait_until(HEAL, "every consensus network is whole again", || {
        number(&status(space, SPACE)["consensusPeers"]) == 3
            && number(&status(service, SERVICE)["consensusPeers"]) == 2
    });
}
