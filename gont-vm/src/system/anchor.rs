//! The anchor registry of GONT Space, at [`ANCHOR_REGISTRY`]: services
//! anchor checkpoints of their chains here, each verified inside Space
//! execution with tendermint-rs's production light-client verifier. Its
//! Solidity interface is `gont-vm/contracts/IAnchorRegistry.sol`.
//!
//! A checkpoint (`gont_core::Checkpoint`, borsh) is verified from what the
//! registry trusts: the service's genesis set (height 0, from the Space
//! genesis) or an anchored checkpoint, whose next validator set the
//! submission carries and the registry checks against the hash it stored.
//! Time is the Space block's; the trusting period is two thirds of the
//! service's unbonding period (as ibc-go's default), the trust threshold
//! 1/3.
//!
//! Two verified checkpoints of one service at one height with different
//! blocks, or a verified later height with an earlier time, freeze the
//! service: the evidence is kept in state, and no checkpoint is accepted
//! until the Space genesis's `anchor_admin` calls `unfreeze` (it stands in
//! for Space governance, which is not built).
//!
//! Storage: every value is one slot of the registry's account, at
//! [`slot`]`(service, height, field)`: blake3 (keyed to "gont anchor
//! registry slot v1") of the borsh `(service: u32, height: u64, field: u8)`.
//! Per anchored height: [`Field::BlockId`], [`Field::StateRoot`],
//! [`Field::ValidatorsHash`], [`Field::NextValidatorsHash`],
//! [`Field::Times`] (block time in ms in the high 128 bits, Space height in
//! the low). Per service, at height 0: [`Field::Latest`] (the latest
//! anchored height) and [`Field::Frozen`] (frozen height + 1, or 0), with
//! the conflicting block in [`Field::Evidence`].

use std::collections::BTreeMap;
use std::time::Duration;

use alloy_sol_types::{SolCall, SolValue, sol};
use gont_core::light::{self, LightError, TrustOptions, TrustedState};
use gont_core::{
    Address, B256, ChainId, Checkpoint, Height, ServiceId, Timestamp, U256, ValidatorSet, decode,
    encode,
};
use revm::context::ContextTr;
use revm::interpreter::{CallInputs, InterpreterResult};
use revm::primitives::{Bytes, address};

use super::call::{Fatal, Refusal, SystemCall, finish, keyed_slot, selector, tri};

sol!("contracts/IAnchorRegistry.sol");

pub use IAnchorRegistry::Anchor as AnchorRecord;

/// The registry's address on GONT Space.
pub const ANCHOR_REGISTRY: Address = address!("0x0000000000000000000000000000000000001001");

/// Gas of any call.
const BASE_GAS: u64 = 30_000;
/// Gas per byte of a submitted checkpoint.
const BYTE_GAS: u64 = 8;
/// Gas per commit signature (an ed25519 verification, as `ecrecover`).
const SIGNATURE_GAS: u64 = 3_000;
/// The largest checkpoint accepted, in bytes.
const MAX_CHECKPOINT_BYTES: usize = 1024 * 1024;

/// What the registry knows of one service, from the Space genesis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceAnchorConfig {
    /// The service chain.
    pub chain_id: ChainId,
    /// Its genesis validator set: what its first checkpoint verifies from.
    pub genesis_validators: ValidatorSet,
    /// Its genesis time.
    pub genesis_time: Timestamp,
    /// How long an anchored checkpoint may start a verification: two
    /// thirds of the service's unbonding period.
    pub trusting_period: Duration,
}

/// The registry's configuration: the services of the Space genesis.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnchorConfig {
    /// The services, by id.
    pub services: BTreeMap<ServiceId, ServiceAnchorConfig>,
    /// Who may unfreeze a frozen service (the genesis's `anchor_admin`).
    pub admin: Option<Address>,
}

