//! `cargo xtask bench exec [N]`: one block of N signed ERC-20 transfers and
//! one of N plain transfers, each from a distinct sender, run through
//! (a) bare revm over an in-memory `CacheDB` (transactions pre-decoded,
//! senders known) and (b) gont-vm end to end over a `MemoryState`:
//! decoding and signature recovery, validation, execution, receipts, and
//! the transaction and receipt roots, the blake3 JMT state commitment
//! (`prepare`) and the redb commit of it (`commit_prepared`) on
//! `gont-storage` in a temporary folder. The "limit" row is what this
//! machine can do at best: the senders of the same raw transactions
//! recovered with libsecp256k1 on every core, plus (a); (b) is reported as
//! a ratio of it.

// Benchmark code: a failed unwrap or index aborts the run with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use alloy_consensus::TxEip1559;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, hex, keccak256};
use gont_core::state::KECCAK_EMPTY;
use gont_core::{
    AccountState, Block, Body, ChainId, ExecutedBlock, ExecutionFields, ExecutionStore, Hash,
    Header, Height, RawTransaction, StateChanges, Timestamp, ValidatorAddress, ValidatorSetHash,
};
use gont_vm::testing::{address_of, raw, sign};
use gont_vm::{
    BlockContext, BlockStart, ChainConfig, InvalidTxPolicy, MemoryState, RecoveredTx,
    execute_block, recover_all, tx_env,
};
use k256::ecdsa::SigningKey;
use revm::context::Context;
use revm::database::{CacheDB, EmptyDB};
use revm::state::{AccountInfo, Bytecode};
use revm::{ExecuteCommitEvm, MainBuilder, MainContext};

const CHAIN: ChainId = ChainId(31337);
const TOKEN: Address = Address::repeat_byte(0x70);
const RUNTIME_HEX: &str = include_str!("erc20/Token.runtime.hex");

struct Workload {
    name: &'static str,
    txs: Vec<RawTransaction>,
    decoded: Vec<RecoveredTx>,
    state: MemoryState,
}

fn balance_slot(holder: Address) -> U256 {
    let mut key = [0u8; 64];
    key[12..32].copy_from_slice(holder.as_slice());
    U256::from_be_bytes(keccak256(key).0)
}

fn senders(n: usize) -> Vec<SigningKey> {
    (0..n)
        .map(|i| {
            let seed = keccak256(format!("gont bench sender {i}"));
            SigningKey::from_slice(seed.as_slice()).unwrap()
        })
        .collect()
}

fn workload(name: &'static str, keys: &[SigningKey], erc20: bool) -> Workload {
    let mut state = MemoryState::default();
    let runtime = Bytes::from(hex::decode(RUNTIME_HEX.trim()).unwrap());
    let code_hash = keccak256(&runtime);
    state.code.insert(code_hash, runtime);
    state.accounts.insert(
        TOKEN,
        AccountState {
            nonce: 1,
            balance: U256::ZERO,
            code_hash,
        },
    );
    let mut txs = Vec::with_capacity(keys.len());
    for (i, key) in keys.iter().enumerate() {
        let sender = address_of(key);
        state.accounts.insert(
            sender,
            AccountState {
                nonce: 0,
                balance: U256::from(10u128.pow(21)),
                code_hash: KECCAK_EMPTY,
            },
        );
        let recipient = Address::from_word(keccak256(format!("gont bench recipient {i}")));
        let (to, value, input, gas_limit) = if erc20 {
            state
                .storage
                .entry(TOKEN)
                .or_default()
                .insert(balance_slot(sender), U256::from(10u128.pow(24)));
            let mut data = hex::decode("a9059cbb").unwrap();
            data.extend_from_slice(B256::left_padding_from(recipient.as_slice()).as_slice());
            data.extend_from_slice(&U256::from(1_000u64).to_be_bytes::<32>());
            (TOKEN, U256::ZERO, Bytes::from(data), 80_000)
        } else {
            (recipient, U256::from(1_000u64), Bytes::new(), 21_000)
        };
        let tx = TxEip1559 {
            chain_id: CHAIN.0,
            nonce: 0,
            gas_limit,
            max_fee_per_gas: 2_000_000_000,
            max_priority_fee_per_gas: 1_000_000_000,
            to: TxKind::Call(to),
            value,
            input,
            ..TxEip1559::default()
        };
        txs.push(raw(&sign(tx, key).unwrap()));
    }
    let decoded = txs
        .iter()
        .map(|t| RecoveredTx::recover(t.clone()).unwrap())
        .collect();
    Workload {
        name,
        txs,
        decoded,
        state,
    }
}

