//! `gont vm abci` driven as CometBFT drives it: a real process, ABCI 0.38
//! messages encoded by `tendermint-proto` over its TCP socket. A block
//! lifecycle deploys a contract and calls it; the JSON-RPC beside the
//! application serves the receipts and state of those blocks; a crash
//! between `FinalizeBlock` and `Commit` is recovered through `Info` and a
//! replay; garbage and an oversized frame are answered with an exception
//! while the server keeps serving other connections.

// Test code: a failed unwrap, index or panic is the test failing, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy_consensus::TxEip1559;
use alloy_primitives::{Address, Bytes as EvmBytes, TxKind, U256, hex};
use gont_core::{Genesis, Timestamp};
use gont_node::client::{self, quantity};
use gont_vm::testing::{address_of, dev_key, raw, sign};
use prost::Message as _;
use serde_json::{Value, json};
use tendermint::abci::{Code, request, response};
use tendermint::v0_38::abci::{Request, Response};
use tendermint_proto::v0_38::abci as pb;

/// Stores its calldata's first word in slot 0 and logs it under topic 42.
const INIT_CODE: &str = concat!(
    "6014600c60003960146000f3", // CODECOPY(0, 12, 20), RETURN(0, 20)
    "600035600055",             // code: SSTORE(0, CALLDATALOAD(0))
    "600035600052",             // MSTORE(0, CALLDATALOAD(0))
    "602a60206000a1",           // LOG1(0, 32, 42)
    "00",                       // STOP
);

const GENESIS_MS: u64 = 1_700_000_000_000;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `gont vm abci` process, killed (SIGKILL) when dropped.
struct App {
    child: Child,
    abci: SocketAddr,
    rpc: SocketAddr,
}

impl App {
    fn start(home: &Path, abci: SocketAddr, rpc: SocketAddr) -> Self {
        let child = spawn(home, &format!("tcp://{abci}"), &["--rpc", &rpc.to_string()]);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(abci).is_err() {
            assert!(Instant::now() < deadline, "the ABCI socket never opened");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, abci, rpc }
    }

    fn connect(&self) -> Conn {
        let stream = TcpStream::connect(self.abci).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        Conn(Box::new(stream))
    }

    fn call(&self, method: &str, params: &Value) -> Value {
        client::blocking::call(self.rpc, method, params).unwrap_or_else(|e| panic!("{method}: {e}"))
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `gont vm abci --home HOME --listen LISTEN EXTRA…` and waits for
/// its announcement.
fn spawn(home: &Path, listen: &str, extra: &[&str]) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gont"))
        .args(["vm", "abci", "--home"])
        .arg(home)
        .args(["--listen", listen])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(
        lines.next().unwrap().unwrap().starts_with("ABCI at"),
        "the application announces its socket"
    );
    std::thread::spawn(move || lines.for_each(drop));
    child
}

/// A socket an ABCI connection runs on: TCP or a Unix socket.
trait Socket: Read + Write {}
impl<T: Read + Write> Socket for T {}

/// One ABCI connection, as CometBFT opens four.
struct Conn(Box<dyn Socket>);

impl Conn {
    fn send_raw(&mut self, bytes: &[u8]) {
        self.0.write_all(bytes).unwrap();
    }

    fn receive(&mut self) -> Option<pb::Response> {
        let mut len = 0u64;
        for shift in (0..64).step_by(7) {
            let mut byte = [0u8; 1];
            if self.0.read_exact(&mut byte).is_err() {
                return None;
            }
            len |= u64::from(byte[0] & 0x7f) << shift;
            if byte[0] & 0x80 == 0 {
                break;
            }
        }
        let mut body = vec![0u8; usize::try_from(len).unwrap()];
        self.0.read_exact(&mut body).unwrap();
        Some(pb::Response::decode(body.as_slice()).unwrap())
    }

