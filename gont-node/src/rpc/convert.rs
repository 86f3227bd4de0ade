//! GONT blocks, transactions, receipts and logs in Ethereum's JSON-RPC
//! shapes (alloy's RPC types), so that every client reads them unchanged.
//!
//! | Ethereum field | GONT source |
//! |---|---|
//! | block `hash`, `parentHash` | the block id (Tendermint header hash) and the parent's |
//! | `stateRoot`, `transactionsRoot`, `receiptsRoot` | the header's blake3 roots |
//! | `miner` | the header's fee recipient |
//! | `mixHash` (prevrandao) | what the VM used: the parent's id, or the genesis hash for block 1 |
//! | `difficulty`, `nonce`, `ommers` | zero / empty, as after the merge |

use alloy_consensus::{
    Eip658Value, ReceiptEnvelope, ReceiptWithBloom, Sealed, TxEnvelope, transaction::Recovered,
};
use alloy_primitives::{B64, Bloom, LogData};
use alloy_rpc_types_eth::{
    Block as RpcBlock, BlockTransactions, Header as RpcHeader, Log as RpcLog,
    Transaction as RpcTransaction, TransactionReceipt,
};
use gont_core::receipt::block_bloom;
use gont_core::{Address, B256, Block, BlockId, Receipt, U256};

use super::backend::StoredBlock;

/// keccak of the RLP of an empty list: the ommers hash of every post-merge block.
const EMPTY_OMMERS: B256 =
    alloy_primitives::b256!("1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347");

/// Where a transaction sits in the chain.
#[derive(Clone, Copy, Debug)]
pub struct TxPosition {
    /// The block's id.
    pub block_hash: B256,
    /// The block's height.
    pub block_number: u64,
    /// The index in the block.
    pub index: u64,
    /// The block's time in seconds.
    pub timestamp: u64,
}

/// A block id as Ethereum's 32-byte block hash.
pub fn block_hash(id: BlockId) -> B256 {
    B256::from(id.0)
}

/// The Ethereum-shaped header of a GONT header.
pub fn rpc_header(stored: &StoredBlock) -> RpcHeader {
    let (header, id, receipts) = (&stored.block.header, stored.id, &stored.receipts);
    let size = gont_core::encode(&stored.block).len();
    let inner = alloy_consensus::Header {
        parent_hash: header.parent.map_or(B256::ZERO, block_hash),
        ommers_hash: EMPTY_OMMERS,
        beneficiary: header.execution.fee_recipient,
        state_root: B256::from(header.state_root.0),
        transactions_root: B256::from(header.tx_root.0),
        receipts_root: B256::from(header.receipts_root.0),
        logs_bloom: block_bloom(receipts),
        difficulty: U256::ZERO,
        number: header.height.0,
        gas_limit: header.execution.gas_limit,
        gas_used: header.execution.gas_used,
        timestamp: header.time.as_secs(),
        extra_data: alloy_primitives::Bytes::new(),
        mix_hash: stored.prevrandao,
        nonce: B64::ZERO,
        base_fee_per_gas: Some(header.execution.base_fee_per_gas),
        withdrawals_root: None,
        blob_gas_used: None,
        excess_blob_gas: None,
        parent_beacon_block_root: None,
        requests_hash: None,
        ..alloy_consensus::Header::default()
    };
    let mut rpc = RpcHeader::from_sealed(Sealed::new_unchecked(inner, block_hash(id)));
    rpc.size = Some(U256::from(size));
    rpc.total_difficulty = Some(U256::ZERO);
    rpc
}

/// An Ethereum-shaped transaction; `position` is `None` while it is pending.
pub fn rpc_transaction(
    tx: TxEnvelope,
    sender: Address,
    position: Option<TxPosition>,
    base_fee: Option<u64>,
) -> RpcTransaction {
    use alloy_consensus::Transaction as _;
    let effective_gas_price = base_fee.map(|b| tx.effective_gas_price(Some(b)));
    RpcTransaction {
        inner: Recovered::new_unchecked(tx, sender),
        block_hash: position.map(|p| p.block_hash),
        block_number: position.map(|p| p.block_number),
        transaction_index: position.map(|p| p.index),
        effective_gas_price,
        block_timestamp: position.map(|p| p.timestamp),
    }
}

