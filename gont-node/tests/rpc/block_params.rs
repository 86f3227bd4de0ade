//! EIP-1898 block parameters: every method that reads state at a block
//! takes `{ "blockHash": …, "requireCanonical": … }` or `{ "blockNumber": … }`
//! besides a number or tag (every decided block is canonical: nothing on a
//! GONT chain is ever reorganised).

use alloy_primitives::Address;
use gont_vm::testing::{address_of, dev_key};
use serde_json::json;

use super::{RUNTIME, fixture, request, result};

#[tokio::test]
async fn state_methods_take_a_block_hash_or_number_object() {
    let f = fixture();
    let genesis =
        result(&f.module, "eth_getBlockByNumber", json!(["0x0", false])).await["hash"].clone();
    let one =
        result(&f.module, "eth_getBlockByNumber", json!(["0x1", false])).await["hash"].clone();
    let recipient = format!("{}", Address::repeat_byte(0x11));
    let sender = format!("{}", address_of(&dev_key(0).unwrap()));
    let contract = format!("{}", f.contract);
    for (block, balance, nonce, code) in [
        (
            json!({"blockHash": genesis, "requireCanonical": true}),
            "0x0",
            "0x0",
            "0x".to_owned(),
        ),
        (
            json!({"blockHash": one}),
            "0xde0b6b3a7640000",
            "0x2",
            format!("0x{RUNTIME}"),
        ),
        (
            json!({"blockNumber": "0x1"}),
            "0xde0b6b3a7640000",
            "0x2",
            format!("0x{RUNTIME}"),
        ),
    ] {
        assert_eq!(
            result(&f.module, "eth_getBalance", json!([recipient, block])).await,
            balance,
            "{block}"
        );
        assert_eq!(
            result(&f.module, "eth_getTransactionCount", json!([sender, block])).await,
            nonce
        );
        assert_eq!(
            result(&f.module, "eth_getCode", json!([contract, block])).await,
            code
        );
        let slot = result(
            &f.module,
            "eth_getStorageAt",
            json!([contract, "0x0", block]),
        )
        .await;
        assert_eq!(slot, format!("0x{:064x}", 0));
        let call = result(&f.module, "eth_call", json!([{"to": contract}, block])).await;
        assert_eq!(call == "0x", code == "0x", "{call}");
    }
    let unknown = json!({"blockHash": format!("0x{}", "ab".repeat(32))});
    for (method, params) in [
        ("eth_getBalance", json!([recipient, unknown])),
        ("eth_call", json!([{"to": contract}, unknown])),
    ] {
        let response = request(&f.module, method, params).await;
        assert_eq!(response["error"]["code"], -32000, "{method}: {response}");
    }
}
