//! Four validators of one chain, in one process, reach ten decisions with
//! GONT's consensus over an execution engine of the example's own; then a
//! light client checks one decision's commit with tendermint-rs's verifier.
//!
//! ```text
//! cargo run -p gont-consensus --example four_validators
//! ```
//!
//! This is the production driver ([`gont_consensus::driver::start`]), not
//! a simulation: each validator runs Malachite's engine with its own libp2p
//! swarm on a loopback TCP port and its own write-ahead log in a temporary
//! directory, and real timeouts. What a reuser supplies is what this file
//! defines:
//!
//! - [`ToyEngine`]: a [`gont_core::ExecutionEngine`] (build a block, check a
//!   proposed one, commit the decided one). Here blocks carry opaque notes
//!   and the "state" is a hash chain over them; yours runs your VM.
//! - [`Ledger`]: a [`gont_core::DecidedStore`], where decisions are recorded
//!   with their commits before they are executed (in memory here).
//! - [`Reporter`]: a [`gont_consensus::driver::Host`], which feeds proposals
//!   with transactions and hears of every committed block.
//!
//! It prints the validators, one line per decided height (once all four
//! have committed it, with the same block), and tendermint-rs's verdict on
//! the last decision's commit (and on a forged copy). Block ids differ on
//! every run (a header carries its proposer's clock), and so, often, does
//! the first height: a validator's consensus starts at once, before its
//! peers are connected, so the proposal of height 1 in round 0 may reach
//! no one; the others then wait out the propose timeout (3 s) and decide
//! in round 1. From height 2 on the validators are connected, and each
//! height is decided in round 0 unless the machine is too loaded for a
//! proposal to arrive within its timeout, on the block of the proposer that
//! [`gont_consensus::select_proposer`] names for the round.
//! `RUST_LOG=info` adds the validators' logs on stderr.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use eyre::{WrapErr as _, bail, eyre};
use gont_consensus::driver::{self, DriverConfig, Host};
use gont_consensus::{GontContext, PrivateKey, ValidatorSet};
use gont_core::{
    Block, BlockId, Body, Bytes, ChainId, CommitSig, ConsensusParams, DecidedBlock, DecidedStore,
    ExecutionEngine, ExecutionFields, ForkchoiceState, Hash, Header, HeaderError,
    PayloadAttributes, PayloadStatus, RawTransaction, Timestamp, ValidatorAddress,
    ValidatorSetHash, VotingPower,
};
use tendermint::block::signed_header::SignedHeader;
use tendermint_light_client_verifier::errors::VerificationErrorDetail;
use tendermint_light_client_verifier::options::Options;
use tendermint_light_client_verifier::types::{
    TrustThreshold, TrustedBlockState, UntrustedBlockState,
};
use tendermint_light_client_verifier::{ProdVerifier, Verdict, Verifier};
use tokio::sync::mpsc;

/// The example chain: its Tendermint chain id is `gont-4242`.
const CHAIN: ChainId = ChainId(4242);

/// How many validators run, each with equal voting power.
const VALIDATORS: u8 = 4;

/// How many heights to decide before stopping.
const DECISIONS: u64 = 10;

/// How long the example waits for them before it gives up.
const DEADLINE: Duration = Duration::from_secs(45);

// ---------------------------------------------------------------------------
// What a reuser implements: the store, the execution engine and the host.
// ---------------------------------------------------------------------------

