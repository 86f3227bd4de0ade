//! Transaction receipts and logs, as the VM produces them and storage keeps
//! them. Ethereum-shaped, so that the JSON-RPC serves them unchanged.

use alloy_primitives::{Bloom, BloomInput};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::encoding::encode;
use crate::merkle::merkle_root;
use crate::primitives::{Address, B256, Bytes, Hash};

/// An EVM log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct Log {
    /// The contract that emitted it.
    pub address: Address,
    /// Up to four indexed topics.
    pub topics: Vec<B256>,
    /// The non-indexed data.
    pub data: Bytes,
}

/// The outcome of one transaction in a block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct Receipt {
    /// The transaction's keccak hash.
    pub tx_hash: B256,
    /// The EIP-2718 type (0 legacy, 1 access list, 2 dynamic fee, …).
    pub tx_type: u8,
    /// The recovered sender.
    pub from: Address,
    /// The callee; `None` for a contract creation.
    pub to: Option<Address>,
    /// Whether execution succeeded (status 1) or reverted/halted (status 0).
    pub success: bool,
    /// Gas used by this transaction.
    pub gas_used: u64,
    /// Gas used by the block up to and including this transaction.
    pub cumulative_gas_used: u64,
    /// The price per gas actually paid, in wei.
    pub effective_gas_price: u128,
    /// The created contract, for a successful creation.
    pub contract_address: Option<Address>,
    /// The logs emitted, in order.
    pub logs: Vec<Log>,
}

impl Receipt {
    /// The 2048-bit bloom filter of the logs' addresses and topics.
    pub fn logs_bloom(&self) -> Bloom {
        let mut bloom = Bloom::default();
        for log in &self.logs {
            bloom.accrue(BloomInput::Raw(log.address.as_slice()));
            for topic in &log.topics {
                bloom.accrue(BloomInput::Raw(topic.as_slice()));
            }
        }
        bloom
    }
}

/// The blake3 merkle root of a block's receipts (canonical encodings, in
/// order): the header's `receipts_root`.
pub fn receipts_root(receipts: &[Receipt]) -> Hash {
    merkle_root(&receipts.iter().map(encode).collect::<Vec<_>>())
}

/// The union of the receipts' blooms: a block's `logsBloom`.
pub fn block_bloom(receipts: &[Receipt]) -> Bloom {
    let mut bloom = Bloom::default();
    for r in receipts {
        bloom.accrue_bloom(&r.logs_bloom());
    }
    bloom
}
