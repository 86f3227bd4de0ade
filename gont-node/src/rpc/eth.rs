//! The `eth_`, `net_` and `web3_` methods of one chain.

use std::sync::Arc;

use alloy_primitives::U64;
use alloy_rpc_types_eth::state::StateOverride;
use alloy_rpc_types_eth::{
    BlockId as RpcBlockId, BlockNumberOrTag, FeeHistory, Filter, FilterBlockOption, SyncInfo,
    SyncStatus, TransactionRequest,
};
use gont_core::{Address, B256, BlockId, Bytes, Height, Receipt, U256};
use jsonrpsee::RpcModule;
use jsonrpsee::types::{ErrorObjectOwned, Params};
use serde::de::DeserializeOwned;

use super::RpcLimits;
use super::backend::{EthBackend, LogFilter, StoredBlock};
use super::convert::{self, TxPosition};
use super::error::{RpcError, revert_reason};
use super::filters::Filters;
use super::heavy;

/// The state the methods share.
pub(crate) struct EthApi<B> {
    pub(crate) backend: Arc<B>,
    pub(crate) filters: Filters,
    /// Where methods that execute or scan run.
    pub(crate) heavy: super::heavy::Heavy,
    pub(crate) limits: RpcLimits,
    pub(crate) node: Arc<dyn super::NodeInfo>,
    pub(crate) new_blocks: tokio::sync::broadcast::Sender<StoredBlock>,
}

/// The tip suggested on top of the base fee: 1 gwei, as geth's default
/// `--miner.gasprice` floor for priority fees.
const SUGGESTED_TIP: u128 = 1_000_000_000;

type RpcResult<T> = Result<T, ErrorObjectOwned>;

impl<B: EthBackend> EthApi<B> {
    /// The height a block tag stands for. `pending` reads as `latest`, since
    /// the pending block is built only by the proposer.
    pub(super) fn height_of_tag(&self, tag: BlockNumberOrTag) -> Result<Height, RpcError> {
        let latest = self.backend.latest()?;
        match tag {
            BlockNumberOrTag::Latest
            | BlockNumberOrTag::Safe
            | BlockNumberOrTag::Finalized
            | BlockNumberOrTag::Pending => Ok(latest),
            BlockNumberOrTag::Earliest => Ok(Height(0)),
            BlockNumberOrTag::Number(n) if n <= latest.0 => Ok(Height(n)),
            BlockNumberOrTag::Number(n) => Err(RpcError::Refused(format!(
                "block #{n} not found (latest is #{latest})"
            ))),
        }
    }

    pub(super) fn height_of_block_id(&self, id: Option<RpcBlockId>) -> Result<Height, RpcError> {
        match id.unwrap_or(RpcBlockId::Number(BlockNumberOrTag::Latest)) {
            RpcBlockId::Number(tag) => self.height_of_tag(tag),
            RpcBlockId::Hash(h) => self
                .backend
                .height_of(BlockId(h.block_hash.0))?
                .ok_or_else(|| RpcError::Refused(format!("block {} not found", h.block_hash))),
        }
    }

    pub(super) fn stored(&self, height: Height) -> Result<Option<StoredBlock>, RpcError> {
        self.backend.block(height)
    }

    pub(super) fn rpc_block(
        &self,
        stored: Option<StoredBlock>,
        full: bool,
    ) -> Result<Option<alloy_rpc_types_eth::Block>, RpcError> {
        stored
            .map(|s| convert::rpc_block(&s, full).map_err(|e| RpcError::Internal(e.to_string())))
            .transpose()
    }

    fn position(stored: &StoredBlock, index: u32) -> TxPosition {
        TxPosition {
            block_hash: convert::block_hash(stored.id),
            block_number: stored.block.header.height.0,
            index: u64::from(index),
            timestamp: stored.block.header.time.as_secs(),
        }
    }

    /// Transaction `index` of a stored block, if it has one.
    pub(super) fn transaction_at(
        stored: &StoredBlock,
        index: u32,
    ) -> Result<Option<alloy_rpc_types_eth::Transaction>, RpcError> {
        let Some(raw) = stored.block.body.transactions.get(index as usize) else {
            return Ok(None);
        };
        let (tx, from) = raw
            .decode_and_recover()
            .map_err(|e| RpcError::Internal(e.to_string()))?;
        let base_fee = stored.block.header.execution.base_fee_per_gas;
        Ok(Some(convert::rpc_transaction(
            tx,
            from,
            Some(Self::position(stored, index)),
            Some(base_fee),
        )))
    }

