//! The genesis of GONT Space and its services, as a JSON file.
//!
//! A [`Genesis`] fixes everything a node needs to start a chain from nothing:
//! the Space's chain id and start time, its funded accounts and validators,
//! its consensus parameters, and the manifest of every service (see
//! [`crate::service`]). [`Genesis::from_json`] parses; [`Genesis::validate`]
//! checks every rule and names the JSON path of each mistake; [`Genesis::hash`]
//! is the blake3 hash of its canonical encoding, which every node must agree
//! on before it talks to a peer.
//!
//! ```
//! use gont_core::{Genesis, Timestamp};
//!
//! let genesis = Genesis::devnet(4, 1);
//! let json = genesis.to_json();
//! let parsed = Genesis::from_json(&json).unwrap();
//! assert_eq!(parsed, genesis);
//! parsed.validate(Timestamp::parse_rfc3339("2026-11-24T00:00:00Z").unwrap()).unwrap();
//! ```

mod devnet;
mod validate;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

pub use devnet::{
    DEV_ACCOUNT_BALANCE, DEV_ADDRESSES, DEV_MNEMONIC, DEV_OPERATOR_ADDRESSES, DEV_OPERATOR_KEYS,
    DEV_PRIVATE_KEYS, DEVNET_GENESIS_TIME, DEVNET_RELAYER_BALANCE, DEVNET_SPACE_CHAIN_ID,
    DevnetChain, dev_operator, devnet_relayer_address, devnet_relayer_key, devnet_service_nodes,
    devnet_validator_key, secret_address,
};
pub use validate::{
    GenesisError, GenesisErrorKind, GenesisErrors, MAX_GENESIS_TIME_AHEAD_MS, MAX_TIMEOUT_MS,
    MAX_VALIDATORS,
};

use crate::encoding::encode;
use crate::primitives::{Address, ChainId, Hash, Stake, Timestamp, U256};
use crate::service::ServiceManifest;
use crate::validator_set::{ConsensusKey, Validator, ValidatorSet, ValidatorSetError};

/// The genesis of GONT Space and of every service under it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// GONT Space's EIP-155 chain id.
    pub chain_id: ChainId,
    /// When the first block may be proposed.
    pub genesis_time: Timestamp,
    /// The Space's consensus parameters.
    pub consensus: ConsensusParams,
    /// Funded accounts of the Space.
    #[serde(default)]
    pub accounts: Vec<GenesisAccount>,
    /// The Space's validators.
    pub validators: Vec<GenesisValidator>,
    /// The services under the Space.
    #[serde(default)]
    pub services: Vec<ServiceManifest>,
    /// The account that may unfreeze a service frozen in the Space's
    /// anchor registry. It stands in for Space governance, which is not
    /// built; absent, a frozen service stays frozen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor_admin: Option<Address>,
}

/// A funded account at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisAccount {
    /// The account.
    pub address: Address,
    /// Its balance in wei (JSON: a `0x` hex or decimal string).
    pub balance: U256,
}

/// A validator at genesis: of the Space, or a participant of a service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisValidator {
    /// A name for people; not part of consensus.
    #[serde(default)]
    pub name: String,
    /// The ed25519 key that signs its proposals and votes.
    pub consensus_key: ConsensusKey,
    /// The Ethereum account that operates it and receives its fees.
    pub operator: Address,
    /// Its stake, in the token's smallest unit (JSON: a decimal string).
    pub stake: Stake,
}

/// Consensus parameters of one chain.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct ConsensusParams {
    /// The interval consensus aims for between blocks.
    pub target_block_time_ms: u64,
    /// Round-step timeouts.
    pub timeouts: Timeouts,
    /// The most gas one block may use.
    pub max_block_gas: u64,
    /// The most bytes one block's transactions may take.
    pub max_block_bytes: u64,
    /// Blocks per epoch: the staking contract computes the next validator
    /// set at the end of every block whose height is a multiple of it.
    pub epoch_length: u64,
    /// Blocks between `unstake` and the `withdraw` that returns the stake.
    /// A service's also bounds how long the Space's anchor registry trusts
    /// a checkpoint (two thirds of it, in target block times).
    pub unbonding_period_blocks: u64,
    /// A service's nodes submit a checkpoint to the Space every this many
    /// blocks (0: never). Ignored for the Space. Absent in JSON: 10.
    #[serde(default = "default_checkpoint_interval")]
    pub checkpoint_interval: u64,
    /// The staking contract's rules. Absent in JSON: the defaults.
    #[serde(default)]
    pub staking: StakingParams,
}

/// The rules of one chain's staking contract.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct StakingParams {
    /// The least bonded stake that makes a validator eligible for the set
    /// (JSON: a decimal string). At least one whole token.
    pub min_stake: Stake,
    /// The set holds at most this many validators: those with the most
    /// stake (ties: the lower consensus key first).
    pub max_validators: u32,
    /// The share of a double signer's bonded and unbonding stake that is
    /// burned, in basis points (1/10000). Absent in JSON: 500 (5 %, the
    /// Cosmos Hub's).
    #[serde(default = "default_double_sign_slash_bps")]
    pub double_sign_slash_bps: u32,
    /// Blocks a punished validator stays jailed before `unjail` lets it
    /// back. Absent in JSON: 600 (ten minutes of one-second blocks, the
    /// Cosmos Hub's downtime jail).
    #[serde(default = "default_jail_blocks")]
    pub jail_blocks: u64,
    /// The share of a validator's bonded stake that is burned when it is
    /// jailed for downtime, in basis points. Absent in JSON: 100 (1 %, the
    /// Cosmos SDK's default).
    #[serde(default = "default_downtime_slash_bps")]
    pub downtime_slash_bps: u32,
    /// The window of the downtime rule: the last this many blocks a
    /// validator was in the set for (at most
    /// [`MAX_SIGNED_BLOCKS_WINDOW`]). Absent in JSON: 100 (the Cosmos
    /// SDK's default).
    #[serde(default = "default_signed_blocks_window")]
    pub signed_blocks_window: u64,
    /// The least share of the window a validator must sign, in basis
    /// points: who misses more blocks than the rest of the window is
    /// jailed for downtime. Absent in JSON: 5000 (50 %, the Cosmos SDK's
    /// default).
    #[serde(default = "default_min_signed_bps")]
    pub min_signed_bps: u32,
}

