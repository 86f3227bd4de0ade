//! `eth_call`'s state overrides as a [`StateReader`] over the real state,
//! and the conversion of an RPC call request into the VM's.

use std::collections::HashMap;

use alloy_rpc_types_eth::TransactionRequest;
use alloy_rpc_types_eth::state::StateOverride;
use gont_core::state::KECCAK_EMPTY;
use gont_core::{AccountState, Address, B256, BlockId, Bytes, Height, StateReader, U256};

/// `inner` with some accounts' balance, nonce, code or storage replaced.
pub struct Overridden<'a, R> {
    inner: &'a R,
    overrides: &'a StateOverride,
    code: HashMap<B256, Bytes>,
}

impl<'a, R: StateReader> Overridden<'a, R> {
    /// The state `inner` as `overrides` change it.
    pub fn new(inner: &'a R, overrides: &'a StateOverride) -> Self {
        let code = overrides
            .values()
            .filter_map(|o| o.code.clone())
            .map(|c| (alloy_primitives::keccak256(&c), c))
            .collect();
        Self {
            inner,
            overrides,
            code,
        }
    }
}

impl<R: StateReader> StateReader for Overridden<'_, R> {
    type Error = R::Error;

    fn account(&self, address: Address) -> Result<Option<AccountState>, Self::Error> {
        let base = self.inner.account(address)?;
        let Some(o) = self.overrides.get(&address) else {
            return Ok(base);
        };
        let mut account = base.unwrap_or(AccountState {
            nonce: 0,
            balance: U256::ZERO,
            code_hash: KECCAK_EMPTY,
        });
        if let Some(balance) = o.balance {
            account.balance = balance;
        }
        if let Some(nonce) = o.nonce {
            account.nonce = nonce;
        }
        if let Some(code) = &o.code {
            account.code_hash = if code.is_empty() {
                KECCAK_EMPTY
            } else {
                alloy_primitives::keccak256(code)
            };
        }
        Ok(Some(account))
    }

    fn storage(&self, address: Address, slot: U256) -> Result<U256, Self::Error> {
        if let Some(o) = self.overrides.get(&address) {
            let key = B256::from(slot);
            if let Some(state) = &o.state {
                // A full replacement: slots not listed are zero.
                return Ok(state
                    .get(&key)
                    .map_or(U256::ZERO, |v| U256::from_be_bytes(v.0)));
            }
            if let Some(value) = o.state_diff.as_ref().and_then(|d| d.get(&key)) {
                return Ok(U256::from_be_bytes(value.0));
            }
        }
        self.inner.storage(address, slot)
    }

    fn code(&self, code_hash: B256) -> Result<Option<Bytes>, Self::Error> {
        match self.code.get(&code_hash) {
            Some(code) => Ok(Some(code.clone())),
            None => self.inner.code(code_hash),
        }
    }

    fn block_id(&self, height: Height) -> Result<Option<BlockId>, Self::Error> {
        self.inner.block_id(height)
    }
}

/// The VM's view of an RPC call request.
pub fn call_request(request: &TransactionRequest) -> gont_vm::CallRequest {
    gont_vm::CallRequest {
        from: request.from,
        to: request.to.and_then(|kind| kind.to().copied()),
        gas: request.gas,
        gas_price: request.gas_price,
        max_fee_per_gas: request.max_fee_per_gas,
        max_priority_fee_per_gas: request.max_priority_fee_per_gas,
        value: request.value,
        input: request.input.input().cloned().unwrap_or_default(),
        access_list: request.access_list.clone(),
    }
}
