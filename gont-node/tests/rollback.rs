//! `gont rollback` on a real node: a one-validator node (a `gont start`
//! process, real consensus, revm and redb) is stopped, one chain is rolled
//! back, and the next start executes the decided blocks above that height
//! again from its own disk, reaching the same block hashes and going on.
//! A hard rollback is refused for a chain the node validates, and any
//! rollback while the node runs; a follower's hard rollback drops the
//! decisions and the write-ahead log too.

// Test code: a failed unwrap, index or panic is the test failing, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use gont_core::Height;
use gont_node::client::{self, quantity};
use gont_node::config::{NodeConfig, files};
use gont_storage::Store;
use rustix::process::{Pid, Signal, kill_process};
use serde_json::json;

const PASSPHRASE: &str = "rollback test";
/// Ports of this binary (see `common`): JSON-RPC and consensus.
const RPC_PORT: u16 = 28545;
const CONSENSUS_PORT: u16 = 28600;

fn gont(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gont"))
        .args(args)
        .env("GONT_PASSPHRASE", PASSPHRASE)
        .output()
        .unwrap()
}

/// `gont start` on `home`, its log in `home/node-N.log`.
fn start(home: &Path, n: usize) -> Child {
    let log = std::fs::File::create(home.join(format!("node-{n}.log"))).unwrap();
    Command::new(env!("CARGO_BIN_EXE_gont"))
        .args(["start", "--home", home.to_str().unwrap()])
        .env("GONT_PASSPHRASE", PASSPHRASE)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// SIGTERM, and the exit (a clean stop, within 30 s).
fn stop(mut node: Child) {
    let pid = Pid::from_raw(i32::try_from(node.id()).unwrap()).unwrap();
    kill_process(pid, Signal::TERM).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = node.try_wait().unwrap() {
            assert!(status.success(), "the node exited with {status}");
            return;
        }
        if Instant::now() > deadline {
            node.kill().unwrap();
            panic!("the node did not stop within 30 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until the chain's height is at least `height` (within 90 s).
fn wait_for(rpc: SocketAddr, height: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Ok(v) = client::blocking::call(rpc, "eth_blockNumber", &json!([]))
            && let Some(h) = quantity(&v)
            && h >= height
        {
            return h;
        }
        assert!(Instant::now() < deadline, "height {height} not reached");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn block_hash(rpc: SocketAddr, height: u64) -> String {
    let block = client::blocking::call(
        rpc,
        "eth_getBlockByNumber",
        &json!([format!("{height:#x}"), false]),
    )
    .unwrap();
    block["hash"].as_str().unwrap().to_owned()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_rolled_back_chain_executes_its_decided_blocks_again_on_the_next_start_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let rpc: SocketAddr = format!("127.0.0.1:{RPC_PORT}").parse().unwrap();
    common::one_validator_home(home, PASSPHRASE, rpc, CONSENSUS_PORT, |_, _| {});
    let chain = NodeConfig::load(home).unwrap().chains[0].chain_id;
    let home_arg = home.to_str().unwrap();
    let chain_arg = chain.get().to_string();
    let rollback = |height: &str, hard: bool| {
        let mut args = vec![
            "rollback", "--home", home_arg, "--chain", &chain_arg, "--height", height,
        ];
        if hard {
            args.push("--hard");
        }
        gont(&args)
    };

    let node = start(home, 1);
    wait_for(rpc, 6);
    let hashes: Vec<String> = (1..=6).map(|h| block_hash(rpc, h)).collect();
    let refused = rollback("3", false);
    assert!(
        !refused.status.success() && text(&refused.stderr).contains("is the node running?"),
        "a rollback while the node runs: {refused:?}"
    );
    stop(node);

    let data = home.join(files::DATA);
    let head = {
        let store = Store::open(&data).unwrap();
        store.chain(chain).latest_height().unwrap().unwrap()
    };
    assert!(head >= Height(6), "{head}");

    let refused = rollback("3", true);
    assert!(
        !refused.status.success() && text(&refused.stderr).contains("validated by this node"),
        "a hard rollback of a validator's chain: {refused:?}"
    );
    let done = rollback("3", false);
    let out = text(&done.stdout);
    assert!(done.status.success(), "{done:?}");
    assert!(out.contains(&format!("head {head} -> 3")), "{out}");
    assert!(out.contains("heights 4..="), "{out}");
    {
        let store = Store::open(&data).unwrap();
        let rolled = store.chain(chain);
        assert_eq!(rolled.latest_height().unwrap(), Some(Height(3)));
        assert_eq!(rolled.block(Height(4)).unwrap(), None);
        assert!(rolled.decided_height().unwrap().unwrap() >= head);
    }

    let node = start(home, 2);
    let reached = wait_for(rpc, head.get() + 2);
    for (h, hash) in (1..=6).zip(&hashes) {
        assert_eq!(&block_hash(rpc, h), hash, "block {h} after the rollback");
    }
    stop(node);
    let log = std::fs::read_to_string(home.join("node-2.log")).unwrap();
    assert!(
        log.contains("finishing a decision recorded before a restart"),
        "the second start did not execute the decided blocks again:\n{log}"
    );
    assert!(reached > head.get());

    // The same home as a follower of the chain: a hard rollback drops the
    // decisions above the height and the chain's write-ahead log.
    let mut config = NodeConfig::load(home).unwrap();
    config.chains[0].validator_key = None;
    std::fs::write(home.join(files::CONFIG), config.to_toml()).unwrap();
    let wal = gont_node::rollback::consensus_dir(home, chain).join("wal");
    assert!(wal.exists(), "{} after a run", wal.display());
    let done = rollback("5", true);
    let out = text(&done.stdout);
    assert!(done.status.success(), "{done:?}");
    assert!(out.contains("no decision above height 5 is kept"), "{out}");
    assert!(!wal.exists(), "{} after a hard rollback", wal.display());
    let store = Store::open(&data).unwrap();
    assert_eq!(store.chain(chain).latest_height().unwrap(), Some(Height(5)));
    assert_eq!(
        store.chain(chain).decided_height().unwrap(),
        Some(Height(5))
    );
}
