//! The rules of a valid genesis, each with its own error naming a JSON path.

use std::collections::BTreeMap;
use std::fmt;

use super::{ConsensusParams, Genesis, GenesisAccount, GenesisValidator};
use crate::primitives::{Address, ChainId, STAKE_PER_POWER, ServiceId, Stake, Timestamp};
use crate::validator_set::{ConsensusKey, MAX_TOTAL_VOTING_POWER};

/// How far ahead of the validating node's clock a genesis time may be: a
/// network may be prepared a few days before it starts, but a time further
/// out is almost always a typo that would leave the chain waiting.
pub const MAX_GENESIS_TIME_AHEAD_MS: u64 = 7 * 24 * 60 * 60 * 1000;

/// The most validators a chain's set may hold (`staking.max_validators`).
pub const MAX_VALIDATORS: u32 = 10_000;

/// The longest block time or round-step timeout a genesis may set, in
/// milliseconds: an hour.
pub const MAX_TIMEOUT_MS: u64 = 3_600_000;

/// One mistake in a genesis, at a JSON path such as `validators[2].stake`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {kind}")]
pub struct GenesisError {
    /// Where the mistake is (`.` for the document itself).
    pub path: String,
    /// What the mistake is.
    pub kind: GenesisErrorKind,
}

/// The kinds of genesis mistakes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisErrorKind {
    /// Not JSON, a wrong type, an unknown field, malformed hex or a key of
    /// the wrong length.
    #[error("{0}")]
    Json(String),
    /// A consensus key used twice within one chain.
    #[error("consensus key {key} is already used at {first}")]
    DuplicateValidator {
        /// The key.
        key: ConsensusKey,
        /// The path of its first use.
        first: String,
    },
    /// An operator account used twice within one chain.
    #[error("operator {address} is already used at {first}")]
    DuplicateOperator {
        /// The operator.
        address: Address,
        /// The path of its first use.
        first: String,
    },
    /// An account funded twice within one chain.
    #[error("account {address} is already funded at {first}")]
    DuplicateAccount {
        /// The account.
        address: Address,
        /// The path of its first entry.
        first: String,
    },
    /// Two services with one id.
    #[error("service id {id} is already used at {first}")]
    DuplicateServiceId {
        /// The id.
        id: ServiceId,
        /// The path of its first use.
        first: String,
    },
    /// Two chains (the Space or services) with one chain id.
    #[error("chain id {chain_id} is already used at {first}")]
    ChainIdCollision {
        /// The chain id.
        chain_id: ChainId,
        /// The path of its first use.
        first: String,
    },
    /// A stake too small to carry voting power.
    #[error(
        "stake {stake} is less than one whole token ({STAKE_PER_POWER} units), the least that carries voting power"
    )]
    ZeroStake {
        /// The stake.
        stake: Stake,
    },
    /// The stakes add up to more voting power than Tendermint allows.
    #[error(
        "total stake exceeds the maximum voting power of {MAX_TOTAL_VOTING_POWER} whole tokens"
    )]
    TotalStakeOverflow,
    /// The Space has no validators.
    #[error("the Space needs at least one validator")]
    NoValidators,
    /// A service has no participants (its participants are its validators).
    #[error("service {name:?} has no participants; its participants are its validators")]
    NoParticipants {
        /// The service's name.
        name: String,
    },
    /// The genesis time is too far ahead of the node's clock.
    #[error("genesis time {time} is more than {} days after now ({now})", MAX_GENESIS_TIME_AHEAD_MS / 86_400_000)]
    GenesisTimeInFuture {
        /// The genesis time.
        time: Timestamp,
        /// The node's clock.
        now: Timestamp,
    },
    /// A parameter outside its range.
    #[error("{0}")]
    InvalidParameter(&'static str),
}

/// Every mistake found in a genesis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenesisErrors(pub Vec<GenesisError>);