/// Why the toy engine or store failed (an internal fault, never a verdict
/// on a block: that is [`PayloadStatus::Invalid`]).
#[derive(Debug, thiserror::Error)]
enum ToyError {
    /// Another thread panicked while holding the ledger.
    #[error("the ledger's lock is poisoned")]
    Poisoned,
    /// Asked to build on, or commit, a block this engine never saw.
    #[error("unknown block {0}")]
    UnknownBlock(BlockId),
    /// Two different blocks recorded as decided at one height.
    #[error("a different block is already decided at height {0}")]
    Conflict(u64),
    /// A header that does not map onto Tendermint's.
    #[error(transparent)]
    Header(#[from] HeaderError),
}

/// One validator's chain, in memory: the decisions the driver recorded
/// (with their commits) and the head the engine committed. The driver
/// reads both through [`DecidedStore`]: it starts at the height after the
/// committed head and builds on it; a node that restarts finishes the
/// decisions recorded above it, and value sync serves recorded decisions
/// to peers that fell behind.
#[derive(Clone, Default)]
struct Ledger(Arc<Mutex<LedgerState>>);

#[derive(Default)]
struct LedgerState {
    decided: BTreeMap<u64, DecidedBlock>,
    head: Option<Header>,
}

impl Ledger {
    fn lock(&self) -> Result<MutexGuard<'_, LedgerState>, ToyError> {
        self.0.lock().map_err(|_| ToyError::Poisoned)
    }
}

impl DecidedStore for Ledger {
    type Error = ToyError;

    fn committed_head(&self) -> Result<Option<Header>, ToyError> {
        Ok(self.lock()?.head.clone())
    }

    fn decided(&self, height: gont_core::Height) -> Result<Option<DecidedBlock>, ToyError> {
        Ok(self.lock()?.decided.get(&height.0).cloned())
    }

    fn decided_height(&self) -> Result<Option<gont_core::Height>, ToyError> {
        Ok(self
            .lock()?
            .decided
            .keys()
            .next_back()
            .copied()
            .map(gont_core::Height))
    }

    fn put_decided(&self, decided: &DecidedBlock) -> Result<(), ToyError> {
        let height = decided.block.header.height.0;
        let mut ledger = self.lock()?;
        if let Some(known) = ledger.decided.get(&height)
            && known.block != decided.block
        {
            return Err(ToyError::Conflict(height));
        }
        // The same block again (a replay after a restart) may bring a
        // commit with other signatures: keep the newest.
        ledger.decided.insert(height, decided.clone());
        Ok(())
    }
}

/// The example's execution: a block's transactions are opaque notes, its
/// state root a blake3 chain over them, and the validator set never
/// changes. The driver calls it (on a blocking-capable thread) to build
/// the block this validator proposes, to check every block proposed to it,
/// and to commit each decided one.
struct ToyEngine {
    /// The one validator set, which decides every height.
    validators: ValidatorSetHash,
    /// Where the committed head is kept, shared with the driver's store.
    ledger: Ledger,
    /// Blocks built or checked at the current height, by id: consensus
    /// decides one of them and [`ExecutionEngine::forkchoice_updated`]
    /// commits it.
    pending: BTreeMap<BlockId, Header>,
}

impl ToyEngine {
    /// The header every honest engine derives for `body` on the committed
    /// head, with the fields consensus fixed (`attributes`). Checking a
    /// proposed block is deriving its header again and comparing.
    fn header(&self, attributes: &PayloadAttributes, body: &Body) -> Result<Header, ToyError> {
        let parent = self.ledger.lock()?.head.clone();
        let parent_root = parent.as_ref().map_or(Hash::ZERO, |p| p.state_root);
        let state_root = Hash::digest_in(
            "four_validators example state v1",
            &[parent_root.0, body.tx_root().0].concat(),
        );
        Ok(Header {
            chain_id: CHAIN,
            height: gont_core::Height(parent.as_ref().map_or(1, |p| p.height.0 + 1)),
            time: attributes.timestamp,
            parent: parent.as_ref().map(Header::id).transpose()?,
            tx_root: body.tx_root(),
            state_root,
            // No receipts, no gas and no fees in this toy.
            receipts_root: Hash::ZERO,
            execution: ExecutionFields::default(),
            validators_hash: attributes.validators_hash,
            // A chain with staking announces the next height's set here
            // (and answers `validator_set` from its state).
            next_validators_hash: self.validators,
            proposer: attributes.proposer,
            evidence_hash: body.evidence_hash(),
            last_commit_hash: body.last_commit_hash(),
        })
    }
}