    fn ask(&mut self, request: Request) -> Response {
        let message = pb::Request::from(request).encode_length_delimited_to_vec();
        self.send_raw(&message);
        let answer = self.receive().expect("an answer");
        Response::try_from(answer).expect("a well-formed answer")
    }
}

fn time(ms: u64) -> tendermint::Time {
    tendermint::Time::from_unix_timestamp(
        i64::try_from(ms / 1000).unwrap(),
        u32::try_from((ms % 1000) * 1_000_000).unwrap(),
    )
    .unwrap()
}

fn genesis() -> Genesis {
    let mut genesis = Genesis::devnet(1, 0);
    genesis.genesis_time = Timestamp(GENESIS_MS);
    genesis
}

fn proposer() -> tendermint::account::Id {
    let address = genesis().validator_set().unwrap().validators()[0].address();
    tendermint::account::Id::new(address.0)
}

fn signed(nonce: u64, to: TxKind, input: Vec<u8>) -> bytes::Bytes {
    let tx = TxEip1559 {
        chain_id: 31_337,
        nonce,
        gas_limit: 200_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to,
        value: U256::ZERO,
        access_list: Default::default(),
        input: EvmBytes::from(input),
    };
    bytes::Bytes::from(raw(&sign(tx, &dev_key(0).unwrap()).unwrap()).0.to_vec())
}

fn init_chain() -> Request {
    let params: tendermint::consensus::Params = serde_json::from_value(json!({
        "block": {"max_bytes": "22020096", "max_gas": "-1"},
        "evidence": {"max_age_num_blocks": "100000", "max_age_duration": "172800000000000", "max_bytes": "1048576"},
        "validator": {"pub_key_types": ["ed25519"]},
        "version": {"app": "0"}
    }))
    .unwrap();
    Request::InitChain(request::InitChain {
        time: time(GENESIS_MS),
        chain_id: "gont-abci-test".to_owned(),
        consensus_params: params,
        validators: Vec::new(),
        app_state_bytes: genesis().to_json().into_bytes().into(),
        initial_height: 1u32.into(),
    })
}

fn finalize(height: u32, txs: Vec<bytes::Bytes>) -> Request {
    Request::FinalizeBlock(request::FinalizeBlock {
        txs,
        decided_last_commit: tendermint::abci::types::CommitInfo {
            round: 0u8.into(),
            votes: Vec::new(),
        },
        misbehavior: Vec::new(),
        hash: tendermint::Hash::Sha256([u8::try_from(height).unwrap(); 32]),
        height: height.into(),
        time: time(GENESIS_MS + u64::from(height) * 1000),
        next_validators_hash: tendermint::Hash::None,
        proposer_address: proposer(),
    })
}

fn finalized(answer: Response) -> response::FinalizeBlock {
    match answer {
        Response::FinalizeBlock(f) => f,
        other => panic!("not a FinalizeBlock answer: {other:?}"),
    }
}

fn info(conn: &mut Conn) -> response::Info {
    match conn.ask(Request::Info(request::Info {
        version: "0.38.17".to_owned(),
        block_version: 11,
        p2p_version: 8,
        abci_version: "2.0.0".to_owned(),
    })) {
        Response::Info(i) => i,
        other => panic!("not an Info answer: {other:?}"),
    }
}

fn attribute(event: &tendermint::abci::Event, key: &str) -> String {
    event
        .attributes
        .iter()
        .find(|a| a.key_str().unwrap() == key)
        .map(|a| a.value_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no {key} in {event:?}"))
}

#[test]
fn cometbft_drives_a_contract_through_blocks_crashes_before_commit_and_replays() {
    let home = tempfile::tempdir().unwrap();
    let (abci, rpc) = (
        SocketAddr::from(([127, 0, 0, 1], free_port())),
        SocketAddr::from(([127, 0, 0, 1], free_port())),
    );
    let app = App::start(home.path(), abci, rpc);
    let mut consensus = app.connect();
    let mut mempool = app.connect();

    let fresh = info(&mut consensus);
    assert_eq!(fresh.last_block_height.value(), 0);
    assert!(fresh.last_block_app_hash.as_bytes().is_empty());
    let Response::InitChain(init) = consensus.ask(init_chain()) else {
        panic!("not an InitChain answer")
    };
    assert_eq!(init.app_hash.as_bytes().len(), 32, "the genesis state root");

    // CheckTx: a deployment is admitted, garbage refused with a reason.
    let deploy = signed(0, TxKind::Create, hex::decode(INIT_CODE).unwrap());
    let Response::CheckTx(ok) = mempool.ask(Request::CheckTx(request::CheckTx {
        tx: deploy.clone(),
        kind: request::CheckTxKind::New,
    })) else {
        panic!("not a CheckTx answer")
    };
    assert_eq!(ok.code, Code::Ok, "{}", ok.log);
    let Response::CheckTx(bad) = mempool.ask(Request::CheckTx(request::CheckTx {
        tx: bytes::Bytes::from_static(&[0x02, 0xff]),
        kind: request::CheckTxKind::New,
    })) else {
        panic!("not a CheckTx answer")
    };
    assert!(bad.code.is_err() && !bad.log.is_empty(), "{bad:?}");

    // PrepareProposal offers the pooled deployment; ProcessProposal
    // accepts it and rejects a block with garbage.
    let Response::PrepareProposal(prepared) =
        consensus.ask(Request::PrepareProposal(request::PrepareProposal {
            max_tx_bytes: 1 << 20,
            txs: Vec::new(),
            local_last_commit: None,
            misbehavior: Vec::new(),
            height: 1u32.into(),
            time: time(GENESIS_MS + 1000),
            next_validators_hash: tendermint::Hash::None,
            proposer_address: proposer(),
        }))
    else {
        panic!("not a PrepareProposal answer")
    };
    assert_eq!(prepared.txs, vec![deploy.clone()]);
    for (txs, verdict) in [
        (vec![deploy.clone()], response::ProcessProposal::Accept),
        (
            vec![deploy.clone(), bytes::Bytes::from_static(b"junk")],
            response::ProcessProposal::Reject,
        ),
    ] {
        let Response::ProcessProposal(answer) =
            consensus.ask(Request::ProcessProposal(request::ProcessProposal {
                txs,
                proposed_last_commit: None,
                misbehavior: Vec::new(),
                hash: tendermint::Hash::Sha256([1; 32]),
                height: 1u32.into(),
                time: time(GENESIS_MS + 1000),
                next_validators_hash: tendermint::Hash::None,
                proposer_address: proposer(),
            }))
        else {
            panic!("not a ProcessProposal answer")
        };
        assert_eq!(answer, verdict);
    }

    // Block 1 deploys, block 2 calls with 7: receipts come back as events.
    let block1 = finalized(consensus.ask(finalize(1, vec![deploy])));
    let result = &block1.tx_results[0];
    assert_eq!(result.code, Code::Ok, "{}", result.log);
    let contract = address_of(&dev_key(0).unwrap()).create(0);
    assert_eq!(attribute(&result.events[0], "status"), "1");
    assert_eq!(
        attribute(&result.events[0], "contract_address")
            .parse::<Address>()
            .unwrap(),
        contract
    );
    assert!(matches!(
        consensus.ask(Request::Commit),
        Response::Commit(_)
    ));
    let mut word = [0u8; 32];
    word[31] = 7;
    let call = signed(1, TxKind::Call(contract), word.to_vec());
    let block2 = finalized(consensus.ask(finalize(2, vec![call])));
    let result = &block2.tx_results[0];
    assert_eq!(result.code, Code::Ok, "{}", result.log);
    let log = result
        .events
        .iter()
        .find(|e| e.kind == "ethereum_log")
        .unwrap();
    assert_eq!(
        attribute(log, "address").parse::<Address>().unwrap(),
        contract
    );
    assert!(matches!(
        consensus.ask(Request::Commit),
        Response::Commit(_)
    ));

    // Query: the slot, the account and a call.
    let ask_query = |conn: &mut Conn, path: &str, data: &[u8]| -> Value {
        let Response::Query(q) = conn.ask(Request::Query(request::Query {
            data: bytes::Bytes::copy_from_slice(data),
            path: path.to_owned(),
            height: 0u32.into(),
            prove: false,
        })) else {
            panic!("not a Query answer")
        };
        assert_eq!(q.code, Code::Ok, "{path}: {}", q.log);
        serde_json::from_slice(&q.value).unwrap()
    };
    let mut info_conn = app.connect();
    assert_eq!(
        ask_query(&mut info_conn, &format!("/storage/{contract}/0x0"), b""),
        json!(format!("0x{}", hex::encode(word)))
    );
    let sender = address_of(&dev_key(0).unwrap());
    assert_eq!(
        ask_query(&mut info_conn, &format!("/account/{sender}"), b"")["nonce"],
        2
    );
    let call_object = json!({"to": contract, "data": format!("0x{}", hex::encode([0u8; 32]))});
    assert_eq!(
        ask_query(
            &mut info_conn,
            "/eth_call",
            call_object.to_string().as_bytes()
        )["success"],
        true
    );

    // The JSON-RPC beside the application serves those blocks.
    assert_eq!(quantity(&app.call("eth_blockNumber", &json!([]))), Some(2));
    let receipt = app.call(
        "eth_getTransactionReceipt",
        &json!([format!("0x{}", hex::encode(&result.data))]),
    );
    assert_eq!(receipt["status"], "0x1");
    assert_eq!(receipt["logs"][0]["topics"][0], format!("0x{:064x}", 42));
    assert_eq!(
        app.call("eth_getStorageAt", &json!([contract, "0x0", "0x2"])),
        json!(format!("0x{}", hex::encode(word)))
    );
    assert_eq!(
        app.call("eth_getStorageAt", &json!([contract, "0x0", "0x1"])),
        json!(format!("0x{}", hex::encode([0u8; 32]))),
        "historic state at block 1"
    );

    // Block 3 is finalized, then the process dies before Commit.
    word[31] = 9;
    let third = signed(2, TxKind::Call(contract), word.to_vec());
    let block3 = finalized(consensus.ask(finalize(3, vec![third.clone()])));
    drop(app);
    let app = App::start(home.path(), abci, rpc);
    let mut consensus = app.connect();
    let after = info(&mut consensus);
    assert_eq!(
        after.last_block_height.value(),
        2,
        "block 3 was never committed"
    );
    assert_eq!(after.last_block_app_hash, block2.app_hash);
    // CometBFT's handshake replays block 3: the same result.
    let replayed = finalized(consensus.ask(finalize(3, vec![third])));
    assert_eq!(replayed.app_hash, block3.app_hash);
    assert!(matches!(
        consensus.ask(Request::Commit),
        Response::Commit(_)
    ));
    let done = info(&mut consensus);
    assert_eq!(done.last_block_height.value(), 3);
    assert_eq!(done.last_block_app_hash, block3.app_hash);
    assert_eq!(
        app.call("eth_getStorageAt", &json!([contract, "0x0", "latest"])),
        json!(format!("0x{}", hex::encode(word)))
    );

    // Garbage and an oversized frame: an exception, the connection closes,
    // and the server keeps serving.
    for frame in [vec![0xffu8; 16], {
        let mut huge = Vec::new();
        prost::encoding::encode_varint(1 << 40, &mut huge);
        huge
    }] {
        let mut bad = app.connect();
        bad.send_raw(&frame);
        let answer = bad.receive().expect("an exception before the close");
        assert!(
            matches!(answer.value, Some(pb::response::Value::Exception(_))),
            "{answer:?}"
        );
        assert!(bad.receive().is_none(), "the connection is closed");
    }
    let mut healthy = app.connect();
    let Response::Echo(echo) = healthy.ask(Request::Echo(request::Echo {
        message: "still here".to_owned(),
    })) else {
        panic!("not an Echo answer")
    };
    assert_eq!(echo.message, "still here");
    assert_eq!(info(&mut healthy).last_block_height.value(), 3);
}

#[test]
fn the_application_also_listens_on_a_unix_socket() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("abci.sock");
    let mut child = spawn(home.path(), &format!("unix://{}", path.display()), &[]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let stream = loop {
        if let Ok(stream) = std::os::unix::net::UnixStream::connect(&path) {
            break stream;
        }
        assert!(Instant::now() < deadline, "the Unix socket never opened");
        std::thread::sleep(Duration::from_millis(20));
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut conn = Conn(Box::new(stream));
    assert_eq!(info(&mut conn).last_block_height.value(), 0);
    let Response::InitChain(init) = conn.ask(init_chain()) else {
        panic!("not an InitChain answer")
    };
    assert_eq!(init.app_hash.as_bytes().len(), 32);
    let _ = child.kill();
    let _ = child.wait();
}
