//! The transaction pool of one chain: ordered by sender nonce and fee,
//! replacement by a higher fee, bounded by count and bytes.
//!
//! The pool is a pure data structure: it takes transactions that the caller
//! has already decoded and checked against the chain's state (signature,
//! chain id, intrinsic gas, balance: see `gont_vm`), and applies the rules
//! that only the pool can: duplicates, nonce gaps and order, replacement,
//! size, fee floor and bounds, a sender's cumulative cost, expiry, and
//! which transactions a proposer should take next. No clocks (the caller
//! passes the time), no I/O (the journal is [`crate::journal`]).
//!
//! The defaults and the refusals' wording are geth's (`--txpool.*`).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::Arc;

use gont_core::{Address, B256, RawTransaction, Timestamp, U256};
use serde::{Deserialize, Serialize};

/// Bounds and rules of a pool: a node's `[txpool]` config section, every
/// field optional.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MempoolConfig {
    /// The most transactions held (geth's `globalslots` + `globalqueue`,
    /// 5 120); a full pool evicts its cheapest for a better payer.
    pub max_transactions: usize,
    /// The most bytes of raw transactions held (64 MiB).
    pub max_bytes: usize,
    /// The largest transaction admitted, in bytes (geth's 128 KiB).
    pub max_transaction_bytes: usize,
    /// The most transactions one sender may have pooled (geth's
    /// `accountqueue`, 64).
    pub max_account_slots: usize,
    /// The least raise, in percent of both fee caps, to replace a pending
    /// transaction of the same sender and nonce (geth's `pricebump`, 10).
    pub price_bump_percent: u64,
    /// The least priority fee (tip) per gas admitted, in wei (geth's
    /// `pricelimit`, 1).
    pub min_tip_wei: u64,
    /// How far past a sender's next nonce a transaction may be queued (64).
    pub max_nonce_gap: u64,
    /// How long a queued transaction (one behind a nonce gap) may wait
    /// before it is dropped, in seconds (geth's `lifetime`, 3 h).
    pub lifetime_secs: u64,
    /// Whether the pool is journaled to the data directory and reloaded on
    /// start (geth journals local transactions; GONT journals all).
    pub journal: bool,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        Self {
            max_transactions: 5_120,
            max_bytes: 64 * 1024 * 1024,
            max_transaction_bytes: 128 * 1024,
            max_account_slots: 64,
            price_bump_percent: 10,
            min_tip_wei: 1,
            max_nonce_gap: 64,
            lifetime_secs: 3 * 60 * 60,
            journal: true,
        }
    }
}

/// A transaction the caller has decoded and checked against state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolTransaction {
    /// The raw bytes, as gossiped and included.
    pub raw: RawTransaction,
    /// keccak hash of the bytes.
    pub hash: B256,
    /// The recovered sender.
    pub sender: Address,
    /// The sender's nonce it uses.
    pub nonce: u64,
    /// Gas limit.
    pub gas_limit: u64,
    /// Max fee per gas (the gas price of a legacy transaction).
    pub max_fee_per_gas: u128,
    /// Max priority fee per gas (the gas price of a legacy transaction).
    pub max_priority_fee_per_gas: u128,
    /// The most it can cost its sender: value, gas at the fee cap, blob
    /// gas (`gont_vm::max_cost`).
    pub cost: U256,
    /// When this node first admitted it (kept across restarts by the
    /// journal), for expiry.
    pub admitted: Timestamp,
}

impl PoolTransaction {
    /// The tip per gas a proposer earns at `base_fee`; `None` if the fee cap
    /// is below the base fee.
    pub fn effective_tip(&self, base_fee: u128) -> Option<u128> {
        let above = self.max_fee_per_gas.checked_sub(base_fee)?;
        Some(above.min(self.max_priority_fee_per_gas))
    }

    fn size(&self) -> usize {
        self.raw.0.len()
    }
}

