//! Errors at gont-vm's boundaries: why a transaction is refused
//! ([`TxError`], worded as geth words it, so the mempool and the JSON-RPC
//! can pass it to wallets unchanged), and why executing a block failed for a
//! reason that is not the block's fault ([`ExecError`]).

use gont_core::{Address, B256, U256};

/// Why a transaction cannot be included. `Display` starts with geth's
/// error string (`core/error.go`, `core/txpool/errors.go`), followed where
/// geth does by the values involved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// Not a valid EIP-2718 transaction, or a bad signature.
    #[error("invalid transaction: {0}")]
    Decode(String),
    /// A type the chain does not accept (blob transactions on GONT chains).
    #[error("transaction type not supported")]
    TypeNotSupported(u8),
    /// Signed for another chain.
    #[error("invalid chain id: have {have}, want {want}")]
    InvalidChainId {
        /// The transaction's chain id.
        have: u64,
        /// The chain's.
        want: u64,
    },
    /// The sender's next nonce is higher.
    #[error("nonce too low: address {sender}, tx: {tx} state: {state}")]
    NonceTooLow {
        /// The sender.
        sender: Address,
        /// The transaction's nonce.
        tx: u64,
        /// The sender's next nonce.
        state: u64,
    },
    /// The sender's next nonce is lower: an earlier transaction is missing.
    #[error("nonce too high: address {sender}, tx: {tx} state: {state}")]
    NonceTooHigh {
        /// The sender.
        sender: Address,
        /// The transaction's nonce.
        tx: u64,
        /// The sender's next nonce.
        state: u64,
    },
    /// The sender's nonce cannot be incremented (EIP-2681).
    #[error("nonce has max value: address {sender}, nonce: {nonce}")]
    NonceMax {
        /// The sender.
        sender: Address,
        /// Its nonce.
        nonce: u64,
    },
    /// The sender has code that is not an EIP-7702 delegation (EIP-3607).
    #[error("sender not an eoa: address {sender}")]
    SenderNotEoa {
        /// The sender.
        sender: Address,
    },
    /// The transaction's gas does not fit in what is left of the block.
    #[error("gas limit reached")]
    GasLimitReached {
        /// The transaction's gas limit.
        gas: u64,
        /// Gas left in the block.
        available: u64,
    },
    /// `maxPriorityFeePerGas > maxFeePerGas`.
    #[error(
        "max priority fee per gas higher than max fee per gas: address {sender}, maxPriorityFeePerGas: {tip}, maxFeePerGas: {fee_cap}"
    )]
    TipAboveFeeCap {
        /// The sender.
        sender: Address,
        /// Its priority fee.
        tip: u128,
        /// Its fee cap.
        fee_cap: u128,
    },
    /// The fee cap (or legacy gas price) is below the block's base fee.
    #[error(
        "max fee per gas less than block base fee: address {sender}, maxFeePerGas: {fee_cap}, baseFee: {base_fee}"
    )]
    FeeCapTooLow {
        /// The sender.
        sender: Address,
        /// Its fee cap.
        fee_cap: u128,
        /// The block's base fee.
        base_fee: u64,
    },
    /// The sender cannot pay `gas * price + value` (plus blob gas).
    #[error("insufficient funds for gas * price + value: address {sender} have {have} want {want}")]
    InsufficientFunds {
        /// The sender.
        sender: Address,
        /// Its balance.
        have: U256,
        /// What the transaction may cost at most (`U256::MAX` when that
        /// does not fit 256 bits).
        want: U256,
    },
    /// The gas limit does not cover the intrinsic cost.
    #[error("intrinsic gas too low: have {have}, want {want}")]
    IntrinsicGas {
        /// The gas limit.
        have: u64,
        /// The intrinsic gas.
        want: u64,
    },
    /// The gas limit does not cover the EIP-7623 calldata floor.
    #[error("insufficient gas for floor data gas cost: have {have}, want {want}")]
    FloorDataGas {
        /// The gas limit.
        have: u64,
        /// The floor.
        want: u64,
    },
    /// Creation code longer than EIP-3860 allows.
    #[error("max initcode size exceeded: code size {size} limit {limit}")]
    MaxInitCodeSize {
        /// Its length.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A blob transaction without blobs.
    #[error("blob transaction missing blob hashes")]
    MissingBlobHashes,
    /// More blobs than the fork allows.
    #[error("too many blobs in transaction: have {have}, permitted {max}")]
    TooManyBlobs {
        /// Blobs carried.
        have: usize,
        /// The limit.
        max: usize,
    },
    /// A blob hash whose version byte is not `0x01`.
    #[error("blob {index} has invalid hash version")]
    InvalidBlobHashVersion {
        /// Which blob.
        index: usize,
    },
    /// A blob transaction that creates a contract.
    #[error("blob transaction of type create")]
    BlobTxCreate,
    /// The blob fee cap is below the block's blob base fee.
    #[error(
        "max fee per blob gas less than block blob gas fee: address {sender} blobGasFeeCap: {fee_cap}, blobBaseFee: {blob_base_fee}"
    )]
    BlobFeeCapTooLow {
        /// The sender.
        sender: Address,
        /// Its blob fee cap.
        fee_cap: u128,
        /// The block's blob base fee.
        blob_base_fee: u128,
    },
    /// An EIP-7702 transaction without authorizations.
    #[error("EIP-7702 transaction with empty auth list")]
    EmptyAuthList,
    /// Refused by the EVM's own checks (after ours passed).
    #[error("transaction rejected by the EVM: {0}")]
    Evm(String),
}

