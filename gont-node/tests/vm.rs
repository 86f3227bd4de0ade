//! `gont vm rpc` as a user runs it: a real process serving the Ethereum
//! JSON-RPC over a chain it seals alone, per transaction or per interval,
//! kept in `--data` across restarts; and [`Standalone`] in process: its
//! string JSON-RPC (what `libgont_vm` exposes) with batches, garbage and
//! refused subscriptions.

// Test code: a failed unwrap, index or panic is the test failing, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy_consensus::TxEip1559;
use alloy_primitives::{Address, TxKind, U256};
use gont_core::{Genesis, Timestamp};
use gont_node::client::{self, quantity};
use gont_node::standalone::Standalone;
use gont_vm::testing::{address_of, dev_key, raw, sign};
use serde_json::{Value, json};

/// A `gont vm rpc` process, killed when dropped.
struct VmProcess {
    child: Child,
    addr: SocketAddr,
}

impl VmProcess {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gont"))
            .args(["vm", "rpc", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("gont starts");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("gont vm rpc printed its address before exiting")
                .unwrap();
            if let Some(rest) = line.strip_prefix("JSON-RPC at http://") {
                break rest.split_whitespace().next().unwrap().parse().unwrap();
            }
        };
        // Keep reading so that the process never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self { child, addr }
    }

    fn call(&self, method: &str, params: &Value) -> Value {
        client::blocking::call(self.addr, method, params)
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    fn height(&self) -> u64 {
        quantity(&self.call("eth_blockNumber", &json!([]))).unwrap()
    }

    /// Stops it with SIGTERM, as a user's Ctrl-C would.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "gont vm rpc did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for VmProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn transfer(chain_id: u64, nonce: u64, to: Address) -> String {
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(to),
        value: U256::from(7u64),
        access_list: Default::default(),
        input: Default::default(),
    };
    format!(
        "0x{}",
        alloy_primitives::hex::encode(raw(&sign(tx, &dev_key(0).unwrap()).unwrap()).0)
    )
}

