//! geth's tracers over the JSON-RPC: a transaction that reverts in a nested
//! call, traced by `callTracer`, `prestateTracer` and the struct logger,
//! checked against what the contracts do and what the receipt says.

use alloy_primitives::{Address, TxKind, U256, hex};
use gont_vm::testing::{address_of, dev_key};
use serde_json::{Value, json};

use super::{Fixture, RpcLimits, fixture_with_blocks, request, result, tx1559};

/// Reverts with `Error("nope")`, as solc encodes a `require` reason.
const INNER: &str = concat!(
    "6308c379a060e01b600052", // mstore(0, 0x08c379a0 << 224)
    "6020600452",             // mstore(4, 0x20): the string's offset
    "6004602452",             // mstore(0x24, 4): its length
    "636e6f706560e01b604452", // mstore(0x44, "nope" << 224)
    "60646000fd",             // revert(0, 100)
);

/// `Error("nope")` as [`INNER`] returns it.
const NOPE: &str = concat!(
    "0x08c379a0",
    "0000000000000000000000000000000000000000000000000000000000000020",
    "0000000000000000000000000000000000000000000000000000000000000004",
    "6e6f706500000000000000000000000000000000000000000000000000000000"
);

/// Stores 1 in slot 0, calls `inner` with all its gas, and reverts with
/// whatever it returned.
fn outer(inner: Address) -> String {
    [
        "6001600055",           // sstore(0, 1)
        "60006000600060006000", // ret len, ret offset, args len, args offset, value
        &format!("73{}", hex::encode(inner)),
        "5af1",           // call(gas, inner, …)
        "503d600060003e", // pop the status; returndatacopy(0, 0, returndatasize)
        "3d6000fd",       // revert(0, returndatasize)
    ]
    .concat()
}

/// Creation code that deploys `runtime`.
fn init(runtime: &str) -> String {
    let len = runtime.len() / 2;
    format!("60{len:02x}600c60003960{len:02x}6000f3{runtime}")
}

/// The gas limit of the reverting transaction.
const GAS: u64 = 200_000;

struct Nested {
    f: Fixture,
    sender: Address,
    inner: Address,
    outer: Address,
    outer_code: String,
    tx: String,
}

/// Block 3 deploys [`INNER`] and the outer contract; block 4 calls the
/// outer one, which reverts because the inner one does.
fn nested() -> Nested {
    let sender = address_of(&dev_key(0).unwrap());
    let inner = sender.create(3);
    let outer_code = outer(inner);
    let outer_address = sender.create(4);
    let call = tx1559(5, TxKind::Call(outer_address), U256::ZERO, "", GAS);
    let tx = call.hash().to_string();
    let f = fixture_with_blocks(
        RpcLimits::default(),
        vec![
            vec![
                tx1559(3, TxKind::Create, U256::ZERO, &init(INNER), 200_000),
                tx1559(4, TxKind::Create, U256::ZERO, &init(&outer_code), 200_000),
            ],
            vec![call],
        ],
    );
    Nested {
        f,
        sender,
        inner,
        outer: outer_address,
        outer_code,
        tx,
    }
}

fn lower(address: Address) -> String {
    format!("{address:#x}")
}

