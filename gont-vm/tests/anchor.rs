//! The anchor registry on GONT Space, executed by revm through ordinary
//! signed transactions: checkpoints of a service with four validators,
//! signed with the service's real ed25519 keys. The tests play the service
//! validators themselves (a test double holding the service's keys), which
//! is what lets them forge the refused and the conflicting checkpoints.

// Test code: a failed unwrap, index or panic is the test failing, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use alloy_consensus::TxEip1559;
use alloy_primitives::{Bytes, TxKind};
use alloy_sol_types::{SolCall, SolValue, sol};
use ed25519_consensus::SigningKey;
use gont_core::genesis::{DevnetChain, devnet_validator_key};
use gont_core::{
    Address, B256, BlockId, ChainId, Checkpoint, CommitCertificate, CommitSig, ConsensusKey,
    ExecutionFields, Genesis, Hash, Header, Height, Receipt, ServiceId, Signature, Timestamp, U256,
    ValidatorSet, encode,
};
use gont_vm::system::ANCHOR_REGISTRY;
use gont_vm::testing::{address_of, dev_key, raw, sign};
use gont_vm::{
    BlockContext, EngineConfig, InvalidTxPolicy, MemoryState, RecoveredTx, execute_block,
    genesis_state,
};

sol!("contracts/IAnchorRegistry.sol");

/// A Space with five validators and one service validated by four.
struct World {
    genesis: Genesis,
    config: EngineConfig,
    state: MemoryState,
    space_height: u64,
    nonces: [u64; 10],
    service: ServiceId,
    chain: ChainId,
    set: ValidatorSet,
    keys: Vec<SigningKey>,
}

impl World {
    fn new() -> Self {
        let genesis = Genesis::devnet(5, 1);
        let config = EngineConfig::from_genesis(&genesis, genesis.chain_id).unwrap();
        let state = genesis_state(&genesis, genesis.chain_id).unwrap();
        let manifest = &genesis.services[0];
        let set = manifest.validator_set().unwrap();
        // The service's signing keys, in set order.
        let keys = set
            .validators()
            .iter()
            .map(|v| {
                (0..5)
                    .map(|node| devnet_validator_key(DevnetChain::Service(manifest.id), node))
                    .find(|k| ConsensusKey::of(k) == v.consensus_key)
                    .unwrap()
            })
            .collect();
        Self {
            service: manifest.id,
            chain: manifest.chain_id,
            genesis: genesis.clone(),
            config,
            state,
            space_height: 0,
            nonces: [0; 10],
            set,
            keys,
        }
    }

    /// A service header at `height` (time: genesis + height seconds).
    fn header(&self, height: u64, state_root: u8) -> Header {
        Header {
            chain_id: self.chain,
            height: Height(height),
            time: Timestamp(self.genesis.genesis_time.as_millis() + height * 1000),
            parent: (height > 1).then_some(BlockId([u8::try_from(height % 256).unwrap(); 32])),
            tx_root: Hash([0; 32]),
            state_root: Hash([state_root; 32]),
            receipts_root: Hash([0; 32]),
            validators_hash: self.set.hash(),
            next_validators_hash: self.set.hash(),
            proposer: self.set.validators()[0].address(),
            execution: ExecutionFields {
                gas_used: 0,
                gas_limit: 30_000_000,
                base_fee_per_gas: 1_000_000_000,
                fee_recipient: Address::ZERO,
            },
            evidence_hash: None,
            last_commit_hash: None,
        }
    }

    /// The commit of `header` by the validators at `signers` (set order).
    fn commit(&self, header: &Header, signers: &[usize]) -> CommitCertificate {
        let id = header.id().unwrap();
        let chain = tendermint::chain::Id::try_from(header.chain_id.tendermint_id()).unwrap();
        let vote = tendermint::vote::Vote {
            vote_type: tendermint::vote::Type::Precommit,
            height: tendermint::block::Height::try_from(header.height.0).unwrap(),
            round: tendermint::block::Round::try_from(0u32).unwrap(),
            block_id: Some(gont_core::light::tendermint_block_id(id)),
            timestamp: Some(gont_core::light::tendermint_time(header.time).unwrap()),
            validator_address: tendermint::account::Id::new([0; 20]),
            validator_index: tendermint::vote::ValidatorIndex::try_from(0u32).unwrap(),
            signature: None,
            extension: Vec::new(),
            extension_signature: None,
        };
        let bytes = vote.into_signable_vec(chain);
        let signatures = self
            .set
            .validators()
            .iter()
            .enumerate()
            .map(|(i, v)| {
                if signers.contains(&i) {
                    CommitSig::ForBlock {
                        validator: v.address(),
                        timestamp: header.time,
                        signature: Signature(self.keys[i].sign(&bytes).to_bytes()),
                    }
                } else {
                    CommitSig::Absent
                }
            })
            .collect();
        CommitCertificate {
            height: header.height,
            round: 0,
            block_id: id,
            signatures,
        }
    }

