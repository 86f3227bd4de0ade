//! The relayer: a node that runs a service and GONT Space submits the
//! service's checkpoint to the Space's anchor registry every
//! `checkpoint_interval` service blocks, as an ordinary signed Space
//! transaction from the `[relayer]` account.
//!
//! Before it submits, it reads the registry (typed views, no revert text):
//! a checkpoint that some relayer has anchored already, or a frozen
//! service, is skipped quietly; the submission is then simulated with
//! `eth_call`, and one that would revert is not sent (its reason is logged
//! and counted). Several nodes may relay one service; whichever transaction
//! lands second is refused on chain as `already anchored`, at the cost of
//! the registry's early checks only.
//!
//! Metrics, labelled by `service`: `gont_anchor_height` (the registry's
//! latest anchored height), `gont_anchor_lag_blocks` (the service's height
//! minus it), `gont_anchor_submissions_total{outcome}` with `outcome` one
//! of `submitted`, `already_anchored`, `frozen`, `refused` (the simulation
//! reverted), `failed` (the Space pool or this node failed).

use std::sync::Arc;

use alloy_consensus::{SignableTransaction, TxEip1559};
use alloy_rpc_types_eth::TransactionRequest;
use alloy_sol_types::{SolCall, SolValue};
use gont_core::{Address, B256, Checkpoint, Height, ServiceId, U256, encode};
use gont_vm::system::ANCHOR_REGISTRY;
use gont_vm::system::anchor::IAnchorRegistry;
use tokio::sync::broadcast;
use tracing::{debug, info, warn};

use std::path::Path;

use gont_core::{ChainId, Genesis};

use crate::backend::ChainBackend;
use crate::config::NodeConfig;
use crate::keystore;
use crate::node::{NodeError, chain_err};
use crate::rpc::backend::{EthBackend, StoredBlock};

/// The priority fee the relayer offers: 1 gwei.
const TIP: u128 = 1_000_000_000;

/// The relayer account: its key and address, and the Space it submits to.
pub struct Relayer {
    secret: B256,
    address: Address,
    space: Arc<ChainBackend>,
}

impl std::fmt::Debug for Relayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relayer")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// One service the relayer relays.
#[derive(Clone)]
pub struct RelayedService {
    /// The service.
    pub id: ServiceId,
    /// Its chain's backend (store, for decided blocks and commits).
    pub chain: Arc<ChainBackend>,
    /// Blocks between checkpoints; 0 relays nothing.
    pub interval: u64,
}

impl std::fmt::Debug for RelayedService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayedService")
            .field("id", &self.id)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// Why one relay step failed (logged and counted, never fatal).
#[derive(Debug, thiserror::Error)]
enum RelayError {
    #[error("reading the Space: {0}")]
    Space(String),
    #[error("reading the service: {0}")]
    Service(String),
    #[error("service block {0} has no recorded commit")]
    NoCommit(u64),
    #[error("signing: {0}")]
    Sign(String),
}

impl Relayer {
    /// The relayer of `secret` submitting to `space`; `None` for a key that
    /// is not a secp256k1 secret.
    pub fn new(secret: B256, space: Arc<ChainBackend>) -> Option<Self> {
        let address = gont_core::genesis::secret_address(secret)?;
        Some(Self {
            secret,
            address,
            space,
        })
    }

    /// The account.
    pub fn address(&self) -> Address {
        self.address
    }

    /// The Space's latest height and a call of the registry with `data`
    /// from the relayer.
    fn request(&self, data: Vec<u8>) -> Result<(Height, TransactionRequest), RelayError> {
        let height = self
            .space
            .latest()
            .map_err(|e| RelayError::Space(e.to_string()))?;
        let request = TransactionRequest::default()
            .from(self.address)
            .to(ANCHOR_REGISTRY)
            .input(data.into());
        Ok((height, request))
    }

