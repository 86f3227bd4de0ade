//! gont-core's stake-weighted [`gont_core::ValidatorSet`] as Malachite's
//! validator set, in the same (Tendermint) order.

use borsh::{BorshDeserialize, BorshSerialize};
use gont_core::{ConsensusKey, ValidatorSetHash};
use malachitebft_core_types as mc;

use crate::context::GontContext;
use crate::types::Address;

/// One member, with its address computed once.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Validator {
    address: Address,
    inner: gont_core::Validator,
}

impl Validator {
    /// The gont-core member.
    pub const fn core(&self) -> &gont_core::Validator {
        &self.inner
    }

    /// Its Tendermint address.
    pub const fn address(&self) -> Address {
        self.address
    }
}

impl mc::Validator<GontContext> for Validator {
    fn address(&self) -> &Address {
        &self.address
    }

    fn public_key(&self) -> &ConsensusKey {
        &self.inner.consensus_key
    }

    fn voting_power(&self) -> mc::VotingPower {
        self.inner.power.0
    }
}

/// A validator set: never empty, ordered as Tendermint orders it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSet {
    core: gont_core::ValidatorSet,
    members: Vec<Validator>,
}

impl ValidatorSet {
    /// The same set as gont-core's, same order.
    pub fn new(core: gont_core::ValidatorSet) -> Self {
        let members = core
            .validators()
            .iter()
            .map(|v| Validator {
                address: Address(v.address()),
                inner: *v,
            })
            .collect();
        Self { core, members }
    }

    /// The gont-core set.
    pub const fn core(&self) -> &gont_core::ValidatorSet {
        &self.core
    }

    /// The members in set order.
    pub fn members(&self) -> &[Validator] {
        &self.members
    }

    /// The member with this address and its index.
    pub fn position(&self, address: &Address) -> Option<(usize, &Validator)> {
        self.members
            .iter()
            .enumerate()
            .find(|(_, v)| v.address == *address)
    }

    /// Tendermint's `validators_hash`.
    pub fn hash(&self) -> ValidatorSetHash {
        self.core.hash()
    }
}

impl From<gont_core::ValidatorSet> for ValidatorSet {
    fn from(core: gont_core::ValidatorSet) -> Self {
        Self::new(core)
    }
}

impl BorshSerialize for ValidatorSet {
    fn serialize<W: borsh::io::Write>(&self, writer: &mut W) -> borsh::io::Result<()> {
        self.core.serialize(writer)
    }
}

impl BorshDeserialize for ValidatorSet {
    fn deserialize_reader<R: borsh::io::Read>(reader: &mut R) -> borsh::io::Result<Self> {
        gont_core::ValidatorSet::deserialize_reader(reader).map(Self::new)
    }
}

impl mc::ValidatorSet<GontContext> for ValidatorSet {
    fn count(&self) -> usize {
        self.members.len()
    }

    fn total_voting_power(&self) -> mc::VotingPower {
        self.core.total_power().0
    }

    fn get_by_address(&self, address: &Address) -> Option<&Validator> {
        self.members.iter().find(|v| v.address == *address)
    }

    fn get_by_index(&self, index: usize) -> Option<&Validator> {
        self.members.get(index)
    }
}
