//! Executing a block's transactions in order on revm: validity checks,
//! execution, receipts and the block's [`StateChanges`].

use std::collections::BTreeSet;

use alloy_consensus::{Transaction, TxEnvelope, Typed2718};
use gont_core::{
    AccountState, Address, B256, ConsensusKey, Log, RawTransaction, Receipt, StateChanges,
    StateReader, ValidatorSetHash,
};
use revm::context::result::{EVMError, ExecutionResult, InvalidTransaction};
use revm::context::{Context, ContextTr};
use revm::{ExecuteCommitEvm, MainBuilder, MainContext, SystemCallCommitEvm};

use crate::chain::{BlockContext, ChainConfig};
use crate::db::{DbError, StateDb};
use crate::env::tx_env;
use crate::error::{ExecError, TxError};
use crate::system::{STAKING, staking};
use crate::validation::validate_transaction;

/// A decoded transaction with its sender recovered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveredTx {
    /// The bytes as the block carries them.
    pub raw: RawTransaction,
    /// The decoded transaction.
    pub tx: TxEnvelope,
    /// Its signer.
    pub sender: Address,
    /// Its keccak hash.
    pub hash: B256,
}

impl RecoveredTx {
    /// Decodes `raw` (whose keccak hash is `hash`) exactly, taking
    /// `sender` as its signer: one [`KnownSenders`] gave.
    fn with_known_sender(
        raw: RawTransaction,
        hash: B256,
        sender: Address,
    ) -> Result<Self, TxError> {
        let tx = raw.decode().map_err(|e| TxError::Decode(e.to_string()))?;
        Ok(Self {
            raw,
            tx,
            sender,
            hash,
        })
    }

    /// Decodes `raw` exactly and recovers its sender.
    pub fn recover(raw: RawTransaction) -> Result<Self, TxError> {
        let (tx, sender) = raw
            .decode_and_recover()
            .map_err(|e| TxError::Decode(e.to_string()))?;
        let hash = raw.hash();
        Ok(Self {
            raw,
            tx,
            sender,
            hash,
        })
    }
}

/// Decodes and recovers the senders of `raws`, in order, spreading the
/// signature recoveries (the costliest step of a block) over the
/// machine's cores with scoped threads.
pub fn recover_all(raws: &[RawTransaction]) -> Vec<Result<RecoveredTx, TxError>> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    if threads <= 1 || raws.len() < 64 {
        return raws.iter().cloned().map(RecoveredTx::recover).collect();
    }
    let chunk = raws.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = raws
            .chunks(chunk)
            .map(|part| {
                let handle = scope.spawn(move || {
                    part.iter()
                        .cloned()
                        .map(RecoveredTx::recover)
                        .collect::<Vec<_>>()
                });
                (part.len(), handle)
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|(len, handle)| {
                // Recovery does not panic on any input; should a worker die
                // all the same, its transactions are refused, one result
                // each, so that positions stay aligned with the input.
                handle.join().unwrap_or_else(|_| {
                    vec![Err(TxError::Decode("recovery worker failed".to_owned())); len]
                })
            })
            .collect()
    })
}

/// Senders this node has recovered already, by transaction hash: the
/// transaction pool, which recovers each transaction once, when it admits
/// it. A hash is keccak-256 of the exact bytes, signature included, so the
/// sender found by it is the one recovery would give; a block's
/// transactions that arrived by gossip are then not recovered again.
pub trait KnownSenders: Send + Sync + std::fmt::Debug {
    /// The sender of each of `hashes`, in order, where it is known.
    fn known_senders(&self, hashes: &[B256]) -> Vec<Option<Address>>;
}

/// [`recover_all`], taking the senders `known` has instead of recovering
/// them: only the others are recovered (in parallel).
pub fn recover_all_known(
    raws: &[RawTransaction],
    known: &dyn KnownSenders,
) -> Vec<Result<RecoveredTx, TxError>> {
    let hashes: Vec<B256> = raws.iter().map(RawTransaction::hash).collect();
    let senders = known.known_senders(&hashes);
    let unknown: Vec<RawTransaction> = raws
        .iter()
        .zip(&senders)
        .filter(|(_, sender)| sender.is_none())
        .map(|(raw, _)| raw.clone())
        .collect();
    let mut recovered = recover_all(&unknown).into_iter();
    raws.iter()
        .zip(hashes)
        .enumerate()
        .map(|(i, (raw, hash))| match senders.get(i).copied().flatten() {
            Some(sender) => RecoveredTx::with_known_sender(raw.clone(), hash, sender),
            // One result per unknown transaction, in order.
            None => recovered
                .next()
                .unwrap_or_else(|| Err(TxError::Decode("recovery lost a transaction".to_owned()))),
        })
        .collect()
}

