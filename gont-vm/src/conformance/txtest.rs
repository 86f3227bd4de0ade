//! The TransactionTests runner.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use gont_core::{Address, B256, ChainId, RawTransaction, U256};
use serde::Deserialize;

use super::{ConformanceError, Summary, fork_named, run_files};
use crate::chain::{ChainConfig, Fork};
use crate::validation::check_stateless;

#[derive(Deserialize)]
struct TxTest {
    txbytes: String,
    result: BTreeMap<String, Expectation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Expectation {
    hash: Option<B256>,
    sender: Option<Address>,
    intrinsic_gas: Option<U256>,
    exception: Option<String>,
}

/// Runs every TransactionTests file under `path`, writing failures, skips
/// and the summary line to `out`.
pub fn run(path: &Path, out: &mut dyn Write) -> Result<Summary, ConformanceError> {
    run_files::<TxTest>(path, "transaction test", out, run_test)
}

fn run_test(test: &TxTest, label: &str, out: &mut dyn Write, summary: &mut Summary) {
    let mut not_run = Vec::new();
    for (fork_name, expectation) in &test.result {
        let Some(fork) = fork_named(fork_name) else {
            not_run.push(fork_name.as_str());
            continue;
        };
        match run_case(&test.txbytes, expectation, fork) {
            Ok(()) => summary.passed += 1,
            Err(reason)
                if expectation.exception.is_none() && fee_wider_than_u128(&test.txbytes) =>
            {
                summary.skipped += 1;
                let _ = writeln!(
                    out,
                    "skip {label} [{fork_name}]: a fee field is wider than 128 bits; alloy's transaction types (which gont-core decodes with) hold fees as u128, so GONT refuses at decoding a transaction that Ethereum refuses for insufficient funds ({reason})"
                );
            }
            Err(reason) => {
                summary.failed += 1;
                let _ = writeln!(out, "FAIL {label} [{fork_name}]: {reason}");
            }
        }
    }
    if !not_run.is_empty() {
        summary.skipped += not_run.len();
        let _ = writeln!(
            out,
            "skip {label} [{}]: fork(s) not run (gont-vm implements Cancun and Prague)",
            not_run.join(", ")
        );
    }
}

/// Whether the RLP of a legacy, EIP-2930 or EIP-1559 transaction has a gas
/// price or fee cap longer than 16 bytes.
fn fee_wider_than_u128(txbytes: &str) -> bool {
    let Ok(bytes) = alloy_primitives::hex::decode(txbytes) else {
        return false;
    };
    // Positions of the fee fields in each type's RLP list.
    let (mut payload, fee_fields): (&[u8], &[usize]) = match bytes.first() {
        Some(0x01) => (bytes.get(1..).unwrap_or_default(), &[2]),
        Some(0x02) => (bytes.get(1..).unwrap_or_default(), &[2, 3]),
        Some(b) if *b >= 0xc0 => (bytes.as_slice(), &[1]),
        _ => return false,
    };
    let Ok(header) = alloy_rlp::Header::decode(&mut payload) else {
        return false;
    };
    if !header.list {
        return false;
    }
    for index in 0..=fee_fields.iter().copied().max().unwrap_or(0) {
        let Ok(item) = alloy_rlp::Header::decode(&mut payload) else {
            return false;
        };
        if fee_fields.contains(&index) && !item.list && item.payload_length > 16 {
            return true;
        }
        let Some(rest) = payload.get(item.payload_length..) else {
            return false;
        };
        payload = rest;
    }
    false
}

fn run_case(txbytes: &str, expectation: &Expectation, fork: Fork) -> Result<(), String> {
    let chain = ChainConfig {
        chain_id: ChainId(1),
        fork,
        blob_transactions: true,
        system: crate::system::SystemContracts::default(),
    };
    let outcome = alloy_primitives::hex::decode(txbytes)
        .map_err(|e| format!("not hex: {e}"))
        .and_then(|bytes| {
            let raw = RawTransaction(bytes.into());
            let (tx, sender) = raw.decode_and_recover().map_err(|e| e.to_string())?;
            let gas = check_stateless(&tx, &chain).map_err(|e| e.to_string())?;
            Ok((raw.hash(), sender, gas.initial))
        });
    match (&expectation.exception, outcome) {
        (Some(_), Err(_)) => Ok(()),
        (Some(exception), Ok(_)) => Err(format!(
            "expected {exception}, but the transaction was accepted"
        )),
        (None, Err(e)) => Err(format!("refused: {e}")),
        (None, Ok((hash, sender, intrinsic))) => {
            if let Some(expected) = expectation.hash
                && expected != hash
            {
                return Err(format!("hash {hash} is not {expected}"));
            }
            if let Some(expected) = expectation.sender
                && expected != sender
            {
                return Err(format!("sender {sender} is not {expected}"));
            }
            if let Some(expected) = expectation.intrinsic_gas
                && expected != U256::from(intrinsic)
            {
                return Err(format!("intrinsic gas {intrinsic} is not {expected}"));
            }
            Ok(())
        }
    }
}
