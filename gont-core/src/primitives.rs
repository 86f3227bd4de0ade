//! Fixed-size identifiers and quantities that cross crate boundaries.
//!
//! Every number with a meaning gets a newtype, so that a height cannot be
//! passed where a chain id is expected. Ethereum-facing values (`Address`,
//! `U256`, `B256` keccak hashes, `Bytes`) are alloy's, so that the VM, the
//! RPC and every wallet agree on them without conversion.

use std::fmt;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use alloy_primitives::{Address, B256, Bytes, U256};

/// Parses `0x`-prefixed (or bare) hex into exactly `N` bytes.
pub(crate) fn parse_hex_array<const N: usize>(s: &str) -> Result<[u8; N], HexError> {
    let digits = s.strip_prefix("0x").unwrap_or(s);
    if digits.len() != 2 * N {
        return Err(HexError::Length {
            expected: N,
            found_digits: digits.len(),
        });
    }
    let mut out = [0u8; N];
    alloy_primitives::hex::decode_to_slice(digits, &mut out).map_err(|_| HexError::Digit)?;
    Ok(out)
}

/// Why a hex string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    /// The string does not hold the expected number of bytes.
    #[error("expected {expected} bytes ({} hex digits), found {found_digits} hex digits", 2 * expected)]
    Length {
        /// Bytes expected.
        expected: usize,
        /// Hex digits found after the optional `0x`.
        found_digits: usize,
    },
    /// A character that is not a hex digit.
    #[error("invalid hex digit")]
    Digit,
}

/// A newtype over `[u8; N]` with hex `Display`, `FromStr` and serde, and
/// borsh as the raw bytes.
macro_rules! fixed_bytes {
    ($(#[$doc:meta])* $name:ident, $n:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, borsh::BorshSerialize, borsh::BorshDeserialize)]
        pub struct $name(pub [u8; $n]);

        impl $name {
            /// All zero bytes.
            pub const ZERO: Self = Self([0; $n]);

            /// The raw bytes.
            pub const fn as_bytes(&self) -> &[u8; $n] {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::ZERO
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "0x{}", alloy_primitives::hex::encode(self.0))
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::primitives::HexError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $crate::primitives::parse_hex_array(s).map(Self)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize<'de>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }

        impl From<[u8; $n]> for $name {
            fn from(bytes: [u8; $n]) -> Self {
                Self(bytes)
            }
        }
    };
}
pub(crate) use fixed_bytes;

fixed_bytes! {
    /// A blake3 digest: the hash of GONT's own structures (genesis, merkle
    /// roots of transactions and receipts, the state commitment, checkpoint
    /// ids). Ethereum-facing hashes stay keccak and use [`B256`].
    Hash, 32
}

fixed_bytes! {
    /// The id of a block: Tendermint's header hash (a SHA-256 merkle root over
    /// the protobuf-encoded header fields), so that tendermint-rs's light
    /// client verifies GONT commits unchanged. See `header.rs`.
    BlockId, 32
}

impl Hash {
    /// The blake3 digest of `bytes`.
    pub fn digest(bytes: &[u8]) -> Self {
        Self(*blake3::hash(bytes).as_bytes())
    }

    /// The blake3 digest of `bytes` under a domain-separation context, so that
    /// equal bytes of two different structures never share a hash.
    pub fn digest_in(context: &str, bytes: &[u8]) -> Self {
        let mut hasher = blake3::Hasher::new_derive_key(context);
        hasher.update(bytes);
        Self(*hasher.finalize().as_bytes())
    }
}

macro_rules! number {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Debug,
            Serialize, Deserialize, BorshSerialize, BorshDeserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl $name {
            /// The plain number.
            pub const fn get(self) -> $inner {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl From<$inner> for $name {
            fn from(n: $inner) -> Self {
                Self(n)
            }
        }
    };
}

number! {
    /// An EIP-155 chain id. GONT Space and every service each have their own,
    /// and no two may be equal; Tendermint's string chain id is derived from
    /// it (see [`ChainId::tendermint_id`]).
    ChainId(u64)
}

number! {
    /// A block height. The first block after genesis is height 1.
    Height(u64)
}

number! {
    /// The id of a service: an application chain under GONT Space.
    ServiceId(u32)
}

number! {
    /// Consensus voting power, as Tendermint counts it (bounded by
    /// [`crate::validator_set::MAX_TOTAL_VOTING_POWER`]).
    VotingPower(u64)
}

impl Height {
    /// The height after this one, or `None` at `u64::MAX`.
    pub fn next(self) -> Option<Self> {
        self.0.checked_add(1).map(Self)
    }
}

/// The prefix of every Tendermint chain id GONT derives.
pub const TENDERMINT_CHAIN_ID_PREFIX: &str = "gont-";

impl ChainId {
    /// The Tendermint chain id for this chain: `gont-<decimal id>`.
    pub fn tendermint_id(self) -> String {
        format!("{TENDERMINT_CHAIN_ID_PREFIX}{}", self.0)
    }

    /// The inverse of [`ChainId::tendermint_id`].
    pub fn from_tendermint_id(id: &str) -> Option<Self> {
        let digits = id.strip_prefix(TENDERMINT_CHAIN_ID_PREFIX)?;
        // Only the canonical decimal form, so that the mapping is one-to-one.
        if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
            return None;
        }
        digits.parse().ok().map(Self)
    }
}

/// A stake in the smallest unit of the staked token (like wei), so that an
/// amount never loses precision. JSON carries it as a decimal string.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    Debug,
    BorshSerialize,
    BorshDeserialize,
)]
pub struct Stake(pub u128);

