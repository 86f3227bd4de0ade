//! The checks at the end of a chaos run, and its report.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use serde_json::{Value, json};

use gont_node::client::quantity;

use super::{Acknowledged, Perturbation, Row, height, rpc};

/// Waits (at most 120 s) until every acknowledged transaction has a
/// receipt; returns those that never got one.
pub(crate) fn wait_for_inclusion(rpcs: &[SocketAddr], acked: &[Acknowledged]) -> Vec<Acknowledged> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut waiting: Vec<Acknowledged> = acked.to_vec();
    while !waiting.is_empty() && Instant::now() < deadline {
        waiting.retain(|a| {
            !rpcs.iter().any(|addr| {
                matches!(
                    rpc(*addr, "eth_getTransactionReceipt", &json!([a.hash])),
                    Ok(Value::Object(_))
                )
            })
        });
        if !waiting.is_empty() {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
    waiting
}

/// Compares every node's block hash at each height up to the lowest head:
/// (heights compared, heights where they differ).
pub(crate) fn agreement(rpcs: &[SocketAddr]) -> Result<(u64, u64)> {
    let lowest = rpcs
        .iter()
        .map(|a| height(*a).ok_or_else(|| anyhow!("{a} does not answer at the end")))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .min()
        .unwrap_or(0);
    let mut disagreeing = 0;
    for h in 1..=lowest {
        let hashes: Vec<Option<String>> = rpcs
            .iter()
            .map(|a| {
                rpc(
                    *a,
                    "eth_getBlockByNumber",
                    &json!([format!("0x{h:x}"), false]),
                )
                .ok()
                .and_then(|b| b.get("hash")?.as_str().map(str::to_owned))
            })
            .collect();
        if hashes
            .iter()
            .any(|x| x.is_none() || Some(x) != hashes.first())
        {
            disagreeing += 1;
            eprintln!("height {h}: {hashes:?}");
        }
    }
    Ok((lowest, disagreeing))
}

/// The longest time between two consecutive blocks, from their timestamps.
pub(crate) fn longest_stall(addr: SocketAddr) -> Result<u64> {
    let head = height(addr).context("no head at the end")?;
    let mut times = BTreeMap::new();
    for h in 1..=head {
        let block = rpc(
            addr,
            "eth_getBlockByNumber",
            &json!([format!("0x{h:x}"), false]),
        )
        .map_err(|e| anyhow!("block {h}: {e:?}"))?;
        let time = block.get("timestamp").and_then(quantity).unwrap_or(0);
        times.insert(h, time);
    }
    Ok(times
        .values()
        .zip(times.values().skip(1))
        .map(|(a, b)| b.saturating_sub(*a))
        .max()
        .unwrap_or(0))
}

pub(crate) fn report(
    rows: &[(Perturbation, Row)],
    took: Duration,
    compared: u64,
    disagreeing: u64,
    acked: usize,
    lost: &[Acknowledged],
    stall: u64,
) {
    println!();
    println!(
        "| # | perturbation | s | height before | height after | committed during | next height after it |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (n, (_, r)) in rows.iter().enumerate() {
        println!(
            "| {} | {} | {:.0} | {} | {} | {} | {} |",
            n + 1,
            r.what,
            r.secs,
            r.before,
            r.after,
            r.during,
            r.resumed_in
                .map_or_else(|| "none in 60 s".to_owned(), |s| format!("{s:.1} s")),
        );
    }
    println!();
    println!(
        "run: {:.1} min, {} perturbations",
        took.as_secs_f64() / 60.0,
        rows.len()
    );
    println!("heights compared: {compared}, disagreeing: {disagreeing}");
    println!("transactions acknowledged: {acked}, lost: {}", lost.len());
    for a in lost.iter().take(10) {
        println!(
            "  lost: {} (sender {}, nonce {})",
            a.hash, a.sender, a.nonce
        );
    }
    println!("longest stall (block timestamps): {stall} s");
}