/// A validator convicted by a block's evidence, as the engine checked it:
/// its key in the set of the offence's height, and that height.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Punishment {
    /// The offender's consensus key.
    pub key: ConsensusKey,
    /// The height of the offence.
    pub height: u64,
}

/// What the system does in a block before its transactions: the
/// punishments of its evidence, then the record of who signed the
/// previous block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockStart {
    /// The evidence's convictions, through the staking contract's `punish`.
    pub punishments: Vec<Punishment>,
    /// Each member of the previous block's set, in set order, and whether
    /// it signed the commit the block carries (the staking contract's
    /// `signatures`); empty for a block without one.
    pub signatures: Vec<(ConsensusKey, bool)>,
}

/// What to do with a transaction that cannot be included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidTxPolicy {
    /// Building a block: leave it out and go on.
    Skip,
    /// Validating a proposed block: the block is invalid.
    Reject,
}

/// A transaction left out of a block being built, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedTx {
    /// Its position in the input.
    pub index: usize,
    /// Its hash.
    pub hash: B256,
    /// Why it was left out.
    pub error: TxError,
}

/// The result of executing a block's transactions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockOutput {
    /// The transactions included, in order.
    pub transactions: Vec<RawTransaction>,
    /// One receipt per included transaction.
    pub receipts: Vec<Receipt>,
    /// The state the block changed.
    pub changes: StateChanges,
    /// Accounts whose earlier storage is dropped (see
    /// [`StateDb::into_changes`]).
    pub wiped: BTreeSet<Address>,
    /// Gas used by the block.
    pub gas_used: u64,
    /// Transactions left out (only with [`InvalidTxPolicy::Skip`]).
    pub skipped: Vec<SkippedTx>,
    /// At the end of an epoch, or when a punishment took a validator out
    /// of the set, the hash of the validator set the staking contract
    /// stored for the next height.
    pub next_validators: Option<ValidatorSetHash>,
}

/// Executes `start` (the block's evidence and the record of who signed
/// its parent, through the staking contract's system calls), then `txs`
/// in order, on the state
/// `state`, in the block context `block` of chain `chain`. Each
/// transaction is checked by
/// [`validate_transaction`] against the state left by the ones before it,
/// and against the gas left in the block, then executed; priority fees go
/// to `block.coinbase` and the base fee is burned.
pub fn execute_block<R: StateReader>(
    state: &R,
    chain: &ChainConfig,
    block: &BlockContext,
    start: &BlockStart,
    txs: Vec<RecoveredTx>,
    policy: InvalidTxPolicy,
) -> Result<BlockOutput, ExecError<R::Error>> {
    let mut db = StateDb::new(state);
    let mut out = BlockOutput::default();
    {
        let mut evm = Context::mainnet()
            .with_db(&mut db)
            .with_cfg(chain.cfg_env())
            .with_block(block.block_env(chain.fork))
            .build_mainnet()
            .with_precompiles(chain.precompiles());
        for p in &start.punishments {
            let call = staking::punish_call(&p.key, p.height);
            out.next_validators = Some(staking_system_call(&mut evm, call, "punishment")?);
        }
        if !start.signatures.is_empty() {
            let (keys, signed): (Vec<_>, Vec<_>) = start.signatures.iter().copied().unzip();
            let call = staking::signatures_call(&keys, &signed);
            let hash = staking_system_call(&mut evm, call, "record of signatures")?;
            // Zero: nobody left the set.
            if hash.0 != [0; 32] {
                out.next_validators = Some(hash);
            }
        }
        for (index, rtx) in txs.into_iter().enumerate() {
            let account = evm
                .ctx
                .db_mut()
                .account(rtx.sender)
                .map_err(db_error)?
                .unwrap_or(AccountState {
                    nonce: 0,
                    balance: gont_core::U256::ZERO,
                    code_hash: gont_core::state::KECCAK_EMPTY,
                });
            let available = block.gas_limit.saturating_sub(out.gas_used);
            let checked = validate_transaction(&rtx.tx, rtx.sender, &account, block, chain)
                .and_then(|()| {
                    if rtx.tx.gas_limit() > available {
                        Err(TxError::GasLimitReached {
                            gas: rtx.tx.gas_limit(),
                            available,
                        })
                    } else {
                        Ok(())
                    }
                });
            let result = match checked {
                Ok(()) => match evm.transact_commit(tx_env(&rtx.tx, rtx.sender)) {
                    Ok(result) => Ok(result),
                    Err(EVMError::Transaction(invalid)) => Err(tx_error(invalid, rtx.sender)),
                    Err(EVMError::Database(e)) => return Err(db_error(e)),
                    Err(other) => return Err(ExecError::Evm(other.to_string())),
                },
                Err(e) => Err(e),
            };
            let result = match (result, policy) {
                (Ok(result), _) => result,
                (Err(error), InvalidTxPolicy::Skip) => {
                    out.skipped.push(SkippedTx {
                        index,
                        hash: rtx.hash,
                        error,
                    });
                    continue;
                }
                (Err(error), InvalidTxPolicy::Reject) => {
                    return Err(ExecError::InvalidTransaction {
                        index,
                        hash: rtx.hash,
                        error: Box::new(error),
                    });
                }
            };
            let gas_used = result.tx_gas_used();
            out.gas_used = out.gas_used.saturating_add(gas_used);
            out.receipts.push(receipt(
                &rtx,
                &result,
                gas_used,
                out.gas_used,
                block.base_fee,
            ));
            out.transactions.push(rtx.raw);
        }
        if let Some(staking) = &chain.system.staking
            && staking.is_epoch_end(block.height.0)
        {
            let call = staking::end_block_call();
            out.next_validators = Some(staking_system_call(&mut evm, call, "end of epoch")?);
        }
    }
    let (changes, wiped) = db.into_changes();
    out.changes = changes;
    out.wiped = wiped;
    Ok(out)
}

