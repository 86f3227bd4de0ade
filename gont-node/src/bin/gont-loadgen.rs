//! `gont-loadgen`: the load generator behind `cargo xtask bench devnet`.
//!
//! It funds `--senders` fresh deterministic accounts from the development
//! accounts, then offers signed EIP-1559 transfers to a running devnet's
//! GONT Space JSON-RPC at each of `--rates` transactions per second for
//! `--step-secs`, round-robin over the senders with nonces tracked locally.
//! Each step's transfers are signed before its clock starts, so that
//! signing costs the offered rate nothing; a refused transfer is offered
//! again, the same bytes, at the head of the next batch (it holds its
//! sender's nonce).
//! A second thread follows new blocks (`eth_getBlockByNumber`) and records
//! when each transaction hash first appears, so submission and inclusion
//! are timed by one clock in one process. After each step it waits (at
//! most `--drain-secs`) for the step's transactions to land, then prints
//! one row of a markdown table: offered and included rate, refusals,
//! p50/p99 latency from submission to inclusion, the mean block interval
//! (by the follower's clock: block timestamps are whole seconds), the CPU and peak RSS of the node processes
//! listed in `--pids-file` (from `/proc`), and the load generator's own CPU,
//! so that a reader sees whether the nodes or the generator were the limit.
//!
//! A JSON-RPC error on a submission (such as "txpool is full") is counted
//! as a refusal and the run goes on; a transport error (the node is gone)
//! ends the run with an error.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use alloy_consensus::crypto::secp256k1::sign_message;
use alloy_consensus::{SignableTransaction, TxEip1559};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, hex, keccak256};
use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;
use gont_core::genesis::{DEV_ADDRESSES, DEV_PRIVATE_KEYS};
use gont_node::client::blocking::RpcClient;
use gont_node::client::{ClientError, quantity};
use serde_json::{Value, json};

/// The largest JSON-RPC batch the node accepts.
const MAX_BATCH: usize = 100;
/// Gas of a plain transfer.
const TRANSFER_GAS: u64 = 21_000;
/// Each sender's funding: 10 ether, far above what the fees of a run cost.
const FUNDING_ETHER: u64 = 10;
/// The fee cap: well above the base fee a full run can push it to, so
/// that no transaction waits for the base fee to fall.
const MIN_MAX_FEE: u128 = 100_000_000_000;
/// Sending is grouped into batches at most this often.
const SEND_TICK: Duration = Duration::from_millis(10);
/// How often the block follower asks for the head.
const WATCH_TICK: Duration = Duration::from_millis(20);
/// How long the block follower tolerates failing calls before giving up.
const WATCH_PATIENCE: Duration = Duration::from_secs(15);
/// How long funding may take to land.
const FUNDING_TIMEOUT: Duration = Duration::from_secs(60);

/// Load generator for a GONT devnet.
#[derive(Parser)]
#[command(
    name = "gont-loadgen",
    about = "Signed transfers at rising rates into a GONT devnet"
)]
struct Args {
    /// GONT Space's JSON-RPC address.
    #[arg(long, default_value = "127.0.0.1:8545")]
    rpc: SocketAddr,
    /// The devnet's `pids` file (one node pid a line), for CPU and RSS.
    #[arg(long)]
    pids_file: Option<PathBuf>,
    /// Offered rates in transactions per second, one step each.
    #[arg(long, value_delimiter = ',', default_value = "50,100,200,400,800")]
    rates: Vec<u64>,
    /// Seconds of sending per step.
    #[arg(long, default_value_t = 10)]
    step_secs: u64,
    /// Funded accounts the transfers are sent from, round-robin.
    #[arg(long, default_value_t = 200)]
    senders: usize,
    /// The longest wait after a step for its transactions to land.
    #[arg(long, default_value_t = 20)]
    drain_secs: u64,
}

