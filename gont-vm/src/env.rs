//! A signed Ethereum transaction as revm's `TxEnv`.

use alloy_consensus::{Transaction, TxEnvelope, Typed2718};
use gont_core::Address;
use revm::context::TxEnv;
use revm::context::either::Either;

/// revm's view of `tx` sent by `sender` (already recovered).
pub fn tx_env(tx: &TxEnvelope, sender: Address) -> TxEnv {
    let dynamic_fee = tx.is_dynamic_fee();
    TxEnv {
        tx_type: tx.ty(),
        caller: sender,
        gas_limit: tx.gas_limit(),
        gas_price: tx.max_fee_per_gas(),
        kind: tx.kind(),
        value: tx.value(),
        data: tx.input().clone(),
        nonce: tx.nonce(),
        chain_id: tx.chain_id(),
        access_list: tx.access_list().cloned().unwrap_or_default(),
        gas_priority_fee: if dynamic_fee {
            tx.max_priority_fee_per_gas()
        } else {
            None
        },
        blob_hashes: tx
            .blob_versioned_hashes()
            .map(<[_]>::to_vec)
            .unwrap_or_default(),
        max_fee_per_blob_gas: tx.max_fee_per_blob_gas().unwrap_or_default(),
        authorization_list: tx
            .authorization_list()
            .map(|list| list.iter().cloned().map(Either::Left).collect())
            .unwrap_or_default(),
    }
}
