//! The production driver end to end: validators, each with its own real
//! redb store, revm engine and Malachite engine (its libp2p swarm on a
//! loopback TCP port and its WAL on disk), decide blocks of real signed
//! transactions; validators crashed at each step of a height restart from
//! their disk without ever signing a conflicting vote or proposal.

// Test code: a failed unwrap, index or panic is the test failing, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy_consensus::TxEip1559;
use alloy_primitives::{TxKind, U256};
use gont_consensus::driver::{self, DriverConfig, DriverHandle, Host};
use gont_consensus::{GontContext, PrivateKey, ValidatorSet};
use gont_core::genesis::{DEV_ADDRESSES, DevnetChain, devnet_validator_key};
use gont_core::{
    ChainId, DecidedBlock, DecidedStore, ExecutionStore, Genesis, RawTransaction, StateReader,
};
use gont_vm::testing::{dev_key, raw, sign};
use gont_vm::{Engine, EngineConfig, genesis_changes};
use malachitebft_app_channel::app::engine::util::events::Event;
use malachitebft_app_channel::app::events::RxEvent;
use malachitebft_app_channel::app::types::SignedConsensusMsg;
use malachitebft_app_channel::app::types::core::{SignedMessage, VoteType};
use tokio::sync::mpsc;

const SPACE: ChainId = ChainId(31337);

/// The host of a test validator: a shared list of transactions to propose,
/// and a channel of committed heights.
struct TestHost {
    pool: Arc<Mutex<Vec<RawTransaction>>>,
    commits: mpsc::UnboundedSender<(usize, DecidedBlock)>,
    index: usize,
}

impl Host for TestHost {
    fn transactions(&mut self, _max_bytes: u64, _max_gas: u64) -> Vec<RawTransaction> {
        self.pool.lock().unwrap().clone()
    }

    fn committed(&mut self, decided: &DecidedBlock, _took: Duration) {
        self.pool
            .lock()
            .unwrap()
            .retain(|tx| !decided.block.body.transactions.contains(tx));
        let _ = self.commits.send((self.index, decided.clone()));
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Net {
    genesis: Genesis,
    dir: tempfile::TempDir,
    ports: Vec<u16>,
    pool: Arc<Mutex<Vec<RawTransaction>>>,
    commits_tx: mpsc::UnboundedSender<(usize, DecidedBlock)>,
    commits: mpsc::UnboundedReceiver<(usize, DecidedBlock)>,
}

impl Net {
    fn new(validators: usize) -> Self {
        let mut genesis = Genesis::devnet(validators, 0);
        // Short rounds: the test waits on heights, not on timeouts.
        genesis.consensus.target_block_time_ms = 200;
        let (commits_tx, commits) = mpsc::unbounded_channel();
        Self {
            genesis,
            dir: tempfile::tempdir().unwrap(),
            ports: (0..validators).map(|_| free_port()).collect(),
            pool: Arc::default(),
            commits_tx,
            commits,
        }
    }

    fn home(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("v{i}"))
    }

    fn store(&self, i: usize) -> gont_storage::ChainStore {
        let store = gont_storage::Store::open(self.home(i).join("data"))
            .unwrap()
            .chain(SPACE);
        store
            .init_genesis(
                self.genesis.hash(),
                &genesis_changes(&self.genesis, SPACE).unwrap(),
            )
            .unwrap();
        store
    }

    async fn start(&self, i: usize) -> DriverHandle {
        // `RUST_LOG=info` shows the validators' logs.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let ctx = GontContext::new(SPACE, self.genesis.consensus).unwrap();
        let set = ValidatorSet::new(self.genesis.validator_set().unwrap());
        let key = PrivateKey::from_seed(devnet_validator_key(DevnetChain::Space, i).to_bytes());
        let store = self.store(i);
        let engine = Engine::new(
            store.clone(),
            EngineConfig::from_genesis(&self.genesis, SPACE).unwrap(),
        );
        let peers = self
            .ports
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, p)| SocketAddr::from(([127, 0, 0, 1], *p)))
            .collect();
        let config = DriverConfig::new(
            self.home(i).join("consensus"),
            format!("test-v{i}"),
            SocketAddr::from(([127, 0, 0, 1], self.ports[i])),
            peers,
        );
        let host = TestHost {
            pool: self.pool.clone(),
            commits: self.commits_tx.clone(),
            index: i,
        };
        driver::start(ctx, set, key, config, engine, store, host)
            .await
            .unwrap()
    }

    /// Waits until validators `who` have all committed `height`; returns
    /// the block ids each committed at each height seen.
    async fn until(
        &mut self,
        who: &[usize],
        height: u64,
        seen: &mut BTreeMap<u64, BTreeMap<usize, DecidedBlock>>,
    ) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        loop {
            let done = who
                .iter()
                .all(|i| seen.get(&height).is_some_and(|at| at.contains_key(i)));
            if done {
                return;
            }
            let (i, decided) = tokio::time::timeout_at(deadline, self.commits.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!("validators {who:?} did not reach height {height}: {seen:?}")
                })
                .unwrap();
            seen.entry(decided.block.header.height.0)
                .or_default()
                .insert(i, decided);
        }
    }
}