/// Why the pool refused a transaction. Display strings are geth's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MempoolError {
    /// The same bytes are already pooled.
    #[error("already known")]
    AlreadyKnown,
    /// The nonce is below the sender's account nonce.
    #[error("nonce too low: next nonce {next}, tx nonce {nonce}")]
    NonceTooLow {
        /// The account's nonce.
        next: u64,
        /// The transaction's nonce.
        nonce: u64,
    },
    /// The nonce is too far ahead of the sender's next nonce.
    #[error("nonce too high: next nonce {next}, tx nonce {nonce}")]
    NonceTooHigh {
        /// The sender's next nonce, counting pooled transactions.
        next: u64,
        /// The transaction's nonce.
        nonce: u64,
    },
    /// A transaction with the same sender and nonce is pooled and this one
    /// does not pay enough more.
    #[error("replacement transaction underpriced")]
    ReplacementUnderpriced,
    /// The pool is full and this transaction pays no more than what it
    /// would evict.
    #[error("txpool is full")]
    PoolFull,
    /// Larger than [`MempoolConfig::max_transaction_bytes`].
    #[error("oversized data: transaction size {size}, limit {limit}")]
    Oversized {
        /// Its size in bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Its tip is below [`MempoolConfig::min_tip_wei`].
    #[error("transaction underpriced: gas tip cap {tip}, minimum needed {minimum}")]
    Underpriced {
        /// Its max priority fee per gas.
        tip: u128,
        /// The pool's floor.
        minimum: u64,
    },
    /// Its sender already has [`MempoolConfig::max_account_slots`] pooled.
    #[error("account limit exceeded: {sender} has {pooled} pooled transactions")]
    AccountLimit {
        /// The sender.
        sender: Address,
        /// How many it has pooled.
        pooled: usize,
    },
    /// With the sender's other pooled transactions it could cost more than
    /// the sender's balance.
    #[error(
        "insufficient funds for gas * price + value: balance {balance}, queued cost {queued}, tx cost {cost}"
    )]
    Overdraft {
        /// The sender's balance.
        balance: U256,
        /// What its other pooled transactions could cost.
        queued: U256,
        /// What this one could cost.
        cost: U256,
    },
}

/// What an admitted transaction did to the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admitted {
    /// Added.
    New,
    /// Replaced the pooled transaction with this hash.
    Replaced(B256),
}

/// The order in which a proposer takes transactions from the pool, across
/// senders (each sender's go in nonce order whatever their priority). The
/// default is [`ByTip`]; an integrator's node may choose another
/// (`gont_node::node::NodeBuilder::tx_ordering`). It decides selection
/// only: which transactions a full pool evicts, and which replace others,
/// stays a matter of fees.
pub trait TxOrdering: Send + Sync + std::fmt::Debug {
    /// The priority of `tx` in a block whose base fee is `base_fee`, higher
    /// first; `None` if it cannot be included in that block.
    fn priority(&self, tx: &PoolTransaction, base_fee: u128) -> Option<u128>;
}

/// Best effective tip first, as geth and reth order: what the proposer
/// earns.
#[derive(Clone, Copy, Debug, Default)]
pub struct ByTip;

impl TxOrdering for ByTip {
    fn priority(&self, tx: &PoolTransaction, base_fee: u128) -> Option<u128> {
        tx.effective_tip(base_fee)
    }
}

/// One chain's pool.
#[derive(Debug, Default)]
pub struct Mempool {
    config: MempoolConfig,
    /// The selection order; [`ByTip`] when `None`.
    ordering: Option<Arc<dyn TxOrdering>>,
    by_sender: HashMap<Address, BTreeMap<u64, PoolTransaction>>,
    by_hash: HashMap<B256, (Address, u64)>,
    bytes: usize,
}

