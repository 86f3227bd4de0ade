//! Service manifests: the application chains under GONT Space.
//!
//! A service is its own chain with its own chain id, its own validators (its
//! participants, and only they, stake in it) and its own rules: contracts
//! placed at genesis at deterministic addresses. Its checkpoints are anchored
//! into the Space (see [`crate::checkpoint`]).

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::encoding::encode;
use crate::genesis::{ConsensusParams, GenesisAccount, GenesisValidator, validator_set_of};
use crate::primitives::{Address, Bytes, ChainId, Hash, ServiceId};
use crate::validator_set::{ValidatorSet, ValidatorSetError};

/// The account that "deploys" every service's rule contracts at genesis: the
/// contract at index `i` of a manifest lives at `RULES_DEPLOYER.create(i)`,
/// the address an ordinary `CREATE` with nonce `i` would give, so tools
/// compute it as they compute any contract address. No key controls it.
pub const RULES_DEPLOYER: Address =
    alloy_primitives::address!("00000000000000000000000000000000676f6e74");

/// A service's manifest, as it stands in the genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceManifest {
    /// The service's id, unique under the Space.
    pub id: ServiceId,
    /// A name for people.
    pub name: String,
    /// The service chain's EIP-155 chain id, unique among all chains.
    pub chain_id: ChainId,
    /// The service's rules: contracts deployed at genesis.
    #[serde(default)]
    pub contracts: Vec<ServiceContract>,
    /// The participants, who are the service's validators.
    pub participants: Vec<GenesisValidator>,
    /// Funded accounts on the service chain.
    #[serde(default)]
    pub accounts: Vec<GenesisAccount>,
    /// The service chain's consensus parameters.
    pub params: ConsensusParams,
}

/// A rule contract of a service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceContract {
    /// A name for people.
    pub name: String,
    /// Creation bytecode.
    pub code: Bytes,
    /// ABI-encoded constructor arguments, appended to the creation code.
    #[serde(default)]
    pub constructor_args: Bytes,
}

impl ServiceManifest {
    /// The address of the rule contract at `index` of [`Self::contracts`].
    pub fn contract_address(index: u64) -> Address {
        RULES_DEPLOYER.create(index)
    }

    /// The service's validator set. Call after [`crate::Genesis::validate`].
    pub fn validator_set(&self) -> Result<ValidatorSet, ValidatorSetError> {
        validator_set_of(&self.participants)
    }

    /// The blake3 hash of the manifest's canonical encoding.
    pub fn hash(&self) -> Hash {
        Hash::digest_in("gont service manifest v1", &encode(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_contracts_sit_at_create_addresses_of_the_deployer() {
        // keccak(rlp([deployer, nonce]))[12..], spelled out byte by byte:
        // 0xd6 = list of 22 bytes, 0x94 = string of 20, then the nonce.
        for (index, nonce_rlp) in [(0u64, 0x80u8), (1, 0x01), (5, 0x05)] {
            let mut rlp = vec![0xd6, 0x94];
            rlp.extend_from_slice(RULES_DEPLOYER.as_slice());
            rlp.push(nonce_rlp);
            let expected = Address::from_slice(&alloy_primitives::keccak256(&rlp)[12..]);
            assert_eq!(
                ServiceManifest::contract_address(index),
                expected,
                "index {index}"
            );
        }
    }
}
