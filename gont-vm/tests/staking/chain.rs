//! A chain of the staking tests: an engine over a real redb store (in
//! memory), blocks built by validator 0 and committed, each carrying the
//! commit of its parent signed with real ed25519 keys by every member of
//! the parent's set but those the test has `down`, transactions signed by
//! the development accounts and the devnet operators, views by
//! `eth_call`.

use alloy_consensus::TxEip1559;
use alloy_primitives::{Bytes, TxKind};
use alloy_sol_types::{SolCall, SolError, sol};
use gont_core::evidence::{VoteKind, vote_sign_bytes};
use gont_core::genesis::{DEV_OPERATOR_KEYS, DevnetChain, devnet_validator_key};
use gont_core::{
    Address, B256, Block, ChainId, CommitCertificate, CommitSig, ConsensusKey, Evidence,
    ExecutionEngine, ExecutionStore, ForkchoiceState, Genesis, Height, PayloadAttributes,
    RawTransaction, Receipt, Signature, StateReader, U256,
};
use gont_vm::system::STAKING;
use gont_vm::testing::{address_of, dev_key, raw, sign, signing_key};
use gont_vm::{BlockContext, Engine, EngineConfig, genesis_changes};

sol!("contracts/IStaking.sol");

type Store = gont_storage::ChainStore;

pub(crate) const SPACE: ChainId = ChainId(31337);
const ETHER: u128 = 1_000_000_000_000_000_000;
/// Epochs of two blocks, unbonding of three, jail of four.
pub(crate) const EPOCH: u64 = 2;
pub(crate) const UNBONDING: u64 = 3;
pub(crate) const JAIL: u64 = 4;

pub(crate) fn genesis() -> Genesis {
    let mut genesis = Genesis::devnet(2, 0);
    genesis.consensus.epoch_length = EPOCH;
    genesis.consensus.unbonding_period_blocks = UNBONDING;
    genesis.consensus.staking.jail_blocks = JAIL;
    genesis
}

/// Account `from`: development account 0..10, or devnet operator
/// `from - 10` (account 10 + i operates validator i).
pub(crate) fn account_key(from: usize) -> k256::ecdsa::SigningKey {
    if from < 10 {
        dev_key(from).unwrap()
    } else {
        signing_key(DEV_OPERATOR_KEYS[from - 10]).unwrap()
    }
}

pub(crate) struct Chain {
    pub(crate) engine: Engine<Store>,
    pub(crate) genesis: Genesis,
    nonces: [u64; 20],
    secs: u64,
    /// Validators that sign no commit.
    pub(crate) down: Vec<ConsensusKey>,
    /// The commit of the head, which the next block carries.
    pub(crate) last_commit: Option<CommitCertificate>,
}

/// The signing key of a validator of these tests: a devnet validator of
/// the Space, or one made by [`new_key`].
fn validator_signing_key(key: &ConsensusKey) -> Option<ed25519_consensus::SigningKey> {
    (0..10)
        .map(|i| devnet_validator_key(DevnetChain::Space, i))
        .chain((0..=u8::MAX).map(|seed| ed25519_consensus::SigningKey::from([seed; 32])))
        .find(|k| ConsensusKey::of(k) == *key)
}

impl Chain {
    pub(crate) fn new() -> Self {
        Self::with_genesis(genesis())
    }

    pub(crate) fn with_genesis(genesis: Genesis) -> Self {
        let store = gont_storage::Store::in_memory(gont_storage::StoreConfig::default())
            .unwrap()
            .chain(SPACE);
        store
            .init_genesis(genesis.hash(), &genesis_changes(&genesis, SPACE).unwrap())
            .unwrap();
        let engine = Engine::new(store, EngineConfig::from_genesis(&genesis, SPACE).unwrap());
        Self {
            engine,
            genesis,
            nonces: [0; 20],
            secs: 0,
            down: Vec::new(),
            last_commit: None,
        }
    }

    pub(crate) fn height(&self) -> u64 {
        self.engine
            .store()
            .head()
            .unwrap()
            .map_or(0, |h| h.height.0)
    }

    /// The set that decides the next block, as consensus asks for it.
    pub(crate) fn next_set(&self) -> gont_core::ValidatorSet {
        let next = Height(self.height() + 1);
        self.engine.validator_set(next).unwrap().unwrap()
    }

    pub(crate) fn tx(&mut self, from: usize, value: U256, input: Vec<u8>) -> RawTransaction {
        let nonce = self.nonces[from];
        self.nonces[from] += 1;
        let tx = TxEip1559 {
            chain_id: SPACE.0,
            nonce,
            gas_limit: 500_000,
            max_fee_per_gas: 10_000_000_000,
            max_priority_fee_per_gas: 1_000_000_000,
            to: TxKind::Call(STAKING),
            value,
            input: input.into(),
            ..TxEip1559::default()
        };
        raw(&sign(tx, &account_key(from)).unwrap())
    }

    /// Builds and commits a block of `txs`; returns it and its receipts.
    pub(crate) fn block(&mut self, txs: &[RawTransaction]) -> (Block, Vec<Receipt>) {
        self.block_with(Vec::new(), txs)
    }

    /// The attributes of the next block, proposed by validator 0.
    pub(crate) fn attributes(&mut self, evidence: Vec<Evidence>) -> PayloadAttributes {
        self.secs += 1;
        let proposer = &self.genesis.validators[0];
        PayloadAttributes {
            timestamp: gont_core::Timestamp::from_secs(1_767_225_600 + self.secs),
            proposer: proposer.consensus_key.address(),
            fee_recipient: proposer.operator,
            validators_hash: self.next_set().hash(),
            evidence,
            last_commit: self.last_commit.clone(),
        }
    }