fn quantity(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

#[tokio::test]
async fn call_tracer_shows_the_nested_revert_as_the_receipt_has_it() {
    let n = nested();
    let receipt = result(&n.f.module, "eth_getTransactionReceipt", json!([n.tx])).await;
    assert_eq!(receipt["status"], "0x0", "the call reverts");
    let trace = result(
        &n.f.module,
        "debug_traceTransaction",
        json!([n.tx, {"tracer": "callTracer"}]),
    )
    .await;
    assert_eq!(trace["type"], "CALL");
    assert_eq!(trace["from"], lower(n.sender));
    assert_eq!(trace["to"], lower(n.outer));
    assert_eq!(trace["input"], "0x");
    assert_eq!(trace["value"], "0x0");
    assert_eq!(quantity(&trace["gas"]), GAS);
    assert_eq!(trace["gasUsed"], receipt["gasUsed"]);
    assert_eq!(trace["output"], NOPE);
    assert_eq!(trace["error"], "execution reverted");
    assert_eq!(trace["revertReason"], "nope");
    let calls = trace["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1, "{trace}");
    let inner = &calls[0];
    assert_eq!(inner["type"], "CALL");
    assert_eq!(inner["from"], lower(n.outer));
    assert_eq!(inner["to"], lower(n.inner));
    assert_eq!(inner["input"], "0x");
    assert_eq!(inner["output"], NOPE);
    assert_eq!(inner["error"], "execution reverted");
    assert_eq!(inner["revertReason"], "nope");
    // The inner call got what the outer one had left, less the 1/64 it
    // keeps, and used less than that.
    let (given, used) = (quantity(&inner["gas"]), quantity(&inner["gasUsed"]));
    assert!(used > 0 && used < given && given < GAS, "{inner}");
    assert!(quantity(&trace["gasUsed"]) > used + 21_000);

    // The same call traced by debug_traceCall on the state after block 3.
    let call = result(
        &n.f.module,
        "debug_traceCall",
        json!([
            {"from": lower(n.sender), "to": lower(n.outer), "gas": format!("{GAS:#x}")},
            "0x3",
            {"tracer": "callTracer"}
        ]),
    )
    .await;
    assert_eq!(call["calls"][0]["revertReason"], "nope");
    assert_eq!(call["error"], "execution reverted");
    assert_eq!(call["to"], lower(n.outer));

    // The block: one result per transaction, keyed by hash.
    let block = result(
        &n.f.module,
        "debug_traceBlockByNumber",
        json!(["0x4", {"tracer": "callTracer"}]),
    )
    .await;
    assert_eq!(block.as_array().unwrap().len(), 1);
    assert_eq!(block[0]["txHash"], n.tx);
    assert_eq!(block[0]["result"], trace);
    let hash =
        result(&n.f.module, "eth_getBlockByNumber", json!(["0x4", false])).await["hash"].clone();
    let by_hash = result(
        &n.f.module,
        "debug_traceBlockByHash",
        json!([hash, {"tracer": "callTracer"}]),
    )
    .await;
    assert_eq!(by_hash, block);
}

#[tokio::test]
async fn prestate_tracer_shows_the_accounts_the_transaction_touched() {
    let n = nested();
    let trace = result(
        &n.f.module,
        "debug_traceTransaction",
        json!([n.tx, {"tracer": "prestateTracer"}]),
    )
    .await;
    let sender = &trace[lower(n.sender)];
    let balance = result(
        &n.f.module,
        "eth_getBalance",
        json!([lower(n.sender), "0x3"]),
    )
    .await;
    assert_eq!(sender["balance"], balance, "{trace}");
    assert_eq!(sender["nonce"], 5);
    let outer = &trace[lower(n.outer)];
    assert_eq!(outer["code"], format!("0x{}", n.outer_code));
    assert_eq!(outer["nonce"], 1);
    let inner = &trace[lower(n.inner)];
    assert_eq!(inner["code"], format!("0x{INNER}"));

    // diffMode: the revert undid the store, so only the sender (nonce, fee)
    // and the fee recipient (tip) changed.
    let diff = result(
        &n.f.module,
        "debug_traceTransaction",
        json!([n.tx, {"tracer": "prestateTracer", "tracerConfig": {"diffMode": true}}]),
    )
    .await;
    assert_eq!(diff["pre"][lower(n.sender)]["nonce"], 5, "{diff}");
    assert_eq!(diff["post"][lower(n.sender)]["nonce"], 6, "{diff}");
    assert!(diff["post"].get(lower(n.outer)).is_none(), "{diff}");
    let after = result(
        &n.f.module,
        "eth_getBalance",
        json!([lower(n.sender), "0x4"]),
    )
    .await;
    assert_eq!(diff["post"][lower(n.sender)]["balance"], after);
}

#[tokio::test]
async fn struct_logger_access_lists_and_refusals() {
    let n = nested();
    let receipt = result(&n.f.module, "eth_getTransactionReceipt", json!([n.tx])).await;
    let logs = result(&n.f.module, "debug_traceTransaction", json!([n.tx])).await;
    assert_eq!(logs["failed"], true);
    assert_eq!(logs["gas"], quantity(&receipt["gasUsed"]));
    assert_eq!(logs["returnValue"], NOPE);
    let steps = logs["structLogs"].as_array().unwrap();
    assert_eq!(steps[0]["op"], "PUSH1");
    assert_eq!(steps[0]["depth"], 1);
    assert!(steps.iter().any(|s| s["op"] == "REVERT" && s["depth"] == 2));
    assert!(steps.iter().any(|s| s["op"] == "SSTORE"));

    // The logging contract of block 2, with its log in the frame.
    let with_log = result(
        &n.f.module,
        "debug_traceBlockByNumber",
        json!(["0x2", {"tracer": "callTracer", "tracerConfig": {"withLog": true}}]),
    )
    .await;
    let frame = &with_log[0]["result"];
    assert_eq!(frame["to"], lower(n.f.contract));
    assert_eq!(frame["logs"][0]["topics"][0], format!("0x{:064x}", 7));
    assert_eq!(frame["output"], format!("0x{:064x}", 42));

    // eth_createAccessList: the inner contract, which the outer one calls,
    // and the outer one's slot (the recipient's own address is left out of
    // the list as geth leaves it, but not its slots).
    let list = result(
        &n.f.module,
        "eth_createAccessList",
        json!([{"from": lower(n.sender), "to": lower(n.outer), "gas": format!("{GAS:#x}")}]),
    )
    .await;
    let mut entries = list["accessList"].as_array().unwrap().clone();
    entries.sort_by_key(|e| e["address"].as_str().unwrap().to_owned());
    let mut expected = vec![
        json!({"address": lower(n.inner), "storageKeys": []}),
        json!({"address": lower(n.outer), "storageKeys": [format!("0x{:064x}", 0)]}),
    ];
    expected.sort_by_key(|e| e["address"].as_str().unwrap().to_owned());
    assert_eq!(entries, expected, "{list}");
    assert_eq!(list["error"], "execution reverted");
    assert!(quantity(&list["gasUsed"]) > 21_000);

    for (method, params) in [
        (
            "debug_traceTransaction",
            json!([n.tx, {"tracer": "noSuchTracer"}]),
        ),
        (
            "debug_traceTransaction",
            json!([n.tx, {"tracer": "{ result: function() {} }"}]),
        ),
    ] {
        let response = request(&n.f.module, method, params).await;
        assert_eq!(response["error"]["code"], -32602, "{response}");
    }
    let missing = request(
        &n.f.module,
        "debug_traceTransaction",
        json!([format!("0x{}", "11".repeat(32))]),
    )
    .await;
    assert_eq!(missing["error"]["code"], -32000, "{missing}");
}
