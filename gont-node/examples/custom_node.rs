//! A node of one's own, built with [`NodeBuilder`] as the `gont` binary is:
//! a one-validator chain (in a temporary home, as `gont init` makes it)
//! whose EVM has a native contract of this example's (blake3 at address
//! `0x…0b1a`), and whose JSON-RPC has a method of this example's
//! (`myapp_blake3`). A contract deployed on the chain calls the native
//! contract; both answer, and agree.
//!
//! ```text
//! cargo run -p gont-node --example custom_node
//! ```

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use alloy_consensus::TxEip1559;
use alloy_primitives::{Address, Bytes, TxKind, U256, hex};
use anyhow::{Context, Result, bail};
use gont_node::client::{self, quantity};
use gont_node::home::{InitOptions, init};
use gont_node::node::{Chains, NodeBuilder};
use gont_vm::testing::{address_of, dev_key, raw, sign};
use gont_vm::{NativeContract, NativeOutcome};
use serde_json::{Value, json};

/// Where the chain runs the native contract.
const BLAKE3: Address = Address::new([
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b, 0x1a,
]);

/// blake3 of the input, priced as Ethereum prices SHA-256: 60 gas and 12
/// per 32-byte word.
#[derive(Debug)]
struct Blake3;

impl NativeContract for Blake3 {
    fn call(&self, input: &[u8], gas_limit: u64) -> NativeOutcome {
        let words = u64::try_from(input.len().div_ceil(32)).unwrap_or(u64::MAX);
        let gas_used = words.saturating_mul(12).saturating_add(60);
        if gas_used > gas_limit {
            return NativeOutcome::Halt;
        }
        NativeOutcome::Return {
            output: Bytes::copy_from_slice(blake3::hash(input).as_bytes()),
            gas_used,
        }
    }
}

/// A contract that passes its call data to [`BLAKE3`] and returns the 32
/// bytes it answers: creation code, then the 44 bytes of runtime code.
fn forwarder_creation_code() -> Bytes {
    let mut code = Vec::new();
    code.extend(alloy_primitives::hex!("602c600c600039602c6000f3")); // creation: CODECOPY(0, 12, 44), RETURN(0, 44)
    code.extend(alloy_primitives::hex!("366000600037")); // CALLDATACOPY(0, 0, CALLDATASIZE)
    code.extend(alloy_primitives::hex!("60206000366000600073")); // CALL(…, 0, 0, CALLDATASIZE, 0, 32) to PUSH20:
    code.extend(BLAKE3.0);
    code.extend(alloy_primitives::hex!("5af150")); // GAS, CALL, POP
    code.extend(alloy_primitives::hex!("60206000f3")); // RETURN(0, 32)
    Bytes::from(code)
}

fn main() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let home = dir.path();
    let passphrase = "example";
    init(InitOptions {
        home,
        genesis: None,
        moniker: "custom".into(),
        passphrase,
        now: gont_node::wall_clock(),
    })?;
    let consensus_port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let node = runtime.block_on(
        NodeBuilder::new(home)
            .passphrase(passphrase)
            // Loopback only, on ports the system chooses.
            .configure(move |config| {
                config.p2p.listen = "/ip4/127.0.0.1/tcp/0".into();
                for chain in &mut config.chains {
                    chain.rpc = "127.0.0.1:0".parse().ok();
                    chain.consensus.listen = format!("/ip4/127.0.0.1/tcp/{consensus_port}");
                }
            })
            .native_contract(Chains::All, BLAKE3, Blake3)
            .rpc_methods(|chain| {
                let mut module = jsonrpsee::RpcModule::new(());
                let chain_id = chain.chain_id;
                module.register_method("myapp_blake3", move |params, _, _| {
                    let (data,): (Bytes,) = params.parse()?;
                    tracing::debug!(%chain_id, "myapp_blake3");
                    Ok::<_, jsonrpsee::types::ErrorObjectOwned>(Bytes::copy_from_slice(
                        blake3::hash(&data).as_bytes(),
                    ))
                })?;
                Ok(module)
            })
            .launch(),
    )?;
    let (chain, rpc) = *node
        .rpc_addrs()
        .first()
        .context("the chain serves no RPC")?;
    println!("chain {chain}: native contract blake3 at {BLAKE3}");
    let result = run(rpc);
    runtime.block_on(node.stop());
    result
}

fn run(rpc: SocketAddr) -> Result<()> {
    let chain_id = quantity(&client::blocking::call(rpc, "eth_chainId", &json!([]))?)
        .context("eth_chainId")?;

    // Deploy the forwarder from development account 0.
    let key = dev_key(0).context("development key 0")?;
    let deploy = TxEip1559 {
        chain_id,
        nonce: 0,
        gas_limit: 200_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Create,
        value: U256::ZERO,
        access_list: Default::default(),
        input: forwarder_creation_code(),
    };
    let bytes = format!(
        "0x{}",
        hex::encode(raw(&sign(deploy, &key).context("signing")?).0)
    );
    let hash = client::blocking::call(rpc, "eth_sendRawTransaction", &json!([bytes]))?;
    let receipt = wait_for_receipt(rpc, &hash)?;
    let forwarder = address_of(&key).create(0);
    println!(
        "forwarder deployed at {forwarder}: status {}",
        receipt.get("status").and_then(quantity).context("status")?
    );

    let data = Bytes::from_static(b"hello gont");
    let from_contract = client::blocking::call(
        rpc,
        "eth_call",
        &json!([{ "to": forwarder, "data": data }, "latest"]),
    )?;
    let from_contract = from_contract.as_str().context("eth_call's result")?;
    println!("eth_call forwarder({data}) -> native contract -> {from_contract}");
    let from_rpc = client::blocking::call(rpc, "myapp_blake3", &json!([data]))?;
    let from_rpc = from_rpc.as_str().context("myapp_blake3's result")?;
    println!("myapp_blake3({data}) -> {from_rpc}");
    if from_contract != from_rpc {
        bail!("the native contract and the RPC method disagree");
    }
    println!("they agree");
    Ok(())
}

/// The receipt of `hash`, once its block is committed (within 60 s).
fn wait_for_receipt(rpc: SocketAddr, hash: &Value) -> Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let receipt = client::blocking::call(rpc, "eth_getTransactionReceipt", &json!([hash]))?;
        if !receipt.is_null() {
            return Ok(receipt);
        }
        if Instant::now() > deadline {
            bail!("no receipt for {hash} within 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
