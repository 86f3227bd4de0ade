//! The Ethereum JSON-RPC of one chain over a real redb store and real revm
//! execution: blocks built by the engine, queried as clients query them.

// Test helpers may unwrap and index: a failure is the test failing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use alloy_consensus::TxLegacy;
use alloy_primitives::{Address, TxKind, U256, hex};
use gont_node::rpc::RpcLimits;
use gont_vm::testing::{address_of, dev_key, raw, sign};
use serde_json::{Value, json};

mod block_params;
mod fees;
mod fixture;
mod limits;
mod server;
mod trace;
mod txpool;
pub(crate) use fixture::*;

#[tokio::test]
async fn chain_id_height_and_balances_read_from_the_store() {
    let f = fixture();
    assert_eq!(result(&f.module, "eth_chainId", json!([])).await, "0x7a69");
    assert_eq!(result(&f.module, "net_version", json!([])).await, "31337");
    assert_eq!(result(&f.module, "eth_blockNumber", json!([])).await, "0x2");
    let recipient = result(
        &f.module,
        "eth_getBalance",
        json!([format!("{}", Address::repeat_byte(0x11)), "latest"]),
    )
    .await;
    assert_eq!(recipient, "0xde0b6b3a7640000");
    // Historic state: before block 1 the recipient had nothing.
    assert_eq!(
        result(
            &f.module,
            "eth_getBalance",
            json!([format!("{}", Address::repeat_byte(0x11)), "0x0"])
        )
        .await,
        "0x0"
    );
    let sender = format!("{}", address_of(&dev_key(0).unwrap()));
    assert_eq!(
        result(
            &f.module,
            "eth_getTransactionCount",
            json!([sender, "latest"])
        )
        .await,
        "0x3"
    );
    assert_eq!(
        result(
            &f.module,
            "eth_getTransactionCount",
            json!([sender, "earliest"])
        )
        .await,
        "0x0"
    );
    assert_eq!(
        result(
            &f.module,
            "eth_getCode",
            json!([format!("{}", f.contract), "latest"])
        )
        .await,
        format!("0x{RUNTIME}")
    );
}

#[tokio::test]
async fn blocks_transactions_and_receipts_have_ethereum_shapes() {
    let f = fixture();
    let block = result(&f.module, "eth_getBlockByNumber", json!(["0x1", true])).await;
    assert_eq!(block["number"], "0x1");
    assert_eq!(block["transactions"].as_array().unwrap().len(), 2);
    assert_eq!(block["miner"], format!("{:#x}", Address::repeat_byte(0xfe)));
    let by_hash = result(
        &f.module,
        "eth_getBlockByHash",
        json!([block["hash"], false]),
    )
    .await;
    assert_eq!(by_hash["transactions"][0], f.deploy_hash);
    assert_eq!(
        result(
            &f.module,
            "eth_getBlockTransactionCountByNumber",
            json!(["0x1"])
        )
        .await,
        "0x2"
    );
    assert_eq!(
        result(&f.module, "eth_getBlockByNumber", json!(["0x9", false])).await,
        Value::Null
    );
    let genesis = result(
        &f.module,
        "eth_getBlockByNumber",
        json!(["earliest", false]),
    )
    .await;
    assert_eq!(genesis["number"], "0x0");
    assert_eq!(
        result(&f.module, "eth_getBlockByNumber", json!(["0x2", false])).await["parentHash"],
        block["hash"]
    );

    let receipt = result(
        &f.module,
        "eth_getTransactionReceipt",
        json!([f.deploy_hash]),
    )
    .await;
    assert_eq!(receipt["status"], "0x1");
    assert_eq!(receipt["contractAddress"], format!("{:#x}", f.contract));
    assert_eq!(receipt["blockNumber"], "0x1");
    let tx = result(
        &f.module,
        "eth_getTransactionByHash",
        json!([f.deploy_hash]),
    )
    .await;
    assert_eq!(tx["blockHash"], block["hash"]);
    assert_eq!(tx["nonce"], "0x0");
}