    fn checkpoint(&self, header: Header, signers: &[usize], trusted: u64) -> Checkpoint {
        Checkpoint {
            service: self.service,
            commit: self.commit(&header, signers),
            header,
            validators: self.set.clone(),
            next_validators: self.set.clone(),
            trusted_height: Height(trusted),
            trusted_next_validators: self.set.clone(),
        }
    }

    /// Sends `data` to the registry in a Space block of its own, at the
    /// time of service height `at`; returns the receipt and whether the
    /// registry's storage changed.
    fn send(&mut self, data: Vec<u8>, at: u64) -> (Receipt, bool) {
        self.send_from(data, at, 0)
    }

    /// [`Self::send`] from development account `sender`.
    fn send_from(&mut self, data: Vec<u8>, at: u64, sender: usize) -> (Receipt, bool) {
        let key = dev_key(sender).unwrap();
        let tx = TxEip1559 {
            chain_id: self.config.chain.chain_id.0,
            nonce: self.nonces[sender],
            gas_limit: 2_000_000,
            max_fee_per_gas: 10_000_000_000,
            max_priority_fee_per_gas: 1_000_000_000,
            to: TxKind::Call(ANCHOR_REGISTRY),
            value: U256::ZERO,
            access_list: Default::default(),
            input: Bytes::from(data),
        };
        let tx = RecoveredTx::recover(raw(&sign(tx, &key).unwrap())).unwrap();
        assert_eq!(tx.sender, address_of(&key));
        let block = self.block_at(at);
        self.space_height += 1;
        let out = execute_block(
            &self.state,
            &self.config.chain,
            &block,
            &gont_vm::BlockStart::default(),
            vec![tx],
            InvalidTxPolicy::Reject,
        )
        .unwrap();
        self.nonces[sender] += 1;
        let touched = out.changes.storage.contains_key(&ANCHOR_REGISTRY);
        self.state.apply(&out.changes, &out.wiped);
        (out.receipts.into_iter().next().unwrap(), touched)
    }

    fn submit(&mut self, checkpoint: &Checkpoint) -> (Receipt, bool) {
        let data = IAnchorRegistry::submitCheckpointCall {
            checkpoint: encode(checkpoint).into(),
        }
        .abi_encode();
        self.send(data, checkpoint.header.height.0)
    }

    /// The revert reason of a refused submission (which changed nothing).
    fn refused(&mut self, checkpoint: &Checkpoint) -> String {
        let at = checkpoint.header.height.0;
        let data = IAnchorRegistry::submitCheckpointCall {
            checkpoint: encode(checkpoint).into(),
        }
        .abi_encode();
        self.refused_raw(data, at)
    }

    fn refused_raw(&mut self, data: Vec<u8>, at: u64) -> String {
        self.refused_raw_from(data, at, 0)
    }

    fn refused_raw_from(&mut self, data: Vec<u8>, at: u64, sender: usize) -> String {
        let call = gont_vm::CallRequest {
            from: Some(address_of(&dev_key(sender).unwrap())),
            to: Some(ANCHOR_REGISTRY),
            gas: Some(2_000_000),
            input: Bytes::from(data.clone()),
            ..Default::default()
        };
        let block = self.block_at(at);
        let result = gont_vm::call(&self.state, &self.config.chain, &block, &call).unwrap();
        assert!(!result.success, "the call was expected to revert");
        let (receipt, touched) = self.send_from(data, at, sender);
        assert!(!receipt.success);
        assert!(!touched, "a refused submission changed the registry");
        <alloy_sol_types::Revert as alloy_sol_types::SolError>::abi_decode(&result.output)
            .map(|r| r.reason)
            .unwrap_or_else(|_| format!("undecodable revert {}", result.output))
    }

