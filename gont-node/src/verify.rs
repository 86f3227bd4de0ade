//! `gont verify account`: checks an account (and storage slots) of a
//! service against GONT Space alone, link by link:
//!
//! 1. the Space light client, from a trusted Space block (by default the
//!    Space genesis, whose hash is reported for the user to compare),
//!    verifies the Space's latest block (`gont_getSignedHeader`);
//! 2. the service's latest anchor is read from the anchor registry with
//!    its storage proof against that block's state root
//!    (`gont_getAnchor`); a frozen service, or one never anchored, stops
//!    here;
//! 3. the account is read from the service's RPC at the anchored height
//!    with its proof (`gont_getProof`), which must be for that height and
//!    against the anchored state root.
//!
//! Nothing an RPC server says is taken on trust: each answer is checked
//! against a root the step before verified. [`VerifyError`] names the link
//! that broke.

use std::net::SocketAddr;

use gont_core::light::{self, LightClient, LightError, TrustOptions};
use gont_core::{Address, BlockId, Genesis, Hash, ServiceId, U256};
use serde_json::json;

use crate::client::ClientError;
use crate::client::blocking::RpcClient;
use crate::rpc::proofs::{AccountJson, AnchorCheckError, AnchorProof, ProofCheckError};

/// What to verify.
#[derive(Clone, Debug)]
pub struct Request {
    /// The account.
    pub address: Address,
    /// The service, by name or id.
    pub service: String,
    /// Storage slots to verify too.
    pub slots: Vec<U256>,
    /// GONT Space's RPC.
    pub space: SocketAddr,
    /// The service's RPC.
    pub service_rpc: SocketAddr,
    /// A Space block trusted by hash instead of the genesis.
    pub trust: Option<(u64, BlockId)>,
}

/// What was verified.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The Space genesis hash, when the genesis was the trust root.
    pub genesis_hash: Option<Hash>,
    /// The Space height verified by the light client.
    pub space_height: u64,
    /// The service.
    pub service: ServiceId,
    /// Its name.
    pub service_name: String,
    /// The anchored service height the account is proven at.
    pub service_height: u64,
    /// The Space height the checkpoint was anchored at.
    pub anchored_at: u64,
    /// The anchored state root.
    pub state_root: Hash,
    /// The account; `None` if it does not exist.
    pub account: Option<AccountJson>,
    /// The slots, with their values.
    pub slots: Vec<(U256, U256)>,
}

/// The link that broke.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// An RPC could not be asked or answered in the wrong shape.
    #[error("{what}: {source}")]
    Rpc {
        /// Which call.
        what: &'static str,
        /// The failure.
        source: ClientError,
    },
    /// The Space genesis from the Space RPC does not parse.
    #[error("the Space genesis: {0}")]
    Genesis(String),
    /// The service is not in the Space genesis.
    #[error("no service {0:?} in the Space genesis")]
    UnknownService(String),
    /// The Space light client refused a Space block.
    #[error("the Space light client refused Space height {height}: {source}")]
    SpaceHeader {
        /// The height.
        height: u64,
        /// Why.
        source: LightError,
    },
    /// The anchor's proof against the verified Space state root failed.
    #[error("the anchor of service {service} at Space height {space_height}: {source}")]
    Anchor {
        /// The service.
        service: u32,
        /// The Space height.
        space_height: u64,
        /// Why.
        source: AnchorCheckError,
    },
    /// The service is frozen in the registry.
    #[error("service {0} is frozen in the anchor registry (conflicting checkpoints were anchored)")]
    Frozen(u32),
    /// Nothing is anchored for the service.
    #[error("service {0} has no anchored checkpoint yet")]
    NotAnchored(u32),
    /// The service RPC answered for another height than the anchored one.
    #[error("the service RPC answered for height {got}, not the anchored height {anchored}")]
    WrongHeight {
        /// The anchored height.
        anchored: u64,
        /// The answer's.
        got: u64,
    },
    /// The service RPC's state root is not the anchored one.
    #[error(
        "the service RPC's state root {got} at height {height} is not the anchored state root {anchored}"
    )]
    WrongRoot {
        /// The height.
        height: u64,
        /// The anchored root.
        anchored: Hash,
        /// The answer's.
        got: Hash,
    },
    /// The account or a slot does not verify against the anchored root.
    #[error("the service's state proof: {0}")]
    Proof(#[from] ProofCheckError),
}

fn rpc(what: &'static str) -> impl FnOnce(ClientError) -> VerifyError {
    move |source| VerifyError::Rpc { what, source }
}

