//! `gont status`: height, peers, validators and sync state per chain, read
//! from a node's JSON-RPC (`gont_status`).

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result, bail};
use gont_node::client;
use gont_node::config::NodeConfig;
use serde_json::{Value, json};

/// The first JSON-RPC address of the node of `home`.
pub(crate) fn rpc_of_home(home: &Path) -> Result<SocketAddr> {
    let config = NodeConfig::load(home)?;
    match config.chains.iter().find_map(|c| c.rpc) {
        Some(addr) => Ok(addr),
        None => bail!(
            "{}: no chain serves JSON-RPC; give --rpc ADDR",
            home.display()
        ),
    }
}

/// Prints the status of the node serving JSON-RPC at `rpc`.
pub(crate) fn run(rpc: SocketAddr) -> Result<()> {
    let status = client::blocking::call(rpc, "gont_status", &json!([]))
        .with_context(|| format!("asking the node at {rpc} (is it running?)"))?;
    let text = |v: &Value, k: &str| {
        v.get(k)
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
            .unwrap_or_default()
    };
    println!(
        "node {} ({}) v{}, {} gont-net peer(s), JSON-RPC {rpc}",
        text(&status, "moniker"),
        text(&status, "nodeId"),
        text(&status, "version"),
        text(&status, "peers"),
    );
    println!(
        "{:<8} {:<14} {:>8} {:<10} {:>8} {:>10} {:>6} {:<8} {:>7}",
        "chain", "name", "height", "role", "signed", "validators", "peers", "state", "mempool"
    );
    for chain in status
        .get("chains")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        // In the set deciding the next block; with a key outside it
        // (not staked, or left); or without a key.
        let has_key = chain.get("validator").and_then(Value::as_bool) == Some(true);
        let in_set = chain.get("inSet").and_then(Value::as_bool) == Some(true);
        let role = match (has_key, in_set) {
            (true, true) => "validator",
            (true, false) => "standby",
            (false, _) => "follower",
        };
        let halted = chain.get("halted").and_then(Value::as_str);
        let state = if halted.is_some() {
            "halted"
        } else if chain.get("syncing").and_then(Value::as_bool) == Some(true) {
            "syncing"
        } else {
            "running"
        };
        // Connected consensus peers of the chain, of those configured.
        let peers = format!(
            "{}/{}",
            text(chain, "consensusPeers"),
            text(chain, "configuredPeers")
        );
        // The last height whose commit carries this validator's precommit.
        let signed = if has_key {
            text(chain, "lastSigned")
        } else {
            "-".to_owned()
        };
        println!(
            "{:<8} {:<14} {:>8} {:<10} {:>8} {:>10} {:>6} {:<8} {:>7}",
            text(chain, "chainId"),
            text(chain, "name"),
            text(chain, "height"),
            role,
            signed,
            text(chain, "validators"),
            peers,
            state,
            text(chain, "mempool"),
        );
        if let Some(reason) = halted {
            println!(
                "  chain {} halted: {reason} (the node's other chains go on)",
                text(chain, "chainId")
            );
        }
    }
    Ok(())
}
