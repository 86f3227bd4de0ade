//! Stake-weighted validator sets and the quorum arithmetic, in one place.
//!
//! A [`ValidatorSet`] is always valid: non-empty, no duplicate key or
//! operator, every member with power, total power within Tendermint's bound,
//! and ordered as Tendermint orders it (power descending, then address
//! ascending), so that its [`ValidatorSet::hash`] is Tendermint's
//! `validators_hash` and tendermint-rs verifies our commits.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::primitives::{Address, HexError, VotingPower, fixed_bytes, parse_hex_array};

/// Tendermint's bound on the total voting power of a set (`i64::MAX / 8`), so
/// that priority arithmetic cannot overflow.
pub const MAX_TOTAL_VOTING_POWER: u64 = tendermint::validator::Set::MAX_TOTAL_VOTING_POWER;

/// An ed25519 consensus public key, checked to be a valid curve point.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, BorshSerialize)]
pub struct ConsensusKey([u8; 32]);

/// Why bytes are not a consensus key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsensusKeyError {
    /// Not hex of the right length.
    #[error(transparent)]
    Hex(#[from] HexError),
    /// 32 bytes that are not an ed25519 point.
    #[error("not a valid ed25519 public key")]
    NotOnCurve,
}

impl ConsensusKey {
    /// Checks that `bytes` is an ed25519 public key.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self, ConsensusKeyError> {
        ed25519_consensus::VerificationKey::try_from(bytes)
            .map_err(|_| ConsensusKeyError::NotOnCurve)?;
        Ok(Self(bytes))
    }

    /// The key of an ed25519 signing key.
    pub fn of(signing_key: &ed25519_consensus::SigningKey) -> Self {
        Self(signing_key.verification_key().to_bytes())
    }

    /// The raw 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Tendermint's address of this key: the first 20 bytes of its SHA-256.
    pub fn address(&self) -> ValidatorAddress {
        let id = tendermint::account::Id::from(self.to_tendermint());
        let mut out = [0; 20];
        out.copy_from_slice(id.as_bytes());
        ValidatorAddress(out)
    }

    /// Whether `signature` is this key's signature of `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        ed25519_consensus::VerificationKey::try_from(self.0)
            .and_then(|key| key.verify(&ed25519_consensus::Signature::from(*signature), message))
            .is_ok()
    }

    /// The same key as tendermint-rs's type.
    pub fn to_tendermint(&self) -> tendermint::PublicKey {
        // Every constructor checked the point, so the conversion cannot fail.
        #[allow(clippy::expect_used)]
        tendermint::PublicKey::from_raw_ed25519(&self.0)
            .expect("every constructor checks the ed25519 point")
    }
}

impl BorshDeserialize for ConsensusKey {
    fn deserialize_reader<R: borsh::io::Read>(reader: &mut R) -> borsh::io::Result<Self> {
        let bytes = <[u8; 32]>::deserialize_reader(reader)?;
        Self::from_bytes(bytes)
            .map_err(|e| borsh::io::Error::new(borsh::io::ErrorKind::InvalidData, e.to_string()))
    }
}

impl fmt::Display for ConsensusKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", alloy_primitives::hex::encode(self.0))
    }
}

impl fmt::Debug for ConsensusKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConsensusKey({self})")
    }
}

impl FromStr for ConsensusKey {
    type Err = ConsensusKeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_bytes(parse_hex_array(s)?)
    }
}

impl Serialize for ConsensusKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ConsensusKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as Deserialize<'de>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

fixed_bytes! {
    /// Tendermint's 20-byte validator address (SHA-256 of the key, truncated).
    /// Distinct from a validator's Ethereum operator [`Address`].
    ValidatorAddress, 20
}

/// One member of a validator set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Validator {
    /// Signs proposals and votes.
    pub consensus_key: ConsensusKey,
    /// The operator's Ethereum account: receives the proposer's fees.
    pub operator: Address,
    /// Voting power, from stake.
    pub power: VotingPower,
}

impl Validator {
    /// Tendermint's address of this validator.
    pub fn address(&self) -> ValidatorAddress {
        self.consensus_key.address()
    }
}

