//! geth's debug tracers and `eth_createAccessList` (feature `trace`), over
//! the same execution as blocks ([`execute_block`](crate::execute_block))
//! and calls ([`call`](crate::call)), through revm-inspectors.
//!
//! - [`trace_block`]: replays a committed block's transactions on the state
//!   before it and traces all of them, or one (`debug_traceBlockByNumber`,
//!   `debug_traceTransaction`).
//! - [`trace_call`]: traces a message as `eth_call` runs it
//!   (`debug_traceCall`).
//! - [`create_access_list`]: the storage a message touches, as an EIP-2930
//!   access list, and its gas with that list.
//!
//! The tracers are revm-inspectors' `DebugInspector`: the struct logger
//! (no tracer named), `callTracer` (with `withLog`, `onlyTopCall`),
//! `prestateTracer` (with `diffMode`), `4byteTracer`, `noopTracer`,
//! `flatCallTracer` and `muxTracer`; results in geth's JSON shapes. No
//! JavaScript tracers.

use alloy_eips::eip2930::AccessList;
pub use alloy_rpc_types_trace::geth::{
    GethDebugTracingCallOptions, GethDebugTracingOptions, GethTrace, TraceResult,
};
use gont_core::{B256, StateReader};
use revm::context::Context;
use revm::database_interface::DatabaseCommit;
use revm::{ExecuteCommitEvm, InspectEvm, MainBuilder, MainContext};
use revm_inspectors::access_list::AccessListInspector;
use revm_inspectors::tracing::{DebugInspector, TransactionContext};

use crate::call::{CallError, CallRequest, call_env, call_error};
use crate::chain::{BlockContext, ChainConfig};
use crate::db::StateDb;
use crate::env::tx_env;
use crate::executor::RecoveredTx;

/// The struct logger's most steps per transaction: a transaction of 30
/// million gas can take ten million steps, whose logs with stacks would
/// take gigabytes. A trace that reaches the limit ends there, as geth's
/// `limit` option ends it.
pub const MAX_STRUCT_LOGS: u64 = 100_000;

/// Times [`create_access_list`] re-runs a message with the list found so
/// far before it gives up on a fixed point (geth loops until one).
const ACCESS_LIST_ROUNDS: usize = 8;

/// Why a trace could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The tracer is unknown (JavaScript tracers among them) or its
    /// configuration does not parse.
    #[error("tracer: {0}")]
    Tracer(String),
    /// The message could not be executed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// A transaction of a committed block did not replay: the store does
    /// not hold the state the block was executed on.
    #[error("replaying transaction {index} of the block: {reason}")]
    Replay {
        /// Its index in the block.
        index: usize,
        /// What failed.
        reason: String,
    },
}

fn inspector(options: &GethDebugTracingOptions) -> Result<DebugInspector, TraceError> {
    let mut options = options.clone();
    if options.tracer.is_none() {
        let limit = options.config.limit.filter(|&l| l > 0);
        options.config.limit = Some(limit.map_or(MAX_STRUCT_LOGS, |l| l.min(MAX_STRUCT_LOGS)));
    }
    DebugInspector::new(options).map_err(|e| TraceError::Tracer(e.to_string()))
}

/// Replays `txs`, the transactions of the committed block `block` (whose
/// hash is `block_hash`), on `state`, the state before it, and traces each
/// with `options`; with `only`, traces that transaction alone and stops
/// after it. The block's end-of-epoch system call is not traced.
pub fn trace_block<R: StateReader>(
    state: &R,
    chain: &ChainConfig,
    block: &BlockContext,
    block_hash: B256,
    txs: Vec<RecoveredTx>,
    only: Option<B256>,
    options: &GethDebugTracingOptions,
) -> Result<Vec<TraceResult>, TraceError>
where
    R::Error: Send + Sync,
{
    let mut db = StateDb::new(state);
    let block_env = block.block_env(chain.fork);
    let mut evm = Context::mainnet()
        .with_db(&mut db)
        .with_cfg(chain.cfg_env())
        .with_block(block_env.clone())
        .build_mainnet_with_inspector(inspector(options)?)
        .with_precompiles(chain.precompiles());
    let mut traces = Vec::new();
    for (index, rtx) in txs.into_iter().enumerate() {
        let replay = |reason: String| TraceError::Replay { index, reason };
        let tx = tx_env(&rtx.tx, rtx.sender);
        if only.is_some_and(|hash| hash != rtx.hash) {
            evm.transact_commit(tx)
                .map_err(|e| replay(call_error(e, Some(rtx.sender)).to_string()))?;
            continue;
        }
        let outcome = evm
            .inspect_tx(tx.clone())
            .map_err(|e| replay(call_error(e, Some(rtx.sender)).to_string()))?;
        let context = TransactionContext {
            block_hash: Some(block_hash),
            tx_index: Some(index),
            tx_hash: Some(rtx.hash),
        };
        let trace = evm
            .inspector
            .get_result(
                Some(context),
                &tx,
                &block_env,
                &outcome,
                &mut evm.ctx.journaled_state.database,
            )
            .map_err(|e| replay(e.to_string()))?;
        evm.ctx.journaled_state.database.commit(outcome.state);
        evm.inspector
            .fuse()
            .map_err(|e| TraceError::Tracer(e.to_string()))?;
        traces.push(TraceResult::Success {
            result: trace,
            tx_hash: Some(rtx.hash),
        });
        if only.is_some() {
            break;
        }
    }
    Ok(traces)
}