    /// The receipt of transaction `index` of a stored block, its logs
    /// indexed within the block.
    pub(super) fn receipt_at(
        stored: &StoredBlock,
        index: u32,
    ) -> Option<alloy_rpc_types_eth::TransactionReceipt> {
        let before: usize = stored
            .receipts
            .iter()
            .take(index as usize)
            .map(|r| r.logs.len())
            .sum();
        let receipt = stored.receipts.get(index as usize)?;
        Some(convert::rpc_receipt(
            receipt,
            Self::position(stored, index),
            before as u64,
        ))
    }

    fn transaction_by_hash(
        &self,
        hash: B256,
    ) -> Result<Option<alloy_rpc_types_eth::Transaction>, RpcError> {
        if let Some((height, index)) = self.backend.tx_location(hash)? {
            let Some(stored) = self.stored(height)? else {
                return Ok(None);
            };
            return Self::transaction_at(&stored, index);
        }
        match self.backend.pending_transaction(hash) {
            Some(raw) => {
                let (tx, from) = raw
                    .decode_and_recover()
                    .map_err(|e| RpcError::Internal(e.to_string()))?;
                Ok(Some(convert::rpc_transaction(tx, from, None, None)))
            }
            None => Ok(None),
        }
    }

    fn receipt_by_hash(
        &self,
        hash: B256,
    ) -> Result<Option<alloy_rpc_types_eth::TransactionReceipt>, RpcError> {
        let Some((height, index)) = self.backend.tx_location(hash)? else {
            return Ok(None);
        };
        let Some(stored) = self.stored(height)? else {
            return Ok(None);
        };
        Ok(Self::receipt_at(&stored, index))
    }

    /// Refuses a filter with more addresses or topic alternatives than the
    /// limits allow.
    pub(crate) fn check_filter_size(&self, filter: &Filter) -> Result<(), RpcError> {
        let addresses = filter.address.len();
        if addresses > self.limits.max_filter_addresses {
            return Err(RpcError::Limit(format!(
                "too many addresses in filter: {addresses}, the limit is {}",
                self.limits.max_filter_addresses
            )));
        }
        if let Some(topics) = filter
            .topics
            .iter()
            .map(|t| t.len())
            .find(|&n| n > self.limits.max_filter_topics)
        {
            return Err(RpcError::Limit(format!(
                "too many topics at one position of filter: {topics}, the limit is {}",
                self.limits.max_filter_topics
            )));
        }
        Ok(())
    }

    /// A filter's query, its size and range checked against the limits.
    pub(crate) fn log_query(&self, filter: &Filter) -> Result<LogFilter, RpcError> {
        self.check_filter_size(filter)?;
        let (from, to) = match filter.block_option {
            FilterBlockOption::AtBlockHash(hash) => {
                let h = self
                    .backend
                    .height_of(BlockId(hash.0))?
                    .ok_or_else(|| RpcError::Refused(format!("block {hash} not found")))?;
                (h, h)
            }
            FilterBlockOption::Range {
                from_block,
                to_block,
            } => {
                let from = self.height_of_tag(from_block.unwrap_or(BlockNumberOrTag::Latest))?;
                let to = self.height_of_tag(to_block.unwrap_or(BlockNumberOrTag::Latest))?;
                (from, to)
            }
        };
        if from > to {
            return Err(RpcError::InvalidParams(format!(
                "invalid block range: from #{from} is after to #{to}"
            )));
        }
        if to.0 - from.0 >= self.limits.max_log_range {
            return Err(RpcError::Limit(format!(
                "block range too large: {} blocks, the limit is {}",
                to.0 - from.0 + 1,
                self.limits.max_log_range
            )));
        }
        Ok(LogFilter {
            addresses: filter.address.iter().copied().collect(),
            topics: filter
                .topics
                .iter()
                .map(|t| t.iter().copied().collect())
                .collect(),
            from,
            to,
            limit: self.limits.max_logs + 1,
        })
    }

    pub(crate) fn logs(
        &self,
        query: &LogFilter,
    ) -> Result<Vec<alloy_rpc_types_eth::Log>, RpcError> {
        let records = self.backend.logs(query)?;
        if records.len() > self.limits.max_logs {
            return Err(RpcError::Limit(format!(
                "query returned more than {} results; narrow the block range or the filter",
                self.limits.max_logs
            )));
        }
        Ok(records
            .into_iter()
            .map(|(r, timestamp)| {
                let position = TxPosition {
                    block_hash: convert::block_hash(r.block_id),
                    block_number: r.height.0,
                    index: r.tx_index,
                    timestamp,
                };
                convert::rpc_log(&r.log, position, r.tx_hash, r.log_index)
            })
            .collect())
    }