fn main() -> std::process::ExitCode {
    match run(&Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gont-loadgen: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<()> {
    validate(args)?;
    let pids = match &args.pids_file {
        Some(path) => read_pids(path)?,
        None => Vec::new(),
    };
    let clock_ticks = clock_ticks_per_second();
    let mut rpc = Rpc::new(args.rpc)?;
    let chain_id = rpc
        .call_quantity("eth_chainId", &json!([]))
        .context("is the devnet running?")?;
    let gas_price = u128::from(rpc.call_quantity("eth_gasPrice", &json!([]))?);
    let tip = u128::from(rpc.call_quantity("eth_maxPriorityFeePerGas", &json!([]))?);
    let fees = Fees {
        chain_id,
        max_fee: MIN_MAX_FEE.max(gas_price.saturating_mul(4)),
        tip,
    };

    let mut senders = (0..args.senders)
        .map(|i| Account::from_secret(keccak256(format!("gont-loadgen sender {i}"))))
        .collect::<Result<Vec<_>>>()?;
    fund(&mut rpc, &senders, fees)?;
    sync_nonces(&mut rpc, &mut senders)?;

    let observed = Mutex::new(Observed::default());
    let stop = AtomicBool::new(false);
    let head = rpc.call_quantity("eth_blockNumber", &json!([]))?;
    let reports = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| watch(args.rpc, head, &observed, &stop));
        let mut load = Load {
            rpc: &mut rpc,
            senders: &mut senders,
            cursor: 0,
            fees,
            observed: &observed,
            pids: &pids,
            clock_ticks,
        };
        let reports = args
            .rates
            .iter()
            .map(|&rate| load.step(rate, args.step_secs, args.drain_secs))
            .collect::<Result<Vec<_>>>();
        stop.store(true, Ordering::Relaxed);
        let watched = watcher
            .join()
            .map_err(|_| anyhow!("the block follower panicked"));
        reports.and_then(|r| watched.map(|()| r))
    })?;

    print_table(args, &pids, chain_id, &reports);
    Ok(())
}

fn validate(args: &Args) -> Result<()> {
    if args.rates.is_empty() {
        bail!("--rates needs at least one rate");
    }
    if let Some(bad) = args.rates.iter().find(|r| !(1..=100_000).contains(*r)) {
        bail!("--rates: {bad} is not between 1 and 100000 tx/s");
    }
    if !(1..=3_600).contains(&args.step_secs) {
        bail!("--step-secs must be between 1 and 3600");
    }
    if !(1..=3_600).contains(&args.drain_secs) {
        bail!("--drain-secs must be between 1 and 3600");
    }
    // Ten development accounts fund the senders, 10 ether each.
    if !(1..=1_000).contains(&args.senders) {
        bail!("--senders must be between 1 and 1000");
    }
    Ok(())
}