impl AnchorConfig {
    /// The registry of `genesis`'s Space: every service, with its genesis
    /// set and a trusting period of two thirds of its unbonding period
    /// (blocks × target block time). `None` if a service's set is invalid
    /// (a validated genesis has none).
    pub fn from_genesis(genesis: &gont_core::Genesis) -> Option<Self> {
        let mut services = BTreeMap::new();
        for service in &genesis.services {
            let unbonding_ms = service
                .params
                .unbonding_period_blocks
                .saturating_mul(service.params.target_block_time_ms);
            services.insert(
                service.id,
                ServiceAnchorConfig {
                    chain_id: service.chain_id,
                    genesis_validators: service.validator_set().ok()?,
                    genesis_time: genesis.genesis_time,
                    trusting_period: Duration::from_millis(unbonding_ms / 3 * 2),
                },
            );
        }
        Some(Self {
            services,
            admin: genesis.anchor_admin,
        })
    }
}

/// The slots of the registry's storage; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Field {
    /// The anchored block id.
    BlockId = 0,
    /// Its state root.
    StateRoot = 1,
    /// Its validators hash.
    ValidatorsHash = 2,
    /// Its next validators hash.
    NextValidatorsHash = 3,
    /// Block time (ms) << 128 | Space height.
    Times = 4,
    /// Per service: the latest anchored height.
    Latest = 5,
    /// Per service: frozen height + 1, or 0.
    Frozen = 6,
    /// Per service: the conflicting block that froze it.
    Evidence = 7,
}

/// The slot of `field` of `service` at `height` (0 for per-service fields).
pub fn slot(service: ServiceId, height: u64, field: Field) -> U256 {
    keyed_slot(
        "gont anchor registry slot v1",
        &encode(&(service.0, height, field as u8)),
    )
}

/// The fields kept per anchored height, in the order [`decode_anchor`]
/// takes their values.
pub const ANCHOR_FIELDS: [Field; 5] = [
    Field::BlockId,
    Field::StateRoot,
    Field::ValidatorsHash,
    Field::NextValidatorsHash,
    Field::Times,
];

/// The anchor of `height` from the values of its [`ANCHOR_FIELDS`] slots;
/// height 0 (nothing anchored) when the block id slot is empty.
pub fn decode_anchor(height: u64, values: [U256; 5]) -> AnchorRecord {
    let [block_id, state_root, validators, next_validators, times] = values;
    let anchored = !block_id.is_zero();
    let low: u64 = (times & U256::from(u64::MAX)).to();
    let high: u64 = ((times >> 128usize) & U256::from(u64::MAX)).to();
    AnchorRecord {
        height: if anchored { height } else { 0 },
        blockId: B256::from(block_id),
        stateRoot: B256::from(state_root),
        validatorsHash: B256::from(validators),
        nextValidatorsHash: B256::from(next_validators),
        time: high,
        anchoredAt: low,
    }
}

