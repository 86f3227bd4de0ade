//! Polled filters (`eth_newFilter`, `eth_newBlockFilter`,
//! `eth_newPendingTransactionFilter`, `eth_getFilterChanges`,
//! `eth_getFilterLogs`, `eth_uninstallFilter`), as geth keeps them: in
//! memory, removed after five minutes without a poll. A pending-transaction
//! filter reports the hashes the pool admitted since its last poll (up to
//! the backend's notice buffer; older ones are missed).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use alloy_primitives::U256;
use alloy_rpc_types_eth::{BlockNumberOrTag, Filter, FilterBlockOption};
use gont_core::{B256, Height};
use jsonrpsee::RpcModule;
use jsonrpsee::types::ErrorObjectOwned;
use serde::Serialize;
use tokio::sync::broadcast;

use super::backend::EthBackend;
use super::convert;
use super::error::RpcError;
use super::eth::{EthApi, to_rpc};
use super::heavy;

/// How long a filter lives without a poll (geth's deadline).
const FILTER_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// The most filters kept at once.
const MAX_FILTERS: usize = 10_000;

#[derive(Clone, Debug, PartialEq)]
enum FilterKind {
    Logs(Box<Filter>),
    Blocks,
    PendingTransactions,
}

#[derive(Debug)]
struct Installed {
    kind: FilterKind,
    /// The last height already reported.
    polled: Height,
    last_poll: Instant,
}

/// The filters of one chain's RPC.
#[derive(Debug, Default)]
pub(crate) struct Filters {
    installed: Mutex<HashMap<U256, Installed>>,
    /// The admitted-transaction notices of each pending-transaction filter.
    pending: Mutex<HashMap<U256, broadcast::Receiver<B256>>>,
}

/// What `eth_getFilterChanges` returns.
#[derive(Clone, Serialize)]
#[serde(untagged)]
enum Changes {
    Hashes(Vec<B256>),
    Logs(Vec<alloy_rpc_types_eth::Log>),
}

impl Filters {
    fn install(&self, kind: FilterKind, polled: Height) -> Result<U256, RpcError> {
        let mut installed = self
            .installed
            .lock()
            .map_err(|_| RpcError::Internal("filter table poisoned".into()))?;
        installed.retain(|_, f| f.last_poll.elapsed() < FILTER_TIMEOUT);
        if installed.len() >= MAX_FILTERS {
            return Err(RpcError::Limit(format!(
                "too many filters installed (limit {MAX_FILTERS})"
            )));
        }
        // Random, as geth's: a client cannot guess another's filter.
        let id = loop {
            let mut bytes = [0u8; 16];
            getrandom::getrandom(&mut bytes)
                .map_err(|e| RpcError::Internal(format!("no randomness for a filter id: {e}")))?;
            let id = U256::from_be_slice(&bytes);
            if !installed.contains_key(&id) {
                break id;
            }
        };
        installed.insert(
            id,
            Installed {
                kind,
                polled,
                last_poll: Instant::now(),
            },
        );
        Ok(id)
    }

    /// The filter, with its last reported height moved to `latest`.
    fn poll(&self, id: U256, latest: Height) -> Result<(FilterKind, Height), RpcError> {
        let mut installed = self
            .installed
            .lock()
            .map_err(|_| RpcError::Internal("filter table poisoned".into()))?;
        let f = installed
            .get_mut(&id)
            .filter(|f| f.last_poll.elapsed() < FILTER_TIMEOUT)
            .ok_or_else(|| RpcError::Refused("filter not found".into()))?;
        f.last_poll = Instant::now();
        let since = f.polled;
        f.polled = latest.max(f.polled);
        Ok((f.kind.clone(), since))
    }

    fn get(&self, id: U256) -> Result<FilterKind, RpcError> {
        let installed = self
            .installed
            .lock()
            .map_err(|_| RpcError::Internal("filter table poisoned".into()))?;
        installed
            .get(&id)
            .map(|f| f.kind.clone())
            .ok_or_else(|| RpcError::Refused("filter not found".into()))
    }

    fn uninstall(&self, id: U256) -> bool {
        if let Ok(mut pending) = self.pending.lock() {
            pending.remove(&id);
        }
        self.installed
            .lock()
            .map(|mut i| i.remove(&id).is_some())
            .unwrap_or(false)
    }

    fn install_pending(
        &self,
        notices: broadcast::Receiver<B256>,
        latest: Height,
    ) -> Result<U256, RpcError> {
        let id = self.install(FilterKind::PendingTransactions, latest)?;
        let mut pending = self
            .pending
            .lock()
            .map_err(|_| RpcError::Internal("filter table poisoned".into()))?;
        // Expired filters' receivers go with them.
        if let Ok(installed) = self.installed.lock() {
            pending.retain(|id, _| installed.contains_key(id));
        }
        pending.insert(id, notices);
        Ok(id)
    }

