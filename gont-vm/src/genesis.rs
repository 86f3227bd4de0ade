//! The genesis state of a chain: the Space's or a service's funded
//! accounts, its staking contract holding the genesis validators' stake
//! (see [`crate::system::staking`]), the Space's anchor registry, and a
//! service's rule contracts deployed by running their creation code, as
//! `RULES_DEPLOYER` would with nonces 0, 1, ….

use gont_core::service::RULES_DEPLOYER;
use gont_core::{
    Address, ChainId, Genesis, GenesisAccount, Height, ServiceManifest, StateChanges, U256,
};
use revm::context::result::ExecutionResult;
use revm::context::{Context, TxEnv};
use revm::primitives::TxKind;
use revm::{ExecuteCommitEvm, MainBuilder, MainContext};

use crate::chain::{BlockContext, ChainConfig, prevrandao};
use crate::db::StateDb;
use crate::memory::MemoryState;
use crate::system::{ANCHOR_REGISTRY, STAKING, staking};

/// Why a genesis state could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisBuildError {
    /// The chain id is neither the Space's nor a service's.
    #[error("chain {0} is neither the Space nor one of its services")]
    UnknownChain(ChainId),
    /// A rule contract's creation code reverted, halted or was refused.
    #[error("rule contract {index} ({name}) failed to deploy: {reason}")]
    ContractFailed {
        /// Its index in the manifest.
        index: usize,
        /// Its name.
        name: String,
        /// What the EVM reported.
        reason: String,
    },
    /// A rule contract was created somewhere other than its manifest
    /// address (the deployer's nonce was not the contract's index).
    #[error("rule contract {index} landed at {found}, expected {expected}")]
    WrongAddress {
        /// Its index in the manifest.
        index: usize,
        /// Where it should be.
        expected: Address,
        /// Where it is.
        found: Address,
    },
}

/// The whole genesis state of chain `chain_id` of `genesis`: the Space's
/// or a service's.
pub fn genesis_state(
    genesis: &Genesis,
    chain_id: ChainId,
) -> Result<MemoryState, GenesisBuildError> {
    let mut state = MemoryState::default();
    if chain_id == genesis.chain_id {
        fund(&mut state, &genesis.accounts);
        system_account(&mut state, ANCHOR_REGISTRY);
        stakes(&mut state, &genesis.validators);
        return Ok(state);
    }
    let manifest = genesis
        .service_by_chain(chain_id)
        .ok_or(GenesisBuildError::UnknownChain(chain_id))?;
    fund(&mut state, &manifest.accounts);
    stakes(&mut state, &manifest.participants);
    deploy_rules(&mut state, genesis, manifest)?;
    Ok(state)
}

/// A system contract's account exists from genesis (nonce 1), so that
/// EIP-161 never clears its storage.
fn system_account(state: &mut MemoryState, address: Address) -> &mut gont_core::AccountState {
    let account = state
        .accounts
        .entry(address)
        .or_insert(gont_core::AccountState {
            nonce: 1,
            balance: U256::ZERO,
            code_hash: gont_core::state::KECCAK_EMPTY,
        });
    account.nonce = 1;
    account
}

/// The genesis validators as the staking contract's candidates and set,
/// their stake in its balance.
fn stakes(state: &mut MemoryState, validators: &[gont_core::GenesisValidator]) {
    let (slots, balance) = staking::genesis_storage(validators);
    let account = system_account(state, STAKING);
    account.balance = account.balance.saturating_add(balance);
    state
        .storage
        .entry(STAKING)
        .or_default()
        .extend(slots.into_iter().filter(|(_, value)| !value.is_zero()));
}

/// The genesis state of chain `chain_id` as [`StateChanges`] over an empty
/// state: what `ExecutionStore::init_genesis` takes.
pub fn genesis_changes(
    genesis: &Genesis,
    chain_id: ChainId,
) -> Result<StateChanges, GenesisBuildError> {
    let state = genesis_state(genesis, chain_id)?;
    Ok(StateChanges {
        accounts: state
            .accounts
            .into_iter()
            .map(|(address, account)| (address, Some(account)))
            .collect(),
        storage: state.storage,
        code: state.code,
    })
}

fn fund(state: &mut MemoryState, accounts: &[GenesisAccount]) {
    for account in accounts {
        let entry = state
            .accounts
            .entry(account.address)
            .or_insert(gont_core::AccountState {
                nonce: 0,
                balance: U256::ZERO,
                code_hash: gont_core::state::KECCAK_EMPTY,
            });
        entry.balance = entry.balance.saturating_add(account.balance);
    }
}

fn deploy_rules(
    state: &mut MemoryState,
    genesis: &Genesis,
    manifest: &ServiceManifest,
) -> Result<(), GenesisBuildError> {
    if manifest.contracts.is_empty() {
        return Ok(());
    }
    let chain = ChainConfig::gont(manifest.chain_id);
    let block = BlockContext {
        height: Height(0),
        timestamp: genesis.genesis_time.as_secs(),
        gas_limit: manifest.params.max_block_gas,
        base_fee: 0,
        coinbase: Address::ZERO,
        prevrandao: prevrandao(None, genesis.hash()),
        excess_blob_gas: 0,
    };
    let mut db = StateDb::new(&*state);
    {
        let mut evm = Context::mainnet()
            .with_db(&mut db)
            .with_cfg(chain.cfg_env())
            .with_block(block.block_env(chain.fork))
            .build_mainnet()
            .with_precompiles(chain.precompiles());
        for (index, contract) in manifest.contracts.iter().enumerate() {
            let failed = |reason: String| GenesisBuildError::ContractFailed {
                index,
                name: contract.name.clone(),
                reason,
            };
            let nonce = u64::try_from(index).map_err(|e| failed(e.to_string()))?;
            let mut data = contract.code.to_vec();
            data.extend_from_slice(&contract.constructor_args);
            let tx = TxEnv {
                tx_type: 0,
                caller: RULES_DEPLOYER,
                gas_limit: manifest.params.max_block_gas,
                gas_price: 0,
                kind: TxKind::Create,
                value: U256::ZERO,
                data: data.into(),
                nonce,
                chain_id: Some(manifest.chain_id.0),
                ..TxEnv::default()
            };
            let result = evm.transact_commit(tx).map_err(|e| failed(e.to_string()))?;
            let expected = ServiceManifest::contract_address(nonce);
            match result {
                ExecutionResult::Success { .. } => match result.created_address() {
                    Some(found) if found == expected => {}
                    found => {
                        return Err(GenesisBuildError::WrongAddress {
                            index,
                            expected,
                            found: found.unwrap_or(Address::ZERO),
                        });
                    }
                },
                ExecutionResult::Revert { output, .. } => {
                    return Err(failed(format!(
                        "reverted with 0x{}",
                        alloy_primitives::hex::encode(output)
                    )));
                }
                ExecutionResult::Halt { reason, .. } => {
                    return Err(failed(format!("halted: {reason:?}")));
                }
            }
        }
    }
    let (changes, wiped) = db.into_changes();
    state.apply(&changes, &wiped);
    Ok(())
}