/// Why a submission was refused: the revert reason.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    /// The call is not one of the interface's.
    #[error("unknown function selector")]
    UnknownFunction,
    /// The arguments do not decode.
    #[error("malformed call: {0}")]
    MalformedCall(String),
    /// Value was sent to a function that takes none.
    #[error("the registry takes no value")]
    Payable,
    /// A write in a static call, or a call through DELEGATECALL/CALLCODE.
    #[error("the registry must be called directly, not static or delegated")]
    CallKind,
    /// The checkpoint bytes do not decode.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(String),
    /// The service is not in the Space genesis.
    #[error("unknown service {0}")]
    UnknownService(u32),
    /// The checkpoint's chain is not the service's.
    #[error(
        "wrong chain id: the checkpoint is of chain {got}, service {service} is chain {expected}"
    )]
    WrongChain {
        /// The service.
        service: u32,
        /// Its chain.
        expected: ChainId,
        /// The checkpoint's.
        got: ChainId,
    },
    /// The service is frozen.
    #[error("service {0} is frozen")]
    Frozen(u32),
    /// The same block is anchored at that height already.
    #[error("already anchored: service {service} height {height}")]
    AlreadyAnchored {
        /// The service.
        service: u32,
        /// The height.
        height: u64,
    },
    /// The height is not above the latest anchored one.
    #[error("height {height} is not above the last anchored height {latest}")]
    NotAbove {
        /// The checkpoint's height.
        height: u64,
        /// The latest anchored height.
        latest: u64,
    },
    /// The trusted height is not anchored.
    #[error("trusted height {0} is not anchored")]
    TrustedNotAnchored(u64),
    /// The trusted next validator set is not the one anchored.
    #[error("the trusted validator set does not match the anchored next-validators hash")]
    TrustedSetMismatch,
    /// The light-client verification failed (no quorum, a signature by a
    /// key outside the set, a state root the commit does not sign, an
    /// expired trusted state, …).
    #[error("verification failed: {0}")]
    Verification(#[from] LightError),
    /// The header cannot be hashed.
    #[error("malformed header: {0}")]
    Header(#[from] gont_core::HeaderError),
    /// `unfreeze` by another account than the admin.
    #[error("only the anchor admin may unfreeze a service")]
    NotAdmin,
    /// `unfreeze` of a service that is not frozen.
    #[error("service {0} is not frozen")]
    NotFrozen(u32),
    /// The gas given does not cover the work.
    #[error("out of gas")]
    OutOfGas,
}

impl Refusal for AnchorError {
    fn out_of_gas() -> Self {
        Self::OutOfGas
    }

    fn is_out_of_gas(&self) -> bool {
        matches!(self, Self::OutOfGas)
    }
}

type Outcome<T> = super::call::Outcome<T, AnchorError>;

/// The registry's view of the Space state during a call.
type Registry<'a, CTX> = SystemCall<'a, CTX>;

impl<CTX: ContextTr> SystemCall<'_, CTX> {
    fn load(&mut self, service: ServiceId, height: u64, field: Field) -> Outcome<U256> {
        self.sload(slot(service, height, field))
    }

    fn store(&mut self, service: ServiceId, height: u64, field: Field, value: U256) -> Outcome<()> {
        self.sstore(slot(service, height, field), value)
    }

    fn anchor(&mut self, service: ServiceId, height: u64) -> Outcome<AnchorRecord> {
        let mut values = [U256::ZERO; 5];
        for (value, field) in values.iter_mut().zip(ANCHOR_FIELDS) {
            *value = tri!(self.load(service, height, field));
        }
        Ok(Ok(decode_anchor(height, values)))
    }
}

/// Runs a call to the registry. `Err` only for a database failure, which
/// aborts the block; every refusal is a revert with its reason.
pub(crate) fn run<CTX: ContextTr>(
    config: &AnchorConfig,
    ctx: &mut CTX,
    inputs: &CallInputs,
) -> Result<InterpreterResult, String> {
    let input = inputs.input.as_bytes(ctx).to_vec();
    let mut registry = SystemCall::new(ctx, ANCHOR_REGISTRY, inputs.gas_limit);
    let outcome = dispatch(config, &mut registry, inputs, &input).map_err(|Fatal(e)| e)?;
    Ok(finish(outcome, registry.gas_used, inputs))
}