/// Traces `request` executed as [`call`](crate::call) executes it: on
/// `state`, in the context `block`, keeping nothing.
pub fn trace_call<R: StateReader>(
    state: &R,
    chain: &ChainConfig,
    block: &BlockContext,
    request: &CallRequest,
    options: &GethDebugTracingOptions,
) -> Result<GethTrace, TraceError>
where
    R::Error: Send + Sync,
{
    let mut db = StateDb::new(state);
    let gas = request.gas.unwrap_or(block.gas_limit).min(block.gas_limit);
    let (cfg, block_env, tx) = call_env(chain, block, request, gas);
    let mut evm = Context::mainnet()
        .with_db(&mut db)
        .with_cfg(cfg)
        .with_block(block_env.clone())
        .build_mainnet_with_inspector(inspector(options)?)
        .with_precompiles(chain.precompiles());
    let outcome = evm
        .inspect_tx(tx.clone())
        .map_err(|e| call_error(e, request.from))?;
    let trace = evm
        .inspector
        .get_result(
            None,
            &tx,
            &block_env,
            &outcome,
            &mut evm.ctx.journaled_state.database,
        )
        .map_err(|e| CallError::State(e.to_string()))?;
    Ok(trace)
}

/// What [`create_access_list`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessListOutcome {
    /// The accounts and slots the message touches, but for its sender, its
    /// recipient and the precompiles.
    pub access_list: AccessList,
    /// The gas the message uses with that list.
    pub gas_used: u64,
    /// Why it failed, if it did (`execution reverted` and the like).
    pub error: Option<String>,
}

/// The EIP-2930 access list of `request` on `state`, as geth's
/// `eth_createAccessList` finds it: run the message with the list found so
/// far until the list stops changing, then report the gas used with it.
pub fn create_access_list<R: StateReader>(
    state: &R,
    chain: &ChainConfig,
    block: &BlockContext,
    request: &CallRequest,
) -> Result<AccessListOutcome, CallError>
where
    R::Error: Send + Sync,
{
    let gas = request.gas.unwrap_or(block.gas_limit).min(block.gas_limit);
    let mut list = request.access_list.clone().unwrap_or_default();
    for _ in 0..ACCESS_LIST_ROUNDS {
        let mut with_list = request.clone();
        with_list.access_list = Some(list.clone());
        let (cfg, block_env, tx) = call_env(chain, block, &with_list, gas);
        let mut db = StateDb::new(state);
        let mut evm = Context::mainnet()
            .with_db(&mut db)
            .with_cfg(cfg)
            .with_block(block_env)
            .build_mainnet_with_inspector(AccessListInspector::new(list.clone()))
            .with_precompiles(chain.precompiles());
        let result = evm
            .inspect_tx(tx)
            .map_err(|e| call_error(e, request.from))?
            .result;
        let found = evm.inspector.into_access_list();
        if found == list {
            return Ok(AccessListOutcome {
                access_list: found,
                gas_used: result.tx_gas_used(),
                error: (!result.is_success()).then(|| failure(&result)),
            });
        }
        list = found;
    }
    Err(CallError::Invalid(format!(
        "the access list did not settle after {ACCESS_LIST_ROUNDS} runs"
    )))
}

/// geth's word for a failed message.
fn failure<H: std::fmt::Debug>(result: &revm::context::result::ExecutionResult<H>) -> String {
    match result {
        revm::context::result::ExecutionResult::Revert { .. } => "execution reverted".to_owned(),
        revm::context::result::ExecutionResult::Halt { reason, .. } => format!("{reason:?}"),
        revm::context::result::ExecutionResult::Success { .. } => String::new(),
    }
}
