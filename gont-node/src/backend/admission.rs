//! Admission to the pool: what a transaction must pass, where it came
//! from, and the journal that keeps what was admitted across a crash.

use std::path::Path;

use alloy_consensus::Transaction as _;
use gont_core::state::KECCAK_EMPTY;

use gont_core::{
    AccountState, B256, ExecutionStore as _, Height, RawTransaction, StateReader as _, Timestamp,
    U256,
};

use super::{ChainBackend, internal};
use crate::journal::Journal;
use crate::mempool::PoolTransaction;
use crate::rpc::error::RpcError;

/// Why a transaction was not admitted to the pool.
#[derive(Debug, thiserror::Error)]
pub enum AdmitError {
    /// Not a decodable, signed Ethereum transaction.
    #[error("{0}")]
    Decode(#[from] gont_core::TransactionError),
    /// Not valid for the next block (gont-vm's validation), worded as
    /// geth's pool words it.
    #[error("{}", match .0 {
        gont_vm::TxError::GasLimitReached { .. } => "exceeds block gas limit".to_owned(),
        other => other.to_string(),
    })]
    Invalid(gont_vm::TxError),
    /// The pool refused it (known, replaced, full, nonce).
    #[error(transparent)]
    Pool(#[from] crate::mempool::MempoolError),
    /// A legacy transaction without EIP-155 replay protection (no chain
    /// id in its signature) sent to this node's JSON-RPC, which refuses
    /// them unless allowed (geth's `--rpc.allow-unprotected-txs`): signed
    /// once, it is valid on every chain where its sender has funds, as the
    /// devnet's accounts do on every chain.
    #[error("only replay-protected (EIP-155) transactions allowed over RPC")]
    Unprotected,
    /// This node could not read its state or pool.
    #[error(transparent)]
    Node(#[from] RpcError),
    /// The chain's consensus has stopped on this node: no block would
    /// include the transaction.
    #[error("chain halted on this node: {0}")]
    Halted(String),
}

impl AdmitError {
    /// Whether a peer that relayed the transaction is to blame: it could
    /// never be valid. Refusals that depend on the state a node has
    /// (nonces, balances, fees, a full or different pool) blame no one.
    pub fn blames_relay(&self) -> bool {
        use gont_vm::TxError;
        match self {
            Self::Decode(_) => true,
            Self::Invalid(e) => !matches!(
                e,
                TxError::NonceTooLow { .. }
                    | TxError::NonceTooHigh { .. }
                    | TxError::FeeCapTooLow { .. }
                    | TxError::BlobFeeCapTooLow { .. }
                    | TxError::InsufficientFunds { .. }
            ),
            Self::Pool(_) | Self::Node(_) | Self::Unprotected | Self::Halted(_) => false,
        }
    }
}

impl From<AdmitError> for RpcError {
    fn from(e: AdmitError) -> Self {
        match e {
            AdmitError::Node(e) => e,
            other => RpcError::Refused(other.to_string()),
        }
    }
}

/// Where a transaction came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Origin {
    /// This node's JSON-RPC: gossip it on.
    Local,
    /// A peer: already gossiped.
    Gossip,
    /// The pool's journal, replayed on start, admitted at that time: gossip
    /// it on (peers may never have had it), write no new record.
    Journal(Timestamp),
}

/// What [`ChainBackend::open_journal`] found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JournalReplay {
    /// Transactions readmitted to the pool.
    pub restored: usize,
    /// Transactions no longer valid (included, replaced, expired, or
    /// refused by the pool's rules), left out.
    pub dropped: usize,
    /// Bytes of a torn last record (a crash mid-write), left out.
    pub torn_bytes: usize,
}

impl ChainBackend {
    /// Journals this chain's pool at `path` (`txpool-<chain>.journal` in
    /// the data directory): readmits what an earlier run journaled, then
    /// rewrites the file with what the pool holds, and from now on appends
    /// every admitted transaction before its hash is returned. `Ok(None)`
    /// if the pool's config turns the journal off or one is already open.
    pub fn open_journal(&self, path: &Path) -> std::io::Result<Option<JournalReplay>> {
        let enabled = self
            .mempool
            .lock()
            .map_err(|_| std::io::Error::other("mempool lock poisoned"))?
            .config()
            .journal;
        if !enabled || self.journal.get().is_some() {
            return Ok(None);
        }
        let (journal, replay) = Journal::open(path)?;
        let mut report = JournalReplay {
            torn_bytes: replay.torn_bytes,
            ..JournalReplay::default()
        };
        for (admitted, raw) in replay.records {
            match self.admit(raw, Origin::Journal(admitted)) {
                Ok(_) => report.restored += 1,
                Err(AdmitError::Node(e)) => return Err(std::io::Error::other(e.to_string())),
                Err(_) => report.dropped += 1,
            }
        }
        self.rewrite_journal(&journal)?;
        // Only a racing second call can have set it; that one journals.
        let _ = self.journal.set(journal);
        if report != JournalReplay::default() {
            tracing::info!(
                chain = %self.config.chain.chain_id,
                restored = report.restored,
                dropped = report.dropped,
                torn_bytes = report.torn_bytes,
                "txpool journal replayed"
            );
        }
        Ok(Some(report))
    }