/// A system call to the staking contract (EIP-4788's mechanism: no sender
/// account, no fee, no receipt), `end_block` or `punish`: the hash of the
/// next set.
fn staking_system_call<EVM, E>(
    evm: &mut EVM,
    call: revm::primitives::Bytes,
    what: &str,
) -> Result<ValidatorSetHash, ExecError<E>>
where
    EVM: SystemCallCommitEvm<
            ExecutionResult = ExecutionResult,
            Error = EVMError<DbError<E>, InvalidTransaction>,
        >,
    E: std::error::Error + 'static,
{
    let result = match evm.system_call_commit(STAKING, call) {
        Ok(result) => result,
        Err(EVMError::Database(e)) => return Err(db_error(e)),
        Err(other) => return Err(ExecError::Evm(other.to_string())),
    };
    match &result {
        ExecutionResult::Success { output, .. } => staking::end_block_output(output.data())
            .ok_or_else(|| {
                ExecError::Evm(format!("the staking contract's {what} returned no hash"))
            }),
        other => Err(ExecError::Evm(format!(
            "the staking contract's {what} failed: {other:?}"
        ))),
    }
}

fn receipt(
    rtx: &RecoveredTx,
    result: &ExecutionResult,
    gas_used: u64,
    cumulative_gas_used: u64,
    base_fee: u64,
) -> Receipt {
    Receipt {
        tx_hash: rtx.hash,
        tx_type: rtx.tx.ty(),
        from: rtx.sender,
        to: rtx.tx.to(),
        success: result.is_success(),
        gas_used,
        cumulative_gas_used,
        effective_gas_price: rtx.tx.effective_gas_price(Some(base_fee)),
        contract_address: result.created_address(),
        logs: result
            .logs()
            .iter()
            .map(|log| Log {
                address: log.address,
                topics: log.data.topics().to_vec(),
                data: log.data.data.clone(),
            })
            .collect(),
    }
}

pub(crate) fn db_error<E: std::error::Error + 'static>(e: DbError<E>) -> ExecError<E> {
    match e {
        DbError::Read(e) => ExecError::State(e),
        DbError::MissingCode(hash) => {
            ExecError::Evm(format!("code {hash} is missing from the store"))
        }
    }
}

/// revm's refusal of a transaction, in geth's words where our own checks
/// did not already catch it.
pub(crate) fn tx_error(invalid: InvalidTransaction, sender: Address) -> TxError {
    match invalid {
        InvalidTransaction::RejectCallerWithCode => TxError::SenderNotEoa { sender },
        other => TxError::Evm(other.to_string()),
    }
}