/// Verifies `request`; see the module documentation.
pub fn verify_account(request: &Request) -> Result<Verified, VerifyError> {
    let space = RpcClient::new(request.space).map_err(rpc("the Space RPC"))?;
    let genesis_json = space
        .call("gont_genesis", &json!([]))
        .map_err(rpc("gont_genesis on the Space RPC"))?;
    let genesis: Genesis = Genesis::from_json(&genesis_json.to_string())
        .map_err(|e| VerifyError::Genesis(e.to_string()))?;
    let manifest = genesis
        .services
        .iter()
        .find(|s| s.name == request.service || s.id.0.to_string() == request.service)
        .ok_or_else(|| VerifyError::UnknownService(request.service.clone()))?;

    // 1. The Space, by light client.
    let (mut client, genesis_hash) = match request.trust {
        Some((height, hash)) => {
            let block = space
                .signed_header(height)
                .map_err(rpc("gont_getSignedHeader on the Space RPC"))?;
            let client = LightClient::from_trusted_block(block, hash, TrustOptions::default())
                .map_err(|source| VerifyError::SpaceHeader { height, source })?;
            (client, None)
        }
        None => {
            let (set, _) = genesis
                .chain_consensus(genesis.chain_id)
                .ok_or_else(|| VerifyError::Genesis("no Space consensus".to_owned()))?
                .map_err(|e| VerifyError::Genesis(e.to_string()))?;
            let client = LightClient::from_genesis(
                genesis.chain_id,
                genesis.genesis_time,
                &set,
                TrustOptions::default(),
            )
            .map_err(|source| VerifyError::SpaceHeader { height: 0, source })?;
            (client, Some(genesis.hash()))
        }
    };
    let tip = space
        .call("eth_blockNumber", &json!([]))
        .map_err(rpc("eth_blockNumber on the Space RPC"))?;
    let tip = crate::client::quantity(&tip).unwrap_or(0);
    let space_root = {
        let block = client
            .advance_to(tip, crate::wall_clock(), |h| space.signed_header(h))
            .map_err(|source| VerifyError::SpaceHeader {
                height: tip,
                source,
            })?;
        light::state_root(block).ok_or(VerifyError::SpaceHeader {
            height: tip,
            source: LightError::Tendermint("a state root of 32 bytes"),
        })?
    };
    let space_height = client.height();

    // 2. The anchor, proven against the Space's state root.
    let anchor: AnchorProof = {
        let value = space
            .call(
                "gont_getAnchor",
                &json!([manifest.id.0, null, format!("{space_height:#x}")]),
            )
            .map_err(rpc("gont_getAnchor on the Space RPC"))?;
        serde_json::from_value(value).map_err(|e| VerifyError::Rpc {
            what: "gont_getAnchor on the Space RPC",
            source: ClientError::Malformed {
                addr: request.space,
                method: "gont_getAnchor",
                reason: e.to_string(),
            },
        })?
    };
    let anchor_error = |source| VerifyError::Anchor {
        service: manifest.id.0,
        space_height,
        source,
    };
    let proven_at = anchor.proof.height.to::<u64>();
    if proven_at != space_height {
        return Err(anchor_error(AnchorCheckError::WrongHeight {
            asked: space_height,
            got: proven_at,
        }));
    }
    let (record, frozen) = anchor.verified_anchor(space_root).map_err(anchor_error)?;
    if frozen {
        return Err(VerifyError::Frozen(manifest.id.0));
    }
    if record.height == 0 {
        return Err(VerifyError::NotAnchored(manifest.id.0));
    }
    let anchored_root = Hash(record.stateRoot.0);

    // 3. The account, proven against the anchored state root.
    let service_rpc = RpcClient::new(request.service_rpc).map_err(rpc("the service RPC"))?;
    let proof = service_rpc
        .proof(request.address, &request.slots, record.height)
        .map_err(rpc("gont_getProof on the service RPC"))?;
    let got = proof.height.to::<u64>();
    if got != record.height {
        return Err(VerifyError::WrongHeight {
            anchored: record.height,
            got,
        });
    }
    if proof.state_root != anchored_root {
        return Err(VerifyError::WrongRoot {
            height: got,
            anchored: anchored_root,
            got: proof.state_root,
        });
    }
    if proof.address != request.address
        || proof.storage.iter().map(|s| s.key).collect::<Vec<_>>() != request.slots
    {
        return Err(VerifyError::Proof(ProofCheckError::Malformed {
            what: format!("account {}", request.address),
            reason: "the answer is for another account or other slots".to_owned(),
        }));
    }
    proof.verify(anchored_root)?;
    Ok(Verified {
        genesis_hash,
        space_height,
        service: manifest.id,
        service_name: manifest.name.clone(),
        service_height: record.height,
        anchored_at: record.anchoredAt,
        state_root: anchored_root,
        account: proof.account,
        slots: proof.storage.iter().map(|s| (s.key, s.value)).collect(),
    })
}