#[tokio::test]
async fn logs_calls_and_estimates_execute_on_revm() {
    let f = fixture();
    let topic = format!("0x{:064x}", 7);
    let logs = result(
        &f.module,
        "eth_getLogs",
        json!([{"fromBlock": "0x0", "toBlock": "latest", "topics": [topic]}]),
    )
    .await;
    assert_eq!(logs.as_array().unwrap().len(), 1);
    assert_eq!(logs[0]["address"], format!("{:#x}", f.contract));
    assert_eq!(logs[0]["blockNumber"], "0x2");
    let none = result(
        &f.module,
        "eth_getLogs",
        json!([{"fromBlock": "0x0", "toBlock": "0x1", "topics": [topic]}]),
    )
    .await;
    assert_eq!(none.as_array().unwrap().len(), 0);
    let out = result(
        &f.module,
        "eth_call",
        json!([{"to": format!("{}", f.contract)}, "latest"]),
    )
    .await;
    assert_eq!(out, format!("0x{:064x}", 42));
    // At block 0 the contract does not exist yet: an empty return.
    assert_eq!(
        result(
            &f.module,
            "eth_call",
            json!([{"to": format!("{}", f.contract)}, "0x0"])
        )
        .await,
        "0x"
    );
    let gas = result(
        &f.module,
        "eth_estimateGas",
        json!([{"to": format!("{}", f.contract)}]),
    )
    .await;
    let gas = u64::from_str_radix(gas.as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
    assert!(gas > 21_000 && gas < 30_000, "{gas}");
    // State override: the contract's code replaced by `STOP`.
    let overridden = result(
        &f.module,
        "eth_call",
        json!([{"to": format!("{}", f.contract)}, "latest", {format!("{}", f.contract): {"code": "0x00"}}]),
    )
    .await;
    assert_eq!(overridden, "0x");
    let history = result(
        &f.module,
        "eth_feeHistory",
        json!(["0x2", "latest", [50.0]]),
    )
    .await;
    assert_eq!(history["baseFeePerGas"].as_array().unwrap().len(), 3);
    // The last entry is the base fee of the block after the newest one
    // asked for, as geth has it, not the base fee after the head.
    let older = result(&f.module, "eth_feeHistory", json!(["0x1", "0x1", []])).await;
    let block2 = result(&f.module, "eth_getBlockByNumber", json!(["0x2", false])).await;
    assert_eq!(
        older["baseFeePerGas"][1], block2["baseFeePerGas"],
        "{older}"
    );
    assert_ne!(older["baseFeePerGas"][1], history["baseFeePerGas"][2]);
}

#[tokio::test]
async fn transactions_are_refused_with_geths_wording() {
    let f = fixture();
    let stale = tx1559(0, TxKind::Call(Address::ZERO), U256::ZERO, "", 21_000);
    let e = request(&f.module, "eth_sendRawTransaction", json!([stale.0])).await;
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("nonce too low"),
        "{e}"
    );
    let low_gas = tx1559(3, TxKind::Call(Address::ZERO), U256::ZERO, "", 20_000);
    let e = request(&f.module, "eth_sendRawTransaction", json!([low_gas.0])).await;
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("intrinsic gas too low"),
        "{e}"
    );
    let wrong_chain = {
        let tx = TxLegacy {
            chain_id: Some(1),
            nonce: 3,
            gas_price: 10_000_000_000,
            gas_limit: 21_000,
            ..TxLegacy::default()
        };
        raw(&sign(tx, &dev_key(0).unwrap()).unwrap())
    };
    let e = request(&f.module, "eth_sendRawTransaction", json!([wrong_chain.0])).await;
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid chain id"),
        "{e}"
    );
    let e = request(&f.module, "eth_sendRawTransaction", json!(["0xdeadbeef"])).await;
    assert_eq!(e["error"]["code"], -32000, "{e}");
    // More gas than a block holds could never be included: geth's pool
    // refuses it at the door.
    let too_much_gas = tx1559(3, TxKind::Call(Address::ZERO), U256::ZERO, "", 30_000_001);
    let e = request(&f.module, "eth_sendRawTransaction", json!([too_much_gas.0])).await;
    assert_eq!(e["error"]["message"], "exceeds block gas limit", "{e}");

    let good = tx1559(3, TxKind::Call(Address::ZERO), U256::ZERO, "", 21_000);
    let hash = result(&f.module, "eth_sendRawTransaction", json!([good.0])).await;
    assert_eq!(hash, good.hash().to_string());
    let e = request(&f.module, "eth_sendRawTransaction", json!([good.0])).await;
    assert_eq!(e["error"]["message"], "already known");
    let sender = format!("{}", address_of(&dev_key(0).unwrap()));
    assert_eq!(
        result(
            &f.module,
            "eth_getTransactionCount",
            json!([sender, "pending"])
        )
        .await,
        "0x4"
    );
    let pending = result(&f.module, "eth_getTransactionByHash", json!([hash])).await;
    assert_eq!(pending["blockNumber"], Value::Null);
}

