//! Token buckets for per-peer rate limits. Pure: the clock is passed in.

use std::time::Instant;

use crate::config::Rate;

/// Units are kept in millionths so that refills over short intervals are
/// not lost to rounding.
const SCALE: u128 = 1_000_000;

/// One token bucket.
#[derive(Clone, Debug)]
pub(crate) struct Bucket {
    rate: Rate,
    /// Available units × `SCALE`.
    tokens: u128,
    updated: Instant,
}

impl Bucket {
    /// A full bucket.
    pub(crate) fn new(rate: Rate, now: Instant) -> Self {
        Self {
            rate,
            tokens: u128::from(rate.burst) * SCALE,
            updated: now,
        }
    }

    /// Takes `cost` units if available; otherwise takes nothing.
    pub(crate) fn try_take(&mut self, cost: u64, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.updated).as_micros();
        // per_second units per 10^6 µs, scaled by SCALE = 10^6: one scaled
        // unit per µs per unit of rate.
        let refill = elapsed.saturating_mul(u128::from(self.rate.per_second));
        let cap = u128::from(self.rate.burst) * SCALE;
        self.tokens = self.tokens.saturating_add(refill).min(cap);
        self.updated = now;
        let cost = u128::from(cost) * SCALE;
        if self.tokens >= cost {
            self.tokens -= cost;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_its_rate() {
        let t0 = Instant::now();
        let mut b = Bucket::new(
            Rate {
                per_second: 10,
                burst: 5,
            },
            t0,
        );
        assert!((0..5).all(|_| b.try_take(1, t0)));
        assert!(!b.try_take(1, t0));
        // 100 ms at 10/s refills exactly one unit.
        let t1 = t0 + Duration::from_millis(100);
        assert!(b.try_take(1, t1));
        assert!(!b.try_take(1, t1));
        // Never more than the burst, however long the pause.
        let t2 = t1 + Duration::from_secs(3600);
        assert!(b.try_take(5, t2));
        assert!(!b.try_take(1, t2));
        // A cost above the burst never passes.
        assert!(!b.try_take(6, t2 + Duration::from_secs(3600)));
    }
}