fn block(n: usize) -> BlockContext {
    BlockContext {
        height: Height(1),
        timestamp: 1_767_225_601,
        gas_limit: u64::try_from(n).unwrap() * 100_000,
        base_fee: 1_000_000_000,
        coinbase: Address::repeat_byte(0xcb),
        prevrandao: B256::repeat_byte(0x11),
        excess_blob_gas: 0,
    }
}

/// (a): revm alone, over a `CacheDB` holding the same pre-state.
fn bare_revm(w: &Workload, ctx: &BlockContext, chain: &ChainConfig) -> (Duration, u64) {
    let mut db = CacheDB::new(EmptyDB::new());
    for (address, account) in &w.state.accounts {
        let mut info = AccountInfo {
            balance: account.balance,
            nonce: account.nonce,
            code_hash: account.code_hash,
            ..AccountInfo::default()
        };
        if let Some(code) = w.state.code.get(&account.code_hash) {
            info.code = Some(Bytecode::new_raw(code.clone()));
        }
        db.insert_account_info(*address, info);
    }
    for (address, slots) in &w.state.storage {
        for (slot, value) in slots {
            db.insert_account_storage(*address, *slot, *value).unwrap();
        }
    }
    let envs: Vec<_> = w.decoded.iter().map(|t| tx_env(&t.tx, t.sender)).collect();
    let mut evm = Context::mainnet()
        .with_db(db)
        .with_cfg(chain.cfg_env())
        .with_block(ctx.block_env(chain.fork))
        .build_mainnet();
    let start = Instant::now();
    let mut gas = 0;
    for env in envs {
        let result = evm.transact_commit(env).unwrap();
        assert!(result.is_success());
        gas += result.tx_gas_used();
    }
    (start.elapsed(), gas)
}

/// The limit's first half: every raw transaction decoded and its sender
/// recovered with libsecp256k1, spread over all cores with scoped threads.
fn parallel_recovery(w: &Workload) -> Duration {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let chunk = w.txs.len().div_ceil(threads).max(1);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for part in w.txs.chunks(chunk) {
            scope.spawn(move || {
                for raw in part {
                    raw.decode_and_recover().unwrap();
                }
            });
        }
    });
    start.elapsed()
}

struct Breakdown {
    recovery: Duration,
    execution: Duration,
    roots: Duration,
    commitment: Duration,
    commit: Duration,
    gas: u64,
}

impl Breakdown {
    fn total(&self) -> Duration {
        self.recovery + self.execution + self.roots + self.commitment + self.commit
    }
}

/// A fresh redb store in a temporary folder holding `w`'s pre-state as
/// genesis.
fn fresh_store(w: &Workload) -> (tempfile::TempDir, gont_storage::Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = gont_storage::Store::open(dir.path()).unwrap();
    let genesis = StateChanges {
        accounts: w
            .state
            .accounts
            .iter()
            .map(|(a, s)| (*a, Some(*s)))
            .collect(),
        storage: w.state.storage.clone(),
        code: w.state.code.clone(),
    };
    store
        .chain(CHAIN)
        .init_genesis(Hash::digest(b"bench genesis"), &genesis)
        .unwrap();
    (dir, store)
}