/// Why executing transactions failed for a reason other than the
/// transactions themselves.
#[derive(Debug, thiserror::Error)]
pub enum ExecError<E: std::error::Error + 'static> {
    /// Reading state failed.
    #[error("state read failed: {0}")]
    State(#[source] E),
    /// revm reported an error that is neither a state read nor a
    /// transaction's fault (a header field it refuses, an internal error).
    #[error("EVM failure: {0}")]
    Evm(String),
    /// A block being validated includes a transaction that cannot be
    /// included.
    #[error("transaction {index} ({hash}) is invalid: {error}")]
    InvalidTransaction {
        /// Its position in the block.
        index: usize,
        /// Its hash.
        hash: B256,
        /// Why (boxed: it is the rare, large case).
        error: Box<TxError>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_start_with_geths_words() {
        let a = Address::ZERO;
        let cases: [(TxError, &str); 8] = [
            (
                TxError::NonceTooLow {
                    sender: a,
                    tx: 1,
                    state: 2,
                },
                "nonce too low",
            ),
            (
                TxError::NonceTooHigh {
                    sender: a,
                    tx: 3,
                    state: 2,
                },
                "nonce too high",
            ),
            (
                TxError::InsufficientFunds {
                    sender: a,
                    have: U256::ZERO,
                    want: U256::from(1),
                },
                "insufficient funds for gas * price + value",
            ),
            (
                TxError::IntrinsicGas {
                    have: 1,
                    want: 21_000,
                },
                "intrinsic gas too low",
            ),
            (
                TxError::FeeCapTooLow {
                    sender: a,
                    fee_cap: 1,
                    base_fee: 7,
                },
                "max fee per gas less than block base fee",
            ),
            (
                TxError::InvalidChainId { have: 1, want: 2 },
                "invalid chain id",
            ),
            (
                TxError::GasLimitReached {
                    gas: 2,
                    available: 1,
                },
                "gas limit reached",
            ),
            (
                TxError::TypeNotSupported(3),
                "transaction type not supported",
            ),
        ];
        for (error, words) in cases {
            assert!(error.to_string().starts_with(words), "{error}");
        }
        assert_eq!(
            TxError::IntrinsicGas {
                have: 1,
                want: 21_000
            }
            .to_string(),
            "intrinsic gas too low: have 1, want 21000"
        );
    }
}