    /// `request` with its gas limited to [`RpcLimits::call_gas_cap`] (an
    /// absent limit becomes the cap; the block gas limit caps it further).
    pub(crate) fn capped(&self, mut request: TransactionRequest) -> TransactionRequest {
        let cap = self.limits.call_gas_cap;
        request.gas = Some(request.gas.unwrap_or(cap).min(cap));
        request
    }

    fn call(
        &self,
        request: &TransactionRequest,
        block: Option<RpcBlockId>,
        overrides: Option<&StateOverride>,
    ) -> Result<Bytes, RpcError> {
        let height = self.height_of_block_id(block)?;
        let outcome = self.backend.call(height, request, overrides)?;
        if outcome.success {
            Ok(outcome.output)
        } else {
            Err(RpcError::Reverted {
                reason: revert_reason(&outcome.output),
                data: outcome.output,
            })
        }
    }

    fn fee_history(
        &self,
        count: u64,
        newest: BlockNumberOrTag,
        percentiles: Option<Vec<f64>>,
    ) -> Result<FeeHistory, RpcError> {
        let count = count.min(1024);
        let percentiles = percentiles.filter(|ps| !ps.is_empty());
        let most = self.limits.max_fee_history_percentiles;
        if let Some(ps) = percentiles.as_ref().filter(|ps| ps.len() > most) {
            return Err(RpcError::InvalidParams(format!(
                "too many reward percentiles: {}, the limit is {most}",
                ps.len()
            )));
        }
        if let Some(ps) = &percentiles {
            let rising = ps.windows(2).all(|w| matches!(w, [a, b] if a <= b));
            if !rising || ps.iter().any(|p| !(0.0..=100.0).contains(p)) {
                return Err(RpcError::InvalidParams(format!(
                    "invalid reward percentiles {ps:?}: they must rise within 0..=100"
                )));
            }
        }
        let newest = self.height_of_tag(newest)?;
        let oldest = Height(newest.0.saturating_sub(count.saturating_sub(1)));
        let mut base_fee_per_gas = Vec::new();
        let mut gas_used_ratio = Vec::new();
        let mut reward = Vec::new();
        for h in oldest.0..=newest.0 {
            let Some(stored) = self.stored(Height(h))? else {
                continue;
            };
            let exec = stored.block.header.execution;
            base_fee_per_gas.push(u128::from(exec.base_fee_per_gas));
            gas_used_ratio.push(if exec.gas_limit == 0 {
                0.0
            } else {
                exec.gas_used as f64 / exec.gas_limit as f64
            });
            if let Some(ps) = &percentiles {
                reward.push(rewards(
                    &stored.receipts,
                    exec.base_fee_per_gas,
                    exec.gas_used,
                    ps,
                ));
            }
        }
        // geth's last entry: the base fee of the block after the newest
        // (the next block's when the newest is the head).
        let after = match self.stored(Height(newest.0.saturating_add(1)))? {
            Some(next) => next.block.header.execution.base_fee_per_gas,
            None => self.backend.next_base_fee()?,
        };
        base_fee_per_gas.push(u128::from(after));
        Ok(FeeHistory {
            base_fee_per_gas,
            gas_used_ratio,
            base_fee_per_blob_gas: Vec::new(),
            blob_gas_used_ratio: Vec::new(),
            oldest_block: oldest.0,
            reward: percentiles.map(|_| reward),
        })
    }
}

/// A block's reward at each of `percentiles` (rising, in 0..=100) as geth
/// computes it: the tips (effective price less the base fee) sorted, and
/// each percentile of the block's gas walked through them, so that a
/// transaction weighs by the gas it used; 0 for an empty block.
fn rewards(receipts: &[Receipt], base_fee: u64, block_gas: u64, percentiles: &[f64]) -> Vec<u128> {
    let mut tips: Vec<(u128, u64)> = receipts
        .iter()
        .map(|r| {
            (
                r.effective_gas_price.saturating_sub(u128::from(base_fee)),
                r.gas_used,
            )
        })
        .collect();
    tips.sort_unstable();
    let Some(&(first_tip, first_gas)) = tips.first() else {
        return vec![0; percentiles.len()];
    };
    let (mut index, mut tip, mut used) = (0, first_tip, first_gas);
    percentiles
        .iter()
        .map(|p| {
            // Gas is below 2^53 (a block's limit), so the float is exact
            // enough, and the percentile keeps it in range.
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let threshold = (block_gas as f64 * p / 100.0) as u64;
            while used < threshold {
                let Some(&(next_tip, gas)) = tips.get(index + 1) else {
                    break;
                };
                index += 1;
                tip = next_tip;
                used = used.saturating_add(gas);
            }
            tip
        })
        .collect()
}