#[tokio::test]
async fn bad_requests_get_json_rpc_error_codes() {
    let f = fixture();
    let e = request(&f.module, "eth_noSuchMethod", json!([])).await;
    assert_eq!(e["error"]["code"], -32601);
    let e = request(&f.module, "eth_getBalance", json!(["not an address"])).await;
    assert_eq!(e["error"]["code"], -32602);
    // A range over the limit is refused with its reason.
    let narrow = fixture_with(RpcLimits {
        max_log_range: 2,
        ..RpcLimits::default()
    });
    let e = request(
        &narrow.module,
        "eth_getLogs",
        json!([{"fromBlock": "0x0", "toBlock": "0x2"}]),
    )
    .await;
    assert_eq!(e["error"]["code"], -32005, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("block range too large: 3 blocks, the limit is 2"),
        "{e}"
    );
    let e = request(
        &f.module,
        "eth_getLogs",
        json!([{"fromBlock": "0x2", "toBlock": "0x1"}]),
    )
    .await;
    assert_eq!(e["error"]["code"], -32602, "{e}");
}

#[tokio::test]
async fn filters_report_only_what_is_new() {
    let f = fixture();
    let id = result(&f.module, "eth_newBlockFilter", json!([])).await;
    assert_eq!(
        result(&f.module, "eth_getFilterChanges", json!([id])).await,
        json!([])
    );
    let logs_id = result(&f.module, "eth_newFilter", json!([{"fromBlock": "0x0"}])).await;
    assert_eq!(
        result(&f.module, "eth_getFilterLogs", json!([logs_id]))
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        result(&f.module, "eth_uninstallFilter", json!([id])).await,
        true
    );
    let e = request(&f.module, "eth_getFilterChanges", json!([id])).await;
    assert_eq!(e["error"]["message"], "filter not found");
}

#[tokio::test]
async fn gont_get_proof_proves_accounts_and_slots_against_each_heights_state_root() {
    use gont_node::rpc::proofs::AccountProof;

    let f = fixture();
    let sender = address_of(&dev_key(0).unwrap());
    for height in ["0x0", "0x1", "0x2"] {
        let block = result(&f.module, "eth_getBlockByNumber", json!([height, false])).await;
        let answer = result(
            &f.module,
            "gont_getProof",
            json!([sender, ["0x0", "0x1"], height]),
        )
        .await;
        let proof: AccountProof = serde_json::from_value(answer).unwrap();
        assert_eq!(json!(proof.state_root), block["stateRoot"], "{height}");
        proof.verify(proof.state_root).unwrap();
        let balance = result(&f.module, "eth_getBalance", json!([sender, height])).await;
        assert_eq!(json!(proof.account.unwrap().balance), balance, "{height}");
        assert_eq!(proof.storage.len(), 2);
        // The contract's slots too (present or zero, proven either way).
        let answer = result(
            &f.module,
            "gont_getProof",
            json!([f.contract, ["0x0"], height]),
        )
        .await;
        let proof: AccountProof = serde_json::from_value(answer).unwrap();
        proof.verify(proof.state_root).unwrap();
        assert_eq!(proof.account.is_some(), height != "0x0");
    }

    // Limits and missing data are errors with codes.
    let slots: Vec<String> = (0..1025).map(|i| format!("{i:#x}")).collect();
    let response = request(&f.module, "gont_getProof", json!([sender, slots])).await;
    assert_eq!(response["error"]["code"], -32005, "{response}");
    let response = request(&f.module, "gont_getSignedHeader", json!(["0x0"])).await;
    assert_eq!(response["error"]["code"], -32602, "{response}");
    // The fixture's blocks were built without consensus: no commit.
    let response = request(&f.module, "gont_getSignedHeader", json!(["0x2"])).await;
    assert_eq!(response["error"]["code"], -32000, "{response}");
    let response = request(&f.module, "gont_getProof", json!(["0x12"])).await;
    assert_eq!(response["error"]["code"], -32602, "{response}");
}

