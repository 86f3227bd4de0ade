//! geth's tracing methods of the `debug_` namespace, and
//! `eth_createAccessList`, which runs on the same inspectors.
//!
//! - `debug_traceTransaction(hash, options?)`: the block is replayed up to
//!   the transaction, which is traced.
//! - `debug_traceBlockByNumber(tag, options?)`, `debug_traceBlockByHash`:
//!   every transaction, as `[{ txHash, result }]`.
//! - `debug_traceCall(request, block?, options?)`: a call as `eth_call`
//!   runs it, with `stateOverrides`; `blockOverrides` and `txIndex` are
//!   refused.
//!
//! The options are geth's: no `tracer` for the struct logger (at most
//! [`gont_vm::trace::MAX_STRUCT_LOGS`] steps per transaction), or
//! `callTracer`, `prestateTracer`, `4byteTracer`, `flatCallTracer`,
//! `muxTracer`, `noopTracer` with their `tracerConfig`. These methods run on
//! the blocking pool, not on the server's threads.

use alloy_primitives::U256;
use alloy_rpc_types_eth::{
    AccessListResult, BlockId as RpcBlockId, BlockNumberOrTag, TransactionRequest,
};
use gont_core::{B256, BlockId, Height};
use gont_vm::trace::{
    GethDebugTracingCallOptions, GethDebugTracingOptions, GethTrace, TraceResult,
};
use jsonrpsee::RpcModule;
use jsonrpsee::types::ErrorObjectOwned;

use super::backend::EthBackend;
use super::error::RpcError;
use super::eth::{EthApi, required_optional, required_optional2, to_rpc};
use super::heavy;

type RpcResult<T> = Result<T, ErrorObjectOwned>;

impl<B: EthBackend> EthApi<B> {
    fn trace_transaction(
        &self,
        hash: B256,
        options: &GethDebugTracingOptions,
    ) -> Result<GethTrace, RpcError> {
        let (height, _) = self
            .backend
            .tx_location(hash)?
            .ok_or_else(|| RpcError::Refused(format!("transaction {hash} not found")))?;
        let traces = self.backend.trace_block(height, Some(hash), options)?;
        match traces.into_iter().next() {
            Some(TraceResult::Success { result, .. }) => Ok(result),
            Some(TraceResult::Error { error, .. }) => Err(RpcError::Refused(error)),
            None => Err(RpcError::Internal(format!(
                "transaction {hash} is not in block #{height}"
            ))),
        }
    }

    fn trace_block(
        &self,
        height: Height,
        options: &GethDebugTracingOptions,
    ) -> Result<Vec<TraceResult>, RpcError> {
        self.backend.trace_block(height, None, options)
    }

    fn trace_call(
        &self,
        request: &TransactionRequest,
        block: Option<RpcBlockId>,
        options: &GethDebugTracingCallOptions,
    ) -> Result<GethTrace, RpcError> {
        if options.block_overrides.is_some() || options.tx_index.is_some() {
            return Err(RpcError::InvalidParams(
                "blockOverrides and txIndex are not supported".to_owned(),
            ));
        }
        let height = self.height_of_block_id(block)?;
        self.backend.trace_call(
            height,
            request,
            options.state_overrides.as_ref(),
            &options.tracing_options,
        )
    }

    fn create_access_list(
        &self,
        request: &TransactionRequest,
        block: Option<RpcBlockId>,
    ) -> Result<AccessListResult, RpcError> {
        let height = self.height_of_block_id(block)?;
        let outcome = self.backend.create_access_list(height, request)?;
        Ok(AccessListResult {
            access_list: outcome.access_list,
            gas_used: U256::from(outcome.gas_used),
            error: outcome.error,
        })
    }
}

/// Registers the tracing methods and `eth_createAccessList` on `module`.
pub(crate) fn register<B: EthBackend>(
    module: &mut RpcModule<EthApi<B>>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    heavy::register(
        module,
        "debug_traceTransaction",
        |params, api| -> RpcResult<GethTrace> {
            let (hash, options): (B256, Option<GethDebugTracingOptions>) =
                required_optional(&params)?;
            to_rpc(api.trace_transaction(hash, &options.unwrap_or_default()))
        },
    )?;
    heavy::register(
        module,
        "debug_traceBlockByNumber",
        |params, api| -> RpcResult<Vec<TraceResult>> {
            let (tag, options): (BlockNumberOrTag, Option<GethDebugTracingOptions>) =
                required_optional(&params)?;
            let height = to_rpc(api.height_of_tag(tag))?;
            to_rpc(api.trace_block(height, &options.unwrap_or_default()))
        },
    )?;
    heavy::register(
        module,
        "debug_traceBlockByHash",
        |params, api| -> RpcResult<Vec<TraceResult>> {
            let (hash, options): (B256, Option<GethDebugTracingOptions>) =
                required_optional(&params)?;
            let height = to_rpc(api.backend.height_of(BlockId(hash.0)))?
                .ok_or_else(|| RpcError::Refused(format!("block {hash} not found")))
                .map_err(ErrorObjectOwned::from)?;
            to_rpc(api.trace_block(height, &options.unwrap_or_default()))
        },
    )?;
    heavy::register(
        module,
        "debug_traceCall",
        |params, api| -> RpcResult<GethTrace> {
            let (request, block, options): (
                TransactionRequest,
                Option<RpcBlockId>,
                Option<GethDebugTracingCallOptions>,
            ) = required_optional2(&params)?;
            to_rpc(api.trace_call(&api.capped(request), block, &options.unwrap_or_default()))
        },
    )?;
    heavy::register(
        module,
        "eth_createAccessList",
        |params, api| -> RpcResult<AccessListResult> {
            let (request, block): (TransactionRequest, Option<RpcBlockId>) =
                required_optional(&params)?;
            to_rpc(api.create_access_list(&api.capped(request), block))
        },
    )?;
    Ok(())
}