    /// Calls the registry on the Space's latest state.
    fn view(&self, data: Vec<u8>) -> Result<(bool, alloy_primitives::Bytes), RelayError> {
        let (height, request) = self.request(data)?;
        let outcome = self
            .space
            .call(height, &request, None)
            .map_err(|e| RelayError::Space(e.to_string()))?;
        Ok((outcome.success, outcome.output))
    }

    fn latest(&self, service: ServiceId) -> Result<IAnchorRegistry::Anchor, RelayError> {
        let (ok, out) =
            self.view(IAnchorRegistry::latestCall { service: service.0 }.abi_encode())?;
        if !ok {
            return Err(RelayError::Space("latest() reverted".to_owned()));
        }
        IAnchorRegistry::Anchor::abi_decode(&out).map_err(|e| RelayError::Space(e.to_string()))
    }

    fn frozen(&self, service: ServiceId) -> Result<bool, RelayError> {
        let (ok, out) =
            self.view(IAnchorRegistry::isFrozenCall { service: service.0 }.abi_encode())?;
        if !ok {
            return Err(RelayError::Space("isFrozen() reverted".to_owned()));
        }
        bool::abi_decode(&out).map_err(|e| RelayError::Space(e.to_string()))
    }

    /// One relay step at service height `height`: the outcome label.
    fn relay(&self, service: &RelayedService, height: u64) -> Result<&'static str, RelayError> {
        if self.frozen(service.id)? {
            return Ok("frozen");
        }
        let anchored = self.latest(service.id)?;
        if anchored.height >= height {
            return Ok("already_anchored");
        }
        let decided = service
            .chain
            .store()
            .decided(Height(height))
            .map_err(|e| RelayError::Space(e.to_string()))?
            .ok_or(RelayError::NoCommit(height))?;
        let set_at = |h: u64| {
            service
                .chain
                .validator_set_at(Height(h))
                .map_err(|e| RelayError::Service(e.to_string()))
        };
        let checkpoint = Checkpoint {
            service: service.id,
            header: decided.block.header,
            commit: decided.commit,
            validators: set_at(height)?,
            next_validators: set_at(height.saturating_add(1))?,
            trusted_height: Height(anchored.height),
            trusted_next_validators: set_at(anchored.height.saturating_add(1))?,
        };
        let data = IAnchorRegistry::submitCheckpointCall {
            checkpoint: encode(&checkpoint).into(),
        }
        .abi_encode();
        let (ok, out) = self.view(data.clone())?;
        if !ok {
            let reason = <alloy_sol_types::Revert as alloy_sol_types::SolError>::abi_decode(&out)
                .map_or_else(|_| format!("revert data {out}"), |r| r.reason);
            warn!(service = service.id.0, height, %reason, "checkpoint not submitted: the registry would refuse it");
            return Ok("refused");
        }
        let (space_height, request) = self.request(data.clone())?;
        let gas = self
            .space
            .estimate_gas(
                space_height,
                &request,
                None,
                crate::rpc::RpcLimits::default().estimate_gas_budget,
            )
            .map_err(|e| RelayError::Space(e.to_string()))?;
        let base_fee = self
            .space
            .next_base_fee()
            .map_err(|e| RelayError::Space(e.to_string()))?;
        let nonce = self
            .space
            .pending_nonce(self.address)
            .map_err(|e| RelayError::Space(e.to_string()))?;
        let tx = TxEip1559 {
            chain_id: self.space.chain_id().0,
            nonce,
            gas_limit: gas.saturating_add(gas / 5),
            max_fee_per_gas: u128::from(base_fee).saturating_mul(2).saturating_add(TIP),
            max_priority_fee_per_gas: TIP,
            to: alloy_primitives::TxKind::Call(ANCHOR_REGISTRY),
            value: U256::ZERO,
            access_list: Default::default(),
            input: data.into(),
        };
        let signature =
            alloy_consensus::crypto::secp256k1::sign_message(self.secret, tx.signature_hash())
                .map_err(|e| RelayError::Sign(e.to_string()))?;
        let signed = tx.into_signed(signature);
        let mut raw = Vec::with_capacity(signed.eip2718_encoded_length());
        signed.eip2718_encode(&mut raw);
        match self.space.submit(raw.into()) {
            Ok(hash) => {
                info!(service = service.id.0, height, trusted = anchored.height, %hash, "checkpoint submitted");
                Ok("submitted")
            }
            Err(e) => {
                warn!(
                    service = service.id.0,
                    height, "checkpoint refused by the Space pool: {e}"
                );
                Ok("failed")
            }
        }
    }

    /// Relays `service` as its blocks arrive on `blocks`, until the channel
    /// closes.
    pub async fn run(
        self: Arc<Self>,
        service: RelayedService,
        mut blocks: broadcast::Receiver<StoredBlock>,
    ) {
        let label = service.id.0.to_string();
        loop {
            let block = match blocks.recv().await {
                Ok(block) => block,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            };
            let height = block.block.header.height.0;
            let relayer = self.clone();
            let step = service.clone();
            // Execution and signing are blocking work: off the async threads.
            let outcome = tokio::task::spawn_blocking(move || {
                let anchored = relayer.latest(step.id).map(|a| a.height);
                let outcome = (step.interval > 0 && height % step.interval == 0)
                    .then(|| relayer.relay(&step, height));
                (anchored, outcome)
            })
            .await;
            let Ok((anchored, outcome)) = outcome else {
                return;
            };
            if let Ok(anchored) = anchored {
                // Gauges are f64; heights stay far below 2^53.
                #[allow(clippy::cast_precision_loss)]
                {
                    metrics::gauge!("gont_anchor_height", "service" => label.clone())
                        .set(anchored as f64);
                    metrics::gauge!("gont_anchor_lag_blocks", "service" => label.clone())
                        .set(height.saturating_sub(anchored) as f64);
                }
            }
            let outcome = match outcome {
                None => continue,
                Some(Ok(outcome)) => outcome,
                Some(Err(e)) => {
                    warn!(service = service.id.0, height, "relaying a checkpoint: {e}");
                    "failed"
                }
            };
            debug!(service = service.id.0, height, outcome, "relay step");
            metrics::counter!(
                "gont_anchor_submissions_total",
                "service" => label.clone(),
                "outcome" => outcome
            )
            .increment(1);
        }
    }
}

