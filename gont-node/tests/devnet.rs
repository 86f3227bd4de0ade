//! `gont devnet` as a user runs it: real node processes on loopback. The
//! devnet is killed (SIGKILL; its nodes stop on their parent's death) and
//! restarted from the same directory: heights continue and balances are
//! intact on GONT Space and on the service. One node killed with SIGKILL
//! is reported and restarted while the others keep going. 200 concurrent
//! `eth_estimateGas` of an endless loop each end with an error within the
//! RPC's timeout while blocks keep coming. Then SIGTERM stops it cleanly,
//! and a node starts by hand from its home folder.

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

use alloy_consensus::TxEip1559;
use alloy_primitives::{Address, TxKind, U256};
use common::{Devnet, SPACE, balance, call, height};
use gont_node::client::{self, quantity};
use gont_vm::testing::{dev_key, raw, sign};
use serde_json::json;

const RPC_PORT: u16 = 20545;
const BASE_PORT: u16 = 20600;

/// Sends 3 ETH from dev account 0 to `to` and waits for the receipt.
fn transfer(addr: SocketAddr, chain_id: u64, to: Address) {
    let nonce = quantity(&call(
        addr,
        "eth_getTransactionCount",
        &json!([gont_core::genesis::DEV_ADDRESSES[0], "pending"]),
    ))
    .unwrap();
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(to),
        value: U256::from(3_000_000_000_000_000_000u128),
        access_list: Default::default(),
        input: Default::default(),
    };
    let raw = raw(&sign(tx, &dev_key(0).unwrap()).unwrap());
    let hash = call(
        addr,
        "eth_sendRawTransaction",
        &json!([format!("0x{}", alloy_primitives::hex::encode(&raw.0))]),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let receipt = call(addr, "eth_getTransactionReceipt", &json!([hash]));
        if !receipt.is_null() {
            assert_eq!(receipt["status"], "0x1");
            return;
        }
        assert!(Instant::now() < deadline, "the transfer was not mined");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits until `addr`'s height exceeds `than`.
fn wait_past(addr: SocketAddr, than: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let h = height(addr);
        if h > than {
            return h;
        }
        assert!(Instant::now() < deadline, "stuck at {h}, not past {than}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The RPC's execution timeout (`RpcLimits::evm_timeout_ms`'s default).
const EVM_TIMEOUT: Duration = Duration::from_secs(5);

/// 200 concurrent `eth_estimateGas` of an endless loop (`JUMPDEST PUSH1 0
/// JUMP`, placed by a state override) at `addr`: every one ends with an
/// error within the timeout (and slack), and the chain keeps deciding
/// blocks meanwhile at no less than a third of its rate just before.
fn estimate_storm(addr: SocketAddr) {
    let rate = |from: u64, took: Duration| (height(addr) - from) as f64 / took.as_secs_f64();
    let (quiet_from, quiet) = (height(addr), Instant::now());
    std::thread::sleep(Duration::from_secs(6));
    let quiet_rate = rate(quiet_from, quiet.elapsed());

    let (storm_from, storm) = (height(addr), Instant::now());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let answers = runtime.block_on(async {
        let client = client::RpcClient::new(addr).unwrap();
        let request = json!([
            { "to": "0x00000000000000000000000000000000000c0de0" },
            "latest",
            { "0x00000000000000000000000000000000000c0de0": { "code": "0x5b600056" } }
        ]);
        let calls: Vec<_> = (0..200)
            .map(|_| {
                let (client, request) = (client.clone(), request.clone());
                tokio::spawn(async move {
                    let started = Instant::now();
                    let answer = client.call("eth_estimateGas", &request).await;
                    (answer, started.elapsed())
                })
            })
            .collect();
        let mut answers = Vec::new();
        for call in calls {
            answers.push(call.await.unwrap());
        }
        answers
    });
    let storm_rate = rate(storm_from, storm.elapsed());
    let slowest = answers.iter().map(|(_, took)| *took).max().unwrap();
    let timed_out = answers
        .iter()
        .filter(|(a, _)| matches!(a, Err(client::ClientError::Rpc { message, .. }) if message.starts_with("execution aborted")))
        .count();
    eprintln!(
        "estimate storm: 200 calls, {timed_out} timed out, the others out of gas; slowest {slowest:?}; \
         blocks/s {quiet_rate:.2} before, {storm_rate:.2} during"
    );
    for (answer, took) in &answers {
        assert!(
            matches!(answer, Err(client::ClientError::Rpc { code: -32000, .. })),
            "{answer:?}"
        );
        assert!(*took < EVM_TIMEOUT + Duration::from_secs(5), "{took:?}");
    }
    assert!(
        storm_rate >= quiet_rate / 3.0,
        "blocks slowed from {quiet_rate:.2}/s to {storm_rate:.2}/s during the storm"
    );
}

#[test]
fn a_killed_devnet_restarts_from_its_directory_with_heights_and_balances_intact() {
    let dir = tempfile::tempdir().unwrap();
    let recipient = Address::repeat_byte(0x42);

    let devnet = Devnet::start(dir.path(), RPC_PORT, BASE_PORT);
    let (space, service) = (devnet.rpc(0, SPACE), devnet.rpc(1, SPACE + 1));
    transfer(space, 31337, recipient);
    transfer(service, 31338, recipient);
    let space_before = height(space);
    let service_before = height(service);
    let three = U256::from(3_000_000_000_000_000_000u128);
    assert_eq!(balance(space, recipient), three);
    assert_eq!(balance(service, recipient), three);

    // One node dies: the devnet says so, the others keep producing blocks,
    // and the node is back within seconds.
    let before = devnet.pids();
    devnet.signal(&[2], rustix::process::Signal::KILL);
    let node2 = devnet.rpc(2, SPACE);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(devnet.printed("node2 restarted") && devnet.pids()[2] != before[2]) {
        assert!(Instant::now() < deadline, "node2 was not restarted");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        devnet.printed("node2 exited (signal: 9"),
        "the devnet says why"
    );
    assert_eq!(
        &devnet.pids()[..2],
        &before[..2],
        "the other nodes kept running"
    );
    let space_now = height(space);
    let deadline = Instant::now() + Duration::from_secs(60);
    while client::blocking::call(node2, "eth_blockNumber", &json!([]))
        .ok()
        .as_ref()
        .and_then(quantity)
        .is_none_or(|h| h < space_now)
    {
        assert!(Instant::now() < deadline, "node2 did not catch up");
        std::thread::sleep(Duration::from_millis(200));
    }

    // Kill the devnet outright: its nodes get SIGTERM from the kernel.
    devnet.kill();

    let devnet = Devnet::start(dir.path(), RPC_PORT, BASE_PORT);
    assert!(height(space) >= space_before, "the Space continues");
    assert!(height(service) >= service_before, "the service continues");
    wait_past(space, space_before);
    wait_past(service, service_before);
    assert_eq!(balance(space, recipient), three);
    assert_eq!(balance(service, recipient), three);
    // The chains still take transactions after the restart.
    transfer(space, 31337, recipient);
    assert_eq!(balance(space, recipient), three + three);

    estimate_storm(space);

    // SIGTERM stops everything cleanly.
    let node3 = devnet.rpc(3, SPACE);
    let pid = rustix::process::Pid::from_raw(i32::try_from(devnet.pid()).unwrap()).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let status = devnet.wait();
    assert!(status.success(), "{status}");

    // A node starts by hand from its home, its passphrase in a file there.
    let home = dir.path().join("node3");
    let mut node = std::process::Command::new(env!("CARGO_BIN_EXE_gont"))
        .arg("start")
        .arg("--home")
        .arg(&home)
        .arg("--passphrase-file")
        .arg(home.join("passphrase"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .env_remove("GONT_PASSPHRASE")
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let started = loop {
        if let Ok(h) = client::blocking::call(node3, "eth_blockNumber", &json!([])) {
            break quantity(&h).unwrap();
        }
        assert!(
            node.try_wait().unwrap().is_none(),
            "node3 started by hand exited"
        );
        assert!(
            Instant::now() < deadline,
            "node3 started by hand never served"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(started >= space_before, "node3 has the chain");
    node.kill().unwrap();
    node.wait().unwrap();
}

const HALT_RPC_PORT: u16 = 21_545;
const HALT_BASE_PORT: u16 = 21_600;

#[test]
fn a_chain_whose_disk_fails_halts_alone_and_says_so_while_the_nodes_other_chains_go_on() {
    // Fault injected: node 1's directory of the service's proposals is
    // replaced by a file, so its next write fails (as a failing disk
    // would). Before, one chain's driver error stopped the whole node,
    // every chain with it.
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start_with(dir.path(), 2, HALT_RPC_PORT, HALT_BASE_PORT);
    let (space, service) = (devnet.rpc(1, SPACE), devnet.rpc(1, SPACE + 1));
    wait_past(service, 1);
    let pid = devnet.pids()[1];
    let proposals = dir
        .path()
        .join("node1/data/consensus")
        .join((SPACE + 1).to_string())
        .join("proposals");
    std::fs::remove_dir_all(&proposals).unwrap();
    std::fs::write(&proposals, b"not a directory").unwrap();

    let deadline = Instant::now() + Duration::from_secs(60);
    let halted = loop {
        let status = client::blocking::call(space, "gont_status", &json!([])).ok();
        let reason = status.as_ref().and_then(|s| {
            s["chains"]
                .as_array()?
                .iter()
                .find(|c| c["chainId"] == json!(SPACE + 1))?
                .get("halted")?
                .as_str()
                .map(str::to_owned)
        });
        if let Some(reason) = reason {
            break reason;
        }
        assert!(
            Instant::now() < deadline,
            "node 1 never reported the service halted: {status:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(halted.contains("proposals"), "{halted}");
    assert_eq!(devnet.pids()[1], pid, "node 1 kept running");

    // GONT Space goes on, with node 1 voting (2 of 2 validators).
    let space_now = height(space);
    wait_past(space, space_now + 3);
    // The halted chain's height stands still, and its state still answers.
    let service_halted = height(service);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(height(service), service_halted);
    // It takes no transaction that no block would include.
    let tx = TxEip1559 {
        chain_id: SPACE + 1,
        nonce: 0,
        gas_limit: 21_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(Address::repeat_byte(0x42)),
        value: U256::from(1),
        access_list: Default::default(),
        input: Default::default(),
    };
    let raw = raw(&sign(tx, &dev_key(0).unwrap()).unwrap());
    let refused = client::blocking::call(
        service,
        "eth_sendRawTransaction",
        &json!([format!("0x{}", alloy_primitives::hex::encode(&raw.0))]),
    )
    .expect_err("a halted chain refuses transactions");
    assert!(refused.to_string().contains("halted"), "{refused}");
    assert!(
        devnet
            .metrics(1)
            .contains(&format!("gont_chain_halted{{chain=\"{}\"}} 1", SPACE + 1)),
        "the metric says so"
    );
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_gont"))
        .args(["status", "--rpc", &space.to_string()])
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "{printed}");
    assert!(
        printed.contains("halted") && printed.contains(&halted),
        "gont status says so: {printed}"
    );
}