    fn block_at(&self, at: u64) -> BlockContext {
        BlockContext {
            height: Height(self.space_height + 1),
            timestamp: self.genesis.genesis_time.as_secs() + at + 2,
            gas_limit: 30_000_000,
            base_fee: 1_000_000_000,
            coinbase: Address::ZERO,
            prevrandao: B256::ZERO,
            excess_blob_gas: 0,
        }
    }

    fn view(&self, data: Vec<u8>) -> Bytes {
        let call = gont_vm::CallRequest {
            to: Some(ANCHOR_REGISTRY),
            input: Bytes::from(data),
            ..Default::default()
        };
        let result =
            gont_vm::call(&self.state, &self.config.chain, &self.block_at(0), &call).unwrap();
        assert!(result.success, "view reverted: {}", result.output);
        result.output
    }

    fn latest(&self) -> IAnchorRegistry::Anchor {
        let out = self.view(
            IAnchorRegistry::latestCall {
                service: self.service.0,
            }
            .abi_encode(),
        );
        IAnchorRegistry::Anchor::abi_decode(&out).unwrap()
    }

    fn frozen(&self) -> bool {
        let out = self.view(
            IAnchorRegistry::isFrozenCall {
                service: self.service.0,
            }
            .abi_encode(),
        );
        bool::abi_decode(&out).unwrap()
    }
}

#[test]
fn checkpoints_signed_by_3_of_4_anchor_adjacent_to_genesis_and_skipping_and_each_refusal_says_why()
{
    let mut w = World::new();
    assert_eq!(w.set.len(), 4);
    assert_eq!(w.latest().height, 0);

    // The first checkpoint verifies against the genesis set; 3 of 4 signed.
    let first = w.checkpoint(w.header(5, 1), &[0, 1, 3], 0);
    let (receipt, touched) = w.submit(&first);
    assert!(receipt.success && touched, "{receipt:?}");
    assert_eq!(receipt.logs.len(), 1);
    assert_eq!(receipt.logs[0].address, ANCHOR_REGISTRY);
    println!("anchored height 5, gas {}", receipt.gas_used);
    let anchor = w.latest();
    assert_eq!(anchor.height, 5);
    assert_eq!(anchor.blockId.0, first.block_id().unwrap().0);
    assert_eq!(anchor.stateRoot, B256::repeat_byte(1));
    assert_eq!(anchor.anchoredAt, 1);
    assert_eq!(anchor.time, first.header.time.as_millis());

    // Each refusal, with its reason.
    let again = w.refused(&first);
    assert_eq!(
        again,
        format!("already anchored: service {} height 5", w.service.0)
    );
    let below = w.refused(&w.checkpoint(w.header(3, 1), &[0, 1, 2], 0));
    assert_eq!(below, "height 3 is not above the last anchored height 5");
    let two_of_four = w.refused(&w.checkpoint(w.header(9, 2), &[0, 1], 5));
    assert!(
        two_of_four.starts_with("verification failed"),
        "{two_of_four}"
    );
    println!("2 of 4: {two_of_four}");
    // A signature by a key outside the set, under a member's name.
    let mut outsider = w.checkpoint(w.header(9, 2), &[0, 1, 2], 5);
    let stranger = SigningKey::from([9u8; 32]);
    if let CommitSig::ForBlock { signature, .. } = &mut outsider.commit.signatures[2] {
        *signature = Signature(stranger.sign(b"not the vote").to_bytes());
    }
    let outsider = w.refused(&outsider);
    assert!(outsider.starts_with("verification failed"), "{outsider}");
    println!("outsider: {outsider}");
    // A state root the commit does not sign.
    let mut swapped = w.checkpoint(w.header(9, 2), &[0, 1, 2], 5);
    swapped.header.state_root = Hash([7; 32]);
    let swapped = w.refused(&swapped);
    assert!(swapped.starts_with("verification failed"), "{swapped}");
    println!("state root not signed: {swapped}");
    // Wrong chain: a Space header.
    let mut space = w.checkpoint(w.header(9, 2), &[0, 1, 2], 5);
    space.header.chain_id = w.genesis.chain_id;
    let space = w.refused(&space);
    assert!(space.starts_with("wrong chain id"), "{space}");
    // Trusted set that is not the anchored one, and a trusted height never anchored.
    let mut other_set = w.checkpoint(w.header(9, 2), &[0, 1, 2], 5);
    other_set.trusted_next_validators = w.genesis.validator_set().unwrap();
    assert_eq!(
        w.refused(&other_set),
        "the trusted validator set does not match the anchored next-validators hash"
    );
    assert_eq!(
        w.refused(&w.checkpoint(w.header(9, 2), &[0, 1, 2], 4)),
        "trusted height 4 is not anchored"
    );
    // Unknown service and malformed bytes.
    let mut unknown = w.checkpoint(w.header(9, 2), &[0, 1, 2], 5);
    unknown.service = ServiceId(77);
    assert_eq!(w.refused(&unknown), "unknown service 77");
    let garbage = IAnchorRegistry::submitCheckpointCall {
        checkpoint: vec![1, 2, 3].into(),
    }
    .abi_encode();
    let garbage = w.refused_raw(garbage, 9);
    assert!(garbage.starts_with("malformed checkpoint"), "{garbage}");

    // A skip from 5 to 40, all four signing.
    let (receipt, _) = w.submit(&w.checkpoint(w.header(40, 3), &[0, 1, 2, 3], 5));
    assert!(receipt.success, "{receipt:?}");
    assert_eq!(w.latest().height, 40);
    assert!(!w.frozen());
}