impl ExecutionEngine for ToyEngine {
    type Error = ToyError;

    fn build_payload(
        &mut self,
        parent: Option<BlockId>,
        attributes: PayloadAttributes,
        transactions: &[RawTransaction],
    ) -> Result<Block, ToyError> {
        let head = self
            .ledger
            .lock()?
            .head
            .as_ref()
            .map(Header::id)
            .transpose()?;
        if parent != head {
            return Err(ToyError::UnknownBlock(parent.unwrap_or_default()));
        }
        // A real engine would execute the evidence (slash the double
        // signer) and read the parent's commit (count who signed); this
        // one only carries both, as the header commits to them.
        let body = Body {
            transactions: transactions.to_vec(),
            evidence: attributes.evidence.clone(),
            last_commit: attributes.last_commit.clone(),
        };
        let header = self.header(&attributes, &body)?;
        self.pending.insert(header.id()?, header.clone());
        Ok(Block { header, body })
    }

    fn new_payload(&mut self, block: &Block) -> Result<PayloadStatus, ToyError> {
        let proposed = &block.header;
        // What the proposer chose; everything else must follow from the
        // parent and the body. (The driver has already checked the chain,
        // the height, the height's validator set and who proposed it.)
        let attributes = PayloadAttributes {
            timestamp: proposed.time,
            proposer: proposed.proposer,
            fee_recipient: gont_core::Address::ZERO,
            validators_hash: proposed.validators_hash,
            evidence: block.body.evidence.clone(),
            last_commit: block.body.last_commit.clone(),
        };
        let invalid = |reason: &str| {
            Ok(PayloadStatus::Invalid {
                reason: reason.to_owned(),
            })
        };
        if proposed.validators_hash != self.validators {
            return invalid("not the chain's validator set");
        }
        let parent_time = self.ledger.lock()?.head.as_ref().map(|p| p.time);
        if parent_time.is_some_and(|t| proposed.time <= t) {
            return invalid("not later than its parent");
        }
        if self.header(&attributes, &block.body)? != *proposed {
            return invalid("the header does not follow from the parent and the body");
        }
        self.pending.insert(proposed.id()?, proposed.clone());
        Ok(PayloadStatus::Valid)
    }

    fn forkchoice_updated(&mut self, state: ForkchoiceState) -> Result<(), ToyError> {
        // Finality is instant: head, safe and finalized are the decided block.
        let header = self
            .pending
            .remove(&state.finalized)
            .ok_or(ToyError::UnknownBlock(state.finalized))?;
        self.ledger.lock()?.head = Some(header);
        self.pending.clear();
        Ok(())
    }

    fn validator_set(
        &self,
        _height: gont_core::Height,
    ) -> Result<Option<gont_core::ValidatorSet>, ToyError> {
        // `None`: this chain keeps the set it was started with.
        Ok(None)
    }
}

/// The node side: a one-note "mempool" for each block this validator
/// proposes, and a channel to `main` of every committed block.
struct Reporter {
    validator: usize,
    committed: mpsc::UnboundedSender<(usize, DecidedBlock)>,
}

impl Host for Reporter {
    fn transactions(&mut self, _max_bytes: u64, _max_gas: u64) -> Vec<RawTransaction> {
        let note = format!("a note from v{}", self.validator);
        vec![RawTransaction(Bytes::from(note.into_bytes()))]
    }

    fn committed(&mut self, decided: &DecidedBlock, _took: Duration) {
        // `main` may have stopped listening; the validator goes on regardless.
        let _ = self.committed.send((self.validator, decided.clone()));
    }
}

// ---------------------------------------------------------------------------
// Running four validators.
// ---------------------------------------------------------------------------