    /// The hashes admitted since the filter's last poll.
    fn drain_pending(&self, id: U256) -> Result<Vec<B256>, RpcError> {
        let mut pending = self
            .pending
            .lock()
            .map_err(|_| RpcError::Internal("filter table poisoned".into()))?;
        let notices = pending
            .get_mut(&id)
            .ok_or_else(|| RpcError::Refused("filter not found".into()))?;
        let mut hashes = Vec::new();
        loop {
            match notices.try_recv() {
                Ok(hash) => hashes.push(hash),
                Err(broadcast::error::TryRecvError::Lagged(_)) => {}
                Err(_) => return Ok(hashes),
            }
        }
    }
}

/// Registers the filter methods.
pub(crate) fn register<B: EthBackend>(
    module: &mut RpcModule<EthApi<B>>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_method("eth_newFilter", |params, api, _| {
        let (filter,): (Filter,) = params.parse()?;
        // Check the range now, so a bad filter fails at install.
        to_rpc(api.log_query(&filter))?;
        let latest = to_rpc(api.backend.latest())?;
        to_rpc(
            api.filters
                .install(FilterKind::Logs(Box::new(filter)), latest),
        )
    })?;
    module.register_method("eth_newBlockFilter", |_, api, _| {
        let latest = to_rpc(api.backend.latest())?;
        to_rpc(api.filters.install(FilterKind::Blocks, latest))
    })?;
    module.register_method("eth_newPendingTransactionFilter", |_, api, _| {
        let latest = to_rpc(api.backend.latest())?;
        let notices = api.backend.new_pending_transactions();
        to_rpc(api.filters.install_pending(notices, latest))
    })?;
    module.register_method(
        "eth_uninstallFilter",
        |params, api, _| -> Result<bool, ErrorObjectOwned> {
            let (id,): (U256,) = params.parse()?;
            Ok(api.filters.uninstall(id))
        },
    )?;
    heavy::register(module, "eth_getFilterChanges", |params, api| {
        let (id,): (U256,) = params.parse()?;
        let latest = to_rpc(api.backend.latest())?;
        let (kind, since) = to_rpc(api.filters.poll(id, latest))?;
        if kind == FilterKind::PendingTransactions {
            return to_rpc(api.filters.drain_pending(id)).map(Changes::Hashes);
        }
        if latest <= since {
            return Ok(match kind {
                FilterKind::Blocks | FilterKind::PendingTransactions => Changes::Hashes(Vec::new()),
                FilterKind::Logs(_) => Changes::Logs(Vec::new()),
            });
        }
        match kind {
            FilterKind::PendingTransactions => Ok(Changes::Hashes(Vec::new())),
            FilterKind::Blocks => {
                let mut hashes = Vec::new();
                for h in since.0 + 1..=latest.0 {
                    if let Some(stored) = to_rpc(api.backend.block(Height(h)))? {
                        hashes.push(convert::block_hash(stored.id));
                    }
                }
                Ok(Changes::Hashes(hashes))
            }
            FilterKind::Logs(filter) => {
                // New logs only: from after the last poll to the latest block,
                // within the filter's own range.
                let mut query = to_rpc(api.log_query(&Filter {
                    block_option: FilterBlockOption::Range {
                        from_block: Some(BlockNumberOrTag::Number(since.0 + 1)),
                        to_block: Some(BlockNumberOrTag::Number(latest.0)),
                    },
                    ..(*filter).clone()
                }))?;
                if let FilterBlockOption::Range {
                    from_block,
                    to_block,
                } = filter.block_option
                {
                    if let Some(BlockNumberOrTag::Number(n)) = from_block {
                        query.from = query.from.max(Height(n));
                    }
                    if let Some(BlockNumberOrTag::Number(n)) = to_block {
                        query.to = query.to.min(Height(n));
                    }
                }
                if query.from > query.to {
                    return Ok(Changes::Logs(Vec::new()));
                }
                to_rpc(api.logs(&query)).map(Changes::Logs)
            }
        }
    })?;
    heavy::register(module, "eth_getFilterLogs", |params, api| {
        let (id,): (U256,) = params.parse()?;
        match to_rpc(api.filters.get(id))? {
            FilterKind::Logs(filter) => {
                let query = to_rpc(api.log_query(&filter))?;
                to_rpc(api.logs(&query))
            }
            FilterKind::Blocks | FilterKind::PendingTransactions => {
                Err(RpcError::InvalidParams("filter is not a log filter".into()).into())
            }
        }
    })?;
    Ok(())
}
