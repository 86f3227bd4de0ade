//! The GONT VM alone, in process: one chain of a genesis over a redb store
//! in a temporary directory, driven through its Ethereum JSON-RPC as
//! strings (what `gont vm rpc` serves over HTTP and `libgont_vm` exposes to
//! C), with a block sealed when the example asks.
//!
//! ```text
//! cargo run -p gont-node --example vm_alone
//! ```

use alloy_consensus::TxEip1559;
use alloy_primitives::{Address, TxKind, U256, hex};
use anyhow::{Context, Result};
use gont_core::Genesis;
use gont_node::client::quantity;
use gont_node::standalone::Standalone;
use gont_vm::testing::{address_of, dev_key, raw, sign};
use serde_json::Value;

fn main() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run())
}

async fn run() -> Result<()> {
    let dir = tempfile::tempdir()?;
    // The Space of a one-validator development genesis: the well-known
    // development accounts hold 10 000 ether each.
    let genesis = Genesis::devnet(1, 0);
    let vm = Standalone::open(dir.path(), &genesis, None, gont_node::wall_clock())?;
    println!(
        "chain {} at height {}",
        number(&call(&vm, "eth_chainId", "[]").await?)?,
        number(&call(&vm, "eth_blockNumber", "[]").await?)?
    );

    // A signed EIP-1559 transfer from development account 0, as a wallet
    // would send it.
    let key = dev_key(0).context("development key 0")?;
    let to = Address::repeat_byte(0x42);
    let tx = TxEip1559 {
        chain_id: genesis.chain_id.get(),
        nonce: 0,
        gas_limit: 21_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(to),
        value: U256::from(1_000_000_000_000_000u64),
        access_list: Default::default(),
        input: Default::default(),
    };
    let signed = sign(tx, &key).context("signing")?;
    let bytes = format!("0x{}", hex::encode(raw(&signed).0));
    let sent = call(&vm, "eth_sendRawTransaction", &format!("[\"{bytes}\"]")).await?;
    let hash = sent.as_str().context("a transaction hash")?;
    println!("sent {hash} from {}", address_of(&key));

    // Nothing is mined until a block is sealed.
    let block = vm.seal()?;
    println!(
        "sealed block {} with {} transaction(s)",
        block.block.header.height,
        block.block.body.transactions.len()
    );
    let receipt = call(&vm, "eth_getTransactionReceipt", &format!("[\"{hash}\"]")).await?;
    let field = |name: &str| number(receipt.get(name).unwrap_or(&Value::Null));
    println!(
        "receipt: status {}, block {}, gas used {}",
        field("status")?,
        field("blockNumber")?,
        field("gasUsed")?
    );
    let balance = call(&vm, "eth_getBalance", &format!("[\"{to}\", \"latest\"]")).await?;
    println!("balance of {to}: {} wei", number(&balance)?);
    // Garbage gets a JSON-RPC error, not a crash.
    println!("garbage: {}", vm.rpc("{not json").await);
    Ok(())
}

/// The `result` of one JSON-RPC call; an error response is an error.
async fn call(vm: &Standalone, method: &str, params: &str) -> Result<Value> {
    let request = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":{params}}}"#);
    let mut response: Value = serde_json::from_str(&vm.rpc(&request).await)?;
    match response.get_mut("result") {
        Some(result) => Ok(result.take()),
        None => anyhow::bail!("{method}: {response}"),
    }
}

/// A JSON-RPC quantity (`"0x…"`) as a number.
fn number(value: &Value) -> Result<u64> {
    quantity(value).with_context(|| format!("not a quantity: {value}"))
}