/// The longest downtime window a chain may have: what bounds the staking
/// contract's record of one validator's signatures.
pub const MAX_SIGNED_BLOCKS_WINDOW: u64 = 100_000;

const fn default_downtime_slash_bps() -> u32 {
    100
}

const fn default_signed_blocks_window() -> u64 {
    100
}

const fn default_min_signed_bps() -> u32 {
    5_000
}

const fn default_double_sign_slash_bps() -> u32 {
    500
}

const fn default_jail_blocks() -> u64 {
    600
}

impl Default for StakingParams {
    /// One token, 100 validators, 5 % for double signing, 600 blocks of
    /// jail, 1 % for missing more than half of the last 100 blocks.
    fn default() -> Self {
        Self {
            min_stake: Stake::tokens(1),
            max_validators: 100,
            double_sign_slash_bps: default_double_sign_slash_bps(),
            jail_blocks: default_jail_blocks(),
            downtime_slash_bps: default_downtime_slash_bps(),
            signed_blocks_window: default_signed_blocks_window(),
            min_signed_bps: default_min_signed_bps(),
        }
    }
}

const fn default_checkpoint_interval() -> u64 {
    10
}

/// Tendermint's round-step timeouts, in milliseconds.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct Timeouts {
    /// Waiting for the round's proposal.
    pub propose_ms: u64,
    /// Waiting for more prevotes after seeing two thirds of any.
    pub prevote_ms: u64,
    /// Waiting for more precommits after seeing two thirds of any.
    pub precommit_ms: u64,
}

impl Default for ConsensusParams {
    /// One-second blocks, Ethereum-sized gas limit, 4 MiB of transactions.
    fn default() -> Self {
        Self {
            target_block_time_ms: 1_000,
            timeouts: Timeouts {
                propose_ms: 3_000,
                prevote_ms: 1_000,
                precommit_ms: 1_000,
            },
            max_block_gas: 30_000_000,
            max_block_bytes: 4 * 1024 * 1024,
            epoch_length: 100,
            unbonding_period_blocks: 10_000,
            checkpoint_interval: default_checkpoint_interval(),
            staking: StakingParams::default(),
        }
    }
}

impl GenesisValidator {
    /// The validator-set member this entry becomes, if its stake carries power.
    pub fn to_validator(&self) -> Option<Validator> {
        Some(Validator {
            consensus_key: self.consensus_key,
            operator: self.operator,
            power: self.stake.voting_power()?,
        })
    }
}

/// The validator set of a list of genesis validators.
pub(crate) fn validator_set_of(
    validators: &[GenesisValidator],
) -> Result<ValidatorSet, ValidatorSetError> {
    let members = validators
        .iter()
        .map(|v| {
            v.to_validator()
                .ok_or(ValidatorSetError::TotalPowerOverflow)
        })
        .collect::<Result<Vec<_>, _>>()?;
    ValidatorSet::new(members)
}

impl Genesis {
    /// Parses genesis JSON. Syntax, type and hex errors name their JSON path;
    /// the rules between fields are checked by [`Genesis::validate`].
    pub fn from_json(json: &str) -> Result<Self, GenesisError> {
        let de = &mut serde_json::Deserializer::from_str(json);
        serde_path_to_error::deserialize(de).map_err(|e| GenesisError {
            path: e.path().to_string(),
            kind: GenesisErrorKind::Json(e.into_inner().to_string()),
        })
    }

    /// Pretty JSON, as written to `genesis.json`.
    pub fn to_json(&self) -> String {
        // Serialising these types to a String cannot fail: every map key is a
        // string and no value is a float.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The blake3 hash of the canonical encoding. Two nodes with different
    /// genesis hashes are on different networks.
    pub fn hash(&self) -> Hash {
        Hash::digest_in("gont genesis v1", &encode(self))
    }

    /// The Space's validator set. Call after [`Genesis::validate`].
    pub fn validator_set(&self) -> Result<ValidatorSet, ValidatorSetError> {
        validator_set_of(&self.validators)
    }

    /// The validator set and consensus parameters of chain `chain_id`: the
    /// Space's, or a service's (its participants); `None` for a chain this
    /// genesis does not define.
    pub fn chain_consensus(
        &self,
        chain_id: ChainId,
    ) -> Option<Result<(ValidatorSet, ConsensusParams), ValidatorSetError>> {
        if chain_id == self.chain_id {
            return Some(self.validator_set().map(|set| (set, self.consensus)));
        }
        let service = self.service_by_chain(chain_id)?;
        Some(validator_set_of(&service.participants).map(|set| (set, service.params)))
    }

    /// The service with this chain id.
    pub fn service_by_chain(&self, chain_id: ChainId) -> Option<&ServiceManifest> {
        self.services.iter().find(|s| s.chain_id == chain_id)
    }
}
