//! Methods that read a block by its position, and the small `eth_`, `net_`
//! and `web3_` methods wallets and libraries probe: receipts of a whole
//! block, a transaction by block and index, headers, uncles (GONT has
//! none), accounts (the node holds no user keys), peers, keccak.

use alloy_primitives::U64;
use alloy_rpc_types_eth::{BlockId as RpcBlockId, BlockNumberOrTag, Header, TransactionReceipt};
use gont_core::{B256, BlockId, Bytes};
use jsonrpsee::RpcModule;
use jsonrpsee::types::ErrorObjectOwned;

use super::backend::{EthBackend, StoredBlock};
use super::convert;
use super::error::RpcError;
use super::eth::{EthApi, to_rpc};

type RpcResult<T> = Result<T, ErrorObjectOwned>;

impl<B: EthBackend> EthApi<B> {
    /// The stored block a block id names; `None` if there is none (a
    /// future number, an unknown hash), as geth answers `null`.
    fn stored_at(&self, id: RpcBlockId) -> Result<Option<StoredBlock>, RpcError> {
        match self.height_of_block_id(Some(id)) {
            Ok(h) => self.stored(h),
            Err(RpcError::Refused(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn block_receipts(&self, id: RpcBlockId) -> Result<Option<Vec<TransactionReceipt>>, RpcError> {
        Ok(self.stored_at(id)?.map(|stored| {
            (0..stored.receipts.len())
                .filter_map(|i| Self::receipt_at(&stored, u32::try_from(i).ok()?))
                .collect()
        }))
    }

    fn transaction_in(
        &self,
        id: RpcBlockId,
        index: U64,
    ) -> Result<Option<alloy_rpc_types_eth::Transaction>, RpcError> {
        let Some(stored) = self.stored_at(id)? else {
            return Ok(None);
        };
        match u32::try_from(index.to::<u64>()) {
            Ok(index) => Self::transaction_at(&stored, index),
            Err(_) => Ok(None),
        }
    }

    fn header(&self, id: RpcBlockId) -> Result<Option<Header>, RpcError> {
        Ok(self.stored_at(id)?.map(|s| convert::rpc_header(&s)))
    }
}

fn by_hash(hash: B256) -> RpcBlockId {
    RpcBlockId::hash(hash)
}

fn by_number(tag: BlockNumberOrTag) -> RpcBlockId {
    RpcBlockId::Number(tag)
}

pub(super) fn register<B: EthBackend>(
    module: &mut RpcModule<EthApi<B>>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_method("eth_getBlockReceipts", |params, api, _| {
        let (id,): (RpcBlockId,) = params.parse()?;
        to_rpc(api.block_receipts(id))
    })?;
    module.register_method(
        "eth_getTransactionByBlockNumberAndIndex",
        |params, api, _| {
            let (tag, index): (BlockNumberOrTag, U64) = params.parse()?;
            to_rpc(api.transaction_in(by_number(tag), index))
        },
    )?;
    module.register_method("eth_getTransactionByBlockHashAndIndex", |params, api, _| {
        let (hash, index): (B256, U64) = params.parse()?;
        to_rpc(api.transaction_in(by_hash(hash), index))
    })?;
    module.register_method("eth_getHeaderByNumber", |params, api, _| {
        let (tag,): (BlockNumberOrTag,) = params.parse()?;
        to_rpc(api.header(by_number(tag)))
    })?;
    module.register_method("eth_getHeaderByHash", |params, api, _| {
        let (hash,): (B256,) = params.parse()?;
        to_rpc(api.header(by_hash(hash)))
    })?;
    // Tendermint has no uncles: an existing block has none, an unknown one
    // is `null`, as geth answers.
    module.register_method(
        "eth_getUncleCountByBlockNumber",
        |params, api, _| -> RpcResult<Option<U64>> {
            let (tag,): (BlockNumberOrTag,) = params.parse()?;
            Ok(to_rpc(api.stored_at(by_number(tag)))?.map(|_| U64::ZERO))
        },
    )?;
    module.register_method(
        "eth_getUncleCountByBlockHash",
        |params, api, _| -> RpcResult<Option<U64>> {
            let (hash,): (B256,) = params.parse()?;
            Ok(to_rpc(api.backend.height_of(BlockId(hash.0)))?.map(|_| U64::ZERO))
        },
    )?;
    for method in [
        "eth_getUncleByBlockNumberAndIndex",
        "eth_getUncleByBlockHashAndIndex",
    ] {
        module.register_method(method, |_, _, _| -> RpcResult<Option<()>> { Ok(None) })?;
    }
    module.register_method(
        "eth_accounts",
        |_, _, _| -> RpcResult<Vec<gont_core::Address>> { Ok(Vec::new()) },
    )?;
    module.register_method("net_peerCount", |_, api, _| -> RpcResult<U64> {
        Ok(U64::from(api.node.peer_count()))
    })?;
    module.register_method("web3_sha3", |params, _, _| -> RpcResult<B256> {
        let (data,): (Bytes,) = params.parse()?;
        Ok(alloy_primitives::keccak256(&data))
    })?;
    Ok(())
}