impl fmt::Display for GenesisErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid genesis ({} mistake{}):",
            self.0.len(),
            if self.0.len() == 1 { "" } else { "s" }
        )?;
        for e in &self.0 {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for GenesisErrors {}

impl GenesisErrors {
    /// The mistakes, in document order.
    pub fn iter(&self) -> impl Iterator<Item = &GenesisError> {
        self.0.iter()
    }
}

struct Checker {
    errors: Vec<GenesisError>,
}

impl Checker {
    fn push(&mut self, path: impl Into<String>, kind: GenesisErrorKind) {
        self.errors.push(GenesisError {
            path: path.into(),
            kind,
        });
    }

    fn params(&mut self, at: &str, p: &ConsensusParams) {
        let rules: [(bool, &str, &'static str); 8] = [
            (
                p.target_block_time_ms == 0,
                "target_block_time_ms",
                "must be positive",
            ),
            (
                p.timeouts.propose_ms == 0,
                "timeouts.propose_ms",
                "must be positive",
            ),
            (
                p.timeouts.prevote_ms == 0,
                "timeouts.prevote_ms",
                "must be positive",
            ),
            (
                p.timeouts.precommit_ms == 0,
                "timeouts.precommit_ms",
                "must be positive",
            ),
            (
                p.max_block_gas < 21_000,
                "max_block_gas",
                "must be at least 21000, the gas of one transfer",
            ),
            (
                p.max_block_bytes == 0,
                "max_block_bytes",
                "must be positive",
            ),
            (p.epoch_length == 0, "epoch_length", "must be positive"),
            (
                p.unbonding_period_blocks == 0,
                "unbonding_period_blocks",
                "must be positive",
            ),
        ];
        let staking: [(bool, &str, &'static str); 7] = [
            (
                p.staking.min_stake.0 < crate::primitives::STAKE_PER_POWER,
                "staking.min_stake",
                "must be at least one whole token (10^18), the least that carries voting power",
            ),
            (
                p.staking.max_validators == 0 || p.staking.max_validators > MAX_VALIDATORS,
                "staking.max_validators",
                "must be between 1 and 10000",
            ),
            (
                p.staking.double_sign_slash_bps > 10_000,
                "staking.double_sign_slash_bps",
                "must be at most 10000 (all of the stake)",
            ),
            (
                p.staking.jail_blocks == 0,
                "staking.jail_blocks",
                "must be positive",
            ),
            (
                p.staking.downtime_slash_bps > 10_000,
                "staking.downtime_slash_bps",
                "must be at most 10000 (all of the stake)",
            ),
            (
                p.staking.signed_blocks_window == 0
                    || p.staking.signed_blocks_window > super::MAX_SIGNED_BLOCKS_WINDOW,
                "staking.signed_blocks_window",
                "must be between 1 and 100000",
            ),
            (
                p.staking.min_signed_bps > 10_000,
                "staking.min_signed_bps",
                "must be at most 10000 (every block)",
            ),
        ];
        // Malachite adds rounds of the timeouts to the clock: bounded here,
        // they cannot overflow its timers.
        let hour: [(bool, &str, &'static str); 4] = [
            (p.target_block_time_ms, "target_block_time_ms"),
            (p.timeouts.propose_ms, "timeouts.propose_ms"),
            (p.timeouts.prevote_ms, "timeouts.prevote_ms"),
            (p.timeouts.precommit_ms, "timeouts.precommit_ms"),
        ]
        .map(|(ms, field)| {
            (
                ms > MAX_TIMEOUT_MS,
                field,
                "must be at most 3600000 (an hour)",
            )
        });
        for (bad, field, why) in rules.into_iter().chain(staking).chain(hour) {
            if bad {
                self.push(
                    format!("{at}.{field}"),
                    GenesisErrorKind::InvalidParameter(why),
                );
            }
        }
    }

    fn accounts(&mut self, at: &str, accounts: &[GenesisAccount]) {
        let mut seen = BTreeMap::new();
        for (i, a) in accounts.iter().enumerate() {
            let path = format!("{at}[{i}].address");
            if let Some(first) = seen.insert(a.address, path.clone()) {
                self.push(
                    path,
                    GenesisErrorKind::DuplicateAccount {
                        address: a.address,
                        first,
                    },
                );
            }
        }
    }

    /// Returns whether the list is non-empty, so the caller words that error.
    fn validators(
        &mut self,
        at: &str,
        validators: &[GenesisValidator],
        params: &ConsensusParams,
    ) -> bool {
        if validators.len() > params.staking.max_validators as usize {
            self.push(
                at,
                GenesisErrorKind::InvalidParameter(
                    "more validators than the chain's staking.max_validators",
                ),
            );
        }
        let mut keys = BTreeMap::new();
        let mut operators = BTreeMap::new();
        let mut total: Option<u64> = Some(0);
        for (i, v) in validators.iter().enumerate() {
            let key_path = format!("{at}[{i}].consensus_key");
            if let Some(first) = keys.insert(v.consensus_key, key_path.clone()) {
                self.push(
                    key_path,
                    GenesisErrorKind::DuplicateValidator {
                        key: v.consensus_key,
                        first,
                    },
                );
            }
            let operator_path = format!("{at}[{i}].operator");
            if let Some(first) = operators.insert(v.operator, operator_path.clone()) {
                self.push(
                    operator_path,
                    GenesisErrorKind::DuplicateOperator {
                        address: v.operator,
                        first,
                    },
                );
            }
            match v.stake.voting_power() {
                Some(power) if power.0 == 0 => {
                    self.push(
                        format!("{at}[{i}].stake"),
                        GenesisErrorKind::ZeroStake { stake: v.stake },
                    );
                }
                Some(_) if v.stake < params.staking.min_stake => {
                    self.push(
                        format!("{at}[{i}].stake"),
                        GenesisErrorKind::InvalidParameter("below the chain's staking.min_stake"),
                    );
                }
                Some(power) => total = total.and_then(|t| t.checked_add(power.0)),
                None => total = None,
            }
        }
        if total.is_none_or(|t| t > MAX_TOTAL_VOTING_POWER) {
            self.push(at, GenesisErrorKind::TotalStakeOverflow);
        }
        !validators.is_empty()
    }
}

impl Genesis {
    /// Checks every rule of a genesis against the node's clock `now`, and
    /// reports every mistake found, each with its JSON path.
    pub fn validate(&self, now: Timestamp) -> Result<(), GenesisErrors> {
        let mut c = Checker { errors: Vec::new() };

        if self.chain_id.0 == 0 {
            c.push(
                "chain_id",
                GenesisErrorKind::InvalidParameter("must be positive (EIP-155)"),
            );
        }
        if self.genesis_time.0.saturating_sub(now.0) > MAX_GENESIS_TIME_AHEAD_MS {
            c.push(
                "genesis_time",
                GenesisErrorKind::GenesisTimeInFuture {
                    time: self.genesis_time,
                    now,
                },
            );
        }
        c.params("consensus", &self.consensus);
        c.accounts("accounts", &self.accounts);
        if !c.validators("validators", &self.validators, &self.consensus) {
            c.push("validators", GenesisErrorKind::NoValidators);
        }

        let mut chain_ids = BTreeMap::from([(self.chain_id, "chain_id".to_owned())]);
        let mut service_ids = BTreeMap::new();
        for (i, s) in self.services.iter().enumerate() {
            let at = format!("services[{i}]");
            if let Some(first) = service_ids.insert(s.id, format!("{at}.id")) {
                c.push(
                    format!("{at}.id"),
                    GenesisErrorKind::DuplicateServiceId { id: s.id, first },
                );
            }
            if s.chain_id.0 == 0 {
                c.push(
                    format!("{at}.chain_id"),
                    GenesisErrorKind::InvalidParameter("must be positive (EIP-155)"),
                );
            } else if let Some(first) = chain_ids.insert(s.chain_id, format!("{at}.chain_id")) {
                c.push(
                    format!("{at}.chain_id"),
                    GenesisErrorKind::ChainIdCollision {
                        chain_id: s.chain_id,
                        first,
                    },
                );
            }
            if s.name.trim().is_empty() {
                c.push(
                    format!("{at}.name"),
                    GenesisErrorKind::InvalidParameter("must not be empty"),
                );
            }
            for (j, contract) in s.contracts.iter().enumerate() {
                if contract.code.is_empty() {
                    c.push(
                        format!("{at}.contracts[{j}].code"),
                        GenesisErrorKind::InvalidParameter("must not be empty"),
                    );
                }
            }
            c.params(&format!("{at}.params"), &s.params);
            c.accounts(&format!("{at}.accounts"), &s.accounts);
            if !c.validators(&format!("{at}.participants"), &s.participants, &s.params) {
                c.push(
                    format!("{at}.participants"),
                    GenesisErrorKind::NoParticipants {
                        name: s.name.clone(),
                    },
                );
            }
        }

        if c.errors.is_empty() {
            Ok(())
        } else {
            Err(GenesisErrors(c.errors))
        }
    }
}