#[tokio::test]
async fn blocks_by_position_headers_and_probes_have_geths_shapes() {
    let f = fixture();
    let block = result(&f.module, "eth_getBlockByNumber", json!(["0x1", false])).await;
    let hash = block["hash"].clone();

    // Every receipt of a block, by number, hash or EIP-1898 object.
    let receipts = result(&f.module, "eth_getBlockReceipts", json!(["0x1"])).await;
    let receipts = receipts.as_array().unwrap();
    assert_eq!(receipts.len(), 2);
    assert_eq!(receipts[0]["transactionHash"], f.deploy_hash);
    assert_eq!(receipts[1]["transactionIndex"], "0x1");
    assert_eq!(
        result(&f.module, "eth_getBlockReceipts", json!([hash])).await,
        Value::Array(receipts.clone())
    );
    assert_eq!(
        result(
            &f.module,
            "eth_getBlockReceipts",
            json!([{"blockHash": hash}])
        )
        .await,
        Value::Array(receipts.clone())
    );
    let logs = result(&f.module, "eth_getBlockReceipts", json!(["0x2"])).await;
    assert_eq!(logs[0]["logs"][0]["logIndex"], "0x0");
    assert_eq!(
        result(&f.module, "eth_getBlockReceipts", json!(["0x9"])).await,
        Value::Null
    );

    // A transaction by block and index.
    let tx = result(
        &f.module,
        "eth_getTransactionByBlockNumberAndIndex",
        json!(["0x1", "0x0"]),
    )
    .await;
    assert_eq!(tx["hash"], f.deploy_hash);
    assert_eq!(tx["blockHash"], hash);
    let second = result(
        &f.module,
        "eth_getTransactionByBlockHashAndIndex",
        json!([hash, "0x1"]),
    )
    .await;
    assert_eq!(second["transactionIndex"], "0x1");
    for (method, block) in [
        ("eth_getTransactionByBlockNumberAndIndex", json!("0x1")),
        ("eth_getTransactionByBlockHashAndIndex", hash.clone()),
    ] {
        assert_eq!(
            result(&f.module, method, json!([block, "0x5"])).await,
            Value::Null
        );
    }

    // Headers: the block without its transactions.
    let header = result(&f.module, "eth_getHeaderByNumber", json!(["0x1"])).await;
    assert_eq!(header["hash"], hash);
    assert_eq!(header["stateRoot"], block["stateRoot"]);
    assert!(header.get("transactions").is_none(), "{header}");
    assert_eq!(
        result(&f.module, "eth_getHeaderByHash", json!([hash])).await,
        header
    );

    // No uncles, no user accounts, keccak.
    assert_eq!(
        result(&f.module, "eth_getUncleCountByBlockNumber", json!(["0x1"])).await,
        "0x0"
    );
    assert_eq!(
        result(&f.module, "eth_getUncleCountByBlockHash", json!([hash])).await,
        "0x0"
    );
    assert_eq!(
        result(&f.module, "eth_getUncleCountByBlockNumber", json!(["0x9"])).await,
        Value::Null
    );
    assert_eq!(
        result(
            &f.module,
            "eth_getUncleByBlockNumberAndIndex",
            json!(["0x1", "0x0"])
        )
        .await,
        Value::Null
    );
    assert_eq!(
        result(&f.module, "eth_accounts", json!([])).await,
        json!([])
    );
    assert_eq!(result(&f.module, "net_peerCount", json!([])).await, "0x0");
    assert_eq!(
        result(&f.module, "web3_sha3", json!(["0x68656c6c6f20776f726c64"])).await,
        "0x47173285a8d7341e5e972fc677286384f802f8ef42a5ec5f03bbfa254cb01fad"
    );
    // Bad parameters are invalid params, not internal errors.
    let bad = request(
        &f.module,
        "eth_getTransactionByBlockNumberAndIndex",
        json!(["0x1"]),
    )
    .await;
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
}