fn wait_for_receipt(vm: &VmProcess, hash: &Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let receipt = vm.call("eth_getTransactionReceipt", &json!([hash]));
        if !receipt.is_null() {
            return receipt;
        }
        assert!(Instant::now() < deadline, "no receipt for {hash}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn gont_vm_rpc_seals_each_transaction_and_keeps_its_data_directory_across_restarts() {
    let data = tempfile::tempdir().unwrap();
    let genesis = data.path().join("genesis.json");
    let mut g = Genesis::devnet(1, 0);
    g.genesis_time = Timestamp(1_700_000_000_000);
    std::fs::write(&genesis, g.to_json()).unwrap();
    let genesis_arg = genesis.to_str().unwrap();
    let chain = data.path().join("chain");
    let chain_arg = chain.to_str().unwrap();

    let vm = VmProcess::start(&["--genesis", genesis_arg, "--data", chain_arg]);
    let chain_id = quantity(&vm.call("eth_chainId", &json!([]))).unwrap();
    assert_eq!(chain_id, g.chain_id.0);
    assert_eq!(vm.height(), 0, "nothing is sealed without a transaction");
    let to = Address::repeat_byte(0x42);
    for nonce in 0..3 {
        let hash = vm.call(
            "eth_sendRawTransaction",
            &json!([transfer(chain_id, nonce, to)]),
        );
        let receipt = wait_for_receipt(&vm, &hash);
        assert_eq!(receipt["status"], "0x1");
    }
    assert_eq!(vm.height(), 3, "one block per transaction");
    vm.stop();

    let vm = VmProcess::start(&["--genesis", genesis_arg, "--data", chain_arg]);
    assert_eq!(
        vm.height(),
        3,
        "the chain continues from its data directory"
    );
    let balance = vm.call("eth_getBalance", &json!([to, "latest"]));
    assert_eq!(balance, "0x15");
    vm.stop();
}

#[test]
fn gont_vm_rpc_with_a_block_time_seals_empty_blocks_on_the_interval() {
    let vm = VmProcess::start(&["--block-time", "100"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while vm.height() < 5 {
        assert!(
            Instant::now() < deadline,
            "blocks did not come every 100 ms"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let a = vm.call("eth_getBlockByNumber", &json!(["0x4", false]));
    let b = vm.call("eth_getBlockByNumber", &json!(["0x5", false]));
    assert_eq!(b["parentHash"], a["hash"]);
    assert_eq!(a["transactions"], json!([]));
}

#[test]
fn a_standalone_vm_answers_requests_batches_and_garbage_as_strings_and_refuses_subscriptions() {
    let dir = tempfile::tempdir().unwrap();
    let mut genesis = Genesis::devnet(1, 0);
    genesis.genesis_time = Timestamp(1_700_000_000_000);
    let vm = Standalone::open(dir.path(), &genesis, None, Timestamp(1_700_000_000_000)).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ask = |request: &str| -> Value {
        serde_json::from_str(&runtime.block_on(vm.rpc(request))).unwrap()
    };

    let answer = ask(r#"{"jsonrpc":"2.0","id":7,"method":"eth_blockNumber","params":[]}"#);
    assert_eq!(answer, json!({"jsonrpc": "2.0", "id": 7, "result": "0x0"}));
    let sealed = vm.seal().unwrap();
    assert_eq!(sealed.block.header.height.0, 1);
    let batch = ask(
        r#"[{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]},
            {"jsonrpc":"2.0","id":"two","method":"no_such_method","params":[]}]"#,
    );
    assert_eq!(batch[0]["result"], "0x1");
    assert_eq!(batch[1]["id"], "two");
    assert_eq!(batch[1]["error"]["code"], -32601);

    assert_eq!(ask("{not json")["error"]["code"], -32700);
    assert_eq!(ask("[]")["error"]["code"], -32600);
    assert_eq!(ask(r#"{"id":3}"#)["error"]["code"], -32600);
    let subscribe =
        ask(r#"{"jsonrpc":"2.0","id":4,"method":"eth_subscribe","params":["newHeads"]}"#);
    assert_eq!(subscribe["id"], 4);
    assert_eq!(subscribe["error"]["code"], -32601);
    let too_many = format!(
        "[{}]",
        vec![r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#; 101].join(",")
    );
    assert_eq!(ask(&too_many)["error"]["code"], -32600);
}

#[test]
fn a_request_whose_id_is_not_a_string_or_an_integer_is_answered_with_a_null_id() {
    let dir = tempfile::tempdir().unwrap();
    let (vm, runtime, _) = development_vm(dir.path());
    // Found by the `json_rpc` fuzz target: the id was echoed as sent, and
    // a number beyond f64 made the answer unreadable to JSON parsers.
    for id in ["1.5e1111", "1.5", "{\"a\":1}", "[1]", "true"] {
        let request =
            format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"eth_blockNumber","params":[]}}"#);
        let text = runtime.block_on(vm.rpc(&request));
        let answer: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(answer["id"], Value::Null, "{text}");
        assert_eq!(answer["error"]["code"], -32600, "{text}");
    }
    for (id, echoed) in [
        ("7", json!(7)),
        (r#""seven""#, json!("seven")),
        ("null", Value::Null),
    ] {
        let request =
            format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"eth_blockNumber","params":[]}}"#);
        let answer: Value = serde_json::from_str(&runtime.block_on(vm.rpc(&request))).unwrap();
        assert_eq!(answer["id"], echoed);
    }
}

/// A one-validator development chain of `gont vm rpc` in `dir` (its
/// sealer not started), a 2-thread runtime to drive it, and its chain id.
fn development_vm(
    dir: &std::path::Path,
) -> (std::sync::Arc<Standalone>, tokio::runtime::Runtime, u64) {
    let mut genesis = Genesis::devnet(1, 0);
    genesis.genesis_time = Timestamp(1_700_000_000_000);
    let vm = Standalone::open(dir, &genesis, None, Timestamp(1_700_000_000_000)).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    (std::sync::Arc::new(vm), runtime, genesis.chain_id.0)
}

/// The instant sealer seals what the pool holds when it starts (restored
/// from the journal, or admitted before its task first ran), not only
/// what is admitted after: before, it waited for the next admission, and
/// under load the gap-filling test below lost both of its wake-ups.
#[test]
fn the_instant_sealer_seals_what_the_pool_holds_when_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let (vm, runtime, chain_id) = development_vm(dir.path());
    let ask = |method: &str, params: Value| -> Value {
        let request =
            json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }).to_string();
        serde_json::from_str(&runtime.block_on(vm.rpc(&request))).unwrap()
    };
    let to = Address::repeat_byte(0x42);
    let sent = ask("eth_sendRawTransaction", json!([transfer(chain_id, 0, to)]));
    assert!(sent["result"].is_string(), "{sent}");
    runtime.spawn(
        vm.clone()
            .run_sealer(gont_node::standalone::Sealing::Instant),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let from = address_of(&dev_key(0).unwrap());
    while quantity(&ask("eth_getTransactionCount", json!([from, "latest"]))["result"]).unwrap() < 1
    {
        assert!(
            Instant::now() < deadline,
            "the pooled transaction was never sealed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The instant sealer must not lose the wake-up of a transaction admitted
/// while it seals: a nonce gap (nonce 1 before 0) makes it seal a block
/// without the waiting transaction, and the gap-filling nonce 0 arrives
/// during that seal. Both must land without any further transaction.
#[test]
fn the_instant_sealer_includes_a_gap_filling_transaction_admitted_while_it_seals() {
    let dir = tempfile::tempdir().unwrap();
    let (vm, runtime, chain_id) = development_vm(dir.path());
    runtime.spawn(
        vm.clone()
            .run_sealer(gont_node::standalone::Sealing::Instant),
    );
    let to = Address::repeat_byte(0x42);
    let send = |nonce: u64| {
        let request = json!({
            "jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction",
            "params": [transfer(chain_id, nonce, to)],
        })
        .to_string();
        let answer: Value = serde_json::from_str(&runtime.block_on(vm.rpc(&request))).unwrap();
        assert!(answer["result"].is_string(), "nonce {nonce}: {answer}");
    };
    let nonce_of = || -> u64 {
        let request = json!({
            "jsonrpc": "2.0", "id": 1, "method": "eth_getTransactionCount",
            "params": [address_of(&dev_key(0).unwrap()), "latest"],
        })
        .to_string();
        let answer: Value = serde_json::from_str(&runtime.block_on(vm.rpc(&request))).unwrap();
        quantity(&answer["result"]).unwrap()
    };
    for round in 0..20u64 {
        send(2 * round + 1);
        // Let the sealer wake for the gap and start its block.
        std::thread::sleep(Duration::from_micros(300 * (round % 5)));
        send(2 * round);
        let deadline = Instant::now() + Duration::from_secs(5);
        while nonce_of() < 2 * round + 2 {
            assert!(
                Instant::now() < deadline,
                "round {round}: nonces {} and {} admitted, only {} included",
                2 * round,
                2 * round + 1,
                nonce_of()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// A transaction `gont vm rpc` acknowledged is journaled before its hash is
/// returned: after `kill -9` and a restart on the same data directory it is
/// pooled again and lands once its nonce gap fills.
#[test]
fn an_acknowledged_transaction_survives_kill_9_through_the_pool_journal() {
    let data = tempfile::tempdir().unwrap();
    let genesis = data.path().join("genesis.json");
    let mut g = Genesis::devnet(1, 0);
    g.genesis_time = Timestamp(1_700_000_000_000);
    std::fs::write(&genesis, g.to_json()).unwrap();
    let chain = data.path().join("chain");
    let args = [
        "--genesis",
        genesis.to_str().unwrap(),
        "--data",
        chain.to_str().unwrap(),
    ];
    let vm = VmProcess::start(&args);
    let chain_id = quantity(&vm.call("eth_chainId", &json!([]))).unwrap();
    let to = Address::repeat_byte(0x42);
    // Nonce 1 waits behind the gap at 0: pooled, not sealed.
    let queued = vm.call(
        "eth_sendRawTransaction",
        &json!([transfer(chain_id, 1, to)]),
    );
    drop(vm); // SIGKILL: no shutdown, no flush.

    let vm = VmProcess::start(&args);
    let pooled = vm.call("eth_getTransactionByHash", &json!([queued]));
    assert_eq!(pooled["hash"], queued, "the journal restored it: {pooled}");
    assert_eq!(pooled["blockNumber"], Value::Null);
    vm.call(
        "eth_sendRawTransaction",
        &json!([transfer(chain_id, 0, to)]),
    );
    let receipt = wait_for_receipt(&vm, &queued);
    assert_eq!(receipt["status"], "0x1");
    vm.stop();
}

/// Without `--genesis`, the development genesis is made at the first start
/// and kept in `--data`: a second start continues the same chain instead
/// of refusing a directory of "another genesis" (anvil's `--state`).
#[test]
fn gont_vm_rpc_with_only_a_data_directory_continues_its_development_chain() {
    let data = tempfile::tempdir().unwrap();
    let chain = data.path().join("chain");
    let args = ["--data", chain.to_str().unwrap()];
    let vm = VmProcess::start(&args);
    let chain_id = quantity(&vm.call("eth_chainId", &json!([]))).unwrap();
    let hash = vm.call(
        "eth_sendRawTransaction",
        &json!([transfer(chain_id, 0, Address::repeat_byte(0x42))]),
    );
    wait_for_receipt(&vm, &hash);
    let genesis_block = vm.call("eth_getBlockByNumber", &json!(["0x0", false]));
    vm.stop();
    std::thread::sleep(Duration::from_millis(1_100));

    let vm = VmProcess::start(&args);
    assert_eq!(vm.height(), 1, "the chain continues");
    let again = vm.call("eth_getBlockByNumber", &json!(["0x0", false]));
    assert_eq!(again["hash"], genesis_block["hash"], "the same genesis");
    vm.stop();
}

/// Reverses its input, for 100 gas.
#[derive(Debug)]
struct Reverse;

impl gont_vm::NativeContract for Reverse {
    fn call(&self, input: &[u8], gas_limit: u64) -> gont_vm::NativeOutcome {
        if gas_limit < 100 {
            return gont_vm::NativeOutcome::Halt;
        }
        let mut output = input.to_vec();
        output.reverse();
        gont_vm::NativeOutcome::Return {
            output: output.into(),
            gas_used: 100,
        }
    }
}

#[test]
fn a_standalone_vm_built_with_a_native_contract_and_methods_of_its_own_serves_both_and_refuses_a_taken_name()
 {
    let dir = tempfile::tempdir().unwrap();
    let mut genesis = Genesis::devnet(1, 0);
    genesis.genesis_time = Timestamp(1_700_000_000_000);
    let reverse = Address::with_last_byte(0xa1);
    let vm = Standalone::builder(dir.path(), genesis.clone())
        .native_contract(reverse, Reverse)
        .rpc_methods(|chain| {
            let mut module = jsonrpsee::RpcModule::new(());
            let id = chain.chain_id.get();
            module.register_method("myapp_chainId", move |_, _, _| id)?;
            Ok(module)
        })
        .open(Timestamp(1_700_000_000_000))
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ask = |method: &str, params: Value| -> Value {
        let request = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        serde_json::from_str(&runtime.block_on(vm.rpc(&request.to_string()))).unwrap()
    };

    assert_eq!(
        ask("myapp_chainId", json!([]))["result"],
        json!(genesis.chain_id.get())
    );
    let call = json!({"to": reverse, "data": "0x010203"});
    assert_eq!(
        ask("eth_call", json!([call, "latest"]))["result"],
        "0x030201"
    );
    // The chain's own methods are still there; a native contract is no
    // account with code.
    assert_eq!(ask("eth_blockNumber", json!([]))["result"], "0x0");

    // Served over HTTP too.
    let server = runtime
        .block_on(vm.serve("127.0.0.1:0".parse().unwrap(), &[]))
        .unwrap();
    let over_http = runtime
        .block_on(async {
            let rpc = client::RpcClient::new(server.addr)?;
            rpc.call("myapp_chainId", &json!([])).await
        })
        .unwrap();
    assert_eq!(over_http, json!(genesis.chain_id.get()));

    // A method named as the chain's own is refused, with its type.
    let taken = Standalone::builder(tempfile::tempdir().unwrap().path(), genesis)
        .rpc_methods(|_| {
            let mut module = jsonrpsee::RpcModule::new(());
            module.register_method("eth_chainId", |_, _, _| 0)?;
            Ok(module)
        })
        .open(Timestamp(1_700_000_000_000));
    assert!(
        matches!(
            taken,
            Err(gont_node::standalone::OpenError::RpcExtension(_))
        ),
        "{taken:?}"
    );
}
