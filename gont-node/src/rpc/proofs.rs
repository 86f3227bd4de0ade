//! What a light client needs from a chain's RPC: `gont_getSignedHeader`
//! (a decided block as a Tendermint light block, which tendermint-rs's
//! verifier consumes), `gont_getProof` (an account and storage slots with
//! proofs against a height's state root) and, on GONT Space,
//! `gont_getAnchor` (a service's anchored checkpoint with the registry's
//! storage proof). The shapes are documented in ARCHITECTURE.md
//! ("Proofs").

use alloy_rpc_types_eth::{BlockId as RpcBlockId, BlockNumberOrTag};
use gont_core::light::LightBlock;
use gont_core::state_proof::{ProvenState, StateKey, StateProof, StateValue};
use gont_core::{
    AccountState, Address, B256, BlockId, Bytes, Hash, Height, ServiceId, U256, decode, encode,
};
use gont_vm::system::ANCHOR_REGISTRY;
use gont_vm::system::anchor::{self, ANCHOR_FIELDS, Field, IAnchorRegistry};
use jsonrpsee::RpcModule;
use jsonrpsee::types::ErrorObjectOwned;
use serde::{Deserialize, Serialize};

use super::backend::EthBackend;
use super::error::RpcError;
use super::eth::{EthApi, to_rpc};

/// The most storage slots one `gont_getProof` call proves.
pub const MAX_PROOF_SLOTS: usize = 1024;

/// `gont_getProof`'s answer: the state of one account (and some of its
/// slots) after block `height`, each with a proof against `state_root`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountProof {
    /// The height the proofs are for.
    pub height: alloy_primitives::U64,
    /// That height's block id (none for genesis, height 0).
    pub block_hash: Option<BlockId>,
    /// That height's state root: the header's `state_root` (`app_hash`).
    pub state_root: Hash,
    /// The account.
    pub address: Address,
    /// Its state; `None` for an account that does not exist.
    pub account: Option<AccountJson>,
    /// The account's proof: the canonical encoding (borsh) of a
    /// [`StateProof`], inclusion or exclusion.
    pub account_proof: Bytes,
    /// The slots asked for, in order.
    pub storage: Vec<SlotProof>,
}

/// An account's proven fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountJson {
    /// Its nonce.
    pub nonce: alloy_primitives::U64,
    /// Its balance in wei.
    pub balance: U256,
    /// keccak-256 of its code.
    pub code_hash: B256,
}

/// One storage slot with its proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SlotProof {
    /// The slot.
    pub key: U256,
    /// Its value (zero: no leaf, an exclusion proof).
    pub value: U256,
    /// The canonical encoding of its [`StateProof`].
    pub proof: Bytes,
}

impl From<AccountState> for AccountJson {
    fn from(a: AccountState) -> Self {
        Self {
            nonce: alloy_primitives::U64::from(a.nonce),
            balance: a.balance,
            code_hash: a.code_hash,
        }
    }
}

impl From<AccountJson> for AccountState {
    fn from(a: AccountJson) -> Self {
        Self {
            nonce: a.nonce.to(),
            balance: a.balance,
            code_hash: a.code_hash,
        }
    }
}

/// `gont_getAnchor`'s answer: a service's anchored checkpoint as GONT
/// Space's anchor registry holds it at Space height `proof.height`, with
/// the registry's storage proven against that height's state root.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnchorProof {
    /// The service.
    pub service: u32,
    /// The anchored service height asked for (the latest when not given).
    pub height: alloy_primitives::U64,
    /// The anchor as the proven slots say (a convenience: check `proof`
    /// and use [`AnchorProof::verified_anchor`]).
    pub anchor: AnchorJson,
    /// Whether the service is frozen.
    pub frozen: bool,
    /// The registry account with the slots, in this order: the service's
    /// latest height, its frozen flag, then the anchor's block id, state
    /// root, validators hash, next validators hash and times.
    pub proof: AccountProof,
}

/// An anchored checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnchorJson {
    /// The service height (0: nothing anchored).
    pub height: alloy_primitives::U64,
    /// The block id.
    pub block_id: B256,
    /// The service's state root after it.
    pub state_root: B256,
    /// Its validator set's hash.
    pub validators_hash: B256,
    /// The next validator set's hash.
    pub next_validators_hash: B256,
    /// Its time, ms since 1970.
    pub time: alloy_primitives::U64,
    /// The Space height it was anchored at.
    pub anchored_at: alloy_primitives::U64,
}

impl From<&IAnchorRegistry::Anchor> for AnchorJson {
    fn from(a: &IAnchorRegistry::Anchor) -> Self {
        Self {
            height: alloy_primitives::U64::from(a.height),
            block_id: a.blockId,
            state_root: a.stateRoot,
            validators_hash: a.validatorsHash,
            next_validators_hash: a.nextValidatorsHash,
            time: alloy_primitives::U64::from(a.time),
            anchored_at: alloy_primitives::U64::from(a.anchoredAt),
        }
    }
}

