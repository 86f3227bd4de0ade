//! A light client of a real `gont devnet` (4 validator processes, real
//! signatures), talking JSON-RPC only: from each chain's genesis it
//! verifies the tip with tendermint-rs's verifier through
//! `gont_getSignedHeader`, then checks an account and a storage slot from
//! `gont_getProof` against the verified state root. Answers altered on
//! their way (a test double of a lying RPC: the test edits what the real
//! node sent) are refused, each naming what failed.

// Test code: a failed unwrap, index or panic is the test failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{Devnet, SPACE, genesis_client, now};
use gont_core::genesis::DEV_ADDRESSES;
use gont_core::light::{self, LightError};
use gont_core::{Address, Genesis, U256};
use gont_node::client::blocking::{self as client, RpcClient};
use gont_node::client::quantity;
use gont_node::config::files;
use gont_node::rpc::proofs::ProofCheckError;
use serde_json::json;

const SERVICE: u64 = 31338;

fn height(rpc: &RpcClient) -> u64 {
    quantity(&rpc.call("eth_blockNumber", &json!([])).unwrap()).unwrap()
}

/// Waits until the chain behind `rpc` has a block at `target` (chains start
/// at their own pace: the service can be heights behind the Space).
fn reach(rpc: &RpcClient, target: u64) -> u64 {
    loop {
        let at = height(rpc);
        if at >= target {
            return at;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_light_client_verifies_each_chain_from_genesis_and_proves_accounts_and_slots_against_it() {
    let dir = tempfile::tempdir().unwrap();
    let net = Devnet::start(dir.path(), 23545, 23600);
    let genesis = Genesis::from_json(
        &std::fs::read_to_string(dir.path().join("node1").join(files::GENESIS)).unwrap(),
    )
    .unwrap();
    let alice: Address = DEV_ADDRESSES[0];

    for chain in [SPACE, SERVICE] {
        // Node 1 validates both chains.
        let rpc = RpcClient::new(net.rpc(1, chain)).unwrap();
        // Let the chain pass height 8, so that the tip is a skip away.
        let tip = reach(&rpc, 8);
        let mut lc = genesis_client(&genesis, chain);
        let block = lc
            .advance_to(tip, now(), |h| rpc.signed_header(h))
            .unwrap()
            .clone();
        println!("chain {chain}: verified height {tip} from genesis in one skip");
        assert_eq!(lc.height(), tip);
        let block_hash = rpc
            .call("eth_getBlockByNumber", &json!([format!("{tip:#x}"), false]))
            .unwrap()["hash"]
            .clone();
        assert_eq!(
            json!(light::block_id(&block)),
            block_hash,
            "the verified block is the block eth_getBlockByNumber names"
        );

        // An account, and a slot of the fee vault (0 or not, proven either way).
        let proof = rpc.proof(alice, &[U256::ZERO, U256::from(7)], tip).unwrap();
        let root = light::state_root(&block).unwrap();
        assert_eq!(proof.state_root, root);
        proof.verify(root).unwrap();
        let balance = rpc
            .call("eth_getBalance", &json!([alice, format!("{tip:#x}")]))
            .unwrap();
        let proven = proof.account.expect("alice exists").balance;
        assert_eq!(json!(proven), balance);
        println!("chain {chain}: balance of {alice} at {tip} proven: {proven} wei");

        // A lying RPC: a higher balance, a flipped proof byte.
        let mut richer = proof.clone();
        if let Some(a) = richer.account.as_mut() {
            a.balance += U256::from(1);
        }
        let err = richer.verify(root).unwrap_err();
        println!("altered balance: {err}");
        assert!(matches!(err, ProofCheckError::Invalid(_)), "{err}");

        let mut flipped = proof.clone();
        let mut bytes = flipped.account_proof.to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        flipped.account_proof = bytes.into();
        let err = flipped.verify(root).unwrap_err();
        println!("altered proof node: {err}");
        assert!(matches!(err, ProofCheckError::Invalid(_)), "{err}");

        // A header whose commit was tampered with does not verify.
        let mut lc2 = genesis_client(&genesis, chain);
        let mut forged = rpc.signed_header(tip).unwrap();
        forged.signed_header.header.app_hash =
            tendermint::AppHash::try_from(vec![7u8; 32]).unwrap();
        let err = lc2.update(forged, now()).unwrap_err();
        println!("header with a changed state root: {err}");
        assert!(matches!(err, LightError::Invalid(_)), "{err}");

        // The other chain's header is refused as such.
        let other = if chain == SPACE { SERVICE } else { SPACE };
        let other_rpc = RpcClient::new(net.rpc(1, other)).unwrap();
        reach(&other_rpc, 3);
        let foreign = other_rpc.signed_header(3).unwrap();
        let err = genesis_client(&genesis, chain)
            .update(foreign, now())
            .unwrap_err();
        assert!(matches!(err, LightError::WrongChain { .. }), "{err}");
    }

    // The genesis has no signed header; the error says so.
    let err = client::call(net.rpc(0, SPACE), "gont_getSignedHeader", &json!(["0x0"])).unwrap_err();
    assert!(err.to_string().contains("genesis"), "{err}");
    net.kill();
}