    /// The committed head's id.
    pub(crate) fn head_id(&self) -> Option<gont_core::BlockId> {
        self.engine.store().head().unwrap().map(|h| h.id().unwrap())
    }

    /// Builds and commits a block carrying `evidence` (the engine leaves
    /// out what does not hold) and `txs`; returns it and its receipts.
    pub(crate) fn block_with(
        &mut self,
        evidence: Vec<Evidence>,
        txs: &[RawTransaction],
    ) -> (Block, Vec<Receipt>) {
        let parent = self.head_id();
        let attributes = self.attributes(evidence);
        let block = self.engine.build_payload(parent, attributes, txs).unwrap();
        assert_eq!(
            block.body.transactions.len(),
            txs.len(),
            "a transaction was left out"
        );
        self.commit(&block);
        let receipts = self
            .engine
            .store()
            .receipts(block.header.height)
            .unwrap()
            .unwrap();
        (block, receipts)
    }

    /// Commits `block`, built or validated by this chain's engine, and
    /// signs its commit.
    pub(crate) fn commit(&mut self, block: &Block) {
        let id = block.header.id().unwrap();
        self.engine
            .forkchoice_updated(ForkchoiceState {
                head: id,
                safe: id,
                finalized: id,
            })
            .unwrap();
        self.last_commit = Some(self.sign_commit(block));
    }

    /// The commit of `block` by the members of its set that are not down.
    pub(crate) fn sign_commit(&self, block: &Block) -> CommitCertificate {
        let header = &block.header;
        let id = header.id().unwrap();
        let set = self.engine.validator_set(header.height).unwrap().unwrap();
        let chain = tendermint::chain::Id::try_from(SPACE.tendermint_id()).unwrap();
        let bytes = vote_sign_bytes(
            &chain,
            VoteKind::Precommit,
            header.height,
            0,
            Some((id, header.time)),
        )
        .unwrap();
        let signatures = set
            .validators()
            .iter()
            .map(|v| {
                let key = validator_signing_key(&v.consensus_key)
                    .filter(|_| !self.down.contains(&v.consensus_key));
                key.map_or(CommitSig::Absent, |key| CommitSig::ForBlock {
                    validator: v.address(),
                    timestamp: header.time,
                    signature: Signature(key.sign(&bytes).to_bytes()),
                })
            })
            .collect();
        CommitCertificate {
            height: header.height,
            round: 0,
            block_id: id,
            signatures,
        }
    }

    /// Validates `block` (built by another chain's engine), which must be
    /// valid, and commits it.
    pub(crate) fn commit_validated(&mut self, block: &Block) {
        assert_eq!(
            self.engine.new_payload(block).unwrap(),
            gont_core::PayloadStatus::Valid
        );
        self.commit(block);
    }

    /// The context of a call on the head.
    pub(crate) fn next_block(&self) -> BlockContext {
        BlockContext {
            height: Height(self.height() + 1),
            timestamp: 1_767_225_600 + self.secs + 1,
            gas_limit: 30_000_000,
            base_fee: 0,
            coinbase: Address::ZERO,
            prevrandao: B256::ZERO,
            excess_blob_gas: 0,
        }
    }

    /// `request` to the staking contract as `eth_call`, on the head.
    pub(crate) fn call(&self, request: gont_vm::CallRequest) -> gont_vm::CallResult {
        let state = self.engine.store().state_at(Height(self.height())).unwrap();
        let request = gont_vm::CallRequest {
            to: Some(STAKING),
            ..request
        };
        gont_vm::call(
            &state,
            &self.engine.config().chain,
            &self.next_block(),
            &request,
        )
        .unwrap()
    }

    pub(crate) fn view<C: SolCall>(&self, call: &C) -> C::Return {
        let result = self.call(gont_vm::CallRequest {
            input: Bytes::from(call.abi_encode()),
            ..Default::default()
        });
        assert!(result.success, "view reverted: {}", result.output);
        C::abi_decode_returns(&result.output).unwrap()
    }

    /// The revert reason of `input` sent by account `from` with `value`.
    pub(crate) fn revert_reason(&self, from: usize, value: U256, input: Vec<u8>) -> String {
        let result = self.call(gont_vm::CallRequest {
            from: Some(address_of(&account_key(from))),
            value: Some(value),
            input: Bytes::from(input),
            ..Default::default()
        });
        assert!(!result.success, "expected a revert");
        alloy_sol_types::Revert::abi_decode(&result.output)
            .unwrap()
            .reason
    }

    pub(crate) fn balance(&self, who: Address) -> U256 {
        let state = self.engine.store().state_at(Height(self.height())).unwrap();
        state
            .account(who)
            .unwrap()
            .map_or(U256::ZERO, |a| a.balance)
    }
}

/// The reason of a verdict that must be `Invalid`.
pub(crate) fn invalid_reason(status: gont_core::PayloadStatus) -> String {
    match status {
        gont_core::PayloadStatus::Invalid { reason } => reason,
        gont_core::PayloadStatus::Valid => panic!("the block was accepted"),
    }
}

pub(crate) fn new_key(seed: u8) -> B256 {
    let key = ed25519_consensus::SigningKey::from([seed; 32]);
    B256::from(*ConsensusKey::of(&key).as_bytes())
}

pub(crate) fn ether(n: u128) -> U256 {
    U256::from(n * ETHER)
}