/// A required parameter and an optional one (clients omit trailing
/// optional parameters, e.g. the block tag).
pub(super) fn required_optional<A: DeserializeOwned, B: DeserializeOwned>(
    params: &Params<'_>,
) -> RpcResult<(A, Option<B>)> {
    let mut seq = params.sequence();
    let a = seq.next()?;
    let b = seq.optional_next()?;
    Ok((a, b))
}

/// A required parameter and two optional ones.
pub(super) fn required_optional2<A: DeserializeOwned, B: DeserializeOwned, C: DeserializeOwned>(
    params: &Params<'_>,
) -> RpcResult<(A, Option<B>, Option<C>)> {
    let mut seq = params.sequence();
    let a = seq.next()?;
    let b = seq.optional_next()?;
    let c = seq.optional_next()?;
    Ok((a, b, c))
}

pub(super) fn to_rpc<T>(r: Result<T, RpcError>) -> RpcResult<T> {
    r.map_err(ErrorObjectOwned::from)
}

/// Registers every method on `module`.
pub(crate) fn register<B: EthBackend>(
    module: &mut RpcModule<EthApi<B>>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_method("web3_clientVersion", |_, _, _| -> RpcResult<String> {
        Ok(format!(
            "gont/v{}/{}-{}/rust",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH
        ))
    })?;
    module.register_method("net_version", |_, api, _| -> RpcResult<String> {
        Ok(api.backend.chain_id().0.to_string())
    })?;
    module.register_method("net_listening", |_, _, _| -> RpcResult<bool> { Ok(true) })?;
    module.register_method("eth_chainId", |_, api, _| -> RpcResult<U64> {
        Ok(U64::from(api.backend.chain_id().0))
    })?;
    module.register_method("eth_blockNumber", |_, api, _| -> RpcResult<U64> {
        to_rpc(api.backend.latest().map(|h| U64::from(h.0)))
    })?;
    module.register_method("eth_syncing", |_, api, _| -> RpcResult<SyncStatus> {
        Ok(match api.backend.syncing() {
            None => SyncStatus::None,
            Some((current, highest)) => SyncStatus::Info(Box::new(SyncInfo {
                starting_block: U256::ZERO,
                current_block: U256::from(current.0),
                highest_block: U256::from(highest.0),
                ..SyncInfo::default()
            })),
        })
    })?;
    module.register_method("eth_getBalance", |params, api, _| -> RpcResult<U256> {
        let (address, block): (Address, Option<RpcBlockId>) = required_optional(&params)?;
        let height = to_rpc(api.height_of_block_id(block))?;
        to_rpc(
            api.backend
                .account(height, address)
                .map(|a| a.map_or(U256::ZERO, |a| a.balance)),
        )
    })?;
    module.register_method(
        "eth_getTransactionCount",
        |params, api, _| -> RpcResult<U64> {
            let (address, block): (Address, Option<RpcBlockId>) = required_optional(&params)?;
            if block == Some(RpcBlockId::Number(BlockNumberOrTag::Pending)) {
                return to_rpc(api.backend.pending_nonce(address).map(U64::from));
            }
            let height = to_rpc(api.height_of_block_id(block))?;
            to_rpc(
                api.backend
                    .account(height, address)
                    .map(|a| U64::from(a.map_or(0, |a| a.nonce))),
            )
        },
    )?;
    module.register_method("eth_getCode", |params, api, _| -> RpcResult<Bytes> {
        let (address, block): (Address, Option<RpcBlockId>) = required_optional(&params)?;
        let height = to_rpc(api.height_of_block_id(block))?;
        to_rpc(api.backend.code(height, address))
    })?;
    module.register_method("eth_getStorageAt", |params, api, _| -> RpcResult<B256> {
        let mut seq = params.sequence();
        let address: Address = seq.next()?;
        let slot: U256 = seq.next()?;
        let block: Option<RpcBlockId> = seq.optional_next()?;
        let height = to_rpc(api.height_of_block_id(block))?;
        to_rpc(
            api.backend
                .storage_at(height, address, slot)
                .map(B256::from),
        )
    })?;
    heavy::register(module, "eth_call", |params, api| -> RpcResult<Bytes> {
        let (request, block, overrides): (
            TransactionRequest,
            Option<RpcBlockId>,
            Option<StateOverride>,
        ) = required_optional2(&params)?;
        to_rpc(api.call(&api.capped(request), block, overrides.as_ref()))
    })?;
    heavy::register(module, "eth_estimateGas", |params, api| -> RpcResult<U64> {
        let (request, block, overrides): (
            TransactionRequest,
            Option<RpcBlockId>,
            Option<StateOverride>,
        ) = required_optional2(&params)?;
        let height = to_rpc(api.height_of_block_id(block))?;
        to_rpc(
            api.backend
                .estimate_gas(
                    height,
                    &api.capped(request),
                    overrides.as_ref(),
                    api.limits.estimate_gas_budget,
                )
                .map(U64::from),
        )
    })?;
    module.register_method("eth_gasPrice", |_, api, _| -> RpcResult<U256> {
        to_rpc(
            api.backend
                .next_base_fee()
                .map(|b| U256::from(u128::from(b) + SUGGESTED_TIP)),
        )
    })?;
    module.register_method("eth_maxPriorityFeePerGas", |_, _, _| -> RpcResult<U256> {
        Ok(U256::from(SUGGESTED_TIP))
    })?;
    heavy::register(
        module,
        "eth_feeHistory",
        |params, api| -> RpcResult<FeeHistory> {
            let mut seq = params.sequence();
            let count: U64 = seq.next()?;
            let newest: BlockNumberOrTag = seq.next()?;
            let percentiles: Option<Vec<f64>> = seq.optional_next()?;
            to_rpc(api.fee_history(count.to(), newest, percentiles))
        },
    )?;
    module.register_method(
        "eth_sendRawTransaction",
        |params, api, _| -> RpcResult<B256> {
            let (raw,): (Bytes,) = params.parse()?;
            to_rpc(api.backend.submit(raw))
        },
    )?;
    module.register_method("eth_getTransactionByHash", |params, api, _| {
        let (hash,): (B256,) = params.parse()?;
        to_rpc(api.transaction_by_hash(hash))
    })?;
    module.register_method("eth_getTransactionReceipt", |params, api, _| {
        let (hash,): (B256,) = params.parse()?;
        to_rpc(api.receipt_by_hash(hash))
    })?;
    module.register_method("eth_getBlockByNumber", |params, api, _| {
        let (tag, full): (BlockNumberOrTag, bool) = params.parse()?;
        let stored = match api.height_of_tag(tag) {
            Ok(h) => to_rpc(api.stored(h))?,
            // A future block is `null`, as in geth.
            Err(RpcError::Refused(_)) => None,
            Err(e) => return Err(e.into()),
        };
        to_rpc(api.rpc_block(stored, full))
    })?;
    module.register_method("eth_getBlockByHash", |params, api, _| {
        let (hash, full): (B256, bool) = params.parse()?;
        let stored = match to_rpc(api.backend.height_of(BlockId(hash.0)))? {
            Some(h) => to_rpc(api.stored(h))?,
            None => None,
        };
        to_rpc(api.rpc_block(stored, full))
    })?;
    module.register_method(
        "eth_getBlockTransactionCountByNumber",
        |params, api, _| -> RpcResult<Option<U64>> {
            let (tag,): (BlockNumberOrTag,) = params.parse()?;
            let Ok(h) = api.height_of_tag(tag) else {
                return Ok(None);
            };
            to_rpc(
                api.stored(h)
                    .map(|s| s.map(|s| U64::from(s.block.body.transactions.len()))),
            )
        },
    )?;
    module.register_method(
        "eth_getBlockTransactionCountByHash",
        |params, api, _| -> RpcResult<Option<U64>> {
            let (hash,): (B256,) = params.parse()?;
            let Some(h) = to_rpc(api.backend.height_of(BlockId(hash.0)))? else {
                return Ok(None);
            };
            to_rpc(
                api.stored(h)
                    .map(|s| s.map(|s| U64::from(s.block.body.transactions.len()))),
            )
        },
    )?;
    heavy::register(module, "eth_getLogs", |params, api| {
        let (filter,): (Filter,) = params.parse()?;
        let query = to_rpc(api.log_query(&filter))?;
        to_rpc(api.logs(&query))
    })?;
    super::filters::register(module)?;
    super::blocks::register(module)?;
    super::txpool::register(module)?;
    Ok(())
}
