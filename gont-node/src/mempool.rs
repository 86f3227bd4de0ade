//! The transaction pool of one chain: ordered by sender nonce and fee,
//! replacement by a higher fee, bounded by count and bytes.
//!
//! The pool is a pure data structure: it takes transactions that the caller
//! has already decoded and checked against the chain's state (signature,
//! chain id, intrinsic gas, balance: see `gont_vm`), and applies the rules
//! that only the pool can: duplicates, nonce gaps and order, replacement,
//! bounds, and which transactions a proposer should take next. No clocks,
//! no I/O.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

use gont_core::{Address, B256, RawTransaction};

/// Bounds and rules of a pool.
#[derive(Clone, Copy, Debug)]
pub struct MempoolConfig {
    /// The most transactions held.
    pub max_transactions: usize,
    /// The most bytes of raw transactions held.
    pub max_bytes: usize,
    /// The least raise, in percent of both fee caps, to replace a pending
    /// transaction of the same sender and nonce (geth's `--txpool.pricebump`).
    pub price_bump_percent: u128,
    /// How far past a sender's next nonce a transaction may be queued.
    pub max_nonce_gap: u64,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        Self {
            max_transactions: 10_000,
            max_bytes: 64 * 1024 * 1024,
            price_bump_percent: 10,
            max_nonce_gap: 64,
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
}

/// What an admitted transaction did to the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admitted {
    /// Added.
    New,
    /// Replaced the pooled transaction with this hash.
    Replaced(B256),
}

/// One chain's pool.
#[derive(Debug, Default)]
pub struct Mempool {
    config: MempoolConfig,
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

    /// Admits `tx`, whose sender's account nonce is `account_nonce`.
    pub fn admit(
        &mut self,
        tx: PoolTransaction,
        account_nonce: u64,
    ) -> Result<Admitted, MempoolError> {
        if self.by_hash.contains_key(&tx.hash) {
            return Err(MempoolError::AlreadyKnown);
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
        let replaced = self
            .by_sender
            .get(&tx.sender)
            .and_then(|txs| txs.get(&tx.nonce))
            .cloned();
        if let Some(old) = &replaced {
            let bump = |fee: u128| fee.saturating_mul(100 + self.config.price_bump_percent) / 100;
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

    /// The transactions a proposer should include next, best tip first,
    /// each sender's in nonce order starting at its account nonce, within
    /// `max_gas` and `max_bytes`, leaving out those whose fee cap is below
    /// `base_fee`.
    pub fn select(
        &self,
        base_fee: u128,
        max_gas: u64,
        max_bytes: usize,
        account_nonce: impl Fn(&Address) -> u64,
    ) -> Vec<RawTransaction> {
        // A heap of each sender's next executable transaction, by tip.
        let mut heap = BinaryHeap::new();
        let mut cursors: HashMap<Address, u64> = HashMap::new();
        for (sender, txs) in &self.by_sender {
            let nonce = account_nonce(sender);
            if let Some(tx) = txs.get(&nonce)
                && let Some(tip) = tx.effective_tip(base_fee)
            {
                heap.push((tip, Reverse(tx.hash), *sender));
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
                && let Some(tip) = next_tx.effective_tip(base_fee)
            {
                heap.push((tip, Reverse(next_tx.hash), sender));
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
        }
    }

    #[test]
    fn refuses_duplicates_and_stale_nonces_with_geth_wording() {
        let mut pool = Mempool::new(MempoolConfig::default());
        pool.admit(tx(1, 5, 100, 10), 5).unwrap();
        assert_eq!(
            pool.admit(tx(1, 5, 100, 10), 5).unwrap_err().to_string(),
            "already known"
        );
        let low = pool.admit(tx(1, 4, 100, 10), 5).unwrap_err();
        assert_eq!(low.to_string(), "nonce too low: next nonce 5, tx nonce 4");
    }

    #[test]
    fn replacement_needs_a_ten_percent_bump_of_both_caps() {
        let mut pool = Mempool::new(MempoolConfig::default());
        let first = tx(1, 0, 100, 10);
        pool.admit(first.clone(), 0).unwrap();
        assert_eq!(
            pool.admit(tx(1, 0, 109, 11), 0),
            Err(MempoolError::ReplacementUnderpriced)
        );
        assert_eq!(
            pool.admit(tx(1, 0, 110, 10), 0),
            Err(MempoolError::ReplacementUnderpriced)
        );
        let better = tx(1, 0, 110, 11);
        assert_eq!(
            pool.admit(better.clone(), 0),
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
            pool.admit(tx(1, n, 100, 1), 3).unwrap();
        }
        assert_eq!(pool.pending_nonce(&Address::repeat_byte(1), 3), 5);
        assert_eq!(pool.pending_nonce(&Address::repeat_byte(2), 9), 9);
    }

    #[test]
    fn selection_orders_by_tip_across_senders_and_by_nonce_within_one() {
        let mut pool = Mempool::new(MempoolConfig::default());
        pool.admit(tx(1, 0, 100, 1), 0).unwrap();
        pool.admit(tx(1, 1, 100, 50), 0).unwrap();
        pool.admit(tx(2, 0, 100, 20), 0).unwrap();
        pool.admit(tx(3, 0, 5, 5), 0).unwrap(); // below the base fee
        let picked = pool.select(10, 1_000_000, usize::MAX, |_| 0);
        let order: Vec<(u8, u8)> = picked.iter().map(|r| (r.0[0], r.0[1])).collect();
        // Sender 2 tips 20; sender 1's nonce 0 tips 1 but must precede its nonce 1.
        assert_eq!(order, [(2, 0), (1, 0), (1, 1)]);
        // Gas bounds the block.
        assert_eq!(pool.select(10, 42_000, usize::MAX, |_| 0).len(), 2);
    }

    #[test]
    fn a_full_pool_evicts_cheaper_tails_or_refuses() {
        let mut pool = Mempool::new(MempoolConfig {
            max_transactions: 2,
            ..MempoolConfig::default()
        });
        pool.admit(tx(1, 0, 100, 5), 0).unwrap();
        pool.admit(tx(2, 0, 100, 7), 0).unwrap();
        assert_eq!(pool.admit(tx(3, 0, 100, 5), 0), Err(MempoolError::PoolFull));
        pool.admit(tx(3, 0, 100, 9), 0).unwrap();
        assert_eq!(pool.len(), 2);
        assert!(!pool.contains(&tx(1, 0, 100, 5).hash));
    }

    #[test]
    fn committed_nonces_are_pruned() {
        let mut pool = Mempool::new(MempoolConfig::default());
        for n in 0..4 {
            pool.admit(tx(1, n, 100, 1), 0).unwrap();
        }
        pool.prune_sender(&Address::repeat_byte(1), 3);
        assert_eq!(pool.len(), 1);
        assert_eq!(pool.pending_nonce(&Address::repeat_byte(1), 3), 4);
    }
}