#[tokio::test]
async fn txpool_shows_pending_and_queued_transactions_as_geth_does() {
    let f = fixture();
    let sender = address_of(&dev_key(0).unwrap()).to_checksum(None);
    let to = Address::repeat_byte(0x22);
    // The fixture's blocks used nonces 0 to 2: 3 is executable, 5 waits
    // for 4.
    let next = tx1559(3, TxKind::Call(to), U256::from(7u64), "", 21_000);
    let later = tx1559(5, TxKind::Create, U256::ZERO, INIT, 200_000);
    for tx in [&next, &later] {
        let hex = format!("0x{}", hex::encode(&tx.0));
        result(&f.module, "eth_sendRawTransaction", json!([hex])).await;
    }
    assert_eq!(
        result(&f.module, "txpool_status", json!([])).await,
        json!({"pending": "0x1", "queued": "0x1"})
    );
    let content = result(&f.module, "txpool_content", json!([])).await;
    assert_eq!(
        content["pending"][&sender]["3"]["hash"],
        next.hash().to_string()
    );
    assert_eq!(content["pending"][&sender]["3"]["blockHash"], Value::Null);
    assert_eq!(
        content["queued"][&sender]["5"]["hash"],
        later.hash().to_string()
    );
    assert_eq!(
        result(&f.module, "txpool_contentFrom", json!([sender])).await,
        json!({"pending": content["pending"][&sender], "queued": content["queued"][&sender]})
    );
    let inspect = result(&f.module, "txpool_inspect", json!([])).await;
    assert_eq!(
        inspect["pending"][&sender]["3"],
        format!(
            "{}: 7 wei + 21000 gas × 10000000000 wei",
            to.to_checksum(None)
        )
    );
    assert_eq!(
        inspect["queued"][&sender]["5"],
        "contract creation: 0 wei + 200000 gas × 10000000000 wei"
    );
}

#[tokio::test]
async fn pending_transactions_reach_filters_and_subscriptions() {
    let f = fixture();
    let filter = result(&f.module, "eth_newPendingTransactionFilter", json!([])).await;
    let mut hashes = f
        .module
        .subscribe_unbounded("eth_subscribe", ["newPendingTransactions"])
        .await
        .unwrap();
    let mut full = f
        .module
        .subscribe_unbounded(
            "eth_subscribe",
            jsonrpsee::rpc_params!["newPendingTransactions", true],
        )
        .await
        .unwrap();

    let tx = tx1559(
        3,
        TxKind::Call(Address::repeat_byte(0x33)),
        U256::from(1u64),
        "",
        21_000,
    );
    let hex = format!("0x{}", hex::encode(&tx.0));
    let hash = result(&f.module, "eth_sendRawTransaction", json!([hex])).await;
    assert_eq!(hash, tx.hash().to_string());

    let (notified, _) = hashes.next::<String>().await.unwrap().unwrap();
    assert_eq!(notified, tx.hash().to_string());
    let (object, _) = full.next::<Value>().await.unwrap().unwrap();
    assert_eq!(object["hash"], hash);
    assert_eq!(object["nonce"], "0x3");

    assert_eq!(
        result(&f.module, "eth_getFilterChanges", json!([filter])).await,
        json!([hash])
    );
    assert_eq!(
        result(&f.module, "eth_getFilterChanges", json!([filter])).await,
        json!([])
    );
    // Not a log filter.
    let e = request(&f.module, "eth_getFilterLogs", json!([filter])).await;
    assert_eq!(e["error"]["code"], -32602, "{e}");
    assert_eq!(
        result(&f.module, "eth_uninstallFilter", json!([filter])).await,
        true
    );
}
