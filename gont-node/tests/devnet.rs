//! `gont devnet` as a user runs it: real node processes on loopback. The
//! devnet is killed (SIGKILL; its nodes stop on their parent's death) and
//! restarted from the same directory: heights continue and balances are
//! intact on GONT Space and on the service. Then SIGTERM stops it cleanly.

// Test code: a failed unwrap, index or panic is the test failing, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy_consensus::TxEip1559;
use alloy_primitives::{Address, TxKind, U256};
use gont_node::client::{self, quantity};
use gont_vm::testing::{dev_key, raw, sign};
use serde_json::{Value, json};

const RPC_PORT: u16 = 38545;
const BASE_PORT: u16 = 36000;

fn space() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], RPC_PORT))
}

fn service() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], RPC_PORT + 1))
}

/// Starts the devnet and waits for its `Ready` line.
fn start(dir: &Path) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gont"))
        .args(["devnet", "--validators", "4", "--services", "1"])
        .arg("--dir")
        .arg(dir)
        .args(["--rpc-port", &RPC_PORT.to_string()])
        .args(["--base-port", &BASE_PORT.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            println!("devnet: {line}");
            if line.starts_with("Ready after") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(240))
        .expect("the devnet became ready");
    child
}

fn call(addr: SocketAddr, method: &str, params: &Value) -> Value {
    client::call(addr, method, params).unwrap_or_else(|e| panic!("{method}: {e}"))
}

fn height(addr: SocketAddr) -> u64 {
    quantity(&call(addr, "eth_blockNumber", &json!([]))).unwrap()
}

fn balance(addr: SocketAddr, who: Address) -> U256 {
    let v = call(addr, "eth_getBalance", &json!([who, "latest"]));
    v.as_str().unwrap().parse().unwrap()
}

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

fn node_pids(dir: &Path) -> Vec<u32> {
    std::fs::read_to_string(dir.join("pids"))
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect()
}

fn wait_gone(pids: &[u32]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while pids
        .iter()
        .any(|p| Path::new(&format!("/proc/{p}")).exists())
    {
        assert!(
            Instant::now() < deadline,
            "nodes {pids:?} outlived the devnet"
        );
        std::thread::sleep(Duration::from_millis(100));
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

#[test]
fn a_killed_devnet_restarts_from_its_directory_with_heights_and_balances_intact() {
    let dir = tempfile::tempdir().unwrap();
    let recipient = Address::repeat_byte(0x42);

    let mut devnet = start(dir.path());
    transfer(space(), 31337, recipient);
    transfer(service(), 31338, recipient);
    let space_before = height(space());
    let service_before = height(service());
    let three = U256::from(3_000_000_000_000_000_000u128);
    assert_eq!(balance(space(), recipient), three);
    assert_eq!(balance(service(), recipient), three);

    // Kill the devnet outright: its nodes get SIGTERM from the kernel.
    let pids = node_pids(dir.path());
    devnet.kill().unwrap();
    devnet.wait().unwrap();
    wait_gone(&pids);

    let mut devnet = start(dir.path());
    assert!(height(space()) >= space_before, "the Space continues");
    assert!(height(service()) >= service_before, "the service continues");
    wait_past(space(), space_before);
    wait_past(service(), service_before);
    assert_eq!(balance(space(), recipient), three);
    assert_eq!(balance(service(), recipient), three);
    // The chains still take transactions after the restart.
    transfer(space(), 31337, recipient);
    assert_eq!(balance(space(), recipient), three + three);

    // SIGTERM stops everything cleanly.
    let pids = node_pids(dir.path());
    let pid = rustix::process::Pid::from_raw(i32::try_from(devnet.id()).unwrap()).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let status = devnet.wait().unwrap();
    assert!(status.success(), "{status}");
    wait_gone(&pids);
}