fn transfer(nonce: u64) -> RawTransaction {
    let tx = TxEip1559 {
        chain_id: SPACE.0,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(DEV_ADDRESSES[9]),
        value: U256::from(1_000_000_000_000_000_000u128),
        access_list: Default::default(),
        input: Default::default(),
    };
    raw(&sign(tx, &dev_key(0).unwrap()).unwrap())
}

/// Every validator committed the same block at every height.
fn assert_agreement(seen: &BTreeMap<u64, BTreeMap<usize, DecidedBlock>>) {
    for (height, at) in seen {
        let mut ids = at.values().map(|d| d.block.header.id().unwrap());
        let first = ids.next().unwrap();
        assert!(ids.all(|id| id == first), "disagreement at height {height}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_validators_decide_blocks_of_real_transactions_on_loopback_sockets() {
    let mut net = Net::new(4);
    let mut handles = Vec::new();
    for i in 0..4 {
        handles.push(net.start(i).await);
    }
    net.pool.lock().unwrap().extend([transfer(0), transfer(1)]);
    let mut seen = BTreeMap::new();
    net.until(&[0, 1, 2, 3], 5, &mut seen).await;
    assert_agreement(&seen);
    for h in handles {
        h.stop().await.unwrap();
    }
    let included: usize = seen
        .values()
        .map(|at| at.values().next().unwrap().block.body.transactions.len())
        .sum();
    assert_eq!(included, 2, "both transfers are included once");

    // Every store holds the same head, the decisions with their commits,
    // and the transfers' effect.
    let genesis_set = net.genesis.validator_set().unwrap();
    let mut roots = Vec::new();
    for i in 0..4 {
        let store = net.store(i);
        let head = store.committed_head().unwrap().unwrap();
        assert!(head.height.0 >= 5);
        for h in 1..=5 {
            let decided = DecidedStore::decided(&store, gont_core::Height(h))
                .unwrap()
                .unwrap();
            assert_eq!(decided.commit.block_id, decided.block.header.id().unwrap());
            let signed: u64 = decided
                .commit
                .signatures
                .iter()
                .zip(genesis_set.validators())
                .filter(|(s, _)| matches!(s, gont_core::CommitSig::ForBlock { .. }))
                .map(|(_, v)| v.power.0)
                .sum();
            assert!(genesis_set.is_quorum(gont_core::VotingPower(signed)));
        }
        let balance = store
            .state_at(gont_core::Height(5))
            .unwrap()
            .account(DEV_ADDRESSES[9])
            .unwrap()
            .unwrap()
            .balance;
        assert_eq!(
            balance,
            gont_core::genesis::DEV_ACCOUNT_BALANCE + U256::from(2_000_000_000_000_000_000u128)
        );
        roots.push(store.state_root(gont_core::Height(5)).unwrap());
    }
    assert!(roots.windows(2).all(|w| w[0] == w[1]));
}

/// The step of a height at which the victim is crashed.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// Right after it proposed (the value is built and streamed).
    Propose,
    /// Right after it published its prevote.
    Prevote,
    /// Right after it published its precommit.
    Precommit,
    /// Right after consensus decided, while the block is being committed.
    Commit,
}

/// What a validator signed, by (height, round, kind).
#[derive(Default)]
struct Signed {
    votes: BTreeMap<(u64, u32, u8), String>,
    proposals: BTreeMap<(u64, u32), String>,
    /// WAL entries replayed at restarts.
    replayed: usize,
}

impl Signed {
    /// Records `event`; panics on a conflict with what was signed before.
    fn record(&mut self, event: &Event<GontContext>) {
        match event {
            Event::Published(SignedConsensusMsg::Vote(SignedMessage { message, .. })) => {
                let kind = u8::from(message.typ == VoteType::Precommit);
                let key = (message.height.0, message.round.as_u32().unwrap(), kind);
                let value = format!("{:?}", message.value);
                if let Some(before) = self.votes.insert(key, value.clone()) {
                    assert_eq!(before, value, "conflicting votes at {key:?}");
                }
            }
            Event::WalReplayBegin(_, entries) => self.replayed += entries,
            Event::ProposedValue(p) => {
                let key = (p.height.0, p.round.as_u32().unwrap());
                let value = p.value.id().to_string();
                if let Some(before) = self.proposals.insert(key, value.clone()) {
                    assert_eq!(before, value, "conflicting proposals at {key:?}");
                }
            }
            _ => {}
        }
    }
}

/// The height at which `event` is `step`, from `from` on.
fn reached(event: &Event<GontContext>, step: Step, from: u64) -> Option<u64> {
    let height = match (step, event) {
        (Step::Propose, Event::ProposedValue(p)) => p.height.0,
        (Step::Prevote | Step::Precommit, Event::Published(SignedConsensusMsg::Vote(v))) => {
            let want = if matches!(step, Step::Prevote) {
                VoteType::Prevote
            } else {
                VoteType::Precommit
            };
            if v.message.typ != want {
                return None;
            }
            v.message.height.0
        }
        (Step::Commit, Event::Decided(c)) => c.height.0,
        _ => return None,
    };
    (height >= from).then_some(height)
}

/// Records what the validator signs until it reaches `step` at a height
/// from `from` on; returns that height.
async fn watch(
    mut events: RxEvent<GontContext>,
    signed: Arc<Mutex<Signed>>,
    step: Step,
    from: u64,
) -> Option<u64> {
    loop {
        match events.recv().await {
            Ok(event) => {
                signed.lock().unwrap().record(&event);
                if let Some(height) = reached(&event, step, from) {
                    return Some(height);
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(_) => return None,
        }
    }
}

/// The bytes of Malachite's WAL header (version and sequence); an entry
/// (a signed vote or a proposed value) takes more than this on its own.
const WAL_HEADER: u64 = 64;

/// The bytes of the files in `dir`.
fn wal_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.metadata().ok())
                .filter(std::fs::Metadata::is_file)
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Three validators of equal power: no height completes without the votes
/// of all three, so after the crash the chain waits for the victim (unless
/// the precommit it sent completed the height), which must resume its
/// height and round from its WAL and store.
async fn crash_and_restart(step: Step) {
    let mut net = Net::new(3);
    let victim = 1;
    let mut handles: Vec<Option<DriverHandle>> = Vec::new();
    for i in 0..3 {
        handles.push(Some(net.start(i).await));
    }
    let signed = Arc::new(Mutex::new(Signed::default()));
    let mut seen = BTreeMap::new();
    net.until(&[0, 1, 2], 1, &mut seen).await;

    // Crash the victim at `step` of the first height where it gets there
    // (it proposes about one height in three).
    let events = handles[victim].as_ref().unwrap().subscribe();
    let crashed = tokio::time::timeout(
        Duration::from_secs(120),
        watch(events, signed.clone(), step, 2),
    )
    .await
    .expect("the victim reached the step in time")
    .expect("the victim's events ended");
    let handle = handles[victim].take().unwrap();
    handle
        .stop_and_release(Duration::from_secs(20))
        .await
        .unwrap();
    // Its precommit may have completed the height, and the victim may have
    // committed it before it stopped: then its WAL is of the next height
    // and holds nothing yet.
    let committed_before_restart = net
        .store(victim)
        .committed_head()
        .unwrap()
        .is_some_and(|head| head.height.0 >= crashed);
    // Entries in its WAL: the restart replays them (its replay event may
    // come before the test subscribes to the restarted engine's events).
    let wal_entries = wal_bytes(&net.home(victim).join("consensus").join("wal")) > WAL_HEADER;

    // Let the others run into the height without it, then restart it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let restarted = net.start(victim).await;
    let watcher = tokio::spawn({
        let signed = signed.clone();
        let events = restarted.subscribe();
        async move { watch(events, signed, Step::Commit, u64::MAX).await }
    });
    net.until(&[0, 1, 2], crashed + 3, &mut seen).await;
    assert_agreement(&seen);
    watcher.abort();
    restarted.stop().await.unwrap();
    for h in handles.into_iter().flatten() {
        h.stop().await.unwrap();
    }
    let signed = signed.lock().unwrap();
    assert!(!signed.votes.is_empty());
    if !matches!(step, Step::Commit) && !committed_before_restart {
        // The height could not complete without the victim: it resumed it
        // from its WAL. (Crashed while committing, or after a precommit
        // that completed the height, it may have finished the commit first
        // and start the next height afresh.)
        assert!(
            signed.replayed > 0 || wal_entries,
            "the restart had a WAL to replay"
        );
    }
    // The restarted validator's store holds every height once.
    let store = net.store(victim);
    let head = store.committed_head().unwrap().unwrap().height.0;
    assert!(head >= crashed + 3, "head {head}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_validator_crashed_after_proposing_restarts_from_its_wal() {
    crash_and_restart(Step::Propose).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_validator_crashed_after_prevoting_restarts_from_its_wal() {
    crash_and_restart(Step::Prevote).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_validator_crashed_after_precommitting_restarts_from_its_wal() {
    crash_and_restart(Step::Precommit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_validator_crashed_while_committing_restarts_from_its_wal() {
    crash_and_restart(Step::Commit).await;
}