/// Why a list of validators is not a valid set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidatorSetError {
    /// No validators at all.
    #[error("a validator set needs at least one validator")]
    Empty,
    /// Two members share a consensus key.
    #[error("consensus key {0} appears twice")]
    DuplicateKey(ConsensusKey),
    /// Two members share an operator account.
    #[error("operator {0} appears twice")]
    DuplicateOperator(Address),
    /// A member without power; zero power means removal, not membership.
    #[error("validator {0} has zero voting power")]
    ZeroPower(ConsensusKey),
    /// The total exceeds [`MAX_TOTAL_VOTING_POWER`].
    #[error("total voting power exceeds the maximum {MAX_TOTAL_VOTING_POWER}")]
    TotalPowerOverflow,
}

fixed_bytes! {
    /// A Tendermint `validators_hash`: SHA-256 merkle root over the protobuf
    /// encoding of each member's key and power, in set order.
    ValidatorSetHash, 32
}

/// A valid, ordered, stake-weighted validator set.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
    #[borsh(skip)]
    total_power: VotingPower,
}

impl ValidatorSet {
    /// Checks and orders `validators`.
    pub fn new(mut validators: Vec<Validator>) -> Result<Self, ValidatorSetError> {
        if validators.is_empty() {
            return Err(ValidatorSetError::Empty);
        }
        let mut keys = BTreeSet::new();
        let mut operators = BTreeSet::new();
        let mut total: u64 = 0;
        for v in &validators {
            if !keys.insert(v.consensus_key) {
                return Err(ValidatorSetError::DuplicateKey(v.consensus_key));
            }
            if !operators.insert(v.operator) {
                return Err(ValidatorSetError::DuplicateOperator(v.operator));
            }
            if v.power.0 == 0 {
                return Err(ValidatorSetError::ZeroPower(v.consensus_key));
            }
            total = total
                .checked_add(v.power.0)
                .filter(|t| *t <= MAX_TOTAL_VOTING_POWER)
                .ok_or(ValidatorSetError::TotalPowerOverflow)?;
        }
        // Tendermint's order (`validator::Set::sort_validators`).
        validators.sort_by_key(|v| (std::cmp::Reverse(v.power), v.address()));
        Ok(Self {
            validators,
            total_power: VotingPower(total),
        })
    }

    /// The members, in set order.
    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    /// How many members.
    pub fn len(&self) -> usize {
        self.validators.len()
    }

    /// Always false: a set has at least one member.
    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    /// The sum of all members' power.
    pub fn total_power(&self) -> VotingPower {
        self.total_power
    }

    /// The member with this Tendermint address, and its index in set order.
    pub fn get(&self, address: &ValidatorAddress) -> Option<(usize, &Validator)> {
        self.validators
            .iter()
            .enumerate()
            .find(|(_, v)| v.address() == *address)
    }

    /// The member with this consensus key, and its index in set order.
    pub fn get_by_key(&self, key: &ConsensusKey) -> Option<(usize, &Validator)> {
        self.validators
            .iter()
            .enumerate()
            .find(|(_, v)| v.consensus_key == *key)
    }

    /// Whether `power` is a quorum: strictly more than two thirds of the
    /// total. This is the one place the rule is written.
    pub fn is_quorum(&self, power: VotingPower) -> bool {
        u128::from(power.0) * 3 > u128::from(self.total_power.0) * 2
    }

    /// Whether `power` is more than one third of the total: enough that a
    /// quorum cannot form without it, and so at least one honest member when
    /// fewer than a third are faulty.
    pub fn exceeds_one_third(&self, power: VotingPower) -> bool {
        u128::from(power.0) * 3 > u128::from(self.total_power.0)
    }

    /// The least power that is a quorum.
    pub fn quorum_power(&self) -> VotingPower {
        // floor(2T / 3) + 1, in u128 so that 2T cannot overflow; the result
        // is at most T + 1 and so fits a u64.
        let least = u128::from(self.total_power.0) * 2 / 3 + 1;
        VotingPower(u64::try_from(least).unwrap_or(u64::MAX))
    }

    /// The same set as tendermint-rs's type.
    pub fn to_tendermint(&self) -> tendermint::validator::Set {
        let infos = self
            .validators
            .iter()
            .map(|v| {
                // Powers were bounded by MAX_TOTAL_VOTING_POWER < i64::MAX.
                let power = tendermint::vote::Power::try_from(v.power.0).unwrap_or_default();
                tendermint::validator::Info::new(v.consensus_key.to_tendermint(), power)
            })
            .collect();
        tendermint::validator::Set::without_proposer(infos)
    }