/// The stake worth one unit of voting power: one whole token of 10^18 units.
pub const STAKE_PER_POWER: u128 = 1_000_000_000_000_000_000;

impl Stake {
    /// `n` whole tokens.
    pub const fn tokens(n: u64) -> Self {
        Self(n as u128 * STAKE_PER_POWER)
    }

    /// The voting power this stake is worth: whole tokens, rounded down.
    /// `None` if that does not fit a `u64`.
    pub fn voting_power(self) -> Option<VotingPower> {
        u64::try_from(self.0 / STAKE_PER_POWER)
            .ok()
            .map(VotingPower)
    }
}

impl fmt::Display for Stake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for Stake {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Stake {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as Deserialize<'de>>::deserialize(d)?;
        s.parse::<u128>().map(Self).map_err(|e| {
            serde::de::Error::custom(format!("invalid stake {s:?}: {e} (a decimal string)"))
        })
    }
}

/// A point in time: milliseconds since the Unix epoch, UTC. JSON carries it as
/// RFC 3339 (`2026-01-01T00:00:00Z`), as CometBFT's genesis does.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    Debug,
    BorshSerialize,
    BorshDeserialize,
)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// From whole seconds since the epoch.
    pub const fn from_secs(secs: u64) -> Self {
        Self(secs.saturating_mul(1000))
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Whole seconds since the epoch (the EVM's `TIMESTAMP`).
    pub const fn as_secs(self) -> u64 {
        self.0 / 1000
    }

    /// RFC 3339 in UTC with millisecond precision where needed.
    pub fn to_rfc3339(self) -> String {
        let nanos = i128::from(self.0) * 1_000_000;
        time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| format!("{}ms", self.0))
    }

    /// Parses RFC 3339. Refuses times before the epoch and sub-millisecond
    /// precision, which this type cannot hold without loss.
    pub fn parse_rfc3339(s: &str) -> Result<Self, String> {
        let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .map_err(|e| format!("invalid RFC 3339 time {s:?}: {e}"))?;
        let nanos = t.unix_timestamp_nanos();
        if nanos < 0 {
            return Err(format!("time {s:?} is before 1970-01-01"));
        }
        if nanos % 1_000_000 != 0 {
            return Err(format!("time {s:?} has sub-millisecond precision"));
        }
        u64::try_from(nanos / 1_000_000)
            .map(Self)
            .map_err(|_| format!("time {s:?} is too far in the future"))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as Deserialize<'de>>::deserialize(d)?;
        Self::parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tendermint_chain_id_round_trips_and_rejects_non_canonical_forms() {
        for n in [0, 1, 1337, u64::MAX] {
            let id = ChainId(n);
            assert_eq!(ChainId::from_tendermint_id(&id.tendermint_id()), Some(id));
        }
        for bad in [
            "gont-",
            "gont-01",
            "gont-x",
            "1337",
            "gont--1",
            "gont-18446744073709551616",
        ] {
            assert_eq!(ChainId::from_tendermint_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn timestamps_parse_rfc3339_and_refuse_lossy_or_negative_times() {
        let t = Timestamp::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        assert_eq!(t.as_secs(), 1_767_225_600);
        assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()).unwrap(), t);
        assert!(
            Timestamp::parse_rfc3339("1969-12-31T23:59:59Z")
                .unwrap_err()
                .contains("before 1970")
        );
        assert!(
            Timestamp::parse_rfc3339("2026-01-01T00:00:00.0000001Z")
                .unwrap_err()
                .contains("sub-millisecond")
        );
        assert!(Timestamp::parse_rfc3339("yesterday").is_err());
    }

    #[test]
    fn hex_hashes_need_exactly_32_bytes() {
        assert!("0x00".parse::<Hash>().is_err());
        assert_eq!("zz".repeat(32).parse::<Hash>(), Err(HexError::Digit),);
        let h = Hash::digest(b"gont");
        assert_eq!(h.to_string().parse::<Hash>().unwrap(), h);
    }

    #[test]
    fn stake_converts_to_whole_token_power() {
        assert_eq!(Stake::tokens(7).voting_power(), Some(VotingPower(7)));
        assert_eq!(
            Stake(STAKE_PER_POWER - 1).voting_power(),
            Some(VotingPower(0))
        );
        assert_eq!(Stake(u128::MAX).voting_power(), None);
    }
}