/// The block's transactions decoded, with their senders. Blocks in storage
/// were validated before they were committed, so a transaction that no
/// longer decodes is a storage fault, reported as such.
pub fn decode_body(
    block: &Block,
) -> Result<Vec<(TxEnvelope, Address)>, gont_core::TransactionError> {
    block
        .body
        .transactions
        .iter()
        .map(gont_core::RawTransaction::decode_and_recover)
        .collect()
}

/// An Ethereum-shaped block, with full transactions or their hashes.
pub fn rpc_block(
    stored: &StoredBlock,
    full: bool,
) -> Result<RpcBlock, gont_core::TransactionError> {
    let (block, id) = (&stored.block, stored.id);
    let header = rpc_header(stored);
    let transactions = if full {
        let position = |index: usize| TxPosition {
            block_hash: block_hash(id),
            block_number: block.header.height.0,
            index: index as u64,
            timestamp: block.header.time.as_secs(),
        };
        let txs = decode_body(block)?
            .into_iter()
            .enumerate()
            .map(|(i, (tx, from))| {
                rpc_transaction(
                    tx,
                    from,
                    Some(position(i)),
                    Some(block.header.execution.base_fee_per_gas),
                )
            })
            .collect();
        BlockTransactions::Full(txs)
    } else {
        BlockTransactions::Hashes(
            block
                .body
                .transactions
                .iter()
                .map(gont_core::RawTransaction::hash)
                .collect(),
        )
    };
    Ok(RpcBlock {
        header,
        uncles: Vec::new(),
        transactions,
        withdrawals: None,
    })
}

/// An Ethereum-shaped log. `first_log_index` is the block-wide index of the
/// receipt's first log.
pub fn rpc_log(
    log: &gont_core::Log,
    position: TxPosition,
    tx_hash: B256,
    log_index: u64,
) -> RpcLog {
    RpcLog {
        inner: alloy_primitives::Log {
            address: log.address,
            data: LogData::new_unchecked(log.topics.clone(), log.data.clone()),
        },
        block_hash: Some(position.block_hash),
        block_number: Some(position.block_number),
        block_timestamp: Some(position.timestamp),
        transaction_hash: Some(tx_hash),
        transaction_index: Some(position.index),
        log_index: Some(log_index),
        removed: false,
    }
}

/// An Ethereum-shaped receipt; `first_log_index` counts the logs of the
/// block's earlier receipts.
pub fn rpc_receipt(
    receipt: &Receipt,
    position: TxPosition,
    first_log_index: u64,
) -> TransactionReceipt {
    let logs: Vec<RpcLog> = receipt
        .logs
        .iter()
        .enumerate()
        .map(|(i, log)| rpc_log(log, position, receipt.tx_hash, first_log_index + i as u64))
        .collect();
    let with_bloom = ReceiptWithBloom {
        receipt: alloy_consensus::Receipt {
            status: Eip658Value::Eip658(receipt.success),
            cumulative_gas_used: receipt.cumulative_gas_used,
            logs,
        },
        logs_bloom: receipt.logs_bloom(),
    };
    let inner = match receipt.tx_type {
        1 => ReceiptEnvelope::Eip2930(with_bloom),
        2 => ReceiptEnvelope::Eip1559(with_bloom),
        3 => ReceiptEnvelope::Eip4844(with_bloom),
        4 => ReceiptEnvelope::Eip7702(with_bloom),
        _ => ReceiptEnvelope::Legacy(with_bloom),
    };
    TransactionReceipt {
        inner,
        transaction_hash: receipt.tx_hash,
        transaction_index: Some(position.index),
        block_hash: Some(position.block_hash),
        block_number: Some(position.block_number),
        gas_used: receipt.gas_used,
        effective_gas_price: receipt.effective_gas_price,
        blob_gas_used: None,
        blob_gas_price: None,
        from: receipt.from,
        to: receipt.to,
        contract_address: receipt.contract_address,
    }
}

/// The blooms of a block, for log filters: a block whose bloom lacks the
/// filter's address or topics has none of its logs.
pub fn bloom_of(receipts: &[Receipt]) -> Bloom {
    block_bloom(receipts)
}