fn dispatch<CTX: ContextTr>(
    config: &AnchorConfig,
    registry: &mut Registry<'_, CTX>,
    inputs: &CallInputs,
    input: &[u8],
) -> Outcome<Bytes> {
    tri!(Ok(registry.charge::<AnchorError>(BASE_GAS)));
    if inputs.target_address != ANCHOR_REGISTRY {
        return Ok(Err(AnchorError::CallKind));
    }
    if !inputs.value.get().is_zero() {
        return Ok(Err(AnchorError::Payable));
    }
    let Some(selector) = selector(input) else {
        return Ok(Err(AnchorError::UnknownFunction));
    };
    let malformed = |e: alloy_sol_types::Error| AnchorError::MalformedCall(e.to_string());
    match selector {
        IAnchorRegistry::submitCheckpointCall::SELECTOR => {
            if inputs.is_static {
                return Ok(Err(AnchorError::CallKind));
            }
            let call = tri!(Ok(
                IAnchorRegistry::submitCheckpointCall::abi_decode(input).map_err(malformed)
            ));
            tri!(submit(config, registry, &call.checkpoint));
            Ok(Ok(Bytes::new()))
        }
        IAnchorRegistry::latestCall::SELECTOR => {
            let call = tri!(Ok(
                IAnchorRegistry::latestCall::abi_decode(input).map_err(malformed)
            ));
            let service = ServiceId(call.service);
            let latest: u64 = tri!(registry.load(service, 0, Field::Latest)).saturating_to();
            let record = tri!(registry.anchor(service, latest));
            Ok(Ok(record.abi_encode().into()))
        }
        IAnchorRegistry::anchorAtCall::SELECTOR => {
            let call = tri!(Ok(
                IAnchorRegistry::anchorAtCall::abi_decode(input).map_err(malformed)
            ));
            let record = tri!(registry.anchor(ServiceId(call.service), call.height));
            Ok(Ok(record.abi_encode().into()))
        }
        IAnchorRegistry::isFrozenCall::SELECTOR => {
            let call = tri!(Ok(
                IAnchorRegistry::isFrozenCall::abi_decode(input).map_err(malformed)
            ));
            let frozen = tri!(registry.load(ServiceId(call.service), 0, Field::Frozen));
            Ok(Ok((!frozen.is_zero()).abi_encode().into()))
        }
        IAnchorRegistry::unfreezeCall::SELECTOR => {
            if inputs.is_static {
                return Ok(Err(AnchorError::CallKind));
            }
            let call = tri!(Ok(
                IAnchorRegistry::unfreezeCall::abi_decode(input).map_err(malformed)
            ));
            if config.admin != Some(inputs.caller) {
                return Ok(Err(AnchorError::NotAdmin));
            }
            let service = ServiceId(call.service);
            if tri!(registry.load(service, 0, Field::Frozen)).is_zero() {
                return Ok(Err(AnchorError::NotFrozen(service.0)));
            }
            tri!(registry.store(service, 0, Field::Frozen, U256::ZERO));
            tri!(registry.store(service, 0, Field::Evidence, U256::ZERO));
            let event = IAnchorRegistry::ServiceUnfrozen { service: service.0 };
            registry.emit(&event);
            Ok(Ok(Bytes::new()))
        }
        _ => Ok(Err(AnchorError::UnknownFunction)),
    }
}

