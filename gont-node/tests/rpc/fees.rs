//! `eth_feeHistory` rewards as geth computes them: each percentile of a
//! block's gas, walked through its transactions sorted by tip.

use alloy_primitives::{Address, TxKind, U256};
use serde_json::json;

use super::{INIT, RpcLimits, fixture_with_blocks, request, result, tx1559_tip};

const GWEI: u128 = 1_000_000_000;

#[tokio::test]
async fn rewards_are_percentiles_of_gas_not_of_transactions() {
    // Block 3: a deployment (most of the block's gas) tipping 1 gwei, and
    // a transfer (21 000 gas) tipping 3 gwei.
    let f = fixture_with_blocks(
        RpcLimits::default(),
        vec![vec![
            tx1559_tip(3, TxKind::Create, U256::ZERO, INIT, 200_000, GWEI),
            tx1559_tip(
                4,
                TxKind::Call(Address::repeat_byte(0x22)),
                U256::from(1u64),
                "",
                21_000,
                3 * GWEI,
            ),
        ]],
    );
    let history = result(
        &f.module,
        "eth_feeHistory",
        json!(["0x1", "0x3", [10.0, 50.0, 90.0, 100.0]]),
    )
    .await;
    // The deployment's gas is over half the block's: the 10th and 50th
    // percentiles of gas fall in it; the 90th and 100th in the transfer.
    let gwei = |n: u128| format!("{:#x}", n * GWEI);
    assert_eq!(
        history["reward"],
        json!([[gwei(1), gwei(1), gwei(3), gwei(3)]]),
        "{history}"
    );
    // An empty block rewards 0 at every percentile.
    let empty = result(&f.module, "eth_feeHistory", json!(["0x1", "0x0", [50.0]])).await;
    assert_eq!(empty["reward"], json!([["0x0"]]));
    // Without percentiles there are no rewards, as geth answers.
    let none = result(&f.module, "eth_feeHistory", json!(["0x1", "0x3"])).await;
    assert!(none.get("reward").is_none(), "{none}");
    // Percentiles must rise within 0..=100, as geth requires.
    for bad in [json!([50.0, 10.0]), json!([101.0]), json!([-1.0])] {
        let response = request(&f.module, "eth_feeHistory", json!(["0x1", "0x3", bad])).await;
        assert_eq!(response["error"]["code"], -32602, "{response}");
    }
}