/// The node pids of a devnet's `pids` file; each must be a live process.
fn read_pids(path: &Path) -> Result<Vec<u32>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the pids file {}", path.display()))?;
    let pids = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.parse::<u32>()
                .with_context(|| format!("{}: {l:?} is not a pid", path.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    if pids.is_empty() {
        bail!("{} lists no pid", path.display());
    }
    if let Some(pid) = pids
        .iter()
        .find(|p| !Path::new(&format!("/proc/{p}")).exists())
    {
        bail!("{}: process {pid} is not running", path.display());
    }
    Ok(pids)
}

// ---------------------------------------------------------------------------
// Accounts and transactions

/// A funded account the load is sent from.
struct Account {
    secret: B256,
    address: Address,
    nonce: u64,
}

impl Account {
    /// The account of a secp256k1 secret key. The address is recovered
    /// from a signature, which needs no direct dependency on k256.
    fn from_secret(secret: B256) -> Result<Self> {
        let probe = keccak256(b"gont-loadgen address probe");
        let signature =
            sign_message(secret, probe).map_err(|e| anyhow!("invalid secret key: {e}"))?;
        let address = signature
            .recover_address_from_prehash(&probe)
            .map_err(|e| anyhow!("recovering an address: {e}"))?;
        Ok(Self {
            secret,
            address,
            nonce: 0,
        })
    }
}

/// Chain id and fee caps shared by every transaction of the run.
#[derive(Clone, Copy)]
struct Fees {
    chain_id: u64,
    max_fee: u128,
    tip: u128,
}

/// A signed transfer: its hash and its EIP-2718 bytes as `0x` hex.
struct SignedTransfer {
    hash: B256,
    raw: String,
}

fn transfer(
    from: &Account,
    nonce: u64,
    to: Address,
    value: U256,
    fees: Fees,
) -> Result<SignedTransfer> {
    let tx = TxEip1559 {
        chain_id: fees.chain_id,
        nonce,
        gas_limit: TRANSFER_GAS,
        max_fee_per_gas: fees.max_fee,
        max_priority_fee_per_gas: fees.tip,
        to: TxKind::Call(to),
        value,
        access_list: Default::default(),
        input: Bytes::new(),
    };
    let signature = sign_message(from.secret, tx.signature_hash())
        .map_err(|e| anyhow!("signing a transfer: {e}"))?;
    let signed = tx.into_signed(signature);
    let mut raw = Vec::with_capacity(signed.eip2718_encoded_length());
    signed.eip2718_encode(&mut raw);
    Ok(SignedTransfer {
        hash: *signed.hash(),
        raw: hex::encode_prefixed(raw),
    })
}

/// Sends every sender below half its funding `FUNDING_ETHER` from the
/// development accounts, and waits for the receipts.
fn fund(rpc: &mut Rpc, senders: &[Account], fees: Fees) -> Result<()> {
    let funding = U256::from(FUNDING_ETHER) * U256::from(10u64).pow(U256::from(18u64));
    let balance_calls: Vec<_> = senders
        .iter()
        .map(|s| ("eth_getBalance", json!([s.address, "latest"])))
        .collect();
    let balances = rpc.batch_all(&balance_calls)?;
    let mut poor = Vec::new();
    for (sender, balance) in senders.iter().zip(balances) {
        let balance = balance.map_err(|e| anyhow!("eth_getBalance: {e}"))?;
        let balance: U256 = serde_json::from_value(balance).context("eth_getBalance's answer")?;
        if balance < funding / U256::from(2u64) {
            poor.push(sender);
        }
    }
    if poor.is_empty() {
        eprintln!("{} senders already funded", senders.len());
        return Ok(());
    }
    eprintln!(
        "funding {} senders from the development accounts…",
        poor.len()
    );

    let mut funders = DEV_PRIVATE_KEYS
        .iter()
        .map(|k| {
            let secret: B256 = k.parse().context("a development key")?;
            Account::from_secret(secret)
        })
        .collect::<Result<Vec<_>>>()?;
    if funders
        .iter()
        .map(|f| f.address)
        .ne(DEV_ADDRESSES.iter().copied())
    {
        bail!("the development keys do not match the development addresses");
    }
    sync_nonces(rpc, &mut funders)?;
    let mut txs = Vec::with_capacity(poor.len());
    for (i, sender) in poor.iter().enumerate() {
        let funder = funders
            .get_mut(i % DEV_PRIVATE_KEYS.len())
            .context("no development account")?;
        txs.push(transfer(
            funder,
            funder.nonce,
            sender.address,
            funding,
            fees,
        )?);
        funder.nonce += 1;
    }
    let send_calls: Vec<_> = txs
        .iter()
        .map(|t| ("eth_sendRawTransaction", json!([t.raw])))
        .collect();
    for answer in rpc.batch_all(&send_calls)? {
        answer.map_err(|e| anyhow!("a funding transfer was refused: {e}"))?;
    }

    let deadline = Instant::now() + FUNDING_TIMEOUT;
    let mut waiting: Vec<B256> = txs.iter().map(|t| t.hash).collect();
    while !waiting.is_empty() {
        if Instant::now() > deadline {
            bail!(
                "{} funding transfers not included within {} s",
                waiting.len(),
                FUNDING_TIMEOUT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(500));
        let calls: Vec<_> = waiting
            .iter()
            .map(|h| ("eth_getTransactionReceipt", json!([h])))
            .collect();
        let receipts = rpc.batch_all(&calls)?;
        let mut still = Vec::new();
        for (hash, receipt) in waiting.iter().zip(receipts) {
            let receipt = receipt.map_err(|e| anyhow!("eth_getTransactionReceipt: {e}"))?;
            if receipt.is_null() {
                still.push(*hash);
            } else if receipt.get("status").and_then(quantity) != Some(1) {
                bail!("funding transfer {hash} failed: {receipt}");
            }
        }
        waiting = still;
    }
    eprintln!("funded");
    Ok(())
}

/// Sets each account's next nonce to the node's pending nonce.
fn sync_nonces(rpc: &mut Rpc, accounts: &mut [Account]) -> Result<()> {
    let calls: Vec<_> = accounts
        .iter()
        .map(|a| ("eth_getTransactionCount", json!([a.address, "pending"])))
        .collect();
    for (account, answer) in accounts.iter_mut().zip(rpc.batch_all(&calls)?) {
        let answer = answer.map_err(|e| anyhow!("eth_getTransactionCount: {e}"))?;
        account.nonce =
            quantity(&answer).with_context(|| format!("eth_getTransactionCount: {answer}"))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Following blocks

/// What the block follower has seen.
#[derive(Default)]
struct Observed {
    /// When each transaction hash was first seen in a block.
    included: HashMap<B256, Instant>,
    /// When each block was seen, in height order.
    blocks: Vec<Instant>,
    /// Why the follower stopped, if it failed.
    failure: Option<String>,
}

/// Follows the chain from above `from` until `stop`, recording every block
/// and the hashes it includes.
fn watch(addr: SocketAddr, from: u64, observed: &Mutex<Observed>, stop: &AtomicBool) {
    let mut rpc = match Rpc::new(addr) {
        Ok(rpc) => rpc,
        Err(e) => {
            if let Ok(mut o) = observed.lock() {
                o.failure = Some(format!("{e:#}"));
            }
            return;
        }
    };
    let mut next = from.saturating_add(1);
    let mut failing_since: Option<Instant> = None;
    while !stop.load(Ordering::Relaxed) {
        match watch_once(&mut rpc, &mut next, observed) {
            Ok(()) => failing_since = None,
            Err(e) => {
                let since = *failing_since.get_or_insert_with(Instant::now);
                if since.elapsed() > WATCH_PATIENCE {
                    if let Ok(mut o) = observed.lock() {
                        o.failure = Some(format!("{e:#}"));
                    }
                    return;
                }
            }
        }
        std::thread::sleep(WATCH_TICK);
    }
}

fn watch_once(rpc: &mut Rpc, next: &mut u64, observed: &Mutex<Observed>) -> Result<()> {
    let head = rpc.call_quantity("eth_blockNumber", &json!([]))?;
    while *next <= head {
        let block = rpc.call(
            "eth_getBlockByNumber",
            &json!([format!("{next:#x}"), false]),
        )?;
        let seen = Instant::now();
        if block.is_null() {
            return Ok(());
        }
        let hashes = block
            .get("transactions")
            .and_then(Value::as_array)
            .with_context(|| format!("block {next} has no transaction list"))?
            .iter()
            .map(|h| {
                h.as_str()
                    .and_then(|s| s.parse::<B256>().ok())
                    .with_context(|| format!("block {next}: {h} is not a transaction hash"))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut o = observed
            .lock()
            .map_err(|_| anyhow!("observations lock poisoned"))?;
        for hash in hashes {
            o.included.entry(hash).or_insert(seen);
        }
        o.blocks.push(seen);
        *next += 1;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Load steps

/// The sending side of a run.
struct Load<'a> {
    rpc: &'a mut Rpc,
    senders: &'a mut [Account],
    /// The next sender, round-robin.
    cursor: usize,
    fees: Fees,
    observed: &'a Mutex<Observed>,
    pids: &'a [u32],
    clock_ticks: u64,
}

/// One row of the table.
struct StepReport {
    target: u64,
    offered: f64,
    refused: usize,
    refusals: BTreeMap<String, usize>,
    included: usize,
    not_included: usize,
    included_rate: f64,
    p50: Option<Duration>,
    p99: Option<Duration>,
    block_interval: Option<f64>,
    cpu_cores: Option<f64>,
    /// The load generator's own CPU over the step, in cores.
    own_cpu_cores: Option<f64>,
    peak_rss_mib: Option<f64>,
}

impl Load<'_> {
    /// Offers `rate` tx/s for `secs` seconds, waits up to `drain` seconds for
    /// the accepted transactions to land, and measures the step.
    fn step(&mut self, rate: u64, secs: u64, drain: u64) -> Result<StepReport> {
        eprintln!("step: {rate} tx/s for {secs} s…");
        // A transaction lost from the pool would leave its sender's later
        // nonces stuck behind the gap: start every step from the node's view.
        sync_nonces(self.rpc, self.senders)?;
        let total = rate.saturating_mul(secs);
        let per_batch = MAX_BATCH.min(self.senders.len());
        let mut accepted: Vec<(B256, Instant)> = Vec::new();
        let mut refusals: BTreeMap<String, usize> = BTreeMap::new();
        let mut attempted: u64 = 0;
        let mut queue = self.presign(usize::try_from(total).unwrap_or(usize::MAX))?;
        let mut retry: VecDeque<SignedTransfer> = VecDeque::new();

        let cpu_before = cpu_ticks(self.pids);
        let own_before = process_ticks(std::process::id());
        let start = Instant::now();
        while attempted < total {
            let due = due_by(start.elapsed(), rate).saturating_add(1).min(total);
            let count = usize::try_from(due.saturating_sub(attempted))
                .unwrap_or(usize::MAX)
                .min(per_batch);
            if count > 0 {
                let mut batch: Vec<SignedTransfer> =
                    retry.drain(..retry.len().min(count)).collect();
                batch.extend(queue.by_ref().take(count - batch.len()));
                let sent = batch.len();
                if sent == 0 {
                    break;
                }
                self.send_batch(batch, &mut accepted, &mut refusals, &mut retry)?;
                attempted += u64::try_from(sent).unwrap_or(u64::MAX);
            }
            let next_due = start + offset_of(attempted, rate);
            let wake = next_due.max(Instant::now() + SEND_TICK);
            std::thread::sleep(wake.saturating_duration_since(Instant::now()));
        }
        let send_window = start.elapsed().max(Duration::from_secs(secs));

        let deadline = Instant::now() + Duration::from_secs(drain);
        loop {
            let landed = {
                let o = self.lock()?;
                if let Some(failure) = &o.failure {
                    bail!("following blocks failed: {failure}");
                }
                accepted
                    .iter()
                    .all(|(hash, _)| o.included.contains_key(hash))
            };
            if landed || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let end = Instant::now();
        let wall = end.duration_since(start).as_secs_f64();
        let cores = |before: Option<u64>, after: Option<u64>| {
            before
                .zip(after)
                .map(|(b, a)| a.saturating_sub(b) as f64 / self.clock_ticks as f64 / wall)
        };
        let cpu_cores = cores(cpu_before, cpu_ticks(self.pids));
        let own_cpu_cores = cores(own_before, process_ticks(std::process::id()));

        let o = self.lock()?;
        let mut latencies = Vec::with_capacity(accepted.len());
        let mut first_seen: Option<Instant> = None;
        let mut last_seen: Option<Instant> = None;
        for (hash, submitted) in &accepted {
            if let Some(&seen) = o.included.get(hash) {
                latencies.push(seen.saturating_duration_since(*submitted));
                first_seen = Some(first_seen.map_or(seen, |f| f.min(seen)));
                last_seen = Some(last_seen.map_or(seen, |l| l.max(seen)));
            }
        }
        latencies.sort_unstable();
        let included = latencies.len();
        let inclusion_span = first_seen
            .zip(last_seen)
            .map_or(Duration::ZERO, |(f, l)| l.saturating_duration_since(f));
        let blocks: Vec<Instant> = o
            .blocks
            .iter()
            .copied()
            .filter(|seen| (start..=end).contains(seen))
            .collect();
        let block_interval = match (blocks.first(), blocks.last()) {
            (Some(first), Some(last)) if blocks.len() >= 2 => {
                Some(last.duration_since(*first).as_secs_f64() / (blocks.len() - 1) as f64)
            }
            _ => None,
        };
        let report = StepReport {
            target: rate,
            offered: attempted as f64 / send_window.as_secs_f64(),
            refused: refusals.values().sum(),
            refusals,
            included,
            not_included: accepted.len() - included,
            included_rate: included as f64 / send_window.max(inclusion_span).as_secs_f64(),
            p50: percentile(&latencies, 50),
            p99: percentile(&latencies, 99),
            block_interval,
            cpu_cores,
            own_cpu_cores,
            peak_rss_mib: peak_rss_kib(self.pids).map(|kib| kib as f64 / 1024.0),
        };
        eprintln!(
            "  offered {:.0} tx/s, {} refused, {} of {} accepted included, {:.0} tx/s included",
            report.offered,
            report.refused,
            report.included,
            accepted.len(),
            report.included_rate
        );
        Ok(report)
    }

    /// Signs `count` transfers, round-robin over the senders from the
    /// cursor, each to the next sender, with the senders' next nonces.
    fn presign(&mut self, count: usize) -> Result<std::vec::IntoIter<SignedTransfer>> {
        let n = self.senders.len();
        let mut signed = Vec::with_capacity(count);
        for _ in 0..count {
            let index = self.cursor % n;
            self.cursor = self.cursor.wrapping_add(1);
            let to = self
                .senders
                .get((index + 1) % n)
                .map(|s| s.address)
                .context("no sender")?;
            let sender = self.senders.get_mut(index).context("no sender")?;
            let tx = transfer(sender, sender.nonce, to, U256::from(1u64), self.fees)?;
            sender.nonce += 1;
            signed.push(tx);
        }
        Ok(signed.into_iter())
    }

    /// Submits `batch` as one JSON-RPC batch; what is refused goes to
    /// `retry`, to be offered again.
    fn send_batch(
        &mut self,
        batch: Vec<SignedTransfer>,
        accepted: &mut Vec<(B256, Instant)>,
        refusals: &mut BTreeMap<String, usize>,
        retry: &mut VecDeque<SignedTransfer>,
    ) -> Result<()> {
        let calls: Vec<_> = batch
            .iter()
            .map(|q| ("eth_sendRawTransaction", json!([q.raw])))
            .collect();
        let submitted = Instant::now();
        let answers = self.rpc.batch(&calls)?;
        for (queued, answer) in batch.into_iter().zip(answers) {
            match answer {
                Ok(_) => accepted.push((queued.hash, submitted)),
                Err(message) => {
                    *refusals.entry(message).or_default() += 1;
                    retry.push_back(queued);
                }
            }
        }
        Ok(())
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Observed>> {
        self.observed
            .lock()
            .map_err(|_| anyhow!("observations lock poisoned"))
    }
}

/// How many transactions at `rate` per second are due `elapsed` after the
/// step's start (the first is due at once).
fn due_by(elapsed: Duration, rate: u64) -> u64 {
    let due = elapsed.as_nanos().saturating_mul(u128::from(rate)) / 1_000_000_000;
    u64::try_from(due).unwrap_or(u64::MAX)
}

/// When transaction `index` of a step at `rate` per second is due.
fn offset_of(index: u64, rate: u64) -> Duration {
    let nanos = u128::from(index).saturating_mul(1_000_000_000) / u128::from(rate.max(1));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// The nearest-rank `p`th percentile of sorted `values`.
fn percentile(values: &[Duration], p: usize) -> Option<Duration> {
    let rank = (values.len() * p).div_ceil(100).max(1);
    values.get(rank - 1).copied()
}

// ---------------------------------------------------------------------------
// Node processes

/// Clock ticks per second of `/proc/<pid>/stat` (`USER_HZ`), from
/// `getconf`; Linux fixes it at 100 on common architectures.
fn clock_ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// The user and system CPU time of `pids`, summed, in clock ticks; `None`
/// without pids or if one cannot be read.
fn cpu_ticks(pids: &[u32]) -> Option<u64> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|&pid| process_ticks(pid)).sum()
}

fn process_ticks(pid: u32) -> Option<u64> {
    stat_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// `utime + stime` of one `/proc/<pid>/stat` line.
fn stat_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) may hold spaces: count fields after its ')'.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 (utime) and 15 (stime); `rest` starts at field 3.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// The largest `VmHWM` (peak resident set) of `pids`, in KiB.
fn peak_rss_kib(pids: &[u32]) -> Option<u64> {
    pids.iter()
        .filter_map(|pid| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .max()
}

// ---------------------------------------------------------------------------
// Output

fn print_table(args: &Args, pids: &[u32], chain_id: u64, reports: &[StepReport]) {
    let nodes = if pids.is_empty() {
        "node processes unknown (no --pids-file)".to_owned()
    } else {
        format!("{} validator node processes", pids.len())
    };
    println!(
        "GONT devnet at {}: {nodes}, chain id {chain_id}; {} senders, EIP-1559 transfers, \
         {} s per step, up to {} s to land",
        args.rpc, args.senders, args.step_secs, args.drain_secs
    );
    println!();
    println!(
        "| target tx/s | offered tx/s | refused | included tx/s | not included | p50 ms | p99 ms | block interval s | CPU cores | peak RSS MiB | loadgen CPU cores |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let ms = |d: Option<Duration>| d.map_or("-".to_owned(), |d| d.as_millis().to_string());
    let fixed =
        |v: Option<f64>, places: usize| v.map_or("-".to_owned(), |v| format!("{v:.places$}"));
    for r in reports {
        println!(
            "| {} | {:.0} | {} | {:.0} | {} | {} | {} | {} | {} | {} | {} |",
            r.target,
            r.offered,
            r.refused,
            r.included_rate,
            r.not_included,
            ms(r.p50),
            ms(r.p99),
            fixed(r.block_interval, 2),
            fixed(r.cpu_cores, 2),
            fixed(r.peak_rss_mib, 0),
            fixed(r.own_cpu_cores, 2),
        );
    }
    println!();
    println!(
        "Latency: submission to the follower seeing the block (polled every {} ms). Included tx/s: \
         the step's included transactions over the longer of its sending window and first-to-last \
         inclusion. Block interval: between the first and last block the follower saw in the step, \
         by its clock. CPU: all node \
         processes, in cores, over sending and draining. Peak RSS: the largest node's VmHWM. \
         Loadgen CPU: this process over the same window (signing is done before the step).",
        WATCH_TICK.as_millis()
    );
    for r in reports {
        for (reason, count) in &r.refusals {
            println!("Refused at {} tx/s: {count} × {reason}", r.target);
        }
    }
}

// ---------------------------------------------------------------------------
// JSON-RPC

/// The node's JSON-RPC client (jsonrpsee's, over kept-alive connections, so
/// that hundreds of requests a second do not each cost a TCP handshake),
/// with the load generator's error shape: a JSON-RPC error inside a batch
/// is that entry's message, anything else ends the run.
struct Rpc(RpcClient);

impl Rpc {
    fn new(addr: SocketAddr) -> Result<Self> {
        Ok(Self(RpcClient::new(addr)?))
    }

    /// Calls `method`; a JSON-RPC error is an error.
    fn call(&mut self, method: &str, params: &Value) -> Result<Value> {
        self.0
            .call(method, params)
            .with_context(|| method.to_owned())
    }

    /// Calls `method` and reads its answer as a quantity.
    fn call_quantity(&mut self, method: &str, params: &Value) -> Result<u64> {
        let answer = self.call(method, params)?;
        quantity(&answer).with_context(|| format!("{method}: {answer} is not a quantity"))
    }

    /// One batch of at most `MAX_BATCH` calls: each call's result or its
    /// JSON-RPC error message, in the order of `calls`.
    fn batch(&mut self, calls: &[(&str, Value)]) -> Result<Vec<Result<Value, String>>> {
        let answers = self.0.batch(calls)?;
        answers
            .into_iter()
            .map(|answer| match answer {
                Ok(value) => Ok(Ok(value)),
                Err(ClientError::Rpc { message, .. }) => Ok(Err(message)),
                Err(other) => Err(other.into()),
            })
            .collect()
    }

    /// Any number of calls, in batches of `MAX_BATCH`.
    fn batch_all(&mut self, calls: &[(&str, Value)]) -> Result<Vec<Result<Value, String>>> {
        let mut results = Vec::with_capacity(calls.len());
        for chunk in calls.chunks(MAX_BATCH) {
            results.extend(self.batch(chunk)?);
        }
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|&v| Duration::from_millis(v)).collect()
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let values = ms(&(1..=200).collect::<Vec<_>>());
        assert_eq!(percentile(&values, 50), Some(Duration::from_millis(100)));
        assert_eq!(percentile(&values, 99), Some(Duration::from_millis(198)));
        assert_eq!(percentile(&ms(&[7]), 99), Some(Duration::from_millis(7)));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn the_schedule_spreads_a_rate_evenly() {
        assert_eq!(offset_of(0, 800), Duration::ZERO);
        assert_eq!(offset_of(800, 800), Duration::from_secs(1));
        assert_eq!(due_by(Duration::from_millis(999), 800), 799);
        assert_eq!(due_by(offset_of(123, 50), 50), 123);
    }

    #[test]
    fn cpu_ticks_are_read_after_the_command_name() {
        let stat = "42 (gont (x) y) S 1 42 42 0 -1 4194560 1 0 0 0 17 5 0 0 20 0 9 0 1 2 3";
        assert_eq!(stat_ticks(stat), Some(22));
        assert_eq!(stat_ticks("42 (gont) S 1"), None);
    }
}