    /// Tendermint's `validators_hash` of this set.
    pub fn hash(&self) -> ValidatorSetHash {
        let leaves: Vec<Vec<u8>> = self
            .to_tendermint()
            .validators()
            .iter()
            .map(|v| v.hash_bytes())
            .collect();
        ValidatorSetHash(tendermint::merkle::simple_hash_from_byte_vectors::<
            tendermint::crypto::default::Sha256,
        >(&leaves))
    }
}

impl BorshDeserialize for ValidatorSet {
    fn deserialize_reader<R: borsh::io::Read>(reader: &mut R) -> borsh::io::Result<Self> {
        let validators = Vec::<Validator>::deserialize_reader(reader)?;
        let set = Self::new(validators.clone())
            .map_err(|e| borsh::io::Error::new(borsh::io::ErrorKind::InvalidData, e.to_string()))?;
        // The encoding is canonical only in set order.
        if set.validators != validators {
            return Err(borsh::io::Error::new(
                borsh::io::ErrorKind::InvalidData,
                "validators are not in set order",
            ));
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validator(seed: u8, power: u64) -> Validator {
        let key = ed25519_consensus::SigningKey::from([seed; 32]);
        Validator {
            consensus_key: ConsensusKey::of(&key),
            operator: Address::repeat_byte(seed),
            power: VotingPower(power),
        }
    }

    #[test]
    fn set_order_and_hash_match_tendermint() {
        let set = ValidatorSet::new(vec![
            validator(1, 5),
            validator(2, 50),
            validator(3, 5),
            validator(4, 7),
        ])
        .unwrap();
        let powers: Vec<u64> = set.validators().iter().map(|v| v.power.0).collect();
        assert_eq!(powers, [50, 7, 5, 5]);
        let tm = set.to_tendermint();
        for (ours, theirs) in set.validators().iter().zip(tm.validators()) {
            assert_eq!(ours.address().0.as_slice(), theirs.address.as_bytes());
        }
        assert_eq!(set.hash().0.as_slice(), tm.hash().as_bytes());
        assert_eq!(set.total_power(), VotingPower(67));
    }

    #[test]
    fn quorum_is_strictly_more_than_two_thirds() {
        for total in 1..=100u64 {
            let set = ValidatorSet::new(vec![validator(1, total)]).unwrap();
            let q = set.quorum_power();
            assert!(set.is_quorum(q), "total {total}");
            assert!(!set.is_quorum(VotingPower(q.0 - 1)), "total {total}");
        }
        let set = ValidatorSet::new((1..=4).map(|i| validator(i, 1)).collect()).unwrap();
        assert!(!set.is_quorum(VotingPower(2)));
        assert!(set.is_quorum(VotingPower(3)));
        assert!(set.exceeds_one_third(VotingPower(2)));
        assert!(!set.exceeds_one_third(VotingPower(1)));
    }

    #[test]
    fn invalid_sets_are_refused_with_the_reason() {
        assert_eq!(ValidatorSet::new(vec![]), Err(ValidatorSetError::Empty));
        let a = validator(1, 1);
        assert_eq!(
            ValidatorSet::new(vec![a, a]),
            Err(ValidatorSetError::DuplicateKey(a.consensus_key))
        );
        let mut b = validator(2, 1);
        b.operator = a.operator;
        assert_eq!(
            ValidatorSet::new(vec![a, b]),
            Err(ValidatorSetError::DuplicateOperator(a.operator))
        );
        let z = validator(3, 0);
        assert_eq!(
            ValidatorSet::new(vec![z]),
            Err(ValidatorSetError::ZeroPower(z.consensus_key))
        );
        let big = validator(4, MAX_TOTAL_VOTING_POWER);
        assert_eq!(
            ValidatorSet::new(vec![big, validator(5, 1)]),
            Err(ValidatorSetError::TotalPowerOverflow)
        );
    }

    #[test]
    fn keys_off_the_curve_are_refused() {
        // y = 2 has no matching x on edwards25519.
        let mut bytes = [0u8; 32];
        bytes[0] = 2;
        assert_eq!(
            ConsensusKey::from_bytes(bytes),
            Err(ConsensusKeyError::NotOnCurve)
        );
    }
}