/// (b): gont-vm from raw bytes to a committed block on redb.
fn gont_vm(w: &Workload, ctx: &BlockContext, chain: &ChainConfig) -> Breakdown {
    let (_dir, store) = fresh_store(w);
    let chain_store = store.chain(CHAIN);
    let start = Instant::now();
    let txs: Vec<_> = recover_all(&w.txs)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let recovery = start.elapsed();
    let start = Instant::now();
    let output = execute_block(
        &w.state,
        chain,
        ctx,
        &BlockStart::default(),
        txs,
        InvalidTxPolicy::Reject,
    )
    .unwrap();
    let execution = start.elapsed();
    assert!(output.receipts.iter().all(|r| r.success));
    let start = Instant::now();
    let body = Body {
        transactions: output.transactions,
        evidence: Vec::new(),
        last_commit: None,
    };
    let tx_root = body.tx_root();
    let receipts_root = gont_core::receipt::receipts_root(&output.receipts);
    let roots = start.elapsed();
    let start = Instant::now();
    let (state_root, prepared) = chain_store.prepare(Height(0), &output.changes).unwrap();
    let commitment = start.elapsed();
    let header = Header {
        chain_id: CHAIN,
        height: Height(1),
        time: Timestamp::from_secs(ctx.timestamp),
        parent: None,
        tx_root,
        state_root,
        receipts_root,
        validators_hash: ValidatorSetHash::ZERO,
        next_validators_hash: ValidatorSetHash::ZERO,
        proposer: ValidatorAddress::ZERO,
        execution: ExecutionFields {
            gas_used: output.gas_used,
            gas_limit: ctx.gas_limit,
            base_fee_per_gas: ctx.base_fee,
            fee_recipient: ctx.coinbase,
        },
        evidence_hash: None,
        last_commit_hash: None,
    };
    let executed = ExecutedBlock {
        block: Block { header, body },
        receipts: output.receipts,
        changes: output.changes,
    };
    let start = Instant::now();
    chain_store.commit_prepared(&executed, prepared).unwrap();
    let commit = start.elapsed();
    Breakdown {
        recovery,
        execution,
        roots,
        commitment,
        commit,
        gas: output.gas_used,
    }
}

fn rate(count: f64, d: Duration) -> f64 {
    count / d.as_secs_f64()
}

fn main() {
    // `cargo bench` passes `--bench`; the first number, if any, is N.
    let n = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(10_000);
    let chain = ChainConfig::gont(CHAIN);
    let ctx = block(n);
    eprintln!("preparing {n} senders and signing 2 x {n} transactions ...");
    let keys = senders(n);
    let workloads = [
        workload("erc20 transfer", &keys, true),
        workload("plain transfer", &keys, false),
    ];
    println!("gont-vm execution benchmark: N = {n} transactions per block, distinct senders");
    println!();
    println!("| block | path | time (ms) | tx/s | Mgas/s | b/a | b/limit |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    let mut breakdowns = Vec::new();
    for w in &workloads {
        // Warm up once, then take the better of three runs of each.
        let _ = bare_revm(w, &ctx, &chain);
        let a = (0..3)
            .map(|_| bare_revm(w, &ctx, &chain))
            .min_by_key(|r| r.0)
            .unwrap();
        let recovery = (0..3).map(|_| parallel_recovery(w)).min().unwrap();
        let limit = recovery + a.0;
        let b = (0..3)
            .map(|_| gont_vm(w, &ctx, &chain))
            .min_by_key(Breakdown::total)
            .unwrap();
        assert_eq!(a.1, b.gas, "both paths must use the same gas");
        let b_total = b.total();
        let count = n as f64;
        let (a_tps, b_tps) = (rate(count, a.0), rate(count, b_total));
        let limit_tps = rate(count, limit);
        let mgas = |gas: u64, d: Duration| gas as f64 / 1e6 / d.as_secs_f64();
        println!(
            "| {} | (a) bare revm, CacheDB | {:.1} | {:.0} | {:.1} | | |",
            w.name,
            a.0.as_secs_f64() * 1e3,
            a_tps,
            mgas(a.1, a.0)
        );
        println!(
            "| {} | limit: libsecp256k1 recovery on {} cores + (a) | {:.1} | {:.0} | {:.1} | | |",
            w.name,
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            limit.as_secs_f64() * 1e3,
            limit_tps,
            mgas(a.1, limit)
        );
        println!(
            "| {} | (b) gont-vm, raw bytes to redb commit | {:.1} | {:.0} | {:.1} | {:.2} | {:.2} |",
            w.name,
            b_total.as_secs_f64() * 1e3,
            b_tps,
            mgas(b.gas, b_total),
            b_tps / a_tps,
            b_tps / limit_tps
        );
        breakdowns.push((w.name, b, a.0));
    }
    println!();
    println!("where the time in (b) goes (ms):");
    println!(
        "| block | recovery | execution | tx + receipt roots | state commitment (JMT) | redb commit | execution vs (a) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    for (name, b, a) in breakdowns {
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} |",
            ms(b.recovery),
            ms(b.execution),
            ms(b.roots),
            ms(b.commitment),
            ms(b.commit),
            a.as_secs_f64() / b.execution.as_secs_f64()
        );
    }
    println!();
    println!(
        "(a) starts from decoded transactions with known senders; (b) from raw bytes. \"execution vs (a)\" compares the execution step alone."
    );
}