#[tokio::main]
async fn main() -> eyre::Result<()> {
    // Logs only with RUST_LOG (on stderr; results go to stdout). Malachite
    // logs as errors what is expected here: dialling a peer that has not
    // started listening yet, and, while the validators stop, messages to
    // actors already stopped.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();

    // Fixed keys, so that the addresses (and who proposes when) are the
    // same on every run. Real validators keep theirs in a keystore.
    let keys: Vec<PrivateKey> = (1..=VALIDATORS)
        .map(|i| PrivateKey::from_seed([i; 32]))
        .collect();
    let members = keys
        .iter()
        .zip(1u8..)
        .map(|(key, i)| gont_core::Validator {
            consensus_key: key.public_key(),
            operator: gont_core::Address::repeat_byte(i),
            power: VotingPower(100),
        })
        .collect();
    let set = ValidatorSet::new(gont_core::ValidatorSet::new(members)?);
    let names: Vec<ValidatorAddress> = keys.iter().map(|k| k.public_key().address()).collect();
    for (i, address) in names.iter().enumerate() {
        println!("validator v{i}: {address}");
    }

    // Short blocks for the example; the step timeouts stay the defaults
    // (3 s to wait for a proposal, 1 s for more prevotes or precommits).
    let params = ConsensusParams {
        target_block_time_ms: 200,
        ..ConsensusParams::default()
    };
    let ctx = GontContext::new(CHAIN, params)?;

    let dir = tempfile::tempdir()?;
    let ports = (0..keys.len())
        .map(|_| free_port())
        .collect::<std::io::Result<Vec<u16>>>()?;
    let (committed_tx, mut committed) = mpsc::unbounded_channel();
    let mut handles = Vec::new();
    for (i, (key, port)) in keys.iter().zip(&ports).enumerate() {
        // Each validator dials the other three (and redials them).
        let listen = loopback(*port);
        let peers = ports
            .iter()
            .filter(|other| *other != port)
            .map(|other| loopback(*other))
            .collect();
        let config = DriverConfig::new(
            dir.path().join(format!("v{i}")),
            format!("v{i}"),
            listen,
            peers,
        );
        let ledger = Ledger::default();
        let engine = ToyEngine {
            validators: set.hash(),
            ledger: ledger.clone(),
            pending: BTreeMap::new(),
        };
        let host = Reporter {
            validator: i,
            committed: committed_tx.clone(),
        };
        let handle = driver::start(
            ctx.clone(),
            set.clone(),
            key.clone(),
            config,
            engine,
            ledger,
            host,
        )
        .await
        .wrap_err_with(|| format!("starting v{i}"))?;
        handles.push(handle);
    }

    // Only the validators' hosts hold senders now: if every validator
    // stops, `collect` hears it at once rather than at its deadline.
    drop(committed_tx);
    let decided = collect(&mut committed, &names).await;
    for handle in handles {
        handle.stop().await?;
    }
    let decided = decided?;

    verify(&decided, &set)
}

/// Waits until every validator has committed heights 1 to [`DECISIONS`],
/// checks that they committed the same block at each, and prints one line
/// per height as soon as all have it. Returns the decided blocks in order.
async fn collect(
    committed: &mut mpsc::UnboundedReceiver<(usize, DecidedBlock)>,
    names: &[ValidatorAddress],
) -> eyre::Result<Vec<DecidedBlock>> {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let mut seen: BTreeMap<u64, BTreeMap<usize, DecidedBlock>> = BTreeMap::new();
    let mut decided = Vec::new();
    let mut next = 1;
    while next <= DECISIONS {
        let (validator, block) = tokio::time::timeout_at(deadline, committed.recv())
            .await
            .map_err(|_| eyre!("height {next} was not decided within {DEADLINE:?}"))?
            .ok_or_else(|| eyre!("every validator stopped"))?;
        seen.entry(block.block.header.height.0)
            .or_default()
            .insert(validator, block);
        while let Some(at) = seen.get(&next).filter(|at| at.len() == names.len()) {
            let mut ids = at.values().map(|d| d.block.header.id());
            let first = ids.next().transpose()?;
            for id in ids {
                if Some(id?) != first {
                    bail!("the validators committed different blocks at height {next}");
                }
            }
            let Some(block) = at.values().next().cloned() else {
                break;
            };
            let header = &block.block.header;
            let proposer = names
                .iter()
                .position(|a| *a == header.proposer)
                .map_or_else(|| header.proposer.to_string(), |i| format!("v{i}"));
            println!(
                "height {next:>2}  round {}  proposer {proposer}  block {}",
                block.commit.round,
                header.id()?,
            );
            decided.push(block);
            next += 1;
        }
    }
    Ok(decided)
}

