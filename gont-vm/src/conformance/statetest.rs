//! The GeneralStateTests runner.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

use alloy_primitives::keccak256;
use alloy_trie::TrieAccount;
use alloy_trie::root::{state_root_unhashed, storage_root_unhashed};
use gont_core::state::KECCAK_EMPTY;
use gont_core::{
    AccountState, Address, B256, BlockId, Bytes, Height, RawTransaction, StateReader, U256,
};
use serde::Deserialize;

use super::{ConformanceError, Summary, fork_named, run_files};
use crate::chain::{BlockContext, ChainConfig, Fork};
use crate::error::ExecError;
use crate::executor::{InvalidTxPolicy, RecoveredTx, execute_block};
use crate::memory::MemoryState;

/// The chain id the fixtures sign for.
const FIXTURE_CHAIN_ID: u64 = 1;

#[derive(Deserialize)]
struct StateTest {
    env: Env,
    pre: BTreeMap<Address, PreAccount>,
    transaction: TxParts,
    post: BTreeMap<String, Vec<PostCase>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Env {
    current_base_fee: U256,
    current_coinbase: Address,
    current_gas_limit: U256,
    current_number: U256,
    current_random: Option<B256>,
    current_timestamp: U256,
    current_excess_blob_gas: Option<U256>,
}

#[derive(Deserialize)]
struct PreAccount {
    balance: U256,
    code: Bytes,
    nonce: U256,
    storage: BTreeMap<U256, U256>,
}

#[derive(Deserialize)]
struct TxParts {
    sender: Option<Address>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostCase {
    hash: B256,
    logs: B256,
    txbytes: Bytes,
    expect_exception: Option<String>,
    indexes: Indexes,
}

#[derive(Deserialize)]
struct Indexes {
    data: usize,
    gas: usize,
    value: usize,
}

/// A state test's pre-state: a [`MemoryState`] whose `BLOCKHASH(n)` is
/// `keccak256` of `n` in decimal, as the fixtures were filled.
struct FixtureState(MemoryState);

impl StateReader for FixtureState {
    type Error = std::convert::Infallible;

    fn account(&self, address: Address) -> Result<Option<AccountState>, Self::Error> {
        self.0.account(address)
    }

    fn storage(&self, address: Address, slot: U256) -> Result<U256, Self::Error> {
        self.0.storage(address, slot)
    }

    fn code(&self, code_hash: B256) -> Result<Option<Bytes>, Self::Error> {
        self.0.code(code_hash)
    }