    /// Rewrites the journal from the pool, holding the pool's lock until the
    /// new file is in place: a transaction admitted meanwhile is either in
    /// the snapshot or appended to the new file after it, never appended to
    /// the old file that the rename drops.
    pub(super) fn rewrite_journal(&self, journal: &Journal) -> std::io::Result<()> {
        let pool = self
            .mempool
            .lock()
            .map_err(|_| std::io::Error::other("mempool lock poisoned"))?;
        journal.rewrite(
            pool.by_sender()
                .flat_map(|(_, txs)| txs.values())
                .map(|t| (t.admitted, &t.raw)),
        )
    }

    /// Admits a raw transaction, checked as geth checks it.
    pub(super) fn admit(&self, raw: RawTransaction, origin: Origin) -> Result<B256, AdmitError> {
        if let Some(reason) = self.halted() {
            return Err(AdmitError::Halted(reason.to_owned()));
        }
        // Before any decoding: the size bounds the work.
        self.mempool
            .lock()
            .map_err(|_| internal("mempool lock poisoned"))?
            .check_size(raw.0.len())?;
        let (tx, sender) = raw.decode_and_recover()?;
        if origin == Origin::Local
            && tx.chain_id().is_none()
            && !self
                .allow_unprotected
                .load(std::sync::atomic::Ordering::Relaxed)
        {
            return Err(AdmitError::Unprotected);
        }
        let latest = self
            .store
            .latest_height()
            .map_err(RpcError::from)?
            .unwrap_or(Height(0));
        let account = self
            .store
            .state_at(latest)
            .map_err(RpcError::from)?
            .account(sender)
            .map_err(RpcError::from)?
            .unwrap_or(AccountState {
                nonce: 0,
                balance: U256::ZERO,
                code_hash: KECCAK_EMPTY,
            });
        // The checks a block applies, against the next block, but for the
        // nonce, which the pool judges (later nonces wait there).
        let next = self.call_context(latest)?;
        gont_vm::validate_pooled_transaction(&tx, sender, &account, &next, &self.config.chain)
            .map_err(AdmitError::Invalid)?;
        let hash = raw.hash();
        let pooled = PoolTransaction {
            hash,
            sender,
            nonce: tx.nonce(),
            gas_limit: tx.gas_limit(),
            max_fee_per_gas: tx.max_fee_per_gas(),
            max_priority_fee_per_gas: tx
                .max_priority_fee_per_gas()
                .unwrap_or(tx.max_fee_per_gas()),
            raw: raw.clone(),
            cost: gont_vm::max_cost(&tx).unwrap_or(U256::MAX),
            admitted: match origin {
                Origin::Journal(at) => at,
                Origin::Local | Origin::Gossip => crate::wall_clock(),
            },
        };
        let admitted = pooled.admitted;
        self.mempool
            .lock()
            .map_err(|_| internal("mempool lock poisoned"))?
            .admit(pooled, account.nonce, account.balance)?;
        if !matches!(origin, Origin::Journal(_))
            && let Some(journal) = self.journal.get()
            && let Err(e) = journal.append(admitted, &raw)
        {
            tracing::warn!(
                chain = %self.config.chain.chain_id,
                path = %journal.path().display(),
                "txpool journal: {e}; {hash} is pooled but would not survive a restart"
            );
        }
        // Nobody listening is not an error.
        let _ = self.admitted.send(hash);
        if origin != Origin::Gossip {
            // Gossip is best effort: the pool holds the transaction either way.
            let _ = self.gossip.send(raw);
        }
        Ok(hash)
    }

    /// Admits a transaction that arrived by gossip, with the same checks as
    /// one sent to the RPC but without gossiping it again; `Err` says why it
    /// was refused, and [`AdmitError::blames_relay`] whether to score the
    /// peer for it.
    pub fn admit_gossiped(&self, raw: RawTransaction) -> Result<B256, AdmitError> {
        self.admit(raw, Origin::Gossip)
    }
}