// ---------------------------------------------------------------------------
// Checking a commit as a Tendermint light client would.
// ---------------------------------------------------------------------------

/// Verifies the last decision from the first one with tendermint-rs's
/// production verifier (skipping verification: trust in height 1 and its
/// next validator set carries to height 10 in one step), then a copy whose
/// first signature is forged.
fn verify(decided: &[DecidedBlock], set: &ValidatorSet) -> eyre::Result<()> {
    let (Some(trusted), Some(target)) = (decided.first(), decided.last()) else {
        bail!("no decisions to verify");
    };
    // A GONT header *is* a Tendermint header (gont_core::header), and a
    // GONT commit one signature per validator in set order, as Tendermint's.
    let trusted_header = trusted.block.header.to_tendermint()?;
    let signed = gont_core::light::signed_header(&target.block.header, &target.commit)?;
    let validators = set.core().to_tendermint();
    let now = now()?;

    let check = |untrusted: &SignedHeader| {
        ProdVerifier::default().verify_update_header(
            UntrustedBlockState {
                signed_header: untrusted,
                validators: &validators,
                next_validators: Some(&validators),
            },
            TrustedBlockState {
                chain_id: &trusted_header.chain_id,
                header_time: trusted_header.time,
                height: trusted_header.height,
                next_validators: &validators,
                next_validators_hash: trusted_header.next_validators_hash,
            },
            &Options {
                trust_threshold: TrustThreshold::ONE_THIRD,
                trusting_period: Duration::from_secs(14 * 24 * 3600),
                clock_drift: Duration::from_secs(10),
            },
            now,
        )
    };

    let (from, to) = (trusted.block.header.height, target.block.header.height);
    println!(
        "tendermint-rs verifies the commit of height {to} from trusted height {from}: {}",
        describe(&check(&signed))
    );

    // The first signature in set order is always counted (the verifier
    // stops once it has enough power), so forging it must be caught.
    let mut forged = target.commit.clone();
    let Some(CommitSig::ForBlock { signature, .. }) = forged
        .signatures
        .iter_mut()
        .find(|s| matches!(s, CommitSig::ForBlock { .. }))
    else {
        bail!("the commit of height {to} has no signature");
    };
    if let Some(byte) = signature.0.first_mut() {
        *byte ^= 1;
    }
    let forged = gont_core::light::signed_header(&target.block.header, &forged)?;
    println!(
        "the same commit with one signature forged: {}",
        describe(&check(&forged))
    );
    Ok(())
}

/// A verdict in a word or two (its details name keys and bytes).
fn describe(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Success => "Success".to_owned(),
        Verdict::NotEnoughTrust(tally) => format!("NotEnoughTrust ({tally})"),
        Verdict::Invalid(VerificationErrorDetail::InvalidSignature(_)) => {
            "Invalid (invalid signature)".to_owned()
        }
        Verdict::Invalid(detail) => format!("Invalid ({detail})"),
    }
}

/// Now, as tendermint-rs's time (the verifier refuses headers from the
/// future and trusted states older than the trusting period).
fn now() -> eyre::Result<tendermint::Time> {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
    let ms = u64::try_from(ms)?;
    gont_core::light::tendermint_time(Timestamp(ms))
        .ok_or_else(|| eyre!("the clock is out of range"))
}

/// A free TCP port on loopback (the OS picks it; released at once for the
/// validator to bind).
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}
