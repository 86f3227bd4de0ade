//! geth's `txpool_` namespace: what the pool holds, `pending` (executable
//! now) and `queued` (waiting for a nonce gap to fill), by sender and nonce.
//! Nonces are decimal keys and addresses checksummed, as geth writes them.

use std::collections::BTreeMap;

use alloy_consensus::Transaction as _;
use alloy_primitives::U64;
use gont_core::{Address, RawTransaction};
use jsonrpsee::RpcModule;
use jsonrpsee::types::ErrorObjectOwned;
use serde_json::{Value, json};

use super::backend::{EthBackend, TxPool};
use super::convert;
use super::error::RpcError;
use super::eth::{EthApi, to_rpc};

type RpcResult<T> = Result<T, ErrorObjectOwned>;
type BySender = BTreeMap<Address, BTreeMap<u64, RawTransaction>>;

/// A pooled transaction as `eth_getTransactionByHash` shows a pending one.
fn transaction(raw: &RawTransaction) -> Result<Value, RpcError> {
    let (tx, from) = raw
        .decode_and_recover()
        .map_err(|e| RpcError::Internal(e.to_string()))?;
    serde_json::to_value(convert::rpc_transaction(tx, from, None, None))
        .map_err(|e| RpcError::Internal(e.to_string()))
}

/// geth's one-line summary: `to: value wei + gas gas × price wei`.
fn summary(raw: &RawTransaction) -> Result<String, RpcError> {
    let (tx, _) = raw
        .decode_and_recover()
        .map_err(|e| RpcError::Internal(e.to_string()))?;
    let to = tx
        .to()
        .map_or_else(|| "contract creation".to_owned(), |a| a.to_checksum(None));
    Ok(format!(
        "{to}: {} wei + {} gas × {} wei",
        tx.value(),
        tx.gas_limit(),
        tx.max_fee_per_gas()
    ))
}

/// Each sender's transactions rendered by `render`.
fn by_sender(
    side: &BySender,
    render: impl Fn(&RawTransaction) -> Result<Value, RpcError>,
) -> Result<Value, RpcError> {
    let mut out = serde_json::Map::new();
    for (sender, txs) in side {
        out.insert(sender.to_checksum(None), by_nonce(txs, &render)?);
    }
    Ok(Value::Object(out))
}

fn by_nonce(
    txs: &BTreeMap<u64, RawTransaction>,
    render: impl Fn(&RawTransaction) -> Result<Value, RpcError>,
) -> Result<Value, RpcError> {
    let mut out = serde_json::Map::new();
    for (nonce, raw) in txs {
        out.insert(nonce.to_string(), render(raw)?);
    }
    Ok(Value::Object(out))
}

fn content(pool: &TxPool) -> Result<Value, RpcError> {
    Ok(json!({
        "pending": by_sender(&pool.pending, transaction)?,
        "queued": by_sender(&pool.queued, transaction)?,
    }))
}

fn content_from(pool: &TxPool, sender: Address) -> Result<Value, RpcError> {
    let empty = BTreeMap::new();
    Ok(json!({
        "pending": by_nonce(pool.pending.get(&sender).unwrap_or(&empty), transaction)?,
        "queued": by_nonce(pool.queued.get(&sender).unwrap_or(&empty), transaction)?,
    }))
}

fn inspect(pool: &TxPool) -> Result<Value, RpcError> {
    let line = |raw: &RawTransaction| summary(raw).map(Value::String);
    Ok(json!({
        "pending": by_sender(&pool.pending, line)?,
        "queued": by_sender(&pool.queued, line)?,
    }))
}

fn count(side: &BySender) -> U64 {
    U64::from(side.values().map(BTreeMap::len).sum::<usize>())
}

pub(super) fn register<B: EthBackend>(
    module: &mut RpcModule<EthApi<B>>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_method("txpool_status", |_, api, _| -> RpcResult<Value> {
        let pool = to_rpc(api.backend.txpool())?;
        Ok(json!({ "pending": count(&pool.pending), "queued": count(&pool.queued) }))
    })?;
    module.register_method("txpool_content", |_, api, _| -> RpcResult<Value> {
        to_rpc(api.backend.txpool().and_then(|pool| content(&pool)))
    })?;
    module.register_method("txpool_contentFrom", |params, api, _| -> RpcResult<Value> {
        let (sender,): (Address,) = params.parse()?;
        to_rpc(
            api.backend
                .txpool()
                .and_then(|pool| content_from(&pool, sender)),
        )
    })?;
    module.register_method("txpool_inspect", |_, api, _| -> RpcResult<Value> {
        to_rpc(api.backend.txpool().and_then(|pool| inspect(&pool)))
    })?;
    Ok(())
}
