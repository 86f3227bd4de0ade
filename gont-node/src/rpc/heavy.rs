//! Methods that execute or scan (`eth_call`, `eth_estimateGas`,
//! `eth_getLogs`, `eth_feeHistory`, filters' logs, `eth_createAccessList`,
//! `debug_trace*`): parsed on the server's threads, run on tokio's blocking
//! pool, never on the threads consensus and networking use; at most
//! [`RpcLimits::max_concurrent_executions`] at once, the others waiting for
//! a turn; and answered within [`RpcLimits::evm_timeout_ms`], waiting
//! included, as geth's `--rpc.evmtimeout` does.
//!
//! A run that times out is not interrupted: the client has its error, the
//! run keeps its turn until it ends, so the bound on concurrent work holds.
//! Gas caps bound how long it runs ([`RpcLimits::call_gas_cap`],
//! [`RpcLimits::estimate_gas_budget`]).

use std::sync::Arc;
use std::time::Duration;

use jsonrpsee::RpcModule;
use jsonrpsee::types::{ErrorObjectOwned, Params};
use serde::Serialize;
use tokio::sync::Semaphore;

use super::RpcLimits;
use super::backend::EthBackend;
use super::error::RpcError;
use super::eth::EthApi;

/// The turns and the timeout of a server's heavy methods.
#[derive(Debug)]
pub(crate) struct Heavy {
    turns: Arc<Semaphore>,
    timeout: Duration,
}

impl Heavy {
    pub(crate) fn new(limits: &RpcLimits) -> Self {
        let turns = match limits.max_concurrent_executions {
            0 => std::thread::available_parallelism()
                .map_or(1, |n| n.get().saturating_sub(1))
                .max(1),
            n => n,
        };
        Self {
            turns: Arc::new(Semaphore::new(turns)),
            timeout: Duration::from_millis(limits.evm_timeout_ms),
        }
    }

    /// Runs `work` on the blocking pool when a turn is free, answering
    /// within the timeout.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, ErrorObjectOwned> + Send + 'static,
    ) -> Result<T, ErrorObjectOwned> {
        let turns = self.turns.clone();
        let run = async move {
            let turn = turns
                .acquire_owned()
                .await
                .map_err(|_| RpcError::Internal("the execution turns are closed".into()))?;
            tokio::task::spawn_blocking(move || {
                let _turn = turn;
                work()
            })
            .await
            .map_err(|e| ErrorObjectOwned::from(RpcError::Internal(e.to_string())))?
        };
        tokio::time::timeout(self.timeout, run)
            .await
            .map_err(|_| RpcError::Timeout(self.timeout))?
    }
}

/// Registers `name` as a heavy method: `work` gets the parameters and the
/// API on the blocking pool, under [`Heavy`]'s turns and timeout.
pub(crate) fn register<B, T, F>(
    module: &mut RpcModule<EthApi<B>>,
    name: &'static str,
    work: F,
) -> Result<(), jsonrpsee::core::RegisterMethodError>
where
    B: EthBackend,
    T: Serialize + Clone + Send + 'static,
    F: Fn(Params<'static>, &EthApi<B>) -> Result<T, ErrorObjectOwned>
        + Clone
        + Send
        + Sync
        + 'static,
{
    module.register_async_method(name, move |params, api, _| {
        let work = work.clone();
        async move {
            // One handle runs the work, the other moves into it.
            let runner = api.clone();
            runner.heavy.run(move || work(params, &api)).await
        }
    })?;
    Ok(())
}