impl Mempool {
    /// An empty pool.
    pub fn new(config: MempoolConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// This pool, with `ordering` choosing what a proposer takes first.
    #[must_use]
    pub fn with_ordering(mut self, ordering: Arc<dyn TxOrdering>) -> Self {
        self.ordering = Some(ordering);
        self
    }

    /// The priority of `tx` at `base_fee` in this pool's order.
    fn priority(&self, tx: &PoolTransaction, base_fee: u128) -> Option<u128> {
        match &self.ordering {
            Some(ordering) => ordering.priority(tx, base_fee),
            None => ByTip.priority(tx, base_fee),
        }
    }

    /// How many transactions are pooled.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Bytes of raw transactions pooled.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether a transaction is pooled.
    pub fn contains(&self, hash: &B256) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// A pooled transaction by hash.
    pub fn get(&self, hash: &B256) -> Option<&PoolTransaction> {
        let (sender, nonce) = self.by_hash.get(hash)?;
        self.by_sender.get(sender)?.get(nonce)
    }

    /// The sender's next nonce counting its pooled transactions that follow
    /// `account_nonce` without a gap (`eth_getTransactionCount(…, "pending")`).
    pub fn pending_nonce(&self, sender: &Address, account_nonce: u64) -> u64 {
        let mut next = account_nonce;
        if let Some(txs) = self.by_sender.get(sender) {
            for nonce in txs.range(account_nonce..).map(|(n, _)| *n) {
                if nonce != next {
                    break;
                }
                next = next.saturating_add(1);
            }
        }
        next
    }

    /// Admits `tx`, whose sender's account has `account_nonce` and
    /// `balance` in the latest state.
    pub fn admit(
        &mut self,
        tx: PoolTransaction,
        account_nonce: u64,
        balance: U256,
    ) -> Result<Admitted, MempoolError> {
        if self.by_hash.contains_key(&tx.hash) {
            return Err(MempoolError::AlreadyKnown);
        }
        self.check_size(tx.size())?;
        if tx.max_priority_fee_per_gas < u128::from(self.config.min_tip_wei) {
            return Err(MempoolError::Underpriced {
                tip: tx.max_priority_fee_per_gas,
                minimum: self.config.min_tip_wei,
            });
        }
        if tx.nonce < account_nonce {
            return Err(MempoolError::NonceTooLow {
                next: account_nonce,
                nonce: tx.nonce,
            });
        }
        let pending = self.pending_nonce(&tx.sender, account_nonce);
        if tx.nonce > pending.saturating_add(self.config.max_nonce_gap) {
            return Err(MempoolError::NonceTooHigh {
                next: pending,
                nonce: tx.nonce,
            });
        }
        let others = self.by_sender.get(&tx.sender);
        let pooled = others.map_or(0, BTreeMap::len);
        let replacing = others.is_some_and(|txs| txs.contains_key(&tx.nonce));
        if !replacing && pooled >= self.config.max_account_slots {
            return Err(MempoolError::AccountLimit {
                sender: tx.sender,
                pooled,
            });
        }
        let queued = others.map_or(U256::ZERO, |txs| {
            txs.values()
                .filter(|t| t.nonce != tx.nonce)
                .fold(U256::ZERO, |sum, t| sum.saturating_add(t.cost))
        });
        if queued.saturating_add(tx.cost) > balance {
            return Err(MempoolError::Overdraft {
                balance,
                queued,
                cost: tx.cost,
            });
        }
        let replaced = self
            .by_sender
            .get(&tx.sender)
            .and_then(|txs| txs.get(&tx.nonce))
            .cloned();
        if let Some(old) = &replaced {
            let percent = 100 + u128::from(self.config.price_bump_percent);
            let bump = |fee: u128| fee.saturating_mul(percent) / 100;
            if tx.max_fee_per_gas < bump(old.max_fee_per_gas)
                || tx.max_priority_fee_per_gas < bump(old.max_priority_fee_per_gas)
            {
                return Err(MempoolError::ReplacementUnderpriced);
            }
        }
        let freed = replaced.as_ref().map_or(0, PoolTransaction::size);
        let count_after = self.len() + usize::from(replaced.is_none());
        let bytes_after = self.bytes - freed + tx.size();
        if count_after > self.config.max_transactions || bytes_after > self.config.max_bytes {
            self.make_room(&tx, count_after, bytes_after)?;
        }
        let admitted = match replaced {
            Some(old) => {
                self.remove(&old.hash);
                Admitted::Replaced(old.hash)
            }
            None => Admitted::New,
        };
        self.bytes += tx.size();
        self.by_hash.insert(tx.hash, (tx.sender, tx.nonce));
        self.by_sender
            .entry(tx.sender)
            .or_default()
            .insert(tx.nonce, tx);
        Ok(admitted)
    }

    /// Evicts the cheapest last-in-line transactions of other senders until
    /// `incoming` fits, or refuses it if it pays no more than they do.
    fn make_room(
        &mut self,
        incoming: &PoolTransaction,
        mut count: usize,
        mut bytes: usize,
    ) -> Result<(), MempoolError> {
        let mut victims = Vec::new();
        // Only a sender's highest nonce can go without leaving a gap.
        let mut tails: Vec<&PoolTransaction> = self
            .by_sender
            .iter()
            .filter(|(sender, _)| **sender != incoming.sender)
            .filter_map(|(_, txs)| txs.values().next_back())
            .collect();
        tails.sort_by_key(|t| (t.max_priority_fee_per_gas, t.max_fee_per_gas));
        for tail in tails {
            if count <= self.config.max_transactions && bytes <= self.config.max_bytes {
                break;
            }
            if (tail.max_priority_fee_per_gas, tail.max_fee_per_gas)
                >= (incoming.max_priority_fee_per_gas, incoming.max_fee_per_gas)
            {
                return Err(MempoolError::PoolFull);
            }
            count -= 1;
            bytes -= tail.size();
            victims.push(tail.hash);
        }
        if count > self.config.max_transactions || bytes > self.config.max_bytes {
            return Err(MempoolError::PoolFull);
        }
        for hash in victims {
            self.remove(&hash);
        }
        Ok(())
    }

    /// Refuses a transaction of `size` bytes if it is larger than the pool
    /// takes: callers check before decoding one.
    pub fn check_size(&self, size: usize) -> Result<(), MempoolError> {
        let limit = self.config.max_transaction_bytes;
        if size > limit {
            return Err(MempoolError::Oversized { size, limit });
        }
        Ok(())
    }

    /// Drops the queued transactions (behind a nonce gap, so not
    /// executable) admitted more than [`MempoolConfig::lifetime_secs`]
    /// before `now`, as geth's pool does; returns how many.
    pub fn expire(&mut self, now: Timestamp, account_nonce: impl Fn(&Address) -> u64) -> usize {
        let lifetime_ms = self.config.lifetime_secs.saturating_mul(1000);
        let mut stale = Vec::new();
        for (sender, txs) in &self.by_sender {
            let pending = self.pending_nonce(sender, account_nonce(sender));
            stale.extend(
                txs.range(pending..)
                    .filter(|(_, t)| now.0.saturating_sub(t.admitted.0) > lifetime_ms)
                    .map(|(_, t)| t.hash),
            );
        }
        for hash in &stale {
            self.remove(hash);
        }
        stale.len()
    }

    /// The pool's rules.
    pub fn config(&self) -> &MempoolConfig {
        &self.config
    }

    /// Removes a transaction; returns it if it was pooled.
    pub fn remove(&mut self, hash: &B256) -> Option<PoolTransaction> {
        let (sender, nonce) = self.by_hash.remove(hash)?;
        let txs = self.by_sender.get_mut(&sender)?;
        let tx = txs.remove(&nonce)?;
        if txs.is_empty() {
            self.by_sender.remove(&sender);
        }
        self.bytes -= tx.size();
        Some(tx)
    }

    /// Drops every transaction of `sender` below its new account nonce:
    /// call after a block commits, for each sender in it.
    pub fn prune_sender(&mut self, sender: &Address, account_nonce: u64) {
        let stale: Vec<B256> = self
            .by_sender
            .get(sender)
            .map(|txs| txs.range(..account_nonce).map(|(_, t)| t.hash).collect())
            .unwrap_or_default();
        for hash in stale {
            self.remove(&hash);
        }
    }

    /// The senders with pooled transactions.
    pub fn senders(&self) -> impl Iterator<Item = &Address> {
        self.by_sender.keys()
    }

    /// Each sender's pooled transactions, by nonce.
    pub fn by_sender(&self) -> impl Iterator<Item = (&Address, &BTreeMap<u64, PoolTransaction>)> {
        self.by_sender.iter()
    }

    /// The transactions a proposer should include next, highest priority
    /// first (best tip, unless the pool has another [`TxOrdering`]), each
    /// sender's in nonce order starting at its account nonce, within
    /// `max_gas` and `max_bytes`, leaving out those the order rules out
    /// (by tip: a fee cap below `base_fee`).
    pub fn select(
        &self,
        base_fee: u128,
        max_gas: u64,
        max_bytes: usize,
        account_nonce: impl Fn(&Address) -> u64,
    ) -> Vec<RawTransaction> {
        // A heap of each sender's next executable transaction, by priority.
        let mut heap = BinaryHeap::new();
        let mut cursors: HashMap<Address, u64> = HashMap::new();
        for (sender, txs) in &self.by_sender {
            let nonce = account_nonce(sender);
            if let Some(tx) = txs.get(&nonce)
                && let Some(priority) = self.priority(tx, base_fee)
            {
                heap.push((priority, Reverse(tx.hash), *sender));
                cursors.insert(*sender, nonce);
            }
        }
        let (mut gas, mut bytes, mut out) = (0u64, 0usize, Vec::new());
        while let Some((_, _, sender)) = heap.pop() {
            let Some(nonce) = cursors.get(&sender).copied() else {
                continue;
            };
            let Some(tx) = self.by_sender.get(&sender).and_then(|txs| txs.get(&nonce)) else {
                continue;
            };
            let fits = gas.checked_add(tx.gas_limit).is_some_and(|g| g <= max_gas)
                && bytes + tx.size() <= max_bytes;
            if !fits {
                // This sender's later nonces cannot go before this one.
                continue;
            }
            gas += tx.gas_limit;
            bytes += tx.size();
            out.push(tx.raw.clone());
            let next = nonce.saturating_add(1);
            if let Some(next_tx) = self.by_sender.get(&sender).and_then(|txs| txs.get(&next))
                && let Some(priority) = self.priority(next_tx, base_fee)
            {
                heap.push((priority, Reverse(next_tx.hash), sender));
                cursors.insert(sender, next);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(sender: u8, nonce: u8, fee: u8, tip: u8) -> PoolTransaction {
        let raw = RawTransaction(vec![sender, nonce, fee, tip, 0, 0, 0, 0].into());
        PoolTransaction {
            hash: raw.hash(),
            raw,
            sender: Address::repeat_byte(sender),
            nonce: nonce.into(),
            gas_limit: 21_000,
            max_fee_per_gas: fee.into(),
            max_priority_fee_per_gas: tip.into(),
            cost: U256::from(21_000u64 * u64::from(fee)),
            admitted: Timestamp(0),
        }
    }

    /// Enough for any test transaction.
    const RICH: U256 = U256::MAX;

    #[test]
    fn refuses_duplicates_and_stale_nonces_with_geth_wording() {
        let mut pool = Mempool::new(MempoolConfig::default());
        pool.admit(tx(1, 5, 100, 10), 5, RICH).unwrap();
        assert_eq!(
            pool.admit(tx(1, 5, 100, 10), 5, RICH)
                .unwrap_err()
                .to_string(),
            "already known"
        );
        let low = pool.admit(tx(1, 4, 100, 10), 5, RICH).unwrap_err();
        assert_eq!(low.to_string(), "nonce too low: next nonce 5, tx nonce 4");
    }

    #[test]
    fn replacement_needs_a_ten_percent_bump_of_both_caps() {
        let mut pool = Mempool::new(MempoolConfig::default());
        let first = tx(1, 0, 100, 10);
        pool.admit(first.clone(), 0, RICH).unwrap();
        assert_eq!(
            pool.admit(tx(1, 0, 109, 11), 0, RICH),
            Err(MempoolError::ReplacementUnderpriced)
        );
        assert_eq!(
            pool.admit(tx(1, 0, 110, 10), 0, RICH),
            Err(MempoolError::ReplacementUnderpriced)
        );
        let better = tx(1, 0, 110, 11);
        assert_eq!(
            pool.admit(better.clone(), 0, RICH),
            Ok(Admitted::Replaced(first.hash))
        );
        assert!(!pool.contains(&first.hash));
        assert_eq!(pool.len(), 1);
        assert_eq!(pool.bytes(), better.raw.0.len());
    }

    #[test]
    fn pending_nonce_counts_only_the_gapless_run() {
        let mut pool = Mempool::new(MempoolConfig::default());
        for n in [3, 4, 6] {
            pool.admit(tx(1, n, 100, 1), 3, RICH).unwrap();
        }
        assert_eq!(pool.pending_nonce(&Address::repeat_byte(1), 3), 5);
        assert_eq!(pool.pending_nonce(&Address::repeat_byte(2), 9), 9);
    }

    #[test]
    fn selection_orders_by_tip_across_senders_and_by_nonce_within_one() {
        let mut pool = Mempool::new(MempoolConfig::default());
        pool.admit(tx(1, 0, 100, 1), 0, RICH).unwrap();
        pool.admit(tx(1, 1, 100, 50), 0, RICH).unwrap();
        pool.admit(tx(2, 0, 100, 20), 0, RICH).unwrap();
        pool.admit(tx(3, 0, 5, 5), 0, RICH).unwrap(); // below the base fee
        let picked = pool.select(10, 1_000_000, usize::MAX, |_| 0);
        let order: Vec<(u8, u8)> = picked.iter().map(|r| (r.0[0], r.0[1])).collect();
        // Sender 2 tips 20; sender 1's nonce 0 tips 1 but must precede its nonce 1.
        assert_eq!(order, [(2, 0), (1, 0), (1, 1)]);
        // Gas bounds the block.
        assert_eq!(pool.select(10, 42_000, usize::MAX, |_| 0).len(), 2);
    }

    /// An integrator's order: sender 3 first, then the rest by tip.
    #[derive(Debug)]
    struct SenderThreeFirst;

    impl TxOrdering for SenderThreeFirst {
        fn priority(&self, tx: &PoolTransaction, base_fee: u128) -> Option<u128> {
            let tip = tx.effective_tip(base_fee)?;
            Some(if tx.sender == Address::repeat_byte(3) {
                u128::MAX
            } else {
                tip
            })
        }
    }

    #[test]
    fn another_ordering_chooses_across_senders_and_nonces_stay_in_order() {
        let mut pool =
            Mempool::new(MempoolConfig::default()).with_ordering(Arc::new(SenderThreeFirst));
        pool.admit(tx(1, 0, 100, 50), 0, RICH).unwrap();
        pool.admit(tx(3, 0, 100, 1), 0, RICH).unwrap();
        pool.admit(tx(3, 1, 100, 1), 0, RICH).unwrap();
        pool.admit(tx(2, 0, 100, 20), 0, RICH).unwrap();
        let picked = pool.select(10, 1_000_000, usize::MAX, |_| 0);
        let order: Vec<(u8, u8)> = picked.iter().map(|r| (r.0[0], r.0[1])).collect();
        assert_eq!(order, [(3, 0), (3, 1), (1, 0), (2, 0)]);
        // By tip, the same pool puts sender 3 last.
        let mut by_tip = Mempool::new(MempoolConfig::default());
        for t in [
            tx(1, 0, 100, 50),
            tx(3, 0, 100, 1),
            tx(3, 1, 100, 1),
            tx(2, 0, 100, 20),
        ] {
            by_tip.admit(t, 0, RICH).unwrap();
        }
        let order: Vec<(u8, u8)> = by_tip
            .select(10, 1_000_000, usize::MAX, |_| 0)
            .iter()
            .map(|r| (r.0[0], r.0[1]))
            .collect();
        assert_eq!(order, [(1, 0), (2, 0), (3, 0), (3, 1)]);
    }

    #[test]
    fn a_full_pool_evicts_cheaper_tails_or_refuses() {
        let mut pool = Mempool::new(MempoolConfig {
            max_transactions: 2,
            ..MempoolConfig::default()
        });
        pool.admit(tx(1, 0, 100, 5), 0, RICH).unwrap();
        pool.admit(tx(2, 0, 100, 7), 0, RICH).unwrap();
        assert_eq!(
            pool.admit(tx(3, 0, 100, 5), 0, RICH),
            Err(MempoolError::PoolFull)
        );
        pool.admit(tx(3, 0, 100, 9), 0, RICH).unwrap();
        assert_eq!(pool.len(), 2);
        assert!(!pool.contains(&tx(1, 0, 100, 5).hash));
    }

    #[test]
    fn committed_nonces_are_pruned() {
        let mut pool = Mempool::new(MempoolConfig::default());
        for n in 0..4 {
            pool.admit(tx(1, n, 100, 1), 0, RICH).unwrap();
        }
        pool.prune_sender(&Address::repeat_byte(1), 3);
        assert_eq!(pool.len(), 1);
        assert_eq!(pool.pending_nonce(&Address::repeat_byte(1), 3), 4);
    }
}

#[cfg(test)]
mod limits {
    use super::*;

    fn tx(sender: u8, nonce: u64, tip: u128, size: usize, cost: u64) -> PoolTransaction {
        let mut bytes = vec![0u8; size.max(10)];
        bytes[0] = sender;
        bytes[1..9].copy_from_slice(&nonce.to_be_bytes());
        bytes[9] = u8::try_from(tip).unwrap_or(u8::MAX);
        let raw = RawTransaction(bytes.into());
        PoolTransaction {
            hash: raw.hash(),
            raw,
            sender: Address::repeat_byte(sender),
            nonce,
            gas_limit: 21_000,
            max_fee_per_gas: 100,
            max_priority_fee_per_gas: tip,
            cost: U256::from(cost),
            admitted: Timestamp(0),
        }
    }

    #[test]
    fn a_transaction_above_128_kib_is_oversized_data() {
        let mut pool = Mempool::new(MempoolConfig::default());
        let big = tx(1, 0, 1, 128 * 1024 + 1, 0);
        assert_eq!(
            pool.admit(big, 0, U256::MAX).unwrap_err().to_string(),
            "oversized data: transaction size 131073, limit 131072"
        );
        pool.admit(tx(1, 0, 1, 128 * 1024, 0), 0, U256::MAX)
            .unwrap();
    }

    #[test]
    fn a_tip_below_the_floor_is_underpriced() {
        let mut pool = Mempool::new(MempoolConfig {
            min_tip_wei: 2,
            ..MempoolConfig::default()
        });
        assert_eq!(
            pool.admit(tx(1, 0, 1, 100, 0), 0, U256::MAX)
                .unwrap_err()
                .to_string(),
            "transaction underpriced: gas tip cap 1, minimum needed 2"
        );
        pool.admit(tx(1, 0, 2, 100, 0), 0, U256::MAX).unwrap();
    }

    #[test]
    fn a_sender_gets_at_most_its_account_slots_but_may_still_replace() {
        let mut pool = Mempool::new(MempoolConfig {
            max_account_slots: 3,
            ..MempoolConfig::default()
        });
        for n in 0..3 {
            pool.admit(tx(1, n, 10, 100, 0), 0, U256::MAX).unwrap();
        }
        assert!(matches!(
            pool.admit(tx(1, 3, 10, 100, 0), 0, U256::MAX),
            Err(MempoolError::AccountLimit { pooled: 3, .. })
        ));
        pool.admit(tx(2, 0, 10, 100, 0), 0, U256::MAX).unwrap();
        let mut better = tx(1, 2, 20, 100, 0);
        better.max_fee_per_gas = 200;
        assert!(matches!(
            pool.admit(better, 0, U256::MAX),
            Ok(Admitted::Replaced(_))
        ));
    }

    #[test]
    fn the_cumulative_cost_of_a_senders_transactions_must_fit_its_balance() {
        let mut pool = Mempool::new(MempoolConfig::default());
        let balance = U256::from(100u64);
        pool.admit(tx(1, 0, 10, 100, 60), 0, balance).unwrap();
        let over = pool.admit(tx(1, 1, 10, 100, 41), 0, balance).unwrap_err();
        assert_eq!(
            over.to_string(),
            "insufficient funds for gas * price + value: balance 100, queued cost 60, tx cost 41"
        );
        pool.admit(tx(1, 1, 10, 100, 40), 0, balance).unwrap();
        // A replacement is counted instead of what it replaces.
        let mut cheaper = tx(1, 1, 20, 101, 30);
        cheaper.max_fee_per_gas = 200;
        pool.admit(cheaper, 0, balance).unwrap();
    }

    #[test]
    fn queued_transactions_expire_after_the_lifetime_and_executable_ones_stay() {
        let mut pool = Mempool::new(MempoolConfig {
            lifetime_secs: 10,
            ..MempoolConfig::default()
        });
        pool.admit(tx(1, 0, 10, 100, 0), 0, U256::MAX).unwrap();
        let mut late = tx(1, 5, 10, 100, 0);
        late.admitted = Timestamp(5_000);
        pool.admit(late, 0, U256::MAX).unwrap();
        assert_eq!(pool.expire(Timestamp(10_000), |_| 0), 0);
        assert_eq!(pool.expire(Timestamp(15_001), |_| 0), 1);
        assert_eq!(pool.len(), 1, "nonce 0 is executable and stays");
    }
}