#[test]
fn a_conflicting_checkpoint_signed_by_the_services_keys_freezes_the_service_until_the_admin_unfreezes_it()
 {
    let mut w = World::new();
    let honest = w.checkpoint(w.header(5, 1), &[0, 1, 2], 0);
    assert!(w.submit(&honest).0.success);
    // The same validators sign another block at height 5 (a test double
    // holding their keys: double signing).
    let conflicting = w.checkpoint(w.header(5, 9), &[1, 2, 3], 0);
    let (receipt, touched) = w.submit(&conflicting);
    assert!(receipt.success && touched, "{receipt:?}");
    assert_eq!(receipt.logs.len(), 1, "the ServiceFrozen event");
    let event = &receipt.logs[0];
    assert_eq!(
        event.topics[0],
        <IAnchorRegistry::ServiceFrozen as alloy_sol_types::SolEvent>::SIGNATURE_HASH
    );
    assert!(w.frozen());
    // The anchored checkpoint is unchanged, and nothing more is accepted.
    assert_eq!(w.latest().stateRoot, B256::repeat_byte(1));
    let after = w.refused(&w.checkpoint(w.header(9, 2), &[0, 1, 2], 5));
    assert_eq!(after, format!("service {} is frozen", w.service.0));

    // Only the genesis's anchor admin (development account 0) unfreezes it.
    let unfreeze = IAnchorRegistry::unfreezeCall {
        service: w.service.0,
    }
    .abi_encode();
    assert_eq!(
        w.refused_raw_from(unfreeze.clone(), 9, 1),
        "only the anchor admin may unfreeze a service"
    );
    let (receipt, touched) = w.send(unfreeze.clone(), 9);
    assert!(receipt.success && touched, "{receipt:?}");
    assert!(!w.frozen());
    assert_eq!(
        w.refused_raw(unfreeze, 9),
        format!("service {} is not frozen", w.service.0)
    );
    let (receipt, _) = w.submit(&w.checkpoint(w.header(9, 2), &[0, 1, 2], 5));
    assert!(receipt.success, "{receipt:?}");
    assert_eq!(w.latest().height, 9);
}

#[test]
fn a_later_checkpoint_with_an_earlier_time_freezes_the_service() {
    let mut w = World::new();
    assert!(
        w.submit(&w.checkpoint(w.header(5, 1), &[0, 1, 2], 0))
            .0
            .success
    );
    // Height 9, verified from the genesis set, but timed before height 5.
    let mut header = w.header(9, 2);
    header.time = Timestamp(w.genesis.genesis_time.as_millis() + 3_000);
    let backwards = w.checkpoint(header, &[0, 1, 2], 0);
    let (receipt, touched) = w.submit(&backwards);
    assert!(receipt.success && touched, "{receipt:?}");
    assert!(w.frozen());
    assert_eq!(w.latest().height, 5);
}
