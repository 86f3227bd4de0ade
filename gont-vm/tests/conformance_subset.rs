//! A fast subset of Ethereum's conformance fixtures, run in CI: a few
//! GeneralStateTests groups and a few TransactionTests groups. The full
//! folders run with `cargo xtask statetest|txtest PATH`.

// Test code: a failed unwrap, index or panic is the test failing, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;

use gont_vm::conformance::{statetest, txtest};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/ethereum-tests")
}

#[test]
fn state_test_groups_pass() {
    for group in [
        "stExample",
        "stEIP1559",
        "stChainId",
        "stLogTests",
        "stSelfBalance",
        "Cancun",
    ] {
        let path = fixtures().join("GeneralStateTests").join(group);
        let mut out = Vec::new();
        let summary = statetest::run(&path, &mut out).unwrap();
        let text = String::from_utf8_lossy(&out);
        assert_eq!(summary.failed, 0, "{group}:\n{text}");
        assert!(summary.passed > 0, "{group} ran no case:\n{text}");
        assert!(text.ends_with(&format!("{summary}\n")));
    }
}

#[test]
fn transaction_test_groups_pass() {
    for group in [
        "ttNonce",
        "ttEIP1559",
        "ttEIP2930",
        "ttSignature",
        "ttRSValue",
        "ttVValue",
    ] {
        let path = fixtures().join("TransactionTests").join(group);
        let mut out = Vec::new();
        let summary = txtest::run(&path, &mut out).unwrap();
        let text = String::from_utf8_lossy(&out);
        assert_eq!(summary.failed, 0, "{group}:\n{text}");
        assert!(summary.passed > 0, "{group} ran no case:\n{text}");
    }
}