/// Why an anchor proof does not hold.
#[derive(Debug, thiserror::Error)]
pub enum AnchorCheckError {
    /// The registry's storage proof does not verify.
    #[error("the registry's storage proof: {0}")]
    Proof(#[from] ProofCheckError),
    /// The proof is for another Space height than the one verified.
    #[error("the proof is for Space height {got}, not the verified height {asked}")]
    WrongHeight {
        /// The verified Space height.
        asked: u64,
        /// The proof's.
        got: u64,
    },
    /// The proof is not of the registry or not of the slots it must hold.
    #[error("the proof is not of the registry's slots for service {service} height {height}")]
    WrongSlots {
        /// The service.
        service: u32,
        /// The height.
        height: u64,
    },
}

/// The registry slots `gont_getAnchor` proves, in [`AnchorProof::proof`]'s
/// order.
pub fn anchor_slots(service: u32, height: u64) -> Vec<U256> {
    let service = ServiceId(service);
    [
        anchor::slot(service, 0, Field::Latest),
        anchor::slot(service, 0, Field::Frozen),
    ]
    .into_iter()
    .chain(
        ANCHOR_FIELDS
            .iter()
            .map(|&field| anchor::slot(service, height, field)),
    )
    .collect()
}

impl AnchorProof {
    /// Checks the registry's storage proof against `space_root` (a
    /// verified Space state root) and returns the anchor and whether the
    /// service is frozen, read from the proven slots only.
    pub fn verified_anchor(
        &self,
        space_root: Hash,
    ) -> Result<(IAnchorRegistry::Anchor, bool), AnchorCheckError> {
        let height = self.height.to::<u64>();
        let wrong = || AnchorCheckError::WrongSlots {
            service: self.service,
            height,
        };
        if self.proof.address != ANCHOR_REGISTRY {
            return Err(wrong());
        }
        let keys: Vec<U256> = self.proof.storage.iter().map(|s| s.key).collect();
        if keys != anchor_slots(self.service, height) {
            return Err(wrong());
        }
        self.proof.verify(space_root)?;
        anchor_of_slots(height, &self.proof).ok_or_else(wrong)
    }
}

/// The anchor and the frozen flag from a proof of [`anchor_slots`]'s
/// slots, in their order; `None` if slots are missing.
fn anchor_of_slots(height: u64, proof: &AccountProof) -> Option<(IAnchorRegistry::Anchor, bool)> {
    let values: Vec<U256> = proof.storage.iter().map(|s| s.value).collect();
    let frozen = !values.get(1)?.is_zero();
    let fields: [U256; 5] = values.get(2..7)?.try_into().ok()?;
    Some((anchor::decode_anchor(height, fields), frozen))
}

/// A proof of `gont_getProof` that does not decode or does not verify.
#[derive(Debug, thiserror::Error)]
pub enum ProofCheckError {
    /// The proof bytes are not a canonical `StateProof`.
    #[error("{what}: the proof bytes do not decode: {reason}")]
    Malformed {
        /// The account or slot.
        what: String,
        /// Why.
        reason: String,
    },
    /// The proof does not prove the claimed value against the root.
    #[error(transparent)]
    Invalid(#[from] gont_core::state_proof::StateProofError),
}

impl AccountProof {
    /// Checks every proof of this answer against `root` (a state root the
    /// caller trusts, e.g. from a verified header), with nothing else.
    pub fn verify(&self, root: Hash) -> Result<(), ProofCheckError> {
        let account_key = StateKey::Account(self.address);
        let account = self.account.map(|a| StateValue::Account(a.into()));
        check(&account_key, account.as_ref(), &self.account_proof, root)?;
        for slot in &self.storage {
            let key = StateKey::Storage {
                address: self.address,
                slot: slot.key,
            };
            let value = (!slot.value.is_zero()).then_some(StateValue::Storage(slot.value));
            check(&key, value.as_ref(), &slot.proof, root)?;
        }
        Ok(())
    }
}

fn check(
    key: &StateKey,
    value: Option<&StateValue>,
    proof: &Bytes,
    root: Hash,
) -> Result<(), ProofCheckError> {
    let proof: StateProof = decode(proof).map_err(|e| ProofCheckError::Malformed {
        what: key.to_string(),
        reason: e.to_string(),
    })?;
    gont_core::state_proof::verify_state_proof(root, key, value, &proof)?;
    Ok(())
}

fn proven_bytes(proven: &ProvenState) -> Bytes {
    Bytes::from(encode(&proven.proof))
}

fn get_proof<B: EthBackend>(
    api: &EthApi<B>,
    address: Address,
    slots: Vec<U256>,
    block: Option<RpcBlockId>,
) -> Result<AccountProof, RpcError> {
    if slots.len() > MAX_PROOF_SLOTS {
        return Err(RpcError::Limit(format!(
            "{} storage slots asked for; at most {MAX_PROOF_SLOTS} per call",
            slots.len()
        )));
    }
    let height = api.height_of_block_id(block)?;
    let account = api.backend.prove(height, StateKey::Account(address))?;
    let block_hash = match height {
        Height(0) => None,
        h => api.backend.block(h)?.map(|b| b.id),
    };
    let storage = slots
        .into_iter()
        .map(|slot| {
            let proven = api
                .backend
                .prove(height, StateKey::Storage { address, slot })?;
            let value = match proven.value {
                Some(StateValue::Storage(v)) => v,
                _ => U256::ZERO,
            };
            Ok(SlotProof {
                key: slot,
                value,
                proof: proven_bytes(&proven),
            })
        })
        .collect::<Result<Vec<_>, RpcError>>()?;
    Ok(AccountProof {
        height: alloy_primitives::U64::from(height.0),
        block_hash,
        state_root: account.root,
        address,
        account: match account.value {
            Some(StateValue::Account(a)) => Some(a.into()),
            _ => None,
        },
        account_proof: proven_bytes(&account),
        storage,
    })
}

fn get_anchor<B: EthBackend>(
    api: &EthApi<B>,
    service: u32,
    height: Option<u64>,
    block: Option<RpcBlockId>,
) -> Result<AnchorProof, RpcError> {
    if !api.backend.has_anchor_registry() {
        return Err(RpcError::InvalidParams(
            "gont_getAnchor is served by GONT Space's RPC; this chain has no anchor registry"
                .to_owned(),
        ));
    }
    let at = api.height_of_block_id(block)?;
    let height = match height {
        Some(h) => h,
        None => api
            .backend
            .storage_at(
                at,
                ANCHOR_REGISTRY,
                anchor::slot(ServiceId(service), 0, Field::Latest),
            )?
            .saturating_to(),
    };
    let slots = anchor_slots(service, height);
    let proof = get_proof(
        api,
        ANCHOR_REGISTRY,
        slots,
        Some(RpcBlockId::Number(BlockNumberOrTag::Number(at.0))),
    )?;
    let (anchor, frozen) = anchor_of_slots(height, &proof)
        .ok_or_else(|| RpcError::Internal("anchor slots missing".to_owned()))?;
    Ok(AnchorProof {
        service,
        height: alloy_primitives::U64::from(height),
        anchor: AnchorJson::from(&anchor),
        frozen,
        proof,
    })
}

fn signed_header<B: EthBackend>(
    api: &EthApi<B>,
    tag: BlockNumberOrTag,
) -> Result<LightBlock, RpcError> {
    let height = api.height_of_tag(tag)?;
    if height == Height(0) {
        return Err(RpcError::InvalidParams(
            "height 0 is the genesis, which has no signed header; ask for height 1 or above"
                .to_owned(),
        ));
    }
    api.backend
        .light_block(height)?
        .ok_or_else(|| RpcError::Refused(format!("no commit recorded for height {height}")))
}

/// Registers `gont_getProof`, `gont_getAnchor` and `gont_getSignedHeader`.
pub(super) fn register<B: EthBackend>(
    module: &mut RpcModule<EthApi<B>>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_method(
        "gont_getProof",
        |params, api, _| -> Result<AccountProof, ErrorObjectOwned> {
            let mut seq = params.sequence();
            let address: Address = seq.next()?;
            let slots: Option<Vec<U256>> = seq.optional_next()?;
            let block: Option<RpcBlockId> = seq.optional_next()?;
            to_rpc(get_proof(api, address, slots.unwrap_or_default(), block))
        },
    )?;
    module.register_method(
        "gont_getAnchor",
        |params, api, _| -> Result<AnchorProof, ErrorObjectOwned> {
            let mut seq = params.sequence();
            let service: u32 = seq.next()?;
            let height: Option<alloy_primitives::U64> = seq.optional_next()?;
            let block: Option<RpcBlockId> = seq.optional_next()?;
            to_rpc(get_anchor(api, service, height.map(|h| h.to()), block))
        },
    )?;
    module.register_method(
        "gont_getSignedHeader",
        |params, api, _| -> Result<LightBlock, ErrorObjectOwned> {
            let tag: Option<BlockNumberOrTag> = params.sequence().optional_next()?;
            to_rpc(signed_header(api, tag.unwrap_or(BlockNumberOrTag::Latest)))
        },
    )?;
    Ok(())
}