    fn block_id(&self, height: Height) -> Result<Option<BlockId>, Self::Error> {
        Ok(Some(BlockId(keccak256(height.0.to_string()).0)))
    }
}

/// Runs every GeneralStateTests file under `path`, writing failures, skips
/// and the summary line to `out`.
pub fn run(path: &Path, out: &mut dyn Write) -> Result<Summary, ConformanceError> {
    run_files::<StateTest>(path, "state test", out, run_test)
}

fn report(out: &mut dyn Write, line: std::fmt::Arguments<'_>) {
    // Output is best effort: a closed pipe must not stop the run.
    let _ = writeln!(out, "{line}");
}

fn run_test(test: &StateTest, name: &str, out: &mut dyn Write, summary: &mut Summary) {
    for (fork_name, cases) in &test.post {
        let Some(fork) = fork_named(fork_name) else {
            summary.skipped += cases.len();
            report(
                out,
                format_args!(
                    "skip {name} [{fork_name}]: {} case(s); fork {fork_name} is not run (gont-vm implements Cancun and Prague)",
                    cases.len()
                ),
            );
            continue;
        };
        for case in cases {
            let label = format!(
                "{name} [{fork_name} d{} g{} v{}]",
                case.indexes.data, case.indexes.gas, case.indexes.value
            );
            match run_case(test, case, fork) {
                Ok(()) => summary.passed += 1,
                Err(reason) if has_storage_only_account(test) => {
                    summary.skipped += 1;
                    report(
                        out,
                        format_args!(
                            "skip {label}: EIP-7610 (creation over an account that has storage but no code and nonce 0) is not implemented by revm 43; such accounts cannot exist on a chain started after EIP-161, as every GONT chain is ({reason})"
                        ),
                    );
                }
                Err(reason) => {
                    summary.failed += 1;
                    report(out, format_args!("FAIL {label}: {reason}"));
                }
            }
        }
    }
}

/// Whether the pre-state holds an account with storage but neither code
/// nor nonce: the state EIP-7610 is about.
fn has_storage_only_account(test: &StateTest) -> bool {
    test.pre
        .values()
        .any(|a| a.nonce.is_zero() && a.code.is_empty() && a.storage.values().any(|v| !v.is_zero()))
}

fn pre_state(test: &StateTest) -> Result<MemoryState, String> {
    let mut state = MemoryState::default();
    for (address, account) in &test.pre {
        let code_hash = if account.code.is_empty() {
            KECCAK_EMPTY
        } else {
            let hash = keccak256(&account.code);
            state.code.insert(hash, account.code.clone());
            hash
        };
        let nonce =
            u64::try_from(account.nonce).map_err(|_| format!("nonce of {address} exceeds u64"))?;
        state.accounts.insert(
            *address,
            AccountState {
                nonce,
                balance: account.balance,
                code_hash,
            },
        );
        let slots: BTreeMap<U256, U256> = account
            .storage
            .iter()
            .filter(|(_, v)| !v.is_zero())
            .map(|(k, v)| (*k, *v))
            .collect();
        if !slots.is_empty() {
            state.storage.insert(*address, slots);
        }
    }
    Ok(state)
}

fn block_context(env: &Env) -> Result<BlockContext, String> {
    let u64_of =
        |v: U256, field: &str| u64::try_from(v).map_err(|_| format!("env {field} exceeds u64"));
    Ok(BlockContext {
        height: Height(u64_of(env.current_number, "currentNumber")?),
        timestamp: u64_of(env.current_timestamp, "currentTimestamp")?,
        gas_limit: u64_of(env.current_gas_limit, "currentGasLimit")?,
        base_fee: u64_of(env.current_base_fee, "currentBaseFee")?,
        coinbase: env.current_coinbase,
        prevrandao: env.current_random.unwrap_or_default(),
        excess_blob_gas: u64_of(
            env.current_excess_blob_gas.unwrap_or_default(),
            "currentExcessBlobGas",
        )?,
    })
}

fn run_case(test: &StateTest, case: &PostCase, fork: Fork) -> Result<(), String> {
    let mut state = FixtureState(pre_state(test)?);
    let block = block_context(&test.env)?;
    let chain = ChainConfig {
        chain_id: gont_core::ChainId(FIXTURE_CHAIN_ID),
        fork,
        blob_transactions: true,
        system: crate::system::SystemContracts::default(),
    };
    let expected_failure = case.expect_exception.as_deref();
    let tx = match RecoveredTx::recover(RawTransaction(case.txbytes.clone())) {
        Ok(tx) => tx,
        Err(e) => {
            return match expected_failure {
                Some(_) => Ok(()),
                None => Err(format!("transaction refused at decoding: {e}")),
            };
        }
    };
    if let Some(sender) = test.transaction.sender
        && sender != tx.sender
    {
        return Err(format!("recovered sender {} is not {sender}", tx.sender));
    }
    let (logs_hash, wiped, changes) = match execute_block(
        &state,
        &chain,
        &block,
        &crate::executor::BlockStart::default(),
        vec![tx],
        InvalidTxPolicy::Reject,
    ) {
        Ok(output) => {
            if let Some(exception) = expected_failure {
                return Err(format!(
                    "expected {exception}, but the transaction was executed"
                ));
            }
            let logs: Vec<alloy_primitives::Log> = output
                .receipts
                .iter()
                .flat_map(|r| r.logs.iter())
                .map(|l| {
                    alloy_primitives::Log::new_unchecked(
                        l.address,
                        l.topics.clone(),
                        l.data.clone(),
                    )
                })
                .collect();
            (
                keccak256(alloy_rlp::encode(&logs)),
                output.wiped,
                output.changes,
            )
        }
        Err(ExecError::InvalidTransaction { error, .. }) => match expected_failure {
            // Refused as expected: the state must be the pre-state.
            Some(_) => (
                keccak256(alloy_rlp::encode(Vec::<alloy_primitives::Log>::new())),
                BTreeSet::new(),
                Default::default(),
            ),
            None => return Err(format!("transaction refused: {error}")),
        },
        Err(e) => return Err(format!("execution failed: {e}")),
    };
    state.0.apply(&changes, &wiped);
    let root = ethereum_state_root(&state.0);
    if root != case.hash {
        return Err(format!("state root {root} is not {}", case.hash));
    }
    if logs_hash != case.logs {
        return Err(format!("logs hash {logs_hash} is not {}", case.logs));
    }
    Ok(())
}

/// The Ethereum Merkle-Patricia state root of `state` (keccak, secure trie).
pub fn ethereum_state_root(state: &MemoryState) -> B256 {
    state_root_unhashed(state.accounts.iter().map(|(address, account)| {
        let storage_root = storage_root_unhashed(
            state
                .storage
                .get(address)
                .into_iter()
                .flatten()
                .map(|(slot, value)| (B256::from(*slot), *value)),
        );
        (
            *address,
            TrieAccount {
                nonce: account.nonce,
                balance: account.balance,
                storage_root,
                code_hash: account.code_hash,
            },
        )
    }))
}