fn submit<CTX: ContextTr>(
    config: &AnchorConfig,
    registry: &mut Registry<'_, CTX>,
    bytes: &[u8],
) -> Outcome<()> {
    if bytes.len() > MAX_CHECKPOINT_BYTES {
        return Ok(Err(AnchorError::MalformedCheckpoint(format!(
            "{} bytes; at most {MAX_CHECKPOINT_BYTES}",
            bytes.len()
        ))));
    }
    tri!(Ok(registry.charge::<AnchorError>(
        BYTE_GAS.saturating_mul(bytes.len() as u64)
    )));
    let checkpoint: Checkpoint =
        tri!(Ok(decode(bytes).map_err(|e| {
            AnchorError::MalformedCheckpoint(e.to_string())
        })));
    let service = checkpoint.service;
    let Some(known) = config.services.get(&service) else {
        return Ok(Err(AnchorError::UnknownService(service.0)));
    };
    if checkpoint.chain_id() != known.chain_id {
        return Ok(Err(AnchorError::WrongChain {
            service: service.0,
            expected: known.chain_id,
            got: checkpoint.chain_id(),
        }));
    }
    if !tri!(registry.load(service, 0, Field::Frozen)).is_zero() {
        return Ok(Err(AnchorError::Frozen(service.0)));
    }
    let height = checkpoint.height().0;
    let block_id = tri!(Ok(checkpoint.block_id().map_err(AnchorError::from)));
    let latest: u64 = tri!(registry.load(service, 0, Field::Latest)).saturating_to();
    let existing = tri!(registry.anchor(service, height));
    if existing.height == height && existing.blockId.0 == block_id.0 {
        return Ok(Err(AnchorError::AlreadyAnchored {
            service: service.0,
            height,
        }));
    }
    let conflicting_height = existing.height == height;
    if height <= latest && !conflicting_height {
        return Ok(Err(AnchorError::NotAbove { height, latest }));
    }

    // What the registry trusts.
    let trusted_height = checkpoint.trusted_height.0;
    let trusted_time = if trusted_height == 0 {
        if checkpoint.trusted_next_validators.hash() != known.genesis_validators.hash() {
            return Ok(Err(AnchorError::TrustedSetMismatch));
        }
        known.genesis_time
    } else {
        let trusted = tri!(registry.anchor(service, trusted_height));
        if trusted.height != trusted_height {
            return Ok(Err(AnchorError::TrustedNotAnchored(trusted_height)));
        }
        if checkpoint.trusted_next_validators.hash().0 != trusted.nextValidatorsHash.0 {
            return Ok(Err(AnchorError::TrustedSetMismatch));
        }
        Timestamp(trusted.time)
    };
    let signatures = checkpoint.commit.signatures.len() as u64;
    tri!(Ok(registry.charge::<AnchorError>(
        SIGNATURE_GAS.saturating_mul(signatures)
    )));
    let block = tri!(Ok(checkpoint.light_block().map_err(AnchorError::from)));
    let trusted = TrustedState {
        chain_id: known.chain_id,
        height: Height(trusted_height),
        time: trusted_time,
        next_validators: &checkpoint.trusted_next_validators,
    };
    let options = TrustOptions {
        trusting_period: known.trusting_period,
        ..TrustOptions::default()
    };
    tri!(Ok(light::verify_from(
        &trusted,
        &block,
        Timestamp::from_secs(registry.block_timestamp()),
        options
    )
    .map_err(AnchorError::from)));

    // Verified. A conflict with what is anchored is misbehaviour.
    let time = checkpoint.header.time.as_millis();
    let latest_record = tri!(registry.anchor(service, latest));
    let backwards = height > latest && latest > 0 && time <= latest_record.time;
    if conflicting_height || backwards {
        let anchored = if conflicting_height {
            existing.blockId
        } else {
            latest_record.blockId
        };
        tri!(registry.store(
            service,
            0,
            Field::Frozen,
            U256::from(height) + U256::from(1)
        ));
        tri!(registry.store(service, 0, Field::Evidence, U256::from_be_bytes(block_id.0)));
        let event = IAnchorRegistry::ServiceFrozen {
            service: service.0,
            height,
            anchoredBlockId: anchored,
            conflictingBlockId: B256::from(block_id.0),
        };
        registry.emit(&event);
        return Ok(Ok(()));
    }

    let header = &checkpoint.header;
    let times = (U256::from(time) << 128usize) | U256::from(registry.block_number());
    for (field, value) in [
        (Field::BlockId, U256::from_be_bytes(block_id.0)),
        (Field::StateRoot, U256::from_be_bytes(header.state_root.0)),
        (
            Field::ValidatorsHash,
            U256::from_be_bytes(header.validators_hash.0),
        ),
        (
            Field::NextValidatorsHash,
            U256::from_be_bytes(header.next_validators_hash.0),
        ),
        (Field::Times, times),
    ] {
        tri!(registry.store(service, height, field, value));
    }
    tri!(registry.store(service, 0, Field::Latest, U256::from(height)));
    let event = IAnchorRegistry::CheckpointAnchored {
        service: service.0,
        height,
        blockId: B256::from(block_id.0),
        stateRoot: B256::from(header.state_root.0),
    };
    registry.emit(&event);
    Ok(Ok(()))
}