/// The `[relayer]` of a node that also runs GONT Space; `None` without one.
pub(crate) fn from_config<'a>(
    home: &Path,
    config: &NodeConfig,
    genesis: &Genesis,
    mut chains: impl Iterator<Item = (ChainId, &'a Arc<ChainBackend>)>,
    passphrase: Option<&str>,
) -> Result<Option<Arc<Relayer>>, NodeError> {
    let Some(relayer) = &config.relayer else {
        return Ok(None);
    };
    let Some((_, space)) = chains.find(|(id, _)| *id == genesis.chain_id) else {
        warn!("[relayer] is set, but this node does not run GONT Space: it relays nothing");
        return Ok(None);
    };
    let path = home.join(&relayer.keystore);
    let passphrase = passphrase.ok_or_else(|| {
        chain_err(
            genesis.chain_id,
            format!(
                "the relayer keystore {} is encrypted: give its passphrase (GONT_PASSPHRASE or --passphrase-file)",
                path.display()
            ),
        )
    })?;
    let secret =
        keystore::read(&path, passphrase).map_err(|source| NodeError::Key { path, source })?;
    let relayer = Relayer::new(gont_core::B256::from(*secret), space.clone()).ok_or_else(|| {
        chain_err(
            genesis.chain_id,
            "the relayer key is not a secp256k1 secret",
        )
    })?;
    info!(account = %relayer.address(), "relaying service checkpoints to GONT Space");
    Ok(Some(Arc::new(relayer)))
}
